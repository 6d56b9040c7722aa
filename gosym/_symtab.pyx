# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Byte-level finders over a whole file, no table object: symbol tables
(ELF, Mach-O nlist, PE COFF), the scan for a pclntab header, and the probe
that reads one value through the C cursor (csrc/reader.h) for tests."""
from cpython cimport array
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int32_t, int64_t
from libc.stdlib cimport malloc, free

import array as _pyarray

from gosym._csrc cimport *
from gosym.errors import FormatError

cdef array.array _Q = _pyarray.array("Q")
cdef array.array _I = _pyarray.array("I")
cdef array.array _i = _pyarray.array("i")
cdef array.array _B = _pyarray.array("B")


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


