"""huffkit's compressed format against its written specification, FORMAT.md.

The reference decoder below is written from FORMAT.md alone (sections 1 to 10), not from
huffkit's sources, so that huffkit and the document are checked against each other: what
huffkit writes must decode under the document's rules, the worked example of section 12 must
be byte-exact, and inputs the document calls invalid must be rejected by both decoders.
It favours plain code over speed (bit-by-bit decoding), so inputs here stay small.
"""

from __future__ import annotations

import functools
import random
import zlib
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import huffkit

MAGIC = b"\x89HUF"
DEFAULT_BLOCK_SIZE = 1 << 20
MAX_BLOCK_SIZE = 1 << 26
MAX_STREAMS = 16
FOUR_STREAMS_FROM = 1 << 14  # section 11: blocks this long or longer get 4 streams
README = Path(__file__).resolve().parents[1] / "README.md"


# -- the reference decoder (FORMAT.md sections 1 to 10) --------------------------------------


class SpecViolation(Exception):
    """The input breaks the validation rule ``rule`` of section 10 (for example "C6")."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule


@dataclass
class Block:
    """What the reference decoder saw of one Huffman block."""

    symbols: int
    lengths: dict[int, int]  # byte value -> code length, for the byte values with a code
    bits: list[int]  # bits[k] of each stream, so len(bits) is the stream count
    data: bytes


@dataclass
class Frame:
    block_size: int
    blocks: list[Block]
    total_symbols: int
    size: int  # bytes, header to frame end inclusive


class _Reader:
    """Consumes the input; running out of bytes is rule S2 (the input ends inside a frame)."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.buf):
            raise SpecViolation("S2", f"need {size} bytes at offset {self.pos}")
        self.pos += size
        return self.buf[self.pos - size : self.pos]

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def bit_string(raw: bytes) -> str:
    """The bits of ``raw`` as '0'/'1' text, most significant bit of each byte first (sec. 1)."""
    return "".join(f"{byte:08b}" for byte in raw)


