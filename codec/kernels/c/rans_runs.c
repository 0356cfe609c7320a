/*
 * Runs of rANS blocks: the blocks of a version-2 byte frame with tables of their own or
 * the previous block's, decoded in one call (decode_ans_run), with the decoder of
 * rans_decode.c.
 */

#include "kernels.h"

#define BLOCK_ANS 0x03
#define BLOCK_ANS_REUSE 0x07
/* The most lanes a block may have (FORMAT.md, rule A2). */
#define MOST_LANES 4096
/* The most blocks one call takes: bookkeeping of 64 bytes a block, as huffman_runs.c. */
#define ANS_RUN_MOST_BLOCKS 4096
/*
 * The most symbols one call plans beyond its first block.  An rANS block of one repeated
 * byte codes any count in a dozen bytes, so, unlike a Huffman block (8 symbols a byte of
 * its streams at most), the input does not bound the output: a valid file of a few
 * kilobytes can declare blocks of 2^26 symbols by the thousand.  The output is allocated
 * before the blocks are decoded; a run stops at this bound, and the next call goes on.
 */
#define ANS_RUN_MOST_SYMBOLS ((Py_ssize_t)1 << 24)

/* One block of a run, as its header and table say. */
typedef struct {
    Py_ssize_t start, states_at, end, symbols, lanes, words;
    uint32_t crc;
    int reused, last;
} AnsRunBlock;

/* A byte table: each value's frequency and the sum of those below it. */
typedef struct {
    uint32_t freq[256], cumulative[256];
    int precision;
} ByteTable;

/*
 * Reads the header of the block at buf[p] into *b, and its table into *table unless it
 * reuses *table (the previous block's); 0 to stop before it: a block of another kind, cut
 * short, or that breaks a rule the reference checks from its header (FORMAT.md sections
 * 14.2, 14.4 and 17).
 */
