/*
 * Counting: a byte histogram of a whole buffer (count_bytes), one of each run of `cell`
 * bytes, which the block splitter starts from (count_cells), and the number of distinct
 * byte values a buffer holds (count_distinct_bytes).
 */

#include "kernels.h"

PyObject *hk_count_bytes(PyObject *self, PyObject *args) {
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
PyObject *hk_count_cells(PyObject *self, PyObject *args) {
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
PyObject *hk_count_distinct_bytes(PyObject *self, PyObject *args) {
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
