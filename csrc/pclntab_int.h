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
/* Advance: afterwards the run ending at it->next has value it->val. */
static inline int gs__pcv_step(const gs_pcln *t, gs_reader *rd, gs__pcv_iter *it)
{
    uint32_t uv, pcd;
    if (it->done || rd->err) {
        /* An error left by another walk on the same reader ends this one
         * too: callers loop `while (!it.done && ...)`, so returning without
         * `done` set would spin forever (found by fuzz/fuzz_pclntab.c: a
         * line table that fails while the file table walk continues). */
        it->done = 1;
        return 0;
    }
    rd->pos = it->pos;
    uv = gs_rd_uvarint32(rd);
    if (rd->err || (uv == 0 && !it->first)) {
        it->done = 1;
        return 0;
    }
    it->first = 0;
    it->val = (int32_t)((uint32_t)it->val + (uint32_t)gs_zigzag32(uv));  /* wrapping, as in gs__pcvalue */
    pcd = gs_rd_uvarint32(rd);
    if (rd->err) {
        it->done = 1;
        return 0;
    }
    it->next += (uint64_t)pcd * (uint64_t)t->quantum;
    it->pos = rd->pos;
    return 1;
}

/* Sort packed keys ((pc - lo) << 32 | position) by pc; result ends in *a. */
void gs__radix_sort_packed(uint64_t **a, uint64_t **b, size_t n, uint64_t span);

#endif
