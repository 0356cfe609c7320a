/*
 * The static order-k model (issue 18): two passes.  The first counts, for each context (the
 * k bytes before, bytes before the start reading as 0) and each node of a byte's binary tree
 * (its bits so far behind a leading 1), how often a 0 and a 1 came; the second codes each
 * byte bit by bit, most significant first, with the binary arithmetic coder of
 * binary_coder.h, each bit with a probability fixed for the whole input.  Those
 * probabilities are the model, stored beside the payload and charged to the file;
 * docs/drafts/static-model.md specifies its bytes and what a decoder must refuse.
 *
 * What is stored: only what the data visited.  Contexts are not listed but found as the
 * model is read, each (context, byte) pair leading to the context that follows it, from the
 * context of zeros every input starts in: the list would cost more than the model's trees on
 * text, and the trees already say it.  A node with one child visited forces its bit, coded
 * with no bits at all; a node with both holds q, 8 bits, the index of its probability on a
 * logistic scale (the same relative precision everywhere, ~1e-4 bits a coded bit lost to
 * it).  The model is itself coded with the binary coder and adaptive probabilities.
 *
 * A model read is validated whole before any payload bit is decoded: any byte string either
 * reads as a sound model or is refused with a ValueError.  Memory: a model declares its
 * contexts C and pairs L in its first bytes, refused beyond what count bytes can have (C at
 * most count + 1 and 256^k, L at most count); reading one takes at most
 * 48 C + 8 (C + 7 L + 16) + 4 L bytes, twice that while an array grows, plus 10 KB
 * (static_model_memory in the reference).  The arrays grow as the model is read, never
 * from the declaration alone: a short hostile model that declares millions is refused
 * (its coded bits run out) before it has made room for them.
 *
 * Integer arithmetic only, so that every machine and compiler gives the same bytes; the
 * Python reference (codec/kernels/reference/static_model.py) follows it step by step.
 */

#include "kernels.h"
#include "binary_coder.h"

#include <stdarg.h>
#include <stdio.h>

#define STATIC_ORDER_MOST 3

/* The probability of a 1 (in 1/65536) that q stands for: 65536 / (1 + e^-((q - 127.5) s)),
 * s = 2 ln(65535) / 255, rounded, at least q + 1 below the middle and mirrored above it, so
 * that all 256 differ and the ends step by 1/65536 (the reference checks the formula). */
static const uint16_t sm_probability[256] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36,
    37, 38, 39, 40, 41, 42, 43, 44, 46, 50, 55, 60,
    65, 71, 77, 84, 92, 100, 109, 119, 130, 142, 155, 169,
    184, 201, 219, 239, 261, 284, 310, 338, 368, 402, 438, 477,
    521, 567, 618, 674, 735, 801, 872, 951, 1036, 1128, 1229, 1338,
    1457, 1586, 1727, 1879, 2044, 2224, 2418, 2629, 2858, 3105, 3373, 3662,
    3975, 4313, 4677, 5069, 5491, 5944, 6432, 6954, 7514, 8112, 8751, 9432,
    10156, 10925, 11740, 12602, 13511, 14468, 15472, 16524, 17621, 18764, 19950, 21178,
    22443, 23744, 25076, 26436, 27818, 29219, 30633, 32056, 33480, 34903, 36317, 37718,
    39100, 40460, 41792, 43093, 44358, 45586, 46772, 47915, 49012, 50064, 51068, 52025,
    52934, 53796, 54611, 55380, 56104, 56785, 57424, 58022, 58582, 59104, 59592, 60045,
    60467, 60859, 61223, 61561, 61874, 62163, 62431, 62678, 62907, 63118, 63312, 63492,
    63657, 63809, 63950, 64079, 64198, 64307, 64408, 64500, 64585, 64664, 64735, 64801,
    64862, 64918, 64969, 65015, 65059, 65098, 65134, 65168, 65198, 65226, 65252, 65275,
    65297, 65317, 65335, 65352, 65367, 65381, 65394, 65406, 65417, 65427, 65436, 65444,
    65452, 65459, 65465, 65471, 65476, 65481, 65486, 65490, 65492, 65493, 65494, 65495,
    65496, 65497, 65498, 65499, 65500, 65501, 65502, 65503, 65504, 65505, 65506, 65507,
    65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516, 65517, 65518, 65519,
    65520, 65521, 65522, 65523, 65524, 65525, 65526, 65527, 65528, 65529, 65530, 65531,
    65532, 65533, 65534, 65535
};

