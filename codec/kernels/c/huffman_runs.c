/*
 * Runs of Huffman blocks: the compact-table and reuse blocks of a byte frame, decoded in one
 * call (decode_huffman_run), small ones side by side, with the decoder of huffman_decode.c.
 */

#include "kernels.h"

/*
 * decode_huffman_run(buffer, pos, block_size, previous, budget, largest[, version, before])
 *     -> None, or (data, starts, ends, crcs, lengths)
 *
 * Decodes the Huffman blocks of a byte frame that start at buffer[pos], one after another,
 * while they are blocks with a compact table (0x05) or the previous block's code (0x06;
 * `previous` holds its 256 lengths, or is None), are whole in the buffer, hold at most
 * `largest` symbols each, and hold `budget` symbols in all (at least one block).  It stops
 * before the first block that is anything else, or that breaks any rule the Python
 * reference checks (FORMAT.md sections 5, 8, 9, 16), its CRC included: that block is left
 * to the reference, which decodes it or says what is wrong.  So what this accepts is what
 * the reference accepts.  data holds the blocks' bytes; starts[i] is where block i begins
 * (and starts[-1] where the last one ends), ends[i] where its bytes end in data, crcs[i]
 * its CRC-32 (stored, and found equal to its bytes'), and lengths the 256 code lengths of
 * each block, one after another.  data is allocated once, as large as the planned blocks
 * declare: each holds at most 8 symbols a byte of its streams, which are in the buffer.
 *
 * `version` is the frame's format version (1 by default): version 2 writes the symbol
 * count and the bit counts as LEB128 numbers, and leaves out the stream count, which
 * follows from the symbols, and the symbol count of the frame's last block (its type has
 * bit 7 set), which holds what the blocks before it leave of block_size: `before` is the
 * symbols of the frame's blocks before pos.  The run stops after that block, the frame's
 * end (FORMAT.md, section 17).
 *
 * Why: a file cut where its statistics change has many small blocks, and parsing and
 * checking each in Python cost more than decoding it.
 */
typedef struct {
    Py_ssize_t start, streams_at, end, symbols;
    uint32_t crc;
    int streams, reused, coded, last;
    uint64_t bits[16];
} RunBlock;

/*
 * The most blocks one call takes.  Each planned block holds a RunBlock and 256 lengths
 * (about 430 bytes) and may take as little as 15 bytes of input: without a bound, a valid
 * 16 MB file of a million one-byte reuse blocks made one call hold 850 MB, far past the
 * decoder's memory limit.  A run stopped here goes on in the next call, from the code
 * the caller is handed back; 4,096 blocks a call keep the bookkeeping under 2 MB.
 */
#define RUN_MOST_BLOCKS 4096

