"""Runs of rANS blocks with tables of their own (0x03) and reused ones (0x07), as the run
kernel meets them.

The compiled run kernel (``decode_ans_run`` in codec/kernels/c/rans_runs.c) decodes a
version-2 byte frame's rANS blocks in one call, and leaves to the Python reference every
block it does not take (a table finer than 18 bits, a version-1 frame) or that breaks a
rule, which the reference then reports.  These frames are built from FORMAT.md by the
specification's own writers (tests/format/test_format_spec.py), not by huffkit's encoder;
each is decoded through every entry point on both backends.  Under the sanitizer build of
CI any stray read here is a failure too.
"""

from __future__ import annotations

import itertools
import random
import zlib

import numpy as np
import pytest
from test_block_runs import assert_every_way
from test_format_spec import (
    FreqTable,
    ans_block,
    ans_frame,
    compact_freq_table,
    frame_end,
    frame_header,
    leb128,
    own_table,
    quantise,
)

import huffkit
from huffkit import ChecksumError, FormatError
from huffkit.kernels import backend

OWN, REUSE = 0x03, 0x07
L = 1 << 32
needs_c = pytest.mark.skipif(backend.unavailable is not None, reason="no compiled kernels")
if backend.unavailable is None:
    from huffkit.kernels import compiled


def run_frame(pieces: list[bytes], kinds: list[int], tables: list[FreqTable], lanes: list[int],
              block_size: int) -> bytes:
    """A version-2 rANS byte frame: piece i coded with tables[i], with its own table or the
    previous block's (kinds[i]), on lanes[i] lanes."""
    blocks = [ans_block(piece, table, lanes=lane_count, block_type=kind, version=2)
              for piece, kind, table, lane_count in zip(pieces, kinds, tables, lanes,
                                                        strict=True)]
    return ans_frame(*blocks, block_size=block_size, version=2)


def mixed_run(count: int = 300, seed: int = 18) -> tuple[list[bytes], list[int], bytes]:
    """*count* blocks of 1 to 40 bytes on 1 to 5 lanes: tables of precision 12, 16 and one
    of a single byte value (frequency M), each block after the first taking a table of its
    own or reusing the one before.  Each table gives other frequencies, so a block decoded
    with a wrong one fails its words or its CRC.  (pieces, kinds, frame)"""
    rng = random.Random(seed)
    alphabets = [b"abcdr", b"xyz", b"q"]
    pieces, kinds, tables, lanes = [], [], [], []
    table = None
    for index in range(count):
        reuse = index and rng.random() < 0.7
        if reuse:
            used = sorted(table.freqs)
            piece = bytes(rng.choice(used) for _ in range(rng.randint(1, 40)))
        else:
            letters = rng.choice(alphabets)
            piece = bytes(rng.choice(letters) for _ in range(rng.randint(len(letters), 40)))
            piece = letters + piece[len(letters):]  # every letter occurs (rule A5)
            table = own_table(piece, version=2, prefer_12=rng.random() < 0.5)
        pieces.append(piece)
        kinds.append(REUSE if reuse else OWN)
        tables.append(table)
        lanes.append(rng.randint(1, min(5, len(piece))))
    return pieces, kinds, run_frame(pieces, kinds, tables, lanes, block_size=40)


def long_run(reuses: int) -> tuple[bytes, bytes]:
    """A block of b"ab" with its own table, then *reuses* blocks of 1 or 2 bytes reusing it."""
    rng = random.Random(reuses)
    pieces = [b"ab"] + [rng.choice([b"a", b"b", b"ab", b"ba", b"aa"]) for _ in range(reuses)]
    table = own_table(b"ab", version=2)
    kinds = [OWN] + [REUSE] * reuses
    packed = run_frame(pieces, kinds, [table] * len(pieces), [1] * len(pieces), block_size=2)
    return b"".join(pieces), packed


@pytest.mark.usefixtures("each_backend")
@pytest.mark.parametrize("reuses", [15, 16, 17, 4095, 4096, 4097,
                                    pytest.param(9000, marks=pytest.mark.slow)])
def test_a_long_run_of_reuse_blocks_decodes(reuses):
    original, packed = long_run(reuses)
    assert_every_way(packed, original)


@pytest.mark.usefixtures("each_backend")
def test_a_mixed_run_decodes():
    pieces, _, packed = mixed_run()
    assert_every_way(packed, b"".join(pieces))


