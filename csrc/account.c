/* account.c - pclntab byte accounting.  See account.h. */
#include "account.h"
#include "pclntab_int.h"

#include <stdlib.h>

/* Claim [off, off+n) for cat where still unclaimed (clipped to the table);
 * returns how many bytes this call claimed. */
static size_t claim(uint8_t *map, size_t len, size_t off, size_t n, uint8_t cat)
{
    size_t k, end, got = 0;
    if (off >= len)
        return 0;
    end = n > len - off ? len : off + n;
    for (k = off; k < end; k++)
        if (!map[k]) {
            map[k] = cat;
            got++;
        }
    return got;
}

static size_t claim_tab(const gs_pcln *t, uint8_t *map, uint32_t tab, uint8_t cat)
{
    size_t n = gs_pcv_len(t, tab);
    return n ? claim(map, t->rd.len, t->pctab_off + tab, n, cat) : 0;
}

/* The pc extent of a pc-value table: where its last run ends, relative to
 * the entry (0 for no table or a malformed one). */
static uint64_t pcv_extent(const gs_pcln *t, uint32_t tab)
{
    gs_reader rd = t->rd;
    gs_pcv_iter it;
    rd.err = GS_OK;
    if (tab == 0 || (size_t)tab >= rd.len - t->pctab_off)
        return 0;
    gs_pcv_begin(t, &rd, &it, tab, 0);
    while (gs_pcv_step(t, &rd, &it))
        ;
    return rd.err ? 0 : it.next;
}

typedef struct fd_ref {
    uint32_t off;    /* from go:func.* */
    uint32_t fn;     /* the referring function */
} fd_ref;

static int fd_cmp(const void *a, const void *b)
{
    const fd_ref *x = a, *y = b;
    if (x->off != y->off)
        return x->off < y->off ? -1 : 1;
    return x->fn < y->fn ? -1 : x->fn > y->fn;
}

/* go:func.* inside the table (Go 1.26+): each object a function's funcdata
 * names (stack maps, inline tree, ...) runs to the next named object (their
 * sizes are not recorded; the linker lays them out back to back) and goes to
 * the lowest-index function naming it.  Returns nonzero on no memory. */
static int claim_funcdata(const gs_pcln *t, uint8_t *map, size_t fdo, uint64_t *per_func)
{
    size_t len = t->rd.len, n = 0, cap = 0, k;
    fd_ref *v = NULL;
    gs_reader rd = t->rd;
    uint64_t i;
    for (i = 0; i < t->nfunc && i <= UINT32_MAX; i++) {
        gs_func f;
        uint32_t j;
        rd.err = GS_OK;
        if (gs__decode_func(t, &rd, i, &f))
            continue;
        for (j = 0; j < f.nfuncdata; j++) {
            uint32_t off = gs_u32_at(&rd, f.pcdata_off + 4 * (size_t)f.npcdata + 4 * (size_t)j);
            if (rd.err)
                break;
            if (off == UINT32_MAX || off >= len - fdo)   /* ^uint32(0): no data */
                continue;
            if (n == cap) {
                fd_ref *w = realloc(v, (cap = cap ? 2 * cap : 1024) * sizeof *v);
                if (!w) {
                    free(v);
                    return 1;
                }
                v = w;
            }
            v[n].off = off;
            v[n++].fn = (uint32_t)i;
        }
    }
    if (n)
        qsort(v, n, sizeof *v, fd_cmp);
    for (k = 0; k < n; k++) {
        size_t end = len - fdo, m;
        if (k && v[k].off == v[k - 1].off)
            continue;
        for (m = k + 1; m < n; m++)
            if (v[m].off != v[k].off) {
                end = v[m].off;
                break;
            }
        per_func[(size_t)v[k].fn * GS_PF_N + GS_PF_FUNCDATA] +=
            claim(map, len, fdo + v[k].off, end - v[k].off, GS_ACC_FUNCDATA);
    }
    free(v);
    return 0;
}

int gs_pcln_account(const gs_pcln *t, size_t funcdata_off, uint64_t counts[GS_ACC_N], gs_err *e)
{
    return gs_pcln_account_funcs(t, funcdata_off, counts, NULL, e);
}

