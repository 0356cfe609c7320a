"""Long runs of compact-table (0x05) and reuse (0x06) blocks, as the run kernel meets them.

The compiled run kernel (``decode_huffman_run`` in codec/kernels/c/huffman_runs.c) decodes
a byte frame's compact and reuse blocks in one call, growing its arrays as the run goes on
(at 16, 32, 64, ... blocks).  It once kept a pointer to the previous block's code lengths
across that growth, so the first reuse block after it (the 17th block, the 33rd, ...) read
freed memory: a valid frame of one compact block and 4,096 reuse blocks of one byte each
crashed ``decompress`` with SIGSEGV.  These frames are built from FORMAT.md by the
specification's own writers (tests/format/test_format_spec.py), not by huffkit's encoder,
which never writes a run this long; each is decoded through every entry point on both
backends.  Under the sanitizer build of CI any stray read here is a failure too.
"""

from __future__ import annotations

import io
import itertools
import os
import random
import subprocess
import sys
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_format_spec import (
    ABR_LENGTHS,
    COMPACT_BLOCK,
    REUSE_BLOCK,
    compact_block,
    frame,
    parse,
    reuse_block,
    section11_lengths,
)

import huffkit
from huffkit import FormatError

pytestmark = pytest.mark.usefixtures("each_backend")

A, X, Y, Z = b"axyz"


def one_byte_run(reuses: int) -> tuple[bytes, bytes]:
    """A frame of block size 1: a compact block of b"a", then *reuses* blocks reusing its
    one-symbol code.  (original, frame)"""
    blocks = [compact_block(b"a", {A: 1})] + [reuse_block(b"a", {A: 1})] * reuses
    return b"a" * (reuses + 1), frame(*blocks, block_size=1)


def mixed_run() -> tuple[list[bytes], list[bytes], list[int]]:
    """300 blocks: three compact blocks, each with another code, the blocks after each
    reusing it, of 1 to 40 bytes and 1 to 5 streams, past the kernel's 16, 32, 64, 128
    and 256 blocks.  Each code gives some bytes another length than the others do, so a
    block decoded with a wrong code would fail its CRC.  (pieces, blocks, block types)"""
    rng = random.Random(15)
    codes = [(ABR_LENGTHS, b"abcdr"), ({X: 1, Y: 2, Z: 2}, b"xyz"),
             ({A: 2, X: 2, Y: 2, Z: 2}, b"axyz")]
    switch = {0: 0, 70: 1, 161: 2}  # the blocks where a new compact table starts
    blocks, pieces, types = [], [], []
    for index in range(300):
        if index in switch:
            lengths, alphabet = codes[switch[index]]
            piece = bytes(alphabet) + bytes(rng.choices(alphabet, k=rng.randrange(20)))
            blocks.append(compact_block(piece, lengths, streams=rng.randrange(1, 5)))
            types.append(COMPACT_BLOCK)
        else:
            piece = bytes(rng.choices(alphabet, k=rng.randrange(1, 41)))
            blocks.append(reuse_block(piece, lengths, streams=rng.randrange(1, 6)))
            types.append(REUSE_BLOCK)
        pieces.append(piece)
    return pieces, blocks, types


def assert_every_way(packed: bytes, original: bytes) -> None:
    """*packed* decodes to *original* by each entry point: one-shot, the decompressor whole
    and in chunks (a run then ends where the input does, and the next one starts from a
    code handed over), with threads, and through a file object."""
    def chunked(size: int) -> bytes:
        """Fed *size* bytes at a time; a decompressor reads one frame, the next one the
        input it left unused."""
        decompressor, out = huffkit.HuffmanDecompressor(), []
        for at in range(0, len(packed), size):
            piece = packed[at:at + size]
            while piece:
                if decompressor.eof:
                    decompressor = huffkit.HuffmanDecompressor()
                out.append(decompressor.decompress(piece))
                piece = decompressor.unused_data if decompressor.eof else b""
        assert decompressor.eof
        return b"".join(out)

    with huffkit.open(io.BytesIO(packed)) as file:
        opened = file.read()
    decoded = {"decompress": huffkit.decompress(packed),
               "threads": huffkit.decompress(packed, threads=2),
               "decompressor": chunked(len(packed)),
               "chunks of 1000": chunked(1000),
               "chunks of 77": chunked(77),
               "open": opened}
    assert decoded == dict.fromkeys(decoded, original)


@pytest.mark.parametrize("reuses", [15, 16, 17, 31, 32, 33, 4096, 4097,
                                    pytest.param(20_000, marks=pytest.mark.slow)])
def test_a_long_run_of_reuse_blocks_decodes(reuses):
    original, packed = one_byte_run(reuses)
    assert [block.block_type for block in parse(packed)[0].blocks] == (
        [COMPACT_BLOCK] + [REUSE_BLOCK] * reuses)
    assert_every_way(packed, original)


