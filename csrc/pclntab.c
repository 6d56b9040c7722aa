/* pclntab.c - decoder for the Go runtime's pc/line table.  See pclntab.h. */
#include "pclntab.h"
#include "pclntab_int.h"

#include <stdlib.h>

/* A fresh reader over the table for one operation. */
static inline gs_reader op_reader(const gs_pcln *t)
{
    gs_reader rd = t->rd;
    rd.err = GS_OK;
    rd.err_off = 0;
    rd.err_msg = NULL;
    rd.pos = 0;
    return rd;
}

int gs_pcln_open(gs_pcln *t, const uint8_t *base, size_t len, gs_err *e)
{
    gs_reader rd;
    uint32_t le, be;
    int big = 0;
    uint64_t w[8] = {0};
    int nwords, k;

    memset(t, 0, sizeof *t);
    if (len < 8 || base == NULL)
        return gs_set_err(e, GS_ERR_FORMAT, 0, "pclntab header truncated");
    le = gs_load32(base, 0);
    be = gs_load32(base, 1);
    /* The magics read differently in the two byte orders, so the byte
     * order follows from the magic (debug/gosym/pclntab.go: parsePclnTab). */
    switch (le) {
    case 0xfffffffbu: t->version = GS_VER12; break;
    case 0xfffffffau: t->version = GS_VER116; break;
    case 0xfffffff0u: t->version = GS_VER118; break;
    case 0xfffffff1u: t->version = GS_VER120; break;
    default: break;
    }
    if (!t->version) {
        big = 1;
        switch (be) {
        case 0xfffffffbu: t->version = GS_VER12; break;
        case 0xfffffffau: t->version = GS_VER116; break;
        case 0xfffffff0u: t->version = GS_VER118; break;
        case 0xfffffff1u: t->version = GS_VER120; break;
        default:
            return gs_set_err(e, GS_ERR_FORMAT, 0, "unknown pclntab magic");
        }
    }
    t->magic = big ? be : le;
    if (base[4] != 0 || base[5] != 0)
        return gs_set_err(e, GS_ERR_FORMAT, 4, "pclntab header padding not zero");
    t->quantum = base[6];
    t->ptr_size = base[7];
    if (t->quantum != 1 && t->quantum != 2 && t->quantum != 4)
        return gs_set_err(e, GS_ERR_FORMAT, 6, "bad pclntab instruction quantum");
    if (t->ptr_size != 4 && t->ptr_size != 8)
        return gs_set_err(e, GS_ERR_FORMAT, 7, "bad pclntab pointer size");

    gs_rd_init(&t->rd, base, len, big, t->ptr_size);
    rd = op_reader(t);

    nwords = t->version >= GS_VER118 ? 8 : t->version == GS_VER116 ? 7 : 1;
    for (k = 0; k < nwords; k++)
        w[k] = gs_ptr_at(&rd, 8 + (size_t)k * (size_t)t->ptr_size);
    if (rd.err)
        return gs_set_err(e, GS_ERR_FORMAT, rd.err_off, "pclntab header truncated");

    t->nfunc = w[0];
    if (t->version == GS_VER12) {
        t->functab_field = t->ptr_size;
        t->functab_off = 8 + (size_t)t->ptr_size;
    } else {
        uint64_t *o = t->version >= GS_VER118 ? &w[3] : &w[2];
        t->nfiles = w[1];
        if (t->version >= GS_VER118)
            t->hdr_text_start = w[2];
        /* funcname, cu, filetab, pctab, pcln offsets must lie in the table. */
        for (k = 0; k < 5; k++) {
            if (o[k] > len)
                return gs_set_err(e, GS_ERR_FORMAT,
                            8 + (size_t)((o - w) + k) * (size_t)t->ptr_size,
                            "pclntab header offset out of range");
        }
        t->funcname_off = (size_t)o[0];
        t->cu_off = (size_t)o[1];
        t->filetab_off = (size_t)o[2];
        t->pctab_off = (size_t)o[3];
        t->funcdata_off = (size_t)o[4];
        t->functab_off = (size_t)o[4];
        t->functab_field = t->version >= GS_VER118 ? 4 : t->ptr_size;
    }

    /* The function table: nfunc (entry, funcoff) pairs and one end entry. */
    if (t->functab_off > len ||
        t->nfunc > (len - t->functab_off) / (2 * (size_t)t->functab_field))
        return gs_set_err(e, GS_ERR_FORMAT, 8, "function count larger than the table");
    if (t->nfunc > 0x7fffffffu)
        return gs_set_err(e, GS_ERR_UNSUPPORTED, 8, "more than 2^31 functions");
    {
        size_t need = (size_t)(2 * t->nfunc + 1) * (size_t)t->functab_field;
        if (need > len - t->functab_off)
            return gs_set_err(e, GS_ERR_FORMAT, t->functab_off, "function table truncated");
        if (t->version == GS_VER12) {
            /* Go 1.2: a u32 offset of the file table follows the function
             * table; the file table starts with its entry count. */
            uint32_t fo = gs_u32_at(&rd, t->functab_off + need);
            uint32_t nf = gs_u32_at(&rd, fo);
            if (rd.err)
                return gs_set_err(e, GS_ERR_FORMAT, rd.err_off, "file table out of range");
            if (nf > (len - fo) / 4)
                return gs_set_err(e, GS_ERR_FORMAT, fo, "file table count too large");
            t->filetab_off = fo;
            t->nfiletab12 = nf;
            t->nfiles = nf;
        }
    }
    return GS_OK;
}

