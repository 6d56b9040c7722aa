/* pclntab.c - decoder for the Go runtime's pc/line table.  See pclntab.h. */
#include "pclntab.h"
#include "pclntab_int.h"
#include "goformat.h"

#include <stdlib.h>

/* The table version a magic announces, or 0. */
static int version_of_magic(uint32_t magic)
{
    switch (magic) {
    case GS_MAGIC_GO12: return GS_VER12;
    case GS_MAGIC_GO116: return GS_VER116;
    case GS_MAGIC_GO118: return GS_VER118;
    case GS_MAGIC_GO120: return GS_VER120;
    default: return 0;
    }
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
    t->version = version_of_magic(le);
    if (!t->version) {
        big = 1;
        t->version = version_of_magic(be);
        if (!t->version)
            return gs_set_err(e, GS_ERR_FORMAT, 0, "unknown pclntab magic");
    }
    t->magic = big ? be : le;
    if (base[GS_HDR_PAD] != 0 || base[GS_HDR_PAD + 1] != 0)
        return gs_set_err(e, GS_ERR_FORMAT, GS_HDR_PAD, "pclntab header padding not zero");
    t->quantum = base[GS_HDR_QUANTUM];
    t->ptr_size = base[GS_HDR_PTRSIZE];
    if (t->quantum != 1 && t->quantum != 2 && t->quantum != 4)
        return gs_set_err(e, GS_ERR_FORMAT, GS_HDR_QUANTUM, "bad pclntab instruction quantum");
    if (t->ptr_size != 4 && t->ptr_size != 8)
        return gs_set_err(e, GS_ERR_FORMAT, GS_HDR_PTRSIZE, "bad pclntab pointer size");

    gs_rd_init(&t->rd, base, len, big, t->ptr_size);
    rd = gs__op_reader(t);

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
    return (int64_t)gs_pcln_find_between(t, pc, lo, hi);
}

uint64_t gs_pcln_find_between(const gs_pcln *t, uint64_t pc, uint64_t lo, uint64_t hi)
{
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (gs_pcln_entry(t, mid) <= pc)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
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
    fixed = sz0 + (t->version >= GS_VER120 ? GS_FUNC_STARTLINE + 4
                   : t->version >= GS_VER116 ? GS_FUNC_CUOFFSET + 4
                   : GS_FUNC_NPCDATA + 4) + GS_FUNC_TRAILER;
    if (!gs_rd_has(rd, rec, fixed)) {
        gs_rd_fail(rd, GS_ERR_FORMAT, rec, "function record truncated");
        return rd->err;
    }
    f->off = rec;
    if (t->version >= GS_VER118)
        f->entry = (uint64_t)gs_u32_at(rd, rec) + t->text_base;
    else
        f->entry = gs_ptr_at(rd, rec);
    f->name_off = (int32_t)gs_u32_at(rd, rec + sz0 + GS_FUNC_NAMEOFF);
    f->args = (int32_t)gs_u32_at(rd, rec + sz0 + GS_FUNC_ARGS);
    f->deferreturn = gs_u32_at(rd, rec + sz0 + GS_FUNC_DEFERRETURN);
    f->pcsp = gs_u32_at(rd, rec + sz0 + GS_FUNC_PCSP);
    f->pcfile = gs_u32_at(rd, rec + sz0 + GS_FUNC_PCFILE);
    f->pcln = gs_u32_at(rd, rec + sz0 + GS_FUNC_PCLN);
    f->npcdata = gs_u32_at(rd, rec + sz0 + GS_FUNC_NPCDATA);
    f->cu_offset = t->version >= GS_VER116 ? gs_u32_at(rd, rec + sz0 + GS_FUNC_CUOFFSET) : 0;
    f->start_line = t->version >= GS_VER120 ? (int32_t)gs_u32_at(rd, rec + sz0 + GS_FUNC_STARTLINE) : 0;
    /* Go 1.12-1.15 share the 1.2 magic and end in funcID, pad, pad,
     * nfuncdata; 1.16+ end in funcID, flag, pad, nfuncdata. */
    f->func_id = gs_u8_at(rd, rec + fixed - GS_FUNC_TRAILER);
    f->flag = t->version >= GS_VER116 ? gs_u8_at(rd, rec + fixed - GS_FUNC_TRAILER + 1) : 0;
    f->nfuncdata = gs_u8_at(rd, rec + fixed - GS_FUNC_TRAILER + 3);
    f->pcdata_off = rec + fixed;
    return rd->err;
}

