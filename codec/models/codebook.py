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

The codebook file holds a codebook and the distribution it came from, as JSON.
A saved codebook is a model: ``huffkit train`` writes one from some files,
and ``compress --codebook`` codes other data with it.  JSON keeps it
readable and safe to load (no pickle).  Version 1 looks like this, with
every list holding one entry per byte value 0..255::

    {
      "format": "huffkit-codebook",
      "version": 1,
      "identifier": "5be1c7a2d5e0c1f3",
      "alphabet": "bytes",
      "max_code_length": 15,
      "distribution": {"smoothing": 0.5, "total": 152217.0, "counts": [0.5, ...]},
      "lengths": [12, 12, ...]
    }

``lengths`` define the code; ``identifier`` is derived from them (see
:func:`identifier_of`) and is checked on loading, so a damaged or
hand-edited file is caught.  ``distribution`` (null for a code
made from lengths alone) holds the weights the code was built from: the Q
that the ledger measures cross-entropy against.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from .._errors import CodebookError
from ..kernels import backend
from ..kernels.reference.tables import canonical_codes, sorted_support
from .alphabet import Alphabet, alphabet_named, alphabet_of_size
from .distribution import Distribution

__all__ = [
    "DEFAULT_MAX_CODE_LENGTH",
    "FILE_FORMAT",
    "FILE_VERSION",
    "IDENTIFIER_BYTES",
    "Codebook",
    "canonical_codes",
    "codebook_from_json",
    "codebook_to_json",
    "huffman_lengths",
    "identifier_of",
    "limited_lengths",
    "limited_lengths_each",
    "load_codebook",
    "optimal_lengths",
    "save_codebook",
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


def huffman_lengths(weights: np.ndarray) -> np.ndarray:
    """Optimal (unlimited) Huffman code lengths for *weights*, one per symbol.

    Symbols of weight zero get length 0 (no code).  A single present symbol
    gets length 1: a prefix code needs at least one bit per symbol.
    """
    weights = np.asarray(weights)
    lengths = np.zeros(weights.size, dtype=np.int64)
    order = sorted_support(weights)
    n = order.size
    if n <= 2:
        lengths[order] = 1
        return lengths

    lengths[order] = backend.kernels.huffman_depths(weights[order])
    return lengths


def limited_lengths(weights: np.ndarray, max_length: int) -> np.ndarray:
    """Optimal code lengths for *weights* with no code longer than *max_length*.

    Package-merge: at each of ``max_length`` levels the leaves are merged
    (stably, leaves first) with the pairs ("packages") of the level below;
    the cheapest ``2n - 2`` items of the top level, expanded, give each
    symbol's length as the number of levels at which it was chosen.
    """
    return limited_lengths_each(weights, [max_length])[0]


def limited_lengths_each(weights: np.ndarray, limits: list[int]) -> list[np.ndarray]:
    """``limited_lengths(weights, limit)`` for each of *limits*, from one package-merge: a
    level's list depends only on the levels below it, so the lists built for the greatest
    limit serve every smaller one, whose top is lower down."""
    weights = np.asarray(weights)
    order = sorted_support(weights)
    n = order.size
    if min(limits) < 1:
        raise CodebookError(f"max_code_length must be at least 1, got {min(limits)}")
    if n > 1 << min(min(limits), 62):
        raise CodebookError(
            f"{n} distinct symbols need codes of at least {math.ceil(math.log2(n))} bits, "
            f"but max_code_length is {min(limits)}")
    if n <= 2:
        lengths = np.zeros(weights.size, dtype=np.int64)
        lengths[order] = 1
        return [lengths] * len(limits)

    leaves = weights[order]
    is_leaf_by_level = [np.ones(n, dtype=bool)]  # deepest level first
    items = leaves
    for _ in range(max(limits) - 1):
        paired = items.size // 2 * 2
        packages = items[0:paired:2] + items[1:paired:2]
        merged = np.concatenate((leaves, packages))
        # Stable sort with leaves listed first: a leaf wins a tie with a package.
        by_weight = np.argsort(merged, kind="stable")
        items = merged[by_weight]
        is_leaf_by_level.append(by_weight < n)

    found = []
    for limit in limits:
        chosen_leaves = []
        take = 2 * n - 2
        for is_leaf in reversed(is_leaf_by_level[:limit]):
            leaves_taken = int(np.count_nonzero(is_leaf[:take]))
            chosen_leaves.append(leaves_taken)
            take = 2 * (take - leaves_taken)
        # The leaves chosen at a level are always the lightest ones, so the symbol at
        # sorted position i is chosen at every level that took more than i leaves.
        chosen = np.array(chosen_leaves)
        lengths = np.zeros(weights.size, dtype=np.int64)
        lengths[order] = (chosen[np.newaxis, :] > np.arange(n)[:, np.newaxis]).sum(axis=1)
        found.append(lengths)
    return found


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

    def __init__(self, lengths: npt.ArrayLike, /, *, distribution: Distribution | None = None,
                 max_code_length: int | None = None) -> None:
        checked = np.array(lengths, dtype=np.int64, copy=True)
        if checked.ndim != 1:
            raise ValueError(f"lengths must be 1-D, got shape {checked.shape}")
        if checked.size and checked.min() < 0:
            raise CodebookError(f"code lengths must be non-negative, got {int(checked.min())}")
        if checked.size and checked.max() > _LONGEST_REPRESENTABLE_CODE:
            raise CodebookError(f"codes longer than {_LONGEST_REPRESENTABLE_CODE} bits are not "
                                f"supported (got {int(checked.max())}); set max_code_length")
        _validate_lengths(checked)
        self._lengths: npt.NDArray[np.uint8] = checked.astype(np.uint8)
        self._lengths.flags.writeable = False
        self._codes: npt.NDArray[np.uint64] = canonical_codes(checked)
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
    def from_lengths(cls, lengths: npt.ArrayLike, /) -> Codebook:
        """The canonical code with these lengths; they must form a complete prefix code."""
        return cls(lengths)

    def save(self, path: str | os.PathLike[str], /) -> None:
        """Write this codebook to *path* as JSON (see :meth:`load`), replacing the file."""
        save_codebook(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], /) -> Codebook:
        """Read a codebook written by :meth:`save` (or ``huffkit train``).

        Raises ``CodebookError`` if the file is not a valid huffkit codebook: not
        JSON (NaN and Infinity are not), nested deeper than a codebook is, longer
        than 128 MiB, with numbers beyond float64 or counts whose sum overflows,
        or damaged; ``OSError`` if it cannot be read.
        """
        return load_codebook(path)

    def to_json(self) -> str:
        """The text :meth:`save` writes."""
        return codebook_to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes, /) -> Codebook:
        """Parse the text :meth:`to_json` makes; ``CodebookError`` if it is not valid."""
        return codebook_from_json(text)

    @property
    def lengths(self) -> npt.NDArray[np.uint8]:
        """Code length of each symbol, in bits (0: the symbol has no code)."""
        return self._lengths

    @property
    def codes(self) -> npt.NDArray[np.uint64]:
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
    def implied_probabilities(self) -> npt.NDArray[np.float64]:
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
    def symbols(self) -> npt.NDArray[np.int64]:
        """The symbols that have a code, in canonical order (by length, then value)."""
        return sorted_support(self._lengths)

    def codeword(self, symbol: int) -> str:
        """The codeword of *symbol* as a string of '0' and '1'."""
        length = int(self._lengths[symbol])
        if length == 0:
            raise CodebookError(f"symbol {symbol} has no code in this codebook")
        return format(int(self._codes[symbol]), f"0{length}b")

    def codewords(self) -> dict[int, str]:
        """Every symbol that has a code, mapped to its codeword string."""
        return {int(symbol): self.codeword(int(symbol)) for symbol in self.symbols}

    def cost(self, counts: npt.ArrayLike, /) -> int:
        """Total bits to code symbols with these counts (all must have codes)."""
        array = np.asarray(counts)
        uncodable = np.flatnonzero((array > 0) & (self._lengths == 0))
        if uncodable.size:
            raise CodebookError(f"symbols {uncodable.tolist()} occur but have no code")
        return int(np.dot(array.astype(np.int64), self._lengths.astype(np.int64)))

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

    def _repr_html_(self) -> str:
        """The codebook as Jupyter shows it: its figures, and how many codes of each length."""
        from ._html import key_values, table

        present = int(np.count_nonzero(self._lengths))
        limit = "none" if self._max_code_length is None else f"{self._max_code_length} bits"
        rows = [("codes", f"{present:,}"), ("symbols in the alphabet", f"{self.size:,}"),
                ("code lengths", f"{self.min_length} to {self.max_length} bits"),
                ("length limit", limit), ("identifier", self.identifier)]
        if self._distribution is not None:
            # What the code pays per symbol on data from the distribution it was built for.
            mean = float(np.dot(self._distribution.probabilities, self._lengths))
            rows.append(("mean code length under its distribution", f"{mean:.4f} bits/symbol"))
        else:
            rows.append(("distribution", "none (lengths only)"))
        lengths, counts = np.unique(self._lengths[self._lengths > 0], return_counts=True)
        histogram = table("codes of each length", [
            (str(int(length)), f"{int(number):,}") for length, number in
            zip(lengths, counts, strict=True)], header=("length (bits)", "codes"))
        return key_values(f"Codebook {self.identifier}", rows) + histogram


