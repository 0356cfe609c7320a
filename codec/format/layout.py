"""The numbers of the file format (FORMAT.md, sections 2 to 5): the magic, the version,
the flags, the block types and the layouts of the headers, all little-endian::

    frame    = header [codebook] block* end
    header   = magic "\\x89HUF" | version u8 | flags u8 | block_size u32
               | crc32 of those 10 bytes u32
    codebook = identifier 8 bytes | storage u8 | [code table] | crc32 u32
               (present when flags bit 0 is set: a code shared by the frame)
    block    = type u8 | symbols u32 | [length in bytes u32] | crc32(original bytes) u32
               | the body its type gives (``huffman_block``, ``rans_block``)
    end      = 0x00 | total symbols u64

A block records its length in bytes only in frames of alphabets other than
bytes (FORMAT.md, section 15).  Version 2 (section 17), which huffkit writes,
has the same header and writes every size as a LEB128 number (``varint``), and leaves
out what the header says already::

    block    = type u8 | [symbols varint] | [length varint] | crc32 u32 | body
    end      = 0xFF | total symbols varint

A version-2 block whose type has bit 7 set is the frame's last: it stores no symbol count
(it holds what the blocks before it leave of block_size, which is the frame's total), and
no frame end follows it.
"""

from __future__ import annotations

import struct

from .._buffers import Bytes
from .._errors import TruncatedError
from .._types import Coder
from ..kernels.reference.huffman import LONGEST_DECODABLE_CODE
from ..models.alphabet import ALPHABETS

#: The four bytes every huffkit frame starts with.
MAGIC = b"\x89HUF"
#: The version of the format this package writes.
FORMAT_VERSION = 2
#: The versions it reads.
READABLE_VERSIONS = (1, 2)
#: Default number of bytes coded per block (each block gets its own code).
DEFAULT_BLOCK_SIZE = 1 << 20
#: Default number of bytes a sequential model codes per block (``compress(model=...)``):
#: each block learns its model from scratch, so larger blocks code smaller.
MODEL_BLOCK_SIZE = 1 << 24
#: The largest block size a frame may declare; it bounds a decoder's memory.
MAX_BLOCK_SIZE = 1 << 26
#: The longest code length the format allows.
LONGEST_CODE = LONGEST_DECODABLE_CODE
#: A block holds at most this many independently decodable streams.
MAX_STREAMS = 16
#: The entropy coders, by the name the API and the CLI give them.
CODERS: tuple[Coder, ...] = ("huffman", "ans")

# -- block types (FORMAT.md, section 4) -----------------------------------------------------
BLOCK_END = 0x00
#: The frame end's type byte in version 2: no single flipped bit turns a block's type (0x01
#: to 0x07) into it, nor it into a valid type.  With version 1's 0x00, a damaged type 0x01
#: ended a frame whenever the block's symbol count, now read as the frame's LEB128 total,
#: matched the blocks before it (two blocks of the same size, say).
BLOCK_END_V2 = 0xFF
#: Version 2: bit 7 of a block's type marks the frame's last block (as deflate's BFINAL and
#: zstd's Last_Block do), which holds the rest of the header's block_size symbols and
#: stores no count; no frame end follows it.  The other bits are its type.
BLOCK_LAST = 0x80
BLOCK_HUFFMAN = 0x01
BLOCK_HUFFMAN_SHARED = 0x02
BLOCK_ANS = 0x03
BLOCK_ANS_SHARED = 0x04
#: A Huffman block whose table is compact (FORMAT.md, section 16); byte frames only.
BLOCK_HUFFMAN_COMPACT = 0x05
#: A Huffman block coded with the previous block's code, which it does not repeat.
BLOCK_HUFFMAN_REUSE = 0x06
#: An ANS block coded with the previous block's frequency table.
BLOCK_ANS_REUSE = 0x07
#: A block of bytes coded by a sequential model it names (FORMAT.md, section 18); version 2.
BLOCK_MODEL = 0x08

# -- frame flags (FORMAT.md, section 3) -----------------------------------------------------
#: A codebook section follows the header, and blocks may use it.
FLAG_CODEBOOK = 0x01
#: The blocks are coded with rANS, and a codebook section holds a frequency table.
FLAG_ANS = 0x02
# Bits 2 and 3: the alphabet (0 bytes, 1 utf8, 2 pairs; 3 is reserved).
ALPHABET_SHIFT = 2
ALPHABET_BITS = 0x0C
KNOWN_FLAGS = FLAG_CODEBOOK | FLAG_ANS | ALPHABET_BITS
ALPHABETS_BY_CODE = {alphabet.code: alphabet for alphabet in ALPHABETS.values()}

# How a frame's codebook section holds the code.
CODEBOOK_REFERENCED = 0  # only its identifier: the reader must supply the codebook
CODEBOOK_EMBEDDED = 1  # its code table follows

# A Huffman block of at least this many symbols is split into STREAMS_PER_BLOCK streams, so
# a decoder can work on several at once: the encoder's choice in version 1 (FORMAT.md
# section 11), which stores the count; a rule in version 2 (section 17.1), which does not.
# Each stream more costs its bit count and up to 7 bits of padding, about 4 bytes: under
# 0.01% of a block of 2^16 symbols, but enough to lose to gzip on a file of 20 KB; and the
# run decoder decodes small one-stream blocks side by side.
STREAMS_PER_BLOCK = 4
MIN_SYMBOLS_TO_SPLIT = 1 << 16

# -- header layouts ---------------------------------------------------------------------------
FRAME_HEADER = struct.Struct("<4sBBI")  # magic, version, flags, block size
FRAME_HEADER_CRC = struct.Struct("<I")
FRAME_HEADER_SIZE = FRAME_HEADER.size + FRAME_HEADER_CRC.size
BLOCK_HEADER = struct.Struct("<BII")  # type, symbols, crc32
BLOCK_HEADER_SIZED = struct.Struct("<BIII")  # type, symbols, length in bytes, crc32
CRC = struct.Struct("<I")
FRAME_END = struct.Struct("<BQ")  # type, total symbols (version 1)

# -- version 2: the most bytes each LEB128 size may take (FORMAT.md, section 17) ----------------
#: symbols (at most 2^26) and word counts: 4 groups of 7 bits hold 2^28 - 1.
LONGEST_SYMBOLS = 4
#: a block's length in bytes: at most 4 * 2^26 = 2^28, which needs a fifth group.
LONGEST_LENGTH = 5
#: a stream's bits: at most 31 * 2^26 < 2^31.
LONGEST_BITS = 5
#: lanes: at most 4096.
LONGEST_LANES = 2
#: a frame's total: below 2^64, as version 1's u64.
LONGEST_TOTAL = 10


def need(buffer: Bytes, pos: int, size: int) -> None:
    """``TruncatedError`` unless *buffer* holds *size* bytes from *pos*."""
    if len(buffer) - pos < size:
        raise TruncatedError("compressed data ended in the middle of a frame")


def streams_of(symbols: int) -> int:
    """The streams of a Huffman block of *symbols* symbols: what huffkit writes, and in
    version 2 (which does not store the count) the rule."""
    return STREAMS_PER_BLOCK if symbols >= MIN_SYMBOLS_TO_SPLIT else 1
