"""Models and the ledger on the command line: ``train``, ``show``, ``compress --codebook``,
``decompress --codebook``, ``info`` on codebook files, ``analyze`` and ``inspect``.

Every figure is checked against an independent computation with numpy on the raw bytes
(counts from ``np.bincount``, Q from the model file's counts, code lengths from the model),
and every file the commands touch is listed before and after.
"""

from __future__ import annotations

import json
import math
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import invoke, listing

import huffkit
import huffkit.cli

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"

#: About 6.6 KB of text: lowercase letters, digits, space, colon, newline.
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(120))
#: About 6 KB of different text: capitals, punctuation and hex digits TEXT never has.
OTHER = b"".join(b"%d, Pack my box with five dozen liquor jugs! (%x)\n" % (i, 7919 * i)
                 for i in range(120))
#: Bytes of every value, in a repeatable order.
BINARY = random.Random(20240501).randbytes(4000) + bytes(range(256))
#: TEXT with four byte values TEXT's model has no code for: ! , H W = 33 44 72 87.
UNSEEN = TEXT + b"Hello, World!\n"
UNSEEN_BYTES = (33, 44, 72, 87)

LEDGER_KEYS = {"symbols", "distinct_symbols", "unit", "entropy", "cross_entropy",
               "kl_divergence", "js_divergence", "mean_code_length", "bits", "ideal_bits",
               "wasted_bits", "compression_rate", "space_saving_rate"}
ROW_KEYS = {"symbol", "count", "p", "q", "information", "code_length", "bits", "wasted_bits"}
LN2 = math.log(2)


# -- running the command (as tests/test_cli.py does) ------------------------------------




def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def assert_error(result, message: str) -> None:
    """Exit status 1, nothing on stdout, and exactly the lines ``huffkit: error: MESSAGE``."""
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stdout_bytes == b""
    assert result.stderr.endswith("\n")
    for line in result.stderr.splitlines():
        assert re.fullmatch(f"huffkit: error: {message}", line), line


def assert_usage_error(result, message: str) -> None:
    """Exit status 2: the usage line, a hint, and ``huffkit: error: MESSAGE`` last."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stdout_bytes == b""
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: huffkit")
    assert re.fullmatch(r"Try 'huffkit( \w+)? -h' for help\.", lines[1]), lines[1]
    assert re.fullmatch(f"huffkit: error: {message}", lines[-1]), lines[-1]


def _no_constants(name: str):
    raise AssertionError(f"{name} is not JSON")


def strict_json(text: str):
    """Parse JSON as a standard parser would: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=_no_constants)