uint64_t gs_pcln_entry(const gs_pcln *t, uint64_t i)
{
    /* In range by construction: open checked the whole function table. */
    const uint8_t *p;
    if (i > t->nfunc)
        return 0;
    p = t->rd.base + t->functab_off + (size_t)(2 * i) * (size_t)t->functab_field;
    if (t->functab_field == 4) {
        uint64_t v = gs_load32(p, t->rd.big_endian);
        return t->version >= GS_VER118 ? v + t->text_base : v;
    }
    return gs_load64(p, t->rd.big_endian);
}

static inline uint64_t funcoff(const gs_pcln *t, uint64_t i)
{
    const uint8_t *p = t->rd.base + t->functab_off + (size_t)(2 * i + 1) * (size_t)t->functab_field;
    return t->functab_field == 4 ? gs_load32(p, t->rd.big_endian) : gs_load64(p, t->rd.big_endian);
}

int gs_pcln_check_sorted(const gs_pcln *t, gs_err *e)
{
    uint64_t i, prev = 0;
    for (i = 0; i <= t->nfunc; i++) {
        uint64_t v = gs_pcln_entry(t, i);
        if (i > 0 && v < prev)
            return gs_set_err(e, GS_ERR_FORMAT,
                        t->functab_off + (size_t)(2 * i) * (size_t)t->functab_field,
                        "function table not sorted");
        prev = v;
    }
    return GS_OK;
}

int64_t gs_pcln_find(const gs_pcln *t, uint64_t pc)
{
    const uint8_t *ft = t->rd.base + t->functab_off;
    int be = t->rd.big_endian;
    uint64_t lo = 0, hi = t->nfunc; /* answer in [lo, hi) */
    if (t->nfunc == 0)
        return -1;
    if (t->version >= GS_VER118) {
        /* 32-bit offsets from text_base; stride 8 bytes. */
        uint64_t rel;
        if (pc < t->text_base)
            return -1;
        rel = pc - t->text_base;
        if (rel > 0xffffffffu)
            return -1;
        if (rel < gs_load32(ft, be) || rel >= gs_load32(ft + 8 * t->nfunc, be))
            return -1;
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (gs_load32(ft + 8 * mid, be) <= rel)
                lo = mid;
            else
                hi = mid;
        }
        return (int64_t)lo;
    }
    if (pc < gs_pcln_entry(t, 0) || pc >= gs_pcln_entry(t, t->nfunc))
        return -1;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (gs_pcln_entry(t, mid) <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return (int64_t)lo;
}

