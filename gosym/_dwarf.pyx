# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The typed boundary to the DWARF line-program decoder (csrc/dwarf_line.c).

Takes the (decompressed) sections as read-only buffers and keeps their
owners alive; whole-section passes run in one C call with the GIL released
and return columns (arrays), never a Python object per row.
"""
from cpython cimport array

from gosym._arrays cimport _as_u64, _zeros
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free, qsort
from libc.string cimport memset
from cpython.unicode cimport PyUnicode_DecodeUTF8

import array as _pyarray

from gosym.errors import FormatError

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _I = _pyarray.array("I")
cdef array.array _B = _pyarray.array("B")
cdef array.array _q = _pyarray.array("q")

cdef array.array _H = _pyarray.array("H")

IS_STMT = GS_DWL_IS_STMT
END_SEQUENCE = GS_DWL_END_SEQUENCE
BASIC_BLOCK = GS_DWL_BASIC_BLOCK
PROLOGUE_END = GS_DWL_PROLOGUE_END
EPILOGUE_BEGIN = GS_DWL_EPILOGUE_BEGIN

_STR_SECTIONS = {GS_DWL_STR_NONE: None, GS_DWL_STR_LINE: ".debug_line",
                 GS_DWL_STR_LINE_STR: ".debug_line_str", GS_DWL_STR_STR: ".debug_str"}


cdef inline const uint8_t *_ptr(const unsigned char[:] v):
    return &v[0] if v is not None and v.shape[0] else NULL


cdef inline size_t _len(const unsigned char[:] v):
    return <size_t>v.shape[0] if v is not None else 0


class ZeroColumn:
    """ZeroColumn is a column of n zeros that takes no memory: what decode
    returns for a column (column, discriminator) whose values are all 0.
    It reads like a read-only array('I'): len, indexing, slicing,
    iteration, tolist(), and equality with any sequence."""

    typecode = "I"
    itemsize = 4

    def __init__(self, n):
        self._n = int(n)

    def __len__(self):
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ZeroColumn(len(range(*i.indices(self._n))))
        i = int(i)
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError("column index out of range")
        return 0

    def __iter__(self):
        return iter(bytes(self._n))

    def tolist(self):
        return [0] * self._n

    def __eq__(self, other):
        try:
            return len(other) == self._n and not any(other)
        except TypeError:
            return NotImplemented

    def __repr__(self):
        return f"ZeroColumn({self._n})"


cdef class LineSection:
    """LineSection decodes the line programs of one .debug_line section.

    `line`, `line_str` and `str` are buffers (bytes, mmap slices) of the
    decompressed sections; the last two may be None.  `name` names the
    section in errors, whose offsets are section offsets.
    """
    cdef gs_dwl_secs s
    cdef const unsigned char[:] v_line
    cdef const unsigned char[:] v_line_str
    cdef const unsigned char[:] v_str
    cdef readonly str name

    def __cinit__(self, line not None, line_str=None, str=None, bint big_endian=False,
                  str name=".debug_line"):
        self.v_line = line
        self.v_line_str = line_str
        self.v_str = str
        self.name = name
        memset(&self.s, 0, sizeof(self.s))
        self.s.line = _ptr(self.v_line)
        self.s.line_len = _len(self.v_line)
        self.s.line_str = _ptr(self.v_line_str) if line_str is not None else NULL
        self.s.line_str_len = _len(self.v_line_str)
        self.s.str = _ptr(self.v_str) if str is not None else NULL
        self.s.str_len = _len(self.v_str)
        # An empty but present string section still counts as present.
        if line_str is not None and self.s.line_str == NULL:
            self.s.line_str = <const uint8_t *>b""
        if str is not None and self.s.str == NULL:
            self.s.str = <const uint8_t *>b""
        self.s.big_endian = big_endian

    def __len__(self):
        return self.s.line_len

    @property
    def big_endian(self):
        return bool(self.s.big_endian)

    cdef int _raise(self, gs_err *e) except -1:
        msg = e.msg.decode() if e.msg != NULL else "bad line program"
        raise FormatError(msg, section=self.name, offset=e.off)

    cdef int _open(self, size_t off, gs_dwl_header *h) except -1:
        cdef gs_err e
        if gs_dwl_open(&self.s, off, h, &e) != GS_OK:
            self._raise(&e)
        return 0

    def header(self, size_t off):
        """header returns the line-program header of the unit at section
        offset off as a dict (version, offset_size, unit_end, program offset,
        the opcode parameters and table sizes)."""
        cdef gs_dwl_header h
        self._open(off, &h)
        return {
            "offset": h.unit_off, "end": h.unit_end, "program_offset": h.prog_off,
            "version": h.version, "offset_size": h.offset_size,
            "address_size": h.address_size, "segment_selector_size": h.seg_sel_size,
            "minimum_instruction_length": h.min_inst_len,
            "maximum_operations_per_instruction": h.max_ops,
            "default_is_stmt": bool(h.default_is_stmt), "line_base": h.line_base,
            "line_range": h.line_range, "opcode_base": h.opcode_base,
            "standard_opcode_lengths": [h.std_lengths[k] for k in range(1, h.opcode_base)],
            "directories": h.ndirs, "files": h.nfiles,
        }

    cdef list _entries(self, gs_dwl_header *h, int which):
        cdef gs_err e
        cdef size_t n = 0, k
        cdef gs_dwl_entry *buf
        cdef gs_dwl_entry *ent
        cdef uint64_t count = h.nfiles if which else h.ndirs
        cdef list out = []
        if count == 0:
            return out
        buf = <gs_dwl_entry *>malloc(<size_t>count * sizeof(gs_dwl_entry))
        if buf == NULL:
            raise MemoryError()
        try:
            if gs_dwl_entries(&self.s, h, which, buf, <size_t>count, &n, &e) != GS_OK:
                self._raise(&e)
            for k in range(n):
                ent = &buf[k]
                name = (PyUnicode_DecodeUTF8(ent.name, <Py_ssize_t>ent.name_len, "surrogateescape")
                        if ent.name_sec != GS_DWL_STR_NONE else None)
                if which:
                    md5 = bytes(ent.md5[:16]) if ent.has_md5 else None
                    out.append((name, ent.dir, ent.mtime, ent.size, md5))
                else:
                    out.append(name)
        finally:
            free(buf)
        return out

    def entries(self, size_t off):
        """entries returns (directories, files) of the unit at off:
        directory names, and (name, directory index, mtime, size, md5 or
        None) per file, in table order (a name is None when the entry has
        no DW_LNCT_path string gosym can read).  Linear in the header."""
        cdef gs_dwl_header h
        self._open(off, &h)
        return self._entries(&h, 0), self._entries(&h, 1)

    def defined_files(self, size_t off):
        """defined_files returns the DW_LNE_define_file entries of the v2-4
        program at off, as entries() gives files: (name, directory index,
        mtime, size, None), in program order; they number on after the
        header's files [DWARF4 6.2.5.3].  Runs the program (no rows kept);
        [] for v5."""
        cdef gs_err e
        cdef size_t cap = 8, n = 0, k
        cdef gs_dwl_entry *buf
        cdef gs_dwl_entry *ent
        cdef int rc
        while True:
            buf = <gs_dwl_entry *>malloc(cap * sizeof(gs_dwl_entry))
            if buf == NULL:
                raise MemoryError()
            try:
                with nogil:
                    rc = gs_dwl_defined_files(&self.s, off, buf, cap, &n, &e)
                if rc != GS_OK:
                    self._raise(&e)
                if n <= cap:
                    out = []
                    for k in range(n):
                        ent = &buf[k]
                        name = (PyUnicode_DecodeUTF8(ent.name, <Py_ssize_t>ent.name_len, "surrogateescape")
                                if ent.name_sec != GS_DWL_STR_NONE else None)
                        out.append((name, ent.dir, ent.mtime, ent.size, None))
                    return out
                cap = n
            finally:
                free(buf)

    def next_unit(self, size_t off):
        """next_unit returns the section offset just past the unit at off."""
        cdef gs_err e
        cdef size_t nxt = 0
        if gs_dwl_next_unit(&self.s, off, &nxt, &e) != GS_OK:
            self._raise(&e)
        return nxt

    def unit_offsets(self):
        """unit_offsets walks the section unit by unit (by unit_length
        alone) and returns every unit's offset as an array('Q')."""
        cdef gs_err e
        cdef size_t off = 0, nxt = 0
        cdef array.array out = array.clone(_Q, 0, False)
        while off < self.s.line_len:
            if gs_dwl_next_unit(&self.s, off, &nxt, &e) != GS_OK:
                self._raise(&e)
            out.append(off)
            off = nxt
        return out

    def decode(self, offsets, size_t size_hint=0, bint reference=False):
        """decode runs the line programs of the units at `offsets` (a
        buffer of uint64 section offsets) in one C pass with the GIL
        released.  Returns (address Q, file, line I, column, flags B,
        discriminator, unit_row Q); unit k's rows are
        unit_row[k]:unit_row[k+1].  To keep rows small, file is an array
        'H' unless a file number needs 'I', and column and discriminator are
        a ZeroColumn (no storage) unless some value is not 0, then an array
        'I': 15 bytes per row for Go's line tables.  size_hint is a first
        guess of the row count (arrays grow as needed: by the rows per byte
        seen so far times the bytes left, so the arrays end close to the
        row count).  Linear in the programs' bytes.  reference=True runs
        every opcode through the decoder's general loop instead of its fast
        run of Go's common opcodes (same rows; for tests)."""
        cdef const uint64_t[:] offs = _as_u64(offsets)
        cdef size_t nunits = <size_t>offs.shape[0]
        cdef array.array unit_row = _zeros(_Q, nunits + 1)
        cdef size_t cap, first = 0, nxt = 0, i
        cdef gs_dwl_rows r
        cdef gs_err e
        cdef int rc
        cdef const uint64_t *po = &offs[0] if nunits else NULL
        cdef uint64_t *pur = <uint64_t *>unit_row.data.as_voidptr
        cdef uint16_t *p16
        cdef uint32_t *p32
        cdef size_t done_bytes, left_bytes, grown
        # A first guess from the bytes (Go's tables take 3.4 to 4 bytes a
        # row, C's more): enough without growing, which would copy.  Growth
        # extrapolates the rows per byte seen.
        cap = size_hint if size_hint else self.s.line_len // 4 + 64
        cdef array.array a_addr = array.clone(_Q, cap, False)
        cdef array.array a_file = None
        cdef array.array a_file16 = array.clone(_H, cap, False)
        cdef array.array a_line = array.clone(_I, cap, False)
        cdef array.array a_col = None
        cdef array.array a_flags = array.clone(_B, cap, False)
        cdef array.array a_disc = None
        memset(&r, 0, sizeof(r))
        while True:
            r.address = <uint64_t *>a_addr.data.as_voidptr
            r.file = <uint32_t *>a_file.data.as_voidptr if a_file is not None else NULL
            r.file16 = <uint16_t *>a_file16.data.as_voidptr if a_file16 is not None else NULL
            r.line = <uint32_t *>a_line.data.as_voidptr
            r.column = <uint32_t *>a_col.data.as_voidptr if a_col is not None else NULL
            r.zero_column = a_col is None
            r.flags = <uint8_t *>a_flags.data.as_voidptr
            r.discriminator = <uint32_t *>a_disc.data.as_voidptr if a_disc is not None else NULL
            r.zero_discriminator = a_disc is None
            r.widen = 0
            r.reference = reference
            r.cap = cap
            with nogil:
                rc = gs_dwl_decode(&self.s, po, first, nunits, &r, pur, &nxt, &e)
            if rc == GS_OK:
                break
            first = nxt
            if rc == GS_DWL_WIDEN:
                # A value that does not fit: widen that column, keeping the
                # rows so far (zeros for a column that was left out).
                if r.widen & GS_DWL_W_FILE:
                    a_file = array.clone(_I, cap, False)
                    p16 = <uint16_t *>a_file16.data.as_voidptr
                    p32 = <uint32_t *>a_file.data.as_voidptr
                    for i in range(r.n):
                        p32[i] = p16[i]
                    a_file16 = None
                if r.widen & GS_DWL_W_COLUMN:
                    a_col = _zeros(_I, cap)
                if r.widen & GS_DWL_W_DISCRIMINATOR:
                    a_disc = _zeros(_I, cap)
                continue
            if rc != GS_DWL_MORE:
                self._raise(&e)
            # Rows per byte so far, times the bytes left (+3%), and at least
            # a quarter more than now (the unit that did not fit may be
            # denser than those before it: the arrays must grow each time).
            done_bytes = <size_t>(po[nxt] - po[0]) if nxt < nunits and po[nxt] > po[0] else 0
            left_bytes = self.s.line_len - <size_t>po[nxt] if nxt < nunits and po[nxt] < self.s.line_len else 0
            grown = cap + cap // 4 + 1024
            cap = r.n + <size_t>(<double>r.n / done_bytes * left_bytes * 1.03) + 1024 if done_bytes and r.n else 0
            if cap < grown:
                cap = grown
            for a in (a_addr, a_file, a_file16, a_line, a_col, a_flags, a_disc):
                if a is not None:
                    array.resize(a, cap)
        for a in (a_addr, a_file, a_file16, a_line, a_col, a_flags, a_disc):
            if a is not None:
                array.resize(a, r.n)
        return (a_addr, a_file if a_file is not None else a_file16, a_line,
                a_col if a_col is not None else ZeroColumn(r.n), a_flags,
                a_disc if a_disc is not None else ZeroColumn(r.n), unit_row)

    def sequences(self, offsets):
        """sequences returns (lo Q, hi Q, unit I) for every sequence of the
        units at `offsets`: its first address, the address of its
        end_sequence row and the index of its unit in `offsets`.  Runs the
        programs without storing rows (GIL released)."""
        cdef const uint64_t[:] offs = _as_u64(offsets)
        cdef size_t n = <size_t>offs.shape[0], cap = 256, nseq = 0
        cdef const uint64_t *po = &offs[0] if n else NULL
        cdef gs_err e
        cdef int rc
        cdef array.array lo, hi, unit
        while True:
            lo = array.clone(_Q, cap, False)
            hi = array.clone(_Q, cap, False)
            unit = array.clone(_I, cap, False)
            with nogil:
                rc = gs_dwl_sequences(&self.s, po, n, <uint64_t *>lo.data.as_voidptr,
                                      <uint64_t *>hi.data.as_voidptr,
                                      <uint32_t *>unit.data.as_voidptr, cap, &nseq, &e)
            if rc != GS_OK:
                self._raise(&e)
            if nseq <= cap:
                break
            cap = nseq
        array.resize(lo, nseq)
        array.resize(hi, nseq)
        array.resize(unit, nseq)
        return lo, hi, unit


