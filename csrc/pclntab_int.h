/* pclntab_int.h - pclntab.c internals shared with the other decoders in
 * csrc/ (batch.c, inline.c, symbolize.c, account.c).  Not part of the API
 * the Cython layer uses. */
#ifndef GOSYM_PCLNTAB_INT_H
#define GOSYM_PCLNTAB_INT_H

#include "pclntab.h"
#include "pcvalue.h"

/* A fresh reader over the table for one operation: the table's own reader
 * is a template that is never mutated after open, so operations (and the
 * threads of a batch) each read through their own copy. */
static inline gs_reader gs__op_reader(const gs_pcln *t)
{
    gs_reader rd = t->rd;
    rd.err = GS_OK;
    rd.err_off = 0;
    rd.err_msg = NULL;
    rd.pos = 0;
    return rd;
}

int gs__decode_func(const gs_pcln *t, gs_reader *rd, uint64_t i, gs_func *f);
size_t gs__file_at(const gs_pcln *t, gs_reader *rd, const gs_func *f, int32_t fno);

/* gs__find_next is gs_pcln_find(t, pc) for a pc past function cur (a
 * batch's pcs in ascending order): a galloping search forward from cur + 1
 * over the ascending table (gs_pcln_check_sorted); cur < 0, or a pc not
 * past cur, takes gs_pcln_find. */
int64_t gs__find_next(const gs_pcln *t, int64_t cur, uint64_t pc);

/* gs__scratch_alloc allocates a batch's scratch array (free it with free):
 * one of 4 MiB and more is aligned to 2 MiB and, on Linux, advised to use
 * transparent huge pages, so that first touching it costs one page fault
 * per 2 MiB rather than one per 4 KiB. */
void *gs__scratch_alloc(size_t bytes);

/* Sort packed keys ((pc - lo) << 32 | position) by pc; result ends in *a. */
void gs__radix_sort_packed(uint64_t **a, uint64_t **b, size_t n, uint64_t span);

#endif