/* Decode the _func record of function i (runtime/runtime2.go: _func; the
 * pre-1.18 layouts from debug/gosym/pclntab.go: funcData.field). */
int gs__decode_func(const gs_pcln *t, gs_reader *rd, uint64_t i, gs_func *f)
{
    uint64_t fo;
    size_t rec, sz0, fixed;
    if (i >= t->nfunc) {
        gs_rd_fail(rd, GS_ERR_ARG, 0, "function index out of range");
        return rd->err;
    }
    fo = funcoff(t, i);
    if (fo > rd->len - t->funcdata_off) {
        gs_rd_fail(rd, GS_ERR_FORMAT,
                   t->functab_off + (size_t)(2 * i + 1) * (size_t)t->functab_field,
                   "function record offset out of range");
        return rd->err;
    }
    rec = t->funcdata_off + (size_t)fo;
    sz0 = t->version >= GS_VER118 ? 4 : (size_t)t->ptr_size;
    /* entry, then u32 fields: nameOff args deferreturn pcsp pcfile pcln
     * npcdata, then cuOffset (1.16+), startLine (1.20+), then funcID, flag,
     * pad, nfuncdata bytes. */
    fixed = sz0 + 7 * 4 + (t->version >= GS_VER116 ? 4 : 0) +
            (t->version >= GS_VER120 ? 4 : 0) + 4;
    if (!gs_rd_has(rd, rec, fixed)) {
        gs_rd_fail(rd, GS_ERR_FORMAT, rec, "function record truncated");
        return rd->err;
    }
    f->off = rec;
    if (t->version >= GS_VER118)
        f->entry = (uint64_t)gs_u32_at(rd, rec) + t->text_base;
    else
        f->entry = gs_ptr_at(rd, rec);
    f->name_off = (int32_t)gs_u32_at(rd, rec + sz0);
    f->args = (int32_t)gs_u32_at(rd, rec + sz0 + 4);
    f->deferreturn = gs_u32_at(rd, rec + sz0 + 8);
    f->pcsp = gs_u32_at(rd, rec + sz0 + 12);
    f->pcfile = gs_u32_at(rd, rec + sz0 + 16);
    f->pcln = gs_u32_at(rd, rec + sz0 + 20);
    f->npcdata = gs_u32_at(rd, rec + sz0 + 24);
    f->cu_offset = t->version >= GS_VER116 ? gs_u32_at(rd, rec + sz0 + 28) : 0;
    f->start_line = t->version >= GS_VER120 ? (int32_t)gs_u32_at(rd, rec + sz0 + 32) : 0;
    /* Go 1.12-1.15 share the 1.2 magic and end in funcID, pad, pad,
     * nfuncdata; 1.16+ end in funcID, flag, pad, nfuncdata. */
    f->func_id = gs_u8_at(rd, rec + fixed - 4);
    f->flag = t->version >= GS_VER116 ? gs_u8_at(rd, rec + fixed - 3) : 0;
    f->nfuncdata = gs_u8_at(rd, rec + fixed - 1);
    f->pcdata_off = rec + fixed;
    return rd->err;
}

int gs_pcln_func(const gs_pcln *t, uint64_t i, gs_func *f, gs_err *e)
{
    gs_reader rd = op_reader(t);
    gs__decode_func(t, &rd, i, f);
    return gs_rd_finish(&rd, e);
}

static size_t name_at(const gs_pcln *t, gs_reader *rd, int32_t name_off, const char **s)
{
    if (name_off < 0) {
        gs_rd_fail(rd, GS_ERR_FORMAT, 0, "negative function name offset");
        *s = "";
        return 0;
    }
    if ((size_t)name_off > rd->len - t->funcname_off) {
        gs_rd_fail(rd, GS_ERR_FORMAT, t->funcname_off, "function name offset out of range");
        *s = "";
        return 0;
    }
    return gs_cstr_at(rd, t->funcname_off + (size_t)name_off, s);
}

