"""Information measures: the source material's worked examples, scipy, and properties."""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import huffkit.models.measures
from huffkit import Codebook, Distribution
from huffkit.models.measures import (
    binary_cross_entropy,
    cross_entropy,
    entropy,
    js_divergence,
    kl_divergence,
)

LN2 = math.log(2)
TIGHT = {"rel": 1e-12, "abs": 1e-12}

MARBLES_P = [0.8, 0.1, 0.1]  # the data
MARBLES_Q = [0.2, 0.2, 0.6]  # the model
DYADIC = [1 / 2, 1 / 4, 1 / 8, 1 / 8]


# -- strategies ---------------------------------------------------------------


def count_vector(size: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 1000), min_size=size, max_size=size).filter(any)


count_pairs = st.integers(1, 20).flatmap(lambda n: st.tuples(count_vector(n), count_vector(n)))
positive_pairs = st.integers(1, 20).flatmap(
    lambda n: st.tuples(st.lists(st.integers(1, 1000), min_size=n, max_size=n),
                        st.lists(st.integers(1, 1000), min_size=n, max_size=n)))
bases = st.sampled_from([2, math.e, 10, 3.5, 0.5])
unit = st.floats(0, 1)


# -- the source material's worked examples ------------------------------------


def test_dyadic_distribution_has_entropy_one_and_three_quarter_bits():
    assert entropy(DYADIC) == 1.75
    assert entropy([4, 2, 1, 1]) == 1.75


def test_huffman_meets_the_entropy_of_a_dyadic_distribution():
    codebook = Codebook.from_distribution(Distribution.from_probabilities(DYADIC))
    assert codebook.lengths.tolist() == [1, 2, 3, 3]
    assert float(np.dot(DYADIC, codebook.lengths)) == 1.75 == entropy(DYADIC)


def test_fair_coin_is_one_bit_or_ln_2_nats():
    assert entropy([0.5, 0.5]) == 1.0
    assert entropy([0.5, 0.5], base=math.e) == pytest.approx(LN2, **TIGHT)
    assert round(entropy([0.5, 0.5], base=math.e), 3) == 0.693


def test_fair_die_is_ln_6_nats():
    assert entropy([1 / 6] * 6, base=math.e) == pytest.approx(math.log(6), **TIGHT)
    assert round(entropy([1] * 6, base=math.e), 3) == 1.792


def test_marbles_entropy_cross_entropy_and_kl_in_nats():
    assert round(entropy(MARBLES_P, base=math.e), 3) == 0.639
    assert round(cross_entropy(MARBLES_P, MARBLES_Q, base=math.e), 3) == 1.500
    assert round(kl_divergence(MARBLES_P, MARBLES_Q, base=math.e), 3) == 0.861


def test_marbles_exact_values():
    h = -(0.8 * math.log(0.8) + 0.2 * math.log(0.1))
    h_q = -(0.9 * math.log(0.2) + 0.1 * math.log(0.6))
    assert entropy(MARBLES_P, base=math.e) == pytest.approx(h, **TIGHT)
    assert cross_entropy(MARBLES_P, MARBLES_Q, base=math.e) == pytest.approx(h_q, **TIGHT)
    assert kl_divergence(MARBLES_P, MARBLES_Q, base=math.e) == pytest.approx(h_q - h, **TIGHT)


@pytest.mark.parametrize(("prediction", "bits"), [(0.6, 0.737), (0.9, 0.152), (0.3, 1.737)])
def test_binary_cross_entropy_of_label_one(prediction, bits):
    loss = binary_cross_entropy(1, prediction)
    assert isinstance(loss, float)
    assert round(loss, 3) == bits
    assert loss == pytest.approx(-math.log2(prediction), **TIGHT)


def test_binary_cross_entropy_of_label_one_as_an_array():
    losses = binary_cross_entropy(1, np.array([0.6, 0.9, 0.3]))
    assert isinstance(losses, np.ndarray)
    assert losses.dtype == np.float64
    assert np.round(losses, 3).tolist() == [0.737, 0.152, 1.737]


def test_entropy_of_sixty_forty_in_bits():
    assert round(entropy([0.6, 0.4]), 3) == 0.971
    assert binary_cross_entropy(0.6, 0.6) == pytest.approx(entropy([0.6, 0.4]), **TIGHT)


