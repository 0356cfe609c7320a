/*
 * rANS decoding: a block's symbols from its words and its lanes' final states (ans_decode),
 * through a slot -> symbol table, or a binary search over the cumulative frequencies.
 */

#include "kernels.h"

/*
 * The symbol whose slots hold `slot`: the last with cumulative <= slot.  (A symbol of
 * frequency 0 shares its cumulative with the next, so the last is never one of those.)
 */
static inline uint32_t find_slot(const uint32_t *c, Py_ssize_t size, uint32_t slot) {
    Py_ssize_t lo = 0, hi = size;  /* c[lo] <= slot < c[hi], reading c[size] as M */
    while (hi - lo > 1) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (c[mid] <= slot)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

/*
 * Byte symbols at a precision of at most PACKED_PRECISION (what huffkit's encoder gives a
 * byte block's own table) decode through a packed table of three arrays, each indexed by
 * the slot: slot - cum[s] and freq[s] (two 16-bit numbers, 16 KB), the symbol s (a byte),
 * and a byte the loop sets when it decodes through the slot (hit).  A step takes each
 * field with a load of its own, which costs no more than one load, and no instructions to
 * shift and mask them out of one 32-bit entry (two fewer a step than that layout, with
 * gcc 12 and clang 14).  The tables stay in the L1 cache, where a byte-per-slot table and
 * then f[s] and c[s] took three dependent loads (at precision 16, the first out of L1).
 * The one table that does not fit, a single byte value of frequency 4096 at precision 12,
 * never changes a state and goes the general way.
 */
#define PACKED_PRECISION 12
/* Where the arrays lie, in bytes from the table, the same at every precision (so that they
 * are reached from the table's address, with no register of their own). */
#define PACKED_SYMBOLS ((size_t)4 << PACKED_PRECISION)
#define PACKED_HITS ((size_t)5 << PACKED_PRECISION)
#define PACKED_BYTES ((size_t)6 << PACKED_PRECISION)

/* Word i of a block's words: 4 bytes, little-endian (FORMAT.md, section 1), read where they
 * lie in the block, at any alignment, without copying them into an array first. */
static inline uint32_t word_at(const uint8_t *w, Py_ssize_t i) {
    uint32_t v;
    memcpy(&v, w + 4 * i, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint8_t packed_symbol(const uint16_t *table, uint64_t slot) {
    return ((const uint8_t *)table)[PACKED_SYMBOLS + slot];
}

/*
 * The renormalisation of a step: the state with the word taken in (`refilled`) if it fell
 * below ANS_LOWER, else as it is, and *pos moved past the word if it was taken; without a
 * branch, which the data would make unpredictable.  gcc 12 compiles the conditional to a
 * branch whatever its form, and the arithmetic form (a shift by 32 * need) costs twice the
 * instructions, so on x86-64 it is three: a compare, a conditional move, an add of the
 * carry.
 */
static inline __attribute__((always_inline)) uint64_t renormalise(uint64_t state,
                                                                  uint64_t refilled,
                                                                  Py_ssize_t *pos) {
#if defined(__GNUC__) && defined(__x86_64__)
    Py_ssize_t at = *pos;
    __asm__("cmpq %[lower], %[state]\n\t"
            "cmovbq %[refilled], %[state]\n\t"
            "adcq $0, %[at]"
            : [state] "+r"(state), [at] "+r"(at)
            : [lower] "r"((uint64_t)ANS_LOWER), [refilled] "r"(refilled)
            : "cc");
    *pos = at;
    return state;
#else
    uint64_t need = state < ANS_LOWER, keep = need - 1;  /* all ones when no word is taken */
    *pos += (Py_ssize_t)need;
    return (state & keep) | (refilled & ~keep);
#endif
}

/*
 * A step of a lane: its symbol to *dst (its slot marked in hit[]), and the state after it,
 * a word from w[*pos] taken in if it fell below ANS_LOWER, without a branch on the data
 * (which makes it unpredictable).  The caller makes sure that w[*pos] may be read.
 */
static inline __attribute__((always_inline)) uint64_t packed_step(
        uint64_t state, const int few_lanes, const uint16_t *restrict table,
        const int precision,
        const uint8_t *restrict w, Py_ssize_t *pos, uint8_t *restrict dst,
        uint8_t *restrict hit) {
    const uint64_t slot = state & (((uint64_t)1 << precision) - 1);
    const uint64_t bias = table[2 * slot], freq = table[2 * slot + 1], high = state >> precision;
    *dst = packed_symbol(table, slot);
    hit[slot] = 1;
    if (!few_lanes) {
        state = freq * high + bias;
        return renormalise(state, state << 32 | word_at(w, *pos), pos);
    }
    /* Few lanes: each step waits for the last, so the state with a word taken in is found
     * beside the state, not from it, two instructions sooner: freq * (high << 32) is
     * (freq * high) << 32 whenever that state is taken, for it is then below 2^32.  (With
     * more lanes the steps overlap, and the instructions it adds would cost time.) */
    return renormalise(freq * high + bias, freq * (high << 32) + (bias << 32 | word_at(w, *pos)), pos);
}

/* The same step as packed_step, for the last rounds: it checks that a word is left (few
 * are, so a step seldom needs one, and the branch is predictable).  0 when none is. */
static inline __attribute__((always_inline)) int packed_step_checked(
        uint64_t *x, const uint16_t *restrict table, const int precision,
        const uint8_t *restrict w, Py_ssize_t word_count, Py_ssize_t *pos,
        uint8_t *restrict dst, uint8_t *restrict hit) {
    uint64_t state = *x;
    const uint64_t slot = state & (((uint64_t)1 << precision) - 1);
    state = (uint64_t)table[2 * slot + 1] * (state >> precision) + table[2 * slot];
    if (state < ANS_LOWER) {
        if (*pos >= word_count)
            return 0;
        state = state << 32 | word_at(w, (*pos)++);
    }
    *x = state;
    *dst = packed_symbol(table, slot);
    hit[slot] = 1;
    return 1;
}

/*
 * Decodes count byte symbols on `lanes` lanes through a packed table: symbol i from lane
 * i mod lanes.  Returns 0, or 1 when the words run out.  Inlined with a constant `lanes`,
 * the states stay in registers.
 *
 * A lane takes at most one word a step, so a round of `lanes` steps (one a lane) that
 * starts with `lanes` words or more left reads no word beyond the last: such rounds check
 * the words once, before they start, and only the last rounds check each step.  Both
 * loops compute the same states from the same words, so where the first hands over to
 * the second changes nothing in the output or in what is refused.
 */
static inline __attribute__((always_inline)) int packed_lanes(
        uint64_t *x, const Py_ssize_t lanes, Py_ssize_t count,
        const uint16_t *restrict table, const int precision, const uint8_t *restrict w,
        Py_ssize_t word_count, Py_ssize_t *position, uint8_t *restrict dst,
        uint8_t *restrict hit) {
    Py_ssize_t pos = *position, start = 0;
    for (; count - start >= lanes && word_count - pos >= lanes; start += lanes)
        for (Py_ssize_t k = 0; k < lanes; k++)
            x[k] = packed_step(x[k], lanes <= 3, table, precision, w, &pos, dst + start + k,
                               hit);
    for (; start < count; start += lanes) {
        Py_ssize_t active = count - start < lanes ? count - start : lanes;
        for (Py_ssize_t k = 0; k < active; k++)
            if (!packed_step_checked(&x[k], table, precision, w, word_count, &pos,
                                     dst + start + k, hit)) {
                *position = pos;
                return 1;
            }
    }
    *position = pos;
    return 0;
}

/*
 * packed_lanes for a count of lanes: up to eight, a version each, which keeps the states
 * in registers; more lanes keep theirs in memory, where the steps of so many lanes overlap
 * anyway.  Each is a function of its own: inlined in hk_ans_decode, among its many live
 * values, gcc 12 kept spilling the loop's pointers and reloading them.
 */
#define PACKED_LANES(n)                                                                    \
    static __attribute__((noinline)) int packed_lanes_##n(                                 \
            uint64_t *x, Py_ssize_t count, const uint16_t *table, int precision,           \
            const uint8_t *w, Py_ssize_t word_count, Py_ssize_t *position, uint8_t *dst,  \
            uint8_t *hit) {                                                                \
        uint64_t held[n];                                                                  \
        memcpy(held, x, sizeof held);                                                      \
        int status = precision == PACKED_PRECISION                                         \
            ? packed_lanes(held, n, count, table, PACKED_PRECISION, w, word_count,         \
                           position, dst, hit)                                             \
            : packed_lanes(held, n, count, table, precision, w, word_count, position,      \
                           dst, hit);                                                      \
        memcpy(x, held, sizeof held);                                                      \
        return status;                                                                     \
    }
PACKED_LANES(1)
PACKED_LANES(2)
PACKED_LANES(3)
PACKED_LANES(4)
PACKED_LANES(5)
PACKED_LANES(6)
PACKED_LANES(7)
PACKED_LANES(8)

/*
 * More lanes than registers: the states stay in x[], and each round takes them four at a
 * time, so that the loop's own work is shared by four steps.
 */
static inline __attribute__((always_inline)) int packed_lanes_many(
        uint64_t *restrict x, Py_ssize_t lanes, Py_ssize_t count,
        const uint16_t *restrict table, const int precision, const uint8_t *restrict w,
        Py_ssize_t word_count, Py_ssize_t *position, uint8_t *restrict dst,
        uint8_t *restrict hit) {
    Py_ssize_t pos = *position, start = 0, fours = lanes & ~(Py_ssize_t)3;
    for (; count - start >= lanes && word_count - pos >= lanes; start += lanes) {
        Py_ssize_t k = 0;
        for (; k < fours; k += 4) {
            uint8_t *out = dst + start + k;
            x[k] = packed_step(x[k], 0, table, precision, w, &pos, out, hit);
            x[k + 1] = packed_step(x[k + 1], 0, table, precision, w, &pos, out + 1, hit);
            x[k + 2] = packed_step(x[k + 2], 0, table, precision, w, &pos, out + 2, hit);
            x[k + 3] = packed_step(x[k + 3], 0, table, precision, w, &pos, out + 3, hit);
        }
        for (; k < lanes; k++)
            x[k] = packed_step(x[k], 0, table, precision, w, &pos, dst + start + k, hit);
    }
    *position = pos;
    /* The last rounds, each step checked. */
    return packed_lanes(x, lanes, count - start, table, precision, w, word_count, position,
                        dst + start, hit);
}

static __attribute__((noinline)) int packed_lanes_any(
        uint64_t *x, Py_ssize_t lanes, Py_ssize_t count, const uint16_t *table,
        int precision, const uint8_t *w, Py_ssize_t word_count, Py_ssize_t *position,
        uint8_t *dst, uint8_t *hit) {
    if (precision == PACKED_PRECISION)
        return packed_lanes_many(x, lanes, count, table, PACKED_PRECISION, w, word_count,
                                 position, dst, hit);
    return packed_lanes_many(x, lanes, count, table, precision, w, word_count, position,
                             dst, hit);
}

static int decode_packed(uint64_t *x, Py_ssize_t lanes, Py_ssize_t count,
                         const uint16_t *table, int precision, const uint8_t *w,
                         Py_ssize_t word_count, Py_ssize_t *position, uint8_t *dst,
                         uint8_t *hit) {
#define PACKED_CASE(n) \
    case n: return packed_lanes_##n(x, count, table, precision, w, word_count, position, \
                                    dst, hit);
    switch (lanes) {
    PACKED_CASE(1) PACKED_CASE(2) PACKED_CASE(3) PACKED_CASE(4)
    PACKED_CASE(5) PACKED_CASE(6) PACKED_CASE(7) PACKED_CASE(8)
    default: return packed_lanes_any(x, lanes, count, table, precision, w, word_count,
                                     position, dst, hit);
    }
#undef PACKED_CASE
}

/*
 * One rANS decoding step of a lane through a byte-per-slot table: its symbol to *dst, and
 * the state after it, a word from w[*pos] taken in if it fell below ANS_LOWER, without a
 * branch on the data.  The caller makes sure that w[*pos] may be read.
 */
static inline __attribute__((always_inline)) uint64_t ans_step_bytes(
        uint64_t state, const uint8_t *slots, const uint32_t *f, const uint32_t *c,
        int precision, uint64_t mask, const uint8_t *w, Py_ssize_t *pos, uint8_t *dst) {
    uint32_t slot = (uint32_t)(state & mask);
    uint32_t s = slots[slot];
    state = f[s] * (state >> precision) + slot - c[s];
    /* need ? state << 32 | w[*pos] : state, in arithmetic: gcc makes a branch of the
     * conditional, which the data makes unpredictable. */
    uint32_t need = state < ANS_LOWER;
    uint64_t word = word_at(w, *pos) & (0u - need);
    *pos += need;
    *dst = (uint8_t)s;
    return state << (32 * need) | word;
}

/*
 * Decodes count byte symbols on `lanes` lanes with a byte-per-slot table: symbol i from lane
 * i mod lanes.  Returns 0, or 1 when the words run out.  Inlined with a constant `lanes`,
 * the states stay in registers; a word is taken without a branch on the data.
 *
 * A lane takes at most one word a step, so a round of `lanes` steps (one a lane) that
 * starts with `lanes` words or more left reads no word beyond the last: such rounds check
 * the words once, before they start, and only the last rounds check each step.  Both
 * loops compute the same states from the same words, so where the first hands over to
 * the second changes nothing in the output or in what is refused.
 */
static inline __attribute__((always_inline)) int ans_decode_bytes(
        uint64_t *x, const Py_ssize_t lanes, Py_ssize_t count, const uint8_t *slots,
        const uint32_t *f, const uint32_t *c, int precision, const uint8_t *w,
        Py_ssize_t word_count, Py_ssize_t *position, uint8_t *dst) {
    const uint64_t mask = ((uint64_t)1 << precision) - 1;
    Py_ssize_t pos = *position, start = 0;
    for (; count - start >= lanes && word_count - pos >= lanes; start += lanes)
        for (Py_ssize_t k = 0; k < lanes; k++)
            x[k] = ans_step_bytes(x[k], slots, f, c, precision, mask, w, &pos,
                                  dst + start + k);
    /* The last rounds: a step that needs a word checks that one is left.  (Few words are
     * left, so a step seldom needs one, and the branch is predictable.) */
    for (; start < count; start += lanes) {
        Py_ssize_t active = count - start < lanes ? count - start : lanes;
        for (Py_ssize_t k = 0; k < active; k++) {
            uint64_t state = x[k];
            uint32_t slot = (uint32_t)(state & mask);
            uint32_t s = slots[slot];
            state = f[s] * (state >> precision) + slot - c[s];
            if (state < ANS_LOWER) {
                if (pos >= word_count) {
                    *position = pos;
                    return 1;
                }
                state = state << 32 | word_at(w, pos++);
            }
            x[k] = state;
            dst[start + k] = (uint8_t)s;
        }
    }
    *position = pos;
    return 0;
}

/*
 * ans_decode_bytes for a count of lanes: up to four, a version each, which keeps the states
 * in registers.  Each is a function of its own, kept out of hk_ans_decode: inlined in it,
 * among its many live values, gcc 12 kept spilling the loop's pointers and reloading them.
 */
#define DECODE_LANES(n)                                                                    \
    static __attribute__((noinline)) int ans_decode_bytes_##n(                             \
            uint64_t *x, Py_ssize_t count, const uint8_t *slots, const uint32_t *f,        \
            const uint32_t *c, int precision, const uint8_t *w, Py_ssize_t word_count,    \
            Py_ssize_t *position, uint8_t *dst) {                                          \
        uint64_t held[n];                                                                  \
        memcpy(held, x, sizeof held);                                                      \
        int status = ans_decode_bytes(held, n, count, slots, f, c, precision, w,           \
                                      word_count, position, dst);                          \
        memcpy(x, held, sizeof held);                                                      \
        return status;                                                                     \
    }
