"""The ledger: every bit of a compressed file, accounted for against the entropy.

A file of n symbols with empirical distribution P, coded with models q
(each block's own distribution, or one codebook's Q for the whole file),
spends its bits like this::

    file bits = n·H(P)                 the entropy: what no order-0 code can beat
              + n·D(P||Q)              mismatch: the model is not the data's P
              + rounding               Huffman's whole-bit code lengths
              + container              headers, code tables, checksums, padding

``n·H + n·D`` is ``n`` times the cross-entropy: what an ideal coder using
the same models would pay.

A file coded by a sequential model (``compress(model=...)``: each byte
predicted from the bytes before it) spends its bits like this::

    file bits = loss                   Σ -log2 q(x_i | x_<i): the model's cross-entropy
              + coding overhead        payload - loss: the arithmetic coder's own cost
              + model                  the bits of a stored model (static order-k)
              + container              headers, CRCs

with, as reference lines, the order-0 entropy n·H(P) and the empirical conditional
entropies n·Ĥ_k(X | k bytes before) of each block, and for an order-k model its
learning cost, loss - n·Ĥ_k: what learning the model as it goes cost against knowing
the block's own statistics from the start.  ``payload`` (the coded bits) minus that is the
rounding; the file's other bits are the container.  The definitions are
those of DESIGN.md; :func:`inspect` reads them off a real compressed file,
:func:`analyze` compresses in memory first.

Per-symbol figures (entropy, cross-entropy, mean code length) are in the
unit of *base* (bits for 2, nats for e); ``bits`` and ``wasted_bits`` are
always bits.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._buffers import Bytes, BytesLike, byte_view
from .._errors import CodebookError, FormatError, TruncatedError, releasing_views
from .._types import AlphabetName, Coder, ModelName
from ..format.blocks import decode_block_symbols, parse_block, table_size
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
from ..format.info import frame_info
from ..format.model_block import ModelBlockHeader, check_model_memory
from ..format.rans_block import AnsBlockHeader
from ..kernels import backend
from ..models._html import bits as html_bits
from ..models._html import key_values, table
from ..models.alphabet import ALPHABETS, Alphabet, alphabet_named
from ..models.codebook import Codebook
from ..models.distribution import Distribution
from ..models.measures import conditional_entropy_bits, js_divergence
from ..models.sequential import KIND_CM, ORDER0, SequentialModel
from ..stream.compressor import compress
from .curve import CurveBuilder, LearningCurve

__all__ = ["BlockRow", "LearningCurve", "Ledger", "SymbolRow", "analyze", "inspect"]


@dataclass(frozen=True)
class SymbolRow:
    """Where one symbol's bits went.

    ``q`` is the model's probability of the symbol (for per-block models, the
    geometric mean over its occurrences, so that ``count * information`` is
    what an ideal coder paid for it); ``code_length`` is the mean number of
    bits a codeword for it took; ``wasted_bits`` = ``bits`` - count·(-log2 p).
    """

    symbol: int
    count: int
    p: float
    q: float
    information: float  # -log q, in the ledger's unit
    code_length: float  # bits
    bits: int | float  # whole for Huffman; for ANS, the symbol's share, log2(M/f) each
    wasted_bits: float


@dataclass(frozen=True)
class BlockRow:
    """One block of a file: the data it holds, and what it cost.

    ``start`` and ``length`` place its data in the decompressed output, in bytes;
    ``compressed_size`` counts the whole block (its header and table included) and
    ``table_size`` its table alone (0 when it uses the frame's codebook).
    ``entropy`` is that of the block's own symbols and ``mean_code_length`` its
    payload per symbol, both in the ledger's unit.
    """

    frame: int
    start: int
    length: int
    symbols: int
    compressed_size: int
    table_size: int
    entropy: float
    mean_code_length: float


@dataclass(frozen=True)
class Ledger:
    """The accounting of one compressed file (see the module docstring)."""

    symbols: int
    distinct_symbols: int
    unit: str
    entropy: float
    cross_entropy: float
    kl_divergence: float
    js_divergence: float | None  # only where the whole file had one static model
    mean_code_length: float
    bits_file: int
    bits_payload: int
    bits_container: int
    ideal_bits: float  # n·H(P), in bits
    wasted_mismatch: float
    wasted_rounding: float
    wasted_container: int
    wasted_total: float
    original_size: int
    compressed_size: int
    model: str  # in words: what q was
    per_symbol: tuple[SymbolRow, ...] | None = None
    coder: str = "huffman"  # "ans", or "huffman+ans" for a file of frames of both
    alphabet: str = "bytes"  # what a symbol is: a byte, a code point, a pair of bytes
    blocks: tuple[BlockRow, ...] | None = None  # a row per block, when asked for
    # Sequential models (all 0 or None for a file of order-0 codes):
    bits_model: int = 0  # a stored model's bits (static order-k), not counted as container
    # Ĥ_1, Ĥ_2, Ĥ_3 (X | k bytes before), each block's, in the ledger's unit per symbol
    conditional_entropies: tuple[float, ...] | None = None
    context_order: int | None = None  # k of an order-k model (the same k in every block)
    learning_cost: float | None = None  # loss - n·Ĥ_k, in bits, for an order-k model
    curve: LearningCurve | None = None  # bits per byte along the file, when asked for

    @property
    def loss_bits(self) -> float:
        """Σ -log2 q over the symbols: the model's loss, in bits (n times the cross-entropy)."""
        return self.wasted_mismatch + self.ideal_bits

    @property
    def coding_overhead(self) -> float:
        """payload - loss, in bits: what the coder spent beyond the model's loss."""
        return self.wasted_rounding

    @property
    def compression_rate(self) -> float:
        """Original size / compressed size."""
        return self.original_size / self.compressed_size

    @property
    def space_saving_rate(self) -> float:
        """(Original - compressed) / compressed, as the source material defines it."""
        return (self.original_size - self.compressed_size) / self.compressed_size

    def __repr__(self) -> str:
        symbols = "symbols" if self.alphabet == "bytes" else f"{self.alphabet} symbols"
        return (f"<Ledger: {self.symbols:,} {symbols} ({self.distinct_symbols} "
                f"distinct) in {self.compressed_size:,} bytes ({self.bits_file:,} bits) by "
                f"{self.coder}; H(P) = {self.entropy:.4f}, H_Q(P) = {self.cross_entropy:.4f}, "
                f"mean code length {self.mean_code_length:.4f} {self.unit}/symbol>")

    def _repr_html_(self) -> str:
        """The ledger as Jupyter shows it: the rows and figures ``huffkit analyze`` prints."""
        return _ledger_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The ledger as plain data, with the keys ``huffkit analyze --json`` prints."""
        result: dict[str, Any] = {
            "symbols": self.symbols,
            "distinct_symbols": self.distinct_symbols,
            "unit": self.unit,
            "entropy": self.entropy,
            "cross_entropy": self.cross_entropy,
            "kl_divergence": self.kl_divergence,
            "js_divergence": self.js_divergence,
            "mean_code_length": self.mean_code_length,
            "bits": {"file": self.bits_file, "payload": self.bits_payload,
                     "container": self.bits_container},
            "ideal_bits": self.ideal_bits,
            "wasted_bits": {"total": self.wasted_total, "mismatch": self.wasted_mismatch,
                            "rounding": self.wasted_rounding,
                            "container": self.wasted_container},
            "compression_rate": self.compression_rate,
            "space_saving_rate": self.space_saving_rate,
            "original_size": self.original_size,
            "compressed_size": self.compressed_size,
            "model": self.model,
            "coder": self.coder,
            "alphabet": self.alphabet,
        }
        if self.conditional_entropies is not None:
            result["bits"]["model"] = self.bits_model
            result["sequential"] = {
                "loss_bits": self.loss_bits, "coding_overhead_bits": self.coding_overhead,
                "model_bits": self.bits_model,
                "conditional_entropies": dict(zip(("1", "2", "3"),
                                                  self.conditional_entropies, strict=True)),
                "context_order": self.context_order, "learning_cost_bits": self.learning_cost}
        if self.curve is not None:
            result["curve"] = self.curve.to_dict()
        if self.per_symbol is not None:
            result["per_symbol"] = [asdict(row) for row in self.per_symbol]
        if self.blocks is not None:
            result["blocks"] = [asdict(row) for row in self.blocks]
        return result


def _ledger_html(ledger: Ledger) -> str:
    """The HTML tables of :meth:`Ledger._repr_html_`: where the file's bits went, then the
    per-symbol figures."""
    n = ledger.symbols
    unit = ledger.unit
    coder = {"huffman": "Huffman codes", "ans": "rANS",
             "arithmetic": "an arithmetic coder"}.get(ledger.coder, ledger.coder)
    symbols = "symbols" if ledger.alphabet == "bytes" else f"{ledger.alphabet} symbols"
    caption = (f"{n:,} {symbols} ({ledger.distinct_symbols} distinct) in "
               f"{ledger.compressed_size:,} bytes, coded with {coder}; model Q: {ledger.model}")
    if n == 0:
        return key_values(caption, [("no data", f"all {ledger.bits_file:,} bits are container")])
    # The bits column is always bits; the per-symbol column is in the ledger's unit.
    scale = math.log(2) if unit == "nats" else 1.0

    def row(sign: str, label: str, what: str, spent: float) -> tuple[str, ...]:
        return (f"{sign} {label}".strip(), what, html_bits(spent),
                f"{spent / n * scale:.4f}", f"{100 * spent / ledger.bits_file:.2f}%")

    file_row = row("=", "file", f"{ledger.compressed_size:,} bytes", ledger.bits_file)
    if ledger.conditional_entropies is None:
        rounding = ("whole-bit code lengths" if ledger.coder == "huffman" else
                    "quantisation and flush" if ledger.coder == "ans" else "coding")
        rows = [row("", "n·H(P)", "entropy", ledger.ideal_bits),
                row("+", "n·D(P||Q)", "mismatch (KL)", ledger.wasted_mismatch),
                row("+", "rounding", rounding, ledger.wasted_rounding),
                row("+", "container", "headers, tables, CRCs", ledger.wasted_container),
                file_row]
    else:
        rows = [row("", "loss", "Σ -log2 q(x_i | x_<i)", ledger.loss_bits),
                row("+", "overhead", "arithmetic coder", ledger.coding_overhead),
                row("+", "model", "stored model", ledger.bits_model),
                row("+", "container", "headers, CRCs", ledger.bits_container),
                file_row, row("", "n·H(P)", "order-0 entropy (reference)", ledger.ideal_bits)]
        for k, conditional in enumerate(ledger.conditional_entropies, start=1):
            rows.append(row("", f"n·Ĥ_{k}", f"given {k} byte{'s' if k > 1 else ''} before "
                            "(reference)", conditional * n / scale))
        if ledger.learning_cost is not None:
            rows.append(row("", "learning", f"loss - n·Ĥ_{ledger.context_order}"
                            if ledger.context_order else "loss - n·H(P)", ledger.learning_cost))
    bits_table = table(caption, rows, header=("", "what", "bits", f"{unit}/symbol", "of file"))
    js = "n/a" if ledger.js_divergence is None else f"{ledger.js_divergence:.4f}"
    figures = key_values(f"per symbol, in {unit}", [
        ("H(P), the entropy", f"{ledger.entropy:.4f}"),
        ("H_Q(P), the cross-entropy", f"{ledger.cross_entropy:.4f}"),
        ("D(P||Q), the KL divergence", f"{ledger.kl_divergence:.4f}"),
        ("JS divergence", js),
        ("mean code length", f"{ledger.mean_code_length:.4f}"),
        ("wasted bits in all", f"{ledger.wasted_total:,.1f} "
                               f"({ledger.wasted_total / ledger.bits_file:.2%} of the file)"),
        ("compression rate", f"{ledger.compression_rate:.3f} ({ledger.original_size:,} -> "
                             f"{ledger.compressed_size:,} bytes)"),
        ("space saving rate", f"{ledger.space_saving_rate:.3f}")])
    return bits_table + figures


@releasing_views
def analyze(data: BytesLike, /, *, block_size: int | None = None,
            max_code_length: int | None = None,
            codebook: Codebook | Distribution | None = None, embed_codebook: bool = True,
            coder: Coder = "huffman", alphabet: AlphabetName = "bytes", base: float = 2,
            per_symbol: bool = False, blocks: bool = False, split: bool = True,
            model: ModelName = ORDER0, curve: int | bool = False) -> Ledger:
    """Compress *data* in memory (options as :func:`huffkit.compress`) and account for it.

    The result is what :func:`inspect` reports for the compressed bytes.
    With *blocks*, ``Ledger.blocks`` has a row per block.  With *curve* (True, or a
    number of windows), ``Ledger.curve`` is the learning curve: bits per byte along
    the file (:class:`LearningCurve`).
    """
    with byte_view(data) as view:
        original = bytes(view)
    if isinstance(codebook, Distribution):
        limit = (alphabet_named(alphabet).default_max_code_length if max_code_length is None
                 else max_code_length)
        codebook = Codebook.from_distribution(codebook, max_code_length=limit)
    compressed = compress(original, block_size=block_size,
                                  max_code_length=max_code_length, codebook=codebook,
                                  embed_codebook=embed_codebook, coder=coder,
                                  alphabet=alphabet, split=split, model=model)
    builder = _curve_builder(curve, len(original), alphabet_named(alphabet))
    return _account(_blocks(compressed, codebook, original, curve=builder is not None),
                    len(compressed), codebook, alphabet=alphabet_named(alphabet), base=base,
                    per_symbol=per_symbol, block_rows=blocks, curve=builder)


#: The windows of a learning curve, unless told.
CURVE_WINDOWS = 200


def _curve_builder(curve: int | bool, total: int, alphabet: Alphabet) -> CurveBuilder | None:
    """Where a learning curve of *curve* windows (True: CURVE_WINDOWS) is summed."""
    if curve is False or curve is None:
        return None
    if alphabet.name != "bytes":
        raise ValueError(f"a learning curve is drawn over bytes, not {alphabet.name} symbols")
    windows = CURVE_WINDOWS if curve is True else curve
    if isinstance(windows, bool) or not isinstance(windows, int) or windows < 1:
        raise ValueError(f"curve must be True, False or a number of windows (1 or more), "
                         f"got {curve!r}")
    return CurveBuilder(max(total, 1), windows)


@releasing_views
def inspect(compressed: BytesLike, /, *, codebook: Codebook | None = None, base: float = 2,
            per_symbol: bool = False, blocks: bool = False,
            memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
            curve: int | bool = False) -> Ledger:
    """Decode a compressed file (bytes-like) and account for every one of its bits.

    For blocks coded with their own tables, the model is each block's own
    distribution.  For a frame coded with a codebook, the model is *codebook*'s
    distribution (its identifier must match the file's); without *codebook*,
    or if it carries no distribution, the distribution its code lengths imply,
    2**-length.  ``Ledger.model`` says which.

    *memory_limit* (bytes, or None) bounds the memory decoding a block may
    take, as for :func:`huffkit.decompress`: a frame that needs more raises
    ``MemoryLimitError`` before its blocks are decoded.  Inspecting a file
    takes no more memory than decompressing it block by block.  *curve* as for
    :func:`analyze`.
    """
    memory_limit = check_memory_limit(memory_limit)
    with byte_view(compressed) as view:
        size = view.nbytes
        if size == 0:
            raise TruncatedError("empty input: a huffkit stream holds at least one frame")
        if codebook is not None and not any(frame.codebook for frame in
                                            frame_info(view, codebook=codebook)):
            raise CodebookError("a codebook was given, but this data was not compressed with "
                                "one: every block carries its own code (to measure data "
                                "against a model, analyze it with the codebook instead)")
        first_frame = parse_frame_header(view, 0)
        builder = None
        if curve is not False and curve is not None:
            total = sum(frame.original_size for frame in frame_info(view, codebook=codebook))
            builder = _curve_builder(curve, total, first_frame.alphabet)
        return _account(_blocks(view, codebook, memory_limit=memory_limit,
                                curve=builder is not None), size, codebook,
                        alphabet=first_frame.alphabet, base=base, per_symbol=per_symbol,
                        block_rows=blocks, curve=builder)


# -- walking a file block by block --------------------------------------------


@dataclass(frozen=True, eq=False)
class _Block:
    # The block's distinct symbols (increasing) and their counts, counted as it was decoded
    # so that its symbols need not be held while they are accounted for.
    present: np.ndarray
    counts: np.ndarray
    symbols: int
    length: int  # the bytes they stand for
    alphabet: Alphabet
    listed: np.ndarray  # the symbols its code covers, in increasing order
    costs: np.ndarray  # bits the coder spends on each listed symbol: lengths, or log2(M/f)
    payload_bits: int
    coder: str
    model: tuple[np.ndarray, str] | None  # the frame's shared model q, and what it is
    frame: int  # which frame (from 1) it belongs to
    size: int  # bytes of the whole block
    table_size: int  # bytes of its table
    # A block coded by a sequential model: its loss on each present symbol (Σ -log2 q of
    # its occurrences, in bits), its model's name and order, n·Ĥ_k for k = 1, 2, 3.
    loss: np.ndarray | None = None
    sequential: SequentialModel | None = None
    conditional: tuple[float, ...] | None = None
    byte_costs: np.ndarray | None = None  # each byte's cost in bits, for a learning curve


def _shared_model(header: FrameHeader, codebook: Codebook | None) -> tuple[np.ndarray, str] | None:
    """The model q of a frame's shared codebook, and how it was found; None if it has none."""
    if header.codebook_id is None:
        return None
    identifier = header.codebook_id.hex()
    if codebook is not None and codebook.distribution is not None:
        return codebook.distribution.probabilities, f"codebook {identifier}: its distribution Q"
    size = header.alphabet.size
    if header.coder == "ans":
        weights = None if header.table is None else header.table.probabilities
        what = "the distribution its frequency table gives, freq/2^precision"
    else:
        weights = None if header.lengths is None else np.exp2(-header.lengths.astype(np.float64))
        what = "the distribution its code lengths imply, 2^-length"
    if header.listed is None or weights is None:  # with_supplied_codebook has refused this
        raise CodebookError(f"this data was compressed with the codebook {identifier}, which "
                            "it does not hold: pass it (codebook=) to account for it")
    return _spread(header.listed, weights, size), (
        f"codebook {identifier}: {what} (give the codebook to use its Q)")


# Wide symbols are counted this many at a time: numpy counts and indexes through int64, and
# a whole block's worth of int64 copies would take twice the memory its decoding did.
_COUNT_CHUNK = 1 << 16


def _present_counts(symbols: np.ndarray, size: int,
                    listed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct *symbols* (increasing) and how often each occurs; every one of them is
    one of the increasing *listed* symbols (those the block's code codes)."""
    if symbols.dtype == np.uint8:
        counts = backend.kernels.count_symbols(symbols, size)  # in place, no int64 copy
        present = np.flatnonzero(counts)
        return present, counts[present]
    if symbols.size * 8 < listed.size:
        # A few symbols of a long list (a tiny block coded with a frame's codebook of the
        # whole utf8 alphabet): sorting them costs less than counting to the list's end.
        return np.unique(symbols, return_counts=True)
    # Counted by their places among the listed symbols, not over the whole alphabet
    # (1,114,112 code points: 9 MB a count), a chunk at a time (numpy indexes and counts
    # through int64 copies): inspect then needs no more memory than decompress.  A place is
    # looked up in a table over the span the list covers, unless that table would be larger
    # than the block's symbols (and 1 MB): then found by binary search, twice as slow.
    low, span = int(listed[0]), int(listed[-1]) - int(listed[0]) + 1
    if span <= max(symbols.size, 1 << 18):
        place = np.zeros(span, dtype=np.int32)
        place[listed - low] = np.arange(listed.size, dtype=np.int32)

        def places(chunk: np.ndarray) -> np.ndarray:
            return np.asarray(place[chunk - low])
    else:
        def places(chunk: np.ndarray) -> np.ndarray:
            return np.searchsorted(listed, chunk)
    counts = np.zeros(listed.size, dtype=np.int64)
    for start in range(0, symbols.size, _COUNT_CHUNK):
        counts += np.bincount(places(symbols[start:start + _COUNT_CHUNK]),
                              minlength=listed.size)
    occurring = np.flatnonzero(counts)
    return listed[occurring], counts[occurring]


def _dense_model(model: np.ndarray | tuple[np.ndarray, np.ndarray], size: int) -> np.ndarray:
    """A model as one probability per symbol of the alphabet."""
    return _spread(*model, size) if isinstance(model, tuple) else model


def _same_model(a: np.ndarray | tuple[np.ndarray, np.ndarray],
                b: np.ndarray | tuple[np.ndarray, np.ndarray], size: int) -> bool:
    if a is b:
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    return np.array_equal(_dense_model(a, size), _dense_model(b, size))


def _support(model: np.ndarray | tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The symbols a model gives a non-zero probability, in increasing order."""
    if isinstance(model, tuple):
        listed, values = model
        return listed[values > 0]
    return np.flatnonzero(model)


def _model_at(model: np.ndarray | tuple[np.ndarray, np.ndarray],
              symbols: np.ndarray) -> np.ndarray:
    """A model's probabilities of the (increasing) *symbols*, without spreading it over the
    whole alphabet."""
    if not isinstance(model, tuple):
        return np.asarray(model[symbols])
    listed, values = model
    places = np.minimum(np.searchsorted(listed, symbols), max(listed.size - 1, 0))
    return np.where(listed[places] == symbols, values[places], 0.0)


def _spread(listed: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """One value per symbol of the alphabet: *values* for the *listed* symbols, 0 elsewhere."""
    dense = np.zeros(size, dtype=np.float64)
    dense[listed] = values
    return dense


def _model_block(block: ModelBlockHeader, data: bytes, buffer: Bytes, pos: int, frame: int,
                 curve: bool) -> _Block:
    """A model block's accounts: its loss on each byte, from its model run over *data*."""
    stored = bytes(buffer[pos + block.stored[0]:pos + block.stored[1]])
    costs = block.model.costs(data, stored)
    symbols = np.frombuffer(data, dtype=np.uint8)
    counts = np.bincount(symbols, minlength=256)
    present = np.flatnonzero(counts)
    loss = np.bincount(symbols, costs, minlength=256)[present]
    conditional = tuple(conditional_entropy_bits(data, k) for k in (1, 2, 3))
    return _Block(present, counts[present], block.symbols, block.length, ALPHABETS["bytes"],
                  present, np.zeros(present.size), block.payload_bits, "arithmetic", None,
                  frame, block.size, block.table_size, loss=loss, sequential=block.model,
                  conditional=conditional, byte_costs=costs if curve else None)


def _order0_costs(symbols: np.ndarray, listed: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """Each symbol's cost in bits under an order-0 block's code (for a learning curve)."""
    return np.asarray(costs, dtype=np.float64)[np.searchsorted(listed, symbols)]


def _code_of(block: BlockHeader | AnsBlockHeader) -> tuple[np.ndarray, np.ndarray]:
    """The symbols a block's code lists (increasing), and the bits the coder spends on
    each: code lengths, or log2(M/f) for rANS."""
    if isinstance(block, AnsBlockHeader):
        costs = None if block.table is None else block.table.costs
    else:
        costs = block.lengths
    if block.listed is None or costs is None:  # the frame's code, not supplied
        raise CodebookError("this block is coded with its frame's codebook: pass the "
                            "codebook (codebook=) to account for it")
    return np.asarray(block.listed), costs


def _blocks(compressed: BytesLike, codebook: Codebook | None, original: bytes | None = None, *,
            memory_limit: int | None = None, curve: bool = False) -> Iterator[_Block]:
    """Every block of every frame, decoded (or sliced from *original*, when known)."""
    # The views are released however the walk ends, so a mapped file can be closed.
    with byte_view(compressed) as buffer:
        pos = 0
        done = 0
        frame = 0
        while pos < len(buffer):
            frame += 1
            header = parse_frame_header(buffer, pos)
            if original is None:  # decoding, not slicing the original
                check_decoding_memory(header, memory_limit)
            header = with_supplied_codebook(header, codebook)
            pos += header.size
            model = _shared_model(header, codebook)
            total = 0
            previous = None
            while not isinstance(block := parse_block(buffer, pos, header, previous, total),
                                 FrameEnd):
                previous = block
                if isinstance(block, ModelBlockHeader):
                    if original is None:
                        check_model_memory(block, memory_limit)
                        data = decode_block_symbols(block, buffer, pos)[0]
                    else:
                        data = original[done:done + block.length]
                    yield _model_block(block, data, buffer, pos, frame, curve)
                    del data
                    pos += block.size
                    total += block.symbols
                    done += block.length
                    continue
                if original is None:
                    # The symbols as the decoder made them: converting the data back would
                    # take more memory than decoding it did (16 bytes a utf8 symbol).
                    symbols = decode_block_symbols(block, buffer, pos)[1]
                else:
                    symbols = header.alphabet.symbols(original[done:done + block.length])
                listed, costs = _code_of(block)
                present, counts = _present_counts(symbols, header.alphabet.size, listed)
                byte_costs = _order0_costs(symbols, listed, costs) if curve else None
                del symbols
                yield _Block(present, counts, block.symbols, block.length, header.alphabet,
                             listed, costs,
                             block.payload_bits, header.coder, model if block.shared else None,
                             frame, block.size, table_size(block), byte_costs=byte_costs)
                pos += block.size
                total += block.symbols
                done += block.length
            if block.total_symbols != total:
                raise FormatError(f"frame end records {block.total_symbols} bytes, but its "
                                  f"blocks hold {total}")
            pos += block.size


# -- the accounting -----------------------------------------------------------

_UNITS = {2.0: "bits", math.e: "nats", 10.0: "hartleys"}


class _Sums:
    """Per-symbol sums of a file: counts, and two float figures (the bits spent, Σ -log2 q).

    The blocks' sums are kept as they come and merged a batch at a time: adding into
    arrays at each block cost more than decoding a tiny block.  Over bytes and pairs the
    totals are arrays of the alphabet's size; over utf8 such arrays would cost 9 MB each
    (inspecting a small utf8 file took 79 MB), so they hold only the symbols that occur."""

    _BATCH = 1 << 16  # entries held before they are merged

    def __init__(self, size: int) -> None:
        self._size = size
        self._dense = size <= 1 << 17
        self._symbols = np.zeros(0, dtype=np.int64)  # the symbols of sparse totals
        totals = size if self._dense else 0
        self._counts = np.zeros(totals, dtype=np.int64)
        self._floats = np.zeros((2, totals), dtype=np.float64)
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._held = 0

    def add(self, symbols: np.ndarray, counts: np.ndarray, spent: np.ndarray,
            ideal: np.ndarray) -> None:
        """Add a block's sums for its distinct *symbols*."""
        self._pending.append((symbols, counts, spent, ideal))
        self._held += symbols.size
        # Sparse totals are merged once as many entries wait as they hold: each merge sorts
        # both, so merging every _BATCH entries into a million would be quadratic.
        if self._held >= max(self._BATCH, 0 if self._dense else self._symbols.size):
            self._merge()

    def _merge(self) -> None:
        if not self._pending:
            return
        if self._dense:
            symbols = np.concatenate([part[0] for part in self._pending])
            for k, total in ((1, self._counts), (2, self._floats[0]), (3, self._floats[1])):
                weights = np.concatenate([part[k] for part in self._pending])
                total += np.bincount(symbols, weights, minlength=self._size).astype(total.dtype)
        else:
            parts = [(self._symbols, self._counts, *self._floats), *self._pending]
            symbols, inverse = np.unique(np.concatenate([part[0] for part in parts]),
                                         return_inverse=True)
            counts = np.bincount(inverse, np.concatenate([part[1] for part in parts]),
                                 minlength=symbols.size).astype(np.int64)
            floats = np.array([np.bincount(inverse,
                                           np.concatenate([part[k] for part in parts]),
                                           minlength=symbols.size) for k in (2, 3)])
            self._symbols, self._counts, self._floats = symbols, counts, floats
        self._pending, self._held = [], 0

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The symbols that occur (increasing), their counts, the bits spent on them and
        their Σ -log2 q."""
        self._merge()
        present = np.flatnonzero(self._counts)
        symbols = present if self._dense else self._symbols[present]
        return symbols, self._counts[present], self._floats[0, present], self._floats[1, present]


def _unit(base: float) -> str:
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        raise TypeError(f"base must be a number, not {type(base).__name__}")
    if not (math.isfinite(base) and base > 1):
        raise ValueError(f"base must be a finite number greater than 1, got {base}")
    return _UNITS.get(float(base), f"base-{base:g} units")


def _account(blocks: Iterator[_Block], file_size: int, codebook: Codebook | None, *,
             alphabet: Alphabet, base: float, per_symbol: bool,
             block_rows: bool = False, curve: CurveBuilder | None = None) -> Ledger:
    """The ledger of *blocks*, all of *alphabet* (the first frame's, which a file of no
    blocks reports too)."""
    unit = _unit(base)
    to_unit = math.log(2) / math.log(base)  # bits -> unit
    blocks = iter(blocks)
    size = alphabet.size
    # Per symbol: its count; the coded bits it took (whole bits for Huffman, log2(M/f) per
    # symbol for ANS, whose payload also holds the lanes' flushed states, not charged to any
    # one symbol); and Σ -log2 q.
    sums = _Sums(size)
    payload = 0
    original_bytes = 0
    models: list[str] = []
    coders: list[str] = []
    # The one model, while there has been one: a shared model's q, or a block's own
    # distribution as (its symbols, their probabilities).
    static_q: np.ndarray | tuple[np.ndarray, np.ndarray] | None = None
    rows_of_blocks: list[BlockRow] = []
    # Sequential models: stored model bits, n·Ĥ_k (k = 1, 2, 3) summed over the blocks
    # while every block has them, and the orders of the order-k models seen.
    model_bits = 0
    conditional: np.ndarray | None = np.zeros(3)
    orders: set[int | None] = set()
    curve_models: list[str] = []
    index = -1
    # Not a for loop: it would hold the last block while the next one is decoded.
    # Once for the whole walk: entering it per block cost as much as a tiny block's sums.
    with np.errstate(divide="ignore"):
        while (block := next(blocks, None)) is not None:
            index += 1
            if block.alphabet != alphabet:
                raise FormatError(f"the data mixes frames of the {alphabet.name} and "
                                  f"{block.alphabet.name} alphabets, which one ledger cannot count")
            original_bytes += block.length
            # Work on the symbols the block holds, not the whole alphabet: a utf8 block of
            # one character must not cost a pass over 1,114,112 code points.
            symbols, block_counts = block.present, block.counts
            # A block of a sequential model carries its loss; an order-0 block has none.
            loss = block.loss if block.sequential is not None else None
            q: np.ndarray | tuple[np.ndarray, np.ndarray] | None
            if block.sequential is not None and loss is not None:
                q_present = np.exp2(-loss / block_counts)  # geometric mean, as SymbolRow
                q, model = None, f"{block.sequential.name}: q(x_i | the bytes before)"
                model_bits += 8 * block.table_size
                if conditional is not None:
                    conditional += block.conditional
                orders.add(block.sequential.order
                           if block.sequential.kind != KIND_CM else None)
            elif block.model is not None:
                q, model = block.model
                q_present = q[symbols]
            else:
                q_present = block_counts / block.symbols
                q, model = (symbols, q_present), "each block's own distribution P_b"
            if loss is not None:  # the model's loss is its Σ -log2 q
                sums.add(symbols, block_counts, loss, loss)
            else:
                conditional = None  # an order-0 block among them: no Ĥ_k for the file
                information = -np.log2(q_present)
                # A decoded symbol always has a code, so it is listed.
                sums.add(symbols, block_counts,
                         block_counts * block.costs[np.searchsorted(block.listed, symbols)],
                         block_counts * information)
            if curve is not None and block.byte_costs is not None:  # each has them then
                curve.add(block.byte_costs)
                name = ORDER0 if block.sequential is None else block.sequential.name
                if name not in curve_models:
                    curve_models.append(name)
            payload += block.payload_bits
            for found, seen in ((model, models), (block.coder, coders)):
                if found not in seen:
                    seen.append(found)
            if index == 0 or q is None:
                static_q = q
            elif static_q is not None and not _same_model(static_q, q, size):
                static_q = None
            if block_rows:
                present = block_counts
                symbols_in_block = block.symbols
                rows_of_blocks.append(BlockRow(
                    frame=block.frame, start=original_bytes - block.length, length=block.length,
                    symbols=symbols_in_block, compressed_size=block.size,
                    table_size=block.table_size,
                    entropy=float((present * np.log2(symbols_in_block / present)).sum())
                    / symbols_in_block * to_unit,
                    mean_code_length=block.payload_bits / symbols_in_block * to_unit))
            del block  # before the next one is decoded
    present, counts, spent, ideal = sums.result()
    del sums  # its copies of the same figures
    exact = coders in ([], ["huffman"])  # whole-bit codes: the symbols' bits are the payload
    if exact and int(spent.sum()) != payload:
        raise FormatError(f"the blocks' code lengths account for {int(spent.sum())} payload "
                          f"bits, but their headers record {payload}")

    n = int(counts.sum())
    p = counts / n
    self_information = -np.log2(p)
    # Summed the same way as the cross-entropy, so that a model equal to P gives a KL of 0.0.
    entropy_bits = float((counts * self_information).sum())  # n·H(P), in bits
    cross_bits = float(ideal.sum())  # n·H_q(P)
    file_bits = 8 * file_size
    per_n = (lambda bits: bits / n * to_unit) if n else (lambda bits: 0.0)
    js = None
    if static_q is not None and n and np.all(np.isfinite(ideal)):
        # Over the symbols that P or q gives a probability (the others add nothing).
        support = np.union1d(present, _support(static_q))
        p_support = np.zeros(support.size)
        p_support[np.isin(support, present, assume_unique=True)] = p
        js = float(js_divergence(p_support, _model_at(static_q, support), base=base))
    rows = None
    if per_symbol:
        rows = tuple(
            SymbolRow(symbol=int(symbol), count=int(counts[i]), p=float(p[i]),
                      q=float(np.exp2(-ideal[i] / counts[i])),
                      information=float(ideal[i] / counts[i] * to_unit),
                      code_length=float(spent[i] / counts[i]),
                      bits=int(spent[i]) if exact else float(spent[i]),
                      wasted_bits=float(spent[i] - counts[i] * self_information[i]))
            for i, symbol in enumerate(present.tolist()))
    # Every block was coded by a sequential model (and there was one): Ĥ_k for the file.
    sequential = conditional if index >= 0 else None
    learning = None
    order = None
    if sequential is not None and len(orders) == 1:
        (order,) = orders
        # Order 0 learns against n·H(P); orders 1 to 3 against their n·Ĥ_k.
        if order is not None:
            learning = cross_bits - (entropy_bits if order == 0
                                     else float(sequential[order - 1]))
    container = file_bits - payload - model_bits
    return Ledger(
        symbols=n,
        distinct_symbols=int(present.size),
        unit=unit,
        entropy=per_n(entropy_bits),
        cross_entropy=per_n(cross_bits),
        kl_divergence=per_n(cross_bits - entropy_bits),
        js_divergence=js,
        mean_code_length=per_n(payload),
        bits_file=file_bits,
        bits_payload=payload,
        bits_container=container,
        ideal_bits=entropy_bits,
        wasted_mismatch=cross_bits - entropy_bits,
        wasted_rounding=payload - cross_bits,
        wasted_container=container,
        wasted_total=file_bits - entropy_bits,
        original_size=original_bytes,
        compressed_size=file_size,
        model="; ".join(models) if models else "none (no data)",
        per_symbol=rows,
        coder="+".join(coders) if coders else "huffman",
        alphabet=alphabet.name,
        blocks=tuple(rows_of_blocks) if block_rows else None,
        bits_model=model_bits,
        conditional_entropies=(tuple(float(bits) / n * to_unit for bits in sequential)
                               if sequential is not None and n else None),
        context_order=order,
        learning_cost=learning,
        curve=None if curve is None else curve.result(
            entropy_bits / n if n else 0.0, "+".join(curve_models) or ORDER0),
    )
