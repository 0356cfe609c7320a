"""The decoders' fuzzers: the quick profile finds nothing, and the checks can fail."""

from __future__ import annotations

import random
import re

import pytest
from click.testing import CliRunner

import huffkit
import huffkit.cli
from huffkit.models.sequential import MODELS
from huffkit.tools import fuzzing


@pytest.mark.slow  # the fuzzer's quick profile: 20,000 streams
def test_the_quick_profile_finds_nothing():
    """CI's fuzzing run: 20,000 mutated streams through every decoder entry point (half
    of them through both backends) and 2,000 mutated codebook files."""
    settings = fuzzing.PROFILES["quick"]
    report = fuzzing.run(seed=0, **settings)
    assert [str(finding) for finding in report.findings] == []
    assert report.inputs == {"compressed streams": settings["inputs"],
                             "codebook files": settings["codebook_inputs"]}
    if huffkit.kernels.backend.unavailable is None:
        assert report.cross_checked == settings["inputs"] // settings["reference_every"]
    # The mutations reach every stage of the decoder: some inputs survive them all (an
    # edit the checks prove harmless, or a join of valid frames), and some fail only at
    # the CRC, after the whole block decoded.
    for outcome in ("ok", "FormatError", "TruncatedError", "ChecksumError"):
        assert report.outcomes[f"decompress {outcome}"] > 50, outcome


def test_the_seeds_cover_every_kind_of_stream():
    kinds = {(frame.coder, frame.alphabet, frame.codebook is not None, frame.codebook_embedded)
             for seed in fuzzing.seeds()
             for frame in huffkit.frame_info(seed.compressed, codebook=seed.codebook)}
    assert kinds == {(coder, alphabet, False, False) for coder in ("huffman", "ans")
                     for alphabet in ("bytes", "utf8", "pairs")} | {
        (coder, "bytes", True, embedded) for coder in ("huffman", "ans")
        for embedded in (True, False)} | {("arithmetic", "bytes", False, False)}
    block_types = {seed.compressed[block.offset] for seed in fuzzing.seeds()
                   for frame in huffkit.frame_info(seed.compressed, codebook=seed.codebook)
                   for block in frame.blocks}
    # Every block type of the format, and frames that their last block ends (type bit 7).
    assert {kind & 0x7F for kind in block_types} == set(range(1, 9))
    models = {block.model for seed in fuzzing.seeds()
              for frame in huffkit.frame_info(seed.compressed) for block in frame.blocks}
    assert models == {"order0", *MODELS}
    assert {kind for kind in block_types if kind & 0x80} >= {0x81, 0x83, 0x85}
    for seed in fuzzing.seeds():
        assert huffkit.decompress(seed.compressed, codebook=seed.codebook) == seed.original


def test_the_same_seed_gives_the_same_inputs():
    pool = fuzzing.seeds()
    first = [fuzzing.mutate(pool, random.Random(5))[:3] for _ in range(3)]
    again = [fuzzing.mutate(pool, random.Random(5))[:3] for _ in range(3)]
    assert first == again
    rng = random.Random(5)
    # Nearly all differ (two truncations may both leave nothing, or a byte or two).
    assert len({fuzzing.mutate(pool, rng)[0] for _ in range(50)}) >= 48


# -- the checks can fail -------------------------------------------------------------------

SAMPLE = b"the checks must be able to fail " * 20
PACKED = huffkit.compress(SAMPLE, block_size=128)


def test_a_valid_stream_passes_every_check():
    assert fuzzing.check_compressed(PACKED, expected=SAMPLE) == []
    assert fuzzing.check_compressed(PACKED[:-1], expected=SAMPLE) == []  # truncated: refused


def test_wrong_data_is_a_finding():
    problems = fuzzing.check_compressed(PACKED, expected=SAMPLE[:-1] + b"?")
    assert ("decompress", "decoded to other data without an error") in problems


