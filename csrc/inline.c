/* inline.c - inlined-call expansion.  See inline.h. */
#include "inline.h"
#include "pclntab_int.h"

#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#include <unistd.h>
#endif

/* File offset of [va, va+n) when one segment backs all of it. */
static int va_off(const gs_inl *c, uint64_t va, uint64_t n, size_t *off)
{
    size_t k;
    for (k = 0; k < c->nsegs; k++) {
        const gs_seg *s = &c->segs[k];
        if (va >= s->va && va - s->va <= s->size && n <= s->size - (va - s->va)) {
            uint64_t o = s->off + (va - s->va);
            if (o > c->file_len || n > c->file_len - o)
                return 0;
            *off = (size_t)o;
            return 1;
        }
    }
    return 0;
}

int gs_inl_tree_off(const gs_pcln *t, const gs_inl *c, const gs_func *f, size_t *off, gs_err *e)
{
    gs_reader rd = t->rd;
    size_t p;
    uint64_t va;
    *off = 0;
    rd.err = GS_OK;
    if (c == NULL || c->layout == GS_INL_NONE || f->nfuncdata <= c->funcdata_inltree)
        return GS_OK;
    /* The funcdata array follows the pcdata array. */
    if (f->npcdata > (rd.len - f->pcdata_off) / 4)
        return gs_set_err(e, GS_ERR_FORMAT, f->off, "pcdata count past the end of the table");
    p = f->pcdata_off + 4 * (size_t)f->npcdata;
    if (t->version >= GS_VER118) {
        uint32_t o = gs_u32_at(&rd, p + 4 * (size_t)c->funcdata_inltree);
        if (rd.err)
            return gs_set_err(e, GS_ERR_FORMAT, rd.err_off, "funcdata past the end of the table");
        if (o == 0xffffffffu || c->gofunc == 0)
            return GS_OK;
        va = c->gofunc + o;
    } else {
        /* Pointers, aligned to the pointer size in memory. */
        if (t->ptr_size == 8 && ((c->pcln_va + p) & 4))
            p += 4;
        va = gs_ptr_at(&rd, p + (size_t)t->ptr_size * c->funcdata_inltree);
        if (rd.err)
            return gs_set_err(e, GS_ERR_FORMAT, rd.err_off, "funcdata past the end of the table");
        if (va == 0)
            return GS_OK;
    }
    if (!va_off(c, va, 1, off)) {
        *off = 0;
        return gs_set_err(e, GS_ERR_FORMAT, f->off, "inline tree address outside the file");
    }
    return GS_OK;
}

int gs_inl_record(const gs_inl *c, int big_endian, size_t tree, int32_t ix,
                  gs_inl_rec *out, gs_err *e)
{
    gs_reader fr;
    size_t recsize, rec;
    if (c == NULL || c->layout == GS_INL_NONE)
        return gs_set_err(e, GS_ERR_ARG, 0, "inline expansion is off");
    recsize = c->layout == GS_INL_16 ? 16 : 20;
    gs_rd_init(&fr, c->file, c->file_len, big_endian, 8);
    if (ix < 0 || tree > fr.len || (size_t)ix > (fr.len - tree) / recsize)
        return gs_set_err(e, GS_ERR_FORMAT, tree, "inline tree index out of range");
    rec = tree + (size_t)ix * recsize;
    if (!gs_rd_has(&fr, rec, recsize))
        return gs_set_err(e, GS_ERR_FORMAT, rec, "inline tree record past end of file");
    if (recsize == 16) {
        out->func_id = gs_u8_at(&fr, rec);
        out->name_off = (int32_t)gs_u32_at(&fr, rec + 4);
        out->parent_pc = (int32_t)gs_u32_at(&fr, rec + 8);
        out->start_line = (int32_t)gs_u32_at(&fr, rec + 12);
    } else {
        out->func_id = gs_u8_at(&fr, rec + 2);
        out->name_off = (int32_t)gs_u32_at(&fr, rec + 12);
        out->parent_pc = (int32_t)gs_u32_at(&fr, rec + 16);
        out->start_line = 0;
    }
    return GS_OK;
}

