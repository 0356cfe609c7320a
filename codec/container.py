"""The huffkit file format: frames of blocks, each block with its own code.

FORMAT.md is the specification; this module is its implementation.  Layout
in brief (all integers little-endian)::

    frame    = header [codebook] block* end
    header   = magic "\\x89HUF" | version u8 | flags u8 | block_size u32
               | crc32 of those 10 bytes u32
    codebook = identifier 8 bytes | storage u8 | [code table] | crc32 u32
               (present when flags bit 0 is set: a code shared by the frame)
    block    = 0x01 | symbols u32 | crc32(original bytes) u32 | code table
               | stream count u8 | bit length u32 per stream | streams
             | 0x02 | symbols u32 | crc32(original bytes) u32      (the frame's code)
               | stream count u8 | bit length u32 per stream | streams
             | 0x05 | ... as 0x01, with a compact code table     (byte frames)
             | 0x06 | ... as 0x02, with the previous block's code
             | 0x03, 0x04, 0x07: the rANS blocks of _ans_format.py
    end      = 0x00 | total symbols u64

(In frames of other alphabets a block also records its length in bytes, after
its symbol count: FORMAT.md, section 15.)

Every field is checked before anything is sized from it, so a damaged or
hostile header fails with ``FormatError`` instead of asking for memory.
Parsing reads from any buffer that supports ``struct.unpack_from`` and
slicing (bytes, bytearray, mmap) without exporting views of it, so a
``bytearray`` being parsed can still grow.
"""

from __future__ import annotations

import dataclasses
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from . import _backend, _kernels
from ._ans_format import (
    ANS_LANES_SIZE,
    BLOCK_ANS,
    BLOCK_ANS_SHARED,
    AnsBlockHeader,
    ans_payload,
    decode_ans_block,
    encode_ans_block,
    lanes_for_counts,
    lanes_payload,
    pack_frequency_table,
    parse_ans_block,
    parse_frequency_table,
    table_for,
)
from ._compact_table import pack_compact_table, parse_compact_table
from ._errors import (
    ChecksumError,
    CodebookError,
    FormatError,
    MemoryLimitError,
    TruncatedError,
    releasing_views,
)
from ._presence import listed_symbols, pack_presence, parse_presence
from .alphabet import ALPHABETS, Alphabet, AlphabetError
from .ans import FrequencyTable, quantize
from .codebook import (
    IDENTIFIER_BYTES,
    Codebook,
    identifier_of,
    identifier_of_listed,
    optimal_lengths,
)
from .distribution import Distribution

__all__ = [
    "DEFAULT_BLOCK_SIZE",
    "DEFAULT_MEMORY_LIMIT",
    "FORMAT_VERSION",
    "LONGEST_CODE",
    "MAGIC",
    "MAX_BLOCK_SIZE",
    "BlockInfo",
    "FrameInfo",
    "frame_info",
]

#: The four bytes every huffkit frame starts with.
MAGIC = b"\x89HUF"
#: The version of the format this module reads and writes.
FORMAT_VERSION = 1
#: Default number of bytes coded per block (each block gets its own code).
DEFAULT_BLOCK_SIZE = 1 << 20
#: The largest block size a frame may declare; it bounds a decoder's memory.
MAX_BLOCK_SIZE = 1 << 26
#: The memory a decoder may use to decode one block, unless told otherwise (``memory_limit=``,
#: ``huffkit --memory``): 128 MiB, zstd's default limit on a frame's window.  It admits every
#: frame huffkit writes for the bytes alphabet, whatever its block size (blocks of 2^26
#: bytes need 68 MiB), and utf8 and pairs frames of blocks of up to 10 and 13 million symbols
#: (the default block size, 1 MiB, needs 16 and 13 MiB); it refuses a frame of a few dozen
#: bytes that declares blocks whose decoding takes gigabytes.  See :func:`decoding_memory`.
DEFAULT_MEMORY_LIMIT = 128 << 20
#: The longest code length the format allows.
LONGEST_CODE = _kernels.LONGEST_DECODABLE_CODE
#: A block holds at most this many independently decodable streams.
MAX_STREAMS = 16

BLOCK_END = 0x00
BLOCK_HUFFMAN = 0x01
BLOCK_HUFFMAN_SHARED = 0x02
#: A Huffman block whose table is compact (FORMAT.md, section 16); byte frames only.
BLOCK_HUFFMAN_COMPACT = 0x05
#: A Huffman block coded with the previous block's code, which it does not repeat.
BLOCK_HUFFMAN_REUSE = 0x06
#: An ANS block coded with the previous block's frequency table.
BLOCK_ANS_REUSE = 0x07

#: Frame flag: a codebook section follows the header, and blocks may use it.
FLAG_CODEBOOK = 0x01
#: Frame flag: the blocks are coded with rANS, and a codebook section holds a frequency table.
FLAG_ANS = 0x02
# Frame flag bits 2 and 3: the alphabet (0 bytes, 1 utf8, 2 pairs; 3 is reserved).
_ALPHABET_SHIFT = 2
_ALPHABET_BITS = 0x0C
_KNOWN_FLAGS = FLAG_CODEBOOK | FLAG_ANS | _ALPHABET_BITS
_ALPHABETS_BY_CODE = {alphabet.code: alphabet for alphabet in ALPHABETS.values()}

#: The entropy coders, by the name the API and the CLI give them.
CODERS = ("huffman", "ans")

# How a frame's codebook section holds the code.
CODEBOOK_REFERENCED = 0  # only its identifier: the reader must supply the codebook
CODEBOOK_EMBEDDED = 1  # its code table follows

# A block of at least this many symbols is split into _STREAMS_PER_BLOCK
# streams, so a decoder can work on several at once.
_STREAMS_PER_BLOCK = 4
_MIN_SYMBOLS_TO_SPLIT = 1 << 14

_FRAME_HEADER = struct.Struct("<4sBBI")
_FRAME_HEADER_CRC = struct.Struct("<I")
FRAME_HEADER_SIZE = _FRAME_HEADER.size + _FRAME_HEADER_CRC.size
_BLOCK_HEADER = struct.Struct("<BII")  # type, symbols, crc32
_BLOCK_HEADER_SIZED = struct.Struct("<BIII")  # type, symbols, length in bytes, crc32
_CRC = struct.Struct("<I")
_FRAME_END = struct.Struct("<BQ")  # type, total symbols


