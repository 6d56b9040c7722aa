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

int32_t gs_pcv_value(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry, uint64_t target)
{
    gs_pcv_iter it;
    gs_pcv_begin(t, rd, &it, tab, entry);
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
    free(x->row);
    x->row = NULL;
    x->n = x->cap = x->hint = 0;
}

/* Decode forward until the current run covers off or the table ends. */
static int rows_decode(const gs_pcln *t, gs_pcv_rows *x, uint32_t off)
{
    gs_reader rd = t->rd;
    rd.err = GS_OK;
    while (!x->it.done && x->it.next - x->entry <= off) {
        uint64_t d;
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
        if (++x->skip < x->stride)
            continue;
        x->skip = 0;
        if (x->n == x->cap) {
            size_t cap = x->cap ? 2 * x->cap : 64;
            void *p = realloc(x->row, cap * sizeof *x->row);
            if (!p)
                return GS_ERR_NOMEM;
            x->row = p;
            x->cap = cap;
        }
        x->row[x->n].end = (uint32_t)d;
        x->row[x->n].val = x->it.val;
        x->row[x->n].pos = x->it.pos;
        x->n++;
    }
    return GS_OK;
}

/* The number of kept rows whose run ends at or before off. */
static size_t rows_before(const gs_pcv_rows *x, uint32_t off)
{
    size_t a = 0, b = x->n;
    if (b && x->row[b - 1].end <= off)
        return b;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (x->row[m].end > off)
            b = m;
        else
            a = m + 1;
    }
    return a;
}

int gs_pcv_rows_at(const gs_pcln *t, gs_pcv_rows *x, uint32_t off, int32_t *v, int hint)
{
    size_t a;
    int rc;
    if (x->stride == 1) {
        /* Ascending questions mostly stay in the row of the last answer or
         * move to the next. */
        a = x->hint;
        if (a < x->n && x->row[a].end > off && (a == 0 || x->row[a - 1].end <= off)) {
            *v = x->row[a].val;
            return 0;
        }
        if (a + 1 < x->n && x->row[a + 1].end > off && x->row[a].end <= off) {
            x->hint = a + 1;
            *v = x->row[a + 1].val;
            return 0;
        }
    }
    if (x->it.next - x->entry <= off && (rc = rows_decode(t, x, off)))
        return rc;
    if (x->it.next - x->entry <= off) {
        /* The table ends (or broke) before off. */
        *v = -1;
        return x->err ? -1 : 0;
    }
    a = rows_before(x, off);
    if (x->stride == 1) {
        /* Every step is kept: row a is the run holding off. */
        if (hint)
            x->hint = a;
        *v = x->row[a].val;
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
            w.pos = x->row[a - 1].pos;
            w.next = x->entry + x->row[a - 1].end;
            w.val = x->row[a - 1].val;
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
