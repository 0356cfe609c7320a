"""The ledger of files coded by sequential models: file = loss + coding overhead + model +
container, to the bit; the payload within 0.1% + 64 bits of the loss; the reference lines
n·Ĥ_k computed again here by brute force; the learning curve, whose area is the loss; and
the ladder, every rung a real file."""

from __future__ import annotations

import bz2
import collections
import lzma
import math
import zlib

import numpy as np
import pytest
from conftest import SHARED_CORPORA, requires_corpora

import huffkit
import huffkit.corpora
from huffkit.models.measures import conditional_entropy_bits
from huffkit.models.sequential import MODELS

ENGLISH = huffkit.corpora.path("english.txt").read_bytes()


def _brute_conditional_bits(data: bytes, k: int) -> float:
    """n·Ĥ_k by counting in Python: Σ over (context, byte) of -n_cx log2(n_cx / n_c)."""
    padded = bytes(k) + data
    joint = collections.Counter((padded[i:i + k], padded[i + k]) for i in range(len(data)))
    contexts = collections.Counter(padded[i:i + k] for i in range(len(data)))
    return sum(-count * math.log2(count / contexts[context])
               for (context, _), count in joint.items())


@pytest.mark.parametrize("k", range(5))
def test_conditional_entropy_matches_counting(k):
    data = ENGLISH[:5000]
    assert conditional_entropy_bits(data, k) == pytest.approx(_brute_conditional_bits(data, k),
                                                              rel=1e-12)
    assert conditional_entropy_bits(b"", k) == 0.0


@pytest.mark.parametrize("model", list(MODELS))
def test_the_identity_holds_to_the_bit(model):
    data = ENGLISH
    ledger = huffkit.analyze(data, model=model, block_size=6000)
    packed = huffkit.compress(data, model=model, block_size=6000)
    assert ledger.bits_file == 8 * len(packed)
    frames = huffkit.frame_info(packed)
    payload = sum(block.payload_bits for frame in frames for block in frame.blocks)
    stored = sum(8 * block.table_size for frame in frames for block in frame.blocks)
    assert ledger.bits_payload == payload and ledger.bits_model == stored
    terms = (ledger.loss_bits + ledger.coding_overhead + ledger.bits_model
             + ledger.bits_container)
    assert terms == pytest.approx(ledger.bits_file, abs=1e-6)
    # The payload is the loss, to within 0.1% and 64 bits a block.
    blocks = len(frames[0].blocks)
    assert abs(ledger.coding_overhead) <= 0.001 * ledger.loss_bits + 64 * blocks
    # The loss is the sum of what the model's costs say, block by block (with the model
    # each block stores, if any).
    model_object = MODELS[model]
    costs = sum(model_object.costs(data[i:i + 6000],
                                   model_object.encode(data[i:i + 6000])[0]).sum()
                for i in range(0, len(data), 6000))
    assert ledger.loss_bits == pytest.approx(costs, rel=1e-12)
    # Reference lines: each block's Ĥ_1..3, and order 0 over the whole file.
    n = len(data)
    for k in (1, 2, 3):
        expected = sum(conditional_entropy_bits(data[i:i + 6000], k)
                       for i in range(0, n, 6000))
        assert ledger.conditional_entropies[k - 1] * n == pytest.approx(expected, rel=1e-12)
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    counts = counts[counts > 0]
    assert ledger.ideal_bits == pytest.approx(float((counts * np.log2(n / counts)).sum()))
    # The learning cost of an order-k model is its loss over the block's own n·Ĥ_k.
    if model == "cm":  # no one order: no learning cost against one
        assert ledger.context_order is None and ledger.learning_cost is None
        return
    order = model_object.order
    reference = ledger.ideal_bits if order == 0 else ledger.conditional_entropies[order - 1] * n
    assert ledger.context_order == order
    assert ledger.learning_cost == pytest.approx(ledger.loss_bits - reference)
    if model_object.stores:  # a static model pays n·Ĥ_k and its quantisation, no more
        assert 0 <= ledger.learning_cost < 1e-3 * ledger.loss_bits


def test_inspect_reads_off_the_file_what_analyze_computed():
    data = ENGLISH
    packed = huffkit.compress(data, model="adaptive2", block_size=5000)
    analyzed = huffkit.analyze(data, model="adaptive2", block_size=5000, per_symbol=True)
    inspected = huffkit.inspect(packed, per_symbol=True)
    assert inspected.to_dict() == analyzed.to_dict()
    assert sum(row.count for row in inspected.per_symbol) == len(data)
    assert sum(row.bits for row in inspected.per_symbol) == pytest.approx(inspected.loss_bits)


def test_an_adaptive_model_beats_order_0_on_text_and_the_ledger_says_by_how_much():
    ledger = huffkit.analyze(ENGLISH, model="adaptive2")
    order0 = huffkit.analyze(ENGLISH)
    assert ledger.bits_file < order0.bits_file
    assert ledger.cross_entropy < ledger.entropy  # context pays: below order 0's entropy
    assert ledger.to_dict()["sequential"]["loss_bits"] == ledger.loss_bits
    assert order0.conditional_entropies is None and "sequential" not in order0.to_dict()