/* The model's own probabilities (of a 1, in 1/65536) start at 1/2 and move 1/2^SM_RATE of
 * the way to each bit seen: quick to learn from a small model, and kept in [15, 65521], so
 * that a decision costs at most 12.1 bits and a model byte holds at most ~24000. */
#define SM_RATE 4
#define SM_HALF 32768u

typedef struct {
    uint32_t empty, both[256], which[256], q[8][256];
} SmAdaptive;

static void sm_adaptive_init(SmAdaptive *a) {
    a->empty = SM_HALF;
    for (int k = 0; k < 256; k++) {
        a->both[k] = a->which[k] = SM_HALF;
        for (int d = 0; d < 8; d++)
            a->q[d][k] = SM_HALF;
    }
}

static inline void sm_adapt(uint32_t *p, int bit) {
    if (bit)
        *p += (65536 - *p) >> SM_RATE;
    else
        *p -= *p >> SM_RATE;
}

/* The q whose probability is nearest n1 / (n0 + n1): the least |P[q] n - 65536 n1|, the
 * lower q on a tie; integers only, so that C and the reference choose alike. */
static int sm_quantise(int64_t n0, int64_t n1) {
    const int64_t n = n0 + n1, target = 65536 * n1;
    int low = 0, high = 255;
    while (low < high) {
        const int mid = (low + high) / 2;
        if ((int64_t)sm_probability[mid] * n >= target)
            high = mid;
        else
            low = mid + 1;
    }
    if (low > 0 && target - (int64_t)sm_probability[low - 1] * n
                       <= (int64_t)sm_probability[low] * n - target)
        return low - 1;
    return low;
}

static inline uint32_t sm_mask(int order) {
    return order == 0 ? 0 : ((uint32_t)1 << 8 * order) - 1;
}

/* -- a model, read ---------------------------------------------------------------------- */

typedef struct {
    int32_t child;  /* the first child: a node, or below the 8th level a pair; a node with
                     * both children has them side by side */
    uint16_t p;     /* of a 1, when both children came */
    uint8_t kind;   /* 1: only a 0 came, 2: only a 1, 3: both */
} SmNode;

typedef struct {
    int order;
    uint32_t mask;
    Py_ssize_t contexts, pairs, node_most;  /* as declared, and checked; node_most derived */
    Py_ssize_t found, pair_count, node_count;
    Py_ssize_t context_room, pair_room, node_room;  /* the arrays' sizes, grown to the most */
    int32_t *root;      /* each context's first node, -1 for the one left empty */
    uint32_t *value;    /* each context's k bytes, the newest lowest */
    uint32_t *slot_key; /* a hash of the contexts found: value + 1, 0 for a free slot */
    int32_t *slot_index;
    uint32_t slot_mask;
    SmNode *node;
    int32_t *following; /* each pair's next context */
    /* reading */
    BitDecoder d;
    SmAdaptive a;
    int failed;         /* 1: message holds a ValueError's; 2: out of memory */
    char message[240];
} SmModel;

static void sm_free(SmModel *m) {
    free(m->root);
    free(m->value);
    free(m->slot_key);
    free(m->slot_index);
    free(m->node);
    free(m->following);
}

static int sm_fail(SmModel *m, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(m->message, sizeof m->message, format, args);
    va_end(args);
    m->failed = 1;
    return -1;
}

static int sm_no_memory(SmModel *m) {
    m->failed = 2;
    return -1;
}

/* Makes room in *array (of *room items of size bytes) for need items, doubling it, to most
 * at most (need <= most, checked by the caller).  0 without memory. */
static int sm_grow(void **array, Py_ssize_t *room, Py_ssize_t need, Py_ssize_t most,
                   size_t size) {
    if (need <= *room)
        return 1;
    Py_ssize_t grown = *room < 32 ? 32 : 2 * *room;
    if (grown > most)
        grown = most;
    if (grown < need)
        grown = need;
    void *more = realloc(*array, (size_t)grown * size);
    if (!more)
        return 0;
    *array = more;
    *room = grown;
    return 1;
}

/* Slots for the contexts found, at most half of them full (so that a probe ends): rehashed
 * as they double. */
