/*
 * A coverage-guided fuzzer (libFuzzer) for the decoders of the C kernels (codec/kernels/c/),
 * whose sources it includes whole, as one translation unit, so that it can call their
 * static functions too: the kernels are called as Python calls them, through their
 * PyCFunction entry points with Python objects, in an embedded interpreter.
 *
 *   tests/native/fuzz.sh [SECONDS] [-- LIBFUZZER FLAGS]     builds it with clang and runs it
 *
 * Most inputs are not streams but recipes: the first byte picks a mode, and the rest steers
 * a generator that writes valid-looking input for a kernel (long runs of compact and reuse
 * blocks, codes of one symbol to 256 symbols and lengths up to 15 or 31 bits, rANS tables
 * of every precision from 1 to 24 and skewed frequencies, thousands of blocks on one
 * table), then maybe damages it (byte edits, truncation).  A recipe that runs out reads
 * zeros, so a short one still makes a long run.  Undamaged input must decode to exactly
 * what was coded, damaged input may fail only with the ValueError the kernels document:
 * anything else (a sanitizer report, a wrong result, another exception) aborts.  The raw
 * modes hand the bytes to a kernel as they are.  FUZZ_VERBOSE=1 describes each generated
 * run, to read a finding by.
 */
/* Every source of the module, as pyproject.toml lists them. */
#include "../../codec/kernels/c/module.c"
#include "../../codec/kernels/c/count.c"
#include "../../codec/kernels/c/huffman_codes.c"
#include "../../codec/kernels/c/code_tables.c"
#include "../../codec/kernels/c/huffman_encode.c"
#include "../../codec/kernels/c/huffman_decode.c"
#include "../../codec/kernels/c/huffman_runs.c"
#include "../../codec/kernels/c/huffman_pieces.c"
#include "../../codec/kernels/c/rans_tables.c"
#include "../../codec/kernels/c/rans_encode.c"
#include "../../codec/kernels/c/rans_decode.c"
#include "../../codec/kernels/c/rans_runs.c"
#include "../../codec/kernels/c/sequential.c"
#include "../../codec/kernels/c/static_model.c"
#include "../../codec/kernels/c/context_mixing.c"
#include "../../codec/kernels/c/probability_coder.c"
#include "../../codec/kernels/c/varints.c"
#include "../../codec/kernels/c/splitter.c"
#include "../../codec/kernels/c/join.c"
#include "../../codec/kernels/c/crc32.c"

/* -- reading the recipe ---------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t n;
} Recipe;

static unsigned take(Recipe *r) {
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static unsigned take16(Recipe *r) {
    unsigned low = take(r);
    return low | take(r) << 8;
}

/* A number in [0, limit), 0 when limit is 0. */
static unsigned pick(Recipe *r, unsigned limit) {
    if (!limit)
        return 0;
    unsigned v = take16(r);
    return limit > 65536 ? (v | take16(r) << 16) % limit : v % limit;
}

/* -- calling the kernels as Python does ------------------------------------------------ */

/* Calls a kernel; NULL means it raised.  Only ValueError is documented: anything else is a
 * finding.  `must` says the arguments are valid, so it must not raise at all. */
static PyObject *call(PyCFunction kernel, PyObject *args, int must, const char *what) {
    if (!args) {
        PyErr_Print();
        abort();
    }
    PyObject *result = kernel(NULL, args);
    Py_DECREF(args);
    if (!result) {
        if (must || !PyErr_ExceptionMatches(PyExc_ValueError)) {
            fprintf(stderr, "%s raised on %s input:\n", what, must ? "valid" : "this");
            PyErr_Print();
            abort();
        }
        PyErr_Clear();
    }
    return result;
}

static void expect(int condition, const char *what) {
    if (!condition) {
        fprintf(stderr, "wrong result: %s\n", what);
        abort();
    }
}

/* -- generating codes and tables --------------------------------------------------------- */

/*
 * A complete prefix code over `symbols` (1 or more) of the values 0 .. size-1, no length
 * above `longest`, its shape steered by the recipe: grown from the root by splitting
 * leaves, the deepest (skewed: lengths up to `longest`), the shallowest (flat), or any.
 * One symbol gets the one-symbol code (length 1).  Returns how many symbols it coded, and
 * lists them in `coded`.
 */
static int make_code(Recipe *r, uint8_t *length, Py_ssize_t size, int symbols, int longest,
                     uint32_t *coded) {
    static uint8_t leaf[1 << 16];
    memset(length, 0, (size_t)size);
    if (symbols > size)
        symbols = (int)size;
    if (symbols > (1 << 16))
        symbols = 1 << 16;
    int leaves = 1, shape = take(r) % 3;
    leaf[0] = 0;
    while (leaves < symbols) {
        int chosen = -1;
        if (shape == 0) {  /* the last leaf made: the deepest */
            chosen = leaves - 1;
        } else if (shape == 1) {  /* the first: leaves are made in order of length */
            chosen = 0;
        } else {
            chosen = (int)pick(r, (unsigned)leaves);
        }
        if (leaf[chosen] >= longest) {  /* too deep: any leaf that is not */
            chosen = -1;
            for (int k = 0; k < leaves && chosen < 0; k++)
                if (leaf[k] < longest)
                    chosen = k;
            if (chosen < 0)
                break;
        }
        uint8_t deeper = (uint8_t)(leaf[chosen] + 1);
        if (shape == 1) {  /* keep the leaves sorted by length: take the first, add two last */
            memmove(leaf, leaf + 1, (size_t)(leaves - 1));
            leaf[leaves - 1] = deeper;
        } else {
            leaf[chosen] = deeper;
        }
        leaf[leaves++] = deeper;
    }
    if (leaves == 1)
        leaf[0] = 1;  /* the one-symbol code */
    /* Which values get the leaves: spread over the alphabet with steered gaps. */
    Py_ssize_t gap_most = size / leaves, value = pick(r, (unsigned)(size - leaves + 1));
    if (value + leaves > size)
        value = size - leaves;
    for (int k = 0; k < leaves; k++) {
        /* The values this one may skip: the leaves after it must still fit below size. */
        Py_ssize_t left = k ? size - value - (leaves - k) - 1 : 0;
        Py_ssize_t gap = gap_most > 1 ? pick(r, (unsigned)gap_most) : 0;
        if (gap > left)
            gap = left;
        value += k ? gap + 1 : 0;
        coded[k] = (uint32_t)value;
        length[value] = leaf[k];
    }
    return leaves;
}

