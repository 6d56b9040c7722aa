# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Text in and out of the `gosym lookup` command, in C loops: parse_addrs
reads hex address lines; render_columns renders a pclntab batch's frames
(the columns of gosym._native.Symbolized) in a text style, and
render_strings the frames of any other source, through the same C code
(csrc/render.c)."""
from cpython cimport array
from libc.stdlib cimport malloc, free
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


cdef int _style(str style) except -1:
    if style == "go":
        return GS_STYLE_GO
    if style == "gnu":
        return GS_STYLE_GNU
    if style == "llvm":
        return GS_STYLE_LLVM
    raise ValueError(f"unknown text style {style!r}")


def render_strings(names, files, first, count, line, column, str style, bint inline, valid=None):
    """render_strings renders the text-style answers of a batch whose frames
    are strings (a result of a source other than the pclntab): pc k has
    count[k] frames from first[k], innermost first; names, files, line and
    column are per frame; valid (bytes, may be None) marks the pcs to answer,
    the others print the style's miss.  Returns (text as bytes, ends: an
    array with the end of each pc's answer in the text), as render_columns
    does.  Linear in the frames; the same C code as render_columns writes
    the styles."""
    cdef size_t npcs = len(count), nfr = len(names), k
    cdef gs_str_frames sf
    cdef gs_text out
    cdef const uint8_t[:] vv
    cdef const uint8_t *vp = NULL
    cdef int st = _style(style), rc
    cdef size_t *firsts = NULL
    cdef size_t *counts = NULL
    cdef const char **np = NULL
    cdef const char **fp = NULL
    cdef size_t *nl = NULL
    cdef size_t *fl = NULL
    cdef int32_t *ln = NULL
    cdef int32_t *col = NULL
    cdef array.array ends = array.clone(_Q, npcs, False)
    cdef bytes b
    if len(files) != nfr or len(line) != nfr or len(column) != nfr or len(first) != npcs:
        raise ValueError("render_strings: column lengths differ")
    if valid is not None:
        vv = valid
        if <size_t>vv.shape[0] != npcs:
            raise ValueError("valid must have one byte per pc")
        if npcs:
            vp = &vv[0]
    keep = [(n or "").encode("utf-8", "surrogateescape") for n in names] + \
           [(f or "").encode("utf-8", "surrogateescape") for f in files]
    out.p = NULL
    out.n = 0
    out.cap = 0
    try:
        firsts = <size_t *>malloc((npcs + 1) * sizeof(size_t))
        counts = <size_t *>malloc((npcs + 1) * sizeof(size_t))
        np = <const char **>malloc((nfr + 1) * sizeof(char *))
        fp = <const char **>malloc((nfr + 1) * sizeof(char *))
        nl = <size_t *>malloc((nfr + 1) * sizeof(size_t))
        fl = <size_t *>malloc((nfr + 1) * sizeof(size_t))
        ln = <int32_t *>malloc((nfr + 1) * sizeof(int32_t))
        col = <int32_t *>malloc((nfr + 1) * sizeof(int32_t))
        if not (firsts and counts and np and fp and nl and fl and ln and col):
            raise MemoryError()
        for k in range(npcs):
            firsts[k] = first[k]
            counts[k] = count[k]
        for k in range(nfr):
            b = keep[k]
            np[k] = b
            nl[k] = len(b)
            b = keep[nfr + k]
            fp[k] = b
            fl[k] = len(b)
            ln[k] = line[k]
            col[k] = column[k]
        sf.first = firsts
        sf.count = counts
        sf.name = np
        sf.name_len = nl
        sf.file = fp
        sf.file_len = fl
        sf.line = ln
        sf.column = col
        sf.nframes = nfr
        with nogil:
            rc = gs_render_strings(&sf, vp, npcs, st, inline, &out, <size_t *>ends.data.as_voidptr)
        if rc == GS_ERR_NOMEM:
            raise MemoryError()
        if rc:
            raise ValueError("render_strings: a pc's frames run past the frame columns")
        return (out.p[:out.n] if out.n else b""), ends
    finally:
        gs_text_free(&out)
        free(firsts)
        free(counts)
        free(np)
        free(fp)
        free(nl)
        free(fl)
        free(ln)
        free(col)


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
    cdef int st = _style(style), rc
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
