/*
 * rANS decoding: a block's symbols from its words and its lanes' final states (ans_decode),
 * through a slot -> symbol table, or a binary search over the cumulative frequencies.
 */

#include "kernels.h"

/* rANS decode uses a slot -> symbol table up to this precision, a binary search above. */
#define ANS_TABLE_PRECISION 18

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
 * One rANS decoding step of a lane through a byte-per-slot table: its symbol to *dst, and
 * the state after it, a word from w[*pos] taken in if it fell below ANS_LOWER, without a
 * branch on the data.  The caller makes sure that w[*pos] may be read.
 */
static inline __attribute__((always_inline)) uint64_t ans_step_bytes(
        uint64_t state, const uint8_t *slots, const uint32_t *f, const uint32_t *c,
        int precision, uint64_t mask, const uint32_t *w, Py_ssize_t *pos, uint8_t *dst) {
    uint32_t slot = (uint32_t)(state & mask);
    uint32_t s = slots[slot];
    state = f[s] * (state >> precision) + slot - c[s];
    /* need ? state << 32 | w[*pos] : state, in arithmetic: gcc makes a branch of the
     * conditional, which the data makes unpredictable. */
    uint32_t need = state < ANS_LOWER;
    uint64_t word = w[*pos] & (0u - need);
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
        const uint32_t *f, const uint32_t *c, int precision, const uint32_t *w,
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
                state = state << 32 | w[pos++];
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
            const uint32_t *c, int precision, const uint32_t *w, Py_ssize_t word_count,    \
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
        const uint32_t *f, const uint32_t *c, int precision, const uint32_t *w,
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

PyObject *hk_ans_decode(PyObject *self, PyObject *args) {
    Py_buffer words, states, freqs, cumulative;
    Py_ssize_t count;
    int precision, width;
    if (!PyArg_ParseTuple(args, "y*y*ny*y*ii", &words, &states, &count, &freqs, &cumulative,
                          &precision, &width))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    uint32_t *slots = NULL;
    uint8_t *byte_slots = NULL;
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
    decoded = PyBytes_FromStringAndSize(NULL, count * width);
    if (!decoded)
        goto done;
    const uint32_t *f = freqs.buf, *c = cumulative.buf;
    if (precision <= ANS_TABLE_PRECISION && width == 1) {
        byte_slots = malloc((size_t)1 << precision);
        if (!byte_slots) {
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
    const uint32_t *w = words.buf;
    uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(decoded);
    int status = 0;  /* 1: the words ran out; 2: they do not end where they began */
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t pos = 0;
    if (byte_slots) {  /* bytes: a byte per slot, filled a run at a time */
        uint8_t *table = byte_slots;
        for (Py_ssize_t s = 0; s < size; s++)
            memset(table + c[s], (int)s, f[s]);
        status = ans_decode_byte_lanes(x, lanes, count, table, f, c, precision, w,
                                       word_count, &pos, dst);
    } else if (slots) {
        for (Py_ssize_t s = 0; s < size; s++)
            for (uint32_t k = 0; k < f[s]; k++)
                slots[c[s] + k] = (uint32_t)s;
    }
    const uint64_t mask = ((uint64_t)1 << precision) - 1;
    for (Py_ssize_t start = 0; start < count && !status && !byte_slots; start += lanes) {
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
                state = state << 32 | w[pos++];
            }
            x[k] = state;
            if (width == 1)
                dst[start + k] = (uint8_t)s;
            else
                memcpy(dst + 4 * (start + k), &s, 4);
        }
    }
    if (!status) {
        if (pos != word_count)
            status = 2;
        for (Py_ssize_t k = 0; k < lanes; k++)
            if (x[k] != ANS_LOWER)
                status = 2;
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
done:
    Py_XDECREF(decoded);
    free(slots);
    free(byte_slots);
    free(x);
    PyBuffer_Release(&words);
    PyBuffer_Release(&states);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    return result;
}
