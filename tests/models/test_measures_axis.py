"""The measures on n-D arrays, slice by slice along ``axis=``, against scipy.stats.entropy."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from huffkit import Distribution, HuffmanError
from huffkit.models.measures import (
    ShapeError,
    cross_entropy,
    entropy,
    js_divergence,
    kl_divergence,
)

scipy_stats = pytest.importorskip("scipy.stats")
scipy_distance = pytest.importorskip("scipy.spatial.distance")

TIGHT = {"rel": 1e-12, "abs": 1e-12}
MEASURES = [cross_entropy, kl_divergence, js_divergence]


def random_counts(seed: int, shape: tuple[int, ...], *, zeros: bool) -> np.ndarray:
    """Counts with every slice along every axis non-zero (a 1 on a diagonal of sorts)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4 if zeros else 50, size=shape) + (0 if zeros else 1)
    for axis in range(counts.ndim):
        index = [slice(None)] * counts.ndim
        index[axis] = 0
        # Each slice along *axis* has a positive first entry: no all-zero distribution.
        counts[tuple(index)] = np.maximum(counts[tuple(index)], 1)
    return counts


@pytest.mark.parametrize("shape", [(5, 3), (4, 6, 2), (7,)])
@pytest.mark.parametrize("axis", [0, -1, 1, None])
@pytest.mark.parametrize("base", [2, math.e, 10, 3.5])
@pytest.mark.parametrize("zeros", [False, True])
def test_entropy_and_kl_agree_with_scipy(shape, axis, base, zeros):
    if axis == 1 and len(shape) == 1:
        pytest.skip("no axis 1")
    p = random_counts(1, shape, zeros=zeros)
    q = random_counts(2, shape, zeros=zeros)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got_h = entropy(p, base=base, axis=axis)
        got_kl = kl_divergence(p, q, base=base, axis=axis)
        got_ce = cross_entropy(p, q, base=base, axis=axis)
    want_h = scipy_stats.entropy(p, base=base, axis=axis)
    want_kl = scipy_stats.entropy(p, q, base=base, axis=axis)
    np.testing.assert_allclose(got_h, want_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_kl, want_kl, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_ce, want_h + want_kl, rtol=1e-12, atol=1e-12)
    if zeros:
        assert np.isinf(want_kl).any()  # the case of q = 0 < p is exercised
    if len(shape) == 1 or axis is None:
        assert type(got_h) is float and type(got_kl) is float and type(got_ce) is float
    else:
        expected = tuple(np.delete(np.array(shape), axis))
        for got in (got_h, got_kl, got_ce):
            assert isinstance(got, np.ndarray) and got.dtype == np.float64
            assert got.shape == expected


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_js_divergence_is_scipys_distance_squared(axis):
    p = random_counts(3, (6, 5), zeros=True)
    q = random_counts(4, (6, 5), zeros=True)
    want = scipy_distance.jensenshannon(p, q, base=2, axis=axis) ** 2
    np.testing.assert_allclose(js_divergence(p, q, axis=axis), want, rtol=1e-9, atol=1e-12)


def test_each_slice_is_what_the_1d_call_gives_bit_for_bit():
    p = random_counts(5, (8, 4), zeros=True)
    q = random_counts(6, (8, 4), zeros=False)
    for measure in (entropy, *MEASURES):
        columns = measure(p, q) if measure is not entropy else measure(p)
        for j in range(4):
            one = measure(p[:, j], q[:, j]) if measure is not entropy else measure(p[:, j])
            assert columns[j] == pytest.approx(one, **TIGHT)


def test_hand_made_cases():
    table = [[1, 1], [1, 0], [2, 0]]  # columns: (1, 1, 2) and (1, 0, 0)
    assert entropy(table).tolist() == [1.5, 0.0]
    assert entropy(table, axis=1).tolist() == [1.0, 0.0, 0.0]
    assert entropy(table, axis=None) == pytest.approx(
        -(3 * 0.2 * math.log2(0.2) + 0.4 * math.log2(0.4)), **TIGHT)
    assert entropy([[1, 1], [1, 1]], axis=None) == 2.0
    rows = [[1, 0], [0, 1]]
    assert cross_entropy(rows, [1, 1], axis=1).tolist() == [1.0, 1.0]
    assert cross_entropy(rows, [1, 0], axis=1).tolist() == [0.0, math.inf]
    assert kl_divergence(rows, [1, 1], axis=1).tolist() == [1.0, 1.0]
    assert kl_divergence(rows, [[1, 0], [1, 0]], axis=1).tolist() == [0.0, math.inf]
    assert js_divergence(rows, [[1, 0], [1, 0]], axis=1).tolist() == [0.0, 1.0]
    assert entropy([[1, 1], [1, 1]], base=0.5).tolist() == [-1.0, -1.0]
    assert kl_divergence(rows, [1, 1], axis=1, base=math.e).tolist() == [
        pytest.approx(math.log(2), **TIGHT)] * 2


