"""The ``huffkit`` command line: exit statuses, exact outputs and messages, safe files.

Most tests drive ``huffkit.cli.main`` in process with click's CliRunner (which calls the
group's own ``main()``, so the ``huffkit: error: ...`` formatting is what is tested); a few
run the installed console script and ``python -m huffkit`` for real.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import random
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import huffkit
import huffkit.cli
from huffkit.kernels import backend

CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"

#: About 60 KB of text-like bytes: many distinct symbols, skewed frequencies.
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(1200))
#: Bytes with every value, in a repeatable order.
BINARY = bytes(random.Random(20240501).getrandbits(8) for _ in range(5000)) + bytes(range(256))

USAGE = {
    None: "Usage: huffkit [OPTIONS] COMMAND [ARGS]...",
    "compress": "Usage: huffkit compress [OPTIONS] [FILE]...",
    "decompress": "Usage: huffkit decompress [OPTIONS] [FILE]...",
    "info": "Usage: huffkit info [OPTIONS] FILE...",
}


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into the output
    except TypeError:
        return CliRunner()  # click >= 8.2 always captures stderr on its own


def invoke(*args: str, input: bytes | None = None):
    """Run ``huffkit ARGS``; an exception the CLI does not handle fails the test."""
    return _runner().invoke(huffkit.cli.main, list(args), input=input, prog_name="huffkit",
                            catch_exceptions=False)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* (hidden ones too), with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


def assert_no_traceback(result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr


def assert_error(result, message: str) -> None:
    """Exit status 1, nothing on stdout, and exactly the lines ``huffkit: error: MESSAGE``.

    *message* is a regular expression for one line; several failures give several lines.
    """
    assert result.exit_code == 1, (result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stdout_bytes == b""
    assert result.stderr.endswith("\n")
    for line in result.stderr.splitlines():
        assert re.fullmatch(f"huffkit: error: {message}", line), line


def assert_usage_error(result, message: str, *, usage: bool = True) -> None:
    """Exit status 2: the usage line and a hint (if *usage*), ``huffkit: error: MESSAGE`` last."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(result)
    assert result.stdout_bytes == b""
    lines = result.stderr.splitlines()
    if usage:
        assert lines[0].startswith("Usage: huffkit")
        assert re.fullmatch(r"Try 'huffkit( \w+)? -h' for help\.", lines[1]), lines[1]
    assert re.fullmatch(f"huffkit: error: {message}", lines[-1]), lines[-1]


def fibonacci_data(symbols: int = 20) -> bytes:
    """Symbol i occurs fib(i) times: an unlimited Huffman code is symbols - 1 bits deep."""
    counts = [1, 1]
    while len(counts) < symbols:
        counts.append(counts[-1] + counts[-2])
    data = bytearray(b"".join(bytes([65 + i]) * count for i, count in enumerate(counts)))
    random.Random(7).shuffle(data)
    return bytes(data)


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A scratch folder that is the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- help, version, commands ----------------------------------------------------


@pytest.mark.parametrize("option", ["-h", "--help"])
@pytest.mark.parametrize("command", [None, *huffkit.cli.main.list_commands(None)])
def test_help_on_the_group_and_every_command(work, command, option):
    args = [option] if command is None else [command, option]
    result = invoke(*args)
    assert result.exit_code == 0
    assert result.stderr == ""
    first = result.stdout.splitlines()[0]
    if command in USAGE:
        assert first == USAGE[command]
    else:
        assert first.startswith(f"Usage: huffkit {command} [OPTIONS]")
    assert re.search(r"^\s+-h, --help\s", result.stdout, re.MULTILINE)
    assert listing(work) == {}


def test_group_help_lists_every_command_and_the_version_option(work):
    result = invoke("-h")
    assert result.exit_code == 0
    for name in huffkit.cli.main.list_commands(None):
        assert re.search(rf"^\s+{name}\s+\S", result.stdout, re.MULTILINE), name
    assert re.search(r"^\s+-V, --version\s", result.stdout, re.MULTILINE)


@pytest.mark.parametrize(("command", "options"), [
    ("compress", ["-o, --output", "-c, --stdout", "-f, --force", "--block-size",
                  "--max-code-length"]),
    ("decompress", ["-o, --output", "-c, --stdout", "-f, --force"]),
    ("info", ["--json"]),
])
def test_command_help_describes_its_options(work, command, options):
    result = invoke(command, "-h")
    assert result.exit_code == 0
    for option in options:
        assert option in result.stdout, option


@pytest.mark.parametrize("option", ["-V", "--version"])
def test_version(work, option):
    # Plain -V stays cheap (tests/cli/test_startup.py); -v adds the kernels in use.
    result = invoke(option)
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, f"huffkit {huffkit.__version__}\n", "")
    for verbose in ([option, "-v"], ["--verbose", option]):
        result = invoke(*verbose)
        assert (result.exit_code, result.stdout, result.stderr) == (
            0, f"huffkit {huffkit.__version__} ({backend.describe()})\n", "")