int gs_inline_frames(const gs_pcln *t, const gs_inl *c, uint64_t pc,
                     gs_frame *out, size_t cap, size_t *n, gs_err *e)
{
    gs_func f;
    int64_t i;
    size_t tree = 0, k = 0;
    uint32_t inltab = 0;
    uint64_t cur = pc, end;
    int rc;

    *n = 0;
    i = gs_pcln_find(t, pc);
    if (i < 0)
        return GS_OK;
    if ((rc = gs_pcln_func(t, (uint64_t)i, &f, e)))
        return rc;
    end = gs_pcln_entry(t, (uint64_t)i + 1);
    if ((rc = gs_inl_tree_off(t, c, &f, &tree, e)))
        return rc;
    if (tree && (rc = gs_pcdata_tab(t, &f, c->pcdata_inlindex, &inltab, e)))
        return rc;
    for (;;) {
        int32_t ix = -1, line, fno;
        size_t foff;
        gs_frame fm;
        if (k >= GS_INL_MAX_DEPTH)
            return gs_set_err(e, GS_ERR_FORMAT, tree, "inline tree deeper than 128 calls (a cycle?)");
        if (tree && inltab && (rc = gs_pcvalue(t, inltab, f.entry, cur, &ix, e)))
            return rc;
        if ((rc = gs_pcvalue(t, f.pcln, f.entry, cur, &line, e)))
            return rc;
        if ((rc = gs_pcvalue(t, f.pcfile, f.entry, cur, &fno, e)))
            return rc;
        if ((rc = gs_pcln_file_off(t, &f, fno, &foff, e)))
            return rc;
        fm.file_off = (uint32_t)foff;
        fm.line = line;
        fm.pc = cur;
        if (ix < 0) {
            /* The physical function: the last frame. */
            fm.name_off = f.name_off;
            fm.start_line = f.start_line;
            fm.inlined = 0;
            fm.func_id = f.func_id;
            if (k < cap)
                out[k] = fm;
            k++;
            break;
        } else {
            gs_inl_rec r;
            if ((rc = gs_inl_record(c, t->rd.big_endian, tree, ix, &r, e)))
                return rc;
            fm.func_id = r.func_id;
            fm.name_off = r.name_off;
            fm.start_line = r.start_line;
            fm.inlined = 1;
            if (k < cap)
                out[k] = fm;
            k++;
            if (r.parent_pc < 0 || f.entry + (uint64_t)r.parent_pc >= end)
                return gs_set_err(e, GS_ERR_FORMAT, tree, "inline parent pc outside the function");
            cur = f.entry + (uint64_t)r.parent_pc;
            continue;
        }
    }
    *n = k;
    return GS_OK;
}

void gs_symres_free(gs_symres *r)
{
    free(r->func);
    free(r->name_off);
    free(r->file_off);
    free(r->line);
    free(r->start_line);
    free(r->inlined);
    r->func = r->name_off = r->line = r->start_line = NULL;
    r->file_off = NULL;
    r->inlined = NULL;
    r->nframes = r->cap = 0;
}

static int grow_to(gs_symres *r, size_t cap)
{
    void *p;
#define GROW(field)                                              \
    p = realloc(r->field, cap * sizeof *r->field);               \
    if (!p)                                                      \
        return GS_ERR_NOMEM;                                     \
    r->field = p;
    GROW(func) GROW(name_off) GROW(file_off) GROW(line) GROW(start_line) GROW(inlined)
#undef GROW
    r->cap = cap;
    return GS_OK;
}

static int grow(gs_symres *r)
{
    return grow_to(r, r->cap ? 2 * r->cap : 1024);
}

static int emit(gs_symres *r, int32_t func, int32_t name_off, uint32_t file_off,
                int32_t line, int32_t start_line, uint8_t inlined)
{
    size_t k = r->nframes;
    if (k == r->cap && grow(r))
        return GS_ERR_NOMEM;
    r->func[k] = func;
    r->name_off[k] = name_off;
    r->file_off[k] = file_off;
    r->line[k] = line;
    r->start_line[k] = start_line;
    r->inlined[k] = inlined;
    r->nframes = k + 1;
    return GS_OK;
}

/* Per-function cache of what each inline record's parent pc resolves to. */
enum { PCACHE = 256 };
typedef struct parent_cache {
    uint32_t gen[PCACHE];
    uint32_t cur;
    int32_t line[PCACHE], ix[PCACHE];
    uint32_t file[PCACHE];
} parent_cache;

/* One pc-value table of the current function, decoded forward on demand
 * and kept as rows (end offset from the entry, value), so that both the
 * sorted pcs and the parent pcs of inline records, which may lie anywhere
 * in the function, are answered without walking the table again from the
 * entry.  A walk error is kept per table: rows before it stay good,
 * targets past it fail (as a fresh walk from the entry would). */