/* A frequency table at this precision over `symbols` of the size values, summing to 2^p:
 * one symbol of probability 1, a symbol of frequency 1 beside one of M - 1, uniform,
 * geometric, or steered. */
static int make_freqs(Recipe *r, uint32_t *f, uint32_t *c, Py_ssize_t size, int symbols,
                      int precision, uint32_t *coded) {
    uint32_t total = (uint32_t)1 << precision;
    memset(f, 0, sizeof(uint32_t) * (size_t)size);
    if ((uint32_t)symbols > total)
        symbols = (int)total;
    if (symbols > size)
        symbols = (int)size;
    if (symbols < 1)
        symbols = 1;
    /* The values: as make_code spreads them. */
    Py_ssize_t value = pick(r, (unsigned)(size - symbols + 1)), gap_most = size / symbols;
    for (int k = 0; k < symbols; k++) {
        Py_ssize_t left = k ? size - value - (symbols - k) - 1 : 0;
        Py_ssize_t gap = gap_most > 1 ? pick(r, (unsigned)gap_most) : 0;
        if (gap > left)
            gap = left;
        value += k ? gap + 1 : 0;
        coded[k] = (uint32_t)value;
        f[value] = 1;
    }
    uint32_t rest = total - (uint32_t)symbols;
    switch (take(r) % 4) {
    case 0:  /* all the rest to one: skewed as far as it goes */
        f[coded[pick(r, (unsigned)symbols)]] += rest;
        break;
    case 1:  /* uniform, the remainder to the first */
        for (int k = 0; k < symbols; k++)
            f[coded[k]] += rest / (uint32_t)symbols;
        f[coded[0]] += rest % (uint32_t)symbols;
        break;
    case 2:  /* geometric: each takes half of what is left */
        for (int k = 0; k < symbols && rest; k++) {
            uint32_t share = k == symbols - 1 ? rest : rest / 2;
            f[coded[k]] += share;
            rest -= share;
        }
        f[coded[0]] += rest;
        break;
    default:  /* steered shares */
        for (int k = 0; k < symbols && rest; k++) {
            uint32_t share = k == symbols - 1 ? rest : (uint32_t)(((uint64_t)rest * take(r)) >> 8);
            f[coded[k]] += share;
            rest -= share;
        }
        f[coded[0]] += rest;
    }
    uint32_t sum = 0;
    for (Py_ssize_t s = 0; s < size; s++) {
        c[s] = sum;
        sum += f[s];
    }
    return symbols;
}

/* Byte edits and a cut, when the recipe asks: returns the first changed position (len
 * when nothing changed) and may shorten *len. */
static Py_ssize_t damage(Recipe *r, uint8_t *buf, Py_ssize_t *len) {
    Py_ssize_t first = *len;
    unsigned how = take(r);
    if (!*len || how < 160)
        return first;
    for (unsigned edits = 1 + how % 4; edits; edits--) {
        Py_ssize_t at = pick(r, (unsigned)*len);
        buf[at] ^= (uint8_t)(take(r) | 1);
        first = at < first ? at : first;
    }
    if (how & 0x10) {
        Py_ssize_t cut = pick(r, (unsigned)*len);
        first = cut < first ? cut : first;
        *len = cut;
    }
    return first;
}

/* -- mode 0: runs of compact and reuse blocks (decode_huffman_run) --------------------- */

#define MOST_RUN_BYTES (1 << 22)

