"""Experiments: which model codes which file how well, and what drifting from P costs.

Two functions a researcher runs, each returning plain data (dataclasses with
``to_dict()`` and ``records()``, ready for ``json``, ``csv`` or
``pandas.DataFrame``) built from real encodings:

* :func:`compare`: a matrix with a row per data file and a column per model
  (each file's own distribution, uniform, saved codebooks); every cell is the
  file really compressed with that model's codebook, and accounted for.
* :func:`sweep`: the file's own P mixed with another distribution R,
  Q_w = (1 - w)·P + w·R for evenly spaced w from 0 to 1; for each, the KL
  divergence D(P||Q_w) against the wasted bits per symbol of the real code.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .._errors import CodebookError
from .._types import AlphabetName, Coder
from ..models._html import Strong, table
from ..models.alphabet import Alphabet, alphabet_named
from ..models.codebook import Codebook
from ..models.distribution import Distribution, count_file
from ..models.parallel import SMALL_CALLS_PER_WORKER, in_order
from ..stream.arguments import check_coder
from .ledger import Ledger, analyze

__all__ = ["DEFAULT_SMOOTHING", "Cell", "Comparison", "Sweep", "SweepPoint", "compare", "sweep"]

#: The additive smoothing given to a file's distribution when it codes other files.
DEFAULT_SMOOTHING = 0.5

#: Called after each unit of work with (done, total): a progress bar, say.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Cell:
    """One file coded with one model: figures per symbol in bits, sizes in bytes.

    Where the model gives probability 0 to a byte the file holds, it cannot
    code the file: the cell's figures are then None (``cross_entropy`` and
    ``kl_divergence`` would be infinite).
    """

    mean_code_length: float | None
    cross_entropy: float | None
    kl_divergence: float | None
    entropy: float
    compressed_size: int | None
    original_size: int
    bits_per_byte: float | None  # of the whole compressed file
    coder: str = "huffman"  # "huffman+ans" for a file of frames of both

    @classmethod
    def from_ledger(cls, ledger: Ledger) -> Cell:
        size = ledger.original_size
        return cls(mean_code_length=ledger.mean_code_length,
                   cross_entropy=ledger.cross_entropy, kl_divergence=ledger.kl_divergence,
                   entropy=ledger.entropy, compressed_size=ledger.compressed_size,
                   original_size=size, bits_per_byte=ledger.bits_file / size if size else None,
                   coder=ledger.coder)

    @property
    def codable(self) -> bool:
        return self.compressed_size is not None


@dataclass(frozen=True)
class Comparison:
    """The matrix of :func:`compare`: ``cells[i][j]`` is row i coded with column j."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]
    smoothing: float

    def __repr__(self) -> str:
        return (f"<Comparison of {len(self.rows)} files by {len(self.columns)} models, "
                f"smoothing {self.smoothing:g}>")

    def _repr_html_(self) -> str:
        """The matrix as Jupyter shows it: each file's mean code length with each model (as
        ``huffkit compare`` prints it), the best of each row in bold.  Files are named in
        full, as given: two of the same name in different folders stay apart."""
        rows = []
        for i, (name, cells) in enumerate(zip(self.rows, self.cells, strict=True)):
            best = self.best(i)
            shown = ["n/a" if cell.mean_code_length is None else f"{cell.mean_code_length:.3f}"
                     for cell in cells]
            rows.append([name, f"{cells[0].entropy:.3f}" if cells else "n/a",
                         *[Strong(text) if j == best else text
                           for j, text in enumerate(shown)]])
        return table("mean code length (bits/symbol) of each file P (row) coded with each "
                     "model Q (column); the best of each row in bold; own distributions "
                     f"smoothed by {self.smoothing:g}", rows,
                     header=("file", "H(P)", *self.columns))

    def best(self, row: int, key: str = "mean_code_length") -> int:
        """The column whose cell has the smallest *key* in *row* (the first, on a tie)."""
        values = [getattr(cell, key) for cell in self.cells[row]]
        return int(np.argmin([math.inf if value is None else value for value in values]))

    def to_dict(self) -> dict[str, Any]:
        return {"rows": list(self.rows), "columns": list(self.columns),
                "smoothing": self.smoothing,
                "cells": [[asdict(cell) for cell in row] for row in self.cells]}

    def records(self) -> list[dict[str, Any]]:
        """One flat dict per cell (row, column and the figures): a DataFrame's rows."""
        return [{"row": row, "column": column, **asdict(cell)}
                for row, cells in zip(self.rows, self.cells, strict=True)
                for column, cell in zip(self.columns, cells, strict=True)]


