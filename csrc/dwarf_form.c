/* dwarf_form.c - attribute values and the first DIE of each unit.  See dwarf_form.h. */
#include "dwarf_form.h"

/* Attributes read from the first DIE [DWARF5 7.5.4, table 7.5]. */
enum {
    DW_AT_name = 0x03, DW_AT_stmt_list = 0x10, DW_AT_language = 0x13, DW_AT_comp_dir = 0x1b,
    DW_AT_producer = 0x25, DW_AT_str_offsets_base = 0x72, DW_AT_dwo_name = 0x76,
    DW_AT_GNU_dwo_name = 0x2130
};

/* DW_FORM_indirect may name another indirect form; more than this many in
 * a row is taken as hostile. */
#define MAX_INDIRECT 8
/* Abbreviation declarations scanned to find one code (a first DIE's code
 * is almost always among the first few). */
#define MAX_ABBREV_SCAN 65536u

/* string_at points v at the NUL-terminated string at off of a string
 * section; the error offset is that of the form's operand (at). */
static void string_at(gs_reader *rd, const uint8_t *sec, size_t sec_len, uint64_t off, size_t at,
                      const char *missing, int ssec, gs_dwf_value *v)
{
    gs_reader srd;
    if (sec == NULL) {
        gs_rd_fail(rd, GS_ERR_FORMAT, at, missing);
        return;
    }
    gs_rd_init(&srd, sec, sec_len, rd->big_endian, 8);
    if (off > (uint64_t)srd.len) {
        gs_rd_fail(rd, GS_ERR_FORMAT, at, "string offset past the string section");
        return;
    }
    v->slen = gs_cstr_at(&srd, (size_t)off, &v->s);
    if (srd.err) {
        gs_rd_fail(rd, GS_ERR_FORMAT, at, "string in string section not terminated");
        return;
    }
    v->kind = GS_DWF_STR;
    v->ssec = ssec;
}