DECODE_LANES(1)
DECODE_LANES(2)
DECODE_LANES(3)
DECODE_LANES(4)

static __attribute__((noinline)) int ans_decode_byte_lanes(
        uint64_t *x, Py_ssize_t lanes, Py_ssize_t count, const uint8_t *slots,
        const uint32_t *f, const uint32_t *c, int precision, const uint8_t *w,
        Py_ssize_t word_count, Py_ssize_t *position, uint8_t *dst) {
    switch (lanes) {
    case 1: return ans_decode_bytes_1(x, count, slots, f, c, precision, w, word_count,
                                      position, dst);
    case 2: return ans_decode_bytes_2(x, count, slots, f, c, precision, w, word_count,
                                      position, dst);
    case 3: return ans_decode_bytes_3(x, count, slots, f, c, precision, w, word_count,
                                      position, dst);
    case 4: return ans_decode_bytes_4(x, count, slots, f, c, precision, w, word_count,
                                      position, dst);
    default: return ans_decode_bytes(x, lanes, count, slots, f, c, precision, w, word_count,
                                     position, dst);
    }
}

/* After a block's last symbol (rule A4): 0 when its words are used up exactly and every lane
 * ends at ANS_LOWER, where the encoder started it; 2 otherwise. */
static inline int end_status(const uint64_t *x, Py_ssize_t lanes, Py_ssize_t pos,
                             Py_ssize_t word_count) {
    int status = pos == word_count ? 0 : 2;
    for (Py_ssize_t k = 0; k < lanes; k++)
        if (x[k] != ANS_LOWER)
            status = 2;
    return status;
}

