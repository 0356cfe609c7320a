"""compress_file: a large file compressed a chunk (a frame) at a time, here or on an executor's
workers (threads, processes, a Dask cluster), always to the same bytes, never a partial output."""

from __future__ import annotations

import errno
import os
import signal
import stat
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import huffkit
from huffkit.stream import chunked
from huffkit.stream.chunked import DEFAULT_CHUNK_SIZE, compress_range, compress_range_into


def _data(size: int, seed: int = 1) -> bytes:
    """Text-like bytes whose statistics drift, so that chunks get different codes."""
    rng = np.random.default_rng(seed)
    skew = np.linspace(1, 4, size)
    letters = (rng.exponential(6, size) * skew).astype(np.int64) % 60 + 32
    return letters.astype(np.uint8).tobytes()


def _frames(data: bytes, chunk_size: int, **options: Any) -> bytes:
    return b"".join(huffkit.compress(data[start:start + chunk_size], **options)
                    for start in range(0, len(data), chunk_size))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source"
    path.write_bytes(_data(300_001))
    return path


def test_the_output_is_each_chunks_frame_in_order(source: Path, tmp_path: Path) -> None:
    target = tmp_path / "target.huf"
    written = huffkit.compress_file(source, target, chunk_size=65536)
    data = source.read_bytes()
    output = target.read_bytes()
    assert output == _frames(data, 65536)
    assert written == len(output)
    assert huffkit.decompress(output) == data
    assert output.startswith(huffkit.compress(data[:65536]))  # a frame per chunk: 5 here
    # The file gets the permissions of a new file, not mkstemp's 0o600.
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert sorted(os.listdir(tmp_path)) == ["source", "target.huf"]


def test_the_default_chunk_size_and_one_chunk(source: Path, tmp_path: Path) -> None:
    assert DEFAULT_CHUNK_SIZE == 64 << 20
    huffkit.compress_file(str(source), str(tmp_path / "out"))
    assert (tmp_path / "out").read_bytes() == huffkit.compress(source.read_bytes())


@pytest.mark.parametrize("shared_target", [False, True])
@pytest.mark.parametrize("kind", ["here", "threads", "processes", "dask"])
def test_every_executor_gives_the_same_bytes(kind: str, shared_target: bool, source: Path,
                                             tmp_path: Path,
                                             request: pytest.FixtureRequest) -> None:
    options: dict[str, Any] = {"coder": "ans", "block_size": 16384}
    expected = _frames(source.read_bytes(), 40_000, **options)
    if kind == "here":  # shared_target changes nothing without an executor
        written = huffkit.compress_file(source, tmp_path / "out", chunk_size=40_000,
                                        shared_target=shared_target, **options)
    elif kind == "threads":
        with ThreadPoolExecutor(2) as pool:
            written = huffkit.compress_file(source, tmp_path / "out", chunk_size=40_000,
                                            executor=pool, shared_target=shared_target,
                                            **options)
    else:
        executor = (request.getfixturevalue("process_pool") if kind == "processes"
                    else request.getfixturevalue("dask_client").get_executor(pure=False))
        written = huffkit.compress_file(source, tmp_path / "out", chunk_size=40_000,
                                        executor=executor, shared_target=shared_target,
                                        **options)
    assert (tmp_path / "out").read_bytes() == expected
    assert written == len(expected)
    assert sorted(os.listdir(tmp_path)) == ["out", "source"]  # no part file left