def test_docstring_examples():
    failures, attempted = doctest.testmod(huffkit.models.measures)
    assert attempted > 0
    assert failures == 0


# -- scipy as a reference -----------------------------------------------------


@given(count_pairs, bases)
def test_entropy_and_kl_agree_with_scipy(pair, base):
    stats = pytest.importorskip("scipy.stats")
    p, q = pair
    assert entropy(p, base=base) == pytest.approx(stats.entropy(p, base=base), **TIGHT)
    assert kl_divergence(p, q, base=base) == pytest.approx(
        stats.entropy(p, q, base=base), **TIGHT)


@given(count_pairs, st.sampled_from([2, math.e, 10, 3.5]))
def test_js_divergence_is_the_square_of_scipys_distance(pair, base):
    # Not base 0.5: there the divergence is negative and scipy's square root is NaN.
    distance = pytest.importorskip("scipy.spatial.distance")
    p, q = pair
    with warnings.catch_warnings():
        # scipy takes the square root of a sum that rounding can leave at -1e-17.
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = float(np.nan_to_num(distance.jensenshannon(p, q, base=base))) ** 2
    assert js_divergence(p, q, base=base) == pytest.approx(expected, **TIGHT)


# -- properties ---------------------------------------------------------------


@given(count_pairs)
def test_kl_is_never_negative(pair):
    assert kl_divergence(*pair) >= 0


@given(count_vector(8))
def test_kl_of_a_distribution_with_itself_is_zero(p):
    assert kl_divergence(p, p) == 0.0
    assert js_divergence(p, p) == 0.0
    assert cross_entropy(p, p) == entropy(p)


@given(positive_pairs, bases)
def test_cross_entropy_is_entropy_plus_kl(pair, base):
    p, q = pair
    assert cross_entropy(p, q, base=base) == pytest.approx(
        entropy(p, base=base) + kl_divergence(p, q, base=base), rel=1e-12, abs=1e-11)


@given(count_pairs)
def test_cross_entropy_is_at_least_the_entropy(pair):
    p, q = pair
    assert cross_entropy(p, q) >= entropy(p) - 1e-12


@given(count_pairs)
def test_js_is_symmetric_bounded_by_one_bit_and_finite(pair):
    p, q = pair
    js = js_divergence(p, q)
    assert js == js_divergence(q, p)
    assert 0 <= js <= 1
    assert js_divergence(p, q, base=math.e) <= LN2


def test_a_base_below_one_flips_the_sign():
    assert entropy([1, 1], base=0.5) == -1.0
    assert js_divergence([0, 1], [1, 0], base=0.5) == -1.0
    assert kl_divergence([1, 1], [1, 0], base=0.5) == -math.inf


def test_js_of_disjoint_supports_is_one_bit():
    assert js_divergence([1, 0, 0], [0, 3, 5]) == 1.0
    assert js_divergence([1, 0], [0, 1], base=math.e) == pytest.approx(LN2, **TIGHT)


@given(count_pairs, st.sampled_from([1, 3, 1000]))
def test_counts_and_probabilities_give_the_same_results(pair, scale):
    p, q = pair
    p_probabilities = np.asarray(p) / sum(p)
    q_probabilities = np.asarray(q) / sum(q)
    p_scaled = [count * scale for count in p]
    for measure in (cross_entropy, kl_divergence, js_divergence):
        expected = measure(p_probabilities, q_probabilities)
        assert measure(p, q) == pytest.approx(expected, **TIGHT)
        assert measure(p_scaled, q) == pytest.approx(expected, **TIGHT)
    assert entropy(p) == pytest.approx(entropy(p_probabilities), **TIGHT)


@given(count_pairs, st.sampled_from([math.e, 10, 3.5, 0.5]))
def test_base_changes_only_the_unit(pair, base):
    p, q = pair
    for measure, args in ((entropy, (p,)), (cross_entropy, (p, q)),
                          (kl_divergence, (p, q)), (js_divergence, (p, q))):
        bits = measure(*args)
        assert measure(*args, base=base) == pytest.approx(
            bits * LN2 / math.log(base), **TIGHT)
    assert entropy(p, base=math.e) == pytest.approx(entropy(p) * LN2, **TIGHT)


