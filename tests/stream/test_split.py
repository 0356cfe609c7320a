"""Block splitting: blocks cut where the data's statistics change, never a larger file."""

from __future__ import annotations

import json
import random
import zlib

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import corpus_files, requires_corpora
from hypothesis import given, settings
from hypothesis import strategies as st

import huffkit
import huffkit.cli
import huffkit.corpora
from huffkit.format.frame import pack_frame_end, pack_frame_header
from huffkit.format.layout import BLOCK_HUFFMAN_COMPACT
from huffkit.format.tables import pack_code_table, plain_table_size
from huffkit.stream.pieces import (
    LIMITS_TRIED,
    SEARCHED_BELOW,
    _ans_bounds,
    _plan_ans_pieces,
    _write_ans_pieces,
    encode_pieces,
    encode_split,
    huffman_block_floor,
    own_code,
)
from huffkit.stream.split import CELL, split_points

CODERS = ("huffman", "ans")


def segments(*parts: tuple[bytes, int], seed: int = 7) -> bytes:
    """Concatenated runs, each of *length* bytes drawn from its own *alphabet*."""
    rng = random.Random(seed)
    return b"".join(bytes(rng.choices(alphabet, k=length)) for alphabet, length in parts)


def counted_pieces(ends: list[int], symbols: np.ndarray) -> np.ndarray:
    """The byte counts of the pieces of *symbols* that end at *ends*: a row a piece."""
    return np.array([np.bincount(symbols[start:end], minlength=256)
                     for start, end in zip([0, *ends[:-1]], ends, strict=True)])


def on_each_backend(work):
    """``{"numpy": work(), "c": work()}``, each run on that backend."""
    from huffkit.kernels import backend
    results = {}
    previous = backend.name()
    try:
        for name in ("numpy", "c"):
            backend.use(name)
            results[name] = work()
    finally:
        backend.use(previous)
    return results


SHIFTING = segments((b"ab", 40_000), (bytes(range(256)), 40_000), (b"xyz ", 40_000),
                    (b"0123456789", 30_000))


@pytest.mark.parametrize("coder", CODERS)
def test_changing_statistics_are_split(coder):
    whole = huffkit.compress(SHIFTING, coder=coder, split=False)
    split = huffkit.compress(SHIFTING, coder=coder)  # splitting is the default
    assert huffkit.decompress(split) == SHIFTING
    blocks = huffkit.frame_info(split)[0].blocks
    assert len(blocks) >= 4  # at least one block per segment
    assert len(split) < 0.8 * len(whole)
    # The blocks end at the segments' ends, to within a cell of the grid.
    ends = np.cumsum([block.original_size for block in blocks])
    for boundary in (40_000, 80_000, 120_000):
        assert np.min(np.abs(ends - boundary)) <= CELL


@pytest.mark.usefixtures("each_backend")
def test_the_split_points_follow_the_segments():
    symbols = np.frombuffer(SHIFTING, dtype=np.uint8)
    ends, counts = split_points(symbols, coder="huffman", max_block=1 << 20)
    assert ends[-1] == len(SHIFTING)
    assert ends == sorted(ends)
    assert counts.shape == (len(ends), 256)
    assert counts.sum(axis=1).tolist() == np.diff([0, *ends]).tolist()
    start = 0
    for end, row in zip(ends, counts, strict=True):
        assert np.array_equal(row, np.bincount(symbols[start:end], minlength=256))
        start = end
    # Short data is one block; blocks are never longer than asked.
    short, short_counts = split_points(symbols[:CELL], coder="huffman", max_block=1 << 20)
    assert short == [CELL]
    assert np.array_equal(short_counts, [np.bincount(symbols[:CELL], minlength=256)])
    limited, _ = split_points(symbols, coder="ans", max_block=3 * CELL)
    assert max(np.diff([0, *limited])) <= 3 * CELL


