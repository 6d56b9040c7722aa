# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The typed boundary to the DWARF line-program decoder (csrc/dwarf_line.c).

Takes the (decompressed) sections as read-only buffers and keeps their
owners alive; whole-section passes run in one C call with the GIL released
and return columns (arrays), never a Python object per row.
"""
from cpython cimport array
from libc.stdint cimport uint8_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memset
from cpython.unicode cimport PyUnicode_DecodeUTF8

import array as _pyarray

from gosym.errors import FormatError

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _I = _pyarray.array("I")
cdef array.array _B = _pyarray.array("B")

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

    def decode(self, offsets, size_t size_hint=0):
        """decode runs the line programs of the units at `offsets` (a
        buffer of uint64 section offsets) in one C pass with the GIL
        released.  Returns (address Q, file I, line I, column I, flags B,
        discriminator I, unit_row Q) arrays; unit k's rows are
        unit_row[k]:unit_row[k+1].  size_hint is a first guess of the row
        count (arrays grow as needed).  Linear in the programs' bytes."""
        cdef const uint64_t[:] offs = _as_u64(offsets)
        cdef size_t nunits = <size_t>offs.shape[0]
        cdef array.array unit_row = array.clone(_Q, nunits + 1, True)
        cdef size_t cap, first = 0, nxt = 0
        cdef gs_dwl_rows r
        cdef gs_err e
        cdef int rc
        cdef const uint64_t *po = &offs[0] if nunits else NULL
        cdef uint64_t *pur = <uint64_t *>unit_row.data.as_voidptr
        # Each row takes at least one opcode byte; programs average more.
        cap = size_hint if size_hint else self.s.line_len // 3 + 64
        cdef array.array a_addr = array.clone(_Q, cap, False)
        cdef array.array a_file = array.clone(_I, cap, False)
        cdef array.array a_line = array.clone(_I, cap, False)
        cdef array.array a_col = array.clone(_I, cap, False)
        cdef array.array a_flags = array.clone(_B, cap, False)
        cdef array.array a_disc = array.clone(_I, cap, False)
        memset(&r, 0, sizeof(r))
        while True:
            r.address = <uint64_t *>a_addr.data.as_voidptr
            r.file = <uint32_t *>a_file.data.as_voidptr
            r.line = <uint32_t *>a_line.data.as_voidptr
            r.column = <uint32_t *>a_col.data.as_voidptr
            r.flags = <uint8_t *>a_flags.data.as_voidptr
            r.discriminator = <uint32_t *>a_disc.data.as_voidptr
            r.cap = cap
            with nogil:
                rc = gs_dwl_decode(&self.s, po, first, nunits, &r, pur, &nxt, &e)
            if rc == GS_OK:
                break
            if rc != GS_DWL_MORE:
                self._raise(&e)
            first = nxt
            cap = cap + cap // 2 + 1024
            for a in (a_addr, a_file, a_line, a_col, a_flags, a_disc):
                array.resize(a, cap)
        for a in (a_addr, a_file, a_line, a_col, a_flags, a_disc):
            array.resize(a, r.n)
        return a_addr, a_file, a_line, a_col, a_flags, a_disc, unit_row

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


cdef object _as_u64(offsets):
    if isinstance(offsets, _pyarray.array) and offsets.typecode == "Q":
        return offsets
    return _pyarray.array("Q", offsets)
