"""Distributions: counted, given, validated and immutable."""

from __future__ import annotations

import array

import numpy as np
import pytest

from huffkit import Distribution


def test_from_bytes_counts_every_byte_value():
    distribution = Distribution.from_bytes(b"abracadabra")
    assert distribution.size == 256
    assert distribution.total == 11
    assert distribution.counts.dtype == np.int64
    expected = {ord("a"): 5, ord("b"): 2, ord("r"): 2, ord("c"): 1, ord("d"): 1}
    assert {int(s): int(distribution.counts[s]) for s in distribution.support} == expected
    assert distribution.distinct_symbols == 5
    assert distribution.probabilities[ord("a")] == pytest.approx(5 / 11)


@pytest.mark.parametrize("data", [bytearray(b"xyzzy"), memoryview(b"xyzzy"),
                                  array.array("B", b"xyzzy")])
def test_from_bytes_accepts_any_bytes_like_object(data):
    assert Distribution.from_bytes(data) == Distribution.from_bytes(b"xyzzy")


def test_from_bytes_of_nothing_is_empty():
    distribution = Distribution.from_bytes(b"")
    assert distribution.total == 0
    assert distribution.distinct_symbols == 0
    assert not distribution.probabilities.any()


def test_from_probabilities_keeps_the_probabilities():
    distribution = Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125])
    assert distribution.probabilities.tolist() == [0.5, 0.25, 0.125, 0.125]
    assert distribution.size == 4


def test_from_probabilities_must_sum_to_one():
    with pytest.raises(ValueError, match=r"must sum to 1, but these sum to 0\.9"):
        Distribution.from_probabilities([0.5, 0.4])


@pytest.mark.parametrize(("counts", "error", "message"), [
    ([1, -2, 3], ValueError, "non-negative; symbol 1"),
    ([1.0, float("nan")], ValueError, "finite; symbol 1"),
    ([[1, 2], [3, 4]], ValueError, "1-D"),
    ([], ValueError, "at least one entry"),
    (["a", "b"], TypeError, "must be numbers"),
    ([True, False], TypeError, "must be numbers"),
])
def test_from_counts_rejects_bad_counts(counts, error, message):
    with pytest.raises(error, match=message):
        Distribution.from_counts(counts)


def test_fractional_counts_are_allowed():
    distribution = Distribution.from_counts([0.5, 1.5])
    assert distribution.counts.dtype == np.float64
    assert distribution.probabilities.tolist() == [0.25, 0.75]


def test_distribution_is_immutable_and_copies_its_input():
    counts = np.array([1, 2, 3])
    distribution = Distribution.from_counts(counts)
    counts[0] = 100
    assert distribution.counts.tolist() == [1, 2, 3]
    with pytest.raises(ValueError):
        distribution.counts[0] = 5
    with pytest.raises(ValueError):
        distribution.probabilities[0] = 0.5


def test_equal_counts_are_equal_and_hash_alike():
    assert Distribution.from_counts([1, 2]) == Distribution.from_counts([1.0, 2.0])
    assert hash(Distribution.from_counts([1, 2])) == hash(Distribution.from_counts([1.0, 2.0]))
    assert Distribution.from_counts([1, 2]) != Distribution.from_counts([2, 1])


# Issue 15, finding 15: a total of inf made every probability 0 (1e308 / inf), and an int64
# total wrapped around to a negative number, without a word.
def test_counts_whose_float_sum_overflows_are_refused():
    with pytest.raises(ValueError, match=r"^counts must have a finite sum, but these sum to "
                                         r"more than float64 holds \(1\.8e308\)$"):
        Distribution.from_counts([1e308, 1e308])


def test_counts_whose_int64_sum_overflows_are_refused():
    with pytest.raises(ValueError, match=rf"^counts must sum to at most 2\*\*63 - 1, but these "
                                         rf"sum to {2**64 - 2}$"):
        Distribution.from_counts([2**63 - 1, 2**63 - 1])
    with pytest.raises(ValueError, match=rf"sum to {2**63}$"):
        Distribution.from_counts(np.full(2**10, 2**53, dtype=np.int64))


def test_the_largest_sums_are_kept_exactly():
    largest = Distribution.from_counts([2**63 - 2, 1])
    assert largest.total == 2**63 - 1 and isinstance(largest.total, int)
    assert largest.probabilities.tolist() == [1.0, 2.0**-63]
    assert Distribution.from_counts([1e308, 7e307]).total == 1.7e308


def test_uint64_counts_beyond_int64_are_refused():
    # astype(int64) would have made 2**63 a count of -2**63.
    with pytest.raises(ValueError, match=r"^counts must be at most 2\*\*63 - 1; symbol 1 has "
                                         rf"{2**63}$"):
        Distribution.from_counts(np.array([1, 2**63], dtype=np.uint64))
    assert Distribution.from_counts(np.array([0, 2**63 - 1], dtype=np.uint64)).total == 2**63 - 1


@pytest.mark.parametrize(("smoothing", "kind", "message"), [
    (float("nan"), ValueError, "smoothing must be a finite number >= 0, got nan"),
    (float("inf"), ValueError, "smoothing must be a finite number >= 0, got inf"),
    (-1, ValueError, "smoothing must be a finite number >= 0, got -1"),
    (True, TypeError, "smoothing must be a number, not bool"),
    ("0.5", TypeError, "smoothing must be a number, not str"),
])
def test_the_recorded_smoothing_is_a_finite_number(smoothing, kind, message):
    # It is written to codebook files, which hold no NaN or Infinity.
    with pytest.raises(kind) as caught:
        Distribution([1, 2], smoothing=smoothing)
    assert (type(caught.value), str(caught.value)) == (kind, message)
    assert Distribution([1, 2], smoothing=np.float64(0.5)).smoothing == 0.5


@pytest.mark.parametrize("backend", ["reference", "c"])
def test_counting_takes_a_fraction_of_the_datas_size_in_memory(backend, monkeypatch):
    # np.bincount turns its input into 8-byte integers: 8 MiB of bytes counted at once
    # took 64 MiB more.  A slice at a time (or the C counter), it takes a few.
    import tracemalloc

    from huffkit.kernels import backend as backends
    if backend == "c" and backends.compiled is None:
        pytest.skip("no compiled kernels")
    monkeypatch.setattr(backends, "kernels",
                        backends.compiled if backend == "c" else backends.reference)
    data = np.random.default_rng(4).integers(0, 256, 8 << 20, dtype=np.uint8).tobytes()
    tracemalloc.start()
    try:
        counts = Distribution.from_bytes(data).counts
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counts.tolist() == np.bincount(np.frombuffer(data, np.uint8), minlength=256).tolist()
    assert peak < 40 << 20


def test_the_reference_counts_a_slice_at_a_time(monkeypatch):
    from huffkit.kernels.reference import counting
    monkeypatch.setattr(counting, "_COUNT_SLICE", 7)
    symbols = np.random.default_rng(3).integers(0, 300, 1000)
    assert counting.count_symbols(symbols, 300).tolist() == np.bincount(
        symbols, minlength=300).tolist()
