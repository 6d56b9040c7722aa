/* profile.c - pprof profile.proto: columns out, new Lines and Functions in.
 *
 * Field numbers from github.com/google/pprof proto/profile.proto; protobuf
 * wire format from protobuf.dev/programming-guides/encoding.  Every read goes
 * through the bounds-checked cursor of reader.h; a nested message is read
 * with a cursor over exactly its bytes.
 */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

/* Wire types. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_SGROUP = 3, WT_EGROUP = 4, WT_I32 = 5 };

/* Profile fields. */
enum { P_SAMPLE = 2, P_MAPPING = 3, P_LOCATION = 4, P_FUNCTION = 5, P_STRING = 6 };
/* Sample.location_id; Location.line; Line.function_id, Line.line. */
enum { S_LOCATION_ID = 1, L_LINE = 4, LN_FUNCTION_ID = 1, LN_LINE = 2 };

#define MAX_FIELD ((1u << 29) - 1)

/* read_tag reads a field key; 0 at the end of the range or on error. */
static inline uint32_t read_tag(gs_reader *rd, int *wt)
{
    uint64_t k;
    if (rd->err || rd->pos >= rd->len)
        return 0;
    k = gs_rd_uvarint(rd);
    if (rd->err)
        return 0;
    *wt = (int)(k & 7);
    if ((k >> 3) == 0 || (k >> 3) > MAX_FIELD) {
        gs_rd_fail(rd, GS_ERR_FORMAT, rd->pos, "bad protobuf field number");
        return 0;
    }
    return (uint32_t)(k >> 3);
}

/* skip_value skips a field's value of wire type wt. */
static inline void skip_value(gs_reader *rd, int wt)
{
    uint64_t n;
    switch (wt) {
    case WT_VARINT:
        gs_rd_uvarint(rd);
        return;
    case WT_I64:
        n = 8;
        break;
    case WT_I32:
        n = 4;
        break;
    case WT_LEN:
        n = gs_rd_uvarint(rd);
        break;
    default:
        gs_rd_fail(rd, GS_ERR_FORMAT, rd->pos, "unsupported protobuf wire type (group)");
        return;
    }
    if (rd->err)
        return;
    if (!gs_rd_has(rd, rd->pos, n)) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, rd->pos, "protobuf field past end");
        return;
    }
    rd->pos += (size_t)n;
}

/* sub opens a cursor over a length-delimited value at rd's position. */
static inline void sub(gs_reader *rd, gs_reader *s)
{
    uint64_t n = gs_rd_uvarint(rd);
    size_t at = rd->pos;
    if (!rd->err && !gs_rd_has(rd, at, n))
        gs_rd_fail(rd, GS_ERR_BOUNDS, at, "protobuf message past end");
    if (rd->err) {
        gs_rd_init(s, rd->base, 0, 0, 8);
        return;
    }
    gs_rd_init(s, rd->base + at, (size_t)n, 0, 8);
    rd->pos += (size_t)n;
}

/* varint_field reads a varint of a known field; wrong wire type is an error. */
static inline uint64_t varint_field(gs_reader *s, int wt)
{
    if (wt != WT_VARINT) {
        gs_rd_fail(s, GS_ERR_FORMAT, s->pos, "profile field has the wrong wire type");
        return 0;
    }
    return gs_rd_uvarint(s);
}

/* The sub-reader's error, moved to the outer reader with offsets made absolute. */
static inline void lift(gs_reader *rd, const gs_reader *s)
{
    if (s->err)
        gs_rd_fail(rd, s->err, (size_t)(s->base - rd->base) + s->err_off, s->err_msg);
}

/* sample_locs counts the location ids of one Sample, storing the first
 * max of them in out (if not NULL). */
static size_t sample_locs(gs_reader *s, uint64_t *out, size_t max)
{
    size_t n = 0;
    int wt;
    uint32_t f;
    while ((f = read_tag(s, &wt)) != 0) {
        if (f != S_LOCATION_ID) {
            skip_value(s, wt);
            continue;
        }
        if (wt == WT_VARINT) {
            uint64_t v = gs_rd_uvarint(s);
            if (out && !s->err && n < max)
                out[n] = v;
            n++;
        } else if (wt == WT_LEN) {
            gs_reader pk;
            sub(s, &pk);
            while (!pk.err && pk.pos < pk.len) {
                uint64_t v = gs_rd_uvarint(&pk);
                if (out && !pk.err && n < max)
                    out[n] = v;
                n++;
            }
            lift(s, &pk);
        } else {
            gs_rd_fail(s, GS_ERR_FORMAT, s->pos, "sample location_id has the wrong wire type");
        }
    }
    return n;
}