int gs_pcln_name(const gs_pcln *t, int32_t name_off, const char **s, size_t *n, gs_err *e)
{
    gs_reader rd = op_reader(t);
    *n = name_at(t, &rd, name_off, s);
    return gs_rd_finish(&rd, e);
}

size_t gs__file_at(const gs_pcln *t, gs_reader *rd, const gs_func *f, int32_t fno)
{
    uint32_t v;
    if (fno < 0)
        return 0;
    if (t->version == GS_VER12) {
        /* Go 1.2: 1-based index into a u32 table of string offsets. */
        if (fno == 0 || (uint32_t)fno >= t->nfiletab12)
            return 0;
        v = gs_u32_at(rd, t->filetab_off + 4 * (size_t)fno);
        if (rd->err)
            return 0;
        if (v == 0 || v >= rd->len) {
            gs_rd_fail(rd, GS_ERR_FORMAT, t->filetab_off + 4 * (size_t)fno,
                       "file name offset out of range");
            return 0;
        }
        return v;
    }
    /* 1.16+: cutab[cuOffset + fno] is an offset into filetab, or ~0. */
    {
        uint64_t idx = (uint64_t)f->cu_offset + (uint64_t)(uint32_t)fno;
        if (f->cu_offset == 0xffffffffu)
            return 0;
        if (idx > (rd->len - t->cu_off) / 4) {
            gs_rd_fail(rd, GS_ERR_FORMAT, t->cu_off, "cu table index out of range");
            return 0;
        }
        v = gs_u32_at(rd, t->cu_off + 4 * (size_t)idx);
        if (rd->err || v == 0xffffffffu)
            return 0;
        if (v >= rd->len - t->filetab_off) {
            gs_rd_fail(rd, GS_ERR_FORMAT, t->cu_off + 4 * (size_t)idx,
                       "file name offset out of range");
            return 0;
        }
        return t->filetab_off + v;
    }
}

int gs_pcln_file_off(const gs_pcln *t, const gs_func *f, int32_t fileno, size_t *off, gs_err *e)
{
    gs_reader rd = op_reader(t);
    *off = gs__file_at(t, &rd, f, fileno);
    return gs_rd_finish(&rd, e);
}

/* Run the pc-value table at pctab+tab (debug/gosym/pclntab.go: pcvalue;
 * runtime/symtab.go: pcvalue).  Entries are (zig-zag value delta, pc delta /
 * quantum) uvarint pairs; a zero value delta after the first ends it. */
int32_t gs__pcvalue(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry, uint64_t target)
{
    int32_t val = -1;
    uint64_t pc = entry;
    int first = 1;
    if (tab == 0)
        return -1;
    if ((size_t)tab > rd->len - t->pctab_off) {
        gs_rd_fail(rd, GS_ERR_FORMAT, t->pctab_off, "pc-value table offset out of range");
        return -1;
    }
    rd->pos = t->pctab_off + tab;
    for (;;) {
        uint32_t uv = gs_rd_uvarint32(rd);
        uint32_t pcd;
        if (rd->err)
            return -1;
        if (uv == 0 && !first)
            return -1;
        first = 0;
        /* Wrapping add, as Go's int32 arithmetic (runtime/symtab.go: step);
         * a signed overflow here was undefined behaviour (found by
         * fuzz/fuzz_pclntab.c: -1 + INT32_MIN). */
        val = (int32_t)((uint32_t)val + (uint32_t)gs_zigzag32(uv));
        pcd = gs_rd_uvarint32(rd);
        if (rd->err)
            return -1;
        pc += (uint64_t)pcd * (uint64_t)t->quantum;
        if (target < pc)
            return val;
    }
}

