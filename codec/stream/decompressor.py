"""Decompression in the standard library's style: :class:`HuffmanDecompressor` decodes one
frame incrementally, as ``lzma`` and ``bz2`` decompressors do, and :func:`decompress`
decodes concatenated frames in order.  Memory stays proportional to the block size.
"""

from __future__ import annotations

import collections
import sys
import threading
from concurrent.futures import Future
from typing import TypeAlias

import numpy as np

from .._buffers import Bytes, BytesLike, byte_view
from .._errors import FormatError, HuffmanError, TruncatedError, releasing_views
from ..format.blocks import (
    AnyBlockHeader,
    PreviousBlock,
    ReusableCode,
    ReusableTable,
    decode_block,
    parse_block,
)
from ..format.frame import (
    DEFAULT_MEMORY_LIMIT,
    FrameEnd,
    FrameHeader,
    check_decoding_memory,
    check_memory_limit,
    parse_frame_header,
    with_supplied_codebook,
)
from ..format.huffman_block import BlockHeader
from ..format.layout import BLOCK_LAST
from ..format.model_block import ModelBlockHeader, check_model_memory
from ..format.rans_block import AnsBlockHeader
from ..kernels import backend
from ..models.codebook import Codebook
from ..models.frequency_table import FrequencyTable
from .threads import check_threads, join_parts, results_in_order, submit
from .uncopyable import Uncopyable

__all__ = ["DECODE_BATCH", "HuffmanDecompressor", "decompress"]


# With several threads, a decompressor decodes up to this many groups of blocks (below) per
# thread at once when it has them in hand: threads that finish early find more work.
DECODE_BATCH = 4


# Blocks go to the decoding threads in groups of at least this many symbols: handing a
# thread a block costs more than decoding a block of a few kilobytes.
_GROUP_SYMBOLS = 1 << 20


# With several threads, blocks of at most this many symbols are decoded in runs on the
# calling thread (HuffmanDecompressor._decode_run): parsing them one at a time in Python
# costs more than a thread gains.
_RUN_LARGEST = 1 << 15


#: A block to decode: its number in the frame, its header, the buffer it is in and where.
_Job: TypeAlias = tuple[int, AnyBlockHeader, Bytes, int]


def _with_context(error: HuffmanError, context: str) -> HuffmanError:
    """The same kind of error, its message prefixed with where it happened."""
    return type(error)(f"{context}: {error}")


