"""The grader decodes what the sandbox sends back with limits checked before anything is built.

Each hostile reply of the grader attack corpus (tests/adversarial/attacks.py, GRADER_ATTACKS) in
its smallest form, fed straight to the codec (no sandbox): refused with a `WireError` that
says why; honest values of every kind still decode to what was sent.
"""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest
from nngrade.sandbox import agent as wire


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _frame(header_bytes: bytes, blobs: list[bytes] = ()) -> bytes:
    parts = [wire.MAGIC, struct.pack("<II", len(header_bytes), len(blobs)), header_bytes]
    for blob in blobs:
        parts += [struct.pack("<Q", len(blob)), blob]
    return b"".join(parts)


def _unpack(data: bytes, max_bytes: int = 128 * 2**20):
    stream = io.BytesIO(data)

    def read_exact(n: int) -> bytes:
        chunk = stream.read(n)
        assert len(chunk) == n
        return chunk

    return wire.unpack(read_exact, max_bytes)


def test_honest_values_round_trip():
    rng = np.random.default_rng(3)
    value = {
        "w": rng.normal(size=(10, 196)),
        "b": np.zeros(10, dtype=np.float32),
        "hist": [1.5, 2.0, None, True, "ok", (1, 2j)],
        (1, "k"): np.int64(7),
        "empty": np.zeros((0, 3)),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "rng": np.random.default_rng(1),
    }
    blobs: list[bytes] = []
    tree = wire.encode(value, blobs)
    header, got_blobs = _unpack(wire.pack({"value": tree}, blobs))
    back = wire.decode(header["value"], got_blobs)
    assert set(back) == set(value)
    for key in ("w", "b", "empty", "fortran"):
        assert back[key].dtype == value[key].dtype and np.array_equal(back[key], value[key])
        assert back[key].flags.writeable
    assert back["hist"] == value["hist"] and back[(1, "k")] == 7
    assert back["rng"].normal() == np.random.default_rng(1).normal()


def _refused(tree, blobs=(), match: str | None = None) -> str:
    with pytest.raises(wire.WireError, match=match) as info:
        wire.decode(tree, list(blobs))
    return str(info.value)


def test_a_blob_is_used_once():
    blob = _npy(np.zeros(2**20))
    assert wire.decode([{"$nd": 0}], [blob])[0].shape == (2**20,)
    _refused([{"$nd": 0}] * 100_000, [blob], match="more than once")


def test_decoded_bytes_and_elements_are_bounded():
    limits = wire.DecodeLimits(max_bytes=2**20)
    with pytest.raises(wire.WireError, match="MB once decoded"):
        wire.decode({"$nd": 0}, [_npy(np.zeros(2**18))], limits=limits)  # 2 MB of data
    _refused([[]] * 1_100_000, match="elements")


def test_dicts_are_bounded_and_colliding_keys_refused():
    keys = [k * (2**61 - 1) for k in range(1, 20)]
    assert len({hash(k) for k in keys}) == 1  # the attack: every key has hash 0
    _refused({"$dict": [[k, 0] for k in keys]}, match="share one hash")
    _refused({"$dict": [[k, 0] for k in range(10_001)]}, match="more than 10,000 entries")
    assert len(wire.decode({"$dict": [[k, 0] for k in range(10_000)]}, [])) == 10_000


def test_strings_and_nesting_are_bounded():
    _refused("x" * 1_000_001, match="string longer")
    deep: list = []
    for _ in range(100):
        deep = [deep]
    _refused(deep, match="nested too deeply")


@pytest.mark.parametrize(
    "header",
    [
        {"descr": "<f8", "fortran_order": False, "shape": (10**12,)},  # 8 TB claimed
        {"descr": "<f8", "fortran_order": False, "shape": (5,)},  # 40 bytes claimed, 80 sent
        {"descr": "|V8", "fortran_order": False, "shape": (10,)},  # not a plain dtype
        {"descr": [("a", "<f8")], "fortran_order": False, "shape": (10,)},  # structured
        {"descr": "<U0", "fortran_order": False, "shape": (10**9,)},  # zero-size elements
    ],
)
def test_array_headers_are_checked_before_allocation(header):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    _refused({"$nd": 0}, [buffer.getvalue() + bytes(80)])


def test_pickled_arrays_are_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _refused({"$nd": 0}, [buffer.getvalue()], match="dtype")


def test_frame_headers_are_bounded_before_json():
    big = json.dumps({"value": [[]] * 3_000_000}).encode()  # 12 MB
    with pytest.raises(wire.WireError, match="larger than 8 MB"):
        _unpack(_frame(big))
    many = json.dumps({"value": [[]] * 300_000}).encode()  # 1.2 MB, 300,000 lists
    with pytest.raises(wire.WireError, match="lists or dicts"):
        _unpack(_frame(many))
    header, _ = _unpack(_frame(json.dumps({"value": [[]] * 1000}).encode()))
    assert len(header["value"]) == 1000