typedef struct rows {
    gs__pcv_iter it;
    uint64_t entry;
    uint32_t *end;
    int32_t *val;
    size_t n, cap, hint;
    int err;
} rows;

static void rows_begin(const gs_pcln *t, gs_reader *rd, rows *x, uint32_t tab, uint64_t entry)
{
    rd->err = GS_OK;
    gs__pcv_begin(t, rd, &x->it, tab, entry);
    x->err = rd->err != GS_OK;
    rd->err = GS_OK;
    x->entry = entry;
    x->n = x->hint = 0;
}

/* rows_at sets *v to the value at entry + off (-1 past the table's end).
 * Returns 0, -1 when the walk failed before reaching off, or
 * GS_ERR_NOMEM. */
static int rows_slow(const gs_pcln *t, gs_reader *rd, rows *x, uint32_t off, int32_t *v, int keep_hint);

static inline int rows_at(const gs_pcln *t, gs_reader *rd, rows *x, uint32_t off, int32_t *v)
{
    /* Sorted pcs mostly stay in the row of the last answer or the next. */
    size_t a = x->hint;
    if (a < x->n && x->end[a] > off && (a == 0 || x->end[a - 1] <= off)) {
        *v = x->val[a];
        return 0;
    }
    if (a + 1 < x->n && x->end[a + 1] > off && x->end[a] <= off) {
        x->hint = a + 1;
        *v = x->val[a + 1];
        return 0;
    }
    return rows_slow(t, rd, x, off, v, 1);
}

static int rows_slow(const gs_pcln *t, gs_reader *rd, rows *x, uint32_t off, int32_t *v, int keep_hint)
{
    size_t a, b;
    while (!x->it.done && (x->n == 0 || x->end[x->n - 1] <= off)) {
        uint64_t d;
        rd->err = GS_OK;
        if (!gs__pcv_step(t, rd, &x->it)) {
            x->err = rd->err != GS_OK;
            rd->err = GS_OK;
            break;
        }
        if (x->n == x->cap) {
            size_t cap = x->cap ? 2 * x->cap : 256;
            void *p = realloc(x->end, cap * sizeof *x->end);
            if (!p)
                return GS_ERR_NOMEM;
            x->end = p;
            p = realloc(x->val, cap * sizeof *x->val);
            if (!p)
                return GS_ERR_NOMEM;
            x->val = p;
            x->cap = cap;
        }
        d = x->it.next - x->entry;
        x->end[x->n] = d > 0xffffffffu ? 0xffffffffu : (uint32_t)d;
        x->val[x->n] = x->it.val;
        x->n++;
    }
    if (x->n == 0 || x->end[x->n - 1] <= off) {
        *v = -1;
        return x->err ? -1 : 0;
    }
    if (x->n == 1 || x->end[x->n - 2] <= off) {
        a = x->n - 1;  /* just decoded */
        goto found;
    }
    /* First row whose end is past off. */
    a = 0;
    b = x->n - 1;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (x->end[m] > off)
            b = m;
        else
            a = m + 1;
    }
found:
    if (keep_hint)
        x->hint = a;
    *v = x->val[a];
    return 0;
}

/* Symbolize the sorted packed keys[a:z) (pcs in whole functions: no
 * function's pcs are split between two calls) into r's frame arrays;
 * r->first and r->count are indexed by the keys' positions. */