def test_an_exception_outside_the_family_is_a_finding(monkeypatch):
    def broken(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(fuzzing, "inspect", broken)
    with pytest.raises(IndexError):
        fuzzing.check_compressed(PACKED)
    report = fuzzing.run(inputs=3, codebook_inputs=0)
    assert len(report.findings) == 3
    assert report.findings[0].problem == "raised IndexError: list index out of range"


def test_backends_that_disagree_are_a_finding(monkeypatch):
    real = fuzzing.decompress

    def numpy_differs(data, **kwargs):
        if huffkit.kernels.backend.name() == "numpy":
            raise huffkit.FormatError("the numpy reference disagrees")
        return real(data, **kwargs)

    monkeypatch.setattr(fuzzing, "decompress", numpy_differs)
    problems = fuzzing.check_compressed(PACKED, backends=("c", "numpy"))
    assert ("backends", f"c: ok, {len(SAMPLE)} bytes; numpy: FormatError: the numpy "
                        "reference disagrees") in problems


def test_streaming_readers_that_disagree_are_findings(monkeypatch):
    class Stuck(huffkit.HuffmanDecompressor):
        def decompress(self, data, /, max_length=-1):
            return b"?" + super().decompress(data, max_length)

    monkeypatch.setattr(fuzzing, "HuffmanDecompressor", Stuck)
    problems = dict(fuzzing.check_compressed(PACKED, expected=SAMPLE))
    assert problems["decompressor"] == "decompress succeeded, but decompressor other bytes"
    problems = dict(fuzzing.check_compressed(PACKED[:-1], expected=SAMPLE))
    assert problems["decompressor"].endswith("bytes that are not the data's start")


def test_a_slow_input_is_a_finding():
    report = fuzzing.run(inputs=2, codebook_inputs=0, slow_seconds=0.0)
    assert [finding.problem.startswith("took ") for finding in report.findings] == [True] * 2


def test_codebook_files():
    book = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(SAMPLE))
    assert fuzzing.check_codebook_json(book.to_json().encode()) == []
    assert fuzzing.check_codebook_json(b"{") == []  # refused with a CodebookError


def test_a_codebook_file_that_breaks_the_loader_is_a_finding(monkeypatch):
    def broken(text):
        raise KeyError("lengths")

    monkeypatch.setattr(huffkit.Codebook, "from_json", staticmethod(broken))
    report = fuzzing.run(inputs=0, codebook_inputs=2)
    assert [finding.problem for finding in report.findings] == ["raised KeyError: 'lengths'"] * 2


def test_the_atheris_entry_point_checks_what_run_checks(monkeypatch):
    fuzzing._atheris_input(b"\x00" + PACKED)
    fuzzing._atheris_input(b"\x03" + b"{}")
    fuzzing._atheris_input(b"")
    monkeypatch.setattr(fuzzing, "decompress", lambda data, **kwargs: b"?")
    with pytest.raises(AssertionError, match="decompress succeeded, but decompressor"):
        fuzzing._atheris_input(b"\x00" + PACKED)


@pytest.mark.slow
def test_atheris_corpus(tmp_path):
    count = fuzzing.write_atheris_corpus(str(tmp_path))
    files = sorted(tmp_path.iterdir())
    assert len(files) == count > 30
    for path in files:
        fuzzing._atheris_input(path.read_bytes())


# -- the command ---------------------------------------------------------------------------

