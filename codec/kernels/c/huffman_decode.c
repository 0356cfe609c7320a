/*
 * Huffman decoding: a canonical code's lookup tables (hk_build_decoder), the fast loop over a
 * block's streams side by side, the careful loop that finishes each stream and says what is
 * wrong with a damaged one, and the kernel that decodes one block's streams
 * (huffman_decode).  The run decoder (huffman_runs.c) decodes small blocks with the same
 * tables and loops.
 */

#include "kernels.h"

/* (TABLE_BITS, PAIRS_SLACK, HIT_OFFSET and DECODER_ROOM are in kernels.h.) */

void hk_free_decoder(Decoder *d) {
    free(d->table);
    if (!d->lent)
    free(d->pairs);
    free(d->sorted);
}

/*
 * The pairs table (byte symbols), filled straight from the canonical code: the codes of at
 * most `bits` bits tile the table's first entries in canonical order, each over
 * 2^(bits - l) of them, and within the entries of a first code of length l1 the second
 * codes of at most bits - l1 bits tile a prefix the same way; the rest of its entries hold
 * the first symbol alone.  So each entry is written once, with no branch on the data (it
 * used to be found entry by entry from a table of single codes: 70% of building a
 * decoder, and a third of decoding kennedy.xls's small blocks).  The Kraft sum, at most 1,
 * keeps every span inside the table.
 */
/* Entries p[0 .. n) set to v, four at a time: up to 3 past them are written too, which the
 * next fill (the table is filled in order) or the table's slack (PAIRS_SLACK) takes.  A
 * loop of single stores over spans of mostly 1 or 2 entries took half of a table's time. */
static inline void fill_four(uint32_t *p, uint32_t v, uint32_t n) {
    for (uint32_t e = 0; e < n; e += 4) {
        p[e] = v;
        p[e + 1] = v;
        p[e + 2] = v;
        p[e + 3] = v;
    }
}

static void fill_pairs(Decoder *d) {
    const unsigned bits = d->bits;
    const uint32_t entries = (uint32_t)1 << bits;
    uint32_t *const pairs = d->pairs;
    uint32_t fits[LONGEST_CODE + 1];  /* how many codes have at most r bits */
    uint8_t len[256];  /* the lengths of the first of them, in canonical order */
    fits[0] = 0;
    for (unsigned r = 1; r <= bits; r++) {
        fits[r] = fits[r - 1] + d->count[r];
        for (uint32_t j = fits[r - 1]; j < fits[r] && j < 256; j++)
            len[j] = (uint8_t)r;
    }
    uint32_t at = 0;
    for (unsigned l1 = 1; l1 <= bits; l1++) {
        const unsigned rest = bits - l1;
        for (uint32_t k = 0; k < d->count[l1]; k++) {
            const uint32_t s1 = d->sorted[d->offset[l1] + k];
            const uint32_t end = at + ((uint32_t)1 << rest);
            const uint32_t first = 1u << 30 | l1 << 24 | s1 << 8;
            for (uint32_t j = 0; j < fits[rest]; j++) {
                const uint32_t pair = (first + (1u << 30)) | d->sorted[j] << 16 | (l1 + len[j]);
                const uint32_t span = (uint32_t)1 << (rest - len[j]);
                fill_four(pairs + at, pair, span);
                at += span;
            }
            /* One symbol: it stands in both places, so that marking both marks only it. */
            fill_four(pairs + at, first | s1 << 16 | l1, end - at);
            at = end;
        }
    }
    fill_four(pairs + at, 0, entries - at);  /* a longer code, or none */
}

/*
 * Returns 0 on success, -1 if the lengths are no prefix code (the caller has validated
 * them; this check only keeps the tables inside their bounds), -2 without memory.  With
 * `pairs` (byte symbols: at most 256) it builds the pairs table and its hit marks, else the
 * table of single codes.
 */
/* hk_build_decoder; with byte symbols and `room` (DECODER_ROOM bytes), the pairs table and
 * its hit marks go there rather than to an allocation of their own. */
