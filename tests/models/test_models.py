"""Models Q: distributions built from files and from each other, codebook files, and
compressing with a codebook that is not the data's own."""

from __future__ import annotations

import hashlib
import io
import json
import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import huffkit
from huffkit.models.codebook import codebook_from_json, identifier_of

TEXT = b"".join(b"%d bottles of beer on the wall, take one down\n" % i for i in range(300))
OTHER = bytes(random.Random(7).choice(b"etaoin shrdlu\n") for _ in range(5000))


def smoothed_codebook(data: bytes, alpha: float = 0.5) -> huffkit.Codebook:
    return huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(data).smoothed(alpha))


# -- distributions ---------------------------------------------------------------


def test_from_files_counts_every_file_together(tmp_path):
    (tmp_path / "a").write_bytes(b"aab")
    (tmp_path / "b").write_bytes(b"bc")
    together = huffkit.Distribution.from_files([tmp_path / "a", tmp_path / "b"])
    assert together == huffkit.Distribution.from_bytes(b"aabbc")
    alone = huffkit.Distribution.from_files(tmp_path / "a")
    assert alone == huffkit.Distribution.from_bytes(b"aab")


def test_from_files_reads_large_files_in_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(huffkit.models.distribution, "_COUNT_CHUNK", 7)
    (tmp_path / "a").write_bytes(TEXT)
    counted = huffkit.Distribution.from_files([tmp_path / "a"])
    assert counted == huffkit.Distribution.from_bytes(TEXT)


def test_from_files_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        huffkit.Distribution.from_files([tmp_path / "absent"])


def test_uniform():
    uniform = huffkit.Distribution.uniform()
    assert uniform.size == 256
    assert np.all(uniform.probabilities == 1 / 256)
    assert huffkit.Codebook.from_distribution(uniform).lengths.tolist() == [8] * 256
    assert huffkit.Distribution.uniform(3).counts.tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match="at least one symbol, got 0"):
        huffkit.Distribution.uniform(0)
    with pytest.raises(TypeError, match="size must be an int"):
        huffkit.Distribution.uniform(2.5)


def test_smoothed_adds_alpha_to_every_symbol_of_the_alphabet():
    counted = huffkit.Distribution.from_bytes(b"aab")
    smooth = counted.smoothed(0.5)
    expected = np.full(256, 0.5)
    expected[ord("a")] += 2
    expected[ord("b")] += 1
    assert smooth.counts.tolist() == expected.tolist()
    assert smooth.smoothing == 0.5
    assert smooth.distinct_symbols == 256
    assert counted.smoothed(1).counts.dtype == np.int64  # integer smoothing keeps counts exact
    assert counted.smoothed(1).smoothed(2).smoothing == 3
    assert counted.smoothing == 0
    assert counted.smoothed(0) == counted