int gs_pcvalue(const gs_pcln *t, uint32_t tab, uint64_t entry, uint64_t pc, int32_t *val, gs_err *e)
{
    gs_reader rd = op_reader(t);
    *val = gs__pcvalue(t, &rd, tab, entry, pc);
    return gs_rd_finish(&rd, e);
}

/* The largest value of function i's pcsp table: its frame size
 * (runtime/symtab.go: funcMaxSPDelta walks every step, starting from 0). */
int gs_pcln_frame_size(const gs_pcln *t, uint64_t i, int32_t *most, gs_err *e)
{
    gs_reader rd = op_reader(t);
    gs_func f;
    gs__pcv_iter it;
    *most = 0;
    if (gs__decode_func(t, &rd, i, &f))
        return gs_rd_finish(&rd, e);
    gs__pcv_begin(t, &rd, &it, f.pcsp, f.entry);
    while (gs__pcv_step(t, &rd, &it))
        if (it.val > *most)
            *most = it.val;
    return gs_rd_finish(&rd, e);
}

int gs_pcdata_tab(const gs_pcln *t, const gs_func *f, uint32_t k, uint32_t *tab, gs_err *e)
{
    gs_reader rd = op_reader(t);
    *tab = 0;
    if (k < f->npcdata)
        *tab = gs_u32_at(&rd, f->pcdata_off + 4 * (size_t)k);
    return gs_rd_finish(&rd, e);
}

int gs_pcln_columns(const gs_pcln *t, uint64_t *entry, uint64_t *end,
                    int32_t *name_off, int32_t *start_line, uint32_t *file_off,
                    gs_err *e)
{
    gs_reader rd = op_reader(t);
    uint64_t i;
    for (i = 0; i < t->nfunc; i++) {
        if (entry)
            entry[i] = gs_pcln_entry(t, i);
        if (end)
            end[i] = gs_pcln_entry(t, i + 1);
        if (name_off || start_line || file_off) {
            gs_func f;
            if (gs__decode_func(t, &rd, i, &f))
                return gs_rd_finish(&rd, e);
            if (name_off)
                name_off[i] = f.name_off;
            if (start_line)
                start_line[i] = f.start_line;
            if (file_off) {
                int32_t fno = gs__pcvalue(t, &rd, f.pcfile, f.entry, f.entry);
                file_off[i] = rd.err ? 0 : (uint32_t)gs__file_at(t, &rd, &f, fno);
                if (rd.err)
                    return gs_rd_finish(&rd, e);
            }
        }
    }
    return gs_rd_finish(&rd, e);
}

void gs__pcv_begin(const gs_pcln *t, gs_reader *rd, gs__pcv_iter *it, uint32_t tab, uint64_t entry)
{
    it->val = -1;
    it->next = entry;
    it->first = 1;
    it->done = 0;
    if (tab == 0 || (size_t)tab > rd->len - t->pctab_off) {
        if (tab != 0)
            gs_rd_fail(rd, GS_ERR_FORMAT, t->pctab_off, "pc-value table offset out of range");
        it->done = 1;
        return;
    }
    it->pos = t->pctab_off + tab;
}

/* Sort packed keys (pc offset << 32 | position) on the offset bits only:
 * LSD radix, 11 bits a pass (three passes cover the 32-bit offset), over
 * the bits of the span that vary; a pass whose digit is the same for every
 * key is skipped.  The result ends in *a (the function swaps *a and *b as
 * needed). */
enum { RADIX_BITS = 11, RADIX = 1 << RADIX_BITS, RADIX_PASSES = 3 };

