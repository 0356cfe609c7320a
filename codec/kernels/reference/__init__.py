"""The numpy kernels: the reference backend, one module per kind of kernel.

This package is the interface every backend offers (``kernels.compiled`` has
the same functions, compiled from ``kernels/c``); ``kernels.backend`` picks
one.  Both give bit-identical results, which the test suite checks.
Everything here works on whole arrays: there is no per-symbol Python loop.
A kernel that exists only compiled, a faster way to do what a caller can do
itself, answers None here, and the caller takes its own path.
"""

from .context_mixing import CM_MEMORY, cm_costs, cm_decode, cm_encode, cm_memory
from .counting import count_cells, count_distinct, count_symbols, crc32, join
from .huffman import (
    LONGEST_DECODABLE_CODE,
    decode_huffman_run,
    decode_stream,
    decode_streams,
    encode_huffman_pieces,
    encode_huffman_split,
    encode_stream,
    encode_streams,
    require_bitarray,
    stream_ranges,
)
from .probability_coder import probability_decode, probability_encode
from .rans import (
    ANS_LOWER_BOUND,
    ans_decode,
    ans_decode_counted,
    ans_encode,
    ans_encode_pieces,
    decode_ans_run,
    plan_ans_pieces,
    quantize_counts,
)
from .sequential import sequential_costs, sequential_decode, sequential_encode
from .split import merge_cells
from .static_model import (
    STATIC_ORDERS,
    static_costs,
    static_decode,
    static_encode,
    static_model_memory,
)
from .tables import (
    canonical_codes,
    compact_symbol_counts,
    huffman_depths,
    pack_varints,
    parse_varints,
    read_compact_frequencies,
    read_compact_table,
    write_compact_frequencies,
    write_compact_table,
)

__all__ = [
    "ANS_LOWER_BOUND",
    "CM_MEMORY",
    "LONGEST_DECODABLE_CODE",
    "STATIC_ORDERS",
    "ans_decode",
    "ans_decode_counted",
    "ans_encode",
    "ans_encode_pieces",
    "canonical_codes",
    "cm_costs",
    "cm_decode",
    "cm_encode",
    "cm_memory",
    "compact_symbol_counts",
    "count_cells",
    "count_distinct",
    "count_symbols",
    "crc32",
    "decode_ans_run",
    "decode_huffman_run",
    "decode_stream",
    "decode_streams",
    "encode_huffman_pieces",
    "encode_huffman_split",
    "encode_stream",
    "encode_streams",
    "huffman_depths",
    "join",
    "merge_cells",
    "pack_varints",
    "parse_varints",
    "plan_ans_pieces",
    "probability_decode",
    "probability_encode",
    "quantize_counts",
    "read_compact_frequencies",
    "read_compact_table",
    "require_bitarray",
    "sequential_costs",
    "sequential_decode",
    "sequential_encode",
    "static_costs",
    "static_decode",
    "static_encode",
    "static_model_memory",
    "stream_ranges",
    "write_compact_frequencies",
    "write_compact_table",
]