def canonical_codes(lengths: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Section 7: byte value -> (length, codeword), from the code lengths alone."""
    count = Counter(lengths.values())
    first_code, code = {}, 0
    for length in range(1, max(lengths.values()) + 1):
        code = (code + count[length - 1]) << 1
        first_code[length] = code
    codes = {}
    for value in sorted(lengths, key=lambda v: (lengths[v], v)):
        length = lengths[value]
        codes[value] = (length, first_code[length])
        first_code[length] += 1
    return codes


def stream_runs(n: int, stream_count: int) -> list[tuple[int, int]]:
    """Section 8: the [start, stop) symbol indexes of each stream of an n-symbol block."""
    m = ceil_div(n, stream_count)
    return [(min(k * m, n), min((k + 1) * m, n)) for k in range(stream_count)]


def parse(data: bytes) -> list[Frame]:
    """Every frame of a compressed stream, raising SpecViolation at the first fault."""
    if not data:
        raise SpecViolation("S1", "the input is empty")
    reader, frames = _Reader(data), []
    while reader.pos < len(data):
        frames.append(_parse_frame(reader, first=not frames))
    return frames


def reference_decode(data: bytes) -> bytes:
    return b"".join(block.data for frame in parse(data) for block in frame.blocks)


def _parse_frame(reader: _Reader, *, first: bool) -> Frame:
    start = reader.pos
    head = reader.buf[start : start + 4]
    if head != MAGIC[: len(head)]:  # sec. 3 allows rejecting at the first differing byte
        raise SpecViolation("H1" if first else "S3", f"no magic at offset {start}")
    header = reader.take(14)
    if int.from_bytes(header[10:14], "little") != zlib.crc32(header[:10]):
        raise SpecViolation("H2", "header_crc mismatch")
    if header[4] != 1:
        raise SpecViolation("H3", f"version {header[4]}")
    if header[5] != 0:
        raise SpecViolation("H4", f"flags {header[5]:#x}")
    block_size = int.from_bytes(header[6:10], "little")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise SpecViolation("H5", f"block_size {block_size}")

    blocks = []
    while (block_type := reader.uint(1)) != 0x00:
        if block_type != 0x01:
            raise SpecViolation("B1", f"block type {block_type:#04x}")
        blocks.append(_parse_huffman_block(reader, block_size))
    total_symbols = reader.uint(8)
    if total_symbols != sum(block.symbols for block in blocks):
        raise SpecViolation("E1", f"total_symbols {total_symbols}")
    return Frame(block_size, blocks, total_symbols, reader.pos - start)


def _parse_code_table(reader: _Reader) -> dict[int, int]:
    longest = reader.uint(1)
    if not 1 <= longest <= 31:
        raise SpecViolation("C1", f"longest {longest}")
    bitmap = bit_string(reader.take(32))
    present = [value for value in range(256) if bitmap[value] == "1"]
    width = (longest - 1).bit_length()
    packed = bit_string(reader.take(ceil_div(len(present) * width, 8)))
    if "1" in packed[len(present) * width :]:
        raise SpecViolation("C2", "non-zero padding after the packed lengths")
    if not present:
        raise SpecViolation("C3", "empty presence bitmap")
    lengths = {
        value: int(packed[i * width : (i + 1) * width], 2) + 1 if width else 1
        for i, value in enumerate(present)
    }
    if max(lengths.values()) != longest:
        raise SpecViolation("C4", f"greatest length {max(lengths.values())} != {longest}")
    if len(present) == 1 and lengths[present[0]] != 1:
        raise SpecViolation("C5", f"one-symbol code of length {lengths[present[0]]}")
    if len(present) >= 2 and sum(1 << (longest - n) for n in lengths.values()) != 1 << longest:
        raise SpecViolation("C6", "Kraft sum is not 1")
    return lengths


def _decode_stream(bits: str, decode_table: dict[tuple[int, int], int], longest: int) -> bytes:
    """Decode whole codewords bit by bit; anything else is rule D2."""
    out, code, length = bytearray(), 0, 0
    for bit in bits:
        code, length = code << 1 | (bit == "1"), length + 1
        if (length, code) in decode_table:
            out.append(decode_table[length, code])
            code, length = 0, 0
        elif length >= longest:  # only possible with the one-symbol code and a '1' bit
            raise SpecViolation("D2", "bits that begin no codeword")
    if length:
        raise SpecViolation("D2", "the stream ends inside a codeword")
    return bytes(out)


def _parse_huffman_block(reader: _Reader, block_size: int) -> Block:
    symbols = reader.uint(4)
    if not 1 <= symbols <= block_size:
        raise SpecViolation("B2", f"symbols {symbols} (block_size {block_size})")
    crc = reader.uint(4)
    lengths = _parse_code_table(reader)
    stream_count = reader.uint(1)
    if not 1 <= stream_count <= MAX_STREAMS:
        raise SpecViolation("B3", f"stream count {stream_count}")
    bits = [reader.uint(4) for _ in range(stream_count)]
    shortest, longest = min(lengths.values()), max(lengths.values())
    runs = stream_runs(symbols, stream_count)
    for k, (bit_count, (start, stop)) in enumerate(zip(bits, runs, strict=True)):
        if not shortest * (stop - start) <= bit_count <= longest * (stop - start):
            raise SpecViolation("B4", f"bits[{k}] = {bit_count} for {stop - start} symbols")
    raw_streams = [reader.take(ceil_div(bit_count, 8)) for bit_count in bits]

    decode_table = {code: value for value, code in canonical_codes(lengths).items()}
    decoded = bytearray()
    for k, (bit_count, raw, (start, stop)) in enumerate(zip(bits, raw_streams, runs, strict=True)):
        stream_bits = bit_string(raw)
        if "1" in stream_bits[bit_count:]:
            raise SpecViolation("D1", f"non-zero padding in stream {k}")
        run = _decode_stream(stream_bits[:bit_count], decode_table, longest)
        if len(run) != stop - start:
            raise SpecViolation("D3", f"stream {k} holds {len(run)} codewords, not {stop - start}")
        decoded += run
    if set(lengths) - set(decoded):
        raise SpecViolation("D4", f"coded but absent: {sorted(set(lengths) - set(decoded))}")
    if zlib.crc32(decoded) != crc:
        raise SpecViolation("D5", "block CRC mismatch")
    return Block(symbols, lengths, bits, bytes(decoded))


# -- section 11: how huffkit's encoder chooses code lengths ----------------------------------


def section11_lengths(data: bytes, max_code_length: int) -> dict[int, int]:
    """Code lengths by section 11: two-queue Huffman, leaf first on ties; else package-merge."""
    weight = Counter(data)
    if len(weight) <= 2:
        return dict.fromkeys(weight, 1)
    leaves = sorted(weight, key=lambda value: (weight[value], value))
    # A node is (weight, the byte values below it); each merge deepens those values by 1.
    leaf_queue = deque((weight[value], [value]) for value in leaves)
    merged: deque[tuple[int, list[int]]] = deque()
    depth = dict.fromkeys(leaves, 0)

    def take_lightest() -> tuple[int, list[int]]:
        if merged and (not leaf_queue or merged[0][0] < leaf_queue[0][0]):
            return merged.popleft()
        return leaf_queue.popleft()

    for _ in range(len(leaves) - 1):
        (weight_a, below_a), (weight_b, below_b) = take_lightest(), take_lightest()
        for value in below_a + below_b:
            depth[value] += 1
        merged.append((weight_a + weight_b, below_a + below_b))
    if max(depth.values()) <= max_code_length:
        return depth

    # Package-merge: each level's list holds (weight, is_leaf) items.
    leaf_items = [(weight[value], True) for value in leaves]
    levels = {max_code_length: leaf_items}
    for level in range(max_code_length - 1, 0, -1):
        deeper = levels[level + 1]
        packages = [(deeper[i][0] + deeper[i + 1][0], False) for i in range(0, len(deeper) - 1, 2)]
        levels[level] = sorted(leaf_items + packages, key=lambda item: item[0])  # stable
    leaves_selected, take = [], 2 * len(leaves) - 2
    for level in range(1, max_code_length + 1):
        leaf_count = sum(is_leaf for _, is_leaf in levels[level][:take])
        leaves_selected.append(leaf_count)
        take = 2 * (take - leaf_count)
    return {value: sum(count > i for count in leaves_selected) for i, value in enumerate(leaves)}


def min_code_length(data: bytes) -> int:
    """The smallest max_code_length able to code ``data`` (2^L >= distinct byte values)."""
    return max(1, (len(set(data)) - 1).bit_length())


def check_encoder_choices(data: bytes, packed: bytes, block_size: int, max_code_length: int):
    """Section 11's observable choices, seen through the reference parser."""
    (frame,) = parse(packed)  # one frame per call
    assert frame.block_size == block_size
    # Cut at exactly block_size bytes, the last block holding the rest.
    assert [block.data for block in frame.blocks] == [
        data[i : i + block_size] for i in range(0, len(data), block_size)
    ]
    for block in frame.blocks:
        assert len(block.bits) == (4 if block.symbols >= FOUR_STREAMS_FROM else 1)
        assert max(block.lengths.values()) <= max_code_length
        assert block.lengths == section11_lengths(block.data, max_code_length)
    if not data:
        assert len(packed) == 23


# -- section 12: the worked example -----------------------------------------------------------

ABRACADABRA_HEX = """
89 48 55 46 01 00 00 00 10 00 b7 97 53 27 01 0b
00 00 00 b7 f9 ea 17 03 00 00 00 00 00 00 00 00
00 00 00 00 78 00 20 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 2a 80 01 17 00 00 00 4e
ac 9c 00 0b 00 00 00 00 00 00 00
"""
GOLDEN = bytes.fromhex(ABRACADABRA_HEX)


def test_golden_vector_bytes():
    assert len(GOLDEN) == 75
    assert huffkit.compress(b"abracadabra") == GOLDEN


def test_golden_vector_decodes_as_the_table_says():
    (frame,) = parse(GOLDEN)
    (block,) = frame.blocks
    assert reference_decode(GOLDEN) == b"abracadabra"
    assert frame.block_size == DEFAULT_BLOCK_SIZE and frame.total_symbols == 11
    assert zlib.crc32(GOLDEN[:10]) == 0x275397B7 == int.from_bytes(GOLDEN[10:14], "little")
    assert zlib.crc32(b"abracadabra") == 0x17EAF9B7
    assert block.bits == [23]
    codes = {chr(value): code for value, code in canonical_codes(block.lengths).items()}
    assert codes == {"a": (1, 0b0), "b": (3, 0b100), "c": (3, 0b101), "d": (3, 0b110),
                     "r": (3, 0b111)}
    assert block.lengths == section11_lengths(b"abracadabra", 15)


# -- agreement: huffkit output decodes under the document's rules ----------------------------


def _fibonacci_data(symbols: int) -> bytes:
    """Counts 1, 1, 2, 3, 5, ...: the most skewed counts, whose Huffman code is deepest."""
    counts = [1, 1]
    while len(counts) < symbols:
        counts.append(counts[-1] + counts[-2])
    data = bytearray(b"".join(bytes([value]) * count for value, count in enumerate(counts)))
    random.Random(symbols).shuffle(data)
    return bytes(data)


INPUTS = {
    "empty": b"",
    "one-byte": b"x",
    "one-repeated-byte": b"z" * 1000,
    "two-symbols": b"ab" * 300 + b"b",
    "all-256-values": bytes(range(256)),
    "readme": README.read_bytes(),
    "readme-head": README.read_bytes()[:700],
    "random-20k": random.Random(1).randbytes(20_000),
    "fibonacci-20": _fibonacci_data(20),  # 17 710 bytes, unlimited depth 19
    "fibonacci-12": _fibonacci_data(12),
    "one-symbol-16384": b"\x00" * FOUR_STREAMS_FROM,
    "two-symbols-16383": b"\x01\x02" * 8191 + b"\x01",
}

AGREEMENT_CASES = [
    ("empty", DEFAULT_BLOCK_SIZE, 15),
    ("empty", 1, 1),
    ("one-byte", DEFAULT_BLOCK_SIZE, 15),
    ("one-byte", 1, 1),
    ("one-repeated-byte", DEFAULT_BLOCK_SIZE, 1),
    ("one-repeated-byte", 7, 15),
    ("two-symbols", DEFAULT_BLOCK_SIZE, 1),
    ("two-symbols", 2, 15),
    ("all-256-values", DEFAULT_BLOCK_SIZE, 8),
    ("all-256-values", 100, 15),
    ("readme", DEFAULT_BLOCK_SIZE, 15),
    ("readme", 1000, 9),
    ("readme", 4096, 31),
    ("readme-head", 1, 15),
    ("readme-head", 7, 15),
    ("random-20k", DEFAULT_BLOCK_SIZE, 15),
    ("random-20k", FOUR_STREAMS_FROM, 8),
    ("random-20k", FOUR_STREAMS_FROM - 1, 15),
    ("fibonacci-20", DEFAULT_BLOCK_SIZE, 15),
    ("fibonacci-20", DEFAULT_BLOCK_SIZE, 31),
    ("fibonacci-20", DEFAULT_BLOCK_SIZE, 5),
    ("fibonacci-20", 5000, 7),
    ("fibonacci-12", 64, 4),
    ("fibonacci-12", 377, 6),
    ("one-symbol-16384", DEFAULT_BLOCK_SIZE, 15),
    ("two-symbols-16383", DEFAULT_BLOCK_SIZE, 15),
]


@functools.cache
def _compressed(name: str, block_size: int, max_code_length: int) -> bytes:
    return huffkit.compress(INPUTS[name], block_size=block_size, max_code_length=max_code_length)


@pytest.mark.parametrize(("name", "block_size", "max_code_length"), AGREEMENT_CASES,
                         ids=[f"{n}-bs{b}-L{m}" for n, b, m in AGREEMENT_CASES])
def test_reference_decodes_huffkit_output(name, block_size, max_code_length):
    assert reference_decode(_compressed(name, block_size, max_code_length)) == INPUTS[name]


@pytest.mark.parametrize(("name", "block_size", "max_code_length"), AGREEMENT_CASES,
                         ids=[f"{n}-bs{b}-L{m}" for n, b, m in AGREEMENT_CASES])
def test_encoder_choices_of_section_11(name, block_size, max_code_length):
    packed = _compressed(name, block_size, max_code_length)
    check_encoder_choices(INPUTS[name], packed, block_size, max_code_length)


def test_stream_count_switches_at_16384_symbols():
    for size, streams in [(FOUR_STREAMS_FROM - 1, 1), (FOUR_STREAMS_FROM, 4)]:
        (frame,) = parse(huffkit.compress(INPUTS["random-20k"][:size]))
        assert [len(block.bits) for block in frame.blocks] == [streams]


def test_concatenated_frames():
    parts = [INPUTS["readme-head"], b"", b"z" * 50, bytes(range(256))]
    packed = b"".join(
        huffkit.compress(part, block_size=block_size)
        for part, block_size in zip(parts, [7, 1, 16, DEFAULT_BLOCK_SIZE], strict=True)
    )
    assert [frame.block_size for frame in parse(packed)] == [7, 1, 16, DEFAULT_BLOCK_SIZE]
    assert reference_decode(packed) == b"".join(parts) == huffkit.decompress(packed)


@given(data=st.binary(max_size=3000), block_size=st.integers(1, 4000),
       max_code_length=st.integers(1, 31))
def test_property_reference_decodes_huffkit_output(data, block_size, max_code_length):
    max_code_length = max(max_code_length, min_code_length(data))
    packed = huffkit.compress(data, block_size=block_size, max_code_length=max_code_length)
    assert reference_decode(packed) == data
    check_encoder_choices(data, packed, block_size, max_code_length)


@given(counts=st.dictionaries(st.integers(0, 255), st.integers(1, 400), min_size=1, max_size=40),
       max_code_length=st.integers(1, 12))
def test_property_skewed_counts_and_length_limit(counts, max_code_length):
    """Wide-ranging counts with a tight limit, so that package-merge is exercised often."""
    data = b"".join(bytes([value]) * count for value, count in counts.items())
    max_code_length = max(max_code_length, min_code_length(data))
    packed = huffkit.compress(data, max_code_length=max_code_length)
    assert reference_decode(packed) == data
    check_encoder_choices(data, packed, DEFAULT_BLOCK_SIZE, max_code_length)


@given(parts=st.lists(st.binary(max_size=300), min_size=1, max_size=4),
       block_size=st.integers(1, 400))
def test_property_concatenated_frames(parts, block_size):
    packed = b"".join(huffkit.compress(part, block_size=block_size) for part in parts)
    assert len(parse(packed)) == len(parts)
    assert reference_decode(packed) == b"".join(parts) == huffkit.decompress(packed)


# -- building hand-made streams, valid or not --------------------------------------------------


def u32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def pack_bits(bits: str) -> bytes:
    """'0'/'1' text to bytes, most significant bit first, zero-padded to whole bytes."""
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i : i + 8], 2) for i in range(0, len(bits), 8))


