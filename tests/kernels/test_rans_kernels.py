"""The compiled rANS kernels against the numpy reference, where their paths differ: the byte
decoder's packed table (precision 12 or less), its versions by lane count (1 to 8 lanes in
registers, more four at a time), the byte values it marks as it decodes (rule A5), its
reading of a block's words where they lie, the encoder's byte loop, which finds a symbol
without a frequency after coding, not before, and the planner's precision."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huffkit import FormatError
from huffkit.format.rans_tables import parse_compact_frequencies
from huffkit.kernels import backend, reference
from huffkit.models.alphabet import ALPHABETS
from huffkit.models.frequency_table import quantize

needs_c = pytest.mark.skipif(backend.unavailable is not None, reason="no compiled kernels")

if backend.unavailable is None:
    from huffkit.kernels import _ckernels, compiled


def byte_table(weights: list[int], precision: int) -> tuple[np.ndarray, np.ndarray]:
    """The frequencies over the 256 byte values that the first ones' *weights* quantise to
    (at least 1 where a weight is not 0), summing to 2**precision, and their cumulative
    sums."""
    freqs = quantize(np.array(weights + [0] * (256 - len(weights)), dtype=np.int64),
                     precision).astype(np.uint32)
    cumulative = np.concatenate(([0], np.cumsum(freqs[:-1]))).astype(np.uint32)
    return freqs, cumulative


def outcome(kernels, function: str, *args):
    """What a kernel gives: its symbols (and count) as lists, or its error's message."""
    try:
        result = getattr(kernels, function)(*args)
    except FormatError as error:
        return str(error)
    if function == "ans_decode_counted":
        symbols, distinct = result
        return [int(symbol) for symbol in symbols], distinct
    return [int(symbol) for symbol in result]


