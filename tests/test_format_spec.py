"""huffkit's compressed format against its written specification, FORMAT.md.

The reference decoder below is written from FORMAT.md alone (sections 1 to 10 and 13,
including the codebook section of 3.1 and the shared-code block of 5.1), not from huffkit's
sources, so that huffkit and the document are checked against each other: what huffkit
writes must decode under the document's rules, the worked example of section 12 must be
byte-exact, and inputs the document calls invalid must be rejected by both decoders.
It favours plain code over speed (bit-by-bit decoding), so inputs here stay small.
"""

from __future__ import annotations

import functools
import hashlib
import random
import zlib
from collections import Counter, deque
from collections.abc import Mapping, Sequence
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
FLAG_CODEBOOK = 0x01  # section 3: flags bit 0, a codebook section follows the header
HUFFMAN_BLOCK, SHARED_CODE_BLOCK = 0x01, 0x02  # section 4
EMBEDDED, REFERENCED = 1, 0  # section 3.1: the codebook section's storage byte
README = Path(__file__).resolve().parents[1] / "README.md"

#: Code lengths, as the reference decoder is given them: byte value -> length (absent or 0:
#: no code), or a sequence of the 256 lengths (a list, a Codebook's ``lengths`` array).
SuppliedCode = Mapping[int, int] | Sequence[int]


# -- the reference decoder (FORMAT.md sections 1 to 10) --------------------------------------


class SpecViolation(Exception):
    """The input breaks the validation rule ``rule`` of section 10 (for example "C6")."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule


@dataclass
class Block:
    """What the reference decoder saw of one block (Huffman or shared-code)."""

    symbols: int
    lengths: dict[int, int]  # byte value -> code length (the block's or the frame's code)
    bits: list[int]  # bits[k] of each stream, so len(bits) is the stream count
    data: bytes
    block_type: int = HUFFMAN_BLOCK


@dataclass
class CodebookSection:
    """What the reference decoder saw of a frame's codebook section (section 3.1)."""

    identifier: bytes
    storage: int  # EMBEDDED or REFERENCED
    lengths: dict[int, int]  # the frame's code: the embedded table's, or the supplied one


@dataclass
class Frame:
    block_size: int
    blocks: list[Block]
    total_symbols: int
    size: int  # bytes, header to frame end inclusive
    flags: int = 0
    codebook: CodebookSection | None = None


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


def identifier_of(lengths: Mapping[int, int]) -> bytes:
    """Section 3.1: the first 8 bytes of the SHA-256 of the 256 lengths, one byte each."""
    return hashlib.sha256(bytes(lengths.get(value, 0) for value in range(256))).digest()[:8]


def as_lengths(code: SuppliedCode) -> dict[int, int]:
    """A supplied code as byte value -> length, for the byte values with a code."""
    if isinstance(code, Mapping):
        lengths = {int(value): int(length) for value, length in code.items() if length}
    else:
        if len(code) != 256:
            raise ValueError(f"a code needs 256 lengths, not {len(code)}")
        lengths = {value: int(length) for value, length in enumerate(code) if length}
    in_range = all(0 <= value < 256 and 1 <= n <= 31 for value, n in lengths.items())
    kraft = sum(1 << (31 - n) for n in lengths.values()) if in_range else 0
    if not in_range or not (list(lengths.values()) == [1] or kraft == 1 << 31):
        raise ValueError(f"not a code section 6 allows: {lengths}")  # a caller's mistake
    return lengths


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


def parse(data: bytes, codebook: SuppliedCode | None = None) -> list[Frame]:
    """Every frame of a compressed stream, raising SpecViolation at the first fault.

    ``codebook`` is the code the decoder is given for frames that reference theirs (K5).
    """
    if not data:
        raise SpecViolation("S1", "the input is empty")
    supplied = None if codebook is None else as_lengths(codebook)
    reader, frames = _Reader(data), []
    while reader.pos < len(data):
        frames.append(_parse_frame(reader, first=not frames, supplied=supplied))
    return frames


def reference_decode(data: bytes, codebook: SuppliedCode | None = None) -> bytes:
    return b"".join(block.data for frame in parse(data, codebook) for block in frame.blocks)


