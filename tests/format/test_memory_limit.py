"""The decoding memory limit (``memory_limit=``, ``huffkit.DEFAULT_MEMORY_LIMIT``).

A frame's header declares its block size, and so the memory decoding one of its blocks may
take (``decoding_memory``: 1, 9 or 12 bytes a symbol for bytes, pairs and utf8, and
4 MiB of tables).  A frame that needs more than the decoder's limit is refused from that
header, with ``MemoryLimitError``, before anything is allocated for its blocks: a 61-byte
utf8 rANS frame declaring blocks of 2^26 symbols no longer takes 800 MB to reject.
"""

from __future__ import annotations

import dataclasses
import io
import re
import time

import numpy as np
import pytest
from conftest import peak_memory
from hand_made_frames import N, bomb, declaring_block_size
from test_bombs import _warm_up

import huffkit
from huffkit import MemoryLimitError
from huffkit.format.frame import decoding_memory, parse_frame_header

MIB = 1 << 20


def _message(needed_mib: str, symbols: int, alphabet: str, limit: str) -> str:
    return (f"this frame needs {needed_mib} to decode a block ({symbols:,} {alphabet} symbols), "
            f"over the memory limit of {limit}: pass a larger memory_limit= "
            "(huffkit --memory SIZE)")


BOMB_MESSAGE = _message("772 MiB", N, "utf8", "128 MiB")


def _entry_points(memory_limit=huffkit.DEFAULT_MEMORY_LIMIT):
    """Each way of decoding a frame, as a function of its bytes."""
    def one_shot(data):
        return huffkit.decompress(data, memory_limit=memory_limit)

    def decompressor(data):
        return huffkit.HuffmanDecompressor(memory_limit=memory_limit).decompress(data)

    def file(data):
        with huffkit.open(io.BytesIO(data), memory_limit=memory_limit) as source:
            return source.read()

    def text_file(data):
        with huffkit.open(io.BytesIO(data), "rt", encoding="utf-8",
                          memory_limit=memory_limit) as source:
            return source.read()

    def inspect(data):
        return huffkit.inspect(data, memory_limit=memory_limit)

    return {"decompress": one_shot, "HuffmanDecompressor": decompressor, "open": file,
            "open-text": text_file, "inspect": inspect}


ENTRY_POINTS = list(_entry_points())


def test_the_default_limit():
    assert huffkit.DEFAULT_MEMORY_LIMIT == 128 * MIB
    assert issubclass(MemoryLimitError, huffkit.HuffmanError)
    assert not issubclass(MemoryLimitError, huffkit.FormatError)


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_bomb_refused_before_allocating_by_default(entry):
    frame = bomb()
    assert len(frame) == 61
    _warm_up()
    with peak_memory() as peak, pytest.raises(MemoryLimitError) as info:
        _entry_points()[entry](frame)
    assert type(info.value) is MemoryLimitError
    assert str(info.value) == BOMB_MESSAGE
    assert peak.bytes < MIB, peak.bytes


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("alphabet", "needed"), [("pairs", "580 MiB"),
                                                  ("utf8", "772 MiB")])
@pytest.mark.parametrize("coder", ["huffman", "ans"])
def test_each_coder_and_alphabet_refused_from_the_frame_header(entry, alphabet, needed, coder):
    # A frame header that declares the largest block size: nothing after it is read, so a
    # header is enough to be refused (the rest never arrives).
    frame = declaring_block_size(huffkit.compress(b"ab", coder=coder, alphabet=alphabet), N)
    with pytest.raises(MemoryLimitError) as info:
        _entry_points()[entry](frame)
    assert str(info.value) == _message(needed, N, alphabet, "128 MiB")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("coder", ["huffman", "ans"])
def test_the_default_admits_every_byte_frame(entry, coder):
    """A byte frame needs 64 MiB and 4 MiB for blocks of 2^26 bytes, the largest."""
    frame = declaring_block_size(huffkit.compress(b"abracadabra", coder=coder),
                                 huffkit.MAX_BLOCK_SIZE)
    assert decoding_memory(parse_frame_header(frame, 0)) == 68 * MIB
    result = _entry_points()[entry](frame)
    if entry == "inspect":
        assert result.original_size == 11
    else:
        assert result in (b"abracadabra", "abracadabra")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_frame_needing_exactly_the_limit_decodes_and_one_byte_less_refuses(entry):
    data = "\U0001F600 smile ".encode() * 1000
    block_size = 1 << 16
    frame = declaring_block_size(huffkit.compress(data, alphabet="utf8"), block_size)
    needed = 12 * block_size + 4 * MIB  # 4.75 MiB
    assert decoding_memory(parse_frame_header(frame, 0)) == needed
    decoded = _entry_points(needed)[entry](frame)
    assert decoded.original_size == len(data) if entry == "inspect" else decoded in (
        data, data.decode())
    with pytest.raises(MemoryLimitError) as info:
        _entry_points(needed - 1)[entry](frame)
    assert str(info.value) == _message("4.75 MiB", block_size, "utf8", "4.74 MiB")
    with pytest.raises(MemoryLimitError) as info:
        _entry_points(1000)[entry](frame)
    assert str(info.value) == _message("4.75 MiB", block_size, "utf8", "1,000 bytes")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_no_limit(entry):
    """memory_limit=None decodes what the default refuses: a utf8 frame that declares the
    largest block size (a few bytes of data, so decoding it is cheap)."""
    frame = declaring_block_size(huffkit.compress("naïve café ☕".encode(), alphabet="utf8"), N)
    with pytest.raises(MemoryLimitError):
        _entry_points()[entry](frame)
    decoded = _entry_points(None)[entry](frame)
    assert decoded.original_size == 16 if entry == "inspect" else decoded in (
        "naïve café ☕".encode(), "naïve café ☕")


