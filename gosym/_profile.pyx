# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""pprof profiles in columns: the typed boundary of csrc/profile.c.

decode_profile turns a profile.proto buffer into arrays (strings, mappings,
locations, functions, the location ids of samples); encode_profile writes
it back with Lines added to chosen locations, rewritten mapping flags, and
new Functions and strings appended (every other byte copied through).  The
loops between them that gosym.pprof needs per location or per frame are
here too, typed, so no Python object is made per location.
"""
from cpython cimport array
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize, PyByteArray_Resize
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t
from libc.stdlib cimport calloc, free, malloc, qsort
from libc.string cimport memchr

from gosym._arrays cimport _zeros
from gosym._csrc cimport gs_pcln_name
from gosym._pclntab cimport PclnTable
from gosym._reader cimport gs_err, GS_ERR_NOMEM

import array as _pyarray

from gosym.errors import FormatError

cdef extern from "profile.h":
    ctypedef struct gs_prof:
        size_t nstr, nmap, nloc, nfunc, nsample, nsample_locs
        uint32_t *str_off
        uint32_t *str_len
        uint64_t *map_id
        uint64_t *map_start
        uint64_t *map_limit
        uint64_t *map_offset
        int64_t *map_file
        int64_t *map_bid
        uint8_t *map_flags
        uint64_t *loc_id
        uint64_t *loc_map
        uint64_t *loc_addr
        uint32_t *loc_nlines
        uint32_t *loc_off
        uint32_t *loc_len
        uint64_t *fn_id
        int64_t *fn_name
        int64_t *fn_sys
        int64_t *fn_file
        int64_t *fn_start
        uint32_t *smp_first
        uint32_t *smp_count
        uint64_t *smp_locs

    ctypedef struct gs_prof_add:
        const uint32_t *fill_first
        const uint32_t *fill_count
        const uint64_t *lfid
        const int64_t *lline
        size_t nfn
        const uint64_t *fn_id
        const int64_t *fn_name
        const int64_t *fn_file
        const int64_t *fn_start
        size_t nnew
        const uint8_t *newstr
        const uint64_t *newoff

    ctypedef struct gs_prof_tab:
        size_t nnew, nfn
        uint8_t *blob
        uint64_t *newoff
        uint64_t *fn_id
        int64_t *fn_name
        int64_t *fn_file
        int64_t *fn_start

    int gs_prof_tab_init(gs_prof_tab *t, const uint8_t *buf, const gs_prof *p, gs_err *e) nogil
    void gs_prof_tab_free(gs_prof_tab *t) nogil
    int64_t gs_prof_string(gs_prof_tab *t, const uint8_t *s, size_t n) nogil
    int gs_prof_function(gs_prof_tab *t, int64_t name, int64_t file, int64_t start, uint64_t *id) nogil
    int gs_utf8_valid(const uint8_t *s, size_t n) nogil
    int gs_prof_count(const uint8_t *buf, size_t len, gs_prof *p, gs_err *e) nogil
    int gs_prof_decode(const uint8_t *buf, size_t len, gs_prof *p, gs_err *e) nogil
    int gs_prof_encode(const uint8_t *buf, size_t len, const gs_prof *p, const gs_prof_add *a,
                       uint8_t *out, size_t cap, size_t *n, gs_err *e) nogil
    size_t gs_prof_encode_bound(size_t len, const gs_prof *p, const gs_prof_add *a) nogil

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _q = _pyarray.array("q")
cdef array.array _I = _pyarray.array("I")
cdef array.array _B = _pyarray.array("B")


cdef _fail(int rc, gs_err *e):
    if rc == GS_ERR_NOMEM:
        raise MemoryError("no memory for the profile")
    raise FormatError(f"not a pprof profile: {e.msg.decode()}", "profile", e.off)


cdef class ProfileColumns:
    """ProfileColumns is a decoded profile.proto: per string, mapping,
    location and function an array column, and the samples' location ids
    (smp_locs[smp_first[i]:][:smp_count[i]])."""
    cdef gs_prof p
    cdef readonly bytes data
    cdef readonly array.array str_off, str_len, map_id, map_start, map_limit, map_offset
    cdef readonly array.array map_file, map_bid, map_flags, loc_id, loc_map, loc_addr, loc_nlines
    cdef readonly array.array loc_off, loc_len, fn_id, fn_name, fn_sys, fn_file, fn_start
    cdef readonly array.array smp_first, smp_count, smp_locs

    def string(self, Py_ssize_t i):
        """string returns string-table entry i as bytes."""
        cdef uint32_t o = self.str_off[i]
        return self.data[o:o + self.str_len[i]]

    @property
    def nstrings(self):
        """nstrings is the length of the string table."""
        return self.p.nstr


def decode_profile(bytes data):
    """decode_profile decodes an uncompressed profile.proto into a
    ProfileColumns; FormatError (one line, with the byte offset) when the
    bytes are not a profile."""
    cdef ProfileColumns c = ProfileColumns.__new__(ProfileColumns)
    cdef gs_err e
    cdef int rc
    cdef const uint8_t *buf = data
    cdef size_t n = len(data)
    c.data = data
    with nogil:
        rc = gs_prof_count(buf, n, &c.p, &e)
    if rc:
        _fail(rc, &e)
    # Not zeroed: gs_prof_decode writes every entry, or fails (then c is dropped).
    c.str_off = array.clone(_I, c.p.nstr, False); c.p.str_off = <uint32_t *>c.str_off.data.as_voidptr
    c.str_len = array.clone(_I, c.p.nstr, False); c.p.str_len = <uint32_t *>c.str_len.data.as_voidptr
    c.map_id = array.clone(_Q, c.p.nmap, False); c.p.map_id = <uint64_t *>c.map_id.data.as_voidptr
    c.map_start = array.clone(_Q, c.p.nmap, False); c.p.map_start = <uint64_t *>c.map_start.data.as_voidptr
    c.map_limit = array.clone(_Q, c.p.nmap, False); c.p.map_limit = <uint64_t *>c.map_limit.data.as_voidptr
    c.map_offset = array.clone(_Q, c.p.nmap, False); c.p.map_offset = <uint64_t *>c.map_offset.data.as_voidptr
    c.map_file = array.clone(_q, c.p.nmap, False); c.p.map_file = <int64_t *>c.map_file.data.as_voidptr
    c.map_bid = array.clone(_q, c.p.nmap, False); c.p.map_bid = <int64_t *>c.map_bid.data.as_voidptr
    c.map_flags = array.clone(_B, c.p.nmap, False); c.p.map_flags = <uint8_t *>c.map_flags.data.as_voidptr
    c.loc_id = array.clone(_Q, c.p.nloc, False); c.p.loc_id = <uint64_t *>c.loc_id.data.as_voidptr
    c.loc_map = array.clone(_Q, c.p.nloc, False); c.p.loc_map = <uint64_t *>c.loc_map.data.as_voidptr
    c.loc_addr = array.clone(_Q, c.p.nloc, False); c.p.loc_addr = <uint64_t *>c.loc_addr.data.as_voidptr
    c.loc_nlines = array.clone(_I, c.p.nloc, False); c.p.loc_nlines = <uint32_t *>c.loc_nlines.data.as_voidptr
    c.loc_off = array.clone(_I, c.p.nloc, False); c.p.loc_off = <uint32_t *>c.loc_off.data.as_voidptr
    c.loc_len = array.clone(_I, c.p.nloc, False); c.p.loc_len = <uint32_t *>c.loc_len.data.as_voidptr
    c.fn_id = array.clone(_Q, c.p.nfunc, False); c.p.fn_id = <uint64_t *>c.fn_id.data.as_voidptr
    c.fn_name = array.clone(_q, c.p.nfunc, False); c.p.fn_name = <int64_t *>c.fn_name.data.as_voidptr
    c.fn_sys = array.clone(_q, c.p.nfunc, False); c.p.fn_sys = <int64_t *>c.fn_sys.data.as_voidptr
    c.fn_file = array.clone(_q, c.p.nfunc, False); c.p.fn_file = <int64_t *>c.fn_file.data.as_voidptr
    c.fn_start = array.clone(_q, c.p.nfunc, False); c.p.fn_start = <int64_t *>c.fn_start.data.as_voidptr
    c.smp_first = array.clone(_I, c.p.nsample, False); c.p.smp_first = <uint32_t *>c.smp_first.data.as_voidptr
    c.smp_count = array.clone(_I, c.p.nsample, False); c.p.smp_count = <uint32_t *>c.smp_count.data.as_voidptr
    c.smp_locs = array.clone(_Q, c.p.nsample_locs, False); c.p.smp_locs = <uint64_t *>c.smp_locs.data.as_voidptr
    with nogil:
        rc = gs_prof_decode(buf, n, &c.p, &e)
    if rc:
        _fail(rc, &e)
    return c


cdef class Additions:
    """Additions is what gosym adds to a decoded profile besides Lines: new
    strings (an equal existing entry is reused) and new Functions (an
    existing one with the same name, system name, file and start line is
    reused; new ids count up from the largest), in C hash tables
    (csrc/profile.c: gs_prof_tab).  A name or file that is not UTF-8 is
    written as Python decodes it with errors="replace", as Frame names
    are."""
    cdef gs_prof_tab t
    cdef readonly ProfileColumns cols

    def __cinit__(self, ProfileColumns cols):
        cdef gs_err e
        cdef int rc
        self.cols = cols
        rc = gs_prof_tab_init(&self.t, cols.data, &cols.p, &e)
        if rc:
            _fail(rc, &e)

    def __dealloc__(self):
        gs_prof_tab_free(&self.t)

    @property
    def nstrings(self):
        """nstrings is the number of strings added."""
        return self.t.nnew

    @property
    def nfunctions(self):
        """nfunctions is the number of Functions added."""
        return self.t.nfn

    cdef int64_t _string(self, const uint8_t *s, size_t n, bint as_decoded) except -1:
        """The index of string s; as_decoded: s as a Frame's str holds it
        (bytes that are not UTF-8 read with errors="replace")."""
        cdef int64_t i
        if as_decoded and not gs_utf8_valid(s, n):
            fixed = (<const char *>s)[:n].decode("utf-8", "replace").encode("utf-8")
            i = gs_prof_string(&self.t, <const uint8_t *><const char *>fixed, len(fixed))
        else:
            i = gs_prof_string(&self.t, s, n)
        if i < 0:
            raise MemoryError("no memory for the profile's strings")
        return i

    cdef uint64_t _function(self, int64_t name, int64_t file, int64_t start) except? 0:
        cdef uint64_t fid = 0
        if gs_prof_function(&self.t, name, file, start, &fid):
            raise MemoryError("no memory for the profile's functions")
        return fid

    def function(self, str name, str file, int64_t start_line):
        """function returns the id of the Function (name, file, start line),
        adding it (and its strings, encoded with surrogateescape) if new."""
        bn = name.encode("utf-8", "surrogateescape")
        bf = file.encode("utf-8", "surrogateescape")
        cdef int64_t ni = self._string(<const uint8_t *><const char *>bn, len(bn), False)
        cdef int64_t fi = self._string(<const uint8_t *><const char *>bf, len(bf), False)
        return self._function(ni, fi, start_line)

    def frame_functions(self, PclnTable tab, array.array frames, array.array name_off,
                        array.array file_off, array.array start_line):
        """frame_functions returns array('Q'): per frame index in frames
        ('I'), the Function id of that frame of a tab.symbolize result
        (name_off 'i', file_off 'I', start_line 'i'), adding what is new:
        first every name, then every file, then the Functions, in frame
        order (the profile's bytes do not depend on how this is done)."""
        cdef size_t n = len(frames), k, nfr = len(name_off), blen, fo
        cdef const char *s
        cdef const uint8_t *base
        cdef const uint8_t *z
        cdef size_t sl
        cdef gs_err e
        if frames.typecode != "I" or name_off.typecode != "i" or file_off.typecode != "I" \
                or start_line.typecode != "i" or len(file_off) != nfr or len(start_line) != nfr:
            raise TypeError("frame_functions: wrong array types")
        cdef const uint32_t *fr = <const uint32_t *>frames.data.as_voidptr
        cdef const int32_t *no = <const int32_t *>name_off.data.as_voidptr
        cdef const uint32_t *fl = <const uint32_t *>file_off.data.as_voidptr
        cdef const int32_t *st = <const int32_t *>start_line.data.as_voidptr
        for k in range(n):
            if fr[k] >= nfr:
                raise IndexError("frame_functions: frame out of range")
        tab._check()
        ni = _zeros(_q, n)
        out = _zeros(_Q, n)
        cdef int64_t *nip = <int64_t *>ni.data.as_voidptr
        cdef uint64_t *op = <uint64_t *>out.data.as_voidptr
        for k in range(n):
            if gs_pcln_name(&tab.t, no[fr[k]], &s, &sl, &e):
                tab._raise(&e)
            nip[k] = self._string(<const uint8_t *>s, sl, True)
        base = tab.t.rd.base
        blen = tab.t.rd.len
        for k in range(n):
            # the file name at a table offset, as PclnTable._file reads it
            fo = fl[fr[k]]
            sl = 0
            if fo != 0 and fo < blen:
                z = <const uint8_t *>memchr(base + fo, 0, blen - fo)
                sl = <size_t>(z - (base + fo)) if z != NULL else blen - fo
            op[k] = <uint64_t>self._string(base + fo if sl else base, sl, True)
        for k in range(n):
            op[k] = self._function(nip[k], <int64_t>op[k], st[fr[k]])
        return out


def encode_profile(ProfileColumns c, array.array fill_first, array.array fill_count,
                   array.array lfid, array.array lline, Additions add):
    """encode_profile writes the profile of c (uncompressed profile.proto)
    with location i given fill_count[i] Lines from index fill_first[i] of
    lfid (uint64 function ids) / lline (int64 lines), the mappings' flags
    from c.map_flags, and add's new Functions (system name = name) and
    strings appended."""
    cdef gs_prof_add a
    cdef gs_err e
    cdef size_t n = 0, m = 0
    cdef int rc
    cdef const uint8_t *buf = c.data
    cdef size_t blen = len(c.data)
    if add.cols is not c:
        raise ValueError("the additions belong to another profile")
    if len(fill_first) != c.p.nloc or len(fill_count) != c.p.nloc or len(lfid) != len(lline):
        raise ValueError("fill columns do not match the profile")
    if fill_first.typecode != "I" or fill_count.typecode != "I" or lfid.typecode != "Q" \
            or lline.typecode != "q":
        raise TypeError("encode_profile: wrong array types")
    cdef uint32_t *ff = <uint32_t *>fill_first.data.as_voidptr
    cdef uint32_t *fc = <uint32_t *>fill_count.data.as_voidptr
    cdef size_t k, nl = len(lfid)
    for k in range(c.p.nloc):
        if fc[k] and (ff[k] > nl or fc[k] > nl - ff[k]):
            raise ValueError("fill range outside the line columns")
    a.fill_first = ff
    a.fill_count = fc
    a.lfid = <uint64_t *>lfid.data.as_voidptr
    a.lline = <int64_t *>lline.data.as_voidptr
    a.nfn = add.t.nfn
    a.fn_id = add.t.fn_id
    a.fn_name = add.t.fn_name
    a.fn_file = add.t.fn_file
    a.fn_start = add.t.fn_start
    a.nnew = add.t.nnew
    a.newstr = add.t.blob
    a.newoff = add.t.newoff
    # One pass into a buffer of the bound's size (not zeroed), cut to what was written.
    n = gs_prof_encode_bound(blen, &c.p, &a)
    out = PyByteArray_FromStringAndSize(NULL, n)
    cdef uint8_t *op = <uint8_t *>PyByteArray_AS_STRING(out)
    with nogil:
        rc = gs_prof_encode(buf, blen, &c.p, &a, op, n, &m, &e)
    if rc:
        _fail(rc, &e)
    PyByteArray_Resize(out, m)
    return out


def pending(ProfileColumns c, uint64_t mapping_id, uint64_t bias):
    """pending returns the locations of a mapping that have no lines:
    (indexes as array('I'), addresses minus bias as array('Q')), and the
    number of the mapping's locations that have lines already."""
    cdef size_t k, n = 0, already = 0
    for k in range(c.p.nloc):
        if c.p.loc_map[k] == mapping_id:
            if c.p.loc_nlines[k]:
                already += 1
            else:
                n += 1
    idx = _zeros(_I, n)
    pcs = _zeros(_Q, n)
    cdef uint32_t *ip = <uint32_t *>idx.data.as_voidptr
    cdef uint64_t *pp = <uint64_t *>pcs.data.as_voidptr
    n = 0
    for k in range(c.p.nloc):
        if c.p.loc_map[k] == mapping_id and not c.p.loc_nlines[k]:
            ip[n] = <uint32_t>k
            pp[n] = c.p.loc_addr[k] - bias
            n += 1
    return idx, pcs, already


def group_frames(array.array first, array.array count, array.array name_off, array.array file_off):
    """group_frames gives every frame the dense index of its (name offset,
    file offset) pair: (dense array('I') per frame, per distinct pair its
    first location and frame as two array('I')).  An open-addressing
    table, no Python object per frame."""
    cdef size_t nloc = len(first), nfr = len(name_off), k, j, cap = 64, used = 0, i
    cdef unsigned shift = 58
    cdef uint64_t key
    cdef array.array dense, reploc, repfr
    if first.typecode != "I" or count.typecode != "H" or name_off.typecode != "i" \
            or file_off.typecode != "I" or len(file_off) != nfr:
        raise TypeError("group_frames: wrong array types")
    cdef const uint32_t *fp = <const uint32_t *>first.data.as_voidptr
    cdef const uint16_t *cp = <const uint16_t *>count.data.as_voidptr
    cdef const int32_t *np = <const int32_t *>name_off.data.as_voidptr
    cdef const uint32_t *flp = <const uint32_t *>file_off.data.as_voidptr
    while cap < 2 * nfr:
        cap *= 2
        shift -= 1
    cdef uint64_t *slot_key = <uint64_t *>calloc(cap, sizeof(uint64_t))
    cdef uint32_t *slot_val = <uint32_t *>calloc(cap, sizeof(uint32_t))
    dense = _zeros(_I, nfr)
    cdef uint32_t *dp = <uint32_t *>dense.data.as_voidptr
    reploc = _zeros(_I, nfr)
    repfr = _zeros(_I, nfr)
    cdef uint32_t *rl = <uint32_t *>reploc.data.as_voidptr
    cdef uint32_t *rf = <uint32_t *>repfr.data.as_voidptr
    if slot_key == NULL or slot_val == NULL:
        free(slot_key)
        free(slot_val)
        raise MemoryError("no memory to group frames")
    try:
        # slot_val 0: empty; else dense index + 1
        for k in range(nloc):
            for j in range(fp[k], fp[k] + cp[k]):
                if j >= nfr:
                    raise IndexError("group_frames: frame out of range")
                key = (<uint64_t>(<uint32_t>np[j]) << 32) | flp[j]
                i = <size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift)   # the product's top bits
                while slot_val[i] and slot_key[i] != key:
                    i = (i + 1) & (cap - 1)
                if not slot_val[i]:
                    slot_key[i] = key
                    rl[used] = <uint32_t>k
                    rf[used] = <uint32_t>j
                    used += 1
                    slot_val[i] = <uint32_t>used
                dp[j] = slot_val[i] - 1
    finally:
        free(slot_key)
        free(slot_val)
    array.resize(reploc, used)
    array.resize(repfr, used)
    return dense, reploc, repfr