def patch(raw: bytes, offset: int, value: int) -> bytes:
    return raw[:offset] + bytes([value]) + raw[offset + 1 :]


def frame_header(block_size: int = DEFAULT_BLOCK_SIZE, *, magic: bytes = MAGIC, version: int = 1,
                 flags: int = 0, crc: int | None = None) -> bytes:
    """A frame header whose CRC is right unless ``crc`` says otherwise."""
    body = magic + bytes([version, flags]) + u32(block_size)
    return body + u32(zlib.crc32(body) if crc is None else crc)


def frame_end(total_symbols: int) -> bytes:
    return b"\x00" + total_symbols.to_bytes(8, "little")


def code_table(lengths: dict[int, int], *, longest: int | None = None, padding: str = "") -> bytes:
    longest = max(lengths.values()) if longest is None else longest
    width = (longest - 1).bit_length()
    assert all(length - 1 < 1 << width for length in lengths.values())
    bitmap = "".join("1" if value in lengths else "0" for value in range(256))
    stored = [lengths[value] - 1 for value in sorted(lengths)]
    packed = "".join(f"{value:0{width}b}" for value in stored) if width else ""
    return bytes([longest]) + pack_bits(bitmap) + pack_bits(packed + padding)


def encode(data: bytes, lengths: dict[int, int]) -> str:
    codes = canonical_codes(lengths)
    return "".join(f"{codes[value][1]:0{codes[value][0]}b}" for value in data)