def test_later_frame_refused_with_its_place():
    frame = huffkit.compress(b"first")
    with pytest.raises(MemoryLimitError) as info:
        huffkit.decompress(frame + bomb())
    assert str(info.value) == f"frame 2 (at byte {len(frame)}): {BOMB_MESSAGE}"


def test_many_bomb_frames_refused_at_the_first_in_no_time():
    """Twelve frames of 2^26 utf8 symbols took 25 s of CPU to decode and refuse; the first
    header now refuses them all, without decoding anything."""
    frames = bomb() * 12
    for entry in ENTRY_POINTS:
        start = time.process_time()
        with pytest.raises(MemoryLimitError, match=f"^{re.escape(BOMB_MESSAGE)}$"):
            _entry_points()[entry](frames)
        assert time.process_time() - start < 0.5


def test_decompressor_refuses_once_the_header_is_whole_and_keeps_refusing():
    decompressor = huffkit.HuffmanDecompressor()
    assert decompressor.decompress(bomb()[:10]) == b""  # the header is not whole yet
    assert decompressor.needs_input
    with pytest.raises(MemoryLimitError, match=f"^{re.escape(BOMB_MESSAGE)}$"):
        decompressor.decompress(bomb()[10:14])
    with pytest.raises(MemoryLimitError, match=f"^{re.escape(BOMB_MESSAGE)}$"):
        decompressor.decompress(b"")


def test_file_in_write_mode_takes_no_limit(tmp_path):
    with pytest.raises(ValueError, match=r"^memory_limit applies only when reading$"):
        huffkit.open(tmp_path / "out.huf", "wb", memory_limit=MIB)
    assert not (tmp_path / "out.huf").exists()


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize(("value", "error", "message"), [
    ("128M", TypeError, "memory_limit must be an int (bytes) or None, not str"),
    (1.5e8, TypeError, "memory_limit must be an int (bytes) or None, not float"),
    (True, TypeError, "memory_limit must be an int (bytes) or None, not bool"),
    (np.int64(5), TypeError, "memory_limit must be an int (bytes) or None, not int64"),
    (0, ValueError, "memory_limit must be at least 1 byte, or None for no limit, got 0"),
    (-1, ValueError, "memory_limit must be at least 1 byte, or None for no limit, got -1"),
])
def test_bad_limits(entry, value, error, message):
    frame = huffkit.compress(b"data")
    with pytest.raises(error) as info:
        _entry_points(value)[entry](frame)
    assert type(info.value) is error
    assert str(info.value) == message


# -- the estimate bounds what decoding really allocates ----------------------------------------

_SYMBOLS = 1 << 20


def _worst_data(alphabet: str) -> bytes:
    """_SYMBOLS symbols of the alphabet's widest kind, many distinct: what costs most."""
    rng = np.random.default_rng(5)
    if alphabet == "bytes":
        return rng.integers(0, 256, _SYMBOLS, dtype=np.uint8).tobytes()
    if alphabet == "pairs":  # an odd last byte: one more copy of the output
        return rng.integers(0, 256, 2 * _SYMBOLS - 1, dtype=np.uint8).tobytes()
    points = rng.integers(0x10000, 0x10000 + 3000, _SYMBOLS).astype("<u4")
    return points.tobytes().decode("utf-32-le").encode()


@pytest.fixture(scope="module", params=[(alphabet, coder) for alphabet in ("bytes", "pairs",
                                                                           "utf8")
                                        for coder in ("huffman", "ans")],
                ids=lambda p: "-".join(p))
def worst_frame(request) -> tuple[bytes, bytes]:
    alphabet, coder = request.param
    data = _worst_data(alphabet)
    frame = huffkit.compress(data, block_size=len(data), coder=coder, alphabet=alphabet)
    assert len(huffkit.frame_info(frame)[0].blocks) == 1
    return data, frame


_COMPILED = pytest.mark.skipif(huffkit.kernels.backend.name() != "c",
                               reason="the estimate is the compiled decoders'")


@_COMPILED
def test_estimate_bounds_decompress_and_inspect(worst_frame):
    """What decoding a block of the frame's real symbol count is charged bounds what the
    compiled decoders allocate for it, in decompress and in inspect, but for a transient
    copy of the block's compressed bytes (which the estimate leaves out: the input holds
    them already)."""
    data, frame = worst_frame
    header = parse_frame_header(frame, 0)
    symbols = huffkit.frame_info(frame)[0].blocks[0].symbols
    estimate = decoding_memory(dataclasses.replace(header, block_size=symbols))
    _warm_up()
    with peak_memory() as decompressing:
        assert huffkit.decompress(frame, memory_limit=None) == data
    # The output decompress returns is the block's, counted in the estimate.
    assert decompressing.bytes <= estimate + len(frame), (decompressing.bytes, estimate)
    with peak_memory() as inspecting:
        ledger = huffkit.inspect(frame, memory_limit=None)
    assert ledger.original_size == len(data)
    assert inspecting.bytes <= estimate + len(frame), (inspecting.bytes, estimate)
    # inspect needs no more than decompress, but for its per-symbol sums (under 2 MiB): it
    # took 28 bytes a utf8 symbol, where decompress takes 12.
    assert inspecting.bytes <= decompressing.bytes + 2 * MIB, (inspecting.bytes,
                                                               decompressing.bytes)
    # ... and the estimate is not loose: a fifth at most above the measured peak, and the tables.
    assert estimate <= 1.2 * decompressing.bytes + 4 * MIB
