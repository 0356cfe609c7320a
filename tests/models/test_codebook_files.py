"""Codebook files a careless or hostile hand wrote: nested too deeply, NaN and Infinity,
numbers beyond float64 or int64, counts whose sum overflows, a version that is not the
integer 1 (issue 15, findings 4 and 15).  Each is a CodebookError that names the file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import huffkit
from huffkit.models import codebook
from huffkit.models.codebook import codebook_from_json

TEXT = b"".join(b"%d green bottles hanging on the wall\n" % i for i in range(200))


def _fields() -> dict:
    distribution = huffkit.Distribution.from_bytes(TEXT).smoothed(0.5)
    return json.loads(huffkit.Codebook.from_distribution(distribution).to_json())


def _text(change) -> str:
    fields = _fields()
    change(fields)
    return json.dumps(fields)


def _load(text: str | bytes) -> huffkit.Codebook:
    return codebook_from_json(text, source="model.json")


NESTED = r"^model\.json: not a huffkit codebook \(its JSON is nested too deeply\)$"


@pytest.mark.parametrize("text", [
    "[" * 1000,
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 1000,
    '{"a":' * 50_000 + "1" + "}" * 50_000,
    # A codebook whose lengths are buried: the file is an object, then deep lists.
    '{"format": "huffkit-codebook", "version": 1, "lengths": ' + "[" * 5000 + "]" * 5000 + "}",
])
def test_deeply_nested_json_is_a_codebook_error(text):
    with pytest.raises(huffkit.CodebookError, match=NESTED) as caught:
        _load(text)
    assert type(caught.value) is huffkit.CodebookError
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_deeply_nested_file_is_a_codebook_error_from_load(tmp_path):
    (tmp_path / "deep.json").write_text("[" * 1000)
    with pytest.raises(huffkit.CodebookError,
                       match=r"deep\.json: not a huffkit codebook \(its JSON is nested too "
                             r"deeply\)$"):
        huffkit.Codebook.load(tmp_path / "deep.json")


def test_nesting_a_little_is_still_judged_on_its_content():
    # Not every nested value is refused as "too deep": 50 levels parse, and are then wrong.
    with pytest.raises(huffkit.CodebookError,
                       match=r'^model\.json: "lengths"\[0\] is \[\[\[.*\]\]\], not an integer$'):
        _load(_text(lambda f: f["lengths"].__setitem__(0, json.loads("[" * 50 + "]" * 50))))


@pytest.mark.parametrize("command", [["compress", "-c"], ["analyze"]])
def test_the_cli_says_a_deep_codebook_is_not_one(tmp_path, command):
    (tmp_path / "deep.json").write_text("[" * 1000)
    (tmp_path / "text.txt").write_bytes(TEXT)
    result = subprocess.run([sys.executable, "-m", "huffkit", *command, "--codebook",
                             "deep.json", "text.txt"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == ("huffkit: error: deep.json: not a huffkit codebook (its JSON is "
                             "nested too deeply)\n")
    assert result.stdout == ""


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("place", [
    '"lengths": [{}]',
    '"max_code_length": {}',
    '"distribution": {{"smoothing": {}}}',
    '"unknown": {}',  # anywhere in the file, even in a field huffkit does not read
])
def test_nan_and_infinity_are_not_json(constant, place):
    text = '{"format": "huffkit-codebook", "version": 1, ' + place.format(constant) + "}"
    with pytest.raises(huffkit.CodebookError,
                       match=rf"^model\.json: not a huffkit codebook \(invalid JSON: "
                             rf"{constant} is not a JSON number\)$"):
        _load(text)


def test_nan_in_the_counts_of_a_real_codebook_is_refused():
    text = _text(lambda f: f["distribution"]["counts"].__setitem__(7, 1.5))
    text = text.replace("1.5", "NaN")
    with pytest.raises(huffkit.CodebookError,
                       match=r"^model\.json: not a huffkit codebook \(invalid JSON: NaN is not a "
                             r"JSON number\)$"):
        _load(text)


@pytest.mark.parametrize("number", ["1e999", "-1e400", "1" + "0" * 400 + ".0"])
def test_numbers_beyond_float64_are_refused(number):
    text = _text(lambda f: f["distribution"]["counts"].__setitem__(7, 1.5)).replace("1.5", number)
    shown = re.escape(number if len(number) <= 24 else f"{number[:16]}...{number[-4:]}")
    with pytest.raises(huffkit.CodebookError,
                       match=rf"^model\.json: the number {shown} is out of "
                             r"range \(beyond float64's 1\.8e308\)$"):
        _load(text)


def test_an_integer_of_thousands_of_digits_is_out_of_range():
    # Python itself refuses to read more than 4300 digits, with advice about
    # sys.set_int_max_str_digits that means nothing to a user.
    number = "-" + "9" * 5000
    text = _text(lambda f: f["distribution"]["counts"].__setitem__(7, 12345)).replace(
        "12345", number)
    with pytest.raises(huffkit.CodebookError,
                       match=r"^model\.json: the number -999999999999999\.\.\.9999 is out of "
                             r"range \(5000 digits\)$"):
        _load(text)


def test_counts_whose_sum_is_infinite_are_refused():
    fields = _fields()
    fields["distribution"]["counts"] = [1e308] * 256
    with pytest.raises(huffkit.CodebookError,
                       match=r"^model\.json: distribution counts must have a finite sum, but "
                             r"these sum to more than float64 holds \(1\.8e308\)$"):
        _load(json.dumps(fields))


def test_integer_counts_whose_sum_overflows_int64_are_refused():
    fields = _fields()
    fields["distribution"]["counts"] = [2**61] * 256  # each fits; their sum, 2**69, does not
    with pytest.raises(huffkit.CodebookError,
                       match=rf"^model\.json: distribution counts must sum to at most "
                             rf"2\*\*63 - 1, but these sum to {2**69}$"):
        _load(json.dumps(fields))


def test_counts_as_large_as_float64_allows_still_load_and_save():
    # The largest counts whose sum is finite: the file is written back without Infinity.
    fields = _fields()
    fields["distribution"]["counts"] = [1e308 / 256] * 256
    book = _load(json.dumps(fields))
    assert np.isfinite(book.distribution.total)
    assert "Infinity" not in book.to_json()
    assert _load(book.to_json()) == book


@pytest.mark.parametrize(("version", "shown"), [
    (True, "true"), (1.0, "1.0"), ("1", '"1"'), (None, "null"), ([1], "[1]"),
    (list(range(100)), "[0, 1, 2, 3, 4, ... 99]"),  # a long value is shortened
])
def test_the_version_must_be_the_integer_1(version, shown):
    message = f"model.json: unsupported codebook version {shown}; this huffkit reads version 1"
    with pytest.raises(huffkit.CodebookError, match=f"^{re.escape(message)}$"):
        _load(_text(lambda f: f.update(version=version)))


def test_a_missing_version_is_unsupported():
    with pytest.raises(huffkit.CodebookError,
                       match=r"^model\.json: unsupported codebook version null; this huffkit "
                             r"reads version 1$"):
        _load(_text(lambda f: f.pop("version")))


def test_the_untouched_codebook_loads():
    # The edits above are what make the files fail.
    book = _load(_text(lambda f: None))
    assert book == huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(TEXT).smoothed(0.5))
    assert json.loads(book.to_json()) == _fields()


# -- the file's length ---------------------------------------------------------------------


def test_a_file_longer_than_any_codebook_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(codebook, "_LARGEST_FILE", 4 << 20)
    book = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(TEXT))
    (tmp_path / "model.json").write_text(book.to_json() + " " * ((4 << 20) - len(book.to_json())))
    (tmp_path / "long.json").write_text(book.to_json() + " " * (4 << 20))
    assert huffkit.Codebook.load(tmp_path / "model.json") == book  # 4 MiB exactly: read
    with pytest.raises(huffkit.CodebookError,
                       match=r"long\.json: not a huffkit codebook \(longer than 4 MiB, which no "
                             r"codebook is\)$"):
        huffkit.Codebook.load(tmp_path / "long.json")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_file_that_never_ends_is_refused():
    with pytest.raises(huffkit.CodebookError,
                       match=r"^/dev/zero: not a huffkit codebook \(longer than 128 MiB, which no "
                             r"codebook is\)$"):
        huffkit.Codebook.load("/dev/zero")


@pytest.mark.slow
def test_the_largest_codebook_huffkit_writes_fits():
    # Every utf8 symbol, with counts of 17 significant digits and an exponent: the bound is
    # three times as long.
    size = huffkit.models.alphabet.alphabet_named("utf8").size
    counts = (np.random.default_rng(5).random(size) + 1e-3) * 1e300
    book = huffkit.Codebook.from_distribution(huffkit.Distribution(counts), max_code_length=24)
    assert 36 << 20 < len(book.to_json()) < codebook._LARGEST_FILE / 3