def huffman_block(data: bytes, lengths: dict[int, int] | None = None, *, streams: int = 1,
                  symbols: int | None = None, crc: int | None = None, table: bytes | None = None,
                  stream_count: int | None = None, bits: list[int] | None = None,
                  stream_bits: list[str] | None = None) -> bytes:
    """A Huffman block coding ``data``; each keyword overrides one field to break one rule.

    ``stream_bits`` replaces the streams' bit strings (padding beyond ``bits[k]`` included).
    """
    lengths = section11_lengths(data, 31) if lengths is None else lengths
    if stream_bits is None:
        stream_bits = [encode(data[a:b], lengths) for a, b in stream_runs(len(data), streams)]
    bits = [len(text) for text in stream_bits] if bits is None else bits
    return (b"\x01" + u32(len(data) if symbols is None else symbols)
            + u32(zlib.crc32(data) if crc is None else crc)
            + (code_table(lengths) if table is None else table)
            + bytes([len(stream_bits) if stream_count is None else stream_count])
            + b"".join(u32(count) for count in bits)
            + b"".join(pack_bits(text) for text in stream_bits))


def frame(*blocks: bytes, block_size: int = DEFAULT_BLOCK_SIZE, total: int | None = None) -> bytes:
    """A whole frame; total_symbols defaults to the sum of the blocks' symbols fields."""
    if total is None:
        total = sum(int.from_bytes(block[1:5], "little") for block in blocks)
    return frame_header(block_size) + b"".join(blocks) + frame_end(total)


