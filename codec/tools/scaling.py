"""How compare and compress_file scale from one process to a Dask LocalCluster.

``python -m huffkit.tools.scaling [--size 1G] [--workers 2] [--folder PATH]`` (needs the
dask extra, ``pip install 'huffkit[dask]'``):

1. makes a corpus of about *size* bytes twice over, from the shared corpora
   (``../shared/corpora``, or ``$HUFFKIT_CORPORA``; the bundled ``huffkit.corpora`` when
   neither is there): their files cut into pieces of 64 KiB, the pieces drawn at random
   (a fixed seed: the same corpus every run) and written one after the other, into 16
   files of *size* / 16 bytes for ``compare``, and into one file of *size* bytes for
   ``compress_file``;
2. times ``compare`` of the 16 files and ``compress_file`` of the big one in this
   process (``executor=None``), then starts a LocalCluster of *workers* worker
   processes of one thread each (timed on its own, with the workers importing huffkit),
   and times both again with the cluster's executor (``compress_file`` twice: its frames
   sent back to this process, and with ``shared_target=True``, written into the target by
   the workers), checking that the results are the same (the comparison's figures, the
   compressed file's bytes); each time is the best of *repeat* runs (3), each run after
   ``os.sync()`` so that none pays for the previous one's writes reaching the disk;
3. prints the seconds, the speed-up (one process's time over the cluster's), the tasks
   each job submitted, and the overhead per task, measured two ways: the wall time of
   *trivial* tasks that do nothing, submitted together, divided by their number; and what
   the cluster's time adds to a perfect split of one process's,
   ``(cluster seconds * workers - one process's seconds) / tasks``.

The corpus is written in a temporary folder (or *folder*) and removed afterwards unless
``--keep``; it takes twice *size* on disk, and the three compressed files up to as much again.
This is a benchmark: it asserts only that the cluster's results are the one process's.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import logging
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .._version import __version__
from ..analysis.experiments import compare
from ..stream.chunked import DEFAULT_CHUNK_SIZE, compress_file
from .benchmark import machine

__all__ = ["CountingExecutor", "Timing", "main", "make_corpus", "measure", "report"]

_T = TypeVar("_T")

#: The corpus is made of pieces of the source files this long, drawn at random.
PIECE = 1 << 16
#: The seed of the draw: the same corpus on every run (and every machine with the same
#: source files).
SEED = 20
#: Files smaller than this are left out of the draw (a.txt is one byte).
_SMALLEST_SOURCE = 1 << 12


def _sources() -> list[Path]:
    """The files the corpus is drawn from: the shared corpora's, else the bundled ones."""
    # codec/tools/scaling.py in a clone: ../shared/corpora beside the clone.
    for folder in (os.environ.get("HUFFKIT_CORPORA"),
                   Path(__file__).resolve().parents[3] / "shared" / "corpora"):
        if folder and Path(folder).is_dir():
            found = sorted(path for path in Path(folder).rglob("*")
                           if path.is_file() and not path.name.startswith(".")
                           and path.suffix != ".md" and path.stat().st_size >= _SMALLEST_SOURCE)
            if found:
                return found
    import huffkit.corpora

    return [Path(entry.path) for entry in huffkit.corpora.manifest()
            if os.path.getsize(entry.path) >= _SMALLEST_SOURCE]


def _pieces(sources: Sequence[Path]) -> list[bytes]:
    """The source files cut into pieces of PIECE bytes (the last of each file shorter)."""
    pieces: list[bytes] = []
    for path in sources:
        data = path.read_bytes()
        pieces.extend(data[start:start + PIECE] for start in range(0, len(data), PIECE))
    return pieces


def _write_drawn(path: Path, size: int, pieces: Sequence[bytes],
                 rng: np.random.Generator) -> None:
    """A file of exactly *size* bytes of *pieces* drawn by *rng*, one after the other."""
    left = size
    with open(path, "wb") as stream:
        while left:
            batch = rng.integers(len(pieces), size=1024)
            for index in batch.tolist():
                piece = pieces[index][:left]
                stream.write(piece)
                left -= len(piece)
                if not left:
                    break


