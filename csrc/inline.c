/* inline.c - inlined-call expansion.  See inline.h. */
#include "inline.h"
#include "pclntab_int.h"

#include <stdlib.h>

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

static int grow(gs_symres *r)
{
    size_t cap = r->cap ? 2 * r->cap : 1024;
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

int gs_pcln_symbolize(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                      gs_symres *r)
{
    gs_reader rd = t->rd;
    uint64_t *keys = NULL, *tmp = NULL, lo, hi;
    size_t k, m = 0;
    int64_t cur = -1;
    uint64_t cur_lo = 0, cur_hi = 0;
    int have = 0, rc = GS_OK;
    gs_func f;
    gs__pcv_iter li, fi, xi;
    size_t tree = 0;
    uint32_t inltab = 0;
    parent_cache *pc_cache;

    rd.err = GS_OK;
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
    if (hi - lo > 0xffffffffu)
        return GS_ERR_UNSUPPORTED;
    pc_cache = calloc(1, sizeof *pc_cache);
    keys = malloc(n * sizeof *keys);
    tmp = malloc(n * sizeof *tmp);
    if (!pc_cache || !keys || !tmp) {
        rc = GS_ERR_NOMEM;
        goto out;
    }
    for (k = 0; k < n; k++)
        if (pcs[k] >= lo && pcs[k] < hi)
            keys[m++] = ((pcs[k] - lo) << 32) | (uint64_t)k;
    gs__radix_sort_packed(&keys, &tmp, m, hi - lo);
    memset(&f, 0, sizeof f);
    memset(&li, 0, sizeof li);
    memset(&fi, 0, sizeof fi);
    memset(&xi, 0, sizeof xi);

    for (k = 0; k < m; k++) {
        uint64_t pc = (keys[k] >> 32) + lo;
        size_t j = (size_t)(keys[k] & 0xffffffffu);
        size_t start = r->nframes;
        int32_t line, fno, ix = -1;
        if (start > 0xffffff00u) {
            rc = GS_ERR_UNSUPPORTED;  /* frame indexes are 32-bit */
            goto out;
        }
        uint32_t fo;
        int depth;
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
                gs__pcv_begin(t, &rd, &li, f.pcln, f.entry);
                gs__pcv_begin(t, &rd, &fi, f.pcfile, f.entry);
                gs__pcv_begin(t, &rd, &xi, tree ? inltab : 0, f.entry);
                have = rd.err == GS_OK;
            }
            pc_cache->cur++;
        }
        if (!have)
            continue;
        while (!li.done && li.next <= pc)
            gs__pcv_step(t, &rd, &li);
        while (!fi.done && fi.next <= pc)
            gs__pcv_step(t, &rd, &fi);
        while (!xi.done && xi.next <= pc)
            gs__pcv_step(t, &rd, &xi);
        if (rd.err) {
            have = 0;
            continue;
        }
        line = li.done ? -1 : li.val;
        fno = fi.done ? -1 : fi.val;
        ix = (tree && inltab && !xi.done) ? xi.val : -1;
        fo = (uint32_t)gs__file_at(t, &rd, &f, fno);
        if (rd.err) {
            rd.err = GS_OK;
            continue;
        }
        for (depth = 0; ix >= 0; depth++) {
            gs_inl_rec rec;
            gs_err e;
            uint64_t ppc;
            if (depth >= GS_INL_MAX_DEPTH || gs_inl_record(c, t->rd.big_endian, tree, ix, &rec, &e) ||
                rec.parent_pc < 0 || f.entry + (uint64_t)rec.parent_pc >= cur_hi)
                goto bad;
            if ((rc = emit(r, (int32_t)cur, rec.name_off, fo, line, rec.start_line, 1)))
                goto out;
            ppc = f.entry + (uint64_t)rec.parent_pc;
            if (ix < PCACHE && pc_cache->gen[ix] == pc_cache->cur) {
                line = pc_cache->line[ix];
                fo = pc_cache->file[ix];
                ix = pc_cache->ix[ix];
                continue;
            }
            {
                int32_t pline, pfno, pix;
                uint32_t pfo;
                gs_reader prd = t->rd;
                prd.err = GS_OK;
                pline = gs__pcvalue(t, &prd, f.pcln, f.entry, ppc);
                pfno = gs__pcvalue(t, &prd, f.pcfile, f.entry, ppc);
                pix = gs__pcvalue(t, &prd, inltab, f.entry, ppc);
                pfo = prd.err ? 0 : (uint32_t)gs__file_at(t, &prd, &f, pfno);
                if (prd.err)
                    goto bad;
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
    free(pc_cache);
    free(keys);
    free(tmp);
    return rc;
}
