/* dwarf_line.h - decoder for DWARF line-number programs (.debug_line).
 *
 * Follows DWARF 5 section 6.2 ("Line Number Information"), with the header
 * layouts of DWARF 2 (6.2.4), 3, 4 (adds maximum_operations_per_instruction)
 * and 5 (adds address_size, segment_selector_size and the self-describing
 * directory/file entry formats of 6.2.4.1).  Both the 32-bit and the 64-bit
 * DWARF formats (7.4) are read.
 *
 * The input is the decompressed section as one byte range; strings of v5
 * entry formats may live in .debug_line_str (DW_FORM_line_strp) or
 * .debug_str (DW_FORM_strp), given as their own ranges.  Everything reads
 * through gs_reader (reader.h); nothing is allocated.  Functions return a
 * GS_* status; on failure *e holds the section offset and the reason.  Every
 * loop is bounded by the bytes left in its unit, so hostile input ends in an
 * error, never a crash or a hang.
 */
#ifndef GOSYM_DWARF_LINE_H
#define GOSYM_DWARF_LINE_H

#include "reader.h"

/* Returned by gs_dwl_decode when the caller's row arrays are full: grow them
 * and call again from *next (no rows of the unfinished unit were kept). */
#define GS_DWL_MORE 100

/* Row flags [DWARF5 6.2.2, table 6.3]. */
enum {
    GS_DWL_IS_STMT = 1,
    GS_DWL_END_SEQUENCE = 2,
    GS_DWL_BASIC_BLOCK = 4,
    GS_DWL_PROLOGUE_END = 8,
    GS_DWL_EPILOGUE_BEGIN = 16
};

/* The sections a line program reads: .debug_line, and the string sections
 * that v5 entry formats point into (either may be NULL/0 when absent). */
typedef struct gs_dwl_secs {
    const uint8_t *line;
    size_t line_len;
    const uint8_t *line_str;
    size_t line_str_len;
    const uint8_t *str;
    size_t str_len;
    int big_endian;
} gs_dwl_secs;

/* One line-program header [DWARF5 6.2.4]. */
typedef struct gs_dwl_header {
    size_t unit_off;          /* section offset of unit_length */
    size_t unit_end;          /* section offset just past the unit */
    size_t prog_off;          /* section offset of the first opcode */
    int version;              /* 2..5 */
    int offset_size;          /* 4 (32-bit DWARF) or 8 (64-bit DWARF) */
    int address_size;         /* v5: from the header; else 0 */
    int seg_sel_size;         /* v5 only */
    uint8_t min_inst_len;
    uint8_t max_ops;          /* 1 before v4, and when the header says 0 */
    uint8_t default_is_stmt;
    int8_t line_base;
    uint8_t line_range;
    uint8_t opcode_base;
    uint8_t std_lengths[256]; /* operand counts of standard opcodes 1..opcode_base-1 */
    /* Directory and file tables: section offset of each table's first entry
     * (after the v5 format description) and entry count (v2-4: counted by
     * gs_dwl_open, the tables being NUL-terminated lists). */
    size_t dirs_off;
    uint64_t ndirs;
    size_t files_off;
    uint64_t nfiles;
    /* v5 entry formats: (content type, form) pairs. */
    uint8_t ndir_fmt;
    uint8_t nfile_fmt;
    uint16_t dir_fmt[32][2];
    uint16_t file_fmt[32][2];
} gs_dwl_header;

/* Where a string of a directory or file entry lives. */
enum { GS_DWL_STR_NONE = 0, GS_DWL_STR_LINE = 1, GS_DWL_STR_LINE_STR = 2, GS_DWL_STR_STR = 3 };

/* One directory or file entry [DWARF5 6.2.4.1]. */
typedef struct gs_dwl_entry {
    const char *name;         /* not NUL-terminated in general; name_len bytes */
    size_t name_len;
    int name_sec;             /* GS_DWL_STR_* (NONE: no DW_LNCT_path) */
    uint64_t dir;             /* DW_LNCT_directory_index (files) */
    uint64_t mtime;           /* DW_LNCT_timestamp */
    uint64_t size;            /* DW_LNCT_size */
    int has_md5;
    uint8_t md5[16];          /* DW_LNCT_MD5 */
} gs_dwl_entry;

