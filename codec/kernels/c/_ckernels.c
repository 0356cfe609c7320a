/*
 * huffkit's compiled kernels: the hot loops of codec/_kernels.py (the numpy reference
 * backend), in C.  Each function does the same work as its numpy counterpart and gives
 * bit-identical results; the test suite checks that on both backends.
 *
 * The Python wrappers in codec/_c_backend.py pass contiguous arrays in; the decoders
 * return their symbols as a new bytes object (1 or 4 bytes each), and the encoders write
 * into arrays the wrappers allocate.  So this file needs no numpy headers: it only reads
 * and writes buffers, and it releases the GIL while it does.  Every index it takes from its
 * inputs is checked, so a damaged or hostile block cannot make it read or write outside
 * its buffers.
 *
 *   count_bytes(data, counts)                       histogram of a byte string
 *   huffman_encode(symbols, width, codes, lengths, out) -> bits
 *   count_distinct_bytes(data) -> how many distinct byte values it holds
 *   join(parts, threads) -> b"".join(parts), the copying shared among threads
 *   huffman_decode(streams, stream_bits, count, lengths, width) -> symbols (bytes)
 *   ans_encode(symbols, width, freqs, cumulative, precision, lanes, states, words) -> words
 *   ans_encode_pieces(...): ans_encode of consecutive pieces, their steps overlapping
 *   decode_huffman_run(...): a run of a byte frame's compact and reuse blocks, decoded
 *   ans_decode(words, states, count, freqs, cumulative, precision, width) -> symbols
 *
 * Symbols are 1-byte (width 1: bytes) or 4-byte (width 4: positions in a block's list of
 * symbols) unsigned integers.  Bit strings are MSB first, as FORMAT.md section 1 says.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#endif

/* The longest code the format allows (FORMAT.md, rule C1). */
#define LONGEST_CODE 31
/* Bits looked up at once by the decoder's table: 2^12 entries of 4 bytes fit in L1. */
#define TABLE_BITS 12
/* rANS: states live in [2^32, 2^64); words are 32 bits. */
#define ANS_LOWER ((uint64_t)1 << 32)
/* rANS decode uses a slot -> symbol table up to this precision, a binary search above. */
#define ANS_TABLE_PRECISION 18

/* -- small helpers -------------------------------------------------------------------- */

static inline uint64_t load_be64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void store_be64(uint8_t *p, uint64_t v) {
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

static inline uint32_t symbol_at(const uint8_t *symbols, int width, Py_ssize_t i) {
    if (width == 1)
        return symbols[i];
    uint32_t v;
    memcpy(&v, symbols + 4 * i, 4);
    return v;
}

static int check_width(int width) {
    if (width != 1 && width != 4) {
        PyErr_Format(PyExc_ValueError, "symbol width must be 1 or 4 bytes, not %d", width);
        return 0;
    }
    return 1;
}

static int writable(Py_buffer *view, Py_ssize_t need, const char *what) {
    if (view->len < need) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes; %zd are needed", what, view->len,
                     need);
        return 0;
    }
    return 1;
}

/* -- counting ------------------------------------------------------------------------- */

static PyObject *count_bytes(PyObject *self, PyObject *args) {
    Py_buffer data, counts;
    if (!PyArg_ParseTuple(args, "y*w*", &data, &counts))
        return NULL;
    if (!writable(&counts, 256 * 8, "counts")) {
        PyBuffer_Release(&data);
        PyBuffer_Release(&counts);
        return NULL;
    }
    const uint8_t *p = data.buf;
    Py_ssize_t n = data.len;
    int64_t *out = counts.buf;
    Py_BEGIN_ALLOW_THREADS
    /* Four tables, so that runs of one byte value do not wait on one counter. */
    uint64_t tables[4][256];
    memset(tables, 0, sizeof tables);
    Py_ssize_t i = 0;
    for (; i + 4 <= n; i += 4) {
        tables[0][p[i]]++;
        tables[1][p[i + 1]]++;
        tables[2][p[i + 2]]++;
        tables[3][p[i + 3]]++;
    }
    for (; i < n; i++)
        tables[0][p[i]]++;
    for (int v = 0; v < 256; v++)
        out[v] = (int64_t)(tables[0][v] + tables[1][v] + tables[2][v] + tables[3][v]);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    PyBuffer_Release(&counts);
    Py_RETURN_NONE;
}

/* The byte histogram of each run of `cell` bytes: a row of 256 counts per run. */
static PyObject *count_cells(PyObject *self, PyObject *args) {
    Py_buffer data, counts;
    Py_ssize_t cell;
    if (!PyArg_ParseTuple(args, "y*nw*", &data, &cell, &counts))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t cells = cell > 0 ? (data.len + cell - 1) / cell : 0;
    if (cell < 1 || cell > 0xFFFFFFFF) {
        PyErr_SetString(PyExc_ValueError, "cells must hold 1 to 2**32 - 1 bytes");
        goto done;
    }
    if (!writable(&counts, cells * 256 * 8, "counts"))
        goto done;
    const uint8_t *p = data.buf;
    int64_t *out = counts.buf;
    Py_BEGIN_ALLOW_THREADS
    uint32_t tables[4][256];  /* as in count_bytes: runs of one value spread over four */
    for (Py_ssize_t c = 0; c < cells; c++) {
        Py_ssize_t i = c * cell, end = i + cell < data.len ? i + cell : data.len;
        memset(tables, 0, sizeof tables);
        for (; i + 4 <= end; i += 4) {
            tables[0][p[i]]++;
            tables[1][p[i + 1]]++;
            tables[2][p[i + 2]]++;
            tables[3][p[i + 3]]++;
        }
        for (; i < end; i++)
            tables[0][p[i]]++;
        int64_t *row = out + 256 * c;
        for (int v = 0; v < 256; v++)
            row[v] = (int64_t)tables[0][v] + tables[1][v] + tables[2][v] + tables[3][v];
    }
    Py_END_ALLOW_THREADS
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&counts);
    return result;
}

/* How many distinct byte values `data` holds: stores only, no counting. */
static PyObject *count_distinct_bytes(PyObject *self, PyObject *args) {
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "y*", &data))
        return NULL;
    const uint8_t *p = data.buf;
    Py_ssize_t n = data.len;
    int distinct = 0;
    Py_BEGIN_ALLOW_THREADS
    uint8_t seen[256] = {0};
    for (Py_ssize_t i = 0; i < n; i++)
        seen[p[i]] = 1;
    for (int v = 0; v < 256; v++)
        distinct += seen[v];
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return PyLong_FromLong(distinct);
}

/* -- Huffman code lengths -------------------------------------------------------------- */

/*
 * Huffman's tree over n >= 2 leaves sorted by (weight, symbol), built with two queues as
 * FORMAT.md section 11 says: take the lighter front of the leaf queue and the merged
 * queue, the leaf when they tie.  Sets depth[0..n) (and uses depth[n..2n-1) too); merged
 * has room for n - 1 weights, parent for 2n - 1 nodes.
 */
static void tree_depths(const double *leaf, Py_ssize_t n, double *merged, Py_ssize_t *parent,
                        Py_ssize_t *depth) {
    Py_ssize_t next_leaf = 0, next_merged = 0, made = 0;
    for (Py_ssize_t k = 0; k < n - 1; k++) {
        Py_ssize_t node[2];
        double weight[2];
        for (int t = 0; t < 2; t++) {
            if (next_leaf < n && (next_merged == made || leaf[next_leaf] <= merged[next_merged])) {
                weight[t] = leaf[next_leaf];
                node[t] = next_leaf++;
            } else {
                weight[t] = merged[next_merged];
                node[t] = n + next_merged++;
            }
        }
        merged[made] = weight[0] + weight[1];
        parent[node[0]] = parent[node[1]] = n + made;
        made++;
    }
    /* A parent always has a larger index than its children: one sweep down from the root. */
    depth[2 * n - 2] = 0;
    for (Py_ssize_t i = 2 * n - 3; i >= 0; i--)
        depth[i] = depth[parent[i]] + 1;
}

/* huffman_depths(sorted_weights, depths): the depths of Huffman's tree (tree_depths). */
static PyObject *huffman_depths(PyObject *self, PyObject *args) {
    Py_buffer weights, depths;
    if (!PyArg_ParseTuple(args, "y*w*", &weights, &depths))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = weights.len / 8;
    double *merged = NULL;
    Py_ssize_t *parent = NULL, *depth = NULL;
    if (n < 2 || weights.len % 8) {
        PyErr_SetString(PyExc_ValueError, "at least two float64 weights are needed");
        goto done;
    }
    if (!writable(&depths, n * 8, "depths"))
        goto done;
    merged = malloc(sizeof(double) * (size_t)(n - 1));
    parent = malloc(sizeof(Py_ssize_t) * (size_t)(2 * n - 1));
    depth = malloc(sizeof(Py_ssize_t) * (size_t)(2 * n - 1));
    if (!merged || !parent || !depth) {
        PyErr_NoMemory();
        goto done;
    }
    const double *leaf = weights.buf;
    Py_BEGIN_ALLOW_THREADS
    tree_depths(leaf, n, merged, parent, depth);
    Py_END_ALLOW_THREADS
    int64_t *out = depths.buf;
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = depth[i];
    result = Py_None;
    Py_INCREF(result);
done:
    free(merged);
    free(parent);
    free(depth);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&depths);
    return result;
}

/* Each symbol's canonical codeword (FORMAT.md, section 7), in order of (length, symbol); 0
 * for a symbol without a code.  Every length is at most LONGEST_CODE. */
static void assign_canonical(const uint8_t *length, Py_ssize_t size, uint64_t *code) {
    uint64_t count[LONGEST_CODE + 2] = {0}, next[LONGEST_CODE + 2] = {0};
    for (Py_ssize_t s = 0; s < size; s++)
        count[length[s]]++;
    count[0] = 0;
    uint64_t value = 0;
    for (int l = 1; l <= LONGEST_CODE; l++) {
        value = (value + count[l - 1]) << 1;
        next[l] = value;
    }
    for (Py_ssize_t s = 0; s < size; s++)
        code[s] = length[s] ? next[length[s]]++ : 0;
}

/* canonical_codes(lengths, codes): each symbol's canonical codeword. */
static PyObject *canonical_codes(PyObject *self, PyObject *args) {
    Py_buffer lengths, codes;
    if (!PyArg_ParseTuple(args, "y*w*", &lengths, &codes))
        return NULL;
    PyObject *result = NULL;
    const uint8_t *length = lengths.buf;
    Py_ssize_t size = lengths.len;
    if (!writable(&codes, size * 8, "codes"))
        goto done;
    for (Py_ssize_t s = 0; s < size; s++) {
        if (length[s] > LONGEST_CODE) {
            PyErr_SetString(PyExc_ValueError, "a code is longer than 31 bits");
            goto done;
        }
    }
    assign_canonical(length, size, codes.buf);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&lengths);
    PyBuffer_Release(&codes);
    return result;
}

/* -- Huffman encoding ------------------------------------------------------------------- */

/*
 * The bits waiting to be written sit at the top of a 64-bit word, `pending` of them.
 * After each code is added, the whole bytes among them are stored (a big-endian store of
 * all 8 bytes; the bytes past the whole ones are rewritten by the next store), so no
 * branch depends on the data.  With codes of at most 31 bits, at most 7 + 31 bits wait.
 * Writes up to 8 bytes past the last whole one; sets *bad for a symbol without a code.
 */
static inline uint64_t put_codes(const uint8_t *in, int width, Py_ssize_t n,
                                 const uint64_t *code, const uint8_t *length, Py_ssize_t size,
                                 uint8_t *dst, int *bad) {
    uint64_t acc = 0, total_bits = 0;
    unsigned pending = 0, missing = 0;
    uint8_t *at = dst;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t s = symbol_at(in, width, i);
        if (s >= (uint32_t)size) {
            *bad = 1;
            break;
        }
        unsigned len = length[s];
        missing |= len == 0;  /* a symbol without a code: the caller's counts were wrong */
        acc |= len ? code[s] << (64 - pending - len) : 0;
        pending += len;
        store_be64(at, acc);
        unsigned whole = pending >> 3;  /* at most 4, so the shift below stays under 64 */
        at += whole;
        acc <<= 8 * whole;
        pending &= 7;
        total_bits += len;
    }
    *bad |= (int)missing;
    return total_bits;
}

/* huffman_encode(symbols, width, codes, lengths, out) -> the bits written to out. */
static PyObject *huffman_encode(PyObject *self, PyObject *args) {
    Py_buffer symbols, codes, lengths, out;
    int width;
    if (!PyArg_ParseTuple(args, "y*iy*y*w*", &symbols, &width, &codes, &lengths, &out))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = 0, size = lengths.len;
    if (!check_width(width))
        goto done;
    n = symbols.len / width;
    if (codes.len != 8 * size) {
        PyErr_SetString(PyExc_ValueError, "codes and lengths differ in size");
        goto done;
    }
    if (width == 1 && size < 256) {
        PyErr_SetString(PyExc_ValueError, "byte symbols need a table of 256 codes");
        goto done;
    }
    const uint8_t *length = lengths.buf;
    for (Py_ssize_t s = 0; s < size; s++) {
        if (length[s] > LONGEST_CODE) {
            PyErr_SetString(PyExc_ValueError, "a code is longer than 31 bits");
            goto done;
        }
    }
    if (!writable(&out, (n * LONGEST_CODE + 7) / 8 + 8, "the output buffer"))
        goto done;
    const uint64_t *code = codes.buf;
    const uint8_t *in = symbols.buf;
    uint8_t *dst = out.buf;
    uint64_t total_bits = 0;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    total_bits = put_codes(in, width, n, code, length, size, dst, &bad);
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "a symbol is outside the code table or has no code");
        goto done;
    }
    result = PyLong_FromUnsignedLongLong(total_bits);
done:
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&codes);
    PyBuffer_Release(&lengths);
    PyBuffer_Release(&out);
    return result;
}

/* -- Huffman decoding ------------------------------------------------------------------- */

/*
 * A canonical code, ready to decode.  `table` maps the next `bits` bits (TABLE_BITS, or
 * fewer when no code is that long) to (symbol << 8 | length); length 0 means "a longer
 * code, or none": the slow path then tries each longer length l, since the codes of
 * length l are the l-bit numbers first[l] .. first[l] + count[l] - 1.
 */
typedef struct {
    unsigned bits;
    unsigned longest;
    uint32_t *table;
    /* For byte symbols: the next `bits` bits to one or two symbols, when two codes fit:
     * (second << 24 | first << 16 | symbols << 8 | bits used); 0 bits used: slow path. */
    uint32_t *pairs;
    uint32_t count[LONGEST_CODE + 1];  /* how many codes have length l */
    uint32_t first[LONGEST_CODE + 1];  /* the first code of length l */
    uint32_t offset[LONGEST_CODE + 1];  /* its index among the symbols in canonical order */
    uint32_t *sorted;  /* the symbols in canonical order: by length, then value */
} Decoder;

static void free_decoder(Decoder *d) {
    free(d->table);
    free(d->pairs);
    free(d->sorted);
}

/*
 * Returns 0 on success, -1 if the lengths are no prefix code (the caller has validated
 * them; this check only keeps the table inside its bounds), -2 without memory.
 */