static void fuzz_run(Recipe *r) {
    static uint8_t buf[MOST_RUN_BYTES], original[1 << 21];
    static Py_ssize_t block_end[8192], block_symbols[8192];
    static Piece piece;
    uint8_t code[256], first_code[256];
    uint32_t coded[256];
    int have = 0, count = 0;
    Py_ssize_t size = 0, made = 0, most = 0;
    /* Long runs reach past RUN_MOST_BLOCKS (4,096), where a call stops. */
    int blocks = take(r) % 4 == 1 ? 17 + (int)pick(r, 4200) : 1 + (int)pick(r, 40);
    int reuse_first = take(r) % 8 == 0;  /* the run starts with a code handed over */
    int symbols = 0;
    if (reuse_first) {
        symbols = make_code(r, code, 256, 1 + (int)pick(r, 256), 15, coded);
        memcpy(first_code, code, 256);
        have = 1;
    }
    for (int b = 0; b < blocks; b++) {
        unsigned what = take(r);
        int fresh = !have || what < 12;  /* a new code now and then, and first */
        int plain = have && what == 255;  /* a plain table: the run stops before it */
        if (fresh || plain)
            symbols = make_code(r, code, 256, 1 + (int)pick(r, 256), 15, coded);
        have = 1;
        /* A block of a new code holds each of its symbols (rule D4), then some more. */
        Py_ssize_t n = fresh || plain ? symbols : 0;
        unsigned more = take(r);
        n += more < 200 ? 1 + more % 8 : more < 250 ? 1 + pick(r, 300) : 1 + pick(r, 20000);
        if (made + n > (Py_ssize_t)sizeof original)
            break;
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t s = i < (fresh || plain ? symbols : 0) ? coded[i] : coded[take(r) % symbols];
            original[made + i] = (uint8_t)s;
        }
        /* Shuffle the listed symbols in a little, so they are not always first. */
        if (n > 1 && (take(r) & 1)) {
            Py_ssize_t a = pick(r, (unsigned)n), z = pick(r, (unsigned)n);
            uint8_t t = original[made + a];
            original[made + a] = original[made + z];
            original[made + z] = t;
        }
        memcpy(piece.length, code, 256);
        piece.use = piece.length;
        if (plain) {
            piece.kind = BLOCK_HUFFMAN;
            piece.table_size = hk_put_plain_table(code, piece.table);
        } else if (fresh) {
            uint8_t run_symbols[256], extras[256], width[19];
            int64_t uses[19] = {0};
            int runs = hk_run_length(code, run_symbols, extras);
            for (int k = 0; k < runs; k++)
                uses[run_symbols[k]]++;
            code_lengths(uses, 19, 7, width);
            piece.kind = BLOCK_HUFFMAN_COMPACT;
            piece.table_size = hk_put_compact_table(code, width, piece.table);
        } else {
            piece.kind = BLOCK_HUFFMAN_REUSE;
            piece.table_size = 0;
        }
        /* Format version 2 stores no stream count: it follows from the symbols. */
        piece.streams = n >= MIN_SYMBOLS_TO_SPLIT ? STREAMS_PER_BLOCK : 1;
        /* put_piece writes format version 2: its bit counts are LEB128 numbers, and it
         * codes the streams after room for 4 of 5 bytes before moving them up. */
        Py_ssize_t room = 9 + piece.table_size + 1 + 5 * 4 + (n * 15 + 7) / 8 + 4 * 8;
        if (size + room > MOST_RUN_BYTES)
            break;
        int bad = 0;
        /* Each block's true CRC-32: the run kernel checks them, and stops before one that
         * fails (only the damage below may make one fail). */
        uint32_t crc = hk_crc32_update(0, original + made, (size_t)n);
        size += put_piece(&piece, original + made, n, crc, 0, buf + size, &bad);
        expect(!bad, "the generator coded a symbol without a code");
        block_end[count] = size;
        block_symbols[count] = n;
        made += n;
        most = n > most ? n : most;
        count++;
        if (count == (int)(sizeof block_end / sizeof *block_end))
            break;
    }
    /* Now and then the last block is the frame's last (type bit 7), which stores no symbol
     * count: it holds what the blocks before it leave of block_size, and ends the run.
     * Written again so, from the plan `piece` still holds. */
    int ends_frame = count > 0 && take(r) % 4 == 0;
    if (ends_frame) {
        Py_ssize_t n = block_symbols[count - 1], start = count > 1 ? block_end[count - 2] : 0;
        int bad = 0;
        uint32_t crc = hk_crc32_update(0, original + made - n, (size_t)n);
        size = start + put_piece(&piece, original + made - n, n, crc, 1, buf + start, &bad);
        block_end[count - 1] = size;
    }
    if (take(r) & 1) {  /* something after the run: a version-1 frame end, or more */
        memset(buf + size, 0, 9);
        size += 9;
    }
    Py_ssize_t len = size, first_damage = damage(r, buf, &len);
    int valid = first_damage == size;
    /* The caller's limits: mostly roomy, now and then tight, to stop the run early.  A
     * frame that its last block ends holds `made` symbols: its block size. */
    Py_ssize_t block_size = take(r) < 200 ? (ends_frame ? made : most + pick(r, 10))
                                          : 1 + pick(r, (unsigned)most + 1);
    Py_ssize_t budget = take(r) < 200 ? (Py_ssize_t)1 << 20 : 1 + pick(r, (unsigned)made + 1);
    Py_ssize_t largest = take(r) < 200 ? block_size : 1 + pick(r, (unsigned)most + 1);
    PyObject *previous = reuse_first ? PyBytes_FromStringAndSize((char *)first_code, 256)
                                     : Py_NewRef(Py_None);
    PyObject *data = PyBytes_FromStringAndSize((char *)buf, len);
    PyObject *result = call(hk_decode_huffman_run,
                            Py_BuildValue("(OnnOnnin)", data, (Py_ssize_t)0, block_size,
                                          previous, budget, largest, 2, (Py_ssize_t)0),
                            1, "decode_huffman_run");
    /* What it must take when nothing is damaged: blocks up to the first that breaks the
     * caller's limits, or is a plain one, at most RUN_MOST_BLOCKS. */
    int expected = 0;
    Py_ssize_t total = 0;
    for (int b = 0; b < count && expected < RUN_MOST_BLOCKS; b++) {
        Py_ssize_t start = b ? block_end[b - 1] : 0;
        if ((buf[start] & ~BLOCK_LAST) == BLOCK_HUFFMAN && valid)
            break;  /* a plain table, the frame's last block or not */
        if (block_symbols[b] > block_size || block_symbols[b] > largest ||
            (b && total + block_symbols[b] > budget))
            break;
        if (ends_frame && b == count - 1 && total + block_symbols[b] != block_size)
            break;  /* a last block that would hold another count fails its checks */
        total += block_symbols[b];
        expected++;
    }
    if (getenv("FUZZ_VERBOSE")) {
        fprintf(stderr, "run: %d blocks, expected %d, block_size %zd budget %zd largest %zd "
                "handed %d valid %d len %zd\n", count, expected, block_size, budget, largest,
                reuse_first, valid, len);
        for (int b = 0; b < count && b < 10; b++)
            fprintf(stderr, "  block %d: type %d, %zd symbols, ends at %zd\n", b,
                    buf[b ? block_end[b - 1] : 0], block_symbols[b], block_end[b]);
    }
    if (result == Py_None) {
        expect(!valid || !expected, "a valid run was left to the reference");
    } else {
        PyObject *decoded = PyTuple_GET_ITEM(result, 0), *starts = PyTuple_GET_ITEM(result, 1),
                 *ends = PyTuple_GET_ITEM(result, 2), *lengths = PyTuple_GET_ITEM(result, 4);
        Py_ssize_t good = PyList_GET_SIZE(ends);
        expect(good >= 1 && good <= RUN_MOST_BLOCKS, "a run of no blocks, or too many");
        expect(PyList_GET_SIZE(starts) == good + 1 &&
                   PyBytes_GET_SIZE(lengths) == 256 * good,
               "the run's lists disagree");
        expect(PyLong_AsSsize_t(PyList_GET_ITEM(ends, good - 1)) == PyBytes_GET_SIZE(decoded),
               "the blocks' ends do not end at the data's end");
        expect(PyLong_AsSsize_t(PyList_GET_ITEM(starts, good)) <= len,
               "a block ends past the buffer");
        if (valid)
            expect(good == expected, "a valid run stopped early or went on too far");
        /* Each block wholly before the damage decodes to its original. */
        Py_ssize_t at = 0;
        for (Py_ssize_t b = 0; b < good && b < count && block_end[b] <= first_damage; b++) {
            Py_ssize_t end = PyLong_AsSsize_t(PyList_GET_ITEM(ends, b));
            expect(end - at == block_symbols[b], "a block's size changed");
            expect(!memcmp(PyBytes_AS_STRING(decoded) + at, original + at, (size_t)(end - at)),
                   "a block decoded to other bytes");
            at = end;
        }
    }
    Py_XDECREF(result);
    Py_DECREF(data);
    Py_DECREF(previous);
}

/* -- mode 1: the run kernels on raw bytes (ans: the rANS one) ---------------------------- */

