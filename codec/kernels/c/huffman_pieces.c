/*
 * Split blocks: the blocks of many pieces, coded at once (FORMAT.md, section 16), as
 * stream.pieces.encode_pieces and stream.pieces.encode_split write them (encode_huffman_pieces,
 * encode_huffman_split): each piece's code and table planned, then its block written.
 */

#include "kernels.h"


/* -- a piece's code: Huffman's, or package-merge's within the limit ------------------- */

/*
 * Sorts n <= 256 keys (count << 8 | symbol, listed by increasing symbol) into increasing
 * order: a stable radix sort on the count, a byte at a time, as few passes as the largest
 * count needs.  A few hundred keys a block, so this beats comparison sorts by far.
 */
static void sort_keys(uint64_t *key, int n) {
    uint64_t largest = 0, spare[256];
    for (int i = 0; i < n; i++)
        largest = key[i] > largest ? key[i] : largest;
    uint64_t *from = key, *to = spare;
    for (int shift = 8; shift < 64 && (largest >> shift); shift += 8) {
        int start[257] = {0};
        for (int i = 0; i < n; i++)
            start[((from[i] >> shift) & 255) + 1]++;
        for (int d = 0; d < 256; d++)
            start[d + 1] += start[d];
        for (int i = 0; i < n; i++)
            to[start[(from[i] >> shift) & 255]++] = from[i];
        uint64_t *swap = from;
        from = to, to = swap;
    }
    if (from != key)
        memcpy(key, from, sizeof(uint64_t) * (size_t)n);
}

/*
 * Package-merge (codebook.limited_lengths_each) over n leaves of these sorted weights: at
 * each level above the leaves (level 0) the leaves are merged, a leaf first on a tie, with
 * the pairs of the level below, up to level `levels` - 1.  A level depends only on those
 * below it, so these lists serve every limit up to `levels`: the code limited to D takes
 * the 2n - 2 cheapest items of level D - 1 and expands them downwards (select_lengths).
 */
static void package_levels(const uint64_t *leaf, int n, int levels,
                           uint16_t leaves_before[][513], int *size) {
    uint64_t items[512], next[512];
    memcpy(items, leaf, sizeof(uint64_t) * (size_t)n);
    for (int k = 0; k <= n; k++)
        leaves_before[0][k] = (uint16_t)k;
    size[0] = n;
    for (int level = 1; level < levels; level++) {
        int packages = size[level - 1] / 2, leaves = 0, paired = 0, made = 0;
        leaves_before[level][0] = 0;
        /* A merge without a branch on the weights: each step takes a leaf or a package. */
        while (leaves < n && paired < packages) {
            uint64_t package = items[2 * paired] + items[2 * paired + 1];
            int take_leaf = leaf[leaves] <= package;
            next[made] = take_leaf ? leaf[leaves] : package;
            leaves += take_leaf;
            paired += !take_leaf;
            made++;
            leaves_before[level][made] = (uint16_t)leaves;
        }
        for (; leaves < n; made++) {
            next[made] = leaf[leaves++];
            leaves_before[level][made + 1] = (uint16_t)leaves;
        }
        for (; paired < packages; paired++, made++) {
            next[made] = items[2 * paired] + items[2 * paired + 1];
            leaves_before[level][made + 1] = (uint16_t)leaves;
        }
        memcpy(items, next, sizeof(uint64_t) * (size_t)made);
        size[level] = made;
    }
}

/* The lengths of the code limited to max_length (at most the levels built), in the leaves'
 * sorted order: each leaf's length is the number of levels that chose it, and the leaves a
 * level chooses are always the lightest ones.  Needs 2 < n <= 2^max_length. */
static void select_lengths(uint16_t leaves_before[][513], const int *size, int n,
                           int max_length, Py_ssize_t *length) {
    int levels_choosing[257] = {0};  /* how many levels chose exactly c leaves */
    int take = 2 * n - 2;
    for (int level = max_length - 1; level >= 0; level--) {
        int chosen = leaves_before[level][take < size[level] ? take : size[level]];
        levels_choosing[chosen]++;
        take = 2 * (take - chosen);
    }
    /* Leaf i is chosen by the levels that chose more than i leaves. */
    int more = 0;
    for (int i = n - 1; i >= 0; i--) {
        more += levels_choosing[i + 1];
        length[i] = more;
    }
}

/* How far below a piece's longest codeword its code's limit is tried, and below how many
 * symbols of data coded at once (FORMAT.md 16.3; stream.pieces.LIMITS_TRIED and
 * SEARCHED_BELOW). */
#define LIMITS_TRIED 4
#define SEARCHED_BELOW (1 << 16)