def test_a_shared_target_worker_places_its_frame_after_the_previous_one(
        source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = source.read_bytes()
    temporary = tmp_path / ".out.x.tmp"
    temporary.write_bytes(b"")
    parts = tmp_path / ".out.x.tmp.parts"
    parts.mkdir()
    first, second = huffkit.compress(data[:1000]), huffkit.compress(data[1000:6000], coder="ans")
    # Chunk 0 goes at byte 0, and records where it ends.
    assert compress_range_into(str(source), 0, 1000, {}, str(temporary), 0) == (0, len(first))
    assert temporary.read_bytes() == first
    assert (parts / "000000.end").read_bytes() == b"%d" % len(first)
    # Chunk 1 goes where chunk 0 ends; run again (a retry), it writes the same bytes again.
    for _ in range(2):
        placed = compress_range_into(str(source), 1000, 5000, {"coder": "ans"},
                                     str(temporary), 1)
        assert placed == (len(first), len(second))
        assert temporary.read_bytes() == first + second
    assert sorted(os.listdir(parts)) == ["000000.end", "000001.end"]
    # Chunk 3, whose previous chunk is not in place, leaves its frame in a part file, after
    # waiting a quarter of the time it took to compress.
    monkeypatch.setattr(chunked, "_PATIENCE", 0.25)
    started = time.perf_counter()
    assert compress_range_into(str(source), 0, 1000, {}, str(temporary), 3) == (-1, len(first))
    assert (parts / "000003").read_bytes() == first
    assert temporary.read_bytes() == first + second
    assert time.perf_counter() - started < 5
    # An error leaves nothing.
    with pytest.raises(huffkit.HuffmanError, match="changed size"):
        compress_range_into(str(source), 300_000, 100, {}, str(temporary), 2)
    assert sorted(os.listdir(parts)) == ["000000.end", "000001.end", "000003"]


def test_a_worker_waits_for_the_previous_chunks_end(source: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    temporary = tmp_path / ".out.x.tmp"
    temporary.write_bytes(b"x" * 10)
    parts = tmp_path / ".out.x.tmp.parts"
    parts.mkdir()
    monkeypatch.setattr(chunked, "_PATIENCE", 1e6)  # patient: the record comes first
    threading.Timer(0.1, lambda: (parts / "000004.end").write_bytes(b"10")).start()
    frame = huffkit.compress(source.read_bytes()[:1000])
    assert compress_range_into(str(source), 0, 1000, {}, str(temporary), 5) == (10, len(frame))
    assert temporary.read_bytes() == b"x" * 10 + frame


def test_a_worker_after_its_job_failed_leaves_nothing(source: Path, tmp_path: Path) -> None:
    # A task still running after its job failed (a Dask task cannot be stopped) finds the
    # parts folder and the temporary file gone, and leaves nothing behind.
    temporary = tmp_path / ".out.x.tmp"
    for index in (0, 1):
        with pytest.raises(FileNotFoundError):
            compress_range_into(str(source), 1000, 5000, {}, str(temporary), index)
    temporary.write_bytes(b"")  # the temporary file still there, its parts folder gone
    with pytest.raises(FileNotFoundError):
        compress_range_into(str(source), 1000, 5000, {}, str(temporary), 1)
    assert sorted(os.listdir(tmp_path)) == [".out.x.tmp", "source"]


@pytest.mark.parametrize("patience", [0.0, 0.25])
def test_frames_in_place_and_in_part_files_mix_to_the_same_bytes(
        patience: float, source: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Four workers finishing in a shuffled order: some frames find the previous one in
    # place, the others go to part files, copied in here.  The bytes are the same.
    real, copied = chunked.compress_range, []
    delays = iter(np.random.default_rng(5).uniform(0, 0.02, 100).tolist())
    lock = threading.Lock()

    def shuffled(path: str, offset: int, length: int, options: dict[str, Any]) -> bytes:
        with lock:
            delay = next(delays)
        time.sleep(delay)
        return real(path, offset, length, options)

    def copy(part: str, *args: Any) -> None:
        copied.append(part)
        real_copy(part, *args)

    real_copy = chunked._copy_part
    monkeypatch.setattr(chunked, "compress_range", shuffled)
    monkeypatch.setattr(chunked, "_copy_part", copy)
    monkeypatch.setattr(chunked, "_PATIENCE", patience)
    with ThreadPoolExecutor(4) as pool:
        written = huffkit.compress_file(source, tmp_path / "out", chunk_size=10_000,
                                        executor=pool, shared_target=True)
    expected = _frames(source.read_bytes(), 10_000)
    assert (tmp_path / "out").read_bytes() == expected and written == len(expected)
    assert sorted(os.listdir(tmp_path)) == ["out", "source"]
    if patience == 0:  # no waiting: chunks that finish before their neighbour use a part
        assert 0 < len(copied) < 31


def _no_waiting(record: str, patience: float) -> None:
    """As a worker whose previous chunk is never in place in time: every chunk but the
    first leaves its frame in a part file."""
    if not os.path.isdir(os.path.dirname(record)):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), record)
    return None


@pytest.mark.parametrize("kernel", ["copy_file_range", "EXDEV", "ENOSYS", "absent"])
def test_the_parts_are_copied_in_the_kernel_or_by_hand(kernel: str, source: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = getattr(os, "copy_file_range", None)
    if real is None:
        pytest.skip("no os.copy_file_range here")

    def copy(source_fd: int, target_fd: int, count: int, offset_src: int,
             offset_dst: int) -> int:
        calls.append(count)
        if kernel != "copy_file_range":
            code = errno.EXDEV if kernel == "EXDEV" else errno.ENOSYS
            raise OSError(code, os.strerror(code))
        return real(source_fd, target_fd, count, offset_src, offset_dst)

    if kernel == "absent":
        monkeypatch.delattr(os, "copy_file_range")
    else:
        monkeypatch.setattr(os, "copy_file_range", copy)
    monkeypatch.setattr(chunked, "_wait_for_end", _no_waiting)
    with ThreadPoolExecutor(2) as pool:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=40_000, executor=pool,
                              shared_target=True)
    assert (tmp_path / "out").read_bytes() == _frames(source.read_bytes(), 40_000)
    assert len(calls) == (0 if kernel == "absent" else 7)  # once a part: chunks 1 to 7
    assert sorted(os.listdir(tmp_path)) == ["out", "source"]


class _Tampering(ThreadPoolExecutor):
    """Runs compress_range_into, then *tamper*(part, place, size) on one chunk, as a broken
    shared storage or worker might."""

    def __init__(self, tamper: Any, chunk: int = 1) -> None:
        super().__init__(1)
        self.tamper, self.chunk = tamper, chunk

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        def run() -> Any:
            place, size = fn(*args)
            if args[-1] == self.chunk:
                part = os.path.join(args[-2] + ".parts", f"{self.chunk:06d}")
                return self.tamper(part, place, size)
            return place, size
        return super().submit(run)


def _missing(part: str, place: int, size: int) -> tuple[int, int]:
    os.unlink(part)
    return place, size


def _short(part: str, place: int, size: int) -> tuple[int, int]:
    return place, size + 1


def _misplaced(part: str, place: int, size: int) -> tuple[int, int]:
    return place + 1, size


def _leftover(part: str, place: int, size: int) -> tuple[int, int]:
    Path(part + ".abcd1234").write_bytes(b"a worker killed while it wrote this")
    return place, size


def test_a_missing_part_is_an_error_leaving_nothing(source: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunked, "_wait_for_end", _no_waiting)
    with _Tampering(_missing) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              shared_target=True)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'out'}: the part file {tmp_path}/.out.")
    assert message.endswith(".tmp.parts/000001 a worker wrote is missing: is the target's "
                            "folder on storage every worker shares, at the same path?")
    assert sorted(os.listdir(tmp_path)) == ["source"]


