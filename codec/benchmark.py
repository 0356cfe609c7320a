"""Speed of huffkit's coders next to zlib's Huffman-only deflate, measured in one process.

Run ``python -m huffkit.benchmark [FILE]... [--repeat N] [--coder huffman|ans]...``.
For each file it times compress and decompress for each huffkit coder and for
zlib (``Z_HUFFMAN_ONLY``, raw deflate), alternating them in every repetition
so that all see the same machine load, and prints the median MB/s of each
with its ratio to zlib.  These machines are shared and noisy: read the
ratios, not the absolute speeds.  This is a benchmark, not a test: it
asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._stream import compress, decompress

__all__ = ["Measurement", "Speed", "measure"]

ZLIB = "zlib-HO"


@dataclass(frozen=True)
class Speed:
    """One contender on one file: its compressed size and median MB/s of original data."""

    size: int
    compress: float
    decompress: float


@dataclass(frozen=True)
class Measurement:
    """Every contender on one file, zlib's Huffman-only deflate among them."""

    name: str
    size: int
    speeds: dict[str, Speed]


def _zlib_compress(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_HUFFMAN_ONLY)
    return compressor.compress(data) + compressor.flush()


def _zlib_decompress(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def _seconds(function: Callable[[bytes], bytes], argument: bytes) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def measure(data: bytes, *, name: str = "data", repeat: int = 7,
            coders: tuple[str, ...] = ("huffman",)) -> Measurement:
    """Time each huffkit coder and zlib Huffman-only on *data*, alternating, *repeat* times."""
    codecs: dict[str, tuple[Callable, Callable]] = {
        f"huffkit-{coder}": (functools.partial(compress, coder=coder), decompress)
        for coder in coders}
    codecs[ZLIB] = (_zlib_compress, _zlib_decompress)
    packed = {label: pack(data) for label, (pack, _) in codecs.items()}
    for label, (_, unpack) in codecs.items():
        if unpack(packed[label]) != data:
            raise RuntimeError(f"{label}: a round trip failed")
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(repeat):
        for label, (pack, unpack) in codecs.items():
            times.setdefault((label, "c"), []).append(_seconds(pack, data))
            times.setdefault((label, "d"), []).append(_seconds(unpack, packed[label]))
    speed = {key: len(data) / statistics.median(values) / 1e6 for key, values in times.items()}
    return Measurement(name, len(data), {
        label: Speed(len(packed[label]), speed[label, "c"], speed[label, "d"])
        for label in codecs})


def _report(measurements: list[Measurement]) -> str:
    lines = [f"{'file':<14} {'contender':<16} {'bytes':>10}   {'compress MB/s':>13} "
             f"{'ratio':>6}   {'decompress MB/s':>15} {'ratio':>6}"]
    for m in measurements:
        base = m.speeds[ZLIB]
        for label, s in m.speeds.items():
            lines.append(f"{m.name:<14} {label:<16} {s.size:>10,}   {s.compress:>13.1f} "
                         f"{s.compress / base.compress:>6.2f}   {s.decompress:>15.1f} "
                         f"{s.decompress / base.decompress:>6.2f}")
    lines.append("(ratio: the contender's speed / zlib-HO's, medians of alternating runs)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m huffkit.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (default 7)")
    parser.add_argument("--coder", action="append", choices=["huffman", "ans"],
                        help="huffkit coders to time (default: both)")
    arguments = parser.parse_args(argv)
    coders = tuple(dict.fromkeys(arguments.coder or ["huffman", "ans"]))
    measurements = [measure(path.read_bytes(), name=path.name, repeat=arguments.repeat,
                            coders=coders) for path in arguments.files]
    print(_report(measurements))


if __name__ == "__main__":
    main()