@requires_corpora
@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.name)
@pytest.mark.parametrize("coder", CODERS)
def test_corpora_split_round_trip_and_never_grow(path, coder):
    data = path.read_bytes()
    split = huffkit.compress(data, coder=coder, split=True)
    assert huffkit.decompress(split) == data
    assert len(split) <= len(huffkit.compress(data, coder=coder))


@settings(max_examples=40, deadline=None)
@given(parts=st.lists(st.tuples(st.binary(min_size=1, max_size=12),
                                st.integers(1, 30_000)), min_size=1, max_size=5),
       coder=st.sampled_from(CODERS), block_size=st.sampled_from([1 << 16, 1 << 20]))
def test_property_split_round_trips_and_never_grows(parts, coder, block_size):
    data = segments(*parts)
    split = huffkit.compress(data, coder=coder, split=True, block_size=block_size)
    assert huffkit.decompress(split) == data
    assert len(split) <= len(huffkit.compress(data, coder=coder, block_size=block_size))


@pytest.mark.usefixtures("each_backend")
def test_split_is_the_same_on_each_backend_and_thread_count():
    expected = huffkit.compress(SHIFTING * 3, split=True, block_size=100_000)
    for threads in (1, 3):
        assert huffkit.compress(SHIFTING * 3, split=True, block_size=100_000,
                                threads=threads) == expected


def test_split_leaves_other_alphabets_and_codebooks_alone():
    text = huffkit.corpora.path("korean.txt").read_bytes() * 4
    for alphabet in ("utf8", "pairs"):
        assert (huffkit.compress(text, alphabet=alphabet, split=True)
                == huffkit.compress(text, alphabet=alphabet))
    model = huffkit.Codebook.from_distribution(huffkit.Distribution.from_bytes(SHIFTING))
    assert (huffkit.compress(SHIFTING, codebook=model, split=True)
            == huffkit.compress(SHIFTING, codebook=model))


def test_ledger_blocks_and_adaptive_kl():
    packed = huffkit.compress(SHIFTING, split=True)
    ledger = huffkit.inspect(packed, blocks=True)
    info = huffkit.frame_info(packed)[0]
    assert len(ledger.blocks) == len(info.blocks)
    start = 0
    for row, block in zip(ledger.blocks, info.blocks, strict=True):
        assert (row.frame, row.start, row.length, row.symbols) == (
            1, start, block.original_size, block.symbols)
        assert (row.compressed_size, row.table_size) == (block.size, block.table_size)
        piece = np.frombuffer(SHIFTING[start:start + row.length], dtype=np.uint8)
        assert row.entropy == pytest.approx(huffkit.entropy(np.bincount(piece)))
        assert row.mean_code_length == pytest.approx(block.payload_bits / block.symbols)
        start += row.length
    assert start == len(SHIFTING)
    # Blocks that follow the data beat the file's one static code: D < 0 against H0.
    assert ledger.kl_divergence < -0.5
    assert huffkit.analyze(SHIFTING, split=True, blocks=True) == ledger
    assert huffkit.inspect(packed).blocks is None
    assert ledger.to_dict()["blocks"][0]["start"] == 0


def test_cli_split_and_blocks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").write_bytes(SHIFTING)
    runner = CliRunner()
    result = runner.invoke(huffkit.cli.main, ["compress", "--split", "data"],
                           catch_exceptions=False)
    assert result.exit_code == 0
    assert (tmp_path / "data.huf").read_bytes() == huffkit.compress(SHIFTING, split=True)
    result = runner.invoke(huffkit.cli.main, ["inspect", "--blocks", "--json", "data.huf"],
                           catch_exceptions=False)
    assert result.exit_code == 0
    rows = json.loads(result.stdout)["blocks"]
    (frame,) = huffkit.frame_info((tmp_path / "data.huf").read_bytes())
    assert [row["length"] for row in rows] == [block.original_size for block in frame.blocks]
    result = runner.invoke(huffkit.cli.main, ["analyze", "--split", "--blocks", "data"],
                           catch_exceptions=False)
    assert result.exit_code == 0
    assert "per block (entropy and code length in bits per symbol):" in result.stdout
    table = result.stdout.split("per block")[1].splitlines()[2:]
    assert len(table) == len(rows)
    assert table[0].split()[:4] == ["1", "1", "0", f"{rows[0]['length']:,}"]


