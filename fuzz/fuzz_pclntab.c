/* fuzz_pclntab.c - libFuzzer harness over the C core alone (csrc/).
 *
 * The only property checked is the one of issue 6: on any input every
 * decoder returns a status (OK or an error) without reading out of bounds,
 * overflowing, hanging or leaking; AddressSanitizer and UBSan report the
 * rest.  Build with fuzz/build.sh, run with fuzz/run.sh.
 *
 * Input layout (self-describing, so one corpus drives every decoder):
 *   byte 0      mode: bit 0 set -> .debug_line; else bit 1 set -> symbol
 *               table; else bit 2 set -> pprof profile; else pclntab
 *   pclntab mode, a 24-byte prefix after the mode byte:
 *     byte 1    inline layout (0: none, 1: 16-byte, 2: 20-byte records)
 *     byte 2    FUNCDATA_InlTree index (low 3 bits)
 *     byte 3    PCDATA_InlTreeIndex (low 3 bits)
 *     bytes 4-11  text base (little endian)
 *     bytes 12-19 gofunc address, relative to the segment's va
 *     bytes 20-23 table offset inside the rest (mod its length)
 *     bytes 24-   the "file": one segment mapping all of it at va
 *                 0x400000; the table is the file from the table offset on.
 *   .debug_line mode: bytes 1.. are the section; it is also handed in as
 *   .debug_line_str and .debug_str, so string forms resolve somewhere.
 *   symbol-table mode (csrc/symtab.c), an 18-byte prefix after the mode byte:
 *     byte 1    kind (1-5: GS_SYM_ELF32 .. GS_SYM_COFF; others are passed
 *               through too, to check the GS_ERR_ARG path)
 *     byte 2    big endian (bit 0)
 *     bytes 3-6   record count (little endian; unchecked, as from a header)
 *     bytes 7-10  table offset in the "file"
 *     bytes 11-14 string table offset, bytes 15-18 its length
 *     bytes 19-   the "file"; the searched names are a few fixed Go names
 *                 and one taken from the file's first bytes.
 *   profile mode (csrc/profile.c): bytes 1.. are a profile.proto; when it
 *   decodes, every location gets a Line, a Function and a string are
 *   added, and the re-encoded profile must decode again with those counts
 *   (a failure there is a bug: abort()).
 * In pclntab mode the harness also calls gs_inl_tree_off / gs_inl_record
 * directly (every record of a few functions' trees) and gs_pcln_account,
 * and first scans the whole "file" with gs_pcln_scan (filters from bits 4-5
 * of byte 1 and bit 4 of byte 2), opening each of the first 64 candidates.
 * Seeds (fuzz/run.sh) are real tables with a zero prefix (table offset 0).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pclntab.h"
#include "inline.h"
#include "render.h"
#include "dwarf_line.h"
#include "dwarf_form.h"
#include "symtab.h"
#include "account.h"
#include "profile.h"

#define SEG_VA 0x400000u
#define MAX_PCS 64

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* A sample of pcs: entries of a few functions, their midpoints and ends,
 * plus pcs taken from the input (so misses and far addresses occur too). */
static size_t pick_pcs(const gs_pcln *t, const uint8_t *d, size_t n, uint64_t *pcs)
{
    size_t k = 0;
    uint64_t nf = t->nfunc;
    for (uint64_t i = 0; i < nf && k + 3 <= MAX_PCS - 4; i += (nf / 16) + 1) {
        uint64_t a = gs_pcln_entry(t, i), b = gs_pcln_entry(t, i + 1);
        pcs[k++] = a;
        pcs[k++] = a + (b > a ? (b - a) / 2 : 1);
        pcs[k++] = b ? b - 1 : 0;
    }
    for (size_t j = 0; j + 8 <= n && k < MAX_PCS && j < 32; j += 8)
        pcs[k++] = le64(d + j);
    return k;
}