def test_a_part_of_another_size_is_an_error_leaving_nothing(source: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            ) -> None:
    monkeypatch.setattr(chunked, "_wait_for_end", _no_waiting)
    with _Tampering(_short, chunk=3) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              shared_target=True)
    frame = len(huffkit.compress(source.read_bytes()[90_000:120_000]))
    assert str(caught.value).endswith(f".tmp.parts/000003 holds {frame:,} bytes, not the "
                                      f"{frame + 1:,} its worker wrote")
    assert sorted(os.listdir(tmp_path)) == ["source"]


@pytest.mark.parametrize("tamper", [_misplaced, _short])
def test_a_frame_out_of_place_is_an_error_leaving_nothing(tamper: Any, source: Path,
                                                          tmp_path: Path) -> None:
    # One worker: each chunk's previous one is in place, so every frame goes in directly.
    with _Tampering(tamper, chunk=3) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              shared_target=True)
    data = source.read_bytes()
    end = len(_frames(data[:90_000], 30_000))
    frame = len(huffkit.compress(data[90_000:120_000]))
    if tamper is _misplaced:  # chunk 3 says it is one byte further on than chunk 2's end
        expected = f"a worker wrote chunk 3's frame at byte {end + 1:,}, not at byte {end:,}"
    else:  # chunk 3 says it is one byte longer: chunk 4 is then not where it should be
        expected = (f"a worker wrote chunk 4's frame at byte {end + frame:,}, not at byte "
                    f"{end + frame + 1:,}")
    assert str(caught.value) == f"{tmp_path / 'out'}: {expected}, where chunk " + (
        "2's ends" if tamper is _misplaced else "3's ends")
    assert sorted(os.listdir(tmp_path)) == ["source"]


