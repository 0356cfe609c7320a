"""Fuzzing huffkit's decoders: a seeded mutation fuzzer, and a harness for atheris.

Every decoder entry point is given damaged and hostile input: :func:`huffkit.decompress`,
:class:`HuffmanDecompressor` fed in random chunk sizes with random output limits,
:class:`HuffmanFile` read in random sizes, :func:`huffkit.inspect`,
:func:`huffkit.frame_info`, and :meth:`Codebook.from_json` for codebook files.  A
**finding** is any of:

- an exception outside the documented family (:class:`HuffmanError` and its subclasses);
- output that differs from what the input must decode to (for a mutation of one valid
  frame: its original, or an error; for valid frames joined: their originals joined);
- entry points that disagree: ``decompress`` succeeds where another fails, or gives
  other bytes; a streaming reader that hands out bytes ``decompress`` would not;
- the two backends (compiled kernels and the numpy reference) disagreeing: another
  outcome, another error type or message;
- a codebook loaded from damaged JSON that does not survive its own round trip;
- an input that takes longer than ``slow_seconds`` to refuse or decode (five times that
  for one made from a seed of thousands of blocks or frames).

:func:`run` is the seeded mutation fuzzer (``huffkit fuzz``); the same seed gives the same
inputs.  :func:`atheris_main` runs the coverage-guided fuzzer atheris over the same
checks (``huffkit fuzz --atheris``; ``pip install atheris``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from .._errors import HuffmanError
from .._types import AlphabetName, Coder
from ..analysis.ledger import inspect
from ..format.frame import pack_frame_end, pack_frame_header
from ..format.info import frame_info
from ..format.layout import CODERS
from ..format.legacy import as_version1
from ..kernels import backend
from ..models.codebook import DEFAULT_MAX_CODE_LENGTH, Codebook
from ..models.distribution import Distribution
from ..models.sequential import MODELS
from ..stream.compressor import compress
from ..stream.decompressor import HuffmanDecompressor, decompress
from ..stream.file import open as open_compressed
from ..stream.pieces import encode_pieces

__all__ = ["Finding", "Report", "Seed", "atheris_main", "check_codebook_json",
           "check_compressed", "mutate", "run", "seeds"]

#: What the fuzzer may see raised: the documented family.  (ValueError and TypeError are
#: for bad arguments, and the fuzzer passes none.)
EXPECTED_ERRORS = (HuffmanError,)


@dataclasses.dataclass(frozen=True)
class Seed:
    """A valid compressed stream, what it decodes to, and the codebook it needs (if any)."""

    name: str
    original: bytes
    compressed: bytes
    codebook: Codebook | None = None  # given to every decoder (a referenced codebook)


@dataclasses.dataclass(frozen=True)
class Finding:
    """An input that broke a rule, and which rule."""

    target: str
    problem: str
    data: bytes
    mutation: str = ""
    seed: str = ""

    def __str__(self) -> str:
        return f"{self.target}: {self.problem} ({self.seed}, {self.mutation}, " \
               f"{len(self.data)} bytes)"


@dataclasses.dataclass
class Report:
    """What a fuzzing run did: inputs per target, outcomes, findings, time."""

    inputs: Counter[str] = dataclasses.field(default_factory=Counter)
    cross_checked: int = 0  # streams decoded by both backends
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.inputs.values())


# -- the seeds -----------------------------------------------------------------------------


def _text(size: int, rng: random.Random) -> bytes:
    words = ["entropy", "code", "the", "of", "Kraft", "bits", "a", "prefix", "Huffman",
             "and", "block", "rANS", "état", "über", "κώδικας", "符号", "😀"]
    out: list[str] = []
    while sum(map(len, out)) < size:
        out.append(rng.choice(words))
    return " ".join(out).encode()[:size].decode("utf-8", "ignore").encode()


def _sample_data(rng: random.Random) -> dict[str, bytes]:
    shifting = (bytes(rng.choices(b"ab", k=3000)) + bytes(rng.choices(range(256), k=2000))
                + bytes(rng.choices(b"0123456789 ", k=3000)))
    return {
        "text": _text(700, rng),
        "skewed": bytes(rng.choices(b"aaaaaaaabbbc\n", k=900)),
        "random": rng.randbytes(300),
        "one-byte": b"z" * 200,
        "shifting": shifting,
        "tiny": b"ab",
    }


def seeds(rng_seed: int = 0) -> list[Seed]:
    """Valid streams of every kind huffkit writes: both coders, the three alphabets, split
    and not, several blocks, embedded and referenced codebooks, joined frames, and each
    sequential model's blocks."""
    rng = random.Random(rng_seed)
    data = _sample_data(rng)
    out: list[Seed] = []
    for coder in CODERS:
        for name, original in data.items():
            for split in (True, False):
                block_size = 256 if name != "shifting" else 4096
                out.append(Seed(f"{coder}/bytes/{name}/{'split' if split else 'no-split'}",
                                original, compress(original, coder=coder, split=split,
                                                   block_size=block_size)))
        text = data["text"]
        for alphabet in ("utf8", "pairs"):
            out.append(Seed(f"{coder}/{alphabet}/text", text,
                            compress(text, coder=coder, alphabet=alphabet, block_size=128)))
        model = Codebook.from_distribution(Distribution.from_bytes(data["text"]).smoothed(1))
        for embed in (True, False):
            out.append(Seed(f"{coder}/codebook/{'embedded' if embed else 'referenced'}",
                            text, compress(text, coder=coder, codebook=model,
                                           embed_codebook=embed, block_size=200),
                            None if embed else model))
        out.append(_reused_code_seed(coder, rng))
        joined = data["skewed"] + data["tiny"]
        out.append(Seed(f"{coder}/joined", joined, compress(data["skewed"], coder=coder)
                        + compress(data["tiny"], coder=coder, alphabet="pairs")))
        out.append(_long_run_seed(coder, rng))
    out.append(Seed("empty", b"", compress(b"")))
    # Version 1 (FORMAT.md, sections 1 to 16), which huffkit reads still: every short seed
    # again, its frames rewritten field by field.
    out += [Seed(f"v1/{seed.name}", seed.original, as_version1(seed.compressed), seed.codebook)
            for seed in out if not seed.name.startswith(LONG)]
    out.append(_many_frames_seed(rng))
    # Sequential models (FORMAT.md 18), version 2 only: small, for their Python references
    # decode a few kilobytes a second.
    text = data["text"][:300]
    for name in MODELS:
        out.append(Seed(f"model/{name}/text", text,
                        compress(text, model=name, block_size=128)))
    return out


