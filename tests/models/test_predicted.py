"""Bring your own model (models.predicted): symbols coded with any model's rows of
probabilities.  Exact round trips on both backends, byte for byte the same; the ledger's
identity; a payload that is the quantised model's loss to within 0.1% and 64 bits; exact
errors for bad arrays and symbols; damaged payloads and other probabilities refused, never
a crash; the incremental decoder the same as the batch one; the documentation's example run.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import BACKENDS
from hypothesis import given, settings
from hypothesis import strategies as st

from huffkit import ChecksumError, CodebookError, FormatError, HuffmanError, TruncatedError
from huffkit.kernels import backend
from huffkit.models.predicted import (
    LARGEST_ALPHABET,
    PredictedDecoder,
    decode_with_probabilities,
    encode_with_probabilities,
    quantize_probabilities,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "bring-your-own-model.md"


@contextlib.contextmanager
def on(name: str):
    previous = backend.name()
    backend.use(name)
    try:
        yield
    finally:
        backend.use(previous)


def model(seed: int, n: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(symbols, probabilities): rows from a Dirichlet of a random concentration, some
    entries 0 and some tiny (1e-300 to 1e-9), each symbol drawn from its row."""
    rng = np.random.default_rng(seed)
    alpha = rng.choice([0.02, 0.3, 1.0, 10.0])
    rows = rng.dirichlet(np.full(size, alpha), size=n) if n else np.empty((0, size))
    rows[rng.random(rows.shape) < 0.2] = 0.0
    tiny = rng.random(rows.shape) < 0.05
    rows[tiny] = 10.0 ** rng.uniform(-300, -9, size=int(tiny.sum()))
    rows[np.arange(n), rng.integers(0, size, n)] += 1e-3  # no row of zeros
    rows /= rows.sum(axis=1, keepdims=True)
    symbols = np.array([rng.choice(size, p=row) for row in rows], dtype=np.int64)
    return symbols, rows


def ledger_sum(code) -> float:
    return code.loss_bits + code.quantisation_bits + code.coder_bits + code.header_bits


def check_code(code, symbols, probabilities) -> None:
    assert code.total_bits == 8 * len(code.data)
    assert math.isclose(ledger_sum(code), code.total_bits, rel_tol=1e-12, abs_tol=1e-9)
    rows = np.arange(len(symbols))
    loss = -np.log2(probabilities[rows, symbols]).sum()
    assert code.loss_bits == pytest.approx(loss, rel=1e-12, abs=1e-9)
    freqs = quantize_probabilities(probabilities, precision=code.precision)
    quantised = (code.precision - np.log2(freqs[rows, symbols])).sum()
    assert code.quantisation_bits == pytest.approx(quantised - loss, rel=1e-9, abs=1e-6)
    # The coder pays the quantised model's loss to within 0.1% and 64 bits: the state it
    # ends in (of which the 32 bits it began with carry nothing) and rANS's integer steps.
    assert abs(code.coder_bits) <= 0.001 * quantised + 64


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.integers(2, 300),
       st.sampled_from([24, 16, 9]))
def test_property_round_trips_identically_on_both_backends(seed, n, size, precision):
    symbols, probabilities = model(seed, n, size)
    codes = {}
    for name in BACKENDS:
        with on(name):
            codes[name] = encode_with_probabilities(symbols, probabilities, precision=precision)
            decoded = decode_with_probabilities(codes[name].data, probabilities)
            assert decoded.dtype == (np.uint8 if size <= 256 else np.uint16)
            assert np.array_equal(decoded, symbols)
            # The incremental decoder: a row at a time, then the rest at once.
            decoder = PredictedDecoder(codes[name].data)
            half = n // 2
            one_by_one = [decoder.next(row) for row in probabilities[:half]]
            rest = decoder.decode(probabilities[half:]) if n else np.empty(0, np.uint8)
            assert decoder.eof and decoder.decoded == n
            assert one_by_one + rest.tolist() == symbols.tolist()
    assert len({code.data for code in codes.values()}) == 1
    assert len({(code.loss_bits, code.coder_bits) for code in codes.values()}) == 1
    check_code(codes[backend.name()], symbols, probabilities)


def test_golden_payload():
    """The format is pinned: these bytes decode this way in every later version."""
    probabilities = np.array([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1], [0.125, 0.875]])
    code = encode_with_probabilities([0, 1, 0, 1], probabilities)
    assert code.data.hex() == "011804028200206303000000bd858157"
    assert (code.symbols, code.alphabet_size, code.precision, code.header_bits) == (4, 2, 24, 64)
    assert code.loss_bits == pytest.approx(1 + math.log2(4 / 3) + math.log2(10 / 9)
                                           + math.log2(8 / 7))