static int sym_range(const gs_pcln *t, const gs_inl *c, const uint64_t *keys, size_t a, size_t z,
                     uint64_t lo, gs_symres *r)
{
    gs_reader rd = t->rd;
    size_t k;
    int64_t cur = -1;
    uint64_t cur_lo = 0, cur_hi = 0;
    int have = 0, rc = GS_OK;
    gs_func f;
    rows tabs[3];  /* line, file, inline index */
    size_t tree = 0;
    uint32_t inltab = 0;
    parent_cache *pc_cache;
    int32_t last_fno = -1;
    uint32_t last_fo = 0;

    rd.err = GS_OK;
    memset(tabs, 0, sizeof tabs);
    memset(&f, 0, sizeof f);
    pc_cache = calloc(1, sizeof *pc_cache);
    if (!pc_cache)
        return GS_ERR_NOMEM;
    /* Room for about 1.3 frames a pc (typical of Go code) up front, so the
     * frame arrays are rarely copied as they grow. */
    if (r->cap < (z - a) + (z - a) / 4 + 1024 && (rc = grow_to(r, (z - a) + (z - a) / 4 + 1024)))
        goto out;

    for (k = a; k < z; k++) {
        uint64_t pc = (keys[k] >> 32) + lo;
        size_t j = (size_t)(keys[k] & 0xffffffffu);
        size_t start = r->nframes;
        int32_t line, fno, ix = -1;
        uint32_t fo, off;
        int depth, e1, e2, e3;
        if (start > 0xffffff00u) {
            rc = GS_ERR_UNSUPPORTED;  /* frame indexes are 32-bit */
            goto out;
        }
        if (cur < 0 || pc < cur_lo || pc >= cur_hi) {
            int64_t i = gs_pcln_find(t, pc);
            if (i < 0) {
                cur = -1;
                continue;
            }
            cur = i;
            cur_lo = gs_pcln_entry(t, (uint64_t)i);
            cur_hi = gs_pcln_entry(t, (uint64_t)i + 1);
            rd.err = GS_OK;
            have = gs__decode_func(t, &rd, (uint64_t)i, &f) == GS_OK;
            tree = 0;
            inltab = 0;
            if (have) {
                gs_err e;
                if (c && c->layout != GS_INL_NONE && gs_inl_tree_off(t, c, &f, &tree, &e) == GS_OK && tree)
                    if (gs_pcdata_tab(t, &f, c->pcdata_inlindex, &inltab, &e) != GS_OK)
                        tree = 0;
                rows_begin(t, &rd, &tabs[0], f.pcln, f.entry);
                rows_begin(t, &rd, &tabs[1], f.pcfile, f.entry);
                rows_begin(t, &rd, &tabs[2], tree ? inltab : 0, f.entry);
                /* A table offset out of range fails the function. */
                have = !tabs[0].err && !tabs[1].err && !tabs[2].err;
            }
            pc_cache->cur++;
            last_fno = -1;
            last_fo = 0;
        }
        if (!have)
            continue;
        if (pc < f.entry) {
            /* A function record whose entry disagrees with the function
             * table: no row covers the pc. */
            line = fno = ix = -1;
            e1 = e2 = e3 = 0;
        } else {
            off = (uint32_t)(pc - f.entry);
            e1 = rows_at(t, &rd, &tabs[0], off, &line);
            e2 = rows_at(t, &rd, &tabs[1], off, &fno);
            e3 = rows_at(t, &rd, &tabs[2], off, &ix);
        }
        if (e1 == GS_ERR_NOMEM || e2 == GS_ERR_NOMEM || e3 == GS_ERR_NOMEM) {
            rc = GS_ERR_NOMEM;
            goto out;
        }
        if (e1 || e2 || e3) {
            /* The walk broke before this pc: every later pc of the
             * function is past the break too. */
            have = 0;
            continue;
        }
        if (!(tree && inltab))
            ix = -1;
        if (fno != last_fno) {
            rd.err = GS_OK;
            fo = (uint32_t)gs__file_at(t, &rd, &f, fno);
            if (rd.err) {
                rd.err = GS_OK;
                continue;
            }
            last_fno = fno;
            last_fo = fo;
        }
        fo = last_fo;
        for (depth = 0; ix >= 0; depth++) {
            gs_inl_rec rec;
            gs_err e;
            int32_t pline, pfno, pix;
            uint32_t pfo, poff;
            if (depth >= GS_INL_MAX_DEPTH || gs_inl_record(c, t->rd.big_endian, tree, ix, &rec, &e) ||
                rec.parent_pc < 0 || f.entry + (uint64_t)rec.parent_pc >= cur_hi)
                goto bad;
            if ((rc = emit(r, (int32_t)cur, rec.name_off, fo, line, rec.start_line, 1)))
                goto out;
            if (ix < PCACHE && pc_cache->gen[ix] == pc_cache->cur) {
                line = pc_cache->line[ix];
                fo = pc_cache->file[ix];
                ix = pc_cache->ix[ix];
                continue;
            }
            poff = (uint32_t)rec.parent_pc;
            /* Parent pcs jump around: they leave the sorted pcs' hints. */
            e1 = rows_slow(t, &rd, &tabs[0], poff, &pline, 0);
            e2 = rows_slow(t, &rd, &tabs[1], poff, &pfno, 0);
            e3 = rows_slow(t, &rd, &tabs[2], poff, &pix, 0);
            if (e1 == GS_ERR_NOMEM || e2 == GS_ERR_NOMEM || e3 == GS_ERR_NOMEM) {
                rc = GS_ERR_NOMEM;
                goto out;
            }
            if (e1 || e2 || e3)
                goto bad;
            rd.err = GS_OK;
            pfo = (uint32_t)gs__file_at(t, &rd, &f, pfno);
            if (rd.err) {
                rd.err = GS_OK;
                goto bad;
            }
            if (ix < PCACHE) {
                pc_cache->gen[ix] = pc_cache->cur;
                pc_cache->line[ix] = pline;
                pc_cache->file[ix] = pfo;
                pc_cache->ix[ix] = pix;
            }
            line = pline;
            fo = pfo;
            ix = pix;
        }
        if ((rc = emit(r, (int32_t)cur, f.name_off, fo, line, f.start_line, 0)))
            goto out;
        r->first[j] = (uint32_t)start;
        r->count[j] = (uint16_t)(r->nframes - start);
        continue;
    bad:
        /* A bad inline record fails this pc only. */
        r->nframes = start;
    }
out:
    for (k = 0; k < 3; k++) {
        free(tabs[k].end);
        free(tabs[k].val);
    }
    free(pc_cache);
    return rc;
}