static int build_decoder(Decoder *d, const uint8_t *length, Py_ssize_t size, int pairs,
                         Py_ssize_t symbols) {
    uint32_t *count = d->count;
    unsigned longest = 0;
    Py_ssize_t coded = 0;
    memset(count, 0, sizeof d->count);
    d->table = NULL;
    d->pairs = NULL;
    d->sorted = NULL;
    for (Py_ssize_t s = 0; s < size; s++) {
        if (length[s] > LONGEST_CODE)
            return -1;
        if (length[s]) {
            count[length[s]]++;
            coded++;
            if (length[s] > longest)
                longest = length[s];
        }
    }
    uint64_t kraft = 0;  /* the Kraft sum, in units of 2^-LONGEST_CODE */
    for (unsigned l = 1; l <= LONGEST_CODE; l++)
        kraft += (uint64_t)count[l] << (LONGEST_CODE - l);
    if (!coded || kraft > ((uint64_t)1 << LONGEST_CODE))
        return -1;
    d->longest = longest;
    /* Filling the table costs 2^bits steps: a block of few symbols gets a smaller one
     * (about an entry for every eight symbols, at least 2^9), its longer codes then taking
     * the slow path. */
    unsigned bits = 9;
    while (bits < TABLE_BITS && ((Py_ssize_t)1 << (bits + 3)) < symbols)
        bits++;
    d->bits = longest < bits ? longest : bits;
    d->sorted = malloc(sizeof(uint32_t) * coded);
    d->table = calloc((size_t)1 << d->bits, sizeof(uint32_t));
    if (!d->sorted || !d->table)
        return -2;
    uint32_t code = 0, index = 0;  /* count[0] is 0, so the first length starts at code 0 */
    for (unsigned l = 1; l <= LONGEST_CODE; l++) {
        code = (code + count[l - 1]) << 1;
        d->first[l] = code;
        d->offset[l] = index;
        index += count[l];
    }
    /* Canonical order: by length, then by symbol value. */
    uint32_t next[LONGEST_CODE + 1];
    memcpy(next, d->offset, sizeof next);
    for (Py_ssize_t s = 0; s < size; s++)
        if (length[s])
            d->sorted[next[length[s]]++] = (uint32_t)s;
    /* Fill the table: each code of at most `bits` bits covers 2^(bits - l) entries. */
    for (unsigned l = 1; l <= d->bits; l++) {
        for (uint32_t k = 0; k < count[l]; k++) {
            uint32_t symbol = d->sorted[d->offset[l] + k];
            uint32_t start = (d->first[l] + k) << (d->bits - l);
            uint32_t span = (uint32_t)1 << (d->bits - l);
            for (uint32_t e = 0; e < span; e++)
                d->table[start + e] = symbol << 8 | l;
        }
    }
    if (!pairs)
        return 0;
    /* Two symbols per lookup where both codes fit in the `bits` bits looked up. */
    const uint32_t entries = (uint32_t)1 << d->bits, mask = entries - 1;
    d->pairs = malloc(sizeof(uint32_t) * entries);
    if (!d->pairs)
        return -2;
    for (uint32_t index = 0; index < entries; index++) {
        uint32_t first = d->table[index];
        unsigned used = first & 0xFF;
        uint32_t entry = used ? (first >> 8) << 16 | 1u << 8 | used : 0;
        if (used && used < d->bits) {
            uint32_t second = d->table[(index << used) & mask];
            unsigned more = second & 0xFF;
            if (more && used + more <= d->bits)
                entry = (second >> 8) << 24 | (first >> 8) << 16 | 2u << 8 | (used + more);
        }
        d->pairs[index] = entry;
    }
    return 0;
}

/* The slow path: a code longer than the table's bits, or no code at all (returns 0). */
static inline unsigned decode_long(const Decoder *d, uint64_t window, uint32_t *symbol) {
    uint32_t top = (uint32_t)(window >> 32);
    for (unsigned l = d->bits + 1; l <= d->longest; l++) {
        uint32_t rank = (top >> (32 - l)) - d->first[l];  /* wraps around below first[l] */
        if (rank < d->count[l]) {
            *symbol = d->sorted[d->offset[l] + rank];
            return l;
        }
    }
    return 0;
}

enum { STREAM_OK = 0, STREAM_MIDDLE = 1, STREAM_SHORT = 2, STREAM_LONG = 3, STREAM_PADDING = 4 };

/* Zero bytes after each stream: loads of 8 bytes up to 8 bytes past its end stay inside. */
#define STREAM_PADDING_BYTES 16

/* Where the decoding of one stream stands. */
typedef struct {
    const uint8_t *buf;  /* the stream, followed by STREAM_PADDING_BYTES zero bytes */
    uint64_t p;  /* bits read */
    uint64_t bits;  /* the stream's length in bits */
    Py_ssize_t i;  /* symbols decoded */
    Py_ssize_t count;  /* symbols it holds */
    uint8_t *out;  /* where its symbols go */
    int failed;  /* the fast loop met a bit string that begins no codeword */
} Cursor;

static inline __attribute__((always_inline)) void put_symbol(uint8_t *out, Py_ssize_t i,
                                                              uint32_t symbol, const int width) {
    if (width == 1)
        out[i] = (uint8_t)symbol;
    else
        memcpy(out + 4 * i, &symbol, 4);
}

/*
 * decode_fast for byte symbols: each lookup gives one or two of them (two whenever both
 * codes fit in the bits looked up, as they mostly do in text), so the chain of dependent
 * lookups is about half as long.  Both bytes are always stored; the second is overwritten
 * when only one was decoded, which is why a stream needs 2 * per_load symbols left.
 *
 * Stream k is decoded with code d[k]: the streams of one block share a code, and a run
 * decodes the one stream of each of several small blocks side by side, each with its own
 * (their lookups would otherwise wait on each other).  It stops when any stream nears its
 * end.  Inlined with a constant n and one code repeated, the code's fields are read once.
 */
static inline __attribute__((always_inline)) void decode_fast_pairs_with(
        const Decoder *const *d, Cursor *c, const int n) {
    unsigned shift[4], lookups = 64;
    for (int k = 0; k < n; k++) {
        shift[k] = 64 - d[k]->bits;
        unsigned each = 57 / (d[k]->longest > d[k]->bits ? d[k]->longest : d[k]->bits);
        lookups = each < lookups ? each : lookups;
    }
    for (;;) {
        for (int k = 0; k < n; k++)
            if (c[k].count - c[k].i < 2 * (Py_ssize_t)lookups || c[k].p > c[k].bits ||
                c[k].failed)
                return;
        uint64_t window[4];
        for (int k = 0; k < n; k++)
            window[k] = load_be64(c[k].buf + (c[k].p >> 3)) << (c[k].p & 7);
        for (unsigned r = 0; r < lookups; r++) {
            for (int k = 0; k < n; k++) {
                uint32_t entry = d[k]->pairs[window[k] >> shift[k]];
                unsigned used = entry & 0xFF;
                if (__builtin_expect(used != 0, 1)) {
                    c[k].out[c[k].i] = (uint8_t)(entry >> 16);
                    c[k].out[c[k].i + 1] = (uint8_t)(entry >> 24);
                    c[k].i += (entry >> 8) & 3;
                } else {
                    uint32_t symbol;
                    used = decode_long(d[k], window[k], &symbol);
                    if (!used) {
                        c[k].failed = 1;
                        used = 1;  /* keep going harmlessly; the careful loop reports it */
                    }
                    c[k].out[c[k].i++] = (uint8_t)symbol;
                }
                c[k].p += used;
                window[k] <<= used;
            }
        }
    }
}

/* decode_fast_pairs_with, the n streams of one block and its code d. */
static inline __attribute__((always_inline)) void decode_fast_pairs(const Decoder *d, Cursor *c,
                                                                     const int n) {
    const Decoder *const same[4] = {d, d, d, d};
    decode_fast_pairs_with(same, c, n);
}

/*
 * The fast loop, over `n` streams at once (the CPU overlaps their independent chains of
 * table lookups).  Each round loads 64 bits per stream and decodes `per_load` codes from
 * them; it checks only that each stream's position is inside the stream before its load,
 * which keeps every load inside the buffer.  It stops as soon as a stream has fewer than
 * `per_load` symbols left or has run past its end; the careful loop finishes from there.
 */
static inline __attribute__((always_inline)) void decode_fast(const Decoder *d, Cursor *c,
                                                               const int n, const int width) {
    const unsigned shift = 64 - d->bits;
    const unsigned per_load = 57 / d->longest;
    const uint32_t *table = d->table;
    if (width == 1) {
        decode_fast_pairs(d, c, n);
        return;
    }
    for (;;) {
        for (int k = 0; k < n; k++)
            if (c[k].count - c[k].i < (Py_ssize_t)per_load || c[k].p > c[k].bits || c[k].failed)
                return;
        uint64_t window[4];
        for (int k = 0; k < n; k++)
            window[k] = load_be64(c[k].buf + (c[k].p >> 3)) << (c[k].p & 7);
        for (unsigned r = 0; r < per_load; r++) {
            for (int k = 0; k < n; k++) {
                uint32_t entry = table[window[k] >> shift];
                unsigned len = entry & 0xFF;
                uint32_t symbol = entry >> 8;
                if (__builtin_expect(!len, 0)) {
                    len = decode_long(d, window[k], &symbol);
                    if (!len) {
                        c[k].failed = 1;
                        len = 1;  /* keep going harmlessly; the careful loop reports it */
                    }
                }
                put_symbol(c[k].out, c[k].i++, symbol, width);
                c[k].p += len;
                window[k] <<= len;
            }
        }
    }
}

/*
 * The careful loop: decode the rest of one stream, checking each code against the end of
 * the stream, and tell exactly what is wrong, as the numpy backend words it.  On failure
 * *decodable is the number of whole codewords the stream holds (STREAM_SHORT, _LONG).
 */
static int decode_careful(const Decoder *d, Cursor *c, const int width, Py_ssize_t *decodable) {
    const unsigned shift = 64 - d->bits;
    const uint32_t *table = d->table;
    uint64_t p = c->p;
    for (Py_ssize_t i = c->i; i < c->count; i++) {
        uint64_t window = load_be64(c->buf + (p >> 3)) << (p & 7);
        uint32_t entry = table[window >> shift];
        unsigned len = entry & 0xFF;
        uint32_t symbol = entry >> 8;
        if (!len && !(len = decode_long(d, window, &symbol))) {
            *decodable = i;
            return STREAM_MIDDLE;  /* a bit string that begins no codeword */
        }
        if (p + len > c->bits) {
            *decodable = i;
            return p == c->bits ? STREAM_SHORT : STREAM_MIDDLE;
        }
        put_symbol(c->out, i, symbol, width);
        p += len;
    }
    if (p == c->bits)
        return STREAM_OK;
    /* Count the codewords the rest holds, as the numpy backend would report them. */
    Py_ssize_t extra = 0;
    while (p < c->bits) {
        uint64_t window = load_be64(c->buf + (p >> 3)) << (p & 7);
        uint32_t entry = table[window >> shift], symbol;
        unsigned len = entry & 0xFF;
        if (!len)
            len = decode_long(d, window, &symbol);
        if (!len || p + len > c->bits)
            return STREAM_MIDDLE;
        p += len;
        extra++;
    }
    *decodable = c->count + extra;
    return STREAM_LONG;
}

/* After the fast loop: each stream's padding, then the careful loop from where the fast
 * one stopped (or from the start, to say what is wrong). */
static int finish_streams(const Decoder *d, Cursor *c, Py_ssize_t streams, const int width,
                          Py_ssize_t *decodable, Py_ssize_t *expected) {
    for (Py_ssize_t k = 0; k < streams; k++) {
        Py_ssize_t size = (Py_ssize_t)((c[k].bits + 7) / 8);
        unsigned spare = (unsigned)(8 * size - c[k].bits);
        if (spare && (c[k].buf[size - 1] & ((1u << spare) - 1)))
            return STREAM_PADDING;
        if (c[k].failed || c[k].p > c[k].bits) {  /* decode it again, to say what is wrong */
            c[k].i = 0;
            c[k].p = 0;
        }
        *expected = c[k].count;
        int status = decode_careful(d, c + k, width, decodable);
        if (status != STREAM_OK)
            return status;
    }
    return STREAM_OK;
}

/* Decode every stream: the fast loop where it can, then the careful one, stream by stream. */
static int decode_streams(const Decoder *d, Cursor *c, Py_ssize_t streams, const int width,
                          Py_ssize_t *decodable, Py_ssize_t *expected) {
    if (streams == 4)
        decode_fast(d, c, 4, width);
    else
        for (Py_ssize_t k = 0; k < streams; k++)
            decode_fast(d, c + k, 1, width);
    return finish_streams(d, c, streams, width, decodable, expected);
}

static PyObject *huffman_decode(PyObject *self, PyObject *args) {
    Py_buffer streams, lengths;
    PyObject *bit_list;
    Py_ssize_t count;
    int width;
    if (!PyArg_ParseTuple(args, "y*O!ny*i", &streams, &PyTuple_Type, &bit_list, &count,
                          &lengths, &width))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    Decoder decoder = {0};
    uint8_t *padded = NULL;
    Py_ssize_t stream_count = PyTuple_GET_SIZE(bit_list);
    Cursor cursors[16];
    Py_ssize_t offsets[17];
    if (!check_width(width))
        goto done;
    if (stream_count < 1 || stream_count > 16 || count < 0) {
        PyErr_SetString(PyExc_ValueError, "1 to 16 streams, and a count of symbols, are needed");
        goto done;
    }
    offsets[0] = 0;
    for (Py_ssize_t k = 0; k < stream_count; k++) {
        unsigned long long value = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(bit_list, k));
        if (PyErr_Occurred())
            goto done;
        /* More bits than the buffer holds would wrap the byte count below around. */
        if (value > 8 * (unsigned long long)streams.len) {
            PyErr_SetString(PyExc_ValueError, "the streams' bit counts do not match their bytes");
            goto done;
        }
        cursors[k].bits = value;
        offsets[k + 1] = offsets[k] + (Py_ssize_t)((value + 7) / 8);
    }
    if (offsets[stream_count] != streams.len) {
        PyErr_SetString(PyExc_ValueError, "the streams' bit counts do not match their bytes");
        goto done;
    }
    if (width == 1 && lengths.len > 256) {
        PyErr_SetString(PyExc_ValueError, "byte output needs a code of at most 256 symbols");
        goto done;
    }
    /* The lookup table keeps a symbol in 24 bits (entry = symbol << 8 | length). */
    if (lengths.len > ((Py_ssize_t)1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "a code has at most 2**24 symbols");
        goto done;
    }
    if (count > PY_SSIZE_T_MAX / 4) {  /* count * width must not overflow */
        PyErr_SetString(PyExc_ValueError, "the count of symbols is too large");
        goto done;
    }
    decoded = PyBytes_FromStringAndSize(NULL, count * width);
    if (!decoded)
        goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(decoded);
    int built = build_decoder(&decoder, lengths.buf, lengths.len, width == 1, count);
    if (built == -2) {
        PyErr_NoMemory();
        goto done;
    }
    if (built) {
        PyErr_SetString(PyExc_ValueError, "the code lengths are not a code");
        goto done;
    }
    padded = malloc((size_t)streams.len + STREAM_PADDING_BYTES * (size_t)stream_count);
    if (!padded) {
        PyErr_NoMemory();
        goto done;
    }
    int status;
    Py_ssize_t decodable = 0, expected = 0;
    const Py_ssize_t per_stream = (count + stream_count - 1) / stream_count;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < stream_count; k++) {
        Py_ssize_t size = offsets[k + 1] - offsets[k];
        uint8_t *buf = padded + offsets[k] + STREAM_PADDING_BYTES * k;
        memcpy(buf, (const uint8_t *)streams.buf + offsets[k], (size_t)size);
        memset(buf + size, 0, STREAM_PADDING_BYTES);
        Py_ssize_t start = k * per_stream < count ? k * per_stream : count;
        Py_ssize_t end = (k + 1) * per_stream < count ? (k + 1) * per_stream : count;
        cursors[k].buf = buf;
        cursors[k].p = 0;
        cursors[k].i = 0;
        cursors[k].count = end - start;
        cursors[k].out = out + start * width;
        cursors[k].failed = 0;
    }
    if (width == 1)
        status = decode_streams(&decoder, cursors, stream_count, 1, &decodable, &expected);
    else
        status = decode_streams(&decoder, cursors, stream_count, 4, &decodable, &expected);
    Py_END_ALLOW_THREADS
    switch (status) {
    case STREAM_OK:
        result = decoded;
        decoded = NULL;
        break;
    case STREAM_PADDING:
        PyErr_SetString(PyExc_ValueError, "padding bits after the end of a stream are not zero");
        break;
    case STREAM_MIDDLE:
        PyErr_SetString(PyExc_ValueError, "a stream ends in the middle of a codeword or holds a "
                                          "bit string that is not a codeword");
        break;
    default:
        PyErr_Format(PyExc_ValueError, "a stream decodes to %zd symbols, but its header says %zd",
                     decodable, expected);
    }