# ------------------------------------------------------------ units

_UNIT_SECTIONS = {GS_DWU_INFO: ".debug_info", GS_DWU_ABBREV: ".debug_abbrev", GS_DWU_STR: ".debug_str",
                  GS_DWU_LINE_STR: ".debug_line_str", GS_DWU_STR_OFFSETS: ".debug_str_offsets"}


cdef inline const uint8_t *_present(object owner, const unsigned char[:] v):
    """The bytes of an optional section: NULL when absent, never NULL when
    present (an empty section still counts as present)."""
    cdef const uint8_t *p
    if owner is None:
        return NULL
    p = _ptr(v)
    return p if p != NULL else <const uint8_t *>b""


cdef inline object _ustr(gs_dwu_str s):
    if s.s == NULL:
        return None
    return PyUnicode_DecodeUTF8(s.s, <Py_ssize_t>s.len, "surrogateescape")


def read_units(info not None, abbrev=None, str=None, line_str=None, str_offsets=None,
               bint big_endian=False, size_t base=0):
    """read_units reads every unit header of .debug_info and the attributes
    of its first DIE (csrc/dwarf_form.c, the one DW_FORM reader): a list of
    (offset, version, unit_type, address_size, offset_size, name, comp_dir,
    producer, language, stmt_list, dwo_name) with None for what the DIE
    lacks (dwo_name "?" when the attribute is present but not a string).
    `info` may be a piece of the section holding whole units, starting at
    section offset `base` (offsets given and reported are section offsets).
    Linear in the number of units; errors name the section they are in."""
    cdef const unsigned char[:] v_info = info
    cdef const unsigned char[:] v_abbrev = abbrev
    cdef const unsigned char[:] v_str = str
    cdef const unsigned char[:] v_line_str = line_str
    cdef const unsigned char[:] v_so = str_offsets
    cdef gs_dwu_secs s
    cdef gs_dwu_unit u
    cdef gs_err e
    cdef size_t off = 0, nxt = 0
    cdef int rc, sec = 0
    cdef list out = []
    memset(&s, 0, sizeof(s))
    s.info = _ptr(v_info)
    s.info_len = _len(v_info)
    # A present but empty section still counts as present.
    s.abbrev = _present(abbrev, v_abbrev)
    s.abbrev_len = _len(v_abbrev)
    s.str = _present(str, v_str)
    s.str_len = _len(v_str)
    s.line_str = _present(line_str, v_line_str)
    s.line_str_len = _len(v_line_str)
    s.str_offsets = _present(str_offsets, v_so)
    s.str_offsets_len = _len(v_so)
    s.big_endian = big_endian
    while off < s.info_len:
        with nogil:
            rc = gs_dwu_read(&s, off, &u, &nxt, &e, &sec)
        if rc != GS_OK:
            msg = e.msg.decode() if e.msg != NULL else "bad unit"
            raise FormatError(msg, section=_UNIT_SECTIONS.get(sec, ".debug_info"),
                              offset=e.off + base if sec == GS_DWU_INFO else e.off)
        dwo = _ustr(u.dwo_name)
        if dwo is None and u.has_dwo:
            dwo = "?"
        out.append((u.off + base, u.version, u.unit_type, u.address_size, u.offset_size, _ustr(u.name),
                    _ustr(u.comp_dir), _ustr(u.producer), u.language if u.has_language else None,
                    u.stmt_list if u.has_stmt_list else None, dwo))
        off = nxt
    return out