# -- the codebook file ------------------------------------------------------------------

FILE_FORMAT = "huffkit-codebook"
FILE_VERSION = 1

# Longer codes than this cannot be coded by huffkit's file format anyway.
_LONGEST_LENGTH = 64


def codebook_to_json(codebook: Codebook) -> str:
    """The JSON text of *codebook*: one field per line, each list on one line.

    For the byte alphabet every list has 256 entries, one per byte value; for
    a larger alphabet the lists hold the coded symbols only, in ``symbols``,
    with ``lengths`` and ``counts`` in the same order.
    """
    alphabet = alphabet_of_size(codebook.size)
    listed = (np.arange(codebook.size) if alphabet.name == "bytes"
              else np.flatnonzero(codebook.lengths))
    distribution = codebook.distribution
    if distribution is None:
        described = None
    else:
        described = {
            "smoothing": _plain_number(distribution.smoothing),
            "total": _plain_number(distribution.total),
            "counts": [_plain_number(count) for count in distribution.counts[listed].tolist()],
        }
    fields = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "identifier": codebook.identifier,
        "alphabet": alphabet.name,
        "max_code_length": codebook.max_code_length,
        "distribution": described,
    }
    if alphabet.name != "bytes":
        fields["symbols"] = listed.tolist()
    fields["lengths"] = codebook.lengths[listed].tolist()
    lines = [f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}"
             for key, value in fields.items()]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def codebook_from_json(text: str | bytes, *, source: str = "codebook") -> Codebook:
    """Parse and check a codebook's JSON text; *source* names it in error messages."""
    try:
        fields = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                            parse_int=_bounded_int)
    except _Refused as error:
        raise CodebookError(f"{source}: {error}") from None
    except RecursionError:
        # json's parser recurses once per level: "[" * 1000 exhausts Python's stack.  A
        # codebook nests three levels deep.
        raise CodebookError(f"{source}: not a huffkit codebook (its JSON is nested too "
                            "deeply)") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise CodebookError(f"{source}: not a huffkit codebook (invalid JSON: {error})") from None
    if not isinstance(fields, dict) or fields.get("format") != FILE_FORMAT:
        raise CodebookError(f"{source}: not a huffkit codebook (no \"format\": "
                            f"\"{FILE_FORMAT}\" field)")
    version = fields.get("version")
    # true == 1 and 1.0 == 1 in Python: only the integer 1 is version 1.
    if type(version) is not int or version != FILE_VERSION:
        raise CodebookError(f"{source}: unsupported codebook version {_shown(version)};"
                            f" this huffkit reads version {FILE_VERSION}")
    try:
        alphabet = alphabet_named(fields.get("alphabet", "bytes"))
    except ValueError:
        raise CodebookError(f"{source}: unsupported alphabet {fields.get('alphabet')!r}") from None
    listed = _listed_symbols(fields, alphabet, source)
    lengths = np.zeros(alphabet.size, dtype=np.int64)
    lengths[listed] = _number_list(fields.get("lengths"), "lengths", source, integers=True,
                                   count=listed.size, alphabet=alphabet)
    if lengths.min() < 0 or lengths.max() > _LONGEST_LENGTH:
        raise CodebookError(f"{source}: code lengths must be between 0 and {_LONGEST_LENGTH}")
    identifier = identifier_of(lengths).hex()
    if fields.get("identifier") != identifier:
        raise CodebookError(f"{source}: the identifier {fields.get('identifier')!r} does not "
                            f"match the code lengths (which give {identifier!r}): "
                            "the file is damaged or was edited")
    distribution = _distribution(fields.get("distribution"), lengths, listed, alphabet, source)
    limit = fields.get("max_code_length")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)
                              or limit < lengths.max()):
        raise CodebookError(f"{source}: max_code_length {limit!r} is not an int at least as "
                            "large as the longest code")
    try:
        return Codebook(lengths, distribution=distribution, max_code_length=limit)
    except CodebookError as error:
        raise CodebookError(f"{source}: {error}") from None


