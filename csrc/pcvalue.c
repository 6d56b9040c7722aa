/* pcvalue.c - the one walker of pc-value tables.  See pcvalue.h. */
#include "pcvalue.h"

#include <stdlib.h>

void gs_pcv_begin(const gs_pcln *t, gs_reader *rd, gs_pcv_iter *it, uint32_t tab, uint64_t entry)
{
    it->val = -1;
    it->next = entry;
    it->first = 1;
    it->done = 0;
    it->pos = 0;
    if (tab == 0 || (size_t)tab > rd->len - t->pctab_off) {
        if (tab != 0)
            gs_rd_fail(rd, GS_ERR_FORMAT, t->pctab_off, "pc-value table offset out of range");
        it->done = 1;
        return;
    }
    it->pos = t->pctab_off + tab;
}

int gs_pcv_step_slow(const gs_pcln *t, gs_reader *rd, gs_pcv_iter *it)
{
    uint32_t uv, pcd;
    if (it->done || rd->err) {
        /* An error left by another walk on the same reader ends this one
         * too: callers loop `while (!it.done && ...)`, so returning without
         * `done` set would spin forever (found by fuzz/fuzz_pclntab.c: a
         * line table that fails while the file table walk continues). */
        it->done = 1;
        return 0;
    }
    rd->pos = it->pos;
    uv = gs_rd_uvarint32(rd);
    if (rd->err || (uv == 0 && !it->first)) {
        it->done = 1;
        return 0;
    }
    it->first = 0;
    /* Wrapping add, as Go's int32 arithmetic (runtime/symtab.go: step); a
     * signed overflow here was undefined behaviour (found by
     * fuzz/fuzz_pclntab.c: -1 + INT32_MIN). */
    it->val = (int32_t)((uint32_t)it->val + (uint32_t)gs_zigzag32(uv));
    pcd = gs_rd_uvarint32(rd);
    if (rd->err) {
        it->done = 1;
        return 0;
    }
    it->next += (uint64_t)pcd * (uint64_t)t->quantum;
    it->pos = rd->pos;
    return 1;
}

int32_t gs_pcv_value(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry, uint64_t target)
{
    gs_pcv_iter it;
    gs_pcv_begin(t, rd, &it, tab, entry);
    if (!it.done && !rd->err && it.pos <= rd->len) {
        /* The common pairs (see gs_pcv_step) with the walk in locals; the
         * first other pair goes on below with every check. */
        const uint8_t *base = rd->base;
        size_t len = rd->len, p = it.pos;
        uint64_t next = it.next, q = t->quantum;
        uint32_t val = (uint32_t)it.val;
        int first = 1;
        while (len - p >= 4) {
            uint32_t uv, pcd;
            size_t ulen, k = gs_pcv_pair(base + p, &uv, &pcd, &ulen);
            if (k == 0)
                break;
            if (uv == 0 && !first)
                return -1;   /* the table ends at or before target */
            first = 0;
            val += (uint32_t)gs_zigzag32(uv);   /* wrapping, as Go's int32 */
            next += (uint64_t)pcd * q;
            p += k;
            if (target < next)
                return (int32_t)val;
        }
        it.pos = p;
        it.next = next;
        it.val = (int32_t)val;
        it.first = first;
    }
    while (gs_pcv_step(t, rd, &it))
        if (target < it.next)
            return it.val;
    return -1;
}

int32_t gs_pcv_max(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry)
{
    gs_pcv_iter it;
    int32_t most = 0;
    gs_pcv_begin(t, rd, &it, tab, entry);
    while (gs_pcv_step(t, rd, &it))
        if (it.val > most)
            most = it.val;
    return most;
}

size_t gs_pcv_len(const gs_pcln *t, uint32_t tab)
{
    gs_reader rd = t->rd;
    gs_pcv_iter it;
    size_t start;
    rd.err = GS_OK;
    if (tab == 0 || (size_t)tab >= rd.len - t->pctab_off)
        return 0;
    start = t->pctab_off + tab;
    gs_pcv_begin(t, &rd, &it, tab, 0);
    while (gs_pcv_step(t, &rd, &it))
        ;
    /* The last step read the terminator (or failed). */
    return rd.err ? 0 : rd.pos - start;
}

