/* pclntab_int.h - pclntab.c internals shared with other decoders in csrc/
 * (inline.c).  Not part of the API the Cython layer uses. */
#ifndef GOSYM_PCLNTAB_INT_H
#define GOSYM_PCLNTAB_INT_H

#include "pclntab.h"

/* A walk of a pc-value table: after a step, the run ending at `next` has
 * value `val`; the next pair starts at table offset `pos`. */
typedef struct gs__pcv_iter {
    size_t pos;
    uint64_t next;
    int32_t val;
    int first;
    int done;
} gs__pcv_iter;

int gs__decode_func(const gs_pcln *t, gs_reader *rd, uint64_t i, gs_func *f);
size_t gs__file_at(const gs_pcln *t, gs_reader *rd, const gs_func *f, int32_t fno);
int32_t gs__pcvalue(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry, uint64_t target);
void gs__pcv_begin(const gs_pcln *t, gs_reader *rd, gs__pcv_iter *it, uint32_t tab, uint64_t entry);
int gs__pcv_step(const gs_pcln *t, gs_reader *rd, gs__pcv_iter *it);
/* Sort packed keys ((pc - lo) << 32 | position) by pc; result ends in *a. */
void gs__radix_sort_packed(uint64_t **a, uint64_t **b, size_t n, uint64_t span);

#endif