static void fuzz_run_raw(Recipe *r, int ans) {
    Py_ssize_t block_size = 1 + pick(r, 1 << 16);
    unsigned flags = take(r);
    uint8_t given[256] = {0};
    if (flags & 1)
        for (int v = 0; v < 256 && r->n; v++)
            given[v] = (uint8_t)(take(r) & 31);
    PyObject *previous = flags & 1 ? PyBytes_FromStringAndSize((char *)given, 256)
                                   : Py_NewRef(Py_None);
    PyObject *data = PyBytes_FromStringAndSize((const char *)r->p, (Py_ssize_t)r->n);
    Py_ssize_t budget = flags & 2 ? 1 + (flags >> 2) : 1 << 20;
    int version = flags & 0x80 ? 2 : 1;  /* the frame's format version: both are read */
    Py_ssize_t before = flags & 0x40 ? pick(r, (unsigned)block_size + 2) : 0;
    if (ans) {  /* decode_ans_run: given, 256 frequencies of 32 bits summing to 2^p */
        uint32_t freq[256] = {0};
        int precision = 1 + (int)pick(r, 24);
        freq[take(r)] = (uint32_t)1 << precision;
        PyObject *table = flags & 1 ? PyBytes_FromStringAndSize((char *)freq, sizeof freq)
                                    : Py_NewRef(Py_None);
        PyObject *result = call(hk_decode_ans_run,
                                Py_BuildValue("(OnnOinnn)", data, (Py_ssize_t)0, block_size,
                                              table, precision, budget, block_size, before),
                                0, "decode_ans_run");
        Py_XDECREF(result);
        Py_DECREF(table);
        Py_DECREF(data);
        Py_DECREF(previous);
        return;
    }
    PyObject *result = call(hk_decode_huffman_run,
                            Py_BuildValue("(OnnOnnin)", data, (Py_ssize_t)0, block_size, previous,
                                          budget, block_size, version, before),
                            0, "decode_huffman_run");
    Py_XDECREF(result);
    Py_DECREF(data);
    Py_DECREF(previous);
}

/* -- mode 2: Huffman streams (huffman_decode) -------------------------------------------- */

static void fuzz_huffman(Recipe *r) {
    static uint8_t length[1 << 20], symbols[4 * 20000], streams[20000 * 4 + 16 * 16];
    static uint64_t codes[1 << 20];
    static uint32_t coded[1 << 16];
    int width = take(r) & 1 ? 4 : 1;
    Py_ssize_t size = 256;
    if (width == 4) {
        unsigned kind = take(r) % 8;
        size = kind == 0 ? 0x110000 >> 1 : kind == 1 ? 65792 : 1 + pick(r, 5000);
    }
    int present = take(r) < 40 ? 1 + (int)pick(r, 4096) : 1 + (int)pick(r, 300);
    int longest = take(r) & 1 ? 31 : 1 + (int)pick(r, 31);
    int k = make_code(r, length, size, present, longest, coded);
    assign_canonical(length, size, codes);
    Py_ssize_t n = pick(r, 20000);
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t s = coded[pick(r, (unsigned)k)];
        if (width == 1)
            symbols[i] = (uint8_t)s;
        else
            memcpy(symbols + 4 * i, &s, 4);
    }
    int count = 1 + (int)pick(r, 16);
    PyObject *bit_list = PyTuple_New(count);
    Py_ssize_t per = (n + count - 1) / count, at = 0;
    int bad = 0;
    for (int s = 0; s < count; s++) {
        Py_ssize_t first = s * per < n ? s * per : n, last = (s + 1) * per < n ? (s + 1) * per : n;
        uint64_t bits = put_codes(symbols + width * first, width, last - first, codes, length,
                                  size, streams + at, &bad);
        at += (Py_ssize_t)((bits + 7) / 8);
        memset(streams + at, 0, 8);  /* put_codes wrote past the last whole byte */
        PyTuple_SET_ITEM(bit_list, s, PyLong_FromUnsignedLongLong(bits));
    }
    expect(!bad, "the generator coded a symbol without a code");
    Py_ssize_t len = at, first_damage = damage(r, streams, &len);
    int valid = first_damage == at;
    Py_ssize_t claimed = n;
    if (take(r) > 240) {  /* a wrong symbol count, or a bit count off by some */
        valid = 0;
        claimed = pick(r, (unsigned)(2 * n + 2));
        Py_ssize_t which = pick(r, (unsigned)count);
        uint64_t bits = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(bit_list, which));
        Py_DECREF(PyTuple_GET_ITEM(bit_list, which));
        PyTuple_SET_ITEM(bit_list, which, PyLong_FromUnsignedLongLong(bits + pick(r, 16)));
    }
    PyObject *result = call(hk_huffman_decode,
                            Py_BuildValue("(y#Ony#i)", streams, len, bit_list, claimed, length,
                                          size, width),
                            valid, "huffman_decode");
    if (valid)
        expect(PyBytes_GET_SIZE(result) == width * n &&
                   !memcmp(PyBytes_AS_STRING(result), symbols, (size_t)(width * n)),
               "huffman_decode decoded other symbols");
    Py_XDECREF(result);
    Py_DECREF(bit_list);
}

/* -- mode 3: rANS blocks, many on one table (ans_encode, then ans_decode) --------------- */

/* A version-2 rANS block of byte symbols, appended to a run: the first with its own table
 * (0x03), the others reusing it (0x07); returns the run's new length. */
#define MOST_ANS_RUN_BYTES (1 << 20)
static Py_ssize_t append_ans_block(uint8_t *run, Py_ssize_t at, int first, const uint8_t *symbols,
                                   Py_ssize_t n, const uint32_t *f, int precision,
                                   const uint8_t *x, Py_ssize_t lanes, const uint8_t *w,
                                   Py_ssize_t words) {
    int64_t listed[256], freq[256];
    Py_ssize_t count = 0;
    for (int v = 0; v < 256; v++)
        if (f[v]) {
            listed[count] = v;
            freq[count++] = f[v];
        }
    if (at + 32 + COMPACT_FREQUENCIES_ROOM(256) + 8 * lanes + 4 * words > MOST_ANS_RUN_BYTES)
        return at;
    run[at++] = first ? 0x03 : 0x07;
    for (uint64_t v = (uint64_t)n;; v >>= 7) {  /* LEB128 */
        run[at++] = (uint8_t)(v & 0x7F) | (v >= 0x80 ? 0x80 : 0);
        if (v < 0x80)
            break;
    }
    uint32_t crc = hk_crc32_update(0, symbols, (size_t)n);
    memcpy(run + at, &crc, 4);  /* little-endian, as the machines the fuzzer runs on */
    at += 4;
    if (first)
        at += write_compact_frequencies(listed, freq, count, precision, run + at);
    for (int field = 0; field < 2; field++)
        for (uint64_t v = (uint64_t)(field ? words : lanes);; v >>= 7) {
            run[at++] = (uint8_t)(v & 0x7F) | (v >= 0x80 ? 0x80 : 0);
            if (v < 0x80)
                break;
        }
    memcpy(run + at, x, (size_t)(8 * lanes));
    memcpy(run + at + 8 * lanes, w, (size_t)(4 * words));
    return at + 8 * lanes + 4 * words;
}

