/* dwarf_header.c - DWARF line-program headers: unit lengths, the header
 * fields, and the directory and file tables of every version [DWARF5 6.2.4].
 * The programs themselves run in dwarf_line.c.  See dwarf_line.h. */
#include "dwarf_line.h"
#include "dwarf_form.h"

/* Line-number header entry content types [DWARF5 6.2.4.1, 7.22]. */
enum { DW_LNCT_path = 1, DW_LNCT_directory_index, DW_LNCT_timestamp, DW_LNCT_size, DW_LNCT_MD5 };

/* More empty (zero-byte) v5 entries than this is taken as hostile. */
#define MAX_EMPTY_ENTRIES 65536u



/* unit_length [DWARF5 7.4]: 0xffffffff then a u64 is 64-bit DWARF;
 * 0xfffffff0..0xfffffffe are reserved. */
static void unit_length(gs_reader *rd, size_t off, size_t *end, int *offsz, size_t *after)
{
    uint64_t len = gs_u32_at(rd, off);
    size_t p = off + 4;
    *offsz = 4;
    if (rd->err)
        return;
    if (len == 0xffffffffu) {
        len = gs_u64_at(rd, p);
        p += 8;
        *offsz = 8;
        if (rd->err)
            return;
    } else if (len >= 0xfffffff0u) {
        gs_rd_fail(rd, GS_ERR_FORMAT, off, "reserved unit_length value");
        return;
    }
    if (len > rd->len - p) {
        gs_rd_fail(rd, GS_ERR_FORMAT, off, "line program unit extends past the section");
        return;
    }
    *after = p;
    *end = p + (size_t)len;
}

int gs_dwl_next_unit(const gs_dwl_secs *s, size_t off, size_t *next, gs_err *e)
{
    gs_reader rd;
    size_t end = 0, after = 0;
    int offsz;
    gs_rd_init(&rd, s->line, s->line_len, s->big_endian, 8);
    unit_length(&rd, off, &end, &offsz, &after);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    *next = end;
    return GS_OK;
}

/* read_v5_entry reads one v5 directory or file entry described by fmt. */
static void read_v5_entry(gs_reader *rd, const gs_dwl_secs *s, int offsz,
                          uint16_t (*fmt)[2], unsigned nfmt, gs_dwl_entry *ent)
{
    unsigned k;
    /* Entry values read like attribute values (the one form reader,
     * dwarf_form.c); no address-sized or implicit forms here. */
    gs_dwf_ctx c = {5, offsz, 0, 0, s->str, s->str_len, s->line_str, s->line_str_len};
    memset(ent, 0, sizeof *ent);
    ent->name = "";
    for (k = 0; k < nfmt && !rd->err; k++) {
        gs_dwf_value v;
        size_t at = rd->pos;
        gs_dwf_read(rd, &c, fmt[k][1], 0, &v);
        if (rd->err)
            return;
        switch (fmt[k][0]) {
        case DW_LNCT_path:
            if (v.kind == GS_DWF_STR) {
                ent->name = v.s;
                ent->name_len = v.slen;
                ent->name_sec = v.ssec == GS_DWF_IN_LINE_STR ? GS_DWL_STR_LINE_STR
                              : v.ssec == GS_DWF_IN_STR ? GS_DWL_STR_STR : GS_DWL_STR_LINE;
            }
            break;
        case DW_LNCT_directory_index:
            ent->dir = v.u;
            break;
        case DW_LNCT_timestamp:
            ent->mtime = v.kind == GS_DWF_NONE ? 0 : v.u;
            break;
        case DW_LNCT_size:
            ent->size = v.kind == GS_DWF_NONE ? v.blen : v.u;
            break;
        case DW_LNCT_MD5:
            if (v.kind == GS_DWF_NONE && v.blen == 16) {
                memcpy(ent->md5, v.blk, 16);
                ent->has_md5 = 1;
            } else {
                gs_rd_fail(rd, GS_ERR_FORMAT, at, "DW_LNCT_MD5 is not DW_FORM_data16");
            }
            break;
        default:
            break; /* vendor content types (DW_LNCT_LLVM_source ...): skipped */
        }
    }
}