def _parse_frame(reader: _Reader, *, first: bool, supplied: dict[int, int] | None) -> Frame:
    start = reader.pos
    head = reader.buf[start : start + 4]
    if head != MAGIC[: len(head)]:  # sec. 3 allows rejecting at the first differing byte
        raise SpecViolation("H1" if first else "S3", f"no magic at offset {start}")
    header = reader.take(14)
    if int.from_bytes(header[10:14], "little") != zlib.crc32(header[:10]):
        raise SpecViolation("H2", "header_crc mismatch")
    if header[4] != 1:
        raise SpecViolation("H3", f"version {header[4]}")
    flags = header[5]
    if flags & ~FLAG_CODEBOOK:
        raise SpecViolation("H4", f"flags {flags:#04x}")
    block_size = int.from_bytes(header[6:10], "little")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise SpecViolation("H5", f"block_size {block_size}")
    section = _parse_codebook_section(reader, supplied) if flags & FLAG_CODEBOOK else None

    blocks = []
    while (block_type := reader.uint(1)) != 0x00:
        if block_type == SHARED_CODE_BLOCK and section is None:
            raise SpecViolation("B5", "shared-code block in a frame without a codebook section")
        if block_type not in (HUFFMAN_BLOCK, SHARED_CODE_BLOCK):
            raise SpecViolation("B1", f"block type {block_type:#04x}")
        frame_code = section.lengths if block_type == SHARED_CODE_BLOCK else None
        blocks.append(_parse_block(reader, block_size, frame_code))
    total_symbols = reader.uint(8)
    if total_symbols != sum(block.symbols for block in blocks):  # section 4: all blocks
        raise SpecViolation("E1", f"total_symbols {total_symbols}")
    return Frame(block_size, blocks, total_symbols, reader.pos - start, flags, section)


def _parse_codebook_section(reader: _Reader, supplied: dict[int, int] | None) -> CodebookSection:
    """Section 3.1, rules K1 to K5."""
    start = reader.pos
    identifier = reader.take(8)
    storage = reader.uint(1)
    if storage not in (EMBEDDED, REFERENCED):
        raise SpecViolation("K1", f"storage {storage}")
    lengths = None
    if storage == EMBEDDED:
        try:
            lengths = _parse_code_table(reader)
        except SpecViolation as fault:
            if fault.rule == "S2":
                raise
            raise SpecViolation("K2", f"embedded code table: {fault}") from fault
    body = reader.buf[start : reader.pos]
    if reader.uint(4) != zlib.crc32(body):
        raise SpecViolation("K3", "section_crc mismatch")
    if lengths is not None:
        if identifier_of(lengths) != identifier:
            raise SpecViolation("K4", f"identifier {identifier.hex()} != "
                                      f"{identifier_of(lengths).hex()} of the embedded table")
    elif supplied is None or identifier_of(supplied) != identifier:
        raise SpecViolation("K5", f"referenced code {identifier.hex()} not given")
    else:
        lengths = supplied
    return CodebookSection(identifier, storage, lengths)


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


def _parse_block(reader: _Reader, block_size: int, frame_code: dict[int, int] | None) -> Block:
    """A Huffman block (section 5), or with ``frame_code`` a shared-code block (5.1)."""
    symbols = reader.uint(4)
    if not 1 <= symbols <= block_size:
        raise SpecViolation("B2", f"symbols {symbols} (block_size {block_size})")
    crc = reader.uint(4)
    lengths = _parse_code_table(reader) if frame_code is None else frame_code
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
    if frame_code is None and set(lengths) - set(decoded):  # D4: Huffman blocks only
        raise SpecViolation("D4", f"coded but absent: {sorted(set(lengths) - set(decoded))}")
    if zlib.crc32(decoded) != crc:
        raise SpecViolation("D5", "block CRC mismatch")
    block_type = HUFFMAN_BLOCK if frame_code is None else SHARED_CODE_BLOCK
    return Block(symbols, lengths, bits, bytes(decoded), block_type)


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
    assert frame.flags == 0 and frame.codebook is None  # no codebook, no codebook section
    _check_blocks_cut(data, frame, block_size)
    for block in frame.blocks:
        assert block.block_type == HUFFMAN_BLOCK
        assert max(block.lengths.values()) <= max_code_length
        assert block.lengths == section11_lengths(block.data, max_code_length)
    if not data:
        assert len(packed) == 23


def _check_blocks_cut(data: bytes, frame: Frame, block_size: int) -> None:
    assert frame.block_size == block_size
    # Cut at exactly block_size bytes, the last block holding the rest.
    assert [block.data for block in frame.blocks] == [
        data[i : i + block_size] for i in range(0, len(data), block_size)
    ]
    for block in frame.blocks:
        assert len(block.bits) == (4 if block.symbols >= FOUR_STREAMS_FROM else 1)


