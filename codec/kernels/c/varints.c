/*
 * LEB128 numbers, as the container stores its lists (pack_varints, parse_varints).
 */

#include "kernels.h"

/* pack_varints(values) -> bytes: each uint64 as LEB128 (7 bits a byte, low group first,
 * the high bit set on all but the last byte), concatenated. */
PyObject *hk_pack_varints(PyObject *self, PyObject *args) {
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
PyObject *hk_parse_varints(PyObject *self, PyObject *args) {
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
