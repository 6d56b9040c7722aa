# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The typed boundary between Python and the C core in csrc/.

Converts C status codes to exceptions, keeps the buffer that the C reads
alive, releases the GIL around whole-table loops and returns their results
as arrays (columns), making Python objects only for the rows a caller asks for.
"""
from cpython cimport array

from gosym._arrays cimport _zeros
from cpython.ref cimport PyObject, Py_XINCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int32_t, int64_t
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memcpy, memset

import array as _pyarray

from gosym.errors import FormatError, GosymError, UnsupportedError

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _q = _pyarray.array("q")
cdef array.array _i = _pyarray.array("i")
cdef array.array _I = _pyarray.array("I")
cdef array.array _H = _pyarray.array("H")
cdef array.array _B = _pyarray.array("B")


cdef inline int _regrow(void **p, size_t n, size_t size) noexcept nogil:
    """Resize *p to n items of size bytes; 1 (and *p unchanged) when out of memory."""
    cdef void *q = realloc(p[0], n * size)
    if q == NULL:
        return 1
    p[0] = q
    return 0


VERSION_CODES = {GS_VER12: "1.2", GS_VER116: "1.16", GS_VER118: "1.18", GS_VER120: "1.20"}


cdef inline str _decode(const char *s, size_t n):
    return PyUnicode_DecodeUTF8(s, <Py_ssize_t>n, "replace")


# A direct-mapped cache of decoded strings keyed by table offset: bounded
# memory, no Python object per key, one probe per lookup.
cdef enum:
    SLOTS = 8192

ctypedef struct str_slot:
    size_t key          # table offset + 1 (0: empty)
    PyObject *value


cdef class _StrCache:
    cdef str_slot *slots

    def __cinit__(self):
        self.slots = <str_slot *>calloc(SLOTS, sizeof(str_slot))
        if self.slots == NULL:
            raise MemoryError()

    def __dealloc__(self):
        cdef size_t k
        if self.slots != NULL:
            for k in range(SLOTS):
                Py_XDECREF(self.slots[k].value)
            free(self.slots)

    cdef inline object get(self, size_t off):
        cdef str_slot *s = &self.slots[(off * 2654435761u) % SLOTS]
        if s.key == off + 1:
            return <object>s.value
        return None

    cdef inline void put(self, size_t off, object value):
        cdef str_slot *s = &self.slots[(off * 2654435761u) % SLOTS]
        Py_XINCREF(<PyObject *>value)
        Py_XDECREF(s.value)
        s.value = <PyObject *>value
        s.key = off + 1


# ---------------------------------------------------------------- reader probe

_READ_KINDS = ("u8", "u16", "u32", "u64", "ptr", "uvarint", "uvarint32", "svarint", "sleb128", "cstr")


def read_value(const unsigned char[:] buf not None, str kind, Py_ssize_t offset,
               bint big_endian=False, int ptr_size=8):
    """read_value reads one value of `kind` at `offset` through the C cursor.

    Returns (value, next_offset); raises FormatError naming the offset of the
    failed read.  It exists so tests reach csrc/reader.h exactly as the
    decoders do.
    """
    cdef gs_reader rd
    cdef const char *s
    cdef size_t n
    cdef object value
    if kind not in _READ_KINDS:
        raise ValueError(f"unknown read kind {kind!r}")
    if ptr_size not in (4, 8):
        raise ValueError("ptr_size must be 4 or 8")
    if offset < 0:
        raise ValueError("negative offset")
    gs_rd_init(&rd, &buf[0] if buf.shape[0] else NULL, <size_t>buf.shape[0], big_endian, ptr_size)
    gs_rd_seek(&rd, <size_t>offset)
    if kind == "u8":
        value = gs_rd_u8(&rd)
    elif kind == "u16":
        value = gs_rd_u16(&rd)
    elif kind == "u32":
        value = gs_rd_u32(&rd)
    elif kind == "u64":
        value = gs_rd_u64(&rd)
    elif kind == "ptr":
        value = gs_rd_ptr(&rd)
    elif kind == "uvarint":
        value = gs_rd_uvarint(&rd)
    elif kind == "uvarint32":
        value = gs_rd_uvarint32(&rd)
    elif kind == "svarint":
        value = gs_rd_svarint(&rd)
    elif kind == "sleb128":
        value = gs_rd_sleb128(&rd)
    else:
        n = gs_rd_cstr(&rd, &s)
        value = s[:n] if not rd.err else b""
    if rd.err:
        raise FormatError(rd.err_msg.decode(), section="buffer", offset=rd.err_off)
    return value, rd.pos


# ------------------------------------------------------------------ scanning

def pcln_scan(const unsigned char[:] buf not None, size_t start, size_t stop,
              int want_ptr=-1, int want_be=-1):
    """pcln_scan returns (offset, pointer size, big endian) of the first
    pclntab header candidate in buf[start:stop] (magic, zero pad, quantum,
    pointer size; filtered by want_ptr / want_be unless -1), or None.  One C
    pass, GIL released."""
    cdef size_t pos = 0
    cdef int ptr = 0, be = 0, found
    cdef const uint8_t *base = &buf[0] if buf.shape[0] else NULL
    cdef size_t blen = <size_t>buf.shape[0]
    with nogil:
        found = gs_pcln_scan(base, blen, start, stop, want_ptr, want_be, &pos, &ptr, &be)
    if not found:
        return None
    return pos, ptr, bool(be)


# ------------------------------------------------------------------ symbols

SYMTAB_KINDS = {"elf32": GS_SYM_ELF32, "elf64": GS_SYM_ELF64, "macho32": GS_SYM_MACHO32,
                "macho64": GS_SYM_MACHO64, "coff": GS_SYM_COFF}


def parse_addrs(const unsigned char[:] buf not None):
    """parse_addrs reads hex address lines (blank lines skipped; each other
    line: blanks, optional 0x, 1-16 hex digits, blanks) into an array of
    uint64 in one C pass; None when some line is in another form."""
    cdef size_t n = <size_t>buf.shape[0]
    cdef int64_t got
    cdef array.array pcs = array.clone(_Q, n // 2 + 1, False)
    if n == 0:
        return array.clone(_Q, 0, False)
    with nogil:
        got = gs_parse_addrs(<const char *>&buf[0], n, <uint64_t *>pcs.data.as_voidptr, n // 2 + 1)
    if got < 0:
        return None
    array.resize(pcs, <Py_ssize_t>got)
    return pcs


def symtab_find(const unsigned char[:] buf not None, str kind, bint big_endian,
                size_t tab_off, size_t count, size_t str_off, size_t str_len, str name):
    """symtab_find returns (index, value, section) of the first symbol named
    `name` in a symbol table, or None; linear in the table, GIL released."""
    cdef int64_t index
    cdef uint64_t value
    cdef int32_t section
    cdef gs_err e
    cdef int rc
    cdef bytes bname = name.encode()
    cdef const char *cname = bname
    cdef size_t nlen = len(bname)
    cdef int k = SYMTAB_KINDS[kind]
    cdef const uint8_t *base = &buf[0] if buf.shape[0] else NULL
    cdef size_t blen = <size_t>buf.shape[0]
    with nogil:
        rc = gs_symtab_find(base, blen, k, big_endian, tab_off, count, str_off, str_len,
                            cname, nlen, &index, &value, &section, &e)
    if rc:
        raise FormatError(e.msg.decode(), section="symtab", offset=e.off)
    if index < 0:
        return None
    return index, value, section


def symtab_list(const unsigned char[:] buf not None, str kind, bint big_endian,
                size_t tab_off, size_t count):
    """symtab_list decodes a whole symbol table into columns: a dict of
    arrays value (Q), size (Q), name_off (I), index (I), section (i), type
    (B), is_func (B).  One C pass, GIL released."""
    cdef size_t n = 0, k
    cdef int rc
    cdef gs_err e
    cdef int kd = SYMTAB_KINDS[kind]
    cdef const uint8_t *base = &buf[0] if buf.shape[0] else NULL
    cdef size_t blen = <size_t>buf.shape[0]
    cdef gs_sym *syms
    cdef array.array value, size, name_off, index, section, typ, is_func
    cdef uint64_t *pv
    cdef uint64_t *ps
    cdef uint32_t *pn
    cdef uint32_t *pi
    cdef int32_t *pc
    cdef uint8_t *pt
    cdef uint8_t *pf
    with nogil:
        rc = gs_symtab_list(base, blen, kd, big_endian, tab_off, count, NULL, 0, &n, &e)
    if rc:
        raise FormatError(e.msg.decode(), section="symtab", offset=e.off)
    syms = <gs_sym *>malloc((n if n else 1) * sizeof(gs_sym))
    if syms == NULL:
        raise MemoryError()
    try:
        with nogil:
            rc = gs_symtab_list(base, blen, kd, big_endian, tab_off, count, syms, n, &n, &e)
        value = array.clone(_Q, n, False)
        size = array.clone(_Q, n, False)
        name_off = array.clone(_I, n, False)
        index = array.clone(_I, n, False)
        section = array.clone(_i, n, False)
        typ = array.clone(_B, n, False)
        is_func = array.clone(_B, n, False)
        # Typed column pointers: one C loop, no Python object per symbol.
        pv = <uint64_t *>value.data.as_voidptr
        ps = <uint64_t *>size.data.as_voidptr
        pn = <uint32_t *>name_off.data.as_voidptr
        pi = <uint32_t *>index.data.as_voidptr
        pc = <int32_t *>section.data.as_voidptr
        pt = <uint8_t *>typ.data.as_voidptr
        pf = <uint8_t *>is_func.data.as_voidptr
        with nogil:
            for k in range(n):
                pv[k] = syms[k].value
                ps[k] = syms[k].size
                pn[k] = syms[k].name_off
                pi[k] = syms[k].index
                pc[k] = syms[k].section
                pt[k] = syms[k].type
                pf[k] = syms[k].is_func
    finally:
        free(syms)
    return {"value": value, "size": size, "name_off": name_off, "index": index,
            "section": section, "type": typ, "is_func": is_func}


# ------------------------------------------------------------------ frames

cdef class Frame:
    """Frame is one source position for a pc: function, file, line, and
    whether the call was inlined into the frame below it (outer frames follow)."""
    cdef readonly str function
    """function is the frame's function name (the inlined callee's for an inlined frame)."""
    cdef readonly str file
    """file is the source file of the position."""
    cdef readonly int line
    """line is the source line (0 when unknown)."""
    cdef readonly bint inlined
    """inlined says the call was inlined into the next (outer) frame."""
    cdef readonly int start_line
    """start_line is the line of the func keyword of the frame's function (Go 1.20+; 0 before)."""
    cdef readonly object entry
    """entry is the function's entry pc in a physical frame; None in an inlined one."""

    def __init__(self, str function, str file, int line, bint inlined=False,
                 int start_line=0, entry=None):
        self.function = function
        self.file = file
        self.line = line
        self.inlined = inlined
        self.start_line = start_line
        self.entry = entry

    def _key(self):
        return (self.function, self.file, self.line, self.inlined, self.start_line, self.entry)

    def __eq__(self, other):
        if not isinstance(other, Frame):
            return NotImplemented
        return self._key() == (<Frame>other)._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (f"Frame(function={self.function!r}, file={self.file!r}, line={self.line}, "
                f"inlined={self.inlined}, start_line={self.start_line}, entry={self.entry!r})")

    def as_dict(self):
        """as_dict returns the frame as a plain dict (for JSON)."""
        return {"function": self.function, "file": self.file, "line": self.line,
                "inlined": self.inlined, "start_line": self.start_line, "entry": self.entry}


