/*
 * hufflen.c - the order-0 statistics of a file, and its Huffman code.
 *
 * Reads a file (or standard input), counts its bytes, and prints one row
 * for every byte value that occurs: its count, its probability p, its
 * information content -log2 p, and the length and bits of its canonical
 * Huffman code.  The summary at the end gives the order-0 entropy, the
 * mean code length, the redundancy between the two, and the CRC-32 of the
 * input, so the figures can be checked by hand or against another tool.
 *
 * Build:  cc -std=c99 -O2 -Wall -Wextra -o hufflen hufflen.c -lm
 * Usage:  hufflen [-l LIMIT] [FILE]
 *
 *   -l LIMIT   longest code allowed, 8 to 32 bits (default 15)
 *   FILE       the file to read; "-" or nothing means standard input
 *
 * Part of huffkit's bundled sample corpus: a small, self-contained C
 * program written for the corpus, so that source code is among the kinds
 * of data the toolkit can be tried on.
 */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYMBOLS 256
#define MAX_NODES (2 * SYMBOLS - 1)
#define DEFAULT_LIMIT 15
#define SHORTEST_LIMIT 8    /* 256 symbols need codes of 8 bits at least */
#define LONGEST_LIMIT 32
#define CHUNK 65536

/* ---- CRC-32, as zlib, gzip and PNG compute it --------------------------- */

static uint32_t crc_table[256];

/* Fill crc_table once: entry n is the CRC register after shifting in byte n. */
static void crc32_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

