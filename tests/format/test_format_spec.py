"""huffkit's compressed format against its written specification, FORMAT.md.

The reference decoder below is written from FORMAT.md alone (sections 1 to 10 and 13 to 15,
including the codebook section of 3.1, the shared-code block of 5.1, the rANS frames of
section 14 and the utf8 and pairs alphabets of section 15; section 17's version 2, its
LEB128 sizes and compact frequency tables), not from huffkit's sources, so
that huffkit and the document are checked against each other: what huffkit writes must decode
under the document's rules, the worked example of section 12 must be byte-exact, and inputs
the document calls invalid must be rejected by both decoders.  A reference rANS *encoder*
(section 14.3's encoder paragraph) and section 14.5's quantisation make hand-made rANS blocks
and rebuild huffkit's rANS output byte for byte; sections 11, 14.5 and 15 rebuild its utf8
and pairs frames byte for byte too.
It favours plain code over speed (bit-by-bit and symbol-by-symbol decoding), so inputs here
stay small.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import heapq
import math
import random
import zlib
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.corpora

# Every test here runs on each backend: the compiled kernels and the numpy reference must
# both write exactly what FORMAT.md says, and reject exactly what it rejects.
pytestmark = pytest.mark.usefixtures("each_backend")

MAGIC = b"\x89HUF"
DEFAULT_BLOCK_SIZE = 1 << 20
MAX_BLOCK_SIZE = 1 << 26
MAX_STREAMS = 16
FOUR_STREAMS_FROM = 1 << 16  # section 17.1: blocks this long or longer have 4 streams
LAST_BLOCK = 0x80  # section 17.1: type bit 7 marks a version-2 frame's last block
FOUR_STREAMS_FROM_V1 = 1 << 14  # section 11: version 1's encoder split from here
FLAG_CODEBOOK = 0x01  # section 3: flags bit 0, a codebook section follows the header
FLAG_ANS = 0x02  # section 3: flags bit 1, an rANS frame (section 14)
HUFFMAN_BLOCK, SHARED_CODE_BLOCK = 0x01, 0x02  # section 4
ANS_BLOCK, SHARED_TABLE_BLOCK = 0x03, 0x04  # section 4: only in rANS frames
COMPACT_BLOCK, REUSE_BLOCK, ANS_REUSE_BLOCK = 0x05, 0x06, 0x07  # section 16
CL_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)  # section 16.1
EMBEDDED, REFERENCED = 1, 0  # section 3.1: the codebook section's storage byte
ANS_L = 1 << 32  # section 14.3: L, where every lane starts (encoder) and ends (decoder)
MAX_LANES = 4096  # section 14.2
MAX_PRECISION = 24  # section 14.1
OWN_TABLE_PRECISION = 16  # section 14.5: a block's own table
BYTE_TABLE_PRECISION = 12  # section 17.5: a byte block's own table, when it costs little more
BITS_PER_LANE = 100_000  # section 14.5: K = ideal payload bits // 100 000, or
BITS_PER_SPARE_LANE = 50_000  # ... up to 4 at one per 50 000 bits
FLAG_RESERVED = 0xF0  # section 3: flags bits 4 to 7
PRESENCE_NUMBER_BYTES = 3  # section 15: a presence list's LEB128 numbers, at most 3 bytes
VERSIONS = (1, 2)  # sections 13 and 17.1: a decoder of version 2 reads both
# Section 17.1: the most bytes of each LEB128 size of version 2.
MOST_SYMBOLS, MOST_LENGTH, MOST_BITS, MOST_LANES, MOST_WORDS, MOST_TOTAL = 4, 5, 5, 2, 4, 10
MOST_ZEROS = 24  # section 17.3, F5: an Exp-Golomb code starts with at most 24 zeros
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Alphabet:
    """Section 15: what a symbol of a frame is (flags bits 2 and 3)."""

    value: int  # (flags >> 2) & 3
    name: str
    size: int  # symbols are 0 to size - 1
    widest: int  # the most bytes one symbol stands for (rule L1)

    @property
    def flag(self) -> int:
        return self.value << 2


BYTES = Alphabet(0, "bytes", 256, 1)
UTF8 = Alphabet(1, "utf8", 0x110000, 4)
PAIRS = Alphabet(2, "pairs", 65_792, 2)
ALPHABETS = {alphabet.value: alphabet for alphabet in (BYTES, UTF8, PAIRS)}
SINGLE_BYTE = 65_536  # pairs: 65 536 + b is the single byte b

#: Code lengths, as the reference decoder is given them: symbol -> length (absent or 0: no
#: code), or a sequence of the lengths of a whole alphabet (256, 65 792 or 1 114 112 of them:
#: a list, a Codebook's ``lengths`` array), which then names the alphabet (section 15).
SuppliedCode = Mapping[int, int] | Sequence[int]
#: What the reference decoder is given to rebuild a referenced rANS frame's table (section 14):
#: the codebook's weights (byte value -> weight, or 256 weights), or the table itself.
SuppliedWeights = Mapping[int, float] | Sequence[float]


# -- the reference decoder (FORMAT.md sections 1 to 10, and 14 for rANS frames) -----------


class SpecViolation(Exception):
    """The input breaks the validation rule ``rule`` of section 10 (for example "C6")."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule


@dataclass(frozen=True)
class FreqTable:
    """A frequency table (section 14.1): symbol -> frequency, summing to 2^precision."""

    precision: int
    freqs: Mapping[int, int]

    @property
    def total(self) -> int:
        return 1 << self.precision

    @functools.cached_property
    def cum(self) -> dict[int, int]:
        """cum[s]: the sum of the frequencies of the byte values below s (present ones)."""
        cum, running = {}, 0
        for value in sorted(self.freqs):
            cum[value] = running
            running += self.freqs[value]
        return cum

    @functools.cached_property
    def slots(self) -> tuple[list[int], list[int]]:
        """The present byte values in increasing order, and their cum: for bisecting a slot."""
        order = sorted(self.freqs)
        return order, [self.cum[value] for value in order]


@dataclass
class Block:
    """What the reference decoder saw of one block (Huffman, shared-code or ANS)."""

    symbols: int
    lengths: dict[int, int]  # symbol -> code length (the block's or the frame's code)
    bits: list[int]  # bits[k] of each stream, so len(bits) is the stream count
    data: bytes
    block_type: int = HUFFMAN_BLOCK
    table: FreqTable | None = None  # ANS blocks: the block's own table or the frame's
    states: list[int] = field(default_factory=list)  # ANS blocks: x[0], ..., x[K-1]
    words: list[int] = field(default_factory=list)  # ANS blocks: w[0], ..., w[W-1]
    values: list[int] = field(default_factory=list)  # the decoded symbols
    length: int | None = None  # section 15: the length field (alphabets other than bytes)


@dataclass
class CodebookSection:
    """What the reference decoder saw of a frame's codebook section (section 3.1, and 14)."""

    identifier: bytes
    storage: int  # EMBEDDED or REFERENCED
    lengths: dict[int, int]  # the frame's code: the embedded table's, or the supplied one
    table: FreqTable | None = None  # rANS frames: the embedded or rebuilt frequency table
    table_id: bytes | None = None  # rANS frames, referenced: the stored table identifier


@dataclass
class Frame:
    block_size: int
    blocks: list[Block]
    total_symbols: int
    size: int  # bytes, header to frame end inclusive
    flags: int = 0
    codebook: CodebookSection | None = None
    version: int = 1

    @property
    def alphabet(self) -> Alphabet:
        return ALPHABETS[self.flags >> 2 & 3]


class _Reader:
    """Consumes the input; running out of bytes is rule S2 (the input ends inside a frame)."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.version = 1  # the version of the frame being read
        # Section 17.1: whether the block being read is its frame's last (type bit 7), and
        # the symbols of its frame's blocks before it, of which it holds the rest.
        self.last_block = False
        self.symbols_before = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.buf):
            raise SpecViolation("S2", f"need {size} bytes at offset {self.pos}")
        self.pos += size
        return self.buf[self.pos - size : self.pos]

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "little")

    def leb128(self, most_bytes: int, rule: str, what: str) -> int:
        """An unsigned LEB128 number of at most ``most_bytes`` bytes (sections 14.1 and 15)."""
        number = 0
        for index in range(most_bytes):
            byte = self.uint(1)
            number |= (byte & 0x7F) << (7 * index)
            if not byte & 0x80:
                return number
        raise SpecViolation(rule, f"{what} takes more than {most_bytes} bytes")

    def size(self, most_bytes: int, what: str) -> int:
        """Section 17.2: a version-2 size, LEB128 of at most ``most_bytes`` bytes (V1), in
        its shortest form (V2)."""
        number = 0
        for index in range(most_bytes):
            byte = self.uint(1)
            number |= (byte & 0x7F) << (7 * index)
            if byte < 0x80:
                if byte == 0 and index > 0:
                    raise SpecViolation("V2", f"{what} is not in its shortest form")
                return number
        raise SpecViolation("V1", f"{what} takes more than {most_bytes} bytes")

    def count(self, size: int, most_bytes: int, what: str) -> int:
        """A size: a ``size``-byte integer in version 1, a LEB128 number in version 2."""
        return self.uint(size) if self.version == 1 else self.size(most_bytes, what)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def bit_string(raw: bytes) -> str:
    """The bits of ``raw`` as '0'/'1' text, most significant bit of each byte first (sec. 1)."""
    return "".join(f"{byte:08b}" for byte in raw)


def table_identifier(table: FreqTable, alphabet: Alphabet = BYTES) -> bytes:
    """Section 14: SHA-256 of the precision and the 256 frequencies as u32, first 8 bytes;
    section 15, other alphabets: of the precision, the alphabet's size as u32, and each
    symbol of non-zero frequency, increasing, with its frequency, as two u32."""
    if alphabet is BYTES:
        body = bytes([table.precision]) + b"".join(
            table.freqs.get(value, 0).to_bytes(4, "little") for value in range(256))
    else:
        body = bytes([table.precision]) + u32(alphabet.size) + b"".join(
            u32(symbol) + u32(table.freqs[symbol]) for symbol in sorted(table.freqs)
            if table.freqs[symbol])
    return hashlib.sha256(body).digest()[:8]


def identifier_of(lengths: Mapping[int, int], alphabet: Alphabet = BYTES) -> bytes:
    """Section 3.1: the first 8 bytes of the SHA-256 of the 256 lengths, one byte each;
    section 15, other alphabets: of the alphabet's size as u32, then each symbol with a
    code, increasing, as u32, with its length as u8."""
    if alphabet is BYTES:
        body = bytes(lengths.get(value, 0) for value in range(256))
    else:
        body = u32(alphabet.size) + b"".join(u32(symbol) + bytes([lengths[symbol]])
                                             for symbol in sorted(lengths) if lengths[symbol])
    return hashlib.sha256(body).digest()[:8]


def _nonzero(values: Sequence) -> list[tuple[int, object]]:
    """(index, value) of the non-zero entries of a sequence (a list, or a numpy array of a
    million entries for a utf8 codebook)."""
    if hasattr(values, "nonzero"):  # numpy: skip the zeros without a Python loop
        return [(int(index), values[index].item()) for index in values.nonzero()[0]]
    return [(index, value) for index, value in enumerate(values) if value]


@dataclass(frozen=True)
class Code:
    """A supplied code: symbol -> length, and the size of its alphabet when known."""

    lengths: dict[int, int]
    size: int | None = None  # None: a bare mapping, taken to be in the frame's alphabet

    def identifier(self, alphabet: Alphabet) -> bytes | None:
        """Its identifier as a code of ``alphabet``, or None if it is not one."""
        if self.size not in (None, alphabet.size) or max(self.lengths) >= alphabet.size:
            return None
        return identifier_of(self.lengths, alphabet)


def as_lengths(code: SuppliedCode) -> dict[int, int]:
    """A supplied code as symbol -> length, for the symbols with a code."""
    if isinstance(code, Mapping):
        lengths = {int(value): int(length) for value, length in code.items() if length}
        size = UTF8.size
    else:
        if len(code) not in (alphabet.size for alphabet in ALPHABETS.values()):
            raise ValueError(f"a code needs the lengths of a whole alphabet, not {len(code)}")
        lengths = {value: int(length) for value, length in _nonzero(code)}
        size = len(code)
    in_range = all(0 <= value < size and 1 <= n <= 31 for value, n in lengths.items())
    kraft = sum(1 << (31 - n) for n in lengths.values()) if in_range else 0
    if not in_range or not (list(lengths.values()) == [1] or kraft == 1 << 31):
        raise ValueError(f"not a code section 6 allows: {lengths}")  # a caller's mistake
    return lengths


def as_code(code: SuppliedCode) -> Code:
    return Code(as_lengths(code), None if isinstance(code, Mapping) else len(code))


def canonical_codes(lengths: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Section 7: symbol -> (length, codeword), from the code lengths alone."""
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


def symbols_to_bytes(values: Sequence[int], alphabet: Alphabet) -> bytes:
    """Section 15: a block's bytes from its symbols; rule L3 for symbols with no byte form."""
    if alphabet is BYTES:
        return bytes(values)
    out = bytearray()
    if alphabet is UTF8:
        for value in values:
            if 0xD800 <= value <= 0xDFFF:
                raise SpecViolation("L3", f"utf8 symbol {value:#x} is a surrogate")
            out += chr(value).encode("utf-8")
        return bytes(out)
    for index, value in enumerate(values):
        if value < SINGLE_BYTE:
            out += bytes([value >> 8, value & 0xFF])
        elif index != len(values) - 1:
            raise SpecViolation("L3", f"single-byte symbol {value} at {index} of {len(values)}")
        else:
            out.append(value - SINGLE_BYTE)
    return bytes(out)


def bytes_to_symbols(data: bytes, alphabet: Alphabet) -> list[int]:
    """The inverse of symbols_to_bytes (for building blocks): section 15's table, read back."""
    if alphabet is UTF8:
        return [ord(char) for char in data.decode("utf-8")]
    if alphabet is PAIRS:
        return ([data[i] << 8 | data[i + 1] for i in range(0, len(data) - 1, 2)]
                + ([SINGLE_BYTE + data[-1]] if len(data) % 2 else []))
    return list(data)


@dataclass(frozen=True)
class _Supplied:
    """What the decoder was given for frames that reference their codebook (rule K5)."""

    code: Code | None  # the code: its identifier, and the code of Huffman frames
    table: FreqTable | None  # rANS frames: the table rebuilt from the codebook's weights


def parse(data: bytes, codebook: SuppliedCode | None = None, *,
          weights: SuppliedWeights | FreqTable | None = None) -> list[Frame]:
    """Every frame of a compressed stream, raising SpecViolation at the first fault.

    ``codebook`` is the code the decoder is given for frames that reference theirs (K5); for
    rANS frames that reference theirs, ``weights`` are that codebook's weights (its
    distribution), from which the table is rebuilt by section 14.5, or the table itself.
    """
    if not data:
        raise SpecViolation("S1", "the input is empty")
    code = None if codebook is None else as_code(codebook)
    if weights is None or isinstance(weights, FreqTable):
        table = weights
    else:
        table = shared_table(as_weights(weights))
    supplied = _Supplied(code, table)
    reader, frames = _Reader(data), []
    while reader.pos < len(data):
        frames.append(_parse_frame(reader, first=not frames, supplied=supplied))
    return frames


def reference_decode(data: bytes, codebook: SuppliedCode | None = None, *,
                     weights: SuppliedWeights | FreqTable | None = None) -> bytes:
    return b"".join(block.data for frame in parse(data, codebook, weights=weights)
                    for block in frame.blocks)


def _parse_frame(reader: _Reader, *, first: bool, supplied: _Supplied) -> Frame:
    start = reader.pos
    head = reader.buf[start : start + 4]
    if head != MAGIC[: len(head)]:  # sec. 3 allows rejecting at the first differing byte
        raise SpecViolation("H1" if first else "S3", f"no magic at offset {start}")
    header = reader.take(14)
    if int.from_bytes(header[10:14], "little") != zlib.crc32(header[:10]):
        raise SpecViolation("H2", "header_crc mismatch")
    if header[4] not in VERSIONS:
        raise SpecViolation("H3", f"version {header[4]}")
    reader.version = header[4]
    flags = header[5]
    if flags & FLAG_RESERVED or flags >> 2 & 3 not in ALPHABETS:  # section 15: 3 is reserved
        raise SpecViolation("H4", f"flags {flags:#04x}")
    alphabet = ALPHABETS[flags >> 2 & 3]
    block_size = int.from_bytes(header[6:10], "little")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise SpecViolation("H5", f"block_size {block_size}")
    rans = bool(flags & FLAG_ANS)
    section = None
    if flags & FLAG_CODEBOOK:
        section = _parse_codebook_section(reader, supplied, alphabet, rans=rans)

    blocks = []
    end_type = 0x00 if reader.version == 1 else 0xFF  # section 17.1
    ended = False  # by a last block (section 17.1), which leaves out the frame end
    while not ended and (block_type := reader.uint(1)) != end_type:
        previous = blocks[-1] if blocks else None
        ended = reader.version == 2 and bool(block_type & LAST_BLOCK)
        block_type &= ~LAST_BLOCK if ended else 0xFF
        reader.last_block = ended
        reader.symbols_before = sum(block.symbols for block in blocks)
        if rans:  # section 4: only 0x00, 0x03, 0x04 and 0x07; 0x04 needs the section (B5)
            if block_type not in (ANS_BLOCK, SHARED_TABLE_BLOCK, ANS_REUSE_BLOCK):
                raise SpecViolation("B1", f"block type {block_type:#04x} in an rANS frame")
            if block_type == SHARED_TABLE_BLOCK and section is None:
                raise SpecViolation("B5", "shared-table ANS block without a codebook section")
            if block_type == ANS_REUSE_BLOCK and (
                    previous is None or previous.block_type == SHARED_TABLE_BLOCK):
                raise SpecViolation("R1", "a reused table with no previous table of its own")
            frame_table = (section.table if block_type == SHARED_TABLE_BLOCK else
                           previous.table if block_type == ANS_REUSE_BLOCK else None)
            block = _parse_ans_block(reader, block_size, frame_table, alphabet)
            if block_type == ANS_REUSE_BLOCK:
                block.block_type = ANS_REUSE_BLOCK
            blocks.append(block)
            continue
        if block_type == SHARED_CODE_BLOCK and section is None:
            raise SpecViolation("B5", "shared-code block in a frame without a codebook section")
        if block_type not in (HUFFMAN_BLOCK, SHARED_CODE_BLOCK, COMPACT_BLOCK, REUSE_BLOCK):
            raise SpecViolation("B1", f"block type {block_type:#04x}")
        if block_type == COMPACT_BLOCK and alphabet is not BYTES:
            raise SpecViolation("T6", f"a compact table in a {alphabet.name} frame")
        if block_type == REUSE_BLOCK and (
                previous is None or previous.block_type == SHARED_CODE_BLOCK):
            raise SpecViolation("R1", "a reused code with no previous code of its own")
        frame_code = (section.lengths if block_type == SHARED_CODE_BLOCK else
                      previous.lengths if block_type == REUSE_BLOCK else None)
        blocks.append(_parse_block(reader, block_size, frame_code, alphabet,
                                   block_type=block_type))
    if ended:  # the frame holds block_size symbols, and has no frame end
        return Frame(block_size, blocks, block_size, reader.pos - start, flags, section,
                     reader.version)
    total_symbols = reader.count(8, MOST_TOTAL, "total_symbols")
    if total_symbols >= 1 << 64:
        raise SpecViolation("V3", f"total_symbols {total_symbols}")
    if total_symbols != sum(block.symbols for block in blocks):  # section 4: all blocks
        raise SpecViolation("E1", f"total_symbols {total_symbols}")
    return Frame(block_size, blocks, total_symbols, reader.pos - start, flags, section,
                 reader.version)


def _parse_codebook_section(reader: _Reader, given: _Supplied, alphabet: Alphabet, *,
                            rans: bool = False) -> CodebookSection:
    """Section 3.1, rules K1 to K5; in an rANS frame section 14 (a frequency table, no K4)."""
    start = reader.pos
    identifier = reader.take(8)
    storage = reader.uint(1)
    if storage not in (EMBEDDED, REFERENCED):
        raise SpecViolation("K1", f"storage {storage}")
    given_id = None if given.code is None else given.code.identifier(alphabet)
    if rans:
        table = _parse_freq_table(reader, alphabet) if storage == EMBEDDED else None  # A1, L2
        table_id = reader.take(8) if storage == REFERENCED else None
        if reader.uint(4) != zlib.crc32(reader.buf[start : reader.pos - 4]):
            raise SpecViolation("K3", "section_crc mismatch")
        if table is None:  # referenced: the decoder needs that codebook, and its table
            if given_id != identifier:
                raise SpecViolation("K5", f"referenced codebook {identifier.hex()} not given")
            if given.table is None:
                raise SpecViolation("K5", f"no weights given for codebook {identifier.hex()}")
            rebuilt_id = table_identifier(given.table, alphabet)
            if rebuilt_id != table_id:
                raise SpecViolation("K5", f"the table given is {rebuilt_id.hex()}, the "
                                          f"frame's is {table_id.hex()}")
            table = given.table
        return CodebookSection(identifier, storage, {}, table, table_id)  # K4 does not apply
    lengths = None
    if storage == EMBEDDED:
        try:
            lengths = _parse_code_table(reader, alphabet)
        except SpecViolation as fault:
            if fault.rule in ("S2", "L2"):  # L2 is section 15's own rule, not one of section 6
                raise
            raise SpecViolation("K2", f"embedded code table: {fault}") from fault
    body = reader.buf[start : reader.pos]
    if reader.uint(4) != zlib.crc32(body):
        raise SpecViolation("K3", "section_crc mismatch")
    if lengths is not None:
        if identifier_of(lengths, alphabet) != identifier:
            raise SpecViolation("K4", f"identifier {identifier.hex()} != "
                                      f"{identifier_of(lengths, alphabet).hex()} of the table")
    elif given_id != identifier:
        raise SpecViolation("K5", f"referenced code {identifier.hex()} not given")
    else:
        lengths = given.code.lengths
    return CodebookSection(identifier, storage, lengths)


