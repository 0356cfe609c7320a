/*
 * Sequential models (issue 18): each byte coded bit by bit, most significant first, by a
 * binary arithmetic coder, with the probability of each bit predicted from the bits of the
 * byte so far and the k bytes before it, and learnt as the data is coded.  A model's loss,
 * the sum of -log2 q over the bits it predicted, is the payload to within a few bytes.
 *
 * Integer arithmetic only, so that every machine and compiler gives the same bytes; the
 * Python reference (codec/kernels/reference/sequential.py) follows it step by step.
 */

#include "kernels.h"
#include "binary_coder.h"

/* -- the adaptive order-k model --------------------------------------------------------- */

/*
 * A probability for each (context, node): the context is the k bytes before (k = 0 to 3,
 * hashed to TABLE_BITS bits beyond order 1), the node the bits of the byte so far behind a
 * leading 1 (1 to 255).  Each entry holds the probability of a 1 in its top 22 bits and how
 * many bits it has seen (to LIMIT) in its low 10: a new entry says 1/2, and each bit moves it
 * by 1/(n + 1.5) of the way to the bit seen, so that it starts as an average of what it saw
 * and settles into a moving one.  An unseen context costs its first byte 8 bits at most.
 */
#define ORDER_MOST 3
#define TABLE_BITS_MOST 22
#define LIMIT 255

static uint32_t reciprocal[LIMIT + 1];  /* 65536 / (n + 1.5) */

static void init_reciprocals(void) {
    for (int n = 0; n <= LIMIT; n++)
        reciprocal[n] = (uint32_t)(131072 / (2 * n + 3));  /* 65536 / (n + 1.5), floored */
}

static inline uint32_t predict(uint32_t entry) {
    uint32_t p = entry >> 16;  /* the top 16 of its 22 bits */
    return p < 1 ? 1 : p > 65535 ? 65535 : p;
}

static inline uint32_t update(uint32_t entry, int bit) {
    const uint32_t n = entry & 1023, p = entry >> 10;
    const int32_t target = bit ? (1 << 22) - 1 : 0;
    const int32_t moved = (int32_t)(((int64_t)(target - (int32_t)p) * reciprocal[n]) >> 16);
    return ((p + (uint32_t)moved) << 10) | (n < LIMIT ? n + 1 : n);
}

static inline unsigned table_bits(int order) {
    return order == 0 ? 8 : order == 1 ? 16 : TABLE_BITS_MOST;
}

/* The index of a context's first entry: the k bytes before position i, mixed. */
static inline uint32_t context_base(const uint8_t *data, Py_ssize_t i, int order) {
    if (order == 0)
        return 0;
    if (order == 1)
        return i >= 1 ? (uint32_t)data[i - 1] << 8 : 0;
    uint32_t h = 0;
    for (int k = 1; k <= order; k++)
        h = (h + (i >= k ? data[i - k] : 0) + 1) * 0x9E3779B1u;
    return (h >> (32 - (TABLE_BITS_MOST - 8))) << 8;
}

/* The order-k model's table.  Entries are made 1/2 (nothing seen) a context of 256 at a
 * time, the first time a byte has that context (ready[] says which are): filling the hashed
 * orders' 16 MiB up front cost more than coding a 14 KB file. */
typedef struct {
    uint32_t *entry;
    uint8_t *ready;  /* one flag a context, for the hashed orders; NULL: all made at once */
} Table;

static void free_table(Table *t) {
    free(t->entry);
    free(t->ready);
    t->entry = NULL;
    t->ready = NULL;
}

/* A fresh table for the order-k model; -1 (with MemoryError set) without memory.  Called
 * with the GIL held. */
static int new_table(Table *t, int order) {
    const size_t size = (size_t)1 << table_bits(order);
    t->entry = malloc(sizeof(uint32_t) * size);
    t->ready = order >= 2 ? calloc(size >> 8, 1) : NULL;
    if (!t->entry || (order >= 2 && !t->ready)) {
        free_table(t);
        PyErr_NoMemory();
        return -1;
    }
    if (!reciprocal[0])
        init_reciprocals();
    if (!t->ready)
        for (size_t k = 0; k < size; k++)
            t->entry[k] = (uint32_t)1 << 31;
    return 0;
}

/* The 256 entries of the context at base, made fresh if no byte had it before. */
static inline uint32_t *context_entries(Table *t, uint32_t base) {
    if (t->ready && !t->ready[base >> 8]) {
        for (uint32_t k = 0; k < 256; k++)
            t->entry[base + k] = (uint32_t)1 << 31;
        t->ready[base >> 8] = 1;
    }
    return t->entry + base;
}

/*
 * sequential_encode(data, order, out) -> bytes written to out, or -1 when out is too small.
 * sequential_decode(payload, count, order, out) -> None, decoding count bytes into out, or
 * raises ValueError when the payload is not exactly the bytes an encoder wrote.
 */
