"""Places one IDX file can come from: the user cache, a local mirror folder, a download mirror.

Each source's `fetch(file)` returns the verified uint8 array or raises `SourceFailed` with a
reason a person can act on. Nothing is returned unless the SHA-256 of the decompressed content
matches, so a corrupt, truncated or wrong file is never loaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from nnhelpers.data.catalog import FileSpec
from nnhelpers.data.idx import IdxError, decode_idx, idx_sha256, maybe_gunzip


class SourceFailed(Exception):
    """A source could not supply a file; `give_up` means its other files need not be tried."""

    def __init__(self, reason: str, *, give_up: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.give_up = give_up


def verify_content(content: bytes, file: FileSpec) -> np.ndarray:
    """Decompress if needed, check size and SHA-256, decode; raise SourceFailed otherwise."""
    try:
        raw = maybe_gunzip(content)
    except IdxError as error:
        raise SourceFailed(f"corrupt or truncated file: {error}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != file.sha256:
        detail = (
            f"{len(raw):,} bytes instead of {file.size:,}"
            if len(raw) != file.size
            else "right size, different content"
        )
        raise SourceFailed(f"SHA-256 mismatch ({detail}): a corrupt, truncated or different file")
    try:
        return decode_idx(raw)
    except IdxError as error:  # only possible with a wrong hash table
        raise SourceFailed(f"not a valid IDX file: {error}") from None


class CacheStore:
    """Verified arrays kept as .npy files in one folder per data set; writes are atomic."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.description = f"user cache {folder}"

    def path(self, file: FileSpec) -> Path:
        return self.folder / f"{file.name}.npy"

    def fetch(self, file: FileSpec) -> np.ndarray:
        """Load a cached array, re-checking its SHA-256; a bad file is removed."""
        path = self.path(file)
        if not path.exists():
            raise SourceFailed("not cached yet")
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError) as error:
            self._discard(path)
            raise SourceFailed(f"unreadable cache file, removed ({error})") from None
        if array.dtype != np.uint8 or idx_sha256(array) != file.sha256:
            self._discard(path)
            raise SourceFailed("cache file failed its SHA-256 check, removed")
        return array

    def store(self, file: FileSpec, array: np.ndarray) -> None:
        """Write atomically (temporary file + rename) so a concurrent reader never sees half."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(
                dir=self.folder, prefix=f".{file.name}.", suffix=".tmp", delete=False
            )
            try:
                with handle:
                    np.save(handle, array, allow_pickle=False)
                os.chmod(handle.name, 0o644)  # tempfile makes 0600; the cache may be shared
                os.replace(handle.name, self.path(file))
            except BaseException:
                Path(handle.name).unlink(missing_ok=True)
                raise
        except OSError as error:
            warnings.warn(
                f"nnhelpers could not write its cache in {self.folder} ({error}); the data "
                "still loads, but is not cached. Set NNHELPERS_CACHE to a writable folder.",
                stacklevel=4,
            )

    @staticmethod
    def _discard(path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


class MirrorFolder:
    """A local folder with the four standard files, gzip-compressed or not; never modified."""

    def __init__(self, folder: Path, origin: str) -> None:
        self.folder = folder
        self.description = f"local mirror {folder} ({origin})"

    def fetch(self, file: FileSpec) -> np.ndarray:
        if not self.folder.is_dir():
            raise SourceFailed("folder does not exist", give_up=True)
        candidates = [self.folder / f"{file.name}.gz", self.folder / file.name]
        present = [path for path in candidates if path.is_file()]
        if not present:
            raise SourceFailed(f"neither {file.name}.gz nor {file.name} is in the folder")
        reasons = []
        for path in present:
            try:
                return verify_content(path.read_bytes(), file)
            except OSError as error:
                reasons.append(f"{path.name}: cannot read ({error.strerror or error})")
            except SourceFailed as failure:
                reasons.append(f"{path.name}: {failure.reason} (left untouched)")
        raise SourceFailed("; ".join(reasons))


class DownloadMirror:
    """A public web mirror: `base_url + name + ".gz"`, downloaded by pooch into a scratch folder.

    pooch streams into a temporary file and renames it when complete; each download gets its
    own scratch folder, so two processes downloading at once never share a partial file.
    """

    def __init__(
        self, base_url: str, scratch_root: Path, *, timeout: float, progress: bool
    ) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.scratch_root = scratch_root
        self.timeout = timeout
        self.progress = progress
        self.description = f"download mirror {self.base_url}"

    def fetch(self, file: FileSpec) -> np.ndarray:
        url = f"{self.base_url}{file.name}.gz"
        content = self._download(url, f"{file.name}.gz")
        return verify_content(content, file)

    def _download(self, url: str, fname: str) -> bytes:
        import pooch  # imported lazily: only needed when a download happens
        import requests

        scratch = Path(tempfile.mkdtemp(prefix="download-", dir=self._scratch_root()))
        bar = self._progress_bar(fname)
        logger = pooch.get_logger()
        level = logger.level
        logger.setLevel(logging.WARNING)  # pooch's INFO advice about known_hash confuses students
        try:
            downloader = pooch.HTTPDownloader(
                progressbar=bar if bar is not None else False, timeout=self.timeout
            )
            path = pooch.retrieve(
                url, known_hash=None, fname=fname, path=scratch, downloader=downloader
            )
            return Path(path).read_bytes()
        except requests.exceptions.HTTPError as error:
            status = error.response.status_code if error.response is not None else "error"
            raise SourceFailed(f"HTTP {status} for {url}") from None
        except requests.exceptions.Timeout:
            raise SourceFailed(
                f"no answer within {self.timeout:g} s (NNHELPERS_TIMEOUT)", give_up=True
            ) from None
        except requests.exceptions.ConnectionError as error:
            raise SourceFailed(
                f"cannot connect ({_connection_problem(error)})", give_up=True
            ) from None
        except (requests.exceptions.RequestException, ValueError) as error:
            raise SourceFailed(f"download broke off ({short_error(error)})") from None
        except OSError as error:
            raise SourceFailed(f"cannot write the download ({error})") from None
        finally:
            logger.setLevel(level)
            if bar is not None:
                bar.close()
            shutil.rmtree(scratch, ignore_errors=True)

    def _scratch_root(self) -> str:
        try:
            self.scratch_root.mkdir(parents=True, exist_ok=True)
            return str(self.scratch_root)
        except OSError:
            return tempfile.gettempdir()

    def _progress_bar(self, fname: str) -> _LazyBar | None:
        return _LazyBar(fname) if self.progress else None


class _LazyBar:
    """A tqdm bar that appears only once pooch knows the size, i.e. once a server answered.

    pooch drives a custom bar through `total = ...`, `update`, `reset` and `close`; failed
    mirrors thus leave no empty bars behind.
    """

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self._bar = None

    @property
    def total(self) -> float | None:
        return None if self._bar is None else self._bar.total

    @total.setter
    def total(self, value: float) -> None:
        from tqdm import tqdm  # text bar on stderr: works in a terminal, Jupyter and nbconvert

        self.close()
        self._bar = tqdm(desc=self.desc, total=value or None, unit="B", unit_scale=True, ncols=79)

    def update(self, n: float) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def reset(self) -> None:
        if self._bar is not None:
            self._bar.reset()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


CONNECTION_PROBLEMS = (
    "Connection refused",
    "Name or service not known",
    "Temporary failure in name resolution",
    "No address associated with hostname",
    "getaddrinfo failed",
    "Network is unreachable",
    "No route to host",
    "Connection reset by peer",
    "certificate verify failed",
)


def _connection_problem(error: BaseException) -> str:
    """The telling part of a requests ConnectionError (its text nests several wrappers)."""
    text = str(error)
    for problem in CONNECTION_PROBLEMS:
        if problem in text:
            return problem
    return short_error(error)


def short_error(error: BaseException, limit: int = 160) -> str:
    """An exception's message on one line, cut to `limit` characters."""
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
