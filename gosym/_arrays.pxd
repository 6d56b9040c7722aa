# Small array helpers shared by the extensions (inline: no module of its own).
from cpython cimport array
from libc.string cimport memset


cdef inline array.array _zeros(array.array template, Py_ssize_t n):
    """A zeroed array like template.  array.clone(..., True) calls memset
    on a NULL buffer when n == 0, which UBSan reports."""
    cdef array.array a = array.clone(template, n, False)
    if n > 0:
        memset(a.data.as_voidptr, 0, <size_t>n * template.ob_descr.itemsize)
    return a
