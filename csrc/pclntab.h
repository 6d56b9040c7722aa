/* pclntab.h - decoder for the Go runtime's pc/line table (pclntab).
 *
 * Formats, from the Go sources of each release (runtime/symtab.go,
 * cmd/link/internal/ld/pcln.go, debug/gosym/pclntab.go):
 *   magic 0xfffffffb  Go 1.2-1.15   (GS_VER12)
 *   magic 0xfffffffa  Go 1.16-1.17  (GS_VER116)
 *   magic 0xfffffff0  Go 1.18-1.19  (GS_VER118)
 *   magic 0xfffffff1  Go 1.20+      (GS_VER120)
 * Header: magic u32, pad u8 u8 (zero), quantum u8, ptr_size u8, then
 * pointer-sized words: nfunc, nfiles, [textStart: 1.18+], funcname, cu,
 * filetab, pctab, pcln offsets (1.16+).  Go 1.2 has only nfunc, then the
 * function table.
 *
 * Everything here reads through gs_reader (reader.h) over the table's bytes
 * only; nothing is allocated.  Functions return a GS_* status; on failure the
 * table's reader holds the offset and reason.
 */
#ifndef GOSYM_PCLNTAB_H
#define GOSYM_PCLNTAB_H

#include "reader.h"

enum { GS_VER12 = 12, GS_VER116 = 116, GS_VER118 = 118, GS_VER120 = 120 };

typedef struct gs_pcln {
    gs_reader rd;            /* template over the whole table; never mutated
                                after open: each operation reads through its
                                own copy, so lookups may run in parallel */
    uint32_t magic;
    int version;             /* GS_VER12 ... GS_VER120 */
    int quantum;
    int ptr_size;
    uint64_t nfunc;
    uint64_t nfiles;
    uint64_t hdr_text_start; /* as stored (1.18+); 0 on Go 1.26+ */
    uint64_t text_base;      /* added to 32-bit entry offsets (1.18+); set by caller */
    /* Offsets from the start of the table. */
    size_t funcname_off;     /* function names */
    size_t cu_off;           /* cu table: u32 per (cu, file) -> filetab offset (1.16+) */
    size_t filetab_off;      /* file names (1.16+); u32 offsets table (1.2) */
    size_t pctab_off;        /* pc-value tables */
    size_t funcdata_off;     /* base of _func records */
    size_t functab_off;      /* function table: (entry, funcoff) pairs */
    int functab_field;       /* 4 (1.18+) or ptr_size */
    uint32_t nfiletab12;     /* Go 1.2: number of file table entries */
} gs_pcln;

/* One decoded _func record (runtime/runtime2.go: _func). */
typedef struct gs_func {
    uint64_t entry;          /* absolute entry pc (text_base applied) */
    size_t off;              /* record offset in the table */
    int32_t name_off;
    int32_t args;
    uint32_t deferreturn;
    uint32_t pcsp, pcfile, pcln;
    uint32_t npcdata;
    uint32_t cu_offset;      /* 1.16+; 0 before */
    int32_t start_line;      /* 1.20+; 0 before */
    uint8_t func_id;
    uint8_t flag;
    uint8_t nfuncdata;
    size_t pcdata_off;       /* table offset of the pcdata u32 array */
} gs_func;

/* gs_pcln_open parses and checks the header of the table at base[0:len].
 * Checks every offset against len and that the function table fits. */
int gs_pcln_open(gs_pcln *t, const uint8_t *base, size_t len, gs_err *e);

/* gs_pcln_scan finds the first pclntab header candidate in base[from:to]:
 * a magic of any version in either byte order, two zero pad bytes,
 * instruction quantum 1, 2 or 4 and pointer size 4 or 8 (runtime/symtab.go:
 * pcHeader).  want_ptr (4 or 8) and want_be (0 or 1) filter; -1 accepts
 * either.  Returns 1 and sets *pos, *ptr_size, *big_endian, or returns 0.
 * One pass, linear in to - from (issue 6: scanning must not cost more). */
int gs_pcln_scan(const uint8_t *base, size_t len, size_t from, size_t to, int want_ptr,
                 int want_be, size_t *pos, int *ptr_size, int *big_endian);

