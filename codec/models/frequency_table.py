"""Frequency tables for the rANS coder: a distribution quantised to a power-of-two total.

rANS (range asymmetric numeral systems) codes a symbol of frequency f out of
M = 2**precision in log2(M/f) bits, to within a tiny constant: it pays the
cross-entropy of the quantised model, not Huffman's whole bits.  The table
is all a decoder needs; the kernels are in ``kernels.reference.rans``.

Quantisation is exact and deterministic: the weights are turned into exact
fractions (a float is a binary fraction), so every machine computes the same
table from the same model, which lets a file name its model by identifier
only.  Every symbol of non-zero weight gets a frequency of at least 1; the
rounding is then corrected greedily, one unit at a time, where it costs the
least (measured by the weights, so the loss D(P||F/M) stays tiny).
"""

from __future__ import annotations

import hashlib
import heapq
import math
from fractions import Fraction

import numpy as np

from .._errors import CodebookError
from ..kernels import backend
from .distribution import Distribution

__all__ = ["BYTE_BLOCK_PRECISION", "DEFAULT_PRECISION", "FINE_BYTE_BLOCK_PRECISION",
           "MAX_PRECISION", "FrequencyTable", "byte_block_precision"]

#: The frequencies of a table sum to 2**precision.  The kernels' 64-bit states allow up
#: to 24 bits while keeping the state 2**8 times larger than the total, so that the
#: integer arithmetic of rANS costs next to nothing.
MAX_PRECISION = 24
#: Enough for a block's own table: a byte that occurs once in a 1 MiB block is still
#: coded in 16 bits rather than its 20, at a negligible cost to the others.
DEFAULT_PRECISION = 16
#: A byte block's own table: 12 bits, which the compiled decoder reads through one 32-bit
#: entry per slot (symbol, frequency and offset), a 16 KB table that stays in the L1 cache,
#: where at 16 bits it read a 64 KB byte-per-slot table, then the frequency and the
#: cumulative frequency of the symbol found.  At 12 bits text loses next to nothing (a
#: rare byte's frequency of 1 is 1/4096 of the total); data of one dominant byte and many
#: rare ones loses more (ptt5, as one block: 2.4%), so such a block takes
#: FINE_BYTE_BLOCK_PRECISION (byte_block_precision; FORMAT.md, section 14.5).
BYTE_BLOCK_PRECISION = 12
#: A byte block's own table when BYTE_BLOCK_PRECISION would cost it too much.
FINE_BYTE_BLOCK_PRECISION = 16


class FrequencyTable:
    """Integer frequencies, one per symbol, that sum to ``2**precision``.

    ``freqs[s] == 0`` means symbol s cannot be coded.  ``cumulative[s]`` is
    the sum of the frequencies of the symbols below s.
    """

    __slots__ = ("_cumulative", "_freqs", "_precision")

    def __init__(self, freqs: np.ndarray, precision: int) -> None:
        freqs = np.array(freqs, dtype=np.int64, copy=True)
        if not 1 <= precision <= MAX_PRECISION:
            raise CodebookError(f"precision must be 1 to {MAX_PRECISION} bits, got {precision}")
        if freqs.ndim != 1 or freqs.size == 0 or freqs.min() < 0:
            raise CodebookError("frequencies must be a non-empty list of non-negative integers")
        if int(freqs.sum()) != 1 << precision:
            raise CodebookError(f"frequencies sum to {int(freqs.sum())}, not 2**{precision}")
        self._freqs = freqs
        self._freqs.flags.writeable = False
        self._cumulative: np.ndarray = np.cumsum(freqs) - freqs
        self._cumulative.flags.writeable = False
        self._precision = precision

    @classmethod
    def from_distribution(cls, distribution: Distribution, /, *,
                          precision: int | None = DEFAULT_PRECISION) -> FrequencyTable:
        """Quantise *distribution*'s weights to frequencies summing to 2**precision.

        With ``precision=None`` it is chosen from the distribution: fine enough
        that its least likely symbol keeps about its probability (a model Q
        smoothed over a large corpus gives unseen bytes tiny probabilities,
        which a coarse table would round up at the other symbols' expense).
        """
        if precision is None:
            precision = precision_for(distribution)
        return cls(quantize(distribution.counts, precision), precision)

    @property
    def freqs(self) -> np.ndarray:
        return self._freqs

    @property
    def cumulative(self) -> np.ndarray:
        return self._cumulative

    @property
    def precision(self) -> int:
        return self._precision

    @property
    def total(self) -> int:
        return 1 << self._precision

    @property
    def size(self) -> int:
        return int(self._freqs.size)

    @property
    def probabilities(self) -> np.ndarray:
        """The model the coder really uses: freq / 2**precision."""
        return self._freqs / self.total

    @property
    def costs(self) -> np.ndarray:
        """Bits an ideal coder spends on each symbol under this table (inf where freq is 0)."""
        with np.errstate(divide="ignore"):
            costs: np.ndarray = self._precision - np.log2(self._freqs)
        return costs

    @property
    def identifier(self) -> str:
        """16 hex digits from the precision and the frequencies (as u32, little-endian).

        For the 256 byte values, all 256 frequencies; for a larger alphabet, its
        size and then each symbol of non-zero frequency with its frequency.
        """
        if self._freqs.size == 256:
            body = self._freqs.astype("<u4").tobytes()
        else:
            present = np.flatnonzero(self._freqs)
            pairs = np.stack([present, self._freqs[present]], axis=1).astype("<u4")
            body = int(self._freqs.size).to_bytes(4, "little") + pairs.tobytes()
        return hashlib.sha256(bytes([self._precision]) + body).digest()[:8].hex()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrequencyTable):
            return NotImplemented
        return self._precision == other._precision and np.array_equal(self._freqs, other._freqs)

    def __hash__(self) -> int:
        return hash((self._precision, self._freqs.tobytes()))

    def __repr__(self) -> str:
        return (f"<FrequencyTable of {int(np.count_nonzero(self._freqs))} symbols, "
                f"total 2**{self._precision}>")


