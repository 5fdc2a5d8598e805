"""The IDX file format of MNIST and Fashion-MNIST: decode, encode and hash uint8 arrays.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in row-major order.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib

import numpy as np

UINT8_TYPE_CODE = 0x08


class IdxError(ValueError):
    """The bytes are not a well-formed uint8 IDX file (wrong magic, truncated, extra bytes)."""


def idx_header(shape: tuple[int, ...]) -> bytes:
    """The IDX header (magic number and dimensions) of a uint8 array of this shape."""
    return struct.pack(">BBBB", 0, 0, UINT8_TYPE_CODE, len(shape)) + struct.pack(
        f">{len(shape)}I", *shape
    )


def decode_idx(content: bytes) -> np.ndarray:
    """Decode uncompressed IDX bytes into a read-only uint8 array, checking every size."""
    if len(content) < 4:
        raise IdxError(f"only {len(content)} bytes, not even an IDX header")
    zero1, zero2, type_code, ndim = struct.unpack(">BBBB", content[:4])
    if zero1 or zero2 or type_code != UINT8_TYPE_CODE or not 1 <= ndim <= 4:
        raise IdxError(f"not a uint8 IDX file (magic bytes {content[:4].hex()})")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise IdxError(f"header cut short: {len(content)} of {header_size} bytes")
    shape = struct.unpack(f">{ndim}I", content[4:header_size])
    expected = header_size + int(np.prod(shape, dtype=np.int64))
    if len(content) != expected:
        raise IdxError(
            f"shape {shape} needs {expected} bytes, the file has {len(content)} "
            f"({'truncated' if len(content) < expected else 'extra bytes'})"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header_size).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array as uncompressed IDX bytes (the inverse of decode_idx)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    return idx_header(array.shape) + array.tobytes()


def idx_sha256(array: np.ndarray) -> str:
    """SHA-256 of the IDX encoding of `array`, computed without copying the data."""
    digest = hashlib.sha256(idx_header(array.shape))
    digest.update(memoryview(np.ascontiguousarray(array)).cast("B"))
    return digest.hexdigest()


def maybe_gunzip(content: bytes) -> bytes:
    """Decompress gzip bytes; return other bytes unchanged (mirrors may hold either form)."""
    if content[:2] != b"\x1f\x8b":
        return content
    try:
        return gzip.decompress(content)
    except (EOFError, OSError, zlib.error) as error:
        raise IdxError(f"broken gzip data ({error})") from error
