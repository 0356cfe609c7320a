/*
 * huffkit's compiled kernels: the hot loops of codec/kernels/reference/ (the numpy reference
 * backend), in C.  Each function does the same work as its numpy counterpart and gives
 * bit-identical results; the test suite checks that on both backends.
 *
 * The Python wrappers in codec/kernels/compiled.py pass contiguous arrays in; the decoders
 * return their symbols as a new bytes object (1 or 4 bytes each), and the encoders write
 * into arrays the wrappers allocate.  So the kernels need no numpy headers: they only read
 * and write buffers, and they release the GIL while they do.  Every index they take from
 * their inputs is checked, so a damaged or hostile block cannot make them read or write
 * outside their buffers.
 *
 *   count_bytes(data, counts)                       histogram of a byte string
 *   huffman_encode(symbols, width, codes, lengths, out) -> bits
 *   count_distinct_bytes(data) -> how many distinct byte values it holds
 *   join(parts, threads) -> b"".join(parts), the copying shared among threads
 *   huffman_decode(streams, stream_bits, count, lengths, width) -> symbols (bytes)
 *   ans_encode(symbols, width, freqs, cumulative, precision, lanes, states, words) -> words
 *   ans_encode_pieces(...): ans_encode of consecutive pieces, their steps overlapping
 *   decode_huffman_run(...): a run of a byte frame's compact and reuse blocks, decoded
 *   ans_decode(words, states, count, freqs, cumulative, precision, width) -> symbols
 *   crc32(data, value=0) -> zlib.crc32(data, value)
 *   probability_encode / probability_decode: one rANS state, a frequency row a symbol
 *
 * Symbols are 1-byte (width 1: bytes) or 4-byte (width 4: positions in a block's list of
 * symbols) unsigned integers.  Bit strings are MSB first, as FORMAT.md section 1 says.
 *
 * They make one extension module, huffkit._ckernels, from these sources:
 *
 *   module.c          the module and its method table
 *   count.c           byte histograms: of a buffer, of its cells, distinct bytes
 *   huffman_codes.c   Huffman code lengths (the depths of Huffman's tree), canonical codes
 *   code_tables.c     code tables: the plain one, and the compact one written and read
 *   huffman_encode.c  Huffman encoding of symbols
 *   huffman_decode.c  Huffman decoding: the lookup tables, the fast and careful loops
 *   huffman_runs.c    runs of small Huffman blocks of a frame, decoded in one call
 *   huffman_pieces.c  split blocks: the Huffman blocks of many pieces, coded at once, each
 *                     piece's code within a limit (package-merge), its table, its block
 *   rans_tables.c     rANS frequency tables: quantised, planned for pieces, read (v2)
 *   rans_encode.c     rANS encoding, of a block and of many pieces at once
 *   rans_decode.c     rANS decoding
 *   probability_coder.c  rANS with a frequency row a symbol (bring your own model)
 *   varints.c         LEB128 numbers
 *   splitter.c        block splitting: merging cells into segments
 *   join.c            b"".join, on threads
 *   crc32.c           CRC-32 (zlib's): folded by carry-less multiplication, or by tables
 *
 * This header holds what they share: the format's constants, small helpers (static inline,
 * so that a hot loop calling one from another source loses nothing by the split), the
 * Huffman decoder's structures, and the functions one source calls in another.  Those are
 * named hk_* and hidden, so that the module exports PyInit__ckernels alone; everything else
 * is static to its source.
 */

#ifndef HUFFKIT_KERNELS_H
#define HUFFKIT_KERNELS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A function one source gives the others.  Hidden: outside the module it does not exist,
 * and inside it is called directly and may be inlined (gcc does neither for a global
 * function of a shared library, which another library could replace). */
#if defined(__GNUC__) && !defined(_WIN32)
#define HK_SHARED __attribute__((visibility("hidden")))
#else
#define HK_SHARED
#endif

