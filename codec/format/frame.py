"""The frame header, its codebook section and the frame end (FORMAT.md, sections 3 and 3.1);
and the memory a frame's blocks take to decode, known from its header alone.

Every field is checked before anything is sized from it, so a damaged or
hostile header fails with ``FormatError`` instead of asking for memory.
Parsing reads from any buffer that supports ``struct.unpack_from`` and
slicing (bytes, bytearray, mmap) without exporting views of it, so a
``bytearray`` being parsed can still grow.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass

import numpy as np

from .._buffers import Bytes
from .._errors import CodebookError, FormatError, MemoryLimitError
from .._types import Coder
from ..models.alphabet import ALPHABETS, Alphabet
from ..models.codebook import IDENTIFIER_BYTES, Codebook, identifier_of, identifier_of_listed
from ..models.frequency_table import FrequencyTable
from .layout import (
    ALPHABET_BITS,
    ALPHABET_SHIFT,
    ALPHABETS_BY_CODE,
    BLOCK_END_V2,
    CODEBOOK_EMBEDDED,
    CODEBOOK_REFERENCED,
    CRC,
    FLAG_ANS,
    FLAG_CODEBOOK,
    FORMAT_VERSION,
    FRAME_END,
    FRAME_HEADER,
    FRAME_HEADER_CRC,
    FRAME_HEADER_SIZE,
    KNOWN_FLAGS,
    LONGEST_CODE,
    MAGIC,
    MAX_BLOCK_SIZE,
    READABLE_VERSIONS,
    need,
)
from .rans_block import pack_frequency_table, parse_frequency_table, table_for
from .tables import pack_code_table, parse_code_table
from .varint import varint

__all__ = ["DEFAULT_MEMORY_LIMIT", "FrameEnd", "FrameHeader", "check_block_size",
           "check_decoding_memory", "check_max_code_length", "check_memory_limit",
           "decoding_memory", "pack_frame_end", "pack_frame_header", "parse_frame_header",
           "with_supplied_codebook"]

#: The memory a decoder may use to decode one block, unless told otherwise (``memory_limit=``,
#: ``huffkit --memory``): 128 MiB, zstd's default limit on a frame's window.  It admits every
#: frame huffkit writes for the bytes alphabet, whatever its block size (blocks of 2^26
#: bytes need 68 MiB), and utf8 and pairs frames of blocks of up to 10 and 13 million symbols
#: (the default block size, 1 MiB, needs 16 and 13 MiB); it refuses a frame of a few dozen
#: bytes that declares blocks whose decoding takes gigabytes.  See :func:`decoding_memory`.
DEFAULT_MEMORY_LIMIT = 128 << 20


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
    def coder(self) -> Coder:
        return "ans" if self.flags & FLAG_ANS else "huffman"

    @property
    def alphabet(self) -> Alphabet:
        return ALPHABETS_BY_CODE[(self.flags & ALPHABET_BITS) >> ALPHABET_SHIFT]


@dataclass(frozen=True)
class FrameEnd:
    total_symbols: int
    size: int = FRAME_END.size  # 9 bytes in version 1; 2 to 11 in version 2; 0 after a
    # version-2 frame's last block (type bit 7), whose frame has no end of its own


# -- the caller's choices ---------------------------------------------------------------------


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


# -- the memory a frame needs -----------------------------------------------------------------

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


# -- frame header and end ---------------------------------------------------------------------


def pack_frame_header(block_size: int, codebook: Codebook | None = None, *,
                      embed: bool = True, coder: Coder = "huffman",
                      alphabet: Alphabet = ALPHABETS["bytes"]) -> bytes:
    """The frame header; with *codebook*, the codebook section its blocks will use.

    For the ANS coder the section names the codebook the same way, and
    embeds the frequency table its distribution quantises to.
    """
    flags = ((0 if codebook is None else FLAG_CODEBOOK) | (FLAG_ANS if coder == "ans" else 0)
             | alphabet.code << ALPHABET_SHIFT)
    fields = FRAME_HEADER.pack(MAGIC, FORMAT_VERSION, flags, block_size)
    header = fields + FRAME_HEADER_CRC.pack(zlib.crc32(fields))
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
        section += bytes([CODEBOOK_EMBEDDED]) + pack_frequency_table(
            table_for(codebook), alphabet, version=FORMAT_VERSION)
    else:
        section += bytes([CODEBOOK_EMBEDDED]) + pack_code_table(codebook.lengths, alphabet)
    return header + section + CRC.pack(zlib.crc32(section))


def parse_frame_header(buffer: Bytes, pos: int) -> FrameHeader:
    """Read a frame header at *pos*, and its codebook section if it has one."""
    # Compare what has arrived of the magic, so garbage fails at its first byte.
    found = bytes(buffer[pos:pos + len(MAGIC)])
    if found != MAGIC[:len(found)]:
        raise FormatError(f"not a huffkit frame: expected magic bytes {MAGIC.hex(' ')}, "
                          f"found {found.hex(' ')}")
    need(buffer, pos, FRAME_HEADER_SIZE)
    _, version, flags, block_size = FRAME_HEADER.unpack_from(buffer, pos)
    (stored_crc,) = FRAME_HEADER_CRC.unpack_from(buffer, pos + FRAME_HEADER.size)
    if stored_crc != zlib.crc32(buffer[pos:pos + FRAME_HEADER.size]):
        raise FormatError("frame header is damaged (its CRC-32 does not match)")
    if version not in READABLE_VERSIONS:
        raise FormatError(f"unsupported format version {version}; this huffkit reads "
                          f"versions {' and '.join(map(str, READABLE_VERSIONS))}")
    if flags & ~KNOWN_FLAGS:
        raise FormatError(f"unsupported frame flags 0x{flags:02x} (this huffkit knows "
                          f"0x{KNOWN_FLAGS:02x})")
    if (flags & ALPHABET_BITS) >> ALPHABET_SHIFT not in ALPHABETS_BY_CODE:
        raise FormatError(f"frame flags 0x{flags:02x} name an unknown alphabet")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise FormatError(f"frame declares a block size of {block_size} bytes; "
                          f"the limit is {MAX_BLOCK_SIZE}")
    if not flags & FLAG_CODEBOOK:
        return FrameHeader(version, flags, block_size)
    return _parse_codebook_section(buffer, pos + FRAME_HEADER_SIZE,
                                   FrameHeader(version, flags, block_size))


def _parse_codebook_section(buffer: Bytes, pos: int, header: FrameHeader) -> FrameHeader:
    start = pos
    need(buffer, pos, IDENTIFIER_BYTES + 1)
    identifier = bytes(buffer[pos:pos + IDENTIFIER_BYTES])
    storage = buffer[pos + IDENTIFIER_BYTES]
    pos += IDENTIFIER_BYTES + 1
    listed = lengths = table = table_id = None
    if storage == CODEBOOK_EMBEDDED and header.flags & FLAG_ANS:
        listed, table, pos = parse_frequency_table(buffer, pos, header.alphabet,
                                                   what="frame frequency table",
                                                   version=header.version)
    elif storage == CODEBOOK_REFERENCED and header.flags & FLAG_ANS:
        need(buffer, pos, IDENTIFIER_BYTES)
        table_id = bytes(buffer[pos:pos + IDENTIFIER_BYTES])
        pos += IDENTIFIER_BYTES
    elif storage == CODEBOOK_EMBEDDED:
        listed, lengths, pos = parse_code_table(buffer, pos, header.alphabet,
                                                what="frame codebook")
    elif storage != CODEBOOK_REFERENCED:
        raise FormatError(f"frame codebook has unknown storage type {storage} "
                          f"(expected {CODEBOOK_REFERENCED} or {CODEBOOK_EMBEDDED})")
    need(buffer, pos, CRC.size)
    if CRC.unpack_from(buffer, pos)[0] != zlib.crc32(buffer[start:pos]):
        raise FormatError("frame codebook section is damaged (its CRC-32 does not match)")
    if lengths is not None and listed is not None and identifier_of_listed(listed, lengths,
                                                    header.alphabet.size) != identifier:
        raise FormatError("frame codebook is damaged: its identifier does not match its "
                          "code lengths")
    return FrameHeader(header.version, header.flags, header.block_size,
                       size=pos + CRC.size - start + FRAME_HEADER_SIZE,
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
        assert header.table_id is not None  # a referenced table's frame names it
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
    """The end of a version-2 frame: its type and the frame's symbols, as a LEB128 number."""
    return bytes([BLOCK_END_V2]) + varint(total_symbols)
