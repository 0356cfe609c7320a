"""Version 2's compact frequency table (FORMAT.md, section 17.3) read and written by the
compiled kernels, against the Python reader and writer: the same bytes from the writer, and
the same symbols, frequencies, precision and end from the reader for every sound table, and
None for every table the reference refuses, which then says why."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huffkit import FormatError
from huffkit.format.rans_tables import pack_compact_frequencies, parse_compact_frequencies
from huffkit.kernels import backend, reference
from huffkit.models.alphabet import ALPHABETS
from huffkit.models.frequency_table import FrequencyTable, quantize

pytestmark = pytest.mark.skipif(backend.unavailable is not None, reason="no compiled kernels")

if backend.unavailable is None:
    from huffkit.kernels import compiled


def by_reference(buffer: bytes, pos: int, alphabet) -> tuple | str:
    """The Python reader's result, or its error's message."""
    previous = backend.name()
    backend.use("numpy")
    try:
        listed, table, end = parse_compact_frequencies(buffer, pos, alphabet, what="table")
    except FormatError as error:
        return str(error)
    finally:
        backend.use(previous)
    return listed.tolist(), table.freqs.tolist(), table.precision, end


def packed_by_reference(table: FrequencyTable, listed: np.ndarray) -> bytes:
    previous = backend.name()
    backend.use("numpy")
    try:
        return pack_compact_frequencies(table, listed)
    finally:
        backend.use(previous)


def by_kernel(buffer: bytes, pos: int, alphabet) -> tuple | None:
    found = compiled.read_compact_frequencies(buffer, pos, alphabet.size)
    if found is None:
        return None
    listed, freqs, precision, end = found
    return listed.tolist(), freqs.tolist(), precision, end


@st.composite
def tables(draw):
    """A packed table of up to 300 symbols of an alphabet, some bytes before it and after."""
    alphabet = ALPHABETS[draw(st.sampled_from(["bytes", "pairs", "utf8"]))]
    count = draw(st.integers(1, min(300, alphabet.size)))
    listed = np.array(sorted(draw(st.sets(st.integers(0, alphabet.size - 1), min_size=count,
                                          max_size=count))), dtype=np.int64)
    precision = draw(st.integers(max(1, (count - 1).bit_length()), 24))
    weights = np.array(draw(st.lists(st.integers(1, 1 << 20), min_size=count,
                                     max_size=count)), dtype=np.int64)
    table = FrequencyTable(quantize(weights, precision), precision)
    before = draw(st.binary(max_size=3))
    after = draw(st.binary(max_size=12))
    return alphabet, before, packed_by_reference(table, listed), after, listed, table


@settings(max_examples=300, deadline=None)
@given(tables())
@pytest.mark.slow
def test_every_sound_table_is_written_the_same(case):
    _, _, packed, _, listed, table = case
    assert compiled.write_compact_frequencies(listed, table.freqs, table.precision) == packed


def test_the_writer_leaves_unsound_tables_to_the_reference():
    listed, freqs = np.array([3, 9, 200]), np.array([1, 2, 5])
    assert compiled.write_compact_frequencies(listed, freqs, 3) is not None
    for symbols, frequencies, precision in [
            (listed, freqs, 4),  # the frequencies do not sum to 2**precision
            (np.array([3, 3, 200]), freqs, 3),  # not increasing
            (np.array([-1, 9, 200]), freqs, 3),  # negative
            (np.array([3, 9, 1 << 21]), freqs, 3),  # past every alphabet
            (listed, np.array([0, 3, 5]), 3),  # a listed symbol of frequency 0
            (listed, np.array([-1, 4, 5]), 3),
            (listed[:2], freqs, 3),  # a frequency without its symbol
            (listed[:0], freqs[:0], 3),  # nothing listed
            (listed, freqs, 0), (listed, freqs, 25)]:
        assert compiled.write_compact_frequencies(symbols, frequencies, precision) is None
    assert reference.write_compact_frequencies(listed, freqs, 3) is None


@settings(max_examples=300, deadline=None)
@given(tables())
@pytest.mark.slow
def test_every_sound_table_reads_the_same(case):
    alphabet, before, packed, after, listed, table = case
    buffer = before + packed + after
    expected = (listed.tolist(), table.freqs.tolist(), table.precision,
                len(before) + len(packed))
    assert by_reference(buffer, len(before), alphabet) == expected
    assert by_kernel(buffer, len(before), alphabet) == expected


@settings(max_examples=400, deadline=None)
@given(tables(), st.data())
@pytest.mark.slow
def test_damaged_or_cut_tables_are_left_to_the_reference(case, data):
    alphabet, before, packed, after, _, _ = case
    buffer = bytearray(before + packed + after)
    if data.draw(st.booleans()):  # a flipped bit in the table
        bit = data.draw(st.integers(0, 8 * len(packed) - 1))
        buffer[len(before) + bit // 8] ^= 0x80 >> (bit % 8)
    else:  # the buffer cut inside it
        del buffer[len(before) + data.draw(st.integers(0, len(packed) - 1)):]
    buffer = bytes(buffer)
    expected = by_reference(buffer, len(before), alphabet)
    found = by_kernel(buffer, len(before), alphabet)
    if isinstance(expected, str):
        assert found is None, expected
    else:
        assert found in (None, expected)  # a flip may make another sound table


def test_rules_the_kernel_leaves_to_the_reference():
    # Section 17.3's precision 0, 2**p < P, a symbol past the alphabet, more than 24 zeros,
    # padding bits, and a count larger than the bits left: each refused by the reference.
    bits = {"precision 0": "00000" + "1" + "0000" + "1" + "00000" + "000",
            "no bits": "00001" + "00100",  # P = 4 > 2**1
            "past the alphabet": "01000" + "1" + "0000" + "0" * 9 + "1" + "0" * 8 + "00000"
                                 + "00",
            "too many zeros": "01000" + "0" * 25 + "1" + "0" * 25,
            # P = 1, gap order 1, symbol 0, frequency order 0: 17 bits, then padding not 0
            "padding": "01000" + "1" + "0001" + "10" + "00000" + "0000001"}
    for name, text in bits.items():
        text += "0" * (-len(text) % 8)
        buffer = int(text, 2).to_bytes(len(text) // 8, "big")
        expected = by_reference(buffer, 0, ALPHABETS["bytes"])
        assert isinstance(expected, str), (name, expected)
        assert by_kernel(buffer, 0, ALPHABETS["bytes"]) is None, name


def test_the_numpy_backend_has_no_fast_reader():
    assert reference.read_compact_frequencies(b"\x08\x80", 0, 256) is None


def test_arguments_out_of_range_are_a_value_error():
    with pytest.raises(ValueError, match="pos or alphabet_size is out of range"):
        compiled.read_compact_frequencies(b"\x08\x80", 3, 256)  # past the buffer's end
    with pytest.raises(ValueError, match="pos or alphabet_size is out of range"):
        compiled.read_compact_frequencies(b"\x08\x80", -1, 256)
    with pytest.raises(ValueError, match="pos or alphabet_size is out of range"):
        compiled.read_compact_frequencies(b"\x08\x80", 0, 0)
    assert compiled.read_compact_frequencies(b"\x08\x80", 2, 256) is None  # at the end: no bits