void gs__radix_sort_packed(uint64_t **a, uint64_t **b, size_t n, uint64_t span)
{
    uint64_t *ka = *a, *kb = *b, *kt;
    uint32_t count[RADIX_PASSES * RADIX];  /* n < 2^32: positions are 32-bit */
    unsigned p, npass = 0;
    size_t k, d;
    while (npass < RADIX_PASSES && (span >> (RADIX_BITS * npass)) != 0)
        npass++;
    memset(count, 0, sizeof count);
    /* All digits' histograms in one read of the keys. */
    for (k = 0; k < n; k++) {
        uint32_t v = (uint32_t)(ka[k] >> 32);
        count[v & (RADIX - 1)]++;
        count[RADIX + ((v >> RADIX_BITS) & (RADIX - 1))]++;
        count[2 * RADIX + (v >> (2 * RADIX_BITS))]++;
    }
    for (p = 0; p < npass; p++) {
        uint32_t sum = 0, *c = count + (size_t)p * RADIX;
        unsigned shift = 32 + RADIX_BITS * p;
        for (d = 0; d < RADIX; d++)
            if (c[d] == n)
                break;
        if (d < RADIX)
            continue;  /* one digit value only: the pass would copy */
        for (d = 0; d < RADIX; d++) {
            uint32_t x = c[d];
            c[d] = sum;
            sum += x;
        }
        for (k = 0; k < n; k++)
            kb[c[(ka[k] >> shift) & (RADIX - 1)]++] = ka[k];
        kt = ka; ka = kb; kb = kt;
    }
    *a = ka;
    *b = kb;
}

/* The batch loop over pcs in ascending order: each function's pcln and
 * pcfile tables are walked once, forward, for all the pcs inside it.  With
 * packed keys the k-th pc is (keys[k] >> 32) + lo and its result goes to
 * position keys[k] & 0xffffffff; otherwise it is keys[k], position k. */
static void lookup_sorted(const gs_pcln *t, const uint64_t *keys, int packed, uint64_t lo,
                          size_t n, int64_t *func_idx, int32_t *line, uint32_t *file_off)
{
    gs_reader rd = op_reader(t);
    size_t k;
    int64_t cur = -1;
    uint64_t cur_lo = 0, cur_hi = 0;
    int have = 0;
    gs_func f;
    gs__pcv_iter li, fi;
    memset(&f, 0, sizeof f);
    memset(&li, 0, sizeof li);
    memset(&fi, 0, sizeof fi);
    for (k = 0; k < n; k++) {
        uint64_t pc = packed ? (keys[k] >> 32) + lo : keys[k];
        size_t j = packed ? (size_t)(keys[k] & 0xffffffffu) : k;
        int32_t fno;
        size_t fo;
        if (cur < 0 || pc < cur_lo || pc >= cur_hi) {
            int64_t i = gs_pcln_find(t, pc);
            if (i < 0) {
                cur = -1;
                goto miss;
            }
            if (i != cur) {
                cur = i;
                cur_lo = gs_pcln_entry(t, (uint64_t)i);
                cur_hi = gs_pcln_entry(t, (uint64_t)i + 1);
                rd.err = GS_OK;
                have = gs__decode_func(t, &rd, (uint64_t)i, &f) == GS_OK;
                if (have) {
                    gs__pcv_begin(t, &rd, &li, f.pcln, f.entry);
                    gs__pcv_begin(t, &rd, &fi, f.pcfile, f.entry);
                    have = rd.err == GS_OK;
                }
            }
        }
        if (!have)
            goto miss;
        while (!li.done && li.next <= pc)
            gs__pcv_step(t, &rd, &li);
        while (!fi.done && fi.next <= pc)
            gs__pcv_step(t, &rd, &fi);
        if (rd.err) {
            /* A bad table fails the pcs of this function only. */
            have = 0;
            goto miss;
        }
        fno = fi.done ? -1 : fi.val;
        fo = gs__file_at(t, &rd, &f, fno);
        if (rd.err) {
            rd.err = GS_OK;
            goto miss;
        }
        func_idx[j] = cur;
        line[j] = li.done ? -1 : li.val;
        file_off[j] = (uint32_t)fo;
        continue;
    miss:
        func_idx[j] = -1;
        line[j] = -1;
        file_off[j] = 0;
    }
}