static int sm_rehash(SmModel *m, uint32_t slots) {
    uint32_t *key = calloc(slots, sizeof(uint32_t));
    int32_t *index = malloc(sizeof(int32_t) * slots);
    if (!key || !index) {
        free(key);
        free(index);
        return 0;
    }
    free(m->slot_key);
    free(m->slot_index);
    m->slot_key = key;
    m->slot_index = index;
    m->slot_mask = slots - 1;
    for (Py_ssize_t k = 0; k < m->found; k++) {
        uint32_t slot = (m->value[k] * 0x9E3779B1u >> 8) & m->slot_mask;
        while (key[slot])
            slot = (slot + 1) & m->slot_mask;
        key[slot] = m->value[k] + 1;
        index[slot] = (int32_t)k;
    }
    return 1;
}

/* Raises the failure (with the GIL held) and returns NULL. */
static PyObject *sm_raise(const SmModel *m) {
    if (m->failed == 2)
        return PyErr_NoMemory();
    PyErr_SetString(PyExc_ValueError, m->message);
    return NULL;
}

/* The index of context *value*, found now if it is new; -1 when the model has declared
 * fewer. */
static int32_t sm_find(SmModel *m, uint32_t value) {
    uint32_t slot = (value * 0x9E3779B1u >> 8) & m->slot_mask;
    while (m->slot_key[slot]) {
        if (m->slot_key[slot] == value + 1)
            return m->slot_index[slot];
        slot = (slot + 1) & m->slot_mask;
    }
    if (m->found == m->contexts)
        return sm_fail(m, "the model describes more than the %zd contexts it declares",
                       m->contexts);
    if (2 * (m->found + 1) > (Py_ssize_t)m->slot_mask + 1) {
        if (!sm_rehash(m, 2 * (m->slot_mask + 1)))  /* contexts <= 2^24: 2^25 slots at most */
            return sm_no_memory(m);
        slot = (value * 0x9E3779B1u >> 8) & m->slot_mask;
        while (m->slot_key[slot])
            slot = (slot + 1) & m->slot_mask;
    }
    Py_ssize_t room = m->context_room;
    if (!sm_grow((void **)&m->value, &room, m->found + 1, m->contexts, sizeof(uint32_t))
            || !sm_grow((void **)&m->root, &m->context_room, m->found + 1, m->contexts,
                        sizeof(int32_t)))
        return sm_no_memory(m);
    m->slot_key[slot] = value + 1;
    m->slot_index[slot] = (int32_t)m->found;
    m->value[m->found] = value;
    m->root[m->found] = -1;
    return (int32_t)m->found++;
}

/* Reads node *at* (number its bits behind a leading 1, depth of them) and below: its kind,
 * q if both children came, then each child's subtree, the 0 first. */
static int sm_read_node(SmModel *m, Py_ssize_t at, uint32_t number, int depth,
                        uint32_t context) {
    const int both = decode_bit(&m->d, m->a.both[number]);
    sm_adapt(&m->a.both[number], both);
    int first_bit = 0, children = 1;
    if (both) {
        uint32_t *tree = m->a.q[depth], q = 1;
        for (int k = 0; k < 8; k++) {
            const int bit = decode_bit(&m->d, tree[q]);
            sm_adapt(&tree[q], bit);
            q = q << 1 | (uint32_t)bit;
        }
        m->node[at].kind = 3;
        m->node[at].p = sm_probability[q & 255];
        children = 2;
    } else {
        first_bit = decode_bit(&m->d, m->a.which[number]);
        sm_adapt(&m->a.which[number], first_bit);
        m->node[at].kind = (uint8_t)(1 + first_bit);
        m->node[at].p = 0;
    }
    if (depth == 7) {
        if (m->pair_count + children > m->pairs)
            return sm_fail(m, "the model describes more than the %zd pairs it declares",
                           m->pairs);
        if (!sm_grow((void **)&m->following, &m->pair_room, m->pair_count + children,
                     m->pairs, sizeof(int32_t)))
            return sm_no_memory(m);
        m->node[at].child = (int32_t)m->pair_count;
        for (int k = 0; k < children; k++) {
            const uint32_t byte = (number << 1 | (uint32_t)(first_bit + k)) & 255;
            const int32_t next = sm_find(m, ((context << 8) | byte) & m->mask);
            if (next < 0)
                return -1;
            m->following[m->pair_count++] = next;
        }
        return 0;
    }
    /* At most 1 + 7 l nodes for a context's l pairs, 14 more while a tree is half read:
     * node_most (C + 7 L + 16) is never reached by a model within its declared pairs. */
    if (m->node_count + children > m->node_most)
        return sm_fail(m, "the model describes more than the %zd pairs it declares",
                       m->pairs);
    if (!sm_grow((void **)&m->node, &m->node_room, m->node_count + children, m->node_most,
                 sizeof(SmNode)))
        return sm_no_memory(m);
    const Py_ssize_t child = m->node_count;
    m->node[at].child = (int32_t)child;
    m->node_count += children;
    for (int k = 0; k < children; k++)
        if (sm_read_node(m, child + k, number << 1 | (uint32_t)(first_bit + k), depth + 1,
                         context) < 0)
            return -1;
    return 0;
}