def test_no_arguments_shows_the_usage_and_no_error(work):
    result = invoke()
    # click < 8.2 prints the help and exits 0; click >= 8.2 exits 2 (both are fine).
    assert result.exit_code in (0, 2)
    assert USAGE[None] in result.stdout + result.stderr
    assert "huffkit: error" not in result.stdout + result.stderr
    assert_no_traceback(result)


def test_unknown_command_is_a_usage_error(work):
    assert_usage_error(invoke("frobnicate"), r"No such command:? '?frobnicate'?\.?")


# -- compress and decompress: the ordinary cases -----------------------------


def test_compress_writes_file_huf_and_keeps_the_input(work):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", "a.txt")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "")
    files = listing(work)
    assert sorted(files) == ["a.txt", "a.txt.huf"]
    assert files["a.txt"] == TEXT
    assert huffkit.decompress(files["a.txt.huf"]) == TEXT
    assert files["a.txt.huf"] == huffkit.compress(TEXT)


def test_decompress_restores_the_file_and_keeps_file_huf(work):
    (work / "a.bin").write_bytes(BINARY)
    assert invoke("compress", "a.bin").exit_code == 0
    packed = (work / "a.bin.huf").read_bytes()
    (work / "a.bin").unlink()
    result = invoke("decompress", "a.bin.huf")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert listing(work) == {"a.bin": BINARY, "a.bin.huf": packed}


def test_several_files_in_one_call(work):
    contents = {"one.txt": TEXT, "two.bin": BINARY, "three": b"x"}
    for name, data in contents.items():
        (work / name).write_bytes(data)
    assert invoke("compress", *contents).exit_code == 0
    for name, data in contents.items():
        assert huffkit.decompress((work / f"{name}.huf").read_bytes()) == data
        (work / name).unlink()
    result = invoke("decompress", *(f"{name}.huf" for name in contents))
    assert result.exit_code == 0
    assert result.stderr == ""
    for name, data in contents.items():
        assert (work / name).read_bytes() == data
    assert len(listing(work)) == 2 * len(contents)


def test_an_empty_file_round_trips(work):
    (work / "empty").write_bytes(b"")
    assert invoke("compress", "empty").exit_code == 0
    assert (work / "empty.huf").read_bytes() == huffkit.compress(b"")
    assert invoke("decompress", "-o", "restored", "empty.huf").exit_code == 0
    assert (work / "restored").read_bytes() == b""


@pytest.mark.parametrize("flag", ["-o", "--output"])
def test_output_option_names_the_output(work, flag):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", flag, "packed.bin", "a.txt")
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == ("", "")
    assert sorted(listing(work)) == ["a.txt", "packed.bin"]
    assert (work / "packed.bin").read_bytes() == huffkit.compress(TEXT)
    # With -o, decompress needs no .huf suffix on its input.
    result = invoke("decompress", flag, "copy.txt", "packed.bin")
    assert result.exit_code == 0
    assert (work / "copy.txt").read_bytes() == TEXT
    assert sorted(listing(work)) == ["a.txt", "copy.txt", "packed.bin"]


def test_output_dash_means_standard_output(work):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", "-o", "-", "a.txt")
    assert result.exit_code == 0
    assert result.stdout_bytes == huffkit.compress(TEXT)
    assert sorted(listing(work)) == ["a.txt"]


@pytest.mark.parametrize("flag", ["-c", "--stdout"])
def test_stdout_option_matches_the_library(work, flag):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", flag, "--block-size", "4K", "--max-code-length", "11", "a.txt")
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout_bytes == huffkit.compress(TEXT, block_size=4096, max_code_length=11)
    assert listing(work) == {"a.txt": TEXT}

    (work / "a.txt.huf").write_bytes(result.stdout_bytes)
    (work / "a.txt").unlink()
    result = invoke("decompress", flag, "a.txt.huf")
    assert result.exit_code == 0
    assert result.stdout_bytes == TEXT
    assert sorted(listing(work)) == ["a.txt.huf"]


def test_stdout_option_with_several_files_concatenates(work):
    (work / "a").write_bytes(TEXT)
    (work / "b").write_bytes(BINARY)
    result = invoke("compress", "-c", "a", "b")
    assert result.exit_code == 0
    assert result.stdout_bytes == huffkit.compress(TEXT) + huffkit.compress(BINARY)
    (work / "ab.huf").write_bytes(result.stdout_bytes)
    (work / "b.huf").write_bytes(huffkit.compress(b"more"))
    result = invoke("decompress", "-c", "ab.huf", "b.huf")
    assert result.exit_code == 0
    assert result.stdout_bytes == TEXT + BINARY + b"more"
    assert sorted(listing(work)) == ["a", "ab.huf", "b", "b.huf"]


@pytest.mark.parametrize("args", [[], ["-"]], ids=["no-file", "dash"])
def test_standard_input_to_standard_output(work, args):
    result = invoke("compress", *args, input=TEXT)
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout_bytes == huffkit.compress(TEXT)
    result = invoke("decompress", *args, input=huffkit.compress(BINARY) + huffkit.compress(TEXT))
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout_bytes == BINARY + TEXT
    assert listing(work) == {}


