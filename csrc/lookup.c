/* lookup.c - the single lookup (gs_lookup_find, gs_func_frames) and what it
 * keeps between calls: buckets over the text for the function search, and
 * a bounded per-function index of the pc-value tables.  See inline.h.
 *
 * The index: a direct-mapped array of slots keyed by function index, each
 * holding the function's decoded record, its inline tree and, for each of
 * the pcln, pcfile and inline-index tables, a checkpoint every IDX_STRIDE
 * rows (end, value, position of the next pair: 12 bytes) decoded only as far
 * as questions reach.  A question walks at most IDX_STRIDE rows from the
 * checkpoint before it.  Each function has two candidate slots; when both
 * are taken, the smaller occupant gives way to a larger function (small
 * functions are cheap to walk from the entry); checkpoints
 * are capped at IDX_CP_BUDGET bytes (all dropped when full).  Whatever the
 * index cannot answer (no memory, a walk that failed) is walked from the
 * entry, which also names any error: the index never changes an answer. */
#include "inline.h"
#include "pclntab_int.h"

#include <stdlib.h>
#include <string.h>

enum {
    IDX_STRIDE = 4,               /* rows between checkpoints */
    IDX_MIN_SLOTS = 256,
    IDX_MAX_SLOTS = 16384,        /* 272 bytes a slot (x86-64): at most 4.25 MiB */
    IDX_CP_BUDGET = 4 << 20       /* bytes of checkpoints before all are dropped */
};

typedef struct idx_cp {
    uint32_t end;            /* the run ends at entry + end ... */
    int32_t val;             /* ... with this value */
    uint32_t pos;            /* table offset of the next pair */
} idx_cp;

typedef struct idx_tab {
    idx_cp *cp;
    uint32_t n, cap;
    gs_pcv_iter it;          /* the frontier: decoding stopped here */
    unsigned skip;           /* steps since the last checkpoint */
    int err;                 /* the walk failed: questions past it go to the plain walk */
} idx_tab;

typedef struct idx_slot {
    uint64_t func;           /* function index + 1 (0: empty) */
    uint64_t end;            /* the next function's entry */
    gs_func f;
    size_t tree;             /* inline tree file offset (0: none) */
    uint32_t inltab;         /* inline-index table (0: none) */
    const char *why;         /* why the inline tree cannot be followed (NULL: it can) */
    idx_tab tabs[3];         /* line, file, inline index */
} idx_slot;

