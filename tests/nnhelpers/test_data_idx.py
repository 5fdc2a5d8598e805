"""The IDX reader refuses malformed files with a message saying what is wrong."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from nnhelpers.data.idx import IdxError, decode_idx, encode_idx, idx_sha256, maybe_gunzip


def test_round_trip_and_hash_of_the_encoding():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    content = encode_idx(images)
    assert content[:4] == b"\x00\x00\x08\x03" and len(content) == 16 + images.size
    assert np.array_equal(decode_idx(content), images)
    import hashlib

    assert idx_sha256(images) == hashlib.sha256(content).hexdigest()
    assert np.array_equal(decode_idx(maybe_gunzip(gzip.compress(content))), images)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x00", "not even an IDX header"),
        (b"\x00\x00\x0d\x01" + b"\x00" * 8, "not a uint8 IDX file"),
        (b"\x00\x00\x08\x03\x00\x00", "header cut short"),
        (encode_idx(np.zeros((3, 2), np.uint8))[:-1], "truncated"),
        (encode_idx(np.zeros((3, 2), np.uint8)) + b"\x00", "extra bytes"),
    ],
)
def test_malformed_files_are_refused(content, message):
    with pytest.raises(IdxError, match=message):
        decode_idx(content)


def test_broken_gzip_is_an_idx_error():
    packed = gzip.compress(encode_idx(np.zeros((50, 50), np.uint8)))
    with pytest.raises(IdxError, match="broken gzip"):
        maybe_gunzip(packed[: len(packed) // 2])
