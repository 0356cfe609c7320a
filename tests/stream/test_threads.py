"""Threads code blocks in parallel: the output never depends on how many there are."""

from __future__ import annotations

import io
import multiprocessing
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import corpus_files, requires_corpora
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.corpora
from huffkit.stream import threads as thread_pool
from huffkit.stream.threads import MAX_THREADS, check_threads, default_threads

THREADS = (1, 2, 3, None)
CODERS = ("huffman", "ans")


def english() -> bytes:
    return huffkit.corpora.path("english.txt").read_bytes()


@pytest.mark.usefixtures("each_backend")
@pytest.mark.parametrize("alphabet", ["bytes", "utf8", "pairs"])
@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.slow
def test_compress_is_the_same_on_any_number_of_threads(coder, alphabet):
    data = english() + huffkit.corpora.path("korean.txt").read_bytes()
    packed = {threads: huffkit.compress(data, coder=coder, alphabet=alphabet, block_size=2000,
                                        threads=threads) for threads in THREADS}
    assert len(set(packed.values())) == 1
    assert len(huffkit.frame_info(packed[1])[0].blocks) > 10  # many blocks to share out
    for threads in THREADS:
        assert huffkit.decompress(packed[1], threads=threads) == data


@requires_corpora
@pytest.mark.parametrize("path", [path for path in corpus_files()
                                  if path.name in ("bible.txt", "kennedy.xls", "ptt5")],
                         ids=lambda path: path.name)
def test_corpora_on_two_threads(path):
    data = path.read_bytes()
    packed = huffkit.compress(data, block_size=1 << 18)
    assert huffkit.compress(data, block_size=1 << 18, threads=2) == packed
    assert huffkit.decompress(packed, threads=2) == data


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=4000), block_size=st.integers(1, 600),
       threads=st.integers(2, 5), coder=st.sampled_from(CODERS))
def test_property_threads_change_nothing(data, block_size, threads, coder):
    packed = huffkit.compress(data, block_size=block_size, coder=coder)
    assert huffkit.compress(data, block_size=block_size, coder=coder, threads=threads) == packed
    assert huffkit.decompress(packed, threads=threads) == data


def test_incremental_compression_on_threads():
    data = english() * 3
    whole = huffkit.compress(data, block_size=1000)
    compressor = huffkit.HuffmanCompressor(block_size=1000, threads=3)
    pieces = [compressor.compress(data[start:start + 7777])
              for start in range(0, len(data), 7777)]
    assert b"".join(pieces) + compressor.flush() == whole


