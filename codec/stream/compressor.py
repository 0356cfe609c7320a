"""Compression in the standard library's style: :class:`HuffmanCompressor` codes one frame
incrementally, as ``lzma`` and ``bz2`` compressors do, and :func:`compress` is a thin
wrapper over it.  Memory stays proportional to the block size whatever the size of the data.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Callable

import numpy as np

from .._buffers import Bytes, BytesLike, byte_view
from .._errors import CodebookError, releasing_views
from .._types import AlphabetName, Coder, ModelName
from ..format.blocks import SharedCode, encode_block, encode_modelled_block
from ..format.frame import (
    check_block_size,
    check_max_code_length,
    pack_frame_end,
    pack_frame_header,
)
from ..format.layout import DEFAULT_BLOCK_SIZE, MODEL_BLOCK_SIZE
from ..models.alphabet import AlphabetError, alphabet_named
from ..models.codebook import Codebook
from ..models.distribution import Distribution
from ..models.sequential import ORDER0, model_named
from .arguments import as_codebook, check_codable, check_coder
from .pieces import encode_split
from .split import split_points
from .threads import check_threads, join_parts, map_in_order
from .uncopyable import Uncopyable

__all__ = ["HuffmanCompressor", "compress"]


class HuffmanCompressor(Uncopyable):
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

    *model* names a sequential model (``huffkit models`` lists them:
    ``"adaptive2"``, ``"cm"``, ...) that predicts each byte from the bytes
    before it; an arithmetic coder then spends the model's loss,
    -log2 q(byte | bytes before), on each byte.  The default, ``"order0"``,
    gives each block its own order-0 code (Huffman, or rANS with
    ``coder="ans"``).  A model codes bytes on its own: no *codebook*, *coder*
    or other *alphabet* with it.  Its blocks default to ``MODEL_BLOCK_SIZE``
    (16 MiB) bytes, each learning its model from scratch.

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

    def __init__(self, *, block_size: int | None = None,
                 max_code_length: int | None = None,
                 codebook: Codebook | Distribution | None = None,
                 embed_codebook: bool = True, coder: Coder = "huffman",
                 alphabet: AlphabetName = "bytes", threads: int | None = 1,
                 split: bool = True, model: ModelName = ORDER0) -> None:
        self._lock = threading.Lock()  # one call at a time
        self._model = model_named(model)
        if self._model is not None and (codebook is not None or coder != "huffman"
                                        or alphabet != "bytes"):
            raise ValueError(f"model {model!r} codes bytes on its own: give no codebook, "
                                 "coder or alphabet with it")
        if block_size is None:
            block_size = DEFAULT_BLOCK_SIZE if self._model is None else MODEL_BLOCK_SIZE
        self._block_size = check_block_size(block_size)
        self._threads = check_threads(threads)
        self._coder = check_coder(coder)
        self._alphabet = alphabet_named(alphabet)
        if max_code_length is None:
            max_code_length = self._alphabet.default_max_code_length
        self._max_code_length = check_max_code_length(max_code_length)
        if self._block_size < self._alphabet.min_block_size:
            raise ValueError(f"block_size must be at least {self._alphabet.min_block_size} "
                             f"bytes for the {self._alphabet.name} alphabet, got {block_size}")
        self._codebook = as_codebook(codebook, self._max_code_length, self._alphabet)
        self._embed_codebook = bool(embed_codebook)
        # Splitting chooses block boundaries for blocks with their own codes, of bytes.
        self._split = (bool(split) and self._codebook is None and self._alphabet.name == "bytes"
                       and self._model is None)
        self._shared = (None if self._codebook is None else
                        SharedCode(self._codebook, coder, self._alphabet))
        self._pending = bytearray()
        # The block size the frame's header gives: the one asked for, or, for data that ends
        # within its first block, that block's symbols; the block is then the frame's last
        # (FORMAT.md, section 17.1), which stores no count, and no frame end follows.
        # Decided before the first block is coded.
        self._frame_block_size: int | None = None
        self._last = False
        self._header_written = False
        self._total = 0
        self._flushed = False
        # Every byte fed is validated in the call that feeds it: the bytes fed so far,
        # and, for utf8, a decoder holding the start of a character split between calls.
        self._fed = 0
        self._utf8 = (codecs.getincrementaldecoder("utf-8")()
                      if self._alphabet.name == "utf8" else None)

    @releasing_views
    def compress(self, data: BytesLike, /) -> bytes:
        """Feed *data* (any bytes-like object); return whatever compressed output is ready."""
        with self._lock:
            return join_parts(self._compress_parts(data), self._threads)

    def _compress_parts(self, data: BytesLike) -> list[BytesLike]:
        """compress(), its output left in pieces."""
        if self._flushed:
            raise ValueError("Compressor has been flushed")
        if self._alphabet.name != "bytes":
            return self._compress_symbols(data)
        size = self._block_size
        with byte_view(data) as view:
            if self._codebook is not None:
                check_codable(self._codebook, np.frombuffer(view, dtype=np.uint8),
                               self._alphabet)
            blocks: list[Bytes] = []
            pos = 0
            # A whole block is coded once a byte after it shows that it is not the last: the
            # last block of a one-block input is marked so (FORMAT.md 17.1).
            if self._pending:
                pos = min(size - len(self._pending), len(view))
                self._pending += view[:pos]
                if len(self._pending) == size and len(view) > pos:
                    blocks.append(self._pending)
                    self._pending = bytearray()
            while len(view) - pos > size:
                blocks.append(view[pos:pos + size])
                pos += size
            coded, symbols = self._encode_blocks(blocks)
            self._total += symbols
            self._pending += view[pos:]
        return [self._header(), *coded] if coded else []

    @releasing_views
    def flush(self) -> bytes:
        """Finish the frame and return the rest of the compressed output.

        The compressor cannot be used after this.
        """
        with self._lock:
            return join_parts(self._flush_parts(), self._threads)

    def _flush_parts(self) -> list[BytesLike]:
        """flush(), its output left in pieces."""
        if self._flushed:
            raise ValueError("Repeated call to flush()")
        if self._alphabet.name != "bytes":
            self._validate(b"", final=True)
        if self._frame_block_size is None and 0 < len(self._pending) <= self._block_size:
            # All the data is in hand, and makes one block: the frame's last.
            self._frame_block_size = self._alphabet.count(self._pending)
            self._last = True
        blocks, rest, symbols = self._cut_blocks(self._pending, final=True)
        self._flushed = True
        self._pending = rest
        self._total += symbols
        if self._frame_block_size is None:  # no data at all
            self._frame_block_size = self._block_size
        end = b"" if self._last else pack_frame_end(self._total)
        return [self._header(), *blocks, end]

    def _compress_symbols(self, given: BytesLike) -> list[BytesLike]:
        """compress() for alphabets whose symbols span bytes: blocks end between symbols."""
        with byte_view(given) as view:
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
        return [self._header(), *blocks] if blocks else []

    def _validate(self, data: bytes, *, final: bool) -> Callable[[], None]:
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
            half = bytes(self._pending[-1:]) if len(self._pending) % 2 else b""
            joined = half + data
            symbols = self._alphabet.symbols(joined if final else joined[:len(joined) & ~1])
        if symbols is not None:
            assert self._codebook is not None  # only a codebook's symbols are checked
            try:
                check_codable(self._codebook, symbols, self._alphabet)
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
                    ) -> tuple[list[BytesLike], bytearray, int]:
        """Code the whole blocks of *pending*: (the coded blocks, what is left, symbols)."""
        blocks: list[Bytes] = []
        start = 0
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
        assert self._frame_block_size is not None  # settled by the first block, or flush
        return pack_frame_header(self._frame_block_size, self._codebook,
                                           embed=self._embed_codebook, coder=self._coder,
                                           alphabet=self._alphabet)

    def _encode_blocks(self, blocks: list[Bytes]) -> tuple[list[BytesLike], int]:
        """Code whole blocks, on the compressor's threads: their bytes, in pieces, and their
        symbols; the compressor's state is untouched (but for the frame's block size, which
        the first block settles)."""
        if blocks and self._frame_block_size is None:
            self._frame_block_size = self._block_size
        results = map_in_order(self._encode_block, blocks, self._threads)
        return ([part for coded, _ in results for part in coded],
                sum(count for _, count in results))

    def _encode_block(self, block: Bytes) -> tuple[list[BytesLike], int]:
        """One block coded (in pieces), and its number of symbols; the compressor's state is
        untouched."""
        if self._model is not None:
            return encode_modelled_block(block, self._model, last=self._last), len(block)
        symbols = self._alphabet.symbols(block)  # valid: checked as it was fed
        if self._split:
            return self._encode_split(block, symbols), symbols.size
        coded = encode_block(block, self._max_code_length, self._shared, coder=self._coder,
                             alphabet=self._alphabet, symbols=symbols, last=self._last)
        return coded, symbols.size

    def _encode_split(self, block: Bytes, symbols: np.ndarray) -> list[BytesLike]:
        """A block of bytes cut where its statistics change, as several blocks with compact
        or reused tables; or as one, when that is no larger."""
        ends, counts = split_points(symbols, coder=self._coder, max_block=self._block_size)
        return encode_split(block, symbols, ends, counts, self._max_code_length, self._coder,
                            self._last)


@releasing_views
def compress(data: BytesLike, /, *, block_size: int | None = None,
             max_code_length: int | None = None,
             codebook: Codebook | Distribution | None = None,
             embed_codebook: bool = True, coder: Coder = "huffman",
             alphabet: AlphabetName = "bytes", threads: int | None = 1, split: bool = True,
             model: ModelName = ORDER0) -> bytes:
    """Compress *data* (any bytes-like object) into one huffkit frame.

    Each *block_size* bytes get their own optimal Huffman code, no longer
    than *max_code_length* bits, unless *codebook* gives one code for all
    of them; ``coder="ans"`` codes them with rANS.  *threads* code blocks in
    parallel (None: one per core), with the same output; *split* (the default)
    cuts blocks where the data's statistics change.  *model* codes the bytes with a
    sequential model instead (``"adaptive2"``, ``"cm"``, ...: ``huffkit models``).
    See :class:`HuffmanCompressor`.
    """
    compressor = HuffmanCompressor(block_size=block_size, max_code_length=max_code_length,
                                   codebook=codebook, embed_codebook=embed_codebook,
                                   coder=coder, alphabet=alphabet, threads=threads,
                                   split=split, model=model)
    parts = compressor._compress_parts(data)
    parts += compressor._flush_parts()
    return join_parts(parts, compressor._threads)