cdef inline Frame _frame(str function, str file, int line, int start_line, object entry):
    cdef Frame f = Frame.__new__(Frame)
    f.function = function
    f.file = file
    f.line = line
    f.inlined = False
    f.start_line = start_line
    f.entry = entry
    return f


# ------------------------------------------------------------------ pclntab

cdef class Pclntab:
    """Pclntab decodes one Go pclntab held in a read-only buffer.

    `buf` is the whole mapped file (or memory image); the table is
    buf[offset:offset+size].  Nothing is copied: the object keeps `buf`
    alive and every read goes through the bounds-checked C cursor.  Opening
    reads the header only (constant time) plus one pass that checks the
    function table is sorted (linear in the number of functions, in C).
    """
    cdef gs_pcln t
    cdef const unsigned char[:] view
    cdef readonly object owner
    cdef readonly Py_ssize_t offset
    cdef readonly Py_ssize_t size
    cdef readonly str section
    cdef _StrCache _names       # by funcname-table offset
    cdef _StrCache _files       # by table offset of the file name
    cdef PyObject **_fnames     # by function index: nfunc pointers, lazily
    cdef gs_lookup_cache *_cache  # checkpoints of long functions (csrc/inline.c)
    cdef gs_inl inl             # inline-tree context (layout GS_INL_NONE: off)
    cdef gs_seg *segs
    cdef object _inl_failure    # why the inline setup failed (raised by every expansion)

    def __cinit__(self, owner, Py_ssize_t offset, Py_ssize_t size, str section="pclntab"):
        cdef gs_err e
        cdef int rc
        self.owner = owner
        self.view = owner
        self.section = section
        self._names = _StrCache()
        self._files = _StrCache()
        self._fnames = NULL
        self._cache = gs_lookup_cache_new()
        if self._cache == NULL:
            raise MemoryError()
        self.segs = NULL
        self.inl.layout = GS_INL_NONE
        self._inl_failure = None
        if offset < 0 or size < 0 or offset > self.view.shape[0] or size > self.view.shape[0] - offset:
            raise FormatError("table extends past the end of the file", section=section, offset=offset)
        self.offset = offset
        self.size = size
        if size == 0:
            raise FormatError("empty pclntab", section=section, offset=offset)
        rc = gs_pcln_open(&self.t, &self.view[offset], <size_t>size, &e)
        if rc:
            self._raise(&e)

    cdef int _raise(self, gs_err *e) except -1:
        msg = e.msg.decode() if e.msg != NULL else "malformed table"
        raise FormatError(msg, section=self.section, offset=self.offset + <Py_ssize_t>e.off)

    def __dealloc__(self):
        self._free_fnames()
        gs_lookup_cache_free(self._cache)
        self._cache = NULL
        free(self.segs)
        self.segs = NULL

    cdef void _free_fnames(self):
        cdef uint64_t k
        if self._fnames != NULL:
            for k in range(self.t.nfunc):
                Py_XDECREF(self._fnames[k])
            free(self._fnames)
            self._fnames = NULL

    def set_inline(self, int layout, uint64_t gofunc, uint64_t pcln_va, segments):
        """set_inline enables inline expansion: the record layout (16 for Go
        1.20+, 20 for 1.13-1.19, 0 for none), the gofunc address (Go 1.18+),
        the table's address, and the (va, file offset, size) ranges that map
        addresses to the file."""
        cdef size_t k, n = len(segments)
        self._check()
        if layout not in (GS_INL_NONE, GS_INL_20, GS_INL_16):
            raise ValueError("bad inline record layout")
        free(self.segs)
        self.segs = <gs_seg *>calloc(n if n else 1, sizeof(gs_seg))
        if self.segs == NULL:
            raise MemoryError()
        for k in range(n):
            va, off, size = segments[k]
            self.segs[k].va = va
            self.segs[k].off = off
            self.segs[k].size = size
        self.inl.file = &self.view[0]
        self.inl.file_len = <size_t>self.view.shape[0]
        self.inl.segs = self.segs
        self.inl.nsegs = n
        self.inl.gofunc = gofunc
        self.inl.pcln_va = pcln_va
        self.inl.layout = layout
        # runtime/funcdata.h: FUNCDATA_InlTree moved from 4 to 3 in Go 1.16.
        self.inl.funcdata_inltree = (GS_FUNCDATA_INLTREE_GO113 if self.t.version == GS_VER12
                                     else GS_FUNCDATA_INLTREE_GO116)
        self.inl.pcdata_inlindex = GS_PCDATA_INLTREEINDEX
        gs_lookup_cache_clear(self._cache)

    def inline_failed(self, exc):
        """inline_failed records that the inline context could not be set up
        (exc, a GosymError): from then on every call that expands inlined
        frames (lookup, frames, symbolize, inline_tree_offset) raises a copy
        of it, the same way every time."""
        if not isinstance(exc, GosymError):
            raise TypeError("inline_failed takes a GosymError")
        self.inl.layout = GS_INL_NONE
        self._inl_failure = exc
        gs_lookup_cache_clear(self._cache)

    cdef inline int _inline_ok(self) except -1:
        cdef object cls, args
        if self._inl_failure is None:
            return 0
        cls, args = self._inl_failure.__reduce__()[:2]
        err = cls(*args)
        err.path = self._inl_failure.path
        raise err

    @property
    def inline_layout(self):
        """inline_layout is 16 or 20 (record size) when inline expansion is on, else 0."""
        self._check()
        return self.inl.layout

    def inline_tree_offset(self, uint64_t i):
        """inline_tree_offset returns the file offset of function i's inline tree, or 0."""
        cdef gs_func f
        cdef gs_err e
        cdef size_t off
        self._check()
        if i >= self.t.nfunc:
            raise IndexError(i)
        self._inline_ok()
        if gs_pcln_func(&self.t, i, &f, &e):
            self._raise(&e)
        if gs_inl_tree_off(&self.t, &self.inl, &f, &off, &e):
            self._raise(&e)
        return off

    def frames(self, uint64_t pc):
        """frames returns every frame at pc, innermost first (inlined calls,
        then the physical function), [] on a miss; raises FormatError on
        malformed data.  lookup() without the checkpoints: every table is
        walked from the function's entry (a reference for lookup)."""
        return self._expand(pc, False)

    cdef list _expand(self, uint64_t pc, bint cached):
        cdef gs_frame buf[GS_INL_MAX_DEPTH]
        cdef size_t n, k
        cdef gs_err e
        cdef Frame fr
        cdef int64_t i
        self._check()
        self._inline_ok()
        i = gs_pcln_find(&self.t, pc)
        if i < 0:
            return []
        if gs_func_frames(&self.t, &self.inl, self._cache if cached else NULL, <uint64_t>i, pc,
                          buf, GS_INL_MAX_DEPTH, &n, &e):
            self._raise(&e)
        out = []
        for k in range(n):
            if buf[k].inlined:
                fr = _frame(self._name(buf[k].name_off), self._file(buf[k].file_off),
                            buf[k].line, buf[k].start_line, None)
                fr.inlined = True
            else:
                fr = _frame(self._fname(<uint64_t>i, buf[k].name_off), self._file(buf[k].file_off),
                            buf[k].line, buf[k].start_line, gs_pcln_entry(&self.t, <uint64_t>i))
            out.append(fr)
        return out

    def release(self):
        """release drops the buffer reference so the owner (an mmap) can close."""
        self._free_fnames()
        gs_lookup_cache_clear(self._cache)
        self.inl.layout = GS_INL_NONE
        self.inl.file = NULL
        self.view = None
        self.owner = None

    cdef inline int _check(self) except -1:
        if self.view is None:
            raise ValueError("operation on a closed binary")
        return 0

    # header facts
    @property
    def version(self):
        return self.t.version
    @property
    def magic(self):
        return self.t.magic
    @property
    def quantum(self):
        return self.t.quantum
    @property
    def ptr_size(self):
        return self.t.ptr_size
    @property
    def big_endian(self):
        return bool(self.t.rd.big_endian)
    @property
    def nfunc(self):
        self._check()
        return self.t.nfunc
    @property
    def nfiles(self):
        return self.t.nfiles
    @property
    def header_text_start(self):
        return self.t.hdr_text_start
    @property
    def layout(self):
        """layout gives the table offsets the header declares (for cost reports)."""
        return {"funcname": self.t.funcname_off, "cu": self.t.cu_off, "filetab": self.t.filetab_off,
                "pctab": self.t.pctab_off, "funcdata": self.t.funcdata_off,
                "functab": self.t.functab_off, "functab_field": self.t.functab_field}

    property text_base:
        """text_base is the address added to 32-bit entry offsets (1.18+)."""
        def __get__(self):
            return self.t.text_base
        def __set__(self, uint64_t value):
            self.t.text_base = value
            gs_lookup_cache_clear(self._cache)

    def check_sorted(self):
        """check_sorted raises FormatError unless function entries ascend (linear, C)."""
        cdef gs_err e
        cdef int rc
        self._check()
        with nogil:
            rc = gs_pcln_check_sorted(&self.t, &e)
        if rc:
            self._raise(&e)

    def entry(self, uint64_t i):
        """entry returns function i's entry pc; entry(nfunc) is the end of the last."""
        self._check()
        if i > self.t.nfunc:
            raise IndexError(i)
        return gs_pcln_entry(&self.t, i)

    def find(self, uint64_t pc):
        """find returns the index of the function containing pc, or -1 (binary search)."""
        self._check()
        return gs_pcln_find(&self.t, pc)

    cdef str _name(self, int32_t name_off):
        cdef const char *s
        cdef size_t n
        cdef gs_err e
        v = self._names.get(<size_t><uint32_t>name_off)
        if v is None:
            if gs_pcln_name(&self.t, name_off, &s, &n, &e):
                self._raise(&e)
            v = _decode(s, n)
            self._names.put(<size_t><uint32_t>name_off, v)
        return <str>v

    cdef str _fname(self, uint64_t i, int32_t name_off):
        """The name of function i (name_off from its record), cached by index."""
        cdef const char *s
        cdef size_t n
        cdef gs_err e
        cdef PyObject *p
        if self._fnames == NULL:
            self._fnames = <PyObject **>calloc(self.t.nfunc + 1, sizeof(PyObject *))
            if self._fnames == NULL:
                raise MemoryError()
        p = self._fnames[i]
        if p != NULL:
            return <str>p
        if gs_pcln_name(&self.t, name_off, &s, &n, &e):
            self._raise(&e)
        v = _decode(s, n)
        Py_XINCREF(<PyObject *>v)
        self._fnames[i] = <PyObject *>v
        return v

    cdef str _file(self, size_t off):
        cdef const char *s
        cdef size_t n
        if off == 0:
            return ""
        v = self._files.get(off)
        if v is None:
            n = 0
            s = <const char *>&self.view[self.offset + off]
            while off + n < <size_t>self.size and s[n] != 0:
                n += 1
            v = _decode(s, n)
            self._files.put(off, v)
        return <str>v

    def func_name(self, uint64_t i):
        """func_name returns function i's name (cached by index; no record dict)."""
        cdef gs_func f
        cdef gs_err e
        self._check()
        if i >= self.t.nfunc:
            raise IndexError(i)
        if self._fnames != NULL and self._fnames[i] != NULL:
            return <str>self._fnames[i]
        if gs_pcln_func(&self.t, i, &f, &e):
            self._raise(&e)
        return self._fname(i, f.name_off)

    def file_name(self, size_t off):
        """file_name returns the file name stored at table offset off ("" for 0)."""
        self._check()
        if off >= <size_t>self.size:
            raise FormatError("file name offset out of range", section=self.section, offset=self.offset)
        return self._file(off)

    def name_at(self, int32_t name_off):
        """name_at returns the function name at a funcname-table offset."""
        self._check()
        return self._name(name_off)

    def func(self, uint64_t i):
        """func decodes function i's record into a dict (constant time)."""
        cdef gs_func f
        cdef gs_err e
        cdef int32_t fno
        cdef size_t foff
        self._check()
        if i >= self.t.nfunc:
            raise IndexError(i)
        if gs_pcln_func(&self.t, i, &f, &e):
            self._raise(&e)
        # The file of the entry pc names the function's file.
        if gs_pcvalue(&self.t, f.pcfile, f.entry, f.entry, &fno, &e):
            self._raise(&e)
        if gs_pcln_file_off(&self.t, &f, fno, &foff, &e):
            self._raise(&e)
        return {
            "entry": f.entry, "end": gs_pcln_entry(&self.t, i + 1), "name": self._fname(i, f.name_off),
            "file": self._file(foff), "record_offset": f.off, "args": f.args,
            "deferreturn": f.deferreturn, "pcsp": f.pcsp, "pcfile": f.pcfile, "pcln": f.pcln,
            "npcdata": f.npcdata, "cu_offset": f.cu_offset, "start_line": f.start_line,
            "func_id": f.func_id, "flag": f.flag, "nfuncdata": f.nfuncdata,
        }

    def frame_size(self, uint64_t i):
        """frame_size returns the largest stack-pointer delta of function i:
        the maximum of its whole pcsp table (C; linear in that table)."""
        cdef gs_err e
        cdef int32_t most
        self._check()
        if i >= self.t.nfunc:
            raise IndexError(i)
        if gs_pcln_frame_size(&self.t, i, &most, &e):
            self._raise(&e)
        return most

    def pcvalue(self, uint32_t tab, uint64_t entry, uint64_t pc):
        """pcvalue returns the value of pc-value table `tab` at pc (-1 if none)."""
        cdef gs_err e
        cdef int32_t v
        self._check()
        if gs_pcvalue(&self.t, tab, entry, pc, &v, &e):
            self._raise(&e)
        return v

    def lookup(self, uint64_t pc):
        """lookup returns the frames for pc, innermost first (inlined calls,
        then the physical function), or [] on a miss; malformed data (a bad
        record, table or inline tree) raises FormatError, as frames() does.

        One C call (csrc/inline.c: gs_func_frames): a binary search over the
        function table, then walks of the function's pcfile, pcln and
        inline-index tables up to pc; functions of 2 KiB and more keep
        checkpoints of those tables, so that repeated lookups in them walk
        a few steps."""
        return self._expand(pc, True)

    def symbolize(self, pcs, uint64_t bias=0, int threads=0):
        """symbolize expands a buffer of uint64 pcs into columns (Symbolized):
        per pc the frame count and first frame index; per frame the
        physical function index, name, file, line, start line and inlined
        flag.  One C loop with the GIL released; pcs are visited in address
        order so each function's tables are walked once; a bad pc gets no
        frames without failing the batch.  `bias` is subtracted from every
        pc first (the load address of a PIE or shared object minus its link
        address).  Large batches are cut at function boundaries and run
        on `threads` threads (0: one per CPU; 1: this thread only); the
        result does not depend on it."""
        cdef const uint64_t[:] pv
        cdef gs_symres r
        cdef size_t n, k
        cdef int rc
        cdef array.array first, count, shifted
        cdef uint64_t *sp
        self._check()
        self._inline_ok()
        pv = _as_u64(pcs)
        n = <size_t>pv.shape[0]
        if bias:
            shifted = array.clone(_Q, n, False)
            sp = <uint64_t *>shifted.data.as_voidptr
            with nogil:
                for k in range(n):
                    sp[k] = pv[k] - bias
            pv = shifted
        first = array.clone(_I, n, False)
        count = array.clone(_H, n, False)
        r.first = <uint32_t *>first.data.as_voidptr
        r.count = <uint16_t *>count.data.as_voidptr
        r.func = NULL
        r.name_off = NULL
        r.file_off = NULL
        r.line = NULL
        r.start_line = NULL
        r.inlined = NULL
        r.nframes = 0
        r.cap = 0
        try:
            with nogil:
                rc = gs_pcln_symbolize_mt(&self.t, &self.inl, &pv[0] if n else NULL, n, threads, &r)
            if rc == GS_ERR_NOMEM:
                raise MemoryError("no memory for the symbolized frames")
            if rc:
                raise UnsupportedError("batch too large: over 2^32 pcs or frames")
            return Symbolized._new(self, first, count,
                                   _copy_i(r.func, r.nframes), _copy_i(r.name_off, r.nframes),
                                   _copy_u(r.file_off, r.nframes), _copy_i(r.line, r.nframes),
                                   _copy_i(r.start_line, r.nframes), _copy_b(r.inlined, r.nframes))
        finally:
            gs_symres_free(&r)

    def account(self, funcdata_off=None):
        """account splits the table's bytes by what they hold (header,
        function table, _func records, names, cu and file tables, each kind
        of pc-value table, funcdata inside the table on Go 1.26+, other);
        the values sum to the table size.  Linear in the table (C)."""
        cdef uint64_t counts[GS_ACC_N]
        cdef gs_err e
        cdef int rc
        cdef size_t fdo = <size_t>-1 if funcdata_off is None else <size_t>funcdata_off
        self._check()
        with nogil:
            rc = gs_pcln_account(&self.t, fdo, counts, &e)
        if rc == GS_ERR_NOMEM:
            raise MemoryError(e.msg.decode())
        if rc:
            self._raise(&e)
        names = ("header", "functab", "func_records", "funcnames", "cutab", "filetab",
                 "pcsp", "pcfile", "pcln", "pcdata_unsafepoint", "pcdata_stackmap",
                 "pcdata_inltree_index", "pcdata_arglive", "pcdata_other", "funcdata", "other")
        return {names[k - 1]: counts[k] for k in range(1, GS_ACC_N)}

    def lookup_many(self, pcs):
        """lookup_many maps a buffer of uint64 pcs to three arrays: function
        index (int64, -1 on a miss), line (int32, -1 unknown) and file-name
        table offset (uint32, 0 unknown).  One C loop, GIL released: the pcs
        are radix-sorted so each function's tables are walked once, forward,
        for all the pcs inside it (linear in n plus the tables touched)."""
        cdef const uint64_t[:] pv
        cdef array.array idx, lines, files
        cdef size_t n
        self._check()
        pv = _as_u64(pcs)
        n = <size_t>pv.shape[0]
        idx = array.clone(_q, n, False)
        lines = array.clone(_i, n, False)
        files = array.clone(_I, n, False)
        cdef int rc = 0
        if n:
            with nogil:
                rc = gs_pcln_lookup_many(&self.t, &pv[0], n, <int64_t *>idx.data.as_voidptr,
                                         <int32_t *>lines.data.as_voidptr,
                                         <uint32_t *>files.data.as_voidptr)
        if rc:
            raise MemoryError("no memory to sort the pcs")
        return idx, lines, files

    def columns(self, bint files=False):
        """columns returns the whole function table in one C pass:
        (entry uint64 array, end uint64 array, names, start_line int32
        array), plus a list of entry files when files=True.  `names` is a
        NameColumn: a read-only sequence of str that decodes each name on
        first access (tolist() materializes them all)."""
        cdef array.array entry, end, nameoff, sline, foff
        cdef gs_err e
        cdef int rc
        cdef size_t n = self.t.nfunc
        cdef Py_ssize_t k
        cdef uint32_t *fo
        cdef uint32_t *fo_arg = NULL
        self._check()
        entry = array.clone(_Q, n, False)
        end = array.clone(_Q, n, False)
        nameoff = array.clone(_i, n, False)
        sline = array.clone(_i, n, False)
        foff = array.clone(_I, n if files else 0, False)
        if files:
            fo_arg = <uint32_t *>foff.data.as_voidptr
        with nogil:
            rc = gs_pcln_columns(&self.t, <uint64_t *>entry.data.as_voidptr,
                                 <uint64_t *>end.data.as_voidptr,
                                 <int32_t *>nameoff.data.as_voidptr,
                                 <int32_t *>sline.data.as_voidptr, fo_arg, &e)
        if rc:
            self._raise(&e)
        names = NameColumn._new(self, nameoff)
        if not files:
            return entry, end, names, sline
        fo = <uint32_t *>foff.data.as_voidptr
        flist = [None] * n
        for k in range(<Py_ssize_t>n):
            flist[k] = self._file(fo[k])
        return entry, end, names, sline, flist

    cdef str _name_by_index(self, Py_ssize_t k, const int32_t *name_offs):
        return self._fname(<uint64_t>k, name_offs[k])

    def names_for(self, idx):
        """names_for maps an int64 array of function indexes to names (None for -1)."""
        cdef const int64_t[:] iv = idx
        cdef Py_ssize_t k, n = iv.shape[0]
        cdef gs_func f
        cdef gs_err e
        cdef dict memo = {}
        out = [None] * n
        for k in range(n):
            if iv[k] < 0:
                continue
            v = memo.get(iv[k])
            if v is None:
                if gs_pcln_func(&self.t, <uint64_t>iv[k], &f, &e):
                    self._raise(&e)
                v = self._fname(<uint64_t>iv[k], f.name_off)
                memo[iv[k]] = v
            out[k] = v
        return out

    def lines(self, uint64_t i):
        """lines returns function i's pc -> file:line rows as (pc uint64 array,
        file-name list, line int32 array, end pc of the last row); linear in
        its pcfile+pcln tables."""
        cdef gs_err e
        cdef size_t cap = 64, nrows = 0
        cdef uint64_t end_pc = 0
        cdef array.array pcs, foffs, lns
        cdef int rc
        cdef Py_ssize_t k
        cdef uint32_t *fo
        self._check()
        if i >= self.t.nfunc:
            raise IndexError(i)
        while True:
            pcs = array.clone(_Q, cap, False)
            foffs = array.clone(_I, cap, False)
            lns = array.clone(_i, cap, False)
            rc = gs_pcln_lines(&self.t, i, <uint64_t *>pcs.data.as_voidptr,
                               <uint32_t *>foffs.data.as_voidptr,
                               <int32_t *>lns.data.as_voidptr, cap, &nrows, &end_pc, &e)
            if rc:
                self._raise(&e)
            if nrows <= cap:
                break
            cap = nrows
        array.resize(pcs, nrows)
        array.resize(lns, nrows)
        fo = <uint32_t *>foffs.data.as_voidptr
        files = [self._file(fo[k]) for k in range(<Py_ssize_t>nrows)]
        return pcs, files, lns, end_pc


    def line_table(self):
        """line_table returns the pc -> file:line rows of every function in
        one C pass with the GIL released: (pc uint64, file-name offset
        uint32, line int32, function index uint32) arrays, each function's
        rows together in function-table order.  A function whose tables do
        not decode contributes no rows; `bad` (the fifth value) counts them.
        Linear in the pcfile and pcln tables."""
        cdef gs_err e
        cdef size_t nf, cap, n = 0, nrows = 0, grow, j
        cdef uint64_t k = 0, end_pc = 0
        cdef uint64_t *pc = NULL
        cdef uint32_t *fo = NULL
        cdef int32_t *ln = NULL
        cdef uint32_t *fi = NULL
        cdef int oom = 0
        cdef size_t bad = 0
        self._check()
        nf = self.t.nfunc
        cap = nf * 8 + 1024
        pc = <uint64_t *>malloc(cap * sizeof(uint64_t))
        fo = <uint32_t *>malloc(cap * sizeof(uint32_t))
        ln = <int32_t *>malloc(cap * sizeof(int32_t))
        fi = <uint32_t *>malloc(cap * sizeof(uint32_t))
        try:
            if pc == NULL or fo == NULL or ln == NULL or fi == NULL:
                raise MemoryError()
            with nogil:
                while k < nf:
                    if gs_pcln_lines(&self.t, k, pc + n, fo + n, ln + n, cap - n, &nrows,
                                     &end_pc, &e) != GS_OK:
                        bad += 1
                        k += 1
                        continue
                    if nrows > cap - n:
                        grow = cap + cap // 2 + nrows
                        if (_regrow(<void **>&pc, grow, sizeof(uint64_t))
                                or _regrow(<void **>&fo, grow, sizeof(uint32_t))
                                or _regrow(<void **>&ln, grow, sizeof(int32_t))
                                or _regrow(<void **>&fi, grow, sizeof(uint32_t))):
                            oom = 1
                            break
                        cap = grow
                        continue
                    for j in range(n, n + nrows):
                        fi[j] = <uint32_t>k
                    n += nrows
                    k += 1
            if oom:
                raise MemoryError()
            a_pc = array.clone(_Q, n, False)
            if n:
                memcpy(a_pc.data.as_voidptr, pc, n * sizeof(uint64_t))
            return a_pc, _copy_u(fo, n), _copy_i(ln, n), _copy_u(fi, n), bad
        finally:
            free(pc)
            free(fo)
            free(ln)
            free(fi)