int gs_pcv_rows_begin(const gs_pcln *t, gs_pcv_rows *x, uint32_t tab, uint64_t entry,
                      unsigned stride)
{
    gs_reader rd = t->rd;
    rd.err = GS_OK;
    if (stride > 1 && x->pos == NULL && x->cap)
        gs_pcv_rows_free(x);   /* rows kept without positions: start over */
    gs_pcv_begin(t, &rd, &x->it, tab, entry);
    x->err = rd.err != GS_OK;
    x->tab = tab;
    x->entry = entry;
    x->n = x->hint = 0;
    x->stride = stride ? stride : 1;
    x->skip = 0;
    return x->err;
}

void gs_pcv_rows_free(gs_pcv_rows *x)
{
    free(x->end);
    free(x->val);
    free(x->pos);
    x->end = NULL;
    x->val = NULL;
    x->pos = NULL;
    x->n = x->cap = x->hint = 0;
}

static int rows_grow(gs_pcv_rows *x)
{
    size_t cap = x->cap ? 2 * x->cap : 64;
    void *p;
    if (!(p = realloc(x->end, cap * sizeof *x->end)))
        return GS_ERR_NOMEM;
    x->end = p;
    if (!(p = realloc(x->val, cap * sizeof *x->val)))
        return GS_ERR_NOMEM;
    x->val = p;
    if (x->stride > 1 || x->pos) {
        /* Positions only where walks resume from a checkpoint. */
        if (!(p = realloc(x->pos, cap * sizeof *x->pos)))
            return GS_ERR_NOMEM;
        x->pos = p;
    }
    x->cap = cap;
    return GS_OK;
}

/* The common pairs (see gs_pcv_step) with the walk's state in locals
 * (stride is x->stride): decode until the run covers off, the table ends, or a pair needs
 * the checked reader (then the caller takes one step with it). */
#if defined(__GNUC__)
#define ROWS_FAST_INLINE static inline __attribute__((always_inline))
#else
#define ROWS_FAST_INLINE static inline
#endif

ROWS_FAST_INLINE int rows_fast(const gs_pcln *t, gs_pcv_rows *x, uint32_t off, unsigned stride)
{
    const uint8_t *base = t->rd.base;
    size_t len = t->rd.len, p = x->it.pos, n = x->n, lim;
    uint64_t entry = x->entry, next = x->it.next, q = t->quantum;
    uint32_t val = (uint32_t)x->it.val, *endp = x->end;
    int32_t *valp = x->val;
    size_t *posp = x->pos;
    unsigned skip = x->skip;
    int first = x->it.first, rc = GS_OK;
    if (len < 4 || next - entry > off)
        return GS_OK;
    lim = len - 4;   /* a pair at p <= lim has its 4 bytes */
    while (p <= lim) {
        uint32_t uv, pcd;
        size_t ulen, k = gs_pcv_pair(base + p, &uv, &pcd, &ulen);
        uint64_t d;
        if (k == 0)
            break;
        if (uv == 0 && !first) {
            p += ulen;
            x->it.done = 1;
            break;
        }
        first = 0;
        val += (uint32_t)gs_zigzag32(uv);   /* wrapping, as Go's int32 */
        next += (uint64_t)pcd * q;
        p += k;
        d = next - entry;
        /* Steps between checkpoints only test for the end of the walk;
         * a run past 4 GiB (d > off) is caught after the loop. */
        if (stride > 1 && ++skip < stride) {
            if (d > off)
                break;
            continue;
        }
        skip = 0;
        /* Rows before the last end at or before off: only the last can
         * pass 4 GiB. */
        if (d > off && d > 0xffffffffu)
            break;
        if (n == x->cap) {
            x->n = n;
            if (rows_grow(x)) {
                rc = GS_ERR_NOMEM;
                break;
            }
            endp = x->end;
            valp = x->val;
            posp = x->pos;
        }
        endp[n] = (uint32_t)d;
        valp[n] = (int32_t)val;
        if (stride > 1)
            posp[n] = p;
        n++;
        if (d > off)
            break;
    }
    if (!x->it.done && next - entry > 0xffffffffu) {
        /* A run past 4 GiB from the entry: only in a corrupt table. */
        x->it.done = 1;
        x->err = 1;
    }
    x->it.pos = p;
    x->it.next = next;
    x->it.val = (int32_t)val;
    x->it.first = first;
    x->n = n;
    x->skip = skip;
    return rc;
}