@pytest.mark.slow
def test_cli_fuzz():
    result = CliRunner().invoke(huffkit.cli.main, ["fuzz", "--inputs", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("seed 3: 2,040 inputs in ")
    assert "          40  compressed streams\n" in result.stdout


@pytest.mark.slow
def test_cli_fuzz_reports_findings(tmp_path, monkeypatch):
    monkeypatch.setattr(fuzzing, "decompress", lambda data, **kwargs: b"?")
    result = CliRunner().invoke(huffkit.cli.main, ["fuzz", "--inputs", "5", "--save",
                                                   str(tmp_path / "found")])
    assert result.exit_code == 1
    *shown, last = result.stderr.splitlines()
    found = re.fullmatch(r"huffkit: error: (\d+) findings \(inputs saved in (.+)\)", last)
    assert found and found[2] == str(tmp_path / "found")
    # Each finding, up to 20, on a line of its own.
    assert len(shown) == min(20, int(found[1])) and shown[0].startswith("finding: ")
    assert len(list((tmp_path / "found").iterdir())) >= 1


def test_cli_fuzz_refuses_libfuzzer_arguments_without_atheris():
    result = CliRunner().invoke(huffkit.cli.main, ["fuzz", "-runs=5"])
    assert result.exit_code == 1
    assert result.stderr == ("huffkit: error: unexpected arguments -runs=5 (they are for "
                             "--atheris)\n")


def test_a_repeated_block_is_handed_out_before_the_frame_end_refuses_it():
    """The long run's one finding, a rule of the fuzzer's own that was too strict: a block
    repeated whole is valid by itself, so a streaming reader hands it out (FORMAT.md 9
    allows that) before the frame end shows that the frame holds too many bytes.  What a
    reader hands out must be a start of the original only while every byte is in place."""
    # Blocks of one byte: a frame of two blocks, which ends with a frame end.
    packed = huffkit.compress(b"ab", block_size=1)
    _, second = huffkit.frame_info(packed)[0].blocks
    repeated = packed[second.offset:second.offset + second.size]
    damaged = packed[:second.offset + second.size] + repeated + packed[-2:]
    with pytest.raises(huffkit.FormatError, match="frame end records 2 bytes, but the frame's "
                                                  "3 blocks hold 3"):
        huffkit.decompress(damaged)
    assert huffkit.HuffmanDecompressor().decompress(damaged[:-2]) == b"abb"  # end: ff 02
    # (Fed in chunks small enough to hand the first blocks out before the frame end fails:
    # some of the random chunkings are.)
    found = [fuzzing.check_compressed(damaged, expected=b"ab", in_place=in_place,
                                      rng=random.Random(seed))
             for in_place in (False, True) for seed in range(10)]
    assert found[:10] == [[]] * 10
    assert ("decompressor", "handed out 3 bytes that are not the data's start") in [
        problem for problems in found[10:] for problem in problems]


def test_the_seeds_hold_thousands_of_blocks_and_frames():
    """Long runs of reuse blocks (0x06 after a compact block, 0x07 after an ANS block) and
    thousands of tiny frames: what the run kernel's use-after-free needed (17 blocks and
    more), and what mutations of the small seeds never reach."""
    long = {seed.name: seed for seed in fuzzing.seeds() if seed.name.startswith(fuzzing.LONG)}
    assert sorted(long) == ["long/ans/bytes/2500-block run", "long/huffman/bytes/2500-block run",
                            "long/joined/2500 frames"]
    for name, first, reused in (("huffman", 0x05, 0x06), ("ans", 0x03, 0x07)):
        seed = long[f"long/{name}/bytes/2500-block run"]
        (frame,) = huffkit.frame_info(seed.compressed)
        types = [seed.compressed[block.offset] for block in frame.blocks]
        assert types == [first] + [reused] * 2499
        assert huffkit.decompress(seed.compressed) == seed.original
    seed = long["long/joined/2500 frames"]
    frames = huffkit.frame_info(seed.compressed)
    assert len(frames) == 2500
    assert {(frame.coder, frame.alphabet) for frame in frames} == {
        ("huffman", "bytes"), ("ans", "bytes"), ("huffman", "pairs"), ("ans", "utf8")}
    assert huffkit.decompress(seed.compressed) == seed.original


def test_long_seeds_are_mutated_now_and_then():
    """About one input in 1,000 comes from a long seed, so the quick profile's 20,000 meet
    them some twenty times, in about 10 of its seconds."""
    pool, rng = fuzzing.seeds(), random.Random(1)
    sources = [fuzzing.mutate(pool, rng)[3].name for _ in range(20_000)]
    from_long = sum(name.startswith(fuzzing.LONG) for name in sources)
    assert 8 <= from_long <= 40, from_long
    assert len({name for name in sources if name.startswith(fuzzing.LONG)}) == 3
