"""``huf``: gzip's command line over huffkit compress, decompress and info.

In process through its click entry point (``huffkit.cli.huf``, with click's CliRunner), and
for real in a subprocess through the entry function (the editable install predates the
script), with pipes and with a terminal.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import cli_runner, invoke, listing

import huffkit
import huffkit.cli
from huffkit.cli import _huf
from huffkit.stream.threads import MAX_THREADS

TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(1200))
OTHER = bytes(range(256)) * 20
PACKED = huffkit.compress(TEXT)
#: The entry point as the console script calls it.
HUF = [sys.executable, "-c", "from huffkit.cli import huf; huf()"]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def huf(*args: str, input: bytes | None = None) -> Any:
    """``huf ARGS`` in process; an exception the command does not handle fails the test."""
    return cli_runner().invoke(huffkit.cli.huf, list(args), input=input, prog_name="huf",
                               catch_exceptions=False)


def run(*args: str, cwd: Path, input: bytes | None = None, **options: Any,
        ) -> subprocess.CompletedProcess[bytes]:
    options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **options}
    return subprocess.run([*HUF, *args], cwd=cwd, input=input, timeout=120, check=False,
                          **options)


def shrank(before: int, after: int) -> str:
    return f"{100 * (1 - after / before):5.1f}%"


def test_huf_compresses_and_keeps_its_input_by_default(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "b.bin").write_bytes(OTHER)
    result = huf("a.txt", "b.bin")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert listing(work) == {"a.txt": TEXT, "a.txt.huf": PACKED, "b.bin": OTHER,
                             "b.bin.huf": huffkit.compress(OTHER)}


def test_huf_writes_what_huffkit_compress_writes(work):
    (work / "a.txt").write_bytes(TEXT)
    assert huf("a.txt").exit_code == 0
    by_huf = (work / "a.txt.huf").read_bytes()
    assert invoke("compress", "-f", "a.txt").exit_code == 0
    assert (work / "a.txt.huf").read_bytes() == by_huf == PACKED


def test_huf_d_decompresses_and_keeps_the_compressed_file(work):
    (work / "a.txt.huf").write_bytes(PACKED)
    for flag in ("-d", "--decompress", "--uncompress"):
        result = huf(flag, "a.txt.huf")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
        assert listing(work) == {"a.txt": TEXT, "a.txt.huf": PACKED}
        os.unlink("a.txt")


def test_huf_dc_writes_standard_output_only(work):
    (work / "x.huf").write_bytes(PACKED)
    result = huf("-dc", "x.huf")
    assert (result.exit_code, result.stdout_bytes, result.stderr) == (0, TEXT, "")
    assert listing(work) == {"x.huf": PACKED}


def test_huf_c_compresses_to_standard_output(work):
    (work / "a.txt").write_bytes(TEXT)
    result = huf("-c", "a.txt")
    assert (result.exit_code, result.stdout_bytes) == (0, PACKED)
    assert listing(work) == {"a.txt": TEXT}


def test_huf_with_no_file_or_a_dash_filters(work):
    for args in ([], ["-"]):
        result = huf(*args, input=TEXT)
        assert (result.exit_code, result.stdout_bytes) == (0, PACKED)
        result = huf("-d", *args, input=PACKED)
        assert (result.exit_code, result.stdout_bytes) == (0, TEXT)
    assert listing(work) == {}


def test_huf_rm_deletes_the_inputs(work):
    (work / "a.txt").write_bytes(TEXT)
    assert huf("--rm", "a.txt").exit_code == 0
    assert listing(work) == {"a.txt.huf": PACKED}
    assert huf("-d", "--rm", "a.txt.huf").exit_code == 0
    assert listing(work) == {"a.txt": TEXT}


def test_huf_keep_and_force(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "a.txt.huf").write_bytes(b"old")
    result = huf("-k", "a.txt")
    assert (result.exit_code, result.stderr) == (
        1, "huf: error: a.txt.huf already exists; use -f to overwrite it\n")
    assert huf("-k", "-f", "a.txt").exit_code == 0
    assert listing(work) == {"a.txt": TEXT, "a.txt.huf": PACKED}


def test_huf_t_checks_and_names_a_damaged_file(work):
    bad = bytearray(PACKED)
    bad[len(bad) // 2] ^= 0x10
    (work / "good.huf").write_bytes(PACKED)
    (work / "bad.huf").write_bytes(bytes(bad))
    result = huf("-t", "good.huf")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    result = huf("-tv", "good.huf")
    assert (result.exit_code, result.stderr) == (0, "good.huf:\t OK\n")
    result = huf("-t", "good.huf", "bad.huf")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("huf: error: bad.huf: block 1: ")
    assert result.stderr.count("\n") == 1
    assert listing(work) == {"good.huf": PACKED, "bad.huf": bytes(bad)}


def test_huf_l_lists_as_gzip_does(work):
    other = huffkit.compress(OTHER)
    (work / "a.txt.huf").write_bytes(PACKED)
    (work / "b.huf").write_bytes(other)
    result = huf("-l", "a.txt.huf", "b.huf")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "         compressed        uncompressed  ratio uncompressed_name",
        f"{len(PACKED):>19} {len(TEXT):>19} {shrank(len(TEXT), len(PACKED))} a.txt",
        f"{len(other):>19} {len(OTHER):>19} {shrank(len(OTHER), len(other))} b",
        f"{len(PACKED) + len(other):>19} {len(TEXT) + len(OTHER):>19} "
        f"{shrank(len(TEXT) + len(OTHER), len(PACKED) + len(other))} (totals)",
    ]
    result = huf("-l", "a.txt.huf")
    assert result.stdout.splitlines()[1:] == [
        f"{len(PACKED):>19} {len(TEXT):>19} {shrank(len(TEXT), len(PACKED))} a.txt"]
    result = huf("-l", "missing.huf")
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "huf: error: missing.huf: No such file or directory\n")


def test_huf_l_on_a_folder_and_on_standard_input(work):
    (work / "d" / "e").mkdir(parents=True)
    (work / "d" / "plain").write_bytes(TEXT)
    result = huf("-l", "-r", "-q", "d", input=PACKED)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    (work / "d" / "e" / "x.huf").write_bytes(PACKED)
    result = huf("-l", "-r", "d")
    assert result.stdout.splitlines()[1:] == [
        f"{len(PACKED):>19} {len(TEXT):>19} {shrank(len(TEXT), len(PACKED))} d/e/x"]
    result = huf("-l", input=PACKED)
    assert result.stdout.splitlines()[1:] == [
        f"{len(PACKED):>19} {len(TEXT):>19} {shrank(len(TEXT), len(PACKED))} standard input"]


def test_huf_v_and_q(work):
    (work / "a.txt").write_bytes(TEXT)
    result = huf("-v", "a.txt")
    assert result.stderr == f"a.txt:\t{shrank(len(TEXT), len(PACKED))} -- created a.txt.huf\n"
    os.unlink("a.txt")
    result = huf("-dv", "--rm", "a.txt.huf")
    assert result.stderr == (f"a.txt.huf:\t{shrank(len(TEXT), len(PACKED))} -- replaced with "
                             "a.txt\n")
    (work / "d").mkdir()
    (work / "d" / "x.huf").write_bytes(b"x")
    result = huf("-q", "-r", "d")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    result = huf("-r", "d")
    assert result.stderr.startswith("huf: warning: d/x.huf already has the .huf suffix; ")


def test_huf_s_and_r(work):
    (work / "d" / "e").mkdir(parents=True)
    (work / "d" / "a").write_bytes(TEXT)
    (work / "d" / "e" / "b").write_bytes(OTHER)
    assert huf("-r", "-S", ".z", "--rm", "d").exit_code == 0
    assert listing(work) == {"d/a.z": PACKED, "d/e/b.z": huffkit.compress(OTHER)}
    assert huf("-d", "-r", "-S", ".z", "--rm", "d").exit_code == 0
    assert listing(work) == {"d/a": TEXT, "d/e/b": OTHER}


def test_huf_t_zero_is_every_core(work):
    (work / "a").write_bytes(TEXT * 40)
    assert huf("-T", "0", "a").exit_code == 0
    assert (work / "a.huf").read_bytes() == huffkit.compress(TEXT * 40)
    assert huf("-T", "0", "-dc", "a.huf").stdout_bytes == TEXT * 40


def test_huf_threads_ceiling_is_the_librarys():
    assert _huf.MAX_THREADS == MAX_THREADS


@pytest.mark.parametrize(("args", "message"), [
    # The wording of click's own messages changes between its versions.
    (["--bogus-option"], r"No such option:? '?--bogus-option'?\.?"),
    (["-l", "-c", "a.huf"], re.escape("-l/--list cannot be used with -c, -t or --rm")),
    (["--rm", "-c", "a"], re.escape("--rm cannot be used with -c/--stdout: the input files "
                                    "are kept when the output goes to standard output")),
    (["-T", "257", "a"], r"Invalid value for '-T' / '--threads': '?257'? is not in the range "
                         r"0<=x<=256\.?"),
])
def test_huf_usage_errors_exit_2(work, args, message):
    result = huf(*args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Usage: huf ")
    assert lines[1] == "Try 'huf -h' for help."
    assert re.fullmatch(f"huf: error: {message}", lines[-1]), lines[-1]


def test_huf_help_says_inputs_are_kept(work):
    result = huf("-h")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: huf [OPTIONS] [FILE]...\n")
    assert "Unlike gzip, huf KEEPS every input file: only --rm deletes it" in result.stdout
    for option in ("-d, --decompress", "-c, --stdout", "-k, --keep", "--rm", "-f, --force",
                   "-t, --test", "-l, --list", "-v, --verbose", "-q, --quiet",
                   "-S, --suffix SUF", "-r, --recursive", "-T, --threads"):
        assert option in result.stdout, option
    assert huf("-V").stdout == f"huf (huffkit) {huffkit.__version__}\n"


# -- for real, through the entry function -------------------------------------------------


def test_huf_in_a_subprocess(tmp_path):
    (tmp_path / "file").write_bytes(TEXT)
    ran = run("file", cwd=tmp_path)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    os.unlink(tmp_path / "file")
    ran = run("-d", "file.huf", cwd=tmp_path)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    assert listing(tmp_path) == {"file": TEXT, "file.huf": PACKED}
    ran = run("-d", "missing.huf", cwd=tmp_path)
    assert (ran.returncode, ran.stdout, ran.stderr) == (
        1, b"", b"huf: error: missing.huf: No such file or directory\n")
    ran = run("--no-such-option", cwd=tmp_path)
    assert ran.returncode == 2
    assert re.fullmatch(rb"Usage: huf \[OPTIONS\] \[FILE\]\.\.\.\nTry 'huf -h' for help\.\n"
                        rb"huf: error: No such option:? '?--no-such-option'?\.?\n", ran.stderr)


def test_huf_dc_into_a_pipe(tmp_path):
    # As `huf -dc x.huf | less`: the reader may stop early, which is no error worth a line.
    (tmp_path / "x.huf").write_bytes(PACKED)
    with subprocess.Popen([*HUF, "-dc", "x.huf"], cwd=tmp_path, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        head = process.stdout.read(100)
        process.stdout.close()
        stderr = process.stderr.read()
    assert head == TEXT[:100]
    assert stderr == b""
    piped = subprocess.run(f"{' '.join(HUF[:2])} '{HUF[2]}' -dc x.huf | cat", shell=True,
                           cwd=tmp_path, capture_output=True, timeout=120, check=False)
    assert (piped.returncode, piped.stdout, piped.stderr) == (0, TEXT, b"")


def test_huf_refuses_to_write_compressed_data_to_a_terminal(tmp_path):
    leader, follower = pty.openpty()
    try:
        ran = run(cwd=tmp_path, input=TEXT, stdout=follower, stderr=subprocess.PIPE)
        assert ran.returncode == 1
        assert ran.stderr == (b"huf: error: refusing to write compressed data to a terminal "
                              b"(redirect it, or use -f to force)\n")
        ran = run("-c", "-", cwd=tmp_path, input=TEXT, stdout=follower, stderr=subprocess.PIPE)
        assert ran.returncode == 1
        # Decompressed data may go to a terminal, as with gzip -dc.
        (tmp_path / "x.huf").write_bytes(huffkit.compress(b"hello\n"))
        ran = run("-dc", "x.huf", cwd=tmp_path, stdout=follower, stderr=subprocess.PIPE)
        assert (ran.returncode, ran.stderr) == (0, b"")
        assert os.read(leader, 100).replace(b"\r\n", b"\n") == b"hello\n"
    finally:
        os.close(leader)
        os.close(follower)
    assert listing(tmp_path) == {"x.huf": huffkit.compress(b"hello\n")}


def test_huf_d_on_a_file_without_the_suffix_names_only_huf_options(work):
    (work / "a.txt").write_bytes(TEXT)
    before = listing(work)
    result = huf("-d", "a.txt")
    assert result.exit_code == 1
    assert result.stderr == ("huf: error: a.txt: unknown suffix (expected .huf); "
                             "use -c for standard output\n")
    assert listing(work) == before
