"""The ledger: every bit of a real file accounted for, checked against independent sums.

The independent side computes from the raw bytes with numpy: counts, the entropy, the
cross-entropy against the model's own counts, and the exact cost of the code lengths the
file's headers record.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from conftest import corpus_files, requires_corpora
from hypothesis import given
from hypothesis import strategies as st

import huffkit

TEXT = b"".join(b"%d green bottles hanging on the wall\n" % i for i in range(400))
NOISE = np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8).tobytes()
CANTERBURY = [path for path in corpus_files() if path.parent.name == "canterbury"]


def counts_of(data: bytes) -> np.ndarray:
    return np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)


def entropy_bits(counts: np.ndarray) -> float:
    """n·H(P) in bits."""
    n = counts.sum()
    present = counts[counts > 0]
    return float(-(present * np.log2(present / n)).sum())


def cross_entropy_bits(counts: np.ndarray, q: np.ndarray) -> float:
    """n·H_Q(P) in bits."""
    q = q / q.sum()
    present = counts > 0
    return float(-(counts[present] * np.log2(q[present])).sum())


def assert_identities(ledger: huffkit.Ledger, compressed: bytes) -> None:
    """The ledger's parts add up, exactly where they are integers."""
    assert ledger.bits_file == 8 * len(compressed)
    assert ledger.bits_payload + ledger.bits_container == ledger.bits_file
    assert ledger.wasted_container == ledger.bits_container
    total = ledger.wasted_mismatch + ledger.wasted_rounding + ledger.wasted_container
    assert ledger.wasted_total == pytest.approx(total, rel=1e-12, abs=1e-6)
    assert ledger.ideal_bits + ledger.wasted_total == pytest.approx(ledger.bits_file, rel=1e-12)
    assert ledger.compressed_size == len(compressed)
    payload = sum(block.payload_bits for frame in huffkit.frame_info(compressed)
                  for block in frame.blocks)
    assert ledger.bits_payload == payload


def test_worked_example_dyadic_source_has_no_waste_but_the_container():
    data = b"aaaabbcd" * 100  # P = (1/2, 1/4, 1/8, 1/8)
    ledger = huffkit.analyze(data)
    assert ledger.entropy == 1.75
    assert ledger.mean_code_length == 1.75
    assert ledger.kl_divergence == 0
    assert ledger.wasted_rounding == 0
    assert ledger.bits_payload == 1.75 * 800
    assert ledger.wasted_total == ledger.bits_container


def test_own_distribution_single_block():
    packed = huffkit.compress(TEXT)
    ledger = huffkit.inspect(packed)
    counts = counts_of(TEXT)
    assert_identities(ledger, packed)
    assert ledger.symbols == len(TEXT)
    assert ledger.distinct_symbols == np.count_nonzero(counts)
    assert ledger.entropy == pytest.approx(entropy_bits(counts) / len(TEXT), rel=1e-12)
    assert ledger.cross_entropy == pytest.approx(ledger.entropy, rel=1e-12)
    assert ledger.kl_divergence == pytest.approx(0, abs=1e-12)
    assert ledger.js_divergence == pytest.approx(0, abs=1e-12)
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(TEXT))
    assert ledger.bits_payload == codebook.cost(counts)
    assert ledger.mean_code_length == codebook.cost(counts) / len(TEXT)
    assert ledger.model == "each block's own distribution P_b"
    assert ledger.compression_rate == len(TEXT) / len(packed)
    assert ledger.space_saving_rate == (len(TEXT) - len(packed)) / len(packed)


def test_own_distribution_many_blocks_can_beat_the_file_entropy():
    data = b"a" * 3000 + b"b" * 3000 + NOISE  # statistics that change along the file
    packed = huffkit.compress(data, block_size=3000)
    ledger = huffkit.inspect(packed)
    assert_identities(ledger, packed)
    per_block = sum(entropy_bits(counts_of(data[i:i + 3000])) for i in range(0, len(data), 3000))
    assert ledger.cross_entropy == pytest.approx(per_block / len(data), rel=1e-12)
    assert ledger.kl_divergence < 0  # the blocks' own models beat the whole-file P
    assert ledger.js_divergence is None  # no one static model


@pytest.mark.parametrize("embed", [True, False])
def test_mismatched_codebook(embed):
    q = huffkit.Distribution.from_bytes(NOISE + TEXT[:500]).smoothed(0.5)
    codebook = huffkit.Codebook.from_distribution(q)
    packed = huffkit.compress(TEXT, codebook=codebook, embed_codebook=embed)
    ledger = huffkit.inspect(packed, codebook=codebook)
    counts = counts_of(TEXT)
    n = len(TEXT)
    assert_identities(ledger, packed)
    assert ledger.cross_entropy == pytest.approx(cross_entropy_bits(counts, q.counts) / n,
                                                 rel=1e-12)
    assert ledger.kl_divergence == pytest.approx(huffkit.kl_divergence(counts, q.counts),
                                                 rel=1e-9)
    assert ledger.js_divergence == pytest.approx(huffkit.js_divergence(counts, q.counts),
                                                 rel=1e-9)
    assert ledger.wasted_mismatch == pytest.approx(n * ledger.kl_divergence, rel=1e-12)
    assert ledger.bits_payload == codebook.cost(counts)
    assert ledger.model == f"codebook {codebook.identifier}: its distribution Q"