def _parse_presence(reader: _Reader, alphabet: Alphabet) -> list[int]:
    """The symbols of a table: a bitmap (bytes, sections 6 and 14.1) or a presence list
    (section 15, rule L2)."""
    if alphabet is BYTES:
        bitmap = bit_string(reader.take(32))
        return [value for value in range(256) if bitmap[value] == "1"]
    count = reader.uint(4)
    if not 1 <= count <= alphabet.size:
        raise SpecViolation("L2", f"presence count {count}")
    present: list[int] = []
    for index in range(count):
        number = reader.leb128(PRESENCE_NUMBER_BYTES, "L2", f"presence number {index}")
        symbol = number if not present else present[-1] + 1 + number
        if symbol >= alphabet.size:
            raise SpecViolation("L2", f"listed symbol {symbol} >= {alphabet.size}")
        present.append(symbol)
    return present


def _parse_code_table(reader: _Reader, alphabet: Alphabet = BYTES) -> dict[int, int]:
    longest = reader.uint(1)
    if not 1 <= longest <= 31:
        raise SpecViolation("C1", f"longest {longest}")
    present = _parse_presence(reader, alphabet)
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


def _decode_stream(bits: str, decode_table: dict[tuple[int, int], int],
                   longest: int) -> list[int]:
    """Decode whole codewords bit by bit; anything else is rule D2."""
    out, code, length = [], 0, 0
    for bit in bits:
        code, length = code << 1 | (bit == "1"), length + 1
        if (length, code) in decode_table:
            out.append(decode_table[length, code])
            code, length = 0, 0
        elif length >= longest:  # only possible with the one-symbol code and a '1' bit
            raise SpecViolation("D2", "bits that begin no codeword")
    if length:
        raise SpecViolation("D2", "the stream ends inside a codeword")
    return out


def _block_head(reader: _Reader, block_size: int, alphabet: Alphabet) -> tuple[int, int | None,
                                                                                 int]:
    """symbols (B2), section 15's length (L1) in alphabets other than bytes, and crc.  A last
    block (section 17.1) holds the rest of block_size (V4)."""
    if reader.last_block:
        symbols = block_size - reader.symbols_before
        if symbols < 1:
            raise SpecViolation("V4", f"a last block after {reader.symbols_before} symbols "
                                      f"(block_size {block_size})")
    else:
        symbols = reader.count(4, MOST_SYMBOLS, "symbols")
    if not 1 <= symbols <= block_size:
        raise SpecViolation("B2", f"symbols {symbols} (block_size {block_size})")
    length = None
    if alphabet is not BYTES:
        length = reader.count(4, MOST_LENGTH, "length")
        if not symbols <= length <= alphabet.widest * symbols:
            raise SpecViolation("L1", f"length {length} for {symbols} {alphabet.name} symbols")
    return symbols, length, reader.uint(4)


def _block_bytes(values: list[int], alphabet: Alphabet, length: int | None) -> bytes:
    """Section 15: the decoded bytes (L3), and their number against the length field (L4)."""
    decoded = symbols_to_bytes(values, alphabet)
    if length is not None and len(decoded) != length:
        raise SpecViolation("L4", f"{len(decoded)} decoded bytes, length field {length}")
    return decoded


def _parse_block(reader: _Reader, block_size: int, frame_code: dict[int, int] | None,
                 alphabet: Alphabet = BYTES, *, block_type: int = HUFFMAN_BLOCK) -> Block:
    """A Huffman block (section 5), with a compact table (16.1), or with ``frame_code`` a
    shared-code block (5.1) or one reusing the previous block's code (16.2)."""
    symbols, length, crc = _block_head(reader, block_size, alphabet)
    if block_type == COMPACT_BLOCK:
        lengths = _parse_compact_table(reader)
    else:
        lengths = _parse_code_table(reader, alphabet) if frame_code is None else frame_code
    if reader.version == 2:  # section 17.1: not stored
        stream_count = 1 if symbols < FOUR_STREAMS_FROM else 4
    else:
        stream_count = reader.uint(1)
        if not 1 <= stream_count <= MAX_STREAMS:
            raise SpecViolation("B3", f"stream count {stream_count}")
    bits = [reader.count(4, MOST_BITS, f"bits[{k}]") for k in range(stream_count)]
    shortest, longest = min(lengths.values()), max(lengths.values())
    runs = stream_runs(symbols, stream_count)
    for k, (bit_count, (start, stop)) in enumerate(zip(bits, runs, strict=True)):
        if not shortest * (stop - start) <= bit_count <= longest * (stop - start):
            raise SpecViolation("B4", f"bits[{k}] = {bit_count} for {stop - start} symbols")
    raw_streams = [reader.take(ceil_div(bit_count, 8)) for bit_count in bits]

    decode_table = {code: value for value, code in canonical_codes(lengths).items()}
    values: list[int] = []
    for k, (bit_count, raw, (start, stop)) in enumerate(zip(bits, raw_streams, runs, strict=True)):
        stream_bits = bit_string(raw)
        if "1" in stream_bits[bit_count:]:
            raise SpecViolation("D1", f"non-zero padding in stream {k}")
        run = _decode_stream(stream_bits[:bit_count], decode_table, longest)
        if len(run) != stop - start:
            raise SpecViolation("D3", f"stream {k} holds {len(run)} codewords, not {stop - start}")
        values += run
    if frame_code is None and set(lengths) - set(values):  # D4: blocks with their own table
        raise SpecViolation("D4", f"coded but absent: {sorted(set(lengths) - set(values))}")
    decoded = _block_bytes(values, alphabet, length)
    if zlib.crc32(decoded) != crc:
        raise SpecViolation("D5", "block CRC mismatch")
    return Block(symbols, lengths, bits, decoded, block_type, values=values, length=length)


def _parse_compact_table(reader: _Reader) -> dict[int, int]:
    """Section 16.1: the 256 lengths of a compact table, T1 to T5 (and C3 to C6)."""
    bits = bit_string(reader.buf[reader.pos:])
    cursor = 0

    def read(width: int) -> int:
        nonlocal cursor
        if cursor + width > len(bits):
            raise SpecViolation("S2", "the input ends inside a compact table")
        cursor += width
        return int(bits[cursor - width:cursor], 2) if width else 0

    stored = read(4) + 4
    cl_lengths = {symbol: read(3) for symbol in CL_ORDER[:stored]}
    cl_lengths = {symbol: n for symbol, n in cl_lengths.items() if n}
    kraft = sum(1 << (7 - n) for n in cl_lengths.values())
    if not cl_lengths or not (list(cl_lengths.values()) == [1] or kraft == 1 << 7):
        raise SpecViolation("T1", f"code-length code lengths {cl_lengths}")
    decode = {code: symbol for symbol, code in canonical_codes(cl_lengths).items()}
    lengths: list[int] = []
    while len(lengths) < 256:
        width, value = 0, 0
        while (width, value) not in decode:
            if width == 7:
                raise SpecViolation("T2", "a bit string that begins no codeword")
            value, width = value << 1 | read(1), width + 1
        symbol = decode[width, value]
        if symbol <= 15:
            lengths.append(symbol)
            continue
        run = {16: 3, 17: 3, 18: 11}[symbol] + read({16: 2, 17: 3, 18: 7}[symbol])
        if symbol == 16 and not lengths:
            raise SpecViolation("T3", "symbol 16 before any length")
        if len(lengths) + run > 256:
            raise SpecViolation("T4", f"{len(lengths) + run} lengths")
        lengths += [lengths[-1] if symbol == 16 else 0] * run
    if "1" in bits[cursor:ceil_div(cursor, 8) * 8]:
        raise SpecViolation("T5", "non-zero padding after a compact table")
    reader.take(ceil_div(cursor, 8))
    code = {value: n for value, n in enumerate(lengths) if n}
    kraft = sum(1 << (15 - n) for n in code.values())
    if not code:
        raise SpecViolation("C3", "a compact table gives no byte a code")
    if len(code) == 1 and list(code.values()) != [1]:
        raise SpecViolation("C5", f"one code, of length {next(iter(code.values()))}")
    if len(code) > 1 and kraft != 1 << 15:
        raise SpecViolation("C6", f"Kraft sum {kraft} / 2^15")
    return code


def _parse_compact_freq_table(reader: _Reader, alphabet: Alphabet) -> FreqTable:
    """Section 17.3: a version-2 frequency table, rules F1 to F7."""
    bits = bit_string(reader.buf[reader.pos:])
    cursor = 0

    def read(width: int) -> int:
        nonlocal cursor
        if cursor + width > len(bits):
            raise SpecViolation("S2", "the input ends inside a frequency table")
        cursor += width
        return int(bits[cursor - width:cursor], 2) if width else 0

    def golomb(order: int) -> int:
        zeros = 0
        while read(1) == 0:
            zeros += 1
            if zeros > MOST_ZEROS:
                raise SpecViolation("F5", f"an Exp-Golomb code with more than {MOST_ZEROS} zeros")
        return (1 << (zeros + order) | read(zeros + order)) - (1 << order)

    precision = read(5)
    if not 1 <= precision <= MAX_PRECISION:
        raise SpecViolation("F1", f"precision {precision}")
    count = golomb(0) + 1
    if count > min(alphabet.size, 1 << precision):
        raise SpecViolation("F2", f"{count} symbols listed at precision {precision}")
    order = read(4)
    present: list[int] = []
    for _ in range(count):
        symbol = golomb(order) + (present[-1] + 1 if present else 0)
        if symbol >= alphabet.size:
            raise SpecViolation("F3", f"listed symbol {symbol} >= {alphabet.size}")
        present.append(symbol)
    order = read(5)
    if order > 23:
        raise SpecViolation("F4", f"frequency order {order}")
    freqs = {symbol: golomb(order) + 1 for symbol in present[:-1]}
    if sum(freqs.values()) >= 1 << precision:
        raise SpecViolation("F6", f"the first {count - 1} frequencies sum to "
                                  f"{sum(freqs.values())} >= 2^{precision}")
    freqs[present[-1]] = (1 << precision) - sum(freqs.values())
    if "1" in bits[cursor:ceil_div(cursor, 8) * 8]:
        raise SpecViolation("F7", "non-zero padding after a frequency table")
    reader.take(ceil_div(cursor, 8))
    return FreqTable(precision, freqs)


def _parse_freq_table(reader: _Reader, alphabet: Alphabet = BYTES) -> FreqTable:
    """Section 14.1; any fault is rule A1, but a presence list's (section 15) is L2.  In a
    version-2 frame, section 17.3."""
    if reader.version == 2:
        return _parse_compact_freq_table(reader, alphabet)
    precision = reader.uint(1)
    if not 1 <= precision <= MAX_PRECISION:
        raise SpecViolation("A1", f"precision {precision}")
    present = _parse_presence(reader, alphabet)
    if not present:
        raise SpecViolation("A1", "empty presence bitmap")
    freqs = {}
    for value in present:  # unsigned LEB128 of freq - 1, at most 4 bytes
        freqs[value] = reader.leb128(4, "A1", f"the frequency of symbol {value}") + 1
    if sum(freqs.values()) != 1 << precision:
        raise SpecViolation("A1", f"frequencies sum to {sum(freqs.values())}, not 2^{precision}")
    return FreqTable(precision, freqs)


def _parse_ans_block(reader: _Reader, block_size: int, frame_table: FreqTable | None,
                     alphabet: Alphabet = BYTES) -> Block:
    """An ANS block (section 14.2, type 0x03) or with ``frame_table`` a shared-table one (0x04),
    decoded symbol by symbol by section 14.3."""
    symbols, length, crc = _block_head(reader, block_size, alphabet)
    table = _parse_freq_table(reader, alphabet) if frame_table is None else frame_table
    lanes = reader.count(2, MOST_LANES, "K")
    word_count = reader.count(4, MOST_WORDS, "W")
    if not 1 <= lanes <= min(symbols, MAX_LANES):
        raise SpecViolation("A2", f"K = {lanes} lanes for {symbols} symbols")
    if word_count > symbols:
        raise SpecViolation("A2", f"W = {word_count} words for {symbols} symbols")
    states = [reader.uint(8) for _ in range(lanes)]
    if min(states) < ANS_L:
        raise SpecViolation("A3", f"a starting state below 2^32: {min(states):#x}")
    words = [reader.uint(4) for _ in range(word_count)]

    precision, size, freqs, cum_of = table.precision, table.total, table.freqs, table.cum
    order, starts = table.slots
    x, pos, values = list(states), 0, []
    for i in range(symbols):  # lane i mod K, step i // K: steps in order, lanes in order
        k = i % lanes
        slot = x[k] % size
        value = order[bisect.bisect_right(starts, slot) - 1]
        x[k] = freqs[value] * (x[k] >> precision) + slot - cum_of[value]
        if x[k] < ANS_L:
            if pos == word_count:
                raise SpecViolation("A4", f"lane {k} needs a word at symbol {i}: none left")
            x[k] = (x[k] << 32) | words[pos]
            pos += 1
        values.append(value)
    if pos != word_count:
        raise SpecViolation("A4", f"{word_count - pos} of {word_count} words left over")
    if any(state != ANS_L for state in x):
        raise SpecViolation("A4", f"final states {[hex(state) for state in x]}, not 2^32")
    absent = sorted(set(table.freqs) - set(values))
    if frame_table is None and absent:
        raise SpecViolation("A5", f"symbols in the table but not in the block: {absent}")
    decoded = _block_bytes(values, alphabet, length)
    if zlib.crc32(decoded) != crc:
        raise SpecViolation("A6", "block CRC mismatch")
    block_type = ANS_BLOCK if frame_table is None else SHARED_TABLE_BLOCK
    return Block(symbols, {}, [], decoded, block_type, table, states, words, values, length)


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


# -- section 14.3 (the encoder paragraph) and 14.5: a reference rANS encoder --------------------