static void fuzz_ans(Recipe *r, int raw) {
    static uint32_t f[65792], c[65792], coded[65792];
    static uint8_t symbols[4 * 20000];
    /* The byte blocks of the chain as a version-2 run (decode_ans_run), and their symbols. */
    static uint8_t run[MOST_ANS_RUN_BYTES], run_symbols[1 << 20];
    Py_ssize_t run_length = 0, run_count = 0, run_blocks = 0, largest = 1;
    int own_table_sound = 1;  /* the first block holds every value its table lists (A5) */
    int width = take(r) & 1 ? 4 : 1;
    /* One block, or a chain of blocks on one table, as a run of 0x07 blocks has (the
     * encoder prepares the whole table for each block: a chain gets a small alphabet). */
    int blocks = take(r) < 200 ? 1 : 1 + (int)pick(r, 3000);
    Py_ssize_t size = width == 1 ? 256 : 257 + pick(r, blocks > 1 ? 768 : 65792 - 257);
    int precision = 1 + (int)pick(r, 24);
    int present = take(r) < 30 ? 1 + (int)pick(r, (unsigned)size) : 1 + (int)pick(r, 20);
    int k = make_freqs(r, f, c, size, present, precision, coded);
    PyObject *freqs = PyBytes_FromStringAndSize((char *)f, 4 * size);
    PyObject *cumulative = PyBytes_FromStringAndSize((char *)c, 4 * size);
    for (int b = 0; b < blocks; b++) {
        Py_ssize_t n = blocks > 1 ? pick(r, 16) : pick(r, 20000);
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t s = coded[pick(r, (unsigned)k)];
            if (width == 1)
                symbols[i] = (uint8_t)s;
            else
                memcpy(symbols + 4 * i, &s, 4);
        }
        Py_ssize_t lanes = n ? 1 + (take(r) < 200 ? pick(r, 4) : pick(r, (unsigned)n)) : 1;
        if (lanes > n && n)
            lanes = n;
        if (lanes > 4096)
            lanes = 4096;
        PyObject *states = PyByteArray_FromStringAndSize(NULL, 8 * lanes);
        PyObject *words = PyByteArray_FromStringAndSize(NULL, 4 * n);
        PyObject *written = call(hk_ans_encode,
                                 Py_BuildValue("(y#iOOinOO)", symbols, width * n, width, freqs,
                                               cumulative, precision, lanes, states, words),
                                 1, "ans_encode");
        Py_ssize_t word_count = PyLong_AsSsize_t(written);
        Py_DECREF(written);
        uint8_t *w = (uint8_t *)PyByteArray_AS_STRING(words);
        uint8_t *x = (uint8_t *)PyByteArray_AS_STRING(states);
        if (width == 1 && n && run_count + n <= (Py_ssize_t)sizeof run_symbols) {
            Py_ssize_t grown = append_ans_block(run, run_length, !run_blocks, symbols, n, f,
                                                precision, x, lanes, w, word_count);
            if (grown > run_length) {
                if (!run_blocks)
                    for (Py_ssize_t v = 0; v < 256; v++)
                        own_table_sound &= !f[v] || memchr(symbols, (int)v, (size_t)n) != NULL;
                memcpy(run_symbols + run_count, symbols, (size_t)n);
                run_length = grown;
                run_count += n;
                run_blocks++;
                largest = n > largest ? n : largest;
            }
        }
        Py_ssize_t wlen = 4 * word_count, xlen = 8 * lanes, claimed = n;
        int valid = 1;
        if (raw) {  /* the words and states from the recipe */
            for (Py_ssize_t i = 0; i < wlen; i++)
                w[i] = (uint8_t)take(r);
            for (Py_ssize_t i = 0; i < xlen; i++)
                x[i] = (uint8_t)take(r);
            valid = 0;
        } else {
            valid &= damage(r, w, &wlen) == 4 * word_count;
            valid &= damage(r, x, &xlen) == 8 * lanes;
            wlen -= wlen % 4;
            xlen -= xlen % 8;
            if (!xlen)
                xlen = 8;
            if (take(r) > 250) {
                claimed = pick(r, (unsigned)(2 * n + 2));
                valid = 0;
            }
        }
        PyObject *result = call(hk_ans_decode,
                                Py_BuildValue("(y#y#nOOii)", w, wlen, x, xlen, claimed, freqs,
                                              cumulative, precision, width),
                                valid, "ans_decode");
        if (valid)
            expect(PyBytes_GET_SIZE(result) == width * n &&
                       !memcmp(PyBytes_AS_STRING(result), symbols, (size_t)(width * n)),
                   "ans_decode decoded other symbols");
        Py_XDECREF(result);
        Py_DECREF(states);
        Py_DECREF(words);
    }
    Py_DECREF(freqs);
    Py_DECREF(cumulative);
    if (!run_blocks || raw)
        return;
    /* The chain as one run: decoded whole when sound, refused from its first block when
     * its table is finer than a run decodes or lists a value the block lacks; damaged,
     * whatever it decodes must be a sound prefix. */
    Py_ssize_t sound_length = run_length;
    int valid = damage(r, run, &run_length) == sound_length;
    PyObject *data = PyBytes_FromStringAndSize((const char *)run, run_length);
    PyObject *result = call(hk_decode_ans_run,
                            Py_BuildValue("(OnnOinnn)", data, (Py_ssize_t)0, largest, Py_None,
                                          0, (Py_ssize_t)1 << 40, largest, (Py_ssize_t)0),
                            1, "decode_ans_run");
    if (valid && (precision > ANS_TABLE_PRECISION || !own_table_sound))
        expect(result == Py_None, "decode_ans_run took a block the reference must");
    else if (valid)
        expect(result != Py_None && PyBytes_GET_SIZE(PyTuple_GET_ITEM(result, 0)) == run_count &&
                   !memcmp(PyBytes_AS_STRING(PyTuple_GET_ITEM(result, 0)), run_symbols,
                           (size_t)run_count),
               "decode_ans_run decoded other symbols");
    else if (result != Py_None) {
        PyObject *decoded = PyTuple_GET_ITEM(result, 0);
        expect(PyBytes_GET_SIZE(decoded) <= run_count &&
                   !memcmp(PyBytes_AS_STRING(decoded), run_symbols,
                           (size_t)PyBytes_GET_SIZE(decoded)),
               "decode_ans_run decoded a damaged run to other symbols");
    }
    Py_XDECREF(result);
    Py_DECREF(data);
}

