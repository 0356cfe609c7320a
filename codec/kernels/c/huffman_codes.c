/*
 * Huffman codes, as codec/kernels/reference/tables.py makes them: the depths of Huffman's
 * tree over sorted weights (huffman_depths; the pieces encoder builds its codes on the same
 * tree), and the
 * canonical codeword of each symbol from the code lengths (canonical_codes).
 */

#include "kernels.h"

/* -- Huffman code lengths ------------------------------------------------------------- */

/*
 * Huffman's tree over n >= 2 leaves sorted by (weight, symbol), built with two queues as
 * FORMAT.md section 11 says: take the lighter front of the leaf queue and the merged
 * queue, the leaf when they tie.  Sets depth[0..n) (and uses depth[n..2n-1) too); merged
 * has room for n - 1 weights, parent for 2n - 1 nodes.
 */
void hk_tree_depths(const double *leaf, Py_ssize_t n, double *merged, Py_ssize_t *parent,
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

/* huffman_depths(sorted_weights, depths): the depths of Huffman's tree (hk_tree_depths). */
PyObject *hk_huffman_depths(PyObject *self, PyObject *args) {
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
    hk_tree_depths(leaf, n, merged, parent, depth);
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

/* -- canonical codes ------------------------------------------------------------------ */

/* canonical_codes(lengths, codes): each symbol's canonical codeword. */
PyObject *hk_canonical_codes(PyObject *self, PyObject *args) {
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