def test_without_its_distribution_the_model_is_implied_by_the_lengths():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(NOISE)
                                                  .smoothed(1))
    packed = huffkit.compress(TEXT, codebook=codebook)
    ledger = huffkit.inspect(packed)  # embedded lengths, no distribution
    assert_identities(ledger, packed)
    assert ledger.wasted_rounding == pytest.approx(0, abs=1e-6)
    assert ledger.cross_entropy == pytest.approx(ledger.mean_code_length, rel=1e-12)
    assert "the distribution its code lengths imply" in ledger.model
    lengths_only = huffkit.Codebook.from_lengths(codebook.lengths)
    assert huffkit.inspect(packed, codebook=lengths_only) == ledger


def test_inspect_agrees_with_analyze():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(NOISE)
                                                  .smoothed(0.5))
    for options in ({}, {"block_size": 1000, "max_code_length": 9}, {"codebook": codebook},
                    {"codebook": codebook, "embed_codebook": False}):
        packed = huffkit.compress(TEXT, **options)
        for base in (2, math.e):
            analyzed = huffkit.analyze(TEXT, **options, base=base, per_symbol=True)
            inspected = huffkit.inspect(packed, codebook=options.get("codebook"), base=base,
                                        per_symbol=True)
            assert analyzed == inspected


def test_nats():
    bits = huffkit.analyze(TEXT)
    nats = huffkit.analyze(TEXT, base=math.e)
    assert (bits.unit, nats.unit) == ("bits", "nats")
    for name in ("entropy", "cross_entropy", "kl_divergence", "mean_code_length"):
        assert getattr(nats, name) == pytest.approx(getattr(bits, name) * math.log(2), rel=1e-12)
    for name in ("bits_file", "bits_payload", "ideal_bits", "wasted_total", "wasted_rounding"):
        assert getattr(nats, name) == getattr(bits, name)


def test_per_symbol_rows_add_up():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(NOISE)
                                                  .smoothed(0.5))
    for options in ({}, {"block_size": 700}, {"codebook": codebook}):
        ledger = huffkit.analyze(TEXT, **options, per_symbol=True)
        rows = ledger.per_symbol
        counts = counts_of(TEXT)
        assert [row.symbol for row in rows] == np.flatnonzero(counts).tolist()
        assert [row.count for row in rows] == counts[counts > 0].tolist()
        assert sum(row.bits for row in rows) == ledger.bits_payload
        assert sum(row.wasted_bits for row in rows) == pytest.approx(
            ledger.bits_payload - ledger.ideal_bits, rel=1e-9)
        assert sum(row.count * row.information for row in rows) == pytest.approx(
            ledger.cross_entropy * ledger.symbols, rel=1e-9)
        for row in rows:
            assert row.p == counts[row.symbol] / len(TEXT)
            assert row.code_length == row.bits / row.count
            assert row.information == pytest.approx(-math.log2(row.q), rel=1e-9)


def test_to_dict_has_the_documented_keys():
    ledger = huffkit.analyze(TEXT, per_symbol=True).to_dict()
    assert set(ledger) >= {"symbols", "distinct_symbols", "unit", "entropy", "cross_entropy",
                           "kl_divergence", "js_divergence", "mean_code_length", "bits",
                           "ideal_bits", "wasted_bits", "compression_rate",
                           "space_saving_rate", "per_symbol"}
    assert set(ledger["bits"]) == {"file", "payload", "container"}
    assert set(ledger["wasted_bits"]) == {"total", "mismatch", "rounding", "container"}
    assert set(ledger["per_symbol"][0]) == {"symbol", "count", "p", "q", "information",
                                            "code_length", "bits", "wasted_bits"}
    assert "per_symbol" not in huffkit.analyze(TEXT).to_dict()


def test_empty_data():
    ledger = huffkit.analyze(b"")
    assert (ledger.symbols, ledger.entropy, ledger.bits_payload) == (0, 0, 0)
    assert ledger.bits_file == ledger.bits_container == 8 * len(huffkit.compress(b""))
    assert ledger.wasted_total == ledger.bits_file


def test_concatenated_frames_are_one_ledger():
    packed = huffkit.compress(TEXT) + huffkit.compress(NOISE)
    ledger = huffkit.inspect(packed)
    assert_identities(ledger, packed)
    assert ledger.symbols == len(TEXT) + len(NOISE)
    assert ledger.entropy == pytest.approx(entropy_bits(counts_of(TEXT + NOISE))
                                           / ledger.symbols, rel=1e-12)