def save_codebook(codebook: Codebook, path: str | os.PathLike[str]) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(codebook_to_json(codebook))


# The largest codebook huffkit writes, of every one of utf8's 1,114,112 symbols with
# fractional counts, takes about 40 MB.  A longer file is no codebook, and is not read whole:
# /dev/zero never ends.
_LARGEST_FILE = 128 << 20


def load_codebook(path: str | os.PathLike[str]) -> Codebook:
    with open(path, "rb") as stream:
        text = stream.read(_LARGEST_FILE + 1)
    if len(text) > _LARGEST_FILE:
        raise CodebookError(f"{os.fspath(path)}: not a huffkit codebook (longer than "
                            f"{_LARGEST_FILE >> 20} MiB, which no codebook is)")
    return codebook_from_json(text, source=os.fspath(path))


class _Refused(ValueError):
    """A number json.loads must not turn into a Python value; the message says why."""


def _refuse_constant(name: str) -> float:
    # json.loads reads NaN, Infinity and -Infinity by default; JSON has no such numbers,
    # and a count or smoothing of NaN or infinity means nothing.
    raise _Refused(f"not a huffkit codebook (invalid JSON: {name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 is valid JSON, and float() makes it inf
        raise _Refused(f"the number {_shown_text(text)} is out of range (beyond float64's "
                       "1.8e308)")
    return value


# Integers of more digits than this are refused as they are read: Python refuses to convert
# more than 4300 digits with a message about sys.set_int_max_str_digits.  Shorter ones are
# checked, with their place in the file named, by _number_list.
_LONGEST_INTEGER_TEXT = 1000


def _bounded_int(text: str) -> int:
    if len(text) > _LONGEST_INTEGER_TEXT:
        raise _Refused(f"the number {_shown_text(text)} is out of range "
                       f"({len(text.lstrip('-'))} digits)")
    return int(text)


def _shown_text(text: str) -> str:
    """*text*, or its start, short enough for a message."""
    return text if len(text) <= 24 else f"{text[:16]}...{text[-4:]}"


def _shown(value: object) -> str:
    """A JSON value as the file spells it, or its start, short enough for a message."""
    return _shown_text(json.dumps(value))


def _plain_number(value: float) -> int | float:
    """Integral values as ints, so counts read as counts."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


# Integers in a codebook file must fit in int64 (numpy's), with room to spare.
_LARGEST = 1 << 62


def _listed_symbols(fields: dict[str, Any], alphabet: Alphabet, source: str) -> np.ndarray:
    """The symbols the lists describe: every byte value, or a large alphabet's ``symbols``."""
    if alphabet.name == "bytes":
        return np.arange(alphabet.size)
    symbols = fields.get("symbols")
    if not isinstance(symbols, list) or not symbols or not all(
            isinstance(value, int) and not isinstance(value, bool)
            and -_LARGEST < value < _LARGEST for value in symbols):
        raise CodebookError(f"{source}: \"symbols\" must be a non-empty list of the "
                            f"{alphabet.name} symbols with a code")
    listed = np.array(symbols, dtype=np.int64)
    if listed.min() < 0 or listed.max() >= alphabet.size or np.any(np.diff(listed) <= 0):
        raise CodebookError(f"{source}: \"symbols\" must be increasing symbols of the "
                            f"{alphabet.name} alphabet (0 to {alphabet.size - 1})")
    return listed


def _number_list(values: object, name: str, source: str, *, integers: bool, count: int,
                 alphabet: Alphabet) -> np.ndarray:
    if not isinstance(values, list) or len(values) != count:
        each = "byte value" if alphabet.name == "bytes" else "listed symbol"
        raise CodebookError(f"{source}: \"{name}\" must be a list of {count} "
                            f"numbers, one per {each}")
    allowed = (int,) if integers else (int, float)
    for symbol, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, allowed) or (
                isinstance(value, float) and not math.isfinite(value)):
            kind = "an integer" if integers else "a finite number"
            raise CodebookError(f"{source}: \"{name}\"[{symbol}] is {value!r}, not {kind}")
        if isinstance(value, int) and not -_LARGEST < value < _LARGEST:
            # JSON integers have no bound; no length, count or symbol comes near this one.
            raise CodebookError(f"{source}: \"{name}\"[{symbol}] is out of range "
                                f"({len(str(value))} digits)")
    if integers:
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64 if any(isinstance(v, float) for v in values)
                    else np.int64)