/* Reads the header of the block at buf[p] into *b and its lengths; 0 to stop before it. */
static int plan_run_block(const uint8_t *buf, Py_ssize_t len, Py_ssize_t p,
                          Py_ssize_t block_size, Py_ssize_t before, Py_ssize_t largest,
                          const uint8_t *previous, int version, RunBlock *b, uint8_t *lengths) {
    if (len - p < 1)
        return 0;
    const int last = version >= 2 && (buf[p] & BLOCK_LAST);
    const int kind = last ? buf[p] & ~BLOCK_LAST : buf[p];
    if (!(kind == BLOCK_HUFFMAN_COMPACT || (kind == BLOCK_HUFFMAN_REUSE && previous)))
        return 0;
    b->start = p;
    b->reused = kind == BLOCK_HUFFMAN_REUSE;
    b->last = last;
    Py_ssize_t cursor = p + 1;
    if (version >= 2) {  /* type | symbols, LEB128 of at most 4 bytes, unless last | crc */
        uint64_t symbols = 0;
        if (last)
            symbols = before < block_size ? (uint64_t)(block_size - before) : 0;
        else if (!hk_read_varint(buf, len, &cursor, 4, &symbols))
            return 0;
        if (len - cursor < 4)
            return 0;
        b->symbols = (Py_ssize_t)symbols;  /* below 2^28 */
        b->crc = load_le32(buf + cursor);
        cursor += 4;
    } else {  /* type | symbols u32 | crc u32 */
        if (len - p < 9)
            return 0;
        b->symbols = load_le32(buf + p + 1);
        b->crc = load_le32(buf + p + 5);
        cursor = p + 9;
    }
    if (b->symbols < 1 || b->symbols > block_size || b->symbols > largest)
        return 0;
    if (b->reused) {
        memcpy(lengths, previous, 256);
    } else {
        Py_ssize_t used = hk_read_compact(buf + cursor, len - cursor, lengths);
        if (used < 0)
            return 0;
        cursor += used;
    }
    unsigned shortest = LONGEST_CODE, longest = 0;
    b->coded = 0;
    for (int v = 0; v < 256; v++)
        if (lengths[v]) {
            b->coded++;
            shortest = lengths[v] < shortest ? lengths[v] : shortest;
            longest = lengths[v] > longest ? lengths[v] : longest;
        }
    if (version >= 2) {
        b->streams = b->symbols >= MIN_SYMBOLS_TO_SPLIT ? STREAMS_PER_BLOCK : 1;
    } else {
        if (cursor >= len)
            return 0;
        b->streams = buf[cursor++];
        if (b->streams < 1 || b->streams > 16 || len - cursor < 4 * b->streams)
            return 0;
    }
    Py_ssize_t n = b->symbols, per_stream = (n + b->streams - 1) / b->streams, bytes = 0;
    for (int k = 0; k < b->streams; k++) {
        Py_ssize_t first = k * per_stream < n ? k * per_stream : n;
        Py_ssize_t stop = (k + 1) * per_stream < n ? (k + 1) * per_stream : n;
        uint64_t bits;
        if (version >= 2) {  /* at most 5 bytes: 31 * 2^26 < 2^35 */
            if (!hk_read_varint(buf, len, &cursor, 5, &bits))
                return 0;
        } else {
            bits = load_le32(buf + cursor);
            cursor += 4;
        }
        if (bits < (uint64_t)shortest * (uint64_t)(stop - first) ||
            bits > (uint64_t)longest * (uint64_t)(stop - first))
            return 0;
        b->bits[k] = bits;
        bytes += (Py_ssize_t)((bits + 7) / 8);
    }
    b->streams_at = cursor;
    b->end = b->streams_at + bytes;
    return b->end <= len;
}

/*
 * The symbols a run's decoder is built for, which sets the size of its lookup table: at
 * least 2^15, for a table of 12 bits (or as many as its longest code).  A split block of a
 * few thousand symbols would otherwise get 9 to 11, and its longer codes (a spreadsheet's
 * reach 12 and 13 bits) the slow path, a mispredicted branch each: kennedy.xls's blocks of
 * 8 KB took 54,000 of them with 11-bit tables, and decode about a tenth faster with 12,
 * though the tables take twice the time to fill.
 */
static inline Py_ssize_t run_table_symbols(Py_ssize_t symbols) {
    return symbols > (1 << 15) ? symbols : (1 << 15);
}

/* Whether a block decoded to every byte value its table codes (the decoder marked them as
 * it went, rather than reading the block again afterwards, which saved about a tenth of a
 * run's time). */
static int codes_exactly(const Decoder *d, const uint8_t *seen) {
    return hk_codes_all_decoded(d, seen);
}

/*
 * Sets a cursor on each stream of planned block b, its symbols going to out.  The streams
 * are read where they lie when the buffer holds STREAM_PADDING_BYTES after the block (as
 * it does for every block of a frame in hand but the last few): the fast loop's loads past
 * a stream's end then read the next one's bits, which only matter to codes that cross the
 * end, and the careful loop decodes those again and checks every code against the end.
 * Copying each stream out, with zeros after it, took a tenth of bible.txt's decoding.  Else
 * they are copied to `padded`; returns where its free room now begins.
 */
static uint8_t *place_streams(const uint8_t *buf, Py_ssize_t len, const RunBlock *b,
                              uint8_t *padded, uint8_t *out, uint8_t *seen, Cursor *c) {
    const int in_place = len - b->end >= STREAM_PADDING_BYTES;
    Py_ssize_t n = b->symbols, per_stream = (n + b->streams - 1) / b->streams;
    const uint8_t *stream = buf + b->streams_at;
    for (int k = 0; k < b->streams; k++) {
        Py_ssize_t size = (Py_ssize_t)((b->bits[k] + 7) / 8);
        const uint8_t *from = stream;
        if (!in_place) {
            memcpy(padded, stream, (size_t)size);
            memset(padded + size, 0, STREAM_PADDING_BYTES);
            from = padded;
            padded += size + STREAM_PADDING_BYTES;
        }
        Py_ssize_t first = k * per_stream < n ? k * per_stream : n;
        Py_ssize_t last = (k + 1) * per_stream < n ? (k + 1) * per_stream : n;
        c[k] = (Cursor){from, 0, b->bits[k], 0, last - first, out + first, 0, seen};
        stream += size;
    }
    return padded;
}