/* gs_dwl_read_v2_file reads one v2-4 file entry: name, dir, mtime, length
 * [DWARF4 6.2.4 item 15]; *end is set when it is the terminating 0 byte. */
void gs_dwl_read_v2_file(gs_reader *rd, gs_dwl_entry *ent, int *end)
{
    memset(ent, 0, sizeof *ent);
    ent->name_len = gs_rd_cstr(rd, &ent->name);
    *end = 0;
    if (rd->err)
        return;
    if (ent->name_len == 0) {
        *end = 1;
        return;
    }
    ent->name_sec = GS_DWL_STR_LINE;
    ent->dir = gs_rd_uvarint(rd);
    ent->mtime = gs_rd_uvarint(rd);
    ent->size = gs_rd_uvarint(rd);
}

/* read_formats reads a v5 entry format description. */
static void read_formats(gs_reader *rd, uint16_t (*fmt)[2], uint8_t *nfmt)
{
    unsigned k, n = gs_rd_u8(rd);
    if (rd->err)
        return;
    if (n > 32) {
        gs_rd_fail(rd, GS_ERR_UNSUPPORTED, rd->pos - 1, "more than 32 entry formats");
        return;
    }
    for (k = 0; k < n && !rd->err; k++) {
        uint64_t ct = gs_rd_uvarint(rd), form = gs_rd_uvarint(rd);
        if (ct > 0xffff || form > 0xffff) {
            gs_rd_fail(rd, GS_ERR_UNSUPPORTED, rd->pos, "entry format code out of range");
            return;
        }
        fmt[k][0] = (uint16_t)ct;
        fmt[k][1] = (uint16_t)form;
    }
    *nfmt = (uint8_t)n;
}

/* skip_v5_entries walks count entries of a v5 table, so the next table's
 * offset is known. */
static void skip_v5_entries(gs_reader *rd, const gs_dwl_secs *s, int offsz,
                            uint16_t (*fmt)[2], unsigned nfmt, uint64_t count)
{
    uint64_t i;
    gs_dwl_entry ent;
    for (i = 0; i < count && !rd->err; i++) {
        size_t before = rd->pos;
        read_v5_entry(rd, s, offsz, fmt, nfmt, &ent);
        if (rd->pos == before) {
            /* Empty entries: the rest are empty too. */
            if (count > MAX_EMPTY_ENTRIES)
                gs_rd_fail(rd, GS_ERR_FORMAT, before, "too many empty line table entries");
            return;
        }
    }
}

