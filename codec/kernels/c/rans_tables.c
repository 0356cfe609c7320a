/*
 * rANS frequency tables, made from counts with the same results as
 * codec/models/frequency_table.py: a table
 * (quantize_counts), and those of a split block's pieces (plan_ans_pieces).  The coders
 * check the tables they are given with check_table, in kernels.h.
 */

#include <math.h>

#include "kernels.h"

/* -- quantising counts (codec/models/frequency_table.py) ------------------------------------ */

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

/* What raising a frequency from f to f + 1 saves (frequency_table._gain): the same doubles as
 * Python's, whose int / int division is correctly rounded, as IEEE division of exact doubles is. */
static inline double gain(double share, int64_t f) {
    return share * log2((double)(f + 1) / (double)f);
}

/*
 * frequency_table.quantize of n integer counts at a precision: the same floors, the same
 * doubles and the same order of handing out (or taking back) units: a heap ordered by gain,
 * then index.
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
 * frequency_table.quantize for integer counts (quantize_row).
 */
PyObject *hk_quantize_counts(PyObject *self, PyObject *args) {
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

/* -- the compact frequency table of version-2 frames, written (FORMAT.md, section 17.3) ---- */

/* Bits appended MSB first to a zeroed buffer. */
typedef struct {
    uint8_t *buf;
    uint64_t bit;
} TableWriter;

static inline void table_put(TableWriter *w, uint64_t value, unsigned width) {
    for (unsigned i = width; i-- > 0; w->bit++)
        if (value >> i & 1)
            w->buf[w->bit >> 3] |= (uint8_t)(0x80 >> (w->bit & 7));
}

static inline unsigned bit_length(uint64_t v) {
    return v ? 64 - (unsigned)__builtin_clzll(v) : 0;
}

/* The bits of v as an Exp-Golomb code of order k: 2·bit_length(v + 2^k) - k - 1. */
static inline uint64_t golomb_bits(uint64_t v, unsigned k) {
    return 2 * bit_length(v + ((uint64_t)1 << k)) - k - 1;
}

static inline void table_put_golomb(TableWriter *w, uint64_t v, unsigned k) {
    uint64_t shifted = v + ((uint64_t)1 << k);
    unsigned length = bit_length(shifted);
    w->bit += length - k - 1;  /* the leading zeros */
    table_put(w, shifted, length);
}

/* The order, 0 to `most`, whose codes of the n values (each value(i) below) are shortest,
 * the least on a tie (rans_tables._best_order). */
#define BEST_ORDER(n, most, value, best) do {                                         \
        uint64_t least_ = UINT64_MAX;                                                  \
        (best) = 0;                                                                    \
        for (unsigned k_ = 0; k_ <= (most); k_++) {                                    \
            uint64_t bits_ = 0;                                                        \
            for (Py_ssize_t i = 0; i < (n); i++)                                       \
                bits_ += golomb_bits((uint64_t)(value), k_);                           \
            if (bits_ < least_) {                                                      \
                least_ = bits_;                                                        \
                (best) = k_;                                                           \
            }                                                                          \
        }                                                                              \
    } while (0)

/* Room enough for the compact table of n symbols: a gap takes at most 43 bits at its best
 * order (no more than at order 0, and gaps are below 2^21), a frequency at most 49. */
#define COMPACT_FREQUENCIES_ROOM(n) (16 + 12 * (Py_ssize_t)(n))

/* Writes the compact table of the n symbols `listed` (increasing, below 2^21) with these
 * frequencies (at least 1 each, summing to 2^precision) into `out`, which has
 * COMPACT_FREQUENCIES_ROOM(n) bytes; returns the bytes written (rans_tables.py's
 * pack_compact_frequencies, bit for bit). */
