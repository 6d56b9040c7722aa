# Declarations of csrc/reader.h, the one bounds-checked cursor, shared by
# the extensions that read through it (gosym._native, gosym._dwarf).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t


cdef extern from "reader.h":
    ctypedef struct gs_err:
        int code
        size_t off
        const char *msg

    enum:
        GS_OK
        GS_ERR_BOUNDS
        GS_ERR_VARINT
        GS_ERR_FORMAT
        GS_ERR_UNSUPPORTED
        GS_ERR_NOMEM
        GS_ERR_ARG

    ctypedef struct gs_reader:
        const uint8_t *base
        size_t len
        size_t pos
        int big_endian
        int ptr_size
        int err
        size_t err_off
        const char *err_msg

    void gs_rd_init(gs_reader *rd, const uint8_t *base, size_t len, int big_endian, int ptr_size) nogil
    uint8_t gs_rd_u8(gs_reader *rd) nogil
    uint16_t gs_rd_u16(gs_reader *rd) nogil
    uint32_t gs_rd_u32(gs_reader *rd) nogil
    uint64_t gs_rd_u64(gs_reader *rd) nogil
    uint64_t gs_rd_ptr(gs_reader *rd) nogil
    uint64_t gs_rd_uvarint(gs_reader *rd) nogil
    uint32_t gs_rd_uvarint32(gs_reader *rd) nogil
    int64_t gs_rd_svarint(gs_reader *rd) nogil
    int64_t gs_rd_sleb128(gs_reader *rd) nogil
    size_t gs_rd_cstr(gs_reader *rd, const char **out) nogil
    void gs_rd_seek(gs_reader *rd, size_t off) nogil