@pytest.mark.parametrize("alpha, error, message", [
    (-1, ValueError, "alpha must be a finite number >= 0, got -1"),
    (math.inf, ValueError, "alpha must be a finite number >= 0, got inf"),
    (math.nan, ValueError, "alpha must be a finite number >= 0, got nan"),
    ("1", TypeError, "alpha must be a number, not str"),
])
def test_smoothed_rejects(alpha, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        huffkit.Distribution.from_bytes(b"a").smoothed(alpha)


def test_mixed_interpolates_probabilities():
    p = huffkit.Distribution.from_counts([3, 1, 0, 0])
    r = huffkit.Distribution.uniform(4)
    assert p.mixed(r, 0).probabilities.tolist() == p.probabilities.tolist()
    assert p.mixed(r, 1).probabilities.tolist() == r.probabilities.tolist()
    assert p.mixed(r, 0.5).probabilities.tolist() == [0.5, 0.25, 0.125, 0.125]


@pytest.mark.parametrize("other, weight, error, message", [
    (huffkit.Distribution.uniform(3), 0.5, ValueError,
     "cannot mix distributions over 4 and 3 symbols"),
    (huffkit.Distribution.uniform(4), 1.5, ValueError, "weight must be between 0 and 1, got 1.5"),
    (huffkit.Distribution.from_counts([0, 0, 0, 0]), 0.5, ValueError,
     r"cannot mix an empty distribution \(every weight is zero\)"),
    ([1, 1, 1, 1], 0.5, TypeError, "expected a Distribution, got list"),
])
def test_mixed_rejects(other, weight, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        huffkit.Distribution.from_counts([1, 1, 0, 0]).mixed(other, weight)


# -- codebook files ------------------------------------------------------------------


def test_identifier_is_derived_from_the_lengths():
    codebook = smoothed_codebook(TEXT)
    digest = hashlib.sha256(bytes(codebook.lengths.tolist())).hexdigest()
    assert codebook.identifier == digest[:16]
    same_code = huffkit.Codebook.from_lengths(codebook.lengths)
    assert same_code.identifier == codebook.identifier
    assert smoothed_codebook(OTHER).identifier != codebook.identifier


def test_save_and_load_round_trip(tmp_path):
    codebook = smoothed_codebook(TEXT, alpha=0.25)
    codebook.save(tmp_path / "model.json")
    loaded = huffkit.Codebook.load(tmp_path / "model.json")
    assert loaded == codebook
    assert loaded.identifier == codebook.identifier
    assert loaded.distribution == codebook.distribution
    assert loaded.distribution.smoothing == 0.25
    assert loaded.max_code_length == huffkit.DEFAULT_MAX_CODE_LENGTH
    fields = json.loads((tmp_path / "model.json").read_text())
    assert fields["format"] == "huffkit-codebook"
    assert fields["version"] == 1
    assert fields["identifier"] == codebook.identifier
    assert fields["lengths"] == codebook.lengths.tolist()
    assert fields["distribution"]["counts"][ord("b")] == TEXT.count(b"b") + 0.25


def test_integer_counts_stay_integers_in_the_file():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(TEXT))
    fields = json.loads(codebook.to_json())
    assert fields["distribution"]["counts"] == np.bincount(
        np.frombuffer(TEXT, dtype=np.uint8), minlength=256).tolist()
    assert huffkit.Codebook.from_json(codebook.to_json()).distribution.counts.dtype == np.int64


def test_a_codebook_without_a_distribution_saves_null():
    codebook = huffkit.Codebook.from_lengths([1, 1] + [0] * 254)
    fields = json.loads(codebook.to_json())
    assert fields["distribution"] is None
    assert fields["max_code_length"] is None
    assert huffkit.Codebook.from_json(codebook.to_json()) == codebook


def _edited(change) -> str:
    fields = json.loads(smoothed_codebook(TEXT).to_json())
    change(fields)
    return json.dumps(fields)


@pytest.mark.parametrize("text, message", [
    ("{", r"not a huffkit codebook \(invalid JSON: "),
    ("[]", r'not a huffkit codebook \(no "format": "huffkit-codebook" field\)'),
    (_edited(lambda f: f.update(version=2)),
     "unsupported codebook version 2; this huffkit reads version 1"),
    (_edited(lambda f: f.update(alphabet="greek")), "unsupported alphabet 'greek'"),
    (_edited(lambda f: f.update(alphabet="utf8")),
     '"symbols" must be a non-empty list of the utf8 symbols with a code'),
    (_edited(lambda f: f.update(lengths=f["lengths"][:-1])),
     '"lengths" must be a list of 256 numbers, one per byte value'),
    (_edited(lambda f: f["lengths"].__setitem__(3, 2.5)), r'"lengths"\[3\] is 2.5, not an integer'),
    (_edited(lambda f: f["lengths"].__setitem__(3, f["lengths"][3] + 1)),
     "the identifier '[0-9a-f]{16}' does not match the code lengths .* damaged or was edited"),
    (_edited(lambda f: f["distribution"]["counts"].__setitem__(0, -1)),
     "distribution counts must be non-negative"),
    (_edited(lambda f: f["distribution"].update(smoothing="lots")),
     "distribution smoothing must be a number >= 0"),
    (_edited(lambda f: f.update(max_code_length=3)),
     "max_code_length 3 is not an int at least as large as the longest code"),
    # Found by atheris: JSON integers have no bound, numpy's do.
    (_edited(lambda f: f["lengths"].__setitem__(3, 10**30)),
     r'"lengths"\[3\] is out of range \(31 digits\)'),
    (_edited(lambda f: f["distribution"]["counts"].__setitem__(0, -10**400)),
     r'"distribution.counts"\[0\] is out of range \(402 digits\)'),
    (_edited(lambda f: f["distribution"].update(smoothing=10**400)),
     "distribution smoothing must be a number >= 0"),
])
def test_load_rejects_damaged_codebooks(text, message):
    with pytest.raises(huffkit.CodebookError, match=f"^model.json: {message}"):
        codebook_from_json(text, source="model.json")


def test_load_rejects_an_incomplete_code_with_a_matching_identifier():
    lengths = [2, 2, 2] + [0] * 253  # Kraft sum 3/4
    text = json.dumps({"format": "huffkit-codebook", "version": 1, "alphabet": "bytes",
                       "identifier": identifier_of(np.array(lengths)).hex(),
                       "max_code_length": None, "distribution": None, "lengths": lengths})
    with pytest.raises(huffkit.CodebookError, match=r"incomplete \(Kraft sum 3/4 < 1\)"):
        huffkit.Codebook.from_json(text)


def test_load_names_the_file(tmp_path):
    (tmp_path / "bad.json").write_text("nonsense")
    with pytest.raises(huffkit.CodebookError, match=r"bad\.json: not a huffkit codebook"):
        huffkit.Codebook.load(tmp_path / "bad.json")


# -- compressing with a codebook --------------------------------------------------------


@pytest.mark.parametrize("embed", [True, False])
def test_round_trip_with_a_mismatched_codebook(embed):
    codebook = smoothed_codebook(OTHER)
    packed = huffkit.compress(TEXT, codebook=codebook, embed_codebook=embed)
    assert huffkit.decompress(packed, codebook=codebook) == TEXT
    (frame,) = huffkit.frame_info(packed)
    assert frame.codebook == codebook.identifier
    assert frame.codebook_embedded is embed
    assert all(block.shared_codebook and block.table_size == 0 for block in frame.blocks)
    # The payload is exactly what Q's code lengths cost on this data.
    assert sum(b.payload_bits for b in frame.blocks) == codebook.cost(
        np.bincount(np.frombuffer(TEXT, dtype=np.uint8), minlength=256))


def test_an_embedded_codebook_needs_nothing_to_decompress():
    codebook = smoothed_codebook(OTHER)
    assert huffkit.decompress(huffkit.compress(TEXT, codebook=codebook)) == TEXT


def test_a_referenced_codebook_is_needed_to_decompress():
    codebook = smoothed_codebook(OTHER)
    packed = huffkit.compress(TEXT, codebook=codebook, embed_codebook=False)
    with pytest.raises(huffkit.CodebookError,
                       match=f"^this data was compressed with the external codebook "
                             f"{codebook.identifier}, which is not stored in it: supply"):
        huffkit.decompress(packed)


@pytest.mark.parametrize("embed", [True, False])
def test_a_different_codebook_is_refused(embed):
    codebook, other = smoothed_codebook(OTHER), smoothed_codebook(TEXT)
    packed = huffkit.compress(TEXT, codebook=codebook, embed_codebook=embed)
    with pytest.raises(huffkit.CodebookError,
                       match=f"^this data was compressed with the codebook {codebook.identifier}"
                             f", but the codebook supplied is {other.identifier}$"):
        huffkit.decompress(packed, codebook=other)


def test_a_distribution_can_serve_as_the_codebook():
    q = huffkit.Distribution.from_bytes(OTHER).smoothed(1)
    packed = huffkit.compress(TEXT, codebook=q, max_code_length=12)
    expected = huffkit.Codebook.from_distribution(q, max_code_length=12)
    assert huffkit.frame_info(packed)[0].codebook == expected.identifier
    assert huffkit.decompress(packed) == TEXT


def test_a_byte_without_a_code_is_refused():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(b"abc"))
    compressor = huffkit.HuffmanCompressor(codebook=codebook)
    assert compressor.compress(b"abcabc") == b""  # fine so far: no block is whole yet
    with pytest.raises(huffkit.CodebookError,
                       match=r"^the codebook has no code for byte values 10 \(0x0a\), 100 "
                             r"\(0x64\), which occur in the data .* huffkit train --smooth "
                             r"ALPHA\)$"):
        compressor.compress(b"ab\ncd")