def test_quantisation_follows_the_documented_rule():
    # floor(p * (16 - 3)) + 1 = 2, 3, 10; the remainder, 1, to the most probable symbol.
    assert quantize_probabilities([[0.1, 0.2, 0.7]], precision=4).tolist() == [[2, 3, 11]]
    # Ties: the first of the most probable symbols takes the remainder (here 2).
    assert quantize_probabilities([[0.3, 0.4, 0.3]], precision=3).tolist() == [[2, 4, 2]]
    # A symbol of probability 0 keeps a frequency of 1: it stays codable.
    assert quantize_probabilities([[0.0, 1.0]], precision=24).tolist() == [[1, (1 << 24) - 1]]
    # Every alphabet size equal to 2**precision: all frequencies 1.
    assert (quantize_probabilities(np.full((2, 256), 1 / 256), precision=8) == 1).all()


@pytest.mark.parametrize("size", [2, 256, 4097, LARGEST_ALPHABET])
def test_rows_a_little_over_1_still_give_every_symbol_at_least_1(size):
    """A row summing to 1 + 1e-6 takes units back from its most probable symbol, which
    always has enough (the module's docstring says why)."""
    rng = np.random.default_rng(size)
    rows = rng.random((3, size))
    rows /= rows.sum(axis=1, keepdims=True)
    rows[0] = 1 / size
    rows *= 1 + 0.99e-6
    for precision in sorted({(size - 1).bit_length(), 20, 24}):
        freqs = quantize_probabilities(rows, precision=precision)
        assert (freqs >= 1).all() and (freqs.sum(axis=1) == 1 << precision).all()


@pytest.mark.parametrize("name", BACKENDS)
def test_the_largest_alphabet_round_trips(name):
    symbols, probabilities = model(7, 40, LARGEST_ALPHABET)
    with on(name):
        for precision in (16, 24):
            code = encode_with_probabilities(symbols, probabilities, precision=precision)
            assert np.array_equal(decode_with_probabilities(code.data, probabilities), symbols)
            check_code(code, symbols, probabilities)


def test_bytes_float32_and_no_symbols():
    text = b"abracadabra"
    rows = np.full((len(text), 256), 1 / 256, dtype=np.float32)
    code = encode_with_probabilities(text, rows)
    assert decode_with_probabilities(code.data, rows).tobytes() == text
    assert code.loss_bits == 8 * len(text)
    empty = encode_with_probabilities([], np.empty((0, 5)))
    assert empty.symbols == 0 and math.isnan(empty.cross_entropy)
    assert decode_with_probabilities(empty.data, np.empty((0, 5))).size == 0
    assert PredictedDecoder(empty.data).eof
    assert "0 symbols" in str(empty)


def test_the_ledger_prints_its_identity():
    symbols, probabilities = model(3, 200, 20)
    code = encode_with_probabilities(symbols, probabilities)
    lines = str(code).splitlines()
    assert lines[0] == "200 symbols of an alphabet of 20, coded with a model's probabilities"
    assert [line.split()[0] for line in lines[2:]] == ["model's", "+", "+", "+", "="]
    assert f"= file, {len(code.data):,} bytes" in lines[-1]
    assert code.cross_entropy == code.loss_bits / 200
    assert "data" not in repr(code)  # the payload is not printed


# -- errors --------------------------------------------------------------------------------

UNIFORM = np.full((3, 4), 0.25)