def test_files_split_when_asked(tmp_path):
    path = tmp_path / "shifting.huf"
    with huffkit.open(path, "wb", split=True, block_size=100_000) as stream:
        stream.write(SHIFTING[:70_000])
        stream.write(SHIFTING[70_000:])
    assert path.read_bytes() == huffkit.compress(SHIFTING, split=True, block_size=100_000)
    with huffkit.open(path) as stream:
        assert stream.read() == SHIFTING
    with pytest.raises(ValueError, match="apply only when writing"):
        huffkit.HuffmanFile(path, "rb", split=True)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**6), min_size=256, max_size=256).filter(any),
       st.sampled_from([None, 8, 15, 31]))
def test_table_sizes_and_codes_without_building_them(weights, limit):
    from huffkit.kernels import backend
    from huffkit.models.codebook import canonical_codes, optimal_lengths
    lengths = optimal_lengths(np.array(weights), limit if limit and limit >= 8 else None)
    assert plain_table_size(lengths) == len(pack_code_table(lengths))
    for name in ("c", "numpy") if backend.unavailable is None else ("numpy",):
        previous = backend.name()
        backend.use(name)
        try:
            assert np.array_equal(backend.kernels.canonical_codes(lengths),
                                  canonical_codes(lengths))
        finally:
            backend.use(previous)


def table_bytes(lengths: np.ndarray) -> int:
    """The smaller of a code's compact and plain tables (FORMAT.md 16.1 and 6)."""
    from huffkit.format.tables import pack_compact_table
    compact = pack_compact_table(lengths)
    plain = plain_table_size(lengths)
    return plain if compact is None else min(len(compact), plain)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**5), min_size=256, max_size=256).filter(
           lambda weights: sum(map(bool, weights)) >= 3),
       st.sampled_from([8, 11, 15, 31]), st.integers(0, 8))
def test_a_pieces_code_is_the_cheapest_of_its_limits(weights, limit, skew):
    """FORMAT.md 16.3: of the code within the limit and the codes limited to each of the
    LIMITS_TRIED lengths below its longest, the one whose payload and smaller table take
    the fewest bits, the longer limit on a tie; each code found on its own here."""
    from huffkit.models.codebook import limited_lengths, optimal_lengths
    counts = np.array(weights, dtype=np.int64)
    counts[:skew] *= 1000  # a few heavy bytes: long codes for the rest
    if np.count_nonzero(counts) > 1 << limit:
        return
    first = optimal_lengths(counts, limit)
    least = (int(np.count_nonzero(counts)) - 1).bit_length()
    longest = int(first.max())
    candidates = [first] + [limited_lengths(counts, shorter) for shorter in
                            range(longest - 1, max(least, longest - LIMITS_TRIED) - 1, -1)]
    costs = [int(np.dot(counts, lengths)) + 8 * table_bytes(lengths) for lengths in candidates]
    best = candidates[costs.index(min(costs))]
    lengths, _, table = own_code(counts, limit)
    assert np.array_equal(lengths, best) and len(table) == table_bytes(best)
    assert int(lengths.max()) <= limit
    unsearched, _, _ = own_code(counts, limit, search=False)
    assert np.array_equal(unsearched, first)