static int sm_read_varint(const uint8_t *in, Py_ssize_t len, Py_ssize_t *pos,
                          uint64_t *value, SmModel *m) {
    *value = 0;
    for (int shift = 0;; shift += 7) {
        if (*pos >= len)
            return sm_fail(m, "the model ends inside its header");
        const uint8_t byte = in[(*pos)++];
        *value |= (uint64_t)(byte & 127) << shift;
        if (!(byte & 128)) {
            if (byte == 0 && shift > 0)
                return sm_fail(m, "the model's header is not in its shortest form");
            return 0;
        }
        if (shift + 7 >= 63)
            return sm_fail(m, "the model's header holds a number too large");
    }
}

/*
 * Reads and checks the model in[0:len] for count bytes of order *order* into *m* (zeroed by
 * the caller; sm_free it after, whatever the result).  -1 with m->failed set when the model
 * is not sound.  Runs without the GIL.
 */
static int sm_read_model(SmModel *m, const uint8_t *in, Py_ssize_t len, Py_ssize_t count,
                         int order) {
    Py_ssize_t pos = 0;
    uint64_t contexts, pairs;
    if (sm_read_varint(in, len, &pos, &contexts, m) < 0
            || sm_read_varint(in, len, &pos, &pairs, m) < 0)
        return -1;
    const uint64_t space = (uint64_t)1 << 8 * order;
    const uint64_t most = count == 0 ? 0 : (uint64_t)count + 1 < space ? (uint64_t)count + 1
                                                                        : space;
    if (contexts > most)
        return sm_fail(m, "the model declares %llu contexts, but %zd bytes of order %d have "
                       "at most %llu", (unsigned long long)contexts, count, order,
                       (unsigned long long)most);
    if (pairs > (uint64_t)count || (contexts == 0) != (pairs == 0)
            || (count > 0 && contexts == 0))
        return sm_fail(m, "the model declares %llu contexts and %llu pairs, which %zd bytes "
                       "cannot have", (unsigned long long)contexts, (unsigned long long)pairs,
                       count);
    m->order = order;
    m->mask = sm_mask(order);
    m->contexts = (Py_ssize_t)contexts;
    m->pairs = (Py_ssize_t)pairs;
    m->node_most = m->contexts + 7 * m->pairs + 16;
    if (!sm_rehash(m, 64))
        return sm_no_memory(m);
    const Py_ssize_t body = len - pos;
    m->d = start_bits(in + pos, body);
    sm_adaptive_init(&m->a);
    if (contexts && sm_find(m, 0) < 0)
        return -1;
    int empties = 0;
    for (Py_ssize_t at = 0; at < m->found; at++) {
        const int empty = decode_bit(&m->d, m->a.empty);
        sm_adapt(&m->a.empty, empty);
        if (empty) {
            if (at == 0 || ++empties > 1)
                return sm_fail(m, "the model leaves more than one context empty, or the first");
            m->root[at] = -1;
        } else {
            /* node_most >= contexts + 16: room for a root */
            if (!sm_grow((void **)&m->node, &m->node_room, m->node_count + 1, m->node_most,
                         sizeof(SmNode)))
                return sm_no_memory(m);
            m->root[at] = (int32_t)m->node_count++;
            if (sm_read_node(m, m->root[at], 1, 0, m->value[at]) < 0)
                return -1;
        }
        if (bits_written(&m->d) > body)
            return sm_fail(m, "the model's coded bits run past its %zd bytes", body);
    }
    if (m->found != m->contexts || m->pair_count != m->pairs)
        return sm_fail(m, "the model describes %zd contexts and %zd pairs, but declares %zd "
                       "and %zd", m->found, m->pair_count, m->contexts, m->pairs);
    if (bits_written(&m->d) != body)
        return sm_fail(m, "the model's coded bits take %zd bytes, but it has %zd",
                       bits_written(&m->d), body);
    if (!ends_as_written(&m->d))
        return sm_fail(m, "the model's last byte is not the one its coder ends with");
    return 0;
}

