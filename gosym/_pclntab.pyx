# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The pclntab object: one Go pclntab in a read-only buffer (gosym/_pclntab.pxd).

PclnTable opens and checks the header, decodes records, names and files
(cached), single lookups with inlined frames, per-function rows, frame
sizes.  Whole-table passes and the batch symbolizer live in gosym._native
(its Pclntab subclasses this one); symbol tables and the byte scans in
gosym._symtab; address parsing and text rendering in gosym._render.
"""
cimport cython
from cpython cimport array

from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport PyObject, Py_INCREF, Py_XINCREF, Py_XDECREF
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int32_t, int64_t
from libc.stdlib cimport malloc, calloc, free

import array as _pyarray

import warnings as _warnings

from gosym.errors import FormatError, GosymError
from gosym.errors import GosymWarning as _GosymWarning

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _I = _pyarray.array("I")
cdef array.array _i = _pyarray.array("i")

VERSION_CODES = {GS_VER12: "1.2", GS_VER116: "1.16", GS_VER118: "1.18", GS_VER120: "1.20"}


cdef inline str _decode(const char *s, size_t n):
    return PyUnicode_DecodeUTF8(s, <Py_ssize_t>n, "replace")


# A direct-mapped cache of decoded strings keyed by table offset: bounded
# memory, no Python object per key, one probe per lookup.
cdef enum:
    SLOTS = 8192



cdef class _StrCache:

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

    cdef object get(self, size_t off):
        cdef str_slot *s = &self.slots[(off * 2654435761u) % SLOTS]
        if s.key == off + 1:
            return <object>s.value
        return None

    cdef void put(self, size_t off, object value):
        cdef str_slot *s = &self.slots[(off * 2654435761u) % SLOTS]
        Py_XINCREF(<PyObject *>value)
        Py_XDECREF(s.value)
        s.value = <PyObject *>value
        s.key = off + 1


# ------------------------------------------------------------------ frames

# Not tracked by the cycle collector: a frame holds only two strs, ints and
# its entry (an int or None), so it cannot be part of a cycle, and a lookup
# that makes frames and lists does not also pay the collector's bookkeeping
# and its more frequent young-generation passes.
@cython.no_gc
@cython.freelist(64)
cdef class Frame:
    """Frame is one source position for a pc: function, file, line, and
    whether the call was inlined into the frame below it (outer frames follow)."""
    def __init__(self, str function, str file, int line, bint inlined=False,
                 int start_line=0, entry=None):
        self._function = function
        self._file = file
        self._line = line
        self._inlined = inlined
        self._start_line = start_line
        self._entry = None if entry is None else int(entry)

    @property
    def function(self):
        """function is the frame's function name (the inlined callee's for an inlined frame)."""
        return self._function

    @property
    def file(self):
        """file is the source file of the position."""
        return self._file

    @property
    def line(self):
        """line is the source line (0 when unknown)."""
        return self._line

    @property
    def inlined(self):
        """inlined says the call was inlined into the next (outer) frame."""
        return self._inlined

    @property
    def start_line(self):
        """start_line is the line of the func keyword of the frame's function (Go 1.20+; 0 before)."""
        return self._start_line

    @property
    def entry(self):
        """entry is the function's entry pc in a physical frame; None in an inlined one."""
        return self._entry

    def _key(self):
        return (self._function, self._file, self._line, self._inlined, self._start_line, self._entry)

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


cdef Frame _frame(str function, str file, int line, int start_line, object entry):
    cdef Frame f = Frame.__new__(Frame)
    f._function = function
    f._file = file
    f._line = line
    f._inlined = False
    f._start_line = start_line
    f._entry = entry
    return f


# ------------------------------------------------------------------ pclntab