def test_the_search_is_made_below_65536_symbols_only():
    """A chunk of data of fewer than SEARCHED_BELOW symbols gets the search; one of more
    keeps the code within the limit, on both backends alike."""
    rng = random.Random(16)
    words = [bytes(rng.choices(b"etaoinshrdlucmfwypvbgkqjxz", k=rng.randint(1, 9)))
             for _ in range(400)]
    text = b" ".join(rng.choices(words, k=20_000))
    # 128 rare bytes, of 1 to 7 each, spread evenly in random order (no cut pays): codes of
    # 13 to 15 bits, which a limit of 13 makes equal, and the compact table half as large.
    rare = list(b"".join(bytes([128 + k]) * (1 + 6 * k % 7) for k in range(128)))
    rng.shuffle(rare)
    step = SEARCHED_BELOW // len(rare)
    data = b"".join(text[i * step:(i + 1) * step - 1] + bytes(rare[i:i + 1])
                    for i in range(len(rare)))
    small, large = data[:SEARCHED_BELOW - 1], data[:SEARCHED_BELOW]
    for data, searched in [(small, True), (large, False)]:
        assert len(data) == SEARCHED_BELOW - (1 if searched else 0)
        packed = on_each_backend(lambda data=data: huffkit.compress(data, split=False))
        assert packed["numpy"] == packed["c"]
        split = on_each_backend(lambda data=data: huffkit.compress(data))
        assert split["numpy"] == split["c"] and huffkit.decompress(split["c"]) == data
        (block,) = huffkit.frame_info(split["c"])[0].blocks
        (unsplit,) = huffkit.frame_info(packed["c"])[0].blocks  # section 11's code
        assert (block.max_code_length < unsplit.max_code_length) is searched
        counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
        chosen, _, table = own_code(counts, 15, searched)
        assert (block.max_code_length, block.table_size) == (chosen.max(), len(table))


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=50_000), st.integers(0, 3),
       st.lists(st.integers(1, 49_999), max_size=4))
def test_size_bounds_hold_without_coding(data, skew, cuts):
    """The sizes found from counts alone bound the real ones: the Huffman floor of a whole
    block, and both bounds of rANS pieces (reused tables included)."""

    data = data + bytes(len(data) * skew)  # some runs of zeros: low entropy, few words
    symbols = np.frombuffer(data, dtype=np.uint8)
    ends = sorted({cut for cut in cuts if cut < len(data)} | {len(data)})
    counts = counted_pieces(ends, symbols)
    real = encode_pieces(data, symbols, [len(data)], counts.sum(axis=0)[np.newaxis],
                                   15, "huffman")
    floor = huffman_block_floor(counts.sum(axis=0), 15)
    assert floor <= sum(memoryview(part).nbytes for part in real)
    plans = _plan_ans_pieces(counts)
    least, most = _ans_bounds(plans)
    real = encode_pieces(data, symbols, ends, counts, 15, "ans")
    assert least <= sum(memoryview(part).nbytes for part in real) <= most


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(st.binary(min_size=1, max_size=40), st.integers(1, 20_000)),
                      min_size=1, max_size=6),
       limit=st.sampled_from([8, 9, 11, 15, 20, 31]))