/* gs_dwl_open parses the header of the unit at section offset off. */
int gs_dwl_open(const gs_dwl_secs *s, size_t off, gs_dwl_header *h, gs_err *e);

/* gs_dwl_read_v2_file reads one v2-4 file entry (name, dir, mtime, length
 * [DWARF4 6.2.4 item 15]) at rd; *end is set when it is the table's
 * terminating 0 byte.  For the header (gs_dwl_open, gs_dwl_entries) and
 * DW_LNE_define_file, whose operand is laid out as one. */
void gs_dwl_read_v2_file(gs_reader *rd, gs_dwl_entry *ent, int *end);

/* gs_dwl_entries decodes the header's directory (which = 0) or file
 * (which = 1) table into out[0:cap]; *n gets the entry count. */
int gs_dwl_entries(const gs_dwl_secs *s, const gs_dwl_header *h, int which,
                   gs_dwl_entry *out, size_t cap, size_t *n, gs_err *e);

/* Returned by gs_dwl_decode when a value does not fit a narrow column:
 * r->widen says which (GS_DWL_W_*); widen it and call again from *next (no
 * rows of the unfinished unit were kept). */
#define GS_DWL_WIDEN 101
enum { GS_DWL_W_FILE = 1, GS_DWL_W_COLUMN = 2, GS_DWL_W_DISCRIMINATOR = 4 };

/* Rows are written into caller columns; any column pointer may be NULL.
 * Row i is address[i], file[i], line[i], column[i], flags[i] (GS_DWL_*),
 * discriminator[i].  Narrow storage, to keep rows small: with file NULL
 * and file16 set, files go to a uint16 column; with column (or
 * discriminator) NULL and zero_column (zero_discriminator) set, the column
 * is left out while all its values are 0.  A value that does not fit ends
 * the call with GS_DWL_WIDEN. */
typedef struct gs_dwl_rows {
    uint64_t *address;
    uint32_t *file;
    uint32_t *line;
    uint32_t *column;
    uint8_t *flags;
    uint32_t *discriminator;
    size_t cap;
    size_t n;                 /* rows written so far */
    uint16_t *file16;
    int zero_column;
    int zero_discriminator;
    unsigned widen;           /* GS_DWL_W_* bits, with GS_DWL_WIDEN */
    int reference;            /* 1: every opcode through the general loop, not
                               * the fast run of Go's common opcodes (the
                               * reference the fast run is tested against) */
} gs_dwl_rows;

/* gs_dwl_decode runs the line programs of the units at section offsets
 * offs[first:nunits], appending rows to r (from r->n).  unit_row[k] gets
 * the index of unit k's first row and unit_row[k+1] one past its last
 * (unit_row has nunits+1 slots).  Returns GS_DWL_MORE with *next = the
 * first unit whose rows did not fit (r->n rolled back to its start), GS_OK
 * with *next = nunits when all are done, or an error. */
int gs_dwl_decode(const gs_dwl_secs *s, const uint64_t *offs, size_t first, size_t nunits,
                  gs_dwl_rows *r, uint64_t *unit_row, size_t *next, gs_err *e);

/* gs_dwl_sequences records, for every sequence of the units at offs[0:n],
 * its start address lo, the address of its end_sequence row hi and its unit
 * index, into caller arrays of capacity cap; *nseq gets the count needed
 * (call again with more room when it exceeds cap).  No rows are stored. */
int gs_dwl_sequences(const gs_dwl_secs *s, const uint64_t *offs, size_t n,
                     uint64_t *lo, uint64_t *hi, uint32_t *unit, size_t cap,
                     size_t *nseq, gs_err *e);

/* gs_dwl_defined_files runs the v2-4 program of the unit at off and decodes
 * its DW_LNE_define_file entries [DWARF4 6.2.5.3], in program order, into
 * out[0:cap]; *n gets the count (call again with more room when it exceeds
 * cap).  They number on from the header's file table.  v5 has none. */
int gs_dwl_defined_files(const gs_dwl_secs *s, size_t off, gs_dwl_entry *out, size_t cap,
                         size_t *n, gs_err *e);

/* gs_dwl_next_unit gives the section offset just past the unit at off
 * (from its unit_length alone), for walking a section unit by unit. */
int gs_dwl_next_unit(const gs_dwl_secs *s, size_t off, size_t *next, gs_err *e);

#endif /* GOSYM_DWARF_LINE_H */
