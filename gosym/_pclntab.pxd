# The pclntab object (gosym/_pclntab.pyx) as other extension modules see it:
# gosym._native subclasses PclnTable and reads its table and caches.
from cpython.ref cimport PyObject
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t

from gosym._csrc cimport *


ctypedef struct str_slot:
    size_t key          # table offset + 1 (0: empty)
    PyObject *value


cdef class _StrCache:
    cdef str_slot *slots
    cdef object get(self, size_t off)
    cdef void put(self, size_t off, object value)


cdef class Frame:
    # Read through the documented properties of gosym/_pclntab.pyx.
    cdef str _function
    cdef str _file
    cdef int _line
    cdef bint _inlined
    cdef int _start_line
    cdef object _entry


cdef Frame _frame(str function, str file, int line, int start_line, object entry)


cdef class PclnTable:
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

    cdef int _raise(self, gs_err *e) except -1
    cdef void _free_fnames(self)
    cdef int _inline_ok(self) except -1
    cdef list _expand(self, uint64_t pc, bint cached, unsigned flags)
    cdef int _check(self) except -1
    cdef str _name(self, int32_t name_off)
    cdef str _fname(self, uint64_t i, int32_t name_off)
    cdef str _file(self, size_t off)