def check_codebook_choices(data: bytes, packed: bytes, block_size: int,
                           codebook: huffkit.Codebook, embed: bool):
    """Section 11, "Codebooks": flag bit 0, a codebook section, only shared-code blocks."""
    lengths = as_lengths(codebook.lengths)
    (frame,) = parse(packed, lengths)  # one frame per call
    assert frame.flags == FLAG_CODEBOOK
    assert frame.codebook is not None
    assert frame.codebook.storage == (EMBEDDED if embed else REFERENCED)
    assert frame.codebook.identifier == identifier_of(lengths) == bytes.fromhex(codebook.identifier)
    assert frame.codebook.lengths == lengths
    _check_blocks_cut(data, frame, block_size)
    assert all(block.block_type == SHARED_CODE_BLOCK for block in frame.blocks)


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
                  stream_bits: list[str] | None = None, block_type: int = HUFFMAN_BLOCK) -> bytes:
    """A Huffman block coding ``data``; each keyword overrides one field to break one rule.

    ``stream_bits`` replaces the streams' bit strings (padding beyond ``bits[k]`` included).
    """
    lengths = section11_lengths(data, 31) if lengths is None else lengths
    if stream_bits is None:
        stream_bits = [encode(data[a:b], lengths) for a, b in stream_runs(len(data), streams)]
    bits = [len(text) for text in stream_bits] if bits is None else bits
    return (bytes([block_type]) + u32(len(data) if symbols is None else symbols)
            + u32(zlib.crc32(data) if crc is None else crc)
            + (code_table(lengths) if table is None else table)
            + bytes([len(stream_bits) if stream_count is None else stream_count])
            + b"".join(u32(count) for count in bits)
            + b"".join(pack_bits(text) for text in stream_bits))


def shared_block(data: bytes, lengths: dict[int, int], **fields) -> bytes:
    """A shared-code block (section 5.1) coding ``data`` with the frame's code ``lengths``."""
    return huffman_block(data, lengths, table=b"", block_type=SHARED_CODE_BLOCK, **fields)


def codebook_section(lengths: dict[int, int], *, storage: int = EMBEDDED,
                     identifier: bytes | None = None, table: bytes | None = None,
                     crc: int | None = None) -> bytes:
    """A codebook section (section 3.1) naming ``lengths``, with every check passing unless
    a keyword overrides a field. A table follows the storage byte unless storage is 0."""
    if table is None:
        table = b"" if storage == REFERENCED else code_table(lengths)
    body = (identifier_of(lengths) if identifier is None else identifier) + bytes([storage]) + table
    return body + u32(zlib.crc32(body) if crc is None else crc)


def frame(*blocks: bytes, block_size: int = DEFAULT_BLOCK_SIZE, total: int | None = None,
          section: bytes | None = None, flags: int | None = None) -> bytes:
    """A whole frame; total_symbols defaults to the sum of the blocks' symbols fields, and
    flags to bit 0 exactly when a codebook ``section`` is given."""
    if total is None:
        total = sum(int.from_bytes(block[1:5], "little") for block in blocks)
    if flags is None:
        flags = 0 if section is None else FLAG_CODEBOOK
    return (frame_header(block_size, flags=flags) + (section or b"") + b"".join(blocks)
            + frame_end(total))


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
    pytest.param(frame_header(flags=0x02) + GOLDEN[14:], "H4", id="H4-flags-0x02"),
    pytest.param(frame_header(flags=0x80) + GOLDEN[14:], "H4", id="H4-flags-0x80"),
    pytest.param(frame_header(0) + frame_end(0), "H5", id="H5-block-size-0"),
    pytest.param(frame_header(MAX_BLOCK_SIZE + 1) + GOLDEN[14:], "H5",
                 id="H5-block-size-2^26+1"),
    pytest.param(frame(patch(huffman_block(b"abc"), 0, 0x03)), "B1", id="B1-block-type-0x03"),
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
                  "D5": huffkit.ChecksumError, "K5": huffkit.CodebookError}


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
    except (SpecViolation, huffkit.HuffmanError):  # FormatError, or CodebookError (K5)
        return None


#: A small code built from other data: codes for bytes absent from b"abracadabra".
SMALL_CODEBOOK = huffkit.Codebook.from_distribution(
    huffkit.Distribution.from_bytes(b"abracadabra, said the cat"))
SEVEN_ONLY = [0] * 7 + [1] + [0] * 248


