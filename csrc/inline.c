/* inline.c - inlined-call expansion.  See inline.h. */
#include "inline.h"
#include "pclntab_int.h"
#include "goformat.h"

#include <stdlib.h>
#include <string.h>

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
        if (o == GS_FUNCDATA_NONE || c->gofunc == 0)
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
    recsize = c->layout == GS_INL_16 ? GS_INLREC16_SIZE : GS_INLREC20_SIZE;
    gs_rd_init(&fr, c->file, c->file_len, big_endian, 8);
    if (ix < 0 || tree > fr.len || (size_t)ix > (fr.len - tree) / recsize)
        return gs_set_err(e, GS_ERR_FORMAT, tree, "inline tree index out of range");
    rec = tree + (size_t)ix * recsize;
    if (!gs_rd_has(&fr, rec, recsize))
        return gs_set_err(e, GS_ERR_FORMAT, rec, "inline tree record past end of file");
    if (recsize == GS_INLREC16_SIZE) {
        out->func_id = gs_u8_at(&fr, rec + GS_INLREC16_FUNCID);
        out->name_off = (int32_t)gs_u32_at(&fr, rec + GS_INLREC16_NAMEOFF);
        out->parent_pc = (int32_t)gs_u32_at(&fr, rec + GS_INLREC16_PARENTPC);
        out->start_line = (int32_t)gs_u32_at(&fr, rec + GS_INLREC16_STARTLINE);
    } else {
        out->func_id = gs_u8_at(&fr, rec + GS_INLREC20_FUNCID);
        out->name_off = (int32_t)gs_u32_at(&fr, rec + GS_INLREC20_NAMEOFF);
        out->parent_pc = (int32_t)gs_u32_at(&fr, rec + GS_INLREC20_PARENTPC);
        out->start_line = 0;
    }
    return GS_OK;
}

int gs_inline_frames(const gs_pcln *t, const gs_inl *c, uint64_t pc,
                     gs_frame *out, size_t cap, size_t *n, gs_err *e)
{
    int64_t i = gs_pcln_find(t, pc);
    *n = 0;
    if (i < 0)
        return GS_OK;
    return gs_func_frames(t, c, NULL, (uint64_t)i, pc, 0, out, cap, n, e);
}

void gs_inl_funcids(const gs_pcln *t, gs_inl *c)
{
    static const char *const want[4] = {"runtime.gopanic", "runtime.sigpanic", "runtime.panicwrap",
                                        "runtime.asyncPreempt"};
    int id[4] = {-1, -1, -1, -1}, found = 0;
    uint64_t i;
    for (i = 0; i < t->nfunc && found < 4; i++) {
        gs_func f;
        gs_err e;
        const char *s;
        size_t n, w;
        if (gs_pcln_func(t, i, &f, &e) || gs_pcln_name(t, f.name_off, &s, &n, &e))
            continue;
        if (n < 15 || memcmp(s, "runtime.", 8) != 0)
            continue;
        for (w = 0; w < 4; w++)
            if (id[w] < 0 && strlen(want[w]) == n && memcmp(s, want[w], n) == 0) {
                id[w] = f.func_id;
                found++;
            }
    }
    c->fid_gopanic = id[0];
    c->fid_sigpanic = id[1];
    c->fid_panicwrap = id[2];
    /* FuncIDWrapper is the last funcID.  Go 1.12-1.15 (runtime/symtab.go):
     * ..., sigpanic = 9, ..., gopanic = 18, panicwrap, [handleAsyncEvent,
     * asyncPreempt = 21 from 1.14,] wrapper.  Go 1.16+ sorts the names:
     * ..., sigpanic, systemstack, systemstack_switch, wrapper. */
    if (id[0] < 0 || id[1] < 0)
        c->fid_wrapper = -1;
    else if (id[0] == 18 && id[1] == 9)
        c->fid_wrapper = id[3] == 21 ? 22 : 20;
    else
        c->fid_wrapper = id[1] + 3;
    c->fids_known = 1;
}

void gs_pcln_call_pcs(const gs_pcln *t, const uint64_t *pcs, size_t n, uint64_t *out)
{
    size_t k;
    int64_t i = -1;
    uint64_t lo = 0, hi = 0;
    for (k = 0; k < n; k++) {
        uint64_t pc = pcs[k];
        /* Profiles repeat pcs of one function: try the last one first. */
        if (i < 0 || pc < lo || pc >= hi) {
            i = gs_pcln_find(t, pc);
            if (i >= 0) {
                lo = gs_pcln_entry(t, (uint64_t)i);
                hi = gs_pcln_entry(t, (uint64_t)i + 1);
            }
        }
        /* The functab's entry is the record's (gs_pcln_find answers from it). */
        out[k] = i < 0 ? pc : gs_call_pc(lo, pc, GS_FR_RETURN_ADDRESS);
    }
}
