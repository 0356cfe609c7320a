/*
 * The context-mixing model `cm` (issue 18): each byte coded bit by bit, most significant
 * first, by the binary arithmetic coder of binary_coder.h, with the probability of each bit
 * predicted by several models at once and their predictions mixed:
 *
 *   - order 0, orders 1 to 6, the current word and a sparse context (the 2nd and 3rd bytes
 *     back): each a probability learnt per (hashed context, bits of the byte so far);
 *   - a match model: where the last 6 bytes were last seen, and the bit the byte after them
 *     predicts, its reliability learnt per match length;
 *   - a mixer, a one-layer network trained online on the coding loss in the logistic
 *     ("stretch") domain, with two weight sets averaged: one chosen by the bits of the byte so
 *     far, one by the byte before;
 *   - an adaptive probability map (APM) refining the mix by the byte before and the bits so
 *     far.
 *
 * Integer arithmetic only, so that every machine and compiler gives the same bytes; the
 * Python reference (codec/kernels/reference/context_mixing.py) follows it step by step.
 * The design follows Mahoney's lpaq1, simplified: probabilities instead of bit histories.
 */

#include "kernels.h"
#include "binary_coder.h"

#include <sys/mman.h>

/* -- scales ------------------------------------------------------------------------------ */

/*
 * Probabilities inside the model are 12-bit (1 to 4095 of 4096), stretched to ln(p/(1-p))
 * in 1/256 (-2047 to 2047); only the APM's output, which is what the coder uses, is 16-bit,
 * so that a long run costs less than PPMd's (4096 would cap a bit at 1/4096: 0.0028 bits a
 * byte of aaa.txt, against PPMd's 0.0034).
 */
static const int cm_squash_points[33] = {
    1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994,
    3348, 3607, 3785, 3901, 3975, 4024, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094};

/* squash(x) = 4096 / (1 + e^(-x/256)), by interpolation between 33 points (as lpaq1). */
static inline int cm_squash(int x) {
    if (x > 2047)
        return 4095;
    if (x < -2047)
        return 1;
    const int w = x & 127, k = (x >> 7) + 16;
    return (cm_squash_points[k] * (128 - w) + cm_squash_points[k + 1] * w + 64) >> 7;
}

/* stretch(p) = the least x whose squash(x) reaches p: squash's inverse, by table. */
#define CM_COUNT_MOST 255
static int16_t cm_stretch[4096];
static uint32_t cm_reciprocal[CM_COUNT_MOST + 1];  /* 65536 / (n + 1.5) */

/* Fills the tables once (under the GIL: the first call of any cm kernel). */
static void cm_init_tables(void) {
    if (cm_stretch[4095])
        return;
    int next = 0;
    for (int x = -2047; x <= 2047; x++) {
        const int v = cm_squash(x);
        for (int p = next; p <= v; p++)
            cm_stretch[p] = (int16_t)x;
        next = v + 1;
    }
    for (int p = next; p < 4096; p++)
        cm_stretch[p] = 2047;
    for (int n = 0; n <= CM_COUNT_MOST; n++)
        cm_reciprocal[n] = (uint32_t)(131072 / (2 * n + 3));
}

/* -- the model --------------------------------------------------------------------------- */

/*
 * A context's prediction is an entry as sequential.c's: the probability of a 1 in its top
 * 22 bits and how many bits it has seen in its low 10, moved 1/(n + 1.5) of the way to each
 * bit seen.  Counts stop at CM_COUNT_HIGH for the hashed contexts (they adapt: text changes)
 * and at CM_COUNT_MOST for order 0 and the match model.
 *
 * The hashed contexts' entries lie in tables of 2^table_bits, sized by the input (eight
 * entries a byte, 2^CM_TABLE_BITS_LEAST at least) and capped at 2^CM_TABLE_BITS_MOST.  A
 * context's entries for a nibble of the byte lie in one bucket of 16 (64 bytes, a cache
 * line): the context hashed with the high nibble once it is known, and the bits of the
 * nibble so far (1 to 15) within it.
 */