/* The longest code the format allows (FORMAT.md, rule C1). */
#define LONGEST_CODE 31
/* rANS: states live in [2^32, 2^64); words are 32 bits. */
#define ANS_LOWER ((uint64_t)1 << 32)
/* rANS decode uses a slot -> symbol table up to this precision, a binary search above. */
#define ANS_TABLE_PRECISION 18

/* Block types and sizes of FORMAT.md sections 5 and 16. */
#define BLOCK_HUFFMAN 0x01
#define BLOCK_HUFFMAN_COMPACT 0x05
#define BLOCK_HUFFMAN_REUSE 0x06
/* Version 2 (section 17.1): a block type with this bit is the frame's last block, which
 * holds what the blocks before it leave of the frame's block_size and stores no count. */
#define BLOCK_LAST 0x80
/* A Huffman block of at least this many symbols has STREAMS_PER_BLOCK streams, else one, as
 * codec/format/layout.py says: in version 2 a rule, for the count is not stored. */
#define MIN_SYMBOLS_TO_SPLIT (1 << 16)
#define STREAMS_PER_BLOCK 4
#define LONGEST_COMPACT 15
#define PLAIN_TABLE_MOST (1 + 32 + (256 * 5 + 7) / 8)
/* The most bytes a compact table takes: 4 + 19 * 3 bits, then at most 256 run-length
 * symbols of at most 7 + 7 bits each. */
#define COMPACT_TABLE_MOST ((4 + 19 * 3 + 256 * 14 + 7) / 8)
/* The most bytes a piece takes beside its codes: header (type, a LEB128 symbol count of at
 * most 4 bytes, CRC: 9), a plain table (the compact one is used only when smaller), stream
 * count and bit counts (1 + 4 LEB128 numbers of at most 5 bytes), and each stream's last
 * byte (4).  (Format version 2; version 1's fixed-width fields took less but for the
 * counts, 1 + 16.) */
#define PIECE_OVERHEAD (9 + PLAIN_TABLE_MOST + 21 + 4)

/* -- small helpers -------------------------------------------------------------------- */

static inline uint64_t load_be64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

static inline void store_be64(uint8_t *p, uint64_t v) {
    v = __builtin_bswap64(v);
    memcpy(p, &v, 8);
}

static inline uint32_t load_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * A LEB128 number at buf[*at] of at most `longest` bytes, in its shortest form (version 2
 * gives every value one encoding): 1 and the value, *at moved past it; 0 when the buffer
 * ends first or the number breaks a rule, for the reference to say which.
 */
static inline int hk_read_varint(const uint8_t *buf, Py_ssize_t len, Py_ssize_t *at,
                                 int longest, uint64_t *value) {
    uint64_t v = 0;
    for (int k = 0; k < longest; k++) {
        if (*at + k >= len)
            return 0;
        uint8_t byte = buf[*at + k];
        v |= (uint64_t)(byte & 0x7F) << (7 * k);
        if (!(byte & 0x80)) {
            if (byte == 0 && k)
                return 0;  /* not the shortest form */
            *at += k + 1;
            *value = v;
            return 1;
        }
    }
    return 0;
}

static inline uint32_t symbol_at(const uint8_t *symbols, int width, Py_ssize_t i) {
    if (width == 1)
        return symbols[i];
    uint32_t v;
    memcpy(&v, symbols + 4 * i, 4);
    return v;
}

static inline int check_width(int width) {
    if (width != 1 && width != 4) {
        PyErr_Format(PyExc_ValueError, "symbol width must be 1 or 4 bytes, not %d", width);
        return 0;
    }
    return 1;
}

static inline int writable(Py_buffer *view, Py_ssize_t need, const char *what) {
    if (view->len < need) {
        PyErr_Format(PyExc_ValueError, "%s holds %zd bytes; %zd are needed", what, view->len,
                     need);
        return 0;
    }
    return 1;
}