def test_results_are_python_floats():
    for value in (entropy([1, 2]), cross_entropy([1, 2], [2, 1]), kl_divergence([1, 2], [2, 1]),
                  js_divergence([1, 2], [2, 1]), binary_cross_entropy(1, 0.5),
                  cross_entropy([1, 0], [0, 1]), kl_divergence([1, 0], [0, 1])):
        assert type(value) is float


def test_a_certain_outcome_has_zero_entropy():
    assert entropy([0, 7, 0]) == 0.0
    assert math.copysign(1, entropy([1])) == 1  # not -0.0


def test_zero_probability_symbols_contribute_nothing():
    assert entropy([1, 1, 0, 0]) == 1.0
    assert cross_entropy([1, 0], [1, 1]) == 1.0
    assert kl_divergence([1, 0], [1, 1]) == 1.0
    assert kl_divergence([1, 1, 0], [1, 1, 5]) == pytest.approx(math.log2(7 / 2), **TIGHT)


# -- infinities ----------------------------------------------------------------


def test_a_model_that_rules_out_seen_symbols_costs_infinitely_much():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cross_entropy([1, 1], [1, 0]) == math.inf
        assert kl_divergence([1, 1], [1, 0]) == math.inf
        assert kl_divergence([1, 1], [1, 0], base=math.e) == math.inf
        # The other way round, the symbol q has but p lacks costs nothing extra.
        assert kl_divergence([1, 0], [1, 1]) == 1.0
        assert math.isfinite(js_divergence([1, 1], [1, 0]))
        assert binary_cross_entropy(1, 0.0) == math.inf
        assert binary_cross_entropy(0, 1.0) == math.inf
        assert binary_cross_entropy(0.5, 0.0) == math.inf


def test_certain_and_correct_predictions_cost_nothing_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = binary_cross_entropy([1, 0, 1, 0], [1.0, 0.0, 0.0, 1.0])
    assert losses.tolist() == [0.0, 0.0, math.inf, math.inf]
    assert not np.signbit(losses).any()


def test_kl_stays_finite_when_the_model_probability_is_subnormal():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kl = kl_divergence([0.5, 0.5], [1.0, 5e-324], base=math.e)
    expected = 0.5 * math.log(0.5) + 0.5 * (math.log(0.5) - math.log(5e-324))
    assert kl == pytest.approx(expected, **TIGHT)


def test_huge_counts_do_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert entropy([1e308, 1e308]) == 1.0
        assert kl_divergence([1e308, 1e308], [1, 1]) == 0.0


# -- Distribution objects -----------------------------------------------------


def test_distribution_objects_are_accepted():
    data = Distribution.from_bytes(b"abracadabra")
    model = Distribution.from_counts([1] * 256)
    counts = data.counts
    assert entropy(data) == entropy(counts)
    assert entropy(data) == pytest.approx(entropy([5, 2, 2, 1, 1]), **TIGHT)
    assert cross_entropy(data, model) == pytest.approx(8.0, **TIGHT)
    assert kl_divergence(data, model) == pytest.approx(8.0 - entropy(data), **TIGHT)
    assert js_divergence(data, counts) == 0.0
    assert kl_divergence(counts, model) == kl_divergence(data, model)


def test_an_empty_distribution_object_is_rejected():
    with pytest.raises(ValueError, match="p is all zeros"):
        entropy(Distribution.from_bytes(b""))


# -- binary cross-entropy -----------------------------------------------------


@given(unit, unit, bases)
def test_binary_cross_entropy_is_a_two_symbol_cross_entropy(y, y_hat, base):
    expected = cross_entropy([y, 1 - y], [y_hat, 1 - y_hat], base=base)
    assert binary_cross_entropy(y, y_hat, base=base) == pytest.approx(expected, **TIGHT)


def test_binary_cross_entropy_broadcasts_and_does_not_average():
    labels = np.array([[1], [0]])
    predictions = np.array([0.5, 0.25, 0.75])
    losses = binary_cross_entropy(labels, predictions)
    assert losses.shape == (2, 3)
    expected = [[1.0, 2.0, -math.log2(0.75)], [1.0, -math.log2(0.75), 2.0]]
    assert losses == pytest.approx(np.array(expected), **TIGHT)
    assert binary_cross_entropy([1, 1], 0.5).tolist() == [1.0, 1.0]
    assert binary_cross_entropy(np.float64(1), np.float64(0.5)) == 1.0


