"""The bundled corpus (huffkit.corpora): its MANIFEST, its files, and their generator."""

from __future__ import annotations

import doctest
import hashlib
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import huffkit
import huffkit.corpora as corpora
from huffkit.corpora import generate

#: The corpus as installed (site-packages, or the checkout for an editable install) ...
INSTALLED = corpora.directory()
#: ... and in this checkout, where new files get added.
CHECKOUT = Path(__file__).resolve().parents[1] / "corpora"
FOLDERS = [pytest.param(INSTALLED, id="installed")]
if CHECKOUT.is_dir() and CHECKOUT.resolve() != INSTALLED.resolve():
    FOLDERS.append(pytest.param(CHECKOUT, id="checkout"))

ENTRIES = corpora.manifest()
NAMES = [entry.name for entry in ENTRIES]
SYNTHETIC = {"dyadic.txt": 1.875, "skewed.txt": 0.468996, "uniform.bin": 8.0}
GENERATED = ["dyadic.txt", "skewed.txt", "table.bin", "uniform.bin", "MANIFEST"]


def data_files(folder: Path) -> set[str]:
    """Everything in a corpus folder except the MANIFEST, Python files and dotfiles."""
    return {path.name for path in folder.iterdir()
            if path.is_file() and path.name != "MANIFEST"
            and path.suffix not in {".py", ".pyc"} and not path.name.startswith(".")}


def stated_entropy(description: str) -> float | None:
    match = re.search(r"source entropy ([0-9.]+) bits/symbol", description)
    return float(match.group(1)) if match else None


def entropy_and_support(symbols: np.ndarray) -> tuple[float, int]:
    """The plug-in (empirical) entropy in bits, and the number of distinct symbols."""
    _, counts = np.unique(symbols, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum()), len(counts)


# -- the MANIFEST ----------------------------------------------------------------------