@pytest.mark.parametrize(("packed", "codebook"), [
    pytest.param(GOLDEN, None, id="abracadabra"),
    pytest.param(huffkit.compress(b"aaaabbbbbbbbc\x00\xff" * 3, block_size=20), None,
                 id="three-blocks"),
    pytest.param(huffkit.compress(b"\x07" * 40, block_size=16), None, id="one-symbol-blocks"),
    pytest.param(huffkit.compress(b"abracadabra" * 2, block_size=12, codebook=SMALL_CODEBOOK),
                 None, id="codebook-embedded"),
    pytest.param(huffkit.compress(b"abracadabra" * 2, block_size=12, codebook=SMALL_CODEBOOK,
                                  embed_codebook=False), SMALL_CODEBOOK,
                 id="codebook-referenced"),
    pytest.param(huffkit.compress(b"\x07" * 40, block_size=16,
                                  codebook=huffkit.Codebook.from_lengths(SEVEN_ONLY)), None,
                 id="one-symbol-codebook-embedded"),
])
def test_every_bit_flip_accepted_or_rejected_alike(packed, codebook):
    """Section 10 says exactly which inputs are valid, so both decoders must agree on each."""
    lengths = None if codebook is None else codebook.lengths
    for position in range(len(packed) * 8):
        damaged = patch(packed, position // 8, packed[position // 8] ^ (0x80 >> position % 8))
        assert (_outcome(functools.partial(huffkit.decompress, codebook=codebook), damaged)
                == _outcome(functools.partial(reference_decode, codebook=lengths), damaged)), (
            f"bit {position} flipped: {damaged.hex()}")


# -- codebooks (sections 3.1, 5.1 and 11): huffkit output under the document's rules ----------


def _one_symbol_codebook(value: int) -> huffkit.Codebook:
    lengths = [0] * 256
    lengths[value] = 1
    return huffkit.Codebook.from_lengths(lengths)


def _model(data: bytes, alpha: float = 0.5, max_code_length: int | None = 15) -> huffkit.Codebook:
    """A codebook built from other data: codes for every byte value, mismatched to the input."""
    distribution = huffkit.Distribution.from_bytes(data).smoothed(alpha)
    return huffkit.Codebook.from_distribution(distribution, max_code_length=max_code_length)


CODEBOOKS = {
    "readme-smoothed": lambda: _model(README.read_bytes()),
    "random-smoothed-L9": lambda: _model(random.Random(2).randbytes(5000), max_code_length=9),
    # Skewed counts and a tiny alpha: lengths up to the 20s, so 5-bit packed lengths.
    "skewed-smoothed-L31": lambda: _model(_fibonacci_data(14), alpha=0.01, max_code_length=31),
    # The exact code of fibonacci-20 (depth 19): no code for byte values 20 to 255.
    "fibonacci-20-exact": lambda: huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(INPUTS["fibonacci-20"]), max_code_length=None),
    "z-only": lambda: _one_symbol_codebook(ord("z")),
    "zero-only": lambda: _one_symbol_codebook(0),
}


@functools.cache
def _codebook(name: str) -> huffkit.Codebook:
    return CODEBOOKS[name]()


CODEBOOK_CASES = [
    ("empty", "readme-smoothed", DEFAULT_BLOCK_SIZE, True),
    ("empty", "z-only", 1, False),
    ("one-byte", "readme-smoothed", 1, True),
    ("one-repeated-byte", "z-only", DEFAULT_BLOCK_SIZE, True),
    ("one-repeated-byte", "z-only", 7, False),
    ("one-repeated-byte", "readme-smoothed", 300, True),
    ("two-symbols", "readme-smoothed", 2, False),
    ("all-256-values", "readme-smoothed", 100, True),
    ("all-256-values", "skewed-smoothed-L31", DEFAULT_BLOCK_SIZE, False),
    ("readme", "readme-smoothed", DEFAULT_BLOCK_SIZE, True),
    ("readme", "readme-smoothed", DEFAULT_BLOCK_SIZE, False),
    ("readme", "random-smoothed-L9", 1000, True),
    ("readme-head", "skewed-smoothed-L31", 7, True),
    ("random-20k", "random-smoothed-L9", DEFAULT_BLOCK_SIZE, True),  # 4 streams
    ("random-20k", "readme-smoothed", FOUR_STREAMS_FROM, False),  # 4 streams, then 1
    ("random-20k", "random-smoothed-L9", FOUR_STREAMS_FROM - 1, False),
    ("fibonacci-20", "fibonacci-20-exact", DEFAULT_BLOCK_SIZE, True),  # 4 streams, depth 19
    ("fibonacci-12", "fibonacci-20-exact", 64, False),  # codes for absent bytes, deep codes
    ("one-symbol-16384", "zero-only", DEFAULT_BLOCK_SIZE, True),  # one-symbol code, 4 streams
    ("one-symbol-16384", "zero-only", 5000, False),
    ("two-symbols-16383", "readme-smoothed", DEFAULT_BLOCK_SIZE, True),
]


@functools.cache
def _compressed_with_codebook(name: str, codebook: str, block_size: int, embed: bool) -> bytes:
    return huffkit.compress(INPUTS[name], block_size=block_size, codebook=_codebook(codebook),
                            embed_codebook=embed)


def _supplied(lengths: dict[int, int] | None) -> huffkit.Codebook | None:
    """The same code as a huffkit Codebook, for ``huffkit.decompress(..., codebook=)``."""
    if lengths is None:
        return None
    return huffkit.Codebook.from_lengths([lengths.get(value, 0) for value in range(256)])


@pytest.mark.parametrize(("name", "codebook", "block_size", "embed"), CODEBOOK_CASES,
                         ids=[f"{n}-{c}-bs{b}-{'embedded' if e else 'referenced'}"
                              for n, c, b, e in CODEBOOK_CASES])