def test_standard_input_to_a_named_output(work):
    result = invoke("compress", "-o", "out.huf", input=TEXT)
    assert result.exit_code == 0
    assert listing(work) == {"out.huf": huffkit.compress(TEXT)}
    result = invoke("decompress", "-o", "out", "-", input=huffkit.compress(BINARY))
    assert result.exit_code == 0
    assert (work / "out").read_bytes() == BINARY


# -- compress options ------------------------------------------------------------


@pytest.mark.parametrize(("text", "size"), [
    ("65536", 65536), ("64K", 65536), ("64k", 65536), ("64KiB", 65536), ("1M", 1 << 20),
    ("1MiB", 1 << 20), ("1000", 1000), ("1", 1), ("64M", huffkit.MAX_BLOCK_SIZE),
])
def test_block_size_accepts_sizes(work, text, size):
    data = TEXT[:20000] if size < 1000 else TEXT
    (work / "a.txt").write_bytes(data)
    result = invoke("compress", "--block-size", text, "a.txt")
    assert result.exit_code == 0, result.stderr
    packed = (work / "a.txt.huf").read_bytes()
    assert packed == huffkit.compress(data, block_size=size)
    (frame,) = huffkit.frame_info(packed)
    assert frame.block_size == min(size, len(data))  # one block: its size (FORMAT.md 17.5)
    # Each size bytes are one block, or several where splitting pays; never more than size.
    assert len(frame.blocks) >= -(-len(data) // size)
    assert max(block.symbols for block in frame.blocks) <= size
    assert huffkit.decompress(packed) == data


@pytest.mark.parametrize(("text", "message"), [
    ("0", "0 is outside 1 byte to 64M"),
    ("abc", "'abc' is not a size .*"),
    (str(huffkit.MAX_BLOCK_SIZE + 1), f"{huffkit.MAX_BLOCK_SIZE + 1} is outside 1 byte to 64M"),
    ("128M", "128M is outside 1 byte to 64M"),
    ("1G", "1G is outside 1 byte to 64M"),
    ("-1", "'-1' is not a size .*"),
    ("1.5M", "'1.5M' is not a size .*"),
    ("", "'' is not a size .*"),
])
def test_block_size_rejects_bad_sizes(work, text, message):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", "--block-size", text, "a.txt")
    assert_usage_error(result, f"Invalid value for '--block-size': {message}")
    assert listing(work) == {"a.txt": TEXT}


@pytest.mark.parametrize("limit", [8, 9, 12, 15, huffkit.LONGEST_CODE])
def test_max_code_length_bounds_the_stored_codes(work, limit):
    data = fibonacci_data(20)
    (work / "fib").write_bytes(data)
    result = invoke("compress", "--max-code-length", str(limit), "fib")
    assert result.exit_code == 0, result.stderr
    packed = (work / "fib.huf").read_bytes()
    assert packed == huffkit.compress(data, max_code_length=limit)
    (frame,) = huffkit.frame_info(packed)
    (block,) = frame.blocks
    # Unlimited, Huffman's code for these counts is 19 bits deep; a block of fewer than
    # 65,536 symbols may take a shorter limit still, where its table shrinks by more than
    # its payload grows (FORMAT.md 16.3), and never a longer one.
    assert block.max_code_length <= min(limit, 19)
    (unsplit,) = huffkit.frame_info(huffkit.compress(data, max_code_length=limit, split=False))
    assert unsplit.blocks[0].max_code_length == min(limit, 19)
    assert huffkit.decompress(packed) == data


def test_default_max_code_length_is_the_library_default(work):
    data = fibonacci_data(20)
    (work / "fib").write_bytes(data)
    assert invoke("compress", "fib").exit_code == 0
    packed = (work / "fib.huf").read_bytes()
    assert packed == huffkit.compress(data, max_code_length=huffkit.DEFAULT_MAX_CODE_LENGTH)
    (frame,) = huffkit.frame_info(huffkit.compress(data, split=False))
    assert frame.blocks[0].max_code_length == huffkit.DEFAULT_MAX_CODE_LENGTH


@pytest.mark.parametrize("value", ["0", str(huffkit.LONGEST_CODE + 1), "x", "-3"])
def test_max_code_length_rejects_bad_values(work, value):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", "--max-code-length", value, "a.txt")
    assert_usage_error(result, "Invalid value for '--max-code-length': .+")
    assert listing(work) == {"a.txt": TEXT}


def test_max_code_length_too_short_for_the_data_fails_cleanly(work):
    (work / "a.txt").write_bytes(TEXT)
    distinct = len(set(TEXT))
    result = invoke("compress", "--max-code-length", "3", "a.txt")
    assert_error(result, rf"a\.txt: {distinct} distinct symbols need codes of at least "
                         r"\d+ bits, but max_code_length is 3")
    assert listing(work) == {"a.txt": TEXT}


# -- errors: exit status 1, one message, no traceback, files safe ----------------


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_missing_input(work, command):
    name = "missing.huf" if command == "decompress" else "missing"
    result = invoke(command, name)
    assert_error(result, f"{re.escape(name)}: No such file or directory")
    assert listing(work) == {}


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_directory_as_input(work, command):
    name = "sub.huf" if command == "decompress" else "sub"
    (work / name).mkdir()
    result = invoke(command, name)
    assert_error(result, f"{re.escape(name)}: is a directory")
    assert listing(work) == {}
    assert list((work / name).iterdir()) == []


def test_existing_output_is_kept_without_force_and_replaced_with_it(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "a.txt.huf").write_bytes(b"precious")
    result = invoke("compress", "a.txt")
    assert_error(result, r"a\.txt\.huf already exists; use -f to overwrite it")
    assert listing(work) == {"a.txt": TEXT, "a.txt.huf": b"precious"}

    for flag in ("-f", "--force"):
        (work / "a.txt.huf").write_bytes(b"precious")
        result = invoke("compress", flag, "a.txt")
        assert result.exit_code == 0
        assert result.stderr == ""
        assert listing(work) == {"a.txt": TEXT, "a.txt.huf": huffkit.compress(TEXT)}


def test_existing_output_of_decompress_is_kept_without_force(work):
    (work / "a.txt.huf").write_bytes(huffkit.compress(TEXT))
    (work / "a.txt").write_bytes(b"precious")
    result = invoke("decompress", "a.txt.huf")
    assert_error(result, r"a\.txt already exists; use -f to overwrite it")
    assert (work / "a.txt").read_bytes() == b"precious"
    result = invoke("decompress", "-f", "a.txt.huf")
    assert result.exit_code == 0
    assert (work / "a.txt").read_bytes() == TEXT


def test_existing_named_output_is_kept_without_force(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "out").write_bytes(b"precious")
    assert_error(invoke("compress", "-o", "out", "a.txt"),
                 "out already exists; use -f to overwrite it")
    assert (work / "out").read_bytes() == b"precious"
    assert_error(invoke("compress", "-o", "out", input=TEXT),
                 "out already exists; use -f to overwrite it")
    assert (work / "out").read_bytes() == b"precious"
    assert invoke("compress", "-f", "-o", "out", "a.txt").exit_code == 0
    assert (work / "out").read_bytes() == huffkit.compress(TEXT)
    assert sorted(listing(work)) == ["a.txt", "out"]


@pytest.mark.parametrize(("command", "name"), [("compress", "a.txt"),
                                               ("decompress", "a.txt.huf")])
def test_input_and_output_the_same_file_is_refused_even_with_force(work, command, name):
    data = TEXT if command == "compress" else huffkit.compress(TEXT)
    (work / name).write_bytes(data)
    result = invoke(command, "-f", "-o", name, name)
    assert_error(result, f"{re.escape(name)}: input and output are the same file")
    assert listing(work) == {name: data}


def test_a_symlink_in_the_way_is_not_followed(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "victim").write_bytes(b"precious")
    (work / "a.txt.huf").symlink_to("victim")
    result = invoke("compress", "a.txt")
    assert_error(result, r"a\.txt\.huf already exists; use -f to overwrite it")
    assert os.readlink("a.txt.huf") == "victim"
    assert (work / "victim").read_bytes() == b"precious"
    # -f replaces the link itself, never the file it points to.
    assert invoke("compress", "-f", "a.txt").exit_code == 0
    assert not (work / "a.txt.huf").is_symlink()
    assert (work / "a.txt.huf").read_bytes() == huffkit.compress(TEXT)
    assert (work / "victim").read_bytes() == b"precious"


def test_a_dangling_symlink_in_the_way_is_kept(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "a.txt.huf").symlink_to("nowhere")
    result = invoke("compress", "a.txt")
    assert_error(result, r"a\.txt\.huf.+")
    assert os.readlink("a.txt.huf") == "nowhere"
    assert not (work / "nowhere").exists()
    assert listing(work) == {"a.txt": TEXT}


def test_a_dangling_symlink_is_reported_as_an_existing_output(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "a.txt.huf").symlink_to("nowhere")
    result = invoke("compress", "a.txt")
    assert_error(result, r"a\.txt\.huf already exists; use -f to overwrite it")


def test_force_replaces_a_dangling_symlink(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "a.txt.huf").symlink_to("nowhere")
    result = invoke("compress", "-f", "a.txt")
    assert result.exit_code == 0, result.stderr
    assert not (work / "a.txt.huf").is_symlink()
    assert listing(work) == {"a.txt": TEXT, "a.txt.huf": huffkit.compress(TEXT)}
    assert not (work / "nowhere").exists()


@pytest.mark.parametrize("name", ["a.txt", "a.huff", "a.HUF", ".huf"])
def test_decompress_needs_the_huf_suffix(work, name):
    (work / name).write_bytes(huffkit.compress(TEXT))
    result = invoke("decompress", name)
    assert_error(result, f"{re.escape(name)}: unknown suffix \\(expected \\.huf\\); "
                         "use -o to name the output or -c for standard output")
    assert listing(work) == {name: huffkit.compress(TEXT)}


def test_compressing_a_huf_file_needs_force(work):
    packed = huffkit.compress(TEXT)
    (work / "a.huf").write_bytes(packed)
    result = invoke("compress", "a.huf")
    assert_error(result, r"a\.huf already has the \.huf suffix; use -f to compress it again")
    assert listing(work) == {"a.huf": packed}
    result = invoke("compress", "-f", "a.huf")
    assert result.exit_code == 0
    assert listing(work) == {"a.huf": packed, "a.huf.huf": huffkit.compress(packed)}


def _flip_payload_byte(packed: bytes, block_index: int) -> bytes:
    """*packed* with one byte in the middle of a block's coded streams inverted."""
    blocks = [block for frame in huffkit.frame_info(packed) for block in frame.blocks]
    block = blocks[block_index]
    payload = block.payload_bits // 8
    assert payload >= 2
    position = block.offset + block.size - payload // 2
    return packed[:position] + bytes([packed[position] ^ 0xFF]) + packed[position + 1:]


GOOD = huffkit.compress(TEXT)
GOOD_BLOCKS = huffkit.compress(TEXT, block_size=8192)
CORRUPT = {
    "flipped-payload-byte": (_flip_payload_byte(GOOD, 0), ".+"),
    "flipped-byte-in-last-block": (_flip_payload_byte(GOOD_BLOCKS, -1), ".+"),
    "flipped-byte-in-first-of-two-frames": (_flip_payload_byte(GOOD + GOOD, 0), ".+"),
    "flipped-frame-header-byte": (GOOD[:5] + bytes([GOOD[5] ^ 0x01]) + GOOD[6:], ".+"),
    "garbage": (b"this is not a huffkit file at all\n" * 10, "not a huffkit frame: .+"),
    "empty": (b"", ".*(empty|ended|truncated).*"),
    "truncated-in-header": (GOOD[:7], ".*(ended|truncated).*"),
    "truncated-in-payload": (GOOD_BLOCKS[: len(GOOD_BLOCKS) // 2], ".*(ended|truncated).*"),
    "truncated-by-one-byte": (GOOD[:-1], ".*(ended|truncated).*"),
    "truncated-second-frame": (GOOD + GOOD[:100], ".*(ended|truncated).*"),
    "trailing-garbage": (GOOD + b"garbage!", "not a huffkit frame: .+"),
}


@pytest.mark.parametrize("case", CORRUPT)
@pytest.mark.parametrize("output", ["default", "-o", "-f -o existing"])
def test_corrupt_input_leaves_no_output_behind(work, case, output):
    bad, message = CORRUPT[case]
    (work / "bad.huf").write_bytes(bad)
    args = {"default": [], "-o": ["-o", "out"], "-f -o existing": ["-f", "-o", "existing"]}
    if output == "-f -o existing":
        (work / "existing").write_bytes(b"precious")
    before = listing(work)
    result = invoke("decompress", *args[output], "bad.huf")
    assert_error(result, rf"bad\.huf: {message}")
    assert len(result.stderr.splitlines()) == 1
    assert listing(work) == before  # no output, no temporary file, input intact


@pytest.mark.parametrize("case", CORRUPT)
def test_corrupt_standard_input_fails_cleanly(work, case):
    bad, message = CORRUPT[case]
    result = invoke("decompress", input=bad)
    assert result.exit_code == 1
    assert_no_traceback(result)
    assert re.fullmatch(rf"huffkit: error: standard input: {message}\n", result.stderr)
    assert listing(work) == {}


@pytest.mark.parametrize(("args", "message"), [
    (["compress", "--no-such-thing", "a.txt"], r"No such option:? '?--no-such-thing'?\.?"),
    (["decompress", "-x", "a.txt.huf"], r"No such option:? '?-x'?\.?"),
    (["compress", "-o", "out", "a.txt", "b.txt"], r"-o/--output takes a single input FILE"),
    (["decompress", "-o", "out", "a.txt.huf", "b.txt.huf"],
     r"-o/--output takes a single input FILE"),
    (["compress", "-o", "out", "-c", "a.txt"],
     r"-o/--output and -c/--stdout cannot be used together"),
    (["decompress", "-c", "-o", "out", "a.txt.huf"],
     r"-o/--output and -c/--stdout cannot be used together"),
    (["info"], r"Missing argument '?FILE\.\.\.'?\.?"),
    # click reports a missing option value without a context, so without the usage line.
    (["compress", "--block-size"], r"Option '--block-size' requires an argument\.?"),
])
def test_usage_errors_exit_2(work, args, message):
    for name in ("a.txt", "b.txt"):
        (work / name).write_bytes(TEXT)
        (work / f"{name}.huf").write_bytes(huffkit.compress(TEXT))
    before = listing(work)
    assert_usage_error(invoke(*args), message, usage="requires an argument" not in message)
    assert listing(work) == before


def test_one_failing_input_does_not_stop_the_others(work):
    (work / "a").write_bytes(TEXT)
    (work / "c").write_bytes(BINARY)
    (work / "d").write_bytes(b"d")
    (work / "d.huf").write_bytes(b"precious")
    result = invoke("compress", "a", "missing", "c", "d")
    assert result.exit_code == 1
    assert_no_traceback(result)
    assert result.stderr == ("huffkit: error: missing: No such file or directory\n"
                             "huffkit: error: d.huf already exists; use -f to overwrite it\n")
    assert listing(work) == {"a": TEXT, "a.huf": huffkit.compress(TEXT), "c": BINARY,
                             "c.huf": huffkit.compress(BINARY), "d": b"d", "d.huf": b"precious"}


def test_one_corrupt_input_does_not_stop_the_others(work):
    (work / "a.huf").write_bytes(huffkit.compress(TEXT))
    (work / "b.huf").write_bytes(CORRUPT["flipped-payload-byte"][0])
    (work / "c.huf").write_bytes(huffkit.compress(BINARY))
    (work / "d").write_bytes(b"not compressed")
    result = invoke("decompress", "a.huf", "b.huf", "c.huf", "d")
    assert result.exit_code == 1
    assert_no_traceback(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"huffkit: error: b\.huf: .+", lines[0])
    assert re.fullmatch(r"huffkit: error: d: unknown suffix .+", lines[1])
    assert (work / "a").read_bytes() == TEXT
    assert (work / "c").read_bytes() == BINARY
    assert not (work / "b").exists()
    assert sorted(listing(work)) == ["a", "a.huf", "b.huf", "c", "c.huf", "d"]


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_an_interrupted_run_leaves_no_partial_output(work, monkeypatch, command):
    data = TEXT if command == "compress" else huffkit.compress(TEXT)
    name = "a.txt" if command == "compress" else "a.txt.huf"
    (work / name).write_bytes(data)

    def interrupted_copy(source, target, length=0):
        target.write(source.read(1000))
        raise KeyboardInterrupt

    def interrupted_flush(self):
        raise KeyboardInterrupt  # after compress() has written the frame header

    if command == "compress":
        monkeypatch.setattr(huffkit.HuffmanCompressor, "flush", interrupted_flush)
    else:
        monkeypatch.setattr(shutil, "copyfileobj", interrupted_copy)
    result = invoke(command, name)
    assert result.exit_code == 130
    assert_no_traceback(result)
    assert result.stderr.splitlines()[-1] == "huffkit: error: interrupted"
    assert listing(work) == {name: data}


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_running_out_of_memory_is_reported_and_leaves_no_partial_output(work, monkeypatch,
                                                                       command):
    data = TEXT if command == "compress" else huffkit.compress(TEXT)
    name = "a.txt" if command == "compress" else "a.txt.huf"
    (work / name).write_bytes(data)

    def exhausted(source, target, length=0):
        target.write(source.read(1000))
        raise MemoryError

    def exhausted_flush(self):
        raise MemoryError  # after compress() has written the frame header

    if command == "compress":
        monkeypatch.setattr(huffkit.HuffmanCompressor, "flush", exhausted_flush)
    else:
        monkeypatch.setattr(shutil, "copyfileobj", exhausted)
    result = invoke(command, name)
    assert result.exit_code == 1
    assert_no_traceback(result)
    assert result.stderr == ("huffkit: error: out of memory (a smaller --block-size or fewer "
                             "--threads need less)\n")
    assert listing(work) == {name: data}


def test_a_write_error_is_reported_and_leaves_no_partial_output(work, monkeypatch):
    (work / "a.txt.huf").write_bytes(huffkit.compress(TEXT))

    def failing_copy(source, target, length=0):
        target.write(source.read(1000))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(shutil, "copyfileobj", failing_copy)
    result = invoke("decompress", "a.txt.huf")
    assert_error(result, re.escape(os.strerror(errno.ENOSPC)))
    assert listing(work) == {"a.txt.huf": huffkit.compress(TEXT)}


def test_output_into_a_missing_folder_names_the_output(work):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", "-o", "nowhere/a.huf", "a.txt")
    assert result.exit_code == 1
    assert ".tmp" not in result.stderr
    assert re.fullmatch(r"huffkit: error: nowhere/a\.huf: No such file or directory\n",
                        result.stderr)
    assert listing(work) == {"a.txt": TEXT}


# -- info ----------------------------------------------------------------------


def test_info_text(work):
    packed = huffkit.compress(TEXT, block_size=16384)
    (work / "a.huf").write_bytes(packed)
    (frame,) = huffkit.frame_info(packed)
    result = invoke("info", "--blocks", "a.huf")
    assert result.exit_code == 0
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == (f"a.huf: {len(packed):,} bytes, 1 frame, "
                        f"{len(TEXT):,} bytes decompressed")
    assert re.fullmatch(r"  compression rate \d+\.\d{3}, \d+\.\d{3} bits per byte, "
                        r"code lengths \d+\.\.\d+", lines[1])
    assert f"compression rate {len(TEXT) / len(packed):.3f}," in lines[1]
    blocks = -(-len(TEXT) // 16384)
    assert len(frame.blocks) == blocks == 4
    assert (f"frame 1 at byte 0: format version {huffkit.FORMAT_VERSION}, Huffman, "
            f"block size 16,384, {blocks} blocks, {len(packed):,} bytes") in lines
    rows = [line.split() for line in lines if re.match(r"\s+\d+\s+[\d,]+\s", line)]
    assert [int(row[0]) for row in rows] == list(range(1, blocks + 1))
    assert [int(row[2].replace(",", "")) for row in rows] == [b.symbols for b in frame.blocks]
    assert [int(row[6].replace(",", "")) for row in rows] == [b.size for b in frame.blocks]
    assert listing(work) == {"a.huf": packed}


def test_info_json_matches_frame_info(work):
    packed = huffkit.compress(TEXT, block_size=16384, max_code_length=12)
    (work / "a.huf").write_bytes(packed)
    frames = huffkit.frame_info(packed)
    result = invoke("info", "--json", "a.huf")
    assert result.exit_code == 0
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    blocks = [block for frame in frames for block in frame.blocks]
    assert summary["file"] == "a.huf"
    assert summary["compressed_size"] == len(packed) == sum(frame.size for frame in frames)
    assert summary["original_size"] == len(TEXT)
    assert summary["compression_rate"] == pytest.approx(len(TEXT) / len(packed))
    assert summary["bits_per_byte"] == pytest.approx(8 * len(packed) / len(TEXT))
    assert len(summary["frames"]) == len(frames) == 1
    assert summary["blocks"] == len(blocks) == 4
    assert [b["symbols"] for f in summary["frames"] for b in f["blocks"]] == \
        [b.symbols for b in blocks] == [16384, 16384, 16384, len(TEXT) - 3 * 16384]
    assert summary["min_code_length"] == min(b.min_code_length for b in blocks)
    assert summary["max_code_length"] == max(b.max_code_length for b in blocks) <= 12
    expected = json.loads(json.dumps([dataclasses.asdict(frame) for frame in frames]))
    assert summary["frames"] == expected


def test_info_reads_standard_input(work):
    packed = huffkit.compress(BINARY)
    result = invoke("info", "--json", "-", input=packed)
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["file"] == "-"
    assert summary["compressed_size"] == len(packed)
    assert summary["original_size"] == len(BINARY)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("command", ["info", "inspect"])
def test_reading_a_named_pipe(work, command):
    # With -f (without it a pipe is refused: tests/test_cli_hardening.py).  A pipe has no
    # size: it must be read to its end, not taken for an empty file.
    packed = huffkit.compress(TEXT)
    os.mkfifo("pipe.huf")

    def feed() -> None:
        with open("pipe.huf", "wb") as pipe:
            pipe.write(packed)

    writer = threading.Thread(target=feed)
    writer.start()
    result = invoke(command, "-f", "--json", "pipe.huf")
    writer.join(timeout=10)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["compressed_size"] == len(packed)


def test_info_on_concatenated_frames_reports_two(work):
    first = huffkit.compress(TEXT)
    second = huffkit.compress(BINARY, block_size=4096)
    (work / "c.huf").write_bytes(first + second)
    result = invoke("info", "--blocks", "c.huf")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (f"c.huf: {len(first) + len(second):,} bytes, 2 frames, "
                        f"{len(TEXT) + len(BINARY):,} bytes decompressed")
    assert any(line.startswith("frame 1 at byte 0: ") for line in lines)
    assert any(line.startswith(f"frame 2 at byte {len(first):,}: ") for line in lines)
    summary = json.loads(invoke("info", "--json", "c.huf").stdout)
    assert len(summary["frames"]) == 2
    assert [frame["offset"] for frame in summary["frames"]] == [0, len(first)]
    assert summary["blocks"] == sum(len(frame.blocks)
                                    for frame in huffkit.frame_info(first + second))
    assert summary["blocks"] >= 1 + 2
    assert summary["original_size"] == len(TEXT) + len(BINARY)


def test_info_on_a_compressed_empty_file(work):
    packed = huffkit.compress(b"")
    (work / "e.huf").write_bytes(packed)
    result = invoke("info", "--blocks", "e.huf")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"e.huf: {len(packed)} bytes, 1 frame, " \
                                            "0 bytes decompressed"
    summary = json.loads(invoke("info", "--json", "e.huf").stdout)
    assert (summary["original_size"], summary["blocks"]) == (0, 0)
    assert summary["bits_per_byte"] is None


@pytest.mark.parametrize(("content", "message"), [
    (TEXT, r"a\.txt: not a huffkit frame: expected magic bytes 89 48 55 46, found .+"),
    (b"", r"a\.txt: empty input: no huffkit frame"),
    (GOOD[:30], r"a\.txt: .*(ended|truncated).*"),
    (GOOD + b"garbage!", r"a\.txt: not a huffkit frame: .+"),
])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_info_on_a_non_huffkit_file_fails_cleanly(work, content, message, as_json):
    (work / "a.txt").write_bytes(content)
    result = invoke("info", *(["--json"] if as_json else []), "a.txt")
    assert_error(result, message)
    assert listing(work) == {"a.txt": content}


def test_info_on_a_missing_file_or_a_directory(work):
    assert_error(invoke("info", "missing.huf"), r"missing\.huf: No such file or directory")
    (work / "sub").mkdir()
    assert_error(invoke("info", "sub"), "sub: is a directory")


# -- concatenation, permissions ----------------------------------------------------


def test_concatenated_huf_files_decompress_to_the_concatenation(work):
    (work / "a").write_bytes(TEXT)
    (work / "b").write_bytes(BINARY)
    assert invoke("compress", "--block-size", "4K", "a").exit_code == 0
    assert invoke("compress", "--max-code-length", "10", "b").exit_code == 0
    (work / "c.huf").write_bytes((work / "a.huf").read_bytes() + (work / "b.huf").read_bytes())
    result = invoke("decompress", "c.huf")
    assert result.exit_code == 0
    assert (work / "c").read_bytes() == TEXT + BINARY


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_outputs_get_the_input_permission_bits(work, mode):
    (work / "a.txt").write_bytes(TEXT)
    os.chmod("a.txt", mode)
    assert invoke("compress", "a.txt").exit_code == 0
    assert stat.S_IMODE(os.stat("a.txt.huf").st_mode) == mode
    assert invoke("compress", "-o", "named.huf", "a.txt").exit_code == 0
    assert stat.S_IMODE(os.stat("named.huf").st_mode) == mode
    assert invoke("decompress", "-o", "restored.txt", "a.txt.huf").exit_code == 0
    assert stat.S_IMODE(os.stat("restored.txt").st_mode) == mode
    assert (work / "restored.txt").read_bytes() == TEXT


def test_output_from_standard_input_gets_the_umask_default(work):
    previous = os.umask(0o027)
    try:
        result = invoke("compress", "-o", "out.huf", input=TEXT)
    finally:
        os.umask(previous)
    assert result.exit_code == 0
    assert stat.S_IMODE(os.stat("out.huf").st_mode) == 0o640


# -- the standard corpora ------------------------------------------------------------


CORPUS = (sorted(path for path in CORPORA.rglob("*") if path.is_file())
          if CORPORA.is_dir() else
          [pytest.param(None, marks=pytest.mark.skip(reason=f"{CORPORA} is not present"))])


@pytest.mark.parametrize("path", CORPUS,
                         ids=lambda p: str(p.relative_to(CORPORA)) if p else "absent")
def test_corpus_round_trip(work, path):
    result = invoke("compress", "-o", "packed.huf", str(path))
    assert result.exit_code == 0, result.stderr
    assert huffkit.frame_info((work / "packed.huf").read_bytes())
    result = invoke("decompress", "-o", "restored", "packed.huf")
    assert result.exit_code == 0, result.stderr
    assert (work / "restored").read_bytes() == path.read_bytes()


# -- the real programs ---------------------------------------------------------------


def _console_script() -> Path:
    folder = Path(sys.executable).parent
    for name in ("huffkit", "huffkit.exe"):
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"no huffkit console script beside {sys.executable}")


def _run(*command, cwd: Path, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=cwd, input=input,
                          capture_output=True, timeout=60, check=False)


def test_console_script(tmp_path):
    script = _console_script()
    version = _run(script, "-V", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (
        0, f"huffkit {huffkit.__version__}\n".encode())

    piped = _run(script, "compress", "--block-size", "8K", input=TEXT, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == huffkit.compress(TEXT, block_size=8192)
    back = _run(script, "decompress", input=piped.stdout, cwd=tmp_path)
    assert (back.returncode, back.stdout, back.stderr) == (0, TEXT, b"")

    missing = _run(script, "compress", "missing", cwd=tmp_path)
    assert missing.returncode == 1
    assert missing.stderr == b"huffkit: error: missing: No such file or directory\n"

    (tmp_path / "bad.huf").write_bytes(CORRUPT["flipped-payload-byte"][0])
    bad = _run(script, "decompress", "bad.huf", cwd=tmp_path)
    assert bad.returncode == 1
    assert re.fullmatch(rb"huffkit: error: bad\.huf: .+\n", bad.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.huf"]

    usage = _run(script, "compress", "-o", "x", "-c", cwd=tmp_path)
    assert usage.returncode == 2
    assert b"Traceback" not in usage.stderr
    assert usage.stderr.endswith(
        b"huffkit: error: -o/--output and -c/--stdout cannot be used together\n")


def test_python_dash_m_huffkit(tmp_path):
    help_ = _run(sys.executable, "-m", "huffkit", "-h", cwd=tmp_path)
    assert help_.returncode == 0
    assert help_.stdout.decode().splitlines()[0] == USAGE[None]

    (tmp_path / "a.bin").write_bytes(BINARY)
    compressed = _run(sys.executable, "-m", "huffkit", "compress", "a.bin", cwd=tmp_path)
    assert (compressed.returncode, compressed.stderr) == (0, b"")
    assert (tmp_path / "a.bin.huf").read_bytes() == huffkit.compress(BINARY)
    (tmp_path / "a.bin").unlink()
    restored = _run(sys.executable, "-m", "huffkit", "decompress", "a.bin.huf", cwd=tmp_path)
    assert (restored.returncode, restored.stderr) == (0, b"")
    assert (tmp_path / "a.bin").read_bytes() == BINARY


def test_a_closed_pipe_ends_quietly(tmp_path):
    script = _console_script()
    # Several MiB of output, far more than a pipe buffer holds.
    (tmp_path / "big").write_bytes(random.Random(1).randbytes(6 << 20))
    process = subprocess.Popen([str(script), "compress", "-c", "big"], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.read(100)[:4] == huffkit.MAGIC
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert stderr == b""
