/*
 * rANS encoding: a block's symbols on interleaved lanes (ans_encode), and consecutive pieces
 * of a split block, their steps overlapping (ans_encode_pieces).
 */

#include "kernels.h"

/*
 * Lane k codes symbols k, k + K, k + 2K, ...; the encoder runs backwards, and writes the
 * words it emits backwards from the end of `words`, so that they come out in the order
 * the decoder reads them: by step, then by lane.
 */
/*
 * How the encoder codes one symbol of frequency f (and cumulative frequency c) at
 * precision p: x' = x + bias + q * (M - f), with q = x / f found by a multiplication, an
 * addition and shifts instead of a division, exact for every 64-bit x: the "branchfree"
 * unsigned division of libdivide (Ridiculous Fish), q = (((x - h) >> 1) + h) >> shift with
 * h the high half of x * multiplier.  A frequency of 1 takes multiplier 2^64 - 1 and shift
 * 0, so q = x - 1, and bias c + M - 1 to make up for it.
 */
typedef struct {
    uint64_t limit;  /* a state at least this large first sheds a word; 0 for f = 0 */
    uint64_t multiplier;
    uint64_t bias;
    uint32_t complement;  /* M - f */
    uint32_t shift;
} EncodeSymbol;  /* 32 bytes: an entry is found by a shift */

static void prepare_symbol(EncodeSymbol *e, uint32_t f, uint32_t c, int precision) {
    uint64_t total = (uint64_t)1 << precision;
    e->limit = f == total ? UINT64_MAX : (uint64_t)f << (64 - precision);
    e->complement = total - f;
    e->bias = c;
    e->multiplier = 0;
    e->shift = 0;
    if (f == 1) {
        e->multiplier = UINT64_MAX;
        e->bias = c + total - 1;
    } else if (f > 1) {
        int log = 63 - __builtin_clzll(f);
        if ((f & (f - 1)) == 0) {  /* a power of two: h = 0, and x >> 1 >> (log - 1) */
            e->shift = log - 1;
            return;
        }
        unsigned __int128 numerator = (unsigned __int128)1 << (64 + log);
        uint64_t m = (uint64_t)(numerator / f), remainder = (uint64_t)(numerator % f);
        uint64_t twice = remainder + remainder;
        m += m + (twice >= f || twice < remainder);
        e->multiplier = m + 1;
        e->shift = log;
    }
}

/*
 * The state after shedding a word if it is at least `limit`, and *at moved back past the
 * word if it was shed; without a branch, which the data would make unpredictable.  gcc
 * shifts by 32 * shed, a shift by a variable count, so on x86-64 it is three
 * instructions: a compare, a conditional move, an add of the carry.
 */
static inline __attribute__((always_inline)) uint64_t shed_word(uint64_t state,
                                                                uint64_t limit,
                                                                Py_ssize_t *at) {
#if defined(__GNUC__) && defined(__x86_64__)
    Py_ssize_t back = *at;
    __asm__("cmpq %[limit], %[state]\n\t"
            "cmovaeq %[shifted], %[state]\n\t"
            "adcq $-1, %[back]"  /* back - 1 + (state < limit); it sets the flags: last */
            : [state] "+r"(state), [back] "+r"(back)
            : [limit] "r"(limit), [shifted] "r"(state >> 32)
            : "cc");
    *at = back;
    return state;
#else
    int shed = state >= limit;
    *at -= shed;
    return state >> (32 * shed);
#endif
}

/* One rANS step: shed a word if the state is too large for f, then code the symbol. */
static inline __attribute__((always_inline)) uint64_t ans_step(uint64_t state,
                                                               const EncodeSymbol *e,
                                                               uint32_t *w, Py_ssize_t *at) {
    /* The word is always written, and kept only if shed.  (*at >= 1: it falls at most
     * once a symbol, and symbols remain.) */
    w[*at - 1] = (uint32_t)state;
    state = shed_word(state, e->limit, at);
    /* x' = (x / f) * M + x % f + c = x + c + (x / f) * (M - f) */
    uint64_t high = (uint64_t)(((unsigned __int128)state * e->multiplier) >> 64);
    uint64_t q = (((state - high) >> 1) + high) >> e->shift;
    return state + e->bias + q * (uint64_t)e->complement;
}

/*
 * Codes n symbols on `lanes` lanes, symbol i on lane i mod lanes, last symbol first, the
 * words written backwards from w[*at].  Returns 0 for a symbol without a frequency.  Inlined
 * with a constant `lanes`, the lane loop unrolls and the states stay in registers.
 */