def test_reference_decodes_codebook_frames(name, codebook, block_size, embed):
    data, packed = INPUTS[name], _compressed_with_codebook(name, codebook, block_size, embed)
    lengths = as_lengths(_codebook(codebook).lengths)
    # An embedded code needs nothing from outside; a referenced one is supplied.
    assert reference_decode(packed, None if embed else lengths) == data
    assert huffkit.decompress(packed, codebook=None if embed else _codebook(codebook)) == data
    check_codebook_choices(data, packed, block_size, _codebook(codebook), embed)
    # Section 11 fixes every byte: header, section, shared-code blocks in 1 or 4 streams.
    storage = EMBEDDED if embed else REFERENCED
    assert packed == (
        frame_header(block_size, flags=FLAG_CODEBOOK) + codebook_section(lengths, storage=storage)
        + b"".join(shared_block(data[i : i + block_size], lengths,
                                streams=4 if len(data[i : i + block_size]) >= FOUR_STREAMS_FROM
                                else 1)
                   for i in range(0, len(data), block_size))
        + frame_end(len(data)))
    if not embed:  # K5: without the code the frame is not decoded at all
        with pytest.raises(SpecViolation) as violation:
            reference_decode(packed)
        assert violation.value.rule == "K5"
        with pytest.raises(huffkit.CodebookError):
            huffkit.decompress(packed)


def test_codebook_identifier_is_sha256_of_the_lengths():
    for name in CODEBOOKS:
        codebook = _codebook(name)
        digest = hashlib.sha256(bytes(int(length) for length in codebook.lengths)).digest()
        assert codebook.identifier == digest[:8].hex() == identifier_of(
            as_lengths(codebook.lengths)).hex()


def test_codebook_frame_storage_defaults_to_embedded():
    codebook = _codebook("readme-smoothed")
    for kwargs, storage in [({}, EMBEDDED), ({"embed_codebook": True}, EMBEDDED),
                            ({"embed_codebook": False}, REFERENCED)]:
        packed = huffkit.compress(b"hello", codebook=codebook, **kwargs)
        assert packed[5] == FLAG_CODEBOOK and packed[14 + 8] == storage
        (frame,) = parse(packed, codebook.lengths)
        assert frame.codebook.storage == storage


def test_codebook_refuses_data_it_cannot_code():
    """Section 11: a byte the codebook has no code for is refused before anything is written."""
    with pytest.raises(huffkit.CodebookError):
        huffkit.compress(b"zzzy", codebook=_codebook("z-only"))


@given(data=st.binary(max_size=2000), other=st.binary(max_size=2000),
       alpha=st.sampled_from([0.01, 0.5, 1]), block_size=st.integers(1, 2500),
       max_code_length=st.integers(8, 31), embed=st.booleans())
def test_property_codebook_from_other_data(data, other, alpha, block_size, max_code_length,
                                           embed):
    codebook = _model(other, alpha, max_code_length)
    packed = huffkit.compress(data, block_size=block_size, codebook=codebook,
                              embed_codebook=embed)
    lengths = as_lengths(codebook.lengths)
    assert reference_decode(packed, None if embed else lengths) == data
    assert huffkit.decompress(packed, codebook=codebook) == data
    check_codebook_choices(data, packed, block_size, codebook, embed)


@given(data=st.binary(max_size=600), other=st.binary(min_size=1, max_size=600),
       block_size=st.integers(1, 700), embed=st.booleans())
def test_property_unsmoothed_codebook(data, other, block_size, embed):
    """A model of ``other + data``, unsmoothed: small supports, one-symbol codes, absent bytes."""
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(other + data))
    packed = huffkit.compress(data, block_size=block_size, codebook=codebook,
                              embed_codebook=embed)
    assert reference_decode(packed, None if embed else codebook.lengths) == data
    check_codebook_choices(data, packed, block_size, codebook, embed)


# -- codebooks: hand-made valid and invalid frames --------------------------------------------

CB = {A: 1, B: 2, C: 3, D: 3}  # a frame code: a = 0, b = 10, c = 110, d = 111
OTHER = {A: 2, B: 2, C: 2, D: 2}  # another code for the same bytes, another identifier
ONE_A = {A: 1}  # the one-symbol code


def embedded(lengths: dict[int, int], **fields) -> bytes:
    return codebook_section(lengths, storage=EMBEDDED, **fields)


def referenced(lengths: dict[int, int], **fields) -> bytes:
    return codebook_section(lengths, storage=REFERENCED, **fields)


def bad_crc(section: bytes) -> bytes:
    """The section with its section_crc off by one bit."""
    return section[:-4] + u32(int.from_bytes(section[-4:], "little") ^ 1)


def cb_frame(*blocks: bytes, section: bytes | None = None, **fields) -> bytes:
    """A frame with a codebook section, by default the embedded code CB."""
    return frame(*blocks, section=embedded(CB) if section is None else section, **fields)


MIXED_BLOCKS = (huffman_block(b"xyz"), shared_block(b"abca", CB), huffman_block(b"qq"),
                shared_block(b"dd", CB))