class HuffmanDecompressor(Uncopyable):
    """Decompress one huffkit frame incrementally.

    Feed compressed data to :meth:`decompress` in pieces of any size.  Once the
    end of the frame is reached, :attr:`eof` is true and any bytes after it are
    in :attr:`unused_data` (another frame, perhaps: see :func:`decompress`).

    *codebook* is needed for a frame compressed with an external codebook
    that it does not embed; if given, it must match the frame's codebook
    (``CodebookError`` otherwise).

    *threads* decode the blocks that are in hand in parallel (None: one per
    core).  With one thread it holds one decoded block at a time; with *N*, up to
    4·*N* groups decoded ahead, a group being one block or, of small blocks,
    about 2**20 symbols: memory grows with the threads.

    *memory_limit* bounds the memory decoding one block may take, in bytes
    (None: no limit).  A frame whose header declares blocks that need more
    (``huffkit.format.frame.decoding_memory``) is refused with
    ``MemoryLimitError`` before anything is allocated for them, as zstd
    refuses a window over its ``--memory``.  The default,
    ``DEFAULT_MEMORY_LIMIT`` (128 MiB), admits every frame of bytes whatever
    its block size, and utf8 and pairs frames of blocks up to about ten
    million symbols.

    Calls from several threads are serialised, as in ``bz2`` and ``lzma``.  The
    object cannot be copied or pickled (``TypeError``).
    """

    def __init__(self, *, codebook: Codebook | None = None, threads: int | None = 1,
                 memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> None:
        if codebook is not None and not isinstance(codebook, Codebook):
            raise TypeError(f"codebook must be a Codebook, not {type(codebook).__name__}")
        self._lock = threading.Lock()  # one call at a time
        self._threads = check_threads(threads)
        self._memory_limit = check_memory_limit(memory_limit)
        self._decoded: collections.deque[bytes] = collections.deque()  # blocks decoded ahead
        # Its alphabet is checked against each frame's (with_supplied_codebook).
        self._codebook = codebook
        # The input: our own, or the caller's, borrowed for one call (_borrow).
        self._input: bytearray | memoryview = bytearray()
        self._pos = 0  # input before this has been consumed
        self._frame: FrameHeader | None = None
        self._next: AnyBlockHeader | FrameEnd | None = None  # parsed, awaiting streams
        # The block before it (its code, after a run of blocks decoded in one call).
        self._previous: PreviousBlock | None = None
        self._blocks = 0
        self._total = 0
        self._output = b""  # the last decoded block ...
        self._output_pos = 0  # ... of which this much has been returned
        self._eof = False
        self._unused_data = b""
        # One-shot decompress() reads the frames of one buffer in place: it asks for no copy
        # of what follows a frame (copying the rest after each frame made it quadratic in
        # the frames), only where the frame ended in the input of the last call.
        self._copy_unused = True
        self._frame_end = 0
        # The symbols one run of small blocks may decode to (_decode_run): a bound on the
        # memory a streaming decompressor holds.  One-shot decompress() lifts it, since it
        # returns all of them anyway: a frame's blocks then decode into one buffer, handed
        # out without a copy (joining the runs' outputs was a sixth of bible.txt's time).
        self._run_budget = _GROUP_SYMBOLS
        self._needs_input = True

    @property
    def eof(self) -> bool:
        """True once the end of the frame has been reached."""
        return self._eof

    @property
    def unused_data(self) -> bytes:
        """Data found after the end of the frame (empty until :attr:`eof`)."""
        return self._unused_data

    @property
    def needs_input(self) -> bool:
        """False if :meth:`decompress` can return more data without new input."""
        return self._needs_input

    @releasing_views
    def decompress(self, data: BytesLike, /, max_length: int = -1) -> bytes:
        """Feed *data*; return up to *max_length* decompressed bytes (all, if negative).

        Input that cannot be decoded yet, and output beyond *max_length*, are
        kept for the next call (which may pass ``b""``).
        """
        with self._lock:
            return self._decompress_call(data, max_length)

    def _decompress_call(self, data: BytesLike, max_length: int) -> bytes:
        if self._eof:
            raise EOFError("End of stream already reached")
        borrowed = self._borrow(data)
        try:
            return self._decompress(max_length)
        finally:
            if borrowed is not None and self._input is borrowed:
                # Keep only what is left, in a buffer of our own.
                self._input = bytearray(borrowed[self._pos:])
                self._pos = 0

    def _borrow(self, data: BytesLike) -> memoryview | None:
        """Take in *data*: read where it lies when nothing is held back (no copy: a whole
        file given at once is decoded in place), else appended to what is."""
        with byte_view(data) as view:
            if not self._input:
                # A view of its own (a cast registers with the buffer, not with *view*), let
                # go by decompress() before it returns.
                borrowed = view.cast("B")
                self._input, self._pos = borrowed, 0
                return borrowed
            assert isinstance(self._input, bytearray)  # a view is let go by its own call
            self._input += view
        return None

    def _decompress(self, max_length: int) -> bytes:
        limit = sys.maxsize if max_length < 0 else max_length
        out: list[bytes] = []
        produced = 0
        while True:
            available = len(self._output) - self._output_pos
            if available:
                take = min(available, limit - produced)
                if take == 0:
                    break
                if take == len(self._output):
                    out.append(self._output)
                else:
                    out.append(self._output[self._output_pos:self._output_pos + take])
                self._output_pos += take
                produced += take
                continue
            if self._decoded:
                self._output, self._output_pos = self._decoded.popleft(), 0
                continue
            # The last block is all handed out: let it go before the next one is decoded, so
            # that a caller reading with max_length holds one block of output, not two.
            self._output, self._output_pos = b"", 0
            if produced >= limit or self._eof or not self._advance():
                break
        self._compact()
        self._needs_input = not (self._eof or len(self._output) > self._output_pos
                                 or self._decoded or self._next_is_complete())
        return join_parts(out, self._threads)

    def _parse_next(self) -> AnyBlockHeader | FrameEnd | None:
        """Parse (once) the header of the next block; None while it is incomplete."""
        try:
            if not self._parse_frame_header():
                return None
            if self._next is None:
                assert self._frame is not None  # parsed just now
                block = parse_block(self._input, self._pos, self._frame, self._previous,
                                    self._total)
                if isinstance(block, ModelBlockHeader):
                    check_model_memory(block, self._memory_limit)
                self._next = block
        except TruncatedError:
            return None
        except HuffmanError as error:
            if self._frame is None:
                raise  # frame header errors say so themselves
            raise _with_context(error, f"block {self._blocks + 1}") from None
        return self._next

    def _parse_frame_header(self) -> bool:
        """Parse the frame header, if not yet done; False while it is incomplete."""
        if self._frame is None:
            try:
                frame = parse_frame_header(self._input, self._pos)
            except TruncatedError:
                return False
            # Refused here, before any of its blocks is parsed, let alone decoded.
            check_decoding_memory(frame, self._memory_limit)
            self._frame = with_supplied_codebook(frame, self._codebook)
            self._pos += frame.size
        return True

    def _next_is_complete(self) -> bool:
        try:
            block = self._parse_next()
        except FormatError:
            return True  # let the next call report it, so this call's output is not lost
        return block is not None and len(self._input) - self._pos >= block.size

    def _advance(self) -> bool:
        """Decode the next blocks (as many as there are threads, if they are in hand), or
        read the frame end; False if more input is needed."""
        if self._decode_run():
            return True
        block = self._parse_next()
        if block is None or len(self._input) - self._pos < block.size:
            return False
        if isinstance(block, FrameEnd):
            if block.total_symbols != self._total:
                raise FormatError(f"frame end records {block.total_symbols} bytes, but the "
                                  f"frame's {self._blocks} blocks hold {self._total}")
            self._eof = True
            self._frame_end = self._pos + block.size
            if self._copy_unused:
                self._unused_data = bytes(self._input[self._frame_end:])
            self._input = bytearray()
            self._pos = 0
            return True
        if self._threads == 1:
            outputs = [self._decode((self._blocks + 1, block, self._input, self._pos))]
            self._consume(block)
        else:
            outputs = self._decode_ahead(block)
        self._blocks += len(outputs)
        self._output, self._output_pos = outputs[0], 0
        self._decoded.extend(outputs[1:])
        return True

    def _decode_run(self) -> bool:
        """Decode the next blocks in one kernel call, if they are of the kind it takes (a
        byte frame's compact-table and reuse blocks, Huffman or rANS: what the encoder
        writes by default); False if it takes none.  Small blocks cost more to parse in
        Python than to decode.  A block the kernel does not take, or whose CRC fails, goes
        to the reference, one at a time, which decodes it or says what is wrong."""
        if self._next is not None or not self._parse_frame_header():
            return False
        if self._previous is not None and self._previous.last:
            return False  # the frame has ended with its last block: parse_block says so
        frame = self._frame
        assert frame is not None  # parsed just now
        if frame.alphabet.name != "bytes" or frame.codebook_id is not None:
            return False
        # With threads, blocks large enough to be worth a thread's while go to them.
        largest = frame.block_size if self._threads == 1 else _RUN_LARGEST
        if frame.coder == "ans":
            return frame.version >= 2 and self._decode_ans_run(largest)
        previous = None  # the code a reuse block may take: none after a model block
        # (In a Huffman frame, the block before is one of these, or a model block.)
        if isinstance(self._previous, BlockHeader | ReusableCode):
            # A block of a byte frame without a codebook: its own code, listed.
            assert self._previous.listed is not None and self._previous.lengths is not None
            dense = np.zeros(256, dtype=np.uint8)
            dense[self._previous.listed] = self._previous.lengths
            previous = dense.tobytes()
        # The kernel checks each block's CRC as it decodes it, and stops before a block that
        # fails it (the reference then reports it): all it returns is sound.
        run = backend.kernels.decode_huffman_run(self._input, self._pos, frame.block_size,
                                                  previous, self._run_budget, largest,
                                                  frame.version, self._total)
        if run is None:
            return False
        data, starts, ends, _crcs, lengths = run
        good = len(ends)
        last = np.frombuffer(lengths, dtype=np.uint8, count=256, offset=256 * (good - 1))
        listed = np.flatnonzero(last)
        ends_frame = frame.version >= 2 and bool(self._input[starts[good - 1]] & BLOCK_LAST)
        self._previous = ReusableCode(listed, last[listed].astype(np.int64), last=ends_frame)
        self._take_run(data, starts, ends)
        return True

    def _decode_ans_run(self, largest: int) -> bool:
        """_decode_run for a version-2 rANS frame: its blocks with tables of their own
        (0x03) or the previous block's (0x07), their CRCs checked as they are decoded."""
        previous, precision = None, 0
        # (In an rANS frame, the block before is one of these.)
        if (isinstance(self._previous, AnsBlockHeader | ReusableTable)
                and self._previous.table is not None):
            assert self._previous.listed is not None  # a block's own table, listed
            dense = np.zeros(256, dtype=np.uint32)
            dense[self._previous.listed] = self._previous.table.freqs
            previous, precision = dense.tobytes(), self._previous.table.precision
        assert self._frame is not None  # parsed by _decode_run
        run = backend.kernels.decode_ans_run(self._input, self._pos, self._frame.block_size,
                                              previous, precision, self._run_budget, largest,
                                              self._total)
        if run is None:
            return False
        data, starts, ends, packed_freqs, precision = run
        freqs = np.frombuffer(packed_freqs, dtype=np.uint32).astype(np.int64)
        listed = np.flatnonzero(freqs)
        ends_frame = bool(self._input[starts[len(ends) - 1]] & BLOCK_LAST)
        self._previous = ReusableTable(listed, FrequencyTable(freqs[listed], precision),
                                       last=ends_frame)
        self._take_run(data, starts, ends)
        return True

    def _take_run(self, data: bytes, starts: list[int], ends: list[int]) -> None:
        """Move past the blocks a run kernel decoded (to *data*, block i's bytes ending at
        ends[i]; block i starting at starts[i] in the input, the next at starts[-1])."""
        self._pos = starts[-1]
        self._blocks += len(ends)
        self._total += ends[-1]
        self._output = data
        self._output_pos = 0

    def _decode_ahead(self, block: AnyBlockHeader) -> list[bytes]:
        """Decode *block* and the whole blocks after it, up to a batch, on the threads: in
        groups of at least _GROUP_SYMBOLS symbols, each group started as soon as the next
        header shows that another follows.  Their data.  A lone group is decoded here,
        without the cost of a thread."""
        group: list[_Job] = [(self._blocks + 1, block, self._input, self._pos)]
        jobs, group_symbols = 1, block.symbols
        futures: list[Future[list[bytes]]] = []
        self._consume(block)
        while len(futures) < DECODE_BATCH * self._threads:
            try:
                following = self._parse_next()
            except HuffmanError:
                break  # raised again by the next call, after these blocks' data
            if (following is None or isinstance(following, FrameEnd)
                    or len(self._input) - self._pos < following.size):
                break
            block = following
            if group_symbols >= _GROUP_SYMBOLS:
                futures.append(submit(self._decode_group, group, self._threads))
                group, group_symbols = [], 0
            jobs += 1
            group.append((self._blocks + jobs, block, self._input, self._pos))
            group_symbols += block.symbols
            self._consume(block)
        if not futures:
            return self._decode_group(group)
        futures.append(submit(self._decode_group, group, self._threads))
        return [data for part in results_in_order(futures) for data in part]

    @classmethod
    def _decode_group(cls, jobs: list[_Job]) -> list[bytes]:
        return [cls._decode(job) for job in jobs]

    def _consume(self, block: AnyBlockHeader) -> None:
        """Move past *block*, whose code the next block may reuse, and count its symbols
        (the frame end's total depends on them)."""
        self._pos += block.size
        self._next = None
        self._previous = block
        self._total += block.symbols

    @staticmethod
    def _decode(job: _Job) -> bytes:
        number, block, buffer, pos = job
        try:
            return decode_block(block, buffer, pos)
        except HuffmanError as error:
            raise _with_context(error, f"block {number}") from None

    def _compact(self) -> None:
        # Drop consumed input once it is at least half the buffer: amortised O(1) per byte.
        if isinstance(self._input, bytearray) and self._pos and self._pos * 2 >= len(self._input):
            del self._input[:self._pos]
            self._pos = 0


@releasing_views
def decompress(data: BytesLike, /, *, codebook: Codebook | None = None, threads: int | None = 1,
               memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> bytes:
    """Decompress *data*, which may hold several concatenated frames, decoded in order.

    Raises ``TruncatedError`` if the data ends inside a frame, ``ChecksumError``
    if a block decodes to the wrong bytes, ``FormatError`` for anything else
    that is not a valid huffkit stream, and ``CodebookError`` if a frame needs
    an external *codebook* that is missing or different.  *threads* decode
    blocks in parallel (None: one per core).  *memory_limit* (bytes, or None)
    bounds the memory decoding a block may take: a frame that needs more
    raises ``MemoryLimitError`` from its header (see :class:`HuffmanDecompressor`).
    """
    memory_limit = check_memory_limit(memory_limit)
    results = []
    with byte_view(data) as view:
        size = view.nbytes
        if size == 0:
            raise TruncatedError("empty input: a huffkit stream holds at least one frame")
        pos = 0
        frame = 1
        while True:
            decompressor = HuffmanDecompressor(codebook=codebook, threads=threads,
                                               memory_limit=memory_limit)
            decompressor._copy_unused = False
            decompressor._run_budget = sys.maxsize
            try:
                # A slice of the view: the frame is read in place, and so is the rest.
                results.append(decompressor.decompress(view[pos:] if pos else view))
                if not decompressor.eof:
                    raise TruncatedError("compressed data ended before the end of its frame (a "
                                         "frame end, or a last block) was reached")
            except HuffmanError as error:
                if frame == 1:
                    raise
                raise _with_context(error, f"frame {frame} (at byte {pos})") from None
            pos += decompressor._frame_end
            if pos == size:
                return b"".join(results)
            frame += 1
