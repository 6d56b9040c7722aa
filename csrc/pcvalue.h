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

/* gs_pcv_short reads a uvarint of one or two bytes at b (two bytes
 * readable): returns its length, 0 when it is longer (the fast paths of
 * the walks below leave those to the checked reader). */
static inline size_t gs_pcv_short(const uint8_t *b, uint32_t *v)
{
    if (b[0] < 0x80) {
        *v = b[0];
        return 1;
    }
    if (b[1] < 0x80) {
        *v = (uint32_t)(b[0] & 0x7f) | ((uint32_t)b[1] << 7);
        return 2;
    }
    return 0;
}

/* gs_pcv_pair reads the pair at b (four bytes readable) when both its
 * deltas take one or two bytes: returns the pair's length and sets *ulen
 * to the value delta's; 0 for any other pair (a terminator followed by
 * long bytes included: the checked reader then ends the walk). */
static inline size_t gs_pcv_pair(const uint8_t *b, uint32_t *uv, uint32_t *pcd, size_t *ulen)
{
    size_t k = gs_pcv_short(b, uv), k2;
    *ulen = k;
    if (k == 0 || (k2 = gs_pcv_short(b + k, pcd)) == 0)
        return 0;
    return k + k2;
}

/* gs_pcv_step_slow is gs_pcv_step for the pairs its fast path leaves
 * (near the end of the buffer, deltas of 3 bytes and more, errors). */
int gs_pcv_step_slow(const gs_pcln *t, gs_reader *rd, gs_pcv_iter *it);

/* gs_pcv_step advances one pair: afterwards the run ending at it->next has
 * value it->val.  Returns 0 (and sets done) at the end or on an error.
 * Afterwards rd->pos is where the walk stopped (gs_pcv_len reads it).
 *
 * Inline for the common pair, both deltas of one or two bytes with 4
 * bytes left to read: no bounds check per byte and no reader call; every
 * other pair (and any error) goes through gs_pcv_step_slow, which reads it
 * from the same position with every check. */
static inline int gs_pcv_step(const gs_pcln *t, gs_reader *rd, gs_pcv_iter *it)
{
    size_t p = it->pos, k, ulen;
    uint32_t uv, pcd;
    if (it->done || rd->err || p > rd->len || rd->len - p < 4)
        return gs_pcv_step_slow(t, rd, it);
    if (!(k = gs_pcv_pair(rd->base + p, &uv, &pcd, &ulen)))
        return gs_pcv_step_slow(t, rd, it);
    if (uv == 0 && !it->first) {
        rd->pos = p + ulen;
        it->done = 1;
        return 0;
    }
    it->first = 0;
    /* Wrapping add, as Go's int32 arithmetic (see gs_pcv_step_slow). */
    it->val = (int32_t)((uint32_t)it->val + (uint32_t)gs_zigzag32(uv));
    it->next += (uint64_t)pcd * (uint64_t)t->quantum;
    it->pos = rd->pos = p + k;
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

/* The rows of one table, decoded forward on demand: row k is the run
 * ending at entry + end[k] with value val[k] (8 bytes a kept row); with a
 * stride above 1, pos[k] is where the pair after it starts, to resume a
 * walk there.  A walk error is kept: rows before it stay good, targets past
 * it fail (as a fresh walk from the entry would). */
typedef struct gs_pcv_rows {
    gs_pcv_iter it;          /* where decoding stopped */
    uint32_t tab;
    uint64_t entry;
    uint32_t *end;
    int32_t *val;
    size_t *pos;             /* stride > 1 only */
    size_t n, cap, hint;
    unsigned stride, skip;   /* keep one row every stride steps */
    int err;
} gs_pcv_rows;

/* gs_pcv_rows_begin starts (or restarts, keeping its memory) x over table
 * tab of a function at entry; stride 0 means 1.  Returns nonzero, and sets
 * x->err, when tab is out of range. */
int gs_pcv_rows_begin(const gs_pcln *t, gs_pcv_rows *x, uint32_t tab, uint64_t entry,
                      unsigned stride);

/* gs_pcv_rows_at_slow is gs_pcv_rows_at past its fast path. */
int gs_pcv_rows_at_slow(const gs_pcln *t, gs_pcv_rows *x, uint32_t off, int32_t *v, int hint);

/* gs_pcv_rows_at sets *v to the value at entry + off (-1 past the table's
 * end).  Returns 0; -1 when the walk failed before reaching off;
 * GS_ERR_NOMEM.  hint 1: questions come mostly in ascending order (the
 * answer's row is remembered); 0: leave the remembered row alone.  Inline
 * for the common case of every row kept and off in the remembered row or
 * the next. */
static inline int gs_pcv_rows_at(const gs_pcln *t, gs_pcv_rows *x, uint32_t off, int32_t *v,
                                 int hint)
{
    if (x->stride == 1) {
        size_t a = x->hint;
        if (a < x->n && x->end[a] > off && (a == 0 || x->end[a - 1] <= off)) {
            *v = x->val[a];
            return 0;
        }
        if (a + 1 < x->n && x->end[a + 1] > off && x->end[a] <= off) {
            if (hint)
                x->hint = a + 1;
            *v = x->val[a + 1];
            return 0;
        }
    }
    return gs_pcv_rows_at_slow(t, x, off, v, hint);
}

void gs_pcv_rows_free(gs_pcv_rows *x);

#endif /* GOSYM_PCVALUE_H */
