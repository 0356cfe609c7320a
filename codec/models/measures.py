"""Information measures: entropy, cross-entropy, KL and JS divergence, BCE.

What they mean for coding, with P the distribution of the data and Q a model:

* ``entropy(P)`` = H(P), the bits per symbol an ideal code for P needs; no
  lossless code for order-0 data from P does better on average.
* ``cross_entropy(P, Q)`` = H_Q(P), what an ideal code built for Q pays per
  symbol on data drawn from P.
* ``kl_divergence(P, Q)`` = D(P||Q) = H_Q(P) - H(P), the bits per symbol
  wasted by coding with the wrong model: zero only when Q = P.
* ``js_divergence(P, Q)``, a symmetric, always finite cousin of KL, at most
  one bit.
* ``binary_cross_entropy(y, y_hat)``, the cross-entropy of one yes/no outcome
  against a predicted probability, as used to score classifiers.

Distributions may be given as counts or probabilities (each is normalised to
sum 1, as :func:`scipy.stats.entropy` does) or as :class:`Distribution`
objects.  Results are in bits by default; ``base=math.e`` gives nats and any
other base > 0 other than 1 works too (below 1 every logarithm, and so every
result, changes sign).  By convention 0 log 0 = 0, and a symbol the data has
but the model gives probability 0 costs ``math.inf``.  No numpy warnings are
emitted for these cases.

As with ``scipy.stats.entropy(pk, qk, base, axis)``, the distributions may be
n-D arrays holding many distributions: ``axis`` (0 by default) is the axis of
the symbols, and the result is a float64 array with one value per slice along
the other axes (the shape without ``axis``).  For p and q those other axes
broadcast against each other, so one model q (1-D) can be measured against a
whole table of p's.  ``axis=None`` reads the whole array, flattened, as one
distribution (the joint entropy of a table of joint counts, say).  A 1-D
input, or ``axis=None``, gives a plain ``float``, as before.  Shapes that do
not pair up raise :class:`ShapeError`, which says what to change.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._errors import ShapeError
from .distribution import Distribution

__all__ = [
    "ShapeError",
    "binary_cross_entropy",
    "conditional_entropy_bits",
    "cross_entropy",
    "entropy",
    "js_divergence",
    "kl_divergence",
]

Floats = NDArray[np.float64]
_Log = Callable[[Floats], Floats]
#: The inputs whose measure is a float whatever the axis: one distribution.
_One = Distribution | Sequence[float]


def _log_in(base: float) -> tuple[_Log, float]:
    """The logarithm to *base*, and the sign of the measures in that base.

    Bases 2, e and 10 use numpy's own functions, so that for example the
    entropy of (1/2, 1/4, 1/8, 1/8) is exactly 1.75 bits.  Below base 1 every
    logarithm, and so every measure, changes sign: the sign is -1 there.
    """
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be a number, got {type(base).__name__}")
    base = float(base)
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be a finite number > 0 other than 1 (2 for bits, "
                         f"math.e for nats), got {base!r}")
    sign = 1.0 if base > 1 else -1.0
    if base == 2:
        return np.log2, sign
    if base == math.e:
        return np.log, sign
    if base == 10:
        return np.log10, sign
    scale = math.log(base)

    def log(values: Floats) -> Floats:
        return np.log(values) / scale

    return log, sign


def _checked(values: Any, name: str) -> NDArray[Any]:
    """*values* as an array of real numbers, at least 1-D."""
    if isinstance(values, Distribution):
        values = values.counts
    array = np.asarray(values)
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be counts or probabilities (real numbers) or a "
                        f"Distribution, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ShapeError(f"{name} must be a 1-D sequence with one entry per symbol (or an "
                         f"n-D array with the symbols along axis=), got an array of shape ()")
    return array


def _axis(axis: int, ndim: int, what: str) -> int:
    """*axis* checked against *ndim* dimensions, as a non-negative index."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int or None, got {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ShapeError(f"axis {axis} is out of range for {what}: give an axis from {-ndim} "
                         f"to {ndim - 1} (the one that holds the symbols), or None to read "
                         "the whole array as one distribution")
    return int(axis) % ndim