/* Continue a running CRC over len more bytes; start from crc = 0. */
static uint32_t crc32_update(uint32_t crc, const unsigned char *buf, size_t len)
{
    crc = ~crc;
    while (len-- > 0)
        crc = crc_table[(crc ^ *buf++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* ---- counting ------------------------------------------------------------ */

struct stats {
    uint64_t count[SYMBOLS];
    uint64_t total;
    uint32_t crc;
};

/* Count every byte of the stream; returns -1 on a read error. */
static int count_stream(FILE *in, struct stats *st)
{
    static unsigned char buf[CHUNK];
    size_t got;

    memset(st, 0, sizeof *st);
    while ((got = fread(buf, 1, sizeof buf, in)) > 0) {
        for (size_t i = 0; i < got; i++)
            st->count[buf[i]]++;
        st->total += got;
        st->crc = crc32_update(st->crc, buf, got);
    }
    return ferror(in) ? -1 : 0;
}

/* ---- a binary min-heap of tree nodes ------------------------------------- */

/*
 * Nodes 0 to 255 are the leaves (node n is byte n); internal nodes are
 * numbered from 256 upwards in the order they are made.  Ties between
 * equal weights go to the lower node number, so the tree depends only on
 * the counts and never on the order the heap happened to see them in.
 */
struct heap {
    int node[MAX_NODES];
    int size;
    const uint64_t *weight;
};

static int heap_less(const struct heap *h, int a, int b)
{
    uint64_t wa = h->weight[a], wb = h->weight[b];
    return wa < wb || (wa == wb && a < b);
}

static void heap_push(struct heap *h, int n)
{
    int i = h->size++;

    while (i > 0) {
        int up = (i - 1) / 2;
        if (!heap_less(h, n, h->node[up]))
            break;
        h->node[i] = h->node[up];
        i = up;
    }
    h->node[i] = n;
}

static int heap_pop(struct heap *h)
{
    int top = h->node[0];
    int last = h->node[--h->size];
    int i = 0;

    for (;;) {
        int child = 2 * i + 1;
        if (child >= h->size)
            break;
        if (child + 1 < h->size && heap_less(h, h->node[child + 1], h->node[child]))
            child++;
        if (!heap_less(h, h->node[child], last))
            break;
        h->node[i] = h->node[child];
        i = child;
    }
    h->node[i] = last;
    return top;
}

/* ---- code lengths -------------------------------------------------------- */

/*
 * Optimal code lengths for the counts, by Huffman's algorithm: merge the
 * two lightest nodes until one is left.  Bytes that never occur get length
 * 0; a lone symbol gets length 1, since even a certain symbol costs a bit
 * in a code that works one symbol at a time.  Returns the longest length.
 */
static int huffman_lengths(const uint64_t *count, int *length)
{
    uint64_t weight[MAX_NODES];
    int parent[MAX_NODES];
    int depth[MAX_NODES];
    struct heap h = { .size = 0, .weight = weight };
    int next = SYMBOLS;
    int longest = 0;

    for (int s = 0; s < SYMBOLS; s++) {
        weight[s] = count[s];
        length[s] = 0;
        if (count[s] > 0)
            heap_push(&h, s);
    }
    if (h.size == 0)
        return 0;
    if (h.size == 1) {
        length[h.node[0]] = 1;
        return 1;
    }

    while (h.size > 1) {
        int a = heap_pop(&h);
        int b = heap_pop(&h);
        weight[next] = weight[a] + weight[b];
        parent[a] = next;
        parent[b] = next;
        heap_push(&h, next++);
    }

    /* The root is the last node made, and every parent is numbered above
       its children, so walking downwards gives each node its depth after
       its parent's. */
    depth[next - 1] = 0;
    for (int n = next - 2; n >= SYMBOLS; n--)
        depth[n] = depth[parent[n]] + 1;
    for (int s = 0; s < SYMBOLS; s++) {
        if (count[s] == 0)
            continue;
        length[s] = depth[parent[s]] + 1;
        if (length[s] > longest)
            longest = length[s];
    }
    return longest;
}

/* Sort the symbols that occur by falling count, ties by byte value. */
static int by_falling_count(const uint64_t *count, int *order)
{
    int n = 0;

    for (int s = 0; s < SYMBOLS; s++) {
        if (count[s] == 0)
            continue;
        int i = n++;
        while (i > 0 && count[order[i - 1]] < count[s]) {
            order[i] = order[i - 1];
            i--;
        }
        order[i] = s;
    }
    return n;
}

/*
 * Squeeze the lengths under limit while keeping the code complete.  This
 * is the adjustment from the JPEG standard (annex K.3): while some code is
 * too long, take two siblings from the deepest level; one of them moves up
 * to replace their parent, and the other becomes the sibling of a leaf
 * taken from the deepest level that still has one above them.  The number
 * of codes and the Kraft sum stay the same at every step.  The lengths are
 * then dealt out again, shortest to the most frequent bytes.
 */
static void limit_lengths(const uint64_t *count, int *length, int longest, int limit)
{
    int per_length[MAX_NODES] = { 0 };
    int order[SYMBOLS];
    int n, k;

    if (longest <= limit)
        return;
    for (int s = 0; s < SYMBOLS; s++)
        if (length[s] > 0)
            per_length[length[s]]++;

    for (int i = longest; i > limit; i--) {
        while (per_length[i] > 0) {
            int j = i - 2;
            while (per_length[j] == 0)
                j--;
            per_length[i] -= 2;
            per_length[i - 1] += 1;
            per_length[j + 1] += 2;
            per_length[j] -= 1;
        }
    }

    n = by_falling_count(count, order);
    k = 0;
    for (int len = 1; len <= limit; len++)
        for (int c = 0; c < per_length[len] && k < n; c++)
            length[order[k++]] = len;
}

/* ---- canonical codes ------------------------------------------------------ */

/*
 * Give each byte its canonical code: shorter codes first, and within one
 * length, codes in increasing byte order.  Only the lengths need to be
 * stored for a decoder to rebuild exactly these codes.
 */
static void canonical_codes(const int *length, uint64_t *code)
{
    uint64_t per_length[LONGEST_LIMIT + 1] = { 0 };
    uint64_t next_code[LONGEST_LIMIT + 1];
    uint64_t c = 0;

    for (int s = 0; s < SYMBOLS; s++)
        if (length[s] > 0)
            per_length[length[s]]++;
    for (int len = 1; len <= LONGEST_LIMIT; len++) {
        c = (c + per_length[len - 1]) << 1;
        next_code[len] = c;
    }
    for (int s = 0; s < SYMBOLS; s++)
        code[s] = length[s] > 0 ? next_code[length[s]]++ : 0;
}

/* ---- output --------------------------------------------------------------- */

static void print_bits(uint64_t code, int length)
{
    for (int b = length - 1; b >= 0; b--)
        putchar((code >> b) & 1u ? '1' : '0');
}

static void print_symbol(int s)
{
    if (s == '\n')
        printf("'\\n'");
    else if (s == '\t')
        printf("'\\t'");
    else if (s >= 0x20 && s < 0x7F)
        printf("'%c' ", s);
    else
        printf("    ");
}

static void report(const struct stats *st, const int *length, const uint64_t *code)
{
    double entropy = 0.0, mean = 0.0;
    int distinct = 0;

    printf("byte  char       count          p  -log2 p  len  code\n");
    for (int s = 0; s < SYMBOLS; s++) {
        if (st->count[s] == 0)
            continue;
        double p = (double)st->count[s] / (double)st->total;
        double info = p < 1.0 ? -log2(p) : 0.0;
        entropy += p * info;
        mean += p * length[s];
        distinct++;
        printf("0x%02X  ", s);
        print_symbol(s);
        printf("  %10llu  %9.6f  %7.3f  %3d  ",
               (unsigned long long)st->count[s], p, info, length[s]);
        print_bits(code[s], length[s]);
        putchar('\n');
    }
    printf("\n%llu bytes, %d distinct\n", (unsigned long long)st->total, distinct);
    if (st->total > 0) {
        printf("entropy      %.6f bits/byte\n", entropy);
        printf("mean length  %.6f bits/byte\n", mean);
        printf("redundancy   %.6f bits/byte\n", mean - entropy);
        printf("payload      %.0f bytes\n", ceil(mean * (double)st->total / 8.0));
    }
    printf("crc32        %08lX\n", (unsigned long)st->crc);
}

/* ---- main ----------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to, "usage: hufflen [-l LIMIT] [FILE]\n");
}

static int parse_limit(const char *text, int *limit)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0'
        || value < SHORTEST_LIMIT || value > LONGEST_LIMIT) {
        fprintf(stderr, "hufflen: the limit must be a whole number from %d to %d, not '%s'\n",
                SHORTEST_LIMIT, LONGEST_LIMIT, text);
        return -1;
    }
    *limit = (int)value;
    return 0;
}

int main(int argc, char **argv)
{
    static struct stats st;
    int length[SYMBOLS];
    uint64_t code[SYMBOLS];
    int limit = DEFAULT_LIMIT;
    const char *name = "-";
    FILE *in;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "-l") == 0) {
            if (++i >= argc) {
                usage(stderr);
                return 2;
            }
            if (parse_limit(argv[i], &limit) != 0)
                return 2;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "hufflen: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            break;
        }
    }
    if (argc - i > 1) {
        usage(stderr);
        return 2;
    }
    if (i < argc)
        name = argv[i];

    if (strcmp(name, "-") == 0) {
        in = stdin;
    } else if ((in = fopen(name, "rb")) == NULL) {
        fprintf(stderr, "hufflen: %s: %s\n", name, strerror(errno));
        return 1;
    }

    crc32_init();
    if (count_stream(in, &st) != 0) {
        fprintf(stderr, "hufflen: %s: read error\n", name);
        if (in != stdin)
            fclose(in);
        return 1;
    }
    if (in != stdin)
        fclose(in);

    int longest = huffman_lengths(st.count, length);
    limit_lengths(st.count, length, longest, limit);
    canonical_codes(length, code);
    report(&st, length, code);
    return 0;
}