static inline __attribute__((always_inline)) int ans_encode_lanes(
        const uint8_t *in, int width, Py_ssize_t n, const Py_ssize_t lanes,
        const EncodeSymbol *coding, const uint32_t *f, Py_ssize_t size, uint64_t *x,
        uint32_t *w, Py_ssize_t *at) {
    Py_ssize_t full = n / lanes;
    if (width == 1 && size == 256) {
        /* Byte symbols of a table of all 256: none is out of range, and one of frequency 0
         * (whose entry has limit 0: it sheds a word each time, never more than one a
         * step) is found after, without a branch a symbol. */
        uint64_t least = UINT64_MAX;  /* the least limit met */
        for (Py_ssize_t k = n - full * lanes - 1; k >= 0; k--) {
            const EncodeSymbol *e = &coding[in[full * lanes + k]];
            least = e->limit < least ? e->limit : least;
            x[k] = ans_step(x[k], e, w, at);
        }
        for (Py_ssize_t step = full - 1; step >= 0; step--) {
            const uint8_t *symbols = in + step * lanes;
            for (Py_ssize_t k = lanes - 1; k >= 0; k--) {
                const EncodeSymbol *e = &coding[symbols[k]];
                least = e->limit < least ? e->limit : least;
                x[k] = ans_step(x[k], e, w, at);
            }
        }
        return least != 0;
    }
    for (Py_ssize_t k = n - full * lanes - 1; k >= 0; k--) {  /* the last, partial step */
        uint32_t s = symbol_at(in, width, full * lanes + k);
        if (s >= (uint32_t)size || !f[s])
            return 0;
        x[k] = ans_step(x[k], &coding[s], w, at);
    }
    for (Py_ssize_t step = full - 1; step >= 0; step--) {
        for (Py_ssize_t k = lanes - 1; k >= 0; k--) {
            uint32_t s = symbol_at(in, width, step * lanes + k);
            if (s >= (uint32_t)size || !f[s])
                return 0;
            x[k] = ans_step(x[k], &coding[s], w, at);
        }
    }
    return 1;
}

PyObject *hk_ans_encode(PyObject *self, PyObject *args) {
    Py_buffer symbols, freqs, cumulative, states, words;
    int width, precision;
    Py_ssize_t lanes;
    if (!PyArg_ParseTuple(args, "y*iy*y*inw*w*", &symbols, &width, &freqs, &cumulative,
                          &precision, &lanes, &states, &words))
        return NULL;
    PyObject *result = NULL;
    EncodeSymbol *coding = NULL;
    if (!check_width(width) || !check_table(&freqs, &cumulative, precision))
        goto done;
    Py_ssize_t n = symbols.len / width, size = freqs.len / 4;
    if (lanes < 1 || (n && lanes > n)) {
        PyErr_SetString(PyExc_ValueError, "lanes must be 1 to the number of symbols");
        goto done;
    }
    if (!writable(&states, 8 * lanes, "states") || !writable(&words, 4 * n, "words"))
        goto done;
    coding = malloc(sizeof(EncodeSymbol) * (size_t)(size ? size : 1));
    if (!coding) {
        PyErr_NoMemory();
        goto done;
    }
    const uint32_t *f = freqs.buf, *c = cumulative.buf;
    for (Py_ssize_t s = 0; s < size; s++)
        prepare_symbol(&coding[s], f[s], c[s], precision);
    const uint8_t *in = symbols.buf;
    uint64_t *x = states.buf;
    uint32_t *w = words.buf;
    Py_ssize_t at = n;
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    /* Up to four lanes, a version of the loop for each count keeps the states in registers:
     * with one or two lanes, each step waits for the last, and memory would add to that. */
    uint64_t held[4];
    uint64_t *state = lanes <= 4 ? held : x;
    for (Py_ssize_t k = 0; k < lanes; k++)
        state[k] = ANS_LOWER;
    switch (lanes) {
    case 1: bad = !ans_encode_lanes(in, width, n, 1, coding, f, size, state, w, &at); break;
    case 2: bad = !ans_encode_lanes(in, width, n, 2, coding, f, size, state, w, &at); break;
    case 3: bad = !ans_encode_lanes(in, width, n, 3, coding, f, size, state, w, &at); break;
    case 4: bad = !ans_encode_lanes(in, width, n, 4, coding, f, size, state, w, &at); break;
    default: bad = !ans_encode_lanes(in, width, n, lanes, coding, f, size, state, w, &at);
    }
    if (state != x)
        memcpy(x, state, sizeof(uint64_t) * (size_t)lanes);
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "a symbol has no frequency in the table");
        goto done;
    }
    /* Move the words to the front of the buffer, where the caller expects them. */
    memmove(w, w + at, sizeof(uint32_t) * (size_t)(n - at));
    result = PyLong_FromSsize_t(n - at);
done:
    free(coding);
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    PyBuffer_Release(&states);
    PyBuffer_Release(&words);
    return result;
}

