"""The numpy encoder and the bitarray decoder, checked against bitarray's own encoder."""

from __future__ import annotations

import numpy as np
import pytest
from bitarray import bitarray
from hypothesis import given
from hypothesis import strategies as st

import huffkit
from huffkit import Codebook, Distribution, FormatError
from huffkit.kernels.reference.huffman import decode_stream, encode_stream


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
    from huffkit.format.varint import pack_varints, parse_varints
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


# -- the compiled kernels check every size they are given ------------------------------------
#
# The codec never passes these (it checks each header field first), but a kernel must not
# trust its caller with an index: each of these once read or wrote outside a buffer.

needs_c = pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None,
                             reason="no compiled kernels")


@needs_c
@pytest.mark.parametrize("bits", [2**64 - 1, 2**64 - 8, 9])
def test_compiled_huffman_decoder_refuses_more_bits_than_its_streams_hold(bits):
    """A bit count near 2^64 wrapped the byte count around to 0, so an empty buffer was
    decoded as a stream of 2^64 bits, past its end."""
    from huffkit.kernels import _ckernels
    lengths = bytes([1, 1]) + bytes(254)
    with pytest.raises(ValueError, match="the streams' bit counts do not match their bytes"):
        _ckernels.huffman_decode(b"\x00" if bits == 9 else b"", (bits,), 1000, lengths, 1)


@needs_c
@pytest.mark.parametrize("width", [1, 4])
def test_compiled_decoders_refuse_a_count_whose_output_size_overflows(width):
    """count * width wrapped around: a 0-byte output written 2^62 symbols."""
    from huffkit.kernels import _ckernels
    lengths = bytes([1, 1]) + bytes(254 if width == 1 else 300)
    with pytest.raises(ValueError, match="the count of symbols is too large"):
        _ckernels.huffman_decode(b"", (0,), 2**62, lengths, width)
    freqs = np.array([1, 1], dtype=np.uint32)
    cumulative = np.array([0, 1], dtype=np.uint32)
    states = np.array([1 << 32], dtype=np.uint64)
    with pytest.raises(ValueError, match="the count of symbols is too large"):
        _ckernels.ans_decode(b"", states, 2**62, freqs, cumulative, 1, width)


@needs_c
@pytest.mark.parametrize("width", [1, 4])
@pytest.mark.parametrize("longest", [0, 1, 9, 31])
def test_compiled_huffman_encoder_needs_room_for_its_longest_code_only(width, longest):
    """The output's room is n codes of the table's longest (at least 1 bit: a byte without
    a code is written as one before it is reported), not of 31 bits: 64 MiB of text coded
    in 12-bit codes once took 248 MiB of output buffer, not 96."""
    from huffkit.kernels import _ckernels
    lengths = np.zeros(256, dtype=np.uint8)
    codes = np.zeros(256, dtype=np.uint64)
    if longest:
        lengths[:2] = [1, longest] if longest > 1 else [1, 1]
        codes[:2] = [0, (1 << longest) - 1] if longest > 1 else [0, 1]
    n = 1001
    symbols = np.ones(n, dtype=np.uint8 if width == 1 else np.uint32)  # every code the longest
    need = (n * max(longest, 1) + 7) // 8 + 8
    out = np.zeros(need, dtype=np.uint8)
    if longest:
        assert _ckernels.huffman_encode(symbols.tobytes(), width, codes.tobytes(),
                                        lengths.tobytes(), out) == n * longest
        assert np.unpackbits(out)[:n * longest].all()
    else:
        with pytest.raises(ValueError, match="a symbol is outside the code table or has "
                                             "no code"):
            _ckernels.huffman_encode(symbols.tobytes(), width, codes.tobytes(),
                                     lengths.tobytes(), out)
    with pytest.raises(ValueError, match=f"the output buffer holds {need - 1} bytes; "
                                         f"{need} are needed"):
        _ckernels.huffman_encode(symbols.tobytes(), width, codes.tobytes(), lengths.tobytes(),
                                 out[:-1])