@dataclass(frozen=True, eq=False)
class FrameHeader:
    """A frame header, with its codebook section if it has one."""

    version: int
    flags: int
    block_size: int
    size: int = FRAME_HEADER_SIZE  # bytes, codebook section included
    codebook_id: bytes | None = None  # the frame's shared code, named ...
    embedded: bool = False  # ... and stored in the frame, or not
    # The code, when embedded or supplied: the symbols it lists (increasing), and for each
    # of them in turn its length (Huffman) or its frequency (ANS, a table of len(listed)).
    listed: np.ndarray | None = None
    lengths: np.ndarray | None = None
    table: FrequencyTable | None = None
    table_id: bytes | None = None  # the identifier of a referenced frequency table (ANS)

    @property
    def codebook_size(self) -> int:
        """Bytes of the codebook section."""
        return self.size - FRAME_HEADER_SIZE

    @property
    def coder(self) -> str:
        return "ans" if self.flags & FLAG_ANS else "huffman"

    @property
    def alphabet(self) -> Alphabet:
        return _ALPHABETS_BY_CODE[(self.flags & _ALPHABET_BITS) >> _ALPHABET_SHIFT]


@dataclass(frozen=True, eq=False)
class ReusableCode:
    """The code of a frame's last block, all a reuse block (type 0x06) takes from it: for
    blocks decoded in a run (``HuffmanDecompressor``), whose headers Python never saw."""

    listed: np.ndarray
    lengths: np.ndarray
    shared: bool = False


@dataclass(frozen=True, eq=False)
class BlockHeader:
    """Everything in a block before its streams."""

    symbols: int
    crc32: int
    lengths: np.ndarray | None  # None: the frame's code, which was not supplied ...
    listed: np.ndarray | None  # ... else the symbols it codes, lengths[i] being listed[i]'s
    stream_bits: tuple[int, ...]
    header_size: int
    shared: bool = False  # coded with the frame's codebook rather than its own table
    length: int = 0  # the bytes it decodes to (for bytes, its symbols)
    alphabet: Alphabet = ALPHABETS["bytes"]
    reused: bool = False  # coded with the previous block's code (type 0x06)
    # Its shortest and longest code (None when the code is not known), found once: a file of
    # a million tiny blocks asked numpy for them four million times.
    code_range: tuple[int, int] | None = None
    # Computed once, from the fields above (cached_property took 5 us a block in locks).
    stream_sizes: tuple[int, ...] = dataclasses.field(init=False)
    size: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        sizes = tuple((bits + 7) >> 3 for bits in self.stream_bits)
        object.__setattr__(self, "stream_sizes", sizes)
        object.__setattr__(self, "size", self.header_size + sum(sizes))

    @property
    def payload_bits(self) -> int:
        return sum(self.stream_bits)


@dataclass(frozen=True)
class FrameEnd:
    total_symbols: int
    size: int = _FRAME_END.size


# -- small helpers -----------------------------------------------------------


class byte_view:  # named as a function: with byte_view(data) as view
    """The bytes of *data*, any C-contiguous bytes-like object, as a flat view of bytes.

    An ``array('I')`` or a numpy int32 array is its bytes, whatever its item size and
    shape (as ``zlib`` reads it).  A buffer that is not C-contiguous (a Fortran-ordered or
    strided array) has no one order of its bytes: ``ValueError``, as ``zlib`` and ``bz2``
    raise.  Not bytes-like at all: ``TypeError``, from ``memoryview``.

    Leaving the ``with`` block releases the views, unless an error is on its way out while
    some are still exported from frames it passed through: those go with the frames (see
    ``releasing_views``), and releasing them here would raise a ``BufferError`` in place of
    the error.
    """

    def __init__(self, data, what: str = "data") -> None:
        self._view = memoryview(data)
        if not self._view.c_contiguous:
            self._view.release()
            raise ValueError(f"{what} must be a C-contiguous bytes-like object; this one "
                             "is strided or in Fortran order: pass a contiguous copy "
                             "(numpy.ascontiguousarray, or bytes(memoryview(...)))")
        try:
            self._flat = self._view.cast("B")
        except (TypeError, ValueError):
            # A format memoryview cannot cast, such as numpy's big-endian '>u2': its bytes
            # are the same in a copy.
            self._flat = memoryview(self._view.tobytes())

    def __enter__(self) -> memoryview:
        return self._flat

    def __exit__(self, kind, error, traceback) -> None:
        try:
            self._flat.release()
            self._view.release()
        except BufferError:
            if kind is None:
                raise


def _need(buffer, pos: int, size: int) -> None:
    if len(buffer) - pos < size:
        raise TruncatedError("compressed data ended in the middle of a frame")


_stream_ranges = _kernels.stream_ranges


def check_block_size(block_size: int) -> int:
    if isinstance(block_size, bool) or not isinstance(block_size, int):
        raise TypeError(f"block_size must be an int, not {type(block_size).__name__}")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise ValueError(f"block_size must be between 1 and {MAX_BLOCK_SIZE} bytes, "
                         f"got {block_size}")
    return block_size


def check_max_code_length(max_code_length: int) -> int:
    if isinstance(max_code_length, bool) or not isinstance(max_code_length, int):
        raise TypeError(f"max_code_length must be an int, not {type(max_code_length).__name__}")
    if not 1 <= max_code_length <= LONGEST_CODE:
        raise ValueError(f"max_code_length must be between 1 and {LONGEST_CODE} bits, "
                         f"got {max_code_length}")
    return max_code_length


# -- the memory a frame needs ---------------------------------------------------

# The bytes the compiled decoders allocate per symbol of a block, at their peak, measured
# (tracemalloc and peak RSS) on real and hand-made blocks of each kind, and read off the code
# that allocates (Huffman and rANS alike):
# - bytes: the output, which is the symbols (1).
# - pairs: the kernel's positions in the block's list (uint32) and the symbols they index
#   (uint32); then the symbols, the output (2 bytes a symbol) and its big-endian copy (2),
#   and 1 more for an odd last byte appended: 9.
# - utf8: the symbols (uint32), a str of them (4 bytes a character at worst) and its UTF-8
#   (at most 4 bytes a symbol): 12.
# The figure is the frame's, the same on every installation, as zstd's window is: the numpy
# reference backend, used only where the compiled kernels are not built, works through
# int64 arrays and takes up to 20 bytes a symbol (measured), which this does not follow.
_DECODING_BYTES_PER_SYMBOL = {"bytes": 1, "pairs": 9, "utf8": 12}
# ... and, whatever the block's size, tables sized by the alphabet and the code (a utf8
# block's table of distinct symbols marks 1,114,112 code points).
_DECODING_FIXED = 4 << 20


def check_memory_limit(memory_limit: int | None) -> int | None:
    """*memory_limit* as given (bytes, or None for no limit), after checking it."""
    if memory_limit is None:
        return None
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, int):
        raise TypeError(f"memory_limit must be an int (bytes) or None, not "
                        f"{type(memory_limit).__name__}")
    if memory_limit < 1:
        raise ValueError(f"memory_limit must be at least 1 byte, or None for no limit, "
                         f"got {memory_limit}")
    return memory_limit


