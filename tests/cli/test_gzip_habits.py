"""gzip's habits on ``huffkit compress`` and ``huffkit decompress``, and ``huffkit info`` on
several files (the issue: tried as gzip, zstd and xz users would).

-k (a no-op: inputs are kept), --rm (only after success), -t (decode, verify, write
nothing), -v (gzip's line per file, on stderr), -q, -S, -r, -T 0, and the input's
modification time and permission bits kept on the output.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from conftest import invoke, listing

import huffkit
from huffkit.cli import _habits

#: About 60 KB of text-like bytes.
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(1200))
OTHER = bytes(range(256)) * 20
#: A modification time with nanoseconds, which gzip keeps to the second; huffkit keeps all.
MTIME_NS = 1_234_567_890_123_456_789


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def saved(before: int, after: int) -> str:
    """gzip -v's figure: the space saved, to a tenth of a percent, 5 wide."""
    return f"{100 * (1 - after / before):5.1f}%"


def refusal(data: bytes) -> str:
    """What the library says about *data*, read as decompress reads a file."""
    with pytest.raises(huffkit.HuffmanError) as caught, \
            huffkit.HuffmanFile(io.BytesIO(data), "rb") as stream:
        stream.read()
    return str(caught.value)


def damaged(packed: bytes) -> tuple[bytes, str]:
    """*packed* with a payload bit flipped, and the library's message about it."""
    bad = bytearray(packed)
    bad[len(bad) // 2] ^= 0x10
    return bytes(bad), refusal(bytes(bad))


def blocks(packed: bytes) -> int:
    return sum(len(frame.blocks) for frame in huffkit.frame_info(packed))


def assert_usage_error(result: object, message: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)  # type: ignore[attr-defined]
    assert result.stderr.splitlines()[-1] == f"huffkit: error: {message}"  # type: ignore[attr-defined]


# -- the input's times and permissions --------------------------------------------------


def test_compress_and_decompress_keep_the_modification_time_and_permissions(work):
    (work / "a.txt").write_bytes(TEXT)
    os.chmod("a.txt", 0o640)
    os.utime("a.txt", ns=(MTIME_NS, MTIME_NS))
    assert invoke("compress", "a.txt").exit_code == 0
    packed = (work / "a.txt.huf").read_bytes()
    assert packed == huffkit.compress(TEXT)
    status = os.stat("a.txt.huf")
    assert (status.st_mtime_ns, stat.S_IMODE(status.st_mode)) == (MTIME_NS, 0o640)

    os.unlink("a.txt")
    assert invoke("decompress", "a.txt.huf").exit_code == 0
    status = os.stat("a.txt")
    assert (status.st_mtime_ns, stat.S_IMODE(status.st_mode)) == (MTIME_NS, 0o640)
    assert listing(work) == {"a.txt": TEXT, "a.txt.huf": packed}


def test_standard_input_gives_no_time_to_keep(work):
    result = invoke("compress", "-o", "out.huf", input=TEXT)
    assert result.exit_code == 0
    assert (work / "out.huf").read_bytes() == huffkit.compress(TEXT)
    assert abs(os.stat("out.huf").st_mtime_ns - MTIME_NS) > 10**9


# -- -k and --rm -------------------------------------------------------------------------


@pytest.mark.parametrize("keep", ["-k", "--keep"])
def test_keep_is_accepted_and_inputs_are_kept(work, keep):
    (work / "a.txt").write_bytes(TEXT)
    assert invoke("compress", keep, "a.txt").exit_code == 0
    os.rename("a.txt", "original")
    assert invoke("decompress", keep, "a.txt.huf").exit_code == 0
    packed = huffkit.compress(TEXT)
    assert listing(work) == {"original": TEXT, "a.txt.huf": packed, "a.txt": TEXT}


def test_rm_deletes_each_input_after_its_output_is_written(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "b.bin").write_bytes(OTHER)
    os.utime("a.txt", ns=(MTIME_NS, MTIME_NS))
    result = invoke("compress", "--rm", "a.txt", "b.bin")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert listing(work) == {"a.txt.huf": huffkit.compress(TEXT),
                             "b.bin.huf": huffkit.compress(OTHER)}
    result = invoke("decompress", "--rm", "a.txt.huf", "b.bin.huf")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert listing(work) == {"a.txt": TEXT, "b.bin": OTHER}
    assert os.stat("a.txt").st_mtime_ns == MTIME_NS


def test_rm_with_output_deletes_the_input(work):
    (work / "a.txt").write_bytes(TEXT)
    assert invoke("compress", "--rm", "-o", "packed", "a.txt").exit_code == 0
    assert listing(work) == {"packed": huffkit.compress(TEXT)}


def test_rm_keeps_an_input_whose_output_could_not_be_written(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "a.txt.huf").write_bytes(b"precious")
    (work / "b.txt").write_bytes(OTHER)
    result = invoke("compress", "--rm", "a.txt", "b.txt")
    assert result.exit_code == 1
    assert result.stderr == "huffkit: error: a.txt.huf already exists; use -f to overwrite it\n"
    assert listing(work) == {"a.txt": TEXT, "a.txt.huf": b"precious",
                             "b.txt.huf": huffkit.compress(OTHER)}


def test_rm_keeps_a_damaged_input(work):
    bad, message = damaged(huffkit.compress(TEXT))
    (work / "bad.huf").write_bytes(bad)
    result = invoke("decompress", "--rm", "bad.huf")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"huffkit: error: bad.huf: {message}\n"
    assert listing(work) == {"bad.huf": bad}


@pytest.mark.parametrize("args", [["-c", "a.txt"], ["-o", "-", "a.txt"]])
def test_rm_with_standard_output_is_a_usage_error(work, args):
    (work / "a.txt").write_bytes(TEXT)
    assert_usage_error(invoke("compress", "--rm", *args),
                       "--rm cannot be used with -c/--stdout: the input files are kept when "
                       "the output goes to standard output")
    assert listing(work) == {"a.txt": TEXT}


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_keep_and_rm_together_is_a_usage_error(work, command):
    (work / "a.txt").write_bytes(TEXT)
    assert_usage_error(invoke(command, "-k", "--rm", "a.txt"),
                       "-k/--keep and --rm cannot be used together")
    assert listing(work) == {"a.txt": TEXT}


def test_rm_on_standard_input_deletes_nothing(work):
    (work / "a.txt").write_bytes(TEXT)
    result = invoke("compress", "--rm", input=TEXT)
    assert result.exit_code == 0
    assert result.stdout_bytes == huffkit.compress(TEXT)
    assert listing(work) == {"a.txt": TEXT}


def test_rm_keeps_an_input_that_changed_while_it_was_read(work):
    # The name now holds other data than what was compressed: deleting it would lose it.
    (work / "a.txt").write_bytes(TEXT)
    opened = os.stat("a.txt")
    (work / "a.txt").write_bytes(TEXT + b"more")
    with pytest.raises(_habits.CliError, match=r"^a\.txt: changed while it was read; "
                                               r"not removed$"):
        _habits.remove_input("a.txt", opened)
    assert (work / "a.txt").read_bytes() == TEXT + b"more"
    _habits.remove_input("a.txt", os.stat("a.txt"))
    assert not (work / "a.txt").exists()


# -- -t ----------------------------------------------------------------------------------


def test_test_on_good_files_is_quiet_and_writes_nothing(work):
    (work / "a.txt.huf").write_bytes(huffkit.compress(TEXT))
    (work / "b.huf").write_bytes(huffkit.compress(OTHER) + huffkit.compress(TEXT))
    before = listing(work)
    for flag in ("-t", "--test"):
        result = invoke("decompress", flag, "a.txt.huf", "b.huf")
        assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert listing(work) == before


def test_test_verbose_says_ok_for_each_file(work):
    (work / "a.txt.huf").write_bytes(huffkit.compress(TEXT))
    result = invoke("decompress", "-t", "-v", "a.txt.huf", "-", input=huffkit.compress(OTHER))
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == "a.txt.huf:\t OK\nstandard input:\t OK\n"


def test_test_on_a_damaged_file_exits_1_and_names_it(work):
    packed = huffkit.compress(TEXT)
    bad, message = damaged(packed)
    (work / "good.huf").write_bytes(packed)
    (work / "bad.huf").write_bytes(bad)
    (work / "short.huf").write_bytes(packed[:100])
    before = listing(work)
    result = invoke("decompress", "-t", "good.huf", "bad.huf", "short.huf")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == (f"huffkit: error: bad.huf: {message}\n"
                             f"huffkit: error: short.huf: {refusal(packed[:100])}\n")
    assert listing(work) == before


def test_test_does_not_need_the_suffix(work):
    (work / "packed").write_bytes(huffkit.compress(TEXT))
    result = invoke("decompress", "-t", "packed")
    assert (result.exit_code, result.stderr) == (0, "")


@pytest.mark.parametrize(("args", "message"), [
    (["-c"], "-t/--test writes nothing: it cannot be used with -o/--output or -c/--stdout"),
    (["-o", "x"], "-t/--test writes nothing: it cannot be used with -o/--output or "
                  "-c/--stdout"),
    (["--rm"], "--rm cannot be used with -t/--test, which keeps the files"),
])
def test_test_with_options_that_write_is_a_usage_error(work, args, message):
    (work / "a.huf").write_bytes(huffkit.compress(TEXT))
    assert_usage_error(invoke("decompress", "-t", *args, "a.huf"), message)
    assert listing(work) == {"a.huf": huffkit.compress(TEXT)}


# -- -v and -q ---------------------------------------------------------------------------


def test_verbose_prints_gzips_line_on_standard_error(work):
    (work / "a.txt").write_bytes(TEXT)
    (work / "b.bin").write_bytes(OTHER)
    packed, other = huffkit.compress(TEXT), huffkit.compress(OTHER)
    result = invoke("compress", "-v", "a.txt", "b.bin")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == (f"a.txt:\t{saved(len(TEXT), len(packed))} -- created a.txt.huf\n"
                             f"b.bin:\t{saved(len(OTHER), len(other))} -- created b.bin.huf\n")
    assert "-" in saved(len(OTHER), len(other))  # bytes that do not shrink

    os.unlink("a.txt")
    result = invoke("decompress", "--verbose", "--rm", "a.txt.huf")
    assert result.stderr == f"a.txt.huf:\t{saved(len(TEXT), len(packed))} -- replaced with a.txt\n"

    result = invoke("compress", "-v", "-c", "a.txt")
    assert result.stdout_bytes == packed
    assert result.stderr == f"a.txt:\t{saved(len(TEXT), len(packed))}\n"
    result = invoke("compress", "-v", input=TEXT)
    assert result.stderr == f"standard input:\t{saved(len(TEXT), len(packed))}\n"


def test_verbose_on_an_empty_file_says_nothing_was_saved(work):
    (work / "empty").write_bytes(b"")
    result = invoke("compress", "-v", "empty")
    assert result.stderr == "empty:\t  0.0% -- created empty.huf\n"


def test_quiet_silences_warnings_not_errors(work):
    (work / "d").mkdir()
    (work / "d" / "a.txt").write_bytes(TEXT)
    (work / "d" / "old.huf").write_bytes(b"already")
    result = invoke("compress", "-r", "d")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == ("huffkit: warning: d/old.huf already has the .huf suffix; "
                             "left as it is\n")
    os.unlink("d/a.txt.huf")
    result = invoke("compress", "-r", "-q", "d")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert (work / "d" / "a.txt.huf").read_bytes() == huffkit.compress(TEXT)
    result = invoke("compress", "-q", "missing")
    assert (result.exit_code, result.stderr) == (
        1, "huffkit: error: missing: No such file or directory\n")


def test_verbose_and_quiet_together_is_a_usage_error(work):
    assert_usage_error(invoke("compress", "-v", "-q", "x"),
                       "-v/--verbose and -q/--quiet cannot be used together")


# -- -S ----------------------------------------------------------------------------------


def test_a_custom_suffix_both_ways(work):
    (work / "a.txt").write_bytes(TEXT)
    for flag in ("-S", "--suffix"):
        assert invoke("compress", flag, ".hk", "a.txt").exit_code == 0
        assert listing(work) == {"a.txt": TEXT, "a.txt.hk": huffkit.compress(TEXT)}
        os.rename("a.txt", "original")
        assert invoke("decompress", flag, ".hk", "a.txt.hk").exit_code == 0
        assert listing(work) == {"original": TEXT, "a.txt": TEXT,
                                 "a.txt.hk": huffkit.compress(TEXT)}
        os.unlink("a.txt.hk")
        os.unlink("original")


def test_decompress_requires_the_suffix_it_is_given(work):
    (work / "a.txt.hk").write_bytes(huffkit.compress(TEXT))
    result = invoke("decompress", "a.txt.hk")
    assert result.stderr == ("huffkit: error: a.txt.hk: unknown suffix (expected .huf); use -o "
                             "to name the output or -c for standard output\n")
    result = invoke("decompress", "-S", ".z", "a.txt.hk")
    assert result.stderr == ("huffkit: error: a.txt.hk: unknown suffix (expected .z); use -o "
                             "to name the output or -c for standard output\n")
    result = invoke("compress", "-S", ".hk", "a.txt.hk")
    assert result.stderr == ("huffkit: error: a.txt.hk already has the .hk suffix; use -f to "
                             "compress it again\n")
    assert listing(work) == {"a.txt.hk": huffkit.compress(TEXT)}


@pytest.mark.parametrize("suffix", ["", "a/b", ".", ".."])
def test_a_suffix_that_is_no_suffix_is_a_usage_error(work, suffix):
    assert_usage_error(invoke("compress", "-S", suffix, "x"),
                       f"-S/--suffix {suffix!r} is not a file name suffix")


# -- -r ----------------------------------------------------------------------------------


def make_tree(work: Path) -> dict[str, bytes]:
    files = {"d/a.txt": TEXT, "d/sub/b.bin": OTHER, "d/sub/deeper/c.txt": TEXT[:1000],
             "d/sub/empty": b""}
    for name, data in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(data)
    return files


def test_recursive_compresses_and_decompresses_a_tree(work):
    files = make_tree(work)
    os.symlink("a.txt", work / "d" / "link")  # links are not followed, as by gzip -r
    (work / "d" / "sub" / "old.huf").write_bytes(b"not touched")
    result = invoke("compress", "-r", "-q", "--rm", "d")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    packed = {name + ".huf": huffkit.compress(data) for name, data in files.items()}
    assert listing(work) == {**packed, "d/sub/old.huf": b"not touched"}

    (work / "d" / "sub" / "plain").write_bytes(b"left alone")
    result = invoke("decompress", "--recursive", "--rm", "d")
    assert (result.exit_code, result.stderr) == (
        1, "huffkit: error: d/sub/old.huf: not a huffkit frame: expected magic bytes "
           "89 48 55 46, found 6e 6f 74 20\n")
    assert listing(work) == {**files, "d/sub/old.huf": b"not touched",
                             "d/sub/plain": b"left alone"}


def test_recursive_mixes_folders_and_files(work):
    files = make_tree(work)
    (work / "top").write_bytes(b"top")
    assert invoke("compress", "-r", "top", "d/sub").exit_code == 0
    compressed = {name + ".huf" for name in files if name.startswith("d/sub/")} | {"top.huf"}
    assert set(listing(work)) == set(files) | {"top"} | compressed


def test_recursive_with_nothing_to_do_does_not_read_standard_input(work):
    (work / "d").mkdir()
    (work / "d" / "a.huf").write_bytes(b"x")
    result = invoke("compress", "-r", "-q", "d", input=TEXT)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    result = invoke("compress", "-r", "d", input=TEXT)
    assert result.stderr == ("huffkit: warning: d/a.huf already has the .huf suffix; left as "
                             "it is\nhuffkit: warning: no files to compress\n")


def test_a_folder_without_recursive_is_an_error(work):
    make_tree(work)
    result = invoke("compress", "d")
    assert (result.exit_code, result.stderr) == (1, "huffkit: error: d: is a directory\n")


# -- -T 0 --------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", ["0", "1", "3"])
def test_threads_zero_is_one_per_core_and_the_bytes_are_the_same(work, threads):
    data = TEXT * 6  # several 64K blocks
    (work / "a").write_bytes(data)
    result = invoke("compress", "-T", threads, "--block-size", "64K", "a")
    assert result.exit_code == 0, result.stderr
    assert (work / "a.huf").read_bytes() == huffkit.compress(data, block_size=65536)
    os.unlink("a")
    assert invoke("decompress", "-T", threads, "a.huf").exit_code == 0
    assert (work / "a").read_bytes() == data


def test_threads_out_of_range_is_a_usage_error(work):
    result = invoke("compress", "-T", "-1", "x")
    assert result.exit_code == 2
    assert "-T" in result.stderr.splitlines()[-1]


# -- info on several files ---------------------------------------------------------------


def info_line(original: int, compressed: int, coder: str, model: str, blocks: int,
              name: str, symbols: str = "bytes", coders: int = 10, models: int = 10) -> str:
    """A line of info, its coder and model columns *coders* and *models* wide."""
    return (f"{original:>13,} {compressed:>13,} {original / compressed:>7.3f} "
            f"{coder:<{coders}} {symbols:<7} {model:<{models}} {blocks:>7,}  {name}")


HEADER = "     original    compressed   ratio coder      symbols model       blocks  name"


def test_info_prints_one_line_per_file_and_a_total(work):
    a = huffkit.compress(TEXT, block_size=16384)
    b = huffkit.compress(OTHER, coder="ans")
    c = huffkit.compress(TEXT, model="adaptive1", block_size=32768)
    (work / "a.huf").write_bytes(a)
    (work / "b.huf").write_bytes(b)
    (work / "c.huf").write_bytes(c + a)
    result = invoke("info", "a.huf", "b.huf", "c.huf")
    assert (result.exit_code, result.stderr) == (0, "")
    blocks_c = blocks(c + a)
    # The coder and model columns widen to their widest values, so every column aligns.
    wide = {"coders": len("arithmetic+huffman"), "models": len("adaptive1+order0")}
    assert result.stdout.splitlines() == [
        "     original    compressed   ratio coder              symbols model            "
        " blocks  name",
        info_line(len(TEXT), len(a), "huffman", "order0", blocks(a), "a.huf", **wide),
        info_line(len(OTHER), len(b), "ans", "order0", blocks(b), "b.huf", **wide),
        info_line(2 * len(TEXT), len(c + a), "arithmetic+huffman", "adaptive1+order0",
                  blocks_c, "c.huf", **wide),
        info_line(3 * len(TEXT) + len(OTHER), len(a) + len(b) + len(c + a), "", "",
                  blocks(a) + blocks(b) + blocks_c, "(total of 3 files)", "", **wide),
    ]
    widths = {len(line) - len(line.rsplit("  ", 1)[1]) for line in result.stdout.splitlines()}
    assert len(widths) == 1  # the names start in one column


def test_info_on_one_file_has_no_total(work):
    packed = huffkit.compress(TEXT)
    (work / "a.huf").write_bytes(packed)
    result = invoke("info", "a.huf")
    assert result.stdout == (f"{HEADER}\n"
                             + info_line(len(TEXT), len(packed), "huffman", "order0",
                                         blocks(packed), "a.huf") + "\n")


def test_info_goes_on_after_a_bad_file(work):
    packed = huffkit.compress(TEXT)
    (work / "a.huf").write_bytes(packed)
    (work / "not.huf").write_bytes(b"plain text")
    result = invoke("info", "missing.huf", "a.huf", "not.huf")
    assert result.exit_code == 1
    assert result.stderr == ("huffkit: error: missing.huf: No such file or directory\n"
                             "huffkit: error: not.huf: not a huffkit frame: expected magic "
                             "bytes 89 48 55 46, found 70 6c 61 69\n")
    assert result.stdout.splitlines() == [
        HEADER, info_line(len(TEXT), len(packed), "huffman", "order0", blocks(packed), "a.huf"),
        info_line(len(TEXT), len(packed), "", "", blocks(packed), "(total of 1 file)", "")]


def test_info_blocks_gives_each_files_listing(work):
    (work / "a.huf").write_bytes(huffkit.compress(TEXT))
    (work / "b.huf").write_bytes(huffkit.compress(OTHER))
    one = invoke("info", "--blocks", "a.huf").stdout
    other = invoke("info", "--blocks", "b.huf").stdout
    assert one.startswith(f"a.huf: {len(huffkit.compress(TEXT)):,} bytes, 1 frame, ")
    assert "\nframe 1 at byte 0: " in one
    result = invoke("info", "--blocks", "a.huf", "b.huf")
    assert (result.exit_code, result.stdout) == (0, one + "\n" + other)


def test_info_json_on_several_files_is_a_list(work):
    (work / "a.huf").write_bytes(huffkit.compress(TEXT))
    (work / "b.huf").write_bytes(huffkit.compress(OTHER))
    one = json.loads(invoke("info", "--json", "a.huf").stdout)
    assert one["file"] == "a.huf"  # one FILE: an object, as before
    both = json.loads(invoke("info", "--json", "a.huf", "b.huf").stdout)
    assert [summary["file"] for summary in both] == ["a.huf", "b.huf"]
    assert both[0] == one
    assert both[1]["original_size"] == len(OTHER)
    result = invoke("info", "--json", "a.huf", "missing")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [one]
