"""The static order-k model (issue 18): the whole input counted, each bit coded with a
probability fixed for it and stored as the model.  The compiled kernel against the Python
reference byte for byte, exact round trips, a payload that is the model's loss, a loss that
is the empirical conditional entropy plus the quantisation's small excess, and hostile
models refused (or read as another sound model), never a crash, on both backends."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit.corpora
from huffkit.kernels import backend, reference
from huffkit.kernels.reference import static_model

pytestmark = pytest.mark.skipif(backend.unavailable is not None, reason="no compiled kernels")
if backend.unavailable is None:
    from huffkit.kernels import compiled

ORDERS = reference.STATIC_ORDERS
ENGLISH = huffkit.corpora.path("english.txt").read_bytes()
KOREAN = huffkit.corpora.path("korean.txt").read_bytes()
SHAPES = {"empty": b"", "one byte": b"x", "every byte": bytes(range(256)),
          "a long run": b"\x00" * 5000, "two runs": b"a" * 700 + b"b" * 700,
          "english": ENGLISH[:4000], "korean": KOREAN[:3000],
          "random": random.Random(18).randbytes(2000)}


def conditional_entropy_bits(data: bytes, order: int) -> float:
    """n Ĥ_k: the data's order-k empirical conditional entropy, in bits, counted afresh."""
    symbols = np.frombuffer(data, dtype=np.uint8).astype(np.uint64)
    contexts = np.zeros(len(symbols), dtype=np.uint64)
    for back in range(1, order + 1):
        contexts[back:] += symbols[:len(symbols) - back] << np.uint64(8 * (back - 1))
    _, pair_of, pair_counts = np.unique(contexts * 256 + symbols, return_inverse=True,
                                        return_counts=True)
    _, context_of = np.unique(contexts, return_inverse=True)
    context_totals = np.bincount(context_of)
    return float(-np.log2(pair_counts[pair_of] / context_totals[context_of]).sum())


def test_the_orders_are_exported_by_both_backends():
    assert compiled.STATIC_ORDERS == reference.STATIC_ORDERS == (0, 1, 2, 3)


def test_the_probability_scale_is_the_formula_strictly_rising():
    scale = 2 * math.log(65535) / 255
    for q, p in enumerate(static_model.PROBABILITY):
        logistic = round(65536 / (1 + math.exp(-(q - 127.5) * scale)))
        mirror = 65536 - static_model.PROBABILITY[255 - q]
        assert p == (max(logistic, q + 1) if q < 128 else mirror)
    assert all(a < b for a, b in itertools.pairwise(static_model.PROBABILITY))
    assert static_model.PROBABILITY[0] == 1 and static_model.PROBABILITY[255] == 65535


@pytest.mark.parametrize(("n0", "n1"), [(1, 1), (1, 0), (0, 1), (3, 1), (1000, 1), (7, 993),
                                        (1, 10 ** 9), (12345, 54321)])
def test_quantise_picks_the_nearest_probability_the_lower_on_a_tie(n0, n1):
    n = n0 + n1
    distances = [abs(p * n - 65536 * n1) for p in static_model.PROBABILITY]
    assert static_model.quantise(n0, n1) == distances.index(min(distances))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", SHAPES)
def test_every_shape_round_trips_and_matches_the_reference(name, order):
    data = SHAPES[name]
    model, payload = compiled.static_encode(data, order)
    assert (model, payload) == reference.static_encode(data, order)
    assert compiled.static_decode(model, payload, len(data), order) == data
    assert reference.static_decode(model, payload, len(data), order) == data
    costs = compiled.static_costs(model, data, order)
    assert costs == pytest.approx(reference.static_costs(model, data, order), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(ORDERS))
def test_property_the_kernel_matches_the_reference(data, order):
    model, payload = compiled.static_encode(data, order)
    assert (model, payload) == reference.static_encode(data, order)
    assert compiled.static_decode(model, payload, len(data), order) == data


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(b"ab\x00\xff"), max_size=300).map(bytes),
       st.sampled_from(ORDERS))
def test_property_few_symbols_round_trip(data, order):
    model, payload = compiled.static_encode(data, order)
    assert reference.static_decode(model, payload, len(data), order) == data