def _symbols_last(values: Any, name: str, axis: int | None) -> NDArray[Any]:
    """*values* as an array whose last axis holds the symbols (*axis* moved there; None:
    flattened), checked to be real numbers."""
    array = _checked(values, name)
    if axis is None:
        return array.reshape(-1)
    return np.moveaxis(array, _axis(axis, array.ndim, f"{name} of shape {array.shape}"), -1)


def _first(mask: NDArray[np.bool_]) -> str:
    """Where the first true element of *mask* (symbols last) is, in words."""
    index = np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape)
    symbol = int(index[-1])
    rest = tuple(int(i) for i in index[:-1])
    return f"symbol {symbol}" if not rest else f"symbol {symbol} of slice {rest}"


def _normalised(array: NDArray[Any], name: str) -> Floats:
    """Validate counts or probabilities (symbols last) and scale each slice to sum 1."""
    if array.shape[-1] == 0:
        raise ValueError(f"{name} is empty: give one count or probability per symbol")
    floats = array.astype(np.float64)
    if floats.size == 0:  # no slices (another axis has length 0): nothing to measure
        return floats
    finite = np.isfinite(floats)
    if not finite.all():
        where = ~finite
        raise ValueError(f"{name} must be finite; {_first(where)} is {floats[where][0]}")
    lowest = floats.min()
    if lowest < 0:
        raise ValueError(f"{name} must be non-negative; {_first(floats == lowest)} has "
                         f"{lowest}")
    with np.errstate(over="ignore"):
        totals = floats.sum(axis=-1, keepdims=True)
    empty = totals[..., 0] == 0
    if empty.any():
        if floats.ndim == 1:
            raise ValueError(f"{name} is all zeros: at least one symbol needs a positive "
                             "count or probability")
        slice_ = tuple(int(i) for i in np.argwhere(empty)[0])
        raise ValueError(f"{name} is all zeros in slice {slice_}: every slice needs at least "
                         "one symbol with a positive count or probability")
    overflowed = ~np.isfinite(totals)
    if overflowed.any():
        # The sum of large finite weights overflowed: scale those slices down first.
        floats = np.where(overflowed, floats / floats.max(axis=-1, keepdims=True), floats)
        totals = floats.sum(axis=-1, keepdims=True)
    normalised: Floats = floats / totals
    return normalised


def _one(p: Any, name: str, axis: int | None) -> Floats:
    return _normalised(_symbols_last(p, name, axis), name)


def _pair(p: Any, q: Any, axis: int | None) -> tuple[Floats, Floats]:
    """p and q normalised, symbols last, broadcast to one shape.

    As for ``scipy.stats.entropy``, p and q broadcast against each other by numpy's rules
    (so a 1-D q pairs with every row of a 2-D p along axis 1, or -1), but not along the
    symbols' axis: there they must have the same length."""
    p_array = _checked(p, "p")
    q_array = _checked(q, "q")
    if axis is None:
        p_array, q_array = p_array.reshape(-1), q_array.reshape(-1)
        axis = 0
    ndim = max(p_array.ndim, q_array.ndim)
    shapes = f"shapes {p_array.shape} and {q_array.shape}"
    if ndim > 1:
        axis = _axis(axis, ndim, f"p and q of {shapes}")
        p_array = p_array.reshape((1,) * (ndim - p_array.ndim) + p_array.shape)
        q_array = q_array.reshape((1,) * (ndim - q_array.ndim) + q_array.shape)
    else:
        axis = _axis(axis, 1, f"p and q of {shapes}")
    if p_array.shape[axis] != q_array.shape[axis]:
        along = f" along axis {axis}" if ndim > 1 else ""
        given = f" ({shapes})" if ndim > 1 else ""
        raise ShapeError(f"p and q must have the same length{along} (one entry per symbol), "
                         f"got {p_array.shape[axis]} and {q_array.shape[axis]}{given}")
    try:
        shape = np.broadcast_shapes(p_array.shape, q_array.shape)
    except ValueError:
        raise ShapeError(f"p and q of {shapes} do not pair up: apart from the symbols' axis "
                         f"{axis}, their shapes must be equal or broadcast together (numpy's "
                         "rules), e.g. one q for many p's") from None
    p_last = np.moveaxis(np.broadcast_to(p_array, shape), axis, -1)
    q_last = np.moveaxis(np.broadcast_to(q_array, shape), axis, -1)
    return _normalised(p_last, "p"), _normalised(q_last, "q")