def _denied(path: str, offset: int, length: int, options: dict[str, Any], temporary: str,
            index: int) -> tuple[int, int]:
    """As a worker that runs as a user who may not write the target's folder."""
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), temporary)


@pytest.mark.parametrize("problem", ["unseen", "read-only"])
def test_a_target_folder_the_workers_cannot_write_is_an_error(problem: str, source: Path,
                                                              tmp_path: Path) -> None:
    elsewhere = str(tmp_path / "elsewhere" / "t.tmp")

    class Elsewhere(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            if problem == "read-only":
                return super().submit(_denied, *args)
            # A worker on a machine that sees another folder at the target's path.
            return super().submit(fn, *args[:-2], elsewhere, args[-1])

    with Elsewhere(2) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              shared_target=True)
    message = str(caught.value)
    if problem == "unseen":
        assert message == (
            f"{tmp_path / 'out'}: a worker found no {elsewhere}: is the target's folder on "
            "storage every worker shares, at the same path?")
    else:
        assert message.startswith(f"{tmp_path / 'out'}: a worker may not write {tmp_path}/.out.")
        assert message.endswith(".tmp: shared_target needs workers that may write the "
                                "target's folder")
    assert sorted(os.listdir(tmp_path)) == ["source"]


def test_a_killed_writers_staging_file_is_removed(source: Path, tmp_path: Path) -> None:
    with _Tampering(_leftover) as pool:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              shared_target=True)
    assert (tmp_path / "out").read_bytes() == _frames(source.read_bytes(), 30_000)
    assert sorted(os.listdir(tmp_path)) == ["out", "source"]


def test_a_failure_waits_for_the_running_chunks_before_cleaning_up(
        source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Chunk 0 fails at once while chunk 1 is still being compressed: chunk 1's part is
    # written after the failure, and must be removed too.
    release = threading.Event()
    real = chunked.compress_range

    def slow(path: str, offset: int, length: int, options: dict[str, Any]) -> bytes:
        if offset == 0:
            raise huffkit.HuffmanError("chunk 0 failed")
        release.wait(10)
        return real(path, offset, length, options)

    monkeypatch.setattr(chunked, "compress_range", slow)

    def progress(done: int, total: int) -> None:
        raise AssertionError("no chunk is written")

    with ThreadPoolExecutor(2) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        threading.Timer(0.3, release.set).start()
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              shared_target=True, progress=progress)
    assert str(caught.value) == "chunk 0 failed"
    assert release.is_set()  # it waited for chunk 1
    assert sorted(os.listdir(tmp_path)) == ["source"]


@pytest.mark.parametrize("shared_target", [False, True])
def test_at_most_two_chunks_per_worker_are_in_flight(source: Path, tmp_path: Path,
                                                     shared_target: bool) -> None:
    submitted: list[int] = []
    at_progress: list[int] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(args[1])  # the chunk's offset
            return super().submit(fn, *args, **kwargs)

    with Recording(1) as pool:  # one worker: two chunks in flight
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=pool,
                              progress=lambda done, total: at_progress.append(len(submitted)),
                              shared_target=shared_target)
    assert submitted == list(range(0, 300_001, 30_000))  # in order, each once
    # Chunk k is written once chunks k and k + 1 are submitted, not before, not more.
    assert at_progress == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 11]
    assert (tmp_path / "out").read_bytes() == _frames(source.read_bytes(), 30_000)