#define CM_TABLE_BITS_LEAST 18
#define CM_TABLE_BITS_MOST 21       /* 8 tables of 8 MiB: see CM_MEMORY below */
#define CM_APM_ROWS 65536           /* (the byte before, the bits so far) */
#define CM_ORDER_MOST 6
#define CM_HASHED (CM_ORDER_MOST + 2)  /* orders 1-6, the word, the sparse context */
#define CM_INPUTS (CM_HASHED + 2)     /* the mixer's: order 0, the hashed, the match model */
#define CM_MATCH_INPUT (CM_INPUTS - 1)
/* Counts stop at 16 for hashed contexts (12 cost 0.1-0.2% on the Canterbury texts), 60 for
 * order 0, 255 for the match model. */
#define CM_COUNT_HIGH 16
#define CM_COUNT_ORDER0 60
/*
 * The mixer's learning rate, in 1/65536 of stretch x error: 48 at first, one less every 2 KiB,
 * down to 10.  A small file wants it fast (cp.html 1.003 of PPMd's size at a fixed 8, 0.995
 * at 16, 0.991 at 32), a large one slow (bible.txt and alice29.txt lose at 32).
 */
#define CM_LR_MOST 48
#define CM_LR_LEAST 10
#define CM_LR_STEP 11
/* The APM moves 1/64 of the way to each bit, and has 3/4 of the say against the mix. */
#define CM_APM_RATE 6
#define CM_APM_SHARE 3
#define CM_WEIGHT_START ((1 << 16) / 4)
#define CM_MATCH_MIN 6                /* bytes a match must share to be taken */
#define CM_MATCH_LONGEST 15           /* lengths the match model tells apart */
#define CM_WEIGHT_MOST (1 << 22)      /* weights are 16.16: at most +-64 */
#define CM_HASH 0x9E3779B1u
#define CM_WORD_HASH 0x2F0F3A1Bu

typedef struct {
    uint32_t *slots;      /* CM_HASHED tables of 2^table_bits entries, one after another */
    uint32_t *seen_at;    /* 2^match_bits: where a 6-byte context was last followed */
    uint16_t *apm;        /* CM_APM_ROWS rows of 33 */
    unsigned table_bits, match_bits;
    uint32_t order0[256];
    int32_t weight[256][CM_INPUTS];      /* chosen by the bits of the byte so far */
    int32_t weight_c1[256][CM_INPUTS];   /* chosen by the byte before */
    uint32_t match_p[2 * (CM_MATCH_LONGEST + 1)];  /* by (length, the bit predicted) */
    /* the byte's contexts */
    uint32_t hash[CM_HASHED], word;
    uint32_t *bucket[CM_HASHED];
    Py_ssize_t match_ptr, match_len;     /* the byte predicted is data[match_ptr] */
    uint32_t predicted;                  /* it, behind a leading 1, or 0 without a match */
    uint32_t c1;
    int rate;                            /* the mixer's learning rate, in 1/65536 */
    /* the bit's */
    uint32_t node, nibble_node;          /* the bits so far behind a 1: of the byte, nibble */
    int st[CM_INPUTS];
    uint32_t *entry[CM_HASHED];
    int match_at, p_mix, apm_lo;
    uint16_t *apm_row;
} CmModel;

/* The hashed tables hold entries with the top bit flipped, so that zeroed memory says 1/2
 * having seen nothing. */
#define CM_FLIP 0x80000000u

static uint32_t cm_p12(uint32_t entry) {
    const uint32_t p = entry >> 20;
    return p < 1 ? 1 : p > 4095 ? 4095 : p;
}

static inline uint32_t cm_learnt(uint32_t entry, int bit, uint32_t limit) {
    const uint32_t n = entry & 1023, p = entry >> 10;
    const int32_t target = bit ? (1 << 22) - 1 : 0;
    const int32_t moved = (int32_t)(((int64_t)(target - (int32_t)p) * cm_reciprocal[n]) >> 16);
    return ((p + (uint32_t)moved) << 10) | (n < limit ? n + 1 : n);
}