void gs_dwf_read(gs_reader *rd, const gs_dwf_ctx *c, unsigned form, int64_t implicit, gs_dwf_value *v)
{
    uint64_t n = 0;
    size_t at;
    int hops = 0;
    memset(v, 0, sizeof *v);
    v->kind = GS_DWF_UINT;
    while (form == DW_FORM_indirect) {
        uint64_t f = gs_rd_uvarint(rd);
        if (rd->err)
            return;
        if (++hops > MAX_INDIRECT || f > 0xffff) {
            gs_rd_fail(rd, GS_ERR_FORMAT, rd->pos, "bad DW_FORM_indirect chain");
            return;
        }
        form = (unsigned)f;
    }
    at = rd->pos;
    switch (form) {
    case DW_FORM_string:
        v->slen = gs_rd_cstr(rd, &v->s);
        v->kind = GS_DWF_STR;
        v->ssec = GS_DWF_IN_UNIT;
        return;
    case DW_FORM_strp:
    case DW_FORM_line_strp: {
        uint64_t o = c->offset_size == 8 ? gs_rd_u64(rd) : gs_rd_u32(rd);
        if (rd->err)
            return;
        if (form == DW_FORM_strp)
            string_at(rd, c->str, c->str_len, o, at, "DW_FORM_strp without .debug_str", GS_DWF_IN_STR, v);
        else
            string_at(rd, c->line_str, c->line_str_len, o, at, "DW_FORM_line_strp without .debug_line_str",
                      GS_DWF_IN_LINE_STR, v);
        return;
    }
    case DW_FORM_implicit_const:
        if (!c->allow_implicit) {
            gs_rd_fail(rd, GS_ERR_FORMAT, at, "DW_FORM_implicit_const outside an abbreviation");
            return;
        }
        v->kind = GS_DWF_SINT;
        v->u = (uint64_t)implicit;
        return;
    case DW_FORM_sdata:
        v->kind = GS_DWF_SINT;
        v->u = (uint64_t)gs_rd_sleb128(rd);
        return;
    case DW_FORM_strx:
    case DW_FORM_GNU_str_index:
        v->kind = GS_DWF_STRX;
        v->u = gs_rd_uvarint(rd);
        return;
    case DW_FORM_udata:
    case DW_FORM_ref_udata:
    case DW_FORM_addrx:
    case DW_FORM_loclistx:
    case DW_FORM_rnglistx:
    case DW_FORM_GNU_addr_index:
        v->u = gs_rd_uvarint(rd);
        return;
    case DW_FORM_flag_present:
        v->u = 1;
        return;
    case DW_FORM_strx1:
        v->kind = GS_DWF_STRX;
        /* fall through */
    case DW_FORM_data1:
    case DW_FORM_flag:
    case DW_FORM_ref1:
    case DW_FORM_addrx1:
        v->u = gs_rd_u8(rd);
        return;
    case DW_FORM_strx2:
        v->kind = GS_DWF_STRX;
        /* fall through */
    case DW_FORM_data2:
    case DW_FORM_ref2:
    case DW_FORM_addrx2:
        v->u = gs_rd_u16(rd);
        return;
    case DW_FORM_strx3:
        v->kind = GS_DWF_STRX;
        /* fall through */
    case DW_FORM_addrx3: {
        uint64_t a = gs_rd_u8(rd), b = gs_rd_u8(rd), d = gs_rd_u8(rd);
        v->u = rd->big_endian ? (a << 16) | (b << 8) | d : (d << 16) | (b << 8) | a;
        return;
    }
    case DW_FORM_strx4:
        v->kind = GS_DWF_STRX;
        /* fall through */
    case DW_FORM_data4:
    case DW_FORM_ref4:
    case DW_FORM_ref_sup4:
    case DW_FORM_addrx4:
        v->u = gs_rd_u32(rd);
        return;
    case DW_FORM_data8:
    case DW_FORM_ref8:
    case DW_FORM_ref_sig8:
    case DW_FORM_ref_sup8:
        v->u = gs_rd_u64(rd);
        return;
    case DW_FORM_sec_offset:
    case DW_FORM_strp_sup:
    case DW_FORM_GNU_ref_alt:
    case DW_FORM_GNU_strp_alt:
        v->u = c->offset_size == 8 ? gs_rd_u64(rd) : gs_rd_u32(rd);
        return;
    case DW_FORM_addr:
    case DW_FORM_ref_addr: {
        /* ref_addr is address-sized in DWARF 2, offset-sized after [DWARF5 7.5.5]. */
        int size = form == DW_FORM_addr || c->version == 2 ? c->address_size : c->offset_size;
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            gs_rd_fail(rd, GS_ERR_FORMAT, at, "bad address size for an address form");
            return;
        }
        v->u = gs_uN_at(rd, rd->pos, size);
        if (!rd->err)
            rd->pos += (size_t)size;
        return;
    }
    case DW_FORM_data16:
        n = 16;
        break;
    case DW_FORM_block1:
        n = gs_rd_u8(rd);
        break;
    case DW_FORM_block2:
        n = gs_rd_u16(rd);
        break;
    case DW_FORM_block4:
        n = gs_rd_u32(rd);
        break;
    case DW_FORM_block:
    case DW_FORM_exprloc:
        n = gs_rd_uvarint(rd);
        break;
    default:
        gs_rd_fail(rd, GS_ERR_UNSUPPORTED, at, "unsupported attribute form");
        return;
    }
    /* Blocks and data16: n bytes in place. */
    if (rd->err)
        return;
    if (n > rd->len || !gs_rd_has(rd, rd->pos, (size_t)n)) {
        gs_rd_fail(rd, GS_ERR_BOUNDS, rd->pos, "block past the end of its unit");
        return;
    }
    v->kind = GS_DWF_NONE;
    v->blk = rd->base + rd->pos;
    v->blen = (size_t)n;
    rd->pos += (size_t)n;
}

/* ------------------------------------------------------------------ units */

/* find_abbrev moves ab to the attribute specifications of abbreviation
 * `code` in the table at ab's position [DWARF5 7.5.3]. */
static void find_abbrev(gs_reader *ab, uint64_t code)
{
    unsigned scanned;
    size_t table = ab->pos;
    for (scanned = 0; scanned < MAX_ABBREV_SCAN && !ab->err; scanned++) {
        uint64_t c = gs_rd_uvarint(ab);
        if (ab->err)
            return;
        if (c == 0)
            break;
        (void)gs_rd_uvarint(ab);   /* tag */
        (void)gs_rd_u8(ab);        /* has children */
        if (c == code)
            return;
        for (;;) {
            uint64_t name = gs_rd_uvarint(ab), form = gs_rd_uvarint(ab);
            if (ab->err)
                return;
            if (name == 0 && form == 0)
                break;
            if (form == DW_FORM_implicit_const)
                (void)gs_rd_sleb128(ab);
        }
    }
    if (!ab->err)
        gs_rd_fail(ab, GS_ERR_FORMAT, table, "abbreviation code not in table");
}