def precision_for(distribution: Distribution) -> int:
    """The precision at which the least likely symbol gets a frequency of about 4."""
    probabilities = distribution.probabilities
    if not np.any(probabilities > 0):
        raise CodebookError("cannot build a frequency table from an empty distribution")
    smallest = float(probabilities[probabilities > 0].min())
    return int(min(MAX_PRECISION, max(DEFAULT_PRECISION, math.ceil(-math.log2(smallest)) + 2)))


def precision_for_block(distinct: int) -> int:
    """The precision of a block's own table holding *distinct* symbols of an alphabet
    other than bytes (whose blocks take byte_block_precision's).

    16 bits, unless the block holds more than 2**14 distinct symbols (utf8 or
    pairs blocks can): then 2 bits more than their number needs, so that each
    still gets a frequency of about 4 on average.
    """
    return int(min(MAX_PRECISION, max(DEFAULT_PRECISION, (distinct - 1).bit_length() + 2)))


def byte_block_precision(coarse_bits: float, fine_bits: float) -> int:
    """The precision of a byte block's own table (or of a split block's pieces' tables):
    BYTE_BLOCK_PRECISION, unless its bits there (*coarse_bits*: the ideal payload, the sum
    of log2(M / f) over its symbols, plus 8 per byte of its tables) exceed its bits at
    FINE_BYTE_BLOCK_PRECISION (*fine_bits*) by more than 1/1024 of them."""
    if coarse_bits > fine_bits + fine_bits / 1024:
        return FINE_BYTE_BLOCK_PRECISION
    return BYTE_BLOCK_PRECISION


def quantize(weights: np.ndarray, precision: int) -> np.ndarray:
    """Frequencies summing to 2**precision, at least 1 wherever *weights* is non-zero.

    Raises ``CodebookError`` if there are more symbols of non-zero weight
    than 2**precision.
    """
    weights = np.asarray(weights)
    if weights.dtype.kind in "iu":  # counts: the compiled kernels may do it, identically
        fast: np.ndarray | None = backend.kernels.quantize_counts(weights, precision)
        if fast is not None:
            return fast
    total_freq = 1 << precision
    present = np.flatnonzero(weights)
    if present.size == 0:
        raise CodebookError("cannot build a frequency table from an empty distribution")
    if present.size > total_freq:
        raise CodebookError(f"{present.size} symbols cannot share a total of 2**{precision}")
    # Exact arithmetic: the same table on every machine.  A share is M·q, the ideal,
    # fractional frequency: kept as its floor and as the double nearest to it.
    if weights.dtype.kind in "iu":  # counts: plain integers do it, and quickly
        values = weights[present].tolist()
        total = sum(values)
        scaled = [value * total_freq for value in values]
        floors = [share // total for share in scaled]
        shares = [share / total for share in scaled]  # int / int is correctly rounded
    else:
        exact = [Fraction(value) for value in weights[present].tolist()]
        total = sum(exact)
        fractions = [value * total_freq / total for value in exact]
        floors = [math.floor(share) for share in fractions]
        shares = [float(share) for share in fractions]
    freqs = [max(1, floor) for floor in floors]
    surplus = total_freq - sum(freqs)
    # Hand out (or take back) units one at a time where that changes the expected code
    # length the least; a heap keeps this O(k log k) for k symbols.
    if surplus > 0:
        # Adding a unit to symbol i saves share_i * log2((f+1)/f) bits (scaled): best first.
        heap = [(-_gain(share, freqs[index]), index) for index, share in enumerate(shares)]
        heapq.heapify(heap)
        for _ in range(surplus):
            _, index = heapq.heappop(heap)
            freqs[index] += 1
            heapq.heappush(heap, (-_gain(shares[index], freqs[index]), index))
    elif surplus < 0:
        heap = [(_gain(share, freqs[index] - 1), index) for index, share in enumerate(shares)
                if freqs[index] > 1]
        heapq.heapify(heap)
        for _ in range(-surplus):
            _, index = heapq.heappop(heap)
            freqs[index] -= 1
            if freqs[index] > 1:
                heapq.heappush(heap, (_gain(shares[index], freqs[index] - 1), index))
    result = np.zeros(weights.size, dtype=np.int64)
    result[present] = freqs
    return result


def _gain(share: float, freq: int) -> float:
    """What raising a frequency from *freq* to *freq* + 1 saves, in (scaled) bits; *share*
    is M·q rounded once to a double."""
    return share * math.log2((freq + 1) / freq)
