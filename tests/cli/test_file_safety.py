"""What the command line leaves on disk when things go wrong around it.

A compression killed mid-write, a full disk, inputs that cannot or should not be read,
outputs that cannot be written: each run ends with exit status 1 and one
``huffkit: error: ...`` line (or dies by its signal), nothing appears under the output's
name and the input is unchanged.  The real CLI runs in subprocesses (``python -m huffkit``)
wherever a signal, a mount or a special file is involved: a test must not be able to hang
pytest or die with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import huffkit
import huffkit.cli

SUFFIX = ".huf"
ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
#: About 60 KB of text-like bytes.
TEXT = b"".join(b"line %d: the quick brown fox jumps over the lazy dog\n" % i
                for i in range(1200))

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux file-system behaviour")


def huffkit_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "huffkit", *args]


def run(*args: str, cwd: Path, stdout=subprocess.PIPE, timeout: float = 60):
    return subprocess.run(huffkit_command(*args), cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=timeout, check=False)


def invoke(*args: str, cwd: Path):
    """``huffkit ARGS`` in process, in *cwd*; an exception the CLI lets out fails the test."""
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into the output
    except TypeError:
        runner = CliRunner()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(huffkit.cli.main, list(args), prog_name="huffkit",
                             catch_exceptions=False)
    finally:
        os.chdir(previous)


def assert_one_error(status: int, stdout: bytes, stderr: bytes, message: str) -> None:
    """Exit status 1, no output, and the single line ``huffkit: error: MESSAGE`` (a regex)."""
    assert (status, stdout) == (1, b""), (status, stdout[:100], stderr)
    assert b"Traceback" not in stderr
    assert re.fullmatch(f"huffkit: error: {message}\n", stderr.decode()), stderr


def assert_process_error(process, message: str) -> None:
    assert_one_error(process.returncode, process.stdout or b"", process.stderr, message)


def assert_result_error(result, message: str) -> None:
    assert_one_error(result.exit_code, result.stdout_bytes, result.stderr_bytes, message)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def names(folder: Path) -> list[str]:
    """Every entry of *folder*, hidden ones too."""
    return sorted(os.listdir(folder))


def varied_data(size: int, seed: int = 8) -> bytes:
    """*size* bytes in 1 MiB stretches, each with its own skewed byte distribution."""
    rng = np.random.default_rng(seed)
    stretches = []
    for start in range(0, size, 1 << 20):
        weights = rng.pareto(1.2, 256) + 1e-3
        weights[rng.permutation(256)[: rng.integers(0, 200)]] = 0
        weights[rng.integers(0, 256)] += 1  # at least one symbol
        length = min(1 << 20, size - start)
        stretches.append(rng.choice(256, length, p=weights / weights.sum()).astype(np.uint8))
    return np.concatenate(stretches).tobytes()


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> tuple[bytes, bytes]:
    """32 MiB of varied data, and its compressed form (about 24 MiB)."""
    data = varied_data(32 << 20)
    return data, huffkit.compress(data)


# -- killed mid-write --------------------------------------------------------------


def temporary_pattern(final: str) -> re.Pattern:
    """The hidden name atomic_output gives the output while it is written."""
    return re.compile(rf"\.{re.escape(final)}\.[^/]+\.tmp")


def stop_mid_write(process: subprocess.Popen, folder: Path, final: str,
                   full_size: int) -> int | None:
    """Stop *process* (SIGSTOP) once its temporary output holds some bytes but not all.

    Returns the bytes written then, or None when the run finished first.
    """
    pattern = temporary_pattern(final)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        for entry in os.scandir(folder):
            if pattern.fullmatch(entry.name) and entry.stat().st_size > 0:
                process.send_signal(signal.SIGSTOP)
                size = os.stat(entry.path).st_size
                if process.poll() is None and size < full_size:
                    return size
                return None
        time.sleep(0.0005)
    return None


def kill_mid_write(args: list[str], folder: Path, final: str, full_size: int,
                   kill: signal.Signals, *, hangup=signal.SIG_DFL) -> tuple[int, int, bytes]:
    """Run ``huffkit ARGS`` in *folder* and send it *kill* in the middle of writing *final*.

    The run is stopped first, so that what was written is measured and the signal
    arrives mid-write.  Tries again (at most 5 times) if a run finished too soon.
    Returns the bytes written when the signal was sent, the exit status and stderr.
    The child starts with SIGHUP's disposition *hangup*, not whatever the test runner
    had (under nohup, SIG_IGN: the child would inherit it, and keep it).
    """
    stderr = b""
    for _ in range(5):
        process = subprocess.Popen(huffkit_command(*args), cwd=folder, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   preexec_fn=lambda: signal.signal(signal.SIGHUP, hangup))
        try:
            written = stop_mid_write(process, folder, final, full_size)
            process.send_signal(kill)
            process.send_signal(signal.SIGCONT)
            stderr = process.stderr.read()
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stderr.close()
        if written is not None:
            return written, process.returncode, stderr
        for name in names(folder):  # the finished run's output: start again
            if name == final or temporary_pattern(final).fullmatch(name):
                os.unlink(folder / name)
    pytest.fail(f"huffkit {' '.join(args)} finished before it could be stopped, 5 times; "
                f"the last said {stderr!r}")


KILLED_RUNS = {
    # name: (arguments, input, output, input is compressed, output exists before)
    "compress": (["compress", "-T", "1", "big"], "big", "big.huf", False, False),
    "decompress": (["decompress", "big.huf"], "big.huf", "big", True, False),
    "compress --force": (["compress", "-T", "1", "-f", "big"], "big", "big.huf", False, True),
    "decompress --force": (["decompress", "-f", "big.huf"], "big.huf", "big", True, True),
}


@pytest.mark.parametrize("case", KILLED_RUNS)
def test_sigkill_mid_write_leaves_no_output_and_the_input_intact(tmp_path, big, case):
    args, source, final, compressed, existing = KILLED_RUNS[case]
    data, packed = big
    (tmp_path / source).write_bytes(packed if compressed else data)
    before = digest(tmp_path / source)
    old_output = b"the previous output, to be kept\n"
    if existing:
        (tmp_path / final).write_bytes(old_output)
    full_size = len(data if compressed else packed)

    written, status, stderr = kill_mid_write(args, tmp_path, final, full_size, signal.SIGKILL)

    assert (status, stderr) == (-signal.SIGKILL, b"")
    assert 0 < written < full_size
    assert digest(tmp_path / source) == before
    if existing:
        assert (tmp_path / final).read_bytes() == old_output
    else:
        assert not (tmp_path / final).exists()
    # Nothing can clean up after SIGKILL: the partial output stays, under a hidden
    # temporary name that is never taken for the output, readable by its owner only.
    leftovers = sorted(set(names(tmp_path)) - {source, final})
    assert len(leftovers) == 1, leftovers
    assert temporary_pattern(final).fullmatch(leftovers[0]), leftovers
    leftover = tmp_path / leftovers[0]
    assert stat.S_IMODE(leftover.stat().st_mode) == 0o600
    assert leftover.stat().st_size >= written
    print(f"\n{case}: SIGKILL after {written:,} of {full_size:,} bytes written; "
          f"{final} {'kept as it was' if existing else 'absent'}; left {leftovers[0]} "
          f"({leftover.stat().st_size:,} bytes); input sha256 {before[:16]}... unchanged")


@pytest.mark.parametrize("case", ["compress", "decompress --force"])
@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_mid_write_cleans_up(tmp_path, big, case, kill):
    # Unlike SIGKILL, these can be caught: the temporary file is removed as well.
    args, source, final, compressed, existing = KILLED_RUNS[case]
    data, packed = big
    (tmp_path / source).write_bytes(packed if compressed else data)
    old_output = b"the previous output, to be kept\n"
    if existing:
        (tmp_path / final).write_bytes(old_output)
    full_size = len(data if compressed else packed)

    written, status, stderr = kill_mid_write(args, tmp_path, final, full_size, kill)

    assert 0 < written < full_size
    assert (status, stderr) == (128 + kill, b"huffkit: error: terminated\n")
    expected = {source: packed if compressed else data}
    if existing:
        expected[final] = old_output
    assert names(tmp_path) == sorted(expected)
    for name, content in expected.items():
        assert (tmp_path / name).read_bytes() == content


def test_an_ignored_sighup_stays_ignored_as_under_nohup(tmp_path, big):
    # nohup starts a command with SIGHUP ignored; huffkit keeps it so and finishes its work.
    args, source, final, _, _ = KILLED_RUNS["compress"]
    data, packed = big
    (tmp_path / source).write_bytes(data)
    written, status, stderr = kill_mid_write(args, tmp_path, final, len(packed),
                                             signal.SIGHUP, hangup=signal.SIG_IGN)
    assert 0 < written < len(packed)
    assert (status, stderr) == (0, b"")
    assert names(tmp_path) == sorted([source, final])
    assert (tmp_path / final).read_bytes() == packed


# -- a full disk -----------------------------------------------------------------

#: Run as root, or as root of a new user namespace: mounts a 1 MiB tmpfs at argv[1], runs
#: each command of the JSON list argv[2] in argv[3], and prints what each did as JSON.
TMPFS_HELPER = r'''
import json, os, subprocess, sys

mount_point, steps, folder = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mount_point],
                         capture_output=True, text=True)
if mounted.returncode != 0:
    print(mounted.stderr.strip() or "mount failed", file=sys.stderr)
    sys.exit(77)
try:
    results = []
    for step in steps:
        if step["fill"]:
            # Fill the file system to the last byte: the output's first write will fail.
            with open(os.path.join(mount_point, "filler"), "wb", buffering=0) as filler:
                try:
                    while True:
                        filler.write(b"\0" * 4096)
                except OSError:
                    pass
        ran = subprocess.run([sys.executable, "-m", "huffkit", *step["args"]], cwd=folder,
                             stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        results.append({"status": ran.returncode, "stdout": ran.stdout.decode("latin-1"),
                        "stderr": ran.stderr.decode("latin-1"),
                        "listing": sorted(os.listdir(mount_point))})
        for name in os.listdir(mount_point):
            os.unlink(os.path.join(mount_point, name))
finally:
    subprocess.run(["umount", mount_point], check=True)
print(json.dumps(results))
'''


def on_tiny_tmpfs(tmp_path: Path, steps: list[dict]) -> list[dict]:
    """Run huffkit *steps* with a 1 MiB tmpfs mounted at tmp_path/full; skip if impossible."""
    (tmp_path / "full").mkdir()
    helper = tmp_path / "tmpfs_helper.py"
    helper.write_text(TMPFS_HELPER)
    arguments = [sys.executable, str(helper), str(tmp_path / "full"), json.dumps(steps),
                 str(tmp_path)]
    if not ROOT:
        arguments = ["unshare", "--user", "--map-root-user", "--mount", *arguments]
    try:
        ran = subprocess.run(arguments, capture_output=True, text=True, timeout=120,
                             check=False)
    except FileNotFoundError:
        pytest.skip("cannot mount a tmpfs: not root, and no unshare command")
    finally:
        if ROOT and os.path.ismount(tmp_path / "full"):  # the helper was killed
            subprocess.run(["umount", str(tmp_path / "full")], check=False)
    if ran.returncode == 77 or (not ROOT and ran.returncode != 0
                                and ran.stderr.startswith("unshare:")):
        pytest.skip(f"cannot mount a tmpfs: {ran.stderr.strip()}")
    assert ran.returncode == 0, ran.stderr
    assert names(tmp_path / "full") == []  # unmounted, and nothing written beneath
    return json.loads(ran.stdout)


def test_a_full_disk_gives_a_clear_error_and_no_partial_file(tmp_path, big):
    data, packed = big
    (tmp_path / "big").write_bytes(data)
    (tmp_path / "big.huf").write_bytes(packed)
    # Outputs this small stay in the file's buffer until it is closed.
    (tmp_path / "tiny").write_bytes(TEXT[:3000])
    (tmp_path / "tiny.huf").write_bytes(huffkit.compress(TEXT[:3000]))
    digests = {name: digest(tmp_path / name) for name in ("big", "big.huf", "tiny", "tiny.huf")}
    steps = [
        # Output larger than the file system: a write fails midway.
        {"args": ["compress", "-o", "full/big.huf", "big"], "fill": False},
        {"args": ["decompress", "-o", "full/big", "big.huf"], "fill": False},
        # A file system already full, and outputs small enough to stay buffered until
        # the file is closed: the close fails.
        {"args": ["compress", "-o", "full/tiny.huf", "tiny"], "fill": True},
        {"args": ["decompress", "-o", "full/tiny", "tiny.huf"], "fill": True},
    ]

    results = on_tiny_tmpfs(tmp_path, steps)

    outputs = ["full/big.huf", "full/big", "full/tiny.huf", "full/tiny"]
    for step, output, result in zip(steps, outputs, results, strict=True):
        assert_one_error(result["status"], result["stdout"].encode(),
                         result["stderr"].encode(),
                         f"{re.escape(output)}: No space left on device")
        # No output and no temporary file: only the filler, when there was one.
        assert result["listing"] == (["filler"] if step["fill"] else []), result
        print(f"\ntmpfs 1 MiB, huffkit {' '.join(step['args'])}: exit {result['status']}, "
              f"{result['stderr'].strip()!r}, left on the tmpfs: {result['listing']}")
    assert {name: digest(tmp_path / name) for name in digests} == digests


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("command, name", [("compress", "small"), ("compress", "big"),
                                           ("decompress", "small.huf"),
                                           ("decompress", "big.huf")])
def test_standard_output_on_a_full_disk(tmp_path, big, command, name):
    data, packed = big
    content = {"small": TEXT, "big": data, "small.huf": huffkit.compress(TEXT),
               "big.huf": packed}[name]
    (tmp_path / name).write_bytes(content)
    with open("/dev/full", "wb") as full:
        ran = run(command, "-c", name, cwd=tmp_path, stdout=full)
    assert_process_error(ran, "standard output: No space left on device")
    assert names(tmp_path) == [name]
    assert (tmp_path / name).read_bytes() == content


# -- inputs that cannot or should not be read ----------------------------------------


@pytest.mark.parametrize("command, name", [("compress", "missing"),
                                           ("decompress", "missing.huf")])
def test_a_missing_input(tmp_path, command, name):
    result = invoke(command, name, cwd=tmp_path)
    assert_result_error(result, f"{name}: No such file or directory")
    assert names(tmp_path) == []


@pytest.mark.parametrize("command, name", [("compress", "folder"),
                                           ("decompress", "folder.huf")])
def test_a_directory_as_input(tmp_path, command, name):
    (tmp_path / name).mkdir()
    (tmp_path / name / "inside").write_bytes(TEXT)
    result = invoke(command, name, cwd=tmp_path)
    assert_result_error(result, f"{name}: is a directory")
    assert names(tmp_path) == [name]
    assert names(tmp_path / name) == ["inside"]


@pytest.mark.skipif(ROOT, reason="permission bits do not stop root from reading")
@pytest.mark.parametrize("command, name", [("compress", "secret"),
                                           ("decompress", "secret.huf")])
def test_an_unreadable_input(tmp_path, command, name):
    content = TEXT if command == "compress" else huffkit.compress(TEXT)
    (tmp_path / name).write_bytes(content)
    (tmp_path / name).chmod(0)
    try:
        result = invoke(command, name, cwd=tmp_path)
    finally:
        (tmp_path / name).chmod(0o644)
    assert_result_error(result, f"{name}: Permission denied")
    assert names(tmp_path) == [name]
    assert (tmp_path / name).read_bytes() == content


@pytest.mark.skipif(not os.path.exists("/proc/self/mem"), reason="needs /proc/self/mem")
@pytest.mark.parametrize("command, name", [("compress", "memory"),
                                           ("decompress", "memory.huf")])
def test_an_input_whose_reads_fail(tmp_path, command, name):
    # /proc/self/mem opens as a regular file, even for root, and reading it at offset 0
    # fails with EIO: a read error, named after the input.
    (tmp_path / name).symlink_to("/proc/self/mem")
    ran = run(command, name, cwd=tmp_path)
    assert_process_error(ran, f"{name}: Input/output error")
    assert names(tmp_path) == [name]


def _make_fifo(path: Path) -> None:
    os.mkfifo(path)


def _make_socket(path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))


SPECIAL_FILES = {"fifo": _make_fifo, "socket": _make_socket}


@pytest.mark.parametrize("command", ["compress", "decompress"])
@pytest.mark.parametrize("kind", SPECIAL_FILES)
def test_a_special_file_as_input_is_refused(tmp_path, command, kind):
    # A named pipe would wait for a writer: the run must end at once, whatever the kind.
    name = "special.huf" if command == "decompress" else "special"
    SPECIAL_FILES[kind](tmp_path / name)
    ran = run(command, name, cwd=tmp_path, timeout=20)
    assert_process_error(ran, f"{name}: not a regular file; use -f to read it anyway")
    assert names(tmp_path) == [name]


@pytest.mark.parametrize("command", ["compress", "decompress"])
@pytest.mark.parametrize("args", [["-c"], ["-o", "out"]], ids=["stdout", "output"])
def test_a_device_as_input_is_refused(tmp_path, command, args):
    # /dev/zero never ends: without the refusal this would run until the disk is full.
    ran = run(command, *args, "/dev/zero", cwd=tmp_path, timeout=20)
    assert_process_error(ran, "/dev/zero: not a regular file; use -f to read it anyway")
    assert names(tmp_path) == []


@pytest.mark.parametrize("command", ["info", "inspect", "analyze"])
def test_the_reading_commands_refuse_a_device(tmp_path, command):
    # They read a file whole: /dev/zero would fill the memory.
    ran = run(command, "/dev/zero", cwd=tmp_path, timeout=20)
    assert_process_error(ran, "/dev/zero: is a device, and this command reads its input whole")


def test_force_reads_a_named_pipe(tmp_path):
    os.mkfifo(tmp_path / "pipe")

    def feed() -> None:
        with open(tmp_path / "pipe", "wb") as pipe:
            pipe.write(TEXT)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    ran = run("compress", "-f", "-o", "out.huf", "pipe", cwd=tmp_path, timeout=20)
    writer.join(timeout=10)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    assert huffkit.decompress((tmp_path / "out.huf").read_bytes()) == TEXT


def test_standard_input_is_read_whatever_it_is(tmp_path):
    ran = subprocess.run(huffkit_command("compress", "-o", "out.huf", "-"), cwd=tmp_path,
                         input=TEXT, capture_output=True, timeout=60, check=False)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    assert huffkit.decompress((tmp_path / "out.huf").read_bytes()) == TEXT


# -- outputs that cannot be written ------------------------------------------------


@pytest.mark.parametrize("command", ["compress", "decompress"])
@pytest.mark.parametrize("output, message", [
    ("nowhere/out", r"nowhere/out: No such file or directory"),
    ("folder", r"folder: is a directory"),
    ("input/out", r"input/out: Not a directory"),
])
def test_an_output_that_cannot_be_written(tmp_path, command, output, message):
    content = TEXT if command == "compress" else huffkit.compress(TEXT)
    (tmp_path / "input").write_bytes(content)
    (tmp_path / "folder").mkdir()
    result = invoke(command, "-o", output, "input", cwd=tmp_path)
    assert_result_error(result, message)
    assert names(tmp_path) == ["folder", "input"]
    assert names(tmp_path / "folder") == []
    assert (tmp_path / "input").read_bytes() == content


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_the_default_output_name_taken_by_a_directory(tmp_path, command):
    name, output = ("a.txt", "a.txt.huf") if command == "compress" else ("a.txt.huf", "a.txt")
    content = TEXT if command == "compress" else huffkit.compress(TEXT)
    (tmp_path / name).write_bytes(content)
    (tmp_path / output).mkdir()
    result = invoke(command, "-f", name, cwd=tmp_path)
    assert_result_error(result, f"{re.escape(output)}: is a directory")
    assert names(tmp_path) == sorted([name, output])
    assert names(tmp_path / output) == []


@pytest.mark.skipif(ROOT, reason="permission bits do not stop root from writing")
def test_an_output_folder_without_write_permission(tmp_path):
    (tmp_path / "input").write_bytes(TEXT)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0o555)
    try:
        result = invoke("compress", "-o", "locked/out.huf", "input", cwd=tmp_path)
        assert names(tmp_path / "locked") == []
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert_result_error(result, r"locked/out\.huf: Permission denied")
    assert (tmp_path / "input").read_bytes() == TEXT


def _make_device(path: Path) -> None:
    if not ROOT:
        pytest.skip("only root can make a device node")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # as /dev/null


OUTPUT_SPECIAL_FILES = {"fifo": _make_fifo, "device": _make_device}


@pytest.mark.parametrize("force", [[], ["-f"]], ids=["", "force"])
@pytest.mark.parametrize("kind", OUTPUT_SPECIAL_FILES)
def test_a_special_file_in_the_outputs_place_is_never_replaced(tmp_path, kind, force):
    # With -f the output replaces what is in its place: a device node (as /dev/null, run
    # as root) would become a regular file.
    (tmp_path / "input").write_bytes(TEXT)
    OUTPUT_SPECIAL_FILES[kind](tmp_path / "special")
    before = os.lstat(tmp_path / "special")
    ran = run("compress", *force, "-o", "special", "input", cwd=tmp_path, timeout=20)
    assert_process_error(ran, "special: not a regular file; use -c to write into it")
    after = os.lstat(tmp_path / "special")
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode,
                                                           before.st_rdev)
    assert names(tmp_path) == ["input", "special"]