/* Decodes one planned block to out; 0 if its streams or its table are damaged. */
static int decode_run_block(const uint8_t *buf, Py_ssize_t len, const RunBlock *b,
                            const uint8_t *lengths, uint8_t *padded, uint8_t *out) {
    Decoder decoder = {0};
    if (hk_build_decoder(&decoder, lengths, 256, 1, run_table_symbols(b->symbols))) {
        hk_free_decoder(&decoder);
        return 0;
    }
    Cursor cursors[16];
    uint8_t seen[256] = {0};
    place_streams(buf, len, b, padded, out, seen, cursors);
    Py_ssize_t decodable = 0, expected = 0;
    int ok = hk_decode_byte_streams(&decoder, cursors, b->streams, &decodable, &expected) ==
             STREAM_OK;
    /* The table codes exactly the bytes the block holds (a reused code may code more). */
    ok = ok && (b->reused || codes_exactly(&decoder, seen));
    hk_free_decoder(&decoder);
    return ok;
}

/*
 * Decodes `n` (2 to 4) planned blocks of one stream each, side by side, to out; returns how
 * many of them, from the first, are sound (the first damaged one ends the run).
 */
static int decode_run_blocks(const uint8_t *buf, Py_ssize_t len, const RunBlock *b,
                             const uint8_t *lengths, int n, uint8_t *padded, uint8_t *out) {
    Decoder decoders[4] = {{0}};
    Cursor cursors[4];
    uint8_t seen[4][256];
    int built = 0, sound = 0;
    /* Their pairs tables in one allocation, DECODER_ROOM bytes apart, which the fast loop
     * reaches from one register (hk_decode_side_by_side); each on its own without it. */
    uint32_t *room = malloc(4 * DECODER_ROOM);
    for (; built < n; built++) {
        const Py_ssize_t symbols = run_table_symbols(b[built].symbols);
        const uint8_t *own = lengths + 256 * built;
        if (room ? hk_build_decoder_in(&decoders[built], own, symbols,
                                       room + built * (DECODER_ROOM / 4))
                 : hk_build_decoder(&decoders[built], own, 256, 1, symbols)) {
            hk_free_decoder(&decoders[built]);
            break;
        }
    }
    if (built < n) {  /* a table is no code: the blocks before it one by one, as usual */
        for (int k = 0; k < built; k++)
            hk_free_decoder(&decoders[k]);
        free(room);
        for (; sound < built; sound++) {
            if (!decode_run_block(buf, len, &b[sound], lengths + 256 * sound, padded, out))
                break;
            out += b[sound].symbols;
        }
        return sound;
    }
    uint8_t *at = out;
    for (int k = 0; k < n; k++) {
        memset(seen[k], 0, sizeof seen[k]);
        padded = place_streams(buf, len, &b[k], padded, at, seen[k], &cursors[k]);
        at += b[k].symbols;
    }
    const Decoder *const each[4] = {&decoders[0], &decoders[1], &decoders[2], &decoders[3]};
    hk_decode_side_by_side(each, cursors, n);
    for (; sound < n; sound++) {
        Py_ssize_t decodable = 0, expected = 0;
        /* The fast loop alone, then the careful one: each block from where it stopped. */
        if (hk_decode_byte_streams(&decoders[sound], &cursors[sound], 1, &decodable, &expected)
                != STREAM_OK ||
            (b[sound].reused ? 0 : !codes_exactly(&decoders[sound], seen[sound])))
            break;
    }
    for (int k = 0; k < n; k++)
        hk_free_decoder(&decoders[k]);
    free(room);
    return sound;
}

