"""Incremental compression, decompression and file objects, in the standard library's style.

The layers follow ``lzma`` and ``bz2``: :class:`HuffmanCompressor` and
:class:`HuffmanDecompressor` work on one frame incrementally; the one-shot
:func:`compress` and :func:`decompress` are thin wrappers over them; and
:class:`HuffmanFile` / :func:`open` give a file object on top.  Memory stays
proportional to the block size whatever the size of the data.
"""

from __future__ import annotations

import builtins
import codecs
import collections
import io
import os
import sys
import threading
import zlib

import numpy as np

from . import _backend, container
from ._errors import CodebookError, FormatError, HuffmanError, TruncatedError, releasing_views
from ._parallel import check_threads, map_in_order, results_in_order, submit
from ._splitter import split_points
from .alphabet import ALPHABETS, Alphabet, AlphabetError, alphabet_named
from .codebook import Codebook
from .container import DEFAULT_BLOCK_SIZE, DEFAULT_MEMORY_LIMIT, FrameEnd, byte_view
from .distribution import Distribution

__all__ = ["HuffmanCompressor", "HuffmanDecompressor", "HuffmanFile", "compress", "decompress",
           "open"]

# How many compressed bytes a HuffmanFile reads from its file at a time.
_READ_SIZE = 128 * 1024
# With several threads, a decompressor decodes up to this many groups of blocks (below) per
# thread at once when it has them in hand: threads that finish early find more work.
_BATCH = 4
# Blocks go to the decoding threads in groups of at least this many symbols: handing a
# thread a block costs more than decoding a block of a few kilobytes.
_GROUP_SYMBOLS = 1 << 20
# With several threads, blocks of at most this many symbols are decoded in runs on the
# calling thread (HuffmanDecompressor._decode_run): parsing them one at a time in Python
# costs more than a thread gains.
_RUN_LARGEST = 1 << 15


def _join(parts: list[bytes], threads: int) -> bytes:
    """b"".join(parts); a large output is copied by several threads, if there are."""
    if threads == 1 or len(parts) < 2:
        return b"".join(parts)
    return _backend.kernels.join(parts, threads)


def _with_context(error: HuffmanError, context: str) -> HuffmanError:
    """The same kind of error, its message prefixed with where it happened."""
    return type(error)(f"{context}: {error}")


def check_coder(coder: str) -> str:
    if coder not in container.CODERS:
        raise ValueError(f"coder must be one of {', '.join(map(repr, container.CODERS))}, "
                         f"not {coder!r}")
    return coder


def _as_codebook(codebook: Codebook | Distribution | None, max_code_length: int,
                 alphabet: Alphabet = ALPHABETS["bytes"]) -> Codebook | None:
    """A codebook of *alphabet* the container can use, from a Codebook or a Distribution."""
    if codebook is None:
        return None
    if isinstance(codebook, Distribution):
        codebook = Codebook.from_distribution(codebook, max_code_length=max_code_length)
    if not isinstance(codebook, Codebook):
        raise TypeError(f"codebook must be a Codebook or a Distribution, not "
                        f"{type(codebook).__name__}")
    if codebook.size != alphabet.size:
        raise CodebookError(f"a codebook for the {alphabet.name} alphabet needs "
                            f"{alphabet.size} symbols; this one has {codebook.size}")
    if codebook.max_length > container.LONGEST_CODE:
        raise CodebookError(f"the codebook has codes of {codebook.max_length} bits; the format "
                            f"allows at most {container.LONGEST_CODE}: rebuild it with a "
                            "smaller max_code_length")
    return codebook