done:
    Py_XDECREF(decoded);
    free(padded);
    free_decoder(&decoder);
    PyBuffer_Release(&streams);
    PyBuffer_Release(&lengths);
    return result;
}

/* -- rANS ------------------------------------------------------------------------------- */

static int check_table(Py_buffer *freqs, Py_buffer *cumulative, int precision) {
    if (precision < 1 || precision > 24) {
        PyErr_SetString(PyExc_ValueError, "precision must be 1 to 24 bits");
        return 0;
    }
    if (freqs->len != cumulative->len || freqs->len % 4) {
        PyErr_SetString(PyExc_ValueError, "freqs and cumulative must be u32 arrays of one size");
        return 0;
    }
    const uint32_t *f = freqs->buf, *c = cumulative->buf;
    Py_ssize_t size = freqs->len / 4;
    uint64_t total = 0;
    for (Py_ssize_t s = 0; s < size; s++) {
        if (c[s] != total) {
            PyErr_SetString(PyExc_ValueError, "cumulative is not the running sum of freqs");
            return 0;
        }
        total += f[s];
    }
    if (total != ((uint64_t)1 << precision)) {
        PyErr_SetString(PyExc_ValueError, "the frequencies do not sum to 2**precision");
        return 0;
    }
    return 1;
}

/*
 * Lane k codes symbols k, k + K, k + 2K, ...; the encoder runs backwards, and writes the
 * words it emits backwards from the end of `words`, so that they come out in the order
 * the decoder reads them: by step, then by lane.
 */
/*
 * How the encoder codes one symbol of frequency f (and cumulative frequency c) at
 * precision p: x' = x + bias + q * (M - f), with q = x / f found by a multiplication, an
 * addition and shifts instead of a division, exact for every 64-bit x: the "branchfree"
 * unsigned division of libdivide (Ridiculous Fish), q = (((x - h) >> 1) + h) >> shift with
 * h the high half of x * multiplier.  A frequency of 1 takes multiplier 2^64 - 1 and shift
 * 0, so q = x - 1, and bias c + M - 1 to make up for it.
 */
typedef struct {
    uint64_t limit;  /* a state at least this large first sheds a word */
    uint64_t multiplier;
    uint64_t bias;
    uint64_t complement;  /* M - f */
    int shift;
} EncodeSymbol;

static void prepare_symbol(EncodeSymbol *e, uint32_t f, uint32_t c, int precision) {
    uint64_t total = (uint64_t)1 << precision;
    e->limit = f == total ? UINT64_MAX : (uint64_t)f << (64 - precision);
    e->complement = total - f;
    e->bias = c;
    e->multiplier = 0;
    e->shift = 0;
    if (f == 1) {
        e->multiplier = UINT64_MAX;
        e->bias = c + total - 1;
    } else if (f > 1) {
        int log = 63 - __builtin_clzll(f);
        if ((f & (f - 1)) == 0) {  /* a power of two: h = 0, and x >> 1 >> (log - 1) */
            e->shift = log - 1;
            return;
        }
        unsigned __int128 numerator = (unsigned __int128)1 << (64 + log);
        uint64_t m = (uint64_t)(numerator / f), remainder = (uint64_t)(numerator % f);
        uint64_t twice = remainder + remainder;
        m += m + (twice >= f || twice < remainder);
        e->multiplier = m + 1;
        e->shift = log;
    }
}

/* One rANS step: shed a word if the state is too large for f, then code the symbol. */
static inline __attribute__((always_inline)) uint64_t ans_step(uint64_t state,
                                                               const EncodeSymbol *e,
                                                               uint32_t *w, Py_ssize_t *at) {
    /* Shed a word without a branch, which the data would make unpredictable: the word is
     * always written, and kept only if shed.  (*at >= 1: it falls at most once a symbol,
     * and symbols remain.) */
    int shed = state >= e->limit;
    w[*at - 1] = (uint32_t)state;
    *at -= shed;
    state >>= 32 * shed;
    /* x' = (x / f) * M + x % f + c = x + c + (x / f) * (M - f) */
    uint64_t high = (uint64_t)(((unsigned __int128)state * e->multiplier) >> 64);
    uint64_t q = (((state - high) >> 1) + high) >> e->shift;
    return state + e->bias + q * e->complement;
}

/*
 * Codes n symbols on `lanes` lanes, symbol i on lane i mod lanes, last symbol first, the
 * words written backwards from w[*at].  Returns 0 for a symbol without a frequency.  Inlined
 * with a constant `lanes`, the lane loop unrolls and the states stay in registers.
 */
static inline __attribute__((always_inline)) int ans_encode_lanes(
        const uint8_t *in, int width, Py_ssize_t n, const Py_ssize_t lanes,
        const EncodeSymbol *coding, const uint32_t *f, Py_ssize_t size, uint64_t *x,
        uint32_t *w, Py_ssize_t *at) {
    Py_ssize_t full = n / lanes;
    for (Py_ssize_t k = n - full * lanes - 1; k >= 0; k--) {  /* the last, partial step */
        uint32_t s = symbol_at(in, width, full * lanes + k);
        if (s >= (uint32_t)size || !f[s])
            return 0;
        x[k] = ans_step(x[k], &coding[s], w, at);
    }
    for (Py_ssize_t step = full - 1; step >= 0; step--) {
        for (Py_ssize_t k = lanes - 1; k >= 0; k--) {
            uint32_t s = symbol_at(in, width, step * lanes + k);
            if (s >= (uint32_t)size || !f[s])
                return 0;
            x[k] = ans_step(x[k], &coding[s], w, at);
        }
    }
    return 1;
}

static PyObject *ans_encode(PyObject *self, PyObject *args) {
    Py_buffer symbols, freqs, cumulative, states, words;
    int width, precision;
    Py_ssize_t lanes;
    if (!PyArg_ParseTuple(args, "y*iy*y*inw*w*", &symbols, &width, &freqs, &cumulative,
                          &precision, &lanes, &states, &words))
        return NULL;
    PyObject *result = NULL;
    EncodeSymbol *coding = NULL;
    if (!check_width(width) || !check_table(&freqs, &cumulative, precision))
        goto done;
    Py_ssize_t n = symbols.len / width, size = freqs.len / 4;
    if (lanes < 1 || (n && lanes > n)) {
        PyErr_SetString(PyExc_ValueError, "lanes must be 1 to the number of symbols");
        goto done;
    }
    if (!writable(&states, 8 * lanes, "states") || !writable(&words, 4 * n, "words"))
        goto done;
    coding = malloc(sizeof(EncodeSymbol) * (size_t)(size ? size : 1));
    if (!coding) {
        PyErr_NoMemory();
        goto done;
    }
    const uint32_t *f = freqs.buf, *c = cumulative.buf;
    for (Py_ssize_t s = 0; s < size; s++)
        prepare_symbol(&coding[s], f[s], c[s], precision);
    const uint8_t *in = symbols.buf;
    uint64_t *x = states.buf;
    uint32_t *w = words.buf;
    Py_ssize_t at = n;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    /* Up to four lanes, a version of the loop for each count keeps the states in registers:
     * with one or two lanes, each step waits for the last, and memory would add to that. */
    uint64_t held[4];
    uint64_t *state = lanes <= 4 ? held : x;
    for (Py_ssize_t k = 0; k < lanes; k++)
        state[k] = ANS_LOWER;
    switch (lanes) {
    case 1: bad = !ans_encode_lanes(in, width, n, 1, coding, f, size, state, w, &at); break;
    case 2: bad = !ans_encode_lanes(in, width, n, 2, coding, f, size, state, w, &at); break;
    case 3: bad = !ans_encode_lanes(in, width, n, 3, coding, f, size, state, w, &at); break;
    case 4: bad = !ans_encode_lanes(in, width, n, 4, coding, f, size, state, w, &at); break;
    default: bad = !ans_encode_lanes(in, width, n, lanes, coding, f, size, state, w, &at);
    }
    if (state != x)
        memcpy(x, state, sizeof(uint64_t) * (size_t)lanes);
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "a symbol has no frequency in the table");
        goto done;
    }
    /* Move the words to the front of the buffer, where the caller expects them. */
    memmove(w, w + at, sizeof(uint32_t) * (size_t)(n - at));
    result = PyLong_FromSsize_t(n - at);
done:
    free(coding);
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    PyBuffer_Release(&states);
    PyBuffer_Release(&words);
    return result;
}

/*
 * ans_encode_pieces(symbols, ends, freqs, cumulative, precision, lanes, states, words,
 *                   counts) -> None
 *
 * Codes consecutive pieces of byte symbols (piece p ends at ends[p]) as ans_encode codes
 * each: piece p with row p of freqs and cumulative (256 uint32 each) on lanes[p] lanes.
 * Its final states go to states (the pieces' lanes one after another), its words to
 * words[start of p ...], counts[p] of them.  The output is ans_encode's, piece by piece.
 *
 * Why: a piece of low entropy gets one or two lanes (each lane costs bytes), and then
 * every step waits for the one before, so the core idles.  Here up to ENCODE_SLOTS pieces
 * of fewer than four lanes are coded at once, a symbol of each in turn, so their steps
 * overlap; a piece of four lanes or more is coded by itself.  A piece's own
 * symbols are still coded in the order ans_encode codes them (the last first), which is
 * all its words' order depends on.
 */
#define ENCODE_SLOTS 4

typedef struct {
    const uint8_t *in;            /* the piece's symbols */
    const EncodeSymbol *coding;   /* its table */
    const uint32_t *f;
    uint64_t *x;                  /* its lanes' states */
    uint32_t *w;                  /* its words, written backwards from w[at] */
    Py_ssize_t at, next, lane, lanes, piece;
} EncodeSlot;

/*
 * Codes the next `run` symbols of each of the `active` slots, a symbol of each in turn.
 * Returns 0 for a symbol without a frequency.  Inlined with a constant `active`, the slot
 * loop unrolls, and the slots' fields are copied to locals that the compiler can keep in
 * registers (through the struct, every store of a state might change them, as far as
 * it can tell).
 */
static inline __attribute__((always_inline)) int encode_slots(EncodeSlot *slot,
                                                              const int active,
                                                              Py_ssize_t run) {
    const uint8_t *in[ENCODE_SLOTS];
    const EncodeSymbol *coding[ENCODE_SLOTS];
    const uint32_t *f[ENCODE_SLOTS];
    uint64_t *x[ENCODE_SLOTS];
    uint32_t *w[ENCODE_SLOTS];
    Py_ssize_t at[ENCODE_SLOTS], next[ENCODE_SLOTS], lane[ENCODE_SLOTS], lanes[ENCODE_SLOTS];
    for (int a = 0; a < active; a++) {
        in[a] = slot[a].in;
        coding[a] = slot[a].coding;
        f[a] = slot[a].f;
        x[a] = slot[a].x;
        w[a] = slot[a].w;
        at[a] = slot[a].at;
        next[a] = slot[a].next;
        lane[a] = slot[a].lane;
        lanes[a] = slot[a].lanes;
    }
    unsigned missing = 0;
    for (Py_ssize_t r = 0; r < run; r++) {
        for (int a = 0; a < active; a++) {
            uint8_t s = in[a][next[a]--];
            missing |= !f[a][s];
            x[a][lane[a]] = ans_step(x[a][lane[a]], &coding[a][s], w[a], &at[a]);
            lane[a] = lane[a] ? lane[a] - 1 : lanes[a] - 1;
        }
    }
    for (int a = 0; a < active; a++) {
        slot[a].at = at[a];
        slot[a].next = next[a];
        slot[a].lane = lane[a];
    }
    return !missing;
}

static PyObject *ans_encode_pieces(PyObject *self, PyObject *args) {
    Py_buffer symbols, ends, freqs, cumulative, lanes, states, words, counts;
    int precision;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iy*w*w*w*", &symbols, &ends, &freqs, &cumulative,
                          &precision, &lanes, &states, &words, &counts))
        return NULL;
    PyObject *result = NULL;
    EncodeSymbol *coding = NULL;
    Py_ssize_t pieces = ends.len / 8, n = symbols.len;
    const int64_t *end = ends.buf, *lane_count = lanes.buf;
    if (freqs.len != pieces * 1024 || cumulative.len != pieces * 1024 ||
        lanes.len != pieces * 8 || !writable(&counts, 8 * pieces, "counts") ||
        !writable(&words, 4 * n, "words"))
        goto bad_arguments;
    Py_ssize_t total_lanes = 0;
    for (Py_ssize_t p = 0; p < pieces; p++) {
        int64_t start = p ? end[p - 1] : 0;
        if (end[p] <= start || end[p] > n || lane_count[p] < 1 ||
            lane_count[p] > end[p] - start)
            goto bad_arguments;
        total_lanes += lane_count[p];
    }
    if ((pieces && end[pieces - 1] != n) || !writable(&states, 8 * total_lanes, "states"))
        goto bad_arguments;
    coding = malloc(sizeof(EncodeSymbol) * 256 * (size_t)(pieces ? pieces : 1));
    if (!coding) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t p = 0; p < pieces; p++) {
        Py_buffer row_f = freqs, row_c = cumulative;  /* the check reads buf and len only */
        row_f.buf = (uint32_t *)freqs.buf + 256 * p;
        row_c.buf = (uint32_t *)cumulative.buf + 256 * p;
        row_f.len = row_c.len = 1024;
        if (!check_table(&row_f, &row_c, precision))
            goto done;
        for (int s = 0; s < 256; s++)
            prepare_symbol(&coding[256 * p + s], ((uint32_t *)row_f.buf)[s],
                           ((uint32_t *)row_c.buf)[s], precision);
    }
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    EncodeSlot slot[ENCODE_SLOTS];
    int active = 0;
    Py_ssize_t waiting = 0, first_lane = 0;
    uint64_t *x = states.buf;
    int64_t *count = counts.buf;
    for (;;) {
        /* Fill the free slots with the next pieces. */
        while (active < ENCODE_SLOTS && waiting < pieces) {
            Py_ssize_t p = waiting++, start = p ? end[p - 1] : 0, size = end[p] - start;
            if (lane_count[p] >= 4) {
                /* Lanes enough to keep the core busy: code the piece by itself, as
                 * ans_encode does, with four lanes' states in registers. */
                const uint8_t *in = (const uint8_t *)symbols.buf + start;
                uint32_t *w = (uint32_t *)words.buf + start;
                uint64_t held[4], *state = lane_count[p] == 4 ? held : x + first_lane;
                for (Py_ssize_t k = 0; k < lane_count[p]; k++)
                    state[k] = ANS_LOWER;
                Py_ssize_t at = size;
                const uint32_t *f = (const uint32_t *)freqs.buf + 256 * p;
                if (lane_count[p] == 4)
                    bad = !ans_encode_lanes(in, 1, size, 4, coding + 256 * p, f, 256, state,
                                            w, &at);
                else
                    bad = !ans_encode_lanes(in, 1, size, lane_count[p], coding + 256 * p, f,
                                            256, state, w, &at);
                if (bad)
                    goto finished;
                if (state == held)
                    memcpy(x + first_lane, held, sizeof held);
                memmove(w, w + at, sizeof(uint32_t) * (size_t)(size - at));
                count[p] = size - at;
                first_lane += lane_count[p];
                continue;
            }
            EncodeSlot *e = &slot[active++];
            e->in = (const uint8_t *)symbols.buf + start;
            e->coding = coding + 256 * p;
            e->f = (const uint32_t *)freqs.buf + 256 * p;
            e->x = x + first_lane;
            e->w = (uint32_t *)words.buf + start;
            e->at = size;
            e->next = size - 1;
            e->lanes = lane_count[p];
            e->lane = e->next % e->lanes;
            e->piece = p;
            for (Py_ssize_t k = 0; k < e->lanes; k++)
                e->x[k] = ANS_LOWER;
            first_lane += e->lanes;
        }
        if (!active)
            break;
        /* Code as many symbols of every active piece as the shortest has left. */
        Py_ssize_t run = slot[0].next + 1;
        for (int a = 1; a < active; a++)
            if (slot[a].next + 1 < run)
                run = slot[a].next + 1;
        switch (active) {
        case 1: bad = !encode_slots(slot, 1, run); break;
        case 2: bad = !encode_slots(slot, 2, run); break;
        case 3: bad = !encode_slots(slot, 3, run); break;
        default: bad = !encode_slots(slot, ENCODE_SLOTS, run);
        }
        if (bad)
            break;
        /* Finish the pieces that are done: their words to the front of their room. */
        for (int a = 0; a < active;) {
            EncodeSlot *e = &slot[a];
            if (e->next >= 0) {
                a++;
                continue;
            }
            Py_ssize_t size = (e->piece ? end[e->piece] - end[e->piece - 1] : end[0]);
            memmove(e->w, e->w + e->at, sizeof(uint32_t) * (size_t)(size - e->at));
            count[e->piece] = size - e->at;
            slot[a] = slot[--active];
        }
    }