def test_one_model_against_many_distributions_broadcasts():
    p = np.array([[8, 1, 1], [1, 1, 8], [1, 8, 1]])
    q = np.array([2, 2, 6])
    got = kl_divergence(p, q, axis=1)
    assert got.tolist() == [kl_divergence(row, q) for row in p]
    # q as a column (shape (3, 1)) does the same along axis 0 of p.T
    assert kl_divergence(p.T, q[:, None], axis=0).tolist() == got.tolist()
    # as in scipy, the symbols' axis itself does not broadcast
    with pytest.raises(ShapeError, match=r"same length along axis 0 .* got 3 and 1"):
        kl_divergence(p, q, axis=0)


def test_a_distribution_is_1d():
    d = Distribution.from_counts([4, 2, 1, 1])
    assert entropy(d) == 1.75 == entropy(d, axis=-1) == entropy(d, axis=None)
    # numpy's rules put a 1-D p along the last axis of a 2-D q: one model per row
    assert kl_divergence(d, [[4, 2, 1, 1], [1, 1, 1, 1]], axis=1).tolist() == [
        0.0, kl_divergence(d, [1, 1, 1, 1])]


def test_the_1d_default_is_unchanged():
    assert entropy([1 / 2, 1 / 4, 1 / 8, 1 / 8]) == 1.75
    assert type(entropy([5, 5])) is float
    assert kl_divergence([1, 0], [0, 1]) == math.inf
    assert js_divergence([1, 0], [0, 1]) == 1.0


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize("measure", MEASURES)
def test_lengths_along_the_axis_must_match(measure):
    with pytest.raises(ShapeError, match=r"^p and q must have the same length along axis 1 "
                                         r"\(one entry per symbol\), got 3 and 4 \(shapes "
                                         r"\(2, 3\) and \(2, 4\)\)$"):
        measure(np.ones((2, 3)), np.ones((2, 4)), axis=1)
    with pytest.raises(ShapeError, match=r"^p and q must have the same length \(one entry per "
                                         r"symbol\), got 3 and 4$"):
        measure([1, 2, 3], [1, 2, 3, 4])


@pytest.mark.parametrize("measure", MEASURES)
def test_other_axes_must_broadcast(measure):
    message = (r"^p and q of shapes \(2, 3\) and \(5, 3\) do not pair up: apart from the "
               r"symbols' axis 1, their shapes must be equal or broadcast together \(numpy's "
               r"rules\), e\.g\. one q for many p's$")
    with pytest.raises(ShapeError, match=message):
        measure(np.ones((2, 3)), np.ones((5, 3)), axis=1)


def test_shape_errors_are_huffman_errors_and_value_errors():
    assert issubclass(ShapeError, HuffmanError)
    assert issubclass(ShapeError, ValueError)


def test_axis_out_of_range():
    with pytest.raises(ShapeError, match=r"^axis 1 is out of range for p of shape \(2,\): give "
                                         r"an axis from -1 to 0 \(the one that holds the "
                                         r"symbols\), or None to read the whole array as one "
                                         r"distribution$"):
        entropy([1, 2], axis=1)
    with pytest.raises(ShapeError, match=r"axis -4 is out of range for p and q of shapes "
                                         r"\(2, 2, 2\) and \(2, 2\): give an axis from -3"):
        kl_divergence(np.ones((2, 2, 2)), np.ones((2, 2)), axis=-4)
    with pytest.raises(ShapeError, match=r"1-D sequence .* shape \(\)"):
        entropy(3)


def test_bad_axis_type():
    with pytest.raises(TypeError, match=r"^axis must be an int or None, got str$"):
        entropy([1, 2], axis="0")
    with pytest.raises(TypeError, match=r"^axis must be an int or None, got bool$"):
        entropy([1, 2], axis=True)


def test_bad_values_name_their_place_in_the_array():
    with pytest.raises(ValueError, match=r"^p must be non-negative; symbol 1 of slice \(0,\) "
                                         r"has -1\.0$"):
        entropy([[1, -1], [1, 1]], axis=1)
    with pytest.raises(ValueError, match=r"^q must be finite; symbol 0 of slice \(1,\) is nan$"):
        kl_divergence(np.ones((2, 2)), [[1, np.nan], [1, 1]], axis=0)
    with pytest.raises(ValueError, match=r"^p is empty"):
        entropy(np.ones((0, 3)))
    assert entropy(np.ones((3, 0))).shape == (0,)  # no slices, each of 3 symbols: no values


def test_huge_weights_are_scaled_per_slice():
    p = np.array([[1e308, 1e308], [1.0, 3.0]])
    assert entropy(p, axis=1).tolist() == [1.0, pytest.approx(entropy([1, 3]), **TIGHT)]
