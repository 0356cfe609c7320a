"""``--dask`` on the command line: compare, sweep, train and compress on a Dask cluster.

Each command runs once with ``--dask local`` (a LocalCluster of one worker process per
core, started and closed by the command: a few seconds each) and must print and write
exactly what it does without it.  The missing extra is simulated through
``sys.modules``; a wrong address is a closed port on this machine.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import invoke, listing

import huffkit
import huffkit.corpora
from huffkit.cli import _dask
from huffkit.cli._group import CliError

BUNDLED = {entry.name: Path(entry.path) for entry in huffkit.corpora.manifest()}
NAMES = ("english.txt", "source.c", "skewed.txt", "korean.txt")

MISSING = "huffkit: error: --dask needs Dask's distributed scheduler: pip install 'huffkit[dask]'\n"


@pytest.fixture
def distributed() -> Any:
    return pytest.importorskip("distributed")


@pytest.fixture
def corpus(tmp_path: Path) -> list[Path]:
    paths = []
    for name in NAMES:
        shutil.copy(BUNDLED[name], tmp_path / name)
        paths.append(tmp_path / name)
    return paths


def _drifting(size: int) -> bytes:
    """Bytes whose statistics drift, so that each chunk of compress --dask gets its own code."""
    rng = np.random.default_rng(20)
    letters = (rng.exponential(5, size) * np.linspace(1, 5, size)).astype(np.int64) % 90 + 32
    return letters.astype(np.uint8).tobytes()


# -- the same results as in one process --------------------------------------------------


def test_compare_on_a_local_cluster_prints_and_writes_the_same(distributed, corpus, tmp_path):
    here = invoke("compare", *corpus, "--coder", "huffman", "--coder", "ans",
                  "--csv", tmp_path / "here.csv")
    there = invoke("compare", *corpus, "--coder", "huffman", "--coder", "ans",
                   "--csv", tmp_path / "there.csv", "--dask", "local")
    assert (here.exit_code, here.stderr) == (0, "")
    assert (there.exit_code, there.stderr) == (0, "")
    assert there.stdout == here.stdout
    assert "english.txt" in here.stdout and "korean.txt" in here.stdout
    assert (tmp_path / "there.csv").read_bytes() == (tmp_path / "here.csv").read_bytes()


def test_sweep_on_a_local_cluster_prints_the_same(distributed, corpus):
    arguments = ("sweep", corpus[0], "--toward", corpus[1], "--steps", "5",
                 "--coder", "huffman", "--coder", "ans", "--json")
    here = invoke(*arguments)
    there = invoke(*arguments, "--dask", "local")
    assert (here.exit_code, here.stderr) == (0, "")
    assert (there.exit_code, there.stderr) == (0, "")
    assert there.stdout == here.stdout
    assert '"weight": 0.5' in here.stdout


def test_train_on_a_local_cluster_writes_the_same_codebook(distributed, corpus, tmp_path):
    here = invoke("train", *corpus, "-o", tmp_path / "here.json")
    there = invoke("train", *corpus, "-o", tmp_path / "there.json", "--dask", "local")
    assert here.exit_code == there.exit_code == 0
    assert (tmp_path / "there.json").read_bytes() == (tmp_path / "here.json").read_bytes()
    # The same line, but for the file's name.
    assert there.stderr == here.stderr.replace("here.json", "there.json")
    assert f"from {len(NAMES)} files" in here.stderr


def test_compress_on_a_local_cluster_writes_compress_files_bytes(distributed, tmp_path,
                                                                monkeypatch):
    # Chunks of 64K, so that the 300K file is five frames spread over the workers.
    chunked = functools.partial(huffkit.compress_file, chunk_size=1 << 16)
    shared = _record_shared_target(monkeypatch, chunked)
    big, text = tmp_path / "big.bin", tmp_path / "english.txt"
    big.write_bytes(_drifting(300_000))
    shutil.copy(BUNDLED["english.txt"], text)
    os.chmod(big, 0o640)
    os.utime(big, ns=(1_600_000_000_000_000_000, 1_500_000_000_123_456_789))
    expected = {}
    for path in (big, text):
        chunked(path, tmp_path / f"{path.name}.expected", block_size=1 << 15, coder="ans")
        expected[path.name] = (path.read_bytes(),
                               (tmp_path / f"{path.name}.expected").read_bytes())
        (tmp_path / f"{path.name}.expected").unlink()

    result = invoke("compress", "--rm", "-v", "--block-size", "32K", "--coder", "ans",
                    big, text, "--dask", "local")
    assert (result.exit_code, result.stdout) == (0, "")
    assert sorted(listing(tmp_path)) == ["big.bin.huf", "english.txt.huf"]  # --rm
    lines = result.stderr.splitlines()
    assert [line.split("\t")[0] for line in lines] == [f"{big}:", f"{text}:"]
    assert lines[0].endswith(f"% -- replaced with {big}.huf")
    for path in (big, text):
        original, frames = expected[path.name]
        written = Path(f"{path}.huf").read_bytes()
        assert written == frames
        assert huffkit.decompress(written) == original
    assert len(huffkit.frame_info(Path(f"{big}.huf").read_bytes())) == 5
    status = os.stat(f"{big}.huf")
    assert (status.st_mode & 0o777, status.st_mtime_ns) == (0o640, 1_500_000_000_123_456_789)
    assert shared == [True, True]  # on this machine, the workers write the frames in place


def _record_shared_target(monkeypatch, compress_file):
    """Has huffkit.compress_file run *compress_file*, recording its shared_target."""
    shared = []

    def recording(*args, **kwargs):
        shared.append(kwargs["shared_target"])
        return compress_file(*args, **kwargs)

    monkeypatch.setattr(huffkit, "compress_file", recording)
    return shared


def test_compare_on_a_running_scheduler_by_its_address(distributed, corpus, tmp_path):
    # The scheduler's address, as for a real cluster: the command connects and leaves it
    # running (its workers still there afterwards).
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster, \
            distributed.Client(cluster) as client:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        there = invoke("compare", *corpus, "--json", "--dask", address)
        assert len(client.scheduler_info()["workers"]) == 2
    here = invoke("compare", *corpus, "--json")
    assert (there.exit_code, there.stderr) == (0, "")
    assert there.stdout == here.stdout


@pytest.mark.parametrize("workers_share", [True, False])
def test_compress_on_a_running_scheduler_writes_in_place_where_the_workers_can(
        workers_share, distributed, tmp_path, monkeypatch):
    # The workers of a cluster elsewhere may not see FILE.huf's folder: they write the
    # frames in place only if they do (here they do: a LocalCluster on this machine, and
    # workers that do not are simulated); otherwise the frames come back here.
    chunked = functools.partial(huffkit.compress_file, chunk_size=1 << 16)
    shared = _record_shared_target(monkeypatch, chunked)
    if not workers_share:
        monkeypatch.setattr(_dask, "workers_share", lambda client, folder: False)
    big = tmp_path / "big.bin"
    big.write_bytes(_drifting(200_000))
    chunked(big, tmp_path / "expected")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address="127.0.0.1:0") as cluster:
        result = invoke("compress", big, "--dask", cluster.scheduler_address)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert Path(f"{big}.huf").read_bytes() == (tmp_path / "expected").read_bytes()
    assert shared == [workers_share]
    assert sorted(os.listdir(tmp_path)) == ["big.bin", "big.bin.huf", "expected"]


class _Answering:
    """A client whose workers answer client.run with *answers*, or raise *error*."""

    def __init__(self, answers: dict[str, Any] | None = None,
                 error: Exception | None = None) -> None:
        self.answers, self.error, self.asked = answers, error, []

    def run(self, function, *args):
        self.asked.append(args)
        if self.error is not None:
            raise self.error
        return self.answers


def test_workers_share_a_folder_only_if_each_finds_a_file_made_here(dask_client, tmp_path):
    assert _dask.workers_share(dask_client, str(tmp_path)) is True  # the same machine
    assert os.listdir(tmp_path) == []  # the probe is removed
    # A folder that is not here, workers that do not see the file or cannot answer.
    assert _dask.workers_share(dask_client, str(tmp_path / "missing")) is False
    for client in (_Answering({"tcp://a:1": True, "tcp://b:1": False}), _Answering({}),
                   _Answering(error=OSError("lost"))):
        assert _dask.workers_share(client, str(tmp_path)) is False
        [(probe,)] = client.asked
        assert os.path.dirname(probe) == str(tmp_path)
        assert os.path.basename(probe).startswith(".huffkit-probe.")
        assert os.listdir(tmp_path) == []


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["compare", "sweep", "train", "compress"])
def test_without_the_extra_dask_says_how_to_install_it(command, corpus, tmp_path,
                                                       monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    extra = ["-o", tmp_path / "model.json"] if command == "train" else []
    before = listing(tmp_path)
    result = invoke(command, corpus[0], *extra, "--dask", "local")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", MISSING)
    assert listing(tmp_path) == before


def test_a_wrong_address_is_named_after_a_short_wait(distributed, corpus, monkeypatch):
    monkeypatch.setattr(_dask, "CONNECT_TIMEOUT", 2.0)
    result = invoke("compare", *corpus, "--dask", "tcp://127.0.0.1:1")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith("huffkit: error: --dask tcp://127.0.0.1:1: cannot connect "
                                    "to a Dask scheduler there (")
    assert result.stderr.count("\n") == 1  # one line, no traceback


@pytest.mark.parametrize(("arguments", "message"), [
    (["-c", "FILE"], "--dask cannot be used with -c/--stdout"),
    (["-o", "-", "FILE"], "--dask cannot be used with -c/--stdout"),
    ([], "--dask cannot read standard input"),
    (["-"], "--dask cannot read standard input"),
])
def test_compress_with_dask_refuses_standard_streams(arguments, message, corpus, tmp_path):
    arguments = [str(corpus[0]) if argument == "FILE" else argument for argument in arguments]
    before = listing(tmp_path)
    result = invoke("compress", *arguments, "--dask", "local", input=b"data")
    assert (result.exit_code, result.stdout) == (2, "")
    assert f"huffkit: error: {message}" in result.stderr
    assert listing(tmp_path) == before


def test_an_error_of_the_cluster_is_a_cli_error():
    class KilledWorker(Exception):
        pass

    KilledWorker.__module__ = "distributed.scheduler"
    assert _dask.describe_cluster_error(KilledWorker("the task\nkept killing\n workers")) == (
        "the Dask cluster failed: KilledWorker: the task kept killing workers")
    assert _dask.describe_cluster_error(ValueError("mine")) is None


def test_a_killed_worker_is_reported_when_dask_gives_up(distributed):
    import dask

    # No retry: the first worker to die ends the task (its nanny starts another worker).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            pytest.raises(CliError) as raised, _dask.executor_for("local") as executor:
        assert executor is not None
        executor.submit(os._exit, 1).result()
    assert raised.value.format_message().startswith(
        "the Dask cluster failed: KilledWorker: ")


def _children(pid: int) -> list[int]:
    """The processes whose parent is *pid* (Linux: from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    fields = stream.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_on_a_local_cluster_stops_at_once(distributed, tmp_path):
    # Ctrl-C goes to every process of the terminal's group.  The workers ignore it; the
    # command kills them (a running task cannot be stopped, and closing politely waited
    # four seconds for it, with two warnings) and says only that it was interrupted.
    big = tmp_path / "big.bin"
    big.write_bytes(_drifting(8 << 20))  # context mixing: about 8 s of a worker's time
    command = subprocess.Popen([sys.executable, "-m", "huffkit.cli", "compress", "--dask",
                                "local", "--model", "cm", str(big)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while len(_children(command.pid)) < 3:  # the workers and multiprocessing's tracker
        assert command.poll() is None and time.monotonic() < deadline, "no cluster started"
        time.sleep(0.05)
    time.sleep(1.5)  # the workers registered, and one compressing the file
    workers = [pid for pid in _children(command.pid) if b"spawn_main" in _command_line(pid)]
    assert len(workers) == _dask.local_workers()
    os.killpg(command.pid, signal.SIGINT)
    sent = time.monotonic()
    stdout, stderr = command.communicate(timeout=60)
    assert time.monotonic() - sent < 3.5  # closing politely took 4 s and more
    assert (command.returncode, stdout) == (130, b"")
    assert stderr == b"\nhuffkit: error: interrupted\n"
    assert not [pid for pid in workers if _command_line(pid)]  # the workers are gone
    assert os.listdir(tmp_path) == ["big.bin"]  # no output, no temporary file


def _command_line(pid: int) -> bytes:
    """The command line of the process *pid*; empty once it has ended (a zombie has none)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as stream:
            return stream.read()
    except OSError:
        return b""