@dataclass(frozen=True)
class SweepPoint:
    """One model Q_w = (1 - w)·P + w·R, and what coding the file with it cost."""

    weight: float
    kl_divergence: float
    cross_entropy: float
    mean_code_length: float
    wasted_bits_per_symbol: float  # mean_code_length - H(P)
    compressed_size: int
    coder: Coder = "huffman"


@dataclass(frozen=True)
class Sweep:
    """The points of :func:`sweep`, and what they were measured against."""

    name: str
    toward: str
    entropy: float
    symbols: int
    points: tuple[SweepPoint, ...]

    def __repr__(self) -> str:
        coders = ", ".join(dict.fromkeys(point.coder for point in self.points))
        return (f"<Sweep of {self.name} toward {self.toward}: {len(self.points)} points "
                f"({coders}), H(P) = {self.entropy:.4f} bits/symbol>")

    def _repr_html_(self) -> str:
        """The points as Jupyter shows them, with the figures ``huffkit sweep`` prints."""
        rows = [(point.coder, f"{point.weight:.3f}", f"{point.kl_divergence:.4f}",
                 f"{point.cross_entropy:.4f}", f"{point.mean_code_length:.4f}",
                 f"{point.wasted_bits_per_symbol:.4f}", f"{point.compressed_size:,}")
                for point in self.points]
        return table(f"{self.name}: {self.symbols:,} symbols, H(P) = {self.entropy:.4f} bits; "
                     f"Q_w = (1 - w) P + w R, R = {self.toward}", rows,
                     header=("coder", "weight w", "D(P||Q_w)", "H_Q(P)", "code length",
                             "wasted", "bytes"))

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.name, "toward": self.toward, "entropy": self.entropy,
                "symbols": self.symbols, "points": self.records()}

    def records(self) -> list[dict[str, Any]]:
        return [asdict(point) for point in self.points]


