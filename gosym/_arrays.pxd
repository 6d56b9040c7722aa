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


cdef inline object _as_u64(values):
    """values as an array('Q'): the array itself when it already is one,
    else a copy (any iterable or buffer of ints)."""
    if isinstance(values, array.array) and values.typecode == "Q":
        return values
    return array.array("Q", values)