static int build_decoder(Decoder *d, const uint8_t *length, Py_ssize_t size, int pairs,
                         Py_ssize_t symbols, uint32_t *room) {
    uint32_t *count = d->count;
    unsigned longest = 0;
    Py_ssize_t coded = 0;
    memset(count, 0, sizeof d->count);
    d->table = NULL;
    d->pairs = NULL;
    d->hit = NULL;
    d->sorted = NULL;
    d->lent = 0;
    if (pairs && size > 256)
        return -1;
    for (Py_ssize_t s = 0; s < size; s++) {
        if (length[s] > LONGEST_CODE)
            return -1;
        if (length[s]) {
            count[length[s]]++;
            coded++;
            if (length[s] > longest)
                longest = length[s];
        }
    }
    uint64_t kraft = 0;  /* the Kraft sum, in units of 2^-LONGEST_CODE */
    for (unsigned l = 1; l <= LONGEST_CODE; l++)
        kraft += (uint64_t)count[l] << (LONGEST_CODE - l);
    if (!coded || kraft > ((uint64_t)1 << LONGEST_CODE))
        return -1;
    d->longest = longest;
    /* Filling the table costs 2^bits steps: a block of few symbols gets a smaller one
     * (about an entry for every eight symbols, at least 2^9), its longer codes then taking
     * the slow path. */
    unsigned bits = 9;
    while (bits < TABLE_BITS && ((Py_ssize_t)1 << (bits + 3)) < symbols)
        bits++;
    d->bits = longest < bits ? longest : bits;
    const size_t entries = (size_t)1 << d->bits;
    d->sorted = malloc(sizeof(uint32_t) * coded);
    if (pairs) {
        /* The pairs, their slack, then a byte per entry for the fast loop to mark
         * (hk_codes_all_decoded). */
        d->lent = room != NULL;
        d->pairs = room ? room : malloc(HIT_OFFSET + entries);
        if (d->pairs) {
            d->hit = (uint8_t *)d->pairs + HIT_OFFSET;
            memset(d->hit, 0, entries);
        }
    } else {
        d->table = calloc(entries, sizeof(uint32_t));
    }
    if (!d->sorted || !(d->table || d->pairs))
        return -2;
    uint32_t code = 0, index = 0;  /* count[0] is 0, so the first length starts at code 0 */
    for (unsigned l = 1; l <= LONGEST_CODE; l++) {
        code = (code + count[l - 1]) << 1;
        d->first[l] = code;
        d->offset[l] = index;
        index += count[l];
    }
    /* Canonical order: by length, then by symbol value. */
    uint32_t next[LONGEST_CODE + 1];
    memcpy(next, d->offset, sizeof next);
    for (Py_ssize_t s = 0; s < size; s++)
        if (length[s])
            d->sorted[next[length[s]]++] = (uint32_t)s;
    if (pairs) {
        fill_pairs(d);
        return 0;
    }
    /* Fill the table: each code of at most `bits` bits covers 2^(bits - l) entries. */
    for (unsigned l = 1; l <= d->bits; l++) {
        for (uint32_t k = 0; k < count[l]; k++) {
            uint32_t symbol = d->sorted[d->offset[l] + k];
            uint32_t start = (d->first[l] + k) << (d->bits - l);
            uint32_t span = (uint32_t)1 << (d->bits - l);
            for (uint32_t e = 0; e < span; e++)
                d->table[start + e] = symbol << 8 | l;
        }
    }
    return 0;
}

int hk_build_decoder(Decoder *d, const uint8_t *length, Py_ssize_t size, int pairs,
                     Py_ssize_t symbols) {
    return build_decoder(d, length, size, pairs, symbols, NULL);
}

/* A decoder of byte symbols (256 lengths) whose pairs table lies in `room`, DECODER_ROOM
 * bytes that outlive it. */
int hk_build_decoder_in(Decoder *d, const uint8_t *length, Py_ssize_t symbols,
                        uint32_t *room) {
    return build_decoder(d, length, 256, 1, symbols, room);
}

