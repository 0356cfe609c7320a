"""rANS in numpy: many interleaved coder states ("lanes") in lockstep.

Each Python-level step codes one symbol in every lane at once, so the loop
runs n / lanes times, not n times.

Each lane's state x lives in [L, 2**64) with L = 2**32; the coder reads and
writes 32-bit words.  With frequencies out of M = 2**precision (at most
2**24), L / M >= 2**8 keeps the coding loss of rANS's integer arithmetic
negligible.  Lane k codes the symbols k, k + K, k + 2K, ... (K lanes).  The
encoder runs backwards; the words it emits at step t are stored in step
order, and within a step in lane order, which is the order in which the
decoder, running forwards, takes them.
"""

from __future__ import annotations

import numpy as np

from ..._buffers import Bytes, BytesLike
from ..._errors import FormatError
from .counting import count_distinct

__all__ = ["ANS_LOWER_BOUND", "ans_decode", "ans_decode_counted", "ans_encode",
           "ans_encode_pieces", "decode_ans_run", "plan_ans_pieces",
           "quantize_counts"]


#: The lower bound of a rANS state: every state the decoder starts from, and ends at.
ANS_LOWER_BOUND = 1 << 32


_WORD_BITS = np.uint64(32)


_WORD_MASK = np.uint64(0xFFFFFFFF)