def test_a_mixed_run_decodes():
    pieces, blocks, types = mixed_run()
    packed = frame(*blocks, block_size=64)
    (spec,) = parse(packed)
    assert [block.block_type for block in spec.blocks] == types
    assert [block.data for block in spec.blocks] == pieces  # as the specification reads it
    assert_every_way(packed, b"".join(pieces))


def test_a_mixed_run_in_frames_decodes():
    """The same blocks as three frames, each a compact block and the blocks reusing its
    code: a new frame starts a new run, and its code is never the last frame's."""
    pieces, blocks, types = mixed_run()
    cuts = [index for index, kind in enumerate(types) if kind == COMPACT_BLOCK] + [len(types)]
    packed = b"".join(frame(*blocks[first:last], block_size=64)
                      for first, last in itertools.pairwise(cuts))
    assert len(parse(packed)) == 3
    assert_every_way(packed, b"".join(pieces))


def test_a_damaged_reuse_block_deep_in_a_run_is_named():
    """A CRC broken in block 4,000 of a run: the 3,999 blocks before it are handed out,
    and the error names the block, on both backends alike."""
    original, packed = one_byte_run(4096)
    (info,) = huffkit.frame_info(packed)
    block = info.blocks[3999]
    damaged = bytearray(packed)
    damaged[block.offset + 5] ^= 0x01  # its stored CRC-32
    decompressor = huffkit.HuffmanDecompressor()
    handed = []
    with pytest.raises(huffkit.ChecksumError, match=r"^block 4000: "):
        for at in range(0, len(damaged), 4096):
            handed.append(decompressor.decompress(bytes(damaged[at:at + 4096])))
    assert original.startswith(b"".join(handed))
    assert zlib.crc32(b"a") != int.from_bytes(damaged[block.offset + 5:block.offset + 9],
                                              "little")


def test_a_long_run_decodes_in_a_fresh_process(tmp_path, each_backend):
    """In a fresh interpreter, as the issue's report had it: there the freed buffer of the
    old kernel was unmapped, and 20,001 blocks died with SIGSEGV rather than by luck
    decoding right.  A crash is a return code here, not a lost test run."""
    original, packed = one_byte_run(20_000)
    path = tmp_path / "run.huf"
    path.write_bytes(packed)
    script = ("import sys, huffkit; "
              "sys.stdout.write(str(len(huffkit.decompress(open(sys.argv[1], 'rb').read()))))")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, env={**os.environ, "HUFFKIT_BACKEND": each_backend},
                          timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, str(len(original)), "")


#: The most blocks the run kernel takes in one call (RUN_MOST_BLOCKS in huffman_runs.c).
RUN_MOST_BLOCKS = 4096


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@pytest.mark.parametrize("reuses", [16, 4094, 4095, 4096, 20_000])
def test_the_run_kernel_takes_a_run_in_calls_of_at_most_4096_blocks(reuses):
    """The runs above really go through the kernel, not block by block in Python, and a
    call stops after 4,096 blocks: the next starts from the code it hands back."""
    from huffkit.kernels import _ckernels
    original, packed = one_byte_run(reuses)
    (info,) = huffkit.frame_info(packed)
    starts = [block.offset for block in info.blocks] + [len(packed) - 9]  # then the frame end
    taken = min(reuses + 1, RUN_MOST_BLOCKS)
    data, found, ends, crcs, lengths = _ckernels.decode_huffman_run(
        packed, starts[0], 1, None, 1 << 20, 1)
    one_symbol = bytearray(256)
    one_symbol[A] = 1  # the code {a: 1}
    assert data == original[:taken]
    assert found == starts[:taken + 1]
    assert ends == list(range(1, taken + 1))
    assert crcs == [zlib.crc32(b"a")] * taken
    assert lengths == one_symbol * taken
    if taken < reuses + 1:
        rest = _ckernels.decode_huffman_run(packed, found[-1], 1, bytes(one_symbol), 1 << 20, 1)
        assert rest[1] == starts[taken:taken + min(reuses + 1 - taken, RUN_MOST_BLOCKS) + 1]


_MEMORY_CHILD = """
import sys
from huffkit.kernels import _ckernels

def status(field):  # in KiB
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field))

data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak resident size starts again from here
before = status("VmRSS:")
pos, previous, size = 14, None, 0
while data[pos] != 0:  # up to the frame end
    run, starts, ends, crcs, lengths = _ckernels.decode_huffman_run(data, pos, 1, previous,
                                                                    1 << 20, 1)
    pos, previous, size = starts[-1], lengths[-256:], size + len(run)
print(size, (status("VmHWM:") - before) >> 10)
"""


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer keeps freed memory in quarantine (the regular "
                           "run measures)")
def test_a_long_run_of_tiny_blocks_takes_little_memory(tmp_path):
    """300,001 one-byte blocks in a valid 4.5 MB file: one kernel call planned them all,
    at some 430 bytes a block, and took 230 MiB (a million blocks, 850 MB, far past the
    decoder's memory limit).  A call now takes at most 4,096 blocks, and little memory."""
    original, packed = one_byte_run(300_000)
    path = tmp_path / "run.huf"
    path.write_bytes(packed)
    done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(path)], capture_output=True,
                          text=True, timeout=300, check=True)
    size, grown = map(int, done.stdout.split())
    assert size == len(original)
    assert grown < 16, f"decoding grew the process by {grown} MiB"