@pytest.mark.parametrize("piece", [1, 100, 5000, 1 << 20])
def test_incremental_decompression_on_threads(piece):
    data = english() * 3
    packed = huffkit.compress(data, block_size=1000) * 2  # two frames
    decompressor = huffkit.HuffmanDecompressor(threads=3)
    out, rest = [], packed
    while not decompressor.eof:
        out.append(decompressor.decompress(rest[:piece], max_length=3000))
        rest = rest[piece:]
        assert len(out[-1]) <= 3000
    out.append(b"")
    assert b"".join(out) == data
    assert decompressor.unused_data + rest == packed[len(packed) // 2:]


def test_errors_are_those_of_one_thread():
    # The first damaged block, in order, is the one reported, whichever thread found it.
    data = english()
    packed = huffkit.compress(data, block_size=500)
    blocks = huffkit.frame_info(packed)[0].blocks
    for number in (1, 5, len(blocks)):
        block = blocks[number - 1]
        damaged = bytearray(packed)
        damaged[block.offset + block.size - 1] ^= 0x01  # the last byte of its last stream
        later = blocks[-1]
        damaged[later.offset + later.size - 2] ^= 0x10  # and a later block too
        errors = set()
        for threads in (1, 2, 4):
            with pytest.raises(huffkit.HuffmanError) as caught:
                huffkit.decompress(bytes(damaged), threads=threads)
            errors.add((type(caught.value), str(caught.value)))
        assert len(errors) == 1
        ((_kind, message),) = errors
        assert message.startswith(f"block {number}: "), message


def test_truncated_input_fails_alike():
    packed = huffkit.compress(english(), block_size=500)
    for cut in (len(packed) // 3, len(packed) - 10):
        messages = set()
        for threads in (1, 3):
            with pytest.raises(huffkit.TruncatedError) as caught:
                huffkit.decompress(packed[:cut], threads=threads)
            messages.add(str(caught.value))
        assert len(messages) == 1


def test_files_on_threads(tmp_path):
    data = english() * 2
    path = tmp_path / "english.huf"
    with huffkit.HuffmanFile(path, "wb", block_size=1000, threads=2) as stream:
        stream.write(data)
    assert path.read_bytes() == huffkit.compress(data, block_size=1000)
    with huffkit.open(path, "rb", threads=2) as stream:
        assert stream.read(10) == data[:10]
        assert stream.read() == data[10:]
    with huffkit.HuffmanFile(io.BytesIO(path.read_bytes()), threads=None) as stream:
        assert stream.read() == data


def test_thread_counts_are_checked():
    assert check_threads(None) == default_threads() >= 1
    assert check_threads(3) == 3
    assert check_threads(MAX_THREADS) == MAX_THREADS == 256
    with pytest.raises(TypeError, match="threads must be an int or None, not str"):
        huffkit.decompress(huffkit.compress(b"x"), threads="2")
    with pytest.raises(TypeError, match="threads must be an int or None, not bool"):
        huffkit.HuffmanCompressor(threads=True)


def _every_entry_point(threads) -> list:
    """Call each public function that takes threads=; the errors they raise."""
    packed = huffkit.compress(b"abc")
    calls = [lambda: huffkit.compress(b"abc", threads=threads),
             lambda: huffkit.decompress(packed, threads=threads),
             lambda: huffkit.HuffmanCompressor(threads=threads),
             lambda: huffkit.HuffmanDecompressor(threads=threads),
             lambda: huffkit.open(io.BytesIO(packed), "rb", threads=threads),
             lambda: huffkit.open(io.BytesIO(), "wb", threads=threads)]
    errors = []
    for call in calls:
        with pytest.raises(Exception) as caught:
            call()
        errors.append(caught.value)
    return errors


# Issue 15, finding 8: threads=2**63 raised OverflowError from deep inside, and -T 0 was
# refused where zstd and xz read it as "every core".
@pytest.mark.parametrize(("threads", "kind", "message"), [
    (2**63, ValueError, "threads must be at most 256, got 9223372036854775808"),
    (MAX_THREADS + 1, ValueError, "threads must be at most 256, got 257"),
    pytest.param(10**5000, ValueError,
                 "threads must be at most 256, got an integer of 16610 bits", id="10**5000"),
    (-1, ValueError, "threads must be at least 0 (0: one per core), got -1"),
    pytest.param(-2**200, ValueError, "threads must be at least 0 (0: one per core), got a "
                                      "negative integer of 201 bits", id="-2**200"),
    (True, TypeError, "threads must be an int or None, not bool"),
    (False, TypeError, "threads must be an int or None, not bool"),
    (2.0, TypeError, "threads must be an int or None, not float"),
    (float("inf"), TypeError, "threads must be an int or None, not float"),
    ("4", TypeError, "threads must be an int or None, not str"),
])
def test_bad_thread_counts_are_refused_clearly(threads, kind, message):
    with pytest.raises(kind) as caught:
        check_threads(threads)
    assert (type(caught.value), str(caught.value)) == (kind, message)
    for error in _every_entry_point(threads):
        assert (type(error), str(error)) == (kind, message)


def test_zero_threads_means_one_per_core(monkeypatch):
    assert check_threads(0) == check_threads(None) == default_threads() >= 1
    data = english()
    packed = huffkit.compress(data, block_size=4000)
    assert huffkit.compress(data, block_size=4000, threads=0) == packed
    assert huffkit.decompress(packed, threads=0) == data
    with huffkit.open(io.BytesIO(packed), "rb", threads=0) as stream:
        assert stream.read() == data
    # On a machine of more cores than MAX_THREADS, "every core" is MAX_THREADS.
    monkeypatch.setattr(thread_pool, "default_threads", lambda: 1000)
    assert check_threads(0) == check_threads(None) == MAX_THREADS


def test_the_most_threads_allowed_work():
    data = english()
    packed = huffkit.compress(data, block_size=2000)
    assert huffkit.compress(data, block_size=2000, threads=MAX_THREADS) == packed
    assert huffkit.decompress(packed, threads=MAX_THREADS) == data


def test_cli_threads(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import huffkit.cli

    monkeypatch.chdir(tmp_path)
    data = english() * 4
    (tmp_path / "text").write_bytes(data)
    runner = CliRunner()
    outputs = []
    for threads in ("1", "3"):
        result = runner.invoke(huffkit.cli.main, ["compress", "-T", threads, "--block-size",
                                                  "4K", "-c", "text"], catch_exceptions=False)
        assert result.exit_code == 0
        outputs.append(result.stdout_bytes)
    assert outputs[0] == outputs[1] == huffkit.compress(data, block_size=4096)
    (tmp_path / "text.huf").write_bytes(outputs[0])
    result = runner.invoke(huffkit.cli.main, ["decompress", "--threads", "2", "-c", "text.huf"],
                           catch_exceptions=False)
    assert (result.exit_code, result.stdout_bytes) == (0, data)


# -- one pool (issue 15, finding 18: a pool per thread count, never shut down, left 234
# threads alive after threads=2..33) ----------------------------------------------------


@pytest.fixture
def fresh_pool():
    """Each test starts with no pool and leaves none behind."""
    thread_pool.shutdown()
    _wait_for_workers(0)
    yield
    thread_pool.shutdown()


def _workers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate()
            if thread.name.startswith(thread_pool.THREAD_NAME_PREFIX + "_")]


def _wait_for_workers(most: int) -> int:
    """How many workers are alive, once at most *most* are (a replaced pool's workers exit
    as soon as they see it is shut down), or after ten seconds."""
    deadline = time.monotonic() + 10
    while len(_workers()) > most and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(_workers())


def test_thread_counts_share_one_pool(fresh_pool):
    data = english()
    packed = huffkit.compress(data, block_size=1000)
    for threads in range(2, 34):
        assert huffkit.compress(data, block_size=1000, threads=threads) == packed
        assert huffkit.decompress(packed, threads=threads) == data
    assert _wait_for_workers(33) <= 33
    # A smaller count later uses the same pool: no new pool, and no new workers while
    # enough of the pool's are idle (it starts one only when none is).
    alive = set(_workers())
    assert huffkit.compress(data, block_size=1000, threads=5) == packed
    assert len(_workers()) <= 33
    if len(alive) >= 5:
        assert set(_workers()) <= alive


def test_the_pool_shuts_down_and_comes_back(fresh_pool):
    assert thread_pool.map_in_order(abs, range(-50, 0), 4) == list(range(50, 0, -1))
    assert 1 <= len(_workers()) <= 4
    thread_pool.shutdown()
    assert _wait_for_workers(0) == 0
    assert thread_pool.map_in_order(abs, range(-50, 0), 3) == list(range(50, 0, -1))


class _Concurrency:
    """Calls that sleep a little, counting how many run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = self.calls = 0

    def __call__(self, item: int) -> int:
        with self.lock:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        time.sleep(0.005)
        with self.lock:
            self.running -= 1
        return item * item


def test_a_smaller_count_runs_no_more_at_once_in_a_larger_pool(fresh_pool):
    assert thread_pool.map_in_order(abs, range(-100, 0), 12) == list(range(100, 0, -1))
    for threads in (3, 1, 2):
        counted = _Concurrency()
        assert thread_pool.map_in_order(counted, range(40), threads) == [i * i for i in range(40)]
        assert counted.calls == 40
        assert counted.most <= threads


def test_concurrent_callers_with_different_counts(fresh_pool):
    data = english()
    counts = (2, 7, 3, 12, 5, 1)
    packed = {size: huffkit.compress(data, block_size=size) for size in (700, 1100, 1600)}
    failures: list = []
    most: dict[int, int] = {}

    def caller(threads: int) -> None:
        try:
            for round_ in range(3):
                size = (700, 1100, 1600)[(threads + round_) % 3]
                assert huffkit.compress(data, block_size=size, threads=threads) == packed[size]
                assert huffkit.decompress(packed[size], threads=threads) == data
            counted = _Concurrency()
            assert thread_pool.map_in_order(counted, range(60), threads) == [
                i * i for i in range(60)]
            most[threads] = counted.most
        except BaseException as error:  # reported by the test, in the main thread
            failures.append((threads, error))

    callers = [threading.Thread(target=caller, args=(threads,)) for threads in counts]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(120)
    assert failures == []
    assert sorted(most) == sorted(counts)
    assert all(most[threads] <= threads for threads in counts), most
    assert _wait_for_workers(max(counts)) <= max(counts)


def test_work_running_when_the_pool_grows_completes(fresh_pool):
    release = threading.Event()
    started = threading.Event()

    def slow(item: int) -> int:
        started.set()
        release.wait(30)
        return -item

    futures = [thread_pool.submit(slow, item, 2) for item in range(6)]
    started.wait(30)
    # A larger count replaces the pool while the two calls above run and four wait.
    assert thread_pool.map_in_order(abs, range(-30, 0), 9) == list(range(30, 0, -1))
    release.set()
    assert thread_pool.results_in_order(futures) == [0, -1, -2, -3, -4, -5]
    assert _wait_for_workers(9) <= 9


def test_errors_come_back_in_order_once_every_call_is_over(fresh_pool):
    counted = _Concurrency()

    def failing(item: int) -> int:
        counted(item)
        if item in (7, 3):
            raise KeyError(item)
        return item

    with pytest.raises(KeyError) as caught:
        thread_pool.map_in_order(failing, range(20), 4)
    assert caught.value.args == (3,)
    assert counted.calls == 20 and counted.running == 0


def test_a_cancelled_waiting_call_never_runs(fresh_pool):
    release = threading.Event()
    ran: list[int] = []

    def call(item: int) -> int:
        ran.append(item)
        release.wait(30)
        return item

    first = thread_pool.submit(call, 1, 1)
    second = thread_pool.submit(call, 2, 1)  # waits for its turn: one at a time
    assert second.cancel()
    third = thread_pool.submit(call, 3, 1)
    release.set()
    assert (first.result(30), third.result(30)) == (1, 3)
    assert second.cancelled() and ran == [1, 3]


def _compress_in_child(queue) -> None:
    queue.put(huffkit.compress(english(), block_size=1000, threads=3))


def test_a_forked_child_has_a_pool_of_its_own(fresh_pool):
    # The parent's workers do not exist in a child: its pool would queue work for no one.
    packed = huffkit.compress(english(), block_size=1000, threads=3)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_compress_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=60) == packed
    finally:
        child.join(60)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0


def test_the_interpreter_exits_once_the_work_in_hand_is_done(tmp_path):
    # The workers are joined at exit, after the calls they were given: none is cut short,
    # and none is left running.
    code = textwrap.dedent("""
        import atexit, threading, time
        from huffkit.stream import threads as thread_pool

        leaving = threading.Event()
        done = []
        # atexit's functions run after the interpreter has joined its threads.
        atexit.register(lambda: print("at exit", sorted(done)))

        def slow(item):
            leaving.wait()
            time.sleep(0.05)
            done.append(item)

        for item in range(6):
            thread_pool.submit(slow, item, 3)
        thread_pool.submit(slow, 6, 5)  # the pool is replaced by one of five workers
        print("leaving", done)
        leaving.set()
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "leaving []\nat exit [0, 1, 2, 3, 4, 5, 6]\n"