def decoding_memory(frame: FrameHeader) -> int:
    """The most memory, in bytes, decoding one block of *frame* takes, from its header alone.

    A block holds at most ``block_size`` symbols (FORMAT.md, rule B2), so
    this is ``block_size`` times what the compiled decoders allocate per
    symbol of the frame's alphabet (1 byte for bytes, 9 for pairs, 12 for
    utf8, measured; the numpy reference backend takes more), plus 4 MiB of
    tables.  Not counted: a transient copy of the block's compressed bytes,
    which the input holds already, and the output a one-shot ``decompress``
    returns.  With several threads, each thread decodes a block of its own.
    """
    return _DECODING_BYTES_PER_SYMBOL[frame.alphabet.name] * frame.block_size + _DECODING_FIXED


def _mebibytes(size: int, *, up: bool) -> str:
    """*size* for a message: in MiB (to 1/100, rounded *up* or down, when not whole), or in
    bytes below 1 MiB.  A need rounds up and a limit down, so that one over the other never
    reads as the same figure."""
    if size < 1 << 20:
        return f"{size:,} bytes"
    hundredths, rest = divmod(size * 100, 1 << 20)
    hundredths += 1 if up and rest else 0
    whole, fraction = divmod(hundredths, 100)
    return f"{whole:,} MiB" if not fraction else f"{whole:,}.{fraction:02d} MiB"


def check_decoding_memory(frame: FrameHeader, memory_limit: int | None) -> None:
    """Raise ``MemoryLimitError`` if a block of *frame* may need more than *memory_limit*."""
    if memory_limit is None:
        return
    needed = decoding_memory(frame)
    if needed > memory_limit:
        raise MemoryLimitError(
            f"this frame needs {_mebibytes(needed, up=True)} to decode a block "
            f"({frame.block_size:,} {frame.alphabet.name} symbols), over the memory limit of "
            f"{_mebibytes(memory_limit, up=False)}: pass a larger memory_limit= "
            "(huffkit --memory SIZE)")


# -- frame header and end ----------------------------------------------------


def pack_frame_header(block_size: int, codebook: Codebook | None = None, *,
                      embed: bool = True, coder: str = "huffman",
                      alphabet: Alphabet = ALPHABETS["bytes"]) -> bytes:
    """The frame header; with *codebook*, the codebook section its blocks will use.

    For the ANS coder the section names the codebook the same way, and
    embeds the frequency table its distribution quantises to.
    """
    flags = ((0 if codebook is None else FLAG_CODEBOOK) | (FLAG_ANS if coder == "ans" else 0)
             | alphabet.code << _ALPHABET_SHIFT)
    fields = _FRAME_HEADER.pack(MAGIC, FORMAT_VERSION, flags, block_size)
    header = fields + _FRAME_HEADER_CRC.pack(zlib.crc32(fields))
    if codebook is None:
        return header
    section = identifier_of(codebook.lengths)
    if coder == "ans" and not embed:
        # The identifier names the code lengths; the table's own identifier makes sure the
        # reader's codebook gives the same frequencies (same weights, same quantisation).
        section += bytes([CODEBOOK_REFERENCED]) + bytes.fromhex(table_for(codebook).identifier)
    elif not embed:
        section += bytes([CODEBOOK_REFERENCED])
    elif coder == "ans":
        section += bytes([CODEBOOK_EMBEDDED]) + pack_frequency_table(table_for(codebook),
                                                                     alphabet)
    else:
        section += bytes([CODEBOOK_EMBEDDED]) + pack_code_table(codebook.lengths, alphabet)
    return header + section + _CRC.pack(zlib.crc32(section))


def parse_frame_header(buffer, pos: int) -> FrameHeader:
    """Read a frame header at *pos*, and its codebook section if it has one."""
    # Compare what has arrived of the magic, so garbage fails at its first byte.
    found = bytes(buffer[pos:pos + len(MAGIC)])
    if found != MAGIC[:len(found)]:
        raise FormatError(f"not a huffkit frame: expected magic bytes {MAGIC.hex(' ')}, "
                          f"found {found.hex(' ')}")
    _need(buffer, pos, FRAME_HEADER_SIZE)
    _, version, flags, block_size = _FRAME_HEADER.unpack_from(buffer, pos)
    (stored_crc,) = _FRAME_HEADER_CRC.unpack_from(buffer, pos + _FRAME_HEADER.size)
    if stored_crc != zlib.crc32(buffer[pos:pos + _FRAME_HEADER.size]):
        raise FormatError("frame header is damaged (its CRC-32 does not match)")
    if version != FORMAT_VERSION:
        raise FormatError(f"unsupported format version {version}; this huffkit reads "
                          f"version {FORMAT_VERSION}")
    if flags & ~_KNOWN_FLAGS:
        raise FormatError(f"unsupported frame flags 0x{flags:02x} (this huffkit knows "
                          f"0x{_KNOWN_FLAGS:02x})")
    if (flags & _ALPHABET_BITS) >> _ALPHABET_SHIFT not in _ALPHABETS_BY_CODE:
        raise FormatError(f"frame flags 0x{flags:02x} name an unknown alphabet")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise FormatError(f"frame declares a block size of {block_size} bytes; "
                          f"the limit is {MAX_BLOCK_SIZE}")
    if not flags & FLAG_CODEBOOK:
        return FrameHeader(version, flags, block_size)
    return _parse_codebook_section(buffer, pos + FRAME_HEADER_SIZE,
                                   FrameHeader(version, flags, block_size))


def _parse_codebook_section(buffer, pos: int, header: FrameHeader) -> FrameHeader:
    start = pos
    _need(buffer, pos, IDENTIFIER_BYTES + 1)
    identifier = bytes(buffer[pos:pos + IDENTIFIER_BYTES])
    storage = buffer[pos + IDENTIFIER_BYTES]
    pos += IDENTIFIER_BYTES + 1
    listed = lengths = table = table_id = None
    if storage == CODEBOOK_EMBEDDED and header.flags & FLAG_ANS:
        listed, table, pos = parse_frequency_table(buffer, pos, header.alphabet,
                                                   what="frame frequency table")
    elif storage == CODEBOOK_REFERENCED and header.flags & FLAG_ANS:
        _need(buffer, pos, IDENTIFIER_BYTES)
        table_id = bytes(buffer[pos:pos + IDENTIFIER_BYTES])
        pos += IDENTIFIER_BYTES
    elif storage == CODEBOOK_EMBEDDED:
        listed, lengths, pos = parse_code_table(buffer, pos, header.alphabet,
                                                what="frame codebook")
    elif storage != CODEBOOK_REFERENCED:
        raise FormatError(f"frame codebook has unknown storage type {storage} "
                          f"(expected {CODEBOOK_REFERENCED} or {CODEBOOK_EMBEDDED})")
    _need(buffer, pos, _CRC.size)
    if _CRC.unpack_from(buffer, pos)[0] != zlib.crc32(buffer[start:pos]):
        raise FormatError("frame codebook section is damaged (its CRC-32 does not match)")
    if lengths is not None and identifier_of_listed(listed, lengths,
                                                    header.alphabet.size) != identifier:
        raise FormatError("frame codebook is damaged: its identifier does not match its "
                          "code lengths")
    return FrameHeader(header.version, header.flags, header.block_size,
                       size=pos + _CRC.size - start + FRAME_HEADER_SIZE,
                       codebook_id=identifier, embedded=storage == CODEBOOK_EMBEDDED,
                       listed=listed, lengths=lengths, table=table, table_id=table_id)


