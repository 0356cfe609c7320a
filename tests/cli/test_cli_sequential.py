"""Sequential models on the command line: ``compress --model``, ``huffkit models``,
``analyze``/``inspect`` of model-coded files with ``--curve``, and ``huffkit ladder`` with
``--json``, ``--csv`` and ``--plot``: each through the real CLI, against the library."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import invoke, listing

import huffkit
import huffkit.analysis.ladder
import huffkit.corpora
from huffkit.models.sequential import MODELS

ENGLISH = huffkit.corpora.path("english.txt").read_bytes()


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "english.txt"
    path.write_bytes(ENGLISH)
    return path


def test_models_lists_every_model_with_one_line():
    result = invoke("models")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["order0", *MODELS]
    assert ("adaptive2  adaptive order 2: learns from the 2 bytes before as it codes; stores "
            "nothing") in lines


@pytest.mark.parametrize("model", list(MODELS))
def test_compress_with_a_model_and_decompress_without_one(model, text):
    assert invoke("compress", "--model", model, text).exit_code == 0
    packed = text.with_name("english.txt.huf").read_bytes()
    assert packed == huffkit.compress(ENGLISH, model=model)
    text.unlink()
    assert invoke("decompress", text.with_name("english.txt.huf")).exit_code == 0
    assert text.read_bytes() == ENGLISH


def test_info_names_the_model(text):
    invoke("compress", "--model", "adaptive2", "--block-size", "4k", text)
    result = invoke("info", "--blocks", text.with_name("english.txt.huf"))
    assert result.exit_code == 0
    assert (f"model adaptive2 (arithmetic coder), block size 4,096, "
            f"{-(-len(ENGLISH) // 4096)} blocks") in result.output
    summary = json.loads(invoke("info", "--json", text.with_name("english.txt.huf")).output)
    assert summary["frames"][0]["model"] == "adaptive2"


@pytest.mark.parametrize(("options", "message"), [
    (["--coder", "ans"], "--coder cannot be used with --model adaptive1"),
    (["--alphabet", "utf8"], "--alphabet cannot be used with --model adaptive1"),
    (["--no-split"], "--split/--no-split cannot be used with --model adaptive1"),
    (["--max-code-length", "12"], "--max-code-length cannot be used with --model adaptive1"),
])
def test_a_model_refuses_the_options_of_order_0(options, message, text):
    before = listing(text.parent)
    result = invoke("compress", "--model", "adaptive1", *options, text)
    assert result.exit_code == 2 and message in result.stderr
    assert listing(text.parent) == before


def test_an_unknown_model_is_a_usage_error(text):
    result = invoke("compress", "--model", "gpt", text)
    assert result.exit_code == 2 and "Invalid value for '--model'" in result.stderr


def test_analyze_prints_the_sequential_ledger(text):
    result = invoke("analyze", "--model", "adaptive2", text)
    assert result.exit_code == 0
    ledger = huffkit.analyze(ENGLISH, model="adaptive2")
    out = result.output
    assert f"in {ledger.compressed_size:,} bytes, coded with an arithmetic coder" in out
    for label, bits in (("loss", ledger.loss_bits), ("overhead", ledger.coding_overhead),
                        ("learning", ledger.learning_cost)):
        line = next(line for line in out.splitlines() if line[4:].startswith(label))
        assert f"{bits:,.1f}" in line
    assert f"= file       {ledger.compressed_size:,} bytes" in out
    data = json.loads(invoke("analyze", "--model", "adaptive2", "--json", text).output)
    assert data["sequential"]["loss_bits"] == pytest.approx(ledger.loss_bits)
    assert data["bits"]["model"] == 0 and data["coder"] == "arithmetic"


def test_inspect_draws_the_learning_curve(text, tmp_path):
    pytest.importorskip("matplotlib")
    invoke("compress", "--model", "adaptive1", text)
    picture = tmp_path / "curve.png"
    result = invoke("inspect", text.with_name("english.txt.huf"), "--curve", picture)
    assert result.exit_code == 0, result.stderr
    assert f"learning curve drawn to {picture}" in result.output
    from matplotlib import image
    assert image.imread(picture).shape[2] in (3, 4)
    again = invoke("inspect", text.with_name("english.txt.huf"), "--curve", picture)
    assert again.exit_code == 1 and "already exists" in again.stderr
    wrong = invoke("analyze", text, "--curve", tmp_path / "curve.txt")
    assert wrong.exit_code == 2 and "a picture's name must end in .png" in wrong.stderr


def test_ladder_json_names_the_rungs(text):
    result = invoke("ladder", "--json", text)
    assert result.exit_code == 0
    data = json.loads(result.output)
    names = [rung["name"] for rung in data["rungs"]]
    assert names[:2] == ["order0-huffman", "order0-ans"]
    assert names[len(huffkit.analysis.ladder.LADDER):] in (["gzip", "bzip2", "xz", "ppmd"],
                                                           ["gzip", "bzip2", "xz"])
    expected = huffkit.ladder(ENGLISH, name=str(text))
    assert [rung["compressed_size"] for rung in data["rungs"]] == [
        rung.compressed_size for rung in expected.rungs]
    assert all(set(rung) >= {"name", "bits_per_byte"} for rung in data["rungs"])


def test_ladder_table_csv_and_plot(text, tmp_path):
    result = invoke("ladder", "--rungs", "order0-huffman,adaptive2", "--no-references", text)
    assert result.exit_code == 0
    rows = result.output.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["order0-huffman", "adaptive2"]
    to_stdout = invoke("ladder", "--rungs", "adaptive1", "--csv", "-", text)
    records = list(csv.DictReader(io.StringIO(to_stdout.output)))
    assert [record["name"] for record in records][:4] == ["adaptive1", "gzip", "bzip2", "xz"]
    assert not (tmp_path / "-").exists()
    pytest.importorskip("matplotlib")
    picture = tmp_path / "ladder.svg"
    assert invoke("ladder", "--plot", picture, "--rungs", "adaptive0", text).exit_code == 0
    assert b"<svg" in picture.read_bytes()[:400]
    bad = invoke("ladder", "--rungs", "zstd", text)
    assert bad.exit_code == 2 and "unknown rung 'zstd'" in bad.stderr