/* -- mode 5: compact code tables (parse_compact_table) ---------------------------------- */

static void fuzz_compact(Recipe *r) {
    uint8_t code[256], table[COMPACT_TABLE_MOST + 16], run_symbols[256], extras[256], width[19];
    uint32_t coded[256];
    int64_t uses[19] = {0};
    make_code(r, code, 256, 1 + (int)pick(r, 256), 15, coded);
    int runs = hk_run_length(code, run_symbols, extras);
    for (int k = 0; k < runs; k++)
        uses[run_symbols[k]]++;
    code_lengths(uses, 19, 7, width);
    Py_ssize_t size = hk_put_compact_table(code, width, table);
    /* What follows the table in a block (its stream count, ...): the kernel peeks 7 bits
     * ahead, and leaves a table at the very end of its buffer to the reference. */
    for (int k = 0; k < 8; k++)
        table[size + k] = (uint8_t)take(r);
    Py_ssize_t len = size + 8;
    int valid = damage(r, table, &len) == size + 8;
    PyObject *result = call(hk_parse_compact_table, Py_BuildValue("(y#n)", table, len,
                                                                  (Py_ssize_t)0),
                            1, "parse_compact_table");
    if (valid) {
        expect(result != Py_None, "a valid compact table was refused");
        PyObject *lengths = PyTuple_GET_ITEM(result, 0);
        expect(PyLong_AsSsize_t(PyTuple_GET_ITEM(result, 1)) == size &&
                   !memcmp(PyBytes_AS_STRING(lengths), code, 256),
               "a compact table read back wrong");
    }
    Py_DECREF(result);
}

/* -- modes 4 and 6: raw bytes to the table and number readers -------------------------- */

static void fuzz_compact_raw(Recipe *r) {
    Py_ssize_t pos = take(r) % 4;
    PyObject *result = call(hk_parse_compact_table,
                            Py_BuildValue("(y#n)", r->p, (Py_ssize_t)r->n, pos), 0,
                            "parse_compact_table");
    Py_XDECREF(result);
}

static void fuzz_varints(Recipe *r) {
    Py_ssize_t count = pick(r, 300);
    int longest = 1 + (int)pick(r, 9);
    PyObject *values = PyByteArray_FromStringAndSize(NULL, 8 * count);
    PyObject *result = call(hk_parse_varints,
                            Py_BuildValue("(y#nniO)", r->p, (Py_ssize_t)r->n, (Py_ssize_t)0,
                                          count, longest, values),
                            1, "parse_varints");
    if (result != Py_None) {  /* read again, byte by byte, as LEB128 says */
        const int64_t *got = (const int64_t *)PyByteArray_AS_STRING(values);
        const uint8_t *at = r->p;
        for (Py_ssize_t i = 0; i < count; i++) {
            uint64_t value = 0;
            for (int k = 0;; k++) {
                value |= (uint64_t)(*at & 0x7F) << (7 * k);
                if (*at++ < 0x80)
                    break;
            }
            expect((uint64_t)got[i] == value, "parse_varints read another number");
        }
        expect(PyLong_AsSsize_t(result) == at - r->p, "parse_varints ended elsewhere");
    }
    Py_DECREF(result);
    Py_DECREF(values);
}

/* Raw bytes to version 2's compact frequency table reader: whatever it accepts must be a
 * table, its symbols increasing inside the alphabet, its frequencies at least 1 and summing
 * to 2^precision, its end inside the buffer. */
static void fuzz_frequencies(Recipe *r) {
    static const Py_ssize_t sizes[] = {256, 65536, 0x110000};
    Py_ssize_t size = sizes[pick(r, 3)];
    Py_ssize_t pos = take(r) % 4;
    if (pos > (Py_ssize_t)r->n)
        pos = (Py_ssize_t)r->n;  /* at the end at most: the arguments stay valid */
    PyObject *result = call(hk_read_compact_frequencies,
                            Py_BuildValue("(y#nn)", r->p, (Py_ssize_t)r->n, pos, size), 1,
                            "read_compact_frequencies");
    if (result != Py_None) {
        PyObject *listed = PyTuple_GET_ITEM(result, 0), *freqs = PyTuple_GET_ITEM(result, 1);
        unsigned long long precision = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(result, 2));
        Py_ssize_t end = PyLong_AsSsize_t(PyTuple_GET_ITEM(result, 3));
        Py_ssize_t count = PyBytes_GET_SIZE(listed) / 8;
        const int64_t *symbols = (const int64_t *)PyBytes_AS_STRING(listed);
        const int64_t *f = (const int64_t *)PyBytes_AS_STRING(freqs);
        int64_t total = 0;
        expect(precision >= 1 && precision <= 24, "read_compact_frequencies: precision");
        expect(end > pos && end <= (Py_ssize_t)r->n, "read_compact_frequencies ended outside");
        for (Py_ssize_t i = 0; i < count; i++) {
            expect(symbols[i] >= 0 && symbols[i] < size, "a symbol outside the alphabet");
            expect(!i || symbols[i] > symbols[i - 1], "symbols not increasing");
            expect(f[i] >= 1, "a frequency below 1");
            total += f[i];
        }
        expect(count >= 1 && total == (int64_t)1 << precision, "frequencies do not sum up");
    }
    Py_DECREF(result);
}

/* -- mode 7 with 0x40 (not 0x08, 0x20): the static order-k model (static_encode, ...) - */

/* Data from the recipe (a few symbols, or any byte, in runs), coded: it must decode to
 * itself, and its costs be found; then the model or the payload damaged (bits flipped, cut,
 * lengthened) or replaced by raw recipe bytes, which must decode to some bytes or raise the
 * ValueError the kernel documents, as must the costs of the data under the damaged model. */