struct gs_lookup_cache {
    idx_slot *slots;         /* nslots, allocated on first use */
    size_t nslots, cp_bytes;
    int idx_off;             /* 1: no index (no memory, or a table past 4 GiB) */
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

static void idx_drop(gs_lookup_cache *cache)
{
    size_t k, j;
    if (cache->slots == NULL)
        return;
    for (k = 0; k < cache->nslots; k++)
        for (j = 0; j < 3; j++)
            free(cache->slots[k].tabs[j].cp);
    memset(cache->slots, 0, cache->nslots * sizeof *cache->slots);
    cache->cp_bytes = 0;
}

void gs_lookup_cache_clear(gs_lookup_cache *cache)
{
    if (cache == NULL)
        return;
    free(cache->bucket);
    cache->bucket = NULL;
    cache->find_state = 0;
    cache->finds = 0;
    idx_drop(cache);
    free(cache->slots);
    cache->slots = NULL;
    cache->nslots = 0;
    cache->idx_off = 0;
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

/* ------------------------------------------------------------ the index */

static void idx_tab_begin(const gs_pcln *t, idx_tab *x, uint32_t tab, uint64_t entry)
{
    gs_reader rd = gs__op_reader(t);
    x->n = 0;
    x->skip = 0;
    gs_pcv_begin(t, &rd, &x->it, tab, entry);
    x->err = rd.err != GS_OK;
}

/* Function i's slot, filled (record, inline tree, tables begun), or NULL:
 * no index (no memory), or the slot holds a larger function. */
static idx_slot *idx_slot_for(const gs_pcln *t, const gs_inl *c, gs_lookup_cache *cache, uint64_t i)
{
    idx_slot *s, *s2;
    gs_reader rd;
    gs_err e;
    uint64_t end;
    if (cache->slots == NULL) {
        size_t n = IDX_MIN_SLOTS;
        if (cache->idx_off)
            return NULL;
        /* Checkpoint positions are 32-bit table offsets. */
        if (t->rd.len > 0xffffffffu) {
            cache->idx_off = 1;
            return NULL;
        }
        while (n < IDX_MAX_SLOTS && n < t->nfunc / 4)
            n *= 2;
        cache->slots = calloc(n, sizeof *cache->slots);
        if (cache->slots == NULL) {
            cache->idx_off = 1;
            return NULL;
        }
        cache->nslots = n;
    }
    if (cache->cp_bytes > IDX_CP_BUDGET)
        idx_drop(cache);
    /* Two ways: slots h and h + nslots/2; a free one, else the smaller
     * occupant's if it is smaller than function i (small functions are
     * cheap to walk from the entry; the large ones keep their slots). */
    s = &cache->slots[i & (cache->nslots - 1)];
    s2 = &cache->slots[(i + cache->nslots / 2) & (cache->nslots - 1)];
    if (s->func == i + 1)
        return s;
    if (s2->func == i + 1)
        return s2;
    if (s->func && (!s2->func || s2->end - s2->f.entry < s->end - s->f.entry))
        s = s2;
    end = gs_pcln_entry(t, i + 1);
    if (s->func && s->end - s->f.entry > end - gs_pcln_entry(t, i))
        return NULL;   /* keep the larger function */
    rd = gs__op_reader(t);
    {
        gs_func f;
        if (gs__decode_func(t, &rd, i, &f))
            return NULL;   /* the caller's own decode reports it */
        s->f = f;
    }
    s->end = end;
    s->why = NULL;
    s->tree = 0;
    s->inltab = 0;
    if (gs_inl_tree_off(t, c, &s->f, &s->tree, &e)) {
        s->tree = 0;
        s->why = "inline tree address outside the file";
    }
    if (s->tree && gs_pcdata_tab(t, &s->f, c->pcdata_inlindex, &s->inltab, &e)) {
        s->tree = 0;
        s->why = "inline index table out of range";
    }
    if (!s->tree)
        s->inltab = 0;
    idx_tab_begin(t, &s->tabs[0], s->f.pcln, s->f.entry);
    idx_tab_begin(t, &s->tabs[1], s->f.pcfile, s->f.entry);
    idx_tab_begin(t, &s->tabs[2], s->inltab, s->f.entry);
    s->func = i + 1;
    return s;
}

static int idx_keep(gs_lookup_cache *cache, idx_tab *x, uint64_t entry)
{
    if (x->n == x->cap) {
        uint32_t cap = x->cap ? 2 * x->cap : 4;
        idx_cp *p = realloc(x->cp, cap * sizeof *p);
        if (p == NULL)
            return -1;
        cache->cp_bytes += (cap - x->cap) * sizeof *p;
        x->cp = p;
        x->cap = cap;
    }
    x->cp[x->n].end = (uint32_t)(x->it.next - entry);
    x->cp[x->n].val = x->it.val;
    x->cp[x->n].pos = (uint32_t)x->it.pos;
    x->n++;
    return 0;
}

/* The value of table tab (x's) at entry + off into *v: 0, or -1 when the
 * index cannot tell (the caller walks from the entry). */
static int idx_value(const gs_pcln *t, gs_lookup_cache *cache, idx_tab *x, uint32_t tab,
                     uint64_t entry, uint64_t off, int32_t *v)
{
    gs_reader rd = gs__op_reader(t);
    gs_pcv_iter w;
    size_t a, b;
    if (x->err)
        return -1;
    if (x->it.next - entry <= off) {
        /* Past the frontier: decode forward, keeping checkpoints. */
        while (!x->it.done) {
            if (!gs_pcv_step(t, &rd, &x->it)) {
                if (rd.err)
                    x->err = 1;
                break;
            }
            /* Runs past 4 GiB, or past the top of the address space (the
             * plain walk compares wrapped pcs): only in a corrupt table,
             * left to the plain walk. */
            if (x->it.next < entry || x->it.next - entry > 0xffffffffu || x->it.pos > 0xffffffffu) {
                x->err = 1;
                break;
            }
            if (++x->skip == IDX_STRIDE) {
                x->skip = 0;
                if (idx_keep(cache, x, entry)) {
                    x->err = 1;
                    break;
                }
            }
            if (x->it.next - entry > off) {
                *v = x->it.val;
                return 0;
            }
        }
        if (x->err)
            return -1;
        *v = -1;   /* the table ends at or before off */
        return 0;
    }
    /* Inside the decoded part: from the last checkpoint at or before off. */
    a = 0;
    b = x->n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (x->cp[m].end <= off)
            a = m + 1;
        else
            b = m;
    }
    if (a == 0) {
        gs_pcv_begin(t, &rd, &w, tab, entry);
    } else {
        w.pos = x->cp[a - 1].pos;
        w.next = entry + x->cp[a - 1].end;
        w.val = x->cp[a - 1].val;
        w.first = 0;
        w.done = 0;
    }
    while (w.next - entry <= off)
        if (!gs_pcv_step(t, &rd, &w))
            return -1;   /* cannot happen: the frontier got past off */
    *v = w.val;
    return 0;
}

/* The value of table tab at pc: from the slot's index when there is one,
 * else by a walk from the entry (which also names any error). */
static int32_t value_at(const gs_pcln *t, gs_reader *rd, gs_lookup_cache *cache, idx_slot *s,
                        int which, uint32_t tab, uint64_t entry, uint64_t pc)
{
    if (s && pc >= entry) {
        int32_t v;
        if (idx_value(t, cache, &s->tabs[which], tab, entry, pc - entry, &v) == 0)
            return v;
    }
    return gs_pcv_value(t, rd, tab, entry, pc);
}

/* The physical function's frame at the walk's first pc (the innermost
 * position), for an expansion that failed. */
static int physical_only(const gs_pcln *t, gs_reader *rd, gs_lookup_cache *cache, idx_slot *slot,
                         const gs_func *f, uint64_t pc, gs_frame *out, size_t cap, size_t *n)
{
    int32_t line = value_at(t, rd, cache, slot, 0, f->pcln, f->entry, pc);
    int32_t fno = value_at(t, rd, cache, slot, 1, f->pcfile, f->entry, pc);
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
    gs_func fbuf;
    const gs_func *fp;
    size_t tree = 0, k = 0, depth;
    uint32_t inltab = 0;
    uint64_t cur, end;
    idx_slot *slot = cache ? idx_slot_for(t, c, cache, i) : NULL;
    int32_t seen[GS_INL_MAX_DEPTH];
    int callee = -1;
    const char *why = NULL;

    *n = 0;
    if (slot) {
        fp = &slot->f;
        end = slot->end;
        tree = slot->tree;
        inltab = slot->inltab;
        why = slot->why;
    } else {
        if (gs__decode_func(t, &rd, i, &fbuf))
            return gs_rd_finish(&rd, e);
        fp = &fbuf;
        end = gs_pcln_entry(t, i + 1);
        if (gs_inl_tree_off(t, c, fp, &tree, e)) {
            tree = 0;
            why = "inline tree address outside the file";
        }
        if (tree && gs_pcdata_tab(t, fp, c->pcdata_inlindex, &inltab, e)) {
            tree = 0;
            why = "inline index table out of range";
        }
        if (!tree)
            inltab = 0;
    }
    cur = gs_call_pc(fp->entry, pc, flags);
    pc = cur;
    for (depth = 0; why == NULL; depth++) {
        int32_t ix, line, fno;
        size_t foff, j;
        gs_frame fm;
        if (depth >= GS_INL_MAX_DEPTH) {
            why = "inline chain longer than 1024 calls";
            break;
        }
        ix = inltab ? value_at(t, &rd, cache, slot, 2, inltab, fp->entry, cur) : -1;
        line = value_at(t, &rd, cache, slot, 0, fp->pcln, fp->entry, cur);
        fno = value_at(t, &rd, cache, slot, 1, fp->pcfile, fp->entry, cur);
        foff = rd.err ? 0 : gs__file_at(t, &rd, fp, fno);
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
            fm.name_off = fp->name_off;
            fm.start_line = fp->start_line;
            fm.inlined = 0;
            fm.func_id = fp->func_id;
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
            if (r.parent_pc < 0 || fp->entry + (uint64_t)r.parent_pc >= end) {
                why = "inline parent pc outside the function";
                break;
            }
            fm.func_id = r.func_id;
            fm.name_off = r.name_off;
            fm.start_line = r.start_line;
            fm.inlined = 1;
            cur = fp->entry + (uint64_t)r.parent_pc;
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
    if (!physical_only(t, &rd, cache, slot, fp, pc, out, cap, n))
        return gs_rd_finish(&rd, e);
    return gs_set_err(e, GS_ERR_FORMAT, tree, why);
}