PyObject *hk_sequential_encode(PyObject *self, PyObject *args) {
    Py_buffer data, out;
    int order;
    if (!PyArg_ParseTuple(args, "y*iw*", &data, &order, &out))
        return NULL;
    PyObject *result = NULL;
    Table table = {NULL, NULL};
    if (order < 0 || order > ORDER_MOST) {
        PyErr_Format(PyExc_ValueError, "order must be 0 to %d", ORDER_MOST);
        goto done;
    }
    if (new_table(&table, order) < 0)
        goto done;
    Py_ssize_t written;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = data.buf;
    BitEncoder e = {0, 0xFFFFFFFFu, out.buf, (uint8_t *)out.buf + out.len, 0};
    for (Py_ssize_t i = 0; i < data.len; i++) {
        uint32_t *context = context_entries(&table, context_base(in, i, order));
        uint32_t node = 1;
        for (int b = 7; b >= 0; b--) {
            const int bit = in[i] >> b & 1;
            uint32_t *entry = &context[node];
            encode_bit(&e, bit, predict(*entry));
            *entry = update(*entry, bit);
            node = node << 1 | (uint32_t)bit;
        }
    }
    finish_bits(&e);
    written = e.full ? -1 : (Py_ssize_t)(e.out - (uint8_t *)out.buf);
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(written);
done:
    free_table(&table);
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    return result;
}

PyObject *hk_sequential_decode(PyObject *self, PyObject *args) {
    Py_buffer payload, out;
    Py_ssize_t count;
    int order;
    if (!PyArg_ParseTuple(args, "y*niw*", &payload, &count, &order, &out))
        return NULL;
    PyObject *result = NULL;
    Table table = {NULL, NULL};
    if (order < 0 || order > ORDER_MOST) {
        PyErr_Format(PyExc_ValueError, "order must be 0 to %d", ORDER_MOST);
        goto done;
    }
    if (count < 0 || !writable(&out, count, "the output buffer"))
        goto done;
    if (new_table(&table, order) < 0)
        goto done;
    Py_ssize_t written;
    int canonical;
    Py_BEGIN_ALLOW_THREADS
    uint8_t *dst = out.buf;
    BitDecoder d = start_bits(payload.buf, payload.len);
    for (Py_ssize_t i = 0; i < count; i++) {
        uint32_t *context = context_entries(&table, context_base(dst, i, order));
        uint32_t node = 1;
        for (int b = 0; b < 8; b++) {
            uint32_t *entry = &context[node];
            const int bit = decode_bit(&d, predict(*entry));
            *entry = update(*entry, bit);
            node = node << 1 | (uint32_t)bit;
        }
        dst[i] = (uint8_t)node;
    }
    written = bits_written(&d);
    canonical = ends_as_written(&d);
    Py_END_ALLOW_THREADS
    if (written != payload.len)
        PyErr_Format(PyExc_ValueError, "the coded bits take %zd bytes, but the payload has %zd",
                     written, payload.len);
    else if (!canonical)
        PyErr_SetString(PyExc_ValueError, "the payload's last byte is not the one its coder "
                                          "ends with");
    else
        result = Py_NewRef(Py_None);
done:
    free_table(&table);
    PyBuffer_Release(&payload);
    PyBuffer_Release(&out);
    return result;
}

/*
 * sequential_costs(data, order, costs) -> None: what each byte of data costs the adaptive
 * order-k model, in bits (float64, one a byte), with the probabilities the coder would use:
 * the model's loss, byte by byte, for the ledger and the learning curve.
 */
PyObject *hk_sequential_costs(PyObject *self, PyObject *args) {
    Py_buffer data, costs;
    int order;
    if (!PyArg_ParseTuple(args, "y*iw*", &data, &order, &costs))
        return NULL;
    PyObject *result = NULL;
    Table table = {NULL, NULL};
    if (order < 0 || order > ORDER_MOST) {
        PyErr_Format(PyExc_ValueError, "order must be 0 to %d", ORDER_MOST);
        goto done;
    }
    if (!writable(&costs, data.len * (Py_ssize_t)sizeof(double), "the costs buffer"))
        goto done;
    if (new_table(&table, order) < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = data.buf;
    double *cost = costs.buf;
    for (Py_ssize_t i = 0; i < data.len; i++) {
        uint32_t *context = context_entries(&table, context_base(in, i, order));
        uint32_t node = 1;
        double bits = 0;
        for (int b = 7; b >= 0; b--) {
            const int bit = in[i] >> b & 1;
            uint32_t *entry = &context[node];
            bits += bit_cost(predict(*entry), bit);
            *entry = update(*entry, bit);
            node = node << 1 | (uint32_t)bit;
        }
        cost[i] = bits;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    free_table(&table);
    PyBuffer_Release(&data);
    PyBuffer_Release(&costs);
    return result;
}
