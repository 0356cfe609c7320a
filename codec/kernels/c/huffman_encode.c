/*
 * Huffman encoding: symbols to their codewords, packed MSB first (put_byte_codes for bytes,
 * put_codes for symbols of 4 bytes, in kernels.h; the pieces encoder calls the first too).
 */

#include "kernels.h"

/* huffman_encode(symbols, width, codes, lengths, out) -> the bits written to out. */
PyObject *hk_huffman_encode(PyObject *self, PyObject *args) {
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
    int longest = 1;  /* put_byte_codes writes one bit for a byte without a code */
    for (Py_ssize_t s = 0; s < size; s++) {
        if (length[s] > LONGEST_CODE) {
            PyErr_SetString(PyExc_ValueError, "a code is longer than 31 bits");
            goto done;
        }
        longest = length[s] > longest ? length[s] : longest;
    }
    /* Room for n codes of the table's longest (not of 31 bits: a block of 64 MiB would need
     * 248 MiB), and for the 8-byte store past the last whole byte. */
    if (!writable(&out, (n * longest + 7) / 8 + 8, "the output buffer"))
        goto done;
    const uint64_t *code = codes.buf;
    const uint8_t *in = symbols.buf;
    uint8_t *dst = out.buf;
    uint64_t total_bits = 0;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    if (width == 1) {
        uint64_t entry[256];
        const int longest = byte_code_entries(code, length, entry);
        total_bits = put_byte_codes(in, n, entry, longest, dst, &bad);
    } else {
        total_bits = put_codes(in, width, n, code, length, size, dst, &bad);
    }
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