int gs_prof_count(const uint8_t *buf, size_t len, gs_prof *p, gs_err *e)
{
    gs_reader rd;
    int wt;
    uint32_t f;
    if (len > UINT32_MAX)
        return gs_set_err(e, GS_ERR_UNSUPPORTED, 0, "profile larger than 4 GiB");
    gs_rd_init(&rd, buf, len, 0, 8);
    p->nstr = p->nmap = p->nloc = p->nfunc = p->nsample = p->nsample_locs = 0;
    while ((f = read_tag(&rd, &wt)) != 0) {
        if (f >= P_SAMPLE && f <= P_STRING && wt != WT_LEN) {
            gs_rd_fail(&rd, GS_ERR_FORMAT, rd.pos, "profile field has the wrong wire type");
            break;
        }
        switch (f) {
        case P_SAMPLE: {
            gs_reader s;
            sub(&rd, &s);
            p->nsample_locs += sample_locs(&s, NULL, 0);
            lift(&rd, &s);
            p->nsample++;
            break;
        }
        case P_MAPPING: p->nmap++; skip_value(&rd, wt); break;
        case P_LOCATION: p->nloc++; skip_value(&rd, wt); break;
        case P_FUNCTION: p->nfunc++; skip_value(&rd, wt); break;
        case P_STRING: p->nstr++; skip_value(&rd, wt); break;
        default: skip_value(&rd, wt);
        }
    }
    return gs_rd_finish(&rd, e);
}

static void decode_mapping(gs_reader *s, gs_prof *p, size_t i)
{
    int wt;
    uint32_t f;
    p->map_id[i] = p->map_start[i] = p->map_limit[i] = p->map_offset[i] = 0;
    p->map_file[i] = p->map_bid[i] = 0;
    p->map_flags[i] = 0;
    while ((f = read_tag(s, &wt)) != 0) {
        uint64_t v;
        if (f > 10) {
            skip_value(s, wt);
            continue;
        }
        v = varint_field(s, wt);
        switch (f) {
        case 1: p->map_id[i] = v; break;
        case 2: p->map_start[i] = v; break;
        case 3: p->map_limit[i] = v; break;
        case 4: p->map_offset[i] = v; break;
        case 5: p->map_file[i] = (int64_t)v; break;
        case 6: p->map_bid[i] = (int64_t)v; break;
        default: {
            uint8_t bit = (uint8_t)(1u << (f - 7));
            p->map_flags[i] = v ? (uint8_t)(p->map_flags[i] | bit) : (uint8_t)(p->map_flags[i] & ~bit);
        }
        }
    }
}

static void decode_location(gs_reader *s, gs_prof *p, size_t i)
{
    int wt;
    uint32_t f;
    p->loc_id[i] = p->loc_map[i] = p->loc_addr[i] = 0;
    p->loc_nlines[i] = 0;
    while ((f = read_tag(s, &wt)) != 0) {
        switch (f) {
        case 1: p->loc_id[i] = varint_field(s, wt); break;
        case 2: p->loc_map[i] = varint_field(s, wt); break;
        case 3: p->loc_addr[i] = varint_field(s, wt); break;
        case L_LINE:
            if (wt != WT_LEN)
                gs_rd_fail(s, GS_ERR_FORMAT, s->pos, "location line has the wrong wire type");
            p->loc_nlines[i]++;
            skip_value(s, wt);
            break;
        default: skip_value(s, wt);
        }
    }
}