/* gs_pcln_check_sorted verifies function entries ascend; O(nfunc). */
int gs_pcln_check_sorted(const gs_pcln *t, gs_err *e);

/* gs_pcln_entry returns entry pc of function i (i == nfunc: the end pc).
 * Inline: the function searches call it in their loops. */
static inline uint64_t gs_pcln_entry(const gs_pcln *t, uint64_t i)
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

/* gs_pcln_find returns the index of the function containing pc, or -1. */
int64_t gs_pcln_find(const gs_pcln *t, uint64_t pc);
/* gs_pcln_find_between is its search within [lo, hi), given entry(lo) <= pc
 * < entry(hi): the last function there whose entry is at or below pc. */
uint64_t gs_pcln_find_between(const gs_pcln *t, uint64_t pc, uint64_t lo, uint64_t hi);

/* gs_pcln_func decodes function i's _func record. */
int gs_pcln_func(const gs_pcln *t, uint64_t i, gs_func *f, gs_err *e);

/* gs_pcln_name returns function-name bytes at name_off (NUL excluded). */
int gs_pcln_name(const gs_pcln *t, int32_t name_off, const char **s, size_t *n, gs_err *e);

/* gs_pcln_file_off resolves file number fileno of f to the table offset of
 * its NUL-terminated name; *off = 0 when the entry is empty. */
int gs_pcln_file_off(const gs_pcln *t, const gs_func *f, int32_t fileno, size_t *off, gs_err *e);

/* gs_pcvalue runs the pc-value table at pctab offset tab for a function
 * starting at entry and returns the value in effect at pc (-1 when pc is
 * past the table or tab is 0). */
int gs_pcvalue(const gs_pcln *t, uint32_t tab, uint64_t entry, uint64_t pc, int32_t *val, gs_err *e);

/* gs_pcln_frame_size sets *most to the largest stack-pointer delta of
 * function i: the maximum of its whole pcsp table (0 when it has none). */
int gs_pcln_frame_size(const gs_pcln *t, uint64_t i, int32_t *most, gs_err *e);

/* gs_pcdata_tab returns function f's pcdata table index k (0 if absent). */
int gs_pcdata_tab(const gs_pcln *t, const gs_func *f, uint32_t k, uint32_t *tab, gs_err *e);


/* Whole-table passes. */

/* gs_pcln_columns fills entry[nfunc], end[nfunc], name_off[nfunc],
 * start_line[nfunc] and file_off[nfunc] (the file of the entry pc; 0 when
 * none); any may be NULL. */
int gs_pcln_columns(const gs_pcln *t, uint64_t *entry, uint64_t *end,
                    int32_t *name_off, int32_t *start_line, uint32_t *file_off,
                    gs_err *e);

/* gs_pcln_lookup_many: for each pc, the function index (-1 on a miss), line
 * (-1 unknown) and file name offset (0 unknown).  A bad record gives a miss
 * for that pc only; the return value is GS_OK unless an argument is bad. */
int gs_pcln_lookup_many(const gs_pcln *t, const uint64_t *pcs, size_t n,
                        int64_t *func_idx, int32_t *line, uint32_t *file_off);

/* gs_advise_huge advises the kernel to back the whole 2 MiB pages inside
 * [p, p + bytes) with transparent huge pages (Linux; elsewhere nothing):
 * for a batch's large output arrays, not yet touched, so that filling them
 * takes one page fault per 2 MiB rather than one per 4 KiB.  Advice only. */
void gs_advise_huge(void *p, size_t bytes);

/* gs_pcln_lines emits function i's pc -> file,line rows into caller arrays of
 * capacity cap; *nrows gets the number needed (call again with a larger
 * array when it exceeds cap) and *end_pc the pc where the tables end (the
 * last row covers [pc, end_pc); padding after it has no line). */
int gs_pcln_lines(const gs_pcln *t, uint64_t i, uint64_t *pc, uint32_t *file_off,
                  int32_t *line, size_t cap, size_t *nrows, uint64_t *end_pc, gs_err *e);

#endif /* GOSYM_PCLNTAB_H */
