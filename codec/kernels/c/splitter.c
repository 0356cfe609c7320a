/*
 * Block splitting: merging cells into segments with the cost model of
 * codec/kernels/reference/split.py (merge_cells), so that a file is cut into blocks where its
 * statistics change.
 */

#include "kernels.h"

/* The cost model of reference.split.segment_costs, in units of 2^-16 bits. */
#define COST_FRACTION 16
#define COST_ONE ((int64_t)1 << COST_FRACTION)
#define LOG2_TABLE_BITS 17
#define HUFFMAN_BITS (8 * (9 + 1 + 4) + 80)
#define HUFFMAN_STREAMS_BITS (12 * 8)
#define ANS_BITS (8 * (9 + 6) + 8 * 33)
#define BITS_PER_FREQUENCY 12
#define BITS_PER_LANE 64

typedef struct {
    const int64_t *log2;  /* log2(x) in 2^-16 bits for x < 2^17: reference.split.LOG2_TABLE */
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
 * reference.split.merge_segments in C, with the same rounds and the same integer costs, so the
 * same segments.  counts holds 256 int64 counts a cell; lengths (int64, a cell each)
 * receives each segment's length.  A pair's merged cost is kept from round to round
 * until one of its segments changes.
 */
PyObject *hk_merge_cells(PyObject *self, PyObject *args) {
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