/* Process up to 2^31 pcs (32-bit positions). */
static int lookup_chunk(const gs_pcln *t, const uint64_t *pcs, size_t n,
                        int64_t *func_idx, int32_t *line, uint32_t *file_off)
{
    size_t k, m = 0;
    int sorted = 1;
    uint64_t *keys, *tmp, lo, hi;
    for (k = 1; k < n && sorted; k++)
        sorted = pcs[k - 1] <= pcs[k];
    if (sorted || t->nfunc == 0) {
        lookup_sorted(t, pcs, 0, 0, n, func_idx, line, file_off);
        return GS_OK;
    }
    lo = gs_pcln_entry(t, 0);
    hi = gs_pcln_entry(t, t->nfunc);
    if (hi - lo > 0xffffffffu || n > 0xffffffffu) {
        /* A text over 4 GiB (only possible in a corrupt pre-1.18 table),
         * or positions past 32 bits: no packed keys; look each pc up on
         * its own. */
        for (k = 0; k < n; k++)
            lookup_sorted(t, pcs + k, 0, 0, 1, func_idx + k, line + k, file_off + k);
        return GS_OK;
    }
    keys = malloc(n * sizeof *keys);
    tmp = malloc(n * sizeof *tmp);
    if (!keys || !tmp) {
        free(keys);
        free(tmp);
        return GS_ERR_NOMEM;
    }
    /* Pcs outside the text are misses; the rest sort as packed keys. */
    for (k = 0; k < n; k++) {
        uint64_t pc = pcs[k];
        if (pc < lo || pc >= hi) {
            func_idx[k] = -1;
            line[k] = -1;
            file_off[k] = 0;
        } else {
            keys[m++] = ((pc - lo) << 32) | (uint64_t)k;
        }
    }
    gs__radix_sort_packed(&keys, &tmp, m, hi - lo);
    lookup_sorted(t, keys, 1, lo, m, func_idx, line, file_off);
    free(keys);
    free(tmp);
    return GS_OK;
}

int gs_pcln_lookup_many(const gs_pcln *t, const uint64_t *pcs, size_t n,
                        int64_t *func_idx, int32_t *line, uint32_t *file_off)
{
    const size_t chunk = (size_t)1 << 31;
    size_t done = 0;
    while (done < n) {
        size_t m = n - done < chunk ? n - done : chunk;
        int rc = lookup_chunk(t, pcs + done, m, func_idx + done, line + done, file_off + done);
        if (rc)
            return rc;
        done += m;
    }
    return GS_OK;
}

int gs_pcv_marks(const gs_pcln *t, uint32_t tab, uint64_t entry, unsigned every,
                 gs_pcv_mark *out, size_t cap, size_t *n, gs_err *e)
{
    gs_reader rd = op_reader(t);
    gs__pcv_iter it;
    size_t steps = 0, k = 0;
    *n = 0;
    if (every == 0)
        every = 1;
    gs__pcv_begin(t, &rd, &it, tab, entry);
    while (gs__pcv_step(t, &rd, &it)) {
        steps++;
        if (steps % every == 0) {
            if (k < cap) {
                out[k].next = it.next;
                out[k].pos = it.pos;
                out[k].val = it.val;
                out[k].pad = 0;
            }
            k++;
        }
    }
    *n = k;
    return gs_rd_finish(&rd, e);
}