def with_supplied_codebook(header: FrameHeader, codebook: Codebook | None) -> FrameHeader:
    """Check a codebook the reader supplies against the frame's; give the frame its lengths.

    A frame that names a codebook it does not embed cannot be decoded without
    it; one that embeds its codebook needs none, but a supplied one must be
    the same code, so that a mix-up is reported rather than ignored.
    """
    if header.codebook_id is None:
        return header
    wanted = header.codebook_id.hex()
    if codebook is not None and codebook.size != header.alphabet.size:
        raise CodebookError(f"this data was compressed in the {header.alphabet.name} alphabet; "
                            f"the codebook supplied codes {codebook.size} symbols, not "
                            f"{header.alphabet.size}")
    if codebook is None:
        if header.embedded:
            return header
        raise CodebookError(f"this data was compressed with the external codebook {wanted}, "
                            "which is not stored in it: supply that codebook to decompress it "
                            "(codebook=..., or --codebook MODEL.json)")
    if codebook.identifier != wanted:
        raise CodebookError(f"this data was compressed with the codebook {wanted}, but the "
                            f"codebook supplied is {codebook.identifier}")
    if header.coder == "ans":
        # An embedded table is the file's own truth; a referenced one is rebuilt, exactly.
        if header.embedded:
            return header
        table = table_for(codebook)
        if bytes.fromhex(table.identifier) != header.table_id:
            raise CodebookError(f"the codebook supplied has the identifier {wanted} but gives a "
                                f"different frequency table ({table.identifier}, where this data "
                                f"needs {header.table_id.hex()}): its code lengths match, its "
                                "distribution does not")
        listed = np.flatnonzero(table.freqs)
        return dataclasses.replace(header, listed=listed,
                                   table=FrequencyTable(table.freqs[listed], table.precision))
    listed = np.flatnonzero(codebook.lengths)
    return dataclasses.replace(header, listed=listed,
                               lengths=codebook.lengths[listed].astype(np.int64))


def pack_frame_end(total_symbols: int) -> bytes:
    return _FRAME_END.pack(BLOCK_END, total_symbols)


# -- code tables -------------------------------------------------------------


def _width(longest: int) -> int:
    """Bits per stored length: lengths 1..longest are stored as 0..longest-1."""
    return (longest - 1).bit_length()


def pack_code_table(lengths: np.ndarray, alphabet: Alphabet = ALPHABETS["bytes"],
                    listed: np.ndarray | None = None) -> bytes:
    """Longest length u8 | presence (bitmap or list) | packed (length - 1)s.

    *lengths* has one length per symbol of the alphabet (0: no code), or,
    with *listed*, one per symbol of that increasing list, each non-zero.
    """
    if listed is None:
        listed = np.flatnonzero(lengths)
        lengths = lengths[listed]
    longest = int(lengths.max())
    width = _width(longest)
    values = lengths.astype(np.uint32) - 1
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint32)
    value_bits = ((values[:, np.newaxis] >> shifts) & 1).astype(np.uint8).ravel()
    return (bytes([longest]) + pack_presence(listed, alphabet)
            + np.packbits(value_bits).tobytes())


def plain_table_size(lengths: np.ndarray) -> int:
    """The bytes :func:`pack_code_table` takes for these byte-value *lengths*."""
    present = int(np.count_nonzero(lengths))
    return 1 + 32 + (present * _width(int(lengths.max())) + 7) // 8


def parse_code_table(buffer, pos: int, alphabet: Alphabet = ALPHABETS["bytes"], *,
                     what: str = "code table") -> tuple[np.ndarray, np.ndarray, int]:
    """Read a code table at *pos*: the symbols it lists (increasing), their lengths, and
    the position after it."""
    _need(buffer, pos, 1)
    longest = buffer[pos]
    if not 1 <= longest <= LONGEST_CODE:
        raise FormatError(f"{what} declares a longest code of {longest} bits "
                          f"(allowed: 1 to {LONGEST_CODE})")
    listed, pos = parse_presence(buffer, pos + 1, alphabet, what=what)
    width = _width(longest)
    packed_size = (listed.size * width + 7) // 8
    _need(buffer, pos, packed_size)
    bits = np.unpackbits(np.frombuffer(bytes(buffer[pos:pos + packed_size]), dtype=np.uint8))
    if bits[listed.size * width:].any():
        raise FormatError(f"{what} has non-zero padding bits")
    weights = 1 << np.arange(width - 1, -1, -1, dtype=np.int64)
    lengths = bits[:listed.size * width].reshape(listed.size, width).astype(np.int64) @ weights
    lengths += 1
    if listed.size and lengths.max() != longest:
        raise FormatError(f"{what} declares a longest code of {longest} bits "
                          f"but its longest is {int(lengths.max())}")
    try:
        Codebook.from_lengths(lengths)  # a complete prefix code (or the one code of length 1)
    except CodebookError as error:
        raise FormatError(f"invalid {what}: {error}") from None
    return listed, lengths, pos + packed_size


# -- blocks ------------------------------------------------------------------


class SharedCode:
    """A frame's codebook, made ready once to code each of the frame's blocks.

    For the byte alphabet the code spans all 256 symbols; for a larger one it
    is cut down to the symbols it codes, so that a block costs time in
    proportion to its length, not to the alphabet's size.
    """

    def __init__(self, codebook: Codebook, coder: str, alphabet: Alphabet) -> None:
        table = table_for(codebook) if coder == "ans" else None
        self._position = None  # symbol -> its place among the listed ones
        if alphabet.name == "bytes":
            self.codes, self.lengths, self.table = codebook.codes, codebook.lengths, table
            return
        if table is not None:
            listed = np.flatnonzero(table.freqs)
            self.table = FrequencyTable(table.freqs[listed], table.precision)
        else:
            listed = np.flatnonzero(codebook.lengths)
            self.codes, self.lengths = codebook.codes[listed], codebook.lengths[listed]
        self._position = np.zeros(alphabet.size, dtype=np.int64)
        self._position[listed] = np.arange(listed.size)

    def positions(self, symbols: np.ndarray) -> np.ndarray:
        """What the code's kernels take for *symbols* (every one of which it codes)."""
        return symbols if self._position is None else self._position[symbols]