cdef array.array _copy_i(int32_t *p, size_t n):
    cdef array.array a = array.clone(_i, n, False)
    if n:
        memcpy(a.data.as_voidptr, p, n * sizeof(int32_t))
    return a


cdef array.array _copy_u(uint32_t *p, size_t n):
    cdef array.array a = array.clone(_I, n, False)
    if n:
        memcpy(a.data.as_voidptr, p, n * sizeof(uint32_t))
    return a


cdef array.array _copy_b(uint8_t *p, size_t n):
    cdef array.array a = array.clone(_B, n, False)
    if n:
        memcpy(a.data.as_voidptr, p, n)
    return a


cdef class Symbolized:
    """Symbolized is the columnar result of a batch symbolization.

    Per pc (len(self) of them): `count[k]` frames starting at `first[k]`
    (0 frames: a miss).  Per frame: `func` (index of the physical function),
    `name_off`, `file_off`, `line`, `start_line`, `inlined` (arrays).  Names
    and files are shared strings decoded on demand: `frames(k)` builds the
    Frame objects of one pc, `names()`/`files()` whole columns."""
    cdef readonly Pclntab tab
    """tab is the table the rows index into (internal; names and files come from it)."""
    cdef readonly array.array first, count, func, name_off, file_off, line, start_line, inlined

    @staticmethod
    cdef Symbolized _new(Pclntab tab, array.array first, array.array count, array.array func,
                         array.array name_off, array.array file_off, array.array line,
                         array.array start_line, array.array inlined):
        cdef Symbolized s = Symbolized.__new__(Symbolized)
        s.tab = tab
        s.first = first
        s.count = count
        s.func = func
        s.name_off = name_off
        s.file_off = file_off
        s.line = line
        s.start_line = start_line
        s.inlined = inlined
        return s

    def __len__(self):
        return len(self.count)

    @property
    def nframes(self):
        """nframes is the total number of frames over all pcs."""
        return len(self.line)

    def frames(self, Py_ssize_t k):
        """frames returns the Frame objects of pc k, innermost first."""
        cdef Py_ssize_t a, j, n = len(self.count)
        cdef Frame fr
        if k < 0:
            k += n
        if k < 0 or k >= n:
            raise IndexError("pc index out of range")
        self.tab._check()
        a = self.first[k]
        out = []
        for j in range(a, a + self.count[k]):
            if self.inlined[j]:
                fr = _frame(self.tab._name(self.name_off[j]), self.tab._file(self.file_off[j]),
                            self.line[j], self.start_line[j], None)
                fr.inlined = True
            else:
                fr = _frame(self.tab._fname(<uint64_t>self.func[j], self.name_off[j]),
                            self.tab._file(self.file_off[j]), self.line[j], self.start_line[j],
                            gs_pcln_entry(&self.tab.t, <uint64_t>self.func[j]))
            out.append(fr)
        return out

    def __iter__(self):
        cdef Py_ssize_t k
        for k in range(len(self.count)):
            yield self.frames(k)

    @property
    def source(self):
        """source is, per pc, where its frames came from (array B):
        gosym.symbolize.PCLNTAB (1), or NONE (0) for a miss."""
        cdef Py_ssize_t k, n = len(self.count)
        cdef array.array out = array.clone(_B, n, False)
        cdef uint8_t *o = <uint8_t *>out.data.as_voidptr
        cdef const uint16_t[:] c = self.count
        with nogil:
            for k in range(n):
                o[k] = 1 if c[k] else 0
        return out

    @property
    def column(self):
        """column is every frame's column (array I): all 0, the pclntab has none."""
        return _zeros(_I, len(self.line))

    def names(self):
        """names returns the function name of every frame (shared str objects)."""
        cdef Py_ssize_t j
        self.tab._check()
        return [self.tab._name(self.name_off[j]) for j in range(len(self.name_off))]

    def files(self):
        """files returns the file name of every frame (shared str objects)."""
        cdef Py_ssize_t j
        self.tab._check()
        return [self.tab._file(self.file_off[j]) for j in range(len(self.file_off))]

    def misses(self, valid=None):
        """misses returns the indexes (array of uint64) of the pcs with no
        frames; valid (bytes-like, one byte per pc) leaves out pcs marked 0."""
        cdef const uint16_t *cnt = <const uint16_t *>self.count.data.as_voidptr
        cdef const uint8_t[:] vv
        cdef const uint8_t *vp = NULL
        cdef Py_ssize_t n = len(self.count), k, m = 0
        cdef array.array out = array.clone(_Q, n, False)
        cdef uint64_t *o = <uint64_t *>out.data.as_voidptr
        if valid is not None:
            vv = valid
            if vv.shape[0] != n:
                raise ValueError("valid must have one byte per pc")
            if n:
                vp = &vv[0]
        with nogil:
            for k in range(n):
                if cnt[k] == 0 and (vp == NULL or vp[k]):
                    o[m] = <uint64_t>k
                    m += 1
        array.resize(out, m)
        return out

    def render_text(self, str style, bint inline=True, valid=None):
        """render_text renders every pc's answer in a text style of
        `gosym lookup` ("go", "gnu" or "llvm") in one C loop: returns
        (bytes, ends), ends[k] being the length of the text up to and
        including pc k's answer.  valid (bytes-like, one byte per pc) marks
        the pcs to answer; the others print the style's miss.  Returns None
        when a name is out of range (the caller's slow path reports it)."""
        cdef gs_frames_view v
        cdef gs_text out
        cdef const uint8_t[:] vv
        cdef const uint8_t *vp = NULL
        cdef size_t n = len(self.count)
        cdef array.array ends
        cdef int st, rc
        if style == "go":
            st = GS_STYLE_GO
        elif style == "gnu":
            st = GS_STYLE_GNU
        elif style == "llvm":
            st = GS_STYLE_LLVM
        else:
            raise ValueError(f"unknown text style {style!r}")
        self.tab._check()
        if valid is not None:
            vv = valid
            if <size_t>vv.shape[0] != n:
                raise ValueError("valid must have one byte per pc")
            if n:
                vp = &vv[0]
        v.first = <const uint32_t *>self.first.data.as_voidptr
        v.count = <const uint16_t *>self.count.data.as_voidptr
        v.name_off = <const int32_t *>self.name_off.data.as_voidptr
        v.file_off = <const uint32_t *>self.file_off.data.as_voidptr
        v.line = <const int32_t *>self.line.data.as_voidptr
        ends = array.clone(_Q, n, False)
        out.p = NULL
        out.n = 0
        out.cap = 0
        try:
            with nogil:
                rc = gs_render_text(&self.tab.t, &v, vp, n, st, inline, &out,
                                    <size_t *>ends.data.as_voidptr)
            if rc == GS_ERR_NOMEM:
                raise MemoryError()
            if rc:
                return None
            return (out.p[:out.n] if out.n else b""), ends
        finally:
            gs_text_free(&out)


