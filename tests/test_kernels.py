"""The numpy encoder and the bitarray decoder, checked against bitarray's own encoder."""

from __future__ import annotations

import numpy as np
import pytest
from bitarray import bitarray
from hypothesis import given
from hypothesis import strategies as st

from huffkit import Codebook, Distribution, FormatError
from huffkit._kernels import decode_stream, encode_stream


def reference_bits(data: bytes, codebook: Codebook) -> bitarray:
    bits = bitarray(endian="big")
    bits.encode({symbol: bitarray(word) for symbol, word in codebook.codewords().items()}, data)
    return bits


@given(st.binary(min_size=1, max_size=3000), st.integers(8, 31))
def test_encoder_writes_exactly_the_canonical_codewords(data, max_code_length):
    codebook = Codebook.from_distribution(Distribution.from_bytes(data),
                                          max_code_length=max_code_length)
    symbols = np.frombuffer(data, dtype=np.uint8)
    payload, bit_count = encode_stream(symbols, codebook.codes, codebook.lengths)
    expected = reference_bits(data, codebook)
    assert bit_count == len(expected)
    assert payload == expected.tobytes()  # zero padding included
    assert decode_stream(payload, bit_count, len(data), codebook.lengths) == data


@pytest.mark.parametrize("longest", [1, 2, 5, 8, 16, 17, 21, 31])
def test_encoder_handles_every_chunk_grouping(longest):
    # Fibonacci-like weights give one code of each length up to `longest`.
    weights = [2**k for k in range(longest)] + [1]
    rng = np.random.default_rng(longest)
    data = bytes(rng.choice(len(weights), size=5001, p=np.array(weights) / sum(weights)))
    lengths = [*range(longest, 0, -1), longest]
    codebook = Codebook.from_lengths(lengths + [0] * (256 - len(lengths)))
    symbols = np.frombuffer(data, dtype=np.uint8)
    payload, bit_count = encode_stream(symbols, codebook.codes, codebook.lengths)
    assert payload == reference_bits(data, codebook).tobytes()
    assert decode_stream(payload, bit_count, len(data), codebook.lengths) == data


def byte_code(*lengths: int) -> Codebook:
    """A codebook over the byte alphabet whose first symbols have these lengths."""
    return Codebook.from_lengths(list(lengths) + [0] * (256 - len(lengths)))


def test_empty_stream():
    codebook = byte_code(1, 1)
    assert encode_stream(np.zeros(0, dtype=np.uint8), codebook.codes, codebook.lengths) == (b"", 0)


def test_decoder_rejects_nonzero_padding():
    codebook = byte_code(1, 1)
    # "0" then padding "1000000": one symbol, but a padding bit is set.
    with pytest.raises(FormatError, match="padding bits"):
        decode_stream(b"\x40", 1, 1, codebook.lengths)


def test_decoder_rejects_a_codeword_cut_short():
    codebook = byte_code(1, 2, 2)  # 0, 10, 11
    with pytest.raises(FormatError, match="middle of a codeword"):
        decode_stream(b"\x80", 1, 1, codebook.lengths)  # "1" alone is no codeword


def test_decoder_rejects_bits_that_are_no_codeword():
    codebook = byte_code(1)  # single symbol: only "0" is valid
    with pytest.raises(FormatError, match="not a codeword"):
        decode_stream(b"\x80", 1, 1, codebook.lengths)


def test_decoder_rejects_a_wrong_symbol_count():
    codebook = byte_code(1, 1)
    with pytest.raises(FormatError, match="decodes to 3 symbols, but its header says 2"):
        decode_stream(b"\x00", 3, 2, codebook.lengths)


@pytest.mark.usefixtures("each_backend")
@given(st.lists(st.integers(0, 2**28 - 1), max_size=40), st.binary(max_size=3),
       st.integers(1, 4), st.data())
def test_varints_read_back_and_damage_is_reported_alike(values, prefix, longest, draw):
    """LEB128 numbers read back as written, on each backend (the C reader hands anything
    it cannot read to the numpy reference, which says what is wrong); a number too long or
    cut short is the reference's error."""
    import re

    from huffkit import TruncatedError
    from huffkit._varint import pack_varints, parse_varints
    packed = pack_varints(np.array(values, dtype=np.uint64))
    fits = [value for value in values if value < 1 << (7 * longest)]
    packed_fits = pack_varints(np.array(fits, dtype=np.uint64))
    found, end = parse_varints(prefix + packed_fits + b"\x01", len(prefix), len(fits),
                               longest=longest, what="table")
    assert found.tolist() == fits and end == len(prefix) + len(packed_fits)
    if values:
        cut = draw.draw(st.integers(0, len(packed) - 1), label="cut")
        too_long = any(value >= 1 << (7 * longest) for value in values)
        with pytest.raises((TruncatedError, FormatError)) as raised:
            parse_varints(packed[:cut], 0, len(values), longest=longest, what="table")
        assert too_long or isinstance(raised.value, TruncatedError)
        assert re.fullmatch(r"table has a number longer than \d bytes|compressed data ended "
                            r"in the middle of a frame", str(raised.value))