/*
 * The codes a piece of these counts of size <= 256 symbols may take, into codes[0 ..
 * returned): first the one codebook.optimal_lengths gives (Huffman's over the present
 * symbols ordered by (count, symbol), or package-merge's when a code would pass
 * max_length), then, with `tries`, package-merge's within each length from its longest
 * less one down to LIMITS_TRIED below it, but never fewer bits than the symbols need
 * (stream.pieces.own_code chooses among them).  Returns how many, or 0, with no code, when
 * max_length is impossible: more than 2^max_length symbols (the caller then lets the
 * reference say so).
 */
static int piece_codes(const int64_t *count, int size, int max_length, int tries,
                       uint8_t codes[][256]) {
    uint64_t key[256], weight[256];
    double leaf[256], merged[256];
    Py_ssize_t parent[512], depth[512];
    uint16_t leaves_before[LONGEST_CODE][513];  /* at each level, the leaves among the first k */
    int level_size[LONGEST_CODE];
    int n = 0;
    for (int s = 0; s < size; s++)
        if (count[s] > 0)
            key[n++] = (uint64_t)count[s] << 8 | (uint64_t)s;
    if (n > 2 && max_length < 31 && n > (1 << max_length))
        return 0;
    memset(codes[0], 0, (size_t)size);
    sort_keys(key, n);
    if (n <= 2) {
        for (int i = 0; i < n; i++)
            codes[0][key[i] & 255] = 1;
        return 1;
    }
    for (int i = 0; i < n; i++) {
        weight[i] = key[i] >> 8;
        leaf[i] = (double)weight[i];
    }
    hk_tree_depths(leaf, n, merged, parent, depth);
    Py_ssize_t longest = 0;
    for (int i = 0; i < n; i++)
        longest = depth[i] > longest ? depth[i] : longest;
    int least = 1;  /* the fewest bits n symbols need */
    while ((1 << least) < n)
        least++;
    if (longest > max_length) {  /* the limit binds: package-merge, its levels kept */
        package_levels(weight, n, max_length, leaves_before, level_size);
        select_lengths(leaves_before, level_size, n, max_length, depth);
        longest = 0;
        for (int i = 0; i < n; i++)
            longest = depth[i] > longest ? depth[i] : longest;
    } else if (tries && longest - 1 >= least) {
        package_levels(weight, n, (int)longest - 1, leaves_before, level_size);
    }
    for (int i = 0; i < n; i++)
        codes[0][key[i] & 255] = (uint8_t)depth[i];
    int made = 1;
    for (int limit = (int)longest - 1;
         tries && limit >= least && limit >= longest - LIMITS_TRIED; limit--, made++) {
        select_lengths(leaves_before, level_size, n, limit, depth);
        memset(codes[made], 0, (size_t)size);
        for (int i = 0; i < n; i++)
            codes[made][key[i] & 255] = (uint8_t)depth[i];
    }
    return made;
}

/*
 * The lengths codebook.optimal_lengths gives these counts of size <= 256 symbols: the
 * first of piece_codes.  Returns 0, with no lengths set, when max_length is impossible.
 */
static int code_lengths(const int64_t *count, int size, int max_length, uint8_t *length) {
    uint8_t codes[1][256];
    if (!piece_codes(count, size, max_length, 0, codes))
        return 0;
    memcpy(length, codes[0], (size_t)size);
    return 1;
}

static inline void store_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Version 2's sizes (FORMAT.md, section 17): LEB128 numbers in their shortest form. */
static inline int varint_size(uint64_t v) {
    int size = 1;
    while (v >= 0x80) {
        v >>= 7;
        size++;
    }
    return size;
}

