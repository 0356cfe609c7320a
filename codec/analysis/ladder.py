"""The ladder: one file coded by every model, from order 0 up to context mixing, with
gzip, bzip2 and xz beside them.

Each rung is a real encoding. It is compressed, measured and decoded back, and it must
give the file's bytes again. On text the huffkit rungs go down step by step. Each rung
predicts from more context than the one above it, so it pays less cross-entropy for
each byte.
"""

from __future__ import annotations

import bz2
import lzma
import statistics
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .._buffers import byte_view
from .._errors import releasing_views
from .._types import ModelName
from ..models._html import Strong, table
from ..models.sequential import MODELS
from ..stream.compressor import compress
from ..stream.decompressor import decompress

__all__ = ["LADDER", "REFERENCES", "Ladder", "Rung", "ladder"]

Codec = tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]]


def _huffkit(**options: Any) -> Codec:
    return (lambda data: compress(data, **options)), decompress


def _sequential(name: ModelName) -> Codec:
    return (lambda data: compress(data, model=name)), decompress


#: The huffkit rungs, top to bottom: each name as ``huffkit ladder --json`` gives it, a
#: line saying what it is, and its codec.
LADDER: dict[str, tuple[str, Codec]] = {
    "order0-huffman": ("order 0, a Huffman code per block", _huffkit()),
    "order0-ans": ("order 0, rANS per block", _huffkit(coder="ans")),
    **{name: (model.summary, _sequential(name)) for name, model in MODELS.items()},
}

#: The reference rungs: the standard library's compressors at their strongest settings, and
#: PPMd where pyppmd is installed.
REFERENCES: dict[str, tuple[str, Codec]] = {
    "gzip": ("gzip -9 (zlib: LZ77 and Huffman codes)",
             (lambda data: zlib.compress(data, 9), zlib.decompress)),
    "bzip2": ("bzip2 -9 (the Burrows-Wheeler transform)",
              (lambda data: bz2.compress(data, 9), bz2.decompress)),
    "xz": ("xz -9 (LZMA)", (lambda data: lzma.compress(data, preset=9), lzma.decompress)),
}


def _ppmd() -> tuple[str, Codec] | None:
    """PPMd (variant H, order 6, 16 MiB), from the ``pyppmd`` package when it is installed
    (``pip install 'huffkit[test]'`` brings it): the yardstick of context modelling."""
    try:
        import pyppmd
    except ImportError:
        return None
    def encode(data: bytes) -> bytes:
        packed: bytes = pyppmd.compress(data, max_order=6, mem_size=16 << 20)
        return packed

    def decode(data: bytes) -> bytes:
        unpacked = pyppmd.decompress(data, max_order=6, mem_size=16 << 20)
        # pyppmd gives str back for str input only; bytes in, bytes out.
        return unpacked if isinstance(unpacked, bytes) else unpacked.encode()

    return "PPMd order 6, 16 MiB (pyppmd)", (encode, decode)


@dataclass(frozen=True)
class Rung:
    """One coding of the file: its size, and the time it took each way."""

    name: str
    description: str
    reference: bool  # another compressor (gzip, bzip2, xz, PPMd), not one of huffkit's models
    compressed_size: int
    bits_per_byte: float
    compress_seconds: float
    decompress_seconds: float


@dataclass(frozen=True)
class Ladder:
    """Every rung of one file (see :func:`ladder`)."""

    name: str
    original_size: int
    rungs: tuple[Rung, ...]

    def __getitem__(self, name: str) -> Rung:
        for rung in self.rungs:
            if rung.name == name:
                return rung
        raise KeyError(name)

    def __repr__(self) -> str:
        best = min(self.rungs, key=lambda rung: rung.bits_per_byte, default=None)
        where = "" if best is None else f", best {best.name} at {best.bits_per_byte:.3f} bits/byte"
        return (f"<Ladder of {self.name}: {len(self.rungs)} rungs over "
                f"{self.original_size:,} bytes{where}>")

    def _repr_html_(self) -> str:
        """The rungs as Jupyter shows them: sizes, bits per byte and times, the best in bold."""
        best = min(range(len(self.rungs)), key=lambda i: self.rungs[i].bits_per_byte,
                   default=None)
        rows = []
        for index, rung in enumerate(self.rungs):
            figure = f"{rung.bits_per_byte:.3f}"
            rows.append((rung.name, rung.description, "yes" if rung.reference else "",
                         f"{rung.compressed_size:,}",
                         Strong(figure) if index == best else figure,
                         f"{rung.compress_seconds:.4f}", f"{rung.decompress_seconds:.4f}"))
        return table(f"{self.name}: the ladder ({self.original_size:,} bytes)", rows,
                     header=("rung", "what", "reference", "bytes", "bits/byte",
                             "compress s", "decompress s"))

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.name, "original_size": self.original_size,
                "rungs": [asdict(rung) for rung in self.rungs]}


@releasing_views
def ladder(data: bytes | bytearray | memoryview, /, *, name: str = "data",
           rungs: Sequence[str] | None = None, references: bool = True,
           repeat: int = 1) -> Ladder:
    """Code *data* (bytes-like) with each model of *rungs* (every rung of ``LADDER`` by
    default), and with gzip, bzip2, xz (and PPMd, if pyppmd is installed) too unless
    *references* is false.  Every coding is decoded back and checked against *data*.  The
    rungs keep the order they are given.  Each way is timed *repeat* times, in turn with
    the other rungs, and the median kept: a benchmark, in one process.
    """
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"repeat must be a whole number, 1 or more, got {repeat!r}")
    with byte_view(data) as view:
        original = bytes(view)
    known = {**LADDER, **REFERENCES}
    ppmd = _ppmd()
    if ppmd is not None:
        known["ppmd"] = ppmd
    chosen = list(LADDER) if rungs is None else list(rungs)
    for rung in chosen:
        if rung not in known:
            raise ValueError(f"unknown rung {rung!r}: choose from {', '.join(known)}")
    if references:
        chosen += [rung for rung in known if rung not in LADDER and rung not in chosen]
    times: dict[str, list[tuple[float, float]]] = {rung: [] for rung in chosen}
    sizes = {}
    for _ in range(repeat):  # round after round, so that a busy moment hits every rung
        for rung in chosen:
            _, (encode, decode) = known[rung]
            started = time.perf_counter()
            packed = encode(original)
            middle = time.perf_counter()
            unpacked = decode(packed)
            ended = time.perf_counter()
            if unpacked != original:  # pragma: no cover - a bug, not a user's error
                raise AssertionError(f"the {rung} rung did not give the data back")
            sizes[rung] = len(packed)
            times[rung].append((middle - started, ended - middle))
    results = []
    for rung in chosen:
        compress_seconds = statistics.median(t[0] for t in times[rung])
        decompress_seconds = statistics.median(t[1] for t in times[rung])
        results.append(Rung(rung, known[rung][0], rung not in LADDER, sizes[rung],
                            8 * sizes[rung] / len(original) if original else 0.0,
                            compress_seconds, decompress_seconds))
    return Ladder(name, len(original), tuple(results))
