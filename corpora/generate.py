"""Write the generated files of huffkit's bundled corpus, and its MANIFEST.

    python corpora/generate.py                  # rewrite them here, beside this script
    python corpora/generate.py --output FOLDER  # write them somewhere else, to compare

The hand-written files (english.txt, korean.txt, source.c) are not touched, only hashed
into the MANIFEST.  The output is the same on every machine and every Python version:
only the standard library is used, all arithmetic on the samples is integer, and the only
randomness is ``random.Random(seed).random()``, the one stream Python promises to keep
reproducible across versions.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import struct
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

MANIFEST_HEADER = """\
# huffkit's bundled corpus: small files the project wrote or generated itself.
# One line per file: name, size in bytes, sha256 (hex), description.  Fields are
# separated by spaces; the description is the rest of the line.  A description
# that says "source entropy H bits/symbol" gives the entropy of the memoryless
# source the file stands for.  Written by generate.py: run `python corpora/generate.py`
# after changing any file here, rather than editing this list by hand.
"""

HANDWRITTEN = {
    "english.txt": "original English prose: an essay on signals, codes and libraries; "
                   "ASCII, LF line endings",
    "korean.txt": "original Korean prose: an essay on a riverside library; UTF-8, "
                  "mostly Hangul syllables (3 bytes each)",
    "source.c": "original C99 source: a byte-statistics and Huffman code-length tool "
                "with CRC-32",
}

#: Symbols per synthetic text file, and bytes of uniform noise.
SYMBOLS = 32768
UNIFORM_BYTES = 16384


def source_entropy(probabilities: dict[str, float]) -> float:
    """The entropy in bits of one draw from a memoryless source."""
    return -sum(p * math.log2(p) for p in probabilities.values() if p > 0)


def describe_entropy(bits: float) -> str:
    return f"source entropy {bits:.6g} bits/symbol"


def shuffled(counts: dict[str, int], seed: int) -> bytes:
    """Each symbol exactly *count* times, in a random order (a Fisher-Yates shuffle).

    Exact proportions make the file's own distribution equal the source's, so its
    empirical entropy is the stated one to the last digit; the order is random, so an
    order-0 coder sees what it would see from the memoryless source.
    """
    symbols = bytearray(b"".join(symbol.encode() * count for symbol, count in counts.items()))
    rng = random.Random(seed)
    for i in range(len(symbols) - 1, 0, -1):
        j = int(rng.random() * (i + 1))
        symbols[i], symbols[j] = symbols[j], symbols[i]
    return bytes(symbols)


def dyadic() -> tuple[bytes, str]:
    # Every probability is a power of 1/2, so Huffman code lengths equal the symbols'
    # information content and the code's mean length equals the entropy: no rounding.
    probabilities = {"a": 1 / 2, "b": 1 / 4, "c": 1 / 8, "d": 1 / 16, "e": 1 / 16}
    data = shuffled({s: round(p * SYMBOLS) for s, p in probabilities.items()}, seed=1875)
    return data, ("a:1/2 b:1/4 c:1/8 d:1/16 e:1/16 in exact proportion, shuffled (dyadic: "
                  f"Huffman meets the entropy); {describe_entropy(source_entropy(probabilities))}")


def skewed() -> tuple[bytes, str]:
    # A symbol-by-symbol code must spend a whole bit on each symbol, more than twice
    # the entropy: the integer-length waste at its plainest.
    probabilities = {"0": 0.9, "1": 0.1}
    data = shuffled({"0": 29491, "1": 3277}, seed=469)  # 0.9 and 0.1 of 32768, rounded
    return data, ("'0':0.9 '1':0.1 in (rounded) proportion, shuffled (a Huffman code pays "
                  f"1 bit/symbol); {describe_entropy(source_entropy(probabilities))}")


def uniform() -> tuple[bytes, str]:
    # Incompressible: any code spends 8 bits per byte, and the container makes it grow.
    rng = random.Random(256)
    data = bytes(int(rng.random() * 256) for _ in range(UNIFORM_BYTES))
    return data, f"i.i.d. uniform bytes (incompressible); {describe_entropy(8.0)}"


#: Damped resonators in Q14 fixed point, one pair (a note and its octave) per note of a
#: C major scale at 8 kHz: a1 = 2 r cos(w), a2 = r**2, and an impulse of peak * sin(w)
#: so that every note rings at about the same loudness (peak 3000, its octave 1100).
NOTES = [
    ((32047, 16351, 612), (29979, 16319, 439)),    # C4 261.63 Hz
    ((31868, 16351, 686), (29285, 16319, 490)),    # D4 293.66 Hz
    ((31644, 16351, 768), (28416, 16319, 544)),    # E4 329.63 Hz
    ((31512, 16351, 813), (27904, 16319, 574)),    # F4 349.23 Hz
    ((31196, 16351, 909), (26696, 16319, 635)),    # G4 392.00 Hz
    ((30800, 16351, 1016), (25198, 16319, 701)),   # A4 440.00 Hz
    ((30303, 16351, 1135), (23345, 16319, 770)),   # B4 493.88 Hz
    ((30010, 16351, 1198), (22264, 16319, 806)),   # C5 523.25 Hz
]
SAMPLES_PER_NOTE = 1024


def table() -> tuple[bytes, str]:
    # A structured binary file: the low byte of each sample is nearly uniform, the high
    # byte clusters around 0x00 and 0xFF, so the byte statistics are skewed and the two
    # interleaved halves have very different distributions.
    rng = random.Random(8000)
    voices: list[list[int]] = []  # [a1, a2, y[n-1], y[n-2]] per ringing resonator
    samples = []
    for n in range(len(NOTES) * SAMPLES_PER_NOTE):
        if n % SAMPLES_PER_NOTE == 0:
            voices += [[a1, a2, kick, 0] for a1, a2, kick in NOTES[n // SAMPLES_PER_NOTE]]
        total = 0
        for voice in voices:
            a1, a2, y1, y2 = voice
            y = (a1 * y1 - a2 * y2) >> 14
            voice[2], voice[3] = y, y1
            total += y
        total += int(rng.random() * 7) - 3  # a little noise, -3 to 3
        samples.append(max(-32768, min(32767, total)))
    data = struct.pack(f"<{len(samples)}h", *samples)
    return data, (f"{len(samples)} little-endian int16 samples at 8 kHz: a C major scale "
                  "of plucked notes from integer resonators, plus a little noise")


GENERATED: dict[str, Callable[[], tuple[bytes, str]]] = {
    "dyadic.txt": dyadic,
    "skewed.txt": skewed,
    "table.bin": table,
    "uniform.bin": uniform,
}


def is_data_file(path: Path) -> bool:
    """Whether a file in the corpus folder is corpus data (and so belongs in the MANIFEST)."""
    return (path.is_file() and path.name != "MANIFEST" and path.suffix not in {".py", ".pyc"}
            and not path.name.startswith("."))


def manifest_line(name: str, data: bytes, description: str) -> str:
    return f"{name:<12} {len(data):>6} {hashlib.sha256(data).hexdigest()}  {description}\n"


def generate(output: Path = HERE, *, handwritten: Path = HERE) -> list[Path]:
    """Write the generated files and MANIFEST into output; return the paths written.

    The MANIFEST also lists the hand-written files, read from the folder handwritten.
    Raises ValueError if output holds a data file that nobody describes here.
    """
    output = Path(output)
    known = GENERATED.keys() | HANDWRITTEN.keys()
    present = output.iterdir() if output.is_dir() else []
    unknown = sorted(path.name for path in present if is_data_file(path) and path.name not in known)
    if unknown:
        raise ValueError(f"{output} holds data files the MANIFEST would not list: "
                         f"{', '.join(unknown)}; describe them in HANDWRITTEN in generate.py")

    output.mkdir(parents=True, exist_ok=True)
    lines = {}
    written = []
    for name, make in GENERATED.items():
        data, description = make()
        target = output / name
        target.write_bytes(data)
        written.append(target)
        lines[name] = manifest_line(name, data, description)
    for name, description in HANDWRITTEN.items():
        lines[name] = manifest_line(name, (Path(handwritten) / name).read_bytes(), description)

    text = MANIFEST_HEADER + "".join(lines[name] for name in sorted(lines))
    manifest = output / "MANIFEST"
    manifest.write_bytes(text.encode("utf-8"))  # bytes, so LF endings on every platform
    written.append(manifest)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=HERE,
                        help="folder to write into (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        written = generate(args.output)
    except (OSError, ValueError) as error:
        print(f"generate.py: error: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{path.stat().st_size:>7}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
