"""Shared fixtures: hypothesis profiles and the shared corpora.

Choose a hypothesis profile with HYPOTHESIS_PROFILE=dev|ci|thorough (default: dev,
or ci when the CI variable is set).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import re
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from huffkit.kernels import backend

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# -- slow tests ------------------------------------------------------------------------------
# The exhaustive and long tests (every bit flip, the fuzzer's quick profile, a gigabyte
# through each reader, whole corpora) carry @pytest.mark.slow. They are left out unless
# asked for, so that a newcomer's `python -m pytest` ends in a few minutes; CI runs them all.

def _run_slow(config: pytest.Config) -> bool:
    return (config.getoption("--run-slow") or os.environ.get("HUFFKIT_FULL_TESTS") == "1"
            or "slow" in (config.getoption("markexpr") or ""))  # `-m slow` asks for them too


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False,
                     help="also run the tests marked slow (as HUFFKIT_FULL_TESTS=1 does)")


@pytest.hookimpl(trylast=True)  # after -k and -m, so that the count below is of tests asked for
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _run_slow(config):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]
        config.stash[_LEFT_OUT] = len(slow)


_LEFT_OUT = pytest.StashKey[int]()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    left_out = config.stash.get(_LEFT_OUT, 0)
    if left_out:
        terminalreporter.write_line(
            f"{left_out} slow tests left out: run them with --run-slow or HUFFKIT_FULL_TESTS=1")


#: The standard corpora, beside the repository (absent in a user's fresh clone).
SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def corpus_files() -> list[Path]:
    """Every data file of the shared corpora (none when they are absent)."""
    if not SHARED_CORPORA.is_dir():
        return []
    return sorted(path for path in SHARED_CORPORA.rglob("*")
                  if path.is_file() and not path.name.startswith(".")
                  and path.suffix != ".md")


_TABLE_ROW = re.compile(r"^\|\s*([^|\s]+)\s*\|\s*(\d+)\s*\|(.*)\|\s*$")


def corpus_bounds() -> dict[str, dict[str, float]]:
    """The figures of each corpus file's SOURCES.md table, by file name.

    Keys per file: bytes, H0, Huff, Huff15, payload, maxL, zlibHO.
    """
    bounds: dict[str, dict[str, float]] = {}
    for sources in SHARED_CORPORA.rglob("SOURCES.md") if SHARED_CORPORA.is_dir() else []:
        header: list[str] | None = None
        for line in sources.read_text(encoding="utf-8").splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells and cells[0] == "file":
                header = cells
                continue
            if header is None or len(cells) != len(header) or not _TABLE_ROW.match(line):
                continue
            row = dict(zip(header, cells, strict=True))
            name = row["file"]
            bounds[name] = {
                "bytes": int(row["bytes"]),
                "H0": float(row["H0"]),
                "Huff": float(row["Huff"]),
                "Huff15": float(row["Huff15"]),
                "payload": int(row["payload"]),
                "maxL": int(row["maxL"]),
                "zlibHO": int(row["zlibHO bytes"]),
            }
    return bounds


requires_corpora = pytest.mark.skipif(not SHARED_CORPORA.is_dir(),
                                      reason="../shared/corpora is not present")


#: The backends this installation can run: both, unless the compiled kernels are not built.
BACKENDS = [name for name in backend.BACKENDS if name == "numpy" or backend.unavailable is None]


@pytest.fixture(params=BACKENDS)
def each_backend(request):
    """Run the test once on each backend (the codec's kernels: compiled, and numpy)."""
    previous = backend.name()
    backend.use(request.param)
    try:
        yield request.param
    finally:
        backend.use(previous)


# -- running the command ------------------------------------------------------------------


def cli_runner():
    from click.testing import CliRunner

    try:
        return CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into the output
    except TypeError:
        return CliRunner()  # click >= 8.2 always captures stderr on its own


def invoke(*args, input: bytes | None = None):
    """Run ``huffkit ARGS``; an exception the CLI does not handle fails the test."""
    import huffkit.cli

    return cli_runner().invoke(huffkit.cli.main, [str(arg) for arg in args], input=input,
                            prog_name="huffkit", catch_exceptions=False)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under *folder* (hidden ones too, but not symbolic links), with its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in sorted(folder.rglob("*")) if path.is_file() and not path.is_symlink()}


# -- helpers for hand-made frames and memory measurements ----------------------------------


def read_leb128(buffer: bytes, pos: int) -> tuple[int, int]:
    """The unsigned LEB128 number at *pos* of *buffer*, and the position after it."""
    value = shift = 0
    while True:
        byte = buffer[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


def leb128(value: int) -> bytes:
    """*value* as an unsigned LEB128 number (FORMAT.md: presence lists, frequencies)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Peak:
    """What :func:`peak_memory` measured: ``bytes``, once its block has ended."""

    bytes = 0


@contextlib.contextmanager
def peak_memory() -> Iterator[Peak]:
    """Measure the peak traced memory above the starting level inside the block (Python and
    numpy allocations; not plain C mallocs inside the compiled kernels)."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    peak = Peak()
    try:
        yield peak
    finally:
        peak.bytes = tracemalloc.get_traced_memory()[1] - baseline
        if not was_tracing:
            tracemalloc.stop()


# -- executors: a process pool and a Dask cluster of two workers ---------------------------


@pytest.fixture(scope="module")
def process_pool() -> Iterator[concurrent.futures.ProcessPoolExecutor]:
    # spawn: the workers import huffkit afresh, as a cluster's do; nothing is inherited.
    with concurrent.futures.ProcessPoolExecutor(
            2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A Dask client of a LocalCluster of two worker processes (the test is skipped
    without the dask extra)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as client:
        yield client