@pytest.mark.parametrize("streams", [1, 4])
@pytest.mark.parametrize("bad", range(6))
def test_a_run_block_whose_table_codes_an_absent_byte_is_refused(bad, streams):
    """The run kernel learns which byte values a block holds as it decodes them (no second
    pass over the block): a table that gives a code to a byte the block lacks stops the run
    there, and the reference says what is wrong, whether the block is decoded alone (4
    streams) or side by side with others (1 stream).  The absent byte is 0, as an entry of
    the decoder's table that decodes only one symbol once stood 0 in for its second."""
    rng = random.Random(bad)
    full = {0: 2, A: 2, X: 2, Y: 2}
    pieces = [bytes(rng.choices(b"\0axy", k=300)) + b"\0axy" for _ in range(6)]
    blocks = [compact_block(piece, full, streams=streams) for piece in pieces]
    assert_every_way(frame(*blocks), b"".join(pieces))
    pieces[bad] = bytes(rng.choices(b"axy", k=300))
    blocks[bad] = compact_block(pieces[bad], full, streams=streams)
    with pytest.raises(FormatError, match=r"codes to byte values that do not occur.*\(0\)"):
        huffkit.decompress(frame(*blocks))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_byte_that_occurs_once_is_found_however_it_was_decoded(data):
    """The run kernel learns which byte values a block holds from the table entries it
    decoded through (a value as the first symbol of an entry, as the second of a pair, or
    from the slow path of codes longer than the table), not from the bytes.  A value that
    occurs once, anywhere, with a code of any length, must be found: the block decodes.
    Without it, the same table codes an absent byte, and the block is refused, as the
    reference refuses it.  Three blocks of one stream (decoded side by side) and one of
    four, each with a skewed code of up to 15 bits."""
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))
    distinct = data.draw(st.integers(3, 70))
    values = rng.sample(range(256), distinct)
    # Geometric weights give long codes; the shape only sets the code lengths.
    shape = b"".join(bytes([value]) * max(1, int(3000 * 0.8 ** rank))
                     for rank, value in enumerate(values))
    lengths = section11_lengths(shape, 15)
    once = data.draw(st.sampled_from(values))
    others = [value for value in values if value != once]
    where = data.draw(st.integers(0, 3))  # the block that holds it once
    pieces, absent = [], []
    for index, streams in enumerate((1, 1, 1, 4)):
        body = others + rng.choices(others, k=rng.randrange(200, 3000))
        rng.shuffle(body)
        without = bytes(body)
        at = data.draw(st.integers(0, len(body)))
        pieces.append((without[:at] + bytes([once]) + without[at:]
                       if index == where else bytes([once]) + without, streams))
        absent.append((without, streams) if index == where else pieces[-1])
    packed = frame(*(compact_block(piece, lengths, streams=streams)
                     for piece, streams in pieces))
    original = b"".join(piece for piece, _ in pieces)
    assert huffkit.decompress(packed) == original
    if huffkit.kernels.backend.name() == "c":  # the kernel takes all four itself
        from huffkit.kernels import _ckernels
        (info,) = huffkit.frame_info(packed)
        run = _ckernels.decode_huffman_run(packed, info.blocks[0].offset, 1 << 20, None,
                                           1 << 20, 1 << 20)
        assert run is not None and run[0] == original and len(run[2]) == 4
    damaged = frame(*(compact_block(piece, lengths, streams=streams)
                      for piece, streams in absent))
    with pytest.raises(FormatError, match=rf"^block {where + 1}: .*codes to byte values "
                                          rf"that do not occur in the block \({once}\)"):
        huffkit.decompress(damaged)


@pytest.mark.skipif(huffkit.kernels.backend.name() != "c", reason="the compiled run kernel")
def test_the_run_kernel_reads_a_last_block_from_the_symbols_before_it():
    """A frame's last block (FORMAT.md 17.1, type bit 7) holds block_size minus the symbols
    *before* it: the kernel decodes it with the right count, leaves it to the reference
    when that leaves none, and refuses a negative count of symbols before."""
    from huffkit.kernels import _ckernels
    original = b"abracadabra" * 20
    packed = huffkit.compress(original)
    (block,) = huffkit.frame_info(packed)[0].blocks
    assert packed[block.offset] == 0x85
    run = _ckernels.decode_huffman_run(packed, block.offset, len(original), None, 1 << 20,
                                       1 << 20, 2, 0)
    assert run is not None and run[0] == original and run[1] == [block.offset, len(packed)]
    assert _ckernels.decode_huffman_run(packed, block.offset, len(original), None, 1 << 20,
                                        1 << 20, 2, len(original)) is None
    with pytest.raises(ValueError, match=r"^before must be at least 0$"):
        _ckernels.decode_huffman_run(packed, block.offset, len(original), None, 1 << 20,
                                     1 << 20, 2, -1)
