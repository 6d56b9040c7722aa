/* reader.h - the one bounds-checked cursor every decoder in csrc/ reads through.
 *
 * A gs_reader walks a read-only byte range [base, base+len).  Every read checks
 * the bytes it needs against the end of the range first.  The first failure is
 * sticky (the style of Go's debug/dwarf buf.go): it records the offset and the
 * reason, every later read returns 0 without touching memory, and the caller
 * checks rd->err once per operation instead of after every read.
 *
 * Plain C11, no Python API: the fuzz harness and the sanitizer builds use it
 * directly.
 */
#ifndef GOSYM_READER_H
#define GOSYM_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Status codes shared by every function in csrc/.  0 is success. */
enum {
    GS_OK = 0,
    GS_ERR_BOUNDS = 1,   /* a read past the end of the range */
    GS_ERR_VARINT = 2,   /* a varint longer than its type allows */
    GS_ERR_FORMAT = 3,   /* structurally invalid data */
    GS_ERR_UNSUPPORTED = 4,
    GS_ERR_NOMEM = 5,
    GS_ERR_ARG = 6       /* a caller error: bad index, bad option */
};

/* The first error of an operation: code, offset and reason (a static
 * string).  Every decoder in csrc/ reports failures through one of these. */
typedef struct gs_err {
    int code;
    size_t off;
    const char *msg;
} gs_err;

/* gs_set_err fills e (when given) and returns code. */
static inline int gs_set_err(gs_err *e, int code, size_t off, const char *msg)
{
    if (e) {
        e->code = code;
        e->off = off;
        e->msg = msg;
    }
    return code;
}

typedef struct gs_reader {
    const uint8_t *base;
    size_t len;
    size_t pos;
    int big_endian;
    int ptr_size;          /* 4 or 8, for gs_rd_ptr */
    int err;               /* first error, GS_OK while none */
    size_t err_off;        /* offset (from base) where the first error happened */
    const char *err_msg;   /* static string naming the failed read */
} gs_reader;

static inline void gs_rd_init(gs_reader *rd, const uint8_t *base, size_t len,
                              int big_endian, int ptr_size)
{
    rd->base = base;
    rd->len = len;
    rd->pos = 0;
    rd->big_endian = big_endian;
    rd->ptr_size = ptr_size;
    rd->err = GS_OK;
    rd->err_off = 0;
    rd->err_msg = NULL;
}

/* gs_rd_fail records the first error; later ones are ignored. */
static inline void gs_rd_fail(gs_reader *rd, int code, size_t off, const char *msg)
{
    if (rd->err == GS_OK) {
        rd->err = code;
        rd->err_off = off;
        rd->err_msg = msg;
    }
}

/* gs_rd_finish copies the reader's first error into e; returns its code. */
static inline int gs_rd_finish(const gs_reader *rd, gs_err *e)
{
    return gs_set_err(e, rd->err, rd->err_off, rd->err_msg);
}

/* gs_rd_has reports whether n bytes are readable at off (no overflow). */
static inline int gs_rd_has(const gs_reader *rd, size_t off, size_t n)
{
    return off <= rd->len && n <= rd->len - off;
}

/* gs_rd_seek moves the cursor; seeking to len exactly is allowed. */
static inline void gs_rd_seek(gs_reader *rd, size_t off)
{
    if (rd->err)
        return;
    if (off > rd->len) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "seek past end");
        return;
    }
    rd->pos = off;
}

static inline uint16_t gs_load16(const uint8_t *p, int be)
{
    return be ? (uint16_t)((p[0] << 8) | p[1]) : (uint16_t)((p[1] << 8) | p[0]);
}

static inline uint32_t gs_load32(const uint8_t *p, int be)
{
    if (be)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

static inline uint64_t gs_load64(const uint8_t *p, int be)
{
    uint64_t a = gs_load32(p, be), b = gs_load32(p + 4, be);
    return be ? (a << 32) | b : (b << 32) | a;
}

/* Reads at an absolute offset, leaving the cursor alone.  On a short range
 * they fail (sticky) and return 0. */
static inline uint8_t gs_u8_at(gs_reader *rd, size_t off)
{
    if (rd->err)
        return 0;
    if (!gs_rd_has(rd, off, 1)) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "u8 past end");
        return 0;
    }
    return rd->base[off];
}