def ans_encode(data: bytes, table: FreqTable, lanes: int,
               start: int | Sequence[int] = ANS_L) -> tuple[list[int], list[int]]:
    """Section 14.3's encoder: the decoder's starting states, and the words in its order.

    Symbols run backwards, last to first, every lane starting at L (or at ``start``, to
    make a block whose lanes do not end at L: rule A4).
    """
    precision, cum = table.precision, table.cum
    x = [start] * lanes if isinstance(start, int) else list(start)
    emitted = []  # (symbol index, word): at most one word per symbol
    for i in range(len(data) - 1, -1, -1):
        k, value = i % lanes, data[i]
        freq = table.freqs[value]
        if x[k] >= freq << (64 - precision):
            emitted.append(x[k] % (1 << 32))
            x[k] >>= 32
        x[k] = ((x[k] // freq) << precision) + x[k] % freq + cum[value]
    # The decoder takes a word right after the symbol whose coding emitted it: step order,
    # then lane order, which is symbol order.
    return x, emitted[::-1]


def as_weights(weights: SuppliedWeights) -> dict[int, Fraction]:
    """Weights as exact fractions (section 14.5), for the byte values of non-zero weight."""
    items = weights.items() if isinstance(weights, Mapping) else _nonzero(weights)
    return {int(value): Fraction(weight.item() if hasattr(weight, "item") else weight)
            for value, weight in items if weight}


def quantise(weights: Mapping[int, int | Fraction], precision: int) -> FreqTable:
    """Section 14.5's quantisation: max(1, floor(M q)), then one unit at a time where it
    changes the expected code length least, judged by q log2((f + 1) / f), ties to the
    smaller byte value.

    Adding a unit to f shortens the expected length by q log2((f + 1) / f), so a unit goes
    where that gain is greatest; taking one from f lengthens it by q log2(f / (f - 1)) (the
    same measure at f - 1), so a unit comes from where that loss is least, never below 1.
    The measures are compared as floats: q log2((f + 1) / f) for different (q, f) can only be
    equal when q and f are (the ratios (f + 1) / f are multiplicatively independent), so
    exact ties give identical floats.
    """
    total = sum(weights.values())
    q = {value: Fraction(weight) / total for value, weight in weights.items() if weight}
    size = 1 << precision
    freqs = {value: max(1, math.floor(size * share)) for value, share in q.items()}

    def measure(value: int, freq: int) -> float:  # q log2((f + 1) / f)
        return float(q[value]) * math.log2((freq + 1) / freq)

    surplus = sum(freqs.values()) - size
    if surplus < 0:  # add units: greatest gain first, then the smaller byte value
        heap = [(-measure(value, freq), value) for value, freq in freqs.items()]
        heapq.heapify(heap)
        for _ in range(-surplus):
            _, value = heapq.heappop(heap)
            freqs[value] += 1
            heapq.heappush(heap, (-measure(value, freqs[value]), value))
    elif surplus > 0:  # take units away: least loss first, then the smaller byte value
        heap = [(measure(value, freq - 1), value) for value, freq in freqs.items() if freq > 1]
        heapq.heapify(heap)
        for _ in range(surplus):
            _, value = heapq.heappop(heap)
            freqs[value] -= 1
            if freqs[value] > 1:
                heapq.heappush(heap, (measure(value, freqs[value] - 1), value))
    return FreqTable(precision, freqs)


def shared_precision(weights: Mapping[int, int | Fraction]) -> int:
    """Section 14.5: ceil(-log2 q_min) + 2, at least 16 and at most 24 (computed exactly)."""
    total = sum(weights.values())
    q_min = min(Fraction(weight) / total for weight in weights.values() if weight)
    bits = 0
    while q_min * (1 << bits) < 1:  # the least k with 2^-k <= q_min: ceil(-log2 q_min)
        bits += 1
    return min(MAX_PRECISION, max(OWN_TABLE_PRECISION, bits + 2))


def shared_table(weights: Mapping[int, int | Fraction]) -> FreqTable:
    """A frame's shared table, rebuilt from the codebook's weights (sections 14 and 14.5)."""
    return quantise(weights, shared_precision(weights))


def own_table(data: bytes | Sequence[int], alphabet: Alphabet = BYTES, *,
              version: int = 1, prefer_12: bool = True) -> FreqTable:
    """Sections 14.5 and 15: a block's own table, from its counts, at precision 16, or
    ceil(log2 d) + 2 (at most 24) for a block of d > 2^14 distinct symbols.  Version 2
    (section 17.5): the precision, tried from that one downwards while each step makes the
    compact table's bits (before its padding) and the ideal payload smaller, that makes them
    smallest; in the bytes alphabet, 12 instead of a greater one whose sum is smaller by at
    most 1/1024 of it."""
    counts = Counter(data)
    precision = OWN_TABLE_PRECISION
    if len(counts) > 1 << 14:
        precision = min(24, math.ceil(math.log2(len(counts))) + 2)
    table = quantise(counts, precision)
    if version == 1:
        return table
    best, best_bits = table, None
    while precision >= 1 and 1 << precision >= len(counts):
        table = quantise(counts, precision)
        bits = len(compact_freq_bits(table)) + ideal_payload_bits(data, table)
        if best_bits is not None and bits >= best_bits:
            break
        best, best_bits = table, bits
        precision -= 1
    fits = (len(counts) - 1).bit_length() <= BYTE_TABLE_PRECISION  # a frequency each
    if prefer_12 and alphabet == BYTES and best.precision > BYTE_TABLE_PRECISION and fits:
        table = quantise(counts, BYTE_TABLE_PRECISION)
        bits = len(compact_freq_bits(table)) + ideal_payload_bits(data, table)
        if bits <= best_bits + best_bits / 1024:
            return table
    return best


def ideal_payload_bits(data: bytes, table: FreqTable) -> float:
    """Section 14.5: the sum of log2(M / f) over the block's symbols."""
    return math.fsum(count * (table.precision - math.log2(table.freqs[value]))
                     for value, count in Counter(data).items())


def lane_count(data: bytes, table: FreqTable) -> int:
    """Section 14.5: K = max(bits // 100 000, ceil(n / 131 072), min(4, spare)), in
    1 .. min(n, 4096), spare being bits // 50 000, or n // 16 384 if more and bits >= 20 000."""
    bits = ideal_payload_bits(data, table)
    spare = int(bits // BITS_PER_SPARE_LANE)
    if bits >= 20_000:
        spare = max(spare, len(data) // 16384)
    lanes = max(int(bits // BITS_PER_LANE), -(-len(data) // 131072), min(4, spare))
    return max(1, min(lanes, len(data), MAX_LANES))


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
    if not data:  # section 17: a 14-byte header and a 2-byte frame end
        assert len(packed) == 16


def declared_block_size(data: bytes, block_size: int, symbols: int | None = None) -> int:
    """Section 17.5: the header's block size, the one asked for unless the input makes one
    block (1 to block_size bytes), whose *symbols* (by default its bytes) it is then."""
    if 0 < len(data) <= block_size:
        return len(data) if symbols is None else symbols
    return block_size


def _check_blocks_cut(data: bytes, frame: Frame, block_size: int, *, streams: bool = True):
    assert frame.block_size == declared_block_size(data, block_size)
    # Cut at exactly block_size bytes, the last block holding the rest.
    assert [block.data for block in frame.blocks] == [
        data[i : i + block_size] for i in range(0, len(data), block_size)
    ]
    for block in frame.blocks if streams else ():  # Huffman blocks: 1 or 4 streams
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


# Section 17: the same frame in version 2, which huffkit writes: the header with version 2,
# the sizes as LEB128 numbers (symbols 0b, bits[0] 17, the frame end 00 0b).
GOLDEN_V2 = bytes.fromhex("""
89 48 55 46 02 00 0b 00 00 00 49 70 04 3c 81 b7 f9 ea 17 03 00 00 00 00 00 00 00 00
00 00 00 00 78 00 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 2a 80 17 4e
ac 9c
""")


def test_golden_vector_bytes():
    """Section 12's version-1 frame still decodes; huffkit now writes section 17's."""
    assert len(GOLDEN) == 75
    assert huffkit.decompress(GOLDEN) == b"abracadabra"
    assert huffkit.compress(b"abracadabra", split=False) == GOLDEN_V2
    # Section 17: the header declares the 11 symbols of its one block, which is the frame's
    # last (0x81: no symbol count, no frame end); no stream count; the bit count a LEB128.
    header = frame_header(11, version=2)
    assert header + b"\x81" + GOLDEN[19:58] + b"\x17" + GOLDEN[63:66] == GOLDEN_V2
    assert reference_decode(GOLDEN_V2) == b"abracadabra" == huffkit.decompress(GOLDEN_V2)


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
    return huffkit.compress(INPUTS[name], block_size=block_size, max_code_length=max_code_length,
                            split=False)


@pytest.mark.parametrize(("name", "block_size", "max_code_length"), AGREEMENT_CASES,
                         ids=[f"{n}-bs{b}-L{m}" for n, b, m in AGREEMENT_CASES])
def test_reference_decodes_huffkit_output(name, block_size, max_code_length):
    assert reference_decode(_compressed(name, block_size, max_code_length)) == INPUTS[name]


@pytest.mark.parametrize(("name", "block_size", "max_code_length"), AGREEMENT_CASES,
                         ids=[f"{n}-bs{b}-L{m}" for n, b, m in AGREEMENT_CASES])
def test_encoder_choices_of_section_11(name, block_size, max_code_length):
    packed = _compressed(name, block_size, max_code_length)
    check_encoder_choices(INPUTS[name], packed, block_size, max_code_length)


def test_stream_count_switches_at_65536_symbols():
    data = random.Random(5).randbytes(FOUR_STREAMS_FROM)
    for size, streams in [(FOUR_STREAMS_FROM - 1, 1), (FOUR_STREAMS_FROM, 4)]:
        (frame,) = parse(huffkit.compress(data[:size]))
        assert [len(block.bits) for block in frame.blocks] == [streams]


def test_concatenated_frames():
    parts = [INPUTS["readme-head"], b"", b"z" * 50, bytes(range(256))]
    packed = b"".join(
        huffkit.compress(part, block_size=block_size)
        for part, block_size in zip(parts, [7, 1, 16, DEFAULT_BLOCK_SIZE], strict=True)
    )
    assert [frame.block_size for frame in parse(packed)] == [
        declared_block_size(part, block_size)
        for part, block_size in zip(parts, [7, 1, 16, DEFAULT_BLOCK_SIZE], strict=True)]
    assert reference_decode(packed) == b"".join(parts) == huffkit.decompress(packed)


@given(data=st.binary(max_size=3000), block_size=st.integers(1, 4000),
       max_code_length=st.integers(1, 31))
def test_property_reference_decodes_huffkit_output(data, block_size, max_code_length):
    max_code_length = max(max_code_length, min_code_length(data))
    packed = huffkit.compress(data, block_size=block_size, max_code_length=max_code_length,
                              split=False)
    assert reference_decode(packed) == data
    check_encoder_choices(data, packed, block_size, max_code_length)
    packed = huffkit.compress(data, block_size=block_size, max_code_length=max_code_length)
    assert reference_decode(packed) == data


@given(counts=st.dictionaries(st.integers(0, 255), st.integers(1, 400), min_size=1, max_size=40),
       max_code_length=st.integers(1, 12))
def test_property_skewed_counts_and_length_limit(counts, max_code_length):
    """Wide-ranging counts with a tight limit, so that package-merge is exercised often."""
    data = b"".join(bytes([value]) * count for value, count in counts.items())
    max_code_length = max(max_code_length, min_code_length(data))
    packed = huffkit.compress(data, max_code_length=max_code_length, split=False)
    assert reference_decode(packed) == data
    check_encoder_choices(data, packed, DEFAULT_BLOCK_SIZE, max_code_length)
    packed = huffkit.compress(data, max_code_length=max_code_length)
    assert reference_decode(packed) == data


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


def frame_end(total_symbols: int, *, version: int = 1) -> bytes:
    if version == 2:  # section 17.1
        return b"\xff" + leb128(total_symbols)
    return b"\x00" + total_symbols.to_bytes(8, "little")


def size_field(value: int, width: int, version: int) -> bytes:
    """A size: ``width`` bytes in version 1, LEB128 in version 2 (section 17.1)."""
    return value.to_bytes(width, "little") if version == 1 else leb128(value)


def golomb(value: int, order: int) -> str:
    """Section 17.3: ``value`` as an Exp-Golomb code of ``order``, as '0'/'1' text."""
    binary = f"{value + (1 << order):b}"
    return "0" * (len(binary) - order - 1) + binary


def _best_order(values: Sequence[int], most: int) -> int:
    """Section 17.5: the order that makes the codes of ``values`` shortest, the least on a tie."""
    sizes = [sum(len(golomb(value, order)) for value in values) for order in range(most + 1)]
    return sizes.index(min(sizes))


def compact_freq_table(table: FreqTable, *, gap_order: int | None = None,
                       freq_order: int | None = None, precision_bits: str | None = None,
                       count: int | None = None, tail: str = "") -> bytes:
    """Section 17.3's table of ``table``, the orders chosen as section 17.5 says; keywords
    replace fields to break rules, ``tail`` is appended to the bits before the padding."""
    return pack_bits(compact_freq_bits(table, gap_order=gap_order, freq_order=freq_order,
                                       precision_bits=precision_bits, count=count) + tail)


def compact_freq_bits(table: FreqTable, *, gap_order: int | None = None,
                      freq_order: int | None = None, precision_bits: str | None = None,
                      count: int | None = None) -> str:
    """The bits of section 17.3's table of ``table``, before the padding."""
    present = sorted(table.freqs)
    gaps = [symbol - (present[i - 1] + 1 if i else 0) for i, symbol in enumerate(present)]
    rest = [table.freqs[symbol] - 1 for symbol in present[:-1]]
    gap_order = _best_order(gaps, 15) if gap_order is None else gap_order
    freq_order = _best_order(rest, 23) if freq_order is None else freq_order
    bits = (f"{table.precision:05b}" if precision_bits is None else precision_bits)
    bits += golomb((len(present) if count is None else count) - 1, 0)
    bits += f"{gap_order:04b}" + "".join(golomb(gap, gap_order) for gap in gaps)
    bits += f"{freq_order:05b}" + "".join(golomb(value, freq_order) for value in rest)
    return bits


def presence(symbols: Sequence[int], alphabet: Alphabet = BYTES, *, count: int | None = None,
             numbers: Mapping[int, bytes] | None = None) -> bytes:
    """The symbols of a table: a bitmap (bytes) or a presence list (section 15: u32 count,
    then the first symbol and each next one's gap minus 1 in LEB128); ``numbers`` replaces
    the LEB128 bytes of some list entries (by index), ``count`` the count."""
    present = sorted(symbols)
    if alphabet is BYTES:
        return pack_bits("".join("1" if value in present else "0" for value in range(256)))
    numbers = numbers or {}
    gaps = [symbol - (present[i - 1] + 1 if i else 0) for i, symbol in enumerate(present)]
    return u32(len(present) if count is None else count) + b"".join(
        numbers.get(i, leb128(gap)) for i, gap in enumerate(gaps))


def code_table(lengths: dict[int, int], *, longest: int | None = None, padding: str = "",
               alphabet: Alphabet = BYTES, listed: bytes | None = None) -> bytes:
    """A code table (section 6, presence by section 15); ``listed`` replaces the presence."""
    longest = max(lengths.values()) if longest is None else longest
    width = (longest - 1).bit_length()
    assert all(length - 1 < 1 << width for length in lengths.values())
    stored = [lengths[value] - 1 for value in sorted(lengths)]
    packed = "".join(f"{value:0{width}b}" for value in stored) if width else ""
    return (bytes([longest]) + (presence(lengths, alphabet) if listed is None else listed)
            + pack_bits(packed + padding))


def encode(data: Sequence[int], lengths: dict[int, int]) -> str:
    codes = canonical_codes(lengths)
    return "".join(f"{codes[value][1]:0{codes[value][0]}b}" for value in data)


def block_head(block_type: int, data: bytes, values: Sequence[int], alphabet: Alphabet, *,
               symbols: int | None, length: int | None, crc: int | None,
               version: int = 1) -> bytes:
    """type, symbols, section 15's length (alphabets other than bytes) and crc.  A type with
    bit 7 set in version 2, a last block (section 17.1), stores no symbols."""
    symbols = len(values) if symbols is None else symbols
    length = len(data) if length is None else length
    last = version == 2 and block_type & LAST_BLOCK and block_type != 0xFF
    return (bytes([block_type]) + (b"" if last else size_field(symbols, 4, version))
            + (b"" if alphabet is BYTES else size_field(length, 4, version))
            + u32(zlib.crc32(data) if crc is None else crc))


def huffman_block(data: bytes, lengths: dict[int, int] | None = None, *, streams: int = 1,
                  symbols: int | None = None, crc: int | None = None, table: bytes | None = None,
                  stream_count: int | None = None, bits: list[int] | None = None,
                  stream_bits: list[str] | None = None, block_type: int = HUFFMAN_BLOCK,
                  alphabet: Alphabet = BYTES, values: Sequence[int] | None = None,
                  length: int | None = None, version: int = 1) -> bytes:
    """A Huffman block coding ``data`` (the symbols ``values``, by default ``data``'s in
    ``alphabet``) in a frame of ``version``; each keyword overrides one field to break one
    rule.

    ``stream_bits`` replaces the streams' bit strings (padding beyond ``bits[k]`` included).
    """
    values = bytes_to_symbols(data, alphabet) if values is None else values
    lengths = section11_lengths(values, 31) if lengths is None else lengths
    if stream_bits is None:
        stream_bits = [encode(values[a:b], lengths) for a, b in stream_runs(len(values), streams)]
    bits = [len(text) for text in stream_bits] if bits is None else bits
    return (block_head(block_type, data, values, alphabet, symbols=symbols, length=length,
                       crc=crc, version=version)
            + (code_table(lengths, alphabet=alphabet) if table is None else table)
            + (bytes([len(stream_bits) if stream_count is None else stream_count])
               if version == 1 else b"")  # section 17.1: version 2 stores no count
            + b"".join(size_field(count, 4, version) for count in bits)
            + b"".join(pack_bits(text) for text in stream_bits))


def shared_block(data: bytes, lengths: dict[int, int], **fields) -> bytes:
    """A shared-code block (section 5.1) coding ``data`` with the frame's code ``lengths``."""
    return huffman_block(data, lengths, table=b"", block_type=SHARED_CODE_BLOCK, **fields)


def codebook_section(lengths: dict[int, int], *, storage: int = EMBEDDED,
                     identifier: bytes | None = None, table: bytes | None = None,
                     crc: int | None = None, alphabet: Alphabet = BYTES) -> bytes:
    """A codebook section (section 3.1) naming ``lengths``, with every check passing unless
    a keyword overrides a field. A table follows the storage byte unless storage is 0."""
    if table is None:
        table = b"" if storage == REFERENCED else code_table(lengths, alphabet=alphabet)
    if identifier is None:
        identifier = identifier_of(lengths, alphabet)
    body = identifier + bytes([storage]) + table
    return body + u32(zlib.crc32(body) if crc is None else crc)


def frame(*blocks: bytes, block_size: int = DEFAULT_BLOCK_SIZE, total: int | None = None,
          section: bytes | None = None, flags: int | None = None,
          alphabet: Alphabet = BYTES, version: int = 1) -> bytes:
    """A whole frame; total_symbols defaults to the sum of the blocks' symbols fields, and
    flags to bit 0 exactly when a codebook ``section`` is given, with the alphabet's bits.

    A version-2 frame of one block (and no ``total``) is written as huffkit writes a
    one-block input (section 17.5): the header's block size is the block's symbols, and the
    block is the frame's last (type bit 7: no symbol count, no frame end)."""
    counts = [int.from_bytes(block[1:5], "little") if version == 1
              else _Reader(block[1:]).leb128(MOST_SYMBOLS, "V1", "symbols") for block in blocks]
    if version == 2 and total is None and len(blocks) == 1:
        count_end = 1 + len(leb128(counts[0]))
        (block,) = blocks
        return (frame_header(counts[0], flags=_flags(flags, section, alphabet), version=2)
                + (section or b"") + bytes([block[0] | LAST_BLOCK]) + block[count_end:])
    total = sum(counts) if total is None else total
    return (frame_header(block_size, flags=_flags(flags, section, alphabet), version=version)
            + (section or b"") + b"".join(blocks) + frame_end(total, version=version))


def _flags(flags: int | None, section: bytes | None, alphabet: Alphabet) -> int:
    return (0 if section is None else FLAG_CODEBOOK) | alphabet.flag if flags is None else flags


def leb128(number: int) -> bytes:
    """Unsigned LEB128 (section 14.1): 7 bits a byte, low group first, high bit = more."""
    out = bytearray()
    while True:
        out.append(number & 0x7F | (0x80 if number >> 7 else 0))
        number >>= 7
        if not number:
            return bytes(out)


def freq_table(table: FreqTable, *, precision: int | None = None,
               numbers: Mapping[int, bytes] | None = None, alphabet: Alphabet = BYTES,
               listed: bytes | None = None, version: int = 1) -> bytes:
    """A frequency table's bytes (section 14.1, presence by section 15); ``numbers`` replaces
    the LEB128 bytes of some symbols, ``precision`` the precision byte, ``listed`` the
    presence.  Version 2: section 17.3's table."""
    if version == 2:
        return compact_freq_table(table)
    numbers = numbers or {}
    return (bytes([table.precision if precision is None else precision])
            + (presence(table.freqs, alphabet) if listed is None else listed)
            + b"".join(numbers.get(value, leb128(table.freqs[value] - 1))
                       for value in sorted(table.freqs)))


def ans_block(data: bytes, table: FreqTable | None = None, *, lanes: int = 1,
              block_type: int = ANS_BLOCK, symbols: int | None = None, crc: int | None = None,
              table_bytes: bytes | None = None, lane_field: int | None = None,
              word_count: int | None = None, states: list[int] | None = None,
              words: list[int] | None = None, start: int | Sequence[int] = ANS_L,
              alphabet: Alphabet = BYTES, values: Sequence[int] | None = None,
              length: int | None = None, version: int = 1) -> bytes:
    """An ANS block (section 14.2) coding ``data`` (the symbols ``values``, by default
    ``data``'s in ``alphabet``) by the reference encoder; by default with its own table
    (section 14.5's, or 17.5's in version 2) and 1 lane. Each keyword overrides one field."""
    values = bytes_to_symbols(data, alphabet) if values is None else values
    table = own_table(values, alphabet, version=version) if table is None else table
    coded_states, coded_words = ans_encode(values, table, lanes, start)
    states = coded_states if states is None else states
    words = coded_words if words is None else words
    if table_bytes is None:
        table_bytes = (freq_table(table, alphabet=alphabet, version=version)
                       if block_type == ANS_BLOCK else b"")
    return (block_head(block_type, data, values, alphabet, symbols=symbols, length=length,
                       crc=crc, version=version)
            + table_bytes
            + size_field(len(states) if lane_field is None else lane_field, 2, version)
            + size_field(len(words) if word_count is None else word_count, 4, version)
            + b"".join(state.to_bytes(8, "little") for state in states)
            + b"".join(u32(word) for word in words))


def shared_ans_block(data: bytes, table: FreqTable, **fields) -> bytes:
    """A shared-table ANS block (type 0x04) coding ``data`` with the frame's ``table``."""
    return ans_block(data, table, block_type=SHARED_TABLE_BLOCK, **fields)


def ans_section(table: FreqTable | None, *, identifier: bytes = bytes(8), storage: int = EMBEDDED,
                table_bytes: bytes | None = None, crc: int | None = None,
                alphabet: Alphabet = BYTES, version: int = 1) -> bytes:
    """An rANS frame's codebook section (sections 3.1 and 14): any identifier (no K4)."""
    if table_bytes is None:
        table_bytes = (table_identifier(table, alphabet) if storage == REFERENCED
                       else freq_table(table, alphabet=alphabet, version=version))
    body = identifier + bytes([storage]) + table_bytes
    return body + u32(zlib.crc32(body) if crc is None else crc)


def ans_frame(*blocks: bytes, section: bytes | None = None, **fields) -> bytes:
    """An rANS frame: flag bit 1, bit 0 when a codebook ``section`` is given, and the bits of
    the ``alphabet``."""
    flags = (FLAG_ANS | (0 if section is None else FLAG_CODEBOOK)
             | fields.get("alphabet", BYTES).flag)
    return frame(*blocks, section=section, flags=fields.pop("flags", flags), **fields)


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
    pytest.param(frame_header(version=3) + GOLDEN[14:], "H3", id="H3-version-3"),
    pytest.param(frame_header(version=0) + GOLDEN[14:], "H3", id="H3-version-0"),
    pytest.param(frame_header(flags=0x0C) + GOLDEN[14:], "H4", id="H4-flags-0x0c-alphabet-3"),
    pytest.param(frame_header(flags=0x10) + GOLDEN[14:], "H4", id="H4-flags-0x10"),
    # Flag bit 2 is valid since section 15 (utf8); the golden block's crc is then its length.
    pytest.param(frame_header(flags=0x04) + GOLDEN[14:], "L1", id="L1-bytes-block-in-utf8-frame"),
    # Flag bit 1 is valid since section 14, but a Huffman block in an rANS frame is not.
    pytest.param(frame_header(flags=FLAG_ANS) + GOLDEN[14:], "B1",
                 id="B1-huffman-block-in-rans-frame"),
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
                  "D5": huffkit.ChecksumError, "A6": huffkit.ChecksumError,
                  "K5": huffkit.CodebookError}


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
    assert packed == frame(
        *(shared_block(data[i : i + block_size], lengths, version=2,
                       streams=4 if len(data[i : i + block_size]) >= FOUR_STREAMS_FROM else 1)
          for i in range(0, len(data), block_size)),
        block_size=block_size, section=codebook_section(lengths, storage=storage), version=2)
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
    pytest.param(cb_frame(shared_block(b"abc", CB), flags=0x0D), "H4", None,
                 id="H4-flags-0x0d-with-section"),
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


# -- section 14: rANS frames, huffkit output under the document's rules ----------------------


R = ord("r")
ABR = b"abracadabra"


def _ans_model(data: bytes) -> huffkit.Codebook:
    """The task's model: a codebook of other data, smoothed, so every byte value is coded."""
    return huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(data).smoothed(0.5))


def _weights_of(codebook: huffkit.Codebook) -> dict[int, Fraction]:
    """What section 14 rebuilds a referenced table from: the codebook's distribution."""
    assert codebook.distribution is not None, "section 14 needs the codebook's distribution"
    return as_weights(codebook.distribution.counts)


def _rare_bytes_data(size: int, seed: int) -> bytes:
    """4 common byte values and 252 that occur once each: with n > 2^16 such a count is below
    one unit of M = 2^16, and the 252 floors raised to 1 outweigh the 4 common ones' rounding
    down, so section 14.5's quantisation has to take units away, from the common ones."""
    rng = random.Random(seed)
    data = bytearray(rng.choices(b"\x00\x01\x02\x03", weights=[4, 3, 2, 1], k=size - 252))
    data += bytes(range(4, 256))
    rng.shuffle(data)
    return bytes(data)


def _units_taken_away(weights: Mapping[int, int | Fraction], precision: int) -> int:
    """How many units section 14.5 takes away after max(1, floor(M q)) (0 if it adds)."""
    total = sum(weights.values())
    floors = sum(max(1, math.floor((1 << precision) * Fraction(w) / total))
                 for w in weights.values() if w)
    return max(0, floors - (1 << precision))


ANS_INPUTS = {
    **INPUTS,
    # The bundled English essay, not README.md, whose text changes: 4 KB of text, precision 10.
    "english-4k": huffkit.corpora.path("english.txt").read_bytes()[:4096],
    "random-30k": random.Random(3).randbytes(30_000),  # about 240 000 ideal bits: K = 2
    "rare-bytes-70k": _rare_bytes_data(67_500, 4),  # units taken away from an own table
}

ANS_CODEBOOKS = {
    "readme-ans": lambda: _ans_model(README.read_bytes()),
    "random-ans": lambda: _ans_model(random.Random(2).randbytes(5000)),
    "skewed-ans": lambda: huffkit.Codebook.from_distribution(   # precision above 16
        huffkit.Distribution.from_bytes(_fibonacci_data(14)).smoothed(0.01)),
    # q_min about 2^-32: precision 24 (the cap), and floors of 0 for the smoothed-only bytes,
    # so units are taken away from the shared table.
    "tiny-alpha-ans": lambda: huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(README.read_bytes()[:4096]).smoothed(1e-6)),
    # Unsmoothed: no weight for byte values 20 to 255 (absent from the table).
    "fibonacci-20-exact": lambda: CODEBOOKS["fibonacci-20-exact"](),
}


@functools.cache
def _ans_codebook(name: str) -> huffkit.Codebook:
    return ANS_CODEBOOKS[name]()


# huffkit's rANS coder takes some microseconds a symbol, so the large inputs are few.
ANS_CASES = [  # (input, block_size, codebook or None, embed)
    ("empty", DEFAULT_BLOCK_SIZE, None, True),
    ("empty", 1, "readme-ans", False),
    ("one-byte", DEFAULT_BLOCK_SIZE, None, True),
    ("one-byte", 1, "readme-ans", True),
    ("one-repeated-byte", DEFAULT_BLOCK_SIZE, None, True),  # one frequency = M: no words
    ("one-repeated-byte", 7, None, True),
    ("one-repeated-byte", 1, "random-ans", False),
    ("two-symbols", DEFAULT_BLOCK_SIZE, None, True),
    ("two-symbols", 1, None, True),
    ("two-symbols", 7, "readme-ans", True),
    ("all-256-values", DEFAULT_BLOCK_SIZE, None, True),
    ("all-256-values", 7, None, True),
    ("all-256-values", 100, "readme-ans", False),
    ("english-4k", DEFAULT_BLOCK_SIZE, None, True),
    ("english-4k", DEFAULT_BLOCK_SIZE, "readme-ans", True),
    ("english-4k", DEFAULT_BLOCK_SIZE, "readme-ans", False),
    ("english-4k", 1000, None, True),
    ("english-4k", 1000, "random-ans", True),
    ("english-4k", 7, "skewed-ans", False),  # precision above 16
    ("readme-head", 1, None, True),
    ("readme-head", 7, "random-ans", False),
    ("random-30k", DEFAULT_BLOCK_SIZE, None, True),  # K = 2
    ("random-30k", DEFAULT_BLOCK_SIZE, "random-ans", False),  # K = 2, shared table
    ("rare-bytes-70k", DEFAULT_BLOCK_SIZE, None, True),  # units taken away
    ("readme-head", DEFAULT_BLOCK_SIZE, "tiny-alpha-ans", True),  # precision 24, units away
    ("all-256-values", 64, "tiny-alpha-ans", False),
    ("fibonacci-12", DEFAULT_BLOCK_SIZE, None, True),
    ("fibonacci-12", 64, "fibonacci-20-exact", False),  # a table with absent byte values
    ("fibonacci-12", DEFAULT_BLOCK_SIZE, "fibonacci-20-exact", True),
]
ANS_IDS = [f"{n}-bs{b}-{c or 'own'}{'' if c is None else '-emb' if e else '-ref'}"
           for n, b, c, e in ANS_CASES]


@functools.cache
def _ans_compressed(name: str, block_size: int, codebook: str | None, embed: bool) -> bytes:
    model = None if codebook is None else _ans_codebook(codebook)
    return huffkit.compress(ANS_INPUTS[name], block_size=block_size, codebook=model,
                            embed_codebook=embed, coder="ans")


def _given(codebook: huffkit.Codebook | None) -> dict:
    """What the reference decoder is given for a frame that references ``codebook``."""
    if codebook is None:
        return {}
    return {"codebook": codebook.lengths, "weights": _weights_of(codebook)}


def rebuild_ans_frame(data: bytes, block_size: int, codebook: huffkit.Codebook | None = None,
                      embed: bool = True) -> bytes:
    """The frame section 14.5 (with sections 11 and 14.3) says huffkit writes, byte for byte."""
    if codebook is None:
        blocks = [ans_block(part, lanes=lane_count(part, own_table(part, version=2)), version=2)
                  for part in (data[i : i + block_size] for i in range(0, len(data), block_size))]
        return ans_frame(*blocks, block_size=block_size, version=2)
    table = shared_table(_weights_of(codebook))
    section = ans_section(table, identifier=bytes.fromhex(codebook.identifier),
                          storage=EMBEDDED if embed else REFERENCED, version=2)
    blocks = [shared_ans_block(part, table, lanes=lane_count(part, table), version=2)
              for part in (data[i : i + block_size] for i in range(0, len(data), block_size))]
    return ans_frame(*blocks, section=section, block_size=block_size, version=2)


def check_ans_choices(data: bytes, packed: bytes, block_size: int,
                      codebook: huffkit.Codebook | None, embed: bool) -> Frame:
    """Section 14.5's observable choices (and section 11's that carry over), one by one."""
    (frame,) = parse(packed, **_given(codebook))  # one frame per call
    _check_blocks_cut(data, frame, block_size, streams=False)
    if codebook is None:
        assert frame.flags == FLAG_ANS and frame.codebook is None
        for block in frame.blocks:
            assert block.block_type == ANS_BLOCK
            assert block.table == own_table(block.data, version=2)
    else:
        weights = _weights_of(codebook)
        assert frame.flags == FLAG_ANS | FLAG_CODEBOOK
        assert frame.codebook.storage == (EMBEDDED if embed else REFERENCED)
        assert frame.codebook.identifier == bytes.fromhex(codebook.identifier)
        assert frame.codebook.table.precision == shared_precision(weights)
        assert frame.codebook.table == shared_table(weights)
        assert all(block.block_type == SHARED_TABLE_BLOCK for block in frame.blocks)
    exact = True  # floats cannot settle K within rounding of 100 000, 150 000, ... bits
    for block in frame.blocks:
        ratio = ideal_payload_bits(block.data, block.table) / BITS_PER_SPARE_LANE
        if round(ratio) >= 2 and abs(ratio - round(ratio)) < 1e-9:
            exact = False
        else:
            assert len(block.states) == lane_count(block.data, block.table)
    if exact:  # then every byte, states and words included, is section 14's
        assert packed == rebuild_ans_frame(data, block_size, codebook, embed)
    if not data and codebook is None:
        assert len(packed) == 16
    return frame


@pytest.mark.parametrize(("name", "block_size", "codebook", "embed"), ANS_CASES, ids=ANS_IDS)
def test_reference_decodes_huffkit_ans_output(name, block_size, codebook, embed):
    data, packed = ANS_INPUTS[name], _ans_compressed(name, block_size, codebook, embed)
    model = None if codebook is None else _ans_codebook(codebook)
    given = _given(model) if codebook is not None and not embed else {}
    assert reference_decode(packed, **given) == data
    assert huffkit.decompress(packed, codebook=None if embed else model) == data
    if codebook is not None and not embed:  # K5: a referenced table needs its codebook
        with pytest.raises(SpecViolation) as violation:
            reference_decode(packed)
        assert violation.value.rule == "K5"
        with pytest.raises(huffkit.CodebookError):
            huffkit.decompress(packed)


@pytest.mark.parametrize(("name", "block_size", "codebook", "embed"), ANS_CASES, ids=ANS_IDS)
def test_ans_encoder_choices_of_section_14_5(name, block_size, codebook, embed):
    model = None if codebook is None else _ans_codebook(codebook)
    check_ans_choices(ANS_INPUTS[name], _ans_compressed(name, block_size, codebook, embed),
                      block_size, model, embed)


ABRACADABRA_ANS_HEX = """
89 48 55 46 01 02 00 00 10 00 d7 c4 93 5d 03 0b
00 00 00 b7 f9 ea 17 10 00 00 00 00 00 00 00 00
00 00 00 00 78 00 20 00 00 00 00 00 00 00 00 00
00 00 00 00 00 00 00 00 dc e8 01 8b 5d c5 2e c5
2e 8a 5d 01 00 00 00 00 00 22 67 40 5b ee 11 57
00 00 0b 00 00 00 00 00 00 00
"""


def test_rans_golden_vector():
    """``compress(b"abracadabra", coder="ans")``, worked out from sections 14.1 to 14.5.

    M q gives a 29789.09, b and r 11915.64, c and d 5957.82; the floors sum to 65 533, and
    the 3 missing units go where q log2((f + 1) / f) is greatest: c, then d (the tie goes to
    the smaller byte value), then b. 11 symbols cost about 22.9 bits: K = 1, and the lane's
    state grows from 2^32 to 0x005711EE5B406722 without emitting a word (W = 0).
    """
    packed = bytes.fromhex(ABRACADABRA_ANS_HEX)  # version 1: huffkit 0.3 and 0.4 wrote it
    assert huffkit.decompress(packed) == ABR
    (frame,) = parse(packed)
    (block,) = frame.blocks
    assert frame.flags == FLAG_ANS and block.block_type == ANS_BLOCK
    assert block.table == FreqTable(16, {A: 29789, B: 11916, R: 11915, C: 5958, D: 5958})
    assert block.states == [0x005711EE5B406722] and block.words == []
    assert packed[56:67] == bytes.fromhex("dce801 8b5d c52e c52e 8a5d")  # LEB128 of f - 1
    assert reference_decode(packed) == ABR


def test_flag_bits_of_each_coder():
    model = _ans_codebook("readme-ans")
    assert huffkit.compress(b"hello")[5] == 0x00
    assert huffkit.compress(b"hello", codebook=model)[5] == FLAG_CODEBOOK
    assert huffkit.compress(b"hello", coder="ans")[5] == FLAG_ANS
    for embed in (True, False):
        packed = huffkit.compress(b"hello", coder="ans", codebook=model, embed_codebook=embed)
        assert packed[5] == FLAG_ANS | FLAG_CODEBOOK
        assert packed[14 + 8] == (EMBEDDED if embed else REFERENCED)


def test_own_tables_have_the_chosen_precision_and_lanes_follow_the_payload():
    """K = max(ideal bits // 100 000, ceil(n / 131 072), min(4, spare)) (section 14.5): 4
    lanes for 30 000 random bytes (240 000 bits), and for 67 500 rare bytes (4 by their
    number, their payload being over 20 000 bits).  Section 17.5's precision: 8 for the
    random bytes (every frequency 1: a table of a few bytes, and a payload of 8 bits a byte,
    some 20 bytes over the data's entropy), 16 for the rare bytes (whose common ones need the
    finer model), 10 for 4 KB of text."""
    for name, lanes, precision in [("random-30k", 4, 8), ("rare-bytes-70k", 4, 16),
                                   ("english-4k", 1, 10)]:
        (frame,) = parse(_ans_compressed(name, DEFAULT_BLOCK_SIZE, None, True))
        (block,) = frame.blocks
        assert block.table == own_table(block.data, version=2)
        assert block.table.precision == precision
        assert len(block.states) == lanes == lane_count(block.data, block.table)


def test_a_byte_block_takes_precision_12_where_it_costs_at_most_1_1024_more():
    """Section 17.5: 106 KB of English text is smallest at precision 13 (table and ideal
    payload), and 12 costs less than 1/1024 more, so its block takes 12; 67 500 bytes of
    four common values and 252 rare ones lose 3.7% at 12 and keep the searched 16."""
    text = huffkit.corpora.path("english.txt").read_bytes() * 4
    searched = own_table(text, version=2, prefer_12=False)
    assert searched.precision == 13
    (frame,) = parse(huffkit.compress(text, coder="ans"))
    (block,) = frame.blocks
    assert block.table == own_table(text, version=2) == quantise(Counter(text), 12)
    bits = [len(compact_freq_bits(table)) + ideal_payload_bits(text, table)
            for table in (block.table, searched)]
    assert bits[1] < bits[0] <= bits[1] * (1 + 1 / 1024)
    rare = ANS_INPUTS["rare-bytes-70k"]
    assert own_table(rare, version=2) == own_table(rare, version=2, prefer_12=False)
    assert own_table(rare, version=2).precision == 16
    loss = (ideal_payload_bits(rare, quantise(Counter(rare), 12))
            / ideal_payload_bits(rare, quantise(Counter(rare), 16)))
    assert 1.03 < loss < 1.04


def test_quantisation_takes_units_away():
    """Both directions of section 14.5's quantisation are exercised, and match huffkit's."""
    (frame,) = parse(_ans_compressed("rare-bytes-70k", DEFAULT_BLOCK_SIZE, None, True))
    (block,) = frame.blocks
    assert _units_taken_away(Counter(block.data), OWN_TABLE_PRECISION) > 0
    assert all(block.table.freqs[value] == 1 for value in range(4, 256))
    assert block.table == own_table(block.data)
    model = _ans_codebook("tiny-alpha-ans")
    (frame,) = parse(_ans_compressed("readme-head", DEFAULT_BLOCK_SIZE, "tiny-alpha-ans", True))
    assert frame.codebook.table.precision == MAX_PRECISION
    assert _units_taken_away(_weights_of(model), MAX_PRECISION) > 0
    assert frame.codebook.table == shared_table(_weights_of(model))
    # and units added: the golden vector's table (test_rans_golden_vector) needs 3 more.
    assert _units_taken_away(Counter(ABR), OWN_TABLE_PRECISION) == 0


def test_shared_table_precision_above_16():
    """ceil(-log2 q_min) + 2 for a skewed smoothed model: above 16, at most 24."""
    model = _ans_codebook("skewed-ans")
    (frame,) = parse(_ans_compressed("english-4k", 7, "skewed-ans", False), **_given(model))
    assert 16 < frame.codebook.table.precision == shared_precision(_weights_of(model)) <= 24


def test_referenced_and_embedded_frames_share_the_table():
    """The table a decoder rebuilds for a referenced frame is the one the embedded frame
    stores (section 14: the quantisation is exact and machine-independent)."""
    model = _ans_codebook("readme-ans")
    embedded_frame, = parse(_ans_compressed("english-4k", DEFAULT_BLOCK_SIZE, "readme-ans", True))
    assert embedded_frame.codebook.table == shared_table(_weights_of(model))
    referenced_packed = _ans_compressed("english-4k", DEFAULT_BLOCK_SIZE, "readme-ans", False)
    # Given the embedded frame's table instead of weights, the referenced frame decodes too.
    assert (reference_decode(referenced_packed, model.lengths,
                             weights=embedded_frame.codebook.table)
            == ANS_INPUTS["english-4k"])


@given(data=st.binary(max_size=600), block_size=st.integers(1, 700),
       other=st.binary(max_size=400), use=st.sampled_from(["own", "embedded", "referenced"]))
def test_property_reference_decodes_huffkit_ans_output(data, block_size, other, use):
    model = None if use == "own" else _ans_model(other)
    embed = use != "referenced"
    packed = huffkit.compress(data, block_size=block_size, codebook=model, embed_codebook=embed,
                              coder="ans")
    assert reference_decode(packed, **({} if embed else _given(model))) == data
    check_ans_choices(data, packed, block_size, model, embed)


@given(data=st.binary(min_size=1, max_size=300), lanes=st.integers(1, 40),
       precision=st.integers(9, 24), extra=st.binary(max_size=8))
def test_property_reference_encoder_blocks_decode_in_both(data, lanes, precision, extra):
    """Blocks huffkit never writes (any K, any precision, a table wider than the block's
    bytes in a 0x04 block), coded by the reference encoder: both decoders read them."""
    lanes = min(lanes, len(data))
    own = quantise(Counter(data), precision)
    shared = quantise(Counter(data + extra), precision)
    packed = ans_frame(ans_block(data, own, lanes=lanes), shared_ans_block(data, shared,
                                                                           lanes=lanes),
                       section=ans_section(shared))
    assert reference_decode(packed) == data * 2 == huffkit.decompress(packed)


# -- section 14: hand-made rANS streams the encoder never writes, but the format allows ------

T4 = FreqTable(4, {A: 8, B: 4, C: 1, D: 1, R: 2})  # precision 4; c and d of frequency 1
P1 = FreqTable(1, {A: 1, B: 1})  # the smallest precision: M = 2
TEXT = README.read_bytes()[:200]  # long enough for words: one lane takes 27 of them
TEXT_WORDS = ans_encode(TEXT, own_table(TEXT), 1)[1]
LANES_DATA = bytes(random.Random(5).choices(b"abcdefgh", k=MAX_LANES + 1))
#: A model for referenced frames: huffkit decoders rebuild its table from its distribution.
ANS_MODEL = huffkit.Codebook.from_distribution(huffkit.Distribution.from_counts(
    [5 if value == A else 2 if value in (B, R) else 1 if value in (C, D) else 0
     for value in range(256)]))
MODEL_TABLE = shared_table(_weights_of(ANS_MODEL))
MODEL_SECTION = ans_section(MODEL_TABLE, identifier=bytes.fromhex(ANS_MODEL.identifier),
                            storage=REFERENCED)
OTHER_MODEL = _ans_model(b"another model")


def _high_state_block() -> tuple[bytes, FreqTable]:
    """A block starting at a state of 2^63 or more, all 64 bits in use: its first byte, 0x00,
    has frequency 1, so coding it last multiplies a state below 2^48 by M = 2^16."""
    for size in range(1, len(TEXT)):
        data = b"\x00" + TEXT[:size]
        table = quantise({**Counter(TEXT[:size]), 0: Fraction(1, 10**9)}, 16)
        if ans_encode(data, table, 1)[0][0] >= 1 << 63:
            return data, table
    raise AssertionError("no prefix of TEXT gives a state of 2^63 or more")


HIGH_STATE_DATA, HIGH_STATE_TABLE = _high_state_block()

ANS_VALID_CASES = [  # (packed, expected, codebook given to both decoders)
    pytest.param(ans_frame(ans_block(ABR, lanes=3)), ABR, None, id="K-3-lanes-11-symbols"),
    pytest.param(ans_frame(ans_block(ABR, lanes=11)), ABR, None, id="K-11-one-symbol-a-lane"),
    pytest.param(ans_frame(ans_block(TEXT, lanes=7)), TEXT, None, id="K-7-lanes-with-words"),
    pytest.param(ans_frame(ans_block(LANES_DATA, lanes=MAX_LANES)), LANES_DATA, None,
                 id="K-4096-lanes"),
    pytest.param(ans_frame(ans_block(ABR, quantise(Counter(ABR), 12))), ABR, None,
                 id="precision-12"),
    pytest.param(ans_frame(ans_block(TEXT, quantise(Counter(TEXT), 24), lanes=2)), TEXT, None,
                 id="precision-24"),
    pytest.param(ans_frame(ans_block(b"abba", P1)), b"abba", None, id="precision-1"),
    pytest.param(ans_frame(ans_block(ABR, T4)), ABR, None, id="precision-4-non-optimal-table"),
    pytest.param(ans_frame(ans_block(TEXT, quantise(dict.fromkeys(set(TEXT), 1), 16))), TEXT,
                 None, id="uniform-table-for-text"),
    pytest.param(ans_frame(ans_block(b"zzzz", lanes=3)), b"zzzz", None,
                 id="frequency-M-states-stay-at-L"),
    pytest.param(ans_frame(ans_block(b"aaaaa", FreqTable(24, {A: 1 << 24}), lanes=2)), b"aaaaa",
                 None, id="frequency-2^24-four-byte-number"),
    pytest.param(ans_frame(ans_block(ABR, T4, table_bytes=freq_table(
        T4, numbers={C: b"\x80\x80\x80\x00", A: b"\x87\x00"}))), ABR, None,
                 id="leb128-not-minimal"),  # 14.1 limits the length, not the form
    pytest.param(ans_frame(ans_block(HIGH_STATE_DATA, HIGH_STATE_TABLE)), HIGH_STATE_DATA, None,
                 id="starting-state-above-2^63"),
    pytest.param(ans_frame(ans_block(b"a"), ans_block(b"b"), ans_block(b"a"), block_size=1),
                 b"aba", None, id="block-size-1"),
    pytest.param(ans_frame(ans_block(b"abc"), ans_block(b"dd"), ans_block(ABR), block_size=11),
                 b"abcdd" + ABR, None, id="blocks-shorter-than-block-size"),
    pytest.param(ans_frame(ans_block(b"q"), block_size=MAX_BLOCK_SIZE), b"q", None,
                 id="max-block-size"),
    pytest.param(ans_frame(), b"", None, id="empty-rans-frame"),
    pytest.param(ans_frame(section=ans_section(T4)), b"", None, id="empty-frame-with-section"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4), shared_ans_block(b"aaaa", T4, lanes=2),
                           section=ans_section(T4)), ABR + b"aaaa", None,
                 id="shared-table-codes-absent-bytes"),  # no A5 for type 0x04
    pytest.param(ans_frame(ans_block(b"xyz"), shared_ans_block(ABR, T4, lanes=2),
                           ans_block(TEXT, lanes=2), section=ans_section(T4)),
                 b"xyz" + ABR + TEXT, None, id="own-and-shared-blocks-mixed"),
    pytest.param(ans_frame(ans_block(ABR), section=ans_section(T4)), ABR, None,
                 id="section-no-shared-blocks"),
    pytest.param(ans_frame(shared_ans_block(b"abba", P1), section=ans_section(P1)), b"abba", None,
                 id="section-precision-1"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4), section=ans_section(T4,
                                                                          identifier=b"\xff" * 8)),
                 ABR, None, id="embedded-identifier-not-checked"),  # K4 does not apply
    pytest.param(ans_frame(shared_ans_block(ABR, MODEL_TABLE, lanes=2), section=MODEL_SECTION),
                 ABR, ANS_MODEL, id="referenced-shared-table"),
    pytest.param(ans_frame(ans_block(TEXT), section=MODEL_SECTION), TEXT, ANS_MODEL,
                 id="referenced-only-own-blocks"),
    pytest.param(GOLDEN + ans_frame(ans_block(ABR)), ABR * 2, None, id="huffman-then-rans-frame"),
    pytest.param(ans_frame(ans_block(ABR)) + GOLDEN, ABR * 2, None, id="rans-then-huffman-frame"),
    pytest.param(ans_frame(ans_block(ABR)) + cb_frame(shared_block(b"abc", CB))
                 + ans_frame(shared_ans_block(ABR, T4), section=ans_section(T4)),
                 ABR + b"abc" + ABR, None, id="rans-huffman-codebook-rans-codebook-frames"),
]


