/*
 * The binary arithmetic coder every sequential model codes its bits with (sequential.c and
 * the models after it): static inline, so that each model's loop inlines it.
 *
 * Integer arithmetic only, so that every machine and compiler gives the same bytes; the
 * Python reference (codec/kernels/reference/sequential.py) follows it step by step.
 */

#ifndef HK_BINARY_CODER_H
#define HK_BINARY_CODER_H

#include <math.h>
#include <stdint.h>

/*
 * The interval [low, high] of 32-bit numbers.  A bit of probability p (of a 1, in 1/65536,
 * 1 to 65535) splits it at mid = low + ((high - low) * p >> 16): a 1 keeps [low, mid], a 0
 * keeps [mid + 1, high].  While low and high share their top byte, it is settled: written,
 * and both shift up a byte (high taking 0xFF in).  At the end, one byte settles the rest:
 * the least multiple of 2^24 in [low, high], whose top byte alone is written; a decoder
 * reads missing bytes as zero.  (A carry-less coder, as in Mahoney's lpaq1.)
 */
typedef struct {
    uint32_t low, high;
    uint8_t *out, *end;  /* where the next byte goes; writing stops (and fails) at end */
    int full;
} BitEncoder;

static inline void encode_bit(BitEncoder *e, int bit, uint32_t p) {
    const uint32_t mid = e->low + (uint32_t)(((uint64_t)(e->high - e->low) * p) >> 16);
    if (bit)
        e->high = mid;
    else
        e->low = mid + 1;
    while (((e->low ^ e->high) & 0xFF000000u) == 0) {
        if (e->out < e->end)
            *e->out++ = (uint8_t)(e->high >> 24);
        else
            e->full = 1;
        e->low <<= 8;
        e->high = e->high << 8 | 0xFF;
    }
}

static inline void finish_bits(BitEncoder *e) {
    uint32_t top = e->low >> 24;
    if (e->low & 0xFFFFFFu)
        top++;  /* at most high's top byte, which differs from low's */
    if (e->out < e->end)
        *e->out++ = (uint8_t)top;
    else
        e->full = 1;
}

typedef struct {
    uint32_t low, high, x;
    const uint8_t *in;
    Py_ssize_t len, read;  /* bytes read, and those the encoder wrote (read may pass len) */
} BitDecoder;

static inline uint32_t next_byte(BitDecoder *d) {
    uint32_t byte = d->read < d->len ? d->in[d->read] : 0;
    d->read++;
    return byte;
}

static inline int decode_bit(BitDecoder *d, uint32_t p) {
    const uint32_t mid = d->low + (uint32_t)(((uint64_t)(d->high - d->low) * p) >> 16);
    const int bit = d->x <= mid;
    if (bit)
        d->high = mid;
    else
        d->low = mid + 1;
    while (((d->low ^ d->high) & 0xFF000000u) == 0) {
        d->low <<= 8;
        d->high = d->high << 8 | 0xFF;
        d->x = d->x << 8 | next_byte(d);
    }
    return bit;
}

/* Start decoding *in*: the first 4 bytes fill x. */
static inline BitDecoder start_bits(const uint8_t *in, Py_ssize_t len) {
    BitDecoder d = {0, 0xFFFFFFFFu, 0, in, len, 0};
    for (int k = 0; k < 4; k++)
        d.x = d.x << 8 | next_byte(&d);
    return d;
}

/* The bytes the encoder wrote, as the decoder counts them: one at each settled top byte and
 * one at the end, that is read - 3 (the first 4 were read ahead of the interval).  A payload
 * of any other length is not what an encoder wrote. */
static inline Py_ssize_t bits_written(const BitDecoder *d) {
    return d->read - 3;
}

/* Whether the payload ends as an encoder ends it, once bits_written matched its length: its
 * last byte (x's top byte now; the 3 below it were read past the end) is the one finish_bits
 * writes for the interval the decoder ended with.  Any other last byte may decode the same
 * bits, but no encoder wrote it: a damaged byte that would otherwise go unnoticed. */
static inline int ends_as_written(const BitDecoder *d) {
    const uint32_t top = (d->low >> 24) + ((d->low & 0xFFFFFFu) != 0);
    return (d->x >> 24) == top;
}

/* What a bit costs, in bits, coded with p (of a 1, in 1/65536): -log2 of the probability the
 * coder gave the bit that came.  A model's loss is the sum over its bits. */
static inline double bit_cost(uint32_t p, int bit) {
    return -log2((double)(bit ? p : 65536 - p) / 65536.0);
}

#endif