@needs_c
def test_compiled_huffman_decoder_refuses_a_code_wider_than_its_table_entries():
    """A lookup entry keeps a symbol in 24 bits: a code over more symbols would decode to
    wrong ones (no alphabet has more than 0x110000 symbols)."""
    from huffkit.kernels import _ckernels
    lengths = bytearray((1 << 24) + 1)
    lengths[-2:] = b"\x01\x01"
    with pytest.raises(ValueError, match=r"a code has at most 2\*\*24 symbols"):
        _ckernels.huffman_decode(b"\x40", (2,), 2, bytes(lengths), 4)


@needs_c
def test_compiled_varint_reader_refuses_more_numbers_than_its_output_holds():
    """8 * count wrapped around to 0 and passed the room check: the numbers were written
    past the end of an 8-byte array."""
    from huffkit.kernels import _ckernels
    values = np.zeros(1, dtype=np.int64)
    with pytest.raises(ValueError, match="values holds 8 bytes; 2305843009213693952 numbers "
                                         "are needed"):
        _ckernels.parse_varints(b"\x01" * 64, 0, 2**61, 1, values)
    with pytest.raises(ValueError, match="values holds 8 bytes; 2 numbers are needed"):
        _ckernels.parse_varints(b"\x01" * 64, 0, 2, 1, values)
    assert _ckernels.parse_varints(b"\x05\x01", 0, 1, 1, values) == 1 and values[0] == 5


@needs_c
@pytest.mark.parametrize("precision", [1, 12, 17, 18, 19])
@pytest.mark.parametrize("count", [1, 15, 70_000])
def test_compiled_ans_decoder_finds_the_same_symbols_with_or_without_a_slot_table(precision,
                                                                                  count):
    """Wide symbols take a slot table only when the block has symbols enough to pay for
    filling it (a block of one symbol once filled 2^18 slots); the binary search used
    otherwise must find the same symbols, the rarest and the commonest alike."""
    from huffkit.kernels import _ckernels
    rng = np.random.default_rng(precision * 7 + count)
    size = 70_000
    freqs = np.zeros(size, dtype=np.uint32)
    present = np.array([0, 5, 4096, 65_535, size - 1])[:1 << precision]
    freqs[present] = 1
    freqs[present[0]] += (1 << precision) - len(present)  # the rest to the first
    cumulative = np.concatenate(([0], np.cumsum(freqs[:-1]))).astype(np.uint32)
    symbols = rng.choice(present, size=count).astype(np.uint32)
    symbols[:len(present)] = present[:count]
    states = np.empty(3 if count > 2 else 1, dtype=np.uint64)
    words = np.empty(count, dtype=np.uint32)
    written = _ckernels.ans_encode(symbols, 4, freqs, cumulative, precision, len(states),
                                   states, words)
    decoded = _ckernels.ans_decode(words[:written].copy(), states, count, freqs, cumulative,
                                   precision, 4)
    assert np.frombuffer(decoded, dtype=np.uint32).tolist() == symbols.tolist()


@needs_c
@pytest.mark.parametrize("lanes", [1, 2, 3, 4, 5, 7, 16])
def test_compiled_byte_ans_decoder_checks_the_words_as_the_reference_does(lanes):
    """The byte decoder checks the words once a round while a word is left for every lane,
    and at every step after: words cut short, or added, at any point must give the
    reference's symbols or its error, whichever loop meets the end."""
    from huffkit.kernels import compiled, reference
    rng = np.random.default_rng(lanes)
    freqs = np.array([3000, 900, 150, 40, 5, 1], dtype=np.uint32)
    freqs[0] += (1 << 12) - int(freqs.sum())
    cumulative = np.concatenate(([0], np.cumsum(freqs[:-1]))).astype(np.uint32)
    symbols = rng.choice(6, size=997, p=freqs / freqs.sum()).astype(np.uint8)
    states, words = compiled.ans_encode(symbols, freqs, cumulative, 12, lanes)
    variants = [words[:cut] for cut in range(0, words.size, max(1, words.size // 40))]
    variants += [words, np.append(words, np.uint32(7)), words[1:]]
    for variant in variants:
        outcomes = []
        for kernels in (compiled, reference):
            try:
                decoded = kernels.ans_decode(variant, states, symbols.size, freqs, cumulative, 12)
                outcomes.append([int(symbol) for symbol in decoded])
            except FormatError as error:
                outcomes.append(str(error))
        assert outcomes[0] == outcomes[1]
    assert outcomes[0] != symbols.tolist()  # the last variant is damaged
