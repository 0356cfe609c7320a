"""The command line against a careless user and a hostile neighbour (issue 15's findings).

Each test runs the real CLI in a subprocess (``python -m huffkit``): a signal, a file
changed under a running command, another user, or a pipe is involved, and a test must not
be able to hang pytest or die with it.  A run that must be caught mid-way is stopped with
SIGSTOP once its output's temporary file appears (the input is open by then), changed
under it, and continued: no timing guesses, no test hooks in the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

import pytest
from hand_made_frames import bomb
from test_file_safety import (
    ROOT,
    SPECIAL_FILES,
    TEXT,
    assert_process_error,
    huffkit_command,
    names,
    run,
    temporary_pattern,
    varied_data,
)

import huffkit
from huffkit.cli._main import MAX_THREADS, PIPE_LIMIT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux file-system behaviour")


@pytest.fixture(scope="module")
def large() -> tuple[bytes, bytes]:
    """16 MiB of varied data, and its compressed form: a second or so of work at -T 1."""
    data = varied_data(16 << 20, seed=15)
    return data, huffkit.compress(data)


def assert_usage_error(process, command: str, message: str) -> None:
    """Exit status 2, click's usage lines, then ``huffkit: error: MESSAGE`` (exact)."""
    assert (process.returncode, process.stdout) == (2, b""), process.stderr
    assert process.stderr.decode() == (
        f"Usage: huffkit {command} [OPTIONS] [FILE]...\n"
        f"Try 'huffkit {command} -h' for help.\n"
        f"huffkit: error: {message}\n")


def stop(process: subprocess.Popen) -> None:
    """SIGSTOP *process*, and wait until it has stopped (a signal is delivered later)."""
    process.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        with open(f"/proc/{process.pid}/stat") as status:
            if status.read().rpartition(")")[2].split()[0] in "tT":
                return
        time.sleep(0.0002)