static void fuzz_static(Recipe *r) {
    static uint8_t data[4096], model[65536 + 8], payload[16384];
    const int order = (int)take(r) % 4;
    const Py_ssize_t n = pick(r, sizeof data + 1);
    const unsigned alphabet = 1 + pick(r, 256), run = 1 + pick(r, 8);
    for (Py_ssize_t i = 0; i < n; i++)
        data[i] = i % run && i ? data[i - 1] : (uint8_t)(take(r) % alphabet);
    PyObject *coded = call(hk_static_encode, Py_BuildValue("(y#i)", data, n, order), 1,
                           "static_encode");
    Py_ssize_t model_len = PyBytes_GET_SIZE(PyTuple_GET_ITEM(coded, 0));
    Py_ssize_t payload_len = PyBytes_GET_SIZE(PyTuple_GET_ITEM(coded, 1));
    expect(model_len <= 65536 && payload_len <= (Py_ssize_t)sizeof payload,
           "static_encode wrote more than the fuzzer keeps");
    memcpy(model, PyBytes_AS_STRING(PyTuple_GET_ITEM(coded, 0)), (size_t)model_len);
    memcpy(payload, PyBytes_AS_STRING(PyTuple_GET_ITEM(coded, 1)), (size_t)payload_len);
    Py_DECREF(coded);
    const unsigned damage = take(r) % 6;
    if (damage == 1 || damage == 2) {  /* flip bits of the model, or of the payload */
        uint8_t *target = damage == 1 ? model : payload;
        const Py_ssize_t len = damage == 1 ? model_len : payload_len;
        for (unsigned k = 1 + take(r) % 4; k && len; k--)
            target[pick(r, (unsigned)len)] ^= (uint8_t)(1 << take(r) % 8);
    } else if (damage == 3) {  /* cut the model or lengthen it */
        if (take(r) & 1)
            model_len = pick(r, (unsigned)model_len);
        else
            for (unsigned k = 1 + take(r) % 4; k; k--)
                model[model_len++] = (uint8_t)take(r);
    } else if (damage == 4) {  /* a model of raw recipe bytes */
        model_len = pick(r, 200);
        for (Py_ssize_t k = 0; k < model_len; k++)
            model[k] = (uint8_t)take(r);
    } else if (damage == 5) {  /* the rest of the recipe as the model, a count from it too */
        model_len = (Py_ssize_t)(r->n < 65536 ? r->n : 65536);
        memcpy(model, r->p, (size_t)model_len);
        r->n = 0;
    }
    PyObject *out = PyByteArray_FromStringAndSize(NULL, n);
    PyObject *result = call(hk_static_decode,
                            Py_BuildValue("(y#y#niO)", model, model_len, payload, payload_len,
                                          n, order, out),
                            !damage, "static_decode");
    if (!damage)
        expect(!memcmp(PyByteArray_AS_STRING(out), data, (size_t)n),
               "static_decode gave other bytes");
    Py_XDECREF(result);
    Py_DECREF(out);
    PyObject *costs = PyByteArray_FromStringAndSize(NULL, 8 * n);
    result = call(hk_static_costs,
                  Py_BuildValue("(y#y#iO)", model, model_len, data, n, order, costs), !damage,
                  "static_costs");
    if (result) {
        const double *cost = (const double *)PyByteArray_AS_STRING(costs);
        for (Py_ssize_t i = 0; i < n; i++)
            expect(cost[i] >= 0 && cost[i] <= 8 * 16, "a byte's cost out of range");
    }
    Py_XDECREF(result);
    Py_DECREF(costs);
}

/* -- mode 7 with 0x60 (not 0x08): the cm model (context_mixing.c); 0x80: raw payloads - */

/*
 * Raw: the bytes as a payload, decoded to a small count (each bit costs the model's whole
 * step, so a large count only slows the fuzzer): a ValueError at most.  Else a round trip
 * of up to 2 KiB the recipe writes (a byte from 0xC0 up repeats one 8 to 15 back, to feed the
 * match model), the payload the model's loss to within 0.1% and 64 bits, then damaged.
 */
static void fuzz_cm(Recipe *r, int raw) {
    static uint8_t data[2048], packed[16 * 2048 + 64];
    if (raw) {
        Py_ssize_t count = pick(r, 64);
        PyObject *out = PyByteArray_FromStringAndSize(NULL, count);
        Py_XDECREF(call(hk_cm_decode, Py_BuildValue("(y#nO)", r->p, (Py_ssize_t)r->n, count,
                                                    out),
                        0, "cm_decode"));
        Py_DECREF(out);
        return;
    }
    Py_ssize_t n = pick(r, sizeof data + 1);
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned v = take(r);
        data[i] = v >= 0xC0 && i >= 16 ? data[i - 8 - (v & 7)] : (uint8_t)v;
    }
    PyObject *out = PyByteArray_FromStringAndSize(NULL, sizeof packed);
    PyObject *written = call(hk_cm_encode, Py_BuildValue("(y#O)", data, n, out), 1,
                             "cm_encode");
    Py_ssize_t len = PyLong_AsSsize_t(written);
    Py_DECREF(written);
    expect(len > 0 && len <= (Py_ssize_t)sizeof packed, "cm_encode wrote nothing or too much");
    memcpy(packed, PyByteArray_AS_STRING(out), (size_t)len);
    Py_DECREF(out);

    PyObject *costs = PyByteArray_FromStringAndSize(NULL, 8 * n);
    Py_DECREF(call(hk_cm_costs, Py_BuildValue("(y#O)", data, n, costs), 1, "cm_costs"));
    const double *cost = (const double *)PyByteArray_AS_STRING(costs);
    double loss = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        loss += cost[i];
    Py_DECREF(costs);
    expect(fabs(8.0 * (double)len - loss) <= loss * 0.001 + 64, "cm: payload is not the loss");

    PyObject *back = PyByteArray_FromStringAndSize(NULL, n);
    Py_DECREF(call(hk_cm_decode, Py_BuildValue("(y#nO)", packed, len, n, back), 1,
                   "cm_decode"));
    expect(!memcmp(PyByteArray_AS_STRING(back), data, (size_t)n), "cm decoded other bytes");
    const Py_ssize_t whole = len;
    if (damage(r, packed, &len) < whole) {
        PyObject *result = call(hk_cm_decode, Py_BuildValue("(y#nO)", packed, len, n, back), 0,
                                "cm_decode");
        Py_XDECREF(result);
    }
    Py_DECREF(back);
}

/* -- mode 7 with 0x48: the probability coder (probability_encode, _decode); 0x10: raw -- */

#define MOST_PROBABILITY_ENTRIES (1 << 20)

