"""Sequential models (issue 18), the first kernel: a binary arithmetic coder with the
adaptive order-k model, each byte coded bit by bit from its bits so far and the k bytes
before it.  The compiled kernel against the Python reference, exact round trips, a payload
that is the model's loss to within a few bytes, and damaged payloads refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit.corpora
from huffkit.kernels import backend, reference
from huffkit.kernels.reference.sequential import ORDER_MOST

pytestmark = pytest.mark.skipif(backend.unavailable is not None, reason="no compiled kernels")
if backend.unavailable is None:
    from huffkit.kernels import compiled

ORDERS = range(ORDER_MOST + 1)
ENGLISH = huffkit.corpora.path("english.txt").read_bytes()
SHAPES = {"empty": b"", "one byte": b"x", "every byte": bytes(range(256)),
          "a long run": b"\x00" * 5000, "two runs": b"a" * 700 + b"b" * 700,
          "english": ENGLISH[:4000]}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", SHAPES)
def test_every_shape_round_trips_and_matches_the_reference(name, order):
    data = SHAPES[name]
    packed = compiled.sequential_encode(data, order)
    assert packed == reference.sequential_encode(data, order)
    assert compiled.sequential_decode(packed, len(data), order) == data
    assert reference.sequential_decode(packed, len(data), order) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=1500), st.sampled_from(list(ORDERS)))
def test_property_the_kernel_matches_the_reference(data, order):
    packed = compiled.sequential_encode(data, order)
    assert packed == reference.sequential_encode(data, order)
    assert compiled.sequential_decode(packed, len(data), order) == data


@pytest.mark.parametrize("order", ORDERS)
def test_the_payload_is_the_models_loss(order):
    """Within 0.1% and 64 bits: the coder's own cost is its 32-bit arithmetic (a rounded
    split of the interval, either way) and the byte that ends the payload."""
    data = ENGLISH[:6000]
    costs = compiled.sequential_costs(data, order)
    assert costs == pytest.approx(reference.sequential_costs(data, order), rel=1e-12)
    loss = costs.sum()
    bits = 8 * len(compiled.sequential_encode(data, order))
    assert abs(bits - loss) <= loss * 0.001 + 64


def test_context_pays_on_text():
    """Order 0 on English pays about its entropy; order 2 about three quarters of it."""
    bits = [8 * len(compiled.sequential_encode(ENGLISH, order)) / len(ENGLISH)
            for order in ORDERS]
    assert 4.2 < bits[0] < 4.5 and bits[1] < bits[0] - 0.5 and bits[2] < bits[1] - 0.2


@pytest.mark.parametrize("order", ORDERS)
def test_a_payload_lengthened_is_refused_and_one_cut_never_decodes(order):
    """The decoder knows how many bytes the encoder wrote: a payload with a byte more (read
    as the zero it read past the end) is refused.  A cut one decodes other bits (their
    count may then match by chance): frames check each block's CRC-32 on top."""
    data = ENGLISH[:2000]
    packed = compiled.sequential_encode(data, order)
    for decode in (compiled.sequential_decode, reference.sequential_decode):
        with pytest.raises(ValueError, match=r"^the coded bits take \d+ bytes, but the "
                                             rf"payload has {len(packed) + 1}$"):
            decode(packed + b"\x00", len(data), order)
        for cut in (packed[:-1], packed[:len(packed) // 2], b""):
            try:
                assert decode(cut, len(data), order) != data
            except ValueError as error:
                assert str(error).endswith(f"but the payload has {len(cut)}")


@pytest.mark.parametrize("order", [-1, ORDER_MOST + 1])
def test_an_order_out_of_range_is_refused(order):
    for call in (lambda: compiled.sequential_encode(b"ab", order),
                 lambda: compiled.sequential_decode(b"\x00", 2, order),
                 lambda: reference.sequential_encode(b"ab", order)):
        with pytest.raises(ValueError, match=rf"^order must be 0 to {ORDER_MOST}$"):
            call()
