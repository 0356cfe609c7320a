/*
 * Code tables, the two ways a block stores its 256 code lengths: the plain table (FORMAT.md,
 * section 6) and the compact one, run-length coded with a code of its own (section 16.1),
 * written (write_compact_table, and for the pieces encoder) and read (parse_compact_table,
 * and for the run decoder).  codec/kernels/reference/tables.py is the reference writer, and
 * codec/format/tables.py the reference reader.
 */

#include "kernels.h"

/* -- compact code tables (FORMAT.md, section 16.1) ------------------------------------ */

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
    Py_ssize_t at = (Py_ssize_t)(r->bit >> 3);
    if (width > 0 && at <= r->len - 8) {
        /* Eight bytes in the buffer: all of the (at most 7 + 7) bits at once.  Bit by bit,
         * reading tables was a tenth of decoding kennedy.xls's run of 121 small blocks. */
        uint64_t value = load_be64(r->buf + at) << (r->bit & 7);
        r->bit += (uint64_t)width;
        return (uint32_t)(value >> (64 - width));
    }
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
int hk_run_length(const uint8_t *lengths, uint8_t *symbols, uint8_t *extras) {
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

/*
 * Writes the compact table of 256 code lengths (each at most 15) into out (at least
 * COMPACT_TABLE_MOST bytes), with the code-length code of these 19 widths (each at most 7,
 * a valid code for hk_run_length's symbols); returns its size in bytes.
 */
Py_ssize_t hk_put_compact_table(const uint8_t *lengths, const uint8_t *width, uint8_t *out) {
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
    int n = hk_run_length(lengths, symbols, extras);
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
PyObject *hk_compact_symbol_counts(PyObject *self, PyObject *args) {
    Py_buffer lengths;
    if (!PyArg_ParseTuple(args, "y*", &lengths))
        return NULL;
    PyObject *result = NULL;
    if (read_lengths_256(&lengths, "lengths")) {
        uint8_t symbols[256], extras[256];
        int n = hk_run_length(lengths.buf, symbols, extras);
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
PyObject *hk_write_compact_table(PyObject *self, PyObject *args) {
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
    Py_ssize_t size = hk_put_compact_table(lengths.buf, width, out);
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
Py_ssize_t hk_read_compact(const uint8_t *buf, Py_ssize_t len, uint8_t *lengths) {
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

PyObject *hk_parse_compact_table(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos;
    if (!PyArg_ParseTuple(args, "y*n", &data, &pos))
        return NULL;
    uint8_t lengths[256];
    Py_ssize_t used = -1;
    if (pos >= 0 && pos <= data.len)
        used = hk_read_compact((const uint8_t *)data.buf + pos, data.len - pos, lengths);
    PyBuffer_Release(&data);
    if (used < 0)
        Py_RETURN_NONE;
    return Py_BuildValue("y#n", (const char *)lengths, (Py_ssize_t)256, pos + used);
}

/* -- plain code tables (FORMAT.md, section 6) ----------------------------------------- */

/* Bits per stored length in a plain code table: lengths 1..longest are stored as 0..longest-1. */
int hk_plain_width(int longest) {
    int width = 0;
    while ((1 << width) < longest)
        width++;
    return width;
}

/* The plain code table (FORMAT.md, section 6) of 256 byte lengths: the longest length, a
 * presence bitmap, then each present byte's length - 1, MSB first.  Returns its size. */
Py_ssize_t hk_put_plain_table(const uint8_t *length, uint8_t *out) {
    int longest = 0;
    for (int s = 0; s < 256; s++)
        longest = length[s] > longest ? length[s] : longest;
    int width = hk_plain_width(longest);
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