def paused_mid_run(args: list[str], folder: Path, final: str) -> subprocess.Popen:
    """``huffkit ARGS`` in *folder*, stopped (SIGSTOP) while it writes *final*.

    Stopped once the hidden temporary file of *final* exists, and before *final* does:
    the input is open by then, and nothing is published yet.  Tries again (5 times at
    most) if a run finished before it could be stopped.  The caller sends SIGCONT.
    """
    pattern = temporary_pattern(final)
    for _ in range(5):
        process = subprocess.Popen(huffkit_command(*args), cwd=folder, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if any(pattern.fullmatch(name) for name in os.listdir(folder)):
                stop(process)
                if process.poll() is None and not (folder / final).exists():
                    return process
                break
            time.sleep(0.0005)
        process.send_signal(signal.SIGCONT)
        process.communicate(timeout=60)
        for name in names(folder):  # the finished run's output: start again
            if name == final or pattern.fullmatch(name):
                os.unlink(folder / name)
    pytest.fail(f"huffkit {' '.join(args)} finished before it could be stopped, 5 times")


def resume(process: subprocess.Popen) -> tuple[int, bytes, bytes]:
    process.send_signal(signal.SIGCONT)
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, stdout, stderr


# -- 2: no set-user-ID, set-group-ID or sticky bit on an output ---------------------------


@pytest.mark.parametrize("mode", [0o6755, 0o4755, 0o2750, 0o1755, 0o7777])
def test_outputs_never_get_the_special_permission_bits(tmp_path, mode):
    # Run as root, copying the set-user-ID bit of a (compressed) program would make the
    # decompressed one run as its owner: only mode & 0o777 is copied, as zstd does.
    (tmp_path / "program").write_bytes(TEXT)
    os.chmod(tmp_path / "program", mode)
    assert run("compress", "program", cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(os.stat(tmp_path / "program.huf").st_mode) == mode & 0o777
    os.chmod(tmp_path / "program.huf", mode)
    ran = run("decompress", "-o", "restored", "program.huf", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    assert stat.S_IMODE(os.stat(tmp_path / "restored").st_mode) == mode & 0o777
    assert (tmp_path / "restored").read_bytes() == TEXT


# -- 6 and 13: an input deleted, truncated or grown while it is read ----------------------


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_deleting_the_input_mid_run_keeps_the_finished_output(tmp_path, large, command):
    # The mode is the open file's: an input deleted meanwhile used to make the final
    # copy of its mode fail, and the finished output was thrown away.
    data, packed = large
    source, final = ("big", "big.huf") if command == "compress" else ("big.huf", "big")
    (tmp_path / source).write_bytes(data if command == "compress" else packed)
    os.chmod(tmp_path / source, 0o640)

    process = paused_mid_run([command, "-T", "1", source], tmp_path, final)
    os.unlink(tmp_path / source)
    status, stdout, stderr = resume(process)

    assert (status, stdout, stderr) == (0, b"", b"")
    assert names(tmp_path) == [final]
    result = (tmp_path / final).read_bytes()
    assert (huffkit.decompress(result) if command == "compress" else result) == data
    assert stat.S_IMODE(os.stat(tmp_path / final).st_mode) == 0o640


def changed_size_message(name: str, opened: int) -> str:
    return (rf"{re.escape(name)}: file size changed while reading it \({opened:,} bytes when "
            r"opened, [\d,]+ read\)")


@pytest.mark.parametrize("change", ["truncated", "grown"])
def test_an_input_that_changes_size_mid_compress_leaves_no_output(tmp_path, large, change):
    # gzip warns "file size changed while zipping" and keeps an archive of neither
    # version of the file; huffkit refuses it.
    data, _ = large
    (tmp_path / "big").write_bytes(data)

    process = paused_mid_run(["compress", "-T", "1", "big"], tmp_path, "big.huf")
    if change == "truncated":
        os.truncate(tmp_path / "big", len(data) // 2)
    else:
        with open(tmp_path / "big", "ab") as grown:
            grown.write(data[:1000])
    status, stdout, stderr = resume(process)

    assert_process_error(subprocess.CompletedProcess([], status, stdout, stderr),
                         changed_size_message("big", len(data)))
    assert names(tmp_path) == ["big"]


@pytest.mark.skipif(not os.path.exists("/proc/version"), reason="needs /proc")
def test_a_file_that_reports_no_size_is_read_to_its_end(tmp_path):
    # /proc's files are regular files of size 0 that have content: no size to check.
    content = Path("/proc/version").read_bytes()
    assert os.stat("/proc/version").st_size == 0 and content
    ran = run("compress", "-c", "/proc/version", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    assert huffkit.decompress(ran.stdout) == content


def test_an_input_truncated_mid_compress_to_standard_output_is_an_error(tmp_path, large):
    # What was written to standard output cannot be taken back; the exit status says it
    # is not the file.
    data, _ = large
    (tmp_path / "big").write_bytes(data)
    (tmp_path / "out.huf").write_bytes(b"")
    with open(tmp_path / "out.huf", "wb") as out:
        process = subprocess.Popen(huffkit_command("compress", "-T", "1", "-c", "big"),
                                   cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.PIPE)
        # Stopped once it has written something: the input is open, and far from read.
        deadline = time.monotonic() + 30
        while os.path.getsize(tmp_path / "out.huf") == 0 and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.0005)
        stop(process)
        os.truncate(tmp_path / "big", 1000)
        process.send_signal(signal.SIGCONT)
        _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run finished before the input was truncated")
    assert process.returncode == 1
    assert re.fullmatch(f"huffkit: error: {changed_size_message('big', len(data))}\n",
                        stderr.decode()), stderr


def test_an_input_truncated_mid_decompress_at_a_frame_end_leaves_no_output(tmp_path, large):
    # Cut at the end of its first frame, a file of two frames is a valid, shorter file:
    # only its size when opened tells that the second frame went missing.
    _, packed = large
    second = huffkit.compress(TEXT)
    (tmp_path / "big.huf").write_bytes(packed + second)
    total = len(packed) + len(second)

    process = paused_mid_run(["decompress", "-T", "1", "big.huf"], tmp_path, "big")
    os.truncate(tmp_path / "big.huf", len(packed))
    status, stdout, stderr = resume(process)

    assert_process_error(subprocess.CompletedProcess([], status, stdout, stderr),
                         changed_size_message("big.huf", total))
    assert names(tmp_path) == ["big.huf"]


# -- 7: inspect reads its input, it does not map it -----------------------------------------


def open_files(pid: int) -> set[str]:
    folder = f"/proc/{pid}/fd"
    found = set()
    for entry in os.listdir(folder):
        with contextlib.suppress(OSError):  # closed meanwhile
            found.add(os.readlink(f"{folder}/{entry}"))
    return found


def assert_whole_or_refused(process: subprocess.Popen, stdout: bytes, stderr: bytes,
                            packed: bytes, *, mixed: bool = False) -> None:
    """The end of a command whose input, *packed*, was cut to 1000 bytes while it ran.

    Read before the cut: a result.  Cut after its size was taken: the change is
    reported.  Cut before: the library says what is wrong with the 1000 bytes left.  With
    *mixed*, the cut may have come during the read, which then holds parts of both: the
    decoder refuses that (checksums), with whatever it found first.
    """
    assert process.returncode in (0, 1), (process.returncode, stderr)  # not a signal
    if process.returncode == 0:
        assert stderr == b"" and stdout.startswith(b"big.huf: "), stderr
        return
    assert stdout == b"", stdout[:100]
    with pytest.raises(huffkit.HuffmanError) as short:
        huffkit.inspect(packed[:1000])
    expected = "big.huf: .*" if mixed else re.escape(f"big.huf: {short.value}")
    assert re.fullmatch(f"huffkit: error: ({changed_size_message('big.huf', len(packed))}"
                        f"|{expected})\n", stderr.decode()), stderr


def wait_until_open(process: subprocess.Popen, path: Path) -> None:
    """Return once *process* has *path* open, or has ended (it may read the file whole,
    and close it, between two looks)."""
    deadline = time.monotonic() + 30
    while process.poll() is None:
        with contextlib.suppress(FileNotFoundError):  # /proc/PID went as it ended
            if str(path) in open_files(process.pid):
                return
        assert time.monotonic() < deadline, "never opened"
        time.sleep(0.0002)


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc")
@pytest.mark.parametrize("command", ["inspect", "info --blocks"])
def test_a_compressed_file_truncated_while_read_is_never_a_signal(tmp_path, large, command):
    # A mapped file that shrinks kills the process with SIGBUS at the first page past its
    # new end.  The file is cut while the command works on it (it is open, and inspect
    # decodes for a while); it must never be mapped, and never die by a signal.
    _, packed = large
    path = tmp_path / "big.huf"
    path.write_bytes(packed)
    process = subprocess.Popen(huffkit_command(*command.split(), "big.huf"), cwd=tmp_path,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        wait_until_open(process, path)
        # Cut as soon as the file is seen mapped (a mapping follows the open at once, and
        # the decoding reads it for tens of milliseconds), or after 20 ms.
        mapped = False
        watch_until = time.monotonic() + 0.02
        while not mapped and time.monotonic() < watch_until and process.poll() is None:
            with open(f"/proc/{process.pid}/maps") as maps:
                mapped = str(path) in maps.read()
        os.truncate(path, 1000)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_whole_or_refused(process, stdout, stderr, packed, mixed=True)
    assert not mapped


def test_a_file_truncated_as_soon_as_it_is_open(tmp_path, large):
    # Stopped the moment the file is open, and cut: most often the read, or the size
    # taken before it, finds the shorter file.
    _, packed = large
    path = tmp_path / "big.huf"
    path.write_bytes(packed)
    process = subprocess.Popen(huffkit_command("inspect", "big.huf"), cwd=tmp_path,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        wait_until_open(process, path)
        stop(process)
        os.truncate(path, 1000)
        process.send_signal(signal.SIGCONT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert_whole_or_refused(process, stdout, stderr, packed)


# -- 8: -T bounds ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_threads_zero_means_one_per_core(tmp_path, command):
    (tmp_path / "a").write_bytes(TEXT)
    (tmp_path / "a.huf").write_bytes(huffkit.compress(TEXT))
    ran = run(command, "-T", "0", "-c", "a" if command == "compress" else "a.huf",
              cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    assert ran.stdout == (huffkit.compress(TEXT) if command == "compress" else TEXT)


@pytest.mark.parametrize("command", ["compress", "decompress", "bench"])
@pytest.mark.parametrize("value", [str(MAX_THREADS + 1), "99999999999999999999", "-1"])
def test_threads_out_of_range_is_a_usage_error(tmp_path, command, value):
    # As every other bad option value: click's usage error, exit status 2, no traceback.
    (tmp_path / "a").write_bytes(TEXT)
    ran = run(command, "-T", value, "a", cwd=tmp_path)
    assert_usage_error(ran, command, f"Invalid value for '-T' / '--threads': {value} is not "
                                     f"in the range 0<=x<={MAX_THREADS}.")
    assert names(tmp_path) == ["a"]


def test_the_thread_bound_is_256():
    assert MAX_THREADS == 256


# -- 11: file names near NAME_MAX --------------------------------------------------------


@pytest.mark.parametrize("name", [
    "n" * 238, "n" * 245, "n" * (255 - len(".huf")),
    "\u00e9" * 125 + "x",  # 251 bytes of UTF-8, two to a character: cut between characters
], ids=["238", "245", "251", "251-utf8"])
def test_names_near_the_longest_compress_and_decompress(tmp_path, name):
    # The hidden temporary name is 14 bytes longer than the output's: for these names
    # it would pass NAME_MAX (255 bytes), so the name in it is cut.
    assert len(os.fsencode(name)) in (238, 245, 251)
    (tmp_path / name).write_bytes(TEXT)
    ran = run("compress", name, cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    assert names(tmp_path) == sorted([name, name + ".huf"])
    os.unlink(tmp_path / name)
    ran = run("decompress", name + ".huf", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    assert (tmp_path / name).read_bytes() == TEXT


def test_a_long_names_temporary_file_is_hidden_and_fits(tmp_path, large):
    data, _ = large
    name = "n" * 251
    (tmp_path / name).write_bytes(data)
    process = subprocess.Popen(huffkit_command("compress", "-T", "1", name), cwd=tmp_path,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    seen = set()
    try:
        while process.poll() is None:
            seen.update(entry for entry in os.listdir(tmp_path) if entry.endswith(".tmp"))
            time.sleep(0.0005)
        _, stderr = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, stderr) == (0, b"")
    assert len(seen) == 1, seen
    temporary = seen.pop()
    assert re.fullmatch(r"\.n+\.[^/]{8}\.tmp", temporary), temporary
    assert len(os.fsencode(temporary)) == 255
    assert names(tmp_path) == sorted([name, name + ".huf"])


# -- 12: one unreadable input among several ------------------------------------------------


@pytest.fixture
def shared_folder():
    """A folder another user can work in (pytest's tmp_path is its owner's only)."""
    folder = Path(tempfile.mkdtemp(prefix="huffkit-hardening-"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def as_unprivileged(args: list[str]) -> list[str]:
    """*args* run as nobody when we are root: root reads a file of mode 000."""
    if not ROOT:
        return args
    if shutil.which("setpriv") is None:
        pytest.skip("run as root, and no setpriv to drop privileges")
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *args]


@pytest.mark.parametrize("command", ["compress", "decompress"])
def test_an_unreadable_input_among_others_is_reported_and_the_others_done(shared_folder,
                                                                          command):
    suffix = "" if command == "compress" else ".huf"
    content = TEXT if command == "compress" else huffkit.compress(TEXT)
    inputs = [f"{name}{suffix}" for name in ("first", "secret", "last")]
    for name in inputs:
        (shared_folder / name).write_bytes(content)
        (shared_folder / name).chmod(0o644)
    (shared_folder / inputs[1]).chmod(0)
    ran = subprocess.run(as_unprivileged(huffkit_command(command, *inputs)),
                         cwd=shared_folder, stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=60, check=False)
    assert_process_error(ran, f"{inputs[1]}: Permission denied")
    outputs = ["first.huf", "last.huf"] if command == "compress" else ["first", "last"]
    assert names(shared_folder) == sorted([*inputs, *outputs])
    for output in outputs:
        written = (shared_folder / output).read_bytes()
        assert (huffkit.decompress(written) if command == "compress" else written) == TEXT


@pytest.mark.parametrize("command", ["compress", "decompress"])
@pytest.mark.parametrize("kind", ["missing", "dangling link", "directory"])
def test_a_missing_input_among_others(tmp_path, command, kind):
    suffix = "" if command == "compress" else ".huf"
    content = TEXT if command == "compress" else huffkit.compress(TEXT)
    inputs = [f"{name}{suffix}" for name in ("first", "bad", "last")]
    for name in (inputs[0], inputs[2]):
        (tmp_path / name).write_bytes(content)
    if kind == "dangling link":
        (tmp_path / inputs[1]).symlink_to("nowhere")
    elif kind == "directory":
        (tmp_path / inputs[1]).mkdir()
    message = "is a directory" if kind == "directory" else "No such file or directory"
    ran = run(command, *inputs, cwd=tmp_path)
    assert_process_error(ran, f"{inputs[1]}: {message}")
    outputs = ["first.huf", "last.huf"] if command == "compress" else ["first", "last"]
    present = inputs if kind != "missing" else [inputs[0], inputs[2]]
    assert names(tmp_path) == sorted([*present, *outputs])


@pytest.mark.parametrize("args", [["info"], ["inspect"], ["analyze"], ["show"],
                                  ["train", "-o", "model.json"], ["compare"], ["sweep"],
                                  ["compress", "--codebook"]])
def test_every_command_names_an_unreadable_file(shared_folder, args):
    # Not click's usage error (exit status 2, "Path 'secret' is not readable").
    (shared_folder / "secret").write_bytes(huffkit.compress(TEXT))
    (shared_folder / "secret").chmod(0)
    (shared_folder / "data").write_bytes(TEXT)
    (shared_folder / "data").chmod(0o644)
    extra = ["data"] if args == ["compress", "--codebook"] else []
    ran = subprocess.run(as_unprivileged(huffkit_command(*args, "secret", *extra)),
                         cwd=shared_folder, stdin=subprocess.DEVNULL, capture_output=True,
                         timeout=60, check=False)
    assert_process_error(ran, "secret: Permission denied")
    assert names(shared_folder) == ["data", "secret"]


# -- 14: standard input and pipes, for the commands that read their input whole ------------


@pytest.mark.parametrize("command", ["info", "inspect", "analyze"])
def test_standard_input_is_read_up_to_a_limit(tmp_path, command):
    # `yes | huffkit info -` would otherwise fill the memory.
    assert PIPE_LIMIT == 256 << 20
    feeder = subprocess.Popen(["head", "-c", str(PIPE_LIMIT + (1 << 20)), "/dev/zero"],
                              stdout=subprocess.PIPE)
    try:
        ran = subprocess.run(huffkit_command(command, "-"), cwd=tmp_path, stdin=feeder.stdout,
                             capture_output=True, timeout=120, check=False)
    finally:
        feeder.stdout.close()
        feeder.kill()
        feeder.wait()
    assert_process_error(ran, "standard input: more than 256 MiB; this command reads its input "
                              "whole, and at most that much from a pipe: save it to a file and "
                              "name the file")


def test_standard_input_redirected_from_a_file_has_no_limit(tmp_path):
    # A regular file's size is known before it is read: only a pipe is bounded.  This
    # one (sparse) is read whole, and its zeros after the frame are what is wrong with it.
    packed = huffkit.compress(TEXT)
    with open(tmp_path / "long.huf", "wb") as long:
        long.write(packed)
        long.truncate(PIPE_LIMIT + 1)
    with open(tmp_path / "long.huf", "rb") as stdin:
        ran = subprocess.run(huffkit_command("info", "-"), cwd=tmp_path, stdin=stdin,
                             capture_output=True, timeout=120, check=False)
    assert_process_error(ran, "standard input: not a huffkit frame: expected magic bytes "
                              "89 48 55 46, found 00 00 00 00")


@pytest.mark.parametrize("command", ["info", "inspect", "analyze"])
@pytest.mark.parametrize("kind", SPECIAL_FILES)
def test_a_named_pipe_or_socket_is_refused_without_force(tmp_path, command, kind):
    # A pipe would wait for a writer; it is opened without waiting, and refused at once.
    SPECIAL_FILES[kind](tmp_path / "special")
    ran = run(command, "special", cwd=tmp_path, timeout=20)
    assert_process_error(ran, "special: not a regular file; use -f to read it anyway")


@pytest.mark.parametrize("command", ["info", "inspect"])
def test_a_named_pipe_with_force_is_read_up_to_the_limit(tmp_path, command):
    os.mkfifo(tmp_path / "pipe")
    process = subprocess.Popen(huffkit_command(command, "-f", "pipe"), cwd=tmp_path,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)

    def feed() -> None:
        block = bytes(1 << 20)
        try:
            with open(tmp_path / "pipe", "wb") as pipe:
                for _ in range((PIPE_LIMIT >> 20) + 1):
                    pipe.write(block)
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    stdout, stderr = process.communicate(timeout=120)
    writer.join(timeout=30)
    assert_process_error(subprocess.CompletedProcess([], process.returncode, stdout, stderr),
                         "pipe: more than 256 MiB; this command reads its input whole, and at "
                         "most that much from a pipe: save it to a file and name the file")


def test_compressed_data_is_not_read_from_a_terminal(tmp_path):
    # As decompress: `huffkit info -` typed at a prompt would wait for ^D.
    if shutil.which("script") is None:
        pytest.skip("needs script(1) for a terminal")
    command = " ".join(huffkit_command("info", "-"))
    ran = subprocess.run(["script", "-qec", command, "/dev/null"], cwd=tmp_path,
                         stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False)
    assert ran.returncode == 1, ran
    assert ran.stdout.replace(b"\r\n", b"\n") == (
        b"huffkit: error: refusing to read compressed data from a terminal (use -f to force)\n")


# -- 5: the decoding memory limit, --memory --------------------------------------------------

#: What the bombs below decode to: copies of one 4-byte character.
_SMILE = "\U0001F600".encode()


def utf8_bomb(block_size: int) -> bytes:
    """A valid rANS frame of one block of *block_size* copies of one utf8 symbol: 61 bytes,
    built by hand as the library's tests build it."""
    return bomb(block_size=block_size, crc=zlib.crc32(_SMILE * block_size))


def memory_message(name: str, needed: str, symbols: int, limit: str) -> str:
    return (f"{name}: this frame needs {needed} to decode a block ({symbols:,} utf8 symbols), "
            f"over the memory limit of {limit}: use a larger --memory SIZE (--memory none "
            "for no limit)")


@pytest.mark.parametrize("args", [["decompress", "bomb.huf"], ["decompress", "-c", "bomb.huf"],
                                  ["inspect", "bomb.huf"],
                                  ["decompress", "--memory", "771M", "bomb.huf"]])
def test_a_bomb_is_refused_by_default_with_a_message_that_names_the_option(tmp_path, args):
    # 61 bytes that would take 772 MiB to decode (to 256 MiB): refused from the header.
    bomb = utf8_bomb(huffkit.MAX_BLOCK_SIZE)
    assert len(bomb) == 61
    (tmp_path / "bomb.huf").write_bytes(bomb)
    limit = "771 MiB" if "--memory" in args else "128 MiB"
    ran = run(*args, cwd=tmp_path)
    assert_process_error(ran, re.escape(memory_message("bomb.huf", "772 MiB",
                                                       huffkit.MAX_BLOCK_SIZE, limit)))
    assert names(tmp_path) == ["bomb.huf"]


def test_a_bomb_from_standard_input_is_refused(tmp_path):
    ran = subprocess.run(huffkit_command("decompress"), cwd=tmp_path,
                         input=utf8_bomb(huffkit.MAX_BLOCK_SIZE), capture_output=True,
                         timeout=60, check=False)
    assert_process_error(ran, re.escape(memory_message("standard input", "772 MiB",
                                                       huffkit.MAX_BLOCK_SIZE, "128 MiB")))


@pytest.mark.parametrize("memory", ["256M", "200704K", str(196 << 20), "none", "1G"])
@pytest.mark.slow
def test_a_frame_over_the_default_decodes_with_enough_memory(tmp_path, memory):
    # Blocks of 2^24 utf8 symbols need 196 MiB (12 bytes a symbol, 4 MiB of tables).
    symbols = 1 << 24
    (tmp_path / "big.huf").write_bytes(utf8_bomb(symbols))
    refused = run("decompress", "big.huf", cwd=tmp_path)
    assert_process_error(refused, re.escape(memory_message("big.huf", "196 MiB", symbols,
                                                           "128 MiB")))
    ran = run("decompress", "--memory", memory, "big.huf", cwd=tmp_path)
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b"")
    assert (tmp_path / "big").read_bytes() == _SMILE * symbols
    ran = run("inspect", "--memory", memory, "--json", "big.huf", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    ledger = json.loads(ran.stdout)
    assert (ledger["symbols"], ledger["distinct_symbols"]) == (symbols, 1)


def test_info_reads_only_headers_and_needs_no_memory_option(tmp_path):
    (tmp_path / "bomb.huf").write_bytes(utf8_bomb(huffkit.MAX_BLOCK_SIZE))
    ran = run("info", "--blocks", "bomb.huf", cwd=tmp_path)
    assert (ran.returncode, ran.stderr) == (0, b"")
    assert ran.stdout.startswith(b"bomb.huf: 61 bytes, 1 frame, 268,435,456 bytes decompressed")


@pytest.mark.parametrize("command", ["decompress", "inspect"])
@pytest.mark.parametrize("value, message", [
    ("0", "the memory limit must be at least 1 byte (none for no limit)"),
    ("lots", "'lots' is not a size (examples: 512M, 1G, none)"),
    ("-5M", "'-5M' is not a size (examples: 512M, 1G, none)"),
])
def test_a_bad_memory_size_is_a_usage_error(tmp_path, command, value, message):
    (tmp_path / "a.huf").write_bytes(huffkit.compress(TEXT))
    ran = run(command, "--memory", value, "a.huf", cwd=tmp_path)
    metavar = "[FILE]..." if command == "decompress" else "FILE.huf"
    assert (ran.returncode, ran.stdout) == (2, b""), ran.stderr
    assert ran.stderr.decode() == (
        f"Usage: huffkit {command} [OPTIONS] {metavar}\n"
        f"Try 'huffkit {command} -h' for help.\n"
        f"huffkit: error: Invalid value for '--memory': {message}\n")
    assert names(tmp_path) == ["a.huf"]
