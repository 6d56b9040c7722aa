# Declarations of the DWARF line-program decoder in csrc/ (no Python API there).
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int8_t


from gosym._reader cimport gs_err, GS_OK, GS_ERR_BOUNDS, GS_ERR_VARINT, GS_ERR_FORMAT, \
    GS_ERR_UNSUPPORTED, GS_ERR_NOMEM, GS_ERR_ARG


cdef extern from "dwarf_line.h":
    enum:
        GS_DWL_MORE
        GS_DWL_WIDEN
        GS_DWL_W_FILE
        GS_DWL_W_COLUMN
        GS_DWL_W_DISCRIMINATOR
        GS_DWL_IS_STMT
        GS_DWL_END_SEQUENCE
        GS_DWL_BASIC_BLOCK
        GS_DWL_PROLOGUE_END
        GS_DWL_EPILOGUE_BEGIN
        GS_DWL_STR_NONE
        GS_DWL_STR_LINE
        GS_DWL_STR_LINE_STR
        GS_DWL_STR_STR

    ctypedef struct gs_dwl_secs:
        const uint8_t *line
        size_t line_len
        const uint8_t *line_str
        size_t line_str_len
        const uint8_t *str
        size_t str_len
        int big_endian

    ctypedef struct gs_dwl_header:
        size_t unit_off
        size_t unit_end
        size_t prog_off
        int version
        int offset_size
        int address_size
        int seg_sel_size
        uint8_t min_inst_len
        uint8_t max_ops
        uint8_t default_is_stmt
        int8_t line_base
        uint8_t line_range
        uint8_t opcode_base
        uint8_t std_lengths[256]
        size_t dirs_off
        uint64_t ndirs
        size_t files_off
        uint64_t nfiles

    ctypedef struct gs_dwl_entry:
        const char *name
        size_t name_len
        int name_sec
        uint64_t dir
        uint64_t mtime
        uint64_t size
        int has_md5
        uint8_t md5[16]

    ctypedef struct gs_dwl_rows:
        uint64_t *address
        uint32_t *file
        uint32_t *line
        uint32_t *column
        uint8_t *flags
        uint32_t *discriminator
        size_t cap
        size_t n
        uint16_t *file16
        int zero_column
        int zero_discriminator
        unsigned widen
        int reference

    int gs_dwl_open(const gs_dwl_secs *s, size_t off, gs_dwl_header *h, gs_err *e) nogil
    int gs_dwl_entries(const gs_dwl_secs *s, const gs_dwl_header *h, int which,
                       gs_dwl_entry *out, size_t cap, size_t *n, gs_err *e) nogil
    int gs_dwl_decode(const gs_dwl_secs *s, const uint64_t *offs, size_t first, size_t nunits,
                      gs_dwl_rows *r, uint64_t *unit_row, size_t *next, gs_err *e) nogil
    int gs_dwl_sequences(const gs_dwl_secs *s, const uint64_t *offs, size_t n,
                         uint64_t *lo, uint64_t *hi, uint32_t *unit, size_t cap,
                         size_t *nseq, gs_err *e) nogil
    int gs_dwl_next_unit(const gs_dwl_secs *s, size_t off, size_t *next, gs_err *e) nogil
    int gs_dwl_defined_files(const gs_dwl_secs *s, size_t off, gs_dwl_entry *out, size_t cap,
                             size_t *n, gs_err *e) nogil


cdef extern from "dwarf_form.h":
    enum:
        GS_DWU_INFO
        GS_DWU_ABBREV
        GS_DWU_STR
        GS_DWU_LINE_STR
        GS_DWU_STR_OFFSETS

    ctypedef struct gs_dwu_secs:
        const uint8_t *info
        size_t info_len
        const uint8_t *abbrev
        size_t abbrev_len
        const uint8_t *str
        size_t str_len
        const uint8_t *line_str
        size_t line_str_len
        const uint8_t *str_offsets
        size_t str_offsets_len
        int big_endian

    ctypedef struct gs_dwu_str:
        const char *s
        size_t len

    ctypedef struct gs_dwu_unit:
        size_t off
        size_t end
        int version
        int unit_type
        int address_size
        int offset_size
        gs_dwu_str name
        gs_dwu_str comp_dir
        gs_dwu_str producer
        gs_dwu_str dwo_name
        int has_dwo
        int has_language
        uint64_t language
        int has_stmt_list
        uint64_t stmt_list

    int gs_dwu_read(const gs_dwu_secs *s, size_t off, gs_dwu_unit *u, size_t *next, gs_err *e,
                    int *sec) nogil