def describe_bytes(values: np.ndarray, limit: int = 8) -> str:
    """Byte values for a message: ``10 (0x0a), 255 (0xff)``, the first few of them."""
    shown = ", ".join(f"{value} (0x{value:02x})" for value in values[:limit].tolist())
    more = len(values) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def describe_symbols(values: np.ndarray, alphabet: Alphabet, limit: int = 8) -> str:
    """Symbols for a message, as a reader recognises them, the first few of them."""
    if alphabet.name == "bytes":
        return describe_bytes(values, limit)
    shown = []
    for value in values[:limit].tolist():
        if alphabet.name == "utf8":
            shown.append(f"U+{value:04X} {chr(value)!r}")
        elif value >= 65536:
            shown.append(f"a last single byte 0x{value - 65536:02x}")
        else:
            shown.append(f"0x{value:04x} {bytes([value >> 8, value & 0xFF])!r}")
    more = len(values) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _check_codable(codebook: Codebook, symbols: np.ndarray, alphabet: Alphabet) -> None:
    """Raise ``CodebookError`` if *symbols* hold one that *codebook* has no code for."""
    counts = _backend.kernels.count_symbols(symbols, alphabet.size)
    missing = np.flatnonzero((counts > 0) & (codebook.lengths == 0))
    if missing.size:
        noun = "byte values" if alphabet.name == "bytes" else f"{alphabet.name} symbols"
        raise CodebookError(
            f"the codebook has no code for {noun} {describe_symbols(missing, alphabet)}, which "
            "occur in the data (the model gave them probability 0): build the codebook from a "
            "smoothed distribution (Distribution.smoothed, or huffkit train --smooth ALPHA)")


class _Uncopyable:
    """Refuse copy.copy, copy.deepcopy and pickling, as bz2's and lzma's compressors do: a
    copy would share the object's buffers (or silently restart its frame), and a frame half
    written or half read cannot be resumed elsewhere."""

    def __reduce_ex__(self, protocol):
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    def __copy__(self):
        raise TypeError(f"cannot copy {type(self).__name__!r} object")

    def __deepcopy__(self, memo):
        raise TypeError(f"cannot copy {type(self).__name__!r} object")