int gs_pcln_account_funcs(const gs_pcln *t, size_t funcdata_off, uint64_t counts[GS_ACC_N],
                          uint64_t *per_func, gs_err *e)
{
    size_t len = t->rd.len, k;
    uint8_t *map;
    uint64_t i;
    gs_reader rd = t->rd;
    size_t hdr = 8 + (size_t)t->ptr_size * (t->version >= GS_VER118 ? 8 : t->version == GS_VER116 ? 7 : 1);

    for (k = 0; k < GS_ACC_N; k++)
        counts[k] = 0;
    map = calloc(len ? len : 1, 1);
    if (!map)
        return gs_set_err(e, GS_ERR_NOMEM, 0, "no memory to account the table");
    rd.err = GS_OK;
    claim(map, len, 0, hdr, GS_ACC_HEADER);
    if (per_func) {
        /* Each function's (entry, funcoff) pair is its own; the end entry
         * is left to the bulk claim below. */
        for (i = 0; i < t->nfunc; i++) {
            uint64_t *pf = per_func + i * GS_PF_N;
            for (k = 0; k < GS_PF_N; k++)
                pf[k] = 0;
            pf[GS_PF_RECORD] = claim(map, len, t->functab_off + (size_t)(2 * i) * t->functab_field,
                                     2 * (size_t)t->functab_field, GS_ACC_FUNCTAB);
        }
        /* Names before the whole name region is claimed below. */
        for (i = 0; i < t->nfunc; i++) {
            gs_func f;
            const char *s;
            size_t n;
            rd.err = GS_OK;
            if (gs__decode_func(t, &rd, i, &f))
                continue;
            n = gs_cstr_at(&rd, t->funcname_off + (size_t)(uint32_t)f.name_off, &s);
            if (!rd.err)
                per_func[i * GS_PF_N + GS_PF_NAME] =
                    claim(map, len, t->funcname_off + (size_t)(uint32_t)f.name_off, n + 1, GS_ACC_FUNCNAME);
        }
    }
    claim(map, len, t->functab_off, (size_t)(2 * t->nfunc + 1) * (size_t)t->functab_field,
          GS_ACC_FUNCTAB);
    if (t->version == GS_VER12) {
        claim(map, len, t->functab_off + (size_t)(2 * t->nfunc + 1) * (size_t)t->functab_field, 4,
              GS_ACC_FILETAB);
        claim(map, len, t->filetab_off, 4 * (size_t)t->nfiletab12, GS_ACC_FILETAB);
        for (k = 1; k < t->nfiletab12; k++) {
            const char *s;
            uint32_t so = gs_u32_at(&rd, t->filetab_off + 4 * k);
            size_t n;
            if (rd.err)
                break;
            n = gs_cstr_at(&rd, so, &s);
            if (rd.err) {
                rd.err = GS_OK;
                continue;
            }
            claim(map, len, so, n + 1, GS_ACC_FILETAB);
        }
    } else {
        /* 1.16+: the regions follow each other in header order. */
        if (t->funcname_off <= t->cu_off && t->cu_off <= t->filetab_off &&
            t->filetab_off <= t->pctab_off) {
            claim(map, len, t->funcname_off, t->cu_off - t->funcname_off, GS_ACC_FUNCNAME);
            claim(map, len, t->cu_off, t->filetab_off - t->cu_off, GS_ACC_CUTAB);
            claim(map, len, t->filetab_off, t->pctab_off - t->filetab_off, GS_ACC_FILETAB);
        }
    }
    for (i = 0; i < t->nfunc; i++) {
        gs_func f;
        const char *s;
        size_t n, fixed, arrays, got;
        uint32_t j;
        uint64_t dummy[GS_PF_N] = {0, 0, 0, 0, 0};
        uint64_t *pf = per_func ? per_func + i * GS_PF_N : dummy;
        rd.err = GS_OK;
        if (gs__decode_func(t, &rd, i, &f))
            continue;
        fixed = f.pcdata_off - f.off;
        /* pcdata u32 array, then funcdata: u32 offsets (1.18+) or pointers,
         * aligned to the pointer size (before 1.18). */
        arrays = 4 * (size_t)(f.npcdata > len ? len : f.npcdata);
        if (t->version >= GS_VER118)
            arrays += 4 * (size_t)f.nfuncdata;
        else if (f.nfuncdata)
            arrays += ((f.pcdata_off + arrays) % (size_t)t->ptr_size ? 4 : 0) +
                      (size_t)t->ptr_size * f.nfuncdata;
        pf[GS_PF_RECORD] += claim(map, len, f.off, fixed + arrays, GS_ACC_FUNC);
        n = gs_cstr_at(&rd, t->funcname_off + (size_t)(uint32_t)f.name_off, &s);
        if (!rd.err)
            pf[GS_PF_NAME] += claim(map, len, t->funcname_off + (size_t)(uint32_t)f.name_off, n + 1,
                                   GS_ACC_FUNCNAME);
        got = claim_tab(t, map, f.pcsp, GS_ACC_PCSP);
        got += claim_tab(t, map, f.pcfile, GS_ACC_PCFILE);
        got += claim_tab(t, map, f.pcln, GS_ACC_PCLN);
        for (j = 0; j < f.npcdata && j < 64; j++) {
            uint32_t tab;
            gs_err e2;
            if (gs_pcdata_tab(t, &f, j, &tab, &e2))
                break;
            got += claim_tab(t, map, tab, (uint8_t)(j <= 3 ? GS_ACC_PCDATA0 + j : GS_ACC_PCDATA_OTHER));
        }
        pf[GS_PF_PCVALUE] = got;
        if (per_func) {
            /* The compiler's pc-value tables cover the function's code to its
             * last byte (cmd/internal/obj/pcln.go: funcpctab); what lies
             * between that and the next entry is alignment padding. */
            uint64_t ext = pcv_extent(t, f.pcsp), ext2 = pcv_extent(t, f.pcln);
            pf[GS_PF_CODE] = ext > ext2 ? ext : ext2;
        }
    }
    if (per_func && funcdata_off < len && t->version >= GS_VER118 &&
        claim_funcdata(t, map, funcdata_off, per_func)) {
        free(map);
        return gs_set_err(e, GS_ERR_NOMEM, 0, "no memory to account the table");
    }
    if (funcdata_off < len)
        claim(map, len, funcdata_off, len - funcdata_off, GS_ACC_FUNCDATA);
    for (k = 0; k < len; k++)
        counts[map[k] ? map[k] : GS_ACC_OTHER]++;
    free(map);
    return GS_OK;
}
