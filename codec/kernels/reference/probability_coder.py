"""Bring your own model, the reference: the rANS coder of codec/kernels/c/probability_coder.c,
step by step, in Python integers.

Each symbol is coded with its own frequency row (a model's prediction, quantised by
``models.predicted``) by a single rANS state in [L, 2**64), L = 2**32, that sheds and takes
32-bit words.  The encoder runs backwards from L; the decoder, forwards, must end at L with
every word read.  A loop over symbols in Python: the reference for small inputs, against
which the compiled kernel must give the same bytes, the same symbols and the same errors.
"""

from __future__ import annotations

import numpy as np

from ..._buffers import Bytes
from ..._errors import FormatError
from .rans import ANS_LOWER_BOUND

__all__ = ["PROBABILITY_STATE_BYTES", "probability_decode", "probability_encode"]

#: The payload starts with the encoder's final state, little-endian, then its 32-bit words.
PROBABILITY_STATE_BYTES = 8
_MASK32 = 0xFFFFFFFF


def _check_precision(precision: int) -> None:
    if not 1 <= precision <= 24:
        raise ValueError("precision must be 1 to 24 bits")


def probability_encode(starts: np.ndarray, freqs: np.ndarray, precision: int) -> bytes:
    """The payload coding each symbol i as the interval [starts[i], starts[i] + freqs[i])
    of its row, out of 2**precision: the final state (8 bytes, little-endian), then the
    words in the order the decoder reads them (4 bytes each, little-endian)."""
    _check_precision(precision)
    if len(starts) != len(freqs):
        raise ValueError("starts and freqs must be u32 arrays of one size")
    total = 1 << precision
    x = ANS_LOWER_BOUND
    words = []
    for i in range(len(starts) - 1, -1, -1):
        c, f = int(starts[i]), int(freqs[i])
        if f == 0 or c + f > total:
            raise ValueError(f"symbol {i} has a frequency of 0, or one past 2**precision")
        if x >= f << (64 - precision):
            words.append(x & _MASK32)
            x >>= 32
        x = ((x // f) << precision) + x % f + c
    return (x.to_bytes(PROBABILITY_STATE_BYTES, "little")
            + np.array(words[::-1], dtype="<u4").tobytes())


def probability_decode(payload: Bytes, cursor: np.ndarray, cumulative: np.ndarray,
                       precision: int) -> np.ndarray:
    """One symbol (uint32) for each row of *cumulative* (rows of K + 1 numbers, from 0 up
    to 2**precision), decoded from *payload*'s words.

    *cursor* (3 uint64, updated in place, also when decoding fails) holds the state, the
    position of the next word in the payload and how many symbols were decoded before, so
    that decoding goes on from where the last call stopped.  FormatError when the words
    run out (or a row does not run from 0 to 2**precision)."""
    _check_precision(precision)
    rows, width = cumulative.shape
    x, pos, done = (int(value) for value in cursor)
    if x < ANS_LOWER_BOUND or pos > len(payload):
        raise ValueError("the cursor's state is below 2**32, or its position past the payload")
    total = 1 << precision
    size = width - 1
    out = np.empty(rows, dtype=np.uint32)
    error = None
    decoded = 0
    while decoded < rows:
        row = cumulative[decoded]
        if int(row[0]) != 0 or int(row[size]) != total:
            error = FormatError(f"row {done + decoded} of the cumulative frequencies does not "
                                "run from 0 to 2**precision")
            break
        slot = x & (total - 1)
        lo, hi = 0, size
        while hi - lo > 1:  # as the C does: row[lo] <= slot < row[hi], whatever lies between
            mid = (lo + hi) >> 1
            if int(row[mid]) <= slot:
                lo = mid
            else:
                hi = mid
        start = int(row[lo])
        x = (int(row[lo + 1]) - start) * (x >> precision) + slot - start
        if x < ANS_LOWER_BOUND:
            if len(payload) - pos < 4:
                error = FormatError(f"the coded words ran out at symbol {done + decoded}")
                break
            x = x << 32 | int.from_bytes(payload[pos:pos + 4], "little")
            pos += 4
        out[decoded] = lo
        decoded += 1
    cursor[:] = (x, pos, done + decoded)
    if error is not None:
        raise error
    return out
