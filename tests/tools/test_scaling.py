"""``python -m huffkit.tools.scaling``: the corpus it draws and the figures it reports (not
how fast: benchmarks are not tests), on a corpus of a few hundred kilobytes."""

from __future__ import annotations

import hashlib

import pytest

from huffkit.tools import scaling


def _digests(paths):
    return [hashlib.sha256(path.read_bytes()).hexdigest() for path in paths]


def test_the_corpus_is_drawn_the_same_every_time(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    small, big = scaling.make_corpus(tmp_path / "a", 300_000, files=3)
    again, big_again = scaling.make_corpus(tmp_path / "b", 300_000, files=3)
    assert [path.stat().st_size for path in small] == [100_000] * 3
    assert big.stat().st_size == 300_000
    assert _digests([*small, big]) == _digests([*again, big_again])
    assert len(set(_digests(small))) == 3  # each file its own draw
    other, _ = scaling.make_corpus(tmp_path / "b", 300_000, files=3, seed=scaling.SEED + 1)
    assert _digests(other) != _digests(small)


def test_the_figures_of_a_small_run(tmp_path):
    pytest.importorskip("distributed")
    said: list[str] = []
    figures = scaling.measure(tmp_path, 1 << 20, workers=2, files=4, trivial=20,
                              chunk_size=1 << 18, repeat=2, say=said.append)
    compare, compress, parts = figures["timings"]
    assert (compare.name, compress.name, parts.name) == ("compare", "compress_file",
                                                         "  in place")
    assert compress.tasks == parts.tasks == 4  # 1 MiB in chunks of 256 KiB
    assert compare.tasks >= 4  # at least a task a file
    assert all(timing.serial_seconds > 0 and timing.cluster_seconds > 0
               for timing in figures["timings"])
    assert figures["start_seconds"] > 0 and figures["trivial_seconds"] > 0
    assert compress.speedup == compress.serial_seconds / compress.cluster_seconds
    assert compress.overhead_per_task == (
        (compress.cluster_seconds * 2 - compress.serial_seconds) / 4)
    text = scaling.report(figures)
    assert "overhead/task = (cluster seconds x workers - 1 process seconds) / tasks" in text
    assert "LocalCluster: 2 worker processes of 1 thread" in text
    assert "each time is the best of 2 runs, each after os.sync()." in text
    assert said[0].startswith("making a corpus of 4 files of 262,144 bytes")