static inline uint16_t gs_u16_at(gs_reader *rd, size_t off)
{
    if (rd->err)
        return 0;
    if (!gs_rd_has(rd, off, 2)) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "u16 past end");
        return 0;
    }
    return gs_load16(rd->base + off, rd->big_endian);
}

static inline uint32_t gs_u32_at(gs_reader *rd, size_t off)
{
    if (rd->err)
        return 0;
    if (!gs_rd_has(rd, off, 4)) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "u32 past end");
        return 0;
    }
    return gs_load32(rd->base + off, rd->big_endian);
}

static inline uint64_t gs_u64_at(gs_reader *rd, size_t off)
{
    if (rd->err)
        return 0;
    if (!gs_rd_has(rd, off, 8)) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "u64 past end");
        return 0;
    }
    return gs_load64(rd->base + off, rd->big_endian);
}

/* gs_uN_at reads an unsigned integer of n bytes (1, 2, 4 or 8). */
static inline uint64_t gs_uN_at(gs_reader *rd, size_t off, int n)
{
    switch (n) {
    case 1: return gs_u8_at(rd, off);
    case 2: return gs_u16_at(rd, off);
    case 4: return gs_u32_at(rd, off);
    case 8: return gs_u64_at(rd, off);
    default:
        gs_rd_fail(rd, GS_ERR_ARG, off, "bad integer size");
        return 0;
    }
}

static inline uint64_t gs_ptr_at(gs_reader *rd, size_t off)
{
    return gs_uN_at(rd, off, rd->ptr_size);
}

/* Cursor reads: read at pos and advance. */
static inline uint8_t gs_rd_u8(gs_reader *rd)
{
    uint8_t v = gs_u8_at(rd, rd->pos);
    if (!rd->err) rd->pos += 1;
    return v;
}

static inline uint16_t gs_rd_u16(gs_reader *rd)
{
    uint16_t v = gs_u16_at(rd, rd->pos);
    if (!rd->err) rd->pos += 2;
    return v;
}

static inline uint32_t gs_rd_u32(gs_reader *rd)
{
    uint32_t v = gs_u32_at(rd, rd->pos);
    if (!rd->err) rd->pos += 4;
    return v;
}

static inline uint64_t gs_rd_u64(gs_reader *rd)
{
    uint64_t v = gs_u64_at(rd, rd->pos);
    if (!rd->err) rd->pos += 8;
    return v;
}

static inline uint64_t gs_rd_ptr(gs_reader *rd)
{
    uint64_t v = gs_ptr_at(rd, rd->pos);
    if (!rd->err) rd->pos += (size_t)rd->ptr_size;
    return v;
}

/* gs_rd_uvarint reads a LEB128 / Go uvarint of at most 64 bits.  A value
 * needing more than 10 bytes, or a 10th byte above 1, is GS_ERR_VARINT. */
static inline uint64_t gs_rd_uvarint(gs_reader *rd)
{
    uint64_t v = 0;
    unsigned shift = 0;
    size_t start = rd->pos;
    if (rd->err)
        return 0;
    /* Fast path: with ten bytes left no byte needs its own bounds check. */
    if (rd->pos <= rd->len && rd->len - rd->pos >= 10) {
        const uint8_t *b = rd->base + rd->pos;
        unsigned i;
        if (b[0] < 0x80) {
            rd->pos++;
            return b[0];
        }
        for (i = 0; i < 9; i++) {
            v |= (uint64_t)(b[i] & 0x7f) << (7 * i);
            if (b[i] < 0x80) {
                rd->pos += i + 1;
                return v;
            }
        }
        if (b[9] <= 1) {
            rd->pos += 10;
            return v | ((uint64_t)b[9] << 63);
        }
        v = 0;      /* a 10th byte above 1: the loop below reports it */
    }
    for (;;) {
        uint8_t b;
        if (rd->pos >= rd->len) {
            gs_rd_fail(rd, GS_ERR_BOUNDS, rd->pos, "varint past end");
            return 0;
        }
        b = rd->base[rd->pos++];
        if (shift == 63 && b > 1) {
            gs_rd_fail(rd, GS_ERR_VARINT, start, "varint overflows 64 bits");
            return 0;
        }
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
        shift += 7;
        if (shift > 63) {
            gs_rd_fail(rd, GS_ERR_VARINT, start, "varint longer than 10 bytes");
            return 0;
        }
    }
}