@pytest.mark.parametrize("shared_target", [False, True])
def test_progress_counts_the_source_bytes(source: Path, tmp_path: Path,
                                          shared_target: bool) -> None:
    seen: list[tuple[int, int]] = []
    with ThreadPoolExecutor(2) as pool:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=100_000,
                              executor=pool if shared_target else None,
                              shared_target=shared_target,
                              progress=lambda done, total: seen.append((done, total)))
    assert seen == [(100_000, 300_001), (200_000, 300_001), (300_000, 300_001),
                    (300_001, 300_001)]


@pytest.mark.parametrize("shared_target", [False, True])
def test_an_existing_target_is_refused_unless_overwrite(source: Path, tmp_path: Path,
                                                        shared_target: bool,
                                                        process_pool: Any) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError) as caught:
        huffkit.compress_file(source, target, chunk_size=65536, executor=process_pool,
                              shared_target=shared_target)
    assert caught.value.filename == str(target)
    assert target.read_bytes() == b"keep me"
    assert sorted(os.listdir(tmp_path)) == ["source", "target"]
    written = huffkit.compress_file(source, target, chunk_size=65536, overwrite=True,
                                    executor=process_pool, shared_target=shared_target)
    assert target.read_bytes() == _frames(source.read_bytes(), 65536)
    assert written == target.stat().st_size
    assert sorted(os.listdir(tmp_path)) == ["source", "target"]


def test_an_empty_file_gives_one_empty_frame(tmp_path: Path, process_pool: Any) -> None:
    (tmp_path / "empty").write_bytes(b"")
    for name, executor, shared_target in (("here", None, False), ("pool", process_pool, False),
                                          ("parts", process_pool, True)):
        written = huffkit.compress_file(tmp_path / "empty", tmp_path / name, chunk_size=10,
                                        executor=executor, shared_target=shared_target)
        assert (tmp_path / name).read_bytes() == huffkit.compress(b"")
        assert written == len(huffkit.compress(b""))
        assert huffkit.decompress((tmp_path / name).read_bytes()) == b""


@pytest.mark.parametrize(("chunk_size", "options", "error", "message"), [
    (0, {}, ValueError, "chunk_size must be at least 1, got 0"),
    (-5, {}, ValueError, "chunk_size must be at least 1, got -5"),
    (3, {"alphabet": "utf8"}, ValueError,
     "chunk_size must be at least 4 for the utf8 alphabet, got 3"),
    (1, {"alphabet": "pairs"}, ValueError,
     "chunk_size must be at least 2 for the pairs alphabet, got 1"),
    (True, {}, TypeError, "chunk_size must be an int, not bool"),
    (1.5, {}, TypeError, "chunk_size must be an int, not float"),
    (1000, {"coder": "rans"}, ValueError, "coder must be one of 'huffman', 'ans', not 'rans'"),
    (1000, {"level": 9}, TypeError, "unexpected keyword argument 'level'"),
])
def test_bad_arguments_are_refused_before_any_output(
        source: Path, tmp_path: Path, chunk_size: Any, options: dict[str, Any],
        error: type[Exception], message: str) -> None:
    for shared_target in (False, True):
        with ThreadPoolExecutor(1) as pool, \
                pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
            huffkit.compress_file(source, tmp_path / "out", chunk_size=chunk_size,
                                  executor=pool, shared_target=shared_target, **options)
        assert sorted(os.listdir(tmp_path)) == ["source"]


def test_utf8_chunks_end_between_characters(tmp_path: Path) -> None:
    text = ("héllo wörld ✓ 😀 ascii " * 500).encode()
    (tmp_path / "text").write_bytes(text)
    huffkit.compress_file(tmp_path / "text", tmp_path / "out", chunk_size=7, alphabet="utf8")
    # The chunks, cut by hand: 7 bytes, less the continuation bytes the cut would split.
    chunks, start = [], 0
    while start < len(text):
        end = min(start + 7, len(text))
        while end < len(text) and text[end] & 0xC0 == 0x80:
            end -= 1
        chunks.append(text[start:end])
        start = end
    assert b"".join(chunks) == text and all(chunk.decode() for chunk in chunks)
    output = (tmp_path / "out").read_bytes()
    assert output == b"".join(huffkit.compress(chunk, alphabet="utf8") for chunk in chunks)
    assert huffkit.decompress(output) == text