/* The arguments of a rANS frequency table, checked: freqs and cumulative, u32 arrays of one
 * size, cumulative the running sum of freqs, and freqs summing to 2**precision.  Static
 * inline: clang inlined it into ans_encode_pieces when the kernels were one file, and
 * called in another source it left that kernel 6% slower (ptt5, compressed with rANS). */
static inline int check_table(Py_buffer *freqs, Py_buffer *cumulative, int precision) {
    if (precision < 1 || precision > 24) {
        PyErr_SetString(PyExc_ValueError, "precision must be 1 to 24 bits");
        return 0;
    }
    if (freqs->len != cumulative->len || freqs->len % 4) {
        PyErr_SetString(PyExc_ValueError, "freqs and cumulative must be u32 arrays of one size");
        return 0;
    }
    const uint32_t *f = freqs->buf, *c = cumulative->buf;
    Py_ssize_t size = freqs->len / 4;
    uint64_t total = 0;
    for (Py_ssize_t s = 0; s < size; s++) {
        if (c[s] != total) {
            PyErr_SetString(PyExc_ValueError, "cumulative is not the running sum of freqs");
            return 0;
        }
        total += f[s];
    }
    if (total != ((uint64_t)1 << precision)) {
        PyErr_SetString(PyExc_ValueError, "the frequencies do not sum to 2**precision");
        return 0;
    }
    return 1;
}

/* -- Huffman encoding: codewords, and codes to bits ----------------------------------- */

/* Both static inline, as when the kernels were one file, so that the sources using them
 * inline them: the pieces encoder wrote its codes 2 to 3% slower when it called
 * assign_canonical in another source. */

/* Each symbol's canonical codeword (FORMAT.md, section 7), in order of (length, symbol); 0
 * for a symbol without a code.  Every length is at most LONGEST_CODE. */
static inline void assign_canonical(const uint8_t *length, Py_ssize_t size, uint64_t *code) {
    uint64_t count[LONGEST_CODE + 2] = {0}, next[LONGEST_CODE + 2] = {0};
    for (Py_ssize_t s = 0; s < size; s++)
        count[length[s]]++;
    count[0] = 0;
    uint64_t value = 0;
    for (int l = 1; l <= LONGEST_CODE; l++) {
        value = (value + count[l - 1]) << 1;
        next[l] = value;
    }
    for (Py_ssize_t s = 0; s < size; s++)
        code[s] = length[s] ? next[length[s]]++ : 0;
}

/*
 * The bits waiting to be written sit at the top of a 64-bit word, `pending` of them.
 * After each code is added, the whole bytes among them are stored (a big-endian store of
 * all 8 bytes; the bytes past the whole ones are rewritten by the next store), so no
 * branch depends on the data.  With codes of at most 31 bits, at most 7 + 31 bits wait.
 * Writes up to 8 bytes past the last whole one; sets *bad for a symbol without a code.
 */
static inline uint64_t put_codes(const uint8_t *in, int width, Py_ssize_t n,
                                 const uint64_t *code, const uint8_t *length, Py_ssize_t size,
                                 uint8_t *dst, int *bad) {
    uint64_t acc = 0, total_bits = 0;
    unsigned pending = 0, missing = 0;
    uint8_t *at = dst;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t s = symbol_at(in, width, i);
        if (s >= (uint32_t)size) {
            *bad = 1;
            break;
        }
        unsigned len = length[s];
        missing |= len == 0;  /* a symbol without a code: the caller's counts were wrong */
        acc |= len ? code[s] << (64 - pending - len) : 0;
        pending += len;
        store_be64(at, acc);
        unsigned whole = pending >> 3;  /* at most 4, so the shift below stays under 64 */
        at += whole;
        acc <<= 8 * whole;
        pending &= 7;
        total_bits += len;
    }
    *bad |= (int)missing;
    return total_bits;
}