def _summed(terms: Floats, present: NDArray[np.bool_]) -> Floats:
    """The sum of *terms* over the symbols where *present*: 0-d for one distribution.

    One distribution sums only its present terms, in order, as it always has, so that its
    results do not change in the last bit."""
    if terms.ndim == 1:
        return np.asarray(np.sum(terms[present]), dtype=np.float64)
    total: Floats = np.sum(np.where(present, terms, 0.0), axis=-1)
    return total


def _out(values: Floats) -> float | Floats:
    """A float for one distribution, an array for many; -0.0 made 0.0."""
    values = values + 0.0
    return float(values) if values.ndim == 0 else values


def _clamped(values: Floats, sign: float, bound: float = math.inf) -> Floats:
    """*values* (in a base above 1: sign = 1) kept within [0, bound] against rounding."""
    clamped: Floats = sign * np.clip(sign * values, 0.0, bound)
    return clamped


@overload
def entropy(p: _One, /, *, base: float = 2, axis: int | None = 0) -> float: ...
@overload
def entropy(p: ArrayLike | Distribution, /, *, base: float = 2,
            axis: int | None = 0) -> float | Floats: ...
def entropy(p: ArrayLike | Distribution, /, *, base: float = 2,
            axis: int | None = 0) -> float | Floats:
    """The Shannon entropy H(p) = -sum p log p, in bits unless *base* says otherwise.

    *p* holds counts or probabilities, one per symbol (it is normalised to sum
    1), or is a :class:`Distribution`.  H(p) is the average number of bits per
    symbol an ideal code for p needs; symbols of probability 0 contribute
    nothing (0 log 0 = 0).  An n-D *p* holds a distribution in each slice
    along *axis*, and gives an array of their entropies (see the module's
    docstring).

        >>> entropy([1/2, 1/4, 1/8, 1/8])
        1.75
        >>> entropy([5, 5])
        1.0
        >>> entropy([[1, 1], [1, 0], [2, 0]]).tolist()
        [1.5, 0.0]

    Raises ``ValueError`` for empty, all-zero, negative or non-finite input
    and for a *base* that is not > 0 and != 1; :class:`ShapeError` for an
    *axis* that *p* lacks.
    """
    log, _ = _log_in(base)
    probabilities = _one(p, "p", axis)
    present = probabilities > 0
    terms = probabilities * log(np.where(present, probabilities, 1.0))
    return _out(-_summed(terms, present))


@overload
def cross_entropy(p: _One, q: _One, /, *, base: float = 2, axis: int | None = 0) -> float: ...
@overload
def cross_entropy(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2, axis: int | None = 0) -> float | Floats: ...
def cross_entropy(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2, axis: int | None = 0) -> float | Floats:
    """The cross-entropy H_q(p) = -sum p log q, in bits unless *base* says otherwise.

    *p* is the distribution of the data and *q* the model's, each given as
    counts or probabilities (normalised to sum 1) or as a
    :class:`Distribution`.  H_q(p) is what an ideal code built for q pays per
    symbol on data from p; it is never below ``entropy(p)``, and the excess
    is ``kl_divergence(p, q)``.  It is ``math.inf`` when q gives probability
    0 to a symbol that p has.  n-D *p* and *q*: one value per slice along
    *axis* (see the module's docstring).

        >>> round(cross_entropy([0.8, 0.1, 0.1], [0.2, 0.2, 0.6], base=math.e), 3)
        1.5

    Raises :class:`ShapeError` (a ``ValueError``) when *p* and *q* differ in
    length or their other axes do not broadcast, and ``ValueError`` for bad
    values as :func:`entropy` does.
    """
    log, sign = _log_in(base)
    p_array, q_array = _pair(p, q, axis)
    present = p_array > 0
    usable = present & (q_array > 0)
    missing = np.any(present & ~usable, axis=-1)
    terms = p_array * log(np.where(usable, q_array, 1.0))
    return _out(np.where(missing, sign * math.inf, -_summed(terms, present)))