CODEBOOK_VALID_CASES = [
    # Flag bit 0 with Huffman blocks only: legal, though huffkit's encoder never writes it.
    pytest.param(cb_frame(huffman_block(b"hello")), None, b"hello",
                 id="flag-set-only-huffman-blocks"),
    pytest.param(cb_frame(huffman_block(b"hello"), section=referenced(CB)), CB, b"hello",
                 id="flag-set-referenced-only-huffman-blocks"),
    pytest.param(cb_frame(*MIXED_BLOCKS, block_size=4), None, b"xyzabcaqqdd",
                 id="mixed-huffman-and-shared-blocks"),
    pytest.param(cb_frame(*MIXED_BLOCKS, section=referenced(CB)), CB, b"xyzabcaqqdd",
                 id="mixed-huffman-and-shared-blocks-referenced"),
    pytest.param(cb_frame(), None, b"", id="codebook-frame-without-blocks"),
    pytest.param(cb_frame(section=referenced(CB)), CB, b"",
                 id="referenced-frame-without-blocks"),
    pytest.param(cb_frame(shared_block(b"aab", CB)), None, b"aab",
                 id="shared-block-codes-absent-bytes"),  # no D4 for shared-code blocks
    pytest.param(cb_frame(shared_block(b"abc", CB), block_size=3), None, b"abc",
                 id="shared-block-of-block-size"),
    pytest.param(cb_frame(shared_block(b"abcda", CB, streams=4)), None, b"abcda",
                 id="shared-5-symbols-4-streams"),
    pytest.param(cb_frame(shared_block(b"abc", CB, streams=16)), None, b"abc",
                 id="shared-3-symbols-16-streams"),
    pytest.param(cb_frame(shared_block(b"aaa", ONE_A, streams=2), section=embedded(ONE_A)), None,
                 b"aaa", id="shared-one-symbol-code-2-streams"),
    pytest.param(cb_frame(shared_block(bytes(range(32)) * 2, LONGEST_31),
                          shared_block(b"\x00\x1f", LONGEST_31),
                          section=embedded(LONGEST_31)), None,
                 bytes(range(32)) * 2 + b"\x00\x1f", id="shared-code-lengths-up-to-31"),
    pytest.param(GOLDEN + cb_frame(shared_block(b"abc", CB)), None, b"abracadabraabc",
                 id="plain-frame-then-codebook-frame"),
    pytest.param(cb_frame(shared_block(b"ab", CB))
                 + cb_frame(shared_block(b"ab", OTHER), section=embedded(OTHER)), None, b"abab",
                 id="two-frames-two-embedded-codes"),
    pytest.param(cb_frame(shared_block(b"ab", CB), section=referenced(CB))
                 + cb_frame(shared_block(b"cd", CB), section=referenced(CB)), CB, b"abcd",
                 id="two-referenced-frames"),
    pytest.param(cb_frame(shared_block(b"ab", CB))
                 + cb_frame(shared_block(b"cd", CB), section=referenced(CB)), CB, b"abcd",
                 id="embedded-then-referenced-frame"),
    pytest.param(GOLDEN, CB, b"abracadabra", id="plain-frame-a-code-supplied"),
]


@pytest.mark.parametrize(("packed", "supplied", "expected"), CODEBOOK_VALID_CASES)
def test_hand_made_valid_codebook_frames(packed, supplied, expected):
    assert reference_decode(packed, supplied) == expected
    assert huffkit.decompress(packed, codebook=_supplied(supplied)) == expected


# A supplied code matters to the format only for a frame that references its code, so these
# streams are valid (section 10 has no rule against them).  huffkit's decoder is stricter by
# policy (section 3.1): a code its caller names must be the frame's, embedded or not.
SUPPLIED_CODE_POLICY_CASES = [
    pytest.param(cb_frame(shared_block(b"abc", CB)), OTHER, b"abc",
                 id="embedded-frame-another-code-supplied"),
    pytest.param(cb_frame(shared_block(b"ab", OTHER), section=embedded(OTHER))
                 + cb_frame(shared_block(b"cd", CB), section=referenced(CB)), CB, b"abcd",
                 id="embedded-and-referenced-frames-different-codes"),
]


@pytest.mark.parametrize(("packed", "supplied", "expected"), SUPPLIED_CODE_POLICY_CASES)
def test_a_supplied_code_must_be_the_frames_own(packed, supplied, expected):
    assert reference_decode(packed, supplied) == expected
    with pytest.raises(huffkit.CodebookError, match="but the codebook supplied is"):
        huffkit.decompress(packed, codebook=_supplied(supplied))


KRAFT_BELOW_1 = {A: 1, B: 2}
SKIPPED_LENGTH = {A: 1, B: 2, C: 3, D: 4, E: 4}
CB_BITS = encode(b"abc", CB)  # 0 10 110
CB_FRAME = cb_frame(shared_block(b"abc", CB))