def test_compiled_pieces_match_the_reference(parts, limit):
    """The C kernel writes the blocks of many pieces exactly as the Python reference does,
    code-length limits, reused codes and both table kinds included."""

    data = segments(*parts)
    symbols = np.frombuffer(data, dtype=np.uint8)
    ends = np.cumsum([length for _, length in parts]).tolist()
    counts = counted_pieces(ends, symbols)
    coded = on_each_backend(lambda: b"".join(
        encode_pieces(data, symbols, ends, counts, limit, "huffman")))
    assert coded["c"] == coded["numpy"]


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@pytest.mark.parametrize("limit", [15, 18, 19, 24, 31])
def test_compiled_pieces_of_long_codes_match_the_reference(limit):
    """The C writer puts codes of at most 18 bits three to a store and longer ones one at a
    time: byte k occurring Fibonacci(k) times gives codes up to 25 bits, written as the
    reference writes them, in one piece and in two."""
    fibonacci = [1, 1]
    while len(fibonacci) < 26:
        fibonacci.append(fibonacci[-1] + fibonacci[-2])
    data = bytearray(value for value, count in enumerate(fibonacci) for _ in range(count))
    random.Random(limit).shuffle(data)
    data = bytes(data)
    symbols = np.frombuffer(data, dtype=np.uint8)
    for ends in ([len(data)], [len(data) // 3, len(data)]):
        counts = counted_pieces(ends, symbols)
        coded = on_each_backend(lambda ends=ends, counts=counts: b"".join(
            encode_pieces(data, symbols, ends, counts, limit, "huffman")))
        assert coded["c"] == coded["numpy"]
    # The per-block writer of split=False (huffman_encode.c) takes the same way for bytes.
    unsplit = on_each_backend(lambda: huffkit.compress(data, max_code_length=limit, split=False))
    assert unsplit["c"] == unsplit["numpy"] and huffkit.decompress(unsplit["c"]) == data
    blocks = huffkit.frame_info(unsplit["c"])[0].blocks
    assert max(block.max_code_length for block in blocks) == min(limit, 25)


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
def test_the_compiled_writer_refuses_counts_that_leave_a_byte_without_a_code():
    from huffkit.kernels import compiled
    data = b"abracadabra"
    symbols = np.frombuffer(data, dtype=np.uint8)
    counts = np.bincount(symbols, minlength=256)[np.newaxis]
    counts[0, ord("d")] = 0  # the data's d gets no code
    counts[0, ord("a")] += 1
    with pytest.raises(ValueError, match=r"^a symbol has no code: the counts are wrong$"):
        compiled.encode_huffman_pieces(symbols, [len(data)], counts, [zlib.crc32(data)], 15)
    # The per-block writer, given a code that leaves the data's d without one.
    lengths = np.zeros(256, dtype=np.uint8)
    lengths[[ord("a"), ord("b"), ord("r"), ord("c")]] = [1, 2, 3, 3]
    codes = huffkit.kernels.reference.canonical_codes(lengths)
    with pytest.raises(ValueError, match=r"^a symbol is outside the code table or has no code$"):
        compiled.encode_streams(symbols, codes, lengths, [(0, len(data))])


@requires_corpora
@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@pytest.mark.parametrize("coder", CODERS)
@pytest.mark.parametrize("max_block", [3 * CELL, 1 << 20])
def test_compiled_merging_matches_the_reference(coder, max_block):
    """The C kernel merges cells into the same segments as the numpy reference, to the cell,
    on every corpus file large enough to split."""
    from huffkit.kernels import compiled
    from huffkit.kernels.reference.split import merge_segments
    for path in corpus_files():
        symbols = np.frombuffer(path.read_bytes(), dtype=np.uint8)
        if symbols.size < 2 * CELL:
            continue
        cells = compiled.count_cells(symbols, CELL)
        expected = merge_segments(cells.copy(), coder, max_block)
        assert np.array_equal(compiled.merge_cells(cells, coder, max_block), expected)


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(st.binary(min_size=1, max_size=40), st.integers(1, 20_000)),
                      min_size=1, max_size=6),
       cuts=st.lists(st.integers(1, 100_000), max_size=5),
       limit=st.sampled_from([8, 11, 15]))
def test_compiled_split_choice_matches_the_reference(parts, cuts, limit):
    """Pieces or the whole: the C kernel chooses and writes exactly as the reference does,
    whether the pieces win (the data changes where it is cut), lose (cuts at random places
    in data that does not change), or must both be coded to tell."""

    data = segments(*parts)
    symbols = np.frombuffer(data, dtype=np.uint8)
    ends = sorted({cut for cut in cuts if cut < len(data)}
                  | set(np.cumsum([length for _, length in parts]).tolist()))
    counts = counted_pieces(ends, symbols)
    coded = on_each_backend(lambda: b"".join(
        encode_split(data, symbols, ends, counts, limit, "huffman")))
    assert coded["c"] == coded["numpy"]
    # The blocks decode to the data, within a frame of their own.
    header, end = pack_frame_header(1 << 20), pack_frame_end(len(data))
    assert huffkit.decompress(header + coded["c"] + end) == data


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(st.binary(min_size=1, max_size=60), st.integers(1, 30_000)),
                      min_size=1, max_size=6))
