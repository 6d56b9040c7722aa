# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Text in and out of the `gosym lookup` command, in C loops: parse_addrs
reads hex address lines, render_columns renders a batch's frames (the
columns of gosym._native.Symbolized) in a text style."""
from cpython cimport array
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t

import array as _pyarray

from gosym._csrc cimport *
from gosym._pclntab cimport PclnTable

cdef array.array _Q = _pyarray.array("Q")


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


cdef object render_columns(PclnTable tab, array.array first, array.array count,
                           array.array name_off, array.array file_off, array.array line,
                           str style, bint inline, valid):
    """render_columns is Symbolized.render_text: (bytes, ends) or None."""
    cdef gs_frames_view v
    cdef gs_text out
    cdef const uint8_t[:] vv
    cdef const uint8_t *vp = NULL
    cdef size_t n = len(count)
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
    tab._check()
    if valid is not None:
        vv = valid
        if <size_t>vv.shape[0] != n:
            raise ValueError("valid must have one byte per pc")
        if n:
            vp = &vv[0]
    v.first = <const uint32_t *>first.data.as_voidptr
    v.count = <const uint16_t *>count.data.as_voidptr
    v.name_off = <const int32_t *>name_off.data.as_voidptr
    v.file_off = <const uint32_t *>file_off.data.as_voidptr
    v.line = <const int32_t *>line.data.as_voidptr
    ends = array.clone(_Q, n, False)
    out.p = NULL
    out.n = 0
    out.cap = 0
    try:
        with nogil:
            rc = gs_render_text(&tab.t, &v, vp, n, st, inline, &out,
                                <size_t *>ends.data.as_voidptr)
        if rc == GS_ERR_NOMEM:
            raise MemoryError()
        if rc:
            return None
        return (out.p[:out.n] if out.n else b""), ends
    finally:
        gs_text_free(&out)
