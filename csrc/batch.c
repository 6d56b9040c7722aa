/* batch.c - gs_pcln_lookup_many: many pcs at once, in address order, each
 * function's line and file tables walked once for all the pcs inside it.
 * See pclntab.h. */
#include "pclntab.h"
#include "pclntab_int.h"

#include <stdlib.h>
#include <string.h>

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
    gs_reader rd = gs__op_reader(t);
    size_t k;
    int64_t cur = -1;
    uint64_t cur_lo = 0, cur_hi = 0;
    int have = 0;
    gs_func f;
    gs_pcv_iter li, fi;
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
                    gs_pcv_begin(t, &rd, &li, f.pcln, f.entry);
                    gs_pcv_begin(t, &rd, &fi, f.pcfile, f.entry);
                    have = rd.err == GS_OK;
                }
            }
        }
        if (!have)
            goto miss;
        while (!li.done && li.next <= pc)
            gs_pcv_step(t, &rd, &li);
        while (!fi.done && fi.next <= pc)
            gs_pcv_step(t, &rd, &fi);
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