def test_compiled_ans_plans_match_the_reference(parts):
    """rANS pieces planned in C get the reference's tables, reuses, ideal bits (the same
    doubles, summed in the same order) and lanes."""

    data = segments(*parts)
    symbols = np.frombuffer(data, dtype=np.uint8)
    ends = np.cumsum([length for _, length in parts]).tolist()
    counts = counted_pieces(ends, symbols)
    plans = on_each_backend(lambda: _plan_ans_pieces(counts))
    for compiled, reference in zip(plans["c"], plans["numpy"], strict=True):
        assert (compiled.kind, compiled.table, compiled.ideal_bits, compiled.lanes,
                compiled.symbols) == (reference.kind, reference.table, reference.ideal_bits,
                                      reference.lanes, reference.symbols)
        assert np.array_equal(compiled.used.freqs, reference.used.freqs)


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
@settings(max_examples=60, deadline=None)
@given(parts=st.lists(st.tuples(st.binary(min_size=1, max_size=60), st.integers(1, 5_000)),
                      min_size=1, max_size=12),
       lanes=st.lists(st.integers(1, 6), min_size=12, max_size=12))
def test_compiled_ans_pieces_are_coded_as_the_reference_codes_them(parts, lanes):
    """The C kernel codes several pieces at once (up to four in turn, the next taking a
    finished one's place), and each piece's lanes and words come out as the reference's,
    whatever their lengths, lanes and (reused) tables."""
    import dataclasses


    data = segments(*parts)
    symbols = np.frombuffer(data, dtype=np.uint8)
    ends = np.cumsum([length for _, length in parts]).tolist()
    plans = [dataclasses.replace(plan, lanes=min(lane, plan.symbols)) for plan, lane
             in zip(_plan_ans_pieces(counted_pieces(ends, symbols)),
                    lanes[:len(parts)], strict=True)]
    coded = on_each_backend(lambda: b"".join(
        bytes(part) for part in _write_ans_pieces(data, symbols, ends, plans)))
    assert coded["c"] == coded["numpy"]


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
def test_compiled_ans_pieces_refuse_a_symbol_their_table_lacks():
    from huffkit.kernels import compiled
    from huffkit.models.frequency_table import FrequencyTable, quantize
    symbols = np.frombuffer(b"aaaab" * 100 + b"cccd" * 100, dtype=np.uint8)
    tables = [FrequencyTable(quantize(np.bincount(symbols[:500], minlength=256), 16), 16)] * 2
    with pytest.raises(ValueError, match="a symbol has no frequency in its piece's table"):
        compiled.ans_encode_pieces(symbols, [500, 900],
                                     np.array([table.freqs for table in tables]),
                                     np.array([table.cumulative for table in tables]), 16,
                                     [1, 2])
    with pytest.raises(ValueError, match="do not describe pieces of the symbols"):
        compiled.ans_encode_pieces(symbols, [500, 800],
                                     np.array([table.freqs for table in tables]),
                                     np.array([table.cumulative for table in tables]), 16,
                                     [1, 2])


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
def test_compiled_ans_plans_reuse_a_table_as_the_reference_does():

    from huffkit.format.layout import BLOCK_ANS, BLOCK_ANS_REUSE
    rng = np.random.default_rng(1)
    runs = [rng.integers(0, 40, 20_000), rng.integers(0, 40, 20_000),
            rng.integers(100, 140, 20_000)]
    counts = np.array([np.bincount(run, minlength=256) for run in runs])
    plans = on_each_backend(lambda: _plan_ans_pieces(counts))
    kinds = {name: [(plan.kind, plan.lanes, plan.ideal_bits) for plan in found]
             for name, found in plans.items()}
    for found in plans.values():
        assert found[1].used is found[0].used  # the second piece codes with the first's
    assert kinds["c"] == kinds["numpy"]
    assert [kind for kind, _, _ in kinds["c"]] == [BLOCK_ANS, BLOCK_ANS_REUSE, BLOCK_ANS]


