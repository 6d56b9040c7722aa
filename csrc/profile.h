/* profile.h - pprof profiles (profile.proto) decoded into columns and
 * re-encoded with new Line and Function entries, without a protobuf library.
 *
 * The format: github.com/google/pprof proto/profile.proto.  Only the fields
 * gosym reads are decoded (string table, mappings, locations, functions, the
 * location ids of samples); every other field is copied through unchanged.
 *
 * Use: gs_prof_count (sizes) -> the caller allocates the arrays of gs_prof
 * -> gs_prof_decode -> the caller decides what to add -> gs_prof_encode
 * (twice: once with out == NULL for the size).  Plain C, no allocation except
 * a temporary sorted copy of the mapping ids; fuzzed by fuzz/fuzz_pclntab.c.
 */
#ifndef GOSYM_PROFILE_H
#define GOSYM_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

/* Mapping flags (gs_prof.map_flags bits): Mapping fields 7..10. */
enum {
    GS_MAP_HAS_FUNCTIONS = 1,
    GS_MAP_HAS_FILENAMES = 2,
    GS_MAP_HAS_LINE_NUMBERS = 4,
    GS_MAP_HAS_INLINE_FRAMES = 8
};

typedef struct gs_prof {
    /* Counts, from gs_prof_count. */
    size_t nstr, nmap, nloc, nfunc, nsample, nsample_locs;
    /* Arrays the caller provides, each of its count's length. */
    uint32_t *str_off, *str_len;                 /* string_table entries in the buffer */
    uint64_t *map_id, *map_start, *map_limit, *map_offset;
    int64_t *map_file, *map_bid;                 /* string indexes */
    uint8_t *map_flags;                          /* GS_MAP_* */
    uint64_t *loc_id, *loc_map, *loc_addr;
    uint32_t *loc_nlines;
    uint32_t *loc_off, *loc_len;                 /* the Location message's body in the buffer */
    uint64_t *fn_id;
    int64_t *fn_name, *fn_sys, *fn_file, *fn_start;
    uint32_t *smp_first, *smp_count;             /* a sample's location ids: smp_locs[first..first+count) */
    uint64_t *smp_locs;
} gs_prof;

/* gs_prof_count walks the top level and the samples once and fills the
 * counts of p.  Buffers are at most 4 GiB (offsets are 32-bit). */
int gs_prof_count(const uint8_t *buf, size_t len, gs_prof *p, gs_err *e);

/* gs_prof_decode fills the arrays of p (counted by gs_prof_count on the same
 * buffer) and checks what pprof checks: the string table starts with "",
 * string indexes are in range, ids are not 0, a location's mapping exists. */
int gs_prof_decode(const uint8_t *buf, size_t len, gs_prof *p, gs_err *e);

/* What gs_prof_encode adds.  Location i (in decode order) gets
 * fill_count[i] lines (function id lfid[j], line lline[j] for j from
 * fill_first[i]) appended after its own fields; mappings are rewritten with
 * p->map_flags; new Functions (nfn of them) and new strings (nnew, the
 * bytes newstr[newoff[k] .. newoff[k+1])) are appended. */
typedef struct gs_prof_add {
    const uint32_t *fill_first, *fill_count;
    const uint64_t *lfid;
    const int64_t *lline;
    size_t nfn;
    const uint64_t *fn_id;
    const int64_t *fn_name, *fn_file, *fn_start;
    size_t nnew;
    const uint8_t *newstr;
    const uint64_t *newoff;     /* nnew + 1 offsets */
} gs_prof_add;

/* gs_prof_encode writes the new profile to out (cap bytes) and its size to
 * *n; with out == NULL it only computes *n. */
int gs_prof_encode(const uint8_t *buf, size_t len, const gs_prof *p, const gs_prof_add *a,
                   uint8_t *out, size_t cap, size_t *n, gs_err *e);

/* gs_prof_encode_bound is an upper bound of the size gs_prof_encode
 * writes: given a buffer that large, one call writes the profile. */
size_t gs_prof_encode_bound(size_t len, const gs_prof *p, const gs_prof_add *a);

/* ---- the additions' string and function tables ----
 *
 * gs_prof_tab dedupes what a symbolizer adds to a decoded profile: strings
 * (an existing entry is reused, the first of equal ones; new ones are
 * appended after the table) and Functions keyed by (name, system name,
 * file, start line) string indexes and line (an existing Function is
 * reused, the first of equal ones; new ones get ids from max(id) + 1, system
 * name = name).  Open-addressing hash tables; the new strings and Functions
 * are columns for gs_prof_add.  Nothing here reads the file beyond the
 * decoded string offsets of gs_prof. */
typedef struct gs_prof_fkey {
    int64_t name, sys, file, start;
    uint64_t id;
    int used;
} gs_prof_fkey;

typedef struct gs_prof_tab {
    const uint8_t *buf;          /* the decoded profile and its columns */
    const gs_prof *p;
    uint64_t *sslot;             /* hash << 32 | (string index + 1); 0: empty */
    size_t scap, sused;
    uint8_t *blob;               /* new strings' bytes */
    size_t blen, bcap;
    uint64_t *newoff;            /* nnew + 1 offsets into blob */
    size_t nnew, offcap;
    gs_prof_fkey *fslot;         /* id 0: empty */
    size_t fcap, fused;
    uint64_t next_id;
    uint64_t *fn_id;             /* new Functions, in the order made */
    int64_t *fn_name, *fn_file, *fn_start;
    size_t nfn, fncap;
} gs_prof_tab;

/* gs_prof_tab_init indexes the strings and Functions of a decoded profile
 * (buf and p must outlive t); gs_prof_tab_free releases t. */
int gs_prof_tab_init(gs_prof_tab *t, const uint8_t *buf, const gs_prof *p, gs_err *e);
void gs_prof_tab_free(gs_prof_tab *t);

/* gs_prof_string returns the string-table index of the n bytes at s,
 * appending them if new; -1 when out of memory. */
int64_t gs_prof_string(gs_prof_tab *t, const uint8_t *s, size_t n);

/* gs_prof_function sets *id to the id of the Function (name, name, file,
 * start) (string indexes from gs_prof_string), making it if new;
 * GS_ERR_NOMEM when out of memory. */
int gs_prof_function(gs_prof_tab *t, int64_t name, int64_t file, int64_t start, uint64_t *id);

/* gs_utf8_valid reports whether the n bytes at s are well-formed UTF-8
 * (Unicode 15 table 3-7: no overlongs, surrogates or values past U+10FFFF). */
int gs_utf8_valid(const uint8_t *s, size_t n);

#endif