/* -- writing a model -------------------------------------------------------------------- */

typedef struct {
    BitEncoder e;
    uint8_t *buf;
    size_t room;
    SmAdaptive a;
    uint32_t mask;
    /* the pairs counted: each context's (ascending) bytes, and the running count */
    Py_ssize_t distinct;      /* contexts with a byte */
    uint32_t *context_value;  /* ascending */
    Py_ssize_t *first_pair;   /* distinct + 1 */
    uint8_t *pair_byte;
    int64_t *running;         /* pairs + 1: the bytes counted before each pair */
    /* the contexts as found */
    int32_t *found_at;        /* per distinct context, -1 until found */
    int32_t *queue;           /* distinct contexts in the order found; -1 for the empty one */
    Py_ssize_t queued;
    int empty_found;
    uint32_t empty_value;
} SmWriter;

/* Room for *need* more bytes in the coder's buffer, which grows; 0 without memory. */
static int sm_room(BitEncoder *e, uint8_t **buf, size_t *room, size_t need) {
    if ((size_t)(e->end - e->out) >= need)
        return 1;
    const size_t used = (size_t)(e->out - *buf), grown = 2 * *room + need;
    uint8_t *more = realloc(*buf, grown);
    if (!more)
        return 0;
    *buf = more;
    *room = grown;
    e->out = more + used;
    e->end = more + grown;
    return 1;
}

static void sm_discover(SmWriter *w, uint32_t value) {
    Py_ssize_t low = 0, high = w->distinct;
    while (low < high) {
        const Py_ssize_t mid = (low + high) / 2;
        if (w->context_value[mid] < value)
            low = mid + 1;
        else
            high = mid;
    }
    if (low < w->distinct && w->context_value[low] == value) {
        if (w->found_at[low] < 0) {
            w->found_at[low] = (int32_t)w->queued;
            w->queue[w->queued++] = (int32_t)low;
        }
    } else if (!w->empty_found) {
        /* Only the context after the last byte can have none: one at most. */
        w->empty_found = 1;
        w->empty_value = value;
        w->queue[w->queued++] = -1;
    }
}

static void sm_write_node(SmWriter *w, Py_ssize_t low, Py_ssize_t high, uint32_t number,
                          int depth, uint32_t context) {
    if (depth == 8) {
        sm_discover(w, ((context << 8) | (number & 255)) & w->mask);
        return;
    }
    Py_ssize_t split = low;
    while (split < high && !(w->pair_byte[split] >> (7 - depth) & 1))
        split++;
    const int both = split > low && split < high;
    encode_bit(&w->e, both, w->a.both[number]);
    sm_adapt(&w->a.both[number], both);
    if (both) {
        const int q = sm_quantise(w->running[split] - w->running[low],
                                  w->running[high] - w->running[split]);
        uint32_t *tree = w->a.q[depth], at = 1;
        for (int b = 7; b >= 0; b--) {
            const int bit = q >> b & 1;
            encode_bit(&w->e, bit, tree[at]);
            sm_adapt(&tree[at], bit);
            at = at << 1 | (uint32_t)bit;
        }
        sm_write_node(w, low, split, number << 1, depth + 1, context);
        sm_write_node(w, split, high, number << 1 | 1, depth + 1, context);
    } else {
        const int right = split == low;
        encode_bit(&w->e, right, w->a.which[number]);
        sm_adapt(&w->a.which[number], right);
        sm_write_node(w, low, high, number << 1 | (uint32_t)right, depth + 1, context);
    }
}

/* The most bytes one context's tree codes to: 1 + 255 * 9 decisions, 4 bytes each at most. */
#define SM_CONTEXT_ROOM (4 * (1 + 255 * 9) + 8)