#: Seeds of thousands of blocks or frames have names that start so.
LONG = "long/"
#: The share of inputs mutated from those: each takes about 0.5 s to check (a thousand
#: times a small seed), so that the quick profile spends some 10 s of its minute on them.
_LONG_SHARE = 0.001
#: Blocks of a long run, and frames of the many-frames seed.
_LONG_BLOCKS = 2500


def _long_run_seed(coder: Coder, rng: random.Random) -> Seed:
    """A frame of a block with its own table, then 2,499 tiny blocks reusing its code
    (0x05 then 0x06) or table (0x03 then 0x07): the kernel that decodes runs of blocks
    once read freed memory from its 17th block on, and 1,000,000 mutated inputs of a few
    blocks each never reached it."""
    pieces = [bytes(rng.choices(b"abcdefgh", k=64))] + [
        bytes(rng.choices(b"abcdefgh", k=rng.randrange(1, 5))) for _ in range(_LONG_BLOCKS - 1)]
    original = b"".join(pieces)
    ends = np.cumsum([len(piece) for piece in pieces]).tolist()
    return Seed(f"{LONG}{coder}/bytes/{_LONG_BLOCKS}-block run", original,
                _frame_of_pieces(original, ends, coder))


def _many_frames_seed(rng: random.Random) -> Seed:
    """2,500 frames of one to three bytes each, of both coders and every alphabet, joined."""
    parts = [bytes(rng.choices(b"xyz", k=rng.randrange(1, 4))) for _ in range(_LONG_BLOCKS)]
    kinds: list[tuple[Coder, AlphabetName]] = [("huffman", "bytes"), ("ans", "bytes"),
                                               ("huffman", "pairs"), ("ans", "utf8")]
    compressed = b"".join(compress(part, coder=kinds[index % 4][0], alphabet=kinds[index % 4][1])
                          for index, part in enumerate(parts))
    return Seed(f"{LONG}joined/{_LONG_BLOCKS} frames", b"".join(parts), compressed)


#: How many times slow_seconds an input made from a long seed may take.
_LONG_SLOWNESS = 5