@pytest.mark.parametrize("symbols, probabilities, error, message", [
    ([0, 1, 2], np.full(4, 0.25), CodebookError,
     r"^probabilities must be a 2-D array, n rows \(one a symbol\) of K probabilities, not "
     r"an array of shape \(4,\)$"),
    ([0, 0, 0], np.ones((3, 1)), CodebookError,
     r"^an alphabet of 1 symbols cannot be coded: rows must hold 2 to 65536 probabilities$"),
    ([0], np.full((1, 65537), 1 / 65537), CodebookError,
     r"^an alphabet of 65537 symbols cannot be coded"),
    ([0, 1], UNIFORM, CodebookError,
     r"^3 rows of probabilities need 3 symbols, one a row, not 2$"),
    ([[0, 1, 2]], UNIFORM, CodebookError,
     r"^3 rows of probabilities need 3 symbols, one a row, not an array of shape \(1, 3\)$"),
    ([0, 4, 1], UNIFORM, CodebookError,
     r"^symbol 4 at position 1 is outside the alphabet of the 4 probabilities a row holds "
     r"\(0 to 3\)$"),
    ([0, 1, -1], UNIFORM, CodebookError, r"^symbol -1 at position 2 is outside"),
    ([0.0, 1.0, 2.0], UNIFORM, TypeError, r"^symbols must be integers \(or bytes\), not float64$"),
    ([0, 1, 2], [["a", "b"]] * 3, TypeError, r"^probabilities must be numbers, not <U1$"),
    ([0, 1, 2], [[0.25] * 4, [0.25, 0.25, np.nan, 0.25], [0.25] * 4], CodebookError,
     r"^row 1 of the probabilities holds NaN or infinity: every probability must be a "
     r"finite number$"),
    ([0, 1, 2], [[0.25] * 4] * 2 + [[np.inf, 0, 0, 0]], CodebookError,
     r"^row 2 of the probabilities holds NaN or infinity"),
    ([0, 1, 2], [[0.5, -0.25, 0.5, 0.25]] + [[0.25] * 4] * 2, CodebookError,
     r"^row 0 of the probabilities holds a negative number \(-0.25\): probabilities are at "
     r"least 0$"),
    ([0, 1, 2], [[0.25] * 4, [0.25] * 4, [0.25, 0.25, 0.25, 0.2]], CodebookError,
     r"^row 2 of the probabilities sums to 0.95, not 1 \(within 1e-06\): each row must be a "
     r"distribution, a softmax's output \(not logits\); divide each row by its sum, in "
     r"float64, if rounding put it off, and give the decoder the very same array$"),
    ([0, 1, 3], [[0.25] * 4, [0.25] * 4, [0.5, 0.25, 0.25, 0.0]], CodebookError,
     r"^symbol 3 at position 2 has probability 0 in its row: the model says it cannot occur, "
     r"so its loss, -log2 0, is infinite; give every symbol that may occur a probability "
     r"above 0 \(mix in a little of the uniform distribution, say\)$"),
])
def test_bad_arguments_are_refused_exactly(symbols, probabilities, error, message):
    with pytest.raises(error, match=message):
        encode_with_probabilities(symbols, probabilities)


def test_precision_is_checked():
    with pytest.raises(ValueError, match=r"^precision must be 1 to 24 bits, not 25$"):
        encode_with_probabilities([0], [[0.5, 0.5]], precision=25)
    with pytest.raises(CodebookError, match=r"^an alphabet of 300 symbols needs a precision of "
                                            r"at least 9 bits \(every symbol takes at least 1 "
                                            r"of 2\*\*precision\), not 8$"):
        encode_with_probabilities([0], np.full((1, 300), 1 / 300), precision=8)


def test_the_decoder_checks_the_arrays_shape_and_its_own_use():
    symbols, probabilities = model(5, 30, 7)
    code = encode_with_probabilities(symbols, probabilities)
    with pytest.raises(CodebookError, match=r"^the payload codes 30 symbols of an alphabet of 7, "
                                            r"so it needs 30 x 7 probabilities, not 29 x 7$"):
        decode_with_probabilities(code.data, probabilities[:29])
    decoder = PredictedDecoder(code.data)
    with pytest.raises(CodebookError, match=r"^31 x 7 probabilities given, but 30 symbols of "
                                            r"an alphabet of 7 remain to decode"):
        decoder.decode(np.vstack([probabilities, probabilities[:1]]))
    with pytest.raises(CodebookError, match=r"^a row must be a 1-D array of K probabilities"):
        decoder.next(probabilities[:2])
    decoder.decode(probabilities)
    with pytest.raises(EOFError, match=r"^all 30 symbols are decoded$"):
        decoder.next(probabilities[0])