int gs_pcvalue_marked(const gs_pcln *t, uint32_t tab, uint64_t entry, uint64_t pc,
                      const gs_pcv_mark *marks, size_t nmarks, int32_t *val, gs_err *e)
{
    gs_reader rd = op_reader(t);
    gs__pcv_iter it;
    size_t lo = 0, hi = nmarks;
    *val = -1;
    gs__pcv_begin(t, &rd, &it, tab, entry);
    if (it.done)
        return gs_rd_finish(&rd, e);
    /* The last mark whose run ends at or before pc: resume after it. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (marks[mid].next <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        const gs_pcv_mark *m = &marks[lo - 1];
        if (m->pos > rd.len) {
            gs_rd_fail(&rd, GS_ERR_ARG, 0, "bad checkpoint");
            return gs_rd_finish(&rd, e);
        }
        it.pos = (size_t)m->pos;
        it.next = m->next;
        it.val = m->val;
        it.first = 0;
    }
    while (!it.done && it.next <= pc)
        gs__pcv_step(t, &rd, &it);
    if (!it.done)
        *val = it.val;
    return gs_rd_finish(&rd, e);
}

int gs_pcln_lines(const gs_pcln *t, uint64_t i, uint64_t *pc, uint32_t *file_off,
                  int32_t *line, size_t cap, size_t *nrows, uint64_t *end_pc, gs_err *e)
{
    gs_reader rd = op_reader(t);
    gs_func f;
    gs__pcv_iter fi, li;
    uint64_t cur;
    size_t n = 0;
    /* A function's line table cannot have more runs than bytes. */
    size_t limit = rd.len;

    *nrows = 0;
    *end_pc = 0;
    if (gs__decode_func(t, &rd, i, &f))
        return gs_rd_finish(&rd, e);
    gs__pcv_begin(t, &rd, &fi, f.pcfile, f.entry);
    gs__pcv_begin(t, &rd, &li, f.pcln, f.entry);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (!gs__pcv_step(t, &rd, &fi) || !gs__pcv_step(t, &rd, &li))
        return gs_rd_finish(&rd, e);
    cur = f.entry;
    /* Merge the two tables: a row wherever either value changes. */
    while (n < limit) {
        size_t fo = gs__file_at(t, &rd, &f, fi.val);
        if (rd.err)
            return gs_rd_finish(&rd, e);
        if (n < cap) {
            pc[n] = cur;
            file_off[n] = (uint32_t)fo;
            line[n] = li.val;
        }
        n++;
        cur = fi.next < li.next ? fi.next : li.next;
        *end_pc = cur;
        if (fi.next == cur && !gs__pcv_step(t, &rd, &fi))
            break;
        if (li.next == cur && !gs__pcv_step(t, &rd, &li))
            break;
        if (fi.next <= cur || li.next <= cur) {
            /* A zero pc delta: skip empty runs. */
            while (!fi.done && fi.next <= cur && gs__pcv_step(t, &rd, &fi))
                ;
            while (!li.done && li.next <= cur && gs__pcv_step(t, &rd, &li))
                ;
            if (fi.done || li.done)
                break;
        }
    }
    *nrows = n;
    return gs_rd_finish(&rd, e);
}


static int is_magic_low(uint8_t b)
{
    return b == 0xf1 || b == 0xf0 || b == 0xfa || b == 0xfb;
}

int gs_pcln_scan(const uint8_t *base, size_t len, size_t from, size_t to, int want_ptr,
                 int want_be, size_t *pos, int *ptr_size, int *big_endian)
{
    size_t i;
    if (to > len)
        to = len;
    if (from >= to || to - from < 8)
        return 0;
    /* Bytes 1-2 of the magic are 0xff in both byte orders, bytes 4-5 are the
     * zero pad: test those first, then the rest. */
    for (i = from; i + 8 <= to; i++) {
        const uint8_t *p = base + i;
        int be;
        if (p[1] != 0xff || p[2] != 0xff || p[4] != 0 || p[5] != 0)
            continue;
        if (p[0] == 0xff && is_magic_low(p[3]))
            be = 1;
        else if (p[3] == 0xff && is_magic_low(p[0]))
            be = 0;
        else
            continue;
        if (p[6] != 1 && p[6] != 2 && p[6] != 4)
            continue;
        if (p[7] != 4 && p[7] != 8)
            continue;
        if ((want_ptr >= 0 && p[7] != want_ptr) || (want_be >= 0 && be != want_be))
            continue;
        *pos = i;
        *ptr_size = p[7];
        *big_endian = be;
        return 1;
    }
    return 0;
}