int gs_dwl_open(const gs_dwl_secs *s, size_t off, gs_dwl_header *h, gs_err *e)
{
    gs_reader rd;
    size_t after = 0, end = 0, hl_at;
    uint64_t hlen;
    int offsz = 4;
    unsigned k;

    memset(h, 0, sizeof *h);
    gs_rd_init(&rd, s->line, s->line_len, s->big_endian, 8);
    unit_length(&rd, off, &end, &offsz, &after);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    h->unit_off = off;
    h->unit_end = end;
    h->offset_size = offsz;
    /* Reads of this unit stop at its end. */
    rd.len = end;
    rd.pos = after;
    h->version = gs_rd_u16(&rd);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (h->version < 2 || h->version > 5)
        return gs_set_err(e, GS_ERR_UNSUPPORTED, after, "unsupported line table version");
    if (h->version >= 5) {
        h->address_size = gs_rd_u8(&rd);
        h->seg_sel_size = gs_rd_u8(&rd);
    }
    hl_at = rd.pos;
    hlen = offsz == 8 ? gs_rd_u64(&rd) : gs_rd_u32(&rd);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (hlen > end - rd.pos)
        return gs_set_err(e, GS_ERR_FORMAT, hl_at, "header_length past the end of the unit");
    h->prog_off = rd.pos + (size_t)hlen;
    /* Reads of the header stop where the program starts. */
    rd.len = h->prog_off;
    h->min_inst_len = gs_rd_u8(&rd);
    h->max_ops = h->version >= 4 ? gs_rd_u8(&rd) : 1;
    if (h->max_ops == 0)
        h->max_ops = 1;
    h->default_is_stmt = gs_rd_u8(&rd) ? 1 : 0;
    h->line_base = (int8_t)gs_rd_u8(&rd);
    h->line_range = gs_rd_u8(&rd);
    h->opcode_base = gs_rd_u8(&rd);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (h->line_range == 0)
        return gs_set_err(e, GS_ERR_FORMAT, rd.pos - 2, "line_range is 0");
    if (h->opcode_base == 0)
        return gs_set_err(e, GS_ERR_FORMAT, rd.pos - 1, "opcode_base is 0");
    for (k = 1; k < h->opcode_base; k++)
        h->std_lengths[k] = gs_rd_u8(&rd);
    if (rd.err)
        return gs_rd_finish(&rd, e);

    if (h->version < 5) {
        /* include_directories: strings ending with an empty one. */
        const char *str;
        h->dirs_off = rd.pos;
        for (;;) {
            size_t n = gs_rd_cstr(&rd, &str);
            if (rd.err)
                return gs_rd_finish(&rd, e);
            if (n == 0)
                break;
            h->ndirs++;
        }
        /* file_names: entries ending with a 0 byte. */
        h->files_off = rd.pos;
        for (;;) {
            gs_dwl_entry ent;
            int last;
            gs_dwl_read_v2_file(&rd, &ent, &last);
            if (rd.err)
                return gs_rd_finish(&rd, e);
            if (last)
                break;
            h->nfiles++;
        }
        return GS_OK;
    }

    read_formats(&rd, h->dir_fmt, &h->ndir_fmt);
    h->ndirs = gs_rd_uvarint(&rd);
    h->dirs_off = rd.pos;
    if (rd.err)
        return gs_rd_finish(&rd, e);
    skip_v5_entries(&rd, s, offsz, h->dir_fmt, h->ndir_fmt, h->ndirs);
    read_formats(&rd, h->file_fmt, &h->nfile_fmt);
    h->nfiles = gs_rd_uvarint(&rd);
    h->files_off = rd.pos;
    if (rd.err)
        return gs_rd_finish(&rd, e);
    skip_v5_entries(&rd, s, offsz, h->file_fmt, h->nfile_fmt, h->nfiles);
    if (rd.err)
        return gs_rd_finish(&rd, e);
    return GS_OK;
}

int gs_dwl_entries(const gs_dwl_secs *s, const gs_dwl_header *h, int which,
                   gs_dwl_entry *out, size_t cap, size_t *n, gs_err *e)
{
    gs_reader rd;
    uint64_t i, count = which ? h->nfiles : h->ndirs;
    gs_dwl_entry ent;

    *n = (size_t)count;
    gs_rd_init(&rd, s->line, h->prog_off, s->big_endian, 8);
    rd.pos = which ? h->files_off : h->dirs_off;
    for (i = 0; i < count && i < cap; i++) {
        if (h->version >= 5) {
            if (which)
                read_v5_entry(&rd, s, h->offset_size, (uint16_t (*)[2])h->file_fmt, h->nfile_fmt, &ent);
            else
                read_v5_entry(&rd, s, h->offset_size, (uint16_t (*)[2])h->dir_fmt, h->ndir_fmt, &ent);
        } else if (which) {
            int last;
            gs_dwl_read_v2_file(&rd, &ent, &last);
        } else {
            memset(&ent, 0, sizeof ent);
            ent.name_len = gs_rd_cstr(&rd, &ent.name);
            ent.name_sec = GS_DWL_STR_LINE;
        }
        if (rd.err)
            return gs_rd_finish(&rd, e);
        out[i] = ent;
    }
    return GS_OK;
}