def encode_block(data, max_code_length: int, shared: SharedCode | None = None, *,
                 coder: str = "huffman", alphabet: Alphabet = ALPHABETS["bytes"],
                 symbols: np.ndarray | None = None) -> list:
    """Code *data* (a non-empty bytes-like object, whole symbols) as one block.

    With *shared* (the frame's codebook) the block is coded with it and
    stores no table; otherwise it gets its own optimal code.  The caller has
    checked that *shared* has a code for every symbol of *data*.  With
    ``coder="ans"`` the block is an ANS block, with its own frequency table
    or the frame's.  *symbols* may bring the data's symbols, converted already.

    Returns the block's bytes in pieces (bytes-like), for the caller to join
    with the rest of its output: one copy, not two.
    """
    if symbols is None:
        symbols = alphabet.symbols(data)
    start = block_start(BLOCK_ANS if coder == "ans" else BLOCK_HUFFMAN, symbols.size, len(data),
                        zlib.crc32(data), alphabet, shared=shared is not None)
    if coder == "ans":
        if shared is None:
            return [start, *encode_ans_block(symbols, alphabet)]
        return [start, *encode_ans_block(shared.positions(symbols), alphabet, shared.table)]
    if shared is not None:
        codes, lengths, table = shared.codes, shared.lengths, b""
        symbols = shared.positions(symbols)
    else:
        if alphabet.name == "bytes":
            listed, counts = None, _backend.kernels.count_symbols(symbols, alphabet.size)
        else:  # the block's code lists only its own symbols, and codes their positions
            listed, symbols, counts = listed_symbols(symbols, alphabet)
        lengths = optimal_lengths(counts, max_code_length)
        codes = _backend.kernels.canonical_codes(lengths)
        table = pack_code_table(lengths, alphabet, listed)
    return [start, table, *_streams(symbols, codes, lengths)]


def _streams(symbols: np.ndarray, codes: np.ndarray, lengths: np.ndarray) -> list:
    """A Huffman block's streams (4 of them for 2^14 symbols or more, else 1), after its
    table: their count, their bit counts, then their bytes."""
    streams = _STREAMS_PER_BLOCK if symbols.size >= _MIN_SYMBOLS_TO_SPLIT else 1
    coded = _backend.kernels.encode_streams(symbols, codes, lengths,
                                            _stream_ranges(symbols.size, streams))
    return [struct.pack(f"<B{streams}I", streams, *(bits for _, bits in coded)),
            *(payload for payload, _ in coded)]


def encode_split(data, symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                 max_code_length: int, coder: str) -> list:
    """Code a block of byte data as the pieces the splitter chose (ending at *ends*, with
    these *counts*), or whole when that is no larger.  Which is smaller is found from the
    sizes' bounds, without coding, whenever they tell; otherwise both are coded and
    compared.  Returns the bytes in pieces."""
    total = counts.sum(axis=0)[np.newaxis]
    whole_end = [symbols.size]
    if len(ends) == 1:
        return encode_pieces(data, symbols, whole_end, total, max_code_length, coder)
    if coder == "ans":
        parts_plan, whole_plan = _plan_ans_pieces(counts), _plan_ans_pieces(total)
        parts_size, whole_size = _ans_bounds(parts_plan), _ans_bounds(whole_plan)

        def parts() -> list:
            return _write_ans_pieces(data, symbols, ends, parts_plan)

        def whole() -> list:
            return _write_ans_pieces(data, symbols, whole_end, whole_plan)
    else:
        with memoryview(data) as view:  # in one kernel call, each planned once, if it can
            crcs = [zlib.crc32(view[begin:end])
                    for begin, end in zip([0, *ends[:-1]], ends, strict=True)]
            fast = _backend.kernels.encode_huffman_split(
                symbols, ends, counts, crcs, lambda: zlib.crc32(data), max_code_length)
        if fast is not None:
            return [fast]
        # The reference: the pieces are coded first, and the whole only when the pieces'
        # real size does not beat its least possible size.
        parts_size = None
        whole_size = (huffman_block_floor(total[0], max_code_length), math.inf)

        def parts() -> list:
            return encode_pieces(data, symbols, ends, counts, max_code_length, coder)

        def whole() -> list:
            return encode_pieces(data, symbols, whole_end, total, max_code_length, coder)
    if parts_size is not None:
        if parts_size[1] < whole_size[0]:
            return parts()
        if parts_size[0] >= whole_size[1]:
            return whole()
    split = parts()
    split_size = sum(memoryview(part).nbytes for part in split)
    if split_size < whole_size[0]:
        return split
    unsplit = whole()
    return split if split_size < sum(memoryview(part).nbytes for part in unsplit) else unsplit


def encode_pieces(data, symbols: np.ndarray, ends: list[int], counts: np.ndarray,
                  max_code_length: int, coder: str) -> list:
    """Code consecutive pieces of byte data, ending at *ends* (with these *counts*), as
    blocks with their own codes: each gets the smaller of its plain and compact table, or
    reuses the previous piece's code (types 0x06 and 0x07) when that costs less than a code
    and table of its own.  Returns the blocks' bytes in pieces."""
    if coder == "ans":
        return _write_ans_pieces(data, symbols, ends, _plan_ans_pieces(counts))
    out: list = []
    previous = None  # the code the last block carried
    start = 0
    with memoryview(data) as view:
        # The same blocks, written in one kernel call if it can.
        starts = [0, *ends[:-1]]
        crcs = [zlib.crc32(view[begin:end]) for begin, end in zip(starts, ends, strict=True)]
        fast = _backend.kernels.encode_huffman_pieces(symbols, ends, counts, crcs,
                                                      max_code_length)
        if fast is not None:
            return [fast]
        for end, piece_counts, crc in zip(ends, counts, crcs, strict=True):
            previous = _encode_huffman_piece(out, symbols[start:end], piece_counts, crc,
                                             max_code_length, previous)
            start = end
    return out


