/* batch.c - gs_pcln_lookup_many: many pcs at once, in address order, each
 * function's line and file tables walked once for all the pcs inside it.
 * See pclntab.h. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE   /* posix_memalign, madvise's MADV_HUGEPAGE */
#endif
#include "pclntab.h"
#include "pclntab_int.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

void *gs__scratch_alloc(size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    enum { HUGE_PAGE = 1 << 21 };
    if (bytes >= 2 * (size_t)HUGE_PAGE) {
        void *p = NULL;
        size_t whole = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
        if (posix_memalign(&p, HUGE_PAGE, whole) == 0) {
            madvise(p, whole, MADV_HUGEPAGE);   /* only advice: failure is fine */
            return p;
        }
    }
#endif
    return malloc(bytes ? bytes : 1);
}

void gs_advise_huge(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    enum { HUGE_PAGE = 1 << 21 };
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t z = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (p != NULL && (uintptr_t)p + bytes > (uintptr_t)p && z > a)
        madvise((void *)a, z - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}

/* Sort packed keys (pc offset << 32 | position) on the offset bits only.
 * Positions ascend in the input, so this is also the order of the whole
 * 64-bit keys, which any sort of a part may use.
 *
 * Offsets of up to 11 bits: one counting pass.  Longer: one pass on the
 * top 11 bits (most significant digit first), which leaves 2048 runs of
 * keys each in its own range of offsets; each run is then small enough to
 * stay in the cache while it is sorted on the remaining bits (least
 * significant digit first, up to 8 bits a pass, or insertion for a short
 * run).  Two passes over the keys in memory instead of one per 11 bits.
 * The result ends in *a (the function swaps *a and *b as needed). */
enum { RADIX_BITS = 11, RADIX = 1 << RADIX_BITS, LOW_BITS = 8, LOW_RADIX = 1 << LOW_BITS,
       SHORT_RUN = 24 };

static void insertion_sort(uint64_t *k, size_t n)
{
    size_t i, j;
    for (i = 1; i < n; i++) {
        uint64_t v = k[i];
        for (j = i; j > 0 && k[j - 1] > v; j--)
            k[j] = k[j - 1];
        k[j] = v;
    }
}

/* Counting sort of src[0:n) into dst on the digit (key >> shift) & mask. */
static void count_pass(const uint64_t *src, uint64_t *dst, size_t n, unsigned shift, uint32_t mask,
                       uint32_t *count)
{
    size_t k, d;
    uint32_t sum = 0;
    memset(count, 0, ((size_t)mask + 1) * sizeof *count);
    for (k = 0; k < n; k++)
        count[(src[k] >> shift) & mask]++;
    for (d = 0; d <= mask; d++) {
        uint32_t x = count[d];
        count[d] = sum;
        sum += x;
    }
    for (k = 0; k < n; k++)
        dst[count[(src[k] >> shift) & mask]++] = src[k];
}

void gs__radix_sort_packed(uint64_t **a, uint64_t **b, size_t n, uint64_t span)
{
    uint64_t *ka = *a, *kb = *b;
    uint32_t top[RADIX + 1], low[LOW_RADIX];
    unsigned bits = 0, rest, npass, width, p;
    size_t k, d;
    /* Offsets are below span (n < 2^32: positions are 32-bit). */
    while (bits < 32 && span > 1 && ((span - 1) >> bits) != 0)
        bits++;
    if (n < 2)
        return;
    if (bits <= RADIX_BITS) {
        count_pass(ka, kb, n, 32, RADIX - 1, top);
        *a = kb;
        *b = ka;
        return;
    }
    rest = bits - RADIX_BITS;
    npass = (rest + LOW_BITS - 1) / LOW_BITS;
    width = (rest + npass - 1) / npass;
    /* The top digit, into kb; top[d] is where run d starts. */
    memset(top, 0, sizeof top);
    for (k = 0; k < n; k++)
        top[(ka[k] >> (32 + rest)) & (RADIX - 1)]++;
    {
        uint32_t sum = 0;
        for (d = 0; d < RADIX; d++) {
            uint32_t x = top[d];
            top[d] = sum;
            sum += x;
        }
        top[RADIX] = sum;
    }
    {
        uint32_t at[RADIX];
        memcpy(at, top, sizeof at);
        for (k = 0; k < n; k++)
            kb[at[(ka[k] >> (32 + rest)) & (RADIX - 1)]++] = ka[k];
    }
    /* Each run on the low bits: npass passes from kb, ending in ka when
     * npass is odd (short runs are sorted in place and copied there). */
    for (d = 0; d < RADIX; d++) {
        size_t s = top[d], m = top[d + 1] - s;
        uint64_t *x = kb + s, *y = ka + s, *t;
        if (m <= SHORT_RUN) {
            insertion_sort(x, m);
            if (npass & 1)
                memcpy(y, x, m * sizeof *x);
            continue;
        }
        for (p = 0; p < npass; p++) {
            count_pass(x, y, m, 32 + width * p, (1u << width) - 1, low);
            t = x; x = y; y = t;
        }
    }
    if (npass & 1) {
        *a = ka;
        *b = kb;
    } else {
        *a = kb;
        *b = ka;
    }
}

int64_t gs__find_next(const gs_pcln *t, int64_t cur, uint64_t pc)
{
    uint64_t lo, hi, step = 1;
    if (cur < 0 || (uint64_t)cur + 1 >= t->nfunc || gs_pcln_entry(t, (uint64_t)cur + 1) > pc ||
        pc >= gs_pcln_entry(t, t->nfunc))
        return gs_pcln_find(t, pc);
    lo = (uint64_t)cur + 1;
    hi = lo + 1;
    while (hi < t->nfunc && gs_pcln_entry(t, hi) <= pc) {
        lo = hi;
        step *= 2;
        hi = lo + step;
    }
    if (hi > t->nfunc)
        hi = t->nfunc;
    return (int64_t)gs_pcln_find_between(t, pc, lo, hi);
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
    int32_t last_fno = -1;
    size_t last_fo = 0;
    memset(&f, 0, sizeof f);
    memset(&li, 0, sizeof li);
    memset(&fi, 0, sizeof fi);
    for (k = 0; k < n; k++) {
        uint64_t pc = packed ? (keys[k] >> 32) + lo : keys[k];
        size_t j = packed ? (size_t)(keys[k] & 0xffffffffu) : k;
        int32_t fno;
        size_t fo;
        if (cur < 0 || pc < cur_lo || pc >= cur_hi) {
            int64_t i = pc >= cur_hi ? gs__find_next(t, cur, pc) : gs_pcln_find(t, pc);
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
                last_fno = -1;
                last_fo = 0;
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
        if (fno != last_fno) {
            /* Runs of pcs share a file: its offset is read once a run. */
            fo = gs__file_at(t, &rd, &f, fno);
            if (rd.err) {
                rd.err = GS_OK;
                goto miss;
            }
            last_fno = fno;
            last_fo = fo;
        }
        fo = last_fo;
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
    keys = gs__scratch_alloc(n * sizeof *keys);
    tmp = gs__scratch_alloc(n * sizeof *tmp);
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

