/* profile_tab.c - the strings and Functions gosym pprof adds to a profile:
 * hash tables over the profile's own string table and Functions, so that an
 * equal entry is reused and a new one is made once (profile.h: gs_prof_tab),
 * and the UTF-8 check of names.  Split from profile.c (the wire format).
 */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

static uint32_t hash_bytes(const uint8_t *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, s, 8);
        h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t v = 0;
        memcpy(&v, s, n);
        h = (h ^ v) * 0xC4CEB9FE1A85EC53ULL;
    }
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDULL;
    return (uint32_t)(h >> 32);
}

static const uint8_t *str_at(const gs_prof_tab *t, size_t i, size_t *n)
{
    if (i < t->p->nstr) {
        *n = t->p->str_len[i];
        return t->buf + t->p->str_off[i];
    }
    i -= t->p->nstr;
    *n = (size_t)(t->newoff[i + 1] - t->newoff[i]);
    return t->blob + t->newoff[i];
}

/* str_find returns the slot of the string (s, n) with hash h: its own or the empty one to fill. */
static size_t str_find(const gs_prof_tab *t, const uint8_t *s, size_t n, uint32_t h)
{
    size_t i = (size_t)h & (t->scap - 1);
    for (;;) {
        uint64_t v = t->sslot[i];
        if (!v)
            return i;
        if ((uint32_t)(v >> 32) == h) {
            size_t m;
            const uint8_t *o = str_at(t, (size_t)(uint32_t)v - 1, &m);
            if (m == n && (n == 0 || memcmp(o, s, n) == 0))
                return i;
        }
        i = (i + 1) & (t->scap - 1);
    }
}

static int str_grow(gs_prof_tab *t)
{
    size_t cap = t->scap ? t->scap * 2 : 1024, i;
    uint64_t *old = t->sslot, *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return GS_ERR_NOMEM;
    for (i = 0; i < t->scap; i++) {
        uint64_t v = old[i];
        size_t j;
        if (!v)
            continue;
        j = (size_t)(v >> 32) & (cap - 1);
        while (ns[j])
            j = (j + 1) & (cap - 1);
        ns[j] = v;
    }
    free(old);
    t->sslot = ns;
    t->scap = cap;
    return GS_OK;
}

static size_t fkey_hash(int64_t name, int64_t sys, int64_t file, int64_t start)
{
    uint64_t h = (uint64_t)name * 0x9E3779B97F4A7C15ULL;
    h = (h ^ (uint64_t)sys) * 0xFF51AFD7ED558CCDULL;
    h = (h ^ (uint64_t)file) * 0xC4CEB9FE1A85EC53ULL;
    h = (h ^ (uint64_t)start) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h ^ (h >> 31));
}

static gs_prof_fkey *fkey_find(const gs_prof_tab *t, int64_t name, int64_t sys, int64_t file, int64_t start)
{
    size_t i = fkey_hash(name, sys, file, start) & (t->fcap - 1);
    for (;;) {
        gs_prof_fkey *k = &t->fslot[i];
        if (!k->used || (k->name == name && k->sys == sys && k->file == file && k->start == start))
            return k;
        i = (i + 1) & (t->fcap - 1);
    }
}

static int fkey_grow(gs_prof_tab *t)
{
    size_t cap = t->fcap ? t->fcap * 2 : 1024, i;
    gs_prof_fkey *old = t->fslot, *nf = calloc(cap, sizeof *nf);
    if (!nf)
        return GS_ERR_NOMEM;
    t->fslot = nf;
    t->fcap = cap;
    for (i = 0; i < cap / 2; i++) {
        if (old && old[i].used)
            *fkey_find(t, old[i].name, old[i].sys, old[i].file, old[i].start) = old[i];
    }
    free(old);
    return GS_OK;
}

/* fkey_put makes key -> id unless the key is there (the first one stays). */
static int fkey_put(gs_prof_tab *t, int64_t name, int64_t sys, int64_t file, int64_t start, uint64_t id,
                    uint64_t *got)
{
    gs_prof_fkey *k;
    if (2 * (t->fused + 1) > t->fcap && fkey_grow(t))
        return GS_ERR_NOMEM;
    k = fkey_find(t, name, sys, file, start);
    if (!k->used) {
        k->name = name;
        k->sys = sys;
        k->file = file;
        k->start = start;
        k->id = id;
        k->used = 1;
        t->fused++;
    }
    *got = k->id;
    return GS_OK;
}