static void set_str(gs_dwu_str *out, const gs_dwf_value *v)
{
    out->s = v->s;
    out->len = v->slen;
}

/* strx_at resolves a string index through .debug_str_offsets [DWARF5
 * 7.26]; base 0 means the first table (past its 8- or 16-byte header). */
static int strx_at(const gs_dwu_secs *s, const gs_dwu_unit *u, uint64_t base, int has_base, uint64_t idx,
                   gs_dwu_str *out, gs_err *e, int *sec)
{
    gs_reader so, st;
    uint64_t at, off;
    if (s->str_offsets == NULL || s->str == NULL)
        return GS_OK;   /* no string: the attribute stays absent */
    if (!has_base)
        base = u->offset_size == 8 ? 16 : 8;
    gs_rd_init(&so, s->str_offsets, s->str_offsets_len, s->big_endian, 8);
    if (idx > (uint64_t)so.len / (uint64_t)u->offset_size || base > (uint64_t)so.len ||
            idx * (uint64_t)u->offset_size > (uint64_t)so.len - base) {
        *sec = GS_DWU_STR_OFFSETS;
        return gs_set_err(e, GS_ERR_FORMAT, (size_t)(base <= so.len ? base : so.len),
                          "string index past .debug_str_offsets");
    }
    at = base + idx * (uint64_t)u->offset_size;
    off = gs_uN_at(&so, (size_t)at, u->offset_size);
    if (so.err) {
        *sec = GS_DWU_STR_OFFSETS;
        return gs_set_err(e, GS_ERR_FORMAT, (size_t)at, "string index past .debug_str_offsets");
    }
    gs_rd_init(&st, s->str, s->str_len, s->big_endian, 8);
    if (off >= (uint64_t)st.len) {
        *sec = GS_DWU_STR;
        return gs_set_err(e, GS_ERR_FORMAT, (size_t)(off < st.len ? off : st.len), "string not terminated");
    }
    out->len = gs_cstr_at(&st, (size_t)off, &out->s);
    if (st.err) {
        out->s = NULL;
        *sec = GS_DWU_STR;
        return gs_set_err(e, GS_ERR_FORMAT, (size_t)off, "string not terminated");
    }
    return GS_OK;
}