def take_u64(array.array table, array.array idx):
    """take_u64 returns array('Q') of table[idx[j]] (table 'Q', idx 'I')."""
    cdef size_t n = len(idx), j, m = len(table)
    out = _zeros(_Q, n)
    cdef uint64_t *op = <uint64_t *>out.data.as_voidptr
    cdef const uint64_t *tp = <const uint64_t *>table.data.as_voidptr
    cdef const uint32_t *ip = <const uint32_t *>idx.data.as_voidptr
    if table.typecode != "Q" or idx.typecode != "I":
        raise TypeError("take_u64: wrong array types")
    for j in range(n):
        if ip[j] >= m:
            raise IndexError("take_u64: index out of range")
        op[j] = tp[ip[j]]
    return out


def place(array.array fill_first, array.array fill_count, array.array idx, array.array first,
          array.array count, uint32_t base):
    """place records, for the locations idx[k], that their lines are
    count[k] entries from base + first[k] of the line columns."""
    cdef size_t k, n = len(idx), nloc = len(fill_first)
    cdef uint32_t *ff = <uint32_t *>fill_first.data.as_voidptr
    cdef uint32_t *fc = <uint32_t *>fill_count.data.as_voidptr
    cdef const uint32_t *ip = <const uint32_t *>idx.data.as_voidptr
    cdef const uint32_t *fp = <const uint32_t *>first.data.as_voidptr
    cdef const uint16_t *cp = <const uint16_t *>count.data.as_voidptr
    if fill_first.typecode != "I" or fill_count.typecode != "I" or idx.typecode != "I" \
            or first.typecode != "I" or count.typecode != "H" or len(first) != n or len(count) != n:
        raise TypeError("place: wrong array types")
    for k in range(n):
        if ip[k] >= nloc:
            raise IndexError("place: location out of range")
        ff[ip[k]] = base + fp[k]
        fc[ip[k]] = cp[k]