/* Whether any of the n entries from `start` was decoded through. */
static inline int any_hit(const uint8_t *hit, uint32_t start, uint32_t n) {
    for (uint32_t e = 0; e < n; e++)
        if (hit[start + e])
            return 1;
    return 0;
}

/*
 * Whether every byte value the code codes was decoded: marked in seen (by the careful loop
 * and the slow path), or the first symbol of an entry the fast loop marked in d->hit, or
 * the second of a pair entry it marked.  A value's entries as a first symbol are one range
 * of the table, and as a second one a range inside each shorter first code's: so a value
 * is found by looking at its own entries, and at once, nearly always, at the first one
 * marked.  (Turning every marked entry into its values cost more than the marking: a
 * fifth of a block's decoding in bible.txt, 4,096 entries a block.)
 */
int hk_codes_all_decoded(const Decoder *d, const uint8_t *seen) {
    const unsigned bits = d->bits;
    for (unsigned l = 1; l <= d->longest; l++) {
        for (uint32_t k = 0; k < d->count[l]; k++) {
            const uint32_t s = d->sorted[d->offset[l] + k];
            if (seen[s])
                continue;
            if (l > bits)
                return 0;  /* a long code is decoded by the slow path, which marks seen */
            const uint32_t code = d->first[l] + k;
            if (any_hit(d->hit, code << (bits - l), (uint32_t)1 << (bits - l)))
                continue;
            int found = 0;
            for (unsigned l1 = 1; l1 + l <= bits && !found; l1++) {
                const unsigned rest = bits - l1;
                for (uint32_t k1 = 0; k1 < d->count[l1] && !found; k1++) {
                    const uint32_t start = (d->first[l1] + k1) << rest | code << (rest - l);
                    found = any_hit(d->hit, start, (uint32_t)1 << (rest - l));
                }
            }
            if (!found)
                return 0;
        }
    }
    return 1;
}

/* The slow path: a code longer than the table's bits, or no code at all (returns 0). */
static inline unsigned decode_long(const Decoder *d, uint64_t window, uint32_t *symbol) {
    uint32_t top = (uint32_t)(window >> 32);
    for (unsigned l = d->bits + 1; l <= d->longest; l++) {
        uint32_t rank = (top >> (32 - l)) - d->first[l];  /* wraps around below first[l] */
        if (rank < d->count[l]) {
            *symbol = d->sorted[d->offset[l] + rank];
            return l;
        }
    }
    return 0;
}

static inline __attribute__((always_inline)) void put_symbol(uint8_t *out, Py_ssize_t i,
                                                              uint32_t symbol, const int width) {
    if (width == 1)
        out[i] = (uint8_t)symbol;
    else
        memcpy(out + 4 * i, &symbol, 4);
}

/* Two decoded bytes at once, the first at out[0]: one store rather than two. */
static inline __attribute__((always_inline)) void put_two(uint8_t *out, uint32_t two) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint16_t both = (uint16_t)two;
    memcpy(out, &both, 2);
#else
    out[0] = (uint8_t)two;
    out[1] = (uint8_t)(two >> 8);
#endif
}

/*
 * decode_fast for byte symbols: each lookup gives one or two of them (two whenever both
 * codes fit in the bits looked up, as they mostly do in text), so the chain of dependent
 * lookups is about half as long.  Both bytes are always stored; the second is overwritten
 * when only one was decoded, which is why a stream needs 2 * lookups symbols left.
 *
 * Each round loads 64 bits per stream (56 of them usable: see HK_LANE_LOAD) and makes
 * 56 / bits lookups, each taking at most `bits` bits through the table.  A code longer
 * than that (the slow path, rare) loads the window again before and after it, so that
 * the round's guarantee holds whatever its length: the rounds are not cut to 56 / longest
 * lookups for codes that seldom occur (bible.txt's blocks, with 15-bit codes and a 12-bit
 * table, made 3 lookups a round rather than 4).  A round takes at most 6 lookups of at
 * most 31 bits when there are longer codes (their tables have 9 bits or more), else 56
 * bits: it starts inside the stream, so every load stays within its STREAM_PADDING_BYTES.
 *
 * The byte values decoded are marked by the table entry they came from (d->hit: one
 * store a lookup rather than two; hk_codes_all_decoded reads them once a block), those of the
 * slow path in the cursor's seen.
 *
 * Stream k is decoded with code d[k]: the streams of one block share a code, and a run
 * decodes the one stream of each of several small blocks side by side, each with its own
 * (their lookups would otherwise wait on each other).  It stops when any stream nears its
 * end.  Inlined with a constant n and one code repeated, the code's fields are read once.
 */
