/* render.c - address parsing and text answers.  See render.h. */
#include "render.h"

#include <stdlib.h>
#include <string.h>

void gs_text_free(gs_text *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static int reserve(gs_text *b, size_t more)
{
    size_t cap;
    char *p;
    if (more <= b->cap - b->n)
        return GS_OK;
    if (more > SIZE_MAX / 4 - b->n)
        return GS_ERR_NOMEM;
    cap = b->cap ? b->cap : 1 << 16;
    while (cap - b->n < more)
        cap *= 2;
    p = realloc(b->p, cap);
    if (!p)
        return GS_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return GS_OK;
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* The value of each hex digit; -1 for every other byte. */
static const signed char HEX[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* One pass over the bytes: each line is blanks, an optional 0x, the digits,
 * blanks, then '\n' or the end of the buffer. */
int64_t gs_parse_addrs(const char *buf, size_t n, uint64_t *pcs, size_t cap)
{
    const unsigned char *p = (const unsigned char *)buf, *end = p + n;
    size_t count = 0;
    while (p < end) {
        const unsigned char *digits;
        uint64_t v = 0;
        int d;
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            break;
        if (*p == '\n') {
            p++;
            continue;  /* blank line */
        }
        if (end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
            p += 2;
        digits = p;
        while (p < end && (d = HEX[*p]) >= 0) {
            v = v << 4 | (uint64_t)d;
            p++;
        }
        if (p == digits || p - digits > 16 || count >= cap)
            return -1;
        while (p < end && is_blank(*p))
            p++;
        if (p < end) {
            if (*p != '\n')
                return -1;
            p++;
        }
        pcs[count++] = v;
    }
    return (int64_t)count;
}

static void put(gs_text *b, const char *s, size_t n)
{
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static const char DIGITS2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* v in decimal, written in place (the caller reserved room), two digits a
 * step. */
static void put_int(gs_text *b, int32_t v)
{
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v, t = u;
    size_t nd = 1;
    char *d;
    while (t >= 10) {
        t /= 10;
        nd++;
    }
    if (v < 0)
        b->p[b->n++] = '-';
    d = b->p + b->n + nd;
    b->n += nd;
    while (u >= 100) {
        uint32_t r = u % 100;
        u /= 100;
        d -= 2;
        memcpy(d, DIGITS2 + 2 * r, 2);
    }
    if (u >= 10)
        memcpy(d - 2, DIGITS2 + 2 * u, 2);
    else
        d[-1] = (char)('0' + u);
}

/* The NUL-terminated file name at offset off of the table ("" for 0). */
static const char *file_name(const gs_pcln *t, uint32_t off, size_t *n)
{
    const char *s, *z;
    if (off == 0 || off >= t->rd.len) {
        *n = 0;
        return "";
    }
    s = (const char *)t->rd.base + off;
    z = memchr(s, 0, t->rd.len - off);
    *n = z ? (size_t)(z - s) : t->rd.len - off;
    return s;
}

/* One frame in a style: "function\nfile:line\n" (go: as addr2line prints
 * it, the raw line), "function\nfile:line\n" with ?? for what is unknown
 * (gnu) or "function\nfile:line:column\n" (llvm). */
static int frame_out(gs_text *out, int style, const gs_frame_text *f)
{
    if (reserve(out, f->nn + f->fn + 48))
        return GS_ERR_NOMEM;
    if (f->nn || style == GS_STYLE_GO)
        put(out, f->name, f->nn);
    else
        put(out, "??", 2);
    put(out, "\n", 1);
    if (style == GS_STYLE_GO) {
        put(out, f->file, f->fn);
        put(out, ":", 1);
        put_int(out, f->line);
        put(out, "\n", 1);
        return GS_OK;
    }
    if (f->fn)
        put(out, f->file, f->fn);
    else
        put(out, "??", 2);
    put(out, ":", 1);
    put_int(out, f->line < 0 ? 0 : f->line);
    if (style == GS_STYLE_LLVM) {
        put(out, ":", 1);
        put_int(out, f->column < 0 ? 0 : f->column);
    }
    put(out, "\n", 1);
    return GS_OK;
}

/* The answer for one pc whose frames are a..a+n-1 (innermost first), read
 * through get: the style's miss when n is 0; one frame (the physical
 * function, the innermost position) in the go style or without inline
 * frames; else every frame.  llvm ends each answer with a blank line.  The
 * one place the text styles are written, for every source. */
static int answer(gs_text *out, int style, int inline_frames, size_t a, size_t n,
                  gs_frame_text_fn get, void *ctx)
{
    static const char *const miss[] = {"?\n?:0\n", "??\n??:0\n", "??\n??:0:0\n\n"};
    gs_frame_text f, phys;
    size_t j;
    int rc;
    if (n == 0) {
        size_t ml = strlen(miss[style]);
        if (reserve(out, ml))
            return GS_ERR_NOMEM;
        put(out, miss[style], ml);
        return GS_OK;
    }
    if (style == GS_STYLE_GO || !inline_frames) {
        /* The innermost position under the physical function's name (one
         * frame, most pcs: read once). */
        if ((rc = get(ctx, a, &f)))
            return rc;
        if (n > 1) {
            if ((rc = get(ctx, a + n - 1, &phys)))
                return rc;
            f.name = phys.name;
            f.nn = phys.nn;
        }
        if ((rc = frame_out(out, style, &f)))
            return rc;
    } else {
        for (j = a; j < a + n; j++)
            if ((rc = get(ctx, j, &f)) || (rc = frame_out(out, style, &f)))
                return rc;
    }
    if (style == GS_STYLE_LLVM) {
        if (reserve(out, 1))
            return GS_ERR_NOMEM;
        put(out, "\n", 1);
    }
    return GS_OK;
}

/* String lengths by table offset: a batch names the same functions and
 * files again and again, and each length is a scan for the NUL.  Open
 * addressing over slots (offset + 1) << 32 | length; 0 is empty.  A full or
 * absent table only means more scans. */
typedef struct len_cache {
    uint64_t *slot;
    size_t mask, used;
} len_cache;

static void cache_init(len_cache *c, size_t npcs)
{
    size_t cap = 64;
    while (cap < 2 * npcs && cap < ((size_t)1 << 17))
        cap *= 2;
    c->slot = calloc(cap, sizeof *c->slot);
    c->mask = c->slot ? cap - 1 : 0;
    c->used = 0;
}

static size_t cache_home(const len_cache *c, uint32_t off)
{
    return (size_t)((uint32_t)(off * 2654435761u) ^ (off >> 15)) & c->mask;
}

/* 1 and *n when off is cached. */
static int cache_get(const len_cache *c, uint64_t off, size_t *n)
{
    size_t i;
    if (!c->slot || off >= UINT32_MAX)
        return 0;
    for (i = cache_home(c, (uint32_t)off);; i = (i + 1) & c->mask) {
        uint64_t e = c->slot[i];
        if (!e)
            return 0;
        if (e >> 32 == off + 1) {
            *n = (size_t)(uint32_t)e;
            return 1;
        }
    }
}

static void cache_put(len_cache *c, uint64_t off, size_t n)
{
    size_t i;
    if (!c->slot || off >= UINT32_MAX || n > UINT32_MAX || 2 * (c->used + 1) > c->mask + 1)
        return;
    for (i = cache_home(c, (uint32_t)off); c->slot[i]; i = (i + 1) & c->mask)
        ;
    c->slot[i] = (off + 1) << 32 | (uint64_t)n;
    c->used++;
}

struct pcln_ctx {
    const gs_pcln *t;
    const gs_frames_view *v;
    len_cache names, files;
};

/* Frame j of a pclntab batch: names and files from the table's strings
 * (their lengths cached: a cached offset was checked when it was first
 * read); the pclntab has no columns. */
static int pcln_frame(void *ctx, size_t j, gs_frame_text *f)
{
    struct pcln_ctx *c = ctx;
    int32_t name_off = c->v->name_off[j];
    uint32_t file_off = c->v->file_off[j];
    gs_err e;
    if (name_off >= 0 && cache_get(&c->names, (uint64_t)name_off, &f->nn)) {
        f->name = (const char *)c->t->rd.base + c->t->funcname_off + (size_t)name_off;
    } else {
        if (gs_pcln_name(c->t, name_off, &f->name, &f->nn, &e))
            return e.code ? e.code : GS_ERR_FORMAT;
        if (name_off >= 0)
            cache_put(&c->names, (uint64_t)name_off, f->nn);
    }
    if (cache_get(&c->files, file_off, &f->fn)) {
        f->file = (const char *)c->t->rd.base + file_off;
    } else {
        f->file = file_name(c->t, file_off, &f->fn);
        if (f->fn)
            cache_put(&c->files, file_off, f->fn);
    }
    f->line = c->v->line[j];
    f->column = 0;
    return GS_OK;
}

static int str_frame(void *ctx, size_t j, gs_frame_text *f)
{
    const gs_str_frames *s = ctx;
    f->name = s->name[j];
    f->nn = s->name_len[j];
    f->file = s->file[j];
    f->fn = s->file_len[j];
    f->line = s->line[j];
    f->column = s->column[j];
    return GS_OK;
}

int gs_render_text(const gs_pcln *t, const gs_frames_view *v, const uint8_t *valid, size_t npcs,
                   int style, int inline_frames, gs_text *out, size_t *ends)
{
    struct pcln_ctx c;
    size_t k;
    int rc = GS_OK;
    if (style < GS_STYLE_GO || style > GS_STYLE_LLVM)
        return GS_ERR_ARG;
    c.t = t;
    c.v = v;
    cache_init(&c.names, npcs);
    cache_init(&c.files, npcs);
    for (k = 0; k < npcs; k++) {
        size_t n = (valid && !valid[k]) ? 0 : v->count[k];
        if ((rc = answer(out, style, inline_frames, v->first[k], n, pcln_frame, &c)))
            break;
        ends[k] = out->n;
    }
    free(c.names.slot);
    free(c.files.slot);
    return rc;
}

int gs_render_strings(const gs_str_frames *s, const uint8_t *valid, size_t npcs, int style,
                      int inline_frames, gs_text *out, size_t *ends)
{
    size_t k;
    int rc;
    if (style < GS_STYLE_GO || style > GS_STYLE_LLVM)
        return GS_ERR_ARG;
    for (k = 0; k < npcs; k++) {
        size_t n = (valid && !valid[k]) ? 0 : s->count[k];
        if (n && (s->first[k] > s->nframes || n > s->nframes - s->first[k]))
            return GS_ERR_ARG;
        if ((rc = answer(out, style, inline_frames, s->first[k], n, str_frame, (void *)s)))
            return rc;
        ends[k] = out->n;
    }
    return GS_OK;
}