@pytest.mark.usefixtures("each_backend")
def test_a_mixed_run_in_frames_decodes():
    """Frames joined: each run ends with its frame, and the next frame starts afresh."""
    first, _, one = mixed_run(120, seed=1)
    second, _, two = mixed_run(80, seed=2)
    assert_every_way(one + two + one, b"".join(first + second + first))


def _block_offsets(packed: bytes) -> list[int]:
    (frame,) = huffkit.frame_info(packed)
    return [block.offset for block in frame.blocks]


@pytest.mark.usefixtures("each_backend")
@pytest.mark.parametrize("number", [1, 2, 150, 300])
def test_a_damaged_block_deep_in_a_run_is_named(number):
    """A block whose CRC or first state is wrong stops the run; the reference names it."""
    pieces, kinds, packed = mixed_run()
    offset = _block_offsets(packed)[number - 1]
    crc_at = offset + 1 + len(leb128(len(pieces[number - 1])))
    bad_crc = bytearray(packed)
    bad_crc[crc_at] ^= 0x01
    with pytest.raises(ChecksumError,
                       match=rf"^block {number}: block of \d+ bytes decoded, but its CRC-32"):
        huffkit.decompress(bytes(bad_crc))
    # The first state, lowered below L (rule A3): its top byte is the 8th.
    table_bytes = (0 if kinds[number - 1] == REUSE
                   else len(compact_freq_table(own_table(pieces[number - 1], version=2))))
    lanes_at = crc_at + 4 + table_bytes
    assert packed[lanes_at] <= 5 and packed[lanes_at + 1] <= 40  # one byte each
    states_at = lanes_at + 2
    low_state = bytearray(packed)
    low_state[states_at + 4:states_at + 8] = bytes(4)
    with pytest.raises(FormatError, match=rf"^block {number}: an ANS lane starts below the "
                                          "lowest state"):
        huffkit.decompress(bytes(low_state))


@pytest.mark.usefixtures("each_backend")
def test_a_table_finer_than_the_kernel_takes_goes_to_the_reference():
    """A table of 20 bits (the kernel's slot tables stop at 18), between blocks it takes:
    the run stops before it, and the reference decodes it and the block that reuses it."""
    coarse = own_table(b"abc" * 5, version=2)
    fine = quantise({ord("a"): 3, ord("b"): 1}, 20)
    pieces = [b"abcabcabcabcabc", b"abab", b"baaa", b"cab"]
    packed = run_frame(pieces, [OWN, OWN, REUSE, OWN], [coarse, fine, fine, coarse],
                       [2, 1, 2, 1], block_size=15)
    assert_every_way(packed, b"".join(pieces))
    if backend.name() == "c":
        run = compiled.decode_ans_run(packed, 14, 15, None, 0, 1 << 30, 15, 0)
        assert run[0] == pieces[0] and run[2] == [15]


@pytest.mark.usefixtures("each_backend")
def test_a_frames_last_block_ends_its_run():
    """A version-2 frame of one block is its last: the block holds the header's block size,
    and what follows is another frame, decoded afresh."""
    one = ans_frame(ans_block(b"abracadabra", lanes=3, version=2), version=2)
    assert one[14] == OWN | 0x80
    pieces, _, many = mixed_run(30)
    assert_every_way(one + many + one, b"abracadabra" + b"".join(pieces) + b"abracadabra")


def one_symbol_block(symbols: int, *, kind: int = OWN) -> bytes:
    """A version-2 block of *symbols* copies of b"a", coded in no words: a table of one
    frequency, M, at precision 12 (a lane never moves)."""
    table = b"" if kind == REUSE else compact_freq_table(FreqTable(12, {ord("a"): 1 << 12}))
    crc = zlib.crc32(b"a" * symbols).to_bytes(4, "little")
    return (bytes([kind]) + leb128(symbols) + crc + table + leb128(1) + leb128(0)
            + L.to_bytes(8, "little"))