class HuffmanCompressor(_Uncopyable):
    """Compress data incrementally into one huffkit frame.

    Call :meth:`compress` with successive pieces of data, then :meth:`flush`
    once to finish the frame; join all the returned bytes.  Each block of
    *block_size* bytes is coded as soon as it is complete, with its own
    optimal code limited to *max_code_length* bits (by default 15 for bytes,
    20 for pairs and 24 for utf8: enough for every symbol of the alphabet).

    With ``coder="ans"`` the blocks are coded with rANS instead of Huffman
    codes: each symbol costs log2(1/q) bits of its (quantised) model q, not
    a whole number of bits.

    With *codebook* (a :class:`Codebook`, or a :class:`Distribution` to
    build one from), every block is coded with that one model instead: a
    mismatched Q, say.  The frame stores its code lengths unless
    *embed_codebook* is false; then it stores only the codebook's identifier
    and the same codebook must be given to decompress it.  Data holding a
    symbol the codebook cannot code raises ``CodebookError`` from the call
    that supplies it, before any of that call's data is used.

    *alphabet* chooses the symbols: ``"bytes"`` (the default), ``"utf8"``
    (Unicode code points; the data must be valid UTF-8, or ``AlphabetError``)
    or ``"pairs"`` (two bytes at a time).  Blocks then hold at most
    *block_size* bytes of whole symbols.

    *threads* code the blocks that one call completes in parallel (None: one
    per core); the output is the same whatever their number.

    With *split* (the default), each *block_size* bytes are cut into smaller
    blocks where the data's statistics change, with compact or reused code
    tables (FORMAT.md, section 16), whenever that makes the output smaller;
    it applies to blocks of bytes with their own codes (not to a *codebook*,
    nor to the utf8 and pairs alphabets).  ``split=False`` gives every
    *block_size* bytes one block with a plain table.

    Calls from several threads are serialised, as in ``bz2`` and ``lzma``: each
    call's output follows the output of the call that took effect before it.
    The object cannot be copied or pickled (``TypeError``).
    """

    def __init__(self, *, block_size: int = DEFAULT_BLOCK_SIZE,
                 max_code_length: int | None = None,
                 codebook: Codebook | Distribution | None = None,
                 embed_codebook: bool = True, coder: str = "huffman",
                 alphabet: str = "bytes", threads: int | None = 1,
                 split: bool = True) -> None:
        self._lock = threading.Lock()  # one call at a time
        self._block_size = container.check_block_size(block_size)
        self._threads = check_threads(threads)
        self._coder = check_coder(coder)
        self._alphabet = alphabet_named(alphabet)
        if max_code_length is None:
            max_code_length = self._alphabet.default_max_code_length
        self._max_code_length = container.check_max_code_length(max_code_length)
        if self._block_size < self._alphabet.min_block_size:
            raise ValueError(f"block_size must be at least {self._alphabet.min_block_size} "
                             f"bytes for the {self._alphabet.name} alphabet, got {block_size}")
        self._codebook = _as_codebook(codebook, self._max_code_length, self._alphabet)
        self._embed_codebook = bool(embed_codebook)
        # Splitting chooses block boundaries for blocks with their own codes, of bytes.
        self._split = bool(split) and self._codebook is None and self._alphabet.name == "bytes"
        self._shared = (None if self._codebook is None else
                        container.SharedCode(self._codebook, coder, self._alphabet))
        self._pending = bytearray()
        self._header_written = False
        self._total = 0
        self._flushed = False
        # Every byte fed is validated in the call that feeds it: the bytes fed so far,
        # and, for utf8, a decoder holding the start of a character split between calls.
        self._fed = 0
        self._utf8 = (codecs.getincrementaldecoder("utf-8")()
                      if self._alphabet.name == "utf8" else None)

    @releasing_views
    def compress(self, data, /) -> bytes:
        """Feed *data* (any bytes-like object); return whatever compressed output is ready."""
        with self._lock:
            return _join(self._compress_parts(data), self._threads)

    def _compress_parts(self, data) -> list[bytes]:
        """compress(), its output left in pieces."""
        if self._flushed:
            raise ValueError("Compressor has been flushed")
        if self._alphabet.name != "bytes":
            return self._compress_symbols(data)
        size = self._block_size
        with byte_view(data) as view:
            if self._codebook is not None:
                _check_codable(self._codebook, np.frombuffer(view, dtype=np.uint8),
                               self._alphabet)
            blocks = []
            pos = 0
            if self._pending:
                pos = min(size - len(self._pending), len(view))
                self._pending += view[:pos]
                if len(self._pending) == size:
                    blocks.append(self._pending)
                    self._pending = bytearray()
            while len(view) - pos >= size:
                blocks.append(view[pos:pos + size])
                pos += size
            coded, symbols = self._encode_blocks(blocks)
            self._total += symbols
            self._pending += view[pos:]
        return [self._header(), *coded]

    @releasing_views
    def flush(self) -> bytes:
        """Finish the frame and return the rest of the compressed output.

        The compressor cannot be used after this.
        """
        with self._lock:
            return _join(self._flush_parts(), self._threads)

    def _flush_parts(self) -> list[bytes]:
        """flush(), its output left in pieces."""
        if self._flushed:
            raise ValueError("Repeated call to flush()")
        if self._alphabet.name != "bytes":
            self._validate(b"", final=True)
        blocks, rest, symbols = self._cut_blocks(self._pending, final=True)
        self._flushed = True
        self._pending = rest
        self._total += symbols
        return [self._header(), *blocks, container.pack_frame_end(self._total)]

    def _compress_symbols(self, data) -> list[bytes]:
        """compress() for alphabets whose symbols span bytes: blocks end between symbols."""
        with byte_view(data) as view:
            data = bytes(view)
        undo = self._validate(data, final=False)
        try:
            pending = self._pending + data
            blocks, rest, symbols = self._cut_blocks(pending, final=False)
        except BaseException:
            undo()
            raise
        # Only now, every block of this call coded, does the compressor's state change.
        self._pending = rest
        self._total += symbols
        return [self._header(), *blocks]

    def _validate(self, data: bytes, *, final: bool):
        """Check that *data*, fed after everything so far, reads as symbols the code can code.

        Raises ``AlphabetError`` (invalid UTF-8, its position counted from the start of
        all the data fed) or ``CodebookError`` before anything changes; otherwise
        returns a function that takes the check back, should the call fail later.
        """
        start = self._fed
        symbols = None
        if self._utf8 is not None:
            state = self._utf8.getstate()
            held = len(state[0])  # the bytes of a split character, fed by an earlier call
            try:
                text = self._utf8.decode(data, final)
            except UnicodeDecodeError as error:
                self._utf8.setstate(state)
                raise AlphabetError(f"not valid UTF-8: {error.reason} at byte "
                                    f"{start - held + error.start}; use the bytes alphabet "
                                    "for binary data") from None
            if self._codebook is not None:
                symbols = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        elif self._codebook is not None:
            # pairs: the whole pairs fed by this call, the first perhaps begun by the last
            # one; once the data is final, an odd last byte is a symbol of its own.
            held = bytes(self._pending[-1:]) if len(self._pending) % 2 else b""
            joined = held + data
            symbols = self._alphabet.symbols(joined if final else joined[:len(joined) & ~1])
        if symbols is not None:
            try:
                _check_codable(self._codebook, symbols, self._alphabet)
            except CodebookError:
                if self._utf8 is not None:
                    self._utf8.setstate(state)
                raise
        self._fed += len(data)

        def undo() -> None:
            self._fed = start
            if self._utf8 is not None:
                self._utf8.setstate(state)
        return undo

    def _cut_blocks(self, pending: bytearray, *, final: bool,
                    ) -> tuple[list[bytes], bytearray, int]:
        """Code the whole blocks of *pending*: (the coded blocks, what is left, symbols)."""
        blocks, start = [], 0
        size = self._block_size
        while len(pending) - start > size or (final and start < len(pending)):
            view = memoryview(pending)[start:]
            end = self._alphabet.cut(view, size, final=final)
            blocks.append(bytes(view[:end]))
            view.release()
            start += end
        coded, symbols = self._encode_blocks(blocks)
        return coded, pending[start:], symbols

    def _header(self) -> bytes:
        if self._header_written:
            return b""
        self._header_written = True
        return container.pack_frame_header(self._block_size, self._codebook,
                                           embed=self._embed_codebook, coder=self._coder,
                                           alphabet=self._alphabet)

    def _encode_blocks(self, blocks: list) -> tuple[list, int]:
        """Code whole blocks, on the compressor's threads: their bytes, in pieces, and their
        symbols; the compressor's state is untouched."""
        results = map_in_order(self._encode_block, blocks, self._threads)
        return ([part for coded, _ in results for part in coded],
                sum(count for _, count in results))

    def _encode_block(self, block) -> tuple[list, int]:
        """One block coded (in pieces), and its number of symbols; the compressor's state is
        untouched."""
        symbols = self._alphabet.symbols(block)  # valid: checked as it was fed
        if self._split:
            return self._encode_split(block, symbols), symbols.size
        coded = container.encode_block(block, self._max_code_length, self._shared,
                                       coder=self._coder, alphabet=self._alphabet,
                                       symbols=symbols)
        return coded, symbols.size

    def _encode_split(self, block, symbols: np.ndarray) -> list:
        """A block of bytes cut where its statistics change, as several blocks with compact
        or reused tables; or as one, when that is no larger."""
        ends, counts = split_points(symbols, coder=self._coder, max_block=self._block_size)
        return container.encode_split(block, symbols, ends, counts, self._max_code_length,
                                      self._coder)