CODEBOOK_INVALID_CASES = [
    pytest.param(cb_frame(shared_block(b"abc", CB), flags=0x03), "H4", None,
                 id="H4-flags-0x03-with-section"),
    pytest.param(cb_frame(shared_block(b"abc", CB), flags=0x81), "H4", None,
                 id="H4-flags-0x81-with-section"),
    pytest.param(frame_header(flags=FLAG_CODEBOOK), "S2", None, id="S2-flags-header-only"),
    pytest.param(frame_header(flags=FLAG_CODEBOOK) + embedded(CB)[:5], "S2", None,
                 id="S2-inside-identifier"),
    pytest.param(frame_header(flags=FLAG_CODEBOOK) + embedded(CB)[:20], "S2", None,
                 id="S2-inside-embedded-table"),
    pytest.param(frame_header(flags=FLAG_CODEBOOK) + embedded(CB)[:-1], "S2", None,
                 id="S2-inside-section-crc"),
    pytest.param(frame_header(flags=FLAG_CODEBOOK) + referenced(CB)[:-2], "S2", CB,
                 id="S2-inside-referenced-section-crc"),
    pytest.param(CB_FRAME[:-10], "S2", None, id="S2-inside-shared-block"),
    pytest.param(cb_frame(shared_block(b"abc", CB), section=codebook_section(CB, storage=2)),
                 "K1", None, id="K1-storage-2"),
    pytest.param(cb_frame(shared_block(b"abc", CB), section=codebook_section(CB, storage=0xFF)),
                 "K1", None, id="K1-storage-0xff"),
    pytest.param(cb_frame(shared_block(b"ab", KRAFT_BELOW_1), section=embedded(KRAFT_BELOW_1)),
                 "K2", None, id="K2-kraft-below-1"),
    pytest.param(cb_frame(section=embedded({A: 1, B: 1, C: 1})), "K2", None,
                 id="K2-kraft-above-1"),
    pytest.param(cb_frame(shared_block(b"abracadabra", GOLDEN_LENGTHS),  # 10 bits + 6 padding
                          section=embedded(GOLDEN_LENGTHS,
                                           table=code_table(GOLDEN_LENGTHS, padding="1"))),
                 "K2", None, id="K2-packed-lengths-padding"),
    pytest.param(cb_frame(shared_block(b"abc", CB),
                          section=embedded(CB, table=patch(code_table(CB), 0, 0))), "K2", None,
                 id="K2-longest-0"),
    pytest.param(cb_frame(section=embedded({}, table=bytes([1]) + bytes(32))), "K2", None,
                 id="K2-empty-bitmap"),
    pytest.param(cb_frame(shared_block(b"a", {A: 2}), section=embedded({A: 2})), "K2", None,
                 id="K2-one-symbol-length-2"),
    pytest.param(cb_frame(section=embedded(SKIPPED_LENGTH,
                                           table=code_table(SKIPPED_LENGTH, longest=3))),
                 "K2", None, id="K2-length-above-longest"),
    pytest.param(cb_frame(shared_block(b"abc", CB), section=bad_crc(embedded(CB))), "K3", None,
                 id="K3-section-crc"),
    pytest.param(cb_frame(shared_block(b"abc", CB), section=bad_crc(referenced(CB))), "K3", CB,
                 id="K3-referenced-section-crc"),
    pytest.param(cb_frame(shared_block(b"abc", CB),
                          section=embedded(CB, identifier=identifier_of(OTHER))), "K4", None,
                 id="K4-identifier-of-another-code"),
    pytest.param(cb_frame(shared_block(b"abc", CB),
                          section=embedded(CB, identifier=identifier_of(OTHER))), "K4", OTHER,
                 id="K4-identifier-of-the-supplied-code"),
    pytest.param(cb_frame(shared_block(b"abc", CB),
                          section=embedded(CB, identifier=identifier_of(CB)[::-1])), "K4", None,
                 id="K4-identifier-reversed"),
    pytest.param(cb_frame(shared_block(b"abc", CB), section=referenced(CB)), "K5", None,
                 id="K5-referenced-code-not-supplied"),
    pytest.param(cb_frame(shared_block(b"abc", CB), section=referenced(CB)), "K5", OTHER,
                 id="K5-another-code-supplied"),
    pytest.param(cb_frame(section=referenced(CB)), "K5", None, id="K5-no-blocks-not-supplied"),
    pytest.param(cb_frame(huffman_block(b"hello"), section=referenced(CB)), "K5", None,
                 id="K5-only-huffman-blocks-not-supplied"),
    pytest.param(GOLDEN + cb_frame(shared_block(b"abc", CB), section=referenced(CB)), "K5", None,
                 id="K5-second-frame"),
    pytest.param(cb_frame(shared_block(b"ab", CB), section=referenced(CB))
                 + cb_frame(shared_block(b"ab", OTHER), section=referenced(OTHER)), "K5", CB,
                 id="K5-second-frame-another-code"),
    pytest.param(frame(shared_block(b"abc", CB)), "B5", None, id="B5-shared-block-without-flag"),
    pytest.param(frame(patch(huffman_block(b"abc"), 0, SHARED_CODE_BLOCK)), "B5", None,
                 id="B5-type-0x02-with-a-table-without-flag"),
    pytest.param(CB_FRAME + frame(shared_block(b"abc", CB)), "B5", CB,
                 id="B5-code-not-carried-to-next-frame"),
    pytest.param(cb_frame(patch(shared_block(b"abc", CB), 0, 0x03)), "B1", None,
                 id="B1-block-type-0x03-in-codebook-frame"),
    pytest.param(cb_frame(patch(shared_block(b"abc", CB), 0, 0xFF)), "B1", None,
                 id="B1-block-type-0xff-in-codebook-frame"),
    pytest.param(cb_frame(shared_block(b"abc", CB, symbols=0)), "B2", None,
                 id="B2-shared-symbols-0"),
    pytest.param(cb_frame(shared_block(b"abcd", CB), block_size=3), "B2", None,
                 id="B2-shared-symbols-above-block-size"),
    pytest.param(cb_frame(shared_block(b"abc", CB, stream_count=0, stream_bits=[])), "B3", None,
                 id="B3-shared-stream-count-0"),
    pytest.param(cb_frame(shared_block(b"abc", CB, streams=17)), "B3", None,
                 id="B3-shared-stream-count-17"),
    pytest.param(cb_frame(shared_block(b"aaa", CB, stream_bits=["00"])), "B4", None,
                 id="B4-shared-bits-below-shortest-n"),
    pytest.param(cb_frame(shared_block(b"ddd", CB, stream_bits=[encode(b"ddd", CB) + "0"])),
                 "B4", None, id="B4-shared-bits-above-frame-longest-n"),
    pytest.param(cb_frame(shared_block(b"abc", CB, bits=[len(CB_BITS)],
                                       stream_bits=[CB_BITS + "1"])), "D1", None,
                 id="D1-shared-stream-padding"),
    pytest.param(cb_frame(shared_block(b"abc", CB, stream_bits=["01011"])), "D2", None,
                 id="D2-shared-ends-inside-codeword"),
    pytest.param(cb_frame(shared_block(b"aaa", ONE_A, stream_bits=["010"]),
                          section=embedded(ONE_A)), "D2", None,
                 id="D2-shared-one-symbol-code-1-bit"),
    pytest.param(cb_frame(shared_block(b"abc", CB, stream_bits=["110110"])), "D3", None,
                 id="D3-shared-too-few-codewords"),
    pytest.param(cb_frame(shared_block(b"abc", CB, crc=zlib.crc32(b"abc") ^ 1)), "D5", None,
                 id="D5-shared-crc"),
    pytest.param(cb_frame(shared_block(b"abc", CB, crc=zlib.crc32(b"abc") ^ 1),
                          section=referenced(CB)), "D5", CB, id="D5-shared-crc-referenced"),
    # The frame code does not relax the rules of a Huffman block's own table.
    pytest.param(cb_frame(huffman_block(b"ab", KRAFT_BELOW_1)), "C6", None,
                 id="C6-huffman-block-in-codebook-frame"),
    pytest.param(cb_frame(huffman_block(b"aab", ABC_LENGTHS)), "D4", None,
                 id="D4-huffman-block-in-codebook-frame"),
    # Section 4: total_symbols counts every block, shared-code blocks included.
    pytest.param(cb_frame(shared_block(b"abc", CB), total=0), "E1", None,
                 id="E1-shared-block-not-counted"),
    pytest.param(cb_frame(huffman_block(b"xyz"), shared_block(b"abc", CB), total=3), "E1", None,
                 id="E1-only-huffman-blocks-counted"),
]


@pytest.mark.parametrize(("packed", "rule", "supplied"), CODEBOOK_INVALID_CASES)
def test_invalid_codebook_frame_is_rejected_by_both(packed, rule, supplied):
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed, supplied)
    assert violation.value.rule == rule
    with pytest.raises(EXPECTED_ERROR.get(rule, huffkit.FormatError)):
        huffkit.decompress(packed, codebook=_supplied(supplied))


@pytest.mark.parametrize("embed", [True, False], ids=["embedded", "referenced"])
def test_every_proper_prefix_of_a_codebook_frame_is_truncated(embed):
    packed = huffkit.compress(b"abracadabra", codebook=SMALL_CODEBOOK, embed_codebook=embed)
    for end in range(1, len(packed)):
        with pytest.raises(SpecViolation) as violation:
            reference_decode(packed[:end], SMALL_CODEBOOK.lengths)
        assert violation.value.rule == "S2"
        with pytest.raises(huffkit.TruncatedError):
            huffkit.decompress(packed[:end], codebook=SMALL_CODEBOOK)