finished:
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "a symbol has no frequency in its piece's table");
        goto done;
    }
    result = Py_NewRef(Py_None);
    goto done;
bad_arguments:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "ends, freqs, cumulative, lanes and counts do not "
                        "describe pieces of the symbols");
done:
    free(coding);
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    PyBuffer_Release(&lanes);
    PyBuffer_Release(&states);
    PyBuffer_Release(&words);
    PyBuffer_Release(&counts);
    return result;
}

/*
 * The symbol whose slots hold `slot`: the last with cumulative <= slot.  (A symbol of
 * frequency 0 shares its cumulative with the next, so the last is never one of those.)
 */
static inline uint32_t find_slot(const uint32_t *c, Py_ssize_t size, uint32_t slot) {
    Py_ssize_t lo = 0, hi = size;  /* c[lo] <= slot < c[hi], reading c[size] as M */
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (c[mid] <= slot)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/*
 * Decodes count byte symbols on `lanes` lanes with a byte-per-slot table: symbol i from lane
 * i mod lanes.  Returns 0, or 1 when the words run out.  Inlined with a constant `lanes`,
 * the states stay in registers; a word is taken without a branch on the data.
 */
static inline __attribute__((always_inline)) int ans_decode_bytes(
        uint64_t *x, const Py_ssize_t lanes, Py_ssize_t count, const uint8_t *slots,
        const uint32_t *f, const uint32_t *c, int precision, const uint32_t *w,
        Py_ssize_t word_count, Py_ssize_t *position, uint8_t *dst) {
    const uint64_t mask = ((uint64_t)1 << precision) - 1;
    static const uint32_t none = 0;
    const uint32_t *source = word_count ? w : &none;  /* always something to read */
    Py_ssize_t pos = *position;
    for (Py_ssize_t start = 0; start < count; start += lanes) {
        Py_ssize_t active = count - start < lanes ? count - start : lanes;
        for (Py_ssize_t k = 0; k < active; k++) {
            uint64_t state = x[k];
            uint32_t slot = (uint32_t)(state & mask);
            uint32_t s = slots[slot];
            state = f[s] * (state >> precision) + slot - c[s];
            int need = state < ANS_LOWER;
            if (need && pos >= word_count) {
                *position = pos;
                return 1;
            }
            uint64_t refilled = state << 32 | source[pos < word_count ? pos : 0];
            state = need ? refilled : state;
            pos += need;
            x[k] = state;
            dst[start + k] = (uint8_t)s;
        }
    }
    *position = pos;
    return 0;
}

static PyObject *ans_decode(PyObject *self, PyObject *args) {
    Py_buffer words, states, freqs, cumulative;
    Py_ssize_t count;
    int precision, width;
    if (!PyArg_ParseTuple(args, "y*y*ny*y*ii", &words, &states, &count, &freqs, &cumulative,
                          &precision, &width))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    uint32_t *slots = NULL;
    uint8_t *byte_slots = NULL;
    uint64_t *x = NULL;
    if (!check_width(width) || !check_table(&freqs, &cumulative, precision))
        goto done;
    Py_ssize_t lanes = states.len / 8, size = freqs.len / 4, word_count = words.len / 4;
    if (lanes < 1 || states.len % 8 || words.len % 4 || count < 0) {
        PyErr_SetString(PyExc_ValueError, "states must be u64 and words u32 arrays");
        goto done;
    }
    if (count > PY_SSIZE_T_MAX / 4) {  /* count * width must not overflow */
        PyErr_SetString(PyExc_ValueError, "the count of symbols is too large");
        goto done;
    }
    if (width == 1 && size > 256) {
        PyErr_SetString(PyExc_ValueError, "byte output needs a table of at most 256 symbols");
        goto done;
    }
    decoded = PyBytes_FromStringAndSize(NULL, count * width);
    if (!decoded)
        goto done;
    const uint32_t *f = freqs.buf, *c = cumulative.buf;
    if (precision <= ANS_TABLE_PRECISION && width == 1) {
        byte_slots = malloc((size_t)1 << precision);
        if (!byte_slots) {
            PyErr_NoMemory();
            goto done;
        }
    } else if (precision <= ANS_TABLE_PRECISION && ((Py_ssize_t)1 << precision) <= 16 * count) {
        /* Filling a table of 2^precision slots one store at a time pays only when there
         * are symbols enough to share the cost: a chain of tiny blocks on a shared table
         * of precision 18 spent 1 MB of stores on each, 150 us for a block of one symbol.
         * Fewer take the binary search, which finds the same symbols. */
        slots = malloc(sizeof(uint32_t) << precision);
        if (!slots) {
            PyErr_NoMemory();
            goto done;
        }
    }
    x = malloc(sizeof(uint64_t) * (size_t)lanes);
    if (!x) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(x, states.buf, sizeof(uint64_t) * (size_t)lanes);
    const uint32_t *w = words.buf;
    uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(decoded);
    int status = 0;  /* 1: the words ran out; 2: they do not end where they began */
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t pos = 0;
    if (byte_slots) {  /* bytes: a byte per slot, filled a run at a time */
        uint8_t *table = byte_slots;
        for (Py_ssize_t s = 0; s < size; s++)
            memset(table + c[s], (int)s, f[s]);
        uint64_t held[4];
        uint64_t *state = lanes <= 4 ? held : x;
        if (state != x)
            memcpy(state, x, sizeof(uint64_t) * (size_t)lanes);
        const uint32_t *fs = f, *cs = c;
        switch (lanes) {
        case 1: status = ans_decode_bytes(state, 1, count, table, fs, cs, precision, w,
                                          word_count, &pos, dst); break;
        case 2: status = ans_decode_bytes(state, 2, count, table, fs, cs, precision, w,
                                          word_count, &pos, dst); break;
        case 3: status = ans_decode_bytes(state, 3, count, table, fs, cs, precision, w,
                                          word_count, &pos, dst); break;
        case 4: status = ans_decode_bytes(state, 4, count, table, fs, cs, precision, w,
                                          word_count, &pos, dst); break;
        default: status = ans_decode_bytes(state, lanes, count, table, fs, cs, precision, w,
                                           word_count, &pos, dst);
        }
        if (state != x)
            memcpy(x, state, sizeof(uint64_t) * (size_t)lanes);
    } else if (slots) {
        for (Py_ssize_t s = 0; s < size; s++)
            for (uint32_t k = 0; k < f[s]; k++)
                slots[c[s] + k] = (uint32_t)s;
    }
    const uint64_t mask = ((uint64_t)1 << precision) - 1;
    for (Py_ssize_t start = 0; start < count && !status && !byte_slots; start += lanes) {
        Py_ssize_t active = count - start < lanes ? count - start : lanes;
        for (Py_ssize_t k = 0; k < active; k++) {
            uint64_t state = x[k];
            uint32_t slot = (uint32_t)(state & mask);
            uint32_t s = slots ? slots[slot] : find_slot(c, size, slot);
            state = f[s] * (state >> precision) + slot - c[s];
            if (state < ANS_LOWER) {
                if (pos >= word_count) {
                    status = 1;
                    break;
                }
                state = state << 32 | w[pos++];
            }
            x[k] = state;
            if (width == 1)
                dst[start + k] = (uint8_t)s;
            else
                memcpy(dst + 4 * (start + k), &s, 4);
        }
    }
    if (!status) {
        if (pos != word_count)
            status = 2;
        for (Py_ssize_t k = 0; k < lanes; k++)
            if (x[k] != ANS_LOWER)
                status = 2;
    }
    Py_END_ALLOW_THREADS
    if (status == 1)
        PyErr_SetString(PyExc_ValueError, "ANS stream ended early: the block is damaged");
    else if (status == 2)
        PyErr_SetString(PyExc_ValueError,
                        "ANS stream does not end where it began: the block is damaged");
    else {
        result = decoded;
        decoded = NULL;
    }
done:
    Py_XDECREF(decoded);
    free(slots);
    free(byte_slots);
    free(x);
    PyBuffer_Release(&words);
    PyBuffer_Release(&states);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    return result;
}

/* pack_varints(values) -> bytes: each uint64 as LEB128 (7 bits a byte, low group first,
 * the high bit set on all but the last byte), concatenated. */
static PyObject *pack_varints(PyObject *self, PyObject *args) {
    Py_buffer values;
    if (!PyArg_ParseTuple(args, "y*", &values))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = values.len / 8;
    uint8_t *out = malloc((size_t)(n * 10 + 1));
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    const uint64_t *value = values.buf;
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t v = value[i];
        for (; v >= 0x80; v >>= 7)
            out[size++] = (uint8_t)(v & 0x7F) | 0x80;
        out[size++] = (uint8_t)v;
    }
    result = PyBytes_FromStringAndSize((const char *)out, size);
done:
    free(out);
    PyBuffer_Release(&values);
    return result;
}

/*
 * parse_varints(buffer, pos, count, longest, values) -> the position after the last, or
 * None: count LEB128 numbers of at most `longest` (1 to 9) bytes each into values (int64),
 * or None if one is longer or the buffer ends first; the Python reference then says which.
 */
static PyObject *parse_varints(PyObject *self, PyObject *args) {
    Py_buffer data, values;
    Py_ssize_t pos, count;
    int longest;
    if (!PyArg_ParseTuple(args, "y*nniw*", &data, &pos, &count, &longest, &values))
        return NULL;
    PyObject *result = NULL;
    if (pos < 0 || pos > data.len || count < 0 || longest < 1 || longest > 9) {
        PyErr_SetString(PyExc_ValueError, "pos, count or longest is out of range");
        goto done;
    }
    if (count > values.len / 8) {  /* (8 * count could overflow) */
        PyErr_Format(PyExc_ValueError, "values holds %zd bytes; %zd numbers are needed",
                     values.len, count);
        goto done;
    }
    const uint8_t *at = (const uint8_t *)data.buf + pos;
    const uint8_t *end = (const uint8_t *)data.buf + data.len;
    int64_t *out = values.buf;
    int ok = 1;
    for (Py_ssize_t i = 0; i < count && ok; i++) {
        uint64_t value = 0;
        int k = 0;
        for (;; k++) {
            if (k == longest || at == end) {
                ok = 0;
                break;
            }
            uint8_t byte = *at++;
            value |= (uint64_t)(byte & 0x7F) << (7 * k);
            if (byte < 0x80)
                break;
        }
        out[i] = (int64_t)value;
    }
    result = ok ? PyLong_FromSsize_t(at - (const uint8_t *)data.buf) : Py_NewRef(Py_None);
done:
    PyBuffer_Release(&data);
    PyBuffer_Release(&values);
    return result;
}

/* -- rANS frequency tables: quantising counts (codec/ans.py) ---------------------------- */

typedef struct {
    double key;
    Py_ssize_t index;
} HeapItem;

static inline int heap_less(const HeapItem *a, const HeapItem *b) {
    return a->key < b->key || (a->key == b->key && a->index < b->index);
}