static unsigned cm_table_bits(Py_ssize_t n) {
    unsigned bits = CM_TABLE_BITS_LEAST;
    while (bits < CM_TABLE_BITS_MOST && n > ((Py_ssize_t)1 << (bits - 3)))
        bits++;
    return bits;
}

/*
 * Zeroed memory for the hashed tables, in huge pages where the system has them (Linux's
 * transparent huge pages, when asked): the tables are read at random, a cache miss an input
 * a nibble, and with 4 KiB pages each miss was a TLB miss too.  calloc leaves a large block's
 * pages untouched until used, so a small input pays little for its tables.
 */
static void *cm_zeroed(size_t size) {
    void *p = NULL;
#if defined(MADV_HUGEPAGE)
    const size_t huge = (size_t)1 << 21;
    if (size >= huge && posix_memalign(&p, huge, size) == 0) {
        madvise(p, size, MADV_HUGEPAGE);
        memset(p, 0, size);
        return p;
    }
#endif
    return calloc(size, 1);
}

/* A fresh model for n bytes; NULL (with MemoryError set) without memory.  Called with the
 * GIL held. */
static CmModel *cm_new(Py_ssize_t n) {
    cm_init_tables();
    CmModel *m = calloc(1, sizeof(CmModel));
    if (!m)
        return (CmModel *)PyErr_NoMemory();
    m->table_bits = cm_table_bits(n);
    m->match_bits = m->table_bits - 1;
    const size_t slots = (size_t)CM_HASHED << m->table_bits;
    m->slots = cm_zeroed(slots * sizeof(uint32_t));
    m->seen_at = calloc((size_t)1 << m->match_bits, sizeof(uint32_t));
    m->apm = malloc((size_t)CM_APM_ROWS * 33 * sizeof(uint16_t));
    if (!m->slots || !m->seen_at || !m->apm) {
        free(m->slots);
        free(m->seen_at);
        free(m->apm);
        free(m);
        return (CmModel *)PyErr_NoMemory();
    }
    for (int k = 0; k < 256; k++)
        m->order0[k] = (uint32_t)1 << 31;
    for (int k = 0; k < 2 * (CM_MATCH_LONGEST + 1); k++)
        m->match_p[k] = (uint32_t)1 << 31;
    for (int row = 0; row < 256; row++)
        for (int k = 0; k < CM_INPUTS; k++)
            m->weight[row][k] = m->weight_c1[row][k] = CM_WEIGHT_START;
    /* Every row of the APM starts as squash itself: the mix passed through unchanged. */
    for (int j = 0; j < 33; j++)
        m->apm[j] = (uint16_t)(cm_squash((j - 16) * 128) * 16);
    for (size_t row = 1; row < CM_APM_ROWS; row++)
        memcpy(m->apm + 33 * row, m->apm, 33 * sizeof(uint16_t));
    return m;
}

static void cm_free(CmModel *m) {
    if (!m)
        return;
    free(m->slots);
    free(m->seen_at);
    free(m->apm);
    free(m);
}

/* Each hashed context's bucket for the nibble: nibble is 0 for the high one, and the high
 * nibble behind a leading 1 (16 to 31) for the low one. */
static inline void cm_buckets(CmModel *m, uint32_t nibble) {
    const unsigned shift = 32 - (m->table_bits - 4);
    for (int k = 0; k < CM_HASHED; k++) {
        const uint32_t bucket = ((m->hash[k] + nibble) * CM_HASH) >> shift;
        m->bucket[k] = m->slots + ((size_t)k << m->table_bits) + ((size_t)bucket << 4);
        /* Asked for all at once: eight cache misses in flight together, not one by one. */
        __builtin_prefetch(m->bucket[k], 1);
    }
    m->nibble_node = 1;
}