def _encode_huffman_piece(out: list, symbols: np.ndarray, counts: np.ndarray, crc: int,
                          max_code_length: int,
                          previous: tuple[np.ndarray, np.ndarray] | None,
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Append one piece's block to *out*; return the code it used: (lengths, codes)."""
    lengths = optimal_lengths(counts, max_code_length)
    compact = pack_compact_table(lengths)
    if compact is not None and len(compact) < plain_table_size(lengths):
        kind, table = BLOCK_HUFFMAN_COMPACT, compact
    else:
        kind, table = BLOCK_HUFFMAN, pack_code_table(lengths)
    code = (lengths, _backend.kernels.canonical_codes(lengths))
    present = counts > 0
    if previous is not None and previous[0][present].all():
        own_bits = 8 * len(table) + int(np.dot(counts, lengths))
        if int(np.dot(counts, previous[0])) <= own_bits:
            kind, table, code = BLOCK_HUFFMAN_REUSE, b"", previous
    out += [_BLOCK_HEADER.pack(kind, symbols.size, crc), table,
            *_streams(symbols, code[1], code[0])]
    return code


@dataclass(frozen=True)
class _AnsPiece:
    """How one piece of an rANS frame is coded, decided before it is."""

    symbols: int
    kind: int  # BLOCK_ANS, or BLOCK_ANS_REUSE: the previous piece's table
    table: bytes  # the packed table it carries (none when it reuses one)
    used: FrequencyTable  # the table that codes it
    ideal_bits: float  # the sum of log2(M / f) over its symbols
    lanes: int


# A byte block's own rANS table has precision 16: the bits a symbol of frequency f costs
# under it, 16 - log2(f), from one table, so that every way of planning sums the same
# doubles.
_PIECE_PRECISION = 16
_PIECE_COSTS = np.full((1 << _PIECE_PRECISION) + 1, np.inf)
_PIECE_COSTS[1:] = _PIECE_PRECISION - np.log2(np.arange(1, (1 << _PIECE_PRECISION) + 1))


def _ideal_bits(counts: np.ndarray, freqs: np.ndarray) -> float:
    """The ideal bits of byte *counts* under *freqs*: Σ c·(16 - log2 f) over the present
    symbols, summed in order of byte value (as the compiled planner sums them)."""
    present = counts > 0
    return float(np.cumsum(counts[present] * _PIECE_COSTS[freqs[present]])[-1])


def _plan_ans_pieces(counts: np.ndarray) -> list[_AnsPiece]:
    """Each piece's table, its own or (when that costs no more) the previous piece's."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    fast = _backend.kernels.plan_ans_pieces(counts, _PIECE_COSTS)
    plans = []
    previous = None  # the table the last piece with a table of its own carried
    for index, piece_counts in enumerate(counts):
        symbols = int(piece_counts.sum())
        if fast is not None:  # planned in C: make the tables and the plans
            tables, freqs, ideals, lanes, reused = fast
            if reused[index]:
                plans.append(_AnsPiece(symbols, BLOCK_ANS_REUSE, b"", previous,
                                       float(ideals[index]), int(lanes[index])))
            else:
                previous = FrequencyTable(freqs[index], _PIECE_PRECISION)
                plans.append(_AnsPiece(symbols, BLOCK_ANS, tables[index], previous,
                                       float(ideals[index]), int(lanes[index])))
            continue
        present = piece_counts > 0
        own = FrequencyTable(quantize(piece_counts, _PIECE_PRECISION), _PIECE_PRECISION)
        kind, table, used = BLOCK_ANS, pack_frequency_table(own), own
        ideal = _ideal_bits(piece_counts, own.freqs)
        if previous is not None and (previous.freqs[present] > 0).all():
            reused_bits = _ideal_bits(piece_counts, previous.freqs)
            if reused_bits <= 8 * len(table) + ideal:
                kind, table, used, ideal = BLOCK_ANS_REUSE, b"", previous, reused_bits
        plans.append(_AnsPiece(symbols, kind, table, used, ideal,
                               lanes_for_counts(ideal, symbols)))
        previous = used
    return plans


def _write_ans_pieces(data, symbols: np.ndarray, ends: list[int],
                      plans: list[_AnsPiece]) -> list:
    starts = [0, *ends[:-1]]
    with memoryview(data) as view:
        crcs = [zlib.crc32(view[start:end]) for start, end in zip(starts, ends, strict=True)]
    # All the pieces in one kernel call if it can, their steps overlapping.
    fast = _backend.kernels.ans_encode_pieces(
        symbols, ends, np.array([plan.used.freqs for plan in plans]),
        np.array([plan.used.cumulative for plan in plans]), _PIECE_PRECISION,
        [plan.lanes for plan in plans])
    out: list = []
    first_lane = 0
    for index, (start, end, plan, crc) in enumerate(zip(starts, ends, plans, crcs,
                                                        strict=True)):
        out += [_BLOCK_HEADER.pack(plan.kind, plan.symbols, crc), plan.table]
        if fast is None:
            out += ans_payload(symbols[start:end], plan.used, plan.lanes)
            continue
        states, words, word_counts = fast
        out += lanes_payload(states[first_lane:first_lane + plan.lanes],
                             words[start:start + word_counts[index]])
        first_lane += plan.lanes
    return out


def _ans_bounds(plans: list[_AnsPiece]) -> tuple[int, int]:
    """The least and the most bytes these pieces take, found without coding them.

    A lane starts at 2^32 and ends at a state of 32 to 64 bits, so its words hold its
    coded information less 0 to 32 bits.  That information differs from the ideal by
    little: each step codes x into x' with |x'·f / (x·M) - 1| <= f/x <= 2^(p - 32) (a state
    is at least f·2^(32 - p) when it takes a symbol), and shedding a word loses as little,
    so a symbol strays at most 2·-log2(1 - 2^(p - 32)) bits from log2(M / f).
    """
    least = most = 0
    for plan in plans:
        fixed = _BLOCK_HEADER.size + len(plan.table) + ANS_LANES_SIZE + 8 * plan.lanes
        stray = plan.symbols * 2 * -math.log2(1 - 2.0 ** (plan.used.precision - 32))
        slack = plan.ideal_bits * 1e-9 + 1  # for the float sum of the ideal
        least += fixed + max(0, math.floor(
            (plan.ideal_bits - slack - stray - 32 * plan.lanes) / 8))
        most += fixed + math.ceil((plan.ideal_bits + slack + stray) / 8)
    return least, most


def huffman_block_floor(counts: np.ndarray, max_code_length: int) -> int:
    """At least the bytes of one block of byte symbols with these *counts* and its own
    Huffman code (with the smaller of its tables), found without encoding: exact but for the
    padding of all but one of its streams (at most 3 bytes)."""
    lengths = Codebook.from_distribution(Distribution.from_counts(counts),
                                         max_code_length=max_code_length).lengths
    symbols = int(counts.sum())
    streams = _STREAMS_PER_BLOCK if symbols >= _MIN_SYMBOLS_TO_SPLIT else 1
    bits = int(np.dot(counts, lengths.astype(np.int64)))
    compact = pack_compact_table(lengths)
    table = plain_table_size(lengths) if compact is None else min(len(compact),
                                                                 plain_table_size(lengths))
    return _BLOCK_HEADER.size + table + 1 + 4 * streams + (bits + 7) // 8


def block_start(kind: int, symbols: int, length: int, crc: int, alphabet: Alphabet, *,
                shared: bool) -> bytes:
    """Type, symbol count, (for alphabets other than bytes) byte length, and CRC-32."""
    kind += 1 if shared else 0  # each shared-table type follows its own-table type
    if alphabet.name == "bytes":
        return _BLOCK_HEADER.pack(kind, symbols, crc)
    return _BLOCK_HEADER_SIZED.pack(kind, symbols, length, crc)


_BLOCK_TYPES = {"huffman": (BLOCK_HUFFMAN, BLOCK_HUFFMAN_SHARED, BLOCK_HUFFMAN_COMPACT,
                            BLOCK_HUFFMAN_REUSE),
                "ans": (BLOCK_ANS, BLOCK_ANS_SHARED, BLOCK_ANS_REUSE)}
_SHARED_TYPES = (BLOCK_HUFFMAN_SHARED, BLOCK_ANS_SHARED)
_REUSE_TYPES = (BLOCK_HUFFMAN_REUSE, BLOCK_ANS_REUSE)


def parse_block(buffer, pos: int, frame: FrameHeader,
                previous: BlockHeader | AnsBlockHeader | ReusableCode | None = None,
                ) -> BlockHeader | AnsBlockHeader | FrameEnd:
    """Read the header of the block or frame end at *pos* (its streams may not be there yet).

    *previous* is the frame's previous block, whose code a reuse block (types 0x06 and
    0x07) takes.
    """
    _need(buffer, pos, 1)
    kind = buffer[pos]
    if kind == BLOCK_END:
        _need(buffer, pos, _FRAME_END.size)
        return FrameEnd(_FRAME_END.unpack_from(buffer, pos)[1])
    if kind not in _BLOCK_TYPES[frame.coder]:
        other = "huffman" if frame.coder == "ans" else "ans"
        if kind in _BLOCK_TYPES[other]:
            raise FormatError(f"block type 0x{kind:02x} is a {other} block, but the frame's "
                              f"flags say {frame.coder}")
        raise FormatError(f"unknown block type 0x{kind:02x}")
    if kind in _SHARED_TYPES and frame.codebook_id is None:
        raise FormatError("block is coded with the frame's codebook, but the frame has none")
    if kind == BLOCK_HUFFMAN_COMPACT and frame.alphabet.name != "bytes":
        raise FormatError("block type 0x05 (a compact table) is for byte frames only")
    if kind in _REUSE_TYPES and (previous is None or previous.shared):
        raise FormatError(f"block type 0x{kind:02x} reuses the previous block's code, but "
                          "no block before it in the frame has a code of its own")
    alphabet = frame.alphabet
    if alphabet.name == "bytes":
        _need(buffer, pos, _BLOCK_HEADER.size)
        _, symbols, crc = _BLOCK_HEADER.unpack_from(buffer, pos)
        length, cursor = symbols, pos + _BLOCK_HEADER.size
    else:
        _need(buffer, pos, _BLOCK_HEADER_SIZED.size)
        _, symbols, length, crc = _BLOCK_HEADER_SIZED.unpack_from(buffer, pos)
        cursor = pos + _BLOCK_HEADER_SIZED.size
    if not 1 <= symbols <= frame.block_size:
        raise FormatError(f"block claims {symbols} symbols; the frame allows 1 to "
                          f"{frame.block_size} per block")
    if not symbols <= length <= symbols * alphabet.max_symbol_bytes:
        raise FormatError(f"block of {symbols} {alphabet.name} symbols claims {length} bytes")
    if frame.coder == "ans":
        table = ((previous.listed, previous.table) if kind == BLOCK_ANS_REUSE
                 else (frame.listed, frame.table))
        block = parse_ans_block(buffer, pos, cursor, kind, symbols, crc, table, alphabet)
        return dataclasses.replace(block, length=length, alphabet=alphabet,
                                   reused=kind == BLOCK_ANS_REUSE)
    code_range = None
    if kind == BLOCK_HUFFMAN:
        listed, lengths, cursor = parse_code_table(buffer, cursor, alphabet)
    elif kind == BLOCK_HUFFMAN_COMPACT:
        found = _backend.kernels.read_compact_table(buffer, cursor)
        dense, cursor = found if found is not None else parse_compact_table(buffer, cursor)
        listed = np.flatnonzero(dense)
        lengths = dense[listed]
    elif kind == BLOCK_HUFFMAN_REUSE:
        listed, lengths = previous.listed, previous.lengths
    else:
        listed, lengths = frame.listed, frame.lengths
    if previous is not None and getattr(previous, "lengths", None) is lengths:
        code_range = getattr(previous, "code_range", None)  # the same code: known already
    _need(buffer, cursor, 1)
    streams = buffer[cursor]
    if not 1 <= streams <= MAX_STREAMS:
        raise FormatError(f"block declares {streams} streams (allowed: 1 to {MAX_STREAMS})")
    _need(buffer, cursor + 1, 4 * streams)
    stream_bits = struct.unpack_from(f"<{streams}I", buffer, cursor + 1)
    if lengths is None:
        # The frame's codebook was not supplied (describing a file, not decoding it).
        shortest, longest = 1, LONGEST_CODE
    else:
        if code_range is None:
            code_range = int(lengths.min()), int(lengths.max())
        shortest, longest = code_range
    for (start, end), bits in zip(_stream_ranges(symbols, streams), stream_bits, strict=True):
        if not shortest * (end - start) <= bits <= longest * (end - start):
            raise FormatError(f"a stream of {end - start} symbols claims {bits} bits, "
                              f"impossible with codes of {shortest} to {longest} bits")
    return BlockHeader(symbols, crc, lengths, listed, stream_bits,
                       cursor + 1 + 4 * streams - pos,
                       shared=kind == BLOCK_HUFFMAN_SHARED, length=length, alphabet=alphabet,
                       reused=kind == BLOCK_HUFFMAN_REUSE, code_range=code_range)


def check_every_code_is_used(listed: np.ndarray, symbols: np.ndarray, *, ans: bool,
                             alphabet: Alphabet) -> None:
    """A block's own table gives codes (or frequencies) to exactly the symbols it holds.

    Checking this catches damage the CRC cannot see: one flipped bit in the
    table of a one-symbol block can add a second symbol, whose complete code
    decodes the same stream to the same bytes.  (A frame's shared code may
    well code symbols that a block lacks, so its blocks are not checked.)
    The decoded *symbols* all come from *listed*, so counting them suffices.
    """
    if _backend.kernels.count_distinct(symbols, alphabet.size) == listed.size:
        return
    unused = np.setdiff1d(listed, symbols)
    listed_text = (f"{', '.join(map(str, unused[:8].tolist()))}"
                   f"{', ...' if unused.size > 8 else ''}")
    noun = "byte values" if alphabet.name == "bytes" else "symbols"
    if ans:
        raise FormatError(f"frequency table gives {noun} that do not occur in the block a "
                          f"frequency ({listed_text}): the table is damaged")
    raise FormatError(f"code table gives codes to {noun} that do not occur in the block "
                      f"({listed_text}): the table is damaged")


def decode_block(block: BlockHeader | AnsBlockHeader, buffer, pos: int) -> bytes:
    """Decode the block whose header starts at *pos*; the whole block must be in *buffer*."""
    return decode_block_symbols(block, buffer, pos)[0]


def decode_block_symbols(block: BlockHeader | AnsBlockHeader, buffer, pos: int,
                         ) -> tuple[bytes, np.ndarray]:
    """:func:`decode_block`, and the block's symbols as decoded (a view of the bytes for the
    bytes alphabet, else uint32): what ``inspect`` counts, without converting the bytes
    back to symbols (for utf8, that took 16 more bytes a symbol than decoding)."""
    _need(buffer, pos, block.size)
    if isinstance(block, AnsBlockHeader):
        symbols = decode_ans_block(block, buffer, pos)
    else:
        start = pos + block.header_size
        streams = buffer[start:start + sum(block.stream_sizes)]
        symbols = _backend.kernels.decode_streams(streams, block.stream_bits, block.symbols,
                                                  block.lengths, block.listed)
    decoded = symbols  # bytes, when every symbol is a byte value
    if isinstance(symbols, bytes):
        symbols = np.frombuffer(symbols, dtype=np.uint8)
    if not (block.shared or block.reused):
        check_every_code_is_used(block.listed, symbols, ans=isinstance(block, AnsBlockHeader),
                                 alphabet=block.alphabet)
    try:
        if isinstance(decoded, bytes) and block.alphabet.name == "bytes":
            data = decoded
        else:
            data = block.alphabet.data(symbols)
    except AlphabetError as error:
        raise FormatError(f"the block decodes to symbols that are not {block.alphabet.name}: "
                          f"{error}") from None
    if len(data) != block.length:
        raise FormatError(f"block decodes to {len(data)} bytes, but its header says "
                          f"{block.length}")
    if zlib.crc32(data) != block.crc32:
        what = (f"{block.symbols} bytes" if block.alphabet.name == "bytes" else
                f"{block.symbols} symbols ({len(data)} bytes)")
        raise ChecksumError(f"block of {what} decoded, but its CRC-32 "
                            f"{zlib.crc32(data):08x} differs from the stored {block.crc32:08x}: "
                            "the data is corrupt")
    return data, symbols


# -- describing a file without decoding it -----------------------------------


@dataclass(frozen=True)
class BlockInfo:
    """What the header of one block says.

    ``distinct_symbols`` counts the byte values the block's code can code:
    for a block with its own table, exactly the distinct bytes it holds.
    For a block coded with the frame's codebook, the code figures are those
    of that codebook, or None when it is neither embedded nor supplied.
    An ANS block has no code lengths (None); its ``streams`` are its lanes.
    """

    offset: int
    size: int
    symbols: int
    distinct_symbols: int | None
    table_size: int
    payload_bits: int
    streams: int
    min_code_length: int | None
    max_code_length: int | None
    crc32: int
    shared_codebook: bool = False
    coder: str = "huffman"
    original_size: int = 0  # the bytes it decodes to


@dataclass(frozen=True)
class FrameInfo:
    """What the headers of one frame say (payloads are not decoded, checksums not checked).

    ``header_size`` is the frame header plus its codebook section, if any;
    ``codebook`` is the identifier of the frame's shared codebook (None when
    every block has its own table), ``codebook_embedded`` whether the frame
    stores it.
    """

    offset: int
    size: int
    version: int
    block_size: int
    original_size: int
    blocks: tuple[BlockInfo, ...]
    header_size: int = FRAME_HEADER_SIZE
    codebook: str | None = None
    codebook_embedded: bool = False
    coder: str = "huffman"
    alphabet: str = "bytes"


@releasing_views
def frame_info(data, /, *, codebook: Codebook | None = None) -> tuple[FrameInfo, ...]:
    """Describe every frame in *data* (any C-contiguous bytes-like object, or an mmap) from
    its headers alone.

    Raises ``FormatError`` (or ``TruncatedError``) where the structure is
    invalid; payloads are not decoded, so a corrupt payload goes unnoticed
    here (``decompress`` checks it).  A frame that refers to an external
    codebook is described without it, or checked against *codebook* if given.
    """
    with byte_view(data) as view:
        return _frame_info(view, codebook)


def _frame_info(data: memoryview, codebook: Codebook | None) -> tuple[FrameInfo, ...]:
    if len(data) == 0:
        raise TruncatedError("empty input: no huffkit frame")
    frames = []
    pos = 0
    while pos < len(data):
        start = pos
        header = parse_frame_header(data, pos)
        if header.codebook_id is not None and codebook is not None:
            header = with_supplied_codebook(header, codebook)
        pos += header.size
        blocks = []
        previous = None
        while True:
            block = parse_block(data, pos, header, previous)
            if isinstance(block, FrameEnd):
                break
            _need(data, pos, block.size)
            blocks.append(block_info(block, pos))
            pos += block.size
            previous = block
        symbols = sum(b.symbols for b in blocks)
        if block.total_symbols != symbols:
            raise FormatError(f"frame end records {block.total_symbols} symbols, "
                              f"but its blocks hold {symbols}")
        original = sum(b.original_size for b in blocks)
        pos += block.size
        frames.append(FrameInfo(
            offset=start, size=pos - start, version=header.version,
            block_size=header.block_size, original_size=original, blocks=tuple(blocks),
            header_size=header.size,
            codebook=None if header.codebook_id is None else header.codebook_id.hex(),
            codebook_embedded=header.embedded, coder=header.coder,
            alphabet=header.alphabet.name))
    return tuple(frames)


def table_size(block: BlockHeader | AnsBlockHeader) -> int:
    """The bytes of a block's own code or frequency table (0 when it has none)."""
    start = (_BLOCK_HEADER if block.alphabet.name == "bytes" else _BLOCK_HEADER_SIZED).size
    if isinstance(block, AnsBlockHeader):
        return block.header_size - start - ANS_LANES_SIZE
    return block.header_size - start - 1 - 4 * len(block.stream_bits)


