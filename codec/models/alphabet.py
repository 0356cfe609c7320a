"""Alphabets: which symbols a coder sees in a string of bytes.

* ``bytes``: each byte is a symbol (256 symbols).  The default.
* ``utf8``: each Unicode code point is a symbol (0 to 0x10FFFF), so Korean
  or Greek text is coded per character rather than per byte.  The data must
  be valid UTF-8.
* ``pairs``: each two bytes make a symbol (Shannon's second extension of the
  byte source): 65 536 pair symbols, ``first * 256 + second``, and 256 more,
  ``65536 + byte``, for an odd last byte.

Converting is vectorised (numpy, and Python's own UTF-8 codec for ``utf8``),
and each alphabet says where a piece of data may be cut into blocks, so that
no symbol is split between two blocks.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import numpy as np

from .._buffers import Bytes
from .._errors import HuffmanError
from .._types import AlphabetName

__all__ = ["ALPHABETS", "Alphabet", "AlphabetError", "alphabet_named", "alphabet_of_size"]


class AlphabetError(HuffmanError, ValueError):
    """The data cannot be read as symbols of the alphabet (invalid UTF-8, say)."""


@dataclass(frozen=True)
class Alphabet:
    """How bytes become symbols and back."""

    name: AlphabetName
    size: int  # symbols 0 .. size - 1
    code: int  # its number in the file format (FORMAT.md)

    def symbols(self, data: Bytes) -> np.ndarray:
        """The symbols of *data* (a whole number of symbols: see :meth:`cut`)."""
        if self.name == "bytes":
            return np.frombuffer(data, dtype=np.uint8)
        if self.name == "pairs":
            even = len(data) & ~1
            pairs = np.frombuffer(data[:even], dtype=">u2").astype(np.int64)
            if even == len(data):
                return pairs
            return np.append(pairs, 65536 + data[-1])
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise AlphabetError(f"not valid UTF-8: {error.reason} at byte {error.start}; "
                                "use the bytes alphabet for binary data") from None
        return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)

    def count(self, data: Bytes) -> int:
        """How many symbols *data* holds (whole symbols, valid: see :meth:`symbols`),
        without converting them."""
        if self.name == "bytes":
            return len(data)
        if self.name == "pairs":
            return (len(data) + 1) // 2
        continuation = np.frombuffer(data, dtype=np.uint8) & 0xC0 == 0x80
        return len(data) - int(np.count_nonzero(continuation))

    def data(self, symbols: np.ndarray) -> bytes:
        """The bytes the *symbols* stand for (the inverse of :meth:`symbols`)."""
        symbols = np.asarray(symbols)
        if self.name == "bytes":
            return symbols.astype(np.uint8).tobytes()
        if self.name == "pairs":
            single = symbols.size and symbols[-1] >= 65536
            pairs = symbols[:-1] if single else symbols
            if pairs.size and pairs.max() >= 65536:
                raise AlphabetError("a single byte stands anywhere but at the end")
            if single and symbols[-1] >= self.size:
                raise AlphabetError(f"{int(symbols[-1])} is not a symbol of the pairs alphabet")
            data = pairs.astype(">u2").tobytes()
            return data + bytes([int(symbols[-1]) - 65536]) if single else data
        try:
            # Decoded from the array's own memory: no copy of it as bytes.
            return codecs.decode(np.ascontiguousarray(symbols, dtype="<u4").data,
                                 "utf-32-le").encode("utf-8")
        except UnicodeDecodeError:
            raise AlphabetError("the symbols are not all Unicode scalar values") from None

    def cut(self, data: bytes | bytearray | memoryview, limit: int, *, final: bool) -> int:
        """Where to end a block of at most *limit* bytes taken from the start of *data*.

        Never inside a symbol: for ``pairs`` an even number of bytes (unless
        the block takes the rest of *final* data); for ``utf8`` just before a
        byte that starts a character.  Unless *final*, *data* must be longer
        than *limit*, so that the byte after the cut can be seen.
        """
        end = min(limit, len(data))
        if self.name == "bytes" or (final and end == len(data)):
            return end
        if self.name == "pairs":
            return end & ~1
        # UTF-8 continuation bytes are 0b10xxxxxx; a character has at most three of them.
        position = end
        while position > end - 3 and data[position] & 0xC0 == 0x80:
            position -= 1
        return position

    @property
    def min_block_size(self) -> int:
        """The smallest block size that always holds a whole symbol."""
        return self.max_symbol_bytes

    @property
    def default_max_code_length(self) -> int:
        """The code length limit used unless one is given: room for every symbol."""
        return {"bytes": 15, "pairs": 20, "utf8": 24}[self.name]

    @property
    def max_symbol_bytes(self) -> int:
        """The most bytes one symbol stands for."""
        return {"bytes": 1, "pairs": 2, "utf8": 4}[self.name]



def alphabet_of_size(size: int) -> Alphabet:
    """The alphabet with *size* symbols (a codebook knows its size, not its alphabet)."""
    for alphabet in ALPHABETS.values():
        if alphabet.size == size:
            return alphabet
    raise ValueError(f"no alphabet has {size} symbols")


#: The alphabets, by name.
ALPHABETS = {
    "bytes": Alphabet("bytes", 256, 0),
    "utf8": Alphabet("utf8", 0x110000, 1),
    "pairs": Alphabet("pairs", 65536 + 256, 2),
}


def alphabet_named(name: str | Alphabet) -> Alphabet:
    if isinstance(name, Alphabet):
        return name
    try:
        return ALPHABETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"alphabet must be one of {', '.join(map(repr, ALPHABETS))}, "
                         f"not {name!r}") from None
