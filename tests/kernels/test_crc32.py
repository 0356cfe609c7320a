"""The CRC-32 kernel: zlib.crc32's value on every backend, by every path of the C one.

The compiled one folds 64 bytes a step by carry-less multiplication where the CPU has
PCLMULQDQ (in 16-byte lanes, from 64 bytes on), and runs slicing-by-8 tables elsewhere and
over the bytes around the lanes: lengths and alignments around those sizes, and any
starting value, reach every join between the two.
"""

from __future__ import annotations

import os
import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import huffkit
from huffkit.format import blocks
from huffkit.kernels import backend, compiled, reference
from huffkit.stream import decompressor, pieces

needs_c = pytest.mark.skipif(backend.unavailable is not None, reason="no compiled kernels")

#: Lengths around the folding's edges: under a step, one step, steps and lanes and bytes.
EDGES = [0, 1, 7, 8, 15, 16, 17, 31, 32, 48, 63, 64, 65, 79, 80, 81, 127, 128, 129, 191, 192,
         255, 256, 257, 1000, 4095, 4096, 4097, 65535, 65536, 65537]


def _ways() -> list:
    """Each way a backend computes the CRC: the reference, and both paths of the C."""
    ways = [reference.crc32]
    if backend.unavailable is None:
        from huffkit.kernels import _ckernels
        ways += [compiled.crc32, lambda data, value=0: _ckernels.crc32(data, value, True)]
    return ways


WAYS = _ways()


@pytest.mark.parametrize("crc32", WAYS)
@pytest.mark.parametrize("length", EDGES)
def test_crc32_is_zlibs_at_the_folding_edges(crc32, length):
    data = os.urandom(length + 16)
    for offset in (0, 1, 3, 8, 13):
        piece = memoryview(data)[offset:offset + length]
        for value in (0, 1, 0xDEADBEEF, 0xFFFFFFFF):
            assert crc32(piece, value) == zlib.crc32(piece, value)
        assert crc32(piece) == zlib.crc32(piece)


@pytest.mark.parametrize("crc32", WAYS)
@given(data=st.binary(max_size=3000), offset=st.integers(0, 15),
       value=st.integers(0, 0xFFFFFFFF))
def test_crc32_is_zlibs(crc32, data, offset, value):
    piece = memoryview(data)[min(offset, len(data)):]
    assert crc32(piece, value) == zlib.crc32(piece, value)
    assert crc32(piece) == zlib.crc32(piece)


@pytest.mark.parametrize("crc32", WAYS)
def test_crc32_of_nothing_is_its_starting_value(crc32):
    assert crc32(b"") == 0
    assert crc32(b"", 0x12345678) == 0x12345678
    assert crc32(bytearray()) == 0


@pytest.mark.parametrize("crc32", WAYS)
def test_crc32_of_pieces_chains_to_the_whole(crc32):
    data = os.urandom(100_003)
    crc = 0
    for start in range(0, len(data), 7_777):
        crc = crc32(data[start:start + 7_777], crc)
    assert crc == zlib.crc32(data)


@pytest.mark.parametrize("crc32", WAYS)
def test_crc32_of_huge_buffers_and_other_bytes_likes(crc32):
    data = np.random.default_rng(17).integers(0, 256, 48 << 20, dtype=np.uint8)  # 48 MiB
    assert crc32(data) == zlib.crc32(data)
    assert crc32(memoryview(data)[5:-3]) == zlib.crc32(memoryview(data)[5:-3])
    assert crc32(bytearray(b"abc" * 1000)) == zlib.crc32(b"abc" * 1000)
    assert crc32(b"\x00" * (1 << 20)) == zlib.crc32(b"\x00" * (1 << 20))


@needs_c
def test_compiled_crc32_refuses_what_zlib_refuses():
    with pytest.raises(TypeError):
        compiled.crc32("text")
    with pytest.raises((TypeError, BufferError, ValueError)):
        compiled.crc32(memoryview(b"abcdef")[::2])


def test_the_backends_crc32(each_backend):
    # The reference is zlib's own function; the compiled one is the C function itself,
    # no Python frame between.
    if each_backend == "numpy":
        assert backend.kernels.crc32 is zlib.crc32
    else:
        from huffkit.kernels import _ckernels
        assert backend.kernels.crc32 is _ckernels.crc32
    data = os.urandom(1 << 16)
    assert backend.kernels.crc32(data) == zlib.crc32(data)


@needs_c
def test_compiled_crc32_folds_where_the_cpu_can():
    from huffkit.kernels import _ckernels
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line for line in info if line.startswith("flags")), "")
    except OSError:
        pass
    method = _ckernels.crc32_method()
    assert method in ("pclmul", "slice8")
    if os.uname().machine == "x86_64" and {"pclmulqdq", "sse4_1"} <= set(flags.split()):
        assert method == "pclmul"


def test_the_data_paths_use_the_backends_crc32(each_backend, monkeypatch):
    # Every block's CRC-32, written and checked, comes from the kernel in use: the compiled
    # run kernels check the CRCs of the Huffman and rANS blocks they decode themselves, with
    # the same C function (hk_crc32_update), so that decoding them calls none from Python.
    calls = []
    kernel = backend.kernels.crc32

    def counted(data, value=0):
        calls.append(len(data))
        return kernel(data, value)

    monkeypatch.setattr(backend.kernels, "crc32", counted)
    data = bytes(np.random.default_rng(3).integers(0, 40, 300_000, dtype=np.uint8))
    for coder in ("huffman", "ans"):
        calls.clear()
        packed = huffkit.compress(data, coder=coder)
        assert calls, coder
        calls.clear()
        assert huffkit.decompress(packed) == data
        if each_backend == "c":
            assert not calls
        else:
            assert sum(calls) >= len(data), coder
    for module in (blocks, decompressor, pieces):
        assert "zlib" not in vars(module)