@needs_c
def test_the_kernel_takes_a_run_of_large_claims_in_calls_of_at_most_2_24_symbols():
    """Each block of 2**20 symbols takes 18 bytes (and a table): 40 of them declare 40 MiB.  A call
    allocates its output before decoding, so it plans 2**24 symbols at most beyond its
    first block, and decompress goes on from where it stopped."""
    block = 1 << 20
    blocks = [one_symbol_block(block)] + [one_symbol_block(block, kind=REUSE)] * 39
    packed = (frame_header(block, version=2, flags=0x02) + b"".join(blocks)
              + frame_end(40 * block, version=2))
    data, starts, ends, freqs, precision = compiled.decode_ans_run(
        packed, 14, block, None, 0, 1 << 62, block, 0)
    assert len(ends) == 16 and ends[-1] == 1 << 24 and data == b"a" * (1 << 24)
    assert starts == list(itertools.accumulate([14, len(blocks[0])] + [len(blocks[1])] * 15))
    assert len(blocks[1]) == 18
    assert np.frombuffer(freqs, dtype=np.uint32)[ord("a")] == 1 << 12 and precision == 12
    assert huffkit.decompress(packed) == b"a" * (40 * block)


@needs_c
@pytest.mark.parametrize("blocks", [4096, 4097, 5000, 9000])
def test_the_kernel_takes_a_run_in_calls_of_at_most_4096_blocks(blocks):
    """And the next call goes on with the table it was handed back."""
    packed = (frame_header(1, version=2, flags=0x02) + one_symbol_block(1)
              + one_symbol_block(1, kind=REUSE) * (blocks - 1) + frame_end(blocks, version=2))
    first = compiled.decode_ans_run(packed, 14, 1, None, 0, 1 << 62, 1, 0)
    assert first[0] == b"a" * 4096 and len(first[2]) == 4096
    rest = compiled.decode_ans_run(packed, first[1][-1], 1, first[3], first[4], 1 << 62, 1,
                                   4096)
    if blocks == 4096:
        assert rest is None  # the frame end, which the reference reads
    else:
        assert rest[0] == b"a" * min(blocks - 4096, 4096)
    assert compiled.decode_ans_run(packed, first[1][-1], 1, None, 0, 1 << 62, 1, 4096) is None
    assert huffkit.decompress(packed) == b"a" * blocks


@needs_c
def test_the_kernels_arguments_out_of_range_are_a_value_error():
    packed = ans_frame(ans_block(b"abracadabra", version=2), version=2)
    with pytest.raises(ValueError, match="previous must be 256 uint32 frequencies"):
        compiled.decode_ans_run(packed, 14, 11, bytes(255 * 4), 12, 99, 99, 0)
    with pytest.raises(ValueError, match="previous must be 256 uint32 frequencies"):
        compiled.decode_ans_run(packed, 14, 11, bytes(1024), 25, 99, 99, 0)
    with pytest.raises(ValueError, match=r"previous frequencies do not sum to 2\*\*precision"):
        compiled.decode_ans_run(packed, 14, 11, bytes(1024), 12, 99, 99, 0)
    for pos, block_size, before in [(-1, 11, 0), (len(packed) + 1, 11, 0), (14, 0, 0),
                                    (14, 11, -1)]:
        with pytest.raises(ValueError, match="pos, before or block_size is out of range"):
            compiled.decode_ans_run(packed, pos, block_size, None, 0, 99, 99, before)
    assert compiled.decode_ans_run(packed, len(packed), 11, None, 0, 99, 99, 0) is None
    assert compiled.decode_ans_run(packed, 14, 11, None, 0, 99, 10, 0) is None  # > largest
    run = compiled.decode_ans_run(packed, 14, 11, None, 0, 99, 11, 0)
    assert run[0] == b"abracadabra" and run[1] == [14, len(packed)]


def test_the_numpy_backend_has_no_run_kernel():
    from huffkit.kernels import reference
    assert reference.decode_ans_run(b"", 0, 1, None, 0, 1, 1, 0) is None


def test_version1_frames_go_block_by_block(monkeypatch):
    """The run kernel reads version 2's fields only: a version-1 frame never reaches it, and
    decodes block by block as before."""
    def refuse(*arguments):
        raise AssertionError("the run kernel was given a version-1 frame")

    monkeypatch.setattr(backend.kernels, "decode_ans_run", refuse)
    pieces, kinds = [b"abcab", b"cab"], [OWN, REUSE]
    table = own_table(b"abcab")
    blocks = [ans_block(piece, table, block_type=kind) for piece, kind in zip(pieces, kinds,
                                                                             strict=True)]
    packed = ans_frame(*blocks, block_size=5)
    assert packed[4] == 1 and huffkit.decompress(packed) == b"abcabcab"