/* The contexts of byte i of data, of which the i bytes before are known. */
static void cm_start(CmModel *m, const uint8_t *data, Py_ssize_t i) {
    const uint32_t c1 = i >= 1 ? data[i - 1] : 0;
    m->c1 = c1;
    m->rate = (i >> CM_LR_STEP) < CM_LR_MOST - CM_LR_LEAST ? CM_LR_MOST - (int)(i >> CM_LR_STEP)
                                                           : CM_LR_LEAST;
    /* The match model: the match goes on while the byte it predicted came. */
    if (m->match_len > 0 && m->match_ptr < i - 1 && data[m->match_ptr] == c1) {
        m->match_len++;
        m->match_ptr++;
    } else {
        m->match_len = 0;
    }
    if (i >= CM_MATCH_MIN) {
        uint32_t h = 0;
        for (int j = 1; j <= CM_MATCH_MIN; j++)
            h = (h + data[i - j] + 1) * CM_WORD_HASH;
        h >>= 32 - m->match_bits;
        /* Positions are kept in 32 bits: past 4 GiB a stale one only finds no match. */
        const Py_ssize_t at = m->seen_at[h];
        if (m->match_len == 0 && at > 0 && at < i) {
            Py_ssize_t len = 0;
            while (len < 32 && at - len - 1 >= 0 && data[at - len - 1] == data[i - len - 1])
                len++;
            if (len >= CM_MATCH_MIN) {
                m->match_ptr = at;
                m->match_len = len;
            }
        }
        m->seen_at[h] = (uint32_t)i;
    }
    m->predicted = m->match_len > 0 ? (uint32_t)data[m->match_ptr] | 256 : 0;
    /* The word: the letters since the last non-letter, case folded. */
    const uint32_t folded = c1 | 32;
    if (folded >= 'a' && folded <= 'z')
        m->word = (m->word + folded + 1) * CM_WORD_HASH;
    else
        m->word = 0;
    /* Order k hashes the k bytes before, each folded into order k - 1's hash; the orders
     * (and the word, and the sparse context) are told apart when hashed with the nibble. */
    uint32_t h = 0;
    for (int k = 0; k < CM_ORDER_MOST; k++) {
        h = (h + (i > k ? data[i - 1 - k] : 0) + 1) * CM_HASH;
        m->hash[k] = h + (uint32_t)k * CM_WORD_HASH;
    }
    m->hash[CM_ORDER_MOST] = m->word * 0x85EBCA6Bu + CM_ORDER_MOST * CM_WORD_HASH;
    h = ((i >= 2 ? data[i - 2] : 0) + 1) * CM_HASH;
    m->hash[CM_ORDER_MOST + 1] = (h + (i >= 3 ? data[i - 3] : 0) + 1) * CM_HASH +
                                 (CM_ORDER_MOST + 1) * CM_WORD_HASH;
    m->node = 1;
    cm_buckets(m, 0);
}

/* The probability (of a 1, in 1/65536) of the next bit. */
static inline uint32_t cm_predict(CmModel *restrict m) {
    const uint32_t node = m->node;
    int *st = m->st;
    st[0] = cm_stretch[cm_p12(m->order0[node])];
    for (int k = 0; k < CM_HASHED; k++) {
        m->entry[k] = m->bucket[k] + m->nibble_node;
        st[k + 1] = cm_stretch[cm_p12(*m->entry[k] ^ CM_FLIP)];
    }
    m->match_at = -1;
    st[CM_MATCH_INPUT] = 0;
    if (m->predicted) {
        const int done = 31 - __builtin_clz(node);  /* bits of the byte so far */
        if ((m->predicted >> (8 - done)) == node) {
            const int expected = m->predicted >> (7 - done) & 1;
            const int len = m->match_len > CM_MATCH_LONGEST ? CM_MATCH_LONGEST
                                                            : (int)m->match_len;
            m->match_at = 2 * len + expected;
            st[CM_MATCH_INPUT] = cm_stretch[cm_p12(m->match_p[m->match_at])];
        }
    }
    const int32_t *w = m->weight[node], *w1 = m->weight_c1[m->c1];
    int64_t dot = 0;
    for (int k = 0; k < CM_INPUTS; k++)
        dot += (int64_t)(w[k] + w1[k]) * st[k];
    const int x = (int)(dot >> 17);  /* the two sets' mean, from 16.16 */
    m->p_mix = cm_squash(x);
    /* The APM: interpolated between the two of 33 points around the mix's stretch. */
    const int s = (x > 2047 ? 2047 : x < -2047 ? -2047 : x) + 2048;
    const int lo = s >> 7, t = s & 127;
    m->apm_row = m->apm + 33 * (size_t)(m->c1 << 8 | node);
    m->apm_lo = lo;
    const uint32_t p_apm = (m->apm_row[lo] * (uint32_t)(128 - t) +
                            m->apm_row[lo + 1] * (uint32_t)t) >> 7;
    const uint32_t p = ((uint32_t)m->p_mix * 16 * (4 - CM_APM_SHARE) + CM_APM_SHARE * p_apm) >> 2;
    return p < 1 ? 1 : p > 65535 ? 65535 : p;
}