class HuffmanDecompressor(_Uncopyable):
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
    (``huffkit.container.decoding_memory``) is refused with
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
        self._memory_limit = container.check_memory_limit(memory_limit)
        self._decoded: collections.deque[bytes] = collections.deque()  # blocks decoded ahead
        # Its alphabet is checked against each frame's (container.with_supplied_codebook).
        self._codebook = codebook
        self._input = bytearray()
        self._pos = 0  # input before this has been consumed
        self._frame: container.FrameHeader | None = None
        self._next: container.BlockHeader | FrameEnd | None = None  # parsed, awaiting streams
        # The block before it (its code, after a run of blocks decoded in one call).
        self._previous: container.BlockHeader | container.ReusableCode | None = None
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
    def decompress(self, data, /, max_length: int = -1) -> bytes:
        """Feed *data*; return up to *max_length* decompressed bytes (all, if negative).

        Input that cannot be decoded yet, and output beyond *max_length*, are
        kept for the next call (which may pass ``b""``).
        """
        with self._lock:
            return self._decompress_call(data, max_length)

    def _decompress_call(self, data, max_length: int) -> bytes:
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

    def _borrow(self, data) -> memoryview | None:
        """Take in *data*: read where it lies when nothing is held back (no copy: a whole
        file given at once is decoded in place), else appended to what is."""
        with byte_view(data) as view:
            if not self._input:
                # A view of its own (a cast registers with the buffer, not with *view*), let
                # go by decompress() before it returns.
                borrowed = view.cast("B")
                self._input, self._pos = borrowed, 0
                return borrowed
            self._input += view
        return None

    def _decompress(self, max_length: int) -> bytes:
        limit = sys.maxsize if max_length < 0 else max_length
        out = []
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
        return _join(out, self._threads)

    def _parse_next(self) -> container.BlockHeader | FrameEnd | None:
        """Parse (once) the header of the next block; None while it is incomplete."""
        try:
            if not self._parse_frame_header():
                return None
            if self._next is None:
                self._next = container.parse_block(self._input, self._pos, self._frame,
                                                   self._previous)
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
                frame = container.parse_frame_header(self._input, self._pos)
            except TruncatedError:
                return False
            # Refused here, before any of its blocks is parsed, let alone decoded.
            container.check_decoding_memory(frame, self._memory_limit)
            self._frame = container.with_supplied_codebook(frame, self._codebook)
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
            symbols = block.symbols
            self._consume(block)
        else:
            outputs, symbols = self._decode_ahead(block)
        self._blocks += len(outputs)
        self._total += symbols
        self._output, self._output_pos = outputs[0], 0
        self._decoded.extend(outputs[1:])
        return True

    def _decode_run(self) -> bool:
        """Decode the next blocks in one kernel call, if they are of the kind it takes (a
        byte frame's compact-table and reuse blocks: what the encoder writes by default);
        False if it takes none.  Small blocks cost more to parse in Python than to decode.
        A block the kernel does not take, or whose CRC fails, goes to the reference, one
        at a time, which decodes it or says what is wrong."""
        if self._next is not None or not self._parse_frame_header():
            return False
        frame = self._frame
        if (frame.coder != "huffman" or frame.alphabet.name != "bytes"
                or frame.codebook_id is not None):
            return False
        previous = None
        if self._previous is not None:
            dense = np.zeros(256, dtype=np.uint8)
            dense[self._previous.listed] = self._previous.lengths
            previous = dense.tobytes()
        # With threads, blocks large enough to be worth a thread's while go to them.
        largest = frame.block_size if self._threads == 1 else _RUN_LARGEST
        run = _backend.kernels.decode_huffman_run(self._input, self._pos, frame.block_size,
                                                  previous, _GROUP_SYMBOLS, largest)
        if run is None:
            return False
        data, starts, ends, crcs, lengths = run
        good = len(crcs)
        with memoryview(data) as view:
            begin = 0
            for index, (end, crc) in enumerate(zip(ends, crcs, strict=True)):
                if zlib.crc32(view[begin:end]) != crc:
                    good = index  # the reference reports it
                    break
                begin = end
        if not good:
            return False
        last = np.frombuffer(lengths, dtype=np.uint8, count=256, offset=256 * (good - 1))
        listed = np.flatnonzero(last)
        self._previous = container.ReusableCode(listed, last[listed].astype(np.int64))
        self._pos = starts[good]
        self._blocks += good
        self._total += ends[good - 1]
        self._output = data if good == len(crcs) else data[:ends[good - 1]]
        self._output_pos = 0
        return True

    def _decode_ahead(self, block: container.BlockHeader) -> tuple[list[bytes], int]:
        """Decode *block* and the whole blocks after it, up to a batch, on the threads: in
        groups of at least _GROUP_SYMBOLS symbols, each group started as soon as the next
        header shows that another follows.  Their data, and their symbols.  A lone group is
        decoded here, without the cost of a thread."""
        group = [(self._blocks + 1, block, self._input, self._pos)]
        jobs, group_symbols = 1, block.symbols
        symbols = block.symbols
        futures = []
        self._consume(block)
        while len(futures) < _BATCH * self._threads:
            try:
                block = self._parse_next()
            except HuffmanError:
                break  # raised again by the next call, after these blocks' data
            if (block is None or isinstance(block, FrameEnd)
                    or len(self._input) - self._pos < block.size):
                break
            if group_symbols >= _GROUP_SYMBOLS:
                futures.append(submit(self._decode_group, group, self._threads))
                group, group_symbols = [], 0
            jobs += 1
            group.append((self._blocks + jobs, block, self._input, self._pos))
            group_symbols += block.symbols
            symbols += block.symbols
            self._consume(block)
        if not futures:
            return self._decode_group(group), symbols
        futures.append(submit(self._decode_group, group, self._threads))
        return [data for part in results_in_order(futures) for data in part], symbols

    @classmethod
    def _decode_group(cls, jobs: list) -> list[bytes]:
        return [cls._decode(job) for job in jobs]

    def _consume(self, block: container.BlockHeader) -> None:
        """Move past *block*, whose code the next block may reuse."""
        self._pos += block.size
        self._next = None
        self._previous = block

    @staticmethod
    def _decode(job: tuple[int, container.BlockHeader, object, int]) -> bytes:
        number, block, buffer, pos = job
        try:
            return container.decode_block(block, buffer, pos)
        except HuffmanError as error:
            raise _with_context(error, f"block {number}") from None

    def _compact(self) -> None:
        # Drop consumed input once it is at least half the buffer: amortised O(1) per byte.
        if isinstance(self._input, bytearray) and self._pos and self._pos * 2 >= len(self._input):
            del self._input[:self._pos]
            self._pos = 0