int gs_pcln_func(const gs_pcln *t, uint64_t i, gs_func *f, gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
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
    gs_reader rd = gs__op_reader(t);
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
    gs_reader rd = gs__op_reader(t);
    *off = gs__file_at(t, &rd, f, fileno);
    return gs_rd_finish(&rd, e);
}

int gs_pcvalue(const gs_pcln *t, uint32_t tab, uint64_t entry, uint64_t pc, int32_t *val, gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
    *val = gs_pcv_value(t, &rd, tab, entry, pc);
    return gs_rd_finish(&rd, e);
}

/* The largest value of function i's pcsp table: its frame size
 * (runtime/symtab.go: funcMaxSPDelta walks every step, starting from 0). */
int gs_pcln_frame_size(const gs_pcln *t, uint64_t i, int32_t *most, gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
    gs_func f;
    *most = 0;
    if (gs__decode_func(t, &rd, i, &f))
        return gs_rd_finish(&rd, e);
    *most = gs_pcv_max(t, &rd, f.pcsp, f.entry);
    return gs_rd_finish(&rd, e);
}

int gs_pcdata_tab(const gs_pcln *t, const gs_func *f, uint32_t k, uint32_t *tab, gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
    *tab = 0;
    if (k < f->npcdata)
        *tab = gs_u32_at(&rd, f->pcdata_off + 4 * (size_t)k);
    return gs_rd_finish(&rd, e);
}

int gs_pcln_columns(const gs_pcln *t, uint64_t *entry, uint64_t *end,
                    int32_t *name_off, int32_t *start_line, uint32_t *file_off,
                    gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
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
                int32_t fno = gs_pcv_value(t, &rd, f.pcfile, f.entry, f.entry);
                file_off[i] = rd.err ? 0 : (uint32_t)gs__file_at(t, &rd, &f, fno);
                if (rd.err)
                    return gs_rd_finish(&rd, e);
            }
        }
    }
    return gs_rd_finish(&rd, e);
}

int gs_pcln_lines(const gs_pcln *t, uint64_t i, uint64_t *pc, uint32_t *file_off,
                  int32_t *line, size_t cap, size_t *nrows, uint64_t *end_pc, gs_err *e)
{
    gs_reader rd = gs__op_reader(t);
    gs_func f;
    gs_pcv_iter fi, li;
    uint64_t cur;
    size_t n = 0;
    /* A function's line table cannot have more runs than bytes. */
    size_t limit = rd.len;

    *nrows = 0;
    *end_pc = 0;
    if (gs__decode_func(t, &rd, i, &f))
        return gs_rd_finish(&rd, e);
    gs_pcv_begin(t, &rd, &fi, f.pcfile, f.entry);
    gs_pcv_begin(t, &rd, &li, f.pcln, f.entry);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (!gs_pcv_step(t, &rd, &fi) || !gs_pcv_step(t, &rd, &li))
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
        if (fi.next == cur && !gs_pcv_step(t, &rd, &fi))
            break;
        if (li.next == cur && !gs_pcv_step(t, &rd, &li))
            break;
        if (fi.next <= cur || li.next <= cur) {
            /* A zero pc delta: skip empty runs. */
            while (!fi.done && fi.next <= cur && gs_pcv_step(t, &rd, &fi))
                ;
            while (!li.done && li.next <= cur && gs_pcv_step(t, &rd, &li))
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
