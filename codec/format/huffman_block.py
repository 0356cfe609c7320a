"""The Huffman block's body (FORMAT.md, sections 5, 6 and 8): its code table (unless it
uses the frame's code or the previous block's), the count of its streams (version 1 only:
version 2 knows it from the symbol count), their lengths in bits (u32 in version 1, LEB128
in version 2), and the streams.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass

import numpy as np

from .._buffers import Bytes, BytesLike
from .._errors import FormatError
from ..kernels import backend
from ..kernels.reference.huffman import stream_ranges
from ..models.alphabet import ALPHABETS, Alphabet
from ..models.codebook import optimal_lengths
from .layout import (
    BLOCK_HUFFMAN,
    BLOCK_HUFFMAN_COMPACT,
    BLOCK_HUFFMAN_REUSE,
    BLOCK_HUFFMAN_SHARED,
    LONGEST_BITS,
    LONGEST_CODE,
    MAX_STREAMS,
    need,
    streams_of,
)
from .presence import listed_symbols
from .tables import pack_code_table, parse_code_table, parse_compact_table
from .varint import read_varint, varint

__all__ = ["BlockHeader", "decode_huffman_block", "encode_huffman_block", "pack_streams",
           "parse_huffman_block"]


@dataclass(frozen=True, eq=False)
class BlockHeader:
    """Everything in a Huffman block before its streams."""

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
    table_size: int = 0  # the bytes of its own table (0 when it has none)
    last: bool = False  # the frame's last block (version 2, type bit 7)
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


def pack_streams(symbols: np.ndarray, codes: np.ndarray, lengths: np.ndarray,
                 ) -> list[BytesLike]:
    """A Huffman block's streams (4 of them for 2^16 symbols or more, else 1), after its
    table: their bit counts (LEB128, version 2), then their bytes."""
    coded = backend.kernels.encode_streams(symbols, codes, lengths,
                                           stream_ranges(symbols.size, streams_of(symbols.size)))
    return [b"".join(varint(bits) for _, bits in coded), *(payload for payload, _ in coded)]


def encode_huffman_block(symbols: np.ndarray, alphabet: Alphabet, max_code_length: int,
                         code: tuple[np.ndarray, np.ndarray] | None = None,
                         ) -> list[BytesLike]:
    """The body of a Huffman block of *symbols*: with its own optimal code and table, or,
    given *code* (codewords and lengths, indexed as *symbols* are), with that code and no
    table.  Returns its bytes in pieces."""
    if code is not None:
        codes, lengths = code
        return pack_streams(symbols, codes, lengths)
    if alphabet.name == "bytes":
        listed, counts = None, backend.kernels.count_symbols(symbols, alphabet.size)
    else:  # the block's code lists only its own symbols, and codes their positions
        listed, symbols, counts = listed_symbols(symbols, alphabet)
    lengths = optimal_lengths(counts, max_code_length)
    codes = backend.kernels.canonical_codes(lengths)
    return [pack_code_table(lengths, alphabet, listed), *pack_streams(symbols, codes, lengths)]


def parse_huffman_block(buffer: Bytes, pos: int, cursor: int, kind: int, symbols: int, crc: int,
                        code: tuple[np.ndarray | None, np.ndarray | None],
                        code_range: tuple[int, int] | None, alphabet: Alphabet,
                        length: int, version: int = 1, last: bool = False) -> BlockHeader:
    """The header of the Huffman block at *pos*, whose body starts at *cursor*: its own
    table (types 0x01 and 0x05), or *code* (listed symbols, lengths) for a block of the
    frame's code or the previous block's, whose shortest and longest code *code_range*
    gives if known.  Every stream's bit count is checked against its symbols' codes."""
    table_start = cursor
    listed: np.ndarray | None
    lengths: np.ndarray | None
    if kind == BLOCK_HUFFMAN:
        listed, lengths, cursor = parse_code_table(buffer, cursor, alphabet)
    elif kind == BLOCK_HUFFMAN_COMPACT:
        found = backend.kernels.read_compact_table(buffer, cursor)
        dense, cursor = found if found is not None else parse_compact_table(buffer, cursor)
        listed = np.flatnonzero(dense)
        lengths = dense[listed]
    else:
        listed, lengths = code
    table_size = cursor - table_start
    stream_bits: tuple[int, ...]
    if version >= 2:
        streams = streams_of(symbols)
        counts = []
        for _ in range(streams):
            bits, cursor = read_varint(buffer, cursor, longest=LONGEST_BITS,
                                       what="a stream's bit count")
            counts.append(bits)
        stream_bits = tuple(counts)
    else:
        need(buffer, cursor, 1)
        streams = buffer[cursor]
        if not 1 <= streams <= MAX_STREAMS:
            raise FormatError(f"block declares {streams} streams (allowed: 1 to {MAX_STREAMS})")
        cursor += 1
        need(buffer, cursor, 4 * streams)
        stream_bits = struct.unpack_from(f"<{streams}I", buffer, cursor)
        cursor += 4 * streams
    if lengths is None:
        # The frame's codebook was not supplied (describing a file, not decoding it).
        shortest, longest = 1, LONGEST_CODE
    else:
        if code_range is None:
            code_range = int(lengths.min()), int(lengths.max())
        shortest, longest = code_range
    for (start, end), bits in zip(stream_ranges(symbols, streams), stream_bits, strict=True):
        if not shortest * (end - start) <= bits <= longest * (end - start):
            raise FormatError(f"a stream of {end - start} symbols claims {bits} bits, "
                              f"impossible with codes of {shortest} to {longest} bits")
    return BlockHeader(symbols, crc, lengths, listed, stream_bits, cursor - pos,
                       shared=kind == BLOCK_HUFFMAN_SHARED, length=length, alphabet=alphabet,
                       reused=kind == BLOCK_HUFFMAN_REUSE, code_range=code_range,
                       table_size=table_size, last=last)


def decode_huffman_block(block: BlockHeader, buffer: Bytes, pos: int) -> bytes | np.ndarray:
    """The symbols of the Huffman block whose header starts at *pos* (it is all in
    *buffer*): bytes when every one is a byte value, else an array."""
    start = pos + block.header_size
    streams = buffer[start:start + sum(block.stream_sizes)]
    assert block.lengths is not None  # decoding: the frame's code was supplied
    symbols: bytes | np.ndarray = backend.kernels.decode_streams(
        streams, block.stream_bits, block.symbols, block.lengths, block.listed)
    return symbols