/* LSD radix sort of n keys by their low *digits* bytes, into keys (tmp as much again). */
static void sm_sort(uint32_t *keys, uint32_t *tmp, Py_ssize_t n, int digits) {
    for (int digit = 0; digit < digits; digit++) {
        Py_ssize_t start[257] = {0};
        const int shift = 8 * digit;
        for (Py_ssize_t i = 0; i < n; i++)
            start[(keys[i] >> shift & 255) + 1]++;
        for (int k = 0; k < 256; k++)
            start[k + 1] += start[k];
        for (Py_ssize_t i = 0; i < n; i++)
            tmp[start[keys[i] >> shift & 255]++] = keys[i];
        uint32_t *swap = keys;
        keys = tmp;
        tmp = swap;
    }
    if (digits & 1)
        memcpy(tmp, keys, sizeof(uint32_t) * (size_t)n);  /* back where the caller looks */
}

/*
 * Counts in[0:n] and writes its model: the coded part into w->buf (w->e.out its end), the
 * declared contexts and pairs into *contexts and *pairs.  0, or -1 without memory.  Runs
 * without the GIL.  Memory: 4 keys and 29 bytes a pair at most, each bounded by n.
 */
static int sm_write_model(SmWriter *w, const uint8_t *in, Py_ssize_t n, int order,
                          Py_ssize_t *contexts, Py_ssize_t *pairs) {
    w->mask = sm_mask(order);
    uint32_t *keys = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    uint32_t *tmp = malloc(sizeof(uint32_t) * (size_t)(n + 1));
    int status = -1;
    if (!keys || !tmp)
        goto done;
    uint32_t context = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        keys[i] = context << 8 | in[i];
        context = ((context << 8) | in[i]) & w->mask;
    }
    sm_sort(keys, tmp, n, order + 1);
    Py_ssize_t distinct = 0, count_pairs = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i == 0 || keys[i] != keys[i - 1])
            count_pairs++;
        if (i == 0 || keys[i] >> 8 != keys[i - 1] >> 8)
            distinct++;
    }
    w->distinct = distinct;
    w->context_value = malloc(sizeof(uint32_t) * (size_t)(distinct + 1));
    w->first_pair = malloc(sizeof(Py_ssize_t) * (size_t)(distinct + 1));
    w->pair_byte = malloc((size_t)count_pairs + 1);
    w->running = malloc(sizeof(int64_t) * (size_t)(count_pairs + 1));
    w->found_at = malloc(sizeof(int32_t) * (size_t)(distinct + 1));
    w->queue = malloc(sizeof(int32_t) * (size_t)(distinct + 2));
    if (!w->context_value || !w->first_pair || !w->pair_byte || !w->running || !w->found_at
            || !w->queue)
        goto done;
    Py_ssize_t c = -1, p = -1;
    w->running[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i == 0 || keys[i] != keys[i - 1]) {
            p++;
            w->pair_byte[p] = (uint8_t)keys[i];
            w->running[p + 1] = w->running[p];
            if (i == 0 || keys[i] >> 8 != keys[i - 1] >> 8) {
                c++;
                w->context_value[c] = keys[i] >> 8;
                w->first_pair[c] = p;
                w->found_at[c] = -1;
            }
        }
        w->running[p + 1]++;
    }
    w->first_pair[distinct] = count_pairs;
    sm_adaptive_init(&w->a);
    w->queued = 0;
    w->empty_found = 0;
    if (n > 0)
        sm_discover(w, 0);
    for (Py_ssize_t at = 0; at < w->queued; at++) {
        if (!sm_room(&w->e, &w->buf, &w->room, SM_CONTEXT_ROOM))
            goto done;
        const int32_t j = w->queue[at];
        encode_bit(&w->e, j < 0, w->a.empty);
        sm_adapt(&w->a.empty, j < 0);
        if (j >= 0)
            sm_write_node(w, w->first_pair[j], w->first_pair[j + 1], 1, 0,
                          w->context_value[j]);
    }
    if (!sm_room(&w->e, &w->buf, &w->room, 8))
        goto done;
    finish_bits(&w->e);
    *contexts = w->queued;
    *pairs = count_pairs;
    status = 0;
done:
    free(keys);
    free(tmp);
    return status;
}

static void sm_free_writer(SmWriter *w) {
    free(w->buf);
    free(w->context_value);
    free(w->first_pair);
    free(w->pair_byte);
    free(w->running);
    free(w->found_at);
    free(w->queue);
}

static size_t sm_varint(uint8_t *out, uint64_t value) {
    size_t k = 0;
    while (value >= 128) {
        out[k++] = (uint8_t)(value & 127) | 128;
        value >>= 7;
    }
    out[k++] = (uint8_t)value;
    return k;
}