/* Decode forward until the current run covers off or the table ends. */
static int rows_decode(const gs_pcln *t, gs_pcv_rows *x, uint32_t off)
{
    gs_reader rd;
    int have_rd = 0;
    for (;;) {
        uint64_t d;
        /* Compiled into this loop twice: every row kept (the batch
         * symbolizer: no checkpoint counting per step), or checkpoints. */
        if (!x->it.done && (x->stride == 1 ? rows_fast(t, x, off, 1) : rows_fast(t, x, off, x->stride)))
            return GS_ERR_NOMEM;
        if (x->it.done || x->it.next - x->entry > off)
            break;
        if (!have_rd) {
            rd = t->rd;
            rd.err = GS_OK;
            have_rd = 1;
        }
        if (!gs_pcv_step(t, &rd, &x->it)) {
            x->err = rd.err != GS_OK;
            break;
        }
        d = x->it.next - x->entry;
        if (d > 0xffffffffu) {
            /* A run past 4 GiB from the entry: only in a corrupt table. */
            x->it.done = 1;
            x->err = 1;
            break;
        }
        if (x->stride > 1) {
            if (++x->skip < x->stride)
                continue;
            x->skip = 0;
        }
        if (x->n == x->cap && rows_grow(x))
            return GS_ERR_NOMEM;
        x->end[x->n] = (uint32_t)d;
        x->val[x->n] = x->it.val;
        if (x->stride > 1)
            x->pos[x->n] = x->it.pos;
        x->n++;
    }
    return GS_OK;
}

/* The number of kept rows whose run ends at or before off. */
static size_t rows_before(const gs_pcv_rows *x, uint32_t off)
{
    size_t a = 0, b = x->n;
    if (b && x->end[b - 1] <= off)
        return b;
    /* Just decoded: the last row holds off. */
    if (b && (b == 1 || x->end[b - 2] <= off))
        return b - 1;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (x->end[m] > off)
            b = m;
        else
            a = m + 1;
    }
    return a;
}

int gs_pcv_rows_at_slow(const gs_pcln *t, gs_pcv_rows *x, uint32_t off, int32_t *v, int hint)
{
    size_t a;
    int rc;
    if (x->it.next - x->entry <= off) {
        if ((rc = rows_decode(t, x, off)))
            return rc;
        if (x->it.next - x->entry <= off) {
            /* The table ends (or broke) before off. */
            *v = -1;
            return x->err ? -1 : 0;
        }
        if (!x->err) {
            /* Decoded just now: the walk stopped in the run holding off
             * (its previous run ended at or before off), so no resume
             * from a checkpoint. */
            if (x->stride == 1 && hint && x->n)
                x->hint = x->n - 1;
            *v = x->it.val;
            return 0;
        }
    }
    a = rows_before(x, off);
    if (x->stride == 1) {
        /* Every step is kept: row a is the run holding off. */
        if (hint)
            x->hint = a;
        *v = x->val[a];
        return 0;
    }
    {
        /* Resume from the last checkpoint before off: at most stride steps. */
        gs_reader rd = t->rd;
        gs_pcv_iter w;
        rd.err = GS_OK;
        if (a == 0) {
            gs_pcv_begin(t, &rd, &w, x->tab, x->entry);
        } else {
            w.pos = x->pos[a - 1];
            w.next = x->entry + x->end[a - 1];
            w.val = x->val[a - 1];
            w.first = 0;
            w.done = 0;
        }
        while (w.next - x->entry <= off)
            if (!gs_pcv_step(t, &rd, &w))
                return -1;   /* cannot happen: the walk got past off before */
        *v = w.val;
        return 0;
    }
}
