"""Huffman codebooks: optimal code lengths, length limits and canonical codes.

Only code *lengths* define a codebook here: codewords are assigned
canonically (shorter codes first, ties by symbol value, as in DEFLATE), so a
file needs to store nothing but the lengths.

Determinism.  Huffman's algorithm has choices wherever weights tie; huffkit
makes them the same way every time, so the same counts always give the same
lengths (and the same compressed bytes):

* symbols are ordered by (weight, symbol value);
* the two lightest nodes are merged at each step, using two queues (the
  leaves in that order, then the merged nodes in the order they were made);
  when a leaf and a merged node weigh the same, the leaf is taken first.

Taking leaves first keeps the tree shallow among the optimal ones.  When the
longest code would exceed ``max_code_length``, the lengths come instead from
package-merge (Larmore and Hirschberg, 1990), which is optimal among all codes
within the limit; its ties are broken the same way (leaves before packages).
"""

from __future__ import annotations

import hashlib
import math
import os
from fractions import Fraction

import numpy as np

from . import _backend
from ._errors import CodebookError
from .distribution import Distribution

__all__ = [
    "DEFAULT_MAX_CODE_LENGTH",
    "IDENTIFIER_BYTES",
    "Codebook",
    "canonical_codes",
    "huffman_lengths",
    "identifier_of",
    "limited_lengths",
]

#: The default limit on code lengths for the byte alphabet (as in DEFLATE).
DEFAULT_MAX_CODE_LENGTH = 15

# Codewords are held in uint64.
_LONGEST_REPRESENTABLE_CODE = 64

#: Bytes in a codebook identifier (the start of a SHA-256 of the code lengths).
IDENTIFIER_BYTES = 8


def identifier_of(lengths: np.ndarray) -> bytes:
    """The 8-byte identifier of a code: the start of a SHA-256 of its lengths.

    For the 256 byte values, the digest is of the 256 lengths, one byte
    each.  For a larger alphabet, it is of the alphabet's size (u32) and then,
    for each symbol with a code in increasing order, the symbol (u32) and its
    length (u8), all little-endian.  The lengths define the code, so two
    codebooks with the same identifier code alike (up to a hash collision,
    which 64 bits make negligible here).
    """
    lengths = np.asarray(lengths)
    present = np.flatnonzero(lengths)
    return identifier_of_listed(present, lengths[present], lengths.size)


def identifier_of_listed(symbols: np.ndarray, lengths: np.ndarray, size: int) -> bytes:
    """:func:`identifier_of` a code given as the (increasing) *symbols* that have a code,
    their *lengths*, and the alphabet's *size*: the work follows the code, not the alphabet.
    """
    if size == 256:
        dense = np.zeros(256, dtype=np.uint8)
        dense[symbols] = lengths
        return hashlib.sha256(dense.tobytes()).digest()[:IDENTIFIER_BYTES]
    records = np.zeros(len(symbols), dtype=[("symbol", "<u4"), ("length", "u1")])
    records["symbol"] = symbols
    records["length"] = lengths
    body = int(size).to_bytes(4, "little") + records.tobytes()
    return hashlib.sha256(body).digest()[:IDENTIFIER_BYTES]


def _sorted_support(weights: np.ndarray) -> np.ndarray:
    """The symbols of non-zero weight, ordered by (weight, symbol)."""
    present = np.flatnonzero(weights)
    return present[np.lexsort((present, weights[present]))]


def huffman_lengths(weights: np.ndarray) -> np.ndarray:
    """Optimal (unlimited) Huffman code lengths for *weights*, one per symbol.

    Symbols of weight zero get length 0 (no code).  A single present symbol
    gets length 1: a prefix code needs at least one bit per symbol.
    """
    weights = np.asarray(weights)
    lengths = np.zeros(weights.size, dtype=np.int64)
    order = _sorted_support(weights)
    n = order.size
    if n <= 2:
        lengths[order] = 1
        return lengths

    lengths[order] = _backend.kernels.huffman_depths(weights[order])
    return lengths


