/* symbolize.c - the batch symbolizer: many pcs, inlined frames included,
 * into columns (gs_symres), cut at function boundaries over threads.  See
 * inline.h (gs_pcln_symbolize). */
#include "inline.h"
#include "pclntab_int.h"

#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <pthread.h>
#include <unistd.h>
#endif

void gs_symres_free(gs_symres *r)
{
    if (!r->borrowed) {
        free(r->func);
        free(r->name_off);
        free(r->file_off);
        free(r->line);
        free(r->start_line);
        free(r->inlined);
    }
    r->func = r->name_off = r->line = r->start_line = NULL;
    r->file_off = NULL;
    r->inlined = NULL;
    r->nframes = r->cap = 0;
    r->borrowed = 0;
}

static int grow_to(gs_symres *r, size_t cap)
{
    void *p;
    if (r->borrowed) {
        /* The caller's arrays are full: the frames move to our own. */
        gs_symres own;
        memset(&own, 0, sizeof own);
        if (grow_to(&own, cap)) {
            gs_symres_free(&own);
            return GS_ERR_NOMEM;
        }
#define MOVE(field) memcpy(own.field, r->field, r->nframes * sizeof *r->field); r->field = own.field;
        MOVE(func) MOVE(name_off) MOVE(file_off) MOVE(line) MOVE(start_line) MOVE(inlined)
#undef MOVE
        r->cap = cap;
        r->borrowed = 0;
        return GS_OK;
    }
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

#if defined(__GNUC__)
#define SYM_NOINLINE __attribute__((noinline))
#else
#define SYM_NOINLINE
#endif

static SYM_NOINLINE int grow_for(gs_symres *r, size_t need)
{
    size_t cap = r->cap ? 2 * r->cap : 1024;
    while (cap < need)
        cap *= 2;
    return grow_to(r, cap);
}

static inline int emit(gs_symres *r, int32_t func, int32_t name_off, uint32_t file_off,
                       int32_t line, int32_t start_line, uint8_t inlined)
{
    size_t k = r->nframes;
    if (k == r->cap && grow_for(r, k + 1))
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

/* What each inline record of the current function gives, once read: its
 * fields and what its parent pc resolves to (line, file offset, inline
 * index).  Slot ix is current when gen[ix] == cur; records past
 * INL_CACHE_MAX are read each time. */
enum { INL_CACHE_MAX = 1 << 16 };
typedef struct inl_cache {
    uint32_t *gen;
    struct inl_slot {
        int32_t name_off, start_line, line, ix;
        uint32_t file;
        uint8_t func_id;
    } *slot;
    size_t cap;
    uint32_t cur;
} inl_cache;

/* Room for slot ix; 0 when it cannot be cached. */
static SYM_NOINLINE int inl_cache_fit(inl_cache *c, int32_t ix)
{
    size_t cap = c->cap ? c->cap : 64, k;
    void *p;
    if (ix < 0 || ix >= INL_CACHE_MAX)
        return 0;
    while (cap <= (size_t)ix)
        cap *= 2;
    if (!(p = realloc(c->gen, cap * sizeof *c->gen)))
        return 0;
    c->gen = p;
    if (!(p = realloc(c->slot, cap * sizeof *c->slot)))
        return 0;
    c->slot = p;
    for (k = c->cap; k < cap; k++)
        c->gen[k] = 0;
    c->cap = cap;
    return 1;
}

/* One table's value at off, for offsets that mostly ascend: row *a is the
 * scan's position among the decoded rows (every row kept).  Offsets past
 * the decoded rows, or behind the scan, go through gs_pcv_rows_at. */
static inline int tab_at(const gs_pcln *t, gs_pcv_rows *x, size_t *a, uint32_t off, int32_t *v)
{
    size_t i = *a, n = x->n;
    const uint32_t *end = x->end;
    if (i > 0 && end[i - 1] > off)
        return gs_pcv_rows_at(t, x, off, v, 0);
    while (i < n && end[i] <= off)
        i++;
    *a = i;
    if (i < n) {
        *v = x->val[i];
        return 0;
    }
    if (x->it.done) {
        /* Past the last row of a finished walk: the table ended (-1), or
         * broke, before off. */
        *v = -1;
        return x->err ? -1 : 0;
    }
    return gs_pcv_rows_at(t, x, off, v, 0);
}

/* The pc's offset in function f, as reported (gs_call_pc). */
static inline uint32_t pc_off(const gs_func *f, uint64_t pc, unsigned flags)
{
    return (uint32_t)(gs_call_pc(f->entry, pc, flags) - f->entry);
}

enum { PREFETCH = 16 };

/* Symbolize the sorted packed keys[a:z) (pcs in whole functions: no
 * function's pcs are split between two calls) into r's frame arrays;
 * r->first and r->count are indexed by the keys' positions.
 *
 * Function by function: its line, file and inline-index tables are decoded
 * once, as rows, up to its last pc; the pcs then read their values by a
 * forward scan of the rows, and the inline records' parent pcs (anywhere in
 * the function) by a search of them, once per record (inl_cache). */
static int sym_range(const gs_pcln *t, const gs_inl *c, const uint64_t *keys, size_t a, size_t z,
                     uint64_t lo, unsigned flags, gs_symres *r)
{
    gs_reader rd = t->rd;
    size_t k, g;
    int64_t cur = -1;
    int rc = GS_OK;
    gs_func f;
    gs_pcv_rows tabs[3];  /* line, file, inline index: every row kept */
    inl_cache ic;

    rd.err = GS_OK;
    memset(tabs, 0, sizeof tabs);
    memset(&f, 0, sizeof f);
    memset(&ic, 0, sizeof ic);
    /* Room for about 1.3 frames a pc (typical of Go code) up front, so the
     * frame arrays are rarely copied as they grow. */
    if (r->cap < (z - a) + (z - a) / 4 + 1024 && (rc = grow_to(r, (z - a) + (z - a) / 4 + 1024)))
        goto out;

    for (k = a; k < z; k = g) {
        uint64_t pc = (keys[k] >> 32) + lo, cur_hi;
        size_t tree = 0, scan[3] = {0, 0, 0};
        uint32_t inltab = 0;
        int32_t last_fno = -1;
        uint32_t last_fo = 0;
        int have;
        int64_t i = gs__find_next(t, cur, pc);
        if (i < 0) {
            g = k + 1;  /* a miss: no frames */
            continue;
        }
        cur = i;
        cur_hi = gs_pcln_entry(t, (uint64_t)i + 1);
        for (g = k + 1; g < z && (keys[g] >> 32) + lo < cur_hi; g++)
            ;
        rd.err = GS_OK;
        if (gs__decode_func(t, &rd, (uint64_t)i, &f) != GS_OK)
            continue;
        if (c && c->layout != GS_INL_NONE) {
            gs_err e;
            if (gs_inl_tree_off(t, c, &f, &tree, &e) == GS_OK && tree)
                if (gs_pcdata_tab(t, &f, c->pcdata_inlindex, &inltab, &e) != GS_OK)
                    tree = 0;
        }
        if (!tree)
            inltab = 0;
        /* A table offset out of range fails the function. */
        have = !gs_pcv_rows_begin(t, &tabs[0], f.pcln, f.entry, 1) &
               !gs_pcv_rows_begin(t, &tabs[1], f.pcfile, f.entry, 1) &
               !gs_pcv_rows_begin(t, &tabs[2], inltab, f.entry, 1);
        if (!have)
            continue;
        ic.cur++;
        if (ic.cur == 0) {  /* the generations wrapped: forget every slot */
            if (ic.cap)
                memset(ic.gen, 0, ic.cap * sizeof *ic.gen);
            ic.cur = 1;
        }
        {
            /* Decode each table to the last pc at once (its later pcs then
             * scan decoded rows).  An error is the scan's to report. */
            uint64_t last = (keys[g - 1] >> 32) + lo;
            if (last >= f.entry) {
                uint32_t lastoff = pc_off(&f, last, flags);
                int32_t v;
                for (size_t q = 0; q < 3; q++)
                    if (gs_pcv_rows_at(t, &tabs[q], lastoff, &v, 0) == GS_ERR_NOMEM) {
                        rc = GS_ERR_NOMEM;
                        goto out;
                    }
            }
        }
        for (; k < g; k++) {
            size_t j = (size_t)(keys[k] & 0xffffffffu), start = r->nframes;
            int32_t line, fno, ix = -1, line0;
            uint32_t fo, fo0, off;
            int depth, e1, e2, e3, callee = -1, keep;
            pc = (keys[k] >> 32) + lo;
#if defined(__GNUC__)
            /* The answers go to the pcs' positions, which jump around:
             * start fetching the lines they land in a few pcs ahead. */
            if (k + PREFETCH < z) {
                size_t jn = (size_t)(keys[k + PREFETCH] & 0xffffffffu);
                __builtin_prefetch(&r->first[jn], 1);
                __builtin_prefetch(&r->count[jn], 1);
            }
#endif
            if (start > 0xffffff00u) {
                rc = GS_ERR_UNSUPPORTED;  /* frame indexes are 32-bit */
                goto out;
            }
            if (pc < f.entry) {
                /* A function record whose entry disagrees with the function
                 * table: no row covers the pc. */
                line = fno = ix = -1;
            } else {
                off = pc_off(&f, pc, flags);
                e1 = tab_at(t, &tabs[0], &scan[0], off, &line);
                e2 = tab_at(t, &tabs[1], &scan[1], off, &fno);
                e3 = inltab ? tab_at(t, &tabs[2], &scan[2], off, &ix) : 0;
                if (e1 == GS_ERR_NOMEM || e2 == GS_ERR_NOMEM || e3 == GS_ERR_NOMEM) {
                    rc = GS_ERR_NOMEM;
                    goto out;
                }
                if (e1 || e2 || e3) {
                    /* The walk broke before this pc: every later pc of the
                     * function is past the break too. */
                    k = g;
                    break;
                }
            }
            if (!inltab)
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
            line0 = line;
            fo0 = fo;
            for (depth = 0; ix >= 0; depth++) {
                struct inl_slot s, *sp;
                int32_t pline, pfno, pix;
                uint32_t pfo, poff;
                if (depth >= GS_INL_MAX_DEPTH)
                    goto bad;
                if ((size_t)ix < ic.cap && ic.gen[ix] == ic.cur) {
                    sp = &ic.slot[ix];
                } else {
                    gs_inl_rec rec;
                    gs_err e;
                    if (gs_inl_record(c, t->rd.big_endian, tree, ix, &rec, &e) ||
                        rec.parent_pc < 0 || f.entry + (uint64_t)rec.parent_pc >= cur_hi)
                        goto bad;
                    poff = (uint32_t)rec.parent_pc;
                    /* Parent pcs jump around: a search of the rows. */
                    e1 = gs_pcv_rows_at(t, &tabs[0], poff, &pline, 0);
                    e2 = gs_pcv_rows_at(t, &tabs[1], poff, &pfno, 0);
                    e3 = gs_pcv_rows_at(t, &tabs[2], poff, &pix, 0);
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
                    s.name_off = rec.name_off;
                    s.start_line = rec.start_line;
                    s.func_id = rec.func_id;
                    s.line = pline;
                    s.file = pfo;
                    s.ix = pix;
                    sp = &s;
                    if (((size_t)ix < ic.cap || inl_cache_fit(&ic, ix))) {
                        ic.gen[ix] = ic.cur;
                        ic.slot[ix] = s;
                    }
                }
                /* Wrappers the runtime's tracebacks hide are left out (inline.h). */
                keep = depth == 0 || (flags & GS_FR_WRAPPERS) || !gs_inl_hides(c, sp->func_id, callee);
                callee = sp->func_id;
                if (keep && (rc = emit(r, (int32_t)cur, sp->name_off, fo, line, sp->start_line, 1)))
                    goto out;
                line = sp->line;
                fo = sp->file;
                ix = sp->ix;
            }
            keep = depth == 0 || (flags & GS_FR_WRAPPERS) || !gs_inl_hides(c, f.func_id, callee);
            if (keep && (rc = emit(r, (int32_t)cur, f.name_off, fo, line, f.start_line, 0)))
                goto out;
            r->first[j] = (uint32_t)start;
            r->count[j] = (uint16_t)(r->nframes - start);
            continue;
        bad:
            /* The inline tree cannot be followed from this pc: the physical
             * function at the pc's own position (gs_func_frames does the same). */
            r->nframes = start;
            if ((rc = emit(r, (int32_t)cur, f.name_off, fo0, line0, f.start_line, 0)))
                goto out;
            r->first[j] = (uint32_t)start;
            r->count[j] = 1;
            r->npartial++;
        }
    }
out:
    for (k = 0; k < 3; k++)
        gs_pcv_rows_free(&tabs[k]);
    free(ic.gen);
    free(ic.slot);
    return rc;
}

/* One thread's share of a batch. */
typedef struct sym_job {
    const gs_pcln *t;
    const gs_inl *c;
    const uint64_t *keys;
    size_t a, z;
    uint64_t lo;
    unsigned flags;
    gs_symres part;
    int rc;
} sym_job;

#ifndef _WIN32
static void *sym_job_run(void *arg)
{
    sym_job *j = arg;
    j->rc = sym_range(j->t, j->c, j->keys, j->a, j->z, j->lo, j->flags, &j->part);
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
                          unsigned flags, gs_symres *r)
{
    size_t k, j;
    int rc;
    for (k = 0; k < n; k++) {
        gs_frame fr[GS_INL_MAX_DEPTH];
        size_t nfr = 0, start = r->nframes;
        gs_err e;
        int64_t fi = gs_pcln_find(t, pcs[k]);
        if (fi < 0)
            continue;
        if (gs_func_frames(t, c, NULL, (uint64_t)fi, pcs[k], flags, fr, GS_INL_MAX_DEPTH, &nfr, &e)) {
            if (nfr != 1)
                continue;
            r->npartial++;  /* the physical frame only */
        }
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
                         int nthreads, unsigned flags, gs_symres *r)
{
    uint64_t *keys = NULL, *tmp = NULL, lo, hi;
    size_t k, m = 0;
    int rc = GS_OK;

    r->nframes = 0;
    r->npartial = 0;
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
        return symbolize_each(t, c, pcs, n, flags, r);
    keys = gs__scratch_alloc(n * sizeof *keys);
    tmp = gs__scratch_alloc(n * sizeof *tmp);
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
        rc = sym_range(t, c, keys, 0, m, lo, flags, r);
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
            jobs[i].flags = flags;
            jobs[i].part.first = r->first;
            jobs[i].part.count = r->count;
            prev = cut;
        }
        /* Job 0 writes straight into r. */
        jobs[0].part = *r;
        for (i = 1; i < nthreads; i++)
            started[i] = pthread_create(&tids[i], NULL, sym_job_run, &jobs[i]) == 0;
        jobs[0].rc = sym_range(t, c, keys, jobs[0].a, jobs[0].z, lo, flags, &jobs[0].part);
        for (i = 1; i < nthreads; i++) {
            if (started[i])
                pthread_join(tids[i], NULL);
            else  /* no thread: do its share here */
                jobs[i].rc = sym_range(t, c, keys, jobs[i].a, jobs[i].z, lo, flags, &jobs[i].part);
        }
        *r = jobs[0].part;
        rc = jobs[0].rc;
        total = r->nframes;
        for (i = 1; i < nthreads; i++) {
            if (!rc)
                rc = jobs[i].rc;
            total += jobs[i].part.nframes;
            r->npartial += jobs[i].part.npartial;
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
    return gs_pcln_symbolize_mt(t, c, pcs, n, 1, 0, r);
}