@releasing_views
def compress(data, /, *, block_size: int = DEFAULT_BLOCK_SIZE,
             max_code_length: int | None = None,
             codebook: Codebook | Distribution | None = None,
             embed_codebook: bool = True, coder: str = "huffman",
             alphabet: str = "bytes", threads: int | None = 1, split: bool = True) -> bytes:
    """Compress *data* (any bytes-like object) into one huffkit frame.

    Each *block_size* bytes get their own optimal Huffman code, no longer
    than *max_code_length* bits, unless *codebook* gives one code for all
    of them; ``coder="ans"`` codes them with rANS.  *threads* code blocks in
    parallel (None: one per core), with the same output; *split* (the default)
    cuts blocks where the data's statistics change.  See :class:`HuffmanCompressor`.
    """
    compressor = HuffmanCompressor(block_size=block_size, max_code_length=max_code_length,
                                   codebook=codebook, embed_codebook=embed_codebook,
                                   coder=coder, alphabet=alphabet, threads=threads,
                                   split=split)
    parts = compressor._compress_parts(data)
    parts += compressor._flush_parts()
    return _join(parts, compressor._threads)


@releasing_views
def decompress(data, /, *, codebook: Codebook | None = None, threads: int | None = 1,
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
    memory_limit = container.check_memory_limit(memory_limit)
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
            try:
                # A slice of the view: the frame is read in place, and so is the rest.
                results.append(decompressor.decompress(view[pos:] if pos else view))
                if not decompressor.eof:
                    raise TruncatedError("compressed data ended before the end-of-frame "
                                         "marker was reached")
            except HuffmanError as error:
                if frame == 1:
                    raise
                raise _with_context(error, f"frame {frame} (at byte {pos})") from None
            pos += decompressor._frame_end
            if pos == size:
                return b"".join(results)
            frame += 1


class _DecompressReader(io.RawIOBase):
    """A raw, read-only stream of the data decompressed from a file of frames."""

    def __init__(self, fp, codebook: Codebook | None = None, threads: int = 1,
                 memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> None:
        self._fp = fp
        self._codebook = codebook
        self._threads = threads
        self._memory_limit = memory_limit
        # With several threads, read enough compressed data to hold a batch of blocks.
        self._read_size = _READ_SIZE if threads == 1 else _BATCH * threads * DEFAULT_BLOCK_SIZE
        self._decompressor = self._new_decompressor()
        self._eof = False
        self._pos = 0  # position in the decompressed data
        self._size = -1  # decompressed size, once known

    def _new_decompressor(self) -> HuffmanDecompressor:
        return HuffmanDecompressor(codebook=self._codebook, threads=self._threads,
                                   memory_limit=self._memory_limit)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._fp.seekable()

    def close(self) -> None:
        self._decompressor = None
        super().close()

    def readinto(self, buffer) -> int:
        with memoryview(buffer) as view, view.cast("B") as byte_view:
            data = self.read(len(byte_view))
            byte_view[:len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size < 0:
            return self.readall()
        if not size or self._eof:
            return b""
        data = b""
        while not data:
            if self._decompressor.eof:
                # The frame is over; another may follow.
                raw = self._decompressor.unused_data or self._fp.read(self._read_size)
                if not raw:
                    break
                self._decompressor = self._new_decompressor()
            elif self._decompressor.needs_input:
                raw = self._fp.read(self._read_size)
                if not raw:
                    raise TruncatedError("compressed file ended before the end-of-frame marker "
                                         "was reached")
            else:
                raw = b""
            data = self._decompressor.decompress(raw, size)
        if not data:
            self._eof = True
            self._size = self._pos
            return b""
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        chunks = []
        while data := self.read(sys.maxsize):
            chunks.append(data)
        return b"".join(chunks)

    def _rewind(self) -> None:
        self._fp.seek(0)
        self._decompressor = self._new_decompressor()
        self._eof = False
        self._pos = 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Seeking is emulated, as in gzip and lzma: backwards means decoding again from the start.
        if whence == io.SEEK_SET:
            pass
        elif whence == io.SEEK_CUR:
            offset = self._pos + offset
        elif whence == io.SEEK_END:
            if self._size < 0:
                while self.read(io.DEFAULT_BUFFER_SIZE):
                    pass
            offset = self._size + offset
        else:
            raise ValueError(f"Invalid value for whence: {whence}")
        if offset < self._pos:
            self._rewind()
        else:
            offset -= self._pos
        while offset > 0:
            data = self.read(min(io.DEFAULT_BUFFER_SIZE, offset))
            if not data:
                break
            offset -= len(data)
        return self._pos

    def tell(self) -> int:
        return self._pos


_MODE_CLOSED, _MODE_READ, _MODE_WRITE = 0, 1, 2


class HuffmanFile(io.BufferedIOBase):
    """A file object that reads or writes huffkit-compressed data.

    *filename* is a path (str, bytes or path-like) or a file object opened in
    binary mode.  *mode* is ``"r"`` (read, the default), ``"w"`` (write,
    truncating), ``"x"`` (create; fail if it exists) or ``"a"`` (append a new
    frame), each with an optional ``"b"``.  *block_size*, *max_code_length*,
    *embed_codebook*, *coder*, *alphabet* and *split* apply when writing, and
    *memory_limit* (see :class:`HuffmanDecompressor`) when reading; *codebook*
    and *threads* (blocks coded in parallel; None: one per core) in both
    directions (see :class:`HuffmanCompressor`).  Reading decodes
    concatenated frames in order, whatever their coder and alphabet.
    """

    def __init__(self, filename, mode: str = "r", *, block_size: int | None = None,
                 max_code_length: int | None = None,
                 codebook: Codebook | Distribution | None = None,
                 embed_codebook: bool | None = None, coder: str | None = None,
                 alphabet: str | None = None, threads: int | None = 1,
                 split: bool | None = None,
                 memory_limit: int | None = DEFAULT_MEMORY_LIMIT) -> None:
        self._fp = None
        threads = check_threads(threads)
        memory_limit = container.check_memory_limit(memory_limit)
        self._close_fp = False
        self._mode = _MODE_CLOSED
        self._pos = 0
        if mode in ("r", "rb"):
            if any(option is not None for option in (block_size, max_code_length,
                                                     embed_codebook, coder, alphabet, split)):
                raise ValueError("block_size, max_code_length, embed_codebook, coder, "
                                 "alphabet and split apply only when writing")
            if codebook is not None and not isinstance(codebook, Codebook):
                raise TypeError(f"codebook must be a Codebook when reading, not "
                                f"{type(codebook).__name__}")
            file_mode, self_mode = "rb", _MODE_READ
        elif mode in ("w", "wb", "a", "ab", "x", "xb"):
            if memory_limit != DEFAULT_MEMORY_LIMIT:
                raise ValueError("memory_limit applies only when reading")
            self._compressor = HuffmanCompressor(
                block_size=DEFAULT_BLOCK_SIZE if block_size is None else block_size,
                max_code_length=max_code_length,
                codebook=codebook, embed_codebook=embed_codebook is not False,
                coder="huffman" if coder is None else coder,
                alphabet="bytes" if alphabet is None else alphabet, threads=threads,
                split=split is not False)
            file_mode, self_mode = mode[0] + "b", _MODE_WRITE
        else:
            raise ValueError(f"Invalid mode: {mode!r}")

        if isinstance(filename, (str, bytes, os.PathLike)):
            self._fp = builtins.open(filename, file_mode)  # noqa: SIM115 - closed by close()
            self._close_fp = True
        elif hasattr(filename, "read") or hasattr(filename, "write"):
            self._fp = filename
        else:
            raise TypeError("filename must be a str, bytes or path-like object, or a file object")
        self._mode = self_mode
        if self_mode == _MODE_READ:
            self._buffer = io.BufferedReader(_DecompressReader(self._fp, codebook, threads,
                                                               memory_limit))

    # -- state ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._mode == _MODE_CLOSED

    @property
    def mode(self) -> str:
        return "wb" if self._mode == _MODE_WRITE else "rb"

    @property
    def name(self):
        self._check_not_closed()
        return getattr(self._fp, "name", None)

    def close(self) -> None:
        """Flush and close; in write mode this writes the end of the frame."""
        if self._mode == _MODE_CLOSED:
            return
        try:
            if self._mode == _MODE_READ:
                self._buffer.close()
                self._buffer = None
            elif self._mode == _MODE_WRITE:
                self._fp.write(self._compressor.flush())
                self._compressor = None
        finally:
            try:
                if self._close_fp:
                    self._fp.close()
            finally:
                self._fp = None
                self._close_fp = False
                self._mode = _MODE_CLOSED

    def fileno(self) -> int:
        self._check_not_closed()
        return self._fp.fileno()

    def seekable(self) -> bool:
        return self.readable() and self._buffer.seekable()

    def readable(self) -> bool:
        self._check_not_closed()
        return self._mode == _MODE_READ

    def writable(self) -> bool:
        self._check_not_closed()
        return self._mode == _MODE_WRITE

    def _check_not_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def _check_can_read(self) -> None:
        if not self.readable():
            raise io.UnsupportedOperation("File not open for reading")

    def _check_can_write(self) -> None:
        if not self.writable():
            raise io.UnsupportedOperation("File not open for writing")

    # -- reading -------------------------------------------------------------

    def peek(self, size: int = -1) -> bytes:
        self._check_can_read()
        return self._buffer.peek(size)

    def read(self, size: int | None = -1) -> bytes:
        self._check_can_read()
        return self._buffer.read(size)

    def read1(self, size: int = -1) -> bytes:
        self._check_can_read()
        if size < 0:
            size = io.DEFAULT_BUFFER_SIZE
        return self._buffer.read1(size)

    def readinto(self, buffer) -> int:
        self._check_can_read()
        return self._buffer.readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._check_can_read()
        return self._buffer.readline(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Seek in the decompressed data (read mode only; emulated, so backwards is slow)."""
        self._check_can_read()
        return self._buffer.seek(offset, whence)

    def tell(self) -> int:
        self._check_not_closed()
        if self._mode == _MODE_READ:
            return self._buffer.tell()
        return self._pos

    # -- writing -------------------------------------------------------------

    def write(self, data) -> int:
        """Compress and write *data* (any bytes-like object); return its length in bytes."""
        self._check_can_write()
        with byte_view(data) as view:
            length = view.nbytes
            self._fp.write(self._compressor.compress(view))
        self._pos += length
        return length


def open(file, /, mode: str = "rb", *, block_size: int | None = None,
         max_code_length: int | None = None, codebook: Codebook | Distribution | None = None,
         embed_codebook: bool | None = None, coder: str | None = None,
         alphabet: str | None = None, threads: int | None = 1, split: bool | None = None,
         memory_limit: int | None = DEFAULT_MEMORY_LIMIT, encoding: str | None = None,
         errors: str | None = None, newline: str | None = None):
    """Open a huffkit-compressed file in binary or text mode.

    *mode* is one of ``"r"``, ``"w"``, ``"x"``, ``"a"``, with ``"b"`` (binary,
    the default) or ``"t"`` (text).  Binary modes return a
    :class:`HuffmanFile`; text modes wrap it in :class:`io.TextIOWrapper`
    with the given *encoding*, *errors* and *newline*.  *memory_limit*
    (reading only) is that of :class:`HuffmanDecompressor`.
    """
    if "t" in mode:
        if "b" in mode:
            raise ValueError(f"Invalid mode: {mode!r}")
    else:
        if encoding is not None:
            raise ValueError("Argument 'encoding' not supported in binary mode")
        if errors is not None:
            raise ValueError("Argument 'errors' not supported in binary mode")
        if newline is not None:
            raise ValueError("Argument 'newline' not supported in binary mode")
    binary = HuffmanFile(file, mode.replace("t", ""), block_size=block_size,
                         max_code_length=max_code_length, codebook=codebook,
                         embed_codebook=embed_codebook, coder=coder, alphabet=alphabet,
                         threads=threads, split=split, memory_limit=memory_limit)
    if "t" in mode:
        return io.TextIOWrapper(binary, io.text_encoding(encoding), errors, newline)
    return binary
