# gosym/_render.pyx as gosym._native sees it.
from cpython cimport array

from gosym._pclntab cimport PclnTable


cdef object render_columns(PclnTable tab, array.array first, array.array count,
                           array.array name_off, array.array file_off, array.array line,
                           str style, bint inline, valid)