@pytest.mark.parametrize(("packed", "expected", "codebook"), ANS_VALID_CASES)
def test_hand_made_valid_rans_streams(packed, expected, codebook):
    assert reference_decode(packed, **_given(codebook)) == expected
    assert huffkit.decompress(packed, codebook=codebook) == expected


def test_hand_made_streams_use_the_whole_state():
    """The cases above reach states of 2^63 and more, and a block where no lane takes a word."""
    (frame,) = parse(ans_frame(ans_block(HIGH_STATE_DATA, HIGH_STATE_TABLE)))
    assert frame.blocks[0].states[0] >= 1 << 63
    (frame,) = parse(ans_frame(ans_block(b"zzzz", lanes=3)))
    assert frame.blocks[0].states == [ANS_L] * 3 and frame.blocks[0].words == []


def test_same_identifier_other_distribution_is_caught_by_the_table_identifier():
    """Section 14: the identifier names the codebook by its code lengths, so a codebook with
    the same lengths but other weights matches it; the table identifier of a referenced
    section then tells the rebuilt table from the frame's (K5, huffkit: CodebookError)."""
    lookalike = huffkit.Codebook.from_distribution(huffkit.Distribution.from_counts(
        [9 if value == A else 2 if value in (B, R) else 1 if value in (C, D) else 0
         for value in range(256)]))
    assert lookalike.identifier == ANS_MODEL.identifier
    assert shared_table(_weights_of(lookalike)) != MODEL_TABLE
    packed = ans_frame(shared_ans_block(ABR * 3, MODEL_TABLE), section=MODEL_SECTION)
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed, **_given(lookalike))
    assert violation.value.rule == "K5"
    with pytest.raises(huffkit.CodebookError, match="its code lengths match, its distribution "
                                                    "does not"):
        huffkit.decompress(packed, codebook=lookalike)


def test_lengths_only_codebook_uses_the_implied_distribution():
    """Not in FORMAT.md: section 14 rebuilds a table from "the codebook's distribution", but a
    codebook made from lengths alone has none; huffkit then quantises 2^-length (observed)."""
    lengths_only = huffkit.Codebook.from_lengths(ANS_MODEL.lengths)
    assert lengths_only.distribution is None
    implied = {value: Fraction(1, 1 << int(length))
               for value, length in enumerate(lengths_only.lengths) if length}
    for embed in (True, False):
        packed = huffkit.compress(ABR, coder="ans", codebook=lengths_only, embed_codebook=embed)
        (frame,) = parse(packed, lengths_only.lengths, weights=implied)
        assert frame.codebook.table == shared_table(implied)
        assert huffkit.decompress(packed, codebook=None if embed else lengths_only) == ABR


# -- section 14.4: one hand-made fault per rule ------------------------------------------------

ANS_SECTION = ans_section(T4)
REF_FRAME = ans_frame(shared_ans_block(ABR, MODEL_TABLE), section=MODEL_SECTION)


def _ans_section_with(table_bytes: bytes) -> bytes:
    """An embedded section holding these table bytes, its CRC right (only A1 fires)."""
    return ans_section(None, table_bytes=table_bytes)