/* One thread's share of a batch. */
typedef struct sym_job {
    const gs_pcln *t;
    const gs_inl *c;
    const uint64_t *keys;
    size_t a, z;
    uint64_t lo;
    gs_symres part;
    int rc;
} sym_job;

#ifndef _WIN32
static void *sym_job_run(void *arg)
{
    sym_job *j = arg;
    j->rc = sym_range(j->t, j->c, j->keys, j->a, j->z, j->lo, &j->part);
    return NULL;
}
#endif

int gs_cpu_count(void)
{
#ifndef _WIN32
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
#else
    return 1;
#endif
}

/* A text over 4 GiB (only in a corrupt table: no packed keys): each pc
 * on its own, through the single-pc walk. */
static int symbolize_each(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                          gs_symres *r)
{
    size_t k, j;
    int rc;
    for (k = 0; k < n; k++) {
        gs_frame fr[GS_INL_MAX_DEPTH];
        size_t nfr = 0, start = r->nframes;
        gs_err e;
        int64_t fi = gs_pcln_find(t, pcs[k]);
        if (fi < 0 || gs_inline_frames(t, c, pcs[k], fr, GS_INL_MAX_DEPTH, &nfr, &e) != GS_OK)
            continue;
        if (nfr == 0 || nfr > GS_INL_MAX_DEPTH)
            continue;
        if (start > 0xffffff00u)
            return GS_ERR_UNSUPPORTED;  /* frame indexes are 32-bit */
        for (j = 0; j < nfr; j++)
            if ((rc = emit(r, (int32_t)fi, fr[j].name_off, fr[j].file_off, fr[j].line,
                           fr[j].start_line, fr[j].inlined)))
                return rc;
        r->first[k] = (uint32_t)start;
        r->count[k] = (uint16_t)nfr;
    }
    return GS_OK;
}

/* Batches smaller than this a thread run in one thread. */
enum { MIN_PCS_PER_THREAD = 32768, MAX_THREADS = 16 };