@st.composite
def coded_blocks(draw, most_precise: int = 16):
    """Byte symbols drawn from skewed weights, a table of them (precision 1 to
    *most_precise*), and a lane count."""
    precision = draw(st.integers(1, most_precise))
    weights = draw(st.lists(st.integers(0, 1000), min_size=1,
                            max_size=min(256, 1 << precision)).filter(any))
    weights = [weight * draw(st.sampled_from([1, 1, 30])) for weight in weights]
    freqs, cumulative = byte_table(weights, precision)
    present = np.flatnonzero(freqs)
    count = draw(st.integers(1, 3000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    symbols = rng.choice(present, size=count, p=freqs[present] / freqs[present].sum())
    lanes = draw(st.integers(1, min(count, 20)))
    return symbols.astype(np.uint8), freqs, cumulative, precision, lanes


@needs_c
@settings(max_examples=300, deadline=None)
@given(coded_blocks())
@pytest.mark.slow
def test_byte_coders_agree_with_the_reference_at_every_precision_and_lane_count(block):
    """Precisions 1 to 12 decode through the packed table (in registers up to 8 lanes, four
    at a time beyond), 13 to 16 through the byte-per-slot table; every way gives the
    reference's symbols, and counts the distinct ones as the reference does."""
    symbols, freqs, cumulative, precision, lanes = block
    states, words = reference.ans_encode(symbols, freqs, cumulative, precision, lanes)
    compiled_states, compiled_words = compiled.ans_encode(symbols, freqs, cumulative,
                                                          precision, lanes)
    assert compiled_states.tolist() == states.tolist()
    assert compiled_words.tolist() == words.tolist()
    arguments = (words, states, symbols.size, freqs, cumulative, precision)
    expected = outcome(reference, "ans_decode_counted", *arguments)
    assert expected == (symbols.tolist(), np.unique(symbols).size)
    assert outcome(compiled, "ans_decode_counted", *arguments) == expected
    assert outcome(compiled, "ans_decode", *arguments) == expected[0]
    # The table as a block stores it: its present byte values, listed.
    listed = np.flatnonzero(freqs)
    listed_arguments = (words, states, symbols.size, freqs[listed], cumulative[listed],
                        precision, listed)
    assert outcome(compiled, "ans_decode_counted", *listed_arguments) == expected


@needs_c
@settings(max_examples=200, deadline=None)
@given(coded_blocks(most_precise=12), st.data())
def test_damaged_packed_blocks_fail_as_the_reference_fails(block, data):
    """Words cut short, added or changed, and states changed: the packed loop, which checks
    the words once a round while each lane has one, and then at every step, gives the
    reference's symbols or its error."""
    symbols, freqs, cumulative, precision, lanes = block
    states, words = reference.ans_encode(symbols, freqs, cumulative, precision, lanes)
    words, states = words.copy(), states.copy()
    damage = data.draw(st.sampled_from(["cut", "add", "word", "state", "count"]))
    count = symbols.size
    if damage == "cut":
        words = words[:data.draw(st.integers(0, max(0, words.size - 1)))]
    elif damage == "add":
        words = np.append(words, np.uint32(data.draw(st.integers(0, 2**32 - 1))))
    elif damage == "word" and words.size:
        words[data.draw(st.integers(0, words.size - 1))] ^= np.uint32(
            1 << data.draw(st.integers(0, 31)))
    elif damage == "state":
        lane = data.draw(st.integers(0, lanes - 1))
        states[lane] ^= np.uint64(1 << data.draw(st.integers(0, 62)))
        states[lane] |= np.uint64(1 << 32)
    else:
        count = data.draw(st.integers(max(0, count - 40), count + 40))
    arguments = (words, states, count, freqs, cumulative, precision)
    assert (outcome(compiled, "ans_decode_counted", *arguments)
            == outcome(reference, "ans_decode_counted", *arguments))


@needs_c
@pytest.mark.parametrize("lanes", [1, 3, 8, 9, 13])
def test_the_decoder_marks_exactly_the_byte_values_it_decodes(lanes):
    """seen[v] is 1 for the byte values decoded and 0 for the others, whatever it held; at
    precision 12 (packed), 16 (byte per slot) and for a one-symbol table (general loop)."""
    rng = np.random.default_rng(lanes)
    for precision, weights in [(12, [5, 0, 3, 1, 0, 1]), (16, [5, 0, 3, 1, 0, 1]),
                               (12, [0, 0, 7])]:
        freqs, cumulative = byte_table(weights, precision)
        present = np.flatnonzero(freqs)
        symbols = rng.choice(present, size=500).astype(np.uint8)
        symbols[-1] = present[-1]
        symbols = symbols[symbols != present[0]] if present.size > 2 else symbols
        states, words = reference.ans_encode(symbols, freqs, cumulative, precision, lanes)
        seen = np.full(256, 7, dtype=np.uint8)
        decoded = _ckernels.ans_decode(words, states, symbols.size, freqs, cumulative,
                                       precision, 1, seen)
        assert decoded == symbols.tobytes()
        assert np.flatnonzero(seen).tolist() == np.unique(symbols).tolist()
        assert set(seen.tolist()) <= {0, 1}


@needs_c
def test_the_decoder_refuses_a_seen_buffer_it_cannot_fill():
    freqs, cumulative = byte_table([1, 1], 12)
    states = np.array([1 << 32], dtype=np.uint64)
    with pytest.raises(ValueError, match="seen holds 255 bytes; 256 are needed"):
        _ckernels.ans_decode(b"", states, 0, freqs, cumulative, 12, 1, bytearray(255))
    with pytest.raises(ValueError, match="seen is for byte symbols only"):
        _ckernels.ans_decode(b"", states, 0, freqs, cumulative, 12, 4, bytearray(256))


@needs_c
@pytest.mark.parametrize("lanes", [1, 4, 6])
def test_the_byte_encoder_refuses_a_symbol_without_a_frequency(lanes):
    """The byte loop learns of a symbol of frequency 0 after coding (its entry sheds a word
    at every step, so it writes nothing outside its buffer); it still refuses it, wherever
    the symbol is."""
    freqs, cumulative = byte_table([3, 0, 1], 12)
    for where in (0, 50, 99):
        symbols = np.zeros(100, dtype=np.uint8)
        symbols[where] = 1
        states = np.empty(lanes, dtype=np.uint64)
        words = np.empty(symbols.size, dtype=np.uint32)
        with pytest.raises(ValueError, match="a symbol has no frequency in the table"):
            _ckernels.ans_encode(symbols, 1, freqs, cumulative, 12, lanes, states, words)
        with pytest.raises(ValueError, match="a symbol has no frequency in its piece's table"):
            _ckernels.ans_encode_pieces(symbols, np.array([100], dtype=np.int64), freqs,
                                        cumulative, 12, np.array([lanes], dtype=np.int64),
                                        states, words, np.empty(1, dtype=np.int64))


@needs_c
@pytest.mark.parametrize("precision", [12, 16])
def test_the_compiled_planner_takes_its_precision_from_the_costs(precision):
    """plan_ans_pieces quantises at the precision p of its 2**p + 1 costs (its compact
    table's first 5 bits), and refuses costs of any other length."""
    counts = np.zeros((1, 256), dtype=np.int64)
    counts[0, :3] = [900, 90, 10]
    costs = np.full((1 << precision) + 1, np.inf)
    costs[1:] = precision - np.log2(np.arange(1, (1 << precision) + 1))
    tables, freqs, *_ = compiled.plan_ans_pieces(counts, costs)
    assert int(freqs.sum()) == 1 << precision
    listed, table, end = parse_compact_frequencies(tables[0], 0, ALPHABETS["bytes"],
                                                   what="table")
    assert (listed.tolist(), table.freqs.tolist(), table.precision, end) == (
        [0, 1, 2], freqs[0, :3].tolist(), precision, len(tables[0]))
    with pytest.raises(ValueError, match=r"2\*\*precision \+ 1 costs"):
        compiled.plan_ans_pieces(counts, costs[:-1])


@needs_c
@pytest.mark.parametrize("precision", [12, 16])
def test_the_decoder_reads_a_blocks_words_where_they_lie(precision):
    """The block's bytes are passed, not an array: its little-endian words are read at any
    alignment, to the symbols an array of them gives (and, cut short, to the same error)."""
    rng = np.random.default_rng(precision)
    freqs, cumulative = byte_table([50, 30, 10, 1, 1], precision)
    symbols = rng.choice(5, size=4000, p=[0.5, 0.3, 0.1, 0.05, 0.05]).astype(np.uint8)
    states, words = reference.ans_encode(symbols, freqs, cumulative, precision, 6)
    raw = words.astype("<u4").tobytes()
    expected = outcome(reference, "ans_decode_counted", words, states, symbols.size, freqs,
                       cumulative, precision)
    assert expected[0] == symbols.tolist()
    for offset in range(4):
        for cut in (0, 8):
            view = memoryview(bytes(offset) + raw)[offset:len(raw) + offset - cut]
            arguments = (view, states, symbols.size, freqs, cumulative, precision)
            assert (outcome(compiled, "ans_decode_counted", *arguments)
                    == outcome(reference, "ans_decode_counted", *arguments)
                    == (expected if not cut else outcome(
                        reference, "ans_decode_counted", words[:-2], *arguments[1:])))