ANS_INVALID_CASES = [  # (packed, rule, codebook given to both decoders)
    # A1: the frequency table, in a block ...
    pytest.param(ans_frame(ans_block(ABR, T4, table_bytes=freq_table(T4, precision=0))), "A1",
                 None, id="A1-precision-0"),
    pytest.param(ans_frame(ans_block(b"abab", FreqTable(25, {A: 1 << 24, B: 1 << 24}))), "A1",
                 None, id="A1-precision-25"),
    pytest.param(ans_frame(ans_block(ABR, T4, table_bytes=freq_table(T4, numbers={A: b"\x06"}))),
                 "A1", None, id="A1-sum-below-M"),
    pytest.param(ans_frame(ans_block(ABR, T4, table_bytes=freq_table(T4, numbers={A: b"\x08"}))),
                 "A1", None, id="A1-sum-above-M"),
    pytest.param(ans_frame(ans_block(b"ab", P1, table_bytes=freq_table(P1, precision=2))), "A1",
                 None, id="A1-sum-half-of-M"),
    pytest.param(ans_frame(ans_block(ABR, T4, table_bytes=bytes([4]) + bytes(32))), "A1", None,
                 id="A1-no-bitmap-bit"),
    pytest.param(ans_frame(ans_block(ABR, T4, table_bytes=freq_table(
        T4, numbers={C: b"\x80\x80\x80\x80\x00"}))), "A1", None, id="A1-5-byte-number"),
    # ... or embedded in the codebook section (its section_crc right: only A1 fires).
    pytest.param(ans_frame(shared_ans_block(ABR, T4),
                           section=_ans_section_with(freq_table(T4, precision=0))), "A1", None,
                 id="A1-section-precision-0"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4),
                           section=_ans_section_with(freq_table(T4, precision=25))), "A1", None,
                 id="A1-section-precision-25"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4),
                           section=_ans_section_with(freq_table(T4, numbers={D: b"\x01"}))),
                 "A1", None, id="A1-section-sum-above-M"),
    pytest.param(ans_frame(section=_ans_section_with(bytes([16]) + bytes(32))), "A1", None,
                 id="A1-section-no-bitmap-bit"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4), section=_ans_section_with(
        freq_table(T4, numbers={D: b"\x80\x80\x80\x80\x00"}))), "A1", None,
                 id="A1-section-5-byte-number"),
    # A2
    pytest.param(ans_frame(ans_block(ABR, states=[])), "A2", None, id="A2-K-0"),
    pytest.param(ans_frame(ans_block(b"abc", lanes=4)), "A2", None, id="A2-K-above-n"),
    pytest.param(ans_frame(ans_block(LANES_DATA, lanes=MAX_LANES + 1)), "A2", None,
                 id="A2-K-4097-above-4096"),
    pytest.param(ans_frame(ans_block(b"abc", words=[0, 0, 0, 0])), "A2", None,
                 id="A2-W-above-n"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4, states=[]), section=ANS_SECTION), "A2", None,
                 id="A2-shared-K-0"),
    # A3
    pytest.param(ans_frame(ans_block(ABR, states=[ANS_L - 1])), "A3", None,
                 id="A3-state-2^32-1"),
    pytest.param(ans_frame(ans_block(ABR, states=[0])), "A3", None, id="A3-state-0"),
    pytest.param(ans_frame(ans_block(ABR, lanes=2, states=[
        ans_encode(ABR, own_table(ABR), 2)[0][0], ANS_L >> 1])), "A3", None,
                 id="A3-second-lane"),
    # A4
    pytest.param(ans_frame(ans_block(TEXT, words=TEXT_WORDS[:-1])), "A4", None,
                 id="A4-words-run-out"),
    pytest.param(ans_frame(ans_block(TEXT, words=[])), "A4", None, id="A4-no-words"),
    pytest.param(ans_frame(ans_block(TEXT, words=[*TEXT_WORDS, 0])), "A4", None,
                 id="A4-a-word-left-over"),
    pytest.param(ans_frame(ans_block(TEXT, start=ANS_L + 1)), "A4", None,
                 id="A4-lane-ends-at-2^32+1"),
    pytest.param(ans_frame(ans_block(TEXT, lanes=3, start=[ANS_L, ANS_L, 1 << 40])), "A4", None,
                 id="A4-third-lane-ends-at-2^40"),
    pytest.param(ans_frame(shared_ans_block(TEXT, own_table(TEXT), start=ANS_L << 1),
                           section=ans_section(own_table(TEXT))), "A4", None,
                 id="A4-shared-lane-ends-at-2^33"),
    # A5
    pytest.param(ans_frame(ans_block(b"aab", FreqTable(4, {A: 8, B: 4, C: 4}))), "A5", None,
                 id="A5-own-table-codes-absent-byte"),
    pytest.param(ans_frame(ans_block(b"aaaa", P1, lanes=2)), "A5", None,
                 id="A5-precision-1-absent-byte"),
    # A6
    pytest.param(ans_frame(ans_block(ABR, crc=zlib.crc32(ABR) ^ 1)), "A6", None, id="A6-crc"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4, crc=0), section=ANS_SECTION), "A6", None,
                 id="A6-shared-crc"),
    pytest.param(ans_frame(shared_ans_block(ABR, MODEL_TABLE, crc=0), section=MODEL_SECTION),
                 "A6", ANS_MODEL, id="A6-referenced-crc"),
    # B1, B2, B5, H4
    pytest.param(frame(ans_block(ABR)), "B1", None, id="B1-ans-block-in-huffman-frame"),
    pytest.param(cb_frame(shared_ans_block(ABR, T4)), "B1", None,
                 id="B1-type-0x04-in-huffman-codebook-frame"),
    pytest.param(ans_frame(huffman_block(ABR)), "B1", None, id="B1-type-0x01-in-rans-frame"),
    pytest.param(ans_frame(shared_block(b"abc", CB), section=ANS_SECTION), "B1", None,
                 id="B1-type-0x02-in-rans-frame"),
    pytest.param(ans_frame(patch(ans_block(ABR), 0, 0x05)), "B1", None,
                 id="B1-type-0x05-in-rans-frame"),
    pytest.param(ans_frame(ans_block(ABR, symbols=0)), "B2", None, id="B2-ans-symbols-0"),
    pytest.param(ans_frame(ans_block(ABR), block_size=10), "B2", None,
                 id="B2-ans-symbols-above-block-size"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4, symbols=0), section=ANS_SECTION), "B2", None,
                 id="B2-shared-symbols-0"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4)), "B5", None,
                 id="B5-type-0x04-without-section"),
    pytest.param(ans_frame(ans_block(ABR), flags=0x0E), "H4", None, id="H4-flags-0x0e"),
    pytest.param(ans_frame(ans_block(ABR), flags=0x42), "H4", None, id="H4-flags-0x42"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4), section=ANS_SECTION, flags=0x83), "H4",
                 None, id="H4-flags-0x83"),
    # K1, K3, K5 for an rANS frame's codebook section
    pytest.param(ans_frame(shared_ans_block(ABR, T4),
                           section=ans_section(T4, storage=2, table_bytes=freq_table(T4))), "K1",
                 None, id="K1-storage-2"),
    pytest.param(ans_frame(shared_ans_block(ABR, MODEL_TABLE),
                           section=ans_section(None, storage=0xFF, table_bytes=b"")), "K1",
                 ANS_MODEL, id="K1-storage-0xff"),
    pytest.param(ans_frame(shared_ans_block(ABR, T4), section=bad_crc(ANS_SECTION)), "K3", None,
                 id="K3-section-crc"),
    pytest.param(ans_frame(shared_ans_block(ABR, MODEL_TABLE), section=bad_crc(MODEL_SECTION)),
                 "K3", ANS_MODEL, id="K3-referenced-section-crc"),
    pytest.param(REF_FRAME, "K5", None, id="K5-referenced-not-given"),
    pytest.param(REF_FRAME, "K5", OTHER_MODEL, id="K5-another-codebook-given"),
    pytest.param(ans_frame(section=MODEL_SECTION), "K5", None, id="K5-no-blocks-not-given"),
    pytest.param(ans_frame(ans_block(ABR)) + REF_FRAME, "K5", None, id="K5-second-frame"),
    # E1
    pytest.param(ans_frame(ans_block(ABR), total=12), "E1", None, id="E1-total-too-large"),
    pytest.param(ans_frame(ans_block(b"xyz"), shared_ans_block(ABR, T4), section=ANS_SECTION,
                           total=3), "E1", None, id="E1-shared-block-not-counted"),
    pytest.param(ans_frame(total=1), "E1", None, id="E1-empty-rans-frame-total-1"),
    # S2
    pytest.param(ans_frame(ans_block(ABR))[:30], "S2", None, id="S2-inside-frequency-table"),
    pytest.param(ans_frame(ans_block(TEXT))[:-20 - 4 * len(TEXT_WORDS)], "S2", None,
                 id="S2-inside-states"),
    pytest.param(ans_frame(ans_block(TEXT))[:-20], "S2", None, id="S2-inside-words"),
    pytest.param(ans_frame(section=ANS_SECTION)[:40], "S2", None, id="S2-inside-section-table"),
]


@pytest.mark.parametrize(("packed", "rule", "codebook"), ANS_INVALID_CASES)
def test_invalid_rans_frame_is_rejected_by_both(packed, rule, codebook):
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed, **_given(codebook))
    assert violation.value.rule == rule
    with pytest.raises(EXPECTED_ERROR.get(rule, huffkit.FormatError)):
        huffkit.decompress(packed, codebook=codebook)


# -- section 14: every bit flip and every truncation of small rANS frames ----------------------

ANS_FLIP_FRAMES = {  # name -> (packed, codebook given to both decoders, data)
    "own-tables": (huffkit.compress(b"abracadabra, said the cat" * 2, block_size=30,
                                    coder="ans"), None, b"abracadabra, said the cat" * 2),
    "codebook-embedded": (huffkit.compress(ABR * 2, block_size=12, codebook=SMALL_CODEBOOK,
                                           coder="ans"), None, ABR * 2),
    "codebook-referenced": (huffkit.compress(ABR * 2, block_size=12, codebook=SMALL_CODEBOOK,
                                             embed_codebook=False, coder="ans"),
                            SMALL_CODEBOOK, ABR * 2),
}


@pytest.mark.parametrize("name", ANS_FLIP_FRAMES)
def test_every_bit_flip_of_a_rans_frame_accepted_or_rejected_alike(name):
    """Both decoders accept or reject each single-bit flip alike, with the same output, and
    huffkit never returns other bytes than the original data."""
    packed, codebook, data = ANS_FLIP_FRAMES[name]
    # The table the reference rebuilds for the referenced frame, rebuilt once, not per flip.
    weights = None if codebook is None else shared_table(_weights_of(codebook))
    reference = functools.partial(reference_decode,
                                  codebook=None if codebook is None else codebook.lengths,
                                  weights=weights)
    assert reference(packed) == data == huffkit.decompress(packed, codebook=codebook)
    for position in range(len(packed) * 8):
        damaged = patch(packed, position // 8, packed[position // 8] ^ (0x80 >> position % 8))
        ours = _outcome(functools.partial(huffkit.decompress, codebook=codebook), damaged)
        assert ours == _outcome(reference, damaged), f"bit {position} flipped: {damaged.hex()}"
        assert ours in (None, data), f"bit {position} flipped: {damaged.hex()}"


@pytest.mark.parametrize("name", ANS_FLIP_FRAMES)
def test_every_proper_prefix_of_a_rans_frame_is_truncated(name):
    packed, codebook, _ = ANS_FLIP_FRAMES[name]
    for end in range(1, len(packed)):
        with pytest.raises(SpecViolation) as violation:
            reference_decode(packed[:end], **_given(codebook))
        assert violation.value.rule == "S2"
        with pytest.raises(huffkit.TruncatedError):
            huffkit.decompress(packed[:end], codebook=codebook)


# -- section 15: alphabets, huffkit output under the document's rules ------------------------

#: Section 15, "What huffkit's encoder chooses": the default code length limits.
DEFAULT_LIMIT = {BYTES: 15, PAIRS: 20, UTF8: 24}
ALPHABET_OF = {"bytes": BYTES, "utf8": UTF8, "pairs": PAIRS}

ENGLISH = ("The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor "
           "jugs. ")
KOREAN = ("다람쥐 헌 쳇바퀴에 타고파. 키스의 고유조건은 입술끼리 만나야 하고 특별한 기술은 "
          "필요치 않다. ")
GREEK = ("Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Γαζέες καὶ μυρτιὲς δὲν θὰ βρῶ πιὰ στὸ χρυσαφὶ "
         "ξέφωτο. ")
EMOJI = "🦀🐍 emoji 😀😃😄 🎉🎊 𝄞 𠜎𠀀 🇰🇷 "  # 4-byte characters (and 1-byte ones)
MIXED = (ENGLISH + KOREAN + GREEK + EMOJI).encode()
assert len(MIXED) % 2 == 0  # so MIXED + b"!" ends with a pairs single byte
SHORT = "가é😀a".encode()  # characters of 3, 2, 4 and 1 bytes

ALPHABET_INPUTS = {
    "empty": b"",
    "ascii": ENGLISH.encode() * 3,
    "korean": KOREAN.encode() * 2,
    "greek": GREEK.encode() * 2,
    "emoji": EMOJI.encode() * 2,
    "one-emoji": "😀".encode(),
    "short": SHORT,
    "one-byte": b"!",  # pairs: the single-byte symbol alone
    "mixed": MIXED,
    "mixed-odd": MIXED + b"!",  # pairs: ends with the symbol 65 536 + 0x21
    "short-odd": SHORT * 4 + b"!",
    "abracadabra": ABR,  # 11 bytes
    "random-odd": random.Random(15).randbytes(301),  # pairs only: not UTF-8
}
#: Each alphabet codebook's corpus holds every symbol of the inputs it is used with (a model
#: of utf8 or pairs symbols gives no code to the symbols it has not seen); a pairs corpus keeps
#: the inputs' pairs at even offsets and ends with the single byte b"!".
UTF8_CORPUS = MIXED * 2 + SHORT + "Ωμέγα ψ 한글 🌍".encode()
PAIRS_CORPUS = MIXED * 3 + b"zz" * 40 + SHORT * 4 + b"!"

ALPHABET_CODEBOOKS = {
    "utf8-L24": lambda: huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(UTF8_CORPUS, alphabet="utf8"), max_code_length=24),
    "utf8-L20": lambda: huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(MIXED + GREEK.encode() * 5 + SHORT, alphabet="utf8"),
        max_code_length=20),
    "pairs-L20": lambda: huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(PAIRS_CORPUS, alphabet="pairs"), max_code_length=20),
    "pairs-L24": lambda: huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(MIXED + SHORT * 4 + b"!", alphabet="pairs"),
        max_code_length=24),
}


@functools.cache
def _alphabet_codebook(name: str) -> huffkit.Codebook:
    return ALPHABET_CODEBOOKS[name]()


def _alphabet_given(codebook: huffkit.Codebook | None, coder: str) -> dict:
    """What the reference decoder is given for a frame that references ``codebook``: the code,
    and for an rANS frame the weights its table is rebuilt from (section 14)."""
    if codebook is None:
        return {}
    return _given(codebook) if coder == "ans" else {"codebook": codebook.lengths}


def alphabet_cuts(data: bytes, alphabet: Alphabet, block_size: int) -> list[bytes]:
    """Section 15's blocks: at most ``block_size`` bytes, ending between symbols (pairs: after
    an even number of bytes but at the very end; utf8: before a byte that starts a character),
    each as long as that allows (the longest such block: not written in FORMAT.md, observed)."""
    parts, start = [], 0
    while start < len(data):
        end = min(start + block_size, len(data))
        if end < len(data) and alphabet is PAIRS:
            end -= (end - start) % 2
        while end < len(data) and alphabet is UTF8 and data[end] & 0xC0 == 0x80:
            end -= 1  # a continuation byte: the block would end inside a character
        parts.append(data[start:end])
        start = end
    return parts


def rebuild_alphabet_frame(data: bytes, alphabet: Alphabet, block_size: int, *, coder: str,
                           max_code_length: int | None = None,
                           codebook: huffkit.Codebook | None = None, embed: bool = True) -> bytes:
    """The frame sections 11, 14.5 and 15 say huffkit writes, byte for byte."""
    parts = alphabet_cuts(data, alphabet, block_size)
    values = [bytes_to_symbols(part, alphabet) for part in parts]
    storage = EMBEDDED if embed else REFERENCED
    if coder == "ans":
        if codebook is None:
            blocks = [ans_block(part, alphabet=alphabet, values=symbols, version=2,
                                lanes=lane_count(symbols,
                                                 own_table(symbols, alphabet, version=2)))
                      for part, symbols in zip(parts, values, strict=True)]
            return ans_frame(*blocks, block_size=block_size, alphabet=alphabet, version=2)
        table = shared_table(_weights_of(codebook))
        section = ans_section(table, identifier=bytes.fromhex(codebook.identifier),
                              storage=storage, alphabet=alphabet, version=2)
        blocks = [shared_ans_block(part, table, alphabet=alphabet, values=symbols,
                                   lanes=lane_count(symbols, table), version=2)
                  for part, symbols in zip(parts, values, strict=True)]
        return ans_frame(*blocks, section=section, block_size=block_size, alphabet=alphabet,
                         version=2)
    limit = DEFAULT_LIMIT[alphabet] if max_code_length is None else max_code_length
    streams = [4 if len(symbols) >= FOUR_STREAMS_FROM else 1 for symbols in values]
    if codebook is None:
        blocks = [huffman_block(part, section11_lengths(symbols, limit), alphabet=alphabet,
                                values=symbols, streams=count, version=2)
                  for part, symbols, count in zip(parts, values, streams, strict=True)]
        return frame(*blocks, block_size=block_size, alphabet=alphabet, version=2)
    lengths = as_lengths(codebook.lengths)
    blocks = [shared_block(part, lengths, alphabet=alphabet, values=symbols, streams=count,
                           version=2)
              for part, symbols, count in zip(parts, values, streams, strict=True)]
    return frame(*blocks, section=codebook_section(lengths, storage=storage, alphabet=alphabet),
                 block_size=block_size, alphabet=alphabet, version=2)


def check_alphabet_choices(data: bytes, packed: bytes, alphabet: Alphabet, block_size: int, *,
                           coder: str = "huffman", max_code_length: int | None = None,
                           codebook: huffkit.Codebook | None = None, embed: bool = True) -> Frame:
    """Section 15's observable encoder choices (and those of sections 11 and 14.5)."""
    (frame,) = parse(packed, **_alphabet_given(codebook, coder))  # one frame per call
    flags = alphabet.flag | (FLAG_ANS if coder == "ans" else 0)
    assert frame.flags == flags | (0 if codebook is None else FLAG_CODEBOOK)
    symbols = len(bytes_to_symbols(data, alphabet))
    assert frame.alphabet is alphabet
    assert frame.block_size == declared_block_size(data, block_size, symbols)
    parts = [block.data for block in frame.blocks]
    assert b"".join(parts) == data
    for block in frame.blocks:
        assert block.length == len(block.data) <= block_size  # the length field: the bytes
        assert block.symbols == len(block.values) == len(bytes_to_symbols(block.data, alphabet))
    if alphabet is UTF8:  # blocks end between characters: each block is UTF-8 by itself
        assert all(part.decode("utf-8") for part in parts)
    else:  # pairs: an even number of bytes, but for the last block of the data
        assert all(len(part) % 2 == 0 for part in parts[:-1])
        assert all(value < SINGLE_BYTE for block in frame.blocks[:-1] for value in block.values)
    assert parts == alphabet_cuts(data, alphabet, block_size)
    limit = DEFAULT_LIMIT[alphabet] if max_code_length is None else max_code_length
    for block in frame.blocks:
        if block.block_type == HUFFMAN_BLOCK:
            assert max(block.lengths.values()) <= limit
            assert block.lengths == section11_lengths(block.values, limit)
        elif block.block_type == ANS_BLOCK:
            assert block.table == own_table(block.values, alphabet, version=2)
    if codebook is not None:
        assert frame.codebook.storage == (EMBEDDED if embed else REFERENCED)
        assert frame.codebook.identifier == bytes.fromhex(codebook.identifier)
        assert {block.block_type for block in frame.blocks} <= {SHARED_CODE_BLOCK,
                                                                SHARED_TABLE_BLOCK}
    assert packed == rebuild_alphabet_frame(data, alphabet, block_size, coder=coder,
                                            max_code_length=max_code_length, codebook=codebook,
                                            embed=embed)
    return frame


def _alphabet_cases() -> list:
    """(input, alphabet, coder, block_size, codebook or None, embed).

    huffkit spends about 15 ms on each block of a utf8 frame, whatever its size (its tables
    span the alphabet's 1 114 112 symbols), so the utf8 cases hold few blocks; pairs blocks
    cost well under 1 ms, and their cases are many.
    """
    cases = []
    for coder in ("huffman", "ans"):
        if coder == "huffman":  # 12 blocks
            utf8 = [("short", 4), ("short", 5), ("short", 7), ("emoji", 100),
                    ("korean", DEFAULT_BLOCK_SIZE), ("mixed", DEFAULT_BLOCK_SIZE),
                    ("empty", DEFAULT_BLOCK_SIZE)]
        else:  # 4 blocks
            utf8 = [("one-emoji", 4), ("short", 5), ("mixed", DEFAULT_BLOCK_SIZE),
                    ("empty", DEFAULT_BLOCK_SIZE)]
        cases += [(name, "utf8", coder, block_size, None, True) for name, block_size in utf8]
        pairs = [("short-odd", block_size) for block_size in (4, 5, 7)]
        pairs += [("mixed-odd", block_size) for block_size in (100, DEFAULT_BLOCK_SIZE)]
        pairs += [(name, DEFAULT_BLOCK_SIZE) for name in ("empty", "one-byte", "one-emoji",
                                                          "abracadabra", "random-odd", "korean")]
        pairs += [("abracadabra", 4), ("random-odd", 7), ("one-byte", 2), ("emoji", 5)]
        cases += [(name, "pairs", coder, block_size, None, True) for name, block_size in pairs]
        short_model, mixed_model = (("utf8-L20", "utf8-L24") if coder == "huffman"
                                    else ("utf8-L24", "utf8-L20"))
        cases += [("short", "utf8", coder, 5, short_model, True),
                  ("mixed", "utf8", coder, DEFAULT_BLOCK_SIZE, mixed_model, False)]
        for codebook in ("pairs-L20", "pairs-L24"):
            cases += [(name, "pairs", coder, block_size, codebook, embed)
                      for name, block_size, embed in [
                          ("short-odd", 4, True), ("short-odd", 7, False),
                          ("mixed-odd", 100, True), ("mixed-odd", DEFAULT_BLOCK_SIZE, False)]]
    return cases


ALPHABET_CASES = _alphabet_cases()
ALPHABET_IDS = [f"{a}-{c}-{n}-bs{b}-{cb or 'own'}{'' if cb is None else '-emb' if e else '-ref'}"
                for n, a, c, b, cb, e in ALPHABET_CASES]


