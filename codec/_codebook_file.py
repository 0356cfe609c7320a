"""The codebook file: a codebook and the distribution it came from, as JSON.

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
:func:`huffkit.codebook.identifier_of`) and is checked on loading, so a
damaged or hand-edited file is caught.  ``distribution`` (null for a code
made from lengths alone) holds the weights the code was built from: the Q
that the ledger measures cross-entropy against.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from ._errors import CodebookError
from .alphabet import Alphabet, alphabet_named, alphabet_of_size
from .codebook import Codebook, identifier_of
from .distribution import Distribution

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "codebook_from_json", "codebook_to_json",
           "load_codebook", "save_codebook"]

FORMAT_NAME = "huffkit-codebook"
FORMAT_VERSION = 1

# Longer codes than this cannot be coded by huffkit's container anyway.
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
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
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
    if not isinstance(fields, dict) or fields.get("format") != FORMAT_NAME:
        raise CodebookError(f"{source}: not a huffkit codebook (no \"format\": "
                            f"\"{FORMAT_NAME}\" field)")
    version = fields.get("version")
    # true == 1 and 1.0 == 1 in Python: only the integer 1 is version 1.
    if type(version) is not int or version != FORMAT_VERSION:
        raise CodebookError(f"{source}: unsupported codebook version {_shown(version)};"
                            f" this huffkit reads version {FORMAT_VERSION}")
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


def save_codebook(codebook: Codebook, path: str | os.PathLike) -> None:
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(codebook_to_json(codebook))


# The largest codebook huffkit writes, of every one of utf8's 1,114,112 symbols with
# fractional counts, takes about 40 MB.  A longer file is no codebook, and is not read whole:
# /dev/zero never ends.
_LARGEST_FILE = 128 << 20


def load_codebook(path: str | os.PathLike) -> Codebook:
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


def _listed_symbols(fields: dict, alphabet: Alphabet, source: str) -> np.ndarray:
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