/*
 * ans_encode_pieces(symbols, ends, freqs, cumulative, precision, lanes, states, words,
 *                   counts) -> None
 *
 * Codes consecutive pieces of byte symbols (piece p ends at ends[p]) as ans_encode codes
 * each: piece p with row p of freqs and cumulative (256 uint32 each) on lanes[p] lanes.
 * Its final states go to states (the pieces' lanes one after another), its words to
 * words[start of p ...], counts[p] of them.  The output is ans_encode's, piece by piece.
 *
 * Why: a piece of low entropy gets one or two lanes (each lane costs bytes), and then
 * every step waits for the one before, so the core idles.  Here up to ENCODE_SLOTS pieces
 * of fewer than four lanes are coded at once, a symbol of each in turn, so their steps
 * overlap; a piece of four lanes or more is coded by itself.  A piece's own
 * symbols are still coded in the order ans_encode codes them (the last first), which is
 * all its words' order depends on.
 */
#define ENCODE_SLOTS 4

typedef struct {
    const uint8_t *in;            /* the piece's symbols */
    const EncodeSymbol *coding;   /* its table */
    const uint32_t *f;
    uint64_t *x;                  /* its lanes' states */
    uint32_t *w;                  /* its words, written backwards from w[at] */
    Py_ssize_t at, next, lane, lanes, piece;
} EncodeSlot;

/*
 * Codes the next `run` symbols of each of the `active` slots, a symbol of each in turn.
 * Returns 0 for a symbol without a frequency.  Inlined with a constant `active`, the slot
 * loop unrolls, and the slots' fields are copied to locals that the compiler can keep in
 * registers (through the struct, every store of a state might change them, as far as
 * it can tell).
 */
static inline __attribute__((always_inline)) int encode_slots(EncodeSlot *slot,
                                                              const int active,
                                                              Py_ssize_t run) {
    const uint8_t *in[ENCODE_SLOTS];
    const EncodeSymbol *coding[ENCODE_SLOTS];
    const uint32_t *f[ENCODE_SLOTS];
    uint64_t *x[ENCODE_SLOTS];
    uint32_t *w[ENCODE_SLOTS];
    Py_ssize_t at[ENCODE_SLOTS], next[ENCODE_SLOTS], lane[ENCODE_SLOTS], lanes[ENCODE_SLOTS];
    for (int a = 0; a < active; a++) {
        in[a] = slot[a].in;
        coding[a] = slot[a].coding;
        f[a] = slot[a].f;
        x[a] = slot[a].x;
        w[a] = slot[a].w;
        at[a] = slot[a].at;
        next[a] = slot[a].next;
        lane[a] = slot[a].lane;
        lanes[a] = slot[a].lanes;
    }
    unsigned missing = 0;
    for (Py_ssize_t r = 0; r < run; r++) {
        for (int a = 0; a < active; a++) {
            uint8_t s = in[a][next[a]--];
            missing |= !f[a][s];
            x[a][lane[a]] = ans_step(x[a][lane[a]], &coding[a][s], w[a], &at[a]);
            lane[a] = lane[a] ? lane[a] - 1 : lanes[a] - 1;
        }
    }
    for (int a = 0; a < active; a++) {
        slot[a].at = at[a];
        slot[a].next = next[a];
        slot[a].lane = lane[a];
    }
    return !missing;
}

