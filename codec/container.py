"""The huffkit file format: frames of blocks, each block with its own code.

FORMAT.md is the specification; this module is its implementation.  Layout
in brief (all integers little-endian)::

    frame  = header block* end
    header = magic "\\x89HUF" | version u8 | flags u8 | block_size u32
             | crc32 of those 10 bytes u32
    block  = 0x01 | symbols u32 | crc32(original bytes) u32 | code table
             | stream count u8 | bit length u32 per stream | streams
    end    = 0x00 | total symbols u64

Every field is checked before anything is sized from it, so a damaged or
hostile header fails with ``FormatError`` instead of asking for memory.
Parsing reads from any buffer that supports ``struct.unpack_from`` and
slicing (bytes, bytearray, mmap) without exporting views of it, so a
``bytearray`` being parsed can still grow.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from . import _kernels
from ._errors import ChecksumError, CodebookError, FormatError, TruncatedError
from .codebook import Codebook
from .distribution import BYTE_ALPHABET_SIZE, Distribution

__all__ = [
    "DEFAULT_BLOCK_SIZE",
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
#: The longest code length the format allows.
LONGEST_CODE = _kernels.LONGEST_DECODABLE_CODE
#: A block holds at most this many independently decodable streams.
MAX_STREAMS = 16

BLOCK_END = 0x00
BLOCK_HUFFMAN = 0x01

# A block of at least this many symbols is split into _STREAMS_PER_BLOCK
# streams, so a decoder can work on several at once.
_STREAMS_PER_BLOCK = 4
_MIN_SYMBOLS_TO_SPLIT = 1 << 14

_FRAME_HEADER = struct.Struct("<4sBBI")
_FRAME_HEADER_CRC = struct.Struct("<I")
FRAME_HEADER_SIZE = _FRAME_HEADER.size + _FRAME_HEADER_CRC.size
_BLOCK_HEADER = struct.Struct("<BII")  # type, symbols, crc32
_FRAME_END = struct.Struct("<BQ")  # type, total symbols
_BITMAP_BYTES = BYTE_ALPHABET_SIZE // 8


@dataclass(frozen=True)
class FrameHeader:
    version: int
    flags: int
    block_size: int


@dataclass(frozen=True, eq=False)
class BlockHeader:
    """Everything in a block before its streams."""

    symbols: int
    crc32: int
    lengths: np.ndarray
    stream_bits: tuple[int, ...]
    header_size: int

    @property
    def stream_sizes(self) -> list[int]:
        return [(bits + 7) // 8 for bits in self.stream_bits]

    @property
    def size(self) -> int:
        return self.header_size + sum(self.stream_sizes)


@dataclass(frozen=True)
class FrameEnd:
    total_symbols: int
    size: int = _FRAME_END.size


# -- small helpers -----------------------------------------------------------


def _need(buffer, pos: int, size: int) -> None:
    if len(buffer) - pos < size:
        raise TruncatedError("compressed data ended in the middle of a frame")


def _stream_ranges(symbols: int, streams: int) -> list[tuple[int, int]]:
    """Stream k codes the symbols [k*m, (k+1)*m) with m = ceil(symbols / streams)."""
    per_stream = -(-symbols // streams)
    return [(min(k * per_stream, symbols), min((k + 1) * per_stream, symbols))
            for k in range(streams)]


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


# -- frame header and end ----------------------------------------------------


def pack_frame_header(block_size: int) -> bytes:
    fields = _FRAME_HEADER.pack(MAGIC, FORMAT_VERSION, 0, block_size)
    return fields + _FRAME_HEADER_CRC.pack(zlib.crc32(fields))


def parse_frame_header(buffer, pos: int) -> FrameHeader:
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
    if flags != 0:
        raise FormatError(f"unsupported frame flags 0x{flags:02x} (version 1 defines none)")
    if not 1 <= block_size <= MAX_BLOCK_SIZE:
        raise FormatError(f"frame declares a block size of {block_size} bytes; "
                          f"the limit is {MAX_BLOCK_SIZE}")
    return FrameHeader(version, flags, block_size)


def pack_frame_end(total_symbols: int) -> bytes:
    return _FRAME_END.pack(BLOCK_END, total_symbols)


# -- code tables -------------------------------------------------------------


def _width(longest: int) -> int:
    """Bits per stored length: lengths 1..longest are stored as 0..longest-1."""
    return (longest - 1).bit_length()


def pack_code_table(lengths: np.ndarray) -> bytes:
    """Longest length u8 | presence bitmap (32 bytes, MSB first) | packed (length - 1)s."""
    present = lengths > 0
    longest = int(lengths.max())
    width = _width(longest)
    values = lengths[present].astype(np.uint32) - 1
    shifts = np.arange(width - 1, -1, -1, dtype=np.uint32)
    value_bits = ((values[:, np.newaxis] >> shifts) & 1).astype(np.uint8).ravel()
    return bytes([longest]) + np.packbits(present).tobytes() + np.packbits(value_bits).tobytes()


def parse_code_table(buffer, pos: int) -> tuple[np.ndarray, int]:
    """Read a code table at *pos*; return the lengths and the position after it."""
    _need(buffer, pos, 1 + _BITMAP_BYTES)
    longest = buffer[pos]
    if not 1 <= longest <= LONGEST_CODE:
        raise FormatError(f"code table declares a longest code of {longest} bits "
                          f"(allowed: 1 to {LONGEST_CODE})")
    bitmap = np.frombuffer(bytes(buffer[pos + 1:pos + 1 + _BITMAP_BYTES]), dtype=np.uint8)
    present = np.flatnonzero(np.unpackbits(bitmap))
    width = _width(longest)
    packed_size = (present.size * width + 7) // 8
    pos += 1 + _BITMAP_BYTES
    _need(buffer, pos, packed_size)
    bits = np.unpackbits(np.frombuffer(bytes(buffer[pos:pos + packed_size]), dtype=np.uint8))
    if bits[present.size * width:].any():
        raise FormatError("code table has non-zero padding bits")
    weights = 1 << np.arange(width - 1, -1, -1, dtype=np.int64)
    values = bits[:present.size * width].reshape(present.size, width).astype(np.int64) @ weights
    lengths = np.zeros(BYTE_ALPHABET_SIZE, dtype=np.int64)
    lengths[present] = values + 1
    if present.size and lengths.max() != longest:
        raise FormatError(f"code table declares a longest code of {longest} bits "
                          f"but its longest is {int(lengths.max())}")
    try:
        Codebook.from_lengths(lengths)
    except CodebookError as error:
        raise FormatError(f"invalid code table: {error}") from None
    return lengths, pos + packed_size


# -- blocks ------------------------------------------------------------------


def encode_block(data, max_code_length: int) -> bytes:
    """Code *data* (a non-empty bytes-like object) as one block with its own optimal code."""
    symbols = np.frombuffer(data, dtype=np.uint8)
    counts = _kernels.count_symbols(symbols, BYTE_ALPHABET_SIZE)
    codebook = Codebook.from_distribution(Distribution.from_counts(counts),
                                          max_code_length=max_code_length)
    streams = _STREAMS_PER_BLOCK if symbols.size >= _MIN_SYMBOLS_TO_SPLIT else 1
    coded = _kernels.encode_streams(symbols, codebook.codes, codebook.lengths,
                                    _stream_ranges(symbols.size, streams))
    return b"".join([
        _BLOCK_HEADER.pack(BLOCK_HUFFMAN, symbols.size, zlib.crc32(data)),
        pack_code_table(codebook.lengths),
        struct.pack(f"<B{streams}I", streams, *(bits for _, bits in coded)),
        *(payload for payload, _ in coded),
    ])


def parse_block(buffer, pos: int, frame: FrameHeader) -> BlockHeader | FrameEnd:
    """Read the header of the block or frame end at *pos* (its streams may not be there yet)."""
    _need(buffer, pos, 1)
    kind = buffer[pos]
    if kind == BLOCK_END:
        _need(buffer, pos, _FRAME_END.size)
        return FrameEnd(_FRAME_END.unpack_from(buffer, pos)[1])
    if kind != BLOCK_HUFFMAN:
        raise FormatError(f"unknown block type 0x{kind:02x}")
    _need(buffer, pos, _BLOCK_HEADER.size)
    _, symbols, crc = _BLOCK_HEADER.unpack_from(buffer, pos)
    if not 1 <= symbols <= frame.block_size:
        raise FormatError(f"block claims {symbols} symbols; the frame allows 1 to "
                          f"{frame.block_size} per block")
    lengths, cursor = parse_code_table(buffer, pos + _BLOCK_HEADER.size)
    _need(buffer, cursor, 1)
    streams = buffer[cursor]
    if not 1 <= streams <= MAX_STREAMS:
        raise FormatError(f"block declares {streams} streams (allowed: 1 to {MAX_STREAMS})")
    _need(buffer, cursor + 1, 4 * streams)
    stream_bits = struct.unpack_from(f"<{streams}I", buffer, cursor + 1)
    shortest, longest = int(lengths[lengths > 0].min()), int(lengths.max())
    for (start, end), bits in zip(_stream_ranges(symbols, streams), stream_bits, strict=True):
        if not shortest * (end - start) <= bits <= longest * (end - start):
            raise FormatError(f"a stream of {end - start} symbols claims {bits} bits, "
                              f"impossible with codes of {shortest} to {longest} bits")
    return BlockHeader(symbols, crc, lengths, stream_bits, cursor + 1 + 4 * streams - pos)


def decode_block(block: BlockHeader, buffer, pos: int) -> bytes:
    """Decode the block whose header starts at *pos*; the whole block must be in *buffer*."""
    _need(buffer, pos, block.size)
    cursor = pos + block.header_size
    parts = []
    ranges = _stream_ranges(block.symbols, len(block.stream_bits))
    for (start, end), bits, size in zip(ranges, block.stream_bits, block.stream_sizes, strict=True):
        parts.append(_kernels.decode_stream(bytes(buffer[cursor:cursor + size]), bits,
                                            end - start, block.lengths))
        cursor += size
    data = b"".join(parts)
    # A block's own code gives codes to exactly the bytes that occur in it.  Checking
    # this catches damage the CRC cannot see: one flipped bit in the table of a
    # one-symbol block can add a second symbol, whose complete code decodes the same.
    counts = _kernels.count_symbols(np.frombuffer(data, dtype=np.uint8), BYTE_ALPHABET_SIZE)
    unused = np.flatnonzero((counts == 0) & (block.lengths > 0))
    if unused.size:
        raise FormatError(f"code table gives codes to byte values that do not occur in the "
                          f"block ({', '.join(map(str, unused[:8].tolist()))}"
                          f"{', ...' if unused.size > 8 else ''}): the table is damaged")
    if zlib.crc32(data) != block.crc32:
        raise ChecksumError(f"block of {block.symbols} bytes decoded, but its CRC-32 "
                            f"{zlib.crc32(data):08x} differs from the stored {block.crc32:08x}: "
                            "the data is corrupt")
    return data


# -- describing a file without decoding it -----------------------------------


@dataclass(frozen=True)
class BlockInfo:
    """What the header of one block says."""

    offset: int
    size: int
    symbols: int
    distinct_symbols: int
    table_size: int
    payload_bits: int
    streams: int
    min_code_length: int
    max_code_length: int
    crc32: int


@dataclass(frozen=True)
class FrameInfo:
    """What the headers of one frame say (payloads are not decoded, checksums not checked)."""

    offset: int
    size: int
    version: int
    block_size: int
    original_size: int
    blocks: tuple[BlockInfo, ...]


def frame_info(data, /) -> tuple[FrameInfo, ...]:
    """Describe every frame in *data* (bytes-like or mmap) from its headers alone.

    Raises ``FormatError`` (or ``TruncatedError``) where the structure is
    invalid; payloads are not decoded, so a corrupt payload goes unnoticed
    here (``decompress`` checks it).
    """
    if len(data) == 0:
        raise TruncatedError("empty input: no huffkit frame")
    frames = []
    pos = 0
    while pos < len(data):
        start = pos
        header = parse_frame_header(data, pos)
        pos += FRAME_HEADER_SIZE
        blocks = []
        while True:
            block = parse_block(data, pos, header)
            if isinstance(block, FrameEnd):
                break
            _need(data, pos, block.size)
            lengths = block.lengths[block.lengths > 0]
            blocks.append(BlockInfo(
                offset=pos, size=block.size, symbols=block.symbols,
                distinct_symbols=int(lengths.size),
                table_size=block.header_size - _BLOCK_HEADER.size - 1 - 4 * len(block.stream_bits),
                payload_bits=sum(block.stream_bits), streams=len(block.stream_bits),
                min_code_length=int(lengths.min()), max_code_length=int(lengths.max()),
                crc32=block.crc32))
            pos += block.size
        original = sum(b.symbols for b in blocks)
        if block.total_symbols != original:
            raise FormatError(f"frame end records {block.total_symbols} symbols, "
                              f"but its blocks hold {original}")
        pos += block.size
        frames.append(FrameInfo(offset=start, size=pos - start, version=header.version,
                                block_size=header.block_size, original_size=original,
                                blocks=tuple(blocks)))
    return tuple(frames)
