"""Describing compressed data from its headers alone: ``frame_info``, and what the
ledger and ``huffkit inspect`` read of each block."""

from __future__ import annotations

from dataclasses import dataclass

from .._buffers import BytesLike, byte_view
from .._errors import FormatError, TruncatedError, releasing_views
from .._types import AlphabetName
from ..models.codebook import Codebook
from ..models.sequential import ORDER0
from .blocks import AnyBlockHeader, parse_block
from .frame import FrameEnd, parse_frame_header, with_supplied_codebook
from .huffman_block import BlockHeader
from .layout import FRAME_HEADER_SIZE, need
from .model_block import ModelBlockHeader
from .rans_block import AnsBlockHeader

__all__ = ["BlockInfo", "FrameInfo", "block_info", "frame_info"]


@dataclass(frozen=True)
class BlockInfo:
    """What the header of one block says.

    ``distinct_symbols`` counts the byte values the block's code can code:
    for a block with its own table, exactly the distinct bytes it holds.
    For a block coded with the frame's codebook, the code figures are those
    of that codebook, or None when it is neither embedded nor supplied.
    An ANS block has no code lengths (None); its ``streams`` are its lanes.
    A model block (``model`` other than ``"order0"``) has neither: one stream, its
    arithmetic coder's, and its stored model (if any) as its table.
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
    model: str = ORDER0  # the sequential model that coded it, or order0


@dataclass(frozen=True)
class FrameInfo:
    """What the headers of one frame say (payloads are not decoded, checksums not checked).

    ``header_size`` is the frame header plus its codebook section, if any;
    ``codebook`` is the identifier of the frame's shared codebook (None when
    every block has its own table), ``codebook_embedded`` whether the frame
    stores it.  ``model`` names the sequential model of its blocks (``"order0"``
    for order-0 codes; models joined by ``+`` when its blocks differ).
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
    coder: str = "huffman"  # or "ans"; with models, the blocks' coders joined by "+"
    alphabet: AlphabetName = "bytes"
    model: str = ORDER0


@releasing_views
def frame_info(data: BytesLike, /, *, codebook: Codebook | None = None) -> tuple[FrameInfo, ...]:
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
        previous: AnyBlockHeader | None = None
        symbols = 0
        while True:
            block = parse_block(data, pos, header, previous, symbols)
            if isinstance(block, FrameEnd):
                break
            need(data, pos, block.size)
            blocks.append(block_info(block, pos))
            pos += block.size
            previous, symbols = block, symbols + block.symbols
        if block.total_symbols != symbols:
            raise FormatError(f"frame end records {block.total_symbols} symbols, "
                              f"but its blocks hold {symbols}")
        original = sum(b.original_size for b in blocks)
        models = list(dict.fromkeys(b.model for b in blocks)) or [ORDER0]
        pos += block.size
        frames.append(FrameInfo(
            offset=start, size=pos - start, version=header.version,
            block_size=header.block_size, original_size=original, blocks=tuple(blocks),
            header_size=header.size,
            codebook=None if header.codebook_id is None else header.codebook_id.hex(),
            codebook_embedded=header.embedded,
            coder=header.coder if models == [ORDER0] else "+".join(
                dict.fromkeys(b.coder for b in blocks)),
            alphabet=header.alphabet.name, model="+".join(models)))
    return tuple(frames)


def block_info(block: BlockHeader | AnsBlockHeader | ModelBlockHeader,
               offset: int) -> BlockInfo:
    """What the header of the block at *offset* says."""
    table_size = block.table_size
    if isinstance(block, ModelBlockHeader):
        return BlockInfo(offset=offset, size=block.size, symbols=block.symbols,
                         distinct_symbols=None, table_size=table_size,
                         payload_bits=block.payload_bits, streams=1, min_code_length=None,
                         max_code_length=None, crc32=block.crc32, coder="arithmetic",
                         original_size=block.length, model=block.model.name)
    if isinstance(block, AnsBlockHeader):
        distinct = None if block.listed is None else int(block.listed.size)
        return BlockInfo(offset=offset, size=block.size, symbols=block.symbols,
                         distinct_symbols=distinct, table_size=table_size,
                         payload_bits=block.payload_bits, streams=block.lanes,
                         min_code_length=None, max_code_length=None, crc32=block.crc32,
                         shared_codebook=block.shared, coder="ans",
                         original_size=block.length)
    streams = len(block.stream_bits)
    if block.lengths is None:
        distinct = shortest = longest = None
    else:
        distinct = int(block.lengths.size)
        assert block.code_range is not None  # found with the lengths
        shortest, longest = block.code_range
    return BlockInfo(offset=offset, size=block.size, symbols=block.symbols,
                     distinct_symbols=distinct, table_size=table_size,
                     payload_bits=block.payload_bits, streams=streams,
                     min_code_length=shortest, max_code_length=longest, crc32=block.crc32,
                     shared_codebook=block.shared, original_size=block.length)