def test_pairs_chunks_hold_whole_pairs(tmp_path: Path) -> None:
    data = _data(10_001)
    (tmp_path / "data").write_bytes(data)
    huffkit.compress_file(tmp_path / "data", tmp_path / "out", chunk_size=1001, alphabet="pairs")
    output = (tmp_path / "out").read_bytes()
    # 1001 bytes rounded down to whole pairs, but the last chunk takes the rest, odd or not.
    chunks = [data[start:start + 1000] for start in range(0, 9000, 1000)] + [data[9000:]]
    assert len(chunks[-1]) == 1001
    assert output == b"".join(huffkit.compress(chunk, alphabet="pairs") for chunk in chunks)
    assert huffkit.decompress(output) == data


def test_a_worker_reading_past_the_end_says_the_file_changed(source: Path) -> None:
    with pytest.raises(huffkit.HuffmanError) as caught:
        compress_range(str(source), 300_000, 100, {})
    assert str(caught.value) == (f"{source}: changed size while it was compressed: it ends at "
                                 "byte 300,001, inside the chunk of 100 bytes from byte 300,000")
    assert compress_range(str(source), 300_000, 1, {}) == huffkit.compress(
        source.read_bytes()[-1:])


def test_a_file_that_shrinks_leaves_no_output(source: Path, tmp_path: Path) -> None:
    def shrink(done: int, total: int) -> None:
        if done == 100_000:  # after the first chunk: the second one's worker finds it short
            os.truncate(source, 150_000)

    with pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=100_000, progress=shrink)
    assert str(caught.value) == (f"{source}: changed size while it was compressed: it ends at "
                                 "byte 150,000, inside the chunk of 100,000 bytes from byte "
                                 "100,000")
    assert sorted(os.listdir(tmp_path)) == ["source"]


def test_a_file_that_shrinks_leaves_no_part_file(source: Path, tmp_path: Path) -> None:
    def shrink(done: int, total: int) -> None:
        if done == 100_000:  # chunk 1 is done, chunk 2 not yet submitted: it finds it short
            os.truncate(source, 250_000)

    with ThreadPoolExecutor(1) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=100_000, progress=shrink,
                              executor=pool, shared_target=True)
    assert str(caught.value) == (f"{source}: changed size while it was compressed: it ends at "
                                 "byte 250,000, inside the chunk of 100,000 bytes from byte "
                                 "200,000")
    assert sorted(os.listdir(tmp_path)) == ["source"]


@pytest.mark.parametrize("shared_target", [False, True])
def test_a_file_that_grows_leaves_no_output(source: Path, tmp_path: Path, shared_target: bool,
                                            process_pool: Any) -> None:
    def grow(done: int, total: int) -> None:
        if done == total:
            with open(source, "ab") as stream:
                stream.write(b"more")

    with pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=100_000, progress=grow,
                              executor=process_pool, shared_target=shared_target)
    assert str(caught.value) == (f"{source}: changed size while it was compressed (300,001 "
                                 "bytes before, 300,005 after)")
    assert sorted(os.listdir(tmp_path)) == ["source"]


@pytest.mark.parametrize("shared_target", [False, True])
def test_a_file_rewritten_in_place_leaves_no_output(source: Path, tmp_path: Path,
                                                    shared_target: bool) -> None:
    def rewrite(done: int, total: int) -> None:
        if done == total:  # the same size, other bytes: the modification time tells
            source.write_bytes(bytes(total))
            moved = source.stat().st_mtime_ns + 10**9
            os.utime(source, ns=(moved, moved))

    with ThreadPoolExecutor(2) as pool, pytest.raises(huffkit.HuffmanError) as caught:
        huffkit.compress_file(source, tmp_path / "out", chunk_size=100_000, progress=rewrite,
                              executor=pool if shared_target else None,
                              shared_target=shared_target)
    assert str(caught.value) == f"{source}: modified while it was compressed"
    assert sorted(os.listdir(tmp_path)) == ["source"]