def _distribution(described: object, lengths: np.ndarray, listed: np.ndarray,
                  alphabet: Alphabet, source: str) -> Distribution | None:
    if described is None:
        return None
    if not isinstance(described, dict):
        raise CodebookError(f"{source}: \"distribution\" must be an object or null")
    values = _number_list(described.get("counts"), "distribution.counts", source,
                          integers=False, count=listed.size, alphabet=alphabet)
    counts = np.zeros(alphabet.size, dtype=values.dtype)
    counts[listed] = values
    if counts.min() < 0:
        raise CodebookError(f"{source}: distribution counts must be non-negative")
    # A code built from these weights gives a code to exactly the bytes of non-zero weight.
    disagree = np.flatnonzero((counts > 0) != (lengths > 0))
    if disagree.size:
        raise CodebookError(f"{source}: the distribution and the code lengths disagree about "
                            f"which byte values have a code ({', '.join(map(str, disagree[:8]))}"
                            f"{', ...' if disagree.size > 8 else ''}): the file was edited or "
                            "is damaged")
    smoothing = described.get("smoothing", 0)
    if isinstance(smoothing, bool) or not (
            (isinstance(smoothing, int) and 0 <= smoothing < _LARGEST)
            or (isinstance(smoothing, float) and math.isfinite(smoothing) and smoothing >= 0)):
        raise CodebookError(f"{source}: distribution smoothing must be a number >= 0")
    try:
        return Distribution(counts, smoothing=smoothing)
    except ValueError as error:  # counts whose sum overflows
        raise CodebookError(f"{source}: distribution {error}") from None