/* The mixer learns only from a bit it missed by more than this (of 4096): one it predicted
 * within 0.8% would move the weights by almost nothing, and skipping those updates (most
 * of a text's bits, once learnt) makes cm 10 to 15% faster and, measured on the Canterbury
 * texts, no larger: bible.txt's first 1.5 MB 255,350 -> 255,235 bytes. */
#define CM_MISS_LEAST 32

static inline int32_t cm_weight(int32_t w, int st, int err) {
    w += (st * err) >> 16;
    return w > CM_WEIGHT_MOST ? CM_WEIGHT_MOST : w < -CM_WEIGHT_MOST ? -CM_WEIGHT_MOST : w;
}

/* Learns the bit that came, and moves to the next. */
static inline void cm_learn(CmModel *restrict m, int bit) {
    const uint32_t node = m->node;
    const int miss = (bit << 12) - m->p_mix;
    if (miss > CM_MISS_LEAST || miss < -CM_MISS_LEAST) {
        const int err = miss * m->rate;
        int32_t *w = m->weight[node], *w1 = m->weight_c1[m->c1];
        for (int k = 0; k < CM_INPUTS; k++) {
            w[k] = cm_weight(w[k], m->st[k], err);
            w1[k] = cm_weight(w1[k], m->st[k], err);
        }
    }
    m->order0[node] = cm_learnt(m->order0[node], bit, CM_COUNT_ORDER0);
    for (int k = 0; k < CM_HASHED; k++)
        *m->entry[k] = cm_learnt(*m->entry[k] ^ CM_FLIP, bit, CM_COUNT_HIGH) ^ CM_FLIP;
    if (m->match_at >= 0)
        m->match_p[m->match_at] = cm_learnt(m->match_p[m->match_at], bit, CM_COUNT_MOST);
    /* The APM's two points move 1/64 of the way to the bit (to 65535 at most, not 65536). */
    const int target = bit ? 65536 + (1 << CM_APM_RATE) - 2 : 0;
    uint16_t *a = m->apm_row + m->apm_lo;
    a[0] = (uint16_t)(a[0] + ((target - a[0]) >> CM_APM_RATE));
    a[1] = (uint16_t)(a[1] + ((target - a[1]) >> CM_APM_RATE));
    m->node = node << 1 | (uint32_t)bit;
    m->nibble_node = m->nibble_node << 1 | (uint32_t)bit;
    if (m->node >= 16 && m->node < 32)
        cm_buckets(m, m->node);
}

/*
 * The memory of the largest model's tables, in bytes (an input of 256 KiB or more):
 *   hashed contexts  8 x 2^21 x 4  67,108,864
 *   match positions  2^20 x 4       4,194,304
 *   APM              65536 x 33 x 2 4,325,376
 *   weights          2 x 256 x 10 x 4  20,480; order 0 and the match model: 1,152
 * 75,650,176 bytes (72.1 MiB), and some 200 bytes of state besides.  The wrappers export it
 * as CM_MEMORY, for a decoder that applies a memory limit.
 */
