# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The typed boundary between Python and the C core in csrc/: the batch side.

Pclntab (a gosym._pclntab.PclnTable) adds the whole-table passes and the
batch symbolizer (C loops with the GIL released, results as arrays:
Symbolized, NameColumn).  This module re-exports the rest of the core
(Frame, read_value, pcln_scan, symtab_find, symtab_list, parse_addrs, render_strings), so
`gosym._native` stays the one import for the Python layers.
"""
from cpython cimport array

from gosym._arrays cimport _zeros
from gosym._csrc cimport *
from gosym._pclntab cimport PclnTable, Frame as CFrame, _frame
from gosym._render cimport render_columns
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy

import array as _pyarray

from gosym.errors import FormatError, GosymError, UnsupportedError
from gosym._pclntab import Frame, VERSION_CODES
from gosym._render import parse_addrs, render_strings
from gosym._symtab import SYMTAB_KINDS, pcln_scan, read_value, symtab_find, symtab_list

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


cdef class Pclntab(PclnTable):
    """Pclntab is the pclntab object of the Python layers: a
    gosym._pclntab.PclnTable plus the whole-table passes (columns,
    line_table, account, lookup_many) and the batch symbolizer."""

    def symbolize(self, pcs, uint64_t bias=0, int threads=0, *, bint return_addresses=False):
        """symbolize expands a buffer of uint64 pcs into columns (Symbolized):
        per pc the frame count and first frame index; per frame the
        physical function index, name, file, line, start line and inlined
        flag.  One C loop with the GIL released; pcs are visited in address
        order so each function's tables are walked once; a bad pc gets no
        frames without failing the batch.  `bias` is subtracted from every
        pc first (the load address of a PIE or shared object minus its link
        address).  Large batches are cut at function boundaries and run
        on `threads` threads (0: one per CPU; 1: this thread only); the
        result does not depend on it.  With return_addresses, each pc (after
        the bias) is a return address: its function is the one containing
        it and its position that of pc - 1 unless pc is the function's entry
        (runtime.Frames.Next), decided in the C loop."""
        cdef const uint64_t[:] pv
        cdef gs_symres r
        cdef size_t n, k
        cdef int rc
        cdef array.array first, count, shifted
        cdef uint64_t *sp
        cdef unsigned flags = GS_FR_RETURN_ADDRESS if return_addresses else 0
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
                rc = gs_pcln_symbolize_mt(&self.t, &self.inl, &pv[0] if n else NULL, n, threads, flags, &r)
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

    def lookup_many(self, pcs, *, bint return_addresses=False):
        """lookup_many maps a buffer of uint64 pcs to three arrays: function
        index (int64, -1 on a miss), line (int32, -1 unknown) and file-name
        table offset (uint32, 0 unknown).  One C loop, GIL released: the pcs
        are radix-sorted so each function's tables are walked once, forward,
        for all the pcs inside it (linear in n plus the tables touched).
        With return_addresses, a C pass first maps each pc to pc - 1 unless
        it is its function's entry (runtime.Frames.Next)."""
        cdef const uint64_t[:] pv
        cdef array.array idx, lines, files, adjusted
        cdef size_t n
        self._check()
        pv = _as_u64(pcs)
        n = <size_t>pv.shape[0]
        if return_addresses and n:
            adjusted = array.clone(_Q, n, False)
            with nogil:
                gs_pcln_call_pcs(&self.t, &pv[0], n, <uint64_t *>adjusted.data.as_voidptr)
            pv = adjusted
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
    cdef Pclntab tab
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
        cdef CFrame fr
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
                fr._inlined = True
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
        return render_columns(self.tab, self.first, self.count, self.name_off, self.file_off,
                              self.line, style, inline, valid)


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