int gs_pcln_symbolize_mt(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                         int nthreads, gs_symres *r)
{
    uint64_t *keys = NULL, *tmp = NULL, lo, hi;
    size_t k, m = 0;
    int rc = GS_OK;

    r->nframes = 0;
    for (k = 0; k < n; k++) {
        r->first[k] = 0;
        r->count[k] = 0;
    }
    if (n == 0 || t->nfunc == 0)
        return GS_OK;
    if (n > 0xffffffffu)
        return GS_ERR_ARG;
    lo = gs_pcln_entry(t, 0);
    hi = gs_pcln_entry(t, t->nfunc);
    if (hi < lo || hi - lo > 0xffffffffu)
        return symbolize_each(t, c, pcs, n, r);
    keys = malloc(n * sizeof *keys);
    tmp = malloc(n * sizeof *tmp);
    if (!keys || !tmp) {
        rc = GS_ERR_NOMEM;
        goto out;
    }
    for (k = 0; k < n; k++)
        if (pcs[k] >= lo && pcs[k] < hi)
            keys[m++] = ((pcs[k] - lo) << 32) | (uint64_t)k;
    gs__radix_sort_packed(&keys, &tmp, m, hi - lo);

    if (nthreads <= 0)
        nthreads = gs_cpu_count();
    if (nthreads > MAX_THREADS)
        nthreads = MAX_THREADS;
    if ((size_t)nthreads > m / MIN_PCS_PER_THREAD)
        nthreads = (int)(m / MIN_PCS_PER_THREAD);
#ifdef _WIN32
    nthreads = 1;
#endif
    if (nthreads <= 1) {
        rc = sym_range(t, c, keys, 0, m, lo, r);
        goto out;
    }
#ifndef _WIN32
    {
        sym_job jobs[MAX_THREADS];
        pthread_t tids[MAX_THREADS];
        int started[MAX_THREADS];
        int i;
        size_t prev = 0, total;
        memset(jobs, 0, sizeof jobs);
        memset(started, 0, sizeof started);
        /* Cut the sorted pcs into equal shares, each cut moved forward to
         * the end of the function it falls in. */
        for (i = 0; i < nthreads; i++) {
            size_t cut = i + 1 == nthreads ? m : m / (size_t)nthreads * (size_t)(i + 1);
            if (cut < prev)
                cut = prev;
            if (cut > 0 && cut < m) {
                int64_t fi = gs_pcln_find(t, (keys[cut - 1] >> 32) + lo);
                if (fi >= 0) {
                    uint64_t end = gs_pcln_entry(t, (uint64_t)fi + 1);
                    while (cut < m && (keys[cut] >> 32) + lo < end)
                        cut++;
                }
            }
            jobs[i].t = t;
            jobs[i].c = c;
            jobs[i].keys = keys;
            jobs[i].a = prev;
            jobs[i].z = cut;
            jobs[i].lo = lo;
            jobs[i].part.first = r->first;
            jobs[i].part.count = r->count;
            prev = cut;
        }
        /* Job 0 writes straight into r. */
        jobs[0].part = *r;
        for (i = 1; i < nthreads; i++)
            started[i] = pthread_create(&tids[i], NULL, sym_job_run, &jobs[i]) == 0;
        jobs[0].rc = sym_range(t, c, keys, jobs[0].a, jobs[0].z, lo, &jobs[0].part);
        for (i = 1; i < nthreads; i++) {
            if (started[i])
                pthread_join(tids[i], NULL);
            else  /* no thread: do its share here */
                jobs[i].rc = sym_range(t, c, keys, jobs[i].a, jobs[i].z, lo, &jobs[i].part);
        }
        *r = jobs[0].part;
        rc = jobs[0].rc;
        total = r->nframes;
        for (i = 1; i < nthreads; i++) {
            if (!rc)
                rc = jobs[i].rc;
            total += jobs[i].part.nframes;
        }
        if (!rc && total > 0xffffff00u)
            rc = GS_ERR_UNSUPPORTED;  /* frame indexes are 32-bit */
        if (!rc && total > r->cap)
            rc = grow_to(r, total);
        /* Append the other shares' frames; shift their pcs' first index. */
        for (i = 1; i < nthreads; i++) {
            gs_symres *p = &jobs[i].part;
            size_t base = r->nframes;
            if (!rc && p->nframes) {
                memcpy(r->func + base, p->func, p->nframes * sizeof *p->func);
                memcpy(r->name_off + base, p->name_off, p->nframes * sizeof *p->name_off);
                memcpy(r->file_off + base, p->file_off, p->nframes * sizeof *p->file_off);
                memcpy(r->line + base, p->line, p->nframes * sizeof *p->line);
                memcpy(r->start_line + base, p->start_line, p->nframes * sizeof *p->start_line);
                memcpy(r->inlined + base, p->inlined, p->nframes * sizeof *p->inlined);
                for (k = jobs[i].a; k < jobs[i].z; k++) {
                    size_t j = (size_t)(keys[k] & 0xffffffffu);
                    if (r->count[j])
                        r->first[j] += (uint32_t)base;
                }
                r->nframes = base + p->nframes;
            }
            gs_symres_free(p);
        }
    }
#endif
out:
    free(keys);
    free(tmp);
    return rc;
}

int gs_pcln_symbolize(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                      gs_symres *r)
{
    return gs_pcln_symbolize_mt(t, c, pcs, n, 1, r);
}
