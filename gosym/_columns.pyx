# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Whole-column passes for `gosym check` (gosym.check): which DWARF rows
start to cover code, file names interned to ids, a gather through row
indexes, and the per-pc classification of two (file, line) answers.

Typed loops over arrays (columns) in and out, the GIL released where no
Python object is touched.  What does not live here: decoding line programs
and the sequence lookup (gosym._dwarf), the report (gosym.check).
"""
from cpython cimport array

from gosym._arrays cimport _as_u64
from gosym._dwarf cimport GS_DWL_END_SEQUENCE
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int32_t, int64_t

import array as _pyarray

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _B = _pyarray.array("B")
cdef array.array _i = _pyarray.array("i")



def row_starts(address, flags):
    """row_starts returns the addresses at which a row starts to cover
    code: rows that are not end_sequence and whose next row (same
    sequence) is at a higher address.  An array('Q'), in row order."""
    cdef const uint64_t[:] a = _as_u64(address)
    cdef const uint8_t[:] f = flags
    cdef size_t n = <size_t>a.shape[0], i, k = 0
    cdef array.array out = array.clone(_Q, n, False)
    cdef uint64_t *o = <uint64_t *>out.data.as_voidptr
    if <size_t>f.shape[0] != n:
        raise ValueError("address and flags differ in length")
    with nogil:
        for i in range(n):
            if f[i] & GS_DWL_END_SEQUENCE or i + 1 >= n:
                continue
            if a[i + 1] > a[i]:
                o[k] = a[i]
                k += 1
    array.resize(out, k)
    return out


def intern_keys(keys, name_of, dict ids):
    """intern_keys maps a uint32 column of keys (file-name offsets, file
    registers) to int32 ids of the strings name_of(key) returns, numbering
    new strings in `ids` (str -> id; None maps to -1).  name_of is called
    once per distinct key.  Other integer columns are widened first."""
    if not (isinstance(keys, _pyarray.array) and keys.typecode == "I"):
        keys = _pyarray.array("I", keys)
    cdef const uint32_t[:] kv = keys
    cdef Py_ssize_t n = kv.shape[0], i
    cdef array.array out = array.clone(_i, n, False)
    cdef int32_t *o = <int32_t *>out.data.as_voidptr
    cdef dict memo = {}
    cdef uint32_t last = 0
    cdef int32_t last_id = 0
    cdef bint have = False
    for i in range(n):
        if have and kv[i] == last:
            o[i] = last_id
            continue
        v = memo.get(kv[i])
        if v is None:
            name = name_of(kv[i])
            if name is None:
                v = -1
            else:
                v = ids.get(name)
                if v is None:
                    v = len(ids)
                    ids[name] = v
            memo[kv[i]] = v
        last = kv[i]
        last_id = v
        have = True
        o[i] = last_id
    return out


ctypedef fused gather_t:
    int32_t
    uint32_t


def gather(const gather_t[:] values, const int64_t[:] idx):
    """gather returns values[idx[k]] for each k as int32 (-1 where idx[k] is
    out of range, as -1 is); values is an int32 or uint32 buffer."""
    cdef Py_ssize_t n = idx.shape[0], i, nv = values.shape[0]
    cdef array.array out = array.clone(_i, n, False)
    cdef int32_t *o = <int32_t *>out.data.as_voidptr
    with nogil:
        for i in range(n):
            o[i] = <int32_t>values[idx[i]] if 0 <= idx[i] < nv else -1
    return out


# Kinds of comparison of two (file id, line) answers for one pc.
cdef enum:
    K_AGREE, K_LINE, K_FILE, K_FILE_LINE, K_NO_DWARF, K_DWARF_LINE0, K_NO_PCLNTAB, K_NEITHER, K_OUTSIDE

CMP_AGREE, CMP_LINE, CMP_FILE, CMP_FILE_LINE = K_AGREE, K_LINE, K_FILE, K_FILE_LINE
CMP_NO_DWARF, CMP_DWARF_LINE0, CMP_NO_PCLNTAB, CMP_NEITHER = K_NO_DWARF, K_DWARF_LINE0, K_NO_PCLNTAB, K_NEITHER
CMP_OUTSIDE = K_OUTSIDE


def classify(p_file, p_line, d_file, d_line, d_row, p_func=None):
    """classify compares, per pc, the pclntab's answer (file id, line) with
    DWARF's (file id, line, row index: -1 for no row) and returns a kind
    per pc (array B of CMP_*): agree, line differs, file differs, both
    differ, no DWARF row, DWARF line 0, no pclntab line, neither; with
    p_func (int64 function indexes), outside for pcs in no Go function."""
    cdef const int32_t[:] pf = p_file
    cdef const int32_t[:] pl = p_line
    cdef const int32_t[:] df = d_file
    cdef const int32_t[:] dl = d_line
    cdef const int64_t[:] dr = d_row
    cdef const int64_t[:] fn = p_func if p_func is not None else d_row
    cdef bint use_fn = p_func is not None
    cdef Py_ssize_t n = pf.shape[0], i
    cdef array.array out
    cdef uint8_t *o
    cdef uint8_t k
    if pl.shape[0] != n or df.shape[0] != n or dl.shape[0] != n or dr.shape[0] != n:
        raise ValueError("columns differ in length")
    if fn.shape[0] != n:
        raise ValueError("columns differ in length")
    out = array.clone(_B, n, False)
    o = <uint8_t *>out.data.as_voidptr
    with nogil:
        for i in range(n):
            if use_fn and fn[i] < 0:
                k = K_OUTSIDE
            elif pl[i] <= 0:
                k = K_NEITHER if (dr[i] < 0 or dl[i] <= 0) else K_NO_PCLNTAB
            elif dr[i] < 0:
                k = K_NO_DWARF
            elif dl[i] == 0:
                k = K_DWARF_LINE0
            elif pf[i] == df[i]:
                k = K_AGREE if pl[i] == dl[i] else K_LINE
            else:
                k = K_FILE if pl[i] == dl[i] else K_FILE_LINE
            o[i] = k
    return out