# ------------------------------------------------------------ sequences
# The one sequence lookup: sequences [lo, hi) sorted by lo with a running
# maximum of hi, found by one binary search and a walk back while the
# running maximum still covers pc; then the row by a binary search inside
# the sequence.  SequenceIndex (Dwarf.line_at: one pc, sequences indexed
# without rows) and lookup_rows (a batch over decoded rows) both use it.

ctypedef struct _seq:
    uint64_t lo
    uint64_t hi
    uint64_t first
    uint64_t end


cdef int _seq_cmp(const void *a, const void *b) noexcept nogil:
    cdef const _seq *x = <const _seq *>a
    cdef const _seq *y = <const _seq *>b
    if x.lo != y.lo:
        return -1 if x.lo < y.lo else 1
    if x.hi != y.hi:
        return -1 if x.hi < y.hi else 1
    if x.first != y.first:
        return -1 if x.first < y.first else 1
    return 0


cdef void _seq_sort(_seq *seqs, size_t ns, uint64_t *maxhi) noexcept nogil:
    """Sort the sequences and fill the running maximum of hi."""
    cdef size_t i
    cdef uint64_t mx = 0
    qsort(seqs, ns, sizeof(_seq), _seq_cmp)
    for i in range(ns):
        if seqs[i].hi > mx:
            mx = seqs[i].hi
        maxhi[i] = mx