/* The scratch memory hk_ans_decode_bytes needs for a table of this precision (at most
 * ANS_TABLE_PRECISION): the packed table, or a byte per slot. */
size_t hk_ans_scratch_size(int precision) {
    size_t slots = (size_t)1 << precision;
    return slots > PACKED_BYTES ? slots : PACKED_BYTES;
}

/*
 * Decodes `count` byte symbols from the lanes' states x (moved on) and the words w
 * (word_count of them, little-endian, read where they lie), with the frequencies f and
 * their offsets c of the `size` (at most 256) byte values of a table of `precision` (at
 * most ANS_TABLE_PRECISION), to dst.  With seen (256 bytes), seen[v] is set to 1 for each
 * byte value v decoded and to 0 for the others (rule A5).  scratch holds
 * hk_ans_scratch_size(precision) bytes.  Returns 0 when the words are used up exactly and
 * every lane ends at ANS_LOWER (rule A4), 1 when they run out, 2 when they do not end
 * where they began.
 */
int hk_ans_decode_bytes(uint64_t *x, Py_ssize_t lanes, Py_ssize_t count, const uint32_t *f,
                        const uint32_t *c, Py_ssize_t size, int precision, const uint8_t *w,
                        Py_ssize_t word_count, uint8_t *dst, uint8_t *seen, void *scratch) {
    Py_ssize_t pos = 0;
    int status, whole = 0;  /* whole: a symbol has all of 2^precision */
    for (Py_ssize_t s = 0; s < size; s++)
        whole |= f[s] == ((uint32_t)1 << precision);
    if (seen)
        memset(seen, 0, 256);
    if (precision <= PACKED_PRECISION && !whole) {
        /* The loop marks the slots it decodes through, rather than the byte values: the
         * slot is at hand (the table's index), where a value's mark waited for the
         * symbol's load and took an instruction more a step.  A value was decoded if any
         * of its slots was. */
        uint16_t *packed = scratch;
        uint8_t *symbols = (uint8_t *)packed + PACKED_SYMBOLS;
        uint8_t *hit = (uint8_t *)packed + PACKED_HITS;
        memset(hit, 0, (size_t)1 << precision);
        for (Py_ssize_t s = 0; s < size; s++) {
            for (uint32_t k = 0; k < f[s]; k++) {
                packed[2 * (c[s] + k)] = (uint16_t)k;
                packed[2 * (c[s] + k) + 1] = (uint16_t)f[s];
            }
            memset(symbols + c[s], (int)s, f[s]);
        }
        status = decode_packed(x, lanes, count, packed, precision, w, word_count, &pos, dst,
                               hit);
        for (Py_ssize_t s = 0; seen && s < size; s++)
            seen[s] = f[s] && memchr(hit + c[s], 1, f[s]) != NULL;
    } else {  /* a byte per slot, filled a run at a time */
        uint8_t *table = scratch;
        for (Py_ssize_t s = 0; s < size; s++)
            memset(table + c[s], (int)s, f[s]);
        status = ans_decode_byte_lanes(x, lanes, count, table, f, c, precision, w,
                                       word_count, &pos, dst);
        for (Py_ssize_t i = 0; seen && !status && i < count; i++)
            seen[dst[i]] = 1;
    }
    return status ? status : end_status(x, lanes, pos, word_count);
}