static inline int put_varint(uint8_t *p, uint64_t v) {
    int size = 0;
    while (v >= 0x80) {
        p[size++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[size++] = (uint8_t)v;
    return size;
}

/* How one piece is coded: its block type, its table, and the code its symbols get. */
typedef struct {
    int kind;
    uint8_t length[256];  /* the piece's own code */
    const uint8_t *use;  /* the code its symbols get: length, or the previous piece's */
    uint8_t table[COMPACT_TABLE_MOST > PLAIN_TABLE_MOST ? COMPACT_TABLE_MOST : PLAIN_TABLE_MOST];
    Py_ssize_t table_size;
    uint64_t bits;  /* of all its streams */
    int streams;
} Piece;

/*
 * Plans a piece of n symbols with these counts as stream.pieces._encode_huffman_piece does:
 * its own code, with the smaller of the compact and the plain table, or the previous
 * piece's code (type 0x06) when that costs no more.  Returns 0 when a length limit
 * cannot be met.
 */
static int plan_piece(Piece *piece, const int64_t *count, Py_ssize_t n, int max_length,
                      const uint8_t *previous, int tries) {
    uint8_t codes[1 + LIMITS_TRIED][256];
    int candidates = piece_codes(count, 256, max_length, tries, codes);
    if (!candidates)
        return 0;
    /* Of the candidate codes, the one whose payload and smaller table take the fewest bits,
     * the first (the longest limit) on a tie. */
    uint64_t best = UINT64_MAX;
    for (int c = 0; c < candidates; c++) {
        const uint8_t *length = codes[c];
        int longest = 0, present = 0;
        uint64_t bits = 0;
        for (int s = 0; s < 256; s++) {
            longest = length[s] > longest ? length[s] : longest;
            present += length[s] != 0;
            bits += (uint64_t)count[s] * length[s];
        }
        Py_ssize_t plain_size = 33 + (present * hk_plain_width(longest) + 7) / 8;
        int kind = BLOCK_HUFFMAN;
        uint8_t table[sizeof piece->table];
        Py_ssize_t table_size = plain_size;
        if (longest <= LONGEST_COMPACT) {
            uint8_t symbols[256], extras[256], width[19];
            int64_t uses[19] = {0};
            int runs = hk_run_length(length, symbols, extras);
            for (int k = 0; k < runs; k++)
                uses[symbols[k]]++;
            code_lengths(uses, 19, 7, width);  /* at most 19 symbols: always within 7 bits */
            Py_ssize_t compact_size = hk_put_compact_table(length, width, table);
            if (compact_size < plain_size) {
                kind = BLOCK_HUFFMAN_COMPACT;
                table_size = compact_size;
            }
        }
        if (bits + 8 * (uint64_t)table_size >= best)
            continue;
        best = bits + 8 * (uint64_t)table_size;
        piece->kind = kind;
        memcpy(piece->length, length, 256);
        piece->table_size = kind == BLOCK_HUFFMAN_COMPACT
            ? (memcpy(piece->table, table, (size_t)table_size), table_size)
            : hk_put_plain_table(length, piece->table);
        piece->bits = bits;
    }
    piece->use = piece->length;
    uint64_t reuse_bits = 0;
    int reusable = previous != NULL;
    for (int s = 0; s < 256 && previous; s++) {
        reuse_bits += (uint64_t)count[s] * previous[s];
        reusable &= !(count[s] > 0 && previous[s] == 0);
    }
    if (reusable && reuse_bits <= piece->bits + 8 * (uint64_t)piece->table_size) {
        piece->kind = BLOCK_HUFFMAN_REUSE;
        piece->table_size = 0;
        piece->use = previous;
        piece->bits = reuse_bits;
    }
    piece->streams = n >= MIN_SYMBOLS_TO_SPLIT ? STREAMS_PER_BLOCK : 1;
    return 1;
}

/* The bytes of a block's symbol count in format version 2: none for the frame's last block
 * (BLOCK_LAST), which holds what the blocks before it leave of the frame's block size. */
static inline int count_size(Py_ssize_t n, int last) {
    return last ? 0 : varint_size((uint64_t)n);
}

/* Writes a planned piece's block, of format version 2: header, table, bit counts, streams
 * (their number follows from n); with `last`, as the frame's last block.  Returns its size;
 * sets *bad for a symbol its code does not cover. */
static Py_ssize_t put_piece(const Piece *piece, const uint8_t *in, Py_ssize_t n, uint32_t crc,
                            int last, uint8_t *out, int *bad) {
    uint64_t code[256], entry[256];
    assign_canonical(piece->use, 256, code);
    const int longest = byte_code_entries(code, piece->use, entry);
    uint8_t *at = out;
    if (last) {
        *at++ = (uint8_t)(piece->kind | BLOCK_LAST);
    } else {
        *at++ = (uint8_t)piece->kind;
        at += put_varint(at, (uint64_t)n);
    }
    store_le32(at, crc);
    memcpy(at + 4, piece->table, (size_t)piece->table_size);
    at += 4 + piece->table_size;
    /* The bit counts' sizes are known once the streams are coded: the streams go after
     * room for the longest counts, and then move up to the counts' end.  (A copy of the
     * payload, at memmove's speed, against a pass over the symbols to count each stream's
     * bits first.) */
    uint8_t *counts = at, *streams = at + 5 * piece->streams, *to = streams;
    Py_ssize_t per_stream = (n + piece->streams - 1) / piece->streams;
    for (int k = 0; k < piece->streams; k++) {
        Py_ssize_t start = k * per_stream < n ? k * per_stream : n;
        Py_ssize_t end = (k + 1) * per_stream < n ? (k + 1) * per_stream : n;
        uint64_t bits = put_byte_codes(in + start, end - start, entry, longest, to, bad);
        counts += put_varint(counts, bits);
        to += (bits + 7) / 8;
    }
    memmove(counts, streams, (size_t)(to - streams));
    return counts + (to - streams) - out;
}

/* Checks the arguments the pieces kernels share; sets an error and returns 0 if wrong. */
static int check_pieces(Py_buffer *ends, Py_buffer *counts, Py_ssize_t symbols,
                        int max_length) {
    Py_ssize_t pieces = ends->len / 8;
    const int64_t *end = ends->buf;
    if (pieces < 1 || ends->len % 8 || counts->len != pieces * 256 * 8 || end[pieces - 1] != symbols
            || max_length < 1 || max_length > LONGEST_CODE) {
        PyErr_SetString(PyExc_ValueError, "the pieces and counts do not match the symbols");
        return 0;
    }
    for (Py_ssize_t p = 0; p < pieces; p++) {
        if (end[p] <= (p ? end[p - 1] : 0)) {
            PyErr_SetString(PyExc_ValueError, "the pieces' ends must increase");
            return 0;
        }
    }
    return 1;
}

/*
 * Plans each piece as plan_piece does, into plans[0 .. pieces): a piece that reuses a code
 * points at the plan that carries it.  Returns 0 when a length limit cannot be met.
 */
static int plan_pieces(Piece *plans, const int64_t *count, const int64_t *end,
                       Py_ssize_t pieces, int max_length, int tries) {
    const uint8_t *previous = NULL;  /* the code of the last piece with a table of its own */
    for (Py_ssize_t p = 0; p < pieces; p++) {
        if (!plan_piece(&plans[p], count + 256 * p, end[p] - (p ? end[p - 1] : 0), max_length,
                        previous, tries))
            return 0;
        if (plans[p].kind != BLOCK_HUFFMAN_REUSE)
            previous = plans[p].length;
    }
    return 1;
}

/* The least and most bytes planned pieces take: exact for a block of one stream; for one
 * of several, but for the padding of its last three streams and the sizes of their bit
 * counts (each a byte at least, the longest as long as a share of the bits needs, and none
 * longer than all of them need). */
static void pieces_size(const Piece *plans, Py_ssize_t pieces, const int64_t *end, int last,
                        Py_ssize_t *least, Py_ssize_t *most) {
    *least = *most = 0;
    for (Py_ssize_t p = 0; p < pieces; p++) {
        const Piece *piece = &plans[p];
        int streams = piece->streams;
        uint64_t bits = piece->bits, n = (uint64_t)(end[p] - (p ? end[p - 1] : 0));
        Py_ssize_t size = 1 + count_size((Py_ssize_t)n, last && p == pieces - 1) + 4
                          + piece->table_size
                          + (Py_ssize_t)((bits + 7) / 8);
        if (streams == 1) {
            *least += size + varint_size(bits);
            *most += size + varint_size(bits);
        } else {
            *least += size + streams - 1 + varint_size((bits + streams - 1) / streams);
            *most += size + streams * varint_size(bits) + streams - 1;
        }
    }
}

/* Writes planned pieces; returns the bytes written, and sets *bad as put_piece does. */
static Py_ssize_t put_pieces(const Piece *plans, Py_ssize_t pieces, const uint8_t *in,
                             const int64_t *end, const uint32_t *crc, int last,
                             uint8_t *out, int *bad) {
    Py_ssize_t written = 0;
    for (Py_ssize_t p = 0; p < pieces && !*bad; p++) {
        Py_ssize_t start = p ? end[p - 1] : 0;
        written += put_piece(&plans[p], in + start, end[p] - start, crc[p],
                             last && p == pieces - 1, out + written, bad);
    }
    return written;
}

/* The bytes the pieces kernels may write: codes of max_length bits, and each piece's most
 * overhead; twice the codes when the whole block may be written after the pieces. */
static Py_ssize_t pieces_room(Py_ssize_t symbols, Py_ssize_t pieces, int max_length,
                              int with_whole) {
    return (1 + with_whole) * (symbols * max_length / 8 + PIECE_OVERHEAD) + pieces * PIECE_OVERHEAD
           + 16;
}

/*
 * encode_huffman_pieces(symbols, ends, counts, crcs, max_length, last, out) -> bytes
 * written, or None: the blocks of consecutive pieces of byte symbols, ending at ends
 * (int64), with these counts (256 int64 a piece) and CRC-32s (uint32 a piece), as
 * stream.pieces.encode_pieces writes them (with `last` true, the last of them as the
 * frame's last block, which stores no symbol count).  None when a piece's code cannot meet max_length:
 * the reference then says why.
 *
 * encode_huffman_split(symbols, ends, counts, crcs, whole_crc, max_length, last, out) -> bytes
 * written, -1, or None: stream.pieces.encode_split's choice between those pieces and the whole
 * as one block (with the CRC-32 whole_crc), each planned once: the pieces when their size
 * is surely smaller, the whole when surely not, else whichever the coding shows smaller.
 * With whole_crc -1 it returns -1 instead of writing anything when the whole may win, for
 * the caller to find the whole's CRC-32 and call again.
 */
static PyObject *encode_pieces_or_whole(PyObject *args, int split) {
    Py_buffer symbols, ends, counts, crcs, out;
    long long whole_crc = -1;
    int max_length, last, parsed;
    if (split)
        parsed = PyArg_ParseTuple(args, "y*y*y*y*Lipw*", &symbols, &ends, &counts, &crcs,
                                  &whole_crc, &max_length, &last, &out);
    else
        parsed = PyArg_ParseTuple(args, "y*y*y*y*ipw*", &symbols, &ends, &counts, &crcs,
                                  &max_length, &last, &out);
    if (!parsed)
        return NULL;
    PyObject *result = NULL;
    Piece *plans = NULL;
    Py_ssize_t pieces = ends.len / 8, n = symbols.len;
    const int64_t *end = ends.buf;
    if (!check_pieces(&ends, &counts, n, max_length))
        goto done;
    if (crcs.len != pieces * 4) {
        PyErr_SetString(PyExc_ValueError, "each piece needs a CRC-32");
        goto done;
    }
    if (!writable(&out, pieces_room(n, pieces, max_length, split), "the output buffer"))
        goto done;
    /* The pieces' plans, then (when splitting) the whole's. */
    if (!(plans = malloc(sizeof(Piece) * (size_t)(pieces + split)))) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t written = 0;
    int ok = 1, bad = 0;
    Py_BEGIN_ALLOW_THREADS
    const uint8_t *in = symbols.buf;
    uint8_t *to = out.buf;
    ok = plan_pieces(plans, counts.buf, end, pieces, max_length, n < SEARCHED_BELOW);
    if (ok && split) {
        Piece *whole = &plans[pieces];
        int64_t total[256] = {0};
        for (Py_ssize_t p = 0; p < pieces; p++)
            for (int v = 0; v < 256; v++)
                total[v] += ((const int64_t *)counts.buf)[256 * p + v];
        ok = plan_piece(whole, total, n, max_length, NULL, n < SEARCHED_BELOW);
        Py_ssize_t least, most, whole_least, whole_most;
        const int64_t whole_end = n;
        pieces_size(plans, pieces, end, last, &least, &most);
        pieces_size(whole, 1, &whole_end, last, &whole_least, &whole_most);
        uint32_t crc = (uint32_t)whole_crc;
        if (!ok) {
            written = 0;  /* a length limit cannot be met: the reference says so */
        } else if (most < whole_least) {
            written = put_pieces(plans, pieces, in, end, crcs.buf, last, to, &bad);
        } else if (whole_crc < 0) {
            written = -1;  /* the whole may win: its CRC-32 is needed */
        } else if (least >= whole_most) {
            written = put_piece(whole, in, n, crc, last, to, &bad);
        } else {  /* code both, the whole after the pieces, and keep the smaller */
            written = put_pieces(plans, pieces, in, end, crcs.buf, last, to, &bad);
            Py_ssize_t alone = put_piece(whole, in, n, crc, last, to + written, &bad);
            if (alone <= written) {
                memmove(to, to + written, (size_t)alone);
                written = alone;
            }
        }
    } else if (ok) {
        written = put_pieces(plans, pieces, in, end, crcs.buf, last, to, &bad);
    }
    Py_END_ALLOW_THREADS
    if (bad)
        PyErr_SetString(PyExc_ValueError, "a symbol has no code: the counts are wrong");
    else
        result = ok ? PyLong_FromSsize_t(written) : Py_NewRef(Py_None);
done:
    free(plans);
    PyBuffer_Release(&symbols);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&counts);
    PyBuffer_Release(&crcs);
    PyBuffer_Release(&out);
    return result;
}

PyObject *hk_encode_huffman_pieces(PyObject *self, PyObject *args) {
    return encode_pieces_or_whole(args, 0);
}

PyObject *hk_encode_huffman_split(PyObject *self, PyObject *args) {
    return encode_pieces_or_whole(args, 1);
}
