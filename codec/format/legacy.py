"""Version-1 frames from version-2 ones (FORMAT.md, sections 1 to 16 and 17.1).

huffkit writes version 2 and reads both.  Tests and the fuzzer still need version-1 input
of every kind to show that it decodes, and the two versions differ only in how sizes,
stream counts, last blocks and frequency tables are written: this rewrites a stream's
frames field by field, keeping every code, stream, state and word as it is.
"""

from __future__ import annotations

import struct
import zlib

from .._buffers import BytesLike, byte_view
from ..models.codebook import IDENTIFIER_BYTES
from .blocks import AnyBlockHeader, parse_block
from .frame import FrameEnd, FrameHeader, parse_frame_header
from .huffman_block import BlockHeader
from .layout import (
    BLOCK_ANS,
    BLOCK_END,
    BLOCK_LAST,
    CRC,
    FRAME_END,
    FRAME_HEADER,
    FRAME_HEADER_SIZE,
)
from .model_block import ModelBlockHeader
from .rans_block import pack_frequency_table
from .varint import varint_size

__all__ = ["as_version1"]


def as_version1(data: BytesLike) -> bytes:
    """The same stream with every frame in version 1 (frames of version 1 are kept)."""
    with byte_view(data) as view:
        buffer = bytes(view)
    out: list[bytes] = []
    pos = 0
    while pos < len(buffer):
        frame = parse_frame_header(buffer, pos)
        if frame.version == 1:  # find its end, and keep it as it is
            start, pos = pos, _frame_end(buffer, pos + frame.size, frame)
            out.append(buffer[start:pos])
            continue
        _, _, flags, block_size = FRAME_HEADER.unpack_from(buffer, pos)
        fields = FRAME_HEADER.pack(buffer[pos:pos + 4], 1, flags, block_size)
        out.append(fields + CRC.pack(zlib.crc32(fields)))
        out.append(_section(buffer, pos + FRAME_HEADER_SIZE, frame))
        pos += frame.size
        previous: AnyBlockHeader | None = None
        total = 0
        while True:
            block = parse_block(buffer, pos, frame, previous, total)
            if isinstance(block, FrameEnd):
                out.append(FRAME_END.pack(BLOCK_END, block.total_symbols))
                pos += block.size
                break
            out.append(_block(buffer, pos, block, frame))
            pos += block.size
            previous, total = block, total + block.symbols
    return b"".join(out)


def _frame_end(buffer: bytes, pos: int, frame: FrameHeader) -> int:
    previous: AnyBlockHeader | None = None
    while True:
        block = parse_block(buffer, pos, frame, previous)
        pos += block.size
        if isinstance(block, FrameEnd):
            return pos
        previous = block


def _section(buffer: bytes, pos: int, frame: FrameHeader) -> bytes:
    """The codebook section: a Huffman code table is the same in both versions; an embedded
    frequency table is rewritten, and so the section's CRC."""
    if frame.codebook_id is None:
        return b""
    raw = buffer[pos:pos + frame.codebook_size]
    if frame.coder != "ans" or not frame.embedded:
        return raw
    assert frame.table is not None  # an embedded table is read with the frame's header
    body = (raw[:IDENTIFIER_BYTES + 1]
            + pack_frequency_table(frame.table, frame.alphabet, frame.listed, version=1))
    return body + CRC.pack(zlib.crc32(body))


def _block(buffer: bytes, pos: int, block: AnyBlockHeader, frame: FrameHeader) -> bytes:
    if isinstance(block, ModelBlockHeader):
        raise ValueError("a model block (type 0x08) has no version-1 form")
    kind = buffer[pos] & ~BLOCK_LAST
    sized = frame.alphabet.name != "bytes"
    start = (1 + (0 if block.last else varint_size(block.symbols))
             + (varint_size(block.length) if sized else 0) + 4)
    head = (struct.pack("<BIII", kind, block.symbols, block.length, block.crc32) if sized
            else struct.pack("<BII", kind, block.symbols, block.crc32))
    body = buffer[pos + block.header_size:pos + block.size]  # streams, or states and words
    if isinstance(block, BlockHeader):
        table = buffer[pos + start:pos + start + block.table_size]
        bits = block.stream_bits
        return (head + table + struct.pack(f"<B{len(bits)}I", len(bits), *bits) + body)
    if kind == BLOCK_ANS:
        assert block.table is not None  # a block's own table
        table = pack_frequency_table(block.table, frame.alphabet, block.listed, version=1)
    else:
        table = b""
    return head + table + struct.pack("<HI", block.lanes, block.word_count) + body