def test_refused_data_leaves_the_compressor_usable():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(b"abc"))
    compressor = huffkit.HuffmanCompressor(codebook=codebook, block_size=4)
    out = compressor.compress(b"abcab")
    with pytest.raises(huffkit.CodebookError):
        compressor.compress(b"cz")
    out += compressor.compress(b"c") + compressor.flush()
    assert huffkit.decompress(out) == b"abcabc"


def test_many_missing_bytes_are_summarised():
    codebook = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(b"a"))
    with pytest.raises(huffkit.CodebookError, match=r"7 \(0x07\) and 247 more, which occur"):
        huffkit.compress(bytes(range(256)), codebook=codebook)


@pytest.mark.parametrize("codebook, error, message", [
    ("model.json", TypeError, "codebook must be a Codebook or a Distribution, not str"),
    (huffkit.Codebook.from_lengths([1, 1]), huffkit.CodebookError,
     "a codebook for the bytes alphabet needs 256 symbols; this one has 2"),
    (huffkit.Codebook.from_lengths(list(range(1, 33)) + [32] + [0] * 223), huffkit.CodebookError,
     "the codebook has codes of 32 bits; the format allows at most 31"),
])
def test_unusable_codebooks(codebook, error, message):
    with pytest.raises(error, match=f"^{message}"):
        huffkit.compress(b"a", codebook=codebook)