@overload
def kl_divergence(p: _One, q: _One, /, *, base: float = 2, axis: int | None = 0) -> float: ...
@overload
def kl_divergence(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2, axis: int | None = 0) -> float | Floats: ...
def kl_divergence(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2, axis: int | None = 0) -> float | Floats:
    """The Kullback-Leibler divergence D(p||q) = sum p log(p/q), in bits by default.

    *p* is the distribution of the data and *q* the model's, as for
    :func:`cross_entropy`; the result equals ``cross_entropy(p, q) -
    entropy(p)``, the bits per symbol wasted by coding data from p with a
    code built for q, but is computed directly over the symbols with p > 0,
    which is more accurate than that difference.  It is 0 exactly when the
    normalised p and q agree, never negative (tiny negative rounding errors
    are returned as 0), not symmetric, and ``math.inf`` when q gives
    probability 0 to a symbol that p has.  ``scipy.stats.entropy(p, q)``
    computes the same quantity (in nats by default), with the same *axis*.

        >>> round(kl_divergence([0.8, 0.1, 0.1], [0.2, 0.2, 0.6], base=math.e), 3)
        0.861
    """
    log, sign = _log_in(base)
    p_array, q_array = _pair(p, q, axis)
    present = p_array > 0
    usable = present & (q_array > 0)
    missing = np.any(present & ~usable, axis=-1)
    p_safe = np.where(usable, p_array, 1.0)
    q_safe = np.where(usable, q_array, 1.0)
    with np.errstate(over="ignore"):
        ratio = p_safe / q_safe
    log_ratio = log(ratio)
    # p/q overflows when q is tiny (subnormal); the difference of logs does not.
    overflowed = ~np.isfinite(ratio)
    if overflowed.any():
        log_ratio = np.where(overflowed, log(p_safe) - log(q_safe), log_ratio)
    total = _summed(p_array * log_ratio, present)
    return _out(np.where(missing, sign * math.inf, _clamped(total, sign)))


@overload
def js_divergence(p: _One, q: _One, /, *, base: float = 2, axis: int | None = 0) -> float: ...
@overload
def js_divergence(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2, axis: int | None = 0) -> float | Floats: ...
def js_divergence(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2, axis: int | None = 0) -> float | Floats:
    """The Jensen-Shannon divergence of p and q, in bits unless *base* says otherwise.

    JS(p, q) = D(p||m)/2 + D(q||m)/2 with m = (p + q)/2: the average waste of
    coding either distribution with a code for their mixture.  *p* and *q*
    are counts or probabilities (normalised to sum 1) or
    :class:`Distribution` objects, or n-D arrays of them along *axis* (see
    the module's docstring).  Unlike KL it is symmetric and always
    finite: between 0 (p = q) and 1 bit (disjoint supports).

    This is the divergence itself, not its square root.  The square root is
    the Jensen-Shannon *distance*, which is what
    ``scipy.spatial.distance.jensenshannon`` returns: square scipy's result
    to compare.

        >>> js_divergence([1, 0], [0, 1])
        1.0
    """
    log, sign = _log_in(base)
    p_array, q_array = _pair(p, q, axis)
    both = p_array + q_array
    total = np.zeros(p_array.shape[:-1], dtype=np.float64)
    for side in (p_array, q_array):
        present = side > 0
        # side/m = 2 side/(side + other): at most 2, and positive wherever side > 0.
        ratio = 2.0 * (np.where(present, side, 1.0) / np.where(present, both, 1.0))
        total = total + _summed(side * log(ratio), present)
    bound = float(sign * log(np.array(2.0)))
    return _out(_clamped(total / 2, sign, bound))


