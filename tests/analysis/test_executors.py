"""executor= on compare, sweep and Distribution.from_files: the workers read the files by path,
and the results are exactly those of one process (the same floats, in the same order)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import huffkit
from huffkit.models import distribution as distribution_module
from huffkit.models.parallel import in_order, workers_of


@pytest.fixture(params=["threads", "processes", "dask"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    if request.param == "threads":
        with ThreadPoolExecutor(2) as pool:
            yield pool
    elif request.param == "processes":
        yield request.getfixturevalue("process_pool")
    else:
        yield request.getfixturevalue("dask_client").get_executor()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Files with different statistics (and a few symbols only some have), one empty, and a
    UTF-8 one."""
    folder = tmp_path_factory.mktemp("files")
    rng = np.random.default_rng(7)
    made = []
    for index, (low, high) in enumerate([(97, 123), (65, 91), (32, 127)]):
        data = rng.integers(low, high, 20_000 + 977 * index, dtype=np.uint8).tobytes()
        made.append(folder / f"file{index}")
        made[-1].write_bytes(data)
    made.append(folder / "empty")
    made[-1].write_bytes(b"")
    made.append(folder / "text")
    made[-1].write_bytes(("Grüße, naïve café — ✓ " * 400).encode())
    return made


def test_from_files_counts_exactly_as_one_process(files: list[Path], executor: Executor,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # Ranges of 1000 bytes: each file's bytes counted by many calls, then summed.
    monkeypatch.setattr(distribution_module, "_COUNT_RANGE", 1000)
    for alphabet in ("bytes", "utf8", "pairs"):
        here = huffkit.Distribution.from_files(files, alphabet=alphabet)
        there = huffkit.Distribution.from_files(files, alphabet=alphabet, executor=executor)
        assert there == here
        assert there.counts.dtype == here.counts.dtype == np.int64
        assert there.total == here.total == (sum(path.stat().st_size for path in files)
                                             if alphabet == "bytes" else here.total)
    one = huffkit.Distribution.from_files(str(files[0]), executor=executor)
    assert one == huffkit.Distribution.from_bytes(files[0].read_bytes())
    assert huffkit.Distribution.from_files([], executor=executor).total == 0


# Dask warns of a task graph of several MB: a sign of codebooks sent whole, not packed.
@pytest.mark.filterwarnings("error::UserWarning")
def test_compare_is_the_same_as_in_one_process(files: list[Path], executor: Executor) -> None:
    codebook = huffkit.Codebook.from_distribution(
        huffkit.Distribution.from_bytes(files[2].read_bytes()).smoothed(1))
    # Unsmoothed: a file's code cannot code the others, nor the empty file's any: None cells.
    arguments: dict[str, Any] = {"codebooks": [("printable", codebook)],
                                 "coders": ("huffman", "ans"), "smoothing": 0}
    here = huffkit.compare(files[:4], **arguments)
    seen: list[tuple[int, int]] = []
    there = huffkit.compare(files[:4], **arguments, executor=executor,
                            progress=lambda done, total: seen.append((done, total)))
    assert there == here
    assert there.to_dict() == here.to_dict()
    assert here.cells[0][2].compressed_size is None  # file0 with file1's code
    assert here.cells[0][6].compressed_size is None  # file0 with the empty file's: none
    assert here.cells[0][0].compressed_size is not None
    assert seen == [(12 * index, 48) for index in range(1, 5)]  # a row: 6 models, 2 coders

    here = huffkit.compare(files[4:], alphabet="utf8", smoothing=0.25)
    assert huffkit.compare(files[4:], alphabet="utf8", smoothing=0.25,
                           executor=executor) == here


def test_sweep_is_the_same_as_in_one_process(files: list[Path], executor: Executor) -> None:
    seen: list[tuple[int, int]] = []
    for toward in ("uniform", files[1], files[0].read_bytes()):
        here = huffkit.sweep(files[2], toward=toward, steps=5, coders=("huffman", "ans"))
        seen.clear()
        there = huffkit.sweep(files[2], toward=toward, steps=5, coders=("huffman", "ans"),
                              executor=executor,
                              progress=lambda done, total: seen.append((done, total)))
        assert there == here
        assert there.to_dict() == here.to_dict()
        assert seen == [(done, 10) for done in range(1, 11)]


def test_sweep_with_an_executor_reads_files_only(files: list[Path],
                                                 process_pool: Executor) -> None:
    with pytest.raises(TypeError, match="sweep with an executor needs the path of a file, "
                                        "which its workers read, not bytes"):
        huffkit.sweep(files[0].read_bytes(), executor=process_pool)
    with pytest.raises(ValueError, match="cannot sweep an empty file"):
        huffkit.sweep(files[3], executor=process_pool)


def test_a_workers_error_reaches_the_caller(files: list[Path], process_pool: Executor) -> None:
    # Toward a distribution without the file's symbols, w = 1 cannot code it.
    toward = huffkit.Distribution.from_bytes(b"0123456789")
    with pytest.raises(huffkit.CodebookError, match="at weight 1, the model cannot code the file"):
        huffkit.sweep(files[0], toward=toward, steps=3, executor=process_pool)
    with pytest.raises(FileNotFoundError):
        huffkit.compare([files[0], files[0].with_name("missing")], executor=process_pool)


def test_the_workers_of_a_dask_cluster_are_counted(dask_client: Any) -> None:
    assert workers_of(dask_client.get_executor()) == 2


def test_a_range_past_the_end_says_the_file_changed(files: list[Path]) -> None:
    with pytest.raises(huffkit.HuffmanError) as caught:
        distribution_module.count_range(str(files[0]), 19_000, 1_500)
    assert str(caught.value) == (f"{files[0]}: changed size while it was counted: it ends at "
                                 "byte 20,000, inside the range of 1,500 bytes from byte 19,000")
    counted = distribution_module.count_range(str(files[0]), 19_000, 1_000)
    assert np.array_equal(counted, huffkit.Distribution.from_bytes(
        files[0].read_bytes()[19_000:]).counts)


def test_in_order_keeps_a_bounded_window_and_the_order() -> None:
    submitted: list[int] = []

    class Recording(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(args[0])
            return super().submit(fn, *args, **kwargs)

    with Recording(3) as pool:
        assert workers_of(pool) == 3
        results = in_order(pool, pow, [(number, 2) for number in range(20)], window=4)
        assert next(results) == 0
        assert len(submitted) == 4  # no more in flight than the window
        assert list(results) == [number ** 2 for number in range(1, 20)]
        assert submitted == list(range(20))