static int sm_check_order(int order) {
    if (order < 0 || order > STATIC_ORDER_MOST) {
        PyErr_Format(PyExc_ValueError, "order must be 0 to %d", STATIC_ORDER_MOST);
        return 0;
    }
    return 1;
}

/* -- the entry points ------------------------------------------------------------------- */

/*
 * static_encode(data, order) -> (model, payload): data coded with its static order-k model.
 * The model is written, then read back as a decoder reads it, and the payload coded with
 * what was read: the encoder codes with exactly the decoder's model.
 */
PyObject *hk_static_encode(PyObject *self, PyObject *args) {
    Py_buffer data;
    int order;
    if (!PyArg_ParseTuple(args, "y*i", &data, &order))
        return NULL;
    PyObject *result = NULL;
    SmWriter w = {0};
    SmModel m = {0};
    uint8_t *payload = NULL, *model = NULL;
    size_t payload_room = 0;
    Py_ssize_t contexts = 0, pairs = 0, model_len = 0, payload_len = 0;
    int status = 0;  /* 0: done; 1: no memory; 2: the model read fails (m says why) */
    if (!sm_check_order(order))
        goto done;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = data.buf;
    const Py_ssize_t n = data.len;
    w.room = 4096;
    w.buf = malloc(w.room);
    if (w.buf) {
        w.e = (BitEncoder){0, 0xFFFFFFFFu, w.buf, w.buf + w.room, 0};
    }
    if (!w.buf || sm_write_model(&w, in, n, order, &contexts, &pairs) < 0) {
        status = 1;
    } else {
        const size_t coded = (size_t)(w.e.out - w.buf);
        model = malloc(coded + 20);
        if (!model) {
            status = 1;
        } else {
            size_t k = sm_varint(model, (uint64_t)contexts);
            k += sm_varint(model + k, (uint64_t)pairs);
            memcpy(model + k, w.buf, coded);
            model_len = (Py_ssize_t)(k + coded);
        }
    }
    if (!status && sm_read_model(&m, model, model_len, n, order) < 0)
        status = 2;  /* a bug: the reader refuses what the writer wrote */
    if (!status) {
        payload_room = (size_t)n + (size_t)n / 8 + 64;
        payload = malloc(payload_room);
        if (!payload)
            status = 1;
    }
    if (!status) {
        BitEncoder e = {0, 0xFFFFFFFFu, payload, payload + payload_room, 0};
        int32_t context = 0;
        for (Py_ssize_t i = 0; i < n && !status; i++) {
            /* 8 decisions, 4 bytes each at most */
            if (!sm_room(&e, &payload, &payload_room, 40)) {
                status = 1;
                break;
            }
            /* The model was read from this data: every byte is in it, every index in
             * bounds (sm_read_model made each child and pair index as it allocated it). */
            int32_t at = m.root[context];
            for (int b = 7; b >= 0; b--) {
                const int bit = in[i] >> b & 1;
                const SmNode *node = &m.node[at];
                if (node->kind == 3) {
                    encode_bit(&e, bit, node->p);
                    at = node->child + bit;
                } else {
                    at = node->child;
                }
            }
            context = m.following[at];
        }
        if (!status && sm_room(&e, &payload, &payload_room, 8)) {
            finish_bits(&e);
            payload_len = (Py_ssize_t)(e.out - payload);
        } else {
            status = 1;
        }
    }
    Py_END_ALLOW_THREADS
    if (status == 1)
        PyErr_NoMemory();
    else if (status == 2)
        sm_raise(&m);
    else
        result = Py_BuildValue("(y#y#)", (const char *)model, model_len,
                               (const char *)payload, payload_len);
done:
    sm_free_writer(&w);
    sm_free(&m);
    free(model);
    free(payload);
    PyBuffer_Release(&data);
    return result;
}

/*
 * static_decode(model, payload, count, order, out) -> None: count bytes decoded into out; a
 * ValueError when the model is not sound, or the payload not exactly what an encoder wrote.
 */
