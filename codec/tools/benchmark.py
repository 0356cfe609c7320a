"""Speed of huffkit's coders next to zlib's Huffman-only deflate and bitarray's Huffman coder.

``huffkit bench [FILE]...`` (or ``python -m huffkit bench``) runs :func:`measure`
on each file.  Every contender compresses and decompresses the same data in the
same process, the contenders taking turns in every repetition so that all see
the same machine load, and the median speed of each is reported, with its
ratio to zlib's and to bitarray's.  These machines are shared and noisy: read
the ratios, not the absolute speeds.  This is a benchmark, not a test: it
asserts nothing but that every round trip is exact.

The contenders:

* ``huffkit huffman`` and ``huffkit ans``, on one thread and on every core, and
  with ``split=False`` (one thread), so the cost of splitting shows;
* ``zlib-HO``: zlib's deflate with ``Z_HUFFMAN_ONLY`` in the gzip format
  (level 9, memLevel 9), which, like huffkit, carries a header and a CRC-32;
* ``bitarray``: bitarray's canonical Huffman coder (``bitarray.util``), one
  code for the whole data; its size is the payload alone, with no table;
* with ``--anchors PATH`` (:func:`load_anchors`), ``huff0`` and ``FSE``: the C coders behind
  zstd's literals, built and driven by an anchors script such as the project's
  ``../shared/anchors/huff0.py`` (128 KiB blocks, table logs 11 and 12).  They are the
  ceiling huffkit's kernels are measured against: each huffkit Huffman row is also given as
  a multiple of huff0, each rANS row of FSE.

``huffkit bench --stream-memory 1G`` runs :func:`stream_memory` instead: it streams that
much data through ``huffkit compress -c | huffkit decompress -c``, two child processes
joined by a pipe, and reports the peak resident memory of each next to the block size
(streaming should hold a few blocks, whatever the size of the data), their throughput, and
whether what came out is what went in.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._types import Coder
from ..format.layout import DEFAULT_BLOCK_SIZE
from ..kernels import backend
from ..stream.compressor import compress
from ..stream.decompressor import decompress
from ..stream.threads import default_threads

if TYPE_CHECKING:
    from bitarray import bitarray

__all__ = ["BITARRAY", "FSE", "HUFF0", "ZLIB", "Contender", "Measurement", "Speed",
           "StreamMemory", "contenders", "load_anchors", "measure", "report", "stream_memory",
           "stream_report"]

ZLIB = "zlib-HO"
BITARRAY = "bitarray"
HUFF0 = "huff0"
FSE = "FSE"


@dataclass(frozen=True)
class Contender:
    """A way to compress and decompress bytes, by name."""

    # What pack gives is each contender's own (bytes, a tuple of bits and a table, ...),
    # and unpack and size take it back: Any, as the contenders differ.
    name: str
    pack: Callable[[bytes], Any]
    unpack: Callable[[Any], bytes]
    size: Callable[[Any], int] = len


@dataclass(frozen=True)
class Speed:
    """One contender on one file: compressed size, median MB/s (of the original data) each
    way, and those speeds as multiples of zlib-HO's and bitarray's."""

    size: int
    bits_per_byte: float
    compress: float
    decompress: float
    compress_vs_zlib: float
    decompress_vs_zlib: float
    compress_vs_bitarray: float
    decompress_vs_bitarray: float
    # With anchors: the anchor of the same kind (huff0 for Huffman, FSE for rANS), and the
    # speeds as multiples of its; None for a contender with none, or without anchors.
    anchor: str | None = None
    compress_vs_anchor: float | None = None
    decompress_vs_anchor: float | None = None


@dataclass(frozen=True)
class Measurement:
    """Every contender on one file."""

    name: str
    size: int
    repeat: int
    speeds: dict[str, Speed]

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.name, "bytes": self.size, "repeat": self.repeat,
                "contenders": {name: asdict(speed) for name, speed in self.speeds.items()}}


def _gzip_huffman_only(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_HUFFMAN_ONLY)
    return compressor.compress(data) + compressor.flush()


def _bitarray_pack(data: bytes) -> tuple[bitarray, list[int], list[int]]:
    from bitarray import bitarray
    from bitarray.util import canonical_huffman

    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    frequencies: dict[int, int | float] = {
        value: int(count) for value, count in enumerate(counts.tolist()) if count}
    if len(frequencies) < 2:  # bitarray needs two symbols for a code
        frequencies[(next(iter(frequencies), 0) + 1) % 256] = 1
    code, count, symbols = canonical_huffman(frequencies)
    bits = bitarray(endian="big")
    bits.encode(code, data)
    return bits, count, symbols


def _bitarray_unpack(packed: tuple[bitarray, list[int], list[int]]) -> bytes:
    from bitarray.util import canonical_decode

    bits, count, symbols = packed
    return bytes(canonical_decode(bits, count, symbols))


def contenders(threads: int | None = None) -> list[Contender]:
    """huffkit's coders (one thread, then *threads*: all cores by default, then without
    splitting blocks where the data changes), zlib-HO and bitarray."""
    cores = default_threads() if threads is None else threads
    found = []
    for coder in ("huffman", "ans"):
        for count in dict.fromkeys((1, cores)):
            label = f"huffkit {coder}" + ("" if count == 1 else f" x{count}")
            found.append(Contender(label,
                                   functools.partial(compress, coder=coder, threads=count),
                                   functools.partial(decompress, threads=count)))
        found.append(Contender(f"huffkit {coder} no-split",
                               functools.partial(compress, coder=coder, split=False),
                               decompress))
    found.append(Contender(ZLIB, _gzip_huffman_only, functools.partial(zlib.decompress, wbits=31)))
    found.append(Contender(BITARRAY, _bitarray_pack, _bitarray_unpack,
                           size=lambda packed: (len(packed[0]) + 7) // 8))
    return found


def load_anchors(path: str) -> list[Contender]:
    """huff0 and FSE as contenders, from an anchors script at *path*.

    The script (``../shared/anchors/huff0.py`` beside a checkout) builds its C library once
    and offers ``load()``, whose result has ``compress(name, data)`` and
    ``decompress(name, blob, size)`` for the names ``"huf"`` and ``"fse"``.  It is loaded
    from its path, not installed: the anchors are a yardstick, not part of huffkit.
    """
    spec = importlib.util.spec_from_file_location("huffkit_bench_anchors", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: not a Python file of anchors")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        anchors = module.load()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such anchors script") from None
    except (AttributeError, OSError, subprocess.CalledProcessError) as error:
        raise ValueError(f"{path}: could not load the anchors ({error})") from None
    found = []
    for label, name in ((HUFF0, "huf"), (FSE, "fse")):
        # The size travels with the blob, as huffkit's and zlib's formats carry theirs.
        found.append(Contender(
            label,
            functools.partial(lambda name, data: (anchors.compress(name, data), len(data)),
                              name),
            functools.partial(lambda name, packed: anchors.decompress(name, *packed), name),
            size=lambda packed: len(packed[0])))
    return found


def _anchor_of(name: str, anchors: set[str]) -> str | None:
    """The anchor a contender is measured against: huff0 for Huffman, FSE for rANS."""
    kind = HUFF0 if name.startswith("huffkit huffman") else (
        FSE if name.startswith("huffkit ans") else None)
    return kind if kind in anchors else None


def _seconds(function: Callable[[Any], object], argument: object) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def measure(data: bytes, *, name: str = "data", repeat: int = 7, threads: int | None = None,
            anchors: Sequence[Contender] = ()) -> Measurement:
    """Time every contender (and *anchors*, from :func:`load_anchors`) on *data*, taking
    turns, *repeat* times; medians."""
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    if not data:
        raise ValueError(f"{name}: cannot measure speed on empty data")
    players = [*contenders(threads), *anchors]
    anchor_names = {player.name for player in anchors}
    packed = {player.name: player.pack(data) for player in players}
    for player in players:
        if player.unpack(packed[player.name]) != data:
            raise RuntimeError(f"{player.name}: a round trip failed on {name}")
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeat):
        for player in players:
            times.setdefault((player.name, "c"), []).append(_seconds(player.pack, data))
            times.setdefault((player.name, "d"), []).append(
                _seconds(player.unpack, packed[player.name]))
    speed = {key: len(data) / statistics.median(values) / 1e6 for key, values in times.items()}
    speeds = {}
    for player in players:
        size = player.size(packed[player.name])
        c, d = speed[player.name, "c"], speed[player.name, "d"]
        anchor = _anchor_of(player.name, anchor_names)
        speeds[player.name] = Speed(
            size=size, bits_per_byte=8 * size / len(data), compress=c, decompress=d,
            compress_vs_zlib=c / speed[ZLIB, "c"], decompress_vs_zlib=d / speed[ZLIB, "d"],
            compress_vs_bitarray=c / speed[BITARRAY, "c"],
            decompress_vs_bitarray=d / speed[BITARRAY, "d"], anchor=anchor,
            compress_vs_anchor=None if anchor is None else c / speed[anchor, "c"],
            decompress_vs_anchor=None if anchor is None else d / speed[anchor, "d"])
    return Measurement(name, len(data), repeat, speeds)


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The processor's name, as the system gives it, with its x86 family and model numbers
    when it names them (a speed figure means little without the processor)."""
    fields: dict[str, str] = {}
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = (fields.get("model name") or fields.get("Model") or fields.get("Hardware")
            or platform.processor() or platform.machine() or "an unknown processor")
    if fields.get("cpu family") and fields.get("model"):
        return f"{name} (family {fields['cpu family']}, model {fields['model']})"
    return name


