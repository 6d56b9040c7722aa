/* pcvalue.h - the one walker of pc-value tables, and its decoded rows.
 *
 * A pc-value table (runtime/symtab.go: pcvalue, step) is a run of uvarint
 * pairs: a zig-zag value delta and a pc delta in instruction quanta; a zero
 * value delta after the first pair ends it.  The value starts at -1 and the
 * pc at the function's entry.  Every reader of these tables in csrc/ goes
 * through gs_pcv_step: single lookup, batch lookup and symbolize, inline
 * expansion, line rows, frame size and byte accounting.
 *
 * gs_pcv_rows keeps what a walk decoded, one checkpoint every `stride`
 * steps, so that later questions about the same table start near their pc
 * instead of at the entry: stride 1 (every row: the batch symbolizer, whose
 * inline parent pcs jump around a function) or a sparse stride (the single
 * lookup's per-function cache of long functions).
 */
#ifndef GOSYM_PCVALUE_H
#define GOSYM_PCVALUE_H

#include "pclntab.h"

/* A walk: after a step, the run ending at `next` has value `val`; the next
 * pair starts at table offset `pos`. */
typedef struct gs_pcv_iter {
    size_t pos;
    uint64_t next;
    int32_t val;
    int first;
    int done;
} gs_pcv_iter;

/* gs_pcv_begin starts a walk of the table at pctab offset tab for a function
 * at entry; tab 0 (no table) gives a walk that is already done, a tab past
 * the table fails rd. */
void gs_pcv_begin(const gs_pcln *t, gs_reader *rd, gs_pcv_iter *it, uint32_t tab, uint64_t entry);

/* gs_pcv_step advances one pair: afterwards the run ending at it->next has
 * value it->val.  Returns 0 (and sets done) at the end or on an error. */
static inline int gs_pcv_step(const gs_pcln *t, gs_reader *rd, gs_pcv_iter *it)
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
    /* Wrapping add, as Go's int32 arithmetic (runtime/symtab.go: step); a
     * signed overflow here was undefined behaviour (found by
     * fuzz/fuzz_pclntab.c: -1 + INT32_MIN). */
    it->val = (int32_t)((uint32_t)it->val + (uint32_t)gs_zigzag32(uv));
    pcd = gs_rd_uvarint32(rd);
    if (rd->err) {
        it->done = 1;
        return 0;
    }
    it->next += (uint64_t)pcd * (uint64_t)t->quantum;
    it->pos = rd->pos;
    return 1;
}

/* gs_pcv_value returns the value in effect at target: -1 when tab is 0 or
 * the table ends at or before target (rd fails on malformed data). */
int32_t gs_pcv_value(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry, uint64_t target);

/* gs_pcv_max returns the largest value of the table, at least 0
 * (runtime/symtab.go: funcMaxSPDelta). */
int32_t gs_pcv_max(const gs_pcln *t, gs_reader *rd, uint32_t tab, uint64_t entry);

/* gs_pcv_len returns the table's length in bytes, terminator included; 0
 * when tab is 0 or the table is malformed. */
size_t gs_pcv_len(const gs_pcln *t, uint32_t tab);

/* One checkpoint: the run ending at entry + end has value val, and the next
 * pair starts at table offset pos. */
typedef struct gs_pcv_row {
    uint32_t end;
    int32_t val;
    size_t pos;
} gs_pcv_row;

/* The rows of one table, decoded forward on demand.  A walk error is kept:
 * rows before it stay good, targets past it fail (as a fresh walk from the
 * entry would). */
typedef struct gs_pcv_rows {
    gs_pcv_iter it;          /* where decoding stopped */
    uint32_t tab;
    uint64_t entry;
    gs_pcv_row *row;
    size_t n, cap, hint;
    unsigned stride, skip;   /* keep one row every stride steps */
    int err;
} gs_pcv_rows;

/* gs_pcv_rows_begin starts (or restarts, keeping its memory) x over table
 * tab of a function at entry; stride 0 means 1.  Returns nonzero, and sets
 * x->err, when tab is out of range. */
int gs_pcv_rows_begin(const gs_pcln *t, gs_pcv_rows *x, uint32_t tab, uint64_t entry,
                      unsigned stride);

/* gs_pcv_rows_at sets *v to the value at entry + off (-1 past the table's
 * end).  Returns 0; -1 when the walk failed before reaching off;
 * GS_ERR_NOMEM.  hint 1: questions come mostly in ascending order (the
 * answer's row is remembered); 0: leave the remembered row alone. */
int gs_pcv_rows_at(const gs_pcln *t, gs_pcv_rows *x, uint32_t off, int32_t *v, int hint);

void gs_pcv_rows_free(gs_pcv_rows *x);

#endif /* GOSYM_PCVALUE_H */