def _probabilities(values: Any, name: str) -> np.ndarray:
    """Validate scalars or arrays of probabilities in [0, 1] (booleans count as 0/1)."""
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a number or an array of numbers in [0, 1], "
                        f"got dtype {array.dtype}")
    array = array.astype(np.float64)
    outside = ~((array >= 0) & (array <= 1))  # NaN is outside too
    if outside.any():
        if array.ndim == 0:
            raise ValueError(f"{name} must be a probability in [0, 1], got {float(array)}")
        flat = int(np.flatnonzero(outside)[0])
        index = np.unravel_index(flat, array.shape)
        where = int(index[0]) if array.ndim == 1 else tuple(int(i) for i in index)
        raise ValueError(f"{name} must hold probabilities in [0, 1]; element {where} is "
                         f"{array[index]}")
    return array


def binary_cross_entropy(y: ArrayLike, y_hat: ArrayLike, /, *,
                         base: float = 2) -> float | np.ndarray:
    """The binary cross-entropy -[y log y_hat + (1 - y) log(1 - y_hat)], in bits by default.

    *y* is the label (0 or 1, or the probability of 1) and *y_hat* the
    predicted probability of 1, both in [0, 1].  Either may be a scalar or an
    array; they broadcast against each other.  Scalars give a ``float``;
    arrays give a float64 array with one loss per element, *not* averaged:
    call ``.mean()`` on it for the usual mean loss.

    A term whose weight is zero contributes nothing (0 log 0 = 0), so a
    certain and correct prediction costs 0; a certain and wrong one (a label
    that the prediction gives probability 0) costs ``math.inf``.

        >>> round(binary_cross_entropy(1, 0.9), 3)
        0.152
        >>> binary_cross_entropy([1, 0], [0.5, 0.5]).tolist()
        [1.0, 1.0]

    Raises ``ValueError`` for values outside [0, 1] (or NaN) and when the
    shapes do not broadcast.
    """
    log, _ = _log_in(base)
    labels = _probabilities(y, "y")
    predictions = _probabilities(y_hat, "y_hat")
    try:
        labels, predictions = np.broadcast_arrays(labels, predictions)
    except ValueError:
        raise ValueError(f"y and y_hat must have the same shape or broadcast together, "
                         f"got shapes {labels.shape} and {predictions.shape}") from None
    misses = 1.0 - labels
    hits_weighted = labels > 0
    misses_weighted = misses > 0
    loss = np.zeros(labels.shape, dtype=np.float64)
    with np.errstate(divide="ignore"):
        loss[hits_weighted] -= labels[hits_weighted] * log(predictions[hits_weighted])
        # log1p keeps log(1 - y_hat) accurate when y_hat is tiny.
        loss[misses_weighted] -= (misses[misses_weighted]
                                  * np.log1p(-predictions[misses_weighted]) / math.log(base))
    loss += 0.0  # -0.0 becomes 0.0
    if loss.ndim == 0:
        return float(loss)
    return loss


def conditional_entropy_bits(data: bytes | bytearray | memoryview, order: int, /) -> float:
    """n·Ĥ_k(X | the k bytes before), in bits, of the bytes *data*: the empirical
    conditional entropy of order *order* (k) times the bytes, what a static order-k model
    fitted to *data* itself would pay, its own description free.  Bytes before the start
    read as 0, as the sequential models read them.  Order 0 is n·H(P)."""
    symbols = np.frombuffer(data, dtype=np.uint8)
    if not 0 <= order <= 6:  # the k bytes and the byte in one int64
        raise ValueError(f"order must be 0 to 6, got {order}")
    if symbols.size == 0:
        return 0.0
    context = np.zeros(symbols.size, dtype=np.int64)
    for back in range(1, order + 1):  # the k bytes before, as one number
        context[back:] |= symbols[:-back].astype(np.int64) << (8 * (back - 1))
    _, joint = np.unique(context << 8 | symbols, return_counts=True)
    _, contexts = np.unique(context, return_counts=True)
    # n·Ĥ(X | C) = Σ n_cx log2(1 / n_cx) - Σ n_c log2(1 / n_c)
    return float((contexts * np.log2(contexts)).sum() - (joint * np.log2(joint)).sum())