def make_corpus(folder: Path, size: int, files: int = 16, seed: int = SEED,
                ) -> tuple[list[Path], Path]:
    """The corpus in *folder*: *files* files of *size* // *files* bytes each, and one file
    of *size* bytes, drawn from the shared corpora."""
    pieces = _pieces(_sources())
    rng = np.random.default_rng(seed)
    small = []
    for number in range(files):
        path = folder / f"part{number:02d}.txt"
        _write_drawn(path, size // files, pieces, rng)
        small.append(path)
    big = folder / "whole.txt"
    _write_drawn(big, size, pieces, rng)
    return small, big


class CountingExecutor(Executor):
    """An executor that counts the calls submitted to the one it wraps; anything else (the
    wrapped executor's workers, as huffkit asks them) is the wrapped executor's."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.submitted = 0

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        self.submitted += 1
        return self.inner.submit(fn, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _nothing(value: int) -> int:
    """A trivial task, for the overhead of a task alone."""
    return value


def _warm() -> str:
    """Import in a worker what the jobs need, so that the first job does not pay for it."""
    from huffkit.analysis import experiments
    from huffkit.stream import chunked

    return f"{experiments.__name__} {chunked.__name__}"


@dataclass(frozen=True)
class Timing:
    """One job, in one process and on the cluster."""

    name: str
    serial_seconds: float
    cluster_seconds: float
    tasks: int
    workers: int

    @property
    def speedup(self) -> float:
        return self.serial_seconds / self.cluster_seconds

    @property
    def overhead_per_task(self) -> float:
        """What the cluster adds to a perfect split of one process's time, per task."""
        return (self.cluster_seconds * self.workers - self.serial_seconds) / self.tasks


def _timed(function: Callable[[], _T]) -> tuple[_T, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def _best(function: Callable[[], _T], repeat: int,
          before: Callable[[], object] = lambda: None) -> tuple[_T, float]:
    """*function*'s result and its best time of *repeat* runs, each after *before* and
    after the data written so far has reached the disk (os.sync), so that no run pays
    for the writes of the one before it."""
    best = float("inf")
    for _ in range(repeat):
        before()
        if hasattr(os, "sync"):
            os.sync()
        result, seconds = _timed(function)
        best = min(best, seconds)
    return result, best


def _removing(path: Path) -> Callable[[], None]:
    def remove() -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return remove


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _local_cluster(workers: int) -> Iterator[tuple[Any, float]]:
    """A LocalCluster of *workers* processes of one thread, its client, and the seconds it
    took to start (until every worker has imported huffkit)."""
    # By name: the extra may be missing where the package is type-checked.
    distributed: Any = importlib.import_module("distributed")
    logging.getLogger("distributed").setLevel(logging.WARNING)
    started = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0", silence_logs=logging.WARNING,
                                  ) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(workers)
        client.run(_warm)
        yield client, time.perf_counter() - started


def measure(folder: Path, size: int, workers: int, files: int = 16, trivial: int = 1000,
            chunk_size: int = DEFAULT_CHUNK_SIZE, repeat: int = 3,
            say: Callable[[str], None] = print) -> dict[str, Any]:
    """Make the corpus in *folder*, time the jobs (each the best of *repeat* runs), and
    return the figures (see the module)."""
    say(f"making a corpus of {files} files of {size // files:,} bytes and one of {size:,} "
        f"bytes in {folder}")
    (small, big), made = _timed(lambda: make_corpus(folder, size, files))
    say(f"  made in {made:.1f} s; each job timed {repeat} times, the best kept")
    here_out, there_out = folder / "here.huf", folder / "there.huf"
    parts_out = folder / "parts.huf"

    say("compare, one process")
    serial_comparison, compare_serial = _best(lambda: compare(small), repeat)
    say(f"  {compare_serial:.2f} s")
    say("compress_file, one process")
    _, compress_serial = _best(lambda: compress_file(big, here_out, chunk_size=chunk_size),
                               repeat, _removing(here_out))
    say(f"  {compress_serial:.2f} s")

    with _local_cluster(workers) as (client, start_seconds):
        say(f"LocalCluster of {workers} workers started in {start_seconds:.2f} s")
        executor = CountingExecutor(client.get_executor())
        say("compare, cluster")
        cluster_comparison, compare_cluster = _best(lambda: compare(small, executor=executor),
                                                    repeat)
        compare_tasks, executor.submitted = executor.submitted // repeat, 0
        say(f"  {compare_cluster:.2f} s, {compare_tasks} tasks")
        say("compress_file, cluster")
        _, compress_cluster = _best(lambda: compress_file(
            big, there_out, chunk_size=chunk_size, executor=executor), repeat,
            _removing(there_out))
        compress_tasks, executor.submitted = executor.submitted // repeat, 0
        say(f"  {compress_cluster:.2f} s, {compress_tasks} tasks")
        say("compress_file, cluster, shared_target=True")
        _, parts_cluster = _best(lambda: compress_file(
            big, parts_out, chunk_size=chunk_size, executor=executor, shared_target=True),
            repeat, _removing(parts_out))
        parts_tasks = executor.submitted // repeat
        say(f"  {parts_cluster:.2f} s, {parts_tasks} tasks")
        plain = client.get_executor()
        _, trivial_seconds = _timed(
            lambda: [future.result() for future in
                     [plain.submit(_nothing, number) for number in range(trivial)]])
    if cluster_comparison.to_dict() != serial_comparison.to_dict():
        raise AssertionError("compare on the cluster differs from compare in one process")
    if not _digest(here_out) == _digest(there_out) == _digest(parts_out):
        raise AssertionError("compress_file on the cluster wrote other bytes")
    compressed = here_out.stat().st_size
    timings = [Timing("compare", compare_serial, compare_cluster, compare_tasks, workers),
               Timing("compress_file", compress_serial, compress_cluster, compress_tasks,
                      workers),
               Timing("  in place", compress_serial, parts_cluster, parts_tasks, workers)]
    return {"timings": timings, "start_seconds": start_seconds,
            "trivial_tasks": trivial, "trivial_seconds": trivial_seconds,
            "size": size, "files": files, "compressed": compressed, "workers": workers,
            "chunk_size": chunk_size, "repeat": repeat}


def report(figures: dict[str, Any]) -> str:
    """The figures as a table, with what each overhead figure means and the machine."""
    lines = [
        f"huffkit {__version__}, Python {platform.python_version()}; {machine()}",
        f"corpus: {figures['files']} files of {figures['size'] // figures['files']:,} bytes "
        f"for compare; one file of {figures['size']:,} bytes for compress_file (chunks of "
        f"{figures['chunk_size']:,} bytes; {figures['compressed']:,} bytes compressed)",
        f"LocalCluster: {figures['workers']} worker processes of 1 thread; start-up "
        f"{figures['start_seconds']:.2f} s (until every worker has imported huffkit), not "
        "counted below",
        "",
        f"{'job':<14} {'1 process, s':>12} {'cluster, s':>10} {'speed-up':>8} {'tasks':>6} "
        f"{'overhead/task, s':>16}",
    ]
    for timing in figures["timings"]:
        lines.append(f"{timing.name:<14} {timing.serial_seconds:>12.2f} "
                     f"{timing.cluster_seconds:>10.2f} {timing.speedup:>7.2f}x "
                     f"{timing.tasks:>6} {timing.overhead_per_task:>16.3f}")
    per_task = figures["trivial_seconds"] / figures["trivial_tasks"]
    lines += [
        "",
        "overhead/task = (cluster seconds x workers - 1 process seconds) / tasks: what the "
        "cluster adds to a perfect split of the work (scheduling, moving arguments and "
        "results, waiting for the last task).",
        "compress_file sends each chunk's frame back to this process; 'in place' "
        "(shared_target=True) has each worker write its frame into the target's temporary "
        "file itself, after the previous chunk's.",
        f"each time is the best of {figures['repeat']} runs, each after os.sync().",
        f"a trivial task (returns its argument): {figures['trivial_tasks']} submitted "
        f"together took {figures['trivial_seconds']:.2f} s, {per_task * 1e3:.2f} ms each.",
    ]
    return "\n".join(lines)


_SIZE = re.compile(r"(\d+)\s*([kKmMgG]?)(?:i?[bB])?")


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (examples: 64M, 1G)")
    return int(match[1]) << {"": 0, "k": 10, "m": 20, "g": 30}[match[2].lower()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m huffkit.tools.scaling",
        description="Time compare and compress_file in one process and on a Dask "
                    "LocalCluster (needs pip install 'huffkit[dask]').")
    parser.add_argument("--size", type=_size, default=1 << 30,
                        help="the corpus: the big file's size, and the 16 files' together "
                             "(default 1G; 64M for a quick run)")
    parser.add_argument("--files", type=int, default=16, help="files for compare (16)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--chunk-size", type=_size, default=DEFAULT_CHUNK_SIZE,
                        help="compress_file's chunk size (64M)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each job, the best kept (3)")
    parser.add_argument("--folder", type=Path, default=None,
                        help="where to write the corpus (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus afterwards")
    arguments = parser.parse_args(argv)
    try:
        importlib.import_module("distributed")  # checked before gigabytes are written
    except ImportError:
        parser.error("needs Dask's distributed scheduler: pip install 'huffkit[dask]'")
    if arguments.folder is None:
        folder = Path(tempfile.mkdtemp(prefix="huffkit-scaling-"))
    else:
        folder = arguments.folder
        folder.mkdir(parents=True, exist_ok=True)
    needed = 4 * arguments.size + (64 << 20)
    free = shutil.disk_usage(folder).free
    if free < needed:
        parser.error(f"{folder}: {free:,} bytes free; the corpus and its compressed copies "
                     f"need about {needed:,}")
    try:
        figures = measure(folder, arguments.size, arguments.workers, arguments.files,
                          chunk_size=arguments.chunk_size, repeat=arguments.repeat,
                          say=lambda text: print(text, file=sys.stderr, flush=True))
    finally:
        if not arguments.keep:
            if arguments.folder is None:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                for name in [*(f"part{n:02d}.txt" for n in range(arguments.files)),
                             "whole.txt", "here.huf", "there.huf", "parts.huf"]:
                    with contextlib.suppress(FileNotFoundError):
                        (folder / name).unlink()
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
