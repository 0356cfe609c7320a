/*
 * The module huffkit._ckernels: the kernels of the other sources (kernels.h lists them),
 * each under the name codec/kernels/compiled.py calls it by.
 */

#include "kernels.h"

static PyMethodDef methods[] = {
    {"count_bytes", hk_count_bytes, METH_VARARGS, "count_bytes(data, counts): a byte histogram."},
    {"join", hk_join, METH_VARARGS, "join(parts, threads) -> b''.join(parts), copied by threads."},
    {"compact_symbol_counts", hk_compact_symbol_counts, METH_VARARGS,
     "compact_symbol_counts(lengths) -> how often each run-length symbol occurs."},
    {"write_compact_table", hk_write_compact_table, METH_VARARGS,
     "write_compact_table(lengths, code_length_lengths) -> the compact table's bytes."},
    {"parse_compact_table", hk_parse_compact_table, METH_VARARGS,
     "parse_compact_table(buffer, pos) -> (256 lengths, end), or None if it is not valid."},
    {"encode_huffman_pieces", hk_encode_huffman_pieces, METH_VARARGS,
     "encode_huffman_pieces(symbols, ends, counts, crcs, max_length, out) -> bytes written."},
    {"encode_huffman_split", hk_encode_huffman_split, METH_VARARGS,
     "encode_huffman_split(symbols, ends, counts, crcs, whole_crc, max_length, out) -> bytes."},
    {"merge_cells", hk_merge_cells, METH_VARARGS,
     "merge_cells(counts, huffman, max_block, log2_table, bits_per_length, lengths) -> segments."},
    {"pack_varints", hk_pack_varints, METH_VARARGS, "pack_varints(values) -> LEB128 bytes."},
    {"plan_ans_pieces", hk_plan_ans_pieces, METH_VARARGS,
     "plan_ans_pieces(counts, costs, freqs, ideals, lanes, reused) -> compact tables."},
    {"write_compact_frequencies", hk_write_compact_frequencies, METH_VARARGS,
     "write_compact_frequencies(listed, freqs, precision) -> bytes, or None for the "
     "reference."},
    {"decode_ans_run", hk_decode_ans_run, METH_VARARGS,
     "decode_ans_run(buffer, pos, block_size, previous, previous_precision, budget, largest, "
     "before) -> None or (data, starts, ends, freqs, precision)."},
    {"sequential_encode", hk_sequential_encode, METH_VARARGS,
     "sequential_encode(data, order, out) -> bytes written, or -1 when out is too small."},
    {"sequential_decode", hk_sequential_decode, METH_VARARGS,
     "sequential_decode(payload, count, order, out) -> None."},
    {"sequential_costs", hk_sequential_costs, METH_VARARGS,
     "sequential_costs(data, order, costs) -> None: each byte's cost in bits (float64)."},
    {"static_encode", hk_static_encode, METH_VARARGS,
     "static_encode(data, order) -> (model, payload): data coded with its static order-k model."},
    {"static_decode", hk_static_decode, METH_VARARGS,
     "static_decode(model, payload, count, order, out) -> None."},
    {"static_costs", hk_static_costs, METH_VARARGS,
     "static_costs(model, data, order, costs) -> None: each byte's cost in bits (float64)."},
    {"probability_encode", hk_probability_encode, METH_VARARGS,
     "probability_encode(starts, freqs, precision, out) -> where the payload starts in out."},
    {"probability_decode", hk_probability_decode, METH_VARARGS,
     "probability_decode(payload, cursor, cumulative, alphabet_size, precision, out) -> None."},
    {"read_compact_frequencies", hk_read_compact_frequencies, METH_VARARGS,
     "read_compact_frequencies(buffer, pos, alphabet_size) -> None or (listed, freqs, "
     "precision, end)."},
    {"quantize_counts", hk_quantize_counts, METH_VARARGS,
     "quantize_counts(counts, precision, freqs) -> True, or False for the reference to do."},
    {"count_cells", hk_count_cells, METH_VARARGS,
     "count_cells(data, cell, counts): a byte histogram per run of cell bytes."},
    {"count_distinct_bytes", hk_count_distinct_bytes, METH_VARARGS,
     "count_distinct_bytes(data) -> how many distinct byte values data holds."},
    {"canonical_codes", hk_canonical_codes, METH_VARARGS,
     "canonical_codes(lengths, codes): each symbol's canonical codeword."},
    {"huffman_depths", hk_huffman_depths, METH_VARARGS,
     "huffman_depths(sorted_weights, depths): Huffman's tree depths, two-queue, leaves first."},
    {"huffman_encode", hk_huffman_encode, METH_VARARGS,
     "huffman_encode(symbols, width, codes, lengths, out) -> bits written."},
    {"huffman_decode", hk_huffman_decode, METH_VARARGS,
     "huffman_decode(streams, stream_bits, count, lengths, width) -> the symbols, as bytes."},
    {"ans_encode", hk_ans_encode, METH_VARARGS,
     "ans_encode(symbols, width, freqs, cumulative, precision, lanes, states, words) -> words."},
    {"decode_huffman_run", hk_decode_huffman_run, METH_VARARGS,
     "decode_huffman_run(buffer, pos, block_size, previous, budget, largest) -> None or "
     "(data, starts, ends, crcs, lengths)."},
    {"parse_varints", hk_parse_varints, METH_VARARGS,
     "parse_varints(buffer, pos, count, longest, values) -> end position, or None."},
    {"ans_encode_pieces", hk_ans_encode_pieces, METH_VARARGS,
     "ans_encode_pieces(symbols, ends, freqs, cumulative, precision, lanes, states, words, "
     "counts) -> None."},
    {"ans_decode", hk_ans_decode, METH_VARARGS,
     "ans_decode(words, states, count, freqs, cumulative, precision, width) -> bytes."},
    {"cm_encode", hk_cm_encode, METH_VARARGS,
     "cm_encode(data, out) -> bytes written, or -1 when out is too small."},
    {"cm_decode", hk_cm_decode, METH_VARARGS, "cm_decode(payload, count, out) -> None."},
    {"cm_costs", hk_cm_costs, METH_VARARGS,
     "cm_costs(data, costs) -> None: each byte's cost in bits (float64) to the cm model."},
    {"crc32", hk_crc32, METH_VARARGS,
     "crc32(data, value=0, portable=False) -> zlib.crc32(data, value); portable: by tables "
     "alone, whatever the CPU offers."},
    {"crc32_method", hk_crc32_method, METH_NOARGS,
     "crc32_method() -> 'pclmul' or 'slice8': how crc32 runs on this CPU."},
    {NULL, NULL, 0, NULL},
};

/* Which compiler built the kernels: their speed depends on it (huffkit --version says). */
#if defined(__clang__)
#define HK_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define HK_COMPILER "gcc " __VERSION__
#else
#define HK_COMPILER "an unknown compiler"
#endif

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ckernels",
    "huffkit's compiled kernels (see codec/kernels/c/).", -1, methods,
};

PyMODINIT_FUNC PyInit__ckernels(void) {
    hk_crc32_init();
    PyObject *m = PyModule_Create(&module);
    PyObject *cm_memory = PyLong_FromSize_t(hk_cm_memory());
    /* The wrappers size the pieces kernels' output from it (pieces_room). */
    if (m && (PyModule_AddIntConstant(m, "PIECE_OVERHEAD", PIECE_OVERHEAD) < 0
              || PyModule_AddStringConstant(m, "COMPILER", HK_COMPILER) < 0
              /* the cm model's largest tables, in bytes (context_mixing.c) */
              || PyModule_AddObjectRef(m, "CM_MEMORY", cm_memory) < 0))
        Py_CLEAR(m);
    Py_XDECREF(cm_memory);
    return m;
}
