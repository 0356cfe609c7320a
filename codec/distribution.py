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
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["BYTE_ALPHABET_SIZE", "Distribution"]

#: Number of symbols in the byte alphabet.
BYTE_ALPHABET_SIZE = 256

# How far the probabilities given to ``from_probabilities`` may sum from 1.
_PROBABILITY_TOLERANCE = 1e-9


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
        return array.astype(np.int64)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{what} must be finite; symbol {bad} is {array[bad]}")
    if array.min() < 0:
        raise ValueError(f"{what} must be non-negative; symbol {int(array.argmin())} "
                         f"has {array.min()}")
    return array


class Distribution:
    """A distribution over the symbols ``0 .. size-1`` of an alphabet.

    Build one with :meth:`from_bytes`, :meth:`from_counts` or
    :meth:`from_probabilities`.  Instances are immutable: ``counts`` and
    ``probabilities`` are read-only numpy arrays indexed by symbol.
    """

    __slots__ = ("_counts", "_probabilities", "_total")

    def __init__(self, counts: Iterable[float] | np.ndarray, /) -> None:
        self._counts = _readonly(_as_weights(counts, "counts"))
        total = self._counts.sum()
        self._total = int(total) if self._counts.dtype == np.int64 else float(total)
        probabilities = (
            self._counts / total if total > 0 else np.zeros(self._counts.size, dtype=np.float64)
        )
        self._probabilities = _readonly(probabilities.astype(np.float64, copy=False))

    # -- constructors ------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, /) -> Distribution:
        """Count the bytes of *data* (any bytes-like object) over the 256-symbol alphabet."""
        with memoryview(data) as view:
            symbols = np.frombuffer(view.cast("B"), dtype=np.uint8)
            counts = np.bincount(symbols, minlength=BYTE_ALPHABET_SIZE)
        return cls(counts)

    @classmethod
    def from_counts(cls, counts: Iterable[float] | np.ndarray, /) -> Distribution:
        """Use *counts*, one non-negative number per symbol, as the weights."""
        return cls(counts)

    @classmethod
    def from_probabilities(cls, probabilities: Iterable[float] | np.ndarray, /) -> Distribution:
        """Use *probabilities*, which must sum to 1, as the weights."""
        weights = _as_weights(probabilities, "probabilities").astype(np.float64)
        total = float(weights.sum())
        if not math.isclose(total, 1.0, rel_tol=0, abs_tol=_PROBABILITY_TOLERANCE):
            raise ValueError(f"probabilities must sum to 1, but these sum to {total!r}; "
                             "use Distribution.from_counts for unnormalised weights")
        return cls(weights)

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