def test_binary_cross_entropy_takes_boolean_labels_and_tiny_predictions():
    assert binary_cross_entropy(np.array([True, False]), 0.5).tolist() == [1.0, 1.0]
    # log1p keeps the loss of a near-certain correct prediction accurate.
    assert binary_cross_entropy(0, 1e-20, base=math.e) == pytest.approx(1e-20, rel=1e-12)


def test_binary_cross_entropy_of_empty_arrays_is_empty():
    assert binary_cross_entropy([], []).shape == (0,)


@pytest.mark.parametrize(("y", "y_hat", "message"), [
    (1.5, 0.5, r"y must be a probability in \[0, 1\], got 1\.5"),
    (1, -0.1, r"y_hat must be a probability in \[0, 1\], got -0\.1"),
    (1, float("nan"), r"y_hat must be a probability in \[0, 1\], got nan"),
    ([1, 0, 2], 0.5, r"y must hold probabilities in \[0, 1\]; element 2 is 2\.0"),
    (1, [[0.5, 0.5], [0.5, 1.1]], r"y_hat .*; element \(1, 1\) is 1\.1"),
    ([1, 0], [0.5, 0.5, 0.5], r"broadcast together, got shapes \(2,\) and \(3,\)"),
])
def test_binary_cross_entropy_rejects_bad_values(y, y_hat, message):
    with pytest.raises(ValueError, match=message):
        binary_cross_entropy(y, y_hat)


def test_binary_cross_entropy_rejects_non_numbers():
    with pytest.raises(TypeError, match="y_hat must be a number or an array of numbers"):
        binary_cross_entropy(1, "0.5")


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize("measure", [cross_entropy, kl_divergence, js_divergence])
def test_p_and_q_must_have_the_same_length(measure):
    with pytest.raises(ValueError, match=r"p and q must have the same length .* got 3 and 4"):
        measure([1, 2, 3], [1, 2, 3, 4])


@pytest.mark.parametrize(("p", "error", "message"), [
    ([], ValueError, "p is empty"),
    ([0, 0, 0], ValueError, "p is all zeros: at least one symbol needs a positive"),
    ([0.0, 0.0], ValueError, "p is all zeros"),
    ([1, -2, 3], ValueError, r"p must be non-negative; symbol 1 has -2\.0"),
    ([0.5, float("nan")], ValueError, "p must be finite; symbol 1 is nan"),
    ([0.5, float("inf")], ValueError, "p must be finite; symbol 1 is inf"),
    ([[1, 0], [3, 0]], ValueError, r"p is all zeros in slice \(1,\): every slice needs"),
    (3, ValueError, r"1-D sequence .* shape \(\)"),
    (["a", "b"], TypeError, "p must be counts or probabilities"),
    ([True, False], TypeError, "p must be counts or probabilities"),
    ([1 + 2j], TypeError, "got dtype complex128"),
])
def test_bad_distributions_are_rejected(p, error, message):
    with pytest.raises(error, match=message):
        entropy(p)


@pytest.mark.parametrize("measure", [cross_entropy, kl_divergence, js_divergence])
def test_a_bad_model_is_named_q(measure):
    with pytest.raises(ValueError, match="q is all zeros"):
        measure([1, 1], [0, 0])
    with pytest.raises(ValueError, match=r"q must be non-negative; symbol 0 has -1\.0"):
        measure([1, 1], [-1, 2])


@pytest.mark.parametrize("base", [1, 0, -2, math.inf, math.nan, 1.0])
def test_base_must_be_positive_and_not_one(base):
    for call in (lambda: entropy([1, 1], base=base),
                 lambda: kl_divergence([1, 1], [1, 2], base=base),
                 lambda: binary_cross_entropy(1, 0.5, base=base)):
        with pytest.raises(ValueError, match="base must be a finite number > 0 other than 1"):
            call()


@pytest.mark.parametrize("base", ["2", None, True])
def test_base_must_be_a_number(base):
    with pytest.raises(TypeError, match="base must be a number"):
        entropy([1, 1], base=base)


def test_inputs_are_not_mutated():
    p = np.array([3.0, 1.0])
    q = np.array([1.0, 1.0])
    kl_divergence(p, q)
    js_divergence(p, q)
    assert p.tolist() == [3.0, 1.0]
    assert q.tolist() == [1.0, 1.0]