def _read(source: str | os.PathLike[str] | bytes) -> tuple[str, bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return "data", bytes(source)
    with open(source, "rb") as stream:
        return os.fspath(source), stream.read()


def compare(files: Sequence[str | os.PathLike[str]], /, *,
            codebooks: Sequence[Codebook | tuple[str, Codebook]] = (),
            smoothing: float = DEFAULT_SMOOTHING, uniform: bool = True,
            max_code_length: int | None = None, coders: Sequence[Coder] = ("huffman",),
            alphabet: AlphabetName = "bytes", progress: Progress | None = None,
            executor: Executor | None = None) -> Comparison:
    """Code every file with every model, for real, and tabulate the results.

    The columns are: each file's own distribution, smoothed by *smoothing*
    so that it can code the other files; then the uniform distribution
    (unless *uniform* is false); then each of *codebooks* (a Codebook, or a
    (name, Codebook) pair).  Codes are limited to *max_code_length* bits; the
    codebooks keep their own lengths.  On the diagonal a file is coded with
    its exact distribution, unsmoothed, under the longest limit any column
    has: its optimal code, which no other Huffman column can beat in mean
    code length.  With several *coders* ("huffman", "ans"), every model gets
    a column per coder, side by side, named "model [coder]".  *alphabet*
    chooses the symbols (see :func:`_support` for what smoothing covers).

    With *executor* (a ``concurrent.futures.Executor``: a process pool, a Dask
    client's ``get_executor()``) its workers do the work a file at a time, each
    reading the file by its path (shared storage): first its distribution, then its
    row of cells.  The result is the one computed here, to the last bit; *progress*
    is then called once a row.
    """
    if executor is None:
        named = [_read(path) for path in files]
    else:
        named = [(os.fspath(path), b"") for path in files]  # the workers read the data
    if not named:
        raise ValueError("compare needs at least one file")
    coders = [check_coder(coder) for coder in coders]
    if not coders:
        raise ValueError("compare needs at least one coder")
    chosen = alphabet_named(alphabet)
    if executor is None:
        own = [Distribution.from_bytes(data, alphabet=chosen.name) for _, data in named]
    else:
        own = [Distribution(counts) for counts in in_order(
            executor, count_file, [(name, chosen.name) for name, _ in named],
            per_worker=SMALL_CALLS_PER_WORKER)]
    support = _support(chosen, own)
    if max_code_length is None:
        max_code_length = chosen.default_max_code_length
    columns: list[tuple[str, Codebook | None]] = []
    for (name, _), distribution in zip(named, own, strict=True):
        smoothed = _smoothed(distribution, smoothing, support)
        # An empty file (unsmoothed) has no distribution to code with.
        columns.append((name, Codebook.from_distribution(smoothed, max_code_length=max_code_length)
                        if smoothed.total else None))
    if uniform:
        columns.append(("uniform", Codebook.from_distribution(
            Distribution.from_counts(support.astype(np.int64)), max_code_length=max_code_length)))
    for index, entry in enumerate(codebooks):
        name, codebook = entry if isinstance(entry, tuple) else (f"codebook {index + 1}", entry)
        columns.append((name, codebook))

    # The diagonal's limit: no column may use longer codes than the file's own code can.
    own_limit = max([max_code_length] + [codebook.max_length for _, codebook in columns
                                         if codebook is not None])
    total = len(named) * len(columns) * len(coders)
    cells: list[tuple[Cell, ...]] = []
    if executor is not None:
        packed = [_packed_codebook(model) for _, model in columns]
        calls = [(name, [_packed_codebook(Codebook.from_distribution(
                              distribution, max_code_length=own_limit))
                         if j == i and distribution.total else model
                         for j, model in enumerate(packed)], coders, chosen.name)
                 for i, ((name, _), distribution) in enumerate(zip(named, own, strict=True))]
        for row_cells in in_order(executor, _row_of_file, calls,
                                  per_worker=SMALL_CALLS_PER_WORKER):
            cells.append(row_cells)
            if progress is not None:
                progress(len(cells) * len(columns) * len(coders), total)
    # Here, without an executor: the same cells, a row at a time.
    serial = list(zip(named, own, strict=True)) if executor is None else []
    for i, ((_, data), distribution) in enumerate(serial):
        row = []
        for j, (_, column_model) in enumerate(columns):
            model = column_model
            if j == i and distribution.total:
                model = Codebook.from_distribution(distribution, max_code_length=own_limit)
            for coder in coders:
                row.append(_cell(data, model, coder, chosen.name))
                if progress is not None:
                    progress(i * len(columns) * len(coders) + len(row), total)
        cells.append(tuple(row))
    names = [name if len(coders) == 1 else f"{name} [{coder}]"
             for name, _ in columns for coder in coders]
    return Comparison(rows=tuple(name for name, _ in named), columns=tuple(names),
                      cells=tuple(cells), smoothing=smoothing)


def _support(alphabet: Alphabet, distributions: Sequence[Distribution]) -> np.ndarray:
    """The symbols smoothing and "uniform" spread weight over.

    Every symbol of the bytes and pairs alphabets; for utf8, whose 1.1
    million code points would give every unseen character a 21-bit code and
    make each codebook slow to build, the code points that occur in any of
    *distributions*.
    """
    if alphabet.name != "utf8":
        return np.ones(alphabet.size, dtype=bool)
    support = np.zeros(alphabet.size, dtype=bool)
    for distribution in distributions:
        support |= distribution.counts > 0
    return support


def _smoothed(distribution: Distribution, alpha: float, support: np.ndarray) -> Distribution:
    """*distribution* with *alpha* added to the weight of every symbol of *support*."""
    if not alpha:
        return distribution
    if support.all():
        return distribution.smoothed(alpha)
    if not math.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    return Distribution(distribution.counts + alpha * support, smoothing=alpha)


def _row_of_file(path: str, models: list[_PackedCodebook | None], coders: list[Coder],
                 alphabet: AlphabetName) -> tuple[Cell, ...]:
    """The row of :func:`compare`'s cells of the file *path*: one worker's work, which reads
    the file itself.  Its cells come as the serial loop makes them: model by model, each
    coder by coder."""
    with open(path, "rb") as stream:
        data = stream.read()
    codebooks = [None if model is None else _unpacked_codebook(model) for model in models]
    return tuple(_cell(data, codebook, coder, alphabet)
                 for codebook in codebooks for coder in coders)


# What travels to a worker: a distribution's or a codebook's non-zero entries only.  Pickled
# whole, a utf8 codebook (1.1 million symbols: lengths, codes, its distribution's counts and
# probabilities) is some 28 MB, sent once per task; its non-zero entries are a few thousand.
# Rebuilt, they give the same weights, lengths and so floats, to the bit.
_PackedDistribution = tuple[int, np.ndarray, np.ndarray, float]
_PackedCodebook = tuple[int, np.ndarray, np.ndarray, _PackedDistribution | None, int | None]


def _packed_distribution(distribution: Distribution) -> _PackedDistribution:
    present = np.flatnonzero(distribution.counts)
    return distribution.size, present, distribution.counts[present], distribution.smoothing


def _unpacked_distribution(packed: _PackedDistribution) -> Distribution:
    size, present, weights, smoothing = packed
    counts = np.zeros(size, dtype=weights.dtype)
    counts[present] = weights
    return Distribution(counts, smoothing=smoothing)


def _packed_codebook(codebook: Codebook | None) -> _PackedCodebook | None:
    if codebook is None:
        return None
    symbols = np.flatnonzero(codebook.lengths)
    distribution = codebook.distribution
    return (codebook.size, symbols, codebook.lengths[symbols],
            None if distribution is None else _packed_distribution(distribution),
            codebook.max_code_length)


def _unpacked_codebook(packed: _PackedCodebook) -> Codebook:
    size, symbols, lengths, distribution, max_code_length = packed
    every = np.zeros(size, dtype=np.int64)
    every[symbols] = lengths
    return Codebook(every, max_code_length=max_code_length,
                    distribution=None if distribution is None else
                    _unpacked_distribution(distribution))


def _cell(data: bytes, codebook: Codebook | None, coder: Coder, alphabet: AlphabetName) -> Cell:
    """*data* really coded with *codebook*, or a cell of Nones if the model cannot code it."""
    try:
        if codebook is None and data:
            raise CodebookError("no model")  # the column of an empty file
        return Cell.from_ledger(analyze(data, codebook=codebook, coder=coder,
                                        alphabet=alphabet))
    except CodebookError:
        return Cell(mean_code_length=None, cross_entropy=None, kl_divergence=None,
                    entropy=analyze(data, alphabet=alphabet).entropy, compressed_size=None,
                    original_size=len(data), bits_per_byte=None, coder=coder)


def sweep(source: str | os.PathLike[str] | bytes, /, *,
          toward: str | os.PathLike[str] | bytes | Distribution = "uniform", steps: int = 11,
          smoothing: float = DEFAULT_SMOOTHING, max_code_length: int | None = None,
          coders: Sequence[Coder] = ("huffman",), alphabet: AlphabetName = "bytes",
          progress: Progress | None = None, executor: Executor | None = None) -> Sweep:
    """Code *source* with models drifting from its own P toward R, and measure the waste.

    *toward* is ``"uniform"``, a file (or bytes) whose distribution, smoothed
    by *smoothing*, is R, or a Distribution.  For each of *steps* evenly
    spaced weights w from 0 to 1, the file is really compressed with the
    codebook of Q_w = (1 - w)·P + w·R, by each of *coders*: the points come
    coder by coder, each in order of weight.

    With *executor* (a ``concurrent.futures.Executor``: a process pool, a Dask
    client's ``get_executor()``) its workers count the files and compute the points,
    a point each, reading *source* by its path (which must then be a path, on
    storage the workers share).  The result is the one computed here, to the last bit.
    """
    coders = [check_coder(coder) for coder in coders]
    if not coders:
        raise ValueError("sweep needs at least one coder")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an int of at least 2, got {steps!r}")
    if executor is None:
        name, data = _read(source)
        empty = not data
    elif isinstance(source, (bytes, bytearray, memoryview)):
        raise TypeError("sweep with an executor needs the path of a file, which its workers "
                        "read, not bytes")
    else:
        name, data = os.fspath(source), b""  # the workers read the data
        empty = os.stat(name).st_size == 0
    if empty:
        raise ValueError(f"{name}: cannot sweep an empty file")
    chosen = alphabet_named(alphabet)
    if max_code_length is None:
        max_code_length = chosen.default_max_code_length
    if executor is None:
        p = Distribution.from_bytes(data, alphabet=chosen.name)
    else:
        p = Distribution(next(in_order(executor, count_file, [(name, chosen.name)])))
    if isinstance(toward, Distribution):
        label, r = "a given distribution", toward
    elif isinstance(toward, str) and toward == "uniform":
        label, r = "uniform", Distribution.from_counts(_support(chosen, [p]).astype(np.int64))
    elif executor is None or isinstance(toward, (bytes, bytearray, memoryview)):
        label, other = _read(toward)
        r = Distribution.from_bytes(other, alphabet=chosen.name)
        r = _smoothed(r, smoothing, _support(chosen, [p, r]))
    else:
        label = os.fspath(toward)
        r = Distribution(next(in_order(executor, count_file, [(label, chosen.name)])))
        r = _smoothed(r, smoothing, _support(chosen, [p, r]))
    points = []
    entropy = 0.0  # each point's ledger sets it; there are 2 points at least
    weights = [step / (steps - 1) for step in range(steps)]
    calls = [(weight, coder, max_code_length, chosen.name)
             for coder in coders for weight in weights]
    packed = _packed_distribution(p), _packed_distribution(r)
    measured = ((_sweep_point(data, p, r, *call) for call in calls) if executor is None else
                in_order(executor, _sweep_point_of_file,
                         [(name, *packed, *call) for call in calls],
                         per_worker=SMALL_CALLS_PER_WORKER))
    for point, point_entropy in measured:
        points.append(point)
        entropy = point_entropy
        if progress is not None:
            progress(len(points), steps * len(coders))
    return Sweep(name=name, toward=label, entropy=entropy, symbols=int(p.total),
                 points=tuple(points))


def _sweep_point(data: bytes, p: Distribution, r: Distribution, weight: float, coder: Coder,
                 max_code_length: int, alphabet: AlphabetName) -> tuple[SweepPoint, float]:
    """*data* coded with the codebook of Q_w = (1 - w)·P + w·R: the point, and H(P)."""
    q = p.mixed(r, weight)
    try:
        codebook = Codebook.from_distribution(q, max_code_length=max_code_length)
        ledger = analyze(data, codebook=codebook, coder=coder, alphabet=alphabet)
    except CodebookError as error:
        raise CodebookError(f"at weight {weight:g}, the model cannot code the file: "
                            f"{error}") from None
    return SweepPoint(
        weight=weight, kl_divergence=ledger.kl_divergence,
        cross_entropy=ledger.cross_entropy, mean_code_length=ledger.mean_code_length,
        wasted_bits_per_symbol=ledger.mean_code_length - ledger.entropy,
        compressed_size=ledger.compressed_size, coder=coder), ledger.entropy


def _sweep_point_of_file(path: str, p: _PackedDistribution, r: _PackedDistribution,
                         weight: float, coder: Coder, max_code_length: int,
                         alphabet: AlphabetName) -> tuple[SweepPoint, float]:
    """:func:`_sweep_point` of the file *path*: one worker's work, which reads the file."""
    with open(path, "rb") as stream:
        data = stream.read()
    return _sweep_point(data, _unpacked_distribution(p), _unpacked_distribution(r), weight,
                        coder, max_code_length, alphabet)