def _pick(pool: list[Seed], rng: random.Random, *, long: bool | None = None) -> Seed:
    """A seed to mutate: one of thousands of blocks now and then (_LONG_SHARE), or as
    *long* says."""
    long = rng.random() < _LONG_SHARE if long is None else long
    return rng.choice([seed for seed in pool if seed.name.startswith(LONG) == long] or pool)


def _reused_code_seed(coder: Coder, rng: random.Random) -> Seed:
    """A frame whose second block reuses the first's code (block type 0x06 or 0x07).

    The encoder reuses a code where a cut between pieces of one distribution pays, which
    takes tens of kilobytes; here the pieces are chosen (the second a shuffle of the first,
    so its own code could do no better) and coded as the encoder codes its pieces."""
    first = bytes(rng.choices(b"abcdefghij", k=3000))
    second = bytearray(first)
    rng.shuffle(second)
    original = first + bytes(second) + bytes(rng.choices(b"xyz", k=1000))
    return Seed(f"{coder}/bytes/reused-code", original,
                _frame_of_pieces(original, [3000, 6000, 7000], coder))


def _frame_of_pieces(original: bytes, ends: list[int], coder: Coder) -> bytes:
    """A byte frame of *original* cut at *ends*, each piece coded as the encoder codes the
    pieces of a split block (so later pieces may reuse an earlier code or table)."""
    symbols = np.frombuffer(original, dtype=np.uint8)
    counts = np.array([np.bincount(symbols[start:end], minlength=256)
                       for start, end in zip([0, *ends[:-1]], ends, strict=True)])
    blocks = b"".join(bytes(part) for part in encode_pieces(
        original, symbols, ends, counts, DEFAULT_MAX_CODE_LENGTH, coder))
    return pack_frame_header(1 << 16, coder=coder) + blocks + pack_frame_end(len(original))


def codebook_seeds(rng_seed: int = 0) -> list[str]:
    """Codebook files (JSON) of each alphabet, with and without a distribution."""
    rng = random.Random(rng_seed)
    text = _text(500, rng)
    books = [Codebook.from_distribution(Distribution.from_bytes(text)),
             Codebook.from_distribution(Distribution.from_bytes(text).smoothed(1)),
             Codebook.from_distribution(Distribution.from_bytes(text, alphabet="utf8")),
             Codebook.from_distribution(Distribution.from_bytes(text, alphabet="pairs"))]
    return [book.to_json() for book in books]


# -- mutations -----------------------------------------------------------------------------

_INTERESTING = [0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 1 << 14,
                (1 << 16) - 1, 1 << 16, (1 << 20) + 1, 1 << 26, (1 << 26) + 1, (1 << 31) - 1,
                1 << 31, (1 << 32) - 1]