static Py_ssize_t write_compact_frequencies(const int64_t *listed, const int64_t *freq,
                                            Py_ssize_t n, int precision, uint8_t *out) {
    memset(out, 0, (size_t)COMPACT_FREQUENCIES_ROOM(n));
    TableWriter w = {out, 0};
    unsigned gap_order, freq_order;
#define GAP(i) (listed[i] - ((i) ? listed[(i) - 1] : -1) - 1)
    BEST_ORDER(n, 15u, GAP(i), gap_order);
    BEST_ORDER(n - 1, 23u, freq[i] - 1, freq_order);
    table_put(&w, (uint64_t)precision, 5);
    table_put_golomb(&w, (uint64_t)(n - 1), 0);
    table_put(&w, gap_order, 4);
    for (Py_ssize_t i = 0; i < n; i++)
        table_put_golomb(&w, (uint64_t)GAP(i), gap_order);
#undef GAP
    table_put(&w, freq_order, 5);
    for (Py_ssize_t i = 0; i + 1 < n; i++)
        table_put_golomb(&w, (uint64_t)(freq[i] - 1), freq_order);
    return (Py_ssize_t)((w.bit + 7) >> 3);
}

/*
 * write_compact_frequencies(listed, freqs, precision) -> the compact table (bytes) of these
 * symbols (int64, increasing, below 2^21) and frequencies (int64, at least 1 each, summing to
 * 2^precision), or None for the reference when they break those rules.
 */
PyObject *hk_write_compact_frequencies(PyObject *self, PyObject *args) {
    Py_buffer listed, freqs;
    int precision;
    if (!PyArg_ParseTuple(args, "y*y*i", &listed, &freqs, &precision))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t n = listed.len / 8;
    const int64_t *symbol = listed.buf, *freq = freqs.buf;
    int sound = n >= 1 && listed.len == 8 * n && freqs.len == listed.len && precision >= 1
                && precision <= 24;
    int64_t sum = 0;
    for (Py_ssize_t i = 0; sound && i < n; i++) {
        sound = symbol[i] > (i ? symbol[i - 1] : -1) && symbol[i] < ((int64_t)1 << 21)
                && freq[i] >= 1 && freq[i] <= ((int64_t)1 << precision);
        sum += sound ? freq[i] : 0;
    }
    if (!sound || sum != (int64_t)1 << precision) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    uint8_t *out = PyMem_Malloc((size_t)COMPACT_FREQUENCIES_ROOM(n));
    if (!out) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t size = write_compact_frequencies(symbol, freq, n, precision, out);
    result = PyBytes_FromStringAndSize((const char *)out, size);
    PyMem_Free(out);
done:
    PyBuffer_Release(&listed);
    PyBuffer_Release(&freqs);
    return result;
}

/* -- the tables of a split block's pieces (codec/stream/pieces.py) -------------------------- */

/* Python's float floor division, a // b, for a >= 0 and b > 0 (as CPython computes it). */
static double python_floor_div(double a, double b) {
    double mod = fmod(a, b), div = (a - mod) / b;
    if (!div)
        return 0.0;
    double floored = floor(div);
    return div - floored > 0.5 ? floored + 1.0 : floored;
}

/* The ideal bits of these counts under these frequencies: the sum of count * cost over the
 * present symbols in order, the costs (precision - log2 f) from the caller's table. */
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
 * stream.pieces._plan_ans_pieces for pieces of byte counts (256 int64 a piece), with tables of
 * the precision p of the costs, which are 2^p + 1 (from 1 to 24 bits).  Fills each piece's
 * frequencies, ideal bits, lanes, and whether it reuses.
 */