static inline __attribute__((always_inline)) void decode_fast_pairs_with(
        const Decoder *const *d, Cursor *c, const int n, const unsigned fixed,
        const int together) {
    /* Each stream's state lives in locals, the streams unrolled by hand (a loop over them,
     * gcc kept rolled, with every window and position on the stack), and the output goes
     * through restrict pointers, so a byte stored does not make the compiler read the
     * cursors and tables again.  The cursors are written back once, at the end. */
    unsigned lookups = fixed ? 56 / fixed : 64;
    for (int k = 0; k < n && !fixed; k++) {
        unsigned each = 56 / d[k]->bits;
        lookups = each < lookups ? each : lookups;
    }
    const Py_ssize_t need = 2 * (Py_ssize_t)lookups;
#define HK_LANE_STATE(k)                                                                    \
    /* Not restrict: the hit marks are written through it, and streams share it. */         \
    /* Together: the tables lie DECODER_ROOM bytes apart, reached from the first's          \
     * address by a constant offset in each load (gcc kept an address each in memory). */   \
    uint32_t *const pairs##k = n > k ? d[together ? 0 : k]->pairs : NULL;                   \
    const size_t from##k = together ? k * (DECODER_ROOM / 4) : 0;                           \
    const unsigned shift##k = n > k ? 64 - (fixed ? fixed : d[k]->bits) : 0;                \
    const uint8_t *const restrict buf##k = n > k ? c[k].buf : NULL;                         \
    const uint64_t bits##k = n > k ? c[k].bits : 0;                                         \
    uint64_t p##k = n > k ? c[k].p : 0;                                                     \
    uint8_t *restrict out##k = n > k ? c[k].out + c[k].i : NULL;                            \
    uint8_t *const end##k = n > k ? c[k].out + c[k].count : NULL;                           \
    int failed##k = n > k ? c[k].failed : 0;                                                \
    uint8_t *const seen##k = n > k ? c[k].seen : NULL;                                      \
    uint64_t window##k = 0;
    HK_LANE_STATE(0)
    HK_LANE_STATE(1)
    HK_LANE_STATE(2)
    HK_LANE_STATE(3)
#undef HK_LANE_STATE
#define HK_LANE_STOPS(k) \
    (n > k && (end##k - out##k < need || p##k > bits##k || failed##k))
/* The window's lowest bit loaded is replaced by a marker, 1, which the shifts move up with
 * the bits used: where the stream stands is then told by the marker's place, and the
 * position needs no update at each lookup (it was spilled to the stack with 4 lanes).
 * So 56 bits are usable, 63 - (p & 7) of them, and the marker is never shifted out. */
#define HK_LANE_LOAD(k) \
    if (n > k)            \
        window##k = (load_be64(buf##k + (p##k >> 3)) | 1) << (p##k & 7);
#define HK_LANE_TELL(k) \
    if (n > k)            \
        p##k = (p##k & ~(uint64_t)7) + (uint64_t)__builtin_ctzll(window##k);
#define HK_LANE_STEP(k)                                                                     \
    if (n > k) {                                                                            \
        const uint64_t index = window##k >> shift##k;                                       \
        const uint32_t entry = pairs##k[from##k + index];                                   \
        const unsigned used = entry & 0xFF;                                                 \
        if (__builtin_expect(used != 0, 1)) {                                               \
            put_two(out##k, entry >> 8);                                                    \
            ((uint8_t *)pairs##k)[HIT_OFFSET + 4 * from##k + index] = 1;  /* d->hit */      \
            out##k += entry >> 30;                                                          \
            window##k <<= used;                                                             \
        } else {                                                                            \
            uint32_t symbol = 0;                                                            \
            HK_LANE_TELL(k)                                                                 \
            HK_LANE_LOAD(k)                                                                 \
            unsigned length = decode_long(d[k], window##k, &symbol);                        \
            if (!length) {                                                                  \
                failed##k = 1;                                                              \
                length = 1;  /* keep going harmlessly; the careful loop reports it */       \
            }                                                                               \
            *out##k++ = (uint8_t)symbol;                                                    \
            seen##k[(uint8_t)symbol] = 1;                                                   \
            p##k += length;                                                                 \
            HK_LANE_LOAD(k)                                                                 \
        }                                                                                   \
    }
    for (;;) {
        if (HK_LANE_STOPS(0) || HK_LANE_STOPS(1) || HK_LANE_STOPS(2) || HK_LANE_STOPS(3))
            break;
        HK_LANE_LOAD(0)
        HK_LANE_LOAD(1)
        HK_LANE_LOAD(2)
        HK_LANE_LOAD(3)
        for (unsigned r = 0; r < lookups; r++) {
            HK_LANE_STEP(0)
            HK_LANE_STEP(1)
            HK_LANE_STEP(2)
            HK_LANE_STEP(3)
        }
        HK_LANE_TELL(0)
        HK_LANE_TELL(1)
        HK_LANE_TELL(2)
        HK_LANE_TELL(3)
    }
#undef HK_LANE_STOPS
#undef HK_LANE_LOAD
#undef HK_LANE_STEP
#undef HK_LANE_TELL
#define HK_LANE_SAVE(k)                      \
    if (n > k) {                             \
        c[k].p = p##k;                       \
        c[k].i = out##k - c[k].out;          \
        c[k].failed = failed##k;             \
    }
    HK_LANE_SAVE(0)
    HK_LANE_SAVE(1)
    HK_LANE_SAVE(2)
    HK_LANE_SAVE(3)
#undef HK_LANE_SAVE
}

/* decode_fast_pairs_with, the n streams of one block and its code d.  Tables of TABLE_BITS
 * (those of every block of some size whose codes reach that long) get a loop of their own,
 * with the table's shift and the lookups a round as constants: the shift is then no
 * register to hold or move (without BMI2, through CL) at each lookup, and the round is
 * unrolled. */
static inline __attribute__((always_inline)) void decode_fast_pairs(const Decoder *d, Cursor *c,
                                                                     const int n) {
    const Decoder *const same[4] = {d, d, d, d};
    if (d->bits == TABLE_BITS)
        decode_fast_pairs_with(same, c, n, TABLE_BITS, 0);
    else
        decode_fast_pairs_with(same, c, n, 0, 0);
}

/*
 * The fast loop, over `n` streams at once (the CPU overlaps their independent chains of
 * table lookups).  Each round loads 64 bits per stream and decodes `per_load` codes from
 * them; it checks only that each stream's position is inside the stream before its load,
 * which keeps every load inside the buffer.  It stops as soon as a stream has fewer than
 * `per_load` symbols left or has run past its end; the careful loop finishes from there.
 */
static inline __attribute__((always_inline)) void decode_fast(const Decoder *d, Cursor *c,
                                                               const int n, const int width) {
    const unsigned shift = 64 - d->bits;
    const unsigned per_load = 57 / d->longest;
    const uint32_t *table = d->table;
    if (width == 1) {
        decode_fast_pairs(d, c, n);
        return;
    }
    for (;;) {
        for (int k = 0; k < n; k++)
            if (c[k].count - c[k].i < (Py_ssize_t)per_load || c[k].p > c[k].bits || c[k].failed)
                return;
        uint64_t window[4];
        for (int k = 0; k < n; k++)
            window[k] = load_be64(c[k].buf + (c[k].p >> 3)) << (c[k].p & 7);
        for (unsigned r = 0; r < per_load; r++) {
            for (int k = 0; k < n; k++) {
                uint32_t entry = table[window[k] >> shift];
                unsigned len = entry & 0xFF;
                uint32_t symbol = entry >> 8;
                if (__builtin_expect(!len, 0)) {
                    len = decode_long(d, window[k], &symbol);
                    if (!len) {
                        c[k].failed = 1;
                        len = 1;  /* keep going harmlessly; the careful loop reports it */
                    }
                }
                put_symbol(c[k].out, c[k].i++, symbol, width);
                c[k].p += len;
                window[k] <<= len;
            }
        }
    }
}

/* One code at the top of the window, by the table the width uses (a byte decoder has only
 * the pairs table: the first code of an entry, its length in bits 10 to 15); 0 if none. */
static inline __attribute__((always_inline)) unsigned decode_one(const Decoder *d,
                                                                 uint64_t window,
                                                                 const int width,
                                                                 uint32_t *symbol) {
    unsigned len;
    if (width == 1) {
        uint32_t entry = d->pairs[window >> (64 - d->bits)];
        len = (entry >> 24) & 0x3F;
        *symbol = (entry >> 8) & 0xFF;
    } else {
        uint32_t entry = d->table[window >> (64 - d->bits)];
        len = entry & 0xFF;
        *symbol = entry >> 8;
    }
    return len ? len : decode_long(d, window, symbol);
}

/*
 * The careful loop: decode the rest of one stream, checking each code against the end of
 * the stream, and tell exactly what is wrong, as the numpy backend words it.  On failure
 * *decodable is the number of whole codewords the stream holds (STREAM_SHORT, _LONG).
 */
static int decode_careful(const Decoder *d, Cursor *c, const int width, Py_ssize_t *decodable) {
    uint64_t p = c->p;
    for (Py_ssize_t i = c->i; i < c->count; i++) {
        uint64_t window = load_be64(c->buf + (p >> 3)) << (p & 7);
        uint32_t symbol;
        unsigned len = decode_one(d, window, width, &symbol);
        if (!len) {
            *decodable = i;
            return STREAM_MIDDLE;  /* a bit string that begins no codeword */
        }
        if (p + len > c->bits) {
            *decodable = i;
            return p == c->bits ? STREAM_SHORT : STREAM_MIDDLE;
        }
        put_symbol(c->out, i, symbol, width);
        if (width == 1)
            c->seen[(uint8_t)symbol] = 1;
        p += len;
    }
    if (p == c->bits)
        return STREAM_OK;
    /* Count the codewords the rest holds, as the numpy backend would report them. */
    Py_ssize_t extra = 0;
    while (p < c->bits) {
        uint64_t window = load_be64(c->buf + (p >> 3)) << (p & 7);
        uint32_t symbol;
        unsigned len = decode_one(d, window, width, &symbol);
        if (!len || p + len > c->bits)
            return STREAM_MIDDLE;
        p += len;
        extra++;
    }
    *decodable = c->count + extra;
    return STREAM_LONG;
}

/* After the fast loop: each stream's padding, then the careful loop from where the fast
 * one stopped (or from the start, to say what is wrong). */
static int finish_streams(const Decoder *d, Cursor *c, Py_ssize_t streams, const int width,
                          Py_ssize_t *decodable, Py_ssize_t *expected) {
    for (Py_ssize_t k = 0; k < streams; k++) {
        Py_ssize_t size = (Py_ssize_t)((c[k].bits + 7) / 8);
        unsigned spare = (unsigned)(8 * size - c[k].bits);
        if (spare && (c[k].buf[size - 1] & ((1u << spare) - 1)))
            return STREAM_PADDING;
        if (c[k].failed || c[k].p > c[k].bits) {  /* decode it again, to say what is wrong */
            c[k].i = 0;
            c[k].p = 0;
        }
        *expected = c[k].count;
        int status = decode_careful(d, c + k, width, decodable);
        if (status != STREAM_OK)
            return status;
    }
    return STREAM_OK;
}

/* Decode every stream: the fast loop where it can, then the careful one, stream by stream. */
static int decode_streams(const Decoder *d, Cursor *c, Py_ssize_t streams, const int width,
                          Py_ssize_t *decodable, Py_ssize_t *expected) {
    if (streams == 4)
        decode_fast(d, c, 4, width);
    else
        for (Py_ssize_t k = 0; k < streams; k++)
            decode_fast(d, c + k, 1, width);
    return finish_streams(d, c, streams, width, decodable, expected);
}

/* decode_streams for byte symbols, for the run decoder: the width stays a constant here. */
int hk_decode_byte_streams(const Decoder *d, Cursor *c, Py_ssize_t streams,
                           Py_ssize_t *decodable, Py_ssize_t *expected) {
    return decode_streams(d, c, streams, 1, decodable, expected);
}

/* decode_fast_pairs_with, for the run decoder: the one stream of each of n small blocks
 * (1 to 4), each with its own code, side by side.  It stops when any stream nears its end;
 * hk_decode_byte_streams then finishes each. */
void hk_decode_side_by_side(const Decoder *const *d, Cursor *c, int n) {
    /* A constant n for each: the lanes beyond it, and their checks, compile away; and a
     * constant table size where they share TABLE_BITS, as decode_fast_pairs has.  Four
     * tables of TABLE_BITS that lie DECODER_ROOM apart (hk_build_decoder_in) are reached
     * from one register: with a pointer each, the fast loop had more values than x86-64
     * has registers, and moved windows and output pointers to the stack and back at each
     * lookup (clang 14; gcc 12 reloaded the tables' pointers). */
    int fixed = 1, together = 1;
            for (int k = 0; k < n; k++) {
        fixed &= d[k]->bits == TABLE_BITS;
        together &= d[k]->lent && (uintptr_t)d[k]->pairs ==
                                      (uintptr_t)d[0]->pairs + (uintptr_t)k * DECODER_ROOM;
    }
    if (n == 2 && fixed)
        decode_fast_pairs_with(d, c, 2, TABLE_BITS, 0);
    else if (n == 2)
        decode_fast_pairs_with(d, c, 2, 0, 0);
    else if (n == 3 && fixed)
        decode_fast_pairs_with(d, c, 3, TABLE_BITS, 0);
    else if (n == 3)
        decode_fast_pairs_with(d, c, 3, 0, 0);
    else if (n == 4 && fixed && together)
        decode_fast_pairs_with(d, c, 4, TABLE_BITS, 1);
    else if (n == 4 && fixed)
        decode_fast_pairs_with(d, c, 4, TABLE_BITS, 0);
    else if (n == 4)
        decode_fast_pairs_with(d, c, 4, 0, 0);
    else
        decode_fast_pairs(d[0], c, 1);
}

PyObject *hk_huffman_decode(PyObject *self, PyObject *args) {
    Py_buffer streams, lengths;
    PyObject *bit_list;
    Py_ssize_t count;
    int width;
    if (!PyArg_ParseTuple(args, "y*O!ny*i", &streams, &PyTuple_Type, &bit_list, &count,
                          &lengths, &width))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    Decoder decoder = {0};
    uint8_t *padded = NULL;
    Py_ssize_t stream_count = PyTuple_GET_SIZE(bit_list);
    Cursor cursors[16];
    Py_ssize_t offsets[17];
    uint8_t seen[256];  /* the byte values decoded: unused here (the caller counts them) */
    if (!check_width(width))
        goto done;
    if (stream_count < 1 || stream_count > 16 || count < 0) {
        PyErr_SetString(PyExc_ValueError, "1 to 16 streams, and a count of symbols, are needed");
        goto done;
    }
    offsets[0] = 0;
    for (Py_ssize_t k = 0; k < stream_count; k++) {
        unsigned long long value = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(bit_list, k));
        if (PyErr_Occurred())
            goto done;
        /* More bits than the buffer holds would wrap the byte count below around. */
        if (value > 8 * (unsigned long long)streams.len) {
            PyErr_SetString(PyExc_ValueError, "the streams' bit counts do not match their bytes");
            goto done;
        }
        cursors[k].bits = value;
        offsets[k + 1] = offsets[k] + (Py_ssize_t)((value + 7) / 8);
    }
    if (offsets[stream_count] != streams.len) {
        PyErr_SetString(PyExc_ValueError, "the streams' bit counts do not match their bytes");
        goto done;
    }
    if (width == 1 && lengths.len > 256) {
        PyErr_SetString(PyExc_ValueError, "byte output needs a code of at most 256 symbols");
        goto done;
    }
    /* The lookup table keeps a symbol in 24 bits (entry = symbol << 8 | length). */
    if (lengths.len > ((Py_ssize_t)1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "a code has at most 2**24 symbols");
        goto done;
    }
    if (count > PY_SSIZE_T_MAX / 4) {  /* count * width must not overflow */
        PyErr_SetString(PyExc_ValueError, "the count of symbols is too large");
        goto done;
    }
    decoded = PyBytes_FromStringAndSize(NULL, count * width);
    if (!decoded)
        goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(decoded);
    int built = hk_build_decoder(&decoder, lengths.buf, lengths.len, width == 1, count);
    if (built == -2) {
        PyErr_NoMemory();
        goto done;
    }
    if (built) {
        PyErr_SetString(PyExc_ValueError, "the code lengths are not a code");
        goto done;
    }
    padded = malloc((size_t)streams.len + STREAM_PADDING_BYTES * (size_t)stream_count);
    if (!padded) {
        PyErr_NoMemory();
        goto done;
    }
    int status;
    Py_ssize_t decodable = 0, expected = 0;
    const Py_ssize_t per_stream = (count + stream_count - 1) / stream_count;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < stream_count; k++) {
        Py_ssize_t size = offsets[k + 1] - offsets[k];
        uint8_t *buf = padded + offsets[k] + STREAM_PADDING_BYTES * k;
        memcpy(buf, (const uint8_t *)streams.buf + offsets[k], (size_t)size);
        memset(buf + size, 0, STREAM_PADDING_BYTES);
        Py_ssize_t start = k * per_stream < count ? k * per_stream : count;
        Py_ssize_t end = (k + 1) * per_stream < count ? (k + 1) * per_stream : count;
        cursors[k].buf = buf;
        cursors[k].p = 0;
        cursors[k].i = 0;
        cursors[k].count = end - start;
        cursors[k].out = out + start * width;
        cursors[k].failed = 0;
        cursors[k].seen = seen;
    }
    if (width == 1)
        status = decode_streams(&decoder, cursors, stream_count, 1, &decodable, &expected);
    else
        status = decode_streams(&decoder, cursors, stream_count, 4, &decodable, &expected);
    Py_END_ALLOW_THREADS
    switch (status) {
    case STREAM_OK:
        result = decoded;
        decoded = NULL;
        break;
    case STREAM_PADDING:
        PyErr_SetString(PyExc_ValueError, "padding bits after the end of a stream are not zero");
        break;
    case STREAM_MIDDLE:
        PyErr_SetString(PyExc_ValueError, "a stream ends in the middle of a codeword or holds a "
                                          "bit string that is not a codeword");
        break;
    default:
        PyErr_Format(PyExc_ValueError, "a stream decodes to %zd symbols, but its header says %zd",
                     decodable, expected);
    }
done:
    Py_XDECREF(decoded);
    free(padded);
    hk_free_decoder(&decoder);
    PyBuffer_Release(&streams);
    PyBuffer_Release(&lengths);
    return result;
}