def machine() -> str:
    """The backend (with the compiler of the kernels), the processor and its cores."""
    return f"huffkit {backend.describe()}; {cpu_model()}, {default_threads()} cores"


def report(measurements: list[Measurement]) -> str:
    """The measurements as a table, with the machine and backend they were taken on.

    Every column is as wide as its widest cell, so that no figure (a 10x ratio, a
    large file's size) pushes the columns after it out of line.
    """
    anchored = any(s.anchor for m in measurements for s in m.speeds.values())

    def versus(ratio: float | None, anchor: str | None) -> list[str]:
        if not anchored:
            return []
        return [""] if anchor is None or ratio is None else [f"{ratio:.2f} {anchor:<5}"]

    each_way = ["x zlib", "x bitarray", *(["x anchor"] if anchored else [])]
    header = ["file", "contender", "bytes", "bits/B", "compress MB/s", *each_way,
              "decompress MB/s", *each_way]
    rows = [header]
    for m in measurements:
        for label, s in m.speeds.items():
            rows.append([m.name, label, f"{s.size:,}", f"{s.bits_per_byte:.3f}",
                         f"{s.compress:.1f}", f"{s.compress_vs_zlib:.2f}",
                         f"{s.compress_vs_bitarray:.2f}",
                         *versus(s.compress_vs_anchor, s.anchor),
                         f"{s.decompress:.1f}", f"{s.decompress_vs_zlib:.2f}",
                         f"{s.decompress_vs_bitarray:.2f}",
                         *versus(s.decompress_vs_anchor, s.anchor)])
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    # A wider gap before each direction's speeds sets the two groups apart.
    wide = {header.index("compress MB/s"), header.index("decompress MB/s")}
    lines = [f"{machine()}; medians of {measurements[0].repeat if measurements else 0} "
             "alternating runs",
             ""]
    for row in rows:
        cells = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            gap = "" if column == 0 else "   " if column in wide else " "
            cells.append(gap + (f"{cell:<{width}}" if column < 2 else f"{cell:>{width}}"))
        lines.append("".join(cells).rstrip())
    lines += ["",
              "MB/s: megabytes of original data per second.  zlib-HO: gzip-format deflate with "
              "Z_HUFFMAN_ONLY;",
              "bitarray: its canonical Huffman coder, payload only (no table, no checksum)."]
    if anchored:
        lines.append("x anchor: huffkit's Huffman rows against huff0, its rANS rows against FSE "
                     "(zstd's coders, 128 KiB blocks).")
    return "\n".join(lines)