static void fuzz_pclntab(const uint8_t *d, size_t n)
{
    gs_pcln t;
    gs_err e = {0, 0, 0};
    gs_inl c;
    gs_seg seg;
    uint64_t pcs[MAX_PCS];
    size_t npcs, toff;

    if (n < 24)
        return;
    memset(&c, 0, sizeof c);
    uint8_t pfx1 = d[1], pfx2 = d[2];
    c.layout = d[1] % 3 == 1 ? GS_INL_16 : d[1] % 3 == 2 ? GS_INL_20 : GS_INL_NONE;
    c.funcdata_inltree = d[2] & 7;
    c.pcdata_inlindex = d[3] & 7;
    uint64_t text_base = le64(d + 4);
    c.gofunc = SEG_VA + le64(d + 12);
    toff = (size_t)(d[20] | d[21] << 8 | d[22] << 16 | (uint32_t)d[23] << 24);
    d += 24;
    n -= 24;
    if (n == 0)
        return;
    toff %= n;
    seg.va = SEG_VA;
    seg.off = 0;
    seg.size = n;
    c.file = d;
    c.file_len = n;
    c.segs = &seg;
    c.nsegs = 1;
    c.pcln_va = SEG_VA + toff;

    /* Header scan, as gosym.pclntab.scan runs it on files and raw images. */
    {
        static const int ptrs[4] = {-1, 4, 8, -1};
        int want_ptr = ptrs[(pfx1 >> 4) & 3], want_be = (pfx2 & 0x10) ? -1 : (pfx2 >> 5) & 1;
        size_t pos = 0, hit;
        int ptr, be;
        for (int k = 0; k < 64 && gs_pcln_scan(d, n, pos, n, want_ptr, want_be, &hit, &ptr, &be); k++) {
            gs_pcln st;
            gs_err se = {0, 0, 0};
            if (hit < pos || hit + 8 > n || (ptr != 4 && ptr != 8))
                abort();   /* the scanner broke its contract */
            if (gs_pcln_open(&st, d + hit, n - hit, &se) == GS_OK)
                gs_pcln_check_sorted(&st, &se);
            pos = hit + 1;
        }
    }

    if (gs_pcln_open(&t, d + toff, n - toff, &e) != GS_OK)
        return;
    t.text_base = text_base;
    if (gs_pcln_check_sorted(&t, &e) != GS_OK)
        return;

    /* Whole-table columns, bounded so a huge nfunc claim (already checked
     * against the buffer by gs_pcln_open) stays cheap. */
    if (t.nfunc <= 4096) {
        size_t m = (size_t)t.nfunc ? (size_t)t.nfunc : 1;
        uint64_t *entry = malloc(m * sizeof *entry), *end = malloc(m * sizeof *end);
        int32_t *name = malloc(m * sizeof *name), *sl = malloc(m * sizeof *sl);
        uint32_t *fo = malloc(m * sizeof *fo);
        if (entry && end && name && sl && fo)
            gs_pcln_columns(&t, entry, end, name, sl, fo, &e);
        free(entry); free(end); free(name); free(sl); free(fo);
    }

    npcs = pick_pcs(&t, d, n, pcs);
    {
        int64_t fi[MAX_PCS];
        int32_t line[MAX_PCS];
        uint32_t fo[MAX_PCS];
        gs_pcln_lookup_many(&t, pcs, npcs, fi, line, fo);
    }

    /* Line rows of a few functions: ask for the size, then fill. */
    for (uint64_t i = 0; i < t.nfunc && i < 8; i++) {
        uint64_t rpc[32], endpc;
        uint32_t rfile[32];
        int32_t rline[32];
        size_t nrows = 0;
        if (gs_pcln_lines(&t, i, rpc, rfile, rline, 32, &nrows, &endpc, &e) == GS_OK && nrows > 32) {
            size_t cap = nrows;
            uint64_t *p = malloc(cap * sizeof *p);
            uint32_t *f = malloc(cap * sizeof *f);
            int32_t *l = malloc(cap * sizeof *l);
            if (p && f && l)
                gs_pcln_lines(&t, i, p, f, l, cap, &nrows, &endpc, &e);
            free(p); free(f); free(l);
        }
        gs_func fn;
        const char *s;
        size_t sn, off;
        if (gs_pcln_func(&t, i, &fn, &e) == GS_OK) {
            gs_pcln_name(&t, fn.name_off, &s, &sn, &e);
            gs_pcln_file_off(&t, &fn, 1, &off, &e);
        }
    }

    /* Inline trees directly: the tree of a few functions, every record
     * index up to a bound, negative and huge ones included. */
    for (uint64_t i = 0; i < t.nfunc && i < 8; i++) {
        gs_func fn;
        size_t tree = 0;
        if (gs_pcln_func(&t, i, &fn, &e) != GS_OK)
            continue;
        if (gs_inl_tree_off(&t, &c, &fn, &tree, &e) != GS_OK || tree == 0)
            continue;
        for (int32_t ix = -1; ix < 64; ix++) {
            gs_inl_rec rec;
            if (gs_inl_record(&c, t.rd.big_endian, tree, ix, &rec, &e) != GS_OK && ix >= 0)
                break;
        }
        {
            gs_inl_rec rec;
            gs_inl_record(&c, t.rd.big_endian, tree, INT32_MAX, &rec, &e);
            gs_inl_record(&c, t.rd.big_endian, (size_t)-1, 0, &rec, &e);
        }
    }

    /* Byte accounting (one byte per table byte, and a walk of every
     * function's tables: kept to small tables so big seeds stay fast). */
    if (t.nfunc <= 256 && n - toff <= (1u << 16)) {
        uint64_t counts[GS_ACC_N];
        static uint64_t per_func[256 * GS_PF_N];
        gs_pcln_account(&t, (size_t)-1, counts, &e);
        if (n - toff > 16) {
            gs_pcln_account(&t, (n - toff) / 2, counts, &e);
            /* Per function (gosym cost --by), funcdata objects included. */
            gs_pcln_account_funcs(&t, (n - toff) / 2, counts, per_func, &e);
        }
    }

    /* Inline expansion, one pc at a time (walked from the entry, then
     * twice through the single lookup's checkpoints: the second pass
     * answers from rows the first decoded; both must agree with the walk)
     * and batched. */
    {
        gs_lookup_cache *cache = gs_lookup_cache_new();
        for (int pass = 0; pass < 3; pass++) {
            for (size_t k = 0; k < npcs; k++) {
                gs_frame fr[8], fr2[8];
                size_t nfr = 0, nfr2 = 0;
                int64_t fi = gs_pcln_find(&t, pcs[k]);
                int rc = gs_inline_frames(&t, &c, pcs[k], fr, 8, &nfr, &e);
                if (pass == 0 || fi < 0 || !cache)
                    continue;
                if (gs_func_frames(&t, &c, cache, (uint64_t)fi, pcs[k], 0, fr2, 8, &nfr2, &e) != rc)
                    __builtin_trap();
                if (rc == GS_OK) {
                    if (nfr2 != nfr)
                        __builtin_trap();
                    for (size_t j = 0; j < nfr && j < 8; j++)
                        if (fr[j].line != fr2[j].line || fr[j].file_off != fr2[j].file_off ||
                            fr[j].name_off != fr2[j].name_off)
                            __builtin_trap();
                }
            }
        }
        gs_lookup_cache_free(cache);
    }
    {
        uint32_t first[MAX_PCS];
        uint16_t count[MAX_PCS];
        gs_symres r;
        memset(&r, 0, sizeof r);
        r.first = first;
        r.count = count;
        if (gs_pcln_symbolize(&t, &c, pcs, npcs, &r) == GS_OK) {
            /* The lookup command's text answers, from the frames. */
            gs_frames_view v;
            size_t ends[MAX_PCS];
            v.first = first;
            v.count = count;
            v.name_off = r.name_off;
            v.file_off = r.file_off;
            v.line = r.line;
            for (int style = GS_STYLE_GO; style <= GS_STYLE_LLVM; style++) {
                for (int inl = 0; inl < 2; inl++) {
                    gs_text out;
                    memset(&out, 0, sizeof out);
                    gs_render_text(&t, &v, NULL, npcs, style, inl, &out, ends);
                    gs_text_free(&out);
                }
            }
        }
        gs_symres_free(&r);
    }
    /* The lookup command's address parser, on the raw input. */
    {
        uint64_t addrs[64];
        gs_parse_addrs((const char *)d, n < 4096 ? n : 4096, addrs, 64);
    }
}