static void heap_push(HeapItem *heap, Py_ssize_t *size, HeapItem item) {
    Py_ssize_t i = (*size)++;
    while (i > 0) {
        Py_ssize_t parent = (i - 1) / 2;
        if (!heap_less(&item, &heap[parent]))
            break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

static HeapItem heap_pop(HeapItem *heap, Py_ssize_t *size) {
    HeapItem top = heap[0], last = heap[--(*size)];
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t child = 2 * i + 1;
        if (child >= *size)
            break;
        if (child + 1 < *size && heap_less(&heap[child + 1], &heap[child]))
            child++;
        if (!heap_less(&heap[child], &last))
            break;
        heap[i] = heap[child];
        i = child;
    }
    if (*size)
        heap[i] = last;
    return top;
}

/* What raising a frequency from f to f + 1 saves (ans._gain): the same doubles as Python's,
 * whose int / int division is correctly rounded, as IEEE division of exact doubles is. */
static inline double gain(double share, int64_t f) {
    return share * log2((double)(f + 1) / (double)f);
}

/*
 * ans.quantize of n integer counts at a precision: the same floors, the same doubles and the
 * same order of handing out (or taking back) units: a heap ordered by gain, then index.
 * share and heap have room for n.  Returns 0, for the reference to do it, when the counts
 * are too large for exact doubles or the table cannot be made.
 */
static int quantize_row(const int64_t *count, Py_ssize_t n, int precision, int64_t *freq,
                        double *share, HeapItem *heap) {
    Py_ssize_t present = 0;
    int64_t total_freq = (int64_t)1 << precision, total = 0, largest = 0;
    for (Py_ssize_t s = 0; s < n; s++) {
        if (count[s] < 0)
            return 0;
        total += count[s];
        largest = count[s] > largest ? count[s] : largest;
        present += count[s] > 0;
        if (total >= ((int64_t)1 << 40))
            return 0;
    }
    /* Every value * M below 2^53: the shares are exact doubles before the division. */
    if (!present || present > total_freq || largest >= ((int64_t)1 << (53 - precision)))
        return 0;
    int64_t surplus = total_freq;
    for (Py_ssize_t s = 0; s < n; s++) {
        int64_t scaled = count[s] * total_freq;
        freq[s] = count[s] ? (scaled / total > 1 ? scaled / total : 1) : 0;
        share[s] = (double)scaled / (double)total;
        surplus -= freq[s];
    }
    Py_ssize_t size = 0;
    if (surplus > 0) {
        for (Py_ssize_t s = 0; s < n; s++)
            if (count[s])
                heap_push(heap, &size, (HeapItem){-gain(share[s], freq[s]), s});
        for (; surplus > 0; surplus--) {
            Py_ssize_t s = heap_pop(heap, &size).index;
            freq[s]++;
            heap_push(heap, &size, (HeapItem){-gain(share[s], freq[s]), s});
        }
    } else if (surplus < 0) {
        for (Py_ssize_t s = 0; s < n; s++)
            if (freq[s] > 1)
                heap_push(heap, &size, (HeapItem){gain(share[s], freq[s] - 1), s});
        for (; surplus < 0; surplus++) {
            Py_ssize_t s = heap_pop(heap, &size).index;
            freq[s]--;
            if (freq[s] > 1)
                heap_push(heap, &size, (HeapItem){gain(share[s], freq[s] - 1), s});
        }
    }
    return 1;
}

/*
 * quantize_counts(counts, precision, freqs) -> True, or False to leave it to the reference:
 * ans.quantize for integer counts (quantize_row).
 */
static PyObject *quantize_counts(PyObject *self, PyObject *args) {
    Py_buffer counts, freqs;
    int precision;
    if (!PyArg_ParseTuple(args, "y*iw*", &counts, &precision, &freqs))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = counts.len / 8;
    double *share = NULL;
    HeapItem *heap = NULL;
    if (counts.len % 8 || precision < 1 || precision > 30 || !writable(&freqs, counts.len, "freqs"))
        goto done;
    share = malloc(sizeof(double) * (size_t)(n ? n : 1));
    heap = malloc(sizeof(HeapItem) * (size_t)(n ? n : 1));
    if (!share || !heap) {
        PyErr_NoMemory();
        goto done;
    }
    result = Py_NewRef(quantize_row(counts.buf, n, precision, freqs.buf, share, heap)
                       ? Py_True : Py_False);
done:
    free(share);
    free(heap);
    PyBuffer_Release(&counts);
    PyBuffer_Release(&freqs);
    return result;
}

/* Python's float floor division, a // b, for a >= 0 and b > 0 (as CPython computes it). */
static double python_floor_div(double a, double b) {
    double mod = fmod(a, b), div = (a - mod) / b;
    if (!div)
        return 0.0;
    double floored = floor(div);
    return div - floored > 0.5 ? floored + 1.0 : floored;
}

/* The ideal bits of these counts under these frequencies: the sum of count * cost over the
 * present symbols in order, the costs (16 - log2 f) from the caller's table. */
static double ideal_bits(const int64_t *count, const int64_t *freq, const double *cost) {
    double sum = 0.0;
    for (int s = 0; s < 256; s++)
        if (count[s]) {
            double bits = (double)count[s] * cost[freq[s]];
            sum += bits;
        }
    return sum;
}

/*
 * plan_ans_pieces(counts, costs, freqs, ideals, lanes, reused) -> the packed tables (a list
 * of bytes, empty for a piece that reuses the previous table), or None for the reference:
 * container._plan_ans_pieces for pieces of byte counts (256 int64 a piece), with tables of
 * precision 16.  Fills each piece's frequencies, ideal bits, lanes, and whether it reuses.
 */
static PyObject *plan_ans_pieces(PyObject *self, PyObject *args) {
    Py_buffer counts, costs, freqs, ideals, lanes, reused;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*w*", &counts, &costs, &freqs, &ideals, &lanes,
                          &reused))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t pieces = counts.len / (256 * 8);
    if (pieces < 1 || counts.len % (256 * 8) || costs.len != 8 * 65537) {
        PyErr_SetString(PyExc_ValueError, "256 counts a piece, and 65 537 costs, are needed");
        goto done;
    }
    if (!writable(&freqs, counts.len, "freqs") || !writable(&ideals, pieces * 8, "ideals")
            || !writable(&lanes, pieces * 8, "lanes") || !writable(&reused, pieces, "reused"))
        goto done;
    result = PyList_New(pieces);
    if (!result)
        goto done;
    const double *cost = costs.buf;
    const int64_t *previous = NULL;  /* the frequencies the last table of its own gave */
    double share[256];
    HeapItem heap[256];
    uint8_t table[1 + 32 + 256 * 3];
    for (Py_ssize_t p = 0; p < pieces; p++) {
        const int64_t *count = (const int64_t *)counts.buf + 256 * p;
        int64_t *freq = (int64_t *)freqs.buf + 256 * p;
        if (!quantize_row(count, 256, 16, freq, share, heap)) {
            Py_SETREF(result, Py_NewRef(Py_None));
            goto done;
        }
        /* Precision, presence bitmap, then each present frequency less 1 as LEB128. */
        Py_ssize_t size = 33;
        memset(table, 0, 33);
        table[0] = 16;
        int64_t symbols = 0;
        int reusable = previous != NULL;
        for (int s = 0; s < 256; s++) {
            symbols += count[s];
            if (!freq[s])
                continue;
            table[1 + s / 8] |= (uint8_t)(0x80 >> (s & 7));
            for (uint64_t v = (uint64_t)(freq[s] - 1);; v >>= 7) {
                table[size++] = (uint8_t)(v & 0x7F) | (v >= 0x80 ? 0x80 : 0);
                if (v < 0x80)
                    break;
            }
            reusable &= previous == NULL || previous[s] > 0;
        }
        double ideal = ideal_bits(count, freq, cost);
        int reuse = 0;
        if (reusable) {
            double again = ideal_bits(count, previous, cost);
            if (again <= (double)(8 * size) + ideal) {
                reuse = 1;
                ideal = again;
            }
        }
        /* _ans_format.lanes_for_counts */
        double wanted = python_floor_div(ideal, 100000.0);
        double by_length = (double)((symbols + 131071) / 131072);
        double spare = python_floor_div(ideal, 50000.0);
        if (ideal >= 20000.0 && (double)(symbols / 16384) > spare)
            spare = (double)(symbols / 16384);
        wanted = wanted > by_length ? wanted : by_length;
        spare = spare < 4 ? spare : 4;
        wanted = wanted > spare ? wanted : spare;
        double most = symbols < 4096 ? (double)symbols : 4096.0;
        wanted = wanted < most ? wanted : most;
        ((int64_t *)lanes.buf)[p] = wanted > 1 ? (int64_t)wanted : 1;
        ((double *)ideals.buf)[p] = ideal;
        ((uint8_t *)reused.buf)[p] = (uint8_t)reuse;
        PyObject *packed = PyBytes_FromStringAndSize((const char *)table, reuse ? 0 : size);
        if (!packed) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, p, packed);
        if (!reuse)
            previous = freq;
    }
done:
    PyBuffer_Release(&counts);
    PyBuffer_Release(&costs);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&ideals);
    PyBuffer_Release(&lanes);
    PyBuffer_Release(&reused);
    return result;
}

/* -- compact code tables (FORMAT.md, section 16.1) ------------------------------------- */

static const int CL_ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
static const int CL_EXTRA[19] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};
static const int CL_BASE[19] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 11};

/* Reads bits MSB first; past the end of the buffer it sets `ended` and gives zeros. */
typedef struct {
    const uint8_t *buf;
    Py_ssize_t len;
    uint64_t bit;
    int ended;
} BitReader;

static inline uint32_t read_bits(BitReader *r, int width) {
    uint32_t value = 0;
    for (int i = 0; i < width; i++, r->bit++) {
        Py_ssize_t byte = (Py_ssize_t)(r->bit >> 3);
        if (byte >= r->len) {
            r->ended = 1;
            return 0;
        }
        value = value << 1 | ((r->buf[byte] >> (7 - (r->bit & 7))) & 1);
    }
    return value;
}

/*
 * The run-length symbols of 256 code lengths (section 16.1), as huffkit's encoder forms
 * them: zero runs of 11+ as 18 (at most 138 each), then a run of 3 to 10 as 17; a length,
 * then repeats of 3 to 6 as 16; what is left, as literal lengths.  Returns the count.
 */
static int run_length(const uint8_t *lengths, uint8_t *symbols, uint8_t *extras) {
    int n = 0;
    for (int i = 0; i < 256;) {
        int value = lengths[i], run = 1;
        while (i + run < 256 && lengths[i + run] == value)
            run++;
        i += run;
        if (value == 0) {
            while (run >= 11) {
                int take = run < 138 ? run : 138;
                symbols[n] = 18, extras[n++] = (uint8_t)(take - 11);
                run -= take;
            }
            if (run >= 3) {
                symbols[n] = 17, extras[n++] = (uint8_t)(run - 3);
                run = 0;
            }
        } else {
            symbols[n] = (uint8_t)value, extras[n++] = 0;
            run--;
            while (run >= 3) {
                int take = run < 6 ? run : 6;
                symbols[n] = 16, extras[n++] = (uint8_t)(take - 3);
                run -= take;
            }
        }
        for (; run > 0; run--)
            symbols[n] = (uint8_t)value, extras[n++] = 0;
    }
    return n;
}

/* The first canonical codeword of each length 1 to 7 of the code-length code, from how many
 * codewords each length has (count[0] is taken as 0). */
static void first_codes(const int *count, int *first) {
    for (int l = 1, code = 0; l <= 7; l++) {
        code = (code + (l > 1 ? count[l - 1] : 0)) << 1;
        first[l] = code;
    }
}

/* The most bytes a compact table takes: 4 + 19 * 3 bits, then at most 256 run-length
 * symbols of at most 7 + 7 bits each. */
#define COMPACT_TABLE_MOST ((4 + 19 * 3 + 256 * 14 + 7) / 8)

/*
 * Writes the compact table of 256 code lengths (each at most 15) into out (at least
 * COMPACT_TABLE_MOST bytes), with the code-length code of these 19 widths (each at most 7,
 * a valid code for run_length's symbols); returns its size in bytes.
 */
static Py_ssize_t put_compact_table(const uint8_t *lengths, const uint8_t *width, uint8_t *out) {
    int count[9] = {0};
    for (int s = 0; s < 19; s++)
        count[width[s]]++;
    uint32_t code[19] = {0};
    int first[9] = {0};
    first_codes(count, first);
    for (int l = 1; l <= 7; l++)
        for (int s = 0; s < 19; s++)
            if (width[s] == l)
                code[s] = (uint32_t)first[l]++;
    uint8_t symbols[256], extras[256];
    int n = run_length(lengths, symbols, extras);
    int stored = 19;
    while (stored > 4 && width[CL_ORDER[stored - 1]] == 0)
        stored--;
    /* Fields of at most 7 bits: the last `pending` bits of acc wait to be written. */
    uint64_t acc = 0;
    int pending = 0;
    Py_ssize_t size = 0;
#define PUT(value, bits)                                                               \
    do {                                                                               \
        acc = acc << (bits) | (value);                                                 \
        for (pending += (bits); pending >= 8; pending -= 8)                             \
            out[size++] = (uint8_t)(acc >> (pending - 8));                              \
    } while (0)
    PUT((uint32_t)(stored - 4), 4);
    for (int k = 0; k < stored; k++)
        PUT((uint32_t)width[CL_ORDER[k]], 3);
    for (int k = 0; k < n; k++) {
        PUT(code[symbols[k]], width[symbols[k]]);
        PUT((uint32_t)extras[k], CL_EXTRA[symbols[k]]);
    }
#undef PUT
    if (pending)
        out[size++] = (uint8_t)(acc << (8 - pending));
    return size;
}

static int read_lengths_256(Py_buffer *view, const char *what) {
    if (view->len != 256) {
        PyErr_Format(PyExc_ValueError, "%s must be 256 bytes", what);
        return 0;
    }
    for (int v = 0; v < 256; v++)
        if (((const uint8_t *)view->buf)[v] > 15) {
            PyErr_SetString(PyExc_ValueError, "a compact table holds lengths up to 15");
            return 0;
        }
    return 1;
}

/* compact_symbol_counts(lengths) -> 19 counts: how often each run-length symbol occurs. */
static PyObject *compact_symbol_counts(PyObject *self, PyObject *args) {
    Py_buffer lengths;
    if (!PyArg_ParseTuple(args, "y*", &lengths))
        return NULL;
    PyObject *result = NULL;
    if (read_lengths_256(&lengths, "lengths")) {
        uint8_t symbols[256], extras[256];
        int n = run_length(lengths.buf, symbols, extras);
        long counts[19] = {0};
        for (int k = 0; k < n; k++)
            counts[symbols[k]]++;
        result = PyList_New(19);
        for (int s = 0; result && s < 19; s++)
            PyList_SET_ITEM(result, s, PyLong_FromLong(counts[s]));
    }
    PyBuffer_Release(&lengths);
    return result;
}

/*
 * write_compact_table(lengths, code_length_lengths) -> the compact table's bytes, for
 * lengths of 256 byte values and the code-length code's 19 lengths (which the caller has
 * built from compact_symbol_counts: a valid code).
 */
static PyObject *write_compact_table(PyObject *self, PyObject *args) {
    Py_buffer lengths, widths;
    if (!PyArg_ParseTuple(args, "y*y*", &lengths, &widths))
        return NULL;
    PyObject *result = NULL;
    if (!read_lengths_256(&lengths, "lengths"))
        goto done;
    if (widths.len != 19) {
        PyErr_SetString(PyExc_ValueError, "the code-length code has 19 lengths");
        goto done;
    }
    const uint8_t *width = widths.buf;
    for (int s = 0; s < 19; s++) {
        if (width[s] > 7) {
            PyErr_SetString(PyExc_ValueError, "code-length codes are at most 7 bits");
            goto done;
        }
    }
    uint8_t out[COMPACT_TABLE_MOST];
    Py_ssize_t size = put_compact_table(lengths.buf, width, out);
    result = PyBytes_FromStringAndSize((const char *)out, size);
done:
    PyBuffer_Release(&lengths);
    PyBuffer_Release(&widths);
    return result;
}

/*
 * parse_compact_table(buffer, pos) -> (lengths as 256 bytes, end), or None when the table
 * is damaged or cut short: the caller then reads it again with the Python reference, which
 * says exactly what is wrong.  So this is only the fast path, for good tables.
 */
/*
 * Reads the compact code table at the start of buf (len bytes) into lengths[256]: returns
 * the bytes it takes, or -1 when it is damaged or cut short (the Python reference then
 * says which, or reads a table cut short when the rest arrives).
 */
static Py_ssize_t read_compact(const uint8_t *buf, Py_ssize_t len, uint8_t *lengths) {
    BitReader r = {buf, len, 0, 0};
    int stored = (int)read_bits(&r, 4) + 4;
    uint8_t cl[19] = {0};
    for (int k = 0; k < stored; k++)
        cl[CL_ORDER[k]] = (uint8_t)read_bits(&r, 3);
    /* The code-length code must be a code: complete, or a single length of 1. */
    int count[8] = {0}, present = 0;
    for (int s = 0; s < 19; s++)
        if (cl[s]) {
            count[cl[s]]++;
            present++;
        }
    uint32_t kraft = 0;
    for (int l = 1; l <= 7; l++)
        kraft += (uint32_t)count[l] << (7 - l);
    if (r.ended || !present || (present == 1 ? count[1] != 1 : kraft != 128))
        return -1;
    /* Canonical codes, then a 7-bit lookup: (symbol << 4 | width), 0 for no codeword. */
    uint8_t lookup[128] = {0};
    int first[9] = {0};
    first_codes(count, first);
    for (int l = 1; l <= 7; l++)
        for (int s = 0; s < 19; s++)
            if (cl[s] == l) {
                int code = first[l]++;
                for (int e = 0; e < 1 << (7 - l); e++)
                    lookup[(code << (7 - l)) + e] = (uint8_t)(s << 3 | l);  /* s < 19, l < 8 */
            }
    int n = 0;
    while (n < 256) {
        /* Peek 7 bits without consuming them. */
        uint64_t at = r.bit;
        uint32_t ahead = read_bits(&r, 7);
        if (r.ended) {
            /* Near the end: try the shorter codewords bit by bit, as the reference does. */
            return -1;
        }
        r.bit = at;
        uint8_t entry = lookup[ahead];
        if (!entry)
            return -1;
        int symbol = entry >> 3, width = entry & 7;
        r.bit += (uint64_t)width;
        if (symbol < 16) {
            lengths[n++] = (uint8_t)symbol;
            continue;
        }
        int run = CL_BASE[symbol] + (int)read_bits(&r, CL_EXTRA[symbol]);
        if (r.ended || (symbol == 16 && n == 0) || n + run > 256)
            return -1;
        uint8_t value = symbol == 16 ? lengths[n - 1] : 0;
        for (int k = 0; k < run; k++)
            lengths[n++] = value;
    }
    /* Zero padding, then the 256 lengths must be a code (rules C3 to C6). */
    uint64_t end_bit = (r.bit + 7) & ~(uint64_t)7;
    if (end_bit > r.bit) {
        if ((Py_ssize_t)(r.bit >> 3) >= r.len)
            return -1;
        if (r.buf[r.bit >> 3] & (0xFF >> (r.bit & 7)))
            return -1;
    }
    int codes = 0, single = 0;
    uint64_t sum = 0;
    for (int v = 0; v < 256; v++)
        if (lengths[v]) {
            codes++;
            single = lengths[v];
            sum += (uint64_t)1 << (15 - lengths[v]);
        }
    if (!codes || (codes == 1 ? single != 1 : sum != (1u << 15)))
        return -1;
    return (Py_ssize_t)(end_bit >> 3);
}