def _flip_bits(data: bytearray, rng: random.Random) -> str:
    flips = rng.choice([1, 1, 1, 2, 3, 8])
    for _ in range(flips):
        bit = rng.randrange(8 * len(data))
        data[bit // 8] ^= 0x80 >> (bit % 8)
    return f"flip {flips} bits"


def _edit_bytes(data: bytearray, rng: random.Random) -> str:
    edits = rng.choice([1, 1, 2, 4])
    for _ in range(edits):
        data[rng.randrange(len(data))] = rng.choice([0, 0xFF, 0x7F, 0x80, 1,
                                                     rng.randrange(256)])
    return f"edit {edits} bytes"


def _interesting_field(data: bytearray, rng: random.Random) -> str:
    """A number a decoder reads (a count, a size, a length) set to an edge value."""
    width, form = rng.choice([(1, "<B"), (2, "<H"), (4, "<I"), (4, ">I"), (8, "<Q")])
    if len(data) < width:
        return _edit_bytes(data, rng)
    at = rng.randrange(len(data) - width + 1)
    value = rng.choice(_INTERESTING) % (1 << (8 * width))
    if rng.random() < 0.3:  # near the value that was there
        value = (int.from_bytes(data[at:at + width], "big" if form[0] == ">" else "little")
                 + rng.choice([-1, 1, -2, 2, 1 << 10])) % (1 << (8 * width))
    data[at:at + width] = struct.pack(form, value)
    return f"field {form} at {at} = {value}"


def _leb128_field(data: bytearray, rng: random.Random) -> str:
    """A long LEB128 number, where tables keep their counts and gaps."""
    at = rng.randrange(len(data))
    value = rng.choice([*_INTERESTING, 1 << 40, (1 << 63) - 1])
    encoded = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        encoded.append(byte | (0x80 if value else 0))
        if not value:
            break
    data[at:at + rng.randrange(1, 4)] = encoded
    return f"leb128 at {at}"


def _insert(data: bytearray, rng: random.Random) -> str:
    at = rng.randrange(len(data) + 1)
    data[at:at] = rng.randbytes(rng.choice([1, 1, 2, 4, 16]))
    return f"insert at {at}"


def _delete(data: bytearray, rng: random.Random) -> str:
    at = rng.randrange(len(data))
    size = min(rng.choice([1, 1, 2, 4, 16]), len(data) - at)
    del data[at:at + size]
    return f"delete {size} at {at}"


def _duplicate(data: bytearray, rng: random.Random) -> str:
    """Repeat a piece of the stream (shorter than all of it) at another place."""
    start = rng.randrange(len(data))
    piece = data[start:start + rng.randrange(1, max(2, min(64, len(data) - 1)))]
    at = rng.randrange(len(data) + 1)
    data[at:at] = piece
    return f"duplicate {len(piece)} bytes to {at}"


def _truncate(data: bytearray, rng: random.Random) -> str:
    at = rng.randrange(len(data))
    del data[at:]
    return f"truncate at {at}"


_IN_PLACE = (_flip_bits, _edit_bytes, _interesting_field, _truncate)
_SINGLE_FRAME_MUTATIONS = (_flip_bits, _flip_bits, _edit_bytes, _interesting_field,
                           _interesting_field, _leb128_field, _insert, _delete, _duplicate,
                           _truncate)


def mutate(pool: list[Seed], rng: random.Random,
           ) -> tuple[bytes, bytes | None, str, Seed, bool]:
    """One fuzz input: (data, what it must decode to if it decodes (None: unknown),
    the mutation, the seed it came from, whether every byte stayed in its place).

    Only in the last case must a streaming reader hand out a prefix of the original
    before it reports an error: a moved or repeated block is valid on its own, and a
    reader may hand it out before the frame end shows the frame is wrong (FORMAT.md 9)."""
    seed = _pick(pool, rng)
    choice = rng.random()
    if choice < 0.08:  # valid frames joined: they must decode to their originals joined
        other = _pick(pool, rng, long=False)  # one long seed an input at most
        if seed.codebook is None and other.codebook is None:
            return (seed.compressed + other.compressed, seed.original + other.original,
                    "join", seed, True)
    if choice < 0.16:  # a splice: the start of one stream, the end of another
        other = _pick(pool, rng, long=False)  # one long seed an input at most
        cut = rng.randrange(len(seed.compressed) + 1)
        resume = rng.randrange(len(other.compressed) + 1)
        return seed.compressed[:cut] + other.compressed[resume:], None, "splice", seed, False
    if choice < 0.22:  # a new frame header over a damaged body: crafted headers
        data = bytearray(seed.compressed)
        block_size = rng.choice(_INTERESTING)
        flags = rng.choice([0, 1, 2, 3, 4, 6, 8, 12, 16, rng.randrange(256)])
        version = seed.compressed[4] if len(seed.compressed) > 4 else 2  # the seed's own
        head = struct.pack("<4sBBI", b"\x89HUF", version, flags, block_size)
        data[:14] = head + struct.pack("<I", zlib.crc32(head))
        if rng.random() < 0.7 and len(data) > 14:
            rng.choice(_SINGLE_FRAME_MUTATIONS)(data, rng)
        return (bytes(data), None, f"header flags {flags} block_size {block_size}", seed,
                False)
    data = bytearray(seed.compressed)
    if not data:
        return rng.randbytes(rng.randrange(1, 32)), None, "random bytes", seed, False
    steps, in_place = [], True
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        if data:  # a truncation or deletion may have left nothing
            mutation = rng.choice(_SINGLE_FRAME_MUTATIONS)
            steps.append(mutation(data, rng))
            in_place = in_place and mutation in _IN_PLACE
    # A mutation of a single frame decodes to its original or fails: anything else would
    # take a CRC-32 collision (or an identical stream).  Joined seeds, cut short at a frame
    # boundary, may decode to a prefix: their outcome is judged by the other checks.
    expected = seed.original if "joined" not in seed.name else None
    return bytes(data), expected, "; ".join(steps), seed, in_place


# -- the checks ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class _Outcome:
    output: bytes | None  # None: it raised
    error: BaseException | None = None

    @property
    def label(self) -> str:
        return "ok" if self.error is None else type(self.error).__name__

    def same_as(self, other: _Outcome) -> bool:
        if (self.error is None) != (other.error is None):
            return False
        if self.error is None:
            return self.output == other.output
        return (type(self.error), str(self.error)) == (type(other.error), str(other.error))


def _attempt(work: Callable[[], bytes]) -> _Outcome:
    try:
        return _Outcome(work())
    except EXPECTED_ERRORS as error:
        return _Outcome(None, error)


def _stream_decode(data: bytes, codebook: Codebook | None, rng: random.Random,
                   handed_out: list[bytes]) -> bool:
    """Feed *data* to decompressor objects in random chunks with random output limits, a
    new one for each frame, as a caller reading joined frames would.  What they hand out
    goes to *handed_out*.  Returns whether every frame ended with no input left over."""
    decompressor = HuffmanDecompressor(codebook=codebook)
    position = 0
    while True:
        size = rng.choice([1, 2, 7, 64, 1000, len(data)])
        chunk = data[position:position + size]
        position += len(chunk)
        limit = rng.choice([-1, -1, 1, 13, 500])
        handed_out.append(decompressor.decompress(chunk, max_length=limit))
        while not decompressor.eof and not decompressor.needs_input:
            handed_out.append(decompressor.decompress(b"", max_length=limit))
        if decompressor.eof:
            rest = decompressor.unused_data + data[position:]
            if not rest:
                return True
            data, position = rest, 0
            decompressor = HuffmanDecompressor(codebook=codebook)
            continue
        if position >= len(data):
            return False  # the input ran out inside a frame


def _file_decode(data: bytes, codebook: Codebook | None, rng: random.Random,
                 handed_out: list[bytes]) -> None:
    with open_compressed(io.BytesIO(data), codebook=codebook) as file:
        while True:
            piece = file.read(rng.choice([-1, 1, 3, 100, 4096]))
            if not piece:
                return
            handed_out.append(piece)


@contextmanager
def _backend_named(name: str) -> Iterator[None]:
    previous = backend.name()
    backend.use(name)
    try:
        yield
    finally:
        backend.use(previous)


def check_compressed(data: bytes, *, codebook: Codebook | None = None,
                     expected: bytes | None = None, in_place: bool = True,
                     rng: random.Random | None = None,
                     backends: tuple[str, ...] = ("c", "numpy"),
                     entry_points: tuple[str, ...] = ("decompress", "decompressor", "file",
                                                      "inspect", "info"),
                     outcomes: Counter[str] | None = None) -> list[tuple[str, str]]:
    """Give *data* to every decoder entry point on each backend; return the rules it
    broke as (entry point, problem) pairs (none: all is well).  If it decodes, it must
    decode to *expected* (when known); if not, what a streaming reader hands out first
    must be a start of *expected*, when *in_place* (see :func:`mutate`).

    Exceptions outside the documented family propagate, as the bugs they are: the caller
    records them.
    """
    rng = rng or random.Random(0)
    problems: list[tuple[str, str]] = []
    reference: _Outcome | None = None
    for name in backends:
        with _backend_named(name):
            outcome = _attempt(lambda: decompress(data, codebook=codebook))
        if outcomes is not None:
            outcomes[f"decompress {outcome.label}"] += 1
        if reference is None:
            reference = outcome
        elif not outcome.same_as(reference):
            problems.append(("backends", f"{backends[0]}: {_show(reference)}; "
                                         f"{name}: {_show(outcome)}"))
    assert reference is not None
    if reference.error is None and expected is not None and reference.output != expected:
        problems.append(("decompress", "decoded to other data without an error"))
    truth = reference.output if reference.error is None else (expected if in_place else None)
    if "decompressor" in entry_points:
        handed: list[bytes] = []
        try:
            finished = _stream_decode(data, codebook, rng, handed)
            error = None
        except EXPECTED_ERRORS as raised:
            finished, error = False, raised
        problems += _compare_streaming("decompressor", b"".join(handed), finished, error,
                                       reference, truth)
    if "file" in entry_points:
        handed = []
        try:
            _file_decode(data, codebook, rng, handed)
            error = None
        except EXPECTED_ERRORS as raised:
            error = raised
        problems += _compare_streaming("file", b"".join(handed), error is None, error,
                                       reference, truth)
    if "inspect" in entry_points:
        try:
            inspect(data, codebook=codebook)
            outcome = _Outcome(b"")  # (its ledger is not compared: only whether it raised)
        except EXPECTED_ERRORS as error:
            outcome = _Outcome(None, error)
        # One ledger counts one alphabet: inspect refuses joined frames of two, as
        # documented, though they decode.
        mixed = outcome.error is not None and "mixes frames of the" in str(outcome.error)
        if (outcome.error is None) != (reference.error is None) and not mixed:
            problems.append(("inspect", f"inspect: {_show(outcome)}; decompress: "
                                        f"{_show(reference)}"))
    if "info" in entry_points:
        # From the headers alone: it may pass a damaged payload, but not refuse a valid
        # stream, and it must count the bytes the stream decodes to.
        try:
            frames = frame_info(data, codebook=codebook)
        except EXPECTED_ERRORS as error:
            if reference.error is None:
                problems.append(("info", f"frame_info: {_show(_Outcome(None, error))}; "
                                         f"decompress: {_show(reference)}"))
        else:
            size = sum(frame.original_size for frame in frames)
            if reference.error is None and size != len(reference.output or b""):
                problems.append(("info", f"frame_info counts {size} bytes; decompress gave "
                                         f"{len(reference.output or b'')}"))
    return problems


def _compare_streaming(name: str, output: bytes, finished: bool,
                       error: BaseException | None, reference: _Outcome,
                       truth: bytes | None) -> list[tuple[str, str]]:
    if reference.error is None:
        if error is not None or not finished or output != reference.output:
            state = _show(_Outcome(None, error)) if error else (
                "stopped short" if not finished else "other bytes")
            return [(name, f"decompress succeeded, but {name} {state}")]
        return []
    if finished and error is None:
        return [(name, f"decompress raised {_show(reference)}, but {name} finished")]
    if truth is not None and not truth.startswith(output):
        return [(name, f"handed out {len(output)} bytes that are not the data's start")]
    return []


def _show(outcome: _Outcome) -> str:
    if outcome.error is None:
        return f"ok, {len(outcome.output or b'')} bytes"
    return f"{type(outcome.error).__name__}: {outcome.error}"


def check_codebook_json(text: bytes) -> list[tuple[str, str]]:
    """Load a codebook from (damaged) JSON: ``CodebookError`` or a codebook that survives
    its own round trip."""
    try:
        book = Codebook.from_json(text)
    except EXPECTED_ERRORS:
        return []
    again = Codebook.from_json(book.to_json())
    if again.to_json() != book.to_json() or again.identifier != book.identifier:
        return [("codebook", "a loaded codebook does not survive its own round trip")]
    return []


def _mutate_json(text: str, rng: random.Random) -> bytes:
    choice = rng.random()
    if choice < 0.4:  # a number replaced by an edge value
        tokens = text.split(",")
        index = rng.randrange(len(tokens))
        replacement = rng.choice(["-1", "0", "1e308", "NaN", "Infinity", "-0.5", "2",
                                  "65", "1000000000000", "1" + "0" * 30, "-" + "9" * 400,
                                  "null", "\"x\"", "[]", "{}", "true"])
        tokens[index] = _replace_number(tokens[index], replacement)
        return ",".join(tokens).encode()
    if choice < 0.6:  # a key dropped, added or renamed
        document = json.loads(text)
        key = rng.choice(sorted(document))
        action = rng.randrange(3)
        if action == 0:
            del document[key]
        elif action == 1:
            document[key + "_"] = document[key]
        else:
            document[key] = rng.choice([None, [], {}, "", 0, -1, [0] * 300, "?" * 70])
        return json.dumps(document).encode()
    data = bytearray(text.encode())
    rng.choice([_flip_bits, _edit_bytes, _insert, _delete, _truncate])(data, rng)
    return bytes(data)


def _replace_number(token: str, replacement: str) -> str:
    start = next((i for i, c in enumerate(token) if c in "-0123456789"), None)
    if start is None:
        return token
    end = start + 1
    while end < len(token) and token[end] in "0123456789.eE+-":
        end += 1
    return token[:start] + replacement + token[end:]


# -- the mutation fuzzer -------------------------------------------------------------------

#: Inputs, codebook files, and how often the numpy reference decodes an input too (1: every
#: input; it is slower than the compiled kernels, and a long run favours variety).
PROFILES = {
    # CI: every target, in about a minute.
    "quick": {"inputs": 20_000, "codebook_inputs": 2_000, "reference_every": 2},
    # By hand: `huffkit fuzz --profile long` (run several, with other seeds, on more cores).
    "long": {"inputs": 500_000, "codebook_inputs": 50_000, "reference_every": 8},
}


def run(*, seed: int = 0, inputs: int = 20_000, codebook_inputs: int = 2_000,
        reference_every: int = 1, slow_seconds: float = 2.0,
        progress: Callable[[Report], None] | None = None) -> Report:
    """Run the mutation fuzzer: *inputs* mutated streams through every decoder entry point
    and *codebook_inputs* mutated codebook files through ``Codebook.from_json``.  Every
    *reference_every*-th stream is also decoded by the numpy reference, when the compiled
    kernels are in use, and the two must agree.  The same *seed* gives the same inputs."""
    compiled = backend.unavailable is None
    rng = random.Random(seed)
    pool = seeds()
    report = Report()
    started = time.perf_counter()
    for index in range(inputs):
        data, expected, mutation, source, in_place = mutate(pool, rng)
        report.inputs["compressed streams"] += 1
        backends = ("c", "numpy") if compiled and index % reference_every == 0 else (
            ("c",) if compiled else ("numpy",))
        report.cross_checked += len(backends) == 2
        began = time.perf_counter()
        try:
            problems = check_compressed(data, codebook=source.codebook, expected=expected,
                                        in_place=in_place, rng=random.Random(rng.random()),
                                        backends=backends,
                                        outcomes=report.outcomes)
        except Exception as error:  # the point: anything outside the family is a bug
            problems = [("any", f"raised {type(error).__name__}: {error}")]
        if time.perf_counter() - began > slow_seconds * (
                _LONG_SLOWNESS if source.name.startswith(LONG) else 1):
            problems.append(("any", f"took {time.perf_counter() - began:.1f} s"))
        report.findings += [Finding(target, problem, data, mutation, source.name)
                            for target, problem in problems]
        if progress is not None and index % 1000 == 999:
            report.seconds = time.perf_counter() - started
            progress(report)
    books = codebook_seeds()
    for _ in range(codebook_inputs):
        text = _mutate_json(rng.choice(books), rng)
        report.inputs["codebook files"] += 1
        try:
            problems = check_codebook_json(text)
        except Exception as error:
            problems = [("codebook", f"raised {type(error).__name__}: {error}")]
        report.findings += [Finding(target, problem, text, "json") for target, problem
                            in problems]
    report.seconds = time.perf_counter() - started
    return report


# -- atheris -------------------------------------------------------------------------------

def _atheris_input(data: bytes) -> None:
    """atheris's entry point: the first byte chooses the target, the rest is its input.
    A finding raises, so that libFuzzer keeps the input."""
    if not data:
        return
    selector, body = data[0], data[1:]
    if selector % 4 == 3:
        problems = check_codebook_json(body)
    else:
        backends = ("c", "numpy") if backend.unavailable is None else ("numpy",)
        problems = check_compressed(body, rng=random.Random(selector), backends=backends)
    if problems:
        raise AssertionError("; ".join(f"{target}: {problem}" for target, problem in problems))


def write_atheris_corpus(directory: str) -> int:
    """Seed inputs for atheris (target byte + a valid stream or codebook file)."""
    import pathlib
    folder = pathlib.Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for index, seed in enumerate(seeds()):
        if seed.codebook is None:
            (folder / f"stream-{index}").write_bytes(bytes([index % 3]) + seed.compressed)
            count += 1
    for index, text in enumerate(codebook_seeds()):
        (folder / f"codebook-{index}").write_bytes(b"\x03" + text.encode())
        count += 1
    return count


def atheris_main(arguments: list[str]) -> None:
    """Run atheris (coverage-guided, libFuzzer's engine) over the checks.  *arguments* are
    libFuzzer's (a corpus folder, ``-runs=N``, ``-max_total_time=S``...).  The Python code
    is instrumented for coverage; the compiled kernels are not (they are checked against
    the numpy reference on every input instead)."""
    import sys

    import atheris
    atheris.instrument_all()
    atheris.Setup([sys.argv[0], *arguments], _atheris_input)
    atheris.Fuzz()