@pytest.mark.parametrize("shared_target", [False, True])
def test_a_workers_error_propagates_and_leaves_no_output(source: Path, tmp_path: Path,
                                                         shared_target: bool,
                                                         process_pool: Any) -> None:
    # A codebook of the first chunk's bytes cannot code the later chunks' (the data drifts).
    codebook = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(source.read_bytes()[:1000]))
    with pytest.raises(huffkit.CodebookError):
        huffkit.compress_file(source, tmp_path / "out", chunk_size=50_000, codebook=codebook,
                              executor=process_pool, shared_target=shared_target)
    assert sorted(os.listdir(tmp_path)) == ["source"]


def test_a_source_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(huffkit.HuffmanError, match="not a regular file"):
        huffkit.compress_file(tmp_path, tmp_path / "out")
    with pytest.raises(FileNotFoundError):
        huffkit.compress_file(tmp_path / "missing", tmp_path / "out")
    assert os.listdir(tmp_path) == []


# Last in the module: it kills one of the cluster's workers (its nanny starts another).
@pytest.mark.slow
@pytest.mark.parametrize("shared_target", [False, True])
def test_a_killed_worker_never_leaves_a_partial_output(tmp_path: Path, dask_client: Any,
                                                       shared_target: bool) -> None:
    data = _data(8 << 20, seed=2)
    source, target = tmp_path / "source", tmp_path / "target"
    source.write_bytes(data)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["written"] = huffkit.compress_file(
                source, target, chunk_size=1 << 20, model="cm",  # about 1 s a chunk
                executor=dask_client.get_executor(), shared_target=shared_target)
        except BaseException as error:  # the test looks at it below
            outcome["error"] = error

    pids = dask_client.run(os.getpid)
    job = threading.Thread(target=run)
    job.start()
    deadline = time.monotonic() + 60
    while not any(dask_client.processing().values()):  # wait until chunks are running
        assert time.monotonic() < deadline, "no task started"
        time.sleep(0.05)
    time.sleep(0.3)
    os.kill(next(iter(pids.values())), signal.SIGKILL)
    assert job.is_alive(), "the job ended before the worker was killed: give it more work"
    job.join(timeout=300)
    assert not job.is_alive()
    if "error" in outcome:  # reported: nothing under the final name, no temporary file
        assert sorted(os.listdir(tmp_path)) == ["source"]
    else:  # retried elsewhere: the whole file, exactly
        assert sorted(os.listdir(tmp_path)) == ["source", "target"]
        assert outcome["written"] == target.stat().st_size
        assert huffkit.decompress(target.read_bytes()) == data


class _Unstoppable(Executor):
    """Like a Dask cluster's executor: a task cancelled once it has started goes on all the
    same, and its future says nothing of it (wait() returns at once)."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()

        def run() -> None:
            if len(self.threads) > 1:
                time.sleep(0.3)  # the later tasks start after the job has failed
            # Cancelled meanwhile, the future tells its waiters so; the task runs anyway.
            future.set_running_or_notify_cancel()
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:  # a late task's failure goes nowhere
                if not future.cancelled():
                    future.set_exception(error)
                return
            if not future.cancelled():
                future.set_result(result)

        thread = threading.Thread(target=run)
        self.threads.append(thread)
        thread.start()
        return future


def test_a_task_that_goes_on_after_a_failure_leaves_no_part(source: Path,
                                                            tmp_path: Path) -> None:
    def fail(done: int, size: int) -> None:
        raise RuntimeError("given up")  # as a Ctrl-C after the first chunk would

    executor = _Unstoppable()
    with pytest.raises(RuntimeError, match="given up"):
        huffkit.compress_file(source, tmp_path / "out", chunk_size=30_000, executor=executor,
                              shared_target=True, progress=fail)
    for thread in executor.threads:
        thread.join()
    assert len(executor.threads) > 2
    assert sorted(os.listdir(tmp_path)) == ["source"]