# -- memory while streaming -------------------------------------------------------------------


@dataclass(frozen=True)
class StreamMemory:
    """One run of ``huffkit compress -c | huffkit decompress -c``: sizes in bytes."""

    coder: Coder
    size: int  # the data streamed through
    block_size: int
    threads: int  # each side's -T
    seconds: float  # from the first byte written to the last read
    compressor_rss: int  # peak resident memory of each child
    decompressor_rss: int
    idle_rss: int  # of a huffkit process that only starts (``huffkit --version``)
    matched: bool  # the output's length and CRC-32 are the input's

    @property
    def mb_per_s(self) -> float:
        return self.size / self.seconds / 1e6

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mb_per_s": self.mb_per_s}


def _huffkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "huffkit", *args]


def _reap(process: subprocess.Popen[bytes]) -> tuple[int, int]:
    """Wait for *process*: its exit status and peak resident memory in bytes."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def stream_memory(sample: bytes, size: int, *, coder: Coder = "huffman",
                  block_size: int = DEFAULT_BLOCK_SIZE, threads: int | None = None,
                  ) -> StreamMemory:
    """Stream *size* bytes (*sample*, repeated) through ``huffkit compress -c | huffkit
    decompress -c``, each side a child process; measure their peak memory and the
    throughput, and check the output against the input by length and CRC-32.

    The data is made as it is written and checked as it is read, so this process holds
    none of it.  Raises ``RuntimeError`` if a child fails.
    """
    if not sample:
        raise ValueError("the sample must not be empty")
    threads = default_threads() if threads is None else threads
    idle = subprocess.Popen(_huffkit("--version"), stdout=subprocess.DEVNULL)
    idle_rss = _reap(idle)[1]
    shared = ["-T", str(threads)]
    compressor = subprocess.Popen(_huffkit("compress", "-c", "--coder", coder, "--block-size",
                                           str(block_size), *shared),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    decompressor = subprocess.Popen(_huffkit("decompress", "-c", *shared),
                                    stdin=compressor.stdout, stdout=subprocess.PIPE)
    # (Both pipes, asked for above.)
    assert compressor.stdin is not None and compressor.stdout is not None
    assert decompressor.stdout is not None
    stdin, stdout = compressor.stdin, decompressor.stdout
    compressor.stdout.close()  # the decompressor's now: it sees the end when the compressor ends
    written = {"crc": 0}

    def feed() -> None:
        left, crc = size, 0
        with memoryview(sample) as view:
            try:
                while left:
                    piece = view[:min(left, len(view))]
                    stdin.write(piece)
                    crc = zlib.crc32(piece, crc)
                    left -= len(piece)
            except BrokenPipeError:  # the compressor failed: reported below
                pass
            finally:
                written["crc"] = crc
                stdin.close()

    start = time.perf_counter()
    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    crc = received = 0
    while chunk := stdout.read(1 << 20):
        crc = zlib.crc32(chunk, crc)
        received += len(chunk)
    writer.join()
    seconds = time.perf_counter() - start
    stdout.close()
    compressor_status, compressor_rss = _reap(compressor)
    decompressor_status, decompressor_rss = _reap(decompressor)
    if compressor_status or decompressor_status:
        raise RuntimeError(f"huffkit compress exited with {compressor_status}, huffkit "
                           f"decompress with {decompressor_status}")
    return StreamMemory(coder, size, block_size, threads, seconds, compressor_rss,
                        decompressor_rss, idle_rss,
                        matched=(received, crc) == (size, written["crc"]))


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def stream_report(runs: list[StreamMemory], source: str) -> str:
    """The runs as a table: peak memory of each side, above an idle huffkit in blocks."""
    if not runs:
        return ""
    first = runs[0]
    lines = [machine(),
             f"streaming {_mib(first.size)} ({source}) through huffkit compress -c | "
             f"huffkit decompress -c, block size {_mib(first.block_size)}, -T {first.threads}",
             f"idle huffkit process (huffkit --version): {_mib(first.idle_rss)} resident",
             "",
             f"{'coder':<8} {'MB/s':>7}   {'compressor peak RSS':>30}   "
             f"{'decompressor peak RSS':>30}   output"]

    def side(rss: int, run: StreamMemory) -> str:
        blocks = (rss - run.idle_rss) / run.block_size
        return f"{_mib(rss)} (idle + {blocks:.1f} blocks)"

    for run in runs:
        lines.append(f"{run.coder:<8} {run.mb_per_s:>7.1f}   {side(run.compressor_rss, run):>30}"
                     f"   {side(run.decompressor_rss, run):>30}   "
                     f"{'matched' if run.matched else 'DIFFERS'}")
    lines += ["", "MB/s: megabytes of original data per second through both processes; RSS: "
              "ru_maxrss of each child."]
    return "\n".join(lines)