int gs_prof_tab_init(gs_prof_tab *t, const uint8_t *buf, const gs_prof *p, gs_err *e)
{
    size_t i;
    uint64_t got;
    memset(t, 0, sizeof *t);
    t->buf = buf;
    t->p = p;
    t->newoff = calloc(16, sizeof *t->newoff);
    t->offcap = 16;
    if (!t->newoff || str_grow(t) || fkey_grow(t))
        goto nomem;
    for (i = 0; i < p->nstr; i++) {
        size_t n = p->str_len[i], s;
        const uint8_t *b = buf + p->str_off[i];
        uint32_t h = hash_bytes(b, n);
        if (2 * (t->sused + 1) > t->scap && str_grow(t))
            goto nomem;
        s = str_find(t, b, n, h);
        if (!t->sslot[s]) {
            t->sslot[s] = ((uint64_t)h << 32) | (uint64_t)(i + 1);
            t->sused++;
        }
    }
    t->next_id = 1;
    for (i = 0; i < p->nfunc; i++) {
        if (p->fn_id[i] >= t->next_id)
            t->next_id = p->fn_id[i] + 1;
        if (fkey_put(t, p->fn_name[i], p->fn_sys[i], p->fn_file[i], p->fn_start[i], p->fn_id[i], &got))
            goto nomem;
    }
    return GS_OK;
nomem:
    gs_prof_tab_free(t);
    return gs_set_err(e, GS_ERR_NOMEM, 0, "out of memory");
}

void gs_prof_tab_free(gs_prof_tab *t)
{
    free(t->sslot);
    free(t->blob);
    free(t->newoff);
    free(t->fslot);
    free(t->fn_id);
    free(t->fn_name);
    free(t->fn_file);
    free(t->fn_start);
    memset(t, 0, sizeof *t);
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 16;
    void *q;
    if (need <= *cap)
        return GS_OK;
    while (c < need)
        c *= 2;
    q = realloc(*p, c * size);
    if (!q)
        return GS_ERR_NOMEM;
    *p = q;
    *cap = c;
    return GS_OK;
}

int64_t gs_prof_string(gs_prof_tab *t, const uint8_t *s, size_t n)
{
    uint32_t h = hash_bytes(s, n);
    size_t slot, idx, bcap;
    if (2 * (t->sused + 1) > t->scap && str_grow(t))
        return -1;
    slot = str_find(t, s, n, h);
    if (t->sslot[slot])
        return (int64_t)(uint32_t)t->sslot[slot] - 1;
    idx = t->p->nstr + t->nnew;
    if (idx >= UINT32_MAX - 1)
        return -1;
    bcap = t->bcap;
    if (grow((void **)&t->blob, &bcap, t->blen + n + 1, 1))
        return -1;
    t->bcap = bcap;
    if (grow((void **)&t->newoff, &t->offcap, t->nnew + 2, sizeof *t->newoff))
        return -1;
    if (n)
        memcpy(t->blob + t->blen, s, n);
    t->blen += n;
    t->newoff[t->nnew + 1] = t->blen;
    t->nnew++;
    t->sslot[slot] = ((uint64_t)h << 32) | (uint64_t)(idx + 1);
    t->sused++;
    return (int64_t)idx;
}

int gs_prof_function(gs_prof_tab *t, int64_t name, int64_t file, int64_t start, uint64_t *id)
{
    size_t before = t->fused;
    if (fkey_put(t, name, name, file, start, t->next_id, id))
        return GS_ERR_NOMEM;
    if (t->fused == before)
        return GS_OK;
    if (t->nfn == t->fncap) {
        size_t c = t->fncap ? 2 * t->fncap : 64;
        void *q;
        if (!(q = realloc(t->fn_id, c * sizeof *t->fn_id)))
            return GS_ERR_NOMEM;
        t->fn_id = q;
        if (!(q = realloc(t->fn_name, c * sizeof *t->fn_name)))
            return GS_ERR_NOMEM;
        t->fn_name = q;
        if (!(q = realloc(t->fn_file, c * sizeof *t->fn_file)))
            return GS_ERR_NOMEM;
        t->fn_file = q;
        if (!(q = realloc(t->fn_start, c * sizeof *t->fn_start)))
            return GS_ERR_NOMEM;
        t->fn_start = q;
        t->fncap = c;
    }
    t->fn_id[t->nfn] = t->next_id++;
    t->fn_name[t->nfn] = name;
    t->fn_file[t->nfn] = file;
    t->fn_start[t->nfn] = start;
    t->nfn++;
    return GS_OK;
}

int gs_utf8_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k, m;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            uint64_t v;
            if (n - i >= 8 && (memcpy(&v, s + i, 8), !(v & 0x8080808080808080ULL)))
                i += 8;       /* eight ASCII bytes */
            else
                i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            m = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            m = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            m = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return 0;
        if (m > n - i - 1)
            return 0;
        for (k = 1; k <= m; k++) {
            uint8_t d = s[i + k];
            if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF))
                return 0;
        }
        i += m + 1;
    }
    return 1;
}
