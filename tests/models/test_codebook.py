"""Code lengths, length limits and canonical codes."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from bitarray.util import huffman_code
from hypothesis import given
from hypothesis import strategies as st

from huffkit import Codebook, CodebookError, Distribution
from huffkit.models.codebook import canonical_codes, huffman_lengths, kraft_sum, limited_lengths


def fibonacci(count: int) -> list[int]:
    numbers = [1, 1]
    while len(numbers) < count:
        numbers.append(numbers[-1] + numbers[-2])
    return numbers[:count]


def cost(weights, lengths) -> int:
    return int(np.dot(np.asarray(weights, dtype=np.int64), np.asarray(lengths, dtype=np.int64)))


def assert_prefix_free(codebook: Codebook) -> None:
    words = sorted(codebook.codewords().values())
    for shorter, longer in itertools.pairwise(words):
        assert not longer.startswith(shorter), (shorter, longer)


def brute_force_best_cost(weights: list[int], max_length: int) -> int:
    """The cheapest lengths in 1..max_length satisfying Kraft, by trying them all."""
    best = None
    for lengths in itertools.product(range(1, max_length + 1), repeat=len(weights)):
        if sum(Fraction(1, 2**length) for length in lengths) <= 1:
            total = cost(weights, lengths)
            best = total if best is None else min(best, total)
    return best


counts_strategy = st.lists(st.integers(0, 10**6), min_size=1, max_size=256).filter(
    lambda counts: sum(1 for c in counts if c) >= 2)


# -- Huffman -------------------------------------------------------------------


@given(counts_strategy)
def test_huffman_matches_an_independent_huffman_in_total_cost(counts):
    lengths = huffman_lengths(np.array(counts))
    reference = huffman_code({symbol: c for symbol, c in enumerate(counts) if c})
    assert cost(counts, lengths) == sum(counts[s] * len(code) for s, code in reference.items())
    assert kraft_sum(lengths) == 1
    assert np.all((lengths > 0) == (np.array(counts) > 0))


@given(counts_strategy)
def test_codebook_is_a_complete_prefix_code(counts):
    codebook = Codebook.from_distribution(Distribution.from_counts(counts), max_code_length=None)
    assert kraft_sum(codebook.lengths) == 1
    assert_prefix_free(codebook)
    for symbol, word in codebook.codewords().items():
        assert len(word) == codebook.lengths[symbol]


def test_tie_breaking_is_the_documented_one():
    # Five equal weights: leaves (0,1) merge first, then (2,3); leaf 4 then beats the
    # merged nodes on the tie, so symbols 0 and 1 end up deepest.
    assert huffman_lengths(np.ones(5, dtype=np.int64)).tolist() == [3, 3, 2, 2, 2]
    codebook = Codebook.from_lengths([3, 3, 2, 2, 2])
    assert codebook.codewords() == {2: "00", 3: "01", 4: "10", 0: "110", 1: "111"}


def test_worked_example_dyadic_distribution():
    codebook = Codebook.from_distribution(
        Distribution.from_probabilities([0.5, 0.25, 0.125, 0.125]))
    assert codebook.lengths.tolist() == [1, 2, 3, 3]
    assert codebook.codewords() == {0: "0", 1: "10", 2: "110", 3: "111"}


def test_same_counts_always_give_the_same_code():
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 5, 256)  # many ties
    first = Codebook.from_distribution(Distribution.from_counts(counts))
    for _ in range(3):
        again = Codebook.from_distribution(Distribution.from_counts(counts.copy()))
        assert np.array_equal(first.lengths, again.lengths)
        assert np.array_equal(first.codes, again.codes)


# -- edge cases -------------------------------------------------------------------


def test_empty_distribution_has_no_code():
    with pytest.raises(CodebookError, match="empty distribution"):
        Codebook.from_distribution(Distribution.from_counts(np.zeros(256, dtype=int)))


def test_one_symbol_gets_a_one_bit_code():
    counts = np.zeros(256, dtype=int)
    counts[97] = 1000
    codebook = Codebook.from_distribution(Distribution.from_counts(counts))
    assert codebook.lengths[97] == 1
    assert np.count_nonzero(codebook.lengths) == 1
    assert codebook.codewords() == {97: "0"}


def test_two_symbols_get_one_bit_each():
    codebook = Codebook.from_distribution(Distribution.from_counts([5, 0, 1]))
    assert codebook.lengths.tolist() == [1, 0, 1]
    assert codebook.codewords() == {0: "0", 2: "1"}


def test_all_256_symbols_equally_likely_get_eight_bits():
    codebook = Codebook.from_distribution(Distribution.from_counts(np.full(256, 3)))
    assert set(codebook.lengths.tolist()) == {8}
    assert codebook.codewords()[0] == "00000000"
    assert codebook.codewords()[255] == "11111111"


def test_fibonacci_counts_need_the_limit():
    counts = fibonacci(30)
    unlimited = Codebook.from_distribution(Distribution.from_counts(counts), max_code_length=None)
    assert unlimited.max_length == 29
    limited = Codebook.from_distribution(Distribution.from_counts(counts))
    assert limited.max_length == 15
    assert kraft_sum(limited.lengths) == 1
    assert_prefix_free(limited)
    assert cost(counts, limited.lengths) >= cost(counts, unlimited.lengths)


def test_limit_too_small_for_the_alphabet_is_a_codebook_error():
    with pytest.raises(CodebookError, match=r"256 distinct symbols need codes of at least 8 bits"):
        Codebook.from_distribution(Distribution.from_counts(np.ones(256, dtype=int)),
                                   max_code_length=7)


@pytest.mark.parametrize("bad", [0, -3])
def test_nonpositive_limit_is_a_value_error(bad):
    with pytest.raises(ValueError, match="max_code_length must be at least 1"):
        Codebook.from_distribution(Distribution.from_counts([1, 2]), max_code_length=bad)


def test_inputs_are_not_mutated():
    counts = np.array([5, 1, 1, 9, 0, 3])
    before = counts.copy()
    distribution = Distribution.from_counts(counts)
    Codebook.from_distribution(distribution, max_code_length=3)
    assert np.array_equal(counts, before)
    with pytest.raises(ValueError):
        distribution.counts[0] = 7
    codebook = Codebook.from_distribution(distribution)
    with pytest.raises(ValueError):
        codebook.lengths[0] = 1


# -- length-limited codes ------------------------------------------------------


@given(st.lists(st.integers(1, 1000), min_size=2, max_size=6), st.integers(1, 5))
def test_limited_code_is_optimal_by_brute_force(weights, max_length):
    if 2**max_length < len(weights):
        with pytest.raises(CodebookError):
            limited_lengths(np.array(weights), max_length)
        return
    lengths = limited_lengths(np.array(weights), max_length)
    assert lengths.max() <= max_length
    assert kraft_sum(lengths) == 1
    assert cost(weights, lengths) == brute_force_best_cost(weights, max_length)


@given(counts_strategy, st.integers(8, 20))
def test_limited_code_equals_huffman_cost_when_the_limit_does_not_bind(counts, max_length):
    unlimited = huffman_lengths(np.array(counts))
    limited = limited_lengths(np.array(counts), max_length)
    assert limited.max() <= max_length
    assert kraft_sum(limited) == 1
    if unlimited.max() <= max_length:
        assert cost(counts, limited) == cost(counts, unlimited)
    else:
        assert cost(counts, limited) > cost(counts, unlimited)


@given(st.lists(st.integers(1, 50), min_size=3, max_size=40), st.integers(6, 12))
def test_limited_code_is_no_worse_than_clipping_and_repairing(weights, max_length):
    # A simple, suboptimal alternative: clip long codes, then lengthen the shortest
    # codes until Kraft holds.  An optimal code can never cost more.
    lengths = huffman_lengths(np.array(weights)).tolist()
    lengths = [min(length, max_length) for length in lengths]
    while sum(Fraction(1, 2**length) for length in lengths) > 1:
        candidates = [i for i, length in enumerate(lengths) if length < max_length]
        lightest = min(candidates, key=lambda i: (weights[i], -lengths[i]))
        lengths[lightest] += 1
    assert cost(weights, limited_lengths(np.array(weights), max_length)) <= cost(weights, lengths)


# -- canonical codes and validation ---------------------------------------------


@given(counts_strategy)
def test_canonical_codes_count_up_in_length_then_symbol_order(counts):
    lengths = huffman_lengths(np.array(counts))
    codes = canonical_codes(lengths)
    order = sorted(np.flatnonzero(lengths), key=lambda s: (lengths[s], s))
    assert codes[order[0]] == 0
    for previous, current in itertools.pairwise(order):
        expected = (int(codes[previous]) + 1) << int(lengths[current] - lengths[previous])
        assert int(codes[current]) == expected


@pytest.mark.parametrize(("lengths", "message"), [
    ([1, 1, 1], r"violate the Kraft inequality \(sum 3/2 > 1\)"),
    ([1, 2, 0], r"incomplete \(Kraft sum 3/4 < 1\)"),
    ([0, 2, 0], "single-symbol code must have length 1"),
    ([0, 0, 0], "at least one symbol"),
    ([-1, 1, 1], "non-negative"),
])
def test_from_lengths_rejects_invalid_codes(lengths, message):
    with pytest.raises(CodebookError, match=message):
        Codebook.from_lengths(lengths)


def test_cost_refuses_symbols_without_a_code():
    codebook = Codebook.from_lengths([1, 1, 0])
    assert codebook.cost([4, 5, 0]) == 9
    with pytest.raises(CodebookError, match=r"symbols \[2\] occur but have no code"):
        codebook.cost([4, 5, 1])