/* gs_rd_uvarint32 reads a uvarint that must fit in 32 bits (the pc-value
 * tables' encoding, runtime/symtab.go: readvarint). */
static inline uint32_t gs_rd_uvarint32(gs_reader *rd)
{
    uint32_t v = 0;
    unsigned shift = 0;
    size_t start = rd->pos;
    if (rd->err)
        return 0;
    /* Most deltas fit in one byte. */
    if (rd->pos < rd->len && rd->base[rd->pos] < 0x80)
        return rd->base[rd->pos++];
    for (;;) {
        uint8_t b;
        if (rd->pos >= rd->len) {
            gs_rd_fail(rd, GS_ERR_BOUNDS, rd->pos, "varint past end");
            return 0;
        }
        b = rd->base[rd->pos++];
        if (shift == 28 && (b & 0x70)) {
            gs_rd_fail(rd, GS_ERR_VARINT, start, "varint overflows 32 bits");
            return 0;
        }
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
        shift += 7;
        if (shift > 28) {
            gs_rd_fail(rd, GS_ERR_VARINT, start, "varint longer than 5 bytes");
            return 0;
        }
    }
}

/* gs_zigzag32 decodes the pc-value tables' signed delta: low bit is the sign. */
static inline int32_t gs_zigzag32(uint32_t u)
{
    return (u & 1) ? (int32_t)~(u >> 1) : (int32_t)(u >> 1);
}

/* gs_rd_svarint reads a zig-zag encoded signed 64-bit varint. */
static inline int64_t gs_rd_svarint(gs_reader *rd)
{
    uint64_t u = gs_rd_uvarint(rd);
    return (u & 1) ? (int64_t)~(u >> 1) : (int64_t)(u >> 1);
}

/* gs_rd_sleb128 reads a signed LEB128 [DWARF5 7.6]; bits past 64 are
 * dropped, and more than 10 bytes is GS_ERR_VARINT. */
static inline int64_t gs_rd_sleb128(gs_reader *rd)
{
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    size_t start = rd->pos;
    do {
        b = gs_rd_u8(rd);
        if (rd->err)
            return 0;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (shift >= 70 && (b & 0x80)) {
            gs_rd_fail(rd, GS_ERR_VARINT, start, "sleb128 longer than 10 bytes");
            return 0;
        }
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= ~(uint64_t)0 << shift;
    return (int64_t)v;
}

/* gs_cstr_at finds the NUL-terminated string at off; returns its length (not
 * counting the NUL) or sets an error when no NUL comes before the end. */
static inline size_t gs_cstr_at(gs_reader *rd, size_t off, const char **out)
{
    const uint8_t *p, *nul;
    *out = "";
    if (rd->err)
        return 0;
    if (off >= rd->len) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "string past end");
        return 0;
    }
    p = rd->base + off;
    nul = memchr(p, 0, rd->len - off);
    if (!nul) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, off, "string not terminated");
        return 0;
    }
    *out = (const char *)p;
    return (size_t)(nul - p);
}

static inline size_t gs_rd_cstr(gs_reader *rd, const char **out)
{
    size_t n = gs_cstr_at(rd, rd->pos, out);
    if (!rd->err)
        rd->pos += n + 1;
    return n;
}

#endif /* GOSYM_READER_H */