/* fuzz_units reads the input as .debug_info whose abbreviation, string
 * and string-offset sections are the input too (csrc/dwarf_form.c). */
static void fuzz_units(const uint8_t *d, size_t n)
{
    gs_dwu_secs s = {d, n, d, n, d, n, d, n, d, n, 0};
    gs_dwu_unit u;
    gs_err e = {0, 0, 0};
    size_t off = 0, next = 0;
    int sec, k;
    for (k = 0; k < 64 && off < n; k++) {
        if (gs_dwu_read(&s, off, &u, &next, &e, &sec) != GS_OK || next <= off)
            break;
        off = next;
    }
}

static void fuzz_dwarf(const uint8_t *d, size_t n)
{
    gs_dwl_secs s;
    gs_err e = {0, 0, 0};
    uint64_t offs[16];
    size_t nunits = 0, off = 0;

    memset(&s, 0, sizeof s);
    s.line = d;
    s.line_len = n;
    s.line_str = d;
    s.line_str_len = n;
    s.str = d;
    s.str_len = n;
    s.big_endian = 0;

    while (off < n && nunits < 16) {
        size_t next;
        gs_dwl_header h;
        if (gs_dwl_next_unit(&s, off, &next, &e) != GS_OK || next <= off)
            break;
        if (gs_dwl_open(&s, off, &h, &e) == GS_OK) {
            gs_dwl_entry ent[16];
            size_t ne;
            offs[nunits++] = off;
            gs_dwl_entries(&s, &h, 0, ent, 16, &ne, &e);
            gs_dwl_entries(&s, &h, 1, ent, 16, &ne, &e);
        }
        off = next;
    }
    if (nunits == 0)
        return;

    {
        enum { CAP = 256 };
        static uint64_t addr[CAP];
        static uint32_t file[CAP], line[CAP], col[CAP], disc[CAP];
        static uint8_t flags[CAP];
        uint64_t unit_row[17];
        gs_dwl_rows r = {addr, file, line, col, flags, disc, CAP, 0};
        size_t first = 0, next = 0;
        /* Decode all units, restarting with empty arrays on GS_DWL_MORE
         * (rows are discarded; the harness only wants the walk).  A unit
         * that cannot fit even alone is skipped. */
        while (first < nunits) {
            int rc = gs_dwl_decode(&s, offs, first, nunits, &r, unit_row, &next, &e);
            if (rc != GS_DWL_MORE)
                break;
            if (next == first) {
                if (r.n == 0)
                    first++;   /* one unit larger than CAP rows */
                r.n = 0;
            } else {
                first = next;
                r.n = 0;
            }
        }
    }
    {
        /* The narrow layout: 16-bit files, column and discriminator left
         * out while zero; GS_DWL_WIDEN ends the walk. */
        enum { CAP = 256 };
        static uint64_t addr[CAP];
        static uint32_t line[CAP];
        static uint16_t file16[CAP];
        static uint8_t flags[CAP];
        uint64_t unit_row[17];
        gs_dwl_rows r = {addr, NULL, line, NULL, flags, NULL, CAP, 0, file16, 1, 1, 0};
        size_t next = 0;
        gs_dwl_decode(&s, offs, 0, nunits, &r, unit_row, &next, &e);
    }
    {
        uint64_t lo[64], hi[64];
        uint32_t unit[64];
        size_t nseq, k, nd;
        gs_dwl_entry defs[8];
        gs_dwl_sequences(&s, offs, nunits, lo, hi, unit, 64, &nseq, &e);
        for (k = 0; k < nunits; k++)
            gs_dwl_defined_files(&s, (size_t)offs[k], defs, 8, &nd, &e);
    }
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fuzz_symtab(const uint8_t *d, size_t n)
{
    static const char *names[] = {"runtime.pclntab", "runtime.epclntab", "runtime.text",
                                  "main.main", "go:func.*", "a", ""};
    int kind, big;
    size_t count, tab_off, str_off, str_len, m = 0;
    int64_t index;
    uint64_t value;
    int32_t section;
    gs_err e = {0, 0, 0};
    gs_sym syms[32];

    if (n < 19)
        return;
    kind = d[1] <= 7 ? d[1] : 1 + d[1] % 5;
    big = d[2] & 1;
    count = le32(d + 3);
    tab_off = le32(d + 7);
    str_off = le32(d + 11);
    str_len = le32(d + 15);
    d += 19;
    n -= 19;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        gs_symtab_find(d, n, kind, big, tab_off, count, str_off, str_len,
                       names[k], strlen(names[k]), &index, &value, &section, &e);
    /* A name from the file itself (up to its first NUL, at most 40 bytes),
     * so matches happen on mutated inputs too. */
    while (m < n && m < 40 && d[m])
        m++;
    gs_symtab_find(d, n, kind, big, tab_off, count, str_off, str_len,
                   (const char *)d, m, &index, &value, &section, &e);
    gs_symtab_list(d, n, kind, big, tab_off, count, syms, 32, &m, &e);
    gs_symtab_list(d, n, kind, big, tab_off, count, NULL, 0, &m, &e);
}

/* Arrays of a gs_prof for its counts (one allocation). */
static void *prof_alloc(gs_prof *p)
{
    size_t n8 = p->nmap * 6 + p->nloc * 3 + p->nfunc * 5 + p->nsample_locs;
    size_t n4 = p->nstr * 2 + p->nloc * 3 + p->nsample * 2;
    uint8_t *m = calloc(1, n8 * 8 + n4 * 4 + p->nmap + 8);
    uint64_t *q = (uint64_t *)m;
    uint32_t *w;
    if (!m)
        return NULL;
    p->map_id = q; q += p->nmap;
    p->map_start = q; q += p->nmap;
    p->map_limit = q; q += p->nmap;
    p->map_offset = q; q += p->nmap;
    p->map_file = (int64_t *)q; q += p->nmap;
    p->map_bid = (int64_t *)q; q += p->nmap;
    p->loc_id = q; q += p->nloc;
    p->loc_map = q; q += p->nloc;
    p->loc_addr = q; q += p->nloc;
    p->fn_id = q; q += p->nfunc;
    p->fn_name = (int64_t *)q; q += p->nfunc;
    p->fn_sys = (int64_t *)q; q += p->nfunc;
    p->fn_file = (int64_t *)q; q += p->nfunc;
    p->fn_start = (int64_t *)q; q += p->nfunc;
    p->smp_locs = q; q += p->nsample_locs;
    w = (uint32_t *)q;
    p->str_off = w; w += p->nstr;
    p->str_len = w; w += p->nstr;
    p->loc_nlines = w; w += p->nloc;
    p->loc_off = w; w += p->nloc;
    p->loc_len = w; w += p->nloc;
    p->smp_first = w; w += p->nsample;
    p->smp_count = w; w += p->nsample;
    p->map_flags = (uint8_t *)w;
    return m;
}

static void fuzz_profile(const uint8_t *d, size_t n)
{
    gs_prof p, q;
    gs_err e;
    void *mem, *mem2;
    uint32_t *ff, *fc;
    uint64_t *lfid, fid = 1, off[2] = {0, 3};
    int64_t *lline, zero = 0, name;
    uint8_t *out;
    size_t k, need = 0, got = 0;
    gs_prof_add a;
    if (gs_prof_count(d, n, &p, &e) || !(mem = prof_alloc(&p)))
        return;
    if (gs_prof_decode(d, n, &p, &e)) {
        free(mem);
        return;
    }
    ff = calloc(p.nloc + 1, sizeof *ff);
    fc = calloc(p.nloc + 1, sizeof *fc);
    lfid = calloc(p.nloc + 1, sizeof *lfid);
    lline = calloc(p.nloc + 1, sizeof *lline);
    for (k = 0; ff && fc && lfid && lline && k < p.nloc; k++) {
        ff[k] = (uint32_t)k;
        fc[k] = 1;
        lfid[k] = 1 + p.nfunc;
        lline[k] = (int64_t)k - 1;
    }
    fid = 1 + p.nfunc;
    name = (int64_t)p.nstr;
    a = (gs_prof_add){ff, fc, lfid, lline, 1, &fid, &name, &zero, &zero, 1, (const uint8_t *)"fn()", off};
    if (ff && fc && lfid && lline && gs_prof_encode(d, n, &p, &a, NULL, 0, &need, &e) == GS_OK &&
        (out = malloc(need + 1)) != NULL) {
        if (gs_prof_encode(d, n, &p, &a, out, need, &got, &e) != GS_OK || got != need ||
            need > gs_prof_encode_bound(n, &p, &a))
            abort();
        if (gs_prof_count(out, got, &q, &e) != GS_OK || q.nloc != p.nloc || q.nfunc != p.nfunc + 1 ||
            q.nstr != p.nstr + 1 || !(mem2 = prof_alloc(&q)))
            abort();
        if (gs_prof_decode(out, got, &q, &e) != GS_OK)
            abort();
        for (k = 0; k < q.nloc; k++)
            if (q.loc_nlines[k] != p.loc_nlines[k] + 1 || q.loc_id[k] != p.loc_id[k])
                abort();
        free(mem2);
        free(out);
    }
    free(ff);
    free(fc);
    free(lfid);
    free(lline);
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        fuzz_dwarf(data + 1, size - 1);
        fuzz_units(data + 1, size - 1);
    } else if (data[0] & 2)
        fuzz_symtab(data, size);
    else if (data[0] & 4)
        fuzz_profile(data + 1, size - 1);
    else
        fuzz_pclntab(data, size);
    return 0;
}