/*
 * ans_decode(words, states, count, freqs, cumulative, precision, width[, seen]) -> bytes
 *
 * With seen, a writable buffer of 256 bytes, and byte symbols (width 1): seen[v] is set to
 * 1 for each byte value v decoded, and to 0 for the others, so that the caller need not
 * read the symbols again to learn which values they hold (the check of rule A5).  The
 * packed loop marks them as it decodes; the others mark them after.
 */
PyObject *hk_ans_decode(PyObject *self, PyObject *args) {
    Py_buffer words, states, freqs, cumulative, seen_view = {0};
    Py_ssize_t count;
    int precision, width;
    if (!PyArg_ParseTuple(args, "y*y*ny*y*ii|w*", &words, &states, &count, &freqs,
                          &cumulative, &precision, &width, &seen_view))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    uint32_t *slots = NULL;
    void *scratch = NULL;
    uint8_t *seen = seen_view.buf;
    uint64_t *x = NULL;
    if (!check_width(width) || !check_table(&freqs, &cumulative, precision))
        goto done;
    Py_ssize_t lanes = states.len / 8, size = freqs.len / 4, word_count = words.len / 4;
    if (lanes < 1 || states.len % 8 || words.len % 4 || count < 0) {
        PyErr_SetString(PyExc_ValueError, "states must be u64 and words u32 arrays");
        goto done;
    }
    if (count > PY_SSIZE_T_MAX / 4) {  /* count * width must not overflow */
        PyErr_SetString(PyExc_ValueError, "the count of symbols is too large");
        goto done;
    }
    if (width == 1 && size > 256) {
        PyErr_SetString(PyExc_ValueError, "byte output needs a table of at most 256 symbols");
        goto done;
    }
    if (seen && (width != 1 || !writable(&seen_view, 256, "seen")))
        goto bad_seen;
    decoded = PyBytes_FromStringAndSize(NULL, count * width);
    if (!decoded)
        goto done;
    const uint32_t *f = freqs.buf, *c = cumulative.buf;
    if (width == 1 && precision <= ANS_TABLE_PRECISION) {
        scratch = malloc(hk_ans_scratch_size(precision));
        if (!scratch) {
            PyErr_NoMemory();
            goto done;
        }
    } else if (precision <= ANS_TABLE_PRECISION && ((Py_ssize_t)1 << precision) <= 16 * count) {
        /* Filling a table of 2^precision slots one store at a time pays only when there
         * are symbols enough to share the cost: a chain of tiny blocks on a shared table
         * of precision 18 spent 1 MB of stores on each, 150 us for a block of one symbol.
         * Fewer take the binary search, which finds the same symbols. */
        slots = malloc(sizeof(uint32_t) << precision);
        if (!slots) {
            PyErr_NoMemory();
            goto done;
        }
    }
    x = malloc(sizeof(uint64_t) * (size_t)lanes);
    if (!x) {
        PyErr_NoMemory();
        goto done;
    }
    memcpy(x, states.buf, sizeof(uint64_t) * (size_t)lanes);
    const uint8_t *w = words.buf;
    uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(decoded);
    int status = 0;  /* 1: the words ran out; 2: they do not end where they began */
    Py_BEGIN_ALLOW_THREADS
    if (scratch) {
        status = hk_ans_decode_bytes(x, lanes, count, f, c, size, precision, w, word_count,
                                     dst, seen, scratch);
    } else {  /* symbols of 4 bytes, or a table too fine for a slot table of bytes */
        if (slots)
            for (Py_ssize_t s = 0; s < size; s++)
                for (uint32_t k = 0; k < f[s]; k++)
                    slots[c[s] + k] = (uint32_t)s;
        Py_ssize_t pos = 0;
        const uint64_t mask = ((uint64_t)1 << precision) - 1;
        for (Py_ssize_t start = 0; start < count && !status; start += lanes) {
            Py_ssize_t active = count - start < lanes ? count - start : lanes;
            for (Py_ssize_t k = 0; k < active; k++) {
                uint64_t state = x[k];
                uint32_t slot = (uint32_t)(state & mask);
                uint32_t s = slots ? slots[slot] : find_slot(c, size, slot);
                state = f[s] * (state >> precision) + slot - c[s];
                if (state < ANS_LOWER) {
                    if (pos >= word_count) {
                        status = 1;
                        break;
                    }
                    state = state << 32 | word_at(w, pos++);
                }
                x[k] = state;
                if (width == 1)
                    dst[start + k] = (uint8_t)s;
                else
                    memcpy(dst + 4 * (start + k), &s, 4);
            }
        }
        if (!status)
            status = end_status(x, lanes, pos, word_count);
        if (seen) {
            memset(seen, 0, 256);
            for (Py_ssize_t i = 0; !status && i < count; i++)
                seen[dst[i]] = 1;
        }
    }
    Py_END_ALLOW_THREADS
    if (status == 1)
        PyErr_SetString(PyExc_ValueError, "ANS stream ended early: the block is damaged");
    else if (status == 2)
        PyErr_SetString(PyExc_ValueError,
                        "ANS stream does not end where it began: the block is damaged");
    else {
        result = decoded;
        decoded = NULL;
    }
    goto done;
bad_seen:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "seen is for byte symbols only");
done:
    Py_XDECREF(decoded);
    free(slots);
    free(scratch);
    free(x);
    PyBuffer_Release(&words);
    PyBuffer_Release(&states);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    if (seen_view.obj)
        PyBuffer_Release(&seen_view);
    return result;
}