@pytest.mark.usefixtures("each_backend")
@pytest.mark.parametrize("coder", CODERS)
def test_split_data_whose_codes_cannot_meet_the_limit_is_refused(coder):
    """A length limit too tight for a split block's byte values is the reference's
    CodebookError, whether the compiled planner or the reference meets it first."""
    assert len(SHIFTING) >= 2 * CELL and len(set(SHIFTING)) == 256
    if coder == "ans":  # rANS has no code lengths: the limit does not bind it
        assert huffkit.decompress(huffkit.compress(SHIFTING, coder=coder,
                                                   max_code_length=7)) == SHIFTING
        return
    with pytest.raises(huffkit.CodebookError,
                       match="256 distinct symbols need codes of at least 8 bits, but "
                             "max_code_length is 7"):
        huffkit.compress(SHIFTING, max_code_length=7)


# -- decoding runs of blocks in one kernel call ----------------------------------------------


def _mixed_frame() -> tuple[bytes, bytes, list[int]]:
    """A frame of blocks of every kind a run meets: compact (0x05), reused (0x06), and a plain
    table (0x01, which the kernel leaves to the reference) whose code the next block reuses.
    (original, frame, block offsets)."""

    rng = random.Random(5)

    def shuffled(data: bytes) -> bytes:
        copy = bytearray(data)
        rng.shuffle(copy)
        return bytes(copy)

    first = bytes(rng.choices(b"abcdefgh", k=3000))
    third = bytes(rng.choices(range(40, 120), k=2500))
    pieces = [first, shuffled(first), third, shuffled(third), bytes(rng.choices(b"xyz", k=999))]
    original = b"".join(pieces)
    ends = np.cumsum([len(piece) for piece in pieces]).tolist()
    symbols = np.frombuffer(original, dtype=np.uint8)
    body = b"".join(bytes(part) for part in encode_pieces(
        original, symbols, ends, counted_pieces(ends, symbols), 15, "huffman"))
    frame = (pack_frame_header(1 << 16, coder="huffman") + body
             + pack_frame_end(len(original)))
    # The third block's compact table, swapped for a plain table of the same code.
    # (Taken from a frame of two blocks: the first is not its frame's last.)
    plain = huffkit.compress(third + b"?", split=False, block_size=len(third))
    plain_block = huffkit.frame_info(plain)[0].blocks[0]
    third_block = huffkit.frame_info(frame)[0].blocks[2]
    frame = (frame[:third_block.offset]
             + plain[plain_block.offset:plain_block.offset + plain_block.size]
             + frame[third_block.offset + third_block.size:])
    offsets = [block.offset for block in huffkit.frame_info(frame)[0].blocks]
    assert [frame[offset] for offset in offsets] == [0x05, 0x06, 0x01, 0x06, 0x05]
    return original, frame, offsets


def test_runs_of_blocks_decode_as_the_reference_decodes_them():
    original, frame, _ = _mixed_frame()
    for chunk in (1, 7, 100, len(frame)):
        def streamed(chunk=chunk) -> bytes:
            decompressor = huffkit.HuffmanDecompressor()
            return b"".join(decompressor.decompress(frame[at:at + chunk])
                            for at in range(0, len(frame), chunk))
        assert on_each_backend(streamed) == {"numpy": original, "c": original}
    assert on_each_backend(lambda: huffkit.decompress(frame)) == {"numpy": original,
                                                                 "c": original}


@pytest.mark.parametrize("damage", ["crc", "table", "stream"])
def test_a_damaged_block_in_a_run_is_reported_as_the_reference_reports_it(damage):
    """The kernel stops before a damaged block; the reference names it, after the blocks
    before it were handed out."""
    original, frame, offsets = _mixed_frame()
    damaged = bytearray(frame)
    target = offsets[4] if damage != "stream" else offsets[1]
    where = {"crc": target + 5, "table": target + 9, "stream": offsets[2] - 2}[damage]
    damaged[where] ^= 0x10
    damaged = bytes(damaged)

    def report():
        decompressor = huffkit.HuffmanDecompressor()
        handed = []
        try:
            for at in range(0, len(damaged), 1000):
                handed.append(decompressor.decompress(damaged[at:at + 1000]))
        except huffkit.FormatError as error:
            return b"".join(handed), f"{type(error).__name__}: {error}"
        return b"".join(handed), "no error"

    found = on_each_backend(report)
    assert found["c"] == found["numpy"]
    handed, said = found["c"]
    assert original.startswith(handed)
    block = 5 if damage != "stream" else 2
    assert said.startswith(("ChecksumError: block", "FormatError: block")), said
    assert f"block {block}:" in said, said


