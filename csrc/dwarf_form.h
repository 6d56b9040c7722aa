/* dwarf_form.h - the one reader of DWARF attribute values (DW_FORM_*), and
 * the unit headers of .debug_info with the attributes of each unit's first
 * DIE (name, comp_dir, producer, language, stmt_list, dwo name).
 *
 * Forms from DWARF 5 section 7.5.6 (table 7.6) and the GNU extensions of
 * DWARF 4 (DW_FORM_GNU_*).  The line-table reader (dwarf_line.c) reads the
 * v5 directory/file entry formats through gs_dwf_read too.  Everything reads
 * through gs_reader (reader.h); nothing is allocated; every length is
 * checked against the unit or section it lies in.
 */
#ifndef GOSYM_DWARF_FORM_H
#define GOSYM_DWARF_FORM_H

#include "reader.h"

/* Attribute forms [DWARF5 7.5.6, table 7.6]; GNU extensions [DWARF4 + GNU]. */
enum {
    DW_FORM_addr = 0x01, DW_FORM_block2 = 0x03, DW_FORM_block4 = 0x04, DW_FORM_data2 = 0x05,
    DW_FORM_data4 = 0x06, DW_FORM_data8 = 0x07, DW_FORM_string = 0x08, DW_FORM_block = 0x09,
    DW_FORM_block1 = 0x0a, DW_FORM_data1 = 0x0b, DW_FORM_flag = 0x0c, DW_FORM_sdata = 0x0d,
    DW_FORM_strp = 0x0e, DW_FORM_udata = 0x0f, DW_FORM_ref_addr = 0x10, DW_FORM_ref1 = 0x11,
    DW_FORM_ref2 = 0x12, DW_FORM_ref4 = 0x13, DW_FORM_ref8 = 0x14, DW_FORM_ref_udata = 0x15,
    DW_FORM_indirect = 0x16, DW_FORM_sec_offset = 0x17, DW_FORM_exprloc = 0x18,
    DW_FORM_flag_present = 0x19, DW_FORM_strx = 0x1a, DW_FORM_addrx = 0x1b, DW_FORM_ref_sup4 = 0x1c,
    DW_FORM_strp_sup = 0x1d, DW_FORM_data16 = 0x1e, DW_FORM_line_strp = 0x1f, DW_FORM_ref_sig8 = 0x20,
    DW_FORM_implicit_const = 0x21, DW_FORM_loclistx = 0x22, DW_FORM_rnglistx = 0x23,
    DW_FORM_ref_sup8 = 0x24, DW_FORM_strx1 = 0x25, DW_FORM_strx2 = 0x26, DW_FORM_strx3 = 0x27,
    DW_FORM_strx4 = 0x28, DW_FORM_addrx1 = 0x29, DW_FORM_addrx2 = 0x2a, DW_FORM_addrx3 = 0x2b,
    DW_FORM_addrx4 = 0x2c, DW_FORM_GNU_addr_index = 0x1f01, DW_FORM_GNU_str_index = 0x1f02,
    DW_FORM_GNU_ref_alt = 0x1f20, DW_FORM_GNU_strp_alt = 0x1f21
};

/* Unit types [DWARF5 7.5.1, table 7.2]. */
enum {
    DW_UT_compile = 1, DW_UT_type, DW_UT_partial, DW_UT_skeleton, DW_UT_split_compile,
    DW_UT_split_type
};

/* What a value is. */
enum {
    GS_DWF_NONE = 0,     /* a block or exprloc: skipped (blk/blen say where) */
    GS_DWF_UINT,         /* u: constants, offsets, references, addresses */
    GS_DWF_SINT,         /* u holds the int64 bits (sdata, implicit_const) */
    GS_DWF_STR,          /* s/slen: an inline string or one in .debug_str/.debug_line_str */
    GS_DWF_STRX          /* u: an index into .debug_str_offsets (strx*, GNU_str_index) */
};

/* Where a string value lives (ssec). */
enum { GS_DWF_IN_UNIT = 1, GS_DWF_IN_LINE_STR = 2, GS_DWF_IN_STR = 3 };

/* The sizes and string sections a value may need. */
typedef struct gs_dwf_ctx {
    int version;               /* of the unit (DW_FORM_ref_addr is address-sized in v2) */
    int offset_size;           /* 4 or 8 */
    int address_size;          /* 0: DW_FORM_addr is an error */
    int allow_implicit;        /* DW_FORM_implicit_const allowed (abbreviations only) */
    const uint8_t *str;        /* .debug_str (may be NULL) */
    size_t str_len;
    const uint8_t *line_str;   /* .debug_line_str (may be NULL) */
    size_t line_str_len;
} gs_dwf_ctx;

typedef struct gs_dwf_value {
    int kind;                  /* GS_DWF_* */
    uint64_t u;
    const char *s;             /* not NUL-terminated in general: slen bytes */
    size_t slen;
    int ssec;                  /* GS_DWF_IN_* for strings */
    const uint8_t *blk;        /* blocks, data16 */
    size_t blen;
} gs_dwf_value;

/* gs_dwf_read reads one value of `form` at rd (implicit: the abbreviation's
 * DW_FORM_implicit_const value).  Errors stick in rd. */
void gs_dwf_read(gs_reader *rd, const gs_dwf_ctx *c, unsigned form, int64_t implicit, gs_dwf_value *v);

/* The sections the unit reader uses; any but info may be NULL/0. */
typedef struct gs_dwu_secs {
    const uint8_t *info;
    size_t info_len;
    const uint8_t *abbrev;
    size_t abbrev_len;
    const uint8_t *str;
    size_t str_len;
    const uint8_t *line_str;
    size_t line_str_len;
    const uint8_t *str_offsets;
    size_t str_offsets_len;
    int big_endian;
} gs_dwu_secs;

/* A string attribute of the first DIE: present when s is not NULL. */
typedef struct gs_dwu_str {
    const char *s;
    size_t len;
} gs_dwu_str;

/* One unit of .debug_info: its header [DWARF5 7.5.1] and what its first
 * DIE says. */
typedef struct gs_dwu_unit {
    size_t off;                /* section offset of unit_length */
    size_t end;                /* section offset just past the unit */
    int version;               /* 2..5 */
    int unit_type;             /* DW_UT_* (DW_UT_compile before v5) */
    int address_size;
    int offset_size;
    gs_dwu_str name, comp_dir, producer, dwo_name;
    int has_dwo;               /* DW_AT_dwo_name / DW_AT_GNU_dwo_name present (any form) */
    int has_language;
    uint64_t language;
    int has_stmt_list;
    uint64_t stmt_list;
} gs_dwu_unit;

/* The section an error of gs_dwu_read is in (*sec). */
enum { GS_DWU_INFO = 0, GS_DWU_ABBREV, GS_DWU_STR, GS_DWU_LINE_STR, GS_DWU_STR_OFFSETS };

/* gs_dwu_read reads the unit at .debug_info offset off and its first DIE;
 * *next gets the offset of the following unit (set once the unit's length
 * is read).  On failure *e holds the offset and reason and *sec the
 * section (GS_DWU_*) the offset is in. */
int gs_dwu_read(const gs_dwu_secs *s, size_t off, gs_dwu_unit *u, size_t *next, gs_err *e, int *sec);

#endif /* GOSYM_DWARF_FORM_H */