def run_json(*args: str) -> dict:
    """``huffkit ARGS --json``: exit 0, nothing on stderr, one strict JSON object."""
    result = invoke(*args, "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    return strict_json(result.stdout)


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A scratch folder that is the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def train(*args: str) -> dict:
    """``huffkit train ARGS``, which must succeed; the model file's JSON.

    Without --smooth in ARGS, with --smooth 0 (train smooths by default): these tests
    build the files' own distribution P.
    """
    if "--smooth" not in args:
        args = ("--smooth", "0", *args)
    result = invoke("train", *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    output = args[args.index("-o") + 1]
    return json.loads(Path(output).read_text(encoding="utf-8"))


# -- independent computations ------------------------------------------------------------


def byte_counts(data: bytes) -> np.ndarray:
    return np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)


def entropy_bits(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def kl_bits(counts: np.ndarray, q: np.ndarray) -> float:
    """D(P||Q) in bits, P from counts, Q from any non-negative weights."""
    p = counts / counts.sum()
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    present = p > 0
    return float((p[present] * np.log2(p[present] / q[present])).sum())


def js_bits(counts: np.ndarray, q: np.ndarray) -> float:
    p = counts / counts.sum()
    q = np.asarray(q, dtype=np.float64) / np.sum(q)
    m = (p + q) / 2
    total = 0.0
    for side in (p, q):
        present = side > 0
        total += float((side[present] * np.log2(side[present] / m[present])).sum())
    return total / 2


def model_q(model: dict) -> np.ndarray:
    """The model's Q: its counts, normalised."""
    counts = np.array(model["distribution"]["counts"], dtype=np.float64)
    return counts / counts.sum()


def model_lengths(model: dict) -> np.ndarray:
    return np.array(model["lengths"], dtype=np.int64)


def check_identities(ledger: dict, data: bytes, *, file_size: int) -> None:
    """The ledger's fixed definitions (DESIGN.md), against numpy on the original bytes."""
    assert set(ledger) >= LEDGER_KEYS
    counts = byte_counts(data)
    n = len(data)
    bits = ledger["bits"]
    wasted = ledger["wasted_bits"]
    assert set(bits) == {"file", "payload", "container"}
    assert set(wasted) == {"total", "mismatch", "rounding", "container"}
    assert ledger["symbols"] == n
    assert ledger["distinct_symbols"] == int(np.count_nonzero(counts))
    assert all(isinstance(bits[key], int) for key in bits)
    assert bits["file"] == 8 * file_size
    assert bits["payload"] + bits["container"] == bits["file"]
    assert wasted["container"] == bits["container"]
    assert wasted["total"] == pytest.approx(
        wasted["mismatch"] + wasted["rounding"] + wasted["container"], abs=1e-6)
    assert wasted["total"] == pytest.approx(bits["file"] - ledger["ideal_bits"], abs=1e-6)
    assert ledger["ideal_bits"] == pytest.approx(n * entropy_bits(counts), rel=1e-12, abs=1e-9)
    scale = LN2 if ledger["unit"] == "nats" else 1.0
    assert ledger["unit"] in ("bits", "nats")
    assert ledger["entropy"] == pytest.approx(entropy_bits(counts) * scale, rel=1e-12,
                                              abs=1e-12)
    assert ledger["kl_divergence"] == pytest.approx(
        ledger["cross_entropy"] - ledger["entropy"], abs=1e-9)
    assert wasted["mismatch"] == pytest.approx(n * ledger["kl_divergence"] / scale, abs=1e-6)
    assert wasted["rounding"] == pytest.approx(
        bits["payload"] - n * ledger["cross_entropy"] / scale, abs=1e-6)
    assert ledger["mean_code_length"] == pytest.approx(bits["payload"] / n * scale, rel=1e-12)
    assert ledger["compression_rate"] == pytest.approx(n / file_size, rel=1e-12)
    assert ledger["space_saving_rate"] == pytest.approx((n - file_size) / file_size, rel=1e-12)


# -- train ----------------------------------------------------------------------------------


def test_train_one_file_writes_a_model_that_loads(work):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("train", "text.txt", "--smooth", "0", "-o", "model.json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert sorted(listing(work)) == ["model.json", "text.txt"]
    assert (work / "text.txt").read_bytes() == TEXT

    model = json.loads((work / "model.json").read_text(encoding="utf-8"))
    counts = byte_counts(TEXT)
    assert model["format"] == "huffkit-codebook"
    assert model["distribution"]["counts"] == counts.tolist()
    assert model["distribution"]["smoothing"] == 0
    assert model["distribution"]["total"] == len(TEXT)
    assert model["max_code_length"] == huffkit.DEFAULT_MAX_CODE_LENGTH
    lengths = model_lengths(model)
    assert np.array_equal(lengths > 0, counts > 0)
    # A Huffman code is complete: the Kraft sum is exactly 1.
    assert sum(2.0 ** -int(length) for length in lengths if length) == 1.0

    codebook = huffkit.Codebook.load(work / "model.json")
    assert codebook.identifier == model["identifier"]
    assert np.array_equal(codebook.lengths, lengths)
    expected = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(TEXT))
    assert codebook == expected
    assert re.fullmatch(
        rf"model\.json: codebook {model['identifier']} from 1 file \({len(TEXT):,} bytes, "
        rf"{np.count_nonzero(counts)} distinct\), smoothing 0, code lengths "
        rf"{lengths[lengths > 0].min()}\.\.{lengths.max()}\n", result.stderr)


def test_train_on_several_files_adds_their_counts(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    result = invoke("train", "text.txt", "other.txt", "--smooth", "0", "-o", "model.json")
    assert result.exit_code == 0, result.stderr
    assert "from 2 files" in result.stderr
    assert f"({len(TEXT) + len(OTHER):,} bytes" in result.stderr
    model = json.loads((work / "model.json").read_text(encoding="utf-8"))
    counts = byte_counts(TEXT) + byte_counts(OTHER)
    assert model["distribution"]["counts"] == counts.tolist()
    codebook = huffkit.Codebook.load(work / "model.json")
    assert codebook == huffkit.Codebook.from_distribution(huffkit.Distribution(counts))
    assert np.array_equal(codebook.lengths > 0, counts > 0)
    assert listing(work) == {"text.txt": TEXT, "other.txt": OTHER,
                             "model.json": (work / "model.json").read_bytes()}


def test_train_smooth_gives_every_byte_a_code(work):
    (work / "text.txt").write_bytes(TEXT)
    model = train("text.txt", "--smooth", "0.5", "-o", "model.json")
    assert model["distribution"]["smoothing"] == 0.5
    assert model["distribution"]["counts"] == (byte_counts(TEXT) + 0.5).tolist()
    assert model["distribution"]["total"] == len(TEXT) + 128
    lengths = model_lengths(model)
    assert np.all(lengths > 0)
    codebook = huffkit.Codebook.load(work / "model.json")
    assert len(codebook.codewords()) == 256
    # So it codes data it never saw.
    assert huffkit.decompress(huffkit.compress(BINARY, codebook=codebook)) == BINARY


def test_train_max_code_length_limits_the_model(work):
    (work / "text.txt").write_bytes(TEXT)
    unlimited = train("text.txt", "--smooth", "0.01", "-o", "unlimited.json")
    assert model_lengths(unlimited).max() > 9
    model = train("text.txt", "--smooth", "0.01", "--max-code-length", "9", "-o", "model.json")
    assert model["max_code_length"] == 9
    assert model_lengths(model).max() == 9
    assert huffkit.Codebook.load(work / "model.json").max_length == 9


def test_train_to_standard_output(work):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("train", "text.txt", "--smooth", "0", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert listing(work) == {"text.txt": TEXT}
    assert result.stderr.startswith("standard output: codebook ")
    train("text.txt", "-o", "model.json")
    assert result.stdout_bytes == (work / "model.json").read_bytes()
    assert huffkit.Codebook.from_json(result.stdout) == huffkit.Codebook.load("model.json")


def test_train_refuses_to_overwrite_without_force(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "model.json").write_bytes(b"precious")
    result = invoke("train", "text.txt", "-o", "model.json")
    assert_error(result, r"model\.json already exists; use -f to overwrite it")
    assert listing(work) == {"text.txt": TEXT, "model.json": b"precious"}

    for flag in ("-f", "--force"):
        (work / "model.json").write_bytes(b"precious")
        result = invoke("train", "text.txt", "--smooth", "0", "-o", "model.json", flag)
        assert result.exit_code == 0, result.stderr
        assert huffkit.Codebook.load(work / "model.json") == huffkit.Codebook.from_distribution(
            huffkit.Distribution.from_bytes(TEXT))
        assert sorted(listing(work)) == ["model.json", "text.txt"]


def test_train_does_not_overwrite_its_input_even_with_force(work):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("train", "text.txt", "-o", "text.txt", "-f")
    assert_error(result, r"text\.txt: input and output are the same file")
    assert listing(work) == {"text.txt": TEXT}


def test_train_missing_input(work):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("train", "text.txt", "missing.txt", "-o", "model.json")
    assert_error(result, r"missing\.txt: No such file or directory")
    assert listing(work) == {"text.txt": TEXT}


def test_train_on_empty_files_needs_smooth(work):
    (work / "empty").write_bytes(b"")
    (work / "also-empty").write_bytes(b"")
    result = invoke("train", "empty", "also-empty", "--smooth", "0", "-o", "model.json")
    assert_error(result, r"the files are empty, so there is nothing to build a code from; "
                         r"use --smooth ALPHA for a code over all 256 bytes")
    assert listing(work) == {"empty": b"", "also-empty": b""}

    model = train("empty", "also-empty", "--smooth", "1", "-o", "model.json")
    assert model["distribution"]["counts"] == [1] * 256
    assert model["lengths"] == [8] * 256


def test_train_needs_files_and_an_output(work):
    (work / "text.txt").write_bytes(TEXT)
    assert_usage_error(invoke("train", "text.txt"), r"Missing option '-o' / '--output'\.")
    assert_usage_error(invoke("train", "-o", "model.json"), r"Missing argument 'FILE\.\.\.'\.")
    assert listing(work) == {"text.txt": TEXT}


@pytest.mark.parametrize(("value", "message"), [
    ("-1", r"Invalid value for '--smooth': -1\.0 is not in the range x>=0\."),
    ("abc", r"Invalid value for '--smooth': 'abc' is not a valid float.*"),
    ("inf", r"Invalid value for --smooth: ALPHA must be finite"),
    ("nan", r"Invalid value for --smooth: ALPHA must be finite"),
])
def test_train_rejects_a_bad_smooth(work, value, message):
    (work / "text.txt").write_bytes(TEXT)
    assert_usage_error(invoke("train", "text.txt", "--smooth", value, "-o", "m.json"), message)
    assert listing(work) == {"text.txt": TEXT}


@pytest.mark.parametrize(("args", "distinct", "limit"), [
    (["--max-code-length", "4"], len(set(TEXT)), 4),
    (["--smooth", "1", "--max-code-length", "7"], 256, 7),
])
def test_train_max_code_length_too_short_fails_cleanly(work, args, distinct, limit):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("train", "text.txt", "--smooth", "0", *args, "-o", "model.json")
    assert_error(result, rf"{distinct} distinct symbols need codes of at least \d+ bits, "
                         rf"but max_code_length is {limit}")
    assert listing(work) == {"text.txt": TEXT}


def test_train_large_integral_smooth_keeps_a_distribution(work):
    (work / "text.txt").write_bytes(TEXT)
    model = train("text.txt", "--smooth", "1e17", "-o", "model.json")
    assert model["lengths"] == [8] * 256
    table = run_json("show", "model.json")
    assert sum(row["probability"] for row in table["symbols"]) == pytest.approx(1, abs=1e-9)


def test_train_huge_smooth_is_never_a_traceback(work):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("train", "text.txt", "--smooth", "1e300", "-o", "model.json")
    assert_no_traceback(result)
    if result.exit_code == 0:
        assert huffkit.Codebook.load(work / "model.json").lengths.tolist() == [8] * 256
    else:
        assert result.exit_code in (1, 2)
        assert result.stderr.splitlines()[-1].startswith("huffkit: error: ")
        assert listing(work) == {"text.txt": TEXT}


# -- show -------------------------------------------------------------------------------------

_SHOW_ROW = re.compile(r"\s*(\d+)\s+(\S+)\s+([\d,.]+|-)\s+(\d+\.\d{6})\s+(\d+\.\d{3}|inf)"
                       r"\s+(\d+)  ([01]+|-)")


def test_show_prints_a_row_per_coded_byte_with_its_codeword(work):
    (work / "text.txt").write_bytes(TEXT)
    model = train("text.txt", "-o", "model.json")
    codebook = huffkit.Codebook.load(work / "model.json")
    counts = byte_counts(TEXT)
    result = invoke("show", "model.json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"model.json: codebook {model['identifier']}, "
                               f"{np.count_nonzero(counts)} codes, smoothing 0")
    rows = [match for line in lines if (match := _SHOW_ROW.fullmatch(line))]
    assert [int(row[1]) for row in rows] == np.flatnonzero(counts).tolist()
    for row in rows:
        symbol = int(row[1])
        p = counts[symbol] / len(TEXT)
        assert row[2] == ("space" if symbol == 32 else "\\n" if symbol == 10 else chr(symbol))
        assert int(row[3].replace(",", "")) == counts[symbol]
        assert float(row[4]) == pytest.approx(p, abs=5e-7)
        assert float(row[5]) == pytest.approx(-math.log2(p), abs=5e-4)
        assert int(row[6]) == codebook.lengths[symbol]
        assert row[7] == codebook.codeword(symbol)
    mean = float(np.dot(counts, codebook.lengths)) / len(TEXT)
    assert f"mean code length {mean:.4f} bits, entropy {entropy_bits(counts):.4f} bits" \
        in lines[1]


def test_show_json_holds_every_symbol(work):
    (work / "text.txt").write_bytes(TEXT)
    model = train("text.txt", "-o", "model.json")
    codebook = huffkit.Codebook.load(work / "model.json")
    counts = byte_counts(TEXT)
    table = run_json("show", "model.json")
    assert table["identifier"] == model["identifier"] == codebook.identifier
    symbols = table["symbols"]
    assert [row["symbol"] for row in symbols] == np.flatnonzero(counts).tolist()
    for row in symbols:
        assert {"symbol", "probability", "length", "code"} <= set(row)
        symbol = row["symbol"]
        assert row["probability"] == pytest.approx(counts[symbol] / len(TEXT), rel=1e-12)
        assert row["length"] == codebook.lengths[symbol]
        assert row["code"] == codebook.codeword(symbol)
        assert row["count"] == counts[symbol]
        assert row["information"] == pytest.approx(-math.log2(row["probability"]), rel=1e-12)
    assert sum(row["probability"] for row in symbols) == pytest.approx(1, abs=1e-12)
    assert {row["code"] for row in symbols} == set(codebook.codewords().values())


def test_show_json_of_a_smoothed_model_has_all_256_bytes(work):
    (work / "text.txt").write_bytes(TEXT)
    model = train("text.txt", "--smooth", "0.5", "-o", "model.json")
    codebook = huffkit.Codebook.load(work / "model.json")
    table = run_json("show", "model.json")
    assert [row["symbol"] for row in table["symbols"]] == list(range(256))
    q = model_q(model)
    for row in table["symbols"]:
        assert row["probability"] == pytest.approx(q[row["symbol"]], rel=1e-12)
        assert row["code"] == codebook.codeword(row["symbol"])
    assert table["smoothing"] == 0.5


def test_show_a_codebook_made_from_lengths_alone(work):
    lengths = np.array([1, 2, 3, 3] + [0] * 252)
    huffkit.Codebook.from_lengths(lengths).save(work / "model.json")
    table = run_json("show", "model.json")
    assert [(row["symbol"], row["length"], row["code"], row["count"]) for row in
            table["symbols"]] == [(0, 1, "0", None), (1, 2, "10", None), (2, 3, "110", None),
                                  (3, 3, "111", None)]
    assert [row["probability"] for row in table["symbols"]] == [0.5, 0.25, 0.125, 0.125]
    text = invoke("show", "model.json")
    assert text.exit_code == 0
    assert "implied by the lengths" in text.stdout.splitlines()[0]


def _edit_model(path: Path, edit) -> None:
    model = json.loads(path.read_text(encoding="utf-8"))
    edit(model)
    path.write_text(json.dumps(model), encoding="utf-8")


def _swap_two_lengths(model: dict) -> None:
    lengths = model["lengths"]
    short, long = lengths.index(min(x for x in lengths if x)), lengths.index(max(lengths))
    lengths[short], lengths[long] = lengths[long], lengths[short]


def _set_length(model: dict) -> None:
    model["lengths"][ord("a")] += 1


def _truncate_lengths(model: dict) -> None:
    del model["lengths"][-1]


@pytest.mark.parametrize(("edit", "message"), [
    (_swap_two_lengths, r"model\.json: the identifier '[0-9a-f]{16}' does not match the code "
                        r"lengths \(which give '[0-9a-f]{16}'\): the file is damaged or was "
                        r"edited"),
    (_set_length, r"model\.json: the identifier '[0-9a-f]{16}' does not match .*"),
    (_truncate_lengths, r"model\.json: \"lengths\" must be a list of 256 numbers, one per byte "
                        r"value"),
    (lambda model: model.update(format="other"),
     r"model\.json: not a huffkit codebook \(no \"format\": \"huffkit-codebook\" field\)"),
    (lambda model: model.update(version=99),
     r"model\.json: unsupported codebook version 99; this huffkit reads version 1"),
    (lambda model: model["distribution"]["counts"].__setitem__(5, -1),
     r"model\.json: distribution counts must be non-negative"),
])
def test_show_an_edited_model_fails_clearly(work, edit, message):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    _edit_model(work / "model.json", edit)
    before = listing(work)
    for args in (["show", "model.json"], ["show", "model.json", "--json"]):
        assert_error(invoke(*args), message)
    assert listing(work) == before


@pytest.mark.parametrize(("content", "message"), [
    (TEXT, r"text\.txt: not a huffkit codebook \(invalid JSON: .+\)"),
    (BINARY, r"text\.txt: not a huffkit codebook \(invalid JSON: .+\)"),
    (b"", r"text\.txt: not a huffkit codebook \(invalid JSON: .+\)"),
    (b'{"format": "huffkit-codebook", "version": 1', r"text\.txt: not a huffkit codebook "
                                                     r"\(invalid JSON: .+\)"),
    (b"[1, 2, 3]", r"text\.txt: not a huffkit codebook \(no \"format\": "
                   r"\"huffkit-codebook\" field\)"),
])
def test_show_a_file_that_is_not_a_model(work, content, message):
    (work / "text.txt").write_bytes(content)
    assert_error(invoke("show", "text.txt"), message)
    assert listing(work) == {"text.txt": content}


def test_show_a_missing_file_or_a_directory(work):
    assert_error(invoke("show", "missing.json"), r"missing\.json: No such file or directory")
    (work / "folder").mkdir()
    assert_error(invoke("show", "folder"), r"folder: is a directory")
    assert listing(work) == {}


def _zero_a_coded_count(model: dict) -> None:
    model["distribution"]["counts"][ord(" ")] = 0


def test_show_a_model_whose_counts_contradict_its_code(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    _edit_model(work / "model.json", _zero_a_coded_count)
    assert_error(invoke("show", "model.json"),
                 r"model\.json: the distribution and the code lengths disagree .*")


@pytest.mark.parametrize("command", ["analyze", "inspect"])
def test_a_model_whose_counts_contradict_its_code_is_refused(work, command):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    assert invoke("compress", "--codebook", "model.json", "text.txt").exit_code == 0
    _edit_model(work / "model.json", _zero_a_coded_count)
    target = "text.txt" if command == "analyze" else "text.txt.huf"
    result = invoke(command, target, "--codebook", "model.json", "--json")
    # A model whose counts give a coded byte q = 0 would make the ledger infinite (and its
    # JSON invalid): such a model is refused when it is loaded.
    assert_error(result, r"model\.json: the distribution and the code lengths disagree about "
                         r"which byte values have a code \(32\): the file was edited or is "
                         r"damaged")


# -- compress and decompress with a codebook ------------------------------------------------


def test_compress_with_a_codebook_embeds_it(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    model = train("other.txt", "--smooth", "0.5", "-o", "model.json")
    codebook = huffkit.Codebook.load(work / "model.json")
    result = invoke("compress", "--codebook", "model.json", "--block-size", "1K", "text.txt")
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    packed = (work / "text.txt.huf").read_bytes()
    assert packed == huffkit.compress(TEXT, codebook=codebook, block_size=1024)

    (frame,) = huffkit.frame_info(packed)
    assert frame.codebook == model["identifier"]
    assert frame.codebook_embedded is True
    assert len(frame.blocks) == -(-len(TEXT) // 1024)
    # Every block uses Q's code: its payload is exactly Σ count * Q's code length.
    lengths = model_lengths(model)
    for index, block in enumerate(frame.blocks):
        assert block.shared_codebook
        piece = TEXT[index * 1024:(index + 1) * 1024]
        assert block.payload_bits == int(np.dot(byte_counts(piece), lengths))

    # The file stands alone.
    assert huffkit.decompress(packed) == TEXT
    (work / "text.txt").unlink()
    result = invoke("decompress", "text.txt.huf")
    assert result.exit_code == 0, result.stderr
    assert (work / "text.txt").read_bytes() == TEXT
    # And with its own codebook given, too.
    result = invoke("decompress", "--codebook", "model.json", "text.txt.huf", "-c")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == TEXT


def test_compress_no_embed_needs_the_codebook_to_decompress(work):
    (work / "text.txt").write_bytes(TEXT)
    model = train("text.txt", "-o", "model.json")
    identifier = model["identifier"]
    codebook = huffkit.Codebook.load(work / "model.json")
    assert invoke("compress", "--codebook", "model.json", "-o", "embedded.huf",
                  "text.txt").exit_code == 0
    result = invoke("compress", "--codebook", "model.json", "--no-embed", "text.txt")
    assert result.exit_code == 0, result.stderr
    packed = (work / "text.txt.huf").read_bytes()
    assert packed == huffkit.compress(TEXT, codebook=codebook, embed_codebook=False)
    assert len(packed) < len((work / "embedded.huf").read_bytes())
    (frame,) = huffkit.frame_info(packed)
    assert (frame.codebook, frame.codebook_embedded) == (identifier, False)

    (work / "text.txt").unlink()
    before = listing(work)
    message = (rf"text\.txt\.huf: .*{identifier}.*--codebook.*")
    assert_error(invoke("decompress", "text.txt.huf"), message)
    assert_error(invoke("decompress", "text.txt.huf", "-o", "out.txt"), message)
    assert_error(invoke("decompress", "text.txt.huf", "-c"), message)
    assert_error(invoke("decompress", input=packed), rf"standard input: .*{identifier}"
                                                     r".*--codebook.*")
    assert listing(work) == before

    result = invoke("decompress", "--codebook", "model.json", "text.txt.huf")
    assert result.exit_code == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert listing(work) == {**before, "text.txt": TEXT}
    result = invoke("decompress", "--codebook", "model.json", input=packed)
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == TEXT


def test_compress_no_embed_through_pipes(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    packed = invoke("compress", "--codebook", "model.json", "--no-embed", input=TEXT)
    assert packed.exit_code == 0, packed.stderr
    restored = invoke("decompress", "--codebook", "model.json", input=packed.stdout_bytes)
    assert (restored.exit_code, restored.stdout_bytes, restored.stderr) == (0, TEXT, "")
    assert sorted(listing(work)) == ["model.json", "text.txt"]


@pytest.mark.parametrize("embed", ["--embed", "--no-embed"])
def test_decompress_with_a_different_codebook_fails(work, embed):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    right = train("text.txt", "-o", "right.json")["identifier"]
    wrong = train("other.txt", "-o", "wrong.json")["identifier"]
    assert right != wrong
    assert invoke("compress", "--codebook", "right.json", embed, "-o", "packed.huf",
                  "text.txt").exit_code == 0
    before = listing(work)
    message = (rf"packed\.huf: this data was compressed with the codebook {right}, but the "
               rf"codebook supplied is {wrong}")
    assert_error(invoke("decompress", "--codebook", "wrong.json", "packed.huf", "-o", "out"),
                 message)
    assert_error(invoke("decompress", "--codebook", "wrong.json", "packed.huf", "-c"), message)
    assert listing(work) == before


def test_decompress_with_a_missing_or_damaged_codebook_fails(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    assert invoke("compress", "--codebook", "model.json", "--no-embed", "-o", "packed.huf",
                  "text.txt").exit_code == 0
    (work / "broken.json").write_bytes(b"{")
    before = listing(work)
    assert_error(invoke("decompress", "--codebook", "missing.json", "packed.huf", "-o", "out"),
                 r"missing\.json: No such file or directory")
    assert_error(invoke("decompress", "--codebook", "broken.json", "packed.huf", "-o", "out"),
                 r"broken\.json: not a huffkit codebook \(invalid JSON: .+\)")
    assert_error(invoke("compress", "--codebook", "broken.json", "text.txt"),
                 r"broken\.json: not a huffkit codebook \(invalid JSON: .+\)")
    assert listing(work) == before


def test_no_embed_without_a_codebook_is_a_usage_error(work):
    (work / "text.txt").write_bytes(TEXT)
    assert_usage_error(invoke("compress", "--no-embed", "text.txt"),
                       r"--no-embed needs --codebook")
    assert listing(work) == {"text.txt": TEXT}


@pytest.mark.parametrize("command", ["compress", "analyze"])
@pytest.mark.parametrize("limit", ["15", "9"])
def test_max_code_length_with_a_codebook_is_a_usage_error(work, command, limit):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    before = listing(work)
    result = invoke(command, "--codebook", "model.json", "--max-code-length", limit, "text.txt")
    assert_usage_error(result, r"--max-code-length cannot be used with --codebook: .*")
    assert listing(work) == before


def _unseen_message(name: str) -> str:
    values = ".*".join(rf"\b{value}\b" for value in UNSEEN_BYTES)
    return rf"{re.escape(name)}: .*{values}.*--smooth.*"


def test_a_byte_the_codebook_cannot_code_is_an_error(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "unseen.txt").write_bytes(UNSEEN)
    model = train("text.txt", "-o", "model.json")
    missing = np.flatnonzero((byte_counts(UNSEEN) > 0) & (model_lengths(model) == 0))
    assert missing.tolist() == list(UNSEEN_BYTES)
    before = listing(work)
    result = invoke("compress", "--codebook", "model.json", "unseen.txt")
    assert_error(result, _unseen_message("unseen.txt"))
    # Only the byte values that have no code are named.
    named = {int(value) for value in re.findall(r"\b(\d+) \(0x", result.stderr)}
    assert named == set(UNSEEN_BYTES)
    assert_error(invoke("compress", "--codebook", "model.json", "-o", "out.huf", "unseen.txt"),
                 _unseen_message("unseen.txt"))
    assert_error(invoke("compress", "--codebook", "model.json", "--no-embed", "--block-size",
                        "1K", "unseen.txt"), _unseen_message("unseen.txt"))
    assert_error(invoke("analyze", "--codebook", "model.json", "unseen.txt"),
                 _unseen_message("unseen.txt"))
    assert listing(work) == before


def test_a_byte_the_codebook_cannot_code_does_not_stop_the_other_files(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "unseen.txt").write_bytes(UNSEEN)
    train("text.txt", "-o", "model.json")
    before = listing(work)
    result = invoke("compress", "--codebook", "model.json", "unseen.txt", "text.txt")
    assert_error(result, _unseen_message("unseen.txt"))
    assert len(result.stderr.splitlines()) == 1
    codebook = huffkit.Codebook.load(work / "model.json")
    assert listing(work) == {**before, "text.txt.huf": huffkit.compress(TEXT, codebook=codebook)}


@pytest.mark.parametrize("args", [["-c", "unseen.txt"], []])
def test_a_byte_the_codebook_cannot_code_writes_nothing_to_stdout(work, args):
    (work / "text.txt").write_bytes(TEXT)
    (work / "unseen.txt").write_bytes(UNSEEN)
    train("text.txt", "-o", "model.json")
    result = invoke("compress", "--codebook", "model.json", *args,
                    input=None if args else UNSEEN)
    name = "unseen.txt" if args else "standard input"
    assert_error(result, _unseen_message(name))


# -- info on files compressed with a codebook ------------------------------------------------


@pytest.mark.parametrize(("embed", "where"), [
    ("--embed", "embedded"),
    ("--no-embed", "not stored: decompressing needs it, with --codebook"),
])
def test_info_names_the_codebook(work, embed, where):
    (work / "text.txt").write_bytes(TEXT)
    identifier = train("text.txt", "-o", "model.json")["identifier"]
    assert invoke("compress", "--codebook", "model.json", embed, "text.txt").exit_code == 0
    result = invoke("info", "--blocks", "text.txt.huf")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert f"  every block coded with codebook {identifier} ({where})\n" in result.stdout

    summary = run_json("info", "text.txt.huf")
    (frame,) = summary["frames"]
    assert frame["codebook"] == identifier
    assert frame["codebook_embedded"] is (embed == "--embed")
    assert all(block["shared_codebook"] for block in frame["blocks"])
    assert summary["compressed_size"] == (work / "text.txt.huf").stat().st_size
    assert summary["original_size"] == len(TEXT)


def test_info_on_a_model_file_is_not_a_huffkit_frame(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    assert_error(invoke("info", "model.json"), r"model\.json: not a huffkit frame: .+")


# -- analyze and inspect: the ledger -----------------------------------------------------------


def test_analyze_json_against_numpy(work):
    (work / "text.txt").write_bytes(TEXT)
    ledger = run_json("analyze", "text.txt")
    compressed = huffkit.compress(TEXT)
    check_identities(ledger, TEXT, file_size=len(compressed))
    assert ledger["unit"] == "bits"
    # One block coded with its own distribution: Q = P, no mismatch.
    assert ledger["kl_divergence"] == pytest.approx(0, abs=1e-12)
    assert ledger["js_divergence"] == pytest.approx(0, abs=1e-12)
    assert ledger["wasted_bits"]["mismatch"] == pytest.approx(0, abs=1e-6)
    (frame,) = huffkit.frame_info(compressed)
    assert ledger["bits"]["payload"] == sum(block.payload_bits for block in frame.blocks)
    assert ledger["wasted_bits"]["rounding"] >= 0
    assert listing(work) == {"text.txt": TEXT}


@pytest.mark.parametrize("options", [
    [],
    ["--block-size", "1K"],
    ["--codebook", "model.json"],
    ["--codebook", "smooth.json", "--block-size", "2K"],
])
@pytest.mark.parametrize("extra", [[], ["--symbols"], ["--base", "e", "--symbols"]])
def test_inspect_agrees_with_analyze(work, options, extra):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    train("text.txt", "-o", "model.json")
    train("other.txt", "text.txt", "--smooth", "0.1", "-o", "smooth.json")
    assert invoke("compress", *options, "text.txt").exit_code == 0
    analyzed = run_json("analyze", "text.txt", *options, *extra)
    codebook = options[options.index("--codebook"):][:2] if "--codebook" in options else []
    inspected = run_json("inspect", "text.txt.huf", *codebook, *extra)
    assert analyzed.pop("file") == "text.txt"
    assert inspected.pop("file") == "text.txt.huf"
    assert inspected == analyzed
    check_identities(inspected, TEXT, file_size=(work / "text.txt.huf").stat().st_size)


@pytest.mark.parametrize("data", [TEXT, BINARY, b"a", b"ab" * 1000])
@pytest.mark.parametrize("block_size", ["1M", "1K"])
def test_inspect_accounts_for_every_bit_of_the_file(work, data, block_size):
    (work / "data").write_bytes(data)
    assert invoke("compress", "--block-size", block_size, "data").exit_code == 0
    ledger = run_json("inspect", "data.huf")
    size = (work / "data.huf").stat().st_size
    check_identities(ledger, data, file_size=size)
    assert ledger["bits"]["file"] == 8 * size
    frames = huffkit.frame_info((work / "data.huf").read_bytes())
    assert ledger["bits"]["payload"] == sum(block.payload_bits for frame in frames
                                            for block in frame.blocks)
    # Each block is coded with its own distribution P_b: JS only where that is one Q for
    # the whole file...
    step = 1024 if block_size == "1K" else 1 << 20
    models = {tuple(byte_counts(data[i:i + step]) / len(data[i:i + step]))
              for i in range(0, len(data), step)}
    if len(models) > 1:
        assert ledger["js_divergence"] is None
    else:
        assert ledger["js_divergence"] == pytest.approx(0, abs=1e-12)
    # ...and the per-block models fit the data at least as well as P does.
    assert ledger["kl_divergence"] <= 1e-12


def test_inspect_with_the_models_codebook_measures_the_mismatch(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    model = train("other.txt", "--smooth", "0.5", "-o", "model.json")
    assert invoke("compress", "--codebook", "model.json", "--no-embed", "text.txt").exit_code == 0
    ledger = run_json("inspect", "text.txt.huf", "--codebook", "model.json")
    check_identities(ledger, TEXT, file_size=(work / "text.txt.huf").stat().st_size)
    counts = byte_counts(TEXT)
    n = len(TEXT)
    q = model_q(model)
    kl = kl_bits(counts, q)
    assert kl > 0.5
    assert ledger["kl_divergence"] == pytest.approx(kl, rel=1e-9)
    assert ledger["cross_entropy"] == pytest.approx(entropy_bits(counts) + kl, rel=1e-9)
    assert ledger["wasted_bits"]["mismatch"] == pytest.approx(n * kl, rel=1e-9)
    assert ledger["js_divergence"] == pytest.approx(js_bits(counts, q), rel=1e-9)
    assert ledger["bits"]["payload"] == int(np.dot(counts, model_lengths(model)))
    assert model["identifier"] in ledger["model"]


def test_inspect_without_the_codebook_uses_the_lengths_implied_model(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    model = train("other.txt", "--smooth", "0.5", "-o", "model.json")
    assert invoke("compress", "--codebook", "model.json", "text.txt").exit_code == 0
    with_q = run_json("inspect", "text.txt.huf", "--codebook", "model.json")
    implied = run_json("inspect", "text.txt.huf")
    check_identities(implied, TEXT, file_size=(work / "text.txt.huf").stat().st_size)
    counts = byte_counts(TEXT)
    lengths = model_lengths(model)
    n = len(TEXT)
    # q = 2^-length, so an ideal coder pays the code lengths: no rounding at all.
    assert implied["wasted_bits"]["rounding"] == pytest.approx(0, abs=1e-6)
    assert implied["cross_entropy"] == pytest.approx(implied["mean_code_length"], rel=1e-12)
    kl = kl_bits(counts, np.exp2(-lengths.astype(float)))
    assert implied["kl_divergence"] == pytest.approx(kl, rel=1e-9)
    assert implied["wasted_bits"]["mismatch"] == pytest.approx(n * kl, rel=1e-9)
    assert "imply" in implied["model"]
    assert "its distribution Q" in with_q["model"]
    # The same bits either way; only how they are split between mismatch and rounding moves.
    assert implied["bits"] == with_q["bits"]
    assert implied["ideal_bits"] == with_q["ideal_bits"]
    assert implied["wasted_bits"]["total"] == pytest.approx(with_q["wasted_bits"]["total"])
    assert implied["kl_divergence"] != pytest.approx(with_q["kl_divergence"])


def test_inspect_with_a_lengths_only_codebook_uses_the_implied_model(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    lengths = huffkit.Codebook.load(work / "model.json").lengths
    huffkit.Codebook.from_lengths(lengths).save(work / "lengths.json")
    assert invoke("compress", "--codebook", "model.json", "text.txt").exit_code == 0
    given = run_json("inspect", "text.txt.huf", "--codebook", "lengths.json")
    assert given == run_json("inspect", "text.txt.huf")
    assert given["wasted_bits"]["rounding"] == pytest.approx(0, abs=1e-6)


def test_analyze_with_the_training_data_has_no_mismatch(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    ledger = run_json("analyze", "text.txt", "--codebook", "model.json")
    check_identities(ledger, TEXT, file_size=len(huffkit.compress(
        TEXT, codebook=huffkit.Codebook.load(work / "model.json"))))
    assert ledger["kl_divergence"] == pytest.approx(0, abs=1e-12)
    assert ledger["js_divergence"] == pytest.approx(0, abs=1e-12)
    assert ledger["wasted_bits"]["mismatch"] == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("command", ["analyze", "inspect"])
@pytest.mark.parametrize("codebook", [None, "model.json"])
def test_base_e_gives_nats_and_leaves_the_bits(work, command, codebook):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    train("other.txt", "--smooth", "1", "-o", "model.json")
    options = ["--codebook", codebook] if codebook else []
    assert invoke("compress", *options, "text.txt").exit_code == 0
    target = "text.txt" if command == "analyze" else "text.txt.huf"
    in_bits = run_json(command, target, *options, "--base", "2")
    assert in_bits == run_json(command, target, *options)
    in_nats = run_json(command, target, *options, "--base", "e")
    assert (in_bits["unit"], in_nats["unit"]) == ("bits", "nats")
    for key in ("entropy", "cross_entropy", "kl_divergence"):
        assert in_nats[key] == pytest.approx(in_bits[key] * LN2, rel=1e-12, abs=1e-15), key
    assert in_nats["entropy"] == pytest.approx(entropy_bits(byte_counts(TEXT)) * LN2)
    if codebook:
        assert in_nats["js_divergence"] == pytest.approx(in_bits["js_divergence"] * LN2)
    for key in ("bits", "ideal_bits", "wasted_bits", "symbols", "distinct_symbols",
                "compression_rate", "space_saving_rate"):
        assert in_nats[key] == in_bits[key], key
    check_identities(in_nats, TEXT, file_size=(work / "text.txt.huf").stat().st_size)


def test_base_must_be_2_or_e(work):
    (work / "text.txt").write_bytes(TEXT)
    result = invoke("analyze", "text.txt", "--base", "10")
    assert_usage_error(result, r"Invalid value for '--base': '10' is not one of '2', 'e'\.")


@pytest.mark.parametrize("command", ["analyze", "inspect"])
@pytest.mark.parametrize("options", [[], ["--block-size", "1K"], ["--codebook", "model.json"]])
@pytest.mark.parametrize("base", ["2", "e"])
def test_symbol_rows_add_up(work, command, options, base):
    (work / "data").write_bytes(TEXT + OTHER)
    (work / "other.txt").write_bytes(OTHER)
    model = train("other.txt", "--smooth", "0.25", "-o", "model.json")
    assert invoke("compress", *options, "data").exit_code == 0
    if command == "analyze":
        target, args = "data", options
    else:  # inspect takes only the codebook; the rest is in the file
        target, args = "data.huf", options if "--codebook" in options else []
    ledger = run_json(command, target, *args, "--symbols", "--base", base)
    rows = ledger["per_symbol"]
    data = TEXT + OTHER
    counts = byte_counts(data)
    n = len(data)
    scale = LN2 if base == "e" else 1.0
    assert [row["symbol"] for row in rows] == np.flatnonzero(counts).tolist()
    assert sum(row["count"] for row in rows) == ledger["symbols"] == n
    assert sum(row["bits"] for row in rows) == ledger["bits"]["payload"]
    assert sum(row["wasted_bits"] for row in rows) == pytest.approx(
        ledger["bits"]["payload"] - ledger["ideal_bits"], abs=1e-6)
    assert sum(row["count"] * row["information"] for row in rows) == pytest.approx(
        n * ledger["cross_entropy"], rel=1e-12)
    for row in rows:
        symbol = row["symbol"]
        assert set(row) == ROW_KEYS
        assert row["count"] == counts[symbol]
        assert row["p"] == pytest.approx(counts[symbol] / n, rel=1e-12)
        assert row["information"] == pytest.approx(-math.log2(row["q"]) * scale, rel=1e-9)
        assert row["bits"] == pytest.approx(row["count"] * row["code_length"], rel=1e-12)
        assert row["wasted_bits"] == pytest.approx(
            row["bits"] + row["count"] * math.log2(row["p"]), abs=1e-6)
        if "--codebook" in options:
            assert row["code_length"] == model["lengths"][symbol]
            assert row["bits"] == counts[symbol] * model["lengths"][symbol]
            assert row["q"] == pytest.approx(model_q(model)[symbol], rel=1e-9)
        elif not options:
            assert row["q"] == pytest.approx(row["p"], rel=1e-12)


def _report_numbers(text: str) -> dict[str, tuple[float, float, float]]:
    """The identity's rows of a text report: label -> (bits, per symbol, % of file)."""
    rows = {}
    for label in ("n·H(P)", "n·D(P||Q)", "rounding", "container", "file"):
        match = re.search(rf"^  [ +=] {re.escape(label)} +.*? +(-?[\d,]+(?:\.\d)?) +"
                          r"(-?\d+\.\d{4}) +(-?\d+\.\d{2})%$", text, re.MULTILINE)
        assert match, (label, text)
        rows[label] = (float(match[1].replace(",", "")), float(match[2]), float(match[3]))
    return rows


@pytest.mark.parametrize("command", ["analyze", "inspect"])
@pytest.mark.parametrize("codebook", [None, "model.json"])
@pytest.mark.parametrize("base", ["2", "e"])
def test_text_report_lays_out_the_identity(work, command, codebook, base):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    train("other.txt", "--smooth", "1", "-o", "model.json")
    options = ["--codebook", codebook] if codebook else []
    assert invoke("compress", *options, "text.txt").exit_code == 0
    target = "text.txt" if command == "analyze" else "text.txt.huf"
    ledger = run_json(command, target, *options, "--base", base)
    result = invoke(command, target, *options, "--base", base)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    text = result.stdout
    size = (work / "text.txt.huf").stat().st_size
    assert text.startswith(f"{target}: {len(TEXT):,} symbols ({ledger['distinct_symbols']} "
                           f"distinct) in {size:,} bytes, coded with Huffman codes\n")
    assert f"  model Q: {ledger['model']}\n" in text
    unit = "nats" if base == "e" else "bits"
    assert re.search(rf"^ +bits +{unit}/symbol +of file$", text, re.MULTILINE)

    rows = _report_numbers(text)
    wasted = ledger["wasted_bits"]
    expected = {"n·H(P)": ledger["ideal_bits"], "n·D(P||Q)": wasted["mismatch"],
                "rounding": wasted["rounding"], "container": wasted["container"],
                "file": ledger["bits"]["file"]}
    scale = LN2 if base == "e" else 1.0
    for label, bits in expected.items():
        shown, per_symbol, share = rows[label]
        assert shown == pytest.approx(bits, abs=0.05 + 1e-9), label
        assert per_symbol == pytest.approx(bits / len(TEXT) * scale, abs=5e-5 + 1e-12), label
        assert share == pytest.approx(100 * bits / ledger["bits"]["file"], abs=5e-3 + 1e-9)
    assert rows["file"][0] == 8 * size
    assert rows["container"][0] == ledger["bits"]["container"]
    # The identity, with the numbers as printed.
    parts = sum(rows[label][0] for label in ("n·H(P)", "n·D(P||Q)", "rounding", "container"))
    assert parts == pytest.approx(rows["file"][0], abs=0.2)

    js = "n/a" if ledger["js_divergence"] is None else f"{ledger['js_divergence']:.4f}"
    assert (f"  H(P) = {ledger['entropy']:.4f}, H_Q(P) = {ledger['cross_entropy']:.4f}, "
            f"D(P||Q) = {ledger['kl_divergence']:.4f}, JS = {js} {unit} per symbol\n") in text
    assert f"compression rate {ledger['compression_rate']:.3f} " in text
    assert f"space saving rate {ledger['space_saving_rate']:.3f}" in text


def test_text_report_with_symbols_has_a_row_per_byte(work):
    (work / "text.txt").write_bytes(TEXT)
    ledger = run_json("analyze", "text.txt", "--symbols")
    result = invoke("analyze", "text.txt", "--symbols")
    assert result.exit_code == 0
    rows = re.findall(r"^ +(\d+) +(\S+) +([\d,]+) +(\d\.\d{6}) +(\d\.\d{6}) +(\d+\.\d{3}) +"
                      r"(\d+\.\d{2}) +([\d,]+) +(-?\d+\.\d)$", result.stdout, re.MULTILINE)
    assert len(rows) == ledger["distinct_symbols"]
    by_symbol = {row["symbol"]: row for row in ledger["per_symbol"]}
    for symbol, _, count, _, _, _, _, bits, wasted in rows:
        row = by_symbol[int(symbol)]
        assert int(count.replace(",", "")) == row["count"]
        assert int(bits.replace(",", "")) == row["bits"]
        assert float(wasted) == pytest.approx(row["wasted_bits"], abs=0.05 + 1e-9)
    # Most wasted bits first.
    assert [float(row[8]) for row in rows] == sorted((float(row[8]) for row in rows),
                                                     reverse=True)


@pytest.mark.parametrize("command", ["analyze", "inspect"])
def test_an_empty_file(work, command):
    (work / "empty").write_bytes(b"")
    assert invoke("compress", "empty").exit_code == 0
    target = "empty" if command == "analyze" else "empty.huf"
    ledger = run_json(command, target)
    size = (work / "empty.huf").stat().st_size
    assert ledger["symbols"] == ledger["distinct_symbols"] == 0
    assert ledger["bits"] == {"file": 8 * size, "payload": 0, "container": 8 * size}
    assert ledger["wasted_bits"]["total"] == 8 * size
    result = invoke(command, target)
    assert result.exit_code == 0
    assert f"  no data: all {8 * size:,} bits are container" in result.stdout


# -- analyze and inspect: errors -------------------------------------------------------------


@pytest.mark.parametrize("as_json", [[], ["--json"], ["--symbols", "--base", "e"]])
def test_inspect_of_bad_files_fails_cleanly(work, as_json):
    (work / "text.txt").write_bytes(TEXT)
    packed = huffkit.compress(TEXT)
    (work / "cut.huf").write_bytes(packed[:len(packed) // 2])
    (work / "header.huf").write_bytes(packed[:6])
    (work / "empty.huf").write_bytes(b"")
    (work / "folder").mkdir()
    before = listing(work)
    cases = {
        "text.txt": r"text\.txt: not a huffkit frame: expected magic bytes 89 48 55 46, "
                    r"found 6c 69 6e 65",
        "cut.huf": r"cut\.huf: compressed data ended in the middle of a frame",
        "header.huf": r"header\.huf: .*(ended|truncated|short).*",
        "empty.huf": r"empty\.huf: empty input: a huffkit stream holds at least one frame",
        "missing.huf": r"missing\.huf: No such file or directory",
        "folder": r"folder: is a directory",
    }
    for name, message in cases.items():
        assert_error(invoke("inspect", name, *as_json), message)
    assert listing(work) == before


def test_inspect_needs_the_right_codebook_for_a_no_embed_file(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "other.txt").write_bytes(OTHER)
    identifier = train("text.txt", "-o", "model.json")["identifier"]
    other = train("other.txt", "-o", "other.json")["identifier"]
    assert invoke("compress", "--codebook", "model.json", "--no-embed", "text.txt").exit_code == 0
    before = listing(work)
    assert_error(invoke("inspect", "text.txt.huf"),
                 rf"text\.txt\.huf: .*{identifier}.*--codebook.*")
    assert_error(invoke("inspect", "text.txt.huf", "--json"),
                 rf"text\.txt\.huf: .*{identifier}.*--codebook.*")
    assert_error(invoke("inspect", "text.txt.huf", "--codebook", "other.json"),
                 rf"text\.txt\.huf: this data was compressed with the codebook {identifier}, "
                 rf"but the codebook supplied is {other}")
    assert_error(invoke("inspect", "text.txt.huf", "--codebook", "missing.json"),
                 r"missing\.json: No such file or directory")
    assert listing(work) == before


def test_analyze_errors(work):
    (work / "text.txt").write_bytes(TEXT)
    (work / "folder").mkdir()
    (work / "bad.json").write_text("{}", encoding="utf-8")
    before = listing(work)
    assert_error(invoke("analyze", "missing.txt"), r"missing\.txt: No such file or directory")
    assert_error(invoke("analyze", "folder"), r"folder: is a directory")
    assert_error(invoke("analyze", "text.txt", "--codebook", "bad.json"),
                 r"bad\.json: not a huffkit codebook \(no \"format\": \"huffkit-codebook\" "
                 r"field\)")
    assert_error(invoke("analyze", "--max-code-length", "3", "text.txt"),
                 rf"text\.txt: {len(set(TEXT))} distinct symbols need codes of at least \d+ "
                 r"bits, but max_code_length is 3")
    assert listing(work) == before


def _console_script() -> Path:
    for name in ("huffkit", "huffkit.exe"):
        if (Path(sys.executable).parent / name).is_file():
            return Path(sys.executable).parent / name
    pytest.skip(f"no huffkit console script beside {sys.executable}")


@pytest.mark.parametrize("args", [
    pytest.param(["show", "model.json"], id="show"),
    pytest.param(["train", "text.txt", "-o", "-"], id="train"),
    pytest.param(["analyze", "text.txt"], id="analyze"),
    pytest.param(["inspect", "text.txt.huf", "--json"], id="inspect"),
])
def test_a_closed_pipe_ends_quietly(tmp_path, args):
    script = _console_script()
    (tmp_path / "text.txt").write_bytes(TEXT)
    (tmp_path / "text.txt.huf").write_bytes(huffkit.compress(TEXT))
    (tmp_path / "model.json").write_text(
        huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(TEXT)).to_json(),
        encoding="utf-8")
    process = subprocess.Popen([str(script), *args], cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    # Closed before the program (still importing numpy) writes a byte.
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert stderr == b""


# -- a real corpus ---------------------------------------------------------------------------


@pytest.mark.skipif(not (CORPORA / "canterbury").is_dir(), reason="../shared/corpora is absent")
def test_a_model_trained_on_some_texts_codes_another(work):
    folder = CORPORA / "canterbury"
    model = train(str(folder / "alice29.txt"), str(folder / "lcet10.txt"), "--smooth", "0.01",
                  "-o", "model.json")
    counts = byte_counts((folder / "alice29.txt").read_bytes()) + byte_counts(
        (folder / "lcet10.txt").read_bytes())
    assert model["distribution"]["counts"] == pytest.approx((counts + 0.01).tolist())
    data = (folder / "asyoulik.txt").read_bytes()
    source = str(folder / "asyoulik.txt")
    result = invoke("compress", "--codebook", "model.json", "--no-embed", "-o", "you.huf",
                    source)
    assert result.exit_code == 0, result.stderr
    result = invoke("decompress", "--codebook", "model.json", "you.huf", "-c")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == data

    ledger = run_json("inspect", "you.huf", "--codebook", "model.json")
    check_identities(ledger, data, file_size=(work / "you.huf").stat().st_size)
    kl = kl_bits(byte_counts(data), model_q(model))
    assert kl > 0.1
    assert ledger["kl_divergence"] == pytest.approx(kl, rel=1e-9)
    assert ledger["wasted_bits"]["mismatch"] == pytest.approx(len(data) * kl, rel=1e-9)
    assert ledger["bits"]["payload"] == int(np.dot(byte_counts(data), model_lengths(model)))
    analyzed = run_json("analyze", source, "--codebook", "model.json")
    # analyze embeds the codebook by default; inspect's file does not: only the container
    # differs.  With --no-embed, analyze reports the very file compress wrote.
    assert analyzed["bits"]["payload"] == ledger["bits"]["payload"]
    assert analyzed["kl_divergence"] == ledger["kl_divergence"]
    assert analyzed["bits"]["container"] > ledger["bits"]["container"]
    bare = run_json("analyze", source, "--codebook", "model.json", "--no-embed")
    assert {**bare, "file": "you.huf"} == ledger
    assert sorted(listing(work)) == ["model.json", "you.huf"]


def test_inspect_refuses_a_codebook_the_file_does_not_use(work):
    (work / "text.txt").write_bytes(TEXT)
    train("text.txt", "-o", "model.json")
    assert invoke("compress", "text.txt").exit_code == 0
    result = invoke("inspect", "text.txt.huf", "--codebook", "model.json")
    assert_error(result, r"text\.txt\.huf: a codebook was given, but this data was not "
                         r"compressed with one: every block carries its own code \(to measure "
                         r"data against a model, analyze it with the codebook instead\)")


def test_analyze_no_embed_needs_a_codebook(work):
    (work / "text.txt").write_bytes(TEXT)
    assert_usage_error(invoke("analyze", "--no-embed", "text.txt"),
                       r"--no-embed needs --codebook")