@functools.cache
def _alphabet_compressed(name: str, alphabet: str, coder: str, block_size: int,
                         codebook: str | None, embed: bool) -> bytes:
    model = None if codebook is None else _alphabet_codebook(codebook)
    return huffkit.compress(ALPHABET_INPUTS[name], alphabet=alphabet, coder=coder,
                            block_size=block_size, codebook=model, embed_codebook=embed)


@pytest.mark.parametrize(("name", "alphabet", "coder", "block_size", "codebook", "embed"),
                         ALPHABET_CASES, ids=ALPHABET_IDS)
def test_reference_decodes_huffkit_alphabet_output(name, alphabet, coder, block_size, codebook,
                                                   embed):
    data = ALPHABET_INPUTS[name]
    packed = _alphabet_compressed(name, alphabet, coder, block_size, codebook, embed)
    model = None if codebook is None else _alphabet_codebook(codebook)
    given = _alphabet_given(model, coder) if codebook is not None and not embed else {}
    assert reference_decode(packed, **given) == data
    if alphabet == "pairs":  # (utf8 round trips, at 15 ms a block, are left to other tests)
        assert huffkit.decompress(packed, codebook=None if embed else model) == data
    if codebook is not None and not embed:  # K5: a referenced code is needed
        with pytest.raises(SpecViolation) as violation:
            reference_decode(packed)
        assert violation.value.rule == "K5"
        with pytest.raises(huffkit.CodebookError):
            huffkit.decompress(packed)


@pytest.mark.parametrize(("name", "alphabet", "coder", "block_size", "codebook", "embed"),
                         ALPHABET_CASES, ids=ALPHABET_IDS)
def test_alphabet_encoder_choices_of_section_15(name, alphabet, coder, block_size, codebook,
                                                embed):
    model = None if codebook is None else _alphabet_codebook(codebook)
    check_alphabet_choices(ALPHABET_INPUTS[name],
                           _alphabet_compressed(name, alphabet, coder, block_size, codebook,
                                                embed),
                           ALPHABET_OF[alphabet], block_size, coder=coder, codebook=model,
                           embed=embed)


@pytest.mark.parametrize("name", ALPHABET_CODEBOOKS)
def test_alphabet_identifiers_of_section_15(name):
    """A code's identifier is the SHA-256 of the alphabet's size and (symbol, length) pairs,
    and a referenced rANS section's table identifier that of the precision, the size and
    (symbol, frequency) pairs, of the table section 14.5 rebuilds from the codebook."""
    codebook = _alphabet_codebook(name)
    alphabet = ALPHABET_OF[name.split("-")[0]]
    assert codebook.size == alphabet.size
    lengths = as_lengths(codebook.lengths)
    body = u32(alphabet.size) + b"".join(u32(value) + bytes([lengths[value]])
                                         for value in sorted(lengths))
    assert codebook.identifier == hashlib.sha256(body).digest()[:8].hex()
    assert codebook.identifier == identifier_of(lengths, alphabet).hex()
    if alphabet is PAIRS:
        assert SINGLE_BYTE + ord("!") in lengths  # the single-byte symbol is named too
    data = SHORT if alphabet is UTF8 else ALPHABET_INPUTS["short-odd"]
    packed = huffkit.compress(data, alphabet=alphabet.name, coder="ans", codebook=codebook,
                              embed_codebook=False)
    table = shared_table(_weights_of(codebook))
    body = bytes([table.precision]) + u32(alphabet.size) + b"".join(
        u32(value) + u32(table.freqs[value]) for value in sorted(table.freqs))
    stored = packed[14 + 9 : 14 + 17]  # after the identifier and the storage byte
    assert stored == hashlib.sha256(body).digest()[:8] == table_identifier(table, alphabet)
    assert packed[14:22].hex() == codebook.identifier
    (frame,) = parse(packed, **_given(codebook))
    assert frame.codebook.table_id == stored and frame.codebook.table == table


def test_same_lengths_in_three_alphabets_have_three_identifiers():
    """The alphabet's size is part of a code's identifier (section 15), so a code is never
    taken for the code of another alphabet with the same lengths (K5)."""
    identifiers = set()
    for alphabet in ALPHABETS.values():
        lengths = [0] * alphabet.size
        lengths[A] = lengths[B] = 1
        codebook = huffkit.Codebook.from_lengths(np.array(lengths, dtype=np.uint8))
        assert codebook.identifier == identifier_of({A: 1, B: 1}, alphabet).hex()
        identifiers.add(codebook.identifier)
    assert len(identifiers) == 3


def _fibonacci_symbols(count: int, first: int) -> list[int]:
    """Symbols first, first + 1, ... with counts 1, 1, 2, 3, 5, ...: Huffman depth count - 1."""
    counts = [1, 1]
    while len(counts) < count:
        counts.append(counts[-1] + counts[-2])
    return [first + i for i, n in enumerate(counts) for _ in range(n)]


@pytest.mark.parametrize(("alphabet", "first"), [(BYTES, 0x41), (PAIRS, 0x4142), (UTF8, 0x41)],
                         ids=["bytes", "pairs", "utf8"])
def test_default_code_length_limits(alphabet, first):
    """Section 15: lengths are limited to 15 bits for bytes, 20 for pairs and 24 for utf8,
    unless the caller chooses otherwise; limit + 2 symbols of Fibonacci counts need one bit
    more, so the limit binds. (Only the code table is read: the utf8 block has 196 417
    symbols.)"""
    limit = DEFAULT_LIMIT[alphabet]
    values = _fibonacci_symbols(limit + 2, first)
    data = symbols_to_bytes(values, alphabet)
    assert max(section11_lengths(values, 31).values()) == limit + 1
    packed = huffkit.compress(data, alphabet=alphabet.name, split=False)
    assert packed[5] == alphabet.flag
    reader = _Reader(packed)
    reader.pos, reader.version = 14, packed[4]
    # One block (section 17.5): the header's block size is its symbols, and it is the last.
    assert len(data) <= DEFAULT_BLOCK_SIZE
    assert reader.uint(1) == HUFFMAN_BLOCK | LAST_BLOCK
    reader.last_block = True
    assert _block_head(reader, len(values), alphabet)[:2] == (
        len(values), None if alphabet is BYTES else len(data))
    lengths = _parse_code_table(reader, alphabet)
    assert max(lengths.values()) == limit
    assert lengths == section11_lengths(values, limit)