@pytest.mark.parametrize("folder", FOLDERS)
def test_manifest_lists_exactly_the_data_files_present(folder):
    listed = [line.split()[0] for line in (folder / "MANIFEST").read_text("utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    assert len(listed) == len(set(listed)), "a file is listed twice"
    present = data_files(folder)
    assert not set(listed) - present, f"listed but missing from {folder}"
    assert not present - set(listed), f"in {folder} but not in the MANIFEST"


def test_manifest_format():
    lines = (INSTALLED / "MANIFEST").read_text("utf-8").splitlines()
    assert lines[0].startswith("#")
    rows = [line for line in lines if line.strip() and not line.startswith("#")]
    assert len(rows) == len(ENTRIES) == 7
    for row in rows:
        assert re.fullmatch(r"\S+ +\d+ +[0-9a-f]{64} +\S.*", row), row
    assert sorted(NAMES) == NAMES
    assert all(entry.path == INSTALLED / entry.name for entry in ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_size_and_sha256_match(entry):
    data = entry.path.read_bytes()
    assert len(data) == entry.size
    assert hashlib.sha256(data).hexdigest() == entry.sha256


def test_the_module_docstring_examples_work():
    assert doctest.testmod(corpora).failed == 0


def test_the_corpus_stays_small():
    assert sum(entry.size for entry in ENTRIES) <= 250_000


# -- the hand-written files ------------------------------------------------------------


def test_english_is_ascii_prose_with_lf_lines():
    data = corpora.path("english.txt").read_bytes()
    assert 20_000 <= len(data) <= 40_000
    text = data.decode("ascii")
    assert "\r" not in text and text.endswith("\n")
    assert max(map(len, text.splitlines())) <= 76
    words = re.findall(r"[a-z]+", text.lower())
    assert len(set(words)) > 1000, "natural prose, not repeated sentences"


def test_korean_is_mostly_hangul_and_codes_better_per_code_point():
    data = corpora.path("korean.txt").read_bytes()
    assert 8_000 <= len(data) <= 20_000
    text = data.decode("utf-8")
    visible = [char for char in text if not char.isspace()]
    hangul = [char for char in visible if "\uac00" <= char <= "\ud7a3"]
    assert len(hangul) >= 0.9 * len(visible)

    per_byte, _ = entropy_and_support(np.frombuffer(data, dtype=np.uint8))
    per_code_point, _ = entropy_and_support(np.array([ord(char) for char in text]))
    assert per_code_point * len(text) < 0.8 * per_byte * len(data)


def test_source_is_c():
    text = corpora.path("source.c").read_text("ascii")
    assert "int main(int argc, char **argv)" in text
    assert text.count("{") == text.count("}")


# -- the synthetic files ---------------------------------------------------------------


def test_exactly_the_synthetic_files_state_a_source_entropy():
    stated = {entry.name: stated_entropy(entry.description) for entry in ENTRIES}
    assert {name: bits for name, bits in stated.items() if bits is not None} == SYNTHETIC
    assert {entry.name: entry.source_entropy for entry in ENTRIES} == stated
    skewed = -(0.9 * math.log2(0.9) + 0.1 * math.log2(0.1))
    assert SYNTHETIC["skewed.txt"] == pytest.approx(skewed, abs=1e-6)


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_empirical_entropy_is_close_to_the_source_entropy(name):
    entry = next(entry for entry in ENTRIES if entry.name == name)
    symbols = np.frombuffer(entry.path.read_bytes(), dtype=np.uint8)
    counts = np.bincount(symbols, minlength=256)
    p = counts[counts > 0] / len(symbols)
    empirical = float(-(p * np.log2(p)).sum())
    # The plug-in estimate runs low by about (k - 1) / (2 n ln 2) (Miller-Madow): 0.011
    # bits for 16 KiB of uniform bytes, more than the sampling noise here.
    corrected = empirical + (len(p) - 1) / (2 * len(symbols) * math.log(2))
    assert corrected == pytest.approx(stated_entropy(entry.description), abs=0.01)


# -- huffkit.corpora.path --------------------------------------------------------------


def test_path_finds_every_listed_file():
    for entry in ENTRIES:
        assert corpora.path(entry.name) == entry.path
        assert entry.path.is_file()


@pytest.mark.parametrize("name", ["nope.txt", "../pyproject.toml", "MANIFEST", "generate.py"])
def test_path_rejects_unlisted_names_and_lists_the_real_ones(name):
    message = f"the corpus has no file {re.escape(repr(name))}; it has: dyadic.txt, english.txt"
    with pytest.raises(KeyError, match=message):
        corpora.path(name)


def test_path_says_when_a_listed_file_is_missing(tmp_path, monkeypatch):
    shutil.copy(INSTALLED / "MANIFEST", tmp_path / "MANIFEST")
    monkeypatch.setattr(corpora, "directory", lambda: tmp_path)
    with pytest.raises(FileNotFoundError,
                       match=r"corpus file 'english.txt' is listed in the MANIFEST but missing"):
        corpora.path("english.txt")


def test_manifest_says_when_the_package_data_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "directory", lambda: tmp_path)
    with pytest.raises(FileNotFoundError, match=r"installed without its package data"):
        corpora.manifest()


# -- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_round_trip(entry):
    data = entry.path.read_bytes()
    assert huffkit.decompress(huffkit.compress(data)) == data


# -- generate.py -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """The generated files, written afresh by running generate.py as a script."""
    output = tmp_path_factory.mktemp("corpus")
    subprocess.run([sys.executable, generate.__file__, "--output", str(output)],
                   check=True, capture_output=True)
    return output


@pytest.mark.parametrize("name", GENERATED)
def test_generate_reproduces_the_committed_files_byte_for_byte(regenerated, name):
    assert sorted(path.name for path in regenerated.iterdir()) == sorted(GENERATED)
    assert (regenerated / name).read_bytes() == (INSTALLED / name).read_bytes()


def test_generate_refuses_to_leave_a_data_file_out_of_the_manifest(tmp_path):
    (tmp_path / "notes.txt").write_text("not described anywhere\n")
    with pytest.raises(ValueError, match=r"data files the MANIFEST would not list: notes\.txt"):
        generate.generate(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"], "nothing written"