def limited_lengths(weights: np.ndarray, max_length: int) -> np.ndarray:
    """Optimal code lengths for *weights* with no code longer than *max_length*.

    Package-merge: at each of ``max_length`` levels the leaves are merged
    (stably, leaves first) with the pairs ("packages") of the level below;
    the cheapest ``2n - 2`` items of the top level, expanded, give each
    symbol's length as the number of levels at which it was chosen.
    """
    weights = np.asarray(weights)
    order = _sorted_support(weights)
    n = order.size
    if max_length < 1:
        raise CodebookError(f"max_code_length must be at least 1, got {max_length}")
    if n > 1 << min(max_length, 62):
        raise CodebookError(
            f"{n} distinct symbols need codes of at least {math.ceil(math.log2(n))} bits, "
            f"but max_code_length is {max_length}")
    lengths = np.zeros(weights.size, dtype=np.int64)
    if n <= 2:
        lengths[order] = 1
        return lengths

    leaves = weights[order]
    is_leaf_by_level = [np.ones(n, dtype=bool)]  # deepest level first
    items = leaves
    for _ in range(max_length - 1):
        paired = items.size // 2 * 2
        packages = items[0:paired:2] + items[1:paired:2]
        merged = np.concatenate((leaves, packages))
        # Stable sort with leaves listed first: a leaf wins a tie with a package.
        by_weight = np.argsort(merged, kind="stable")
        items = merged[by_weight]
        is_leaf_by_level.append(by_weight < n)

    chosen_leaves = []
    take = 2 * n - 2
    for is_leaf in reversed(is_leaf_by_level):
        leaves_taken = int(np.count_nonzero(is_leaf[:take]))
        chosen_leaves.append(leaves_taken)
        take = 2 * (take - leaves_taken)
    # The leaves chosen at a level are always the lightest ones, so the symbol
    # at sorted position i is chosen at every level that took more than i leaves.
    chosen = np.array(chosen_leaves)
    lengths[order] = (chosen[np.newaxis, :] > np.arange(n)[:, np.newaxis]).sum(axis=1)
    return lengths


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical codewords (as integers, MSB first) for the given lengths.

    Codes are assigned in order of (length, symbol); each is the previous
    code plus one, shifted left when the length grows.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    codes = np.zeros(lengths.size, dtype=np.uint64)
    order = _sorted_support(lengths)
    if order.size == 0:
        return codes
    sorted_lengths = lengths[order]
    longest = int(sorted_lengths[-1])
    per_length = np.bincount(sorted_lengths, minlength=longest + 1)
    first_code = [0] * (longest + 1)
    code = 0
    for length in range(1, longest + 1):
        code = (code + int(per_length[length - 1])) << 1
        first_code[length] = code
    group_start = np.searchsorted(sorted_lengths, sorted_lengths, side="left")
    rank = np.arange(order.size) - group_start
    codes[order] = np.array(first_code, dtype=np.uint64)[sorted_lengths] + rank.astype(np.uint64)
    return codes


def optimal_lengths(weights: np.ndarray, max_code_length: int | None) -> np.ndarray:
    """The lengths :meth:`Codebook.from_distribution` gives these (non-zero somewhere)
    *weights*: Huffman's, or package-merge's when they would pass *max_code_length*.  For
    the codec's inner loops, which need the code of a block, not a Codebook object."""
    lengths = huffman_lengths(weights)
    if max_code_length is not None and lengths.max() > max_code_length:
        lengths = limited_lengths(weights, max_code_length)
    return lengths


def kraft_sum(lengths: np.ndarray) -> Fraction:
    """The exact Kraft sum, sum of 2**-length over the symbols that have a code."""
    lengths = np.asarray(lengths, dtype=np.int64)
    present = lengths[lengths > 0]
    if present.size == 0:
        return Fraction(0)
    longest = int(present.max())
    per_length = np.bincount(present, minlength=longest + 1)
    numerator = sum(int(count) << (longest - length) for length, count in enumerate(per_length))
    return Fraction(numerator, 1 << longest)


def _validate_lengths(lengths: np.ndarray) -> None:
    present = lengths[lengths > 0]
    if present.size == 0:
        raise CodebookError("a codebook needs at least one symbol with a code")
    if present.size == 1:
        if present[0] != 1:
            raise CodebookError(
                f"a single-symbol code must have length 1, not {int(present[0])}")
        return
    total = kraft_sum(lengths)
    if total > 1:
        raise CodebookError(f"code lengths violate the Kraft inequality (sum {total} > 1): "
                            "no prefix code has these lengths")
    if total < 1:
        raise CodebookError(f"code lengths are incomplete (Kraft sum {total} < 1): "
                            "some bit strings would decode to nothing")


