"""One compressor or decompressor used from several threads: calls are serialised, as in bz2
and lzma, so that the output is that of the calls in the order they took effect.

Before, their state was shared unguarded: threads hammering one object raised internal
errors ("the pieces' ends must increase", numpy reductions over a half-built block) or wrote
a frame whose end counted the wrong number of bytes.

The order in which the calls took effect is recorded from inside them (the private method
each public call runs under the lock): the threads' own order of return is not that order.
"""

from __future__ import annotations

import collections
import threading

import numpy as np
import pytest

import huffkit

THREADS = 4
CALLS = 40


def _chunks() -> list[bytes]:
    """Distinct chunks of varied lengths and statistics, none a multiple of the block size."""
    rng = np.random.default_rng(11)
    chunks = []
    for index in range(THREADS * CALLS):
        length = int(rng.integers(1, 9000))
        alphabet = int(rng.integers(2, 200))
        body = rng.integers(0, alphabet, length, dtype=np.uint8).tobytes()
        chunks.append(index.to_bytes(2, "big") + body)
    return chunks


def _hammer(work, per_thread: list[list]) -> list[BaseException]:
    """Run work(item) for each thread's items, all threads started together; the errors."""
    barrier = threading.Barrier(len(per_thread))
    errors: list[BaseException] = []

    def run(items):
        barrier.wait()
        for item in items:
            try:
                work(item)
            except BaseException as error:  # every error is a failure here
                errors.append(error)

    threads = [threading.Thread(target=run, args=(items,)) for items in per_thread]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.parametrize(("coder", "split"), [("huffman", True), ("ans", True),
                                              ("huffman", False)])
def test_one_compressor_many_threads(monkeypatch, coder, split):
    chunks = _chunks()
    compressor = huffkit.HuffmanCompressor(block_size=4096, coder=coder, split=split)
    taken = []  # (the call's data, its output), in the order the calls took effect
    inner = huffkit.HuffmanCompressor._compress_parts

    def recording(self, data):
        parts = inner(self, data)
        taken.append((data, b"".join(bytes(part) for part in parts)))
        return parts

    monkeypatch.setattr(huffkit.HuffmanCompressor, "_compress_parts", recording)
    returned = {}

    def call(chunk):
        returned[chunk] = compressor.compress(chunk)

    errors = _hammer(call, [chunks[k::THREADS] for k in range(THREADS)])
    assert errors == []
    tail = compressor.flush()
    # Every call took effect once, whole, and returned its own output.
    assert collections.Counter(data for data, _ in taken) == collections.Counter(chunks)
    assert all(returned[data] == output for data, output in taken)
    # The frame is the calls' outputs in the order they took effect: their data in that order.
    frame = b"".join(output for _, output in taken) + tail
    assert huffkit.decompress(frame) == b"".join(data for data, _ in taken)


@pytest.mark.parametrize("threads", [1, 2])
def test_one_decompressor_many_threads(monkeypatch, threads):
    original = b"".join(_chunks())
    packed = huffkit.compress(original, block_size=4096)
    decompressor = huffkit.HuffmanDecompressor(threads=threads)
    assert decompressor.decompress(packed, max_length=0) == b""  # all the input, no output
    handed = []  # the outputs, in the order the calls took effect
    inner = huffkit.HuffmanDecompressor._decompress_call

    def recording(self, data, max_length):
        output = inner(self, data, max_length)
        handed.append(output)
        return output

    monkeypatch.setattr(huffkit.HuffmanDecompressor, "_decompress_call", recording)
    ended = []

    def call(size):
        if decompressor.eof:
            return
        try:
            decompressor.decompress(b"", max_length=size)
        except EOFError:  # another thread reached the end first: the stdlib's error
            ended.append(size)

    sizes = [1, 7, 100, 3000, 5000] * 200
    errors = _hammer(call, [sizes[k::THREADS] for k in range(THREADS)])
    assert errors == []
    assert decompressor.eof
    assert b"".join(handed) == original


def test_compressor_flushed_by_one_thread_refuses_the_others():
    compressor = huffkit.HuffmanCompressor()
    head = compressor.compress(b"data")
    outcomes = []

    def call(_):
        try:
            outcomes.append(compressor.flush())
        except ValueError as error:
            outcomes.append(str(error))

    assert _hammer(call, [[0]] * THREADS) == []
    frames = [outcome for outcome in outcomes if isinstance(outcome, bytes)]
    assert len(frames) == 1
    assert sorted(outcome for outcome in outcomes if isinstance(outcome, str)) == [
        "Repeated call to flush()"] * (THREADS - 1)
    assert huffkit.decompress(head + frames[0]) == b"data"