def test_files_take_codebooks_both_ways(tmp_path):
    codebook = smoothed_codebook(OTHER)
    with huffkit.open(tmp_path / "a.huf", "wb", codebook=codebook, embed_codebook=False) as f:
        f.write(TEXT)
    with huffkit.open(tmp_path / "a.huf", "rb", codebook=codebook) as f:
        assert f.read() == TEXT
    with pytest.raises(huffkit.CodebookError), huffkit.open(tmp_path / "a.huf") as f:
        f.read()
    with pytest.raises(ValueError, match="apply only when writing"):
        huffkit.open(io.BytesIO(), "rb", embed_codebook=False)


def test_concatenated_frames_with_different_codebooks():
    first, second = smoothed_codebook(OTHER), smoothed_codebook(TEXT)
    packed = (huffkit.compress(TEXT, codebook=first) + huffkit.compress(OTHER)
              + huffkit.compress(OTHER, codebook=second))
    assert huffkit.decompress(packed) == TEXT + OTHER + OTHER


@given(data=st.binary(max_size=3000), model=st.binary(min_size=1, max_size=500),
       alpha=st.sampled_from([0.01, 0.5, 1, 3]), block_size=st.integers(1, 5000),
       embed=st.booleans())
def test_round_trip_property(data, model, alpha, block_size, embed):
    codebook = smoothed_codebook(model, alpha)
    packed = huffkit.compress(data, codebook=codebook, block_size=block_size,
                              embed_codebook=embed)
    assert huffkit.decompress(packed, codebook=codebook) == data
    decompressor = huffkit.HuffmanDecompressor(codebook=codebook)
    out = b"".join(decompressor.decompress(packed[i:i + 7]) for i in range(0, len(packed), 7))
    assert out == data and decompressor.eof