def block_info(block: BlockHeader | AnsBlockHeader, offset: int) -> BlockInfo:
    """What the header of the block at *offset* says."""
    start = (_BLOCK_HEADER if block.alphabet.name == "bytes" else _BLOCK_HEADER_SIZED).size
    if isinstance(block, AnsBlockHeader):
        distinct = None if block.listed is None else int(block.listed.size)
        table_size = block.header_size - start - ANS_LANES_SIZE
        return BlockInfo(offset=offset, size=block.size, symbols=block.symbols,
                         distinct_symbols=distinct, table_size=table_size,
                         payload_bits=block.payload_bits, streams=block.lanes,
                         min_code_length=None, max_code_length=None, crc32=block.crc32,
                         shared_codebook=block.shared, coder="ans",
                         original_size=block.length)
    streams = len(block.stream_bits)
    table_size = block.header_size - start - 1 - 4 * streams
    if block.lengths is None:
        distinct = shortest = longest = None
    else:
        distinct = int(block.lengths.size)
        shortest, longest = block.code_range
    return BlockInfo(offset=offset, size=block.size, symbols=block.symbols,
                     distinct_symbols=distinct, table_size=table_size,
                     payload_bits=block.payload_bits, streams=streams,
                     min_code_length=shortest, max_code_length=longest, crc32=block.crc32,
                     shared_codebook=block.shared, original_size=block.length)