static PyObject *parse_compact_table(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "y*n", &data, &pos))
        return NULL;
    uint8_t lengths[256];
    Py_ssize_t used = -1;
    if (pos >= 0 && pos <= data.len)
        used = read_compact((const uint8_t *)data.buf + pos, data.len - pos, lengths);
    PyBuffer_Release(&data);
    if (used < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("y#n", (const char *)lengths, (Py_ssize_t)256, pos + used);
}

/* -- runs of Huffman blocks ---------------------------------------------------------- */

/*
 * decode_huffman_run(buffer, pos, block_size, previous, budget, largest)
 *     -> None, or (data, starts, ends, crcs, lengths)
 *
 * Decodes the Huffman blocks of a byte frame that start at buffer[pos], one after another,
 * while they are blocks with a compact table (0x05) or the previous block's code (0x06;
 * `previous` holds its 256 lengths, or is None), are whole in the buffer, hold at most
 * `largest` symbols each, and hold `budget` symbols in all (at least one block).  It stops before the first block that is anything
 * else, or that breaks any rule the Python reference checks (FORMAT.md sections 5, 8, 9, 16)
 * but the CRC: that block is left to the reference, which decodes it or says what is
 * wrong.  So what this accepts is what the reference accepts.  data holds the blocks'
 * bytes; starts[i] is where block i begins (and starts[-1] where the last one ends), ends[i]
 * where its bytes end in data, crcs[i] its stored CRC-32 (checked by the caller, with
 * zlib), and lengths the 256 code lengths of each block, one after another.
 *
 * Why: a file cut where its statistics change has many small blocks, and parsing and
 * checking each in Python cost more than decoding it.
 */
typedef struct {
    Py_ssize_t start, streams_at, end, symbols;
    uint32_t crc;
    int streams, reused, coded;
    uint64_t bits[16];
} RunBlock;

/*
 * The most blocks one call takes.  Each planned block holds a RunBlock and 256 lengths
 * (about 430 bytes) and may take as little as 15 bytes of input: without a bound, a valid
 * 16 MB file of a million one-byte reuse blocks made one call hold 850 MB, far past the
 * decoder's memory limit.  A run stopped here goes on in the next call, from the code
 * the caller is handed back; 4,096 blocks a call keep the bookkeeping under 2 MB.
 */
#define RUN_MOST_BLOCKS 4096

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Reads the header of the block at buf[p] into *b and its lengths; 0 to stop before it. */
static int plan_run_block(const uint8_t *buf, Py_ssize_t len, Py_ssize_t p,
                          Py_ssize_t block_size, Py_ssize_t largest, const uint8_t *previous,
                          RunBlock *b, uint8_t *lengths) {
    if (len - p < 9 || !(buf[p] == 0x05 || (buf[p] == 0x06 && previous)))
        return 0;
    b->start = p;
    b->reused = buf[p] == 0x06;
    b->symbols = load_le32(buf + p + 1);
    b->crc = load_le32(buf + p + 5);
    if (b->symbols < 1 || b->symbols > block_size || b->symbols > largest)
        return 0;
    Py_ssize_t cursor = p + 9;
    if (b->reused) {
        memcpy(lengths, previous, 256);
    } else {
        Py_ssize_t used = read_compact(buf + cursor, len - cursor, lengths);
        if (used < 0)
            return 0;
        cursor += used;
    }
    unsigned shortest = LONGEST_CODE, longest = 0;
    b->coded = 0;
    for (int v = 0; v < 256; v++)
        if (lengths[v]) {
            b->coded++;
            shortest = lengths[v] < shortest ? lengths[v] : shortest;
            longest = lengths[v] > longest ? lengths[v] : longest;
        }
    if (cursor >= len)
        return 0;
    b->streams = buf[cursor];
    if (b->streams < 1 || b->streams > 16 || len - cursor - 1 < 4 * b->streams)
        return 0;
    Py_ssize_t n = b->symbols, per_stream = (n + b->streams - 1) / b->streams, bytes = 0;
    for (int k = 0; k < b->streams; k++) {
        Py_ssize_t first = k * per_stream < n ? k * per_stream : n;
        Py_ssize_t last = (k + 1) * per_stream < n ? (k + 1) * per_stream : n;
        uint64_t bits = load_le32(buf + cursor + 1 + 4 * k);
        if (bits < (uint64_t)shortest * (uint64_t)(last - first) ||
            bits > (uint64_t)longest * (uint64_t)(last - first))
            return 0;
        b->bits[k] = bits;
        bytes += (Py_ssize_t)((bits + 7) / 8);
    }
    b->streams_at = cursor + 1 + 4 * b->streams;
    b->end = b->streams_at + bytes;
    return b->end <= len;
}

/*
 * The symbols a run's decoder is built for, which sets the size of its lookup table: at
 * least 2^14, for a table of 11 bits or more.  A split block of a few thousand symbols
 * would otherwise get 9 or 10, and its longer codes (a spreadsheet's reach 15 bits) the
 * slow path.  With blocks decoded side by side, kennedy.xls's run (121 blocks) takes
 * 2.7 ms so, against 3.1 ms with the smaller tables (and 2.9 ms one block at a time).
 */
static inline Py_ssize_t run_table_symbols(Py_ssize_t symbols) {
    return symbols > (1 << 14) ? symbols : (1 << 14);
}

/* Whether a block's output holds `coded` distinct byte values: its table's, all of them. */
static int codes_exactly(const uint8_t *out, Py_ssize_t n, int coded) {
    uint8_t seen[256] = {0};
    int distinct = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        seen[out[i]] = 1;
    for (int v = 0; v < 256; v++)
        distinct += seen[v];
    return distinct == coded;
}

/* Decodes one planned block to out; 0 if its streams or its table are damaged. */
static int decode_run_block(const uint8_t *buf, const RunBlock *b, const uint8_t *lengths,
                            uint8_t *padded, uint8_t *out) {
    Decoder decoder = {0};
    if (build_decoder(&decoder, lengths, 256, 1, run_table_symbols(b->symbols))) {
        free_decoder(&decoder);
        return 0;
    }
    Cursor cursors[16];
    Py_ssize_t n = b->symbols, per_stream = (n + b->streams - 1) / b->streams;
    const uint8_t *stream = buf + b->streams_at;
    for (int k = 0; k < b->streams; k++) {
        Py_ssize_t size = (Py_ssize_t)((b->bits[k] + 7) / 8);
        memcpy(padded, stream, (size_t)size);
        memset(padded + size, 0, STREAM_PADDING_BYTES);
        Py_ssize_t first = k * per_stream < n ? k * per_stream : n;
        Py_ssize_t last = (k + 1) * per_stream < n ? (k + 1) * per_stream : n;
        cursors[k] = (Cursor){padded, 0, b->bits[k], 0, last - first, out + first, 0};
        padded += size + STREAM_PADDING_BYTES;
        stream += size;
    }
    Py_ssize_t decodable = 0, expected = 0;
    int ok = decode_streams(&decoder, cursors, b->streams, 1, &decodable, &expected) ==
             STREAM_OK;
    free_decoder(&decoder);
    /* The table codes exactly the bytes the block holds (a reused code may code more). */
    return ok && (b->reused || codes_exactly(out, n, b->coded));
}

/*
 * Decodes `n` (2 to 4) planned blocks of one stream each, side by side, to out; returns how
 * many of them, from the first, are sound (the first damaged one ends the run).
 */
static int decode_run_blocks(const uint8_t *buf, const RunBlock *b, const uint8_t *lengths,
                             int n, uint8_t *padded, uint8_t *out) {
    Decoder decoders[4] = {{0}};
    Cursor cursors[4];
    int built = 0, sound = 0;
    for (; built < n; built++)
        if (build_decoder(&decoders[built], lengths + 256 * built, 256, 1,
                          run_table_symbols(b[built].symbols))) {
            free_decoder(&decoders[built]);
            break;
        }
    if (built < n) {  /* a table is no code: the blocks before it one by one, as usual */
        for (int k = 0; k < built; k++)
            free_decoder(&decoders[k]);
        for (; sound < built; sound++) {
            if (!decode_run_block(buf, &b[sound], lengths + 256 * sound, padded, out))
                break;
            out += b[sound].symbols;
        }
        return sound;
    }
    uint8_t *at = out;
    for (int k = 0; k < n; k++) {
        Py_ssize_t size = (Py_ssize_t)((b[k].bits[0] + 7) / 8);
        memcpy(padded, buf + b[k].streams_at, (size_t)size);
        memset(padded + size, 0, STREAM_PADDING_BYTES);
        cursors[k] = (Cursor){padded, 0, b[k].bits[0], 0, b[k].symbols, at, 0};
        padded += size + STREAM_PADDING_BYTES;
        at += b[k].symbols;
    }
    const Decoder *const each[4] = {&decoders[0], &decoders[1], &decoders[2], &decoders[3]};
    decode_fast_pairs_with(each, cursors, n);
    for (; sound < n; sound++) {
        Py_ssize_t decodable = 0, expected = 0;
        decode_fast_pairs(&decoders[sound], &cursors[sound], 1);
        if (finish_streams(&decoders[sound], &cursors[sound], 1, 1, &decodable, &expected)
                != STREAM_OK ||
            (b[sound].reused ? 0 : !codes_exactly(out, b[sound].symbols, b[sound].coded)))
            break;
        out += b[sound].symbols;
    }
    for (int k = 0; k < n; k++)
        free_decoder(&decoders[k]);
    return sound;
}

