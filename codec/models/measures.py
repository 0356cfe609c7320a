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
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .distribution import Distribution

__all__ = [
    "binary_cross_entropy",
    "conditional_entropy_bits",
    "cross_entropy",
    "entropy",
    "js_divergence",
    "kl_divergence",
]

_Log = Callable[[np.ndarray], np.ndarray]


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
    return (lambda x: np.log(x) / scale), sign


def _normalised(values: Any, name: str) -> np.ndarray:
    """Validate counts or probabilities (or a Distribution) and scale them to sum 1."""
    if isinstance(values, Distribution):
        values = values.counts
    array = np.asarray(values)
    if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be counts or probabilities (real numbers) or a "
                        f"Distribution, got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence with one entry per symbol, "
                         f"got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: give one count or probability per symbol")
    array = array.astype(np.float64)
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{name} must be finite; symbol {bad} is {array[bad]}")
    if array.min() < 0:
        bad = int(array.argmin())
        raise ValueError(f"{name} must be non-negative; symbol {bad} has {array[bad]}")
    with np.errstate(over="ignore"):
        total = array.sum()
    if total == 0:
        raise ValueError(f"{name} is all zeros: at least one symbol needs a positive "
                         "count or probability")
    if not math.isfinite(total):
        # The sum of large finite weights overflowed: scale them down first.
        array = array / array.max()
        total = array.sum()
    return array / total


def _pair(p: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    p_array = _normalised(p, "p")
    q_array = _normalised(q, "q")
    if p_array.size != q_array.size:
        raise ValueError(f"p and q must have the same length (one entry per symbol), "
                         f"got {p_array.size} and {q_array.size}")
    return p_array, q_array


def _clamped(value: float, sign: float, bound: float = math.inf) -> float:
    """*value* (in a base above 1: sign = 1) kept within [0, bound] against rounding."""
    magnitude = min(max(sign * value, 0.0), bound)
    return float(sign * magnitude) + 0.0  # + 0.0 turns -0.0 into 0.0


def entropy(p: ArrayLike | Distribution, /, *, base: float = 2) -> float:
    """The Shannon entropy H(p) = -sum p log p, in bits unless *base* says otherwise.

    *p* holds counts or probabilities, one per symbol (it is normalised to sum
    1), or is a :class:`Distribution`.  H(p) is the average number of bits per
    symbol an ideal code for p needs; symbols of probability 0 contribute
    nothing (0 log 0 = 0).

        >>> entropy([1/2, 1/4, 1/8, 1/8])
        1.75
        >>> entropy([5, 5])
        1.0

    Raises ``ValueError`` for empty, all-zero, negative or non-finite input
    and for a *base* that is not > 0 and != 1.
    """
    log, _ = _log_in(base)
    probabilities = _normalised(p, "p")
    present = probabilities[probabilities > 0]
    return float(-np.sum(present * log(present))) + 0.0


def cross_entropy(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2) -> float:
    """The cross-entropy H_q(p) = -sum p log q, in bits unless *base* says otherwise.

    *p* is the distribution of the data and *q* the model's, each given as
    counts or probabilities (normalised to sum 1) or as a
    :class:`Distribution`.  H_q(p) is what an ideal code built for q pays per
    symbol on data from p; it is never below ``entropy(p)``, and the excess
    is ``kl_divergence(p, q)``.  It is ``math.inf`` when q gives probability
    0 to a symbol that p has.

        >>> round(cross_entropy([0.8, 0.1, 0.1], [0.2, 0.2, 0.6], base=math.e), 3)
        1.5

    Raises ``ValueError`` when *p* and *q* differ in length, as
    :func:`entropy` does for bad input.
    """
    log, sign = _log_in(base)
    p_array, q_array = _pair(p, q)
    present = p_array > 0
    q_present = q_array[present]
    if not q_present.all():
        return sign * math.inf
    return float(-np.sum(p_array[present] * log(q_present))) + 0.0


def kl_divergence(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2) -> float:
    """The Kullback-Leibler divergence D(p||q) = sum p log(p/q), in bits by default.

    *p* is the distribution of the data and *q* the model's, as for
    :func:`cross_entropy`; the result equals ``cross_entropy(p, q) -
    entropy(p)``, the bits per symbol wasted by coding data from p with a
    code built for q, but is computed directly over the symbols with p > 0,
    which is more accurate than that difference.  It is 0 exactly when the
    normalised p and q agree, never negative (tiny negative rounding errors
    are returned as 0), not symmetric, and ``math.inf`` when q gives
    probability 0 to a symbol that p has.  ``scipy.stats.entropy(p, q)``
    computes the same quantity (in nats by default).

        >>> round(kl_divergence([0.8, 0.1, 0.1], [0.2, 0.2, 0.6], base=math.e), 3)
        0.861
    """
    log, sign = _log_in(base)
    p_array, q_array = _pair(p, q)
    present = p_array > 0
    p_present = p_array[present]
    q_present = q_array[present]
    if not q_present.all():
        return sign * math.inf
    with np.errstate(over="ignore"):
        ratio = p_present / q_present
    log_ratio = log(ratio)
    # p/q overflows when q is tiny (subnormal); the difference of logs does not.
    overflowed = ~np.isfinite(ratio)
    if overflowed.any():
        log_ratio[overflowed] = log(p_present[overflowed]) - log(q_present[overflowed])
    return _clamped(float(np.sum(p_present * log_ratio)), sign)


def js_divergence(p: ArrayLike | Distribution, q: ArrayLike | Distribution, /, *,
                  base: float = 2) -> float:
    """The Jensen-Shannon divergence of p and q, in bits unless *base* says otherwise.

    JS(p, q) = D(p||m)/2 + D(q||m)/2 with m = (p + q)/2: the average waste of
    coding either distribution with a code for their mixture.  *p* and *q*
    are counts or probabilities (normalised to sum 1) or
    :class:`Distribution` objects.  Unlike KL it is symmetric and always
    finite: between 0 (p = q) and 1 bit (disjoint supports).

    This is the divergence itself, not its square root.  The square root is
    the Jensen-Shannon *distance*, which is what
    ``scipy.spatial.distance.jensenshannon`` returns: square scipy's result
    to compare.

        >>> js_divergence([1, 0], [0, 1])
        1.0
    """
    log, sign = _log_in(base)
    p_array, q_array = _pair(p, q)
    both = p_array + q_array
    total = 0.0
    for side in (p_array, q_array):
        present = side > 0
        # side/m = 2 side/(side + other): at most 2, and positive wherever side > 0.
        ratio = 2.0 * (side[present] / both[present])
        total += float(np.sum(side[present] * log(ratio)))
    bound = float(sign * log(np.float64(2.0)))
    return _clamped(total / 2, sign, bound)


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


def conditional_entropy_bits(data, order: int, /) -> float:
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