A, B, C, D, E = b"abcde"
LONGEST_31 = {value: min(value + 1, 31) for value in range(32)}  # lengths 1, 2, ..., 31, 31


# -- hand-made valid streams: decoders MUST accept them (section 11, second paragraph) --------

VALID_CASES = [
    pytest.param(frame(huffman_block(b"hello", streams=4)), b"hello", id="5-symbols-4-streams"),
    pytest.param(frame(huffman_block(b"abc", streams=16)), b"abc", id="3-symbols-16-streams"),
    pytest.param(frame(huffman_block(b"aaaaaaabcd", {A: 2, B: 2, C: 2, D: 2})), b"aaaaaaabcd",
                 id="non-optimal-code"),
    pytest.param(frame(huffman_block(bytes(range(32)) * 2, LONGEST_31)), bytes(range(32)) * 2,
                 id="code-lengths-up-to-31"),
    pytest.param(frame(huffman_block(b"abc"), huffman_block(b"dd"), huffman_block(b"e"),
                       block_size=8), b"abcdde", id="blocks-shorter-than-block-size"),
    pytest.param(frame(block_size=1) + frame(huffman_block(b"q"), block_size=MAX_BLOCK_SIZE),
                 b"q", id="empty-frame-then-max-block-size"),
    pytest.param(frame(huffman_block(b"aaa", streams=2)), b"aaa", id="one-symbol-2-streams"),
]