class Codebook:
    """A canonical prefix code: one code length per symbol, 0 for no code.

    Build one with :meth:`from_distribution` (optimal for the given weights)
    or :meth:`from_lengths`.  ``lengths`` and ``codes`` are read-only numpy
    arrays indexed by symbol; codewords are read MSB first, ``length`` bits.
    """

    __slots__ = ("_codes", "_distribution", "_lengths", "_max_code_length")

    def __init__(self, lengths: np.ndarray, /, *, distribution: Distribution | None = None,
                 max_code_length: int | None = None):
        lengths = np.array(lengths, dtype=np.int64, copy=True)
        if lengths.ndim != 1:
            raise ValueError(f"lengths must be 1-D, got shape {lengths.shape}")
        if lengths.size and lengths.min() < 0:
            raise CodebookError(f"code lengths must be non-negative, got {int(lengths.min())}")
        if lengths.size and lengths.max() > _LONGEST_REPRESENTABLE_CODE:
            raise CodebookError(f"codes longer than {_LONGEST_REPRESENTABLE_CODE} bits are not "
                                f"supported (got {int(lengths.max())}); set max_code_length")
        _validate_lengths(lengths)
        self._lengths = lengths.astype(np.uint8)
        self._lengths.flags.writeable = False
        self._codes = canonical_codes(lengths)
        self._codes.flags.writeable = False
        self._distribution = distribution
        self._max_code_length = max_code_length

    @classmethod
    def from_distribution(cls, distribution: Distribution, /, *,
                          max_code_length: int | None = DEFAULT_MAX_CODE_LENGTH) -> Codebook:
        """The optimal prefix code for *distribution*'s weights.

        With ``max_code_length=None`` the code is Huffman's, unlimited;
        otherwise the optimal code whose lengths do not exceed the limit.
        Symbols of weight zero get no code.
        """
        if not isinstance(distribution, Distribution):
            raise TypeError(f"expected a Distribution, got {type(distribution).__name__}")
        weights = distribution.counts
        if distribution.distinct_symbols == 0:
            raise CodebookError("cannot build a codebook from an empty distribution "
                                "(every symbol has weight zero)")
        if max_code_length is not None:
            if isinstance(max_code_length, bool) or not isinstance(max_code_length, int):
                raise TypeError("max_code_length must be an int or None")
            if max_code_length < 1:
                raise ValueError(f"max_code_length must be at least 1, got {max_code_length}")
        return cls(optimal_lengths(weights, max_code_length), distribution=distribution,
                   max_code_length=max_code_length)

    @classmethod
    def from_lengths(cls, lengths: np.ndarray, /) -> Codebook:
        """The canonical code with these lengths; they must form a complete prefix code."""
        return cls(lengths)

    def save(self, path: str | os.PathLike, /) -> None:
        """Write this codebook to *path* as JSON (see :meth:`load`), replacing the file."""
        from ._codebook_file import save_codebook
        save_codebook(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike, /) -> Codebook:
        """Read a codebook written by :meth:`save` (or ``huffkit train``).

        Raises ``CodebookError`` if the file is not a valid huffkit codebook: not
        JSON (NaN and Infinity are not), nested deeper than a codebook is, longer
        than 128 MiB, with numbers beyond float64 or counts whose sum overflows,
        or damaged; ``OSError`` if it cannot be read.
        """
        from ._codebook_file import load_codebook
        return load_codebook(path)

    def to_json(self) -> str:
        """The text :meth:`save` writes."""
        from ._codebook_file import codebook_to_json
        return codebook_to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes, /) -> Codebook:
        """Parse the text :meth:`to_json` makes; ``CodebookError`` if it is not valid."""
        from ._codebook_file import codebook_from_json
        return codebook_from_json(text)

    @property
    def lengths(self) -> np.ndarray:
        """Code length of each symbol, in bits (0: the symbol has no code)."""
        return self._lengths

    @property
    def codes(self) -> np.ndarray:
        """Canonical codeword of each symbol as an unsigned integer (0 where no code)."""
        return self._codes

    @property
    def distribution(self) -> Distribution | None:
        """The distribution the code was built from, if it was built from one."""
        return self._distribution

    @property
    def max_code_length(self) -> int | None:
        """The length limit the code was built under (None: unlimited or unknown)."""
        return self._max_code_length

    @property
    def identifier(self) -> str:
        """16 hex digits derived from the code lengths alone; files name their codebook by it."""
        return identifier_of(self._lengths).hex()

    @property
    def implied_probabilities(self) -> np.ndarray:
        """The distribution for which this code is ideal: 2**-length (0 where no code)."""
        lengths = self._lengths.astype(np.float64)
        return np.where(self._lengths > 0, np.exp2(-lengths), 0.0)

    @property
    def size(self) -> int:
        """The number of symbols in the alphabet."""
        return int(self._lengths.size)

    @property
    def max_length(self) -> int:
        """The longest code length."""
        return int(self._lengths.max())

    @property
    def min_length(self) -> int:
        """The shortest code length among the symbols that have a code."""
        return int(self._lengths[self._lengths > 0].min())

    @property
    def symbols(self) -> np.ndarray:
        """The symbols that have a code, in canonical order (by length, then value)."""
        return _sorted_support(self._lengths)

    def codeword(self, symbol: int) -> str:
        """The codeword of *symbol* as a string of '0' and '1'."""
        length = int(self._lengths[symbol])
        if length == 0:
            raise CodebookError(f"symbol {symbol} has no code in this codebook")
        return format(int(self._codes[symbol]), f"0{length}b")

    def codewords(self) -> dict[int, str]:
        """Every symbol that has a code, mapped to its codeword string."""
        return {int(symbol): self.codeword(int(symbol)) for symbol in self.symbols}

    def cost(self, counts: np.ndarray, /) -> int:
        """Total bits to code symbols with these counts (all must have codes)."""
        counts = np.asarray(counts)
        uncodable = np.flatnonzero((counts > 0) & (self._lengths == 0))
        if uncodable.size:
            raise CodebookError(f"symbols {uncodable.tolist()} occur but have no code")
        return int(np.dot(counts.astype(np.int64), self._lengths.astype(np.int64)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Codebook):
            return NotImplemented
        return bool(np.array_equal(self._lengths, other._lengths))

    def __hash__(self) -> int:
        return hash(self._lengths.tobytes())

    def __repr__(self) -> str:
        present = int(np.count_nonzero(self._lengths))
        return (f"<Codebook of {present} codes over {self.size} symbols, "
                f"lengths {self.min_length}..{self.max_length}>")