static PyObject *decode_huffman_run(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos, block_size, budget, largest;
    PyObject *previous;
    if (!PyArg_ParseTuple(args, "y*nnOnn", &data, &pos, &block_size, &previous, &budget,
                          &largest))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    RunBlock *blocks = NULL;
    uint8_t *lengths = NULL, *padded = NULL;
    const uint8_t *buf = data.buf, *given = NULL;
    if (previous != Py_None) {
        if (!PyBytes_Check(previous) || PyBytes_GET_SIZE(previous) != 256) {
            PyErr_SetString(PyExc_ValueError, "previous must be 256 code lengths, or None");
            goto done;
        }
        given = (const uint8_t *)PyBytes_AS_STRING(previous);
    }
    if (pos < 0 || pos > data.len) {
        PyErr_SetString(PyExc_ValueError, "pos is outside the buffer");
        goto done;
    }
    /* Plan the blocks: their headers and tables, and where they end. */
    Py_ssize_t count = 0, room = 0, total = 0, widest = 0;
    for (Py_ssize_t p = pos; count < RUN_MOST_BLOCKS;) {
        if (count == room) {
            room = room ? 2 * room : 16;
            RunBlock *more = realloc(blocks, sizeof(RunBlock) * (size_t)room);
            uint8_t *more_lengths = realloc(lengths, 256 * (size_t)room);
            if (more)
                blocks = more;
            if (more_lengths)
                lengths = more_lengths;
            if (!more || !more_lengths) {
                PyErr_NoMemory();
                goto done;
            }
        }
        RunBlock *b = &blocks[count];
        uint8_t *own = lengths + 256 * count;
        /* The code a reuse block takes: the caller's for the first block, else the block
         * before's, found again each time, since realloc may have moved `lengths`. */
        const uint8_t *last = count ? lengths + 256 * (count - 1) : given;
        if (!plan_run_block(buf, data.len, p, block_size, largest, last, b, own) ||
            (count && total + b->symbols > budget))
            break;
        Py_ssize_t span = b->end - b->streams_at + STREAM_PADDING_BYTES * b->streams;
        widest = span > widest ? span : widest;
        total += b->symbols;
        p = b->end;
        count++;
    }
    if (!count) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    decoded = PyBytes_FromStringAndSize(NULL, total);
    padded = malloc(4 * (size_t)widest);  /* room for four blocks side by side */
    if (!decoded || !padded) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(decoded);
    Py_ssize_t good = 0, made = 0;
    Py_BEGIN_ALLOW_THREADS
    while (good < count) {
        int group = 0;  /* blocks of one stream from here, up to four */
        while (group < 4 && good + group < count && blocks[good + group].streams == 1)
            group++;
        int sound;
        if (group >= 2) {
            sound = decode_run_blocks(buf, &blocks[good], lengths + 256 * good, group, padded,
                                      out + made);
        } else {
            group = 1;
            sound = decode_run_block(buf, &blocks[good], lengths + 256 * good, padded,
                                     out + made);
        }
        for (int k = 0; k < sound; k++)
            made += blocks[good + k].symbols;
        good += sound;
        if (sound < group)
            break;
    }
    Py_END_ALLOW_THREADS
    if (!good) {  /* the first block is damaged: the reference says how */
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (made < total && _PyBytes_Resize(&decoded, made) < 0)
        goto done;  /* (it freed decoded) */
    PyObject *starts = PyList_New(good + 1), *ends = PyList_New(good),
             *crcs = PyList_New(good);
    if (starts && ends && crcs) {
        Py_ssize_t at = 0;
        for (Py_ssize_t i = 0; i < good; i++) {
            at += blocks[i].symbols;
            PyList_SET_ITEM(starts, i, PyLong_FromSsize_t(blocks[i].start));
            PyList_SET_ITEM(ends, i, PyLong_FromSsize_t(at));
            PyList_SET_ITEM(crcs, i, PyLong_FromUnsignedLong(blocks[i].crc));
        }
        PyList_SET_ITEM(starts, good, PyLong_FromSsize_t(blocks[good - 1].end));
        result = Py_BuildValue("OOOOy#", decoded, starts, ends, crcs, (const char *)lengths,
                               256 * good);
    }
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(crcs);
done:
    Py_XDECREF(decoded);
    free(blocks);
    free(lengths);
    free(padded);
    PyBuffer_Release(&data);
    return result;
}

/* -- split blocks: the blocks of many pieces, coded at once (FORMAT.md, section 16) ---- */

/*
 * Sorts n <= 256 keys (count << 8 | symbol, listed by increasing symbol) into increasing
 * order: a stable radix sort on the count, a byte at a time, as few passes as the largest
 * count needs.  A few hundred keys a block, so this beats comparison sorts by far.
 */
static void sort_keys(uint64_t *key, int n) {
    uint64_t largest = 0, spare[256];
    for (int i = 0; i < n; i++)
        largest = key[i] > largest ? key[i] : largest;
    uint64_t *from = key, *to = spare;
    for (int shift = 8; shift < 64 && (largest >> shift); shift += 8) {
        int start[257] = {0};
        for (int i = 0; i < n; i++)
            start[((from[i] >> shift) & 255) + 1]++;
        for (int d = 0; d < 256; d++)
            start[d + 1] += start[d];
        for (int i = 0; i < n; i++)
            to[start[(from[i] >> shift) & 255]++] = from[i];
        uint64_t *swap = from;
        from = to, to = swap;
    }
    if (from != key)
        memcpy(key, from, sizeof(uint64_t) * (size_t)n);
}

/*
 * Package-merge (codebook.limited_lengths) over n leaves of these sorted weights: at each
 * of max_length levels the leaves are merged, a leaf first on a tie, with the pairs of the
 * level below; the 2n - 2 cheapest items of the top level, expanded, give each leaf's
 * length as the number of levels that chose it.  Needs 2 < n <= 2^max_length <= 2^31.
 */
static void package_merge(const uint64_t *leaf, int n, int max_length, Py_ssize_t *length) {
    uint8_t is_leaf[LONGEST_CODE][512];
    int size[LONGEST_CODE];
    uint64_t items[512], next[512];
    memcpy(items, leaf, sizeof(uint64_t) * (size_t)n);
    memset(is_leaf[0], 1, (size_t)n);
    size[0] = n;
    for (int level = 1; level < max_length; level++) {
        int packages = size[level - 1] / 2, leaves = 0, paired = 0, made = 0;
        while (leaves < n || paired < packages) {
            uint64_t package = paired < packages ? items[2 * paired] + items[2 * paired + 1] : 0;
            int take_leaf = paired == packages || (leaves < n && leaf[leaves] <= package);
            next[made] = take_leaf ? leaf[leaves++] : (paired++, package);
            is_leaf[level][made++] = (uint8_t)take_leaf;
        }
        memcpy(items, next, sizeof(uint64_t) * (size_t)made);
        size[level] = made;
    }
    /* The leaves a level chooses are always the lightest ones. */
    for (int i = 0; i < n; i++)
        length[i] = 0;
    int take = 2 * n - 2;
    for (int level = max_length - 1; level >= 0; level--) {
        int chosen = 0;
        for (int k = 0; k < take && k < size[level]; k++)
            chosen += is_leaf[level][k];
        for (int i = 0; i < chosen; i++)
            length[i]++;
        take = 2 * (take - chosen);
    }
}

/*
 * The lengths codebook.optimal_lengths gives these counts of size <= 256 symbols:
 * Huffman's, over the present symbols ordered by (count, symbol), or package-merge's when a
 * code would pass max_length.  Returns 0, with no lengths set, when that is impossible:
 * more than 2^max_length symbols (the caller then lets the reference say so).
 */
static int code_lengths(const int64_t *count, int size, int max_length, uint8_t *length) {
    uint64_t key[256], weight[256];
    double leaf[256], merged[256];
    Py_ssize_t parent[512], depth[512];
    int n = 0;
    for (int s = 0; s < size; s++)
        if (count[s] > 0)
            key[n++] = (uint64_t)count[s] << 8 | (uint64_t)s;
    if (n > 2 && max_length < 31 && n > (1 << max_length))
        return 0;
    memset(length, 0, (size_t)size);
    sort_keys(key, n);
    if (n <= 2) {
        for (int i = 0; i < n; i++)
            length[key[i] & 255] = 1;
        return 1;
    }
    for (int i = 0; i < n; i++) {
        weight[i] = key[i] >> 8;
        leaf[i] = (double)weight[i];
    }
    tree_depths(leaf, n, merged, parent, depth);
    Py_ssize_t longest = 0;
    for (int i = 0; i < n; i++)
        longest = depth[i] > longest ? depth[i] : longest;
    if (longest > max_length)
        package_merge(weight, n, max_length, depth);
    for (int i = 0; i < n; i++)
        length[key[i] & 255] = (uint8_t)depth[i];
    return 1;
}

/* Bits per stored length in a plain code table: lengths 1..longest are stored as 0..longest-1. */
static int plain_width(int longest) {
    int width = 0;
    while ((1 << width) < longest)
        width++;
    return width;
}

/* The plain code table (FORMAT.md, section 6) of 256 byte lengths: the longest length, a
 * presence bitmap, then each present byte's length - 1, MSB first.  Returns its size. */
static Py_ssize_t put_plain_table(const uint8_t *length, uint8_t *out) {
    int longest = 0;
    for (int s = 0; s < 256; s++)
        longest = length[s] > longest ? length[s] : longest;
    int width = plain_width(longest);
    memset(out, 0, 1 + 32 + (256 * 5 + 7) / 8);
    out[0] = (uint8_t)longest;
    uint64_t bit = 0;
    for (int s = 0; s < 256; s++) {
        if (!length[s])
            continue;
        out[1 + s / 8] |= (uint8_t)(0x80 >> (s & 7));
        for (int b = width - 1; b >= 0; b--, bit++)
            if (((length[s] - 1) >> b) & 1)
                out[33 + (bit >> 3)] |= (uint8_t)(0x80 >> (bit & 7));
    }
    return 33 + (Py_ssize_t)((bit + 7) >> 3);
}

/* Block types and sizes of FORMAT.md sections 5 and 16. */
#define BLOCK_HUFFMAN 0x01
#define BLOCK_HUFFMAN_COMPACT 0x05
#define BLOCK_HUFFMAN_REUSE 0x06
#define LONGEST_COMPACT 15
#define MIN_SYMBOLS_TO_SPLIT (1 << 14)
#define STREAMS_PER_BLOCK 4
#define PLAIN_TABLE_MOST (1 + 32 + (256 * 5 + 7) / 8)
/* The most bytes a piece takes beside its codes: header (9), a plain table (the compact
 * one is used only when smaller), stream count and bit counts (1 + 16), and each stream's
 * last byte (4). */
#define PIECE_OVERHEAD (9 + PLAIN_TABLE_MOST + 17 + 4)

static inline void store_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* How one piece is coded: its block type, its table, and the code its symbols get. */
typedef struct {
    int kind;
    uint8_t length[256];  /* the piece's own code */
    const uint8_t *use;  /* the code its symbols get: length, or the previous piece's */
    uint8_t table[COMPACT_TABLE_MOST > PLAIN_TABLE_MOST ? COMPACT_TABLE_MOST : PLAIN_TABLE_MOST];
    Py_ssize_t table_size;
    uint64_t bits;  /* of all its streams */
    int streams;
} Piece;

/*
 * Plans a piece of n symbols with these counts as container._encode_huffman_piece does:
 * its own code, with the smaller of the compact and the plain table, or the previous
 * piece's code (type 0x06) when that costs no more.  Returns 0 when a length limit
 * cannot be met.
 */
static int plan_piece(Piece *piece, const int64_t *count, Py_ssize_t n, int max_length,
                      const uint8_t *previous) {
    uint8_t *length = piece->length;
    if (!code_lengths(count, 256, max_length, length))
        return 0;
    int longest = 0, present = 0, reusable = previous != NULL;
    uint64_t own_bits = 0, reuse_bits = 0;
    for (int s = 0; s < 256; s++) {
        longest = length[s] > longest ? length[s] : longest;
        present += length[s] != 0;
        own_bits += (uint64_t)count[s] * length[s];
        if (previous) {
            reuse_bits += (uint64_t)count[s] * previous[s];
            reusable &= !(count[s] > 0 && previous[s] == 0);
        }
    }
    Py_ssize_t plain_size = 33 + (present * plain_width(longest) + 7) / 8;
    piece->kind = BLOCK_HUFFMAN;
    if (longest <= LONGEST_COMPACT) {
        uint8_t symbols[256], extras[256], width[19];
        int64_t uses[19] = {0};
        int runs = run_length(length, symbols, extras);
        for (int k = 0; k < runs; k++)
            uses[symbols[k]]++;
        code_lengths(uses, 19, 7, width);  /* at most 19 symbols: always within 7 bits */
        piece->table_size = put_compact_table(length, width, piece->table);
        if (piece->table_size < plain_size)
            piece->kind = BLOCK_HUFFMAN_COMPACT;
    }
    if (piece->kind == BLOCK_HUFFMAN)
        piece->table_size = put_plain_table(length, piece->table);
    piece->use = length;
    piece->bits = own_bits;
    if (reusable && reuse_bits <= own_bits + 8 * (uint64_t)piece->table_size) {
        piece->kind = BLOCK_HUFFMAN_REUSE;
        piece->table_size = 0;
        piece->use = previous;
        piece->bits = reuse_bits;
    }
    piece->streams = n >= MIN_SYMBOLS_TO_SPLIT ? STREAMS_PER_BLOCK : 1;
    return 1;
}

/* Writes a planned piece's block: header, table, bit counts, streams.  Returns its size;
 * sets *bad for a symbol its code does not cover. */
static Py_ssize_t put_piece(const Piece *piece, const uint8_t *in, Py_ssize_t n, uint32_t crc,
                            uint8_t *out, int *bad) {
    uint64_t code[256];
    assign_canonical(piece->use, 256, code);
    uint8_t *at = out;
    at[0] = (uint8_t)piece->kind;
    store_le32(at + 1, (uint32_t)n);
    store_le32(at + 5, crc);
    memcpy(at + 9, piece->table, (size_t)piece->table_size);
    at += 9 + piece->table_size;
    uint8_t *bit_counts = at + 1;
    at[0] = (uint8_t)piece->streams;
    at += 1 + 4 * piece->streams;
    Py_ssize_t per_stream = (n + piece->streams - 1) / piece->streams;
    for (int k = 0; k < piece->streams; k++) {
        Py_ssize_t start = k * per_stream < n ? k * per_stream : n;
        Py_ssize_t end = (k + 1) * per_stream < n ? (k + 1) * per_stream : n;
        uint64_t bits = put_codes(in + start, 1, end - start, code, piece->use, 256, at, bad);
        store_le32(bit_counts + 4 * k, (uint32_t)bits);
        at += (bits + 7) / 8;
    }
    return at - out;
}

/* Checks the arguments the pieces kernels share; sets an error and returns 0 if wrong. */
static int check_pieces(Py_buffer *ends, Py_buffer *counts, Py_ssize_t symbols,
                        int max_length) {
    Py_ssize_t pieces = ends->len / 8;
    const int64_t *end = ends->buf;
    if (pieces < 1 || ends->len % 8 || counts->len != pieces * 256 * 8 || end[pieces - 1] != symbols
            || max_length < 1 || max_length > LONGEST_CODE) {
        PyErr_SetString(PyExc_ValueError, "the pieces and counts do not match the symbols");
        return 0;
    }
    for (Py_ssize_t p = 0; p < pieces; p++) {
        if (end[p] <= (p ? end[p - 1] : 0)) {
            PyErr_SetString(PyExc_ValueError, "the pieces' ends must increase");
            return 0;
        }
    }
    return 1;
}

/*
 * Plans each piece as plan_piece does, into plans[0 .. pieces): a piece that reuses a code
 * points at the plan that carries it.  Returns 0 when a length limit cannot be met.
 */
static int plan_pieces(Piece *plans, const int64_t *count, const int64_t *end,
                       Py_ssize_t pieces, int max_length) {
    const uint8_t *previous = NULL;  /* the code of the last piece with a table of its own */
    for (Py_ssize_t p = 0; p < pieces; p++) {
        if (!plan_piece(&plans[p], count + 256 * p, end[p] - (p ? end[p - 1] : 0), max_length,
                        previous))
            return 0;
        if (plans[p].kind != BLOCK_HUFFMAN_REUSE)
            previous = plans[p].length;
    }
    return 1;
}

/* The least and most bytes planned pieces take: exact but for the padding of a block's
 * last three streams. */
static void pieces_size(const Piece *plans, Py_ssize_t pieces, Py_ssize_t *least,
                        Py_ssize_t *most) {
    *least = *most = 0;
    for (Py_ssize_t p = 0; p < pieces; p++) {
        Py_ssize_t size = 9 + plans[p].table_size + 1 + 4 * plans[p].streams
                          + (Py_ssize_t)((plans[p].bits + 7) / 8);
        *least += size;
        *most += size + plans[p].streams - 1;
    }
}

/* Writes planned pieces; returns the bytes written, and sets *bad as put_piece does. */
static Py_ssize_t put_pieces(const Piece *plans, Py_ssize_t pieces, const uint8_t *in,
                             const int64_t *end, const uint32_t *crc, uint8_t *out, int *bad) {
    Py_ssize_t written = 0;
    for (Py_ssize_t p = 0; p < pieces && !*bad; p++) {
        Py_ssize_t start = p ? end[p - 1] : 0;
        written += put_piece(&plans[p], in + start, end[p] - start, crc[p], out + written, bad);
    }
    return written;
}

/* The bytes the pieces kernels may write: codes of max_length bits, and each piece's most
 * overhead; twice the codes when the whole block may be written after the pieces. */
static Py_ssize_t pieces_room(Py_ssize_t symbols, Py_ssize_t pieces, int max_length,
                              int with_whole) {
    return (1 + with_whole) * (symbols * max_length / 8 + PIECE_OVERHEAD) + pieces * PIECE_OVERHEAD
           + 16;
}

/*
 * encode_huffman_pieces(symbols, ends, counts, crcs, max_length, out) -> bytes written, or
 * None: the blocks of consecutive pieces of byte symbols, ending at ends (int64), with
 * these counts (256 int64 a piece) and CRC-32s (uint32 a piece), as
 * container.encode_pieces writes them.  None when a piece's code cannot meet max_length:
 * the reference then says why.
 *
 * encode_huffman_split(symbols, ends, counts, crcs, whole_crc, max_length, out) -> bytes
 * written, -1, or None: container.encode_split's choice between those pieces and the whole
 * as one block (with the CRC-32 whole_crc), each planned once: the pieces when their size
 * is surely smaller, the whole when surely not, else whichever the coding shows smaller.
 * With whole_crc -1 it returns -1 instead of writing anything when the whole may win, for
 * the caller to find the whole's CRC-32 and call again.
 */
static PyObject *encode_pieces_or_whole(PyObject *args, int split) {
    Py_buffer symbols, ends, counts, crcs, out;
    long long whole_crc = -1;
    int max_length, parsed;
    if (split)
        parsed = PyArg_ParseTuple(args, "y*y*y*y*Liw*", &symbols, &ends, &counts, &crcs,
                                  &whole_crc, &max_length, &out);
    else
        parsed = PyArg_ParseTuple(args, "y*y*y*y*iw*", &symbols, &ends, &counts, &crcs,
                                  &max_length, &out);
    if (!parsed)
        return NULL;
    PyObject *result = NULL;
    Piece *plans = NULL;
    Py_ssize_t pieces = ends.len / 8, n = symbols.len;
    const int64_t *end = ends.buf;
    if (!check_pieces(&ends, &counts, n, max_length))
        goto done;
    if (crcs.len != pieces * 4) {
        PyErr_SetString(PyExc_ValueError, "each piece needs a CRC-32");
        goto done;
    }
    if (!writable(&out, pieces_room(n, pieces, max_length, split), "the output buffer"))
        goto done;
    /* The pieces' plans, then (when splitting) the whole's. */
    if (!(plans = malloc(sizeof(Piece) * (size_t)(pieces + split)))) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t written = 0;
    int ok = 1, bad = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = symbols.buf;
    uint8_t *to = out.buf;
    ok = plan_pieces(plans, counts.buf, end, pieces, max_length);
    if (ok && split) {
        Piece *whole = &plans[pieces];
        int64_t total[256] = {0};
        for (Py_ssize_t p = 0; p < pieces; p++)
            for (int v = 0; v < 256; v++)
                total[v] += ((const int64_t *)counts.buf)[256 * p + v];
        ok = plan_piece(whole, total, n, max_length, NULL);
        Py_ssize_t least, most, whole_least, whole_most;
        pieces_size(plans, pieces, &least, &most);
        pieces_size(whole, 1, &whole_least, &whole_most);
        uint32_t crc = (uint32_t)whole_crc;
        if (!ok) {
            written = 0;  /* a length limit cannot be met: the reference says so */
        } else if (most < whole_least) {
            written = put_pieces(plans, pieces, in, end, crcs.buf, to, &bad);
        } else if (whole_crc < 0) {
            written = -1;  /* the whole may win: its CRC-32 is needed */
        } else if (least >= whole_most) {
            written = put_piece(whole, in, n, crc, to, &bad);
        } else {  /* code both, the whole after the pieces, and keep the smaller */
            written = put_pieces(plans, pieces, in, end, crcs.buf, to, &bad);
            Py_ssize_t alone = put_piece(whole, in, n, crc, to + written, &bad);
            if (alone <= written) {
                memmove(to, to + written, (size_t)alone);
                written = alone;
            }
        }
    } else if (ok) {
        written = put_pieces(plans, pieces, in, end, crcs.buf, to, &bad);
    }
    Py_END_ALLOW_THREADS
    if (bad)
        PyErr_SetString(PyExc_ValueError, "a symbol has no code: the counts are wrong");
    else
        result = ok ? PyLong_FromSsize_t(written) : Py_NewRef(Py_None);
done:
    free(plans);
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&counts);
    PyBuffer_Release(&crcs);
    PyBuffer_Release(&out);
    return result;
}

static PyObject *encode_huffman_pieces(PyObject *self, PyObject *args) {
    return encode_pieces_or_whole(args, 0);
}

static PyObject *encode_huffman_split(PyObject *self, PyObject *args) {
    return encode_pieces_or_whole(args, 1);
}

