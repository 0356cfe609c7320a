/*
 * Bring your own model (issue 18): symbols coded with probabilities a model predicted, one
 * distribution a symbol.  The model's rows are quantised to integer frequencies summing to
 * M = 2^precision in Python (models/predicted.py, the same numbers on every backend); here
 * a single rANS state codes each symbol with its own row.
 *
 * The state x lives in [L, 2^64) with L = 2^32, and sheds or takes 32-bit words, as the
 * block coder's (rans_encode.c) does; precision is at most 24, so that L / M >= 2^8 keeps
 * the coding loss of the integer arithmetic negligible.  The encoder runs backwards from
 * x = L; the decoder, forwards, must end at x = L having read every word: a payload it
 * does not end on exactly is not one an encoder wrote.
 *
 * Integer arithmetic only, so that every machine and compiler gives the same bytes; the
 * Python reference (codec/kernels/reference/probability_coder.py) follows it step by step.
 */

#include "kernels.h"

/* The payload: the encoder's final state, 8 bytes little-endian, then the words in the
 * order the decoder takes them, 4 bytes little-endian each. */
#define STATE_BYTES 8
#define WORD_BYTES 4

static int check_precision(int precision) {
    if (precision < 1 || precision > 24) {
        PyErr_SetString(PyExc_ValueError, "precision must be 1 to 24 bits");
        return 0;
    }
    return 1;
}

/*
 * probability_encode(starts, freqs, precision, out) -> where the payload starts in out.
 *
 * starts and freqs (u32, one per symbol, in order) are each coded symbol's cumulative
 * frequency and frequency in its row.  out has room for 8 + 4n bytes: the words are
 * written backwards from its end (at most one a symbol: a state that sheds one is below
 * 2^32, under any symbol's limit), and the final state just before them, so that the
 * payload is out[start:], in the decoder's order, without a reversal.  A division a symbol:
 * the quantisation in numpy costs a hundred times more than it, so the block coder's
 * division by multiplication would buy nothing here.
 */
PyObject *hk_probability_encode(PyObject *self, PyObject *args) {
    Py_buffer starts, freqs, out;
    int precision;
    if (!PyArg_ParseTuple(args, "y*y*iw*", &starts, &freqs, &precision, &out))
        return NULL;
    PyObject *result = NULL;
    if (!check_precision(precision))
        goto done;
    if (starts.len != freqs.len || starts.len % 4) {
        PyErr_SetString(PyExc_ValueError, "starts and freqs must be u32 arrays of one size");
        goto done;
    }
    const Py_ssize_t n = starts.len / 4;
    if (!writable(&out, STATE_BYTES + WORD_BYTES * n, "the output buffer"))
        goto done;
    Py_ssize_t bad = -1, at = n;  /* words: the word slots still free before the last one */
    uint64_t x = ANS_LOWER;
    Py_BEGIN_ALLOW_THREADS
    const uint32_t *c = starts.buf, *f = freqs.buf;
    const uint64_t total = (uint64_t)1 << precision;
    uint8_t *words = (uint8_t *)out.buf + STATE_BYTES;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        /* A frequency of 0 cannot be coded, and a symbol's interval must lie within M. */
        if (!f[i] || (uint64_t)c[i] + f[i] > total) {
            bad = i;
            break;
        }
        if (x >= (uint64_t)f[i] << (64 - precision)) {
            uint8_t *w = words + WORD_BYTES * --at;
            for (int k = 0; k < WORD_BYTES; k++)
                w[k] = (uint8_t)(x >> (8 * k));
            x >>= 32;
        }
        x = ((x / f[i]) << precision) + x % f[i] + c[i];
    }
    if (bad < 0) {
        uint8_t *s = words + WORD_BYTES * at - STATE_BYTES;
        for (int k = 0; k < STATE_BYTES; k++)
            s[k] = (uint8_t)(x >> (8 * k));
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0)
        PyErr_Format(PyExc_ValueError, "symbol %zd has a frequency of 0, or one past "
                     "2**precision", bad);
    else
        result = PyLong_FromSsize_t(WORD_BYTES * at);
done:
    PyBuffer_Release(&starts);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&out);
    return result;
}