PyObject *hk_static_decode(PyObject *self, PyObject *args) {
    Py_buffer model, payload, out;
    Py_ssize_t count;
    int order;
    if (!PyArg_ParseTuple(args, "y*y*niw*", &model, &payload, &count, &order, &out))
        return NULL;
    PyObject *result = NULL;
    SmModel m = {0};
    if (!sm_check_order(order))
        goto done;
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "count must not be negative");
        goto done;
    }
    if (!writable(&out, count, "the output buffer"))
        goto done;
    int status = 0;  /* 0: done; 1: the model fails; 2: an empty context reached */
    Py_ssize_t written = 0;
    int canonical = 1;
    Py_BEGIN_ALLOW_THREADS
    if (sm_read_model(&m, model.buf, model.len, count, order) < 0) {
        status = 1;
    } else {
        uint8_t *dst = out.buf;
        BitDecoder d = start_bits(payload.buf, payload.len);
        int32_t context = 0;  /* a sound model has a first context when count > 0 */
        for (Py_ssize_t i = 0; i < count; i++) {
            int32_t at = m.root[context];
            if (at < 0) {
                status = 2;
                break;
            }
            /* Indices from a model read whole: each child was allocated by its parent, each
             * pair's context found, as sm_read_model read them. */
            uint32_t number = 1;
            for (int b = 0; b < 8; b++) {
                const SmNode *node = &m.node[at];
                int bit;
                if (node->kind == 3) {
                    bit = decode_bit(&d, node->p);
                    at = node->child + bit;
                } else {
                    bit = node->kind - 1;
                    at = node->child;
                }
                number = number << 1 | (uint32_t)bit;
            }
            dst[i] = (uint8_t)number;
            context = m.following[at];
        }
        written = bits_written(&d);
        canonical = ends_as_written(&d);
    }
    Py_END_ALLOW_THREADS
    if (status == 1)
        sm_raise(&m);
    else if (status == 2)
        PyErr_SetString(PyExc_ValueError, "the payload reaches a context the model leaves empty");
    else if (written != payload.len)
        PyErr_Format(PyExc_ValueError, "the coded bits take %zd bytes, but the payload has %zd",
                     written, payload.len);
    else if (!canonical)
        PyErr_SetString(PyExc_ValueError, "the payload's last byte is not the one its coder "
                                          "ends with");
    else
        result = Py_NewRef(Py_None);
done:
    sm_free(&m);
    PyBuffer_Release(&model);
    PyBuffer_Release(&payload);
    PyBuffer_Release(&out);
    return result;
}

/*
 * static_costs(model, data, order, costs) -> None: what each byte of data costs under the
 * model, in bits (float64, one a byte; 0 for a byte whose bits the model forces), with the
 * probabilities the coder uses; a ValueError when the model is not sound or lacks a byte.
 */
PyObject *hk_static_costs(PyObject *self, PyObject *args) {
    Py_buffer model, data, costs;
    int order;
    if (!PyArg_ParseTuple(args, "y*y*iw*", &model, &data, &order, &costs))
        return NULL;
    PyObject *result = NULL;
    SmModel m = {0};
    if (!sm_check_order(order))
        goto done;
    if (!writable(&costs, data.len * (Py_ssize_t)sizeof(double), "the costs buffer"))
        goto done;
    int status = 0;  /* 0: done; 1: the model fails; 2: a byte not in it */
    Py_ssize_t missing = 0;
    Py_BEGIN_ALLOW_THREADS
    if (sm_read_model(&m, model.buf, model.len, data.len, order) < 0) {
        status = 1;
    } else {
        const uint8_t *in = data.buf;
        double *cost = costs.buf;
        int32_t context = 0;
        for (Py_ssize_t i = 0; i < data.len && !status; i++) {
            int32_t at = m.root[context];
            double bits = 0;
            for (int b = 7; b >= 0 && at >= 0; b--) {
                const int bit = in[i] >> b & 1;
                const SmNode *node = &m.node[at];
                if (node->kind == 3) {
                    bits += bit_cost(node->p, bit);
                    at = node->child + bit;
                } else {
                    at = node->kind == 1 + bit ? node->child : -1;
                }
            }
            if (at < 0) {
                status = 2;
                missing = i;
            } else {
                cost[i] = bits;
                context = m.following[at];
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (status == 1)
        sm_raise(&m);
    else if (status == 2)
        PyErr_Format(PyExc_ValueError, "byte %zd of the data is not in the model", missing);
    else
        result = Py_NewRef(Py_None);
done:
    sm_free(&m);
    PyBuffer_Release(&model);
    PyBuffer_Release(&data);
    PyBuffer_Release(&costs);
    return result;
}