/*
 * Rows of frequencies over 2 to 300 symbols (sometimes up to 65536) at a precision that
 * holds them, each symbol at least 1 and the rest heaped on a few, the symbols steered;
 * encoded, then decoded in two calls (the cursor carried between them) to exactly what was
 * coded, the cursor back at 2^32 with every word read.  Then the payload damaged, or (raw)
 * the recipe's bytes taken as the payload, with a state made valid: decoding may fail only
 * with ValueError, and a cursor it leaves must stay inside the payload.
 */
static void fuzz_probability(Recipe *r, int raw) {
    static uint32_t cumulative[MOST_PROBABILITY_ENTRIES], starts[1 << 16], freqs[1 << 16];
    static uint32_t symbols[1 << 16], decoded[1 << 16];
    static uint8_t payload[8 + 4 * (1 << 16)];
    Py_ssize_t size = take(r) & 1 ? 2 + (Py_ssize_t)pick(r, 65535) : 2 + (Py_ssize_t)pick(r, 299);
    int least = 1;
    while (((Py_ssize_t)1 << least) < size)
        least++;
    int precision = least + (int)pick(r, (unsigned)(25 - least));
    Py_ssize_t most = MOST_PROBABILITY_ENTRIES / (size + 1);
    Py_ssize_t rows = (Py_ssize_t)pick(r, (unsigned)(most < 400 ? most + 1 : 401));
    const uint32_t total = (uint32_t)1 << precision;
    for (Py_ssize_t i = 0; i < rows; i++) {
        uint32_t *row = cumulative + i * (size + 1);
        /* f = 1 each, the spare units to a few steered symbols, the rest to one. */
        static uint32_t f[1 << 16];
        for (Py_ssize_t s = 0; s < size; s++)
            f[s] = 1;
        uint32_t spare = total - (uint32_t)size;
        for (unsigned heaps = take(r) % 4; heaps && spare; heaps--) {
            uint32_t units = (uint32_t)pick(r, spare + 1);
            f[pick(r, (unsigned)size)] += units;
            spare -= units;
        }
        f[pick(r, (unsigned)size)] += spare;
        row[0] = 0;
        for (Py_ssize_t s = 0; s < size; s++)
            row[s + 1] = row[s] + f[s];
        symbols[i] = (uint32_t)pick(r, (unsigned)size);
        starts[i] = row[symbols[i]];
        freqs[i] = f[symbols[i]];
    }
    PyObject *out = PyByteArray_FromStringAndSize(NULL, 8 + 4 * rows);
    PyObject *at = call(hk_probability_encode,
                        Py_BuildValue("(y#y#iO)", (const char *)starts, 4 * rows,
                                      (const char *)freqs, 4 * rows, precision, out),
                        1, "probability_encode");
    Py_ssize_t start = PyLong_AsSsize_t(at), len = 8 + 4 * rows - start;
    memcpy(payload, PyByteArray_AS_STRING(out) + start, (size_t)len);
    Py_DECREF(at);
    Py_DECREF(out);
    if (raw) {  /* the recipe's bytes as the payload */
        len = (Py_ssize_t)r->n < (Py_ssize_t)sizeof payload ? (Py_ssize_t)r->n
                                                             : (Py_ssize_t)sizeof payload;
        memcpy(payload, r->p, (size_t)len);
        if (len < 8)
            return;
        payload[4] |= 1;  /* a state of at least 2^32 */
    }
    const Py_ssize_t coded = len;
    int damaged = damage(r, payload, &len) < coded || raw;
    if (len < 8)
        return;
    uint64_t cursor[3] = {0, 8, 0};
    for (int k = 7; k >= 0; k--)
        cursor[0] = cursor[0] << 8 | payload[k];
    if (cursor[0] < ANS_LOWER)
        return;  /* the Python layer refuses it before the kernel */
    Py_ssize_t split = (Py_ssize_t)pick(r, (unsigned)rows + 1), done = 0;
    PyObject *state = PyByteArray_FromStringAndSize((const char *)cursor, sizeof cursor);
    int failed = 0;
    for (int part = 0; part < 2 && !failed; part++) {
        Py_ssize_t count = part ? rows - split : split;
        PyObject *into = PyByteArray_FromStringAndSize(NULL, 4 * count);
        PyObject *result = call(hk_probability_decode,
                                Py_BuildValue("(y#Oy#niO)", (const char *)payload, len, state,
                                              (const char *)(cumulative + done * (size + 1)),
                                              4 * count * (size + 1), size, precision, into),
                                !damaged, "probability_decode");
        memcpy(cursor, PyByteArray_AS_STRING(state), sizeof cursor);
        expect(cursor[1] <= (uint64_t)len, "probability_decode left its cursor outside");
        if (result)
            memcpy(decoded + done, PyByteArray_AS_STRING(into), (size_t)(4 * count));
        else
            failed = 1;
        Py_XDECREF(result);
        Py_DECREF(into);
        done += count;
    }
    Py_DECREF(state);
    if (!damaged) {
        expect(!memcmp(decoded, symbols, (size_t)(4 * rows)), "probability_decode: symbols");
        expect(cursor[0] == ANS_LOWER && cursor[1] == (uint64_t)len
               && cursor[2] == (uint64_t)rows, "probability_decode did not end where it began");
    }
}

/* -- libFuzzer's entry points ----------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    Py_InitializeEx(0);  /* no signal handlers: libFuzzer's own stay */
    hk_crc32_init();  /* as the module does when it loads: the run kernel checks CRCs */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    if (!size)
        return 0;
    Recipe recipe = {input + 1, size - 1};
    switch (input[0] % 8) {
    case 0:
    case 1: fuzz_run(&recipe); break;
    case 2: fuzz_run_raw(&recipe, input[0] & 0x80); break;
    case 3: fuzz_huffman(&recipe); break;
    case 4: fuzz_ans(&recipe, input[0] & 0x80); break;
    case 5: fuzz_compact(&recipe); break;
    case 6: fuzz_compact_raw(&recipe); break;
    default:
        /* mode 7: 0x07 varints, 0x87 frequency tables; with 0x40 the models: 0x47 the
         * static model, 0x67 cm (0xE7 raw payloads), 0x4F rows of probabilities (0x5F raw) */
        if (input[0] & 0x40) {
            if (input[0] & 0x08)
                fuzz_probability(&recipe, input[0] & 0x10);
            else if (input[0] & 0x20)
                fuzz_cm(&recipe, input[0] & 0x80);
            else
                fuzz_static(&recipe);
        } else if (input[0] & 0x80) {
            fuzz_frequencies(&recipe);
        } else {
            fuzz_varints(&recipe);
        }
    }
    return 0;
}