/*
 * Byte symbols to their codewords, MSB first, as put_codes writes them: entry[v]
 * is v's code << 32 | its length, or MISSING_CODE for a byte without one (the caller's
 * counts were wrong: *bad is set).  Codes of at most 18 bits go three to a store: after a
 * store at most 7 bits wait, and three more codes fill at most 61.  (put_codes, one store a
 * code and a test for a missing code, took 31 instructions a byte, most of compressing
 * bible.txt.)
 * Writes up to 8 bytes past the last byte it counts, as put_codes does; returns the bits.
 */
#define MISSING_CODE ((uint64_t)1 << 8 | 1)  /* one bit (so every shift is defined), flagged */
static inline uint64_t put_byte_codes(const uint8_t *restrict in, Py_ssize_t n,
                               const uint64_t *restrict entry, int longest,
                               uint8_t *restrict dst, int *bad) {
    uint64_t acc = 0, seen = 0;
    unsigned pending = 0;  /* bits in acc, from its top */
    uint8_t *at = dst;
    Py_ssize_t i = 0;
#define PUT_CODE(v) do {                                                   \
        const uint64_t e_ = entry[v];                                      \
        seen |= e_;                                                        \
        pending += (unsigned)(e_ & 0x3F);                                  \
        acc |= (e_ >> 32) << (64 - pending);                               \
    } while (0)
#define STORE_WHOLE_BYTES() do {                                           \
        store_be64(at, acc);                                               \
        at += pending >> 3;                                                \
        acc <<= pending & ~7u;  /* at most 56 */                           \
        pending &= 7;                                                      \
    } while (0)
    if (longest <= 18)
        for (; i + 3 <= n; i += 3) {
            PUT_CODE(in[i]);
            PUT_CODE(in[i + 1]);
            PUT_CODE(in[i + 2]);
            STORE_WHOLE_BYTES();
        }
    for (; i < n; i++) {
        PUT_CODE(in[i]);
        STORE_WHOLE_BYTES();
    }
#undef PUT_CODE
#undef STORE_WHOLE_BYTES
    *bad |= (int)(seen >> 8 & 1);
    return 8 * (uint64_t)(at - dst) + pending;
}

/* The entries put_byte_codes reads, from 256 codes and their lengths; returns the longest. */
static inline int byte_code_entries(const uint64_t *code, const uint8_t *length,
                                    uint64_t *entry) {
    int longest = 0;
    for (int v = 0; v < 256; v++) {
        entry[v] = length[v] ? code[v] << 32 | length[v] : MISSING_CODE;
        longest = length[v] > longest ? length[v] : longest;
    }
    return longest;
}

/* -- the Huffman decoder (huffman_decode.c) ------------------------------------------- */

/*
 * A canonical code, ready to decode, through one of two tables of 2^bits entries (bits is
 * TABLE_BITS, or fewer when no code is that long or the block is small), indexed by the
 * next `bits` bits.  A code longer than `bits`, or none, has entry 0: the slow path then
 * tries each longer length l, since the codes of length l are the l-bit numbers first[l] ..
 * first[l] + count[l] - 1.
 */
typedef struct {
    unsigned bits;
    unsigned longest;
    int lent;  /* pairs lies in the caller's room (hk_build_decoder_in): not freed here */
    /* Symbols of 4 bytes: (symbol << 8 | length). */
    uint32_t *table;
    /* Byte symbols: one or two of them, two when both codes fit: (symbols << 30 | first's
     * length << 24 | second << 16 | first << 8 | bits used).  One symbol stands in both
     * places.  The fast loop stores entry >> 8 as two bytes, and moves on by entry >> 30. */
    uint32_t *pairs;
    /* With pairs: a byte per entry, set by the fast loop when it decodes through it (in the
     * same allocation as pairs, HIT_OFFSET bytes after it; hk_codes_all_decoded reads the
     * marks). */
    uint8_t *hit;
    uint32_t count[LONGEST_CODE + 1];  /* how many codes have length l */
    uint32_t first[LONGEST_CODE + 1];  /* the first code of length l */
    uint32_t offset[LONGEST_CODE + 1];  /* its index among the symbols in canonical order */
    uint32_t *sorted;  /* the symbols in canonical order: by length, then value */
} Decoder;