@pytest.mark.parametrize(("packed", "expected"), VALID_CASES)
def test_hand_made_valid_streams(packed, expected):
    assert reference_decode(packed) == expected
    assert huffkit.decompress(packed) == expected


# -- rejection: one hand-made fault per rule of section 10 -------------------------------------

GOLDEN_BLOCK = GOLDEN[14:66]
GOLDEN_LENGTHS = {A: 1, B: 3, C: 3, D: 3, ord("r"): 3}
GOLDEN_BITS = encode(b"abracadabra", GOLDEN_LENGTHS)
ABC_LENGTHS = {A: 1, B: 2, C: 2}  # codewords a = 0, b = 10, c = 11

INVALID_CASES = [
    pytest.param(b"", "S1", id="S1-empty-input"),
    pytest.param(GOLDEN[:3], "S2", id="S2-inside-magic"),
    pytest.param(GOLDEN[:14], "S2", id="S2-header-only"),
    pytest.param(GOLDEN[:64], "S2", id="S2-inside-stream"),
    pytest.param(GOLDEN[:-1], "S2", id="S2-inside-frame-end"),
    pytest.param(GOLDEN + GOLDEN[:20], "S2", id="S2-second-frame-truncated"),
    pytest.param(GOLDEN + b"\x00", "S3", id="S3-trailing-zero-byte"),
    pytest.param(GOLDEN + b"junk", "S3", id="S3-trailing-garbage"),
    pytest.param(frame_header(magic=b"\x89HUG") + GOLDEN[14:], "H1", id="H1-wrong-magic"),
    pytest.param(b"plain text, not huffkit", "H1", id="H1-not-huffkit"),
    pytest.param(patch(GOLDEN, 10, GOLDEN[10] ^ 1), "H2", id="H2-header-crc"),
    pytest.param(GOLDEN + patch(GOLDEN, 13, GOLDEN[13] ^ 0x80), "H2",
                 id="H2-header-crc-second-frame"),
    pytest.param(frame_header(version=2) + GOLDEN[14:], "H3", id="H3-version-2"),
    pytest.param(frame_header(version=0) + GOLDEN[14:], "H3", id="H3-version-0"),
    pytest.param(frame_header(flags=1) + GOLDEN[14:], "H4", id="H4-flags-1"),
    pytest.param(frame_header(flags=0x80) + GOLDEN[14:], "H4", id="H4-flags-0x80"),
    pytest.param(frame_header(0) + frame_end(0), "H5", id="H5-block-size-0"),
    pytest.param(frame_header(MAX_BLOCK_SIZE + 1) + GOLDEN[14:], "H5",
                 id="H5-block-size-2^26+1"),
    pytest.param(frame(patch(huffman_block(b"abc"), 0, 0x02)), "B1", id="B1-block-type-0x02"),
    pytest.param(frame(patch(huffman_block(b"abc"), 0, 0xFF)), "B1", id="B1-block-type-0xff"),
    pytest.param(frame(huffman_block(b"ab", symbols=0)), "B2", id="B2-symbols-0"),
    pytest.param(frame(huffman_block(b"abcde"), block_size=4), "B2",
                 id="B2-symbols-above-block-size"),
    pytest.param(frame(huffman_block(b"ab", table=patch(code_table({A: 1, B: 1}), 0, 0))), "C1",
                 id="C1-longest-0"),
    pytest.param(frame(huffman_block(bytes(range(32)), LONGEST_31,
                                     table=patch(code_table(LONGEST_31), 0, 32))), "C1",
                 id="C1-longest-32"),
    pytest.param(frame(huffman_block(b"abracadabra",
                                     table=code_table(GOLDEN_LENGTHS, padding="1"))), "C2",
                 id="C2-packed-lengths-padding"),
    pytest.param(frame(huffman_block(b"a", table=bytes([1]) + bytes(32), stream_bits=["0"])),
                 "C3", id="C3-empty-bitmap"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1},
                                     table=code_table({A: 1, B: 1}, longest=2))), "C4",
                 id="C4-lengths-short-of-longest"),
    pytest.param(frame(huffman_block(b"abcde", {A: 1, B: 2, C: 3, D: 4, E: 4},
                                     table=code_table({A: 1, B: 2, C: 3, D: 4, E: 4},
                                                      longest=3))), "C4",
                 id="C4-length-above-longest"),
    pytest.param(frame(huffman_block(b"aa", {A: 2})), "C5", id="C5-one-symbol-length-2"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=code_table({A: 1, B: 1, C: 1}))),
                 "C6", id="C6-kraft-above-1"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 2})), "C6", id="C6-kraft-below-1"),
    pytest.param(frame(huffman_block(b"abc", stream_count=0, stream_bits=[])), "B3",
                 id="B3-stream-count-0"),
    pytest.param(frame(huffman_block(b"abc", streams=17)), "B3", id="B3-stream-count-17"),
    pytest.param(frame(huffman_block(b"abracadabra", bits=[10],
                                     stream_bits=[GOLDEN_BITS[:10]])), "B4",
                 id="B4-bits-below-shortest-n"),
    pytest.param(frame(huffman_block(b"abracadabra", stream_bits=[GOLDEN_BITS + "0" * 11])),
                 "B4", id="B4-bits-above-longest-n"),
    pytest.param(frame(huffman_block(b"abc", ABC_LENGTHS, streams=4,
                                     stream_bits=["0", "10", "11", "0"])), "B4",
                 id="B4-bits-in-empty-stream"),
    pytest.param(frame(huffman_block(b"abracadabra", bits=[23], stream_bits=[GOLDEN_BITS + "1"])),
                 "D1", id="D1-stream-padding"),
    pytest.param(frame(huffman_block(b"aaa", bits=[3], stream_bits=["0001"])), "D1",
                 id="D1-one-symbol-stream-padding"),
    pytest.param(frame(huffman_block(b"abc", ABC_LENGTHS, stream_bits=["0101"])), "D2",
                 id="D2-ends-inside-codeword"),
    pytest.param(frame(huffman_block(b"aaa", stream_bits=["010"])), "D2",
                 id="D2-one-symbol-stream-1-bit"),
    pytest.param(frame(huffman_block(b"abc", ABC_LENGTHS, stream_bits=["001011"])), "D3",
                 id="D3-too-many-codewords"),
    pytest.param(frame(huffman_block(b"abc", ABC_LENGTHS, stream_bits=["1011"])), "D3",
                 id="D3-too-few-codewords"),
    pytest.param(frame(huffman_block(b"aab", ABC_LENGTHS)), "D4", id="D4-coded-byte-absent"),
    pytest.param(frame(huffman_block(b"aaaa", {A: 1, B: 1})), "D4",
                 id="D4-one-symbol-bitmap-flip"),
    pytest.param(frame(huffman_block(b"abracadabra", crc=zlib.crc32(b"abracadabra") ^ 1)), "D5",
                 id="D5-crc-mismatch"),
    pytest.param(frame(GOLDEN_BLOCK, total=12), "E1", id="E1-total-too-large"),
    pytest.param(frame(GOLDEN_BLOCK, huffman_block(b"xy"), total=11), "E1",
                 id="E1-total-misses-a-block"),
    pytest.param(frame(total=1), "E1", id="E1-empty-frame-total-1"),
]

