/* inline.c - inlined-call expansion.  See inline.h. */
#include "inline.h"

static int set_err(gs_err *e, int code, size_t off, const char *msg)
{
    if (e) {
        e->code = code;
        e->off = off;
        e->msg = msg;
    }
    return code;
}

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
        return set_err(e, GS_ERR_FORMAT, f->off, "pcdata count past the end of the table");
    p = f->pcdata_off + 4 * (size_t)f->npcdata;
    if (t->version >= GS_VER118) {
        uint32_t o = gs_u32_at(&rd, p + 4 * (size_t)c->funcdata_inltree);
        if (rd.err)
            return set_err(e, GS_ERR_FORMAT, rd.err_off, "funcdata past the end of the table");
        if (o == 0xffffffffu || c->gofunc == 0)
            return GS_OK;
        va = c->gofunc + o;
    } else {
        /* Pointers, aligned to the pointer size in memory. */
        if (t->ptr_size == 8 && ((c->pcln_va + p) & 4))
            p += 4;
        va = gs_ptr_at(&rd, p + (size_t)t->ptr_size * c->funcdata_inltree);
        if (rd.err)
            return set_err(e, GS_ERR_FORMAT, rd.err_off, "funcdata past the end of the table");
        if (va == 0)
            return GS_OK;
    }
    if (!va_off(c, va, 1, off)) {
        *off = 0;
        return set_err(e, GS_ERR_FORMAT, f->off, "inline tree address outside the file");
    }
    return GS_OK;
}

int gs_inl_record(const gs_inl *c, int big_endian, size_t tree, int32_t ix,
                  gs_inl_rec *out, gs_err *e)
{
    gs_reader fr;
    size_t recsize, rec;
    if (c == NULL || c->layout == GS_INL_NONE)
        return set_err(e, GS_ERR_ARG, 0, "inline expansion is off");
    recsize = c->layout == GS_INL_16 ? 16 : 20;
    gs_rd_init(&fr, c->file, c->file_len, big_endian, 8);
    if (ix < 0 || tree > fr.len || (size_t)ix > (fr.len - tree) / recsize)
        return set_err(e, GS_ERR_FORMAT, tree, "inline tree index out of range");
    rec = tree + (size_t)ix * recsize;
    if (!gs_rd_has(&fr, rec, recsize))
        return set_err(e, GS_ERR_FORMAT, rec, "inline tree record past end of file");
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
            return set_err(e, GS_ERR_FORMAT, tree, "inline tree deeper than 128 calls (a cycle?)");
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
                return set_err(e, GS_ERR_FORMAT, tree, "inline parent pc outside the function");
            cur = f.entry + (uint64_t)r.parent_pc;
            continue;
        }
    }
    *n = k;
    return GS_OK;
}