@pytest.mark.parametrize("data, error, message", [
    (b"", huffkit.TruncatedError, "empty input"),
    (b"not huffkit at all", huffkit.FormatError, "not a huffkit frame"),
    (huffkit.compress(TEXT)[:-3], huffkit.TruncatedError, "ended in the middle of a frame"),
])
def test_inspect_rejects_bad_input(data, error, message):
    with pytest.raises(error, match=message):
        huffkit.inspect(data)


def test_inspect_needs_a_referenced_codebook():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.uniform())
    packed = huffkit.compress(TEXT, codebook=codebook, embed_codebook=False)
    with pytest.raises(huffkit.CodebookError, match="not stored in it"):
        huffkit.inspect(packed)


def test_inspect_rejects_a_corrupt_payload():
    packed = bytearray(huffkit.compress(TEXT))
    packed[-20] ^= 0x10
    with pytest.raises(huffkit.FormatError):
        huffkit.inspect(bytes(packed))


@pytest.mark.parametrize("base, error", [(1, ValueError), (0, ValueError), (-2, ValueError),
                                         (math.inf, ValueError), ("2", TypeError)])
def test_bad_base(base, error):
    with pytest.raises(error, match="base must be"):
        huffkit.analyze(TEXT, base=base)


@given(data=st.binary(max_size=2000), model=st.binary(max_size=300),
       block_size=st.integers(1, 3000))
def test_identities_property(data, model, block_size):
    codebook = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(model).smoothed(0.25))
    for options in ({"block_size": block_size}, {"codebook": codebook, "block_size": block_size}):
        packed = huffkit.compress(data, **options)
        ledger = huffkit.inspect(packed, codebook=options.get("codebook"))
        assert_identities(ledger, packed)
        assert ledger == huffkit.analyze(data, **options)


# -- the real corpora: a codebook trained on alice29.txt, applied to every other file ----


@requires_corpora
@pytest.mark.parametrize("path", CANTERBURY, ids=lambda path: path.name)
def test_canterbury_coded_with_alice(path):
    alice = next(p for p in CANTERBURY if p.name == "alice29.txt")
    q = huffkit.Distribution.from_files([alice]).smoothed(0.5)
    codebook = huffkit.Codebook.from_distribution(q)
    data = path.read_bytes()
    counts = counts_of(data)
    n = len(data)
    packed = huffkit.compress(data, codebook=codebook)
    ledger = huffkit.inspect(packed, codebook=codebook)
    assert_identities(ledger, packed)
    assert huffkit.decompress(packed) == data
    assert ledger.bits_payload == codebook.cost(counts)
    assert ledger.entropy == pytest.approx(entropy_bits(counts) / n, rel=1e-12)
    assert ledger.cross_entropy == pytest.approx(cross_entropy_bits(counts, q.counts) / n,
                                                 rel=1e-12)
    assert ledger.wasted_mismatch == pytest.approx(
        n * huffkit.kl_divergence(counts, q.counts), rel=1e-9)
    # A code built for the data's own P is never worse than the mismatched one.
    own = huffkit.inspect(huffkit.compress(data, block_size=huffkit.MAX_BLOCK_SIZE))
    assert own.bits_payload <= ledger.bits_payload


def test_inspect_refuses_a_codebook_the_data_does_not_use():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.uniform())
    with pytest.raises(huffkit.CodebookError, match=r"^a codebook was given, but this data was "
                                                    r"not compressed with one"):
        huffkit.inspect(huffkit.compress(TEXT), codebook=codebook)


def test_smoothing_beyond_exact_integers_switches_to_floats():
    counted = huffkit.Distribution.from_bytes(TEXT)
    smooth = counted.smoothed(10**17)
    assert smooth.counts.dtype == np.float64
    assert smooth.probabilities.sum() == pytest.approx(1, abs=1e-12)
    with pytest.raises(ValueError,
                       match=r"^alpha 1e\+308 is too large: the smoothed weights overflow$"):
        counted.smoothed(1e308)


@pytest.mark.slow
def test_many_tiny_blocks_are_described_and_inspected_in_linear_time():
    """100,000 blocks of one byte each: every per-block cost counts (a million took 38 s in
    frame_info and 101 s in inspect; a quadratic walk would take hours).  The bound is
    generous: both take a few seconds."""
    rng = np.random.default_rng(3)
    data = rng.integers(97, 100, 100_000, dtype=np.uint8).tobytes()
    packed = huffkit.compress(data, block_size=1)
    start = time.process_time()
    (frame,) = huffkit.frame_info(packed)
    assert len(frame.blocks) == 100_000
    ledger = huffkit.inspect(packed)
    assert ledger.original_size == 100_000
    assert ledger.bits_payload == sum(block.payload_bits for block in frame.blocks)
    assert time.process_time() - start < 60