/*
 * probability_decode(payload, cursor, cumulative, alphabet_size, precision, out) -> None.
 *
 * Decodes one symbol per row of cumulative (u32, rows of alphabet_size + 1: from 0 up to
 * M), as many as out (u32) has room for, from the payload's words.  cursor (3 u64, updated
 * in place, also when decoding fails) holds the state, the position of the next word in
 * the payload, and how many symbols were decoded before: the decoder goes on from where
 * the last call stopped, one row or many at a time.  ValueError when the words run out.
 *
 * The symbol is found by a binary search that keeps row[lo] <= slot < row[hi]; the ends,
 * 0 and M, are checked, so whatever lies between, the symbol found is in range and its
 * frequency row[lo + 1] - row[lo] at least 1: a row of any other numbers gives another
 * symbol, never an access outside the row.
 */
PyObject *hk_probability_decode(PyObject *self, PyObject *args) {
    Py_buffer payload, cursor, cumulative, out;
    Py_ssize_t size;
    int precision;
    if (!PyArg_ParseTuple(args, "y*w*y*niw*", &payload, &cursor, &cumulative, &size,
                          &precision, &out))
        return NULL;
    PyObject *result = NULL;
    if (!check_precision(precision))
        goto done;
    if (size < 1 || size > ((Py_ssize_t)1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "alphabet_size must be 1 to 2**24");
        goto done;
    }
    if (cursor.len != 3 * 8 || out.len % 4) {
        PyErr_SetString(PyExc_ValueError, "cursor must be 3 u64, and out a u32 array");
        goto done;
    }
    const Py_ssize_t m = out.len / 4, width = size + 1;
    if (cumulative.len % (4 * width) || cumulative.len / (4 * width) != m) {
        PyErr_Format(PyExc_ValueError, "cumulative must hold %zd rows of %zd u32", m, width);
        goto done;
    }
    uint64_t at[3];
    memcpy(at, cursor.buf, sizeof at);
    if (at[0] < ANS_LOWER || at[1] > (uint64_t)payload.len) {
        PyErr_SetString(PyExc_ValueError, "the cursor's state is below 2**32, or its "
                        "position past the payload");
        goto done;
    }
    int status = 0;  /* 1: a row not from 0 to M; 2: the words ran out */
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = payload.buf;
    const uint32_t *rows = cumulative.buf;
    uint32_t *dst = out.buf;
    const uint64_t total = (uint64_t)1 << precision;
    uint64_t x = at[0];
    Py_ssize_t pos = (Py_ssize_t)at[1], i = 0;
    for (; i < m; i++) {
        const uint32_t *row = rows + i * width;
        if (row[0] != 0 || row[size] != total) {
            status = 1;
            break;
        }
        const uint32_t slot = (uint32_t)(x & (total - 1));
        Py_ssize_t lo = 0, hi = size;
        while (hi - lo > 1) {
            const Py_ssize_t mid = (lo + hi) >> 1;
            if (row[mid] <= slot)
                lo = mid;
            else
                hi = mid;
        }
        /* f * (x >> precision) + slot - row[lo] < f * ((x >> precision) + 1) <= 2^64 */
        x = (uint64_t)(row[lo + 1] - row[lo]) * (x >> precision) + slot - row[lo];
        if (x < ANS_LOWER) {
            if (payload.len - pos < WORD_BYTES) {
                status = 2;
                break;
            }
            uint64_t word = 0;
            for (int k = WORD_BYTES - 1; k >= 0; k--)
                word = word << 8 | in[pos + k];
            x = x << 32 | word;
            pos += WORD_BYTES;
        }
        dst[i] = (uint32_t)lo;
    }
    at[0] = x;
    at[1] = (uint64_t)pos;
    at[2] += (uint64_t)i;
    Py_END_ALLOW_THREADS
    memcpy(cursor.buf, at, sizeof at);
    if (status == 1)
        PyErr_Format(PyExc_ValueError, "row %llu of the cumulative frequencies does not run "
                     "from 0 to 2**precision", (unsigned long long)at[2]);
    else if (status == 2)
        PyErr_Format(PyExc_ValueError, "the coded words ran out at symbol %llu",
                     (unsigned long long)at[2]);
    else
        result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&payload);
    PyBuffer_Release(&cursor);
    PyBuffer_Release(&cumulative);
    PyBuffer_Release(&out);
    return result;
}