@pytest.mark.parametrize("order", ORDERS)
def test_the_payload_is_the_models_loss(order):
    """Within 0.1% and 64 bits: the coder's own cost is its 32-bit arithmetic and the byte
    that ends the payload."""
    data = ENGLISH
    model, payload = compiled.static_encode(data, order)
    loss = compiled.static_costs(model, data, order).sum()
    assert abs(8 * len(payload) - loss) <= loss * 0.001 + 64


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("data", [ENGLISH, KOREAN], ids=["english", "korean"])
def test_the_loss_is_the_conditional_entropy_plus_the_quantisation(data, order):
    """A probability fixed for each (context, node) from the whole input's counts costs
    n Ĥ_k, the empirical conditional entropy, and no less; 8 bits on a logistic scale add
    at most 3.5e-4 bits a coded bit (a step of 0.087 in the logit: half of it squared,
    times p(1 - p) <= 1/4, over 2 ln 2), about 1e-4 on average."""
    model, _ = compiled.static_encode(data, order)
    loss = compiled.static_costs(model, data, order).sum()
    entropy = conditional_entropy_bits(data, order)
    assert entropy - 1e-6 * len(data) <= loss <= entropy + 3.5e-4 * 8 * len(data)


def test_order_one_stores_a_small_model():
    """Order 1 on English (26 KB) pays its conditional entropy, and the model it stores,
    charged to it, is a sixteenth of that."""
    model, payload = compiled.static_encode(ENGLISH, 1)
    assert len(model) < len(payload) / 14
    assert 8 * len(payload) < 1.001 * conditional_entropy_bits(ENGLISH, 1) + 64