# -- damage and other probabilities --------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
def test_every_damaged_byte_and_length_is_refused(name):
    """Each bit of the payload flipped, bytes cut or added: a HuffmanError (FormatError,
    ChecksumError, TruncatedError; a CodebookError when n or K changes), never a result."""
    symbols, probabilities = model(11, 60, 9)
    with on(name):
        data = encode_with_probabilities(symbols, probabilities).data
        damaged = [data[:cut] for cut in range(len(data))] + [data + b"\x00",
                                                               data + b"\x00" * 4]
        for bit in range(8 * len(data)):
            copy = bytearray(data)
            copy[bit // 8] ^= 1 << (bit % 8)
            damaged.append(bytes(copy))
        kinds = set()
        for payload in damaged:
            with pytest.raises(HuffmanError) as caught:
                decode_with_probabilities(payload, probabilities)
            kinds.add(type(caught.value))
        assert {ChecksumError, FormatError, TruncatedError, CodebookError} <= kinds


def test_the_crc_catches_what_the_coder_cannot():
    """The last symbol decoded from another row that still ends the coder where it began:
    only the CRC-32 can tell."""
    probabilities = np.array([[0.5, 0.5]] * 8)
    code = encode_with_probabilities([1] * 8, probabilities)
    other = probabilities.copy()
    other[-1] = [0.5 + 2**-20, 0.5 - 2**-20]  # moves the boundary past the coded slot?
    try:
        decode_with_probabilities(code.data, other)
    except ChecksumError as error:
        assert re.match(r"^the decoded symbols' CRC-32 is [0-9a-f]{8}, but the payload's is "
                        r"[0-9a-f]{8}: the decoder was not given bit for bit the probabilities",
                        str(error))
    except FormatError as error:
        assert "these are not the probabilities it was encoded with" in str(error)
    else:  # the slot stayed inside symbol 1's interval: the same symbols, rightly
        pass
    payload = bytearray(code.data)
    payload[-1] ^= 0x01  # the CRC itself
    with pytest.raises(ChecksumError):
        decode_with_probabilities(bytes(payload), probabilities)


@pytest.mark.parametrize("name", BACKENDS)
def test_other_probabilities_are_caught(name):
    symbols, probabilities = model(13, 300, 30)
    code = encode_with_probabilities(symbols, probabilities)
    other = np.roll(probabilities, 1, axis=0)
    with on(name), pytest.raises(FormatError, match="probabilities"):
        decode_with_probabilities(code.data, other)
    decoder = PredictedDecoder(code.data)
    with on(name), pytest.raises(FormatError):
        decoder.decode(other)
    with pytest.raises(FormatError, match=r"^this decoder stopped at an error: "):
        decoder.next(probabilities[0])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 40), st.integers(2, 20))
def test_property_hostile_payloads_raise_huffman_errors_only(data, n, size):
    probabilities = np.full((n, size), 1 / size)
    for name in BACKENDS:
        with on(name), contextlib.suppress(HuffmanError):
            decode_with_probabilities(data, probabilities)


def test_headers_are_read_strictly():
    code = encode_with_probabilities([1, 0], [[0.5, 0.5]] * 2).data
    longer = encode_with_probabilities([1, 0] * 50, [[0.5, 0.5]] * 100).data
    for payload, error, message in [
            (b"", TruncatedError, r"^the payload ends inside its header$"),
            (b"\x02" + code[1:], FormatError, r"^not a payload of encode_with_probabilities: it "
                                              r"starts with 0x02, not the format byte 0x01$"),
            (b"\x01\x19" + code[2:], FormatError, r"^the header's precision, 25 bits, is not 1 "
                                                  r"to 24"),
            (b"\x01\x18\x82\x00\x02" + code[4:], FormatError, r"^the header's count of symbols "
                                                              r"is written in more bytes"),
            (b"\x01\x18\x02\x01" + code[4:], FormatError, r"^the header's alphabet of 1 "
                                                          r"symbols is not 2 to 65536"),
            (b"\x01\x18" + b"\x80" * 8, FormatError, r"^the header's count of symbols takes "
                                                     r"more than 8 bytes"),
            (longer[:-5] + longer[-4:], FormatError, r"^the coded words are not whole 32-bit "
                                                     r"words"),
            (code[:4] + b"\x00" * 8 + code[-4:], FormatError, r"^the coder's state is below "
                                                               r"2\*\*32")]:
        with pytest.raises(error, match=message):
            PredictedDecoder(payload)


# -- the documentation ---------------------------------------------------------------------


def test_the_documentations_example_runs_and_prints_what_it_says():
    """docs/bring-your-own-model.md: its ```python blocks, run in order in one namespace,
    print the lines its output block shows (the figures' digits may differ with numpy's
    exp; their layout may not)."""
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    sources = [body for language, body in blocks if language == "python"]
    shown = next(body for language, body in blocks if language == "" and "step   0" in body)
    namespace = {"__name__": "__doc_example__"}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for source in sources:
            exec(compile(source, str(DOC), "exec"), namespace)
    digits = re.compile(r"\d")
    lines = printed.getvalue().splitlines()
    expected = shown.splitlines()
    assert [digits.sub("#", line) for line in lines[:len(expected)]] == [
        digits.sub("#", line) for line in expected]
    assert lines[len(expected):] in (["FormatError"], ["ChecksumError"])
    assert namespace["code"].total_bits < namespace["entropy"] * len(namespace["held_out"])