cdef int64_t _seq_find(const _seq *seqs, const uint64_t *maxhi, size_t ns, uint64_t pc) noexcept nogil:
    """The position of a sorted sequence holding pc, or -1."""
    cdef size_t lo = 0, hi = ns, mid, j
    while lo < hi:
        mid = (lo + hi) // 2
        if seqs[mid].lo <= pc:
            lo = mid + 1
        else:
            hi = mid
    j = lo
    while j > 0 and maxhi[j - 1] > pc:
        j -= 1
        if seqs[j].lo <= pc < seqs[j].hi:
            return <int64_t>j
    return -1


cdef int64_t _row_find(const uint64_t[:] a, size_t first, size_t end, uint64_t pc) noexcept nogil:
    """The last row in [first, end) whose address is at or below pc, or -1."""
    cdef size_t lo = first, hi = end, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] <= pc:
            lo = mid + 1
        else:
            hi = mid
    return <int64_t>(lo - 1) if lo > first else -1


cdef class SequenceIndex:
    """SequenceIndex holds sequences [lo[i], hi[i]) sorted for lookup;
    find(pc) returns the index i of one holding pc, or -1.  Building sorts
    (n log n); each find is a binary search (and a walk back over
    sequences that start below pc and end above it)."""

    cdef _seq *seqs
    cdef uint64_t *maxhi
    cdef size_t ns

    def __cinit__(self, lo, hi):
        cdef const uint64_t[:] l = _as_u64(lo)
        cdef const uint64_t[:] h = _as_u64(hi)
        cdef size_t n = <size_t>l.shape[0], i
        if <size_t>h.shape[0] != n:
            raise ValueError("lo and hi differ in length")
        self.seqs = <_seq *>malloc((n + 1) * sizeof(_seq))
        self.maxhi = <uint64_t *>malloc((n + 1) * sizeof(uint64_t))
        if self.seqs == NULL or self.maxhi == NULL:
            raise MemoryError()
        with nogil:
            for i in range(n):
                if l[i] < h[i]:
                    self.seqs[self.ns].lo = l[i]
                    self.seqs[self.ns].hi = h[i]
                    self.seqs[self.ns].first = i
                    self.seqs[self.ns].end = 0
                    self.ns += 1
            _seq_sort(self.seqs, self.ns, self.maxhi)

    def __dealloc__(self):
        free(self.seqs)
        free(self.maxhi)

    def __len__(self):
        return self.ns

    def find(self, uint64_t pc):
        """find returns the index (in the lo/hi given) of a sequence
        holding pc, or -1."""
        cdef int64_t j = _seq_find(self.seqs, self.maxhi, self.ns, pc)
        return -1 if j < 0 else <int64_t>self.seqs[j].first