int gs_dwu_read(const gs_dwu_secs *s, size_t off, gs_dwu_unit *u, size_t *next, gs_err *e, int *sec)
{
    gs_reader rd, ab;
    gs_dwf_ctx c;
    uint64_t len, abbrev_off, code;
    uint64_t strx_idx[4] = {0, 0, 0, 0};   /* name, comp_dir, producer, dwo */
    int has_strx[4] = {0, 0, 0, 0};
    uint64_t str_base = 0;
    int has_base = 0, k, rc;
    size_t p = off;

    memset(u, 0, sizeof *u);
    *sec = GS_DWU_INFO;
    gs_rd_init(&rd, s->info, s->info_len, s->big_endian, 8);
    len = gs_u32_at(&rd, p);
    p += 4;
    u->offset_size = 4;
    if (len == 0xffffffffu) {
        len = gs_u64_at(&rd, p);
        p += 8;
        u->offset_size = 8;
    } else if (!rd.err && len >= 0xfffffff0u) {
        return gs_set_err(e, GS_ERR_FORMAT, off, "reserved unit_length value");
    }
    if (rd.err)
        return gs_set_err(e, GS_ERR_FORMAT, off, "read past the end of the unit");
    if (len > rd.len - p)
        return gs_set_err(e, GS_ERR_FORMAT, off, "unit extends past the section");
    u->off = off;
    u->end = p + (size_t)len;
    *next = u->end;
    rd.len = u->end;    /* reads of this unit stop at its end */
    rd.pos = p;
    u->version = gs_rd_u16(&rd);
    if (!rd.err && (u->version < 2 || u->version > 5))
        return gs_set_err(e, GS_ERR_FORMAT, off, "unsupported DWARF version");
    if (u->version >= 5) {
        u->unit_type = gs_rd_u8(&rd);
        u->address_size = gs_rd_u8(&rd);
        abbrev_off = u->offset_size == 8 ? gs_rd_u64(&rd) : gs_rd_u32(&rd);
        if (u->unit_type == DW_UT_skeleton || u->unit_type == DW_UT_split_compile)
            gs_rd_seek(&rd, rd.pos + 8);               /* dwo_id */
        else if (u->unit_type == DW_UT_type || u->unit_type == DW_UT_split_type)
            gs_rd_seek(&rd, rd.pos + 8 + (size_t)u->offset_size);  /* type signature, offset */
    } else {
        u->unit_type = DW_UT_compile;
        abbrev_off = u->offset_size == 8 ? gs_rd_u64(&rd) : gs_rd_u32(&rd);
        u->address_size = gs_rd_u8(&rd);
    }
    if (rd.err || rd.pos > u->end)
        return gs_set_err(e, GS_ERR_FORMAT, rd.err ? rd.err_off : u->end, "read past the end of the unit");
    code = rd.pos < u->end ? gs_rd_uvarint(&rd) : 0;
    if (rd.err)
        return gs_rd_finish(&rd, e);
    if (code == 0)
        return GS_OK;
    if (s->abbrev == NULL) {
        *sec = GS_DWU_ABBREV;
        return gs_set_err(e, GS_ERR_FORMAT, 0, ".debug_info without .debug_abbrev");
    }
    gs_rd_init(&ab, s->abbrev, s->abbrev_len, s->big_endian, 8);
    if (abbrev_off >= ab.len) {
        *sec = GS_DWU_ABBREV;
        return gs_set_err(e, GS_ERR_FORMAT, (size_t)(abbrev_off < ab.len ? abbrev_off : ab.len),
                          "abbreviation table offset past .debug_abbrev");
    }
    ab.pos = (size_t)abbrev_off;
    find_abbrev(&ab, code);
    if (ab.err) {
        *sec = GS_DWU_ABBREV;
        return gs_rd_finish(&ab, e);
    }
    c.version = u->version;
    c.offset_size = u->offset_size;
    c.address_size = u->address_size;
    c.allow_implicit = 1;
    c.str = s->str;
    c.str_len = s->str_len;
    c.line_str = s->line_str;
    c.line_str_len = s->line_str_len;
    for (;;) {
        uint64_t name = gs_rd_uvarint(&ab), form = gs_rd_uvarint(&ab);
        int64_t implicit = 0;
        gs_dwf_value v;
        if (!ab.err && form == DW_FORM_implicit_const)
            implicit = gs_rd_sleb128(&ab);
        if (ab.err) {
            *sec = GS_DWU_ABBREV;
            return gs_rd_finish(&ab, e);
        }
        if (name == 0 && form == 0)
            break;
        if (form > 0xffff) {
            *sec = GS_DWU_ABBREV;
            return gs_set_err(e, GS_ERR_FORMAT, ab.pos, "attribute form out of range");
        }
        gs_dwf_read(&rd, &c, (unsigned)form, implicit, &v);
        if (rd.err)
            return gs_rd_finish(&rd, e);
        k = name == DW_AT_name ? 0 : name == DW_AT_comp_dir ? 1 : name == DW_AT_producer ? 2
            : (name == DW_AT_dwo_name || name == DW_AT_GNU_dwo_name) ? 3 : -1;
        if (k == 3)
            u->has_dwo = 1;
        if (v.kind == GS_DWF_STRX) {
            if (k >= 0) {
                has_strx[k] = 1;
                strx_idx[k] = v.u;
            }
            continue;
        }
        if (name == DW_AT_str_offsets_base) {
            str_base = v.u;
            has_base = 1;
        } else if (k >= 0 && v.kind == GS_DWF_STR) {
            set_str(k == 0 ? &u->name : k == 1 ? &u->comp_dir : k == 2 ? &u->producer : &u->dwo_name, &v);
        } else if (name == DW_AT_language && (v.kind == GS_DWF_UINT || v.kind == GS_DWF_SINT)) {
            u->has_language = 1;
            u->language = v.u;
        } else if (name == DW_AT_stmt_list && (v.kind == GS_DWF_UINT || v.kind == GS_DWF_SINT)) {
            u->has_stmt_list = 1;
            u->stmt_list = v.u;
        }
    }
    for (k = 0; k < 4; k++) {
        gs_dwu_str *out = k == 0 ? &u->name : k == 1 ? &u->comp_dir : k == 2 ? &u->producer : &u->dwo_name;
        if (!has_strx[k])
            continue;
        out->s = NULL;
        rc = strx_at(s, u, str_base, has_base, strx_idx[k], out, e, sec);
        if (rc != GS_OK)
            return rc;
    }
    return GS_OK;
}