cdef class PclnTable:
    """Pclntab decodes one Go pclntab held in a read-only buffer.

    `buf` is the whole mapped file (or memory image); the table is
    buf[offset:offset+size].  Nothing is copied: the object keeps `buf`
    alive and every read goes through the bounds-checked C cursor.  Opening
    reads the header only (constant time) plus one pass that checks the
    function table is sorted (linear in the number of functions, in C).
    """
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

    cdef int _inline_ok(self) except -1:
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

    def frames(self, uint64_t pc, *, bint return_address=False, bint wrappers=False):
        """frames returns every frame at pc, innermost first (inlined calls,
        then the physical function), [] on a miss; raises FormatError on
        malformed data.  lookup() without the checkpoints: every table is
        walked from the function's entry (a reference for lookup)."""
        return self._expand(pc, False, self.frame_flags(return_address, wrappers))

    cpdef unsigned frame_flags(self, bint return_addresses, bint wrappers):
        """frame_flags returns the C walk's flags (GS_FR_*) for the options,
        looking up the funcIDs wrapper elision needs on first use."""
        if not wrappers and not self.inl.fids_known:
            self._check()
            gs_inl_funcids(&self.t, &self.inl)
        return ((GS_FR_RETURN_ADDRESS if return_addresses else 0) |
                (GS_FR_WRAPPERS if wrappers else 0))

    @property
    def wrapper_func_id(self):
        """wrapper_func_id is the funcID of autogenerated wrappers in this
        binary (abi.FuncIDWrapper, from the runtime's own records), -1 when
        it cannot be told."""
        self.frame_flags(False, False)
        return self.inl.fid_wrapper

    cdef list _expand(self, uint64_t pc, bint cached, unsigned flags):
        cdef gs_frame buf[GS_INL_MAX_DEPTH]
        cdef size_t n, k
        cdef gs_err e
        cdef Frame fr
        cdef int64_t i
        self._check()
        self._inline_ok()
        i = gs_lookup_find(&self.t, self._cache if cached else NULL, pc)
        if i < 0:
            return []
        if gs_func_frames(&self.t, &self.inl, self._cache if cached else NULL, <uint64_t>i, pc,
                          flags, buf, GS_INL_MAX_DEPTH, &n, &e):
            if n != 1:
                self._raise(&e)
            # The inline tree cannot be followed here: the physical function
            # at pc's own position, and a warning that says why.
            _warnings.warn(f"{self.section}: pc {pc:#x}: {e.msg.decode(errors='replace')}; "
                          "answered with the physical function only", _GosymWarning, stacklevel=1)
        out = PyList_New(<Py_ssize_t>n)
        for k in range(n):
            if buf[k].inlined:
                fr = _frame(self._name(buf[k].name_off), self._file(buf[k].file_off),
                            buf[k].line, buf[k].start_line, None)
                fr._inlined = True
            else:
                fr = _frame(self._fname(<uint64_t>i, buf[k].name_off), self._file(buf[k].file_off),
                            buf[k].line, buf[k].start_line, gs_pcln_entry(&self.t, <uint64_t>i))
            Py_INCREF(fr)
            PyList_SET_ITEM(out, <Py_ssize_t>k, fr)
        return out

    def release(self):
        """release drops the buffer reference so the owner (an mmap) can close."""
        self._free_fnames()
        gs_lookup_cache_clear(self._cache)
        self.inl.layout = GS_INL_NONE
        self.inl.file = NULL
        self.view = None
        self.owner = None

    cdef int _check(self) except -1:
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

    def lookup(self, uint64_t pc, *, bint return_address=False, bint wrappers=False):
        """lookup returns the frames for pc, innermost first (inlined calls,
        then the physical function), or [] on a miss; malformed data (a bad
        record, table or inline tree) raises FormatError, as frames() does.
        With return_address, pc is a return address: the function is the
        one containing pc and the position that of pc - 1 unless pc is the
        function's entry (runtime.Frames.Next).  Autogenerated wrappers
        that the runtime's tracebacks hide are left out unless wrappers.
        Where the inline tree cannot be followed, the answer is the
        physical function at pc's file:line, with a GosymWarning.

        One C call (csrc/lookup.c: gs_func_frames): a search of the function
        table (through buckets over the text after a few thousand lookups),
        then the function's pcln, pcfile and inline-index tables at pc, from
        a bounded per-function index (its record and a checkpoint every 4
        rows, decoded as far as lookups reach) so that repeated lookups in a
        function walk a few steps; the answers are frames()'s."""
        return self._expand(pc, True, self.frame_flags(return_address, wrappers))

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




# ------------------------------------------------------------------ Binary's core

cdef class BinaryCore:
    """BinaryCore is the compiled base class of gosym.Binary: it holds the
    opened table and answers the single lookup, so that `b.lookup(pc)` goes
    from the caller straight into C with no Python frame in between."""
    cdef public PclnTable _tab

    def lookup(self, pc, source="pclntab", *, return_address=False, wrappers=False):
        """lookup returns the frames at pc, innermost first ([] on a miss).

        pc is an instruction address unless `return_address` is set: then it
        is a return address (from runtime.Callers, a runtime/pprof profile, a
        stack trace), and, as runtime.Frames.Next does, the function is the
        one containing pc and the file:line those of pc - 1 (pc itself when
        it is the function's entry).

        Autogenerated wrappers (pointer-receiver method wrappers, method
        values' -fm functions, generic instantiation wrappers) are left out
        where the runtime's tracebacks leave them out: an outer frame that
        is a wrapper, unless the frame inside it is a panic; the innermost
        frame is always kept.  `wrappers=True` keeps them (as debuggers
        show them).  Where the inline tree cannot be followed, the answer is
        the physical function at pc's file:line, with a GosymWarning.

        `source` is where the answer comes from, as for symbolize: "pclntab"
        (the default: function, file:line and inlined frames, one C call),
        "dwarf" (DWARF's line table: one frame with file:line, the function
        name from the symbol tables), "symtab" (one frame with the function
        name only: file "" and line 0) or "auto" (the pclntab, then DWARF,
        then the symbol tables).  Malformed data raises FormatError."""
        cdef PclnTable tab = self._tab
        if source == "pclntab":
            if tab is None:
                raise ValueError("operation on a closed binary")
            return tab._expand(pc, True, tab.frame_flags(return_address, wrappers))
        return self.symbolize((pc,), source=source, return_addresses=return_address,
                              wrappers=wrappers).frames(0)