/* Bits looked up at once by the decoder's table: 2^12 entries of 4 bytes fit in L1. */
#define TABLE_BITS 12
/* Entries after the pairs table that fill_four may write. */
#define PAIRS_SLACK 4
/* Where a decoder's hit marks begin, in bytes from its pairs table: the same for every
 * table, so that the fast loop reaches them from the table's address, with no pointer of
 * their own to hold (with 4 lanes of 4 decoders, those went to the stack). */
#define HIT_OFFSET (sizeof(uint32_t) * (((size_t)1 << TABLE_BITS) + PAIRS_SLACK))
/* The room a byte decoder's pairs table and hit marks take at most (hk_build_decoder_in):
 * the decoders of a run's blocks side by side lie this far apart in one allocation, so
 * that the fast loop reaches all their tables from one register. */
#define DECODER_ROOM (HIT_OFFSET + ((size_t)1 << TABLE_BITS))

enum { STREAM_OK = 0, STREAM_MIDDLE = 1, STREAM_SHORT = 2, STREAM_LONG = 3, STREAM_PADDING = 4 };

/* Bytes readable after each stream (zeros, or whatever follows it in the buffer): the fast
 * loop's loads reach up to 31 bytes past its end (decode_fast_pairs_with says why). */
#define STREAM_PADDING_BYTES 32

/* Where the decoding of one stream stands. */
typedef struct {
    const uint8_t *buf;  /* the stream, followed by STREAM_PADDING_BYTES zero bytes */
    uint64_t p;  /* bits read */
    uint64_t bits;  /* the stream's length in bits */
    Py_ssize_t i;  /* symbols decoded */
    Py_ssize_t count;  /* symbols it holds */
    uint8_t *out;  /* where its symbols go */
    int failed;  /* the fast loop met a bit string that begins no codeword */
    /* Byte symbols: seen[v] is set to 1 for each byte value v decoded by the careful loop or
     * the slow path (256 bytes, shared by the streams of a block; the fast loop marks its
     * decoder's hit instead, and hk_codes_all_decoded reads both), so that a run need not
     * read its blocks again to learn which values they hold.  Where the fast loop stopped early, or
     * went past a stream's end (which then fails), it may have marked more; a block that
     * decodes marks exactly its values.  Unused for 4-byte symbols. */
    uint8_t *seen;
} Cursor;

HK_SHARED int hk_build_decoder(Decoder *d, const uint8_t *length, Py_ssize_t size, int pairs,
                               Py_ssize_t symbols);
HK_SHARED int hk_build_decoder_in(Decoder *d, const uint8_t *length, Py_ssize_t symbols,
                                  uint32_t *room);
HK_SHARED void hk_free_decoder(Decoder *d);
HK_SHARED int hk_codes_all_decoded(const Decoder *d, const uint8_t *seen);
HK_SHARED int hk_decode_byte_streams(const Decoder *d, Cursor *c, Py_ssize_t streams,
                                     Py_ssize_t *decodable, Py_ssize_t *expected);
HK_SHARED void hk_decode_side_by_side(const Decoder *const *d, Cursor *c, int n);

/* -- what each source gives the others ------------------------------------------------ */

/* The kernels, which module.c lists under their names without hk_, and the helpers that
 * other sources call. */