/* -- block splitting: merging cells into segments (codec/_splitter.py) ------------------ */

/* The cost model of _splitter.segment_costs, in units of 2^-16 bits. */
#define COST_FRACTION 16
#define COST_ONE ((int64_t)1 << COST_FRACTION)
#define LOG2_TABLE_BITS 17
#define HUFFMAN_BITS (8 * (9 + 1 + 4) + 80)
#define HUFFMAN_STREAMS_BITS (12 * 8)
#define ANS_BITS (8 * (9 + 6) + 8 * 33)
#define BITS_PER_FREQUENCY 12
#define BITS_PER_LANE 64

typedef struct {
    const int64_t *log2;  /* log2(x) in 2^-16 bits for x < 2^17: _splitter.LOG2_TABLE */
    int huffman;
    int64_t bits_per_length;  /* a Huffman length in the compact table, in 2^-16 bits */
} CostModel;

static inline int64_t log2_fixed(const CostModel *model, int64_t x) {
    if (x < ((int64_t)1 << LOG2_TABLE_BITS))
        return model->log2[x];
    int shift = 64 - __builtin_clzll((uint64_t)x) - LOG2_TABLE_BITS;
    return model->log2[x >> shift] + ((int64_t)shift << COST_FRACTION);
}

/* The estimated cost of a block with these k counts (summing to total). */
static int64_t segment_cost(const CostModel *model, const int64_t *count, int k, int64_t total) {
    int64_t largest = 0;
    for (int j = 0; j < k; j++)
        largest = count[j] > largest ? count[j] : largest;
    /* Huffman: a byte of probability above 1/2 gets one bit, and the others share the other
     * half of the code space (their entropy among themselves, plus that bit). */
    int dominant = model->huffman && 2 * largest > total;
    int64_t whole = log2_fixed(model, dominant ? total - largest : total), payload = 0, present = 0;
    for (int j = 0; j < k; j++) {
        if (!count[j])
            continue;
        int64_t information = whole - log2_fixed(model, count[j]) + (dominant ? COST_ONE : 0);
        if (dominant && count[j] == largest)
            information = COST_ONE;
        else if (model->huffman && information < COST_ONE)
            information = COST_ONE;  /* Huffman spends at least a bit on every symbol */
        payload += count[j] * information;
        present++;
    }
    if (!model->huffman) {
        int64_t lanes = payload / (100000 * COST_ONE), by_length = (total + 131071) / 131072;
        int64_t spare = payload / (50000 * COST_ONE);
        if (payload >= 20000 * COST_ONE && total / 16384 > spare)
            spare = total / 16384;
        spare = spare < 4 ? spare : 4;
        lanes = lanes > by_length ? lanes : by_length;
        lanes = lanes > spare ? lanes : spare;
        lanes = lanes > 1 ? lanes : 1;
        return payload + ((ANS_BITS + BITS_PER_FREQUENCY * present + BITS_PER_LANE * lanes)
                          << COST_FRACTION);
    }
    int64_t streams = total >= (1 << 14) ? HUFFMAN_STREAMS_BITS : 0;
    return payload + payload / 200 + ((HUFFMAN_BITS + streams) << COST_FRACTION)
           + model->bits_per_length * present;
}

typedef struct {
    int64_t gain;
    Py_ssize_t pair;
} Candidate;

/* The best gain first; the leftmost pair of equal gains first. */
static int by_gain(const void *a, const void *b) {
    const Candidate *x = a, *y = b;
    if (x->gain != y->gain)
        return x->gain > y->gain ? -1 : 1;
    return x->pair < y->pair ? -1 : x->pair > y->pair;
}

/*
 * merge_cells(counts, huffman, max_block, log2_table, bits_per_length, lengths) -> segments:
 * _splitter.merge_segments in C, with the same rounds and the same integer costs, so the
 * same segments.  counts holds 256 int64 counts a cell; lengths (int64, a cell each)
 * receives each segment's length.  A pair's merged cost is kept from round to round
 * until one of its segments changes.
 */
static PyObject *merge_cells(PyObject *self, PyObject *args) {
    Py_buffer counts, table, lengths;
    int huffman;
    Py_ssize_t max_block, bits_per_length;
    if (!PyArg_ParseTuple(args, "y*pny*nw*", &counts, &huffman, &max_block, &table,
                          &bits_per_length, &lengths))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t cells = counts.len / (256 * 8);
    int64_t *count = NULL, *cost = NULL, *pair_cost = NULL, *length = NULL;
    uint8_t *pair_known = NULL, *taken = NULL;
    Candidate *candidate = NULL;
    if (cells < 1 || counts.len % (256 * 8) || table.len != 8 << LOG2_TABLE_BITS) {
        PyErr_SetString(PyExc_ValueError, "256 counts a cell, and the log2 table, are needed");
        goto done;
    }
    if (!writable(&lengths, cells * 8, "lengths"))
        goto done;
    /* Only the byte values that occur matter: columns of the others are left out. */
    const int64_t *cell = counts.buf;
    int column[256] = {0}, k = 0;
    for (int v = 0; v < 256; v++) {
        int occurs = 0;
        for (Py_ssize_t c = 0; c < cells && !occurs; c++)
            occurs = cell[256 * c + v] != 0;
        if (occurs)
            column[k++] = v;
    }
    k = k ? k : 1;
    count = malloc(sizeof(int64_t) * (size_t)(cells + 1) * (size_t)k);
    cost = malloc(sizeof(int64_t) * (size_t)cells);
    pair_cost = malloc(sizeof(int64_t) * (size_t)cells);
    length = malloc(sizeof(int64_t) * (size_t)cells);
    pair_known = calloc((size_t)cells, 1);
    taken = malloc((size_t)cells);
    candidate = malloc(sizeof(Candidate) * (size_t)cells);
    if (!count || !cost || !pair_cost || !length || !pair_known || !taken || !candidate) {
        PyErr_NoMemory();
        goto done;
    }
    CostModel model = {table.buf, huffman, bits_per_length};
    Py_ssize_t segments = cells;
    Py_BEGIN_ALLOW_THREADS
    int64_t *merged = count + cells * k;  /* room for one pair's sum */
    for (Py_ssize_t c = 0; c < cells; c++) {
        length[c] = 0;
        for (int j = 0; j < k; j++) {
            count[c * k + j] = cell[256 * c + column[j]];
            length[c] += count[c * k + j];
        }
        cost[c] = segment_cost(&model, count + c * k, k, length[c]);
    }
    while (segments > 1) {
        Py_ssize_t candidates = 0;
        for (Py_ssize_t i = 0; i + 1 < segments; i++) {
            if (!pair_known[i]) {
                for (int j = 0; j < k; j++)
                    merged[j] = count[i * k + j] + count[(i + 1) * k + j];
                pair_cost[i] = segment_cost(&model, merged, k, length[i] + length[i + 1]);
                pair_known[i] = 1;
            }
            int64_t gain = cost[i] + cost[i + 1] - pair_cost[i];
            if (gain > 0 && length[i] + length[i + 1] <= max_block)
                candidate[candidates++] = (Candidate){gain, i};
        }
        if (!candidates)
            break;
        qsort(candidate, (size_t)candidates, sizeof(Candidate), by_gain);
        memset(taken, 0, (size_t)segments);
        for (Py_ssize_t c = 0; c < candidates; c++) {
            Py_ssize_t i = candidate[c].pair;
            if (!taken[i] && !taken[i + 1])
                taken[i] = 2, taken[i + 1] = 1;  /* 2: first of a merged pair */
        }
        /* Compact: a merged pair lives on in its first segment, with the pair's cost. */
        Py_ssize_t kept = 0;
        for (Py_ssize_t i = 0; i < segments; i++) {
            if (taken[i] == 1)
                continue;
            if (taken[i] == 2) {
                for (int j = 0; j < k; j++)
                    count[kept * k + j] = count[i * k + j] + count[(i + 1) * k + j];
                length[kept] = length[i] + length[i + 1];
                cost[kept] = pair_cost[i];
            } else if (kept != i) {
                memmove(count + kept * k, count + i * k, sizeof(int64_t) * (size_t)k);
                length[kept] = length[i];
                cost[kept] = cost[i];
            }
            /* The pair (kept, kept + 1) is known if neither segment changed. */
            Py_ssize_t next = i + (taken[i] == 2 ? 2 : 1);
            int unchanged = taken[i] == 0 && next < segments && taken[next] == 0;
            pair_known[kept] = (uint8_t)(unchanged && pair_known[i]);
            if (unchanged)
                pair_cost[kept] = pair_cost[i];
            kept++;
        }
        segments = kept;
    }
    int64_t *out = lengths.buf;
    for (Py_ssize_t s = 0; s < segments; s++)
        out[s] = length[s];
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(segments);
done:
    free(count);
    free(cost);
    free(pair_cost);
    free(length);
    free(pair_known);
    free(taken);
    free(candidate);
    PyBuffer_Release(&counts);
    PyBuffer_Release(&table);
    PyBuffer_Release(&lengths);
    return result;
}

/* -- joining ------------------------------------------------------------------------- */

/*
 * b"".join(parts), with the copying shared among `threads` threads: joining a whole
 * decoded file is a copy of its every byte, which would otherwise run on one core while
 * the other waits.  Each thread copies a contiguous run of parts.
 */
typedef struct {
    Py_buffer *views;
    Py_ssize_t first, last;  /* parts [first, last) */
    char *destination;  /* where part `first` goes */
} CopyJob;

static void *copy_parts(void *argument) {
    CopyJob *job = argument;
    char *at = job->destination;
    for (Py_ssize_t k = job->first; k < job->last; k++) {
        memcpy(at, job->views[k].buf, (size_t)job->views[k].len);
        at += job->views[k].len;
    }
    return NULL;
}

static PyObject *join(PyObject *self, PyObject *args) {
    PyObject *sequence;
    int threads;
    if (!PyArg_ParseTuple(args, "Oi", &sequence, &threads))
        return NULL;
    PyObject *parts = PySequence_Fast(sequence, "join() takes a sequence of bytes-like parts");
    if (!parts)
        return NULL;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(parts), ready = 0, total = 0;
    PyObject *result = NULL;
    Py_buffer *views = PyMem_Calloc((size_t)(count ? count : 1), sizeof(Py_buffer));
    if (!views) {
        PyErr_NoMemory();
        goto done;
    }
    for (; ready < count; ready++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(parts, ready), &views[ready],
                               PyBUF_SIMPLE) < 0)
            goto done;
        total += views[ready].len;
    }
    result = PyBytes_FromStringAndSize(NULL, total);
    if (!result)
        goto done;
    char *destination = PyBytes_AS_STRING(result);
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    CopyJob jobs[64];
    int started = 0;
    Py_BEGIN_ALLOW_THREADS
    /* Cut the parts into `threads` runs of about equal bytes. */
    Py_ssize_t k = 0, done_bytes = 0;
    char *at = destination;
    for (int t = 0; t < threads && k < count; t++) {
        Py_ssize_t goal = total / threads * (t + 1), first = k;
        char *start = at;
        while (k < count && (done_bytes < goal || t == threads - 1)) {
            done_bytes += views[k].len;
            at += views[k].len;
            k++;
        }
        jobs[t] = (CopyJob){views, first, k, start};
        started = t + 1;
    }
#ifdef _WIN32
    for (int t = 0; t < started; t++)
        copy_parts(&jobs[t]);
#else
    pthread_t helpers[64];
    int spawned[64] = {0};
    for (int t = 1; t < started; t++)
        spawned[t] = pthread_create(&helpers[t], NULL, copy_parts, &jobs[t]) == 0;
    if (started)
        copy_parts(&jobs[0]);
    for (int t = 1; t < started; t++) {
        if (spawned[t])
            pthread_join(helpers[t], NULL);
        else
            copy_parts(&jobs[t]);  /* no thread to be had: copy it here */
    }
#endif
    Py_END_ALLOW_THREADS
done:
    for (Py_ssize_t i = 0; i < ready; i++)
        PyBuffer_Release(&views[i]);
    PyMem_Free(views);
    Py_DECREF(parts);
    return result;
}

/* -- the module ----------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"count_bytes", count_bytes, METH_VARARGS, "count_bytes(data, counts): a byte histogram."},
    {"join", join, METH_VARARGS, "join(parts, threads) -> b''.join(parts), copied by threads."},
    {"compact_symbol_counts", compact_symbol_counts, METH_VARARGS,
     "compact_symbol_counts(lengths) -> how often each run-length symbol occurs."},
    {"write_compact_table", write_compact_table, METH_VARARGS,
     "write_compact_table(lengths, code_length_lengths) -> the compact table's bytes."},
    {"parse_compact_table", parse_compact_table, METH_VARARGS,
     "parse_compact_table(buffer, pos) -> (256 lengths, end), or None if it is not valid."},
    {"encode_huffman_pieces", encode_huffman_pieces, METH_VARARGS,
     "encode_huffman_pieces(symbols, ends, counts, crcs, max_length, out) -> bytes written."},
    {"encode_huffman_split", encode_huffman_split, METH_VARARGS,
     "encode_huffman_split(symbols, ends, counts, crcs, whole_crc, max_length, out) -> bytes."},
    {"merge_cells", merge_cells, METH_VARARGS,
     "merge_cells(counts, huffman, max_block, log2_table, bits_per_length, lengths) -> segments."},
    {"pack_varints", pack_varints, METH_VARARGS, "pack_varints(values) -> LEB128 bytes."},
    {"plan_ans_pieces", plan_ans_pieces, METH_VARARGS,
     "plan_ans_pieces(counts, costs, freqs, ideals, lanes, reused) -> packed tables."},
    {"quantize_counts", quantize_counts, METH_VARARGS,
     "quantize_counts(counts, precision, freqs) -> True, or False for the reference to do."},
    {"count_cells", count_cells, METH_VARARGS,
     "count_cells(data, cell, counts): a byte histogram per run of cell bytes."},
    {"count_distinct_bytes", count_distinct_bytes, METH_VARARGS,
     "count_distinct_bytes(data) -> how many distinct byte values data holds."},
    {"canonical_codes", canonical_codes, METH_VARARGS,
     "canonical_codes(lengths, codes): each symbol's canonical codeword."},
    {"huffman_depths", huffman_depths, METH_VARARGS,
     "huffman_depths(sorted_weights, depths): Huffman's tree depths, two-queue, leaves first."},
    {"huffman_encode", huffman_encode, METH_VARARGS,
     "huffman_encode(symbols, width, codes, lengths, out) -> bits written."},
    {"huffman_decode", huffman_decode, METH_VARARGS,
     "huffman_decode(streams, stream_bits, count, lengths, width) -> the symbols, as bytes."},
    {"ans_encode", ans_encode, METH_VARARGS,
     "ans_encode(symbols, width, freqs, cumulative, precision, lanes, states, words) -> words."},
    {"decode_huffman_run", decode_huffman_run, METH_VARARGS,
     "decode_huffman_run(buffer, pos, block_size, previous, budget, largest) -> None or "
     "(data, starts, ends, crcs, lengths)."},
    {"parse_varints", parse_varints, METH_VARARGS,
     "parse_varints(buffer, pos, count, longest, values) -> end position, or None."},
    {"ans_encode_pieces", ans_encode_pieces, METH_VARARGS,
     "ans_encode_pieces(symbols, ends, freqs, cumulative, precision, lanes, states, words, "
     "counts) -> None."},
    {"ans_decode", ans_decode, METH_VARARGS,
     "ans_decode(words, states, count, freqs, cumulative, precision, width) -> bytes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_ckernels",
    "huffkit's compiled kernels (see codec/_ckernels.c).", -1, methods,
};

PyMODINIT_FUNC PyInit__ckernels(void) {
    PyObject *m = PyModule_Create(&module);
    /* The wrappers size the pieces kernels' output from it (pieces_room). */
    if (m && PyModule_AddIntConstant(m, "PIECE_OVERHEAD", PIECE_OVERHEAD) < 0)
        Py_CLEAR(m);
    return m;
}
