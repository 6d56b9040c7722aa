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

/* The single lookup's checkpoints of long functions: direct-mapped by
 * function index, each slot the three tables' rows kept every
 * LOOKUP_STRIDE steps and decoded only as far as questions reach. */
enum { LOOKUP_LONG = 2048, LOOKUP_SLOTS = 4096, LOOKUP_STRIDE = 8 };

typedef struct lookup_slot {
    int64_t func;            /* -1: empty */
    gs_pcv_rows tabs[3];     /* line, file, inline index */
} lookup_slot;

struct gs_lookup_cache {
    lookup_slot *slots;      /* LOOKUP_SLOTS, allocated on first use */
    /* The function search's buckets (gs_lookup_find): bucket b holds the
     * index of the function containing lo + (b << shift); built on first
     * after FIND_AFTER searches (building reads every entry: it pays back
     * over many lookups, not a few), 4 bytes per FIND_PER functions.
     * find_state 0: not built; 1:
     * built; -1: not used (no memory, or entries that do not ascend,
     * where the plain binary search keeps its own answers). */
    uint32_t *bucket;
    uint64_t find_lo, find_hi, nbucket;
    unsigned shift, finds;
    int find_state;
};

gs_lookup_cache *gs_lookup_cache_new(void)
{
    return calloc(1, sizeof(gs_lookup_cache));
}

void gs_lookup_cache_clear(gs_lookup_cache *cache)
{
    size_t k, j;
    if (cache == NULL)
        return;
    free(cache->bucket);
    cache->bucket = NULL;
    cache->find_state = 0;
    cache->finds = 0;
    if (cache->slots == NULL)
        return;
    for (k = 0; k < LOOKUP_SLOTS; k++)
        for (j = 0; j < 3; j++)
            gs_pcv_rows_free(&cache->slots[k].tabs[j]);
    free(cache->slots);
    cache->slots = NULL;
}

void gs_lookup_cache_free(gs_lookup_cache *cache)
{
    gs_lookup_cache_clear(cache);
    free(cache);
}

/* Functions per bucket of the function search, on average, and the
 * searches made before the buckets are built. */
enum { FIND_PER = 8, FIND_AFTER = 4096 };

static void find_build(const gs_pcln *t, gs_lookup_cache *c)
{
    uint64_t n = t->nfunc, lo, hi, want, b, i, prev;
    unsigned shift = 0;
    c->find_state = -1;
    if (n < 2 * FIND_PER || n > 0xffffffffu)
        return;
    lo = gs_pcln_entry(t, 0);
    hi = gs_pcln_entry(t, n);
    if (hi <= lo)
        return;
    want = n / FIND_PER;
    while (shift < 63 && ((hi - lo - 1) >> shift) >= want)
        shift++;
    c->nbucket = ((hi - lo - 1) >> shift) + 1;
    c->bucket = malloc(c->nbucket * sizeof *c->bucket);
    if (c->bucket == NULL)
        return;
    /* One sweep: entries must ascend (else the plain search is used). */
    prev = lo;
    for (i = 0, b = 0; b < c->nbucket; b++) {
        uint64_t at = lo + (b << shift);
        while (i + 1 <= n) {
            uint64_t e = gs_pcln_entry(t, i + 1);
            if (e < prev)
                goto unsorted;
            if (e > at)
                break;
            prev = e;
            i++;
        }
        c->bucket[b] = (uint32_t)i;
    }
    for (; i < n; i++) {
        uint64_t e = gs_pcln_entry(t, i + 1);
        if (e < prev)
            goto unsorted;
        prev = e;
    }
    c->find_lo = lo;
    c->find_hi = hi;
    c->shift = shift;
    c->find_state = 1;
    return;
unsorted:
    free(c->bucket);
    c->bucket = NULL;
}

int64_t gs_lookup_find(const gs_pcln *t, gs_lookup_cache *cache, uint64_t pc)
{
    uint64_t b, lo, hi;
    if (cache == NULL)
        return gs_pcln_find(t, pc);
    if (cache->find_state == 0) {
        if (++cache->finds < FIND_AFTER)
            return gs_pcln_find(t, pc);
        find_build(t, cache);
    }
    if (cache->find_state < 0)
        return gs_pcln_find(t, pc);
    if (pc < cache->find_lo || pc >= cache->find_hi)
        return -1;
    b = (pc - cache->find_lo) >> cache->shift;
    /* The answer: the last function whose entry is at or below pc, in
     * [bucket[b], bucket[b + 1]] (the table ascends). */
    lo = cache->bucket[b];
    hi = b + 1 < cache->nbucket ? (uint64_t)cache->bucket[b + 1] + 1 : t->nfunc;
    return (int64_t)gs_pcln_find_between(t, pc, lo, hi);
}

/* The slot of function i with its tables begun, or NULL (no memory: the
 * caller walks from the entry instead). */
static lookup_slot *lookup_slot_for(const gs_pcln *t, gs_lookup_cache *cache, uint64_t i,
                                    const gs_func *f, uint32_t inltab)
{
    lookup_slot *s;
    if (cache->slots == NULL) {
        size_t k;
        cache->slots = calloc(LOOKUP_SLOTS, sizeof *cache->slots);
        if (cache->slots == NULL)
            return NULL;
        for (k = 0; k < LOOKUP_SLOTS; k++)
            cache->slots[k].func = -1;
    }
    s = &cache->slots[i % LOOKUP_SLOTS];
    if (s->func != (int64_t)i) {
        s->func = (int64_t)i;
        gs_pcv_rows_begin(t, &s->tabs[0], f->pcln, f->entry, LOOKUP_STRIDE);
        gs_pcv_rows_begin(t, &s->tabs[1], f->pcfile, f->entry, LOOKUP_STRIDE);
        gs_pcv_rows_begin(t, &s->tabs[2], inltab, f->entry, LOOKUP_STRIDE);
    }
    return s;
}