cdef class NameColumn:
    """NameColumn is the function-name column of Pclntab.columns(): a
    read-only sequence of str, decoded on first access and cached by
    function index (so a name is decoded once per open binary)."""
    cdef Pclntab tab
    cdef array.array offs
    cdef Py_ssize_t n

    @staticmethod
    cdef NameColumn _new(Pclntab tab, array.array offs):
        cdef NameColumn c = NameColumn.__new__(NameColumn)
        c.tab = tab
        c.offs = offs
        c.n = len(offs)
        return c

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        cdef Py_ssize_t k
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        k = i
        if k < 0:
            k += self.n
        if k < 0 or k >= self.n:
            raise IndexError("name index out of range")
        self.tab._check()
        return self.tab._name_by_index(k, <const int32_t *>self.offs.data.as_voidptr)

    def __iter__(self):
        cdef Py_ssize_t k
        cdef const int32_t *no = <const int32_t *>self.offs.data.as_voidptr
        self.tab._check()
        for k in range(self.n):
            yield self.tab._name_by_index(k, no)

    def tolist(self):
        """tolist decodes every name into a list (linear)."""
        cdef Py_ssize_t k
        cdef const int32_t *no = <const int32_t *>self.offs.data.as_voidptr
        self.tab._check()
        out = [None] * self.n
        for k in range(self.n):
            out[k] = self.tab._name_by_index(k, no)
        return out

    def index(self, str name):
        """index returns the first position of name (linear), or raises ValueError."""
        cdef Py_ssize_t k
        for k in range(self.n):
            if self[k] == name:
                return k
        raise ValueError(f"{name!r} is not a function name")

    def __contains__(self, name):
        try:
            self.index(name)
            return True
        except (ValueError, TypeError):
            return False

    def __eq__(self, other):
        if isinstance(other, NameColumn):
            other = (<NameColumn>other).tolist()
        try:
            return self.tolist() == list(other)
        except TypeError:
            return NotImplemented

    def __repr__(self):
        return f"<NameColumn of {self.n} names>"


cdef const uint64_t[:] _as_u64(pcs):
    """Accept any buffer of unsigned 64-bit ints, or a sequence of ints."""
    cdef const uint64_t[:] v
    try:
        v = pcs
        return v
    except (TypeError, ValueError):
        pass
    try:
        mv = memoryview(pcs)
    except TypeError:
        return _pyarray.array("Q", pcs)
    if mv.format in ("B", "b", "c") and mv.nbytes % 8 == 0:
        return mv.cast("B").cast("Q")
    if mv.itemsize == 8 and mv.format in ("q", "l", "L", "<Q", "<q", "=Q", "=q"):
        return mv.cast("B").cast("Q")
    return _pyarray.array("Q", pcs)
