"""What the stream API checks of its callers' arguments, and how its messages show symbols."""

from __future__ import annotations

import numpy as np

from .._errors import CodebookError
from .._types import Coder
from ..format.layout import CODERS, LONGEST_CODE
from ..kernels import backend
from ..models.alphabet import ALPHABETS, Alphabet
from ..models.codebook import Codebook
from ..models.distribution import Distribution

__all__ = ["as_codebook", "check_codable", "check_coder", "describe_bytes", "describe_symbols"]


def check_coder(coder: str) -> Coder:
    """*coder*, one of the coders' names; ``ValueError`` for any other."""
    if coder not in CODERS:
        raise ValueError(f"coder must be one of {', '.join(map(repr, CODERS))}, "
                         f"not {coder!r}")
    return coder  # (narrowed by the test above: CODERS holds Coder's names)


def as_codebook(codebook: Codebook | Distribution | None, max_code_length: int,
                 alphabet: Alphabet = ALPHABETS["bytes"]) -> Codebook | None:
    """A codebook of *alphabet* the file format can use, from a Codebook or a Distribution."""
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
    if codebook.max_length > LONGEST_CODE:
        raise CodebookError(f"the codebook has codes of {codebook.max_length} bits; the format "
                            f"allows at most {LONGEST_CODE}: rebuild it with a "
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


def check_codable(codebook: Codebook, symbols: np.ndarray, alphabet: Alphabet) -> None:
    """Raise ``CodebookError`` if *symbols* hold one that *codebook* has no code for."""
    counts = backend.kernels.count_symbols(symbols, alphabet.size)
    missing = np.flatnonzero((counts > 0) & (codebook.lengths == 0))
    if missing.size:
        noun = "byte values" if alphabet.name == "bytes" else f"{alphabet.name} symbols"
        raise CodebookError(
            f"the codebook has no code for {noun} {describe_symbols(missing, alphabet)}, which "
            "occur in the data (the model gave them probability 0): build the codebook from a "
            "smoothed distribution (Distribution.smoothed, or huffkit train --smooth ALPHA)")