def row_at(address, size_t first, size_t end, uint64_t pc):
    """row_at returns the last row in [first, end) of `address` (uint64,
    sorted within the range) at or below pc, or -1."""
    cdef const uint64_t[:] a = _as_u64(address)
    if end > <size_t>a.shape[0] or first > end:
        raise IndexError("row range outside the address column")
    return _row_find(a, first, end, pc)


def lookup_rows(address, flags, pcs):
    """lookup_rows maps each pc to the index of the row covering it (the
    last row at or below pc in a sequence whose range holds pc), or -1:
    an int64 array.  Sorts the sequences once (n log n), then two binary
    searches per pc, GIL released."""
    cdef const uint64_t[:] a = _as_u64(address)
    cdef const uint8_t[:] f = flags
    cdef const uint64_t[:] p = _as_u64(pcs)
    cdef size_t n = <size_t>a.shape[0], m = <size_t>p.shape[0], i, s = 0, ns = 0
    cdef int64_t j
    cdef _seq *seqs = NULL
    cdef uint64_t *maxhi = NULL
    cdef array.array out = array.clone(_q, m, False)
    cdef int64_t *o = <int64_t *>out.data.as_voidptr
    if <size_t>f.shape[0] != n:
        raise ValueError("address and flags differ in length")
    seqs = <_seq *>malloc((n + 1) * sizeof(_seq))
    maxhi = <uint64_t *>malloc((n + 1) * sizeof(uint64_t))
    if seqs == NULL or maxhi == NULL:
        free(seqs)
        free(maxhi)
        raise MemoryError()
    try:
        with nogil:
            for i in range(n):
                if f[i] & GS_DWL_END_SEQUENCE:
                    if i > s and a[s] < a[i]:
                        seqs[ns].lo = a[s]
                        seqs[ns].hi = a[i]
                        seqs[ns].first = s
                        seqs[ns].end = i
                        ns += 1
                    s = i + 1
            _seq_sort(seqs, ns, maxhi)
            for i in range(m):
                j = _seq_find(seqs, maxhi, ns, p[i])
                o[i] = -1 if j < 0 else _row_find(a, seqs[j].first, seqs[j].end, p[i])
    finally:
        free(seqs)
        free(maxhi)
    return out
