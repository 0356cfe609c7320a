"""Symbol distributions: the P of the data or the Q of a model.

A :class:`Distribution` holds one non-negative weight ("count") per symbol of
an alphabet.  Counted from data the weights are integers; built from
probabilities (or, later, smoothed) they may be fractional.  Either way
``probabilities`` is the normalised view, and codebooks are built from the
weights alone, so a distribution and any positive multiple of it give the
same code.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .._errors import HuffmanError
from ..kernels import backend

if TYPE_CHECKING:
    from concurrent.futures import Executor

__all__ = ["BYTE_ALPHABET_SIZE", "Distribution"]

#: Number of symbols in the byte alphabet.
BYTE_ALPHABET_SIZE = 256

# How far the probabilities given to ``from_probabilities`` may sum from 1.
_PROBABILITY_TOLERANCE = 1e-9

# Integer weights stay integers while their total is exactly representable in float64 too.
_LARGEST_EXACT_TOTAL = 2**53

_INT64_MAX = 2**63 - 1

# from_files reads this much at a time, so counting a large file needs little memory.
_COUNT_CHUNK = 1 << 22

# from_files with an executor gives each worker this much of a file of bytes to count.
_COUNT_RANGE = 1 << 26

# The symbols a distribution's HTML table lists (the likeliest).
_HTML_SYMBOLS = 10


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _as_weights(values: Any, what: str) -> np.ndarray:
    """Validate a 1-D sequence of finite non-negative numbers and copy it.

    Integer input stays int64 (exact counts); anything else becomes float64.
    """
    array = np.array(values, copy=True)
    if array.ndim != 1:
        raise ValueError(f"{what} must be a 1-D sequence, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{what} must have at least one entry (one per symbol of the alphabet)")
    if array.dtype == np.bool_ or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(f"{what} must be numbers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0:
            raise ValueError(f"{what} must be non-negative; symbol {int(array.argmin())} has "
                             f"{array.min()}")
        if array.dtype == np.uint64 and array.max() > _INT64_MAX:  # would wrap to negative
            raise ValueError(f"{what} must be at most 2**63 - 1; symbol "
                             f"{int(array.argmax())} has {array.max()}")
        return array.astype(np.int64)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{what} must be finite; symbol {bad} is {array[bad]}")
    if array.min() < 0:
        raise ValueError(f"{what} must be non-negative; symbol {int(array.argmin())} "
                         f"has {array.min()}")
    return array


def _total_of(counts: np.ndarray) -> int | float:
    """The sum of *counts*; ValueError if it overflows, rather than a total of inf (float64)
    or a wrapped-around negative one (int64), which would make every probability wrong."""
    if counts.dtype == np.int64:
        if int(counts.max()) <= _INT64_MAX // counts.size:  # no sum of these can overflow
            return int(counts.sum())
        exact = int(sum(counts.tolist()))  # exact, in the rare case it may not fit
        if exact > _INT64_MAX:
            raise ValueError(f"counts must sum to at most 2**63 - 1, but these sum to {exact}")
        return exact
    with np.errstate(over="ignore"):
        total = float(counts.sum())
    if not math.isfinite(total):
        raise ValueError("counts must have a finite sum, but these sum to more than float64 "
                         "holds (1.8e308)")
    return total


class Distribution:
    """A distribution over the symbols ``0 .. size-1`` of an alphabet.

    Build one from data (:meth:`from_bytes`, :meth:`from_files`), from
    numbers (:meth:`from_counts`, :meth:`from_probabilities`, :meth:`uniform`),
    or from another (:meth:`smoothed`, :meth:`mixed`).  Instances are
    immutable: ``counts`` and ``probabilities`` are read-only numpy arrays
    indexed by symbol.
    """

    __slots__ = ("_counts", "_probabilities", "_smoothing", "_total")

    def __init__(self, counts: Iterable[float] | np.ndarray | Distribution, /, *,
                 smoothing: float = 0) -> None:
        # A codebook file records the smoothing: it must be a number JSON can hold.
        if isinstance(smoothing, bool) or not isinstance(smoothing, (int, float, np.integer,
                                                                     np.floating)):
            raise TypeError(f"smoothing must be a number, not {type(smoothing).__name__}")
        if not math.isfinite(smoothing) or smoothing < 0:
            raise ValueError(f"smoothing must be a finite number >= 0, got {smoothing}")
        self._smoothing = smoothing
        if isinstance(counts, Distribution):  # its weights, not what np.asarray gives
            counts = counts.counts
        self._counts = _readonly(_as_weights(counts, "counts"))
        total = self._total = _total_of(self._counts)
        probabilities = (
            self._counts / total if total > 0 else np.zeros(self._counts.size, dtype=np.float64)
        )
        self._probabilities = _readonly(probabilities.astype(np.float64, copy=False))

    # -- constructors ------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, /, *,
                   alphabet: str = "bytes") -> Distribution:
        """Count the symbols of *data* (any bytes-like object): by default its bytes.

        With ``alphabet="utf8"`` or ``"pairs"``, the code points or byte pairs
        (see :mod:`huffkit.models.alphabet`).
        """
        from .alphabet import alphabet_named
        chosen = alphabet_named(alphabet)
        with memoryview(data) as view, view.cast("B") as view:
            if chosen.name == "bytes":
                symbols = np.frombuffer(view, dtype=np.uint8)
            else:
                symbols = chosen.symbols(bytes(view))
            counts = backend.kernels.count_symbols(symbols, chosen.size)
        return cls(counts)

    @classmethod
    def from_counts(cls, counts: Iterable[float] | np.ndarray | Distribution, /) -> Distribution:
        """Use *counts*, one non-negative number per symbol (or a Distribution's), as the
        weights."""
        return cls(counts)

    @classmethod
    def from_probabilities(cls, probabilities: Iterable[float] | np.ndarray | Distribution,
                           /) -> Distribution:
        """Use *probabilities*, which must sum to 1, as the weights."""
        weights = _as_weights(probabilities, "probabilities").astype(np.float64)
        total = float(weights.sum())
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=_PROBABILITY_TOLERANCE):
            raise ValueError(f"probabilities must sum to 1, but these sum to {total!r}; "
                             "use Distribution.from_counts for unnormalised weights")
        return cls(weights)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str], /, *,
                   alphabet: str = "bytes", executor: Executor | None = None) -> Distribution:
        """Count the symbols of one file or of several files together.

        Bytes are counted a piece at a time, so a file's size does not
        matter; the symbols of other alphabets are counted file by file.

        With *executor* (a ``concurrent.futures.Executor``: a process pool, a Dask
        client's ``get_executor()``) its workers count: bytes by ranges of 64 MiB of
        each file, other alphabets file by file, each worker reading by path (the
        files must be on storage the workers share).  Counts add, so the result is
        exactly the one counted here.
        """
        if isinstance(paths, (str, bytes, os.PathLike)):
            paths = [paths]
        if executor is not None:
            return cls(_counted_by(executor, [os.fspath(path) for path in paths], alphabet))
        if alphabet != "bytes":
            total = None
            for path in paths:
                with open(path, "rb") as stream:
                    counted = cls.from_bytes(stream.read(), alphabet=alphabet).counts
                total = counted.copy() if total is None else total + counted
            if total is None:
                from .alphabet import alphabet_named
                total = np.zeros(alphabet_named(alphabet).size, dtype=np.int64)
            return cls(total)
        counts = np.zeros(BYTE_ALPHABET_SIZE, dtype=np.int64)
        for path in paths:
            with open(path, "rb") as stream:
                while chunk := stream.read(_COUNT_CHUNK):
                    counts += backend.kernels.count_symbols(
                        np.frombuffer(chunk, dtype=np.uint8), BYTE_ALPHABET_SIZE)
        return cls(counts)

    @classmethod
    def uniform(cls, size: int = BYTE_ALPHABET_SIZE, /) -> Distribution:
        """Every one of *size* symbols equally likely (a weight of 1 each)."""
        if isinstance(size, bool) or not isinstance(size, int):
            raise TypeError(f"size must be an int, not {type(size).__name__}")
        if size < 1:
            raise ValueError(f"a uniform distribution needs at least one symbol, got {size}")
        return cls(np.ones(size, dtype=np.int64))

    # -- derived distributions ---------------------------------------------

    def smoothed(self, alpha: float, /) -> Distribution:
        """Add *alpha* to the weight of every symbol of the alphabet (additive smoothing).

        With ``alpha > 0`` every symbol gets a code, so a codebook built from
        the result can code data this distribution never saw (Laplace's rule
        is ``alpha=1``).  :attr:`smoothing` records the total added.
        """
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
            raise TypeError(f"alpha must be a number, not {type(alpha).__name__}")
        if not math.isfinite(alpha) or alpha < 0:
            raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
        exact = (self._counts.dtype == np.int64 and float(alpha).is_integer()
                 and self._total + self.size * alpha < _LARGEST_EXACT_TOTAL)
        counts = self._counts + (int(alpha) if exact else float(alpha))
        with np.errstate(over="ignore"):
            total = float(np.sum(counts))
        if not math.isfinite(total):
            raise ValueError(f"alpha {alpha} is too large: the smoothed weights overflow")
        return Distribution(counts, smoothing=self._smoothing + alpha)

    def mixed(self, other: Distribution, /, weight: float) -> Distribution:
        """The mixture ``(1 - weight) * self + weight * other`` of the two probability vectors."""
        if not isinstance(other, Distribution):
            raise TypeError(f"expected a Distribution, got {type(other).__name__}")
        if other.size != self.size:
            raise ValueError(f"cannot mix distributions over {self.size} and {other.size} "
                             "symbols")
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.integer,
                                                               np.floating)):
            raise TypeError(f"weight must be a number, not {type(weight).__name__}")
        if not 0 <= weight <= 1:
            raise ValueError(f"weight must be between 0 and 1, got {weight}")
        for distribution in (self, other):
            if distribution.total == 0:
                raise ValueError("cannot mix an empty distribution (every weight is zero)")
        return Distribution((1 - weight) * self._probabilities + weight * other._probabilities)

    # -- views -------------------------------------------------------------

    @property
    def counts(self) -> np.ndarray:
        """The weight of each symbol (int64 when counted, float64 otherwise)."""
        return self._counts

    @property
    def probabilities(self) -> np.ndarray:
        """The normalised weights (all zero for an empty distribution)."""
        return self._probabilities

    @property
    def smoothing(self) -> float:
        """The weight :meth:`smoothed` added to every symbol (0 if none)."""
        return self._smoothing

    @property
    def total(self) -> int | float:
        """The sum of the weights: the number of symbols, for counted data."""
        return self._total

    @property
    def size(self) -> int:
        """The number of symbols in the alphabet."""
        return int(self._counts.size)

    @property
    def support(self) -> np.ndarray:
        """The symbols with a non-zero weight, in increasing order."""
        return np.flatnonzero(self._counts)

    @property
    def distinct_symbols(self) -> int:
        """How many symbols have a non-zero weight."""
        return int(np.count_nonzero(self._counts))

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Distribution):
            return NotImplemented
        return bool(np.array_equal(self._counts, other._counts))

    def __hash__(self) -> int:
        # Equal int and float counts must hash alike.
        return hash(self._counts.astype(np.float64).tobytes())

    def __repr__(self) -> str:
        return (f"<Distribution of {self.size} symbols, {self.distinct_symbols} present, "
                f"total {self._total:g}>")

    # -- numpy and Jupyter -------------------------------------------------

    def __array__(self, dtype: DTypeLike | None = None,
                  copy: bool | None = None) -> NDArray[Any]:
        """The probabilities, so that ``np.asarray(distribution)`` and numpy's functions see
        the distribution as the vector it stands for (``counts`` holds the weights).

        Without *dtype* or *copy* this is the read-only :attr:`probabilities` itself, not a
        copy.  Takes numpy 2's *copy* (True: always a fresh, writable copy; False: never a
        copy, so ValueError if *dtype* needs one) and works with numpy 1's ``__array__(dtype)``.
        """
        probabilities = self._probabilities
        converted = dtype is not None and np.dtype(dtype) != probabilities.dtype
        if copy is False and converted:
            raise ValueError(f"the probabilities are float64: converting them to "
                             f"{np.dtype(dtype)} needs a copy, and copy=False forbids one")
        if converted:
            return probabilities.astype(dtype)
        return probabilities.copy() if copy else probabilities

    def _repr_html_(self) -> str:
        """The distribution as Jupyter shows it: its figures, and its likeliest symbols."""
        from ._html import count, key_values, table

        present = self._probabilities[self._probabilities > 0]
        entropy = float(-np.sum(present * np.log2(present))) + 0.0
        summary = key_values(f"Distribution of {self.size} symbols", [
            ("symbols in the alphabet", f"{self.size:,}"),
            ("present (non-zero weight)", f"{self.distinct_symbols:,}"),
            ("total weight", count(self._total)),
            ("smoothing added", f"{self._smoothing:g}"),
            ("entropy H(P)", f"{entropy:.4f} bits/symbol")])
        # The likeliest symbols, the most first (the lower symbol first on a tie), sorted
        # among those present only: a utf8 alphabet has 1,114,112 symbols.
        support = np.flatnonzero(self._counts)
        order = support[np.lexsort((support, -self._probabilities[support]))][:_HTML_SYMBOLS]
        if not order.size:  # every weight zero: no symbol to list
            return summary
        top = table(f"the {order.size} likeliest symbols", [
            (str(int(symbol)), count(self._counts[symbol].item()),
             f"{self._probabilities[symbol]:.6f}") for symbol in order],
            header=("symbol", "weight", "probability"))
        return summary + top


def _counted_by(executor: Executor, paths: list[Any], alphabet: str) -> np.ndarray:
    """The symbols of *paths* counted by *executor*'s workers, summed in order."""
    from .alphabet import alphabet_named
    from .parallel import SMALL_CALLS_PER_WORKER, in_order
    chosen = alphabet_named(alphabet)
    total = np.zeros(chosen.size, dtype=np.int64)
    if chosen.name == "bytes":
        calls = [(path, offset, min(_COUNT_RANGE, size - offset))
                 for path, size in ((path, os.stat(path).st_size) for path in paths)
                 for offset in range(0, size, _COUNT_RANGE)]
        for counted in in_order(executor, count_range, calls,
                                  per_worker=SMALL_CALLS_PER_WORKER):
            total += counted
    else:
        for counted in in_order(executor, count_file, [(path, chosen.name) for path in paths],
                                  per_worker=SMALL_CALLS_PER_WORKER):
            total += counted
    return total


def count_range(path: str | bytes, offset: int, length: int) -> np.ndarray:
    """The count of each byte among the *length* bytes of the file *path* from *offset*:
    the work of one worker of ``Distribution.from_files``, which reads the range itself."""
    counts = np.zeros(BYTE_ALPHABET_SIZE, dtype=np.int64)
    left = length
    with open(path, "rb") as stream:
        stream.seek(offset)
        while left and (chunk := stream.read(min(left, _COUNT_CHUNK))):
            counts += backend.kernels.count_symbols(np.frombuffer(chunk, dtype=np.uint8),
                                                    BYTE_ALPHABET_SIZE)
            left -= len(chunk)
    if left:
        raise HuffmanError(f"{os.fsdecode(path)}: changed size while it was counted: it ends "
                           f"at byte {offset + length - left:,}, inside the range of "
                           f"{length:,} bytes from byte {offset:,}")
    return counts


def count_file(path: str | bytes, alphabet: str) -> np.ndarray:
    """The count of each symbol of *alphabet* in the file *path* (one worker's work)."""
    with open(path, "rb") as stream:
        return Distribution.from_bytes(stream.read(), alphabet=alphabet).counts