def test_a_run_refuses_a_table_that_codes_a_byte_the_block_lacks():
    """A one-symbol block whose compact table gives a second byte a code: the code is
    complete and decodes the stream to the same bytes, so the CRC passes; only the rule
    that a block's table codes exactly its bytes (FORMAT.md section 9) catches it."""

    from huffkit.format.tables import pack_compact_table
    original = b"a" * 50
    frame = huffkit.compress(original)
    (block,) = huffkit.frame_info(frame)[0].blocks
    assert frame[block.offset] == BLOCK_HUFFMAN_COMPACT | 0x80  # the frame's last block
    one, two = np.zeros(256, dtype=np.int64), np.zeros(256, dtype=np.int64)
    one[97] = two[97] = two[98] = 1
    table = pack_compact_table(one)
    start = block.offset + 5  # type and CRC: the last block stores no symbol count
    assert frame[start:start + len(table)] == table
    damaged = frame[:start] + pack_compact_table(two) + frame[start + len(table):]

    def error() -> str:
        with pytest.raises(huffkit.FormatError) as raised:
            huffkit.decompress(damaged)
        return str(raised.value)

    said = on_each_backend(error)
    assert said["c"] == said["numpy"] == ("block 1: code table gives codes to byte values "
                                          "that do not occur in the block (98): the table "
                                          "is damaged")


@pytest.mark.skipif(huffkit.kernels.backend.unavailable is not None, reason="no compiled kernels")
def test_the_run_kernel_refuses_bad_arguments_and_takes_no_other_block():
    from huffkit.kernels import _ckernels
    _, frame, offsets = _mixed_frame()
    with pytest.raises(ValueError, match="previous must be 256 code lengths, or None"):
        _ckernels.decode_huffman_run(frame, offsets[0], 1 << 16, b"\x01" * 255, 1 << 20, 1 << 20,
                                     2)
    with pytest.raises(ValueError, match="pos is outside the buffer"):
        _ckernels.decode_huffman_run(frame, len(frame) + 1, 1 << 16, None, 1 << 20, 1 << 20,
                                     2)
    # A plain table (0x01), a reuse block with no code before it, a block larger than
    # `largest`: none is taken, and the reference decodes it.
    assert _ckernels.decode_huffman_run(frame, offsets[2], 1 << 16, None, 1 << 20,
                                        1 << 20, 2) is None
    assert _ckernels.decode_huffman_run(frame, offsets[1], 1 << 16, None, 1 << 20,
                                        1 << 20, 2) is None
    assert _ckernels.decode_huffman_run(frame, offsets[0], 1 << 16, None, 1 << 20,
                                        2999, 2) is None
    # Read as version 1 (u32 sizes), the version-2 blocks make no sense: none is taken.
    assert _ckernels.decode_huffman_run(frame, offsets[0], 1 << 16, None, 1 << 20,
                                        1 << 20, 1) is None
    # The first two blocks, a run stopping before the plain table.
    data, starts, ends, crcs, lengths = _ckernels.decode_huffman_run(
        frame, offsets[0], 1 << 16, None, 1 << 20, 1 << 20, 2)
    original = _mixed_frame()[0]
    assert (starts, ends, len(lengths)) == (offsets[:3], [3000, 6000], 512)
    assert data == original[:6000]
    assert crcs == [zlib.crc32(original[:3000]), zlib.crc32(original[3000:6000])]
    assert lengths[:256] == lengths[256:]  # the second block reuses the first's code