/* count.c */
HK_SHARED PyObject *hk_count_bytes(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_count_cells(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_count_distinct_bytes(PyObject *self, PyObject *args);

/* huffman_codes.c */
HK_SHARED PyObject *hk_huffman_depths(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_canonical_codes(PyObject *self, PyObject *args);
HK_SHARED void hk_tree_depths(const double *leaf, Py_ssize_t n, double *merged,
                              Py_ssize_t *parent, Py_ssize_t *depth);

/* code_tables.c */
HK_SHARED PyObject *hk_compact_symbol_counts(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_write_compact_table(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_parse_compact_table(PyObject *self, PyObject *args);
HK_SHARED int hk_run_length(const uint8_t *lengths, uint8_t *symbols, uint8_t *extras);
HK_SHARED Py_ssize_t hk_put_compact_table(const uint8_t *lengths, const uint8_t *width,
                                          uint8_t *out);
HK_SHARED Py_ssize_t hk_read_compact(const uint8_t *buf, Py_ssize_t len, uint8_t *lengths);
HK_SHARED int hk_plain_width(int longest);
HK_SHARED Py_ssize_t hk_put_plain_table(const uint8_t *length, uint8_t *out);

/* huffman_encode.c */
HK_SHARED PyObject *hk_huffman_encode(PyObject *self, PyObject *args);

/* huffman_decode.c: the kernel; the decoder's functions are above */
HK_SHARED PyObject *hk_huffman_decode(PyObject *self, PyObject *args);

/* huffman_runs.c */
HK_SHARED PyObject *hk_decode_huffman_run(PyObject *self, PyObject *args);

/* huffman_pieces.c */
HK_SHARED PyObject *hk_encode_huffman_pieces(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_encode_huffman_split(PyObject *self, PyObject *args);

/* rans_tables.c */
HK_SHARED PyObject *hk_quantize_counts(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_plan_ans_pieces(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_read_compact_frequencies(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_write_compact_frequencies(PyObject *self, PyObject *args);
HK_SHARED Py_ssize_t hk_read_byte_frequencies(const uint8_t *buf, Py_ssize_t len,
                                              uint32_t *freq, int *precision);

/* rans_encode.c */
HK_SHARED PyObject *hk_ans_encode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_ans_encode_pieces(PyObject *self, PyObject *args);

/* rans_decode.c */
HK_SHARED PyObject *hk_ans_decode(PyObject *self, PyObject *args);
HK_SHARED size_t hk_ans_scratch_size(int precision);
HK_SHARED int hk_ans_decode_bytes(uint64_t *x, Py_ssize_t lanes, Py_ssize_t count,
                                  const uint32_t *f, const uint32_t *c, Py_ssize_t size,
                                  int precision, const uint8_t *w, Py_ssize_t word_count,
                                  uint8_t *dst, uint8_t *seen, void *scratch);

/* rans_runs.c */
HK_SHARED PyObject *hk_decode_ans_run(PyObject *self, PyObject *args);

/* sequential.c */
HK_SHARED PyObject *hk_sequential_encode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_sequential_decode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_sequential_costs(PyObject *self, PyObject *args);

/* static_model.c */
HK_SHARED PyObject *hk_static_encode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_static_decode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_static_costs(PyObject *self, PyObject *args);
/* context_mixing.c */
HK_SHARED PyObject *hk_cm_encode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_cm_decode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_cm_costs(PyObject *self, PyObject *args);
HK_SHARED size_t hk_cm_memory(void);
/* probability_coder.c */
HK_SHARED PyObject *hk_probability_encode(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_probability_decode(PyObject *self, PyObject *args);

/* varints.c */
HK_SHARED PyObject *hk_pack_varints(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_parse_varints(PyObject *self, PyObject *args);

/* splitter.c */
HK_SHARED PyObject *hk_merge_cells(PyObject *self, PyObject *args);

/* join.c */
HK_SHARED PyObject *hk_join(PyObject *self, PyObject *args);

/* crc32.c: hk_crc32_init fills the tables and asks the CPU, once, as the module loads */
HK_SHARED PyObject *hk_crc32(PyObject *self, PyObject *args);
HK_SHARED PyObject *hk_crc32_method(PyObject *self, PyObject *args);
HK_SHARED void hk_crc32_init(void);
HK_SHARED uint32_t hk_crc32_update(uint32_t crc, const uint8_t *p, size_t n);

#endif