PyObject *hk_ans_encode_pieces(PyObject *self, PyObject *args) {
    Py_buffer symbols, ends, freqs, cumulative, lanes, states, words, counts;
    int precision;
    if (!PyArg_ParseTuple(args, "y*y*y*y*iy*w*w*w*", &symbols, &ends, &freqs, &cumulative,
                          &precision, &lanes, &states, &words, &counts))
        return NULL;
    PyObject *result = NULL;
    EncodeSymbol *coding = NULL;
    Py_ssize_t pieces = ends.len / 8, n = symbols.len;
    const int64_t *end = ends.buf, *lane_count = lanes.buf;
    if (freqs.len != pieces * 1024 || cumulative.len != pieces * 1024 ||
        lanes.len != pieces * 8 || !writable(&counts, 8 * pieces, "counts") ||
        !writable(&words, 4 * n, "words"))
        goto bad_arguments;
    Py_ssize_t total_lanes = 0;
    for (Py_ssize_t p = 0; p < pieces; p++) {
        int64_t start = p ? end[p - 1] : 0;
        if (end[p] <= start || end[p] > n || lane_count[p] < 1 ||
            lane_count[p] > end[p] - start)
            goto bad_arguments;
        total_lanes += lane_count[p];
    }
    if ((pieces && end[pieces - 1] != n) || !writable(&states, 8 * total_lanes, "states"))
        goto bad_arguments;
    coding = malloc(sizeof(EncodeSymbol) * 256 * (size_t)(pieces ? pieces : 1));
    if (!coding) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t p = 0; p < pieces; p++) {
        Py_buffer row_f = freqs, row_c = cumulative;  /* the check reads buf and len only */
        row_f.buf = (uint32_t *)freqs.buf + 256 * p;
        row_c.buf = (uint32_t *)cumulative.buf + 256 * p;
        row_f.len = row_c.len = 1024;
        if (!check_table(&row_f, &row_c, precision))
            goto done;
        for (int s = 0; s < 256; s++)
            prepare_symbol(&coding[256 * p + s], ((uint32_t *)row_f.buf)[s],
                           ((uint32_t *)row_c.buf)[s], precision);
    }
    int bad = 0;
    Py_BEGIN_ALLOW_THREADS
    EncodeSlot slot[ENCODE_SLOTS];
    int active = 0;
    Py_ssize_t waiting = 0, first_lane = 0;
    uint64_t *x = states.buf;
    int64_t *count = counts.buf;
    for (;;) {
        /* Fill the free slots with the next pieces. */
        while (active < ENCODE_SLOTS && waiting < pieces) {
            Py_ssize_t p = waiting++, start = p ? end[p - 1] : 0, size = end[p] - start;
            if (lane_count[p] >= 4) {
                /* Lanes enough to keep the core busy: code the piece by itself, as
                 * ans_encode does, with four lanes' states in registers. */
                const uint8_t *in = (const uint8_t *)symbols.buf + start;
                uint32_t *w = (uint32_t *)words.buf + start;
                uint64_t held[4], *state = lane_count[p] == 4 ? held : x + first_lane;
                for (Py_ssize_t k = 0; k < lane_count[p]; k++)
                    state[k] = ANS_LOWER;
                Py_ssize_t at = size;
                const uint32_t *f = (const uint32_t *)freqs.buf + 256 * p;
                if (lane_count[p] == 4)
                    bad = !ans_encode_lanes(in, 1, size, 4, coding + 256 * p, f, 256, state,
                                            w, &at);
                else
                    bad = !ans_encode_lanes(in, 1, size, lane_count[p], coding + 256 * p, f,
                                            256, state, w, &at);
                if (bad)
                    goto finished;
                if (state == held)
                    memcpy(x + first_lane, held, sizeof held);
                memmove(w, w + at, sizeof(uint32_t) * (size_t)(size - at));
                count[p] = size - at;
                first_lane += lane_count[p];
                continue;
            }
            EncodeSlot *e = &slot[active++];
            e->in = (const uint8_t *)symbols.buf + start;
            e->coding = coding + 256 * p;
            e->f = (const uint32_t *)freqs.buf + 256 * p;
            e->x = x + first_lane;
            e->w = (uint32_t *)words.buf + start;
            e->at = size;
            e->next = size - 1;
            e->lanes = lane_count[p];
            e->lane = e->next % e->lanes;
            e->piece = p;
            for (Py_ssize_t k = 0; k < e->lanes; k++)
                e->x[k] = ANS_LOWER;
            first_lane += e->lanes;
        }
        if (!active)
            break;
        /* Code as many symbols of every active piece as the shortest has left. */
        Py_ssize_t run = slot[0].next + 1;
        for (int a = 1; a < active; a++)
            if (slot[a].next + 1 < run)
                run = slot[a].next + 1;
        switch (active) {
        case 1: bad = !encode_slots(slot, 1, run); break;
        case 2: bad = !encode_slots(slot, 2, run); break;
        case 3: bad = !encode_slots(slot, 3, run); break;
        default: bad = !encode_slots(slot, ENCODE_SLOTS, run);
        }
        if (bad)
            break;
        /* Finish the pieces that are done: their words to the front of their room. */
        for (int a = 0; a < active;) {
            EncodeSlot *e = &slot[a];
            if (e->next >= 0) {
                a++;
                continue;
            }
            Py_ssize_t size = (e->piece ? end[e->piece] - end[e->piece - 1] : end[0]);
            memmove(e->w, e->w + e->at, sizeof(uint32_t) * (size_t)(size - e->at));
            count[e->piece] = size - e->at;
            slot[a] = slot[--active];
        }
    }
finished:
    Py_END_ALLOW_THREADS
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "a symbol has no frequency in its piece's table");
        goto done;
    }
    result = Py_NewRef(Py_None);
    goto done;
bad_arguments:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "ends, freqs, cumulative, lanes and counts do not "
                        "describe pieces of the symbols");
done:
    free(coding);
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&freqs);
    PyBuffer_Release(&cumulative);
    PyBuffer_Release(&lanes);
    PyBuffer_Release(&states);
    PyBuffer_Release(&words);
    PyBuffer_Release(&counts);
    return result;
}