/* The value of table tab at pc: from the slot's checkpoints when there is
 * one, else by a walk from the entry (which also names any error). */
static int32_t value_at(const gs_pcln *t, gs_reader *rd, lookup_slot *s, int which, uint32_t tab,
                        uint64_t entry, uint64_t pc)
{
    if (s && pc >= entry && pc - entry <= 0xffffffffu) {
        int32_t v;
        int rc = gs_pcv_rows_at(t, &s->tabs[which], (uint32_t)(pc - entry), &v, 0);
        if (rc == 0)
            return v;
    }
    return gs_pcv_value(t, rd, tab, entry, pc);
}

/* The physical function's frame at the walk's first pc (the innermost
 * position), for an expansion that failed. */
static int physical_only(const gs_pcln *t, gs_reader *rd, lookup_slot *slot, const gs_func *f,
                         uint64_t pc, gs_frame *out, size_t cap, size_t *n)
{
    int32_t line = value_at(t, rd, slot, 0, f->pcln, f->entry, pc);
    int32_t fno = value_at(t, rd, slot, 1, f->pcfile, f->entry, pc);
    size_t foff = rd->err ? 0 : gs__file_at(t, rd, f, fno);
    if (rd->err)
        return 0;
    if (cap > 0) {
        out[0].name_off = f->name_off;
        out[0].file_off = (uint32_t)foff;
        out[0].line = line;
        out[0].start_line = f->start_line;
        out[0].pc = pc;
        out[0].inlined = 0;
        out[0].func_id = f->func_id;
    }
    *n = 1;
    return 1;
}

int gs_func_frames(const gs_pcln *t, const gs_inl *c, gs_lookup_cache *cache, uint64_t i,
                   uint64_t pc, unsigned flags, gs_frame *out, size_t cap, size_t *n, gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
    gs_func f;
    size_t tree = 0, k = 0, depth;
    uint32_t inltab = 0;
    uint64_t cur, end;
    lookup_slot *slot = NULL;
    int32_t seen[GS_INL_MAX_DEPTH];
    int callee = -1;
    const char *why = NULL;

    *n = 0;
    if (gs__decode_func(t, &rd, i, &f))
        return gs_rd_finish(&rd, e);
    end = gs_pcln_entry(t, i + 1);
    cur = gs_call_pc(f.entry, pc, flags);
    pc = cur;
    if (gs_inl_tree_off(t, c, &f, &tree, e)) {
        tree = 0;
        why = "inline tree address outside the file";
    }
    if (tree && gs_pcdata_tab(t, &f, c->pcdata_inlindex, &inltab, e)) {
        tree = 0;
        why = "inline index table out of range";
    }
    if (!tree)
        inltab = 0;
    if (cache && end > f.entry && end - f.entry >= LOOKUP_LONG)
        slot = lookup_slot_for(t, cache, i, &f, inltab);
    for (depth = 0; why == NULL; depth++) {
        int32_t ix, line, fno;
        size_t foff, j;
        gs_frame fm;
        if (depth >= GS_INL_MAX_DEPTH) {
            why = "inline chain longer than 1024 calls";
            break;
        }
        ix = inltab ? value_at(t, &rd, slot, 2, inltab, f.entry, cur) : -1;
        line = value_at(t, &rd, slot, 0, f.pcln, f.entry, cur);
        fno = value_at(t, &rd, slot, 1, f.pcfile, f.entry, cur);
        foff = rd.err ? 0 : gs__file_at(t, &rd, &f, fno);
        if (rd.err) {
            if (depth == 0)  /* the pc's own tables: no answer at all */
                return gs_rd_finish(&rd, e);
            why = "inline parent pc has no row";
            break;
        }
        fm.file_off = (uint32_t)foff;
        fm.line = line;
        fm.pc = cur;
        if (ix < 0) {
            /* The physical function: the last frame. */
            fm.name_off = f.name_off;
            fm.start_line = f.start_line;
            fm.inlined = 0;
            fm.func_id = f.func_id;
        } else {
            gs_inl_rec r;
            for (j = 0; j < depth; j++)
                if (seen[j] == ix)
                    break;
            if (j < depth) {
                why = "inline tree has a cycle";
                break;
            }
            seen[depth] = ix;
            if (gs_inl_record(c, t->rd.big_endian, tree, ix, &r, e)) {
                why = "inline tree index out of range";
                break;
            }
            if (r.parent_pc < 0 || f.entry + (uint64_t)r.parent_pc >= end) {
                why = "inline parent pc outside the function";
                break;
            }
            fm.func_id = r.func_id;
            fm.name_off = r.name_off;
            fm.start_line = r.start_line;
            fm.inlined = 1;
            cur = f.entry + (uint64_t)r.parent_pc;
        }
        if (depth == 0 || (flags & GS_FR_WRAPPERS) || !gs_inl_hides(c, fm.func_id, callee)) {
            if (k < cap)
                out[k] = fm;
            k++;
        }
        callee = fm.func_id;
        if (ix < 0) {
            *n = k;
            return GS_OK;
        }
    }
    /* The expansion failed: the physical function at pc's position. */
    rd.err = GS_OK;
    if (!physical_only(t, &rd, slot, &f, pc, out, cap, n))
        return gs_rd_finish(&rd, e);
    return gs_set_err(e, GS_ERR_FORMAT, tree, why);
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