static void decode_function(gs_reader *s, gs_prof *p, size_t i)
{
    int wt;
    uint32_t f;
    p->fn_id[i] = 0;
    p->fn_name[i] = p->fn_sys[i] = p->fn_file[i] = p->fn_start[i] = 0;
    while ((f = read_tag(s, &wt)) != 0) {
        uint64_t v;
        if (f > 5) {
            skip_value(s, wt);
            continue;
        }
        v = varint_field(s, wt);
        switch (f) {
        case 1: p->fn_id[i] = v; break;
        case 2: p->fn_name[i] = (int64_t)v; break;
        case 3: p->fn_sys[i] = (int64_t)v; break;
        case 4: p->fn_file[i] = (int64_t)v; break;
        default: p->fn_start[i] = (int64_t)v;
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* check applies pprof's structural rules to the decoded columns. */
static int check(const uint8_t *buf, gs_prof *p, gs_err *e)
{
    size_t i;
    int64_t n = (int64_t)p->nstr;
    uint64_t *ids;
    if (p->nstr == 0)
        return gs_set_err(e, GS_ERR_FORMAT, 0, "empty string table");
    if (p->str_len[0] != 0)
        return gs_set_err(e, GS_ERR_FORMAT, p->str_off[0], "string table does not start with \"\"");
    for (i = 0; i < p->nmap; i++) {
        if (p->map_id[i] == 0)
            return gs_set_err(e, GS_ERR_FORMAT, 0, "mapping with id 0");
        if (p->map_file[i] < 0 || p->map_file[i] >= n || p->map_bid[i] < 0 || p->map_bid[i] >= n)
            return gs_set_err(e, GS_ERR_FORMAT, i, "mapping string index out of range");
    }
    for (i = 0; i < p->nfunc; i++) {
        if (p->fn_name[i] < 0 || p->fn_name[i] >= n || p->fn_sys[i] < 0 || p->fn_sys[i] >= n ||
            p->fn_file[i] < 0 || p->fn_file[i] >= n)
            return gs_set_err(e, GS_ERR_FORMAT, i, "function string index out of range");
    }
    ids = malloc((p->nmap ? p->nmap : 1) * sizeof *ids);
    if (!ids)
        return gs_set_err(e, GS_ERR_NOMEM, 0, "out of memory");
    memcpy(ids, p->map_id, p->nmap * sizeof *ids);
    qsort(ids, p->nmap, sizeof *ids, cmp_u64);
    for (i = 0; i < p->nloc; i++) {
        if (p->loc_id[i] == 0) {
            free(ids);
            return gs_set_err(e, GS_ERR_FORMAT, p->loc_off[i], "location with id 0");
        }
        if (p->loc_map[i] && !bsearch(&p->loc_map[i], ids, p->nmap, sizeof *ids, cmp_u64)) {
            free(ids);
            return gs_set_err(e, GS_ERR_FORMAT, p->loc_off[i], "location in an unknown mapping");
        }
    }
    free(ids);
    (void)buf;
    return GS_OK;
}

int gs_prof_decode(const uint8_t *buf, size_t len, gs_prof *p, gs_err *e)
{
    gs_reader rd;
    int wt;
    uint32_t f;
    size_t ns = 0, nm = 0, nl = 0, nf = 0, nsm = 0, nsl = 0;
    if (len > UINT32_MAX)
        return gs_set_err(e, GS_ERR_UNSUPPORTED, 0, "profile larger than 4 GiB");
    gs_rd_init(&rd, buf, len, 0, 8);
    while ((f = read_tag(&rd, &wt)) != 0) {
        gs_reader s;
        if (f < P_SAMPLE || f > P_STRING) {
            skip_value(&rd, wt);
            continue;
        }
        if (wt != WT_LEN) {
            gs_rd_fail(&rd, GS_ERR_FORMAT, rd.pos, "profile field has the wrong wire type");
            break;
        }
        sub(&rd, &s);
        if (rd.err)
            break;
        switch (f) {
        case P_SAMPLE: {
            size_t k;
            if (nsm >= p->nsample)
                goto changed;
            /* Bounded, so a sample cannot write past the counted total. */
            k = sample_locs(&s, p->smp_locs + nsl, p->nsample_locs - nsl);
            if (s.err)
                goto lifted;
            if (k > p->nsample_locs - nsl)
                goto changed;
            p->smp_first[nsm] = (uint32_t)nsl;
            p->smp_count[nsm] = (uint32_t)k;
            nsl += k;
            nsm++;
            break;
        }
        case P_MAPPING:
            if (nm >= p->nmap)
                goto changed;
            decode_mapping(&s, p, nm++);
            break;
        case P_LOCATION:
            if (nl >= p->nloc)
                goto changed;
            p->loc_off[nl] = (uint32_t)(s.base - buf);
            p->loc_len[nl] = (uint32_t)s.len;
            decode_location(&s, p, nl++);
            break;
        case P_FUNCTION:
            if (nf >= p->nfunc)
                goto changed;
            decode_function(&s, p, nf++);
            break;
        default:
            if (ns >= p->nstr)
                goto changed;
            p->str_off[ns] = (uint32_t)(s.base - buf);
            p->str_len[ns] = (uint32_t)s.len;
            ns++;
        }
    lifted:
        lift(&rd, &s);
    }
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (ns != p->nstr || nm != p->nmap || nl != p->nloc || nf != p->nfunc || nsm != p->nsample ||
        nsl != p->nsample_locs)
        goto changed;
    return check(buf, p, e);
changed:
    return gs_set_err(e, GS_ERR_ARG, rd.pos, "profile differs from the one counted");
}

/* ---- encoding ---- */

static size_t uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

typedef struct {
    uint8_t *out;
    size_t cap, n;
    int overflow;
} wbuf;

static void put_bytes(wbuf *w, const void *b, size_t n)
{
    if (w->out) {
        if (w->n > w->cap || n > w->cap - w->n) {
            w->overflow = 1;
            return;
        }
        memcpy(w->out + w->n, b, n);
    }
    w->n += n;
}

static void put_uvarint(wbuf *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    if (!w->out) {
        w->n += uvarint_size(v);
        return;
    }
    if (w->n <= w->cap && w->cap - w->n >= sizeof tmp) {
        uint8_t *o = w->out + w->n;
        while (v >= 0x80) {
            *o++ = (uint8_t)(v | 0x80);
            v >>= 7;
        }
        *o++ = (uint8_t)v;
        w->n = (size_t)(o - w->out);
        return;
    }
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put_bytes(w, tmp, n);
}

static void put_key(wbuf *w, uint32_t field, int wt)
{
    put_uvarint(w, ((uint64_t)field << 3) | (uint64_t)wt);
}

/* A varint field's encoded size; 0 for a zero value (proto3 default, left out). */
static size_t vfield_size(uint32_t field, uint64_t v)
{
    return v ? uvarint_size((uint64_t)field << 3) + uvarint_size(v) : 0;
}

static void put_vfield(wbuf *w, uint32_t field, uint64_t v)
{
    if (v) {
        put_key(w, field, WT_VARINT);
        put_uvarint(w, v);
    }
}

static size_t line_size(uint64_t fid, int64_t line)
{
    return vfield_size(LN_FUNCTION_ID, fid) + vfield_size(LN_LINE, (uint64_t)line);
}

static void put_mapping(wbuf *w, const gs_prof *p, size_t i)
{
    size_t body = 0;
    uint32_t k;
    uint64_t vals[10] = {p->map_id[i], p->map_start[i], p->map_limit[i], p->map_offset[i],
                         (uint64_t)p->map_file[i], (uint64_t)p->map_bid[i]};
    for (k = 0; k < 4; k++)
        vals[6 + k] = (p->map_flags[i] >> k) & 1;
    for (k = 0; k < 10; k++)
        body += vfield_size(k + 1, vals[k]);
    put_key(w, P_MAPPING, WT_LEN);
    put_uvarint(w, body);
    for (k = 0; k < 10; k++)
        put_vfield(w, k + 1, vals[k]);
}

/* wv writes v as a uvarint at o (room checked by the caller) and returns the end. */
static inline uint8_t *wv(uint8_t *o, uint64_t v)
{
    while (v >= 0x80) {
        *o++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* put_location writes Location i with its new Lines: its size first, so
 * the bytes go straight into the output after one room check. */
static void put_location(wbuf *w, const uint8_t *buf, const gs_prof *p, const gs_prof_add *a, size_t i)
{
    size_t body = p->loc_len[i], j, first = a->fill_first[i], cnt = a->fill_count[i], total;
    uint8_t *o;
    for (j = first; j < first + cnt; j++) {
        size_t ls = line_size(a->lfid[j], a->lline[j]);
        body += 1 + uvarint_size(ls) + ls;      /* key of field 4 (L_LINE), length, Line */
    }
    total = 1 + uvarint_size(body) + body;      /* key of field 4 (P_LOCATION), length, body */
    if (!w->out) {
        w->n += total;
        return;
    }
    if (w->n > w->cap || w->cap - w->n < total) {
        w->overflow = 1;
        return;
    }
    o = w->out + w->n;
    *o++ = (uint8_t)((P_LOCATION << 3) | WT_LEN);
    o = wv(o, body);
    memcpy(o, buf + p->loc_off[i], p->loc_len[i]);
    o += p->loc_len[i];
    for (j = first; j < first + cnt; j++) {
        uint64_t fid = a->lfid[j], line = (uint64_t)a->lline[j];
        *o++ = (uint8_t)((L_LINE << 3) | WT_LEN);
        o = wv(o, line_size(fid, (int64_t)line));
        if (fid) {
            *o++ = (uint8_t)((LN_FUNCTION_ID << 3) | WT_VARINT);
            o = wv(o, fid);
        }
        if (line) {
            *o++ = (uint8_t)((LN_LINE << 3) | WT_VARINT);
            o = wv(o, line);
        }
    }
    w->n = (size_t)(o - w->out);
}

size_t gs_prof_encode_bound(size_t len, const gs_prof *p, const gs_prof_add *a)
{
    /* Each rewritten field's growth at its largest: a Mapping body of ten
     * varint fields (11 bytes each) with key and length; per filled Location
     * a longer length prefix and per Line a key, a length and two fields;
     * a Function of five fields; a string's key and length. */
    size_t n = len + p->nmap * 123 + a->nfn * 66 + a->nnew * 11, k;
    for (k = 0; k < p->nloc; k++)
        if (a->fill_count[k])
            n += 10 + 24 * (size_t)a->fill_count[k];
    if (a->nnew)
        n += (size_t)a->newoff[a->nnew];
    return n;
}

int gs_prof_encode(const uint8_t *buf, size_t len, const gs_prof *p, const gs_prof_add *a,
                   uint8_t *out, size_t cap, size_t *n, gs_err *e)
{
    gs_reader rd;
    int wt;
    uint32_t f;
    size_t nm = 0, nl = 0, k;
    wbuf w = {out, cap, 0, 0};
    size_t run = 0;      /* start of the fields copied unchanged since the last rewritten one */
    gs_rd_init(&rd, buf, len, 0, 8);
    while (!rd.err && rd.pos < rd.len) {
        size_t start = rd.pos;
        f = read_tag(&rd, &wt);
        if (!f)
            break;
        skip_value(&rd, wt);
        if (rd.err)
            break;
        if (f == P_MAPPING && nm < p->nmap) {
            put_bytes(&w, buf + run, start - run);
            put_mapping(&w, p, nm++);
            run = rd.pos;
        } else if (f == P_LOCATION && nl < p->nloc) {
            if (a->fill_count[nl]) {
                put_bytes(&w, buf + run, start - run);
                put_location(&w, buf, p, a, nl);
                run = rd.pos;
            }
            nl++;
        }
    }
    if (rd.err)
        return gs_rd_finish(&rd, e);
    put_bytes(&w, buf + run, rd.pos - run);
    for (k = 0; k < a->nfn; k++) {
        size_t body = vfield_size(1, a->fn_id[k]) + vfield_size(2, (uint64_t)a->fn_name[k]) +
                      vfield_size(3, (uint64_t)a->fn_name[k]) + vfield_size(4, (uint64_t)a->fn_file[k]) +
                      vfield_size(5, (uint64_t)a->fn_start[k]);
        put_key(&w, P_FUNCTION, WT_LEN);
        put_uvarint(&w, body);
        put_vfield(&w, 1, a->fn_id[k]);
        put_vfield(&w, 2, (uint64_t)a->fn_name[k]);
        put_vfield(&w, 3, (uint64_t)a->fn_name[k]);   /* system_name: the same symbol */
        put_vfield(&w, 4, (uint64_t)a->fn_file[k]);
        put_vfield(&w, 5, (uint64_t)a->fn_start[k]);
    }
    for (k = 0; k < a->nnew; k++) {
        uint64_t s = a->newoff[k], t = a->newoff[k + 1];
        if (t < s)
            return gs_set_err(e, GS_ERR_ARG, k, "bad new-string offsets");
        put_key(&w, P_STRING, WT_LEN);
        put_uvarint(&w, t - s);
        put_bytes(&w, a->newstr + s, (size_t)(t - s));
    }
    if (w.overflow)
        return gs_set_err(e, GS_ERR_ARG, w.n, "output buffer too small");
    *n = w.n;
    return GS_OK;
}