size_t hk_cm_memory(void) {
    return ((size_t)CM_HASHED << CM_TABLE_BITS_MOST) * sizeof(uint32_t) +
           ((size_t)1 << (CM_TABLE_BITS_MOST - 1)) * sizeof(uint32_t) +
           (size_t)CM_APM_ROWS * 33 * sizeof(uint16_t) +
           sizeof(((CmModel *)0)->weight) + sizeof(((CmModel *)0)->weight_c1) +
           sizeof(((CmModel *)0)->order0) + sizeof(((CmModel *)0)->match_p);
}

/*
 * cm_encode(data, out) -> bytes written to out, or -1 when out is too small.
 * cm_decode(payload, count, out) -> None, decoding count bytes into out, or raises
 * ValueError when the payload is not exactly the bytes an encoder wrote.
 */
PyObject *hk_cm_encode(PyObject *self, PyObject *args) {
    Py_buffer data, out;
    if (!PyArg_ParseTuple(args, "y*w*", &data, &out))
        return NULL;
    PyObject *result = NULL;
    CmModel *m = cm_new(data.len);
    if (!m)
        goto done;
    Py_ssize_t written;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = data.buf;
    BitEncoder e = {0, 0xFFFFFFFFu, out.buf, (uint8_t *)out.buf + out.len, 0};
    for (Py_ssize_t i = 0; i < data.len; i++) {
        cm_start(m, in, i);
        for (int b = 7; b >= 0; b--) {
            const int bit = in[i] >> b & 1;
            encode_bit(&e, bit, cm_predict(m));
            cm_learn(m, bit);
        }
    }
    finish_bits(&e);
    written = e.full ? -1 : (Py_ssize_t)(e.out - (uint8_t *)out.buf);
    Py_END_ALLOW_THREADS
    result = PyLong_FromSsize_t(written);
done:
    cm_free(m);
    PyBuffer_Release(&data);
    PyBuffer_Release(&out);
    return result;
}

PyObject *hk_cm_decode(PyObject *self, PyObject *args) {
    Py_buffer payload, out;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "y*nw*", &payload, &count, &out))
        return NULL;
    PyObject *result = NULL;
    CmModel *m = NULL;
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "count must not be negative");
        goto done;
    }
    if (!writable(&out, count, "the output buffer"))
        goto done;
    m = cm_new(count);
    if (!m)
        goto done;
    Py_ssize_t written;
    int canonical;
    Py_BEGIN_ALLOW_THREADS
    uint8_t *dst = out.buf;
    BitDecoder d = start_bits(payload.buf, payload.len);
    for (Py_ssize_t i = 0; i < count; i++) {
        cm_start(m, dst, i);
        for (int b = 0; b < 8; b++)
            cm_learn(m, decode_bit(&d, cm_predict(m)));
        dst[i] = (uint8_t)m->node;
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
    cm_free(m);
    PyBuffer_Release(&payload);
    PyBuffer_Release(&out);
    return result;
}

/*
 * cm_costs(data, costs) -> None: what each byte of data costs the model, in bits (float64,
 * one a byte), with the probabilities the coder would use; their sum is the model's loss.
 */
PyObject *hk_cm_costs(PyObject *self, PyObject *args) {
    Py_buffer data, costs;
    if (!PyArg_ParseTuple(args, "y*w*", &data, &costs))
        return NULL;
    PyObject *result = NULL;
    CmModel *m = NULL;
    if (!writable(&costs, data.len * (Py_ssize_t)sizeof(double), "the costs buffer"))
        goto done;
    m = cm_new(data.len);
    if (!m)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = data.buf;
    double *cost = costs.buf;
    for (Py_ssize_t i = 0; i < data.len; i++) {
        cm_start(m, in, i);
        double bits = 0;
        for (int b = 7; b >= 0; b--) {
            const int bit = in[i] >> b & 1;
            bits += bit_cost(cm_predict(m), bit);
            cm_learn(m, bit);
        }
        cost[i] = bits;
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    cm_free(m);
    PyBuffer_Release(&data);
    PyBuffer_Release(&costs);
    return result;
}