def test_four_streams_from_65536_symbols_not_bytes():
    """Section 17.5's stream rule, with "byte" read as "symbol" (section 15): 5 000 emoji are
    20 000 bytes but 5 000 symbols, so 1 stream; 65 536 pairs symbols get 4."""
    for data, alphabet, streams in [("😀".encode() * 5000, UTF8, 1),
                                    (b"ab" * FOUR_STREAMS_FROM, PAIRS, 4),
                                    (b"ab" * (FOUR_STREAMS_FROM // 2) + b"c", PAIRS, 1)]:
        (frame,) = parse(huffkit.compress(data, alphabet=alphabet.name))
        assert [len(block.bits) for block in frame.blocks] == [streams]


def test_alphabet_encoder_refusals():
    """Section 15: block_size at least 4 (utf8) or 2 (pairs); no utf8 frame for data that is
    not UTF-8 (huffkit: AlphabetError, nothing written)."""
    with pytest.raises(ValueError, match="at least 4"):
        huffkit.compress(SHORT, alphabet="utf8", block_size=3)
    with pytest.raises(ValueError, match="at least 2"):
        huffkit.compress(SHORT, alphabet="pairs", block_size=1)
    for data in (b"\xff", b"abc\xed\xa0\x80", "😀".encode()[:3]):  # a surrogate, a cut character
        with pytest.raises(huffkit.models.alphabet.AlphabetError):
            huffkit.compress(data, alphabet="utf8")
    assert huffkit.compress(SHORT, alphabet="utf8", block_size=4)
    assert huffkit.compress(b"abc", alphabet="pairs", block_size=2)


@pytest.mark.slow
def test_rans_own_table_of_more_than_2_14_symbols_is_finer():
    """Section 15: a block of d > 2^14 distinct symbols gets an own table of precision
    ceil(log2 d) + 2; here every pair and a last single byte, 65 537 symbols: 19 bits."""
    values = [*range(SINGLE_BYTE), SINGLE_BYTE + 0x21]  # every pair, then b"!"
    data = symbols_to_bytes(values, PAIRS)
    packed = huffkit.compress(data, alphabet="pairs", coder="ans")
    assert reference_decode(packed) == data
    (block,) = parse(packed)[0].blocks
    assert own_table(values).precision == 19  # version 1's, where section 17.5 starts
    assert block.table == own_table(values, PAIRS, version=2)


# -- section 15: hand-made streams the encoder never writes, but the format allows -----------

EMOJI_2 = "😀🎉".encode()  # 2 symbols, 8 bytes
SURROGATE = "\ud800".encode("utf-8", "surrogatepass")  # what 0xD800 would be: ED A0 80
AB_CODE = {A: 1, B: 1}
AB_UTF8 = huffkit.Codebook.from_lengths(np.array([1 if value in (A, B) else 0
                                                  for value in range(UTF8.size)], np.uint8))
AB_PAIRS = huffkit.Codebook.from_lengths(np.array([1 if value in (A, B) else 0
                                                   for value in range(PAIRS.size)], np.uint8))
WIDE_UTF8 = {0: 2, 0xE9: 2, 0x1F600: 2, 0x10FFFF: 2}  # U+0000, é, 😀, the last scalar value
WIDE_UTF8_DATA = "\x00é😀\U0010ffff😀".encode()
WIDE_PAIRS = {0: 2, 0x6162: 2, 0xFFFF: 2, SINGLE_BYTE + 0xFF: 2}  # 65 791: the last symbol
T_UTF8 = FreqTable(8, {0x61: 100, 0xE9: 60, 0x1F600: 95, 0x10FFFF: 1})
T_UTF8_DATA = "aé😀\U0010ffffa😀".encode()


def _utf8(*blocks: bytes, **fields) -> bytes:
    return frame(*blocks, alphabet=UTF8, **fields)


def _pairs(*blocks: bytes, **fields) -> bytes:
    return frame(*blocks, alphabet=PAIRS, **fields)


def _utf8_ans(*blocks: bytes, **fields) -> bytes:
    return ans_frame(*blocks, alphabet=UTF8, **fields)


def _pairs_ans(*blocks: bytes, **fields) -> bytes:
    return ans_frame(*blocks, alphabet=PAIRS, **fields)


def u8_block(data: bytes, lengths: dict[int, int] | None = None, **fields) -> bytes:
    return huffman_block(data, lengths, alphabet=UTF8, **fields)


def pr_block(data: bytes, lengths: dict[int, int] | None = None, **fields) -> bytes:
    return huffman_block(data, lengths, alphabet=PAIRS, **fields)


ALPHABET_VALID_CASES = [  # (packed, expected, codebook given to both decoders)
    # B2 bounds the symbols by block_size, L1 the bytes by 4 (or 2) times the symbols: a block
    # may hold more bytes than block_size (section 3 says "bytes (symbols)").
    pytest.param(_utf8(u8_block(EMOJI_2), block_size=2), EMOJI_2, None,
                 id="utf8-8-bytes-in-block-size-2"),
    pytest.param(_utf8_ans(ans_block(EMOJI_2, alphabet=UTF8), block_size=2), EMOJI_2, None,
                 id="utf8-rans-8-bytes-in-block-size-2"),
    pytest.param(_pairs(pr_block(b"abcd"), block_size=2), b"abcd", None,
                 id="pairs-4-bytes-in-block-size-2"),
    pytest.param(_utf8(u8_block("😀".encode()), u8_block("é".encode()), block_size=1),
                 "😀é".encode(), None, id="utf8-block-size-1"),  # below the encoder's 4
    # L3 asks only that a single byte end its block, not the data.
    pytest.param(_pairs(pr_block(b"abc"), pr_block(b"d"), pr_block(b"efg")), b"abcdefg", None,
                 id="pairs-every-block-ends-with-a-single-byte"),
    pytest.param(_pairs_ans(ans_block(b"abc", alphabet=PAIRS), ans_block(b"d", alphabet=PAIRS),
                            ans_block(b"efg", alphabet=PAIRS, lanes=2)), b"abcdefg", None,
                 id="pairs-rans-every-block-ends-with-a-single-byte"),
    pytest.param(_pairs(pr_block(b"z")), b"z", None, id="pairs-single-byte-alone"),
    pytest.param(_pairs(pr_block(b"aaaa")), b"aaaa", None, id="pairs-one-symbol-code"),
    pytest.param(_utf8(u8_block("😀😀😀".encode(), streams=2)), "😀😀😀".encode(), None,
                 id="utf8-one-symbol-code-2-streams"),
    pytest.param(_utf8(u8_block(WIDE_UTF8_DATA, WIDE_UTF8)), WIDE_UTF8_DATA, None,
                 id="utf8-symbols-0-to-0x10ffff"),
    pytest.param(_pairs(pr_block(b"\x00\x00ab\xff\xff\xff", WIDE_PAIRS)), b"\x00\x00ab\xff\xff\xff",
                 None, id="pairs-symbols-0-to-65791"),
    pytest.param(_utf8(u8_block(MIXED[:60], streams=16)), MIXED[:60], None,
                 id="utf8-16-streams"),
    pytest.param(_pairs(pr_block(b"abcdefghi", streams=4)), b"abcdefghi", None,
                 id="pairs-5-symbols-4-streams"),
    # Presence lists: LEB128 numbers of 3 bytes, not the shortest form (as section 14.1).
    pytest.param(_utf8(u8_block(b"ab", AB_CODE, table=code_table(
        AB_CODE, alphabet=UTF8, listed=presence(AB_CODE, UTF8, numbers={0: b"\xe1\x80\x00",
                                                                       1: b"\x80\x00"})))),
                 b"ab", None, id="presence-numbers-not-minimal"),
    pytest.param(_utf8_ans(ans_block(T_UTF8_DATA, T_UTF8, alphabet=UTF8, lanes=2)), T_UTF8_DATA,
                 None, id="utf8-rans-precision-8-2-lanes"),
    pytest.param(_utf8_ans(ans_block(MIXED, quantise(Counter(bytes_to_symbols(MIXED, UTF8)), 24),
                                     alphabet=UTF8, lanes=3)), MIXED, None,
                 id="utf8-rans-precision-24-3-lanes-with-words"),
    # L3 judges decoded symbols: a shared code may give a surrogate a code no block uses.
    pytest.param(_utf8(shared_block(b"ab", {A: 1, B: 2, 0xD800: 2}, alphabet=UTF8),
                       section=codebook_section({A: 1, B: 2, 0xD800: 2}, alphabet=UTF8)), b"ab",
                 None, id="utf8-shared-code-with-an-unused-surrogate"),
    pytest.param(_utf8(u8_block(b"xyz"), shared_block(b"abba", AB_CODE, alphabet=UTF8),
                       section=codebook_section(AB_CODE, alphabet=UTF8, storage=REFERENCED)),
                 b"xyzabba", AB_UTF8, id="utf8-referenced-code-mixed-blocks"),
    pytest.param(_pairs(shared_block(b"baab", {0x6261: 1, 0x6162: 1}, alphabet=PAIRS),
                        section=codebook_section({0x6261: 1, 0x6162: 1}, alphabet=PAIRS)),
                 b"baab", None, id="pairs-embedded-code"),
    pytest.param(_utf8(section=codebook_section(AB_CODE, alphabet=UTF8)), b"", None,
                 id="utf8-codebook-frame-without-blocks"),
    pytest.param(_pairs_ans(shared_ans_block(b"abab!", FreqTable(2, {0x6162: 3, 65569: 1}),
                                             alphabet=PAIRS),
                            section=ans_section(FreqTable(2, {0x6162: 3, 65569: 1}),
                                                alphabet=PAIRS)), b"abab!", None,
                 id="pairs-rans-embedded-table"),
    pytest.param(GOLDEN + _utf8(u8_block(SHORT)) + _pairs_ans(ans_block(b"abc", alphabet=PAIRS))
                 + _utf8(), ABR + SHORT + b"abc", None, id="bytes-utf8-pairs-utf8-frames"),
]


@pytest.mark.parametrize(("packed", "expected", "codebook"), ALPHABET_VALID_CASES)
def test_hand_made_valid_alphabet_streams(packed, expected, codebook):
    code = None if codebook is None else codebook.lengths
    assert reference_decode(packed, code) == expected
    assert huffkit.decompress(packed, codebook=codebook) == expected


# -- section 15: one hand-made fault per rule, CRCs right ---------------------------------------

SHORT_VALUES = bytes_to_symbols(SHORT, UTF8)  # 4 symbols, 10 bytes
SHORT_CODE = section11_lengths(SHORT_VALUES, 31)
ABCDE = b"abcde"  # pairs: 0x6162, 0x6364, 65 536 + 0x65: 3 symbols, 5 bytes
ABCDE_TABLE = FreqTable(4, {0x6162: 8, 0x6364: 4, SINGLE_BYTE + 0x65: 4})
UTF8_SURROGATE_DATA = b"a" + SURROGATE  # the symbols 0x61 and 0xD800, as bytes would have it
PAIRS_SINGLE_FIRST = [SINGLE_BYTE + A, 0x6263]  # b"abc" with the single byte first
D1_BITS = encode(SHORT_VALUES[1:], section11_lengths(SHORT_VALUES[1:], 31))  # 5 bits
AB_AS_PAIRS = b"\x00a\x00b\x00b\x00a"  # the pairs symbols 0x61, 0x62, 0x62, 0x61
PAIRS_REF_SECTION = codebook_section(AB_CODE, alphabet=PAIRS, storage=REFERENCED)
UTF8_TABLE_SECTION = ans_section(T_UTF8, alphabet=UTF8, storage=REFERENCED,
                                 identifier=bytes.fromhex(AB_UTF8.identifier))


def _utf8_table_listing(symbols: Sequence[int], **fields) -> bytes:
    """A utf8 code table for SHORT whose presence list is replaced (lengths kept)."""
    return code_table(SHORT_CODE, alphabet=UTF8, listed=presence(symbols, UTF8, **fields))


ALPHABET_INVALID_CASES = [  # (packed, rule, codebook given to both decoders)
    # H4: alphabet value 3 (flags bits 2 and 3 both set).
    pytest.param(_utf8(u8_block(SHORT), flags=0x0C), "H4", None, id="H4-alphabet-3"),
    pytest.param(_utf8_ans(ans_block(SHORT, alphabet=UTF8), flags=0x0E), "H4", None,
                 id="H4-alphabet-3-rans"),
    pytest.param(_utf8(shared_block(b"ab", AB_CODE, alphabet=UTF8),
                       section=codebook_section(AB_CODE, alphabet=UTF8), flags=0x0D), "H4", None,
                 id="H4-alphabet-3-codebook"),
    pytest.param(_pairs(pr_block(ABCDE), flags=0x18), "H4", None, id="H4-pairs-and-bit-4"),
    # L1: length below symbols, or above 4 (utf8) or 2 (pairs) times symbols.
    pytest.param(_utf8(u8_block(SHORT, length=3)), "L1", None, id="L1-utf8-length-below-symbols"),
    pytest.param(_utf8(u8_block(SHORT, length=17)), "L1", None,
                 id="L1-utf8-length-above-4-symbols"),
    pytest.param(_utf8(u8_block(SHORT, length=0)), "L1", None, id="L1-utf8-length-0"),
    pytest.param(_pairs(pr_block(ABCDE, length=2)), "L1", None,
                 id="L1-pairs-length-below-symbols"),
    pytest.param(_pairs(pr_block(ABCDE, length=7)), "L1", None,
                 id="L1-pairs-length-above-2-symbols"),
    pytest.param(_utf8_ans(ans_block(SHORT, alphabet=UTF8, length=17)), "L1", None,
                 id="L1-utf8-rans"),
    pytest.param(_pairs_ans(ans_block(ABCDE, alphabet=PAIRS, length=7)), "L1", None,
                 id="L1-pairs-rans"),
    pytest.param(_pairs(shared_block(AB_AS_PAIRS[:6], AB_CODE, alphabet=PAIRS, length=7),
                        section=codebook_section(AB_CODE, alphabet=PAIRS)),
                 "L1", None, id="L1-pairs-shared-code-block"),
    # L2: the count, the numbers' length, the symbols' range.
    pytest.param(_utf8(u8_block(SHORT, table=_utf8_table_listing(SHORT_VALUES, count=0))), "L2",
                 None, id="L2-count-0"),
    pytest.param(_utf8(u8_block(SHORT, table=_utf8_table_listing(SHORT_VALUES,
                                                                 count=UTF8.size + 1))),
                 "L2", None, id="L2-utf8-count-above-1114112"),
    pytest.param(_pairs(pr_block(b"ab", {0x6162: 1}, table=code_table(
        {0x6162: 1}, alphabet=PAIRS, listed=presence([0x6162], PAIRS, count=PAIRS.size + 1)))),
                 "L2", None, id="L2-pairs-count-above-65792"),
    pytest.param(_utf8(u8_block(SHORT, table=_utf8_table_listing(
        SHORT_VALUES, numbers={1: b"\xe8\x80\x80\x00"}))), "L2", None,
                 id="L2-4-byte-number"),
    pytest.param(_utf8(u8_block(SHORT, table=_utf8_table_listing(
        SHORT_VALUES, numbers={0: b"\x80\x80\x80\x80\x00"}))), "L2", None,
                 id="L2-5-byte-number"),
    pytest.param(_utf8(shared_block(b"aaa", {A: 1, 0x110000: 1}, alphabet=UTF8),
                       section=codebook_section({A: 1, 0x110000: 1}, alphabet=UTF8)), "L2", None,
                 id="L2-utf8-symbol-0x110000-in-section"),
    pytest.param(_utf8(shared_block(b"aaa", {A: 1, 0x1FFFFF: 1}, alphabet=UTF8),
                       section=codebook_section({A: 1, 0x1FFFFF: 1}, alphabet=UTF8)), "L2", None,
                 id="L2-utf8-symbol-2^21-1-in-section"),
    pytest.param(_utf8(u8_block(SHORT, table=_utf8_table_listing(
        SHORT_VALUES, numbers={3: leb128(0x110000 - sorted(SHORT_VALUES)[2] - 1)}))), "L2", None,
                 id="L2-utf8-gap-to-0x110000"),
    pytest.param(_pairs_ans(shared_ans_block(b"abab", FreqTable(2, {0x6162: 3, PAIRS.size: 1}),
                                             alphabet=PAIRS),
                            section=ans_section(FreqTable(2, {0x6162: 3, PAIRS.size: 1}),
                                                alphabet=PAIRS)), "L2", None,
                 id="L2-pairs-symbol-65792-in-section-table"),
    pytest.param(_pairs_ans(ans_block(ABCDE, ABCDE_TABLE, alphabet=PAIRS, table_bytes=freq_table(
        ABCDE_TABLE, alphabet=PAIRS, listed=presence(ABCDE_TABLE.freqs, PAIRS, count=0)))),
                 "L2", None, id="L2-pairs-rans-count-0"),
    pytest.param(_pairs_ans(ans_block(ABCDE, ABCDE_TABLE, alphabet=PAIRS, table_bytes=freq_table(
        ABCDE_TABLE, alphabet=PAIRS, listed=presence(ABCDE_TABLE.freqs, PAIRS,
                                                     numbers={0: b"\xe2\xc2\x81\x00"})))),
                 "L2", None, id="L2-pairs-rans-4-byte-number"),
    # L3: symbols without a byte form.
    pytest.param(_utf8(u8_block(UTF8_SURROGATE_DATA, values=[A, 0xD800])), "L3", None,
                 id="L3-utf8-surrogate-0xd800"),
    pytest.param(_utf8_ans(ans_block(b"a" + "\udfff".encode("utf-8", "surrogatepass"),
                                     alphabet=UTF8, values=[A, 0xDFFF])), "L3", None,
                 id="L3-utf8-rans-surrogate-0xdfff"),
    pytest.param(_utf8(shared_block(UTF8_SURROGATE_DATA, {A: 1, B: 2, 0xD800: 2}, alphabet=UTF8,
                                    values=[A, 0xD800]),
                       section=codebook_section({A: 1, B: 2, 0xD800: 2}, alphabet=UTF8)), "L3",
                 None, id="L3-utf8-surrogate-in-shared-code"),
    pytest.param(_pairs(pr_block(b"abc", values=PAIRS_SINGLE_FIRST)), "L3", None,
                 id="L3-pairs-single-byte-first"),
    pytest.param(_pairs_ans(ans_block(b"abc", alphabet=PAIRS, values=PAIRS_SINGLE_FIRST)), "L3",
                 None, id="L3-pairs-rans-single-byte-first"),
    pytest.param(_pairs(pr_block(b"ab", values=[SINGLE_BYTE + A, SINGLE_BYTE + B])), "L3", None,
                 id="L3-pairs-two-single-bytes"),
    # L4: length within L1's bounds, but not the decoded size.
    pytest.param(_utf8(u8_block(SHORT, length=11)), "L4", None, id="L4-utf8-length-11-of-10"),
    pytest.param(_utf8(u8_block(SHORT, length=4)), "L4", None, id="L4-utf8-length-4-of-10"),
    pytest.param(_pairs(pr_block(ABCDE, length=6)), "L4", None, id="L4-pairs-length-6-of-5"),
    pytest.param(_pairs(pr_block(b"abcd", length=3)), "L4", None, id="L4-pairs-length-3-of-4"),
    pytest.param(_utf8_ans(ans_block(SHORT, alphabet=UTF8, length=9)), "L4", None,
                 id="L4-utf8-rans"),
    pytest.param(_pairs(shared_block(AB_AS_PAIRS, AB_CODE, alphabet=PAIRS, length=7),
                        section=PAIRS_REF_SECTION), "L4", AB_PAIRS,
                 id="L4-pairs-referenced-shared-code"),
    # Sections 1 to 14 in alphabet frames, with presence lists.
    pytest.param(_utf8(u8_block(SHORT, table=code_table({**SHORT_CODE, SHORT_VALUES[0]: 1},
                                                        alphabet=UTF8))), "C6", None,
                 id="C6-utf8-kraft-above-1"),
    pytest.param(_utf8(u8_block(b"ab", {A: 1, B: 2})), "C6", None, id="C6-utf8-kraft-below-1"),
    pytest.param(_pairs(pr_block(b"abab", {0x6162: 2})), "C5", None,
                 id="C5-pairs-one-symbol-length-2"),
    pytest.param(_utf8(u8_block(SHORT, table=code_table(SHORT_CODE, alphabet=UTF8,
                                                        padding="1"))), "C2", None,
                 id="C2-utf8-padding"),
    pytest.param(_utf8(u8_block(SHORT, table=code_table(SHORT_CODE, alphabet=UTF8,
                                                        longest=3))), "C4", None,
                 id="C4-utf8-longest-above-lengths"),
    pytest.param(_utf8(u8_block(b"ab", {A: 1, B: 2, C: 2})), "D4", None,
                 id="D4-utf8-coded-symbol-absent"),
    pytest.param(_utf8(u8_block(SHORT, crc=zlib.crc32(SHORT) ^ 1)), "D5", None, id="D5-utf8-crc"),
    pytest.param(_utf8(u8_block(SHORT[3:], stream_bits=[D1_BITS + "1"], bits=[len(D1_BITS)])),
                 "D1", None, id="D1-utf8-stream-padding"),
    pytest.param(_utf8(u8_block(SHORT), block_size=3), "B2", None,
                 id="B2-utf8-4-symbols-block-size-3"),
    pytest.param(_pairs(pr_block(ABCDE), total=5), "E1", None, id="E1-pairs-total-counts-bytes"),
    pytest.param(_pairs_ans(ans_block(ABCDE, ABCDE_TABLE, alphabet=PAIRS, table_bytes=freq_table(
        ABCDE_TABLE, alphabet=PAIRS, numbers={0x6162: b"\x08"}))), "A1", None,
                 id="A1-pairs-sum-above-M"),
    pytest.param(_utf8_ans(ans_block(SHORT, alphabet=UTF8, table_bytes=freq_table(
        own_table(SHORT_VALUES), alphabet=UTF8, precision=0))), "A1", None,
                 id="A1-utf8-precision-0"),
    pytest.param(_utf8_ans(shared_ans_block(T_UTF8_DATA, T_UTF8, alphabet=UTF8),
                           section=ans_section(None, table_bytes=freq_table(
                               T_UTF8, alphabet=UTF8, numbers={0xE9: b"\x80\x80\x80\x80\x00"}))),
                 "A1", None, id="A1-utf8-section-5-byte-frequency"),
    pytest.param(_pairs_ans(ans_block(ABCDE, FreqTable(4, {**ABCDE_TABLE.freqs, 0x6162: 7,
                                                            0x7A7A: 1}), alphabet=PAIRS)), "A5",
                 None, id="A5-pairs-own-table-codes-absent-symbol"),
    pytest.param(_utf8_ans(ans_block(SHORT, alphabet=UTF8, crc=0)), "A6", None, id="A6-utf8-crc"),
    pytest.param(_utf8(shared_block(b"ab", AB_CODE, alphabet=UTF8),
                       section=codebook_section(AB_CODE, alphabet=UTF8,
                                                identifier=identifier_of(AB_CODE, BYTES))), "K4",
                 None, id="K4-utf8-identifier-computed-as-for-bytes"),
    pytest.param(_pairs(shared_block(AB_AS_PAIRS, AB_CODE, alphabet=PAIRS),
                        section=codebook_section(AB_CODE, alphabet=PAIRS,
                                                 identifier=identifier_of(AB_CODE, UTF8))), "K4",
                 None, id="K4-pairs-identifier-of-utf8-code"),
    pytest.param(_pairs(shared_block(AB_AS_PAIRS, AB_CODE, alphabet=PAIRS),
                        section=PAIRS_REF_SECTION),
                 "K5", None, id="K5-pairs-referenced-not-given"),
    pytest.param(_pairs(shared_block(AB_AS_PAIRS, AB_CODE, alphabet=PAIRS),
                        section=PAIRS_REF_SECTION),
                 "K5", AB_UTF8, id="K5-pairs-frame-given-utf8-code-same-lengths"),
    pytest.param(_utf8_ans(shared_ans_block(T_UTF8_DATA, T_UTF8, alphabet=UTF8),
                           section=UTF8_TABLE_SECTION), "K5", AB_UTF8,
                 id="K5-utf8-rans-rebuilt-table-differs"),
    pytest.param(_utf8(u8_block(SHORT))[:14 + 13 + 7], "S2", None,
                 id="S2-inside-presence-list"),
]


def _implied_given(codebook: huffkit.Codebook | None) -> dict:
    """What the reference is given for ``codebook``: its lengths, and its weights, which for a
    codebook made from lengths alone are 2^-length (as huffkit has it: see
    test_lengths_only_codebook_uses_the_implied_distribution)."""
    if codebook is None:
        return {}
    if codebook.distribution is not None:
        return _given(codebook)
    return {"codebook": codebook.lengths,
            "weights": {value: Fraction(1, 1 << length)
                        for value, length in as_lengths(codebook.lengths).items()}}


def _expect_huffkit_error(rule: str):
    """huffkit's exception for a rule (section 10, 14.4 and 15: L1 to L4 are FormatError)."""
    return pytest.raises(EXPECTED_ERROR.get(rule, huffkit.FormatError))


@pytest.mark.parametrize(("packed", "rule", "codebook"), ALPHABET_INVALID_CASES)
def test_invalid_alphabet_frame_is_rejected_by_both(packed, rule, codebook):
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed, **_implied_given(codebook))
    assert violation.value.rule == rule
    with _expect_huffkit_error(rule) as error:
        huffkit.decompress(packed, codebook=codebook)
    if rule[0] in "LH":  # a FormatError, not its subclasses for truncation and checksums
        assert not isinstance(error.value, huffkit.TruncatedError | huffkit.ChecksumError)


def test_lengths_only_alphabet_codebook_uses_the_implied_distribution():
    """As for bytes (test_lengths_only_codebook_uses_the_implied_distribution): a utf8
    codebook made from lengths alone has its rANS table rebuilt from 2^-length."""
    packed = huffkit.compress(b"abbab", alphabet="utf8", coder="ans", codebook=AB_UTF8,
                              embed_codebook=False)
    (frame,) = parse(packed, **_implied_given(AB_UTF8))
    assert frame.codebook.table == FreqTable(16, {A: 1 << 15, B: 1 << 15})
    assert frame.codebook.table_id == table_identifier(frame.codebook.table, UTF8)
    assert reference_decode(packed, **_implied_given(AB_UTF8)) == b"abbab"
    assert huffkit.decompress(packed, codebook=AB_UTF8) == b"abbab"



# -- section 15: every bit flip and every truncation of small alphabet frames ------------------

ALPHABET_FLIP_FRAMES = {  # name -> (packed, codebook given to both decoders, data)
    # Characters of 4 and 2 bytes in one block: small, as huffkit takes ~12 ms a utf8 block.
    "utf8-huffman": (huffkit.compress("😀é😀".encode(), alphabet="utf8"), None,
                     "😀é😀".encode()),
    # The symbols 0x6162, 0x6362 and the single byte 65 536 + 0x61.
    "pairs-rans": (huffkit.compress(b"abcba", alphabet="pairs", coder="ans"), None, b"abcba"),
    "pairs-huffman-referenced": (huffkit.compress(
        AB_AS_PAIRS, alphabet="pairs", block_size=4, codebook=AB_PAIRS, embed_codebook=False),
        AB_PAIRS, AB_AS_PAIRS),
}


@pytest.mark.parametrize("name", ALPHABET_FLIP_FRAMES)
def test_every_bit_flip_of_an_alphabet_frame_accepted_or_rejected_alike(name):
    """Both decoders accept or reject each single-bit flip alike, with the same output, and
    huffkit never returns other bytes than the original data."""
    packed, codebook, data = ALPHABET_FLIP_FRAMES[name]
    given = _implied_given(codebook)
    if "weights" in given:  # rebuild the table once, not per flip
        given["weights"] = shared_table(as_weights(given["weights"]))
    reference = functools.partial(reference_decode, **given)
    assert reference(packed) == data == huffkit.decompress(packed, codebook=codebook)
    for position in range(len(packed) * 8):
        damaged = patch(packed, position // 8, packed[position // 8] ^ (0x80 >> position % 8))
        ours = _outcome(functools.partial(huffkit.decompress, codebook=codebook), damaged)
        assert ours == _outcome(reference, damaged), f"bit {position} flipped: {damaged.hex()}"
        assert ours in (None, data), f"bit {position} flipped: {damaged.hex()}"


@pytest.mark.parametrize("name", ALPHABET_FLIP_FRAMES)
def test_every_proper_prefix_of_an_alphabet_frame_is_truncated(name):
    packed, codebook, _ = ALPHABET_FLIP_FRAMES[name]
    for end in range(1, len(packed)):
        with pytest.raises(SpecViolation) as violation:
            reference_decode(packed[:end], **_implied_given(codebook))
        assert violation.value.rule == "S2"
        with pytest.raises(huffkit.TruncatedError):
            huffkit.decompress(packed[:end], codebook=codebook)


# -- section 15: properties -------------------------------------------------------------------


def _even(raw: bytes) -> bytes:
    return raw[: len(raw) // 2 * 2]


@given(raw=st.binary(max_size=500), other=st.binary(min_size=2, max_size=300),
       block_size=st.integers(2, 600), coder=st.sampled_from(["huffman", "ans"]),
       use=st.sampled_from(["own", "embedded", "referenced"]),
       max_code_length=st.sampled_from([None, 17, 20, 24]))
def test_property_pairs_frames(raw, other, block_size, coder, use, max_code_length):
    """Any bytes in the pairs alphabet, with own codes or a codebook of other data (and the
    data: a model gives no code to pairs it has not seen), decode alike under section 15."""
    model = None
    if use != "own":
        model = huffkit.Codebook.from_distribution(
            huffkit.Distribution.from_bytes(_even(other) + raw, alphabet="pairs"),
            max_code_length=max_code_length or 20)
    embed = use != "referenced"
    packed = huffkit.compress(raw, alphabet="pairs", coder=coder, block_size=block_size,
                              codebook=model, embed_codebook=embed,
                              max_code_length=max_code_length)
    assert reference_decode(packed, **({} if embed else _alphabet_given(model, coder))) == raw
    assert huffkit.decompress(packed, codebook=model) == raw
    check_alphabet_choices(raw, packed, PAIRS, block_size, coder=coder, codebook=model,
                           embed=embed, max_code_length=max_code_length)


# huffkit takes ~15 ms a utf8 block: fewer examples, mostly of one block.
@settings(max_examples=max(6, settings.default.max_examples // 10))
@given(text=st.text(max_size=40), other=st.text(min_size=1, max_size=40),
       block_size=st.integers(4, 200),
       coder=st.sampled_from(["huffman", "ans"]),
       use=st.sampled_from(["own", "embedded", "referenced"]))
def test_property_utf8_frames(text, other, block_size, coder, use):
    data = text.encode()  # (hypothesis text holds no surrogates)
    model = None
    if use != "own":
        model = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(
            other.encode() + data, alphabet="utf8"), max_code_length=24)
    embed = use != "referenced"
    packed = huffkit.compress(data, alphabet="utf8", coder=coder, block_size=block_size,
                              codebook=model, embed_codebook=embed)
    assert reference_decode(packed, **({} if embed else _alphabet_given(model, coder))) == data
    check_alphabet_choices(data, packed, UTF8, block_size, coder=coder, codebook=model,
                           embed=embed)


# -- section 16: compact tables and reused codes ------------------------------------------------


def compact_table(lengths: dict[int, int], *, cl_lengths: dict[int, int] | None = None,
                  symbols: list[tuple[int, int]] | None = None, padding: str = "") -> bytes:
    """Section 16.1, written from the text: the 256 lengths as (symbol, extra) pairs, with
    zero runs as symbols 17/18 and repeats as 16 (unless ``symbols`` are given), coded with
    a code-length code of ``cl_lengths`` (by default section 11's, limited to 7 bits)."""
    if symbols is None:
        symbols, value_list, i = [], [lengths.get(v, 0) for v in range(256)], 0
        while i < 256:
            run = 1
            while i + run < 256 and value_list[i + run] == value_list[i]:
                run += 1
            if value_list[i] == 0 and run >= 11:
                take = min(run, 138)
                symbols.append((18, take - 11))
            elif value_list[i] == 0 and run >= 3:
                take = min(run, 10)
                symbols.append((17, take - 3))
            else:
                take = 1
                symbols.append((value_list[i], 0))
            i += take
    if cl_lengths is None:
        cl_lengths = section11_lengths(bytes(symbol for symbol, _ in symbols), 7)
    stored = [cl_lengths.get(symbol, 0) for symbol in CL_ORDER]
    while len(stored) > 4 and stored[-1] == 0:
        stored.pop()
    codes = canonical_codes({s: n for s, n in cl_lengths.items() if n})
    bits = f"{len(stored) - 4:04b}" + "".join(f"{n:03b}" for n in stored)
    for symbol, extra in symbols:
        length, code = codes[symbol]
        bits += f"{code:0{length}b}"
        if symbol >= 16:
            bits += f"{extra:0{ {16: 2, 17: 3, 18: 7}[symbol]}b}"
    bits += "0" * (-len(bits) % 8)
    if padding:
        bits = bits[: len(bits) - len(padding)] + padding
    return pack_bits(bits)


def compact_block(data: bytes, lengths: dict[int, int], **fields) -> bytes:
    return huffman_block(data, lengths, table=compact_table(lengths),
                         block_type=COMPACT_BLOCK, **fields)


def reuse_block(data: bytes, lengths: dict[int, int], **fields) -> bytes:
    return huffman_block(data, lengths, table=b"", block_type=REUSE_BLOCK, **fields)


ABR_LENGTHS = section11_lengths(b"abracadabra", 15)

SECTION16_VALID = [
    pytest.param(frame(compact_block(b"abracadabra", ABR_LENGTHS)), b"abracadabra",
                 id="compact table"),
    pytest.param(frame(compact_block(b"abracadabra", ABR_LENGTHS),
                       reuse_block(b"cab", ABR_LENGTHS), reuse_block(b"rad", ABR_LENGTHS)),
                 b"abracadabracabrad", id="reused twice"),
    pytest.param(frame(huffman_block(b"xyz"), compact_block(b"aaab", {A: 1, B: 1}),
                       reuse_block(b"bbbb", {A: 1, B: 1})),
                 b"xyzaaabbbbb", id="plain, compact, reused (code lengths absent from it)"),
    pytest.param(frame(compact_block(b"aaaa", {A: 1})), b"aaaa", id="compact one-symbol code"),
    pytest.param(ans_frame(ans_block(ABR), ans_block(b"rab", own_table(ABR),
                                                     block_type=ANS_REUSE_BLOCK)),
                 ABR + b"rab", id="ANS reused table"),
]


@pytest.mark.parametrize(("packed", "expected"), SECTION16_VALID)
def test_section16_hand_made_valid_streams(packed, expected):
    assert reference_decode(packed) == expected
    assert huffkit.decompress(packed) == expected


ONE_CL_CODE = {8: 1}  # a code-length code of one codeword, "0", for symbol 8
SECTION16_INVALID = [
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=compact_table(
        {A: 1, B: 1}, cl_lengths={0: 2, 1: 2, 18: 3}), block_type=COMPACT_BLOCK)), "T1",
        id="T1 code-length code incomplete"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=pack_bits(
        "0000" + "000" * 4 + "00000000"), block_type=COMPACT_BLOCK)), "T1",
        id="T1 no code-length code"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=pack_bits(
        "0000" + "000" * 3 + "000" + "1" + "0" * 7), block_type=COMPACT_BLOCK)), "T1",
        id="T1 one code-length code of length 4"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=pack_bits(
        # K = 5: symbols 16, 17, 18, 0, 8; only 8 has a code ("0"); then the bit "1"
        "0001" + "000" * 4 + "001" + "1" + "000"), block_type=COMPACT_BLOCK)), "T2",
        id="T2 a bit string that begins no codeword"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=compact_table(
        {A: 1, B: 1}, cl_lengths={16: 1, 18: 2, 1: 2},
        symbols=[(16, 0), (18, 0)]), block_type=COMPACT_BLOCK)), "T3",
        id="T3 a repeat before any length"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=compact_table(
        {A: 1, B: 1}, cl_lengths={18: 1, 1: 1},
        symbols=[(18, 127), (18, 127)]), block_type=COMPACT_BLOCK)), "T4",
        id="T4 more than 256 lengths"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=compact_table(
        {A: 1, B: 1}, padding="1"), block_type=COMPACT_BLOCK)), "T5",
        id="T5 non-zero padding"),
    pytest.param(_utf8(huffman_block(b"ab", {A: 1, B: 1}, table=compact_table({A: 1, B: 1}),
                                     block_type=COMPACT_BLOCK, alphabet=UTF8)), "T6",
                 id="T6 a compact table in a utf8 frame"),
    pytest.param(frame(huffman_block(b"ab", {A: 1, B: 1}, table=compact_table(
        {A: 1, B: 1, C: 1}), block_type=COMPACT_BLOCK)), "C6",
        id="C6 compact lengths over-full"),
    pytest.param(frame(reuse_block(b"ab", {A: 1, B: 1})), "R1", id="R1 reuse first"),
    pytest.param(cb_frame(shared_block(b"abc", CB), reuse_block(b"ab", CB),
                          section=embedded(CB)), "R1", id="R1 reuse after a shared code"),
    pytest.param(ans_frame(ans_block(ABR, own_table(ABR), block_type=ANS_REUSE_BLOCK)), "R1",
                 id="R1 ANS reuse first"),
    pytest.param(frame(ans_block(ABR)), "B1", id="B1 an ANS block in a Huffman frame"),
    pytest.param(ans_frame(compact_block(b"abracadabra", ABR_LENGTHS)), "B1",
                 id="B1 a compact block in an rANS frame"),
]


@pytest.mark.parametrize(("packed", "rule"), SECTION16_INVALID)
def test_section16_invalid_input_is_rejected_by_both(packed, rule):
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed)
    assert violation.value.rule == rule
    with pytest.raises(huffkit.FormatError):
        huffkit.decompress(packed)


SPLIT_INPUTS = ["kennedy.xls", "sum", "ptt5", "alice29.txt", "xargs.1"]
CANTERBURY = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "canterbury"


