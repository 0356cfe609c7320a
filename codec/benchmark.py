"""Speed of huffkit next to zlib's Huffman-only deflate, measured in one process.

Run ``python -m huffkit.benchmark [FILE]... [--repeat N]``.  For each file it
times compress and decompress for huffkit and for zlib
(``Z_HUFFMAN_ONLY``, raw deflate), alternating the two in every repetition so
both see the same machine load, and prints the median MB/s of each with the
ratio huffkit/zlib.  These machines are shared and noisy: read the ratios,
not the absolute speeds.  This is a benchmark, not a test: it asserts
nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ._stream import compress, decompress

__all__ = ["Measurement", "measure"]


@dataclass(frozen=True)
class Measurement:
    """Median speeds (MB/s of original data) and sizes for one file."""

    name: str
    size: int
    huffkit_size: int
    zlib_size: int
    huffkit_compress: float
    huffkit_decompress: float
    zlib_compress: float
    zlib_decompress: float


def _zlib_compress(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_HUFFMAN_ONLY)
    return compressor.compress(data) + compressor.flush()


def _zlib_decompress(data: bytes) -> bytes:
    return zlib.decompress(data, -15)


def _seconds(function: Callable[[bytes], bytes], argument: bytes) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def measure(data: bytes, *, name: str = "data", repeat: int = 7) -> Measurement:
    """Time huffkit and zlib Huffman-only on *data*, alternating, *repeat* times each."""
    packed = compress(data)
    zlib_packed = _zlib_compress(data)
    if decompress(packed) != data or _zlib_decompress(zlib_packed) != data:
        raise RuntimeError("a round trip failed")
    times: dict[str, list[float]] = {key: [] for key in ("hc", "hd", "zc", "zd")}
    for _ in range(repeat):
        times["hc"].append(_seconds(compress, data))
        times["zc"].append(_seconds(_zlib_compress, data))
        times["hd"].append(_seconds(decompress, packed))
        times["zd"].append(_seconds(_zlib_decompress, zlib_packed))
    speed = {key: len(data) / statistics.median(values) / 1e6 for key, values in times.items()}
    return Measurement(name, len(data), len(packed), len(zlib_packed),
                       speed["hc"], speed["hd"], speed["zc"], speed["zd"])


def _report(measurements: list[Measurement]) -> str:
    lines = [
        f"{'file':<16} {'bytes':>10} {'huffkit':>10} {'zlib-HO':>10}   "
        f"{'compress MB/s':^26}   {'decompress MB/s':^26}",
        f"{'':<16} {'':>10} {'bytes':>10} {'bytes':>10}   "
        f"{'huffkit':>8} {'zlib':>8} {'ratio':>8}   {'huffkit':>8} {'zlib':>8} {'ratio':>8}",
    ]
    for m in measurements:
        lines.append(
            f"{m.name:<16} {m.size:>10,} {m.huffkit_size:>10,} {m.zlib_size:>10,}   "
            f"{m.huffkit_compress:>8.1f} {m.zlib_compress:>8.1f} "
            f"{m.huffkit_compress / m.zlib_compress:>8.2f}   "
            f"{m.huffkit_decompress:>8.1f} {m.zlib_decompress:>8.1f} "
            f"{m.huffkit_decompress / m.zlib_decompress:>8.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m huffkit.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parser.add_argument("--repeat", type=int, default=7, help="repetitions (default 7)")
    arguments = parser.parse_args(argv)
    measurements = [measure(path.read_bytes(), name=path.name, repeat=arguments.repeat)
                    for path in arguments.files]
    print(_report(measurements))


if __name__ == "__main__":
    main()