def widen_i32(array.array a):
    """widen_i32 returns array('q') of the int32 array a."""
    cdef size_t j, n = len(a)
    if a.typecode != "i":
        raise TypeError("widen_i32: want array('i')")
    out = _zeros(_q, n)
    cdef int64_t *op = <int64_t *>out.data.as_voidptr
    cdef const int32_t *ip = <const int32_t *>a.data.as_voidptr
    for j in range(n):
        op[j] = ip[j]
    return out


cdef struct _idpos:
    uint64_t id
    uint32_t k


cdef int _idpos_cmp(const void *x, const void *y) noexcept nogil:
    cdef uint64_t a = (<const _idpos *>x).id, b = (<const _idpos *>y).id
    return (a > b) - (a < b)


cdef int64_t _idpos_find(const _idpos *v, size_t n, uint64_t id) noexcept nogil:
    """The pending index of location id (binary search), or -1."""
    cdef size_t lo = 0, hi = n, mid
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if v[mid].id < id:
            lo = mid + 1
        else:
            hi = mid
    return v[lo].k if lo < n and v[lo].id == id else -1


def split_chains(ProfileColumns c, array.array idx, array.array first, array.array count,
                 array.array func, array.array name_off, array.array line):
    """split_chains finds where a sample continues an inlined chain in its
    next location, as runtime/pprof wrote some (golang/go#50996 before Go
    1.19; a function inlined into itself in every version): location A
    (pending index ka) followed in a sample by B (kb) of the same physical
    function, B's frames equal to A's outermost frames (names, and the line
    of the first).  Returns array('I') of A's frame count without them, per
    pending location (0: not cut).  The samples' location ids are mapped to
    pending locations by a sorted array (no Python object per location or
    sample entry)."""
    cdef size_t n = len(idx), s, t, a, b, nsm = c.p.nsample, k
    cdef const uint32_t *ip = <const uint32_t *>idx.data.as_voidptr
    cdef const uint32_t *fp = <const uint32_t *>first.data.as_voidptr
    cdef const uint16_t *cp = <const uint16_t *>count.data.as_voidptr
    cdef const int32_t *fn = <const int32_t *>func.data.as_voidptr
    cdef const int32_t *no = <const int32_t *>name_off.data.as_voidptr
    cdef const int32_t *ln = <const int32_t *>line.data.as_voidptr
    cdef uint32_t na, nb, fa, fb, j
    cdef int64_t ka, kb
    cdef bint same
    cdef _idpos *pos = NULL
    cdef uint32_t *direct = NULL
    cdef uint64_t maxid
    if idx.typecode != "I" or first.typecode != "I" or count.typecode != "H" or func.typecode != "i" \
            or name_off.typecode != "i" or line.typecode != "i" or len(first) != n or len(count) != n:
        raise TypeError("split_chains: wrong array types")
    cut = _zeros(_I, n)
    cdef uint32_t *cu = <uint32_t *>cut.data.as_voidptr
    if n == 0:
        return cut
    for s in range(nsm):
        if c.p.smp_count[s] >= 2:
            break
    else:
        return cut          # no sample has two locations: nothing to split
    # Location id -> pending index + 1: a direct table when the ids are
    # dense (runtime/pprof numbers them 1..n), else a sorted array.
    maxid = 0
    for k in range(n):
        if c.p.loc_id[ip[k]] > maxid:
            maxid = c.p.loc_id[ip[k]]
    if maxid < 4 * <uint64_t>n + 64:
        direct = <uint32_t *>calloc(maxid + 1, sizeof(uint32_t))
        if direct == NULL:
            raise MemoryError()
    else:
        pos = <_idpos *>malloc(n * sizeof(_idpos))
        if pos == NULL:
            raise MemoryError()
    with nogil:
        for k in range(n):
            if direct != NULL:
                direct[c.p.loc_id[ip[k]]] = <uint32_t>(k + 1)
            else:
                pos[k].id = c.p.loc_id[ip[k]]
                pos[k].k = <uint32_t>k
        if pos != NULL:
            qsort(pos, n, sizeof(_idpos), _idpos_cmp)
        for s in range(nsm):
            if c.p.smp_count[s] < 2:
                continue
            for t in range(c.p.smp_first[s], c.p.smp_first[s] + c.p.smp_count[s] - 1):
                if direct != NULL:
                    ka = <int64_t>direct[c.p.smp_locs[t]] - 1 if c.p.smp_locs[t] <= maxid else -1
                    kb = <int64_t>direct[c.p.smp_locs[t + 1]] - 1 if c.p.smp_locs[t + 1] <= maxid else -1
                else:
                    ka = _idpos_find(pos, n, c.p.smp_locs[t])
                    kb = _idpos_find(pos, n, c.p.smp_locs[t + 1])
                if ka < 0 or kb < 0:
                    continue
                a = <size_t>ka
                b = <size_t>kb
                na, nb, fa, fb = cp[a], cp[b], fp[a], fp[b]
                if nb == 0 or na <= nb or fn[fa] != fn[fb] or ln[fa + na - nb] != ln[fb]:
                    continue
                same = True
                for j in range(nb):
                    if no[fa + na - nb + j] != no[fb + j]:
                        same = False
                        break
                if same and (cu[a] == 0 or na - nb < cu[a]):
                    cu[a] = na - nb
    free(pos)
    free(direct)
    return cut