def ans_encode(symbols: np.ndarray, freqs: np.ndarray, cumulative: np.ndarray, precision: int,
               lanes: int) -> tuple[np.ndarray, np.ndarray]:
    """Code *symbols* (every one of non-zero frequency) with *lanes* interleaved rANS states.

    Returns the final states (uint64, one per lane: the decoder's starting
    states) and the 32-bit words, in the order the decoder reads them.
    """
    n = symbols.size
    steps = -(-n // lanes)
    states = np.full(lanes, ANS_LOWER_BOUND, dtype=np.uint64)
    freq = freqs.astype(np.uint64)
    cum = cumulative.astype(np.uint64)
    # x must be below freq << (64 - precision) before a symbol is coded, or it would grow
    # past 2**64; a symbol that has all of M (the only one) leaves x as it is.
    limit = np.where(freqs == 1 << precision, np.uint64(2**64 - 1),
                     freq << np.uint64(64 - precision))
    shift = np.uint64(precision)
    words: list[np.ndarray] = [np.zeros(0, dtype=np.uint32)] * steps
    for step in range(steps - 1, -1, -1):
        chunk = symbols[step * lanes:(step + 1) * lanes]
        x = states[:chunk.size]
        f = freq[chunk]
        full = x >= limit[chunk]
        words[step] = (x[full] & _WORD_MASK).astype(np.uint32)
        x = np.where(full, x >> _WORD_BITS, x)
        quotient = x // f
        states[:chunk.size] = (quotient << shift) + (x - quotient * f) + cum[chunk]
    return states, np.concatenate(words) if words else np.zeros(0, dtype=np.uint32)


def ans_decode(words: np.ndarray, states: np.ndarray, count: int, freqs: np.ndarray,
               cumulative: np.ndarray, precision: int,
               values: np.ndarray | None = None) -> np.ndarray:
    """Decode *count* symbols from rANS *words* and the lanes' starting *states*.

    The symbols are indices into *freqs*, or the entries of *values* (what
    each of those symbols decodes to) when it is given.

    Raises ``FormatError`` unless the words are used up exactly and every lane
    ends at the lower bound, where the encoder began: so damage to the states,
    the words or the table is caught here, not only by the CRC.
    """
    lanes = states.size
    x_all = states.astype(np.uint64, copy=True)
    # The symbol of a slot is the last one whose cumulative frequency is at most the slot
    # (symbols of frequency 0 share their cumulative with the next, so "last" skips them).
    present = np.flatnonzero(freqs)
    starts = cumulative[present].astype(np.uint64)
    freq = freqs.astype(np.uint64)
    cum = cumulative.astype(np.uint64)
    shift = np.uint64(precision)
    slot_mask = np.uint64((1 << precision) - 1)
    lower = np.uint64(ANS_LOWER_BOUND)
    wide = words.astype(np.uint64)
    out = np.empty(count, dtype=np.int64)
    pos = 0
    for step in range(-(-count // lanes)):
        start = step * lanes
        active = min(lanes, count - start)
        x = x_all[:active]
        slot = x & slot_mask
        symbol = present[np.searchsorted(starts, slot, side="right") - 1]
        out[start:start + active] = symbol
        x = freq[symbol] * (x >> shift) + slot - cum[symbol]
        short = x < lower
        needed = int(np.count_nonzero(short))
        if needed:
            if pos + needed > wide.size:
                raise FormatError("ANS stream ended early: the block is damaged")
            x[short] = (x[short] << _WORD_BITS) | wide[pos:pos + needed]
            pos += needed
        x_all[:active] = x
    if pos != wide.size or np.any(x_all != lower):
        raise FormatError("ANS stream does not end where it began: the block is damaged")
    return out if values is None else values[out]


def ans_decode_counted(words: Bytes | np.ndarray, states: np.ndarray, count: int, freqs: np.ndarray,
                       cumulative: np.ndarray, precision: int,
                       values: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """``ans_decode``, and how many distinct symbols the decoded ones are (what rule A5
    checks): the compiled backend learns that as it decodes.  *words* may also be the
    block's bytes (little-endian u32), which the compiled backend reads where they lie."""
    if not isinstance(words, np.ndarray):
        words = np.frombuffer(words, dtype="<u4")
    out = ans_decode(words, states, count, freqs, cumulative, precision)
    distinct = count_distinct(out, freqs.size)
    return (out if values is None else values[out]), distinct


def ans_encode_pieces(symbols: np.ndarray, ends: list[int], freqs: np.ndarray,
                      cumulative: np.ndarray, precision: int, lanes: list[int]) -> None:
    """``ans_encode`` of consecutive pieces of byte *symbols* in one call, piece p (ending
    at ends[p]) with row p of *freqs* and *cumulative* on lanes[p] lanes: (every piece's
    states, one after another; each piece's words, from the piece's first position in an
    array as long as *symbols*; how many words each has).  Or None, to code them one by
    one with ``ans_encode``: the numpy backend has no faster way."""
    return None


def decode_ans_run(buffer: BytesLike, pos: int, block_size: int, previous: bytes | None,
                   previous_precision: int, budget: int, largest: int, before: int) -> None:
    """Decode, in one call, the rANS blocks of a version-2 byte frame that start at *pos*
    while they have tables of their own (0x03) or the previous block's (0x07, whose 256
    frequencies *previous* holds as uint32, of *previous_precision*), are whole in
    *buffer*, hold at most *largest* symbols each and *budget* symbols in all (at least one
    block), and break no rule, the CRC included: (their bytes; where each block starts in
    *buffer*, and where the last ends; where each one's bytes end; the last block's 256
    frequencies, uint32, and precision).  Or None, when the first block is not of that
    kind: the blocks then go one at a time.  *before* is the symbols of the frame's blocks
    before *pos* (its last block holds the rest of *block_size*, and ends the run).  The
    numpy backend always says None."""
    return None


def plan_ans_pieces(counts: np.ndarray, costs: np.ndarray) -> None:
    """A fast planning of rANS pieces (``stream.pieces._plan_ans_pieces``): their packed tables,
    frequencies, ideal bits, lanes and whether each reuses the previous table; or None to
    plan them with that reference.  The numpy backend has no faster way."""
    return None


def quantize_counts(counts: np.ndarray, precision: int) -> None:
    """A fast ``ans.quantize`` of integer *counts* (the same frequencies), or None to
    quantise them with that reference.  The numpy backend has no faster way."""
    return None