@pytest.mark.parametrize("coder", ["huffman", "ans"])
@pytest.mark.parametrize("name", SPLIT_INPUTS)
@pytest.mark.slow  # the pure-Python reference on Canterbury files
def test_reference_decodes_split_output(name, coder):
    path = CANTERBURY / name
    if not path.is_file():
        pytest.skip("the Canterbury corpus is not beside the repository")
    data = path.read_bytes()[:300_000]  # the reference decoder is plain Python: slow
    block_size = 1 << 17
    packed = huffkit.compress(data, coder=coder, split=True, block_size=block_size)
    (parsed,) = parse(packed)
    assert b"".join(block.data for block in parsed.blocks) == data
    # Section 16.3: runs start anew at each block_size bytes; a table is the smaller one.
    start = 0
    for block in parsed.blocks:
        if start % block_size == 0:
            assert block.block_type not in (REUSE_BLOCK, ANS_REUSE_BLOCK)
        if block.block_type in (HUFFMAN_BLOCK, COMPACT_BLOCK):
            plain, compact = len(code_table(block.lengths)), len(compact_table(block.lengths))
            assert (block.block_type == COMPACT_BLOCK) == (compact < plain)
        start += len(block.data)
    assert len(packed) <= len(huffkit.compress(data, coder=coder, block_size=block_size,
                                               split=False))


@settings(max_examples=40, deadline=None)
@given(parts=st.lists(st.tuples(st.binary(min_size=1, max_size=6), st.integers(1, 20_000)),
                      min_size=1, max_size=4),
       coder=st.sampled_from(["huffman", "ans"]))
def test_property_reference_decodes_split_output(parts, coder):
    rng = random.Random(3)
    data = b"".join(bytes(rng.choices(alphabet, k=n)) for alphabet, n in parts)
    packed = huffkit.compress(data, coder=coder, split=True, block_size=1 << 16)
    assert reference_decode(packed) == data


# Section 16.4: the default output for b"abracadabra", a compact table.
ABRACADABRA_DEFAULT_HEX = """
89 48 55 46 01 00 00 00 10 00 b7 97 53 27 05 0b
00 00 00 b7 f9 ea 17 e0 d0 00 00 00 04 00 ea d8
40 97 fe 00 01 17 00 00 00 4e ac 9c 00 0b 00 00
00 00 00 00 00
"""
GOLDEN_DEFAULT = bytes.fromhex(ABRACADABRA_DEFAULT_HEX)
# Section 16.4's table of bits, field by field.
ABRACADABRA_COMPACT_BITS = [
    "1110", "000 011 010 000 000 000 000 000 000 000 000 000 000 001 000 000 000 011",
    "10 1010110", "110", "0 0 0", "10 0000010", "0", "10 1111111", "111 000", "000000"]


def test_golden_default_vector_bytes_and_bits():
    assert len(GOLDEN_DEFAULT) == 53 == len(GOLDEN) - 22
    assert huffkit.decompress(GOLDEN_DEFAULT) == b"abracadabra"  # version 1, still read
    assert reference_decode(GOLDEN_DEFAULT) == b"abracadabra"
    (frame,) = parse(GOLDEN_DEFAULT)
    (block,) = frame.blocks
    assert block.block_type == COMPACT_BLOCK and block.lengths == ABR_LENGTHS
    bits = "".join(ABRACADABRA_COMPACT_BITS).replace(" ", "")
    assert len(bits) == 104 and pack_bits(bits) == GOLDEN_DEFAULT[23:36]
    assert compact_table(ABR_LENGTHS) == GOLDEN_DEFAULT[23:36]
    # The rest of the block and the frame end are section 12's.
    assert GOLDEN_DEFAULT[:14] == GOLDEN[:14] and GOLDEN_DEFAULT[15:23] == GOLDEN[15:23]
    assert GOLDEN_DEFAULT[36:] == GOLDEN[58:]


# -- section 17: version 2's golden vectors, each checked both ways ---------------------------

GOLDEN_V2_VECTORS = {
    # Section 17.6: the default output, a compact table (type 0x05).
    "compact": (lambda: huffkit.compress(ABR), """
        89 48 55 46 02 00 0b 00 00 00 49 70 04 3c 85 b7 f9 ea 17 e0 d0 00 00 00 04 00 ea d8
        40 97 fe 00 17 4e ac 9c"""),
    # Section 17.6: rANS, with a compact frequency table at precision 3.
    "rans": (lambda: huffkit.compress(ABR, coder="ans"), """
        89 48 55 46 02 02 0b 00 00 00 29 23 c4 46 83 b7 f9 ea 17 19 40 0c 5c 70 09 c0 01 00
        f8 54 3c 00 00 00 80 00"""),
    # A codebook section with an embedded code table, and a shared-code block (0x02).
    "codebook": (lambda: huffkit.compress(ABR, codebook=_v2_codebook()), """
        89 48 55 46 02 01 0b 00 00 00 f9 59 64 01 72 66 89 46 ef 17 02 c3 01 05 00 00 00 00
        80 00 00 00 00 00 00 00 78 1c 20 20 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        81 c6 db 6c 46 c0 8c eb 82 b7 f9 ea 17 1e 46 be 94 68"""),
    # The same codebook in an rANS frame: its compact frequency table embedded (0x04 block).
    "codebook-rans": (lambda: huffkit.compress(ABR, codebook=_v2_codebook(), coder="ans"), """
        89 48 55 46 02 03 0b 00 00 00 99 0a a4 7b 72 66 89 46 ef 17 02 c3 01 80 a0 04 20 41
        e7 ca 21 9c cc 10 66 4a 66 39 99 cc ce 66 73 33 99 8a 66 00 be 18 c1 6a 84 b7 f9 ea
        17 01 00 e1 41 0d 71 c6 8c ec 0c"""),
    # Two pieces cut by hand (section 16.3's writer), the second reusing the first's code
    # (0x06) and table (0x07).
    "reuse": (lambda: _v2_pieces("huffman"), """
        89 48 55 46 02 00 00 00 10 00 19 e5 c7 a1 05 21 6e 6c f3 b5 e0 d0 00 00 00 04 00 ea
        d8 40 97 fe 00 45 4e ac 9c 9d 59 39 3a b2 70 06 21 6e 6c f3 b5 45 4e ac 9c 9d 59 39
        3a b2 70 ff 42"""),
    "reuse-rans": (lambda: _v2_pieces("ans"), """
        89 48 55 46 02 02 00 00 10 00 79 b6 07 db 03 21 6e 6c f3 b5 61 40 0c 5c 71 c7 c5 36
        87 cd f3 01 02 d2 02 85 12 0a 00 00 00 ab 9f 35 9d 6e c2 9d 2d 07 21 6e 6c f3 b5 01
        02 d2 02 85 12 0a 00 00 00 ab 9f 35 9d 6e c2 9d 2d ff 42"""),
}
ABR6 = ABR * 6


def _v2_codebook() -> huffkit.Codebook:
    return huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(
        b"abracadabra alakazam"))


def _v2_pieces(coder: str) -> bytes:
    """ABR6 cut into two pieces of 33 bytes by huffkit's split writer (the cut is an
    encoder's choice; ``compress`` cuts only on 8 KB cells)."""
    from huffkit.format.frame import pack_frame_end, pack_frame_header
    from huffkit.stream.pieces import encode_pieces
    symbols = np.frombuffer(ABR6, dtype=np.uint8)
    counts = np.array([np.bincount(symbols[:33], minlength=256),
                       np.bincount(symbols[33:], minlength=256)])
    body = encode_pieces(ABR6, symbols, [33, 66], counts, 15, coder)
    return (pack_frame_header(DEFAULT_BLOCK_SIZE, coder=coder)
            + b"".join(bytes(part) for part in body) + pack_frame_end(len(ABR6)))


@pytest.mark.parametrize("name", GOLDEN_V2_VECTORS)
def test_version2_golden_vectors(name):
    """Exact bytes: huffkit writes them, and both decoders read them back."""
    write, text = GOLDEN_V2_VECTORS[name]
    golden = bytes.fromhex(text)
    assert write() == golden
    original = ABR6 if name.startswith("reuse") else ABR
    supplied = ({"codebook": _v2_codebook().lengths, "weights": _weights_of(_v2_codebook())}
                if name.startswith("codebook") else {})
    assert reference_decode(golden, **supplied) == original == huffkit.decompress(golden)
    (frame,) = parse(golden, **supplied)
    assert frame.version == 2 == golden[4]
    last = huffkit.frame_info(golden)[0].blocks[-1]
    if name.startswith("reuse"):  # written piece by piece: a frame end (section 17.1)
        assert golden[-2:] == b"\xff" + leb128(len(original)) and not golden[last.offset] & 0x80
    else:  # a one-block input: its last block ends the frame (section 17.5)
        assert golden[last.offset] & LAST_BLOCK and last.offset + last.size == len(golden)
        assert frame.block_size == len(original)
    kinds = [block.block_type for block in frame.blocks]
    assert kinds == {"compact": [COMPACT_BLOCK], "rans": [ANS_BLOCK],
                     "codebook": [SHARED_CODE_BLOCK], "codebook-rans": [SHARED_TABLE_BLOCK],
                     "reuse": [COMPACT_BLOCK, REUSE_BLOCK],
                     "reuse-rans": [ANS_BLOCK, ANS_REUSE_BLOCK]}[name]
    assert huffkit.frame_info(golden)[0].version == 2


def test_version2_rans_golden_table_bits():
    """Section 17.6's table of bits for the rANS vector, field by field (bytes 19 to 25: the
    block, the frame's last, stores no symbol count)."""
    golden = bytes.fromhex(GOLDEN_V2_VECTORS["rans"][1])
    fields = ["00011", "00101", "0000", "0000001100010", "1", "1", "1", "0001110", "00000",
              "00100", "1", "1", "1", "000000"]
    assert pack_bits("".join(fields)) == golden[19:26]
    (block,) = parse(golden)[0].blocks
    assert block.table == FreqTable(3, {A: 4, B: 1, C: 1, D: 1, R: 1})
    assert block.table == own_table(ABR, version=2)
    assert compact_freq_table(block.table) == golden[19:26]
    assert block.states == [0x0080_0000_003C_54F8] and block.words == []


def test_version1_and_version2_frames_concatenate():
    """Section 17.4: each frame is read by the rules of its own version."""
    both = GOLDEN + bytes.fromhex(GOLDEN_V2_VECTORS["rans"][1]) + GOLDEN_DEFAULT
    assert reference_decode(both) == ABR * 3 == huffkit.decompress(both)
    assert [frame.version for frame in huffkit.frame_info(both)] == [1, 2, 1]


# -- section 17.4: every rule of version 2, broken by a hand-made frame --------------------------

def v2_frame(*blocks: bytes, alphabet: Alphabet = BYTES, ans: bool = False,
             total: bytes | None = None) -> bytes:
    """A version-2 frame of these blocks; ``total`` replaces the frame end's LEB128 bytes."""
    flags = alphabet.flag | (FLAG_ANS if ans else 0)
    end = b"\xff" + (leb128(sum(_Reader(block[1:]).leb128(MOST_SYMBOLS, "V1", "n")
                                for block in blocks)) if total is None else total)
    return frame_header(flags=flags, version=2) + b"".join(blocks) + end


def v2_ans_block(data: bytes, table_bytes: bytes) -> bytes:
    """An rANS block of ``data`` with section 17.5's table, whose bytes ``table_bytes``
    replace (a table broken on purpose is rejected before the lanes are read)."""
    return ans_block(data, version=2, table_bytes=table_bytes)


ABR_TABLE = own_table(ABR, version=2)
ABR_HUFFMAN = huffman_block(ABR, version=2)
ABR_PREFIX = frame_header(version=2)
ABR_ANS = ans_block(ABR, version=2)
LANES_AT = 6 + len(compact_freq_table(ABR_TABLE))  # type, 11, CRC, then the 7-byte table

V2_INVALID_CASES = [
    # V1, V2: sizes (section 17.2).
    pytest.param(ABR_PREFIX + b"\x01\x80\x80\x80\x80\x01", "V1",
                 "block 1: block's symbol count is longer than 4 bytes", id="V1-symbols"),
    pytest.param(ABR_PREFIX + b"\x01\x8b\x00" + ABR_HUFFMAN[2:], "V2",
                 "block 1: block's symbol count is not in its shortest form (a LEB128 number "
                 "ending in a zero byte)", id="V2-symbols"),
    pytest.param(ABR_PREFIX + ABR_HUFFMAN[:-4] + b"\x97\x00" + ABR_HUFFMAN[-3:], "V2",
                 "block 1: a stream's bit count is not in its shortest form (a LEB128 number "
                 "ending in a zero byte)", id="V2-bits"),
    pytest.param(ABR_PREFIX + huffman_block(ABR, version=2)[:-4] + b"\x80\x80\x80\x80\x80",
                 "V1", "block 1: a stream's bit count is longer than 5 bytes", id="V1-bits"),
    pytest.param(frame_header(flags=UTF8.flag, version=2) + b"\x01\x0b\x8b\x00", "V2",
                 "block 1: block's length in bytes is not in its shortest form (a LEB128 "
                 "number ending in a zero byte)", id="V2-length"),
    pytest.param(v2_frame(ABR_ANS[:LANES_AT] + b"\x81\x00" + ABR_ANS[LANES_AT + 1:], ans=True),
                 "V2",
                 "block 1: ANS block's lane count is not in its shortest form (a LEB128 "
                 "number ending in a zero byte)", id="V2-lanes"),
    pytest.param(v2_frame(ABR_ANS[:LANES_AT] + b"\x81\x80\x01", ans=True), "V1",
                 "block 1: ANS block's lane count is longer than 2 bytes", id="V1-lanes"),
    pytest.param(v2_frame(ABR_ANS[:LANES_AT + 1] + b"\x80\x00", ans=True), "V2",
                 "block 1: ANS block's word count is not in its shortest form (a LEB128 "
                 "number ending in a zero byte)", id="V2-words"),
    pytest.param(v2_frame(ABR_HUFFMAN, total=b"\x8b\x00"), "V2",
                 "block 2: frame end's symbol count is not in its shortest form (a LEB128 number "
                 "ending in a zero byte)", id="V2-total"),
    pytest.param(v2_frame(ABR_HUFFMAN, total=b"\x80" * 10 + b"\x01"), "V1",
                 "block 2: frame end's symbol count is longer than 10 bytes", id="V1-total"),
    pytest.param(v2_frame(ABR_HUFFMAN, total=b"\xff" * 9 + b"\x02"), "V3",
                 "block 2: frame end's symbol count is 2**64 or more", id="V3"),
    pytest.param(v2_frame(ABR_HUFFMAN, total=b"\x0c"), "E1",
                 "frame end records 12 bytes, but the frame's 1 blocks hold 11", id="E1-v2"),
    # B1: 0x00 is no frame end in version 2.
    pytest.param(ABR_PREFIX + ABR_HUFFMAN + b"\x00\x0b", "B1",
                 "block 2: unknown block type 0x00 (a version-2 frame ends with 0xff)",
                 id="B1-0x00"),
    pytest.param(frame_header(version=1) + ABR_HUFFMAN + b"\xff\x0b", "B2",
                 "block 1: block claims 3942233867 symbols; the frame allows 1 to 1048576 per "
                 "block", id="v2-block-in-a-v1-frame"),
    # V4, B1: the last block (section 17.1).  Two blocks of 11 in a frame of block_size 11:
    # the second, marked last, would hold none.
    pytest.param(frame_header(11, version=2) + ABR_HUFFMAN + bytes([ABR_HUFFMAN[0] | 0x80])
                 + ABR_HUFFMAN[2:], "V4",
                 "block 2: the frame's last block holds no symbols: the blocks before it hold "
                 "11, its block size is 11", id="V4"),
    pytest.param(frame_header(11, version=2) + b"\x80" + ABR_HUFFMAN[2:], "B1",
                 "block 1: unknown block type 0x80", id="B1-0x80"),
    pytest.param(frame_header(11, version=1) + b"\x81" + ABR_HUFFMAN[2:], "B1",
                 "block 1: unknown block type 0x81", id="B1-last-block-in-a-v1-frame"),
    # The last block of a frame that declares 12: it holds 12, and its stream of 23 bits is
    # too short for them (or, were it long enough, its CRC would fail).
    pytest.param(frame_header(12, version=2) + bytes([ABR_HUFFMAN[0] | 0x80]) + ABR_HUFFMAN[2:],
                 "D3", "block 1: a stream decodes to 11 symbols, but its header says 12",
                 id="last-block-holds-what-the-header-says"),
    # F1 to F7: the compact frequency table (section 17.3).
    pytest.param(v2_frame(v2_ans_block(ABR, compact_freq_table(ABR_TABLE, precision_bits="00000")),
                          ans=True), "F1",
                 "block 1: frequency table declares a precision of 0 bits (allowed: 1 to 24)",
                 id="F1-0"),
    pytest.param(v2_frame(v2_ans_block(ABR, compact_freq_table(ABR_TABLE, precision_bits="11001")),
                          ans=True), "F1",
                 "block 1: frequency table declares a precision of 25 bits (allowed: 1 to 24)",
                 id="F1-25"),
    pytest.param(v2_frame(v2_ans_block(ABR, compact_freq_table(ABR_TABLE, count=9)), ans=True),
                 "F2", "block 1: frequency table lists 9 byte values; at most 8 fit its "
                       "alphabet and precision", id="F2-precision"),
    pytest.param(v2_frame(v2_ans_block(ABR, pack_bits(
        "10000" + golomb(256, 0) + "0000")), ans=True), "F2",
                 "block 1: frequency table lists 257 byte values; at most 256 fit its alphabet "
                 "and precision", id="F2-alphabet"),
    pytest.param(v2_frame(v2_ans_block(ABR, pack_bits(
        "00011" + golomb(1, 0) + "0000" + golomb(255, 0) + golomb(0, 0))), ans=True), "F3",
                 "block 1: frequency table lists symbol 256, outside the bytes alphabet",
                 id="F3"),
    pytest.param(v2_frame(v2_ans_block(ABR, compact_freq_table(ABR_TABLE, freq_order=24)),
                          ans=True), "F4",
                 "block 1: frequency table declares frequency codes of order 24 (allowed: 0 "
                 "to 23)", id="F4"),
    pytest.param(v2_frame(v2_ans_block(ABR, pack_bits("00011" + "0" * 25 + "1")), ans=True),
                 "F5", "block 1: frequency table holds an Exp-Golomb code of more than 24 "
                       "leading zeros", id="F5"),
    pytest.param(v2_frame(v2_ans_block(ABR, pack_bits(
        "00011" + golomb(4, 0) + "0000" + golomb(97, 0) + "111" + golomb(13, 0) + "00000"
        + golomb(4, 0) + "111")), ans=True), "F6",
                 "block 1: frequency table's frequencies sum to more than 2**3", id="F6"),
    pytest.param(v2_frame(v2_ans_block(ABR, compact_freq_table(ABR_TABLE, tail="1")), ans=True),
                 "F7", "block 1: frequency table has non-zero padding bits", id="F7"),
]


@pytest.mark.parametrize(("packed", "rule", "message"), V2_INVALID_CASES)
def test_version2_invalid_input_is_rejected_by_both(packed, rule, message):
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed)
    assert violation.value.rule == rule
    with pytest.raises(huffkit.FormatError) as raised:
        huffkit.decompress(packed)
    assert str(raised.value) == message


def test_version2_last_block_ends_its_frame():
    """Section 17.1: a last block holds the rest of block_size and ends the frame; what
    follows is the next frame.  A block lost or repeated before it changes what it holds."""
    first, last = huffman_block(b"abra", version=2), huffman_block(b"cadabra", version=2)
    marked = bytes([last[0] | LAST_BLOCK]) + last[2:]  # 7 symbols: no count stored
    packed = frame_header(11, version=2) + first + marked
    assert reference_decode(packed) == ABR == huffkit.decompress(packed)
    assert reference_decode(packed + packed) == ABR * 2 == huffkit.decompress(packed + packed)
    (frame,) = parse(packed)
    assert frame.total_symbols == 11 and frame.size == len(packed)
    # The first block lost: the last would hold 11 symbols from a stream of 7.
    with pytest.raises(huffkit.FormatError):
        huffkit.decompress(frame_header(11, version=2) + marked)
    # The first block repeated: the last would hold 3.
    with pytest.raises(huffkit.FormatError):
        huffkit.decompress(frame_header(11, version=2) + first + first + marked)
    # Cut inside the last block: the input ends inside the frame.
    with pytest.raises(huffkit.TruncatedError):
        huffkit.decompress(packed[:-1])
    with pytest.raises(SpecViolation) as violation:
        reference_decode(packed[:-1])
    assert violation.value.rule == "S2"


def test_version2_valid_edge_sizes():
    """The longest forms the limits allow, and a one-byte 0, are accepted (section 17.1)."""
    block = huffman_block(ABR, version=2)
    # 11 symbols in the shortest form is one byte; bits[0] = 23, one byte.
    assert block[1] == 11 and block[-4] == 23
    long_block = huffman_block(b"ab" * 5000, version=2)  # 10 000: two bytes
    assert long_block[1:3] == leb128(10_000)
    assert reference_decode(v2_frame(long_block)) == b"ab" * 5000
    assert huffkit.decompress(v2_frame(long_block)) == b"ab" * 5000
    # An empty frame: 0 as one byte.
    empty = frame_header(version=2) + b"\xff\x00"
    assert reference_decode(empty) == b"" == huffkit.decompress(empty)
    assert huffkit.compress(b"") == empty


@pytest.mark.parametrize("kind", ["huffman", "ans", "utf8", "pairs-ans", "codebook",
                                  "codebook-ans", "reuse", "reuse-rans"])
def test_version1_rewrites_of_huffkit_output_decode_alike(kind):
    """``format.legacy.as_version1`` (the fuzzer's version-1 seeds): the same frames in
    version 1's layout (sections 1 to 16), which both decoders read to the same data."""
    from huffkit.format.legacy import as_version1
    text = README.read_bytes()[:3000]
    packed, supplied = {
        "huffman": (lambda: huffkit.compress(text, block_size=1000), {}),
        "ans": (lambda: huffkit.compress(text, coder="ans", block_size=1000), {}),
        "utf8": (lambda: huffkit.compress(text, alphabet="utf8"), {}),
        "pairs-ans": (lambda: huffkit.compress(text, alphabet="pairs", coder="ans"), {}),
        "codebook": (lambda: huffkit.compress(ABR, codebook=_v2_codebook()), {}),
        "codebook-ans": (lambda: huffkit.compress(ABR, codebook=_v2_codebook(), coder="ans"),
                         {}),
        "reuse": (lambda: _v2_pieces("huffman"), {}),
        "reuse-rans": (lambda: _v2_pieces("ans"), {}),
    }[kind]
    packed = packed()
    old = as_version1(packed)
    assert [frame.version for frame in parse(old, **supplied)] == [1]
    assert reference_decode(old) == reference_decode(packed) == huffkit.decompress(old)
    assert as_version1(old) == old
    assert [block.block_type for block in parse(old)[0].blocks] == [
        block.block_type for block in parse(packed)[0].blocks]