EXPECTED_ERROR = {"S1": huffkit.TruncatedError, "S2": huffkit.TruncatedError,
                  "D5": huffkit.ChecksumError}


@pytest.mark.parametrize(("packed", "rule"), INVALID_CASES)
def test_invalid_input_is_rejected_by_both(packed, rule):
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed)
    assert violation.value.rule == rule
    with pytest.raises(EXPECTED_ERROR.get(rule, huffkit.FormatError)):
        huffkit.decompress(packed)


def test_every_proper_prefix_is_truncated():
    for end in range(1, len(GOLDEN)):
        with pytest.raises(SpecViolation) as violation:
            reference_decode(GOLDEN[:end])
        assert violation.value.rule == "S2"
        with pytest.raises(huffkit.TruncatedError):
            huffkit.decompress(GOLDEN[:end])


def _outcome(decode, packed: bytes) -> bytes | None:
    """The decoded bytes, or None when the decoder rejects the input."""
    try:
        return decode(packed)
    except (SpecViolation, huffkit.FormatError):
        return None


@pytest.mark.parametrize("packed", [
    pytest.param(GOLDEN, id="abracadabra"),
    pytest.param(huffkit.compress(b"aaaabbbbbbbbc\x00\xff" * 3, block_size=20), id="three-blocks"),
    pytest.param(huffkit.compress(b"\x07" * 40, block_size=16), id="one-symbol-blocks"),
])
def test_every_bit_flip_accepted_or_rejected_alike(packed):
    """Section 10 says exactly which inputs are valid, so both decoders must agree on each."""
    for position in range(len(packed) * 8):
        damaged = patch(packed, position // 8, packed[position // 8] ^ (0x80 >> position % 8))
        assert _outcome(huffkit.decompress, damaged) == _outcome(reference_decode, damaged), (
            f"bit {position} flipped: {damaged.hex()}")