static int plan_ans_block(const uint8_t *buf, Py_ssize_t len, Py_ssize_t p,
                          Py_ssize_t block_size, Py_ssize_t before, Py_ssize_t largest,
                          int have_table, AnsRunBlock *b, ByteTable *table) {
    if (len - p < 1)
        return 0;
    const int last = (buf[p] & BLOCK_LAST) != 0;
    const int kind = buf[p] & ~BLOCK_LAST;
    if (!(kind == BLOCK_ANS || (kind == BLOCK_ANS_REUSE && have_table)))
        return 0;
    b->start = p;
    b->reused = kind == BLOCK_ANS_REUSE;
    b->last = last;
    Py_ssize_t cursor = p + 1;
    uint64_t symbols = 0, lanes, words;
    if (last)
        symbols = before < block_size ? (uint64_t)(block_size - before) : 0;
    else if (!hk_read_varint(buf, len, &cursor, 4, &symbols))
        return 0;
    if (symbols < 1 || symbols > (uint64_t)block_size || symbols > (uint64_t)largest ||
        len - cursor < 4)
        return 0;
    b->symbols = (Py_ssize_t)symbols;
    b->crc = load_le32(buf + cursor);
    cursor += 4;
    if (!b->reused) {
        Py_ssize_t used = hk_read_byte_frequencies(buf + cursor, len - cursor, table->freq,
                                                   &table->precision);
        if (used < 0 || table->precision > ANS_TABLE_PRECISION)
            return 0;
        cursor += used;
        uint32_t sum = 0;
        for (int v = 0; v < 256; v++) {
            table->cumulative[v] = sum;
            sum += table->freq[v];
        }
    }
    if (!hk_read_varint(buf, len, &cursor, 2, &lanes) ||
        !hk_read_varint(buf, len, &cursor, 4, &words))
        return 0;
    if (lanes < 1 || lanes > symbols || lanes > MOST_LANES || words > symbols)
        return 0;
    b->lanes = (Py_ssize_t)lanes;
    b->words = (Py_ssize_t)words;
    b->states_at = cursor;
    if ((uint64_t)(len - cursor) < 8 * lanes + 4 * words)
        return 0;
    for (uint64_t k = 0; k < lanes; k++) {  /* rule A3 */
        uint64_t state;
        memcpy(&state, buf + cursor + 8 * k, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        state = __builtin_bswap64(state);
#endif
        if (state < ANS_LOWER)
            return 0;
    }
    b->end = cursor + (Py_ssize_t)(8 * lanes + 4 * words);
    return 1;
}

/* Decodes planned block b with table to out; 0 if it breaks rule A4, A5 or A6. */
static int decode_ans_run_block(const uint8_t *buf, const AnsRunBlock *b,
                                const ByteTable *table, uint64_t *x, void *scratch,
                                uint8_t *out) {
    for (Py_ssize_t k = 0; k < b->lanes; k++) {
        memcpy(&x[k], buf + b->states_at + 8 * k, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x[k] = __builtin_bswap64(x[k]);
#endif
    }
    uint8_t seen[256];
    if (hk_ans_decode_bytes(x, b->lanes, b->symbols, table->freq, table->cumulative, 256,
                            table->precision, buf + b->states_at + 8 * b->lanes, b->words,
                            out, seen, scratch))
        return 0;
    if (!b->reused)  /* rule A5: the block's own table lists exactly the values it holds */
        for (int v = 0; v < 256; v++)
            if ((table->freq[v] != 0) != (seen[v] != 0))
                return 0;
    return hk_crc32_update(0, out, (size_t)b->symbols) == b->crc;
}

/*
 * decode_ans_run(buffer, pos, block_size, previous, budget, largest, before)
 *     -> None, or (data, starts, ends, freqs, precision)
 *
 * Decodes the rANS blocks of a version-2 byte frame that start at buffer[pos], one after
 * another, while they have a table of their own (0x03) or the previous block's (0x07;
 * `previous` holds its 256 frequencies as uint32, its precision being `previous_precision`,
 * or is None), are whole in the buffer, hold at most `largest` symbols each and `budget`
 * symbols in all (at least one block), and stops before the first block that is anything
 * else, or that breaks any rule the Python reference checks (FORMAT.md sections 14 and 17),
 * its CRC included: that block is left to the reference, which decodes it or says what is
 * wrong.  `before` is the symbols of the frame's blocks before pos (its last block holds
 * what they leave of block_size, and ends the run).  data holds the blocks' bytes;
 * starts[i] is where block i begins (and starts[-1] where the last one ends), ends[i] where
 * its bytes end in data, and freqs (256 uint32) and precision the last block's table.
 *
 * Why: a file cut where its statistics change has many blocks, and parsing and checking
 * each in Python cost a fifth of decoding bible.txt (16 blocks) and half of kennedy.xls
 * (29).
 */
PyObject *hk_decode_ans_run(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos, block_size, budget, largest, before;
    PyObject *previous;
    int previous_precision;
    if (!PyArg_ParseTuple(args, "y*nnOinnn", &data, &pos, &block_size, &previous,
                          &previous_precision, &budget, &largest, &before))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    AnsRunBlock *blocks = NULL;
    ByteTable *tables = NULL;
    uint64_t *x = NULL;
    void *scratch = NULL;
    const uint8_t *buf = data.buf;
    ByteTable given;
    int have_table = previous != Py_None;
    if (have_table) {
        if (!PyBytes_Check(previous) || PyBytes_GET_SIZE(previous) != 256 * 4 ||
            previous_precision < 1 || previous_precision > 24) {
            PyErr_SetString(PyExc_ValueError, "previous must be 256 uint32 frequencies of a "
                                              "precision of 1 to 24 bits, or None");
            goto done;
        }
        memcpy(given.freq, PyBytes_AS_STRING(previous), sizeof given.freq);
        given.precision = previous_precision;
        uint64_t sum = 0;
        for (int v = 0; v < 256; v++) {
            given.cumulative[v] = (uint32_t)sum;
            sum += given.freq[v];
        }
        if (sum != (uint64_t)1 << previous_precision) {
            PyErr_SetString(PyExc_ValueError, "previous frequencies do not sum to "
                                              "2**precision");
            goto done;
        }
        /* A finer table than a run decodes: the reference takes its blocks. */
        if (previous_precision > ANS_TABLE_PRECISION)
            have_table = 0;
    }
    if (pos < 0 || pos > data.len || before < 0 || block_size < 1) {
        PyErr_SetString(PyExc_ValueError, "pos, before or block_size is out of range");
        goto done;
    }
    /* Plan the blocks: their headers and tables, and where they end. */
    Py_ssize_t count = 0, room = 0, total = 0, most_lanes = 1;
    int finest = 1;
    for (Py_ssize_t p = pos; count < ANS_RUN_MOST_BLOCKS;) {
        if (count == room) {
            room = room ? 2 * room : 16;
            AnsRunBlock *more = realloc(blocks, sizeof(AnsRunBlock) * (size_t)room);
            if (more)
                blocks = more;
            ByteTable *more_tables = realloc(tables, sizeof(ByteTable) * (size_t)room);
            if (more_tables)
                tables = more_tables;
            if (!more || !more_tables) {
                PyErr_NoMemory();
                goto done;
            }
        }
        AnsRunBlock *b = &blocks[count];
        ByteTable *table = &tables[count];
        /* A reuse block's table: the caller's for the first block, else the block
         * before's (copied: realloc may move them). */
        if (count)
            *table = tables[count - 1];
        else if (have_table)
            *table = given;
        if (!plan_ans_block(buf, data.len, p, block_size, before + total, largest,
                            count || have_table, b, table) ||
            (count && (total + b->symbols > budget ||
                       total + b->symbols > ANS_RUN_MOST_SYMBOLS)))
            break;
        total += b->symbols;
        most_lanes = b->lanes > most_lanes ? b->lanes : most_lanes;
        finest = table->precision > finest ? table->precision : finest;
        p = b->end;
        count++;
        if (b->last)
            break;  /* the frame ends here: what follows is another frame's */
    }
    if (!count) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    decoded = PyBytes_FromStringAndSize(NULL, total);
    x = malloc(sizeof(uint64_t) * (size_t)most_lanes);
    scratch = malloc(hk_ans_scratch_size(finest));
    if (!decoded || !x || !scratch) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(decoded);
    Py_ssize_t good = 0, made = 0;
    Py_BEGIN_ALLOW_THREADS
    for (; good < count; good++) {
        if (!decode_ans_run_block(buf, &blocks[good], &tables[good], x, scratch, out + made))
            break;
        made += blocks[good].symbols;
    }
    Py_END_ALLOW_THREADS
    if (!good) {  /* the first block is damaged: the reference says how */
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (made < total && _PyBytes_Resize(&decoded, made) < 0)
        goto done;  /* (it freed decoded) */
    PyObject *starts = PyList_New(good + 1), *ends = PyList_New(good);
    if (starts && ends) {
        Py_ssize_t at = 0;
        for (Py_ssize_t i = 0; i < good; i++) {
            at += blocks[i].symbols;
            PyList_SET_ITEM(starts, i, PyLong_FromSsize_t(blocks[i].start));
            PyList_SET_ITEM(ends, i, PyLong_FromSsize_t(at));
        }
        PyList_SET_ITEM(starts, good, PyLong_FromSsize_t(blocks[good - 1].end));
        result = Py_BuildValue("OOOy#i", decoded, starts, ends,
                               (const char *)tables[good - 1].freq,
                               (Py_ssize_t)sizeof tables[good - 1].freq,
                               tables[good - 1].precision);
    }
    Py_XDECREF(starts);
    Py_XDECREF(ends);
done:
    Py_XDECREF(decoded);
    free(blocks);
    free(tables);
    free(x);
    free(scratch);
    PyBuffer_Release(&data);
    return result;
}