PyObject *hk_plan_ans_pieces(PyObject *self, PyObject *args) {
    Py_buffer counts, costs, freqs, ideals, lanes, reused;
    if (!PyArg_ParseTuple(args, "y*y*w*w*w*w*", &counts, &costs, &freqs, &ideals, &lanes,
                          &reused))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t pieces = counts.len / (256 * 8);
    int precision = 1;
    while (precision < 24 && costs.len > 8 * (((Py_ssize_t)1 << precision) + 1))
        precision++;
    if (pieces < 1 || counts.len % (256 * 8) ||
            costs.len != 8 * (((Py_ssize_t)1 << precision) + 1)) {
        PyErr_SetString(PyExc_ValueError,
                        "256 counts a piece, and 2**precision + 1 costs, are needed");
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
    uint8_t table[COMPACT_FREQUENCIES_ROOM(256)];
    for (Py_ssize_t p = 0; p < pieces; p++) {
        const int64_t *count = (const int64_t *)counts.buf + 256 * p;
        int64_t *freq = (int64_t *)freqs.buf + 256 * p;
        if (!quantize_row(count, 256, precision, freq, share, heap)) {
            Py_SETREF(result, Py_NewRef(Py_None));
            goto done;
        }
        /* The piece's compact table (section 17.3), and whether the previous table codes
         * every byte it holds. */
        int64_t symbols = 0, listed[256], listed_freq[256];
        Py_ssize_t present = 0;
        int reusable = previous != NULL;
        for (int s = 0; s < 256; s++) {
            symbols += count[s];
            if (!freq[s])
                continue;
            listed[present] = s;
            listed_freq[present++] = freq[s];
            reusable &= previous == NULL || previous[s] > 0;
        }
        Py_ssize_t size = write_compact_frequencies(listed, listed_freq, present, precision,
                                                    table);
        double ideal = ideal_bits(count, freq, cost);
        int reuse = 0;
        if (reusable) {
            double again = ideal_bits(count, previous, cost);
            if (again <= (double)(8 * size) + ideal) {
                reuse = 1;
                ideal = again;
            }
        }
        /* format.rans_block.lanes_for_counts */
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

/*
 * The compact frequency table of version-2 frames (FORMAT.md, section 17.3), read (its own
 * bit reader, named apart from code_tables.c's: the fuzzer builds every source as one).  In
 * Python, bit by bit, it took 1.3 ms a table of 256 symbols: 39 ms of the 41 that
 * decompressing kennedy.xls's 29 rANS blocks took.
 */
typedef struct {
    const uint8_t *buf;
    Py_ssize_t len;
    uint64_t bit, bits;  /* where reading is, and the bits in buf, from its start */
} TableBits;

/* The next `width` bits (at most 56), MSB first, without moving on; 0 if fewer are left. */
static inline int table_peek(const TableBits *r, unsigned width, uint64_t *value) {
    if (r->bits - r->bit < width)
        return 0;
    if (!width) {
        *value = 0;
        return 1;
    }
    Py_ssize_t byte = (Py_ssize_t)(r->bit >> 3);
    uint64_t window = 0;
    if (r->len - byte >= 8) {
        window = load_be64(r->buf + byte);
    } else {  /* the last bytes: those beyond the buffer read as zeros, and are not used */
        for (int k = 0; k < 8; k++)
            window = window << 8 | (byte + k < r->len ? r->buf[byte + k] : 0);
    }
    *value = (window << (r->bit & 7)) >> (64 - width);  /* width + 7 <= 63 */
    return 1;
}

static inline int table_read(TableBits *r, unsigned width, uint64_t *value) {
    if (!table_peek(r, width, value))
        return 0;
    r->bit += width;
    return 1;
}

/* An Exp-Golomb code of `order` (at most 23) with at most 24 leading zeros; 0 otherwise. */
static inline int table_golomb(TableBits *r, unsigned order, uint64_t *value) {
    uint64_t ahead;
    unsigned look = r->bits - r->bit < 25 ? (unsigned)(r->bits - r->bit) : 25;
    if (!look || !table_peek(r, look, &ahead) || !ahead)
        return 0;  /* no one bit in reach: cut short, or too many zeros */
    unsigned zeros = look - 64 + (unsigned)__builtin_clzll(ahead);
    uint64_t coded;
    r->bit += zeros;  /* then the number, from its leading one: at most 48 bits */
    if (!table_read(r, zeros + order + 1, &coded))
        return 0;
    *value = coded - ((uint64_t)1 << order);
    return 1;
}

/* A compact table's precision and count (section 17.3), checked against the alphabet and
 * the bits left; 0 when it breaks a rule or is cut short. */
static int compact_head(TableBits *r, Py_ssize_t alphabet_size, uint64_t *precision,
                        uint64_t *count) {
    if (!table_read(r, 5, precision) || *precision < 1 || *precision > 24 ||
        !table_golomb(r, 0, count))
        return 0;
    *count += 1;
    /* Each listed symbol takes a bit at least: no count beyond the bits left is sized. */
    return *count <= (uint64_t)1 << *precision && *count <= (uint64_t)alphabet_size &&
           *count <= r->bits - r->bit;
}

/* The rest of a compact table, after compact_head: its `count` symbols and frequencies,
 * then the padding; 0 when it breaks a rule or is cut short. */
static int compact_body(TableBits *r, Py_ssize_t alphabet_size, uint64_t precision,
                        uint64_t count, int64_t *symbols, int64_t *f) {
    uint64_t order, value;
    if (!table_read(r, 4, &order))
        return 0;
    int64_t symbol = -1;
    for (uint64_t i = 0; i < count; i++) {
        if (!table_golomb(r, (unsigned)order, &value))
            return 0;
        symbol += (int64_t)value + 1;  /* value < 2^49: no overflow */
        if (symbol >= alphabet_size)
            return 0;
        symbols[i] = symbol;
    }
    if (!table_read(r, 5, &order) || order > 23)
        return 0;
    int64_t left = (int64_t)1 << precision;
    for (uint64_t i = 0; i + 1 < count; i++) {
        if (!table_golomb(r, (unsigned)order, &value))
            return 0;
        left -= (int64_t)value + 1;
        if (left < (int64_t)(count - 1 - i))  /* the symbols after need 1 each */
            return 0;
        f[i] = (int64_t)value + 1;
    }
    f[count - 1] = left;
    uint64_t padding;
    return table_read(r, (unsigned)(-r->bit & 7), &padding) && !padding;
}

/* The compact table of a byte block at buf (len bytes readable): the frequency of each of
 * the 256 byte values (0 for those it does not list) and its precision; the bytes it takes,
 * or -1 when it breaks a rule of section 17.3 or is cut short. */
Py_ssize_t hk_read_byte_frequencies(const uint8_t *buf, Py_ssize_t len, uint32_t *freq,
                                    int *precision) {
    TableBits r = {buf, len, 0, 8 * (uint64_t)len};
    uint64_t p, count;
    int64_t symbols[256], f[256];
    if (!compact_head(&r, 256, &p, &count) || !compact_body(&r, 256, p, count, symbols, f))
        return -1;
    memset(freq, 0, 256 * sizeof *freq);
    for (uint64_t i = 0; i < count; i++)
        freq[symbols[i]] = (uint32_t)f[i];  /* at most 2^24 */
    *precision = (int)p;
    return (Py_ssize_t)(r.bit >> 3);
}

/*
 * read_compact_frequencies(buffer, pos, alphabet_size) -> None, or (listed, freqs,
 * precision, end): the table at buffer[pos], its listed symbols and their frequencies as
 * int64 arrays in bytes, and the position after its padding.  None for a table that breaks
 * any rule of section 17.3 or is cut short: the Python reference reads it again and says
 * what is wrong, so this accepts exactly the tables the reference accepts.
 */
PyObject *hk_read_compact_frequencies(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos, alphabet_size;
    if (!PyArg_ParseTuple(args, "y*nn", &data, &pos, &alphabet_size))
        return NULL;
    PyObject *result = NULL, *listed = NULL, *freqs = NULL;
    if (pos < 0 || pos > data.len || alphabet_size < 1) {
        PyErr_SetString(PyExc_ValueError, "pos or alphabet_size is out of range");
        goto done;
    }
    TableBits r = {(const uint8_t *)data.buf + pos, data.len - pos, 0,
                   8 * (uint64_t)(data.len - pos)};
    uint64_t precision, count;
    if (!compact_head(&r, alphabet_size, &precision, &count))
        goto none;
    listed = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(8 * count));
    freqs = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(8 * count));
    if (!listed || !freqs)
        goto done;
    if (!compact_body(&r, alphabet_size, precision, count,
                      (int64_t *)PyBytes_AS_STRING(listed), (int64_t *)PyBytes_AS_STRING(freqs)))
        goto none;
    result = Py_BuildValue("(OOKn)", listed, freqs, (unsigned long long)precision,
                           pos + (Py_ssize_t)(r.bit >> 3));
    goto done;
none:
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(listed);
    Py_XDECREF(freqs);
    PyBuffer_Release(&data);
    return result;
}