def test_a_file_mixing_order_0_and_model_frames_still_adds_up():
    packed = huffkit.compress(ENGLISH[:3000]) + huffkit.compress(ENGLISH[3000:],
                                                                   model="adaptive1")
    ledger = huffkit.inspect(packed)
    assert ledger.conditional_entropies is None  # not every block has them
    assert ledger.bits_file == 8 * len(packed)
    assert (ledger.ideal_bits + ledger.wasted_mismatch + ledger.wasted_rounding
            + ledger.bits_model + ledger.bits_container) == pytest.approx(ledger.bits_file)


@pytest.mark.parametrize("model", ["order0", "adaptive2"])
def test_the_learning_curve_is_the_loss_along_the_file(model):
    data = ENGLISH
    ledger = huffkit.analyze(data, model=model, curve=50, block_size=4000)
    curve = ledger.curve
    assert curve.ends.size == 50 and curve.ends[-1] == len(data)
    sizes = np.diff(np.concatenate(([0], curve.ends)))
    # The area under the curve is what the blocks' payloads stand for: the loss.
    assert (curve.bits_per_byte * sizes).sum() == pytest.approx(
        ledger.loss_bits if model != "order0" else ledger.bits_payload, rel=1e-9)
    assert curve.running[-1] * len(data) == pytest.approx((curve.bits_per_byte * sizes).sum())
    assert curve.entropy == pytest.approx(ledger.entropy)
    assert curve.model == model
    if model == "adaptive2":  # it learns: the first stretch costs more than the last
        assert curve.bits_per_byte[0] > curve.bits_per_byte[-1] + 1
    inspected = huffkit.inspect(huffkit.compress(data, model=model, block_size=4000), curve=50)
    np.testing.assert_allclose(inspected.curve.bits_per_byte, curve.bits_per_byte, rtol=1e-12)


def test_a_curve_takes_a_number_of_windows_or_true():
    assert huffkit.analyze(b"abc" * 1000, curve=True).curve.ends.size == 200
    assert huffkit.analyze(b"abc", curve=True).curve.ends.size == 3  # a byte a window at most
    for wrong in (0, -3, 2.5, "many"):
        with pytest.raises(ValueError, match=r"^curve must be True, False or a number of windows"):
            huffkit.analyze(b"abc", curve=wrong)
    with pytest.raises(ValueError, match=r"^a learning curve is drawn over bytes, not utf8"):
        huffkit.analyze("é".encode() * 9, alphabet="utf8", curve=True)


# -- the ladder --------------------------------------------------------------------------------


def test_every_rung_is_a_real_file():
    result = huffkit.ladder(ENGLISH, name="english.txt")
    sizes = {rung.name: rung.compressed_size for rung in result.rungs}
    assert list(sizes)[:2] == ["order0-huffman", "order0-ans"]
    assert sizes["order0-huffman"] == len(huffkit.compress(ENGLISH))
    assert sizes["order0-ans"] == len(huffkit.compress(ENGLISH, coder="ans"))
    for name in MODELS:
        if name in sizes:
            assert sizes[name] == len(huffkit.compress(ENGLISH, model=name))
    assert sizes["gzip"] == len(zlib.compress(ENGLISH, 9))
    assert sizes["bzip2"] == len(bz2.compress(ENGLISH, 9))
    assert sizes["xz"] == len(lzma.compress(ENGLISH, preset=9))
    for rung in result.rungs:
        assert rung.bits_per_byte == 8 * rung.compressed_size / len(ENGLISH)
        assert rung.reference == (rung.name in ("gzip", "bzip2", "xz", "ppmd"))
    pyppmd = pytest.importorskip("pyppmd")
    assert sizes["ppmd"] == len(pyppmd.compress(ENGLISH, max_order=6, mem_size=16 << 20))
    assert result["adaptive2"].compressed_size == sizes["adaptive2"]
    assert set(result.to_dict()) == {"file", "original_size", "rungs"}


def test_the_ladder_takes_chosen_rungs_in_order():
    result = huffkit.ladder(ENGLISH[:2000], rungs=["adaptive1", "order0-huffman"],
                            references=False)
    assert [rung.name for rung in result.rungs] == ["adaptive1", "order0-huffman"]
    with pytest.raises(ValueError, match=r"^unknown rung 'zstd': choose from order0-huffman, "):
        huffkit.ladder(b"abc", rungs=["zstd"])


@requires_corpora
def test_on_text_the_ladder_descends():
    """order 0 > order 1 > order 2 on every text of the Canterbury corpus."""
    for name in ("alice29.txt", "asyoulik.txt", "lcet10.txt", "plrabn12.txt"):
        data = (SHARED_CORPORA / "canterbury" / name).read_bytes()
        result = huffkit.ladder(data, rungs=["order0-ans", "adaptive1", "adaptive2"],
                                references=False)
        bits = [rung.bits_per_byte for rung in result.rungs]
        assert bits == sorted(bits, reverse=True) and bits[0] - bits[-1] > 1.5, name