PyObject *hk_decode_huffman_run(PyObject *self, PyObject *args) {
    Py_buffer data;
    Py_ssize_t pos, block_size, budget, largest;
    PyObject *previous;
    Py_ssize_t before = 0;
    int version = 1;
    if (!PyArg_ParseTuple(args, "y*nnOnn|in", &data, &pos, &block_size, &previous, &budget,
                          &largest, &version, &before))
        return NULL;
    PyObject *result = NULL, *decoded = NULL;
    RunBlock *blocks = NULL;
    uint8_t *lengths = NULL, *padded = NULL;
    const uint8_t *buf = data.buf, *given = NULL;
    if (previous != Py_None) {
        if (!PyBytes_Check(previous) || PyBytes_GET_SIZE(previous) != 256) {
            PyErr_SetString(PyExc_ValueError, "previous must be 256 code lengths, or None");
            goto done;
        }
        given = (const uint8_t *)PyBytes_AS_STRING(previous);
    }
    if (pos < 0 || pos > data.len) {
        PyErr_SetString(PyExc_ValueError, "pos is outside the buffer");
        goto done;
    }
    if (before < 0) {
        PyErr_SetString(PyExc_ValueError, "before must be at least 0");
        goto done;
    }
    /* Plan the blocks: their headers and tables, and where they end. */
    Py_ssize_t count = 0, room = 0, total = 0, widest = 0;
    for (Py_ssize_t p = pos; count < RUN_MOST_BLOCKS;) {
        if (count == room) {
            room = room ? 2 * room : 16;
            RunBlock *more = realloc(blocks, sizeof(RunBlock) * (size_t)room);
            uint8_t *more_lengths = realloc(lengths, 256 * (size_t)room);
            if (more)
                blocks = more;
            if (more_lengths)
                lengths = more_lengths;
            if (!more || !more_lengths) {
                PyErr_NoMemory();
                goto done;
            }
        }
        RunBlock *b = &blocks[count];
        uint8_t *own = lengths + 256 * count;
        /* The code a reuse block takes: the caller's for the first block, else the block
         * before's, found again each time, since realloc may have moved `lengths`. */
        const uint8_t *prior = count ? lengths + 256 * (count - 1) : given;
        if (!plan_run_block(buf, data.len, p, block_size, before + total, largest, prior,
                            version, b, own) ||
            (count && total + b->symbols > budget))
            break;
        Py_ssize_t span = b->end - b->streams_at + STREAM_PADDING_BYTES * b->streams;
        widest = span > widest ? span : widest;
        total += b->symbols;
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
    padded = malloc(4 * (size_t)widest);  /* room for four blocks side by side */
    if (!decoded || !padded) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto done;
    }
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(decoded);
    Py_ssize_t good = 0, made = 0;
    Py_BEGIN_ALLOW_THREADS
    while (good < count) {
        int group = 0;  /* blocks of one stream from here, up to four */
        while (group < 4 && good + group < count && blocks[good + group].streams == 1)
            group++;
        int sound;
        if (group >= 2) {
            sound = decode_run_blocks(buf, data.len, &blocks[good], lengths + 256 * good, group,
                                      padded, out + made);
        } else {
            group = 1;
            sound = decode_run_block(buf, data.len, &blocks[good], lengths + 256 * good, padded,
                                     out + made);
        }
        /* Each block's CRC-32, while its bytes are still in the cache (from Python, after
         * the run, they were read again from memory: a twentieth of bible.txt's decoding).
         * The first that fails ends the run, and the reference reports it. */
        int checked = 0;
        for (; checked < sound; checked++) {
            const RunBlock *b = &blocks[good + checked];
            if (hk_crc32_update(0, out + made, (size_t)b->symbols) != b->crc)
                break;
            made += b->symbols;
        }
        good += checked;
        if (checked < group)
            break;
    }
    Py_END_ALLOW_THREADS
    if (!good) {  /* the first block is damaged: the reference says how */
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (made < total && _PyBytes_Resize(&decoded, made) < 0)
        goto done;  /* (it freed decoded) */
    PyObject *starts = PyList_New(good + 1), *ends = PyList_New(good),
             *crcs = PyList_New(good);
    if (starts && ends && crcs) {
        Py_ssize_t at = 0;
        for (Py_ssize_t i = 0; i < good; i++) {
            at += blocks[i].symbols;
            PyList_SET_ITEM(starts, i, PyLong_FromSsize_t(blocks[i].start));
            PyList_SET_ITEM(ends, i, PyLong_FromSsize_t(at));
            PyList_SET_ITEM(crcs, i, PyLong_FromUnsignedLong(blocks[i].crc));
        }
        PyList_SET_ITEM(starts, good, PyLong_FromSsize_t(blocks[good - 1].end));
        result = Py_BuildValue("OOOOy#", decoded, starts, ends, crcs, (const char *)lengths,
                               256 * good);
    }
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(crcs);
done:
    Py_XDECREF(decoded);
    free(blocks);
    free(lengths);
    free(padded);
    PyBuffer_Release(&data);
    return result;
}