@pytest.mark.parametrize("order", ORDERS)
def test_a_payload_lengthened_is_refused_and_one_cut_never_decodes(order):
    data = ENGLISH[:2000]
    model, payload = compiled.static_encode(data, order)
    for decode in (compiled.static_decode, reference.static_decode):
        with pytest.raises(ValueError, match=r"^the coded bits take \d+ bytes, but the "
                                             rf"payload has {len(payload) + 1}$"):
            decode(model, payload + b"\x00", len(data), order)
        for cut in (payload[:-1], payload[:len(payload) // 2], b""):
            try:
                assert decode(model, cut, len(data), order) != data
            except ValueError as error:
                assert str(error).endswith(f"but the payload has {len(cut)}")


def outcome(decode, model, payload, count, order):
    """What decoding gives: the data, or the ValueError's message."""
    try:
        return decode(model, payload, count, order)
    except ValueError as error:
        return f"ValueError: {error}"


def hostile_models(model: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    models = [model[:cut] for cut in range(len(model))]
    models += [model + bytes([extra]) for extra in (0, 1, 0x80, 0xFF)]
    models += [model + rng.randbytes(rng.randrange(1, 9)) for _ in range(4)]
    for _ in range(60):
        damaged = bytearray(model)
        damaged[rng.randrange(len(model))] ^= 1 << rng.randrange(8)
        models.append(bytes(damaged))
    models += [rng.randbytes(rng.randrange(0, 40)) for _ in range(60)]
    return models


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.slow
def test_hostile_models_are_refused_or_decode_alike_on_both_backends(order):
    """Truncated, lengthened, bit-flipped and random models: each is refused with a
    ValueError or read as another sound model, and both backends say exactly the same."""
    data = ENGLISH[:600]
    model, payload = compiled.static_encode(data, order)
    refused = 0
    for hostile in hostile_models(model, seed=order):
        for count in (len(data), 7):
            c_result = outcome(compiled.static_decode, hostile, payload, count, order)
            assert c_result == outcome(reference.static_decode, hostile, payload, count, order)
            refused += isinstance(c_result, str)
            try:
                costs = compiled.static_costs(hostile, data[:count], order)
                assert np.all(costs >= 0)
            except ValueError:
                pass
    assert refused > 0


@pytest.mark.parametrize("order", ORDERS)
def test_a_truncated_or_lengthened_model_is_refused(order):
    data = ENGLISH[:3000]
    model, payload = compiled.static_encode(data, order)
    for decode in (compiled.static_decode, reference.static_decode):
        with pytest.raises(ValueError, match=r"^the model's coded bits take \d+ bytes, but it "
                                             r"has \d+$"):
            decode(model + b"\x00", payload, len(data), order)
        for cut in (model[:-1], model[:len(model) // 2]):
            with pytest.raises(ValueError, match=r"^the model"):
                decode(cut, payload, len(data), order)


def test_a_model_declaring_more_than_the_data_can_have_is_refused():
    """The first bytes declare the contexts and pairs: at most count + 1 and 256^k contexts,
    at most count pairs, and both or neither."""
    cases = [
        (b"\x05\x01\x00", 3, 1, r"^the model declares 5 contexts, but 3 bytes of order 1 "
                                r"have at most 4$"),
        (b"\x02\x01\x00", 3, 0, r"^the model declares 2 contexts, but 3 bytes of order 0 "
                                r"have at most 1$"),
        (b"\x01\x00", 0, 2, r"^the model declares 1 contexts, but 0 bytes of order 2 have at "
                            r"most 0$"),
        (b"\x01\x04\x00", 3, 2, r"^the model declares 1 contexts and 4 pairs, which 3 bytes "
                                r"cannot have$"),
        (b"\x00\x00\x00", 3, 2, r"^the model declares 0 contexts and 0 pairs, which 3 bytes "
                                r"cannot have$"),
        (b"\x80", 3, 2, r"^the model ends inside its header$"),
        (b"\x81\x00\x00\x00", 3, 2, r"^the model's header is not in its shortest form$"),
        (b"\xff" * 12, 3, 2, r"^the model's header holds a number too large$"),
        (b"\xff\xff\xff\xff\x0f\x01", 1 << 25, 3,
         r"^the model declares 4294967295 contexts, but 33554432 bytes of order 3 have at most "
         r"16777216$"),
    ]
    for model, count, order, message in cases:
        for decode in (compiled.static_decode, reference.static_decode):
            with pytest.raises(ValueError, match=message):
                decode(model, b"\x00", count, order)


def test_a_model_declaring_much_but_holding_little_is_refused_before_making_room():
    """16 million contexts and as many pairs declared, for as many bytes, a few bytes given:
    the coded bits run out long before the arrays, which grow as the model is read, are
    large (the output, which the caller sizes, is the only large allocation)."""
    count = 1 << 24
    header = static_model._varint(count) + static_model._varint(count)
    for tail in (b"", b"\x00" * 8, b"\xff" * 8, bytes(range(40))):
        for decode in (compiled.static_decode, reference.static_decode):
            with pytest.raises(ValueError, match=r"^the model"):
                decode(header + tail, b"", count, 3)


def test_costs_refuse_a_byte_the_model_does_not_have():
    model, _ = compiled.static_encode(b"abab", 1)
    for costs in (compiled.static_costs, reference.static_costs):
        with pytest.raises(ValueError, match=r"^byte 2 of the data is not in the model$"):
            costs(model, b"abcb", 1)


def test_the_memory_bound_covers_a_real_model():
    data = ENGLISH
    model, _ = compiled.static_encode(data, 3)
    read = static_model._read_model(model, len(data), 3)
    contexts, pairs = len(read.root), len(read.following)
    assert static_model.static_model_memory(contexts, pairs) >= (
        48 * contexts + 8 * len(read.kind) + 4 * pairs)
    assert static_model.static_model_memory(0, 0) < 1 << 15


@pytest.mark.parametrize("order", [-1, 4])
def test_an_order_out_of_range_is_refused(order):
    for call in (lambda: compiled.static_encode(b"ab", order),
                 lambda: compiled.static_decode(b"\x00\x00\x00", b"\x00", 0, order),
                 lambda: compiled.static_costs(b"\x00\x00\x00", b"", order),
                 lambda: reference.static_encode(b"ab", order),
                 lambda: reference.static_decode(b"\x00\x00\x00", b"\x00", 0, order)):
        with pytest.raises(ValueError, match=r"^order must be 0 to 3$"):
            call()
