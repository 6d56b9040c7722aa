/* dwarf_line.c - DWARF line-number programs run into rows, sequences or
 * defined files [DWARF5 6.2.5]; headers are read in dwarf_header.c.  See
 * dwarf_line.h. */
#include "dwarf_line.h"
#include "dwarf_form.h"

/* Standard opcodes [DWARF5 6.2.5.2, 7.22]. */
enum {
    DW_LNS_copy = 1, DW_LNS_advance_pc, DW_LNS_advance_line, DW_LNS_set_file,
    DW_LNS_set_column, DW_LNS_negate_stmt, DW_LNS_set_basic_block, DW_LNS_const_add_pc,
    DW_LNS_fixed_advance_pc, DW_LNS_set_prologue_end, DW_LNS_set_epilogue_begin,
    DW_LNS_set_isa
};

/* Extended opcodes [DWARF5 6.2.5.3]. */
enum { DW_LNE_end_sequence = 1, DW_LNE_set_address, DW_LNE_define_file, DW_LNE_set_discriminator };

/* What fast_run (in run) does with an opcode. */
enum { FR_OTHER, FR_SPECIAL, FR_COPY, FR_NEGATE, FR_CONST_ADD_PC, FR_ADVANCE_LINE, FR_ADVANCE_PC, FR_SET_FILE };

/* Where rows go while a program runs: row columns, or sequence bounds. */
typedef struct sink {
    gs_dwl_rows *r;
    uint64_t *lo, *hi;
    uint32_t *unit;
    size_t cap, nseq;
    uint32_t unit_idx;
    int seqs;                 /* record sequence bounds */
    gs_dwl_entry *defs;       /* DW_LNE_define_file entries (v2-4), or NULL */
    size_t defs_cap, ndefs;
} sink;

/* run executes the line program of h [DWARF5 6.2.2, 6.2.5]. */
static int run(const gs_dwl_secs *s, const gs_dwl_header *h, sink *k, gs_err *e)
{
    gs_reader rd;
    /* The state machine registers [DWARF5 6.2.2 table 6.3]. */
    uint64_t addr = 0;
    uint64_t op_index = 0;
    uint32_t file = 1, line = 1, column = 0, disc = 0;
    uint8_t flags = h->default_is_stmt ? GS_DWL_IS_STMT : 0;
    const uint8_t opcode_base = h->opcode_base;
    const uint8_t max_ops = h->max_ops;
    const uint64_t min_inst = h->min_inst_len;
    const int line_base = h->line_base;
    const unsigned line_range = h->line_range;
    gs_dwl_rows *r = k->r;
    int seq_open = 0;
    uint64_t seq_lo = 0;
    /* The narrow rows of Go's tables (address, file16, line, flags; column
     * and discriminator left out while 0) with one operation per
     * instruction: runs of special opcodes, most of a program, take a table
     * step and four stores per row (fast_run below). */
    const int fast = r != NULL && !r->reference && r->address && !r->file && r->file16 && r->line && r->flags &&
                     !r->column && r->zero_column && !r->discriminator && r->zero_discriminator &&
                     max_ops == 1 && !k->seqs;
    uint64_t sp_addr[256];
    uint32_t sp_line[256];
    uint8_t kind[256];        /* FR_* of each opcode, for fast_run */

    gs_rd_init(&rd, s->line, h->unit_end, s->big_endian, 8);
    rd.pos = h->prog_off;
    if (fast) {
        /* Each special opcode's address advance and line change [DWARF5
         * 6.2.5.1]; the standard opcodes fast_run runs itself. */
        unsigned o;
        for (o = 0; o < 256; o++) {
            unsigned adj = o - opcode_base;
            if (o >= opcode_base) {
                kind[o] = FR_SPECIAL;
                sp_addr[o] = min_inst * (adj / line_range);
                sp_line[o] = (uint32_t)(line_base + (int)(adj % line_range));
                continue;
            }
            switch (o) {
            case DW_LNS_copy: kind[o] = FR_COPY; break;
            case DW_LNS_negate_stmt: kind[o] = FR_NEGATE; break;
            case DW_LNS_const_add_pc: kind[o] = FR_CONST_ADD_PC; break;
            case DW_LNS_advance_line: kind[o] = FR_ADVANCE_LINE; break;
            case DW_LNS_advance_pc: kind[o] = FR_ADVANCE_PC; break;
            case DW_LNS_set_file: kind[o] = FR_SET_FILE; break;
            default: kind[o] = FR_OTHER; break;
            }
        }
    }

/* Advance the address by an operation advance [DWARF5 6.2.5.1]. */
#define ADVANCE(adv)                                                         \
    do {                                                                     \
        uint64_t adv_ = (adv);                                               \
        if (max_ops == 1) {                                                  \
            addr += min_inst * adv_;                                         \
        } else {                                                             \
            uint64_t t_ = op_index + adv_;                                   \
            addr += min_inst * (t_ / max_ops);                               \
            op_index = t_ % max_ops;                                         \
        }                                                                    \
    } while (0)

/* Append a row, then clear the registers that last one row. */
#define EMIT()                                                               \
    do {                                                                     \
        if (r) {                                                             \
            size_t i_ = r->n;                                                \
            if (i_ >= r->cap)                                                \
                return GS_DWL_MORE;                                          \
            if (r->address) r->address[i_] = addr;                           \
            if (r->file) {                                                   \
                r->file[i_] = file;                                          \
            } else if (r->file16) {                                          \
                if (file > 0xffffu) {                                        \
                    r->widen |= GS_DWL_W_FILE;                               \
                    return GS_DWL_WIDEN;                                     \
                }                                                            \
                r->file16[i_] = (uint16_t)file;                              \
            }                                                                \
            if (r->line) r->line[i_] = line;                                 \
            if (r->column) {                                                 \
                r->column[i_] = column;                                      \
            } else if (column && r->zero_column) {                           \
                r->widen |= GS_DWL_W_COLUMN;                                 \
                return GS_DWL_WIDEN;                                         \
            }                                                                \
            if (r->flags) r->flags[i_] = flags;                              \
            if (r->discriminator) {                                          \
                r->discriminator[i_] = disc;                                 \
            } else if (disc && r->zero_discriminator) {                      \
                r->widen |= GS_DWL_W_DISCRIMINATOR;                          \
                return GS_DWL_WIDEN;                                         \
            }                                                                \
            r->n = i_ + 1;                                                   \
        }                                                                    \
        if (!seq_open) {                                                     \
            seq_open = 1;                                                    \
            seq_lo = addr;                                                   \
        }                                                                    \
        disc = 0;                                                            \
        flags &= (uint8_t)~(GS_DWL_BASIC_BLOCK | GS_DWL_PROLOGUE_END |       \
                            GS_DWL_EPILOGUE_BEGIN);                          \
    } while (0)

    while (rd.pos < rd.len) {
        uint8_t op;
        if (fast && file <= 0xffffu && (column | disc) == 0) {
            /* fast_run: the opcodes Go's programs are made of (special,
             * negate_stmt, copy, const_add_pc, and advance_line, advance_pc
             * and set_file with a one-byte operand), with the state in
             * locals, writing each row as EMIT would (no column or
             * discriminator to store; the file fits 16 bits).  It stops
             * before any other opcode, which the loop below then runs. */
            const uint8_t *b = rd.base;
            const size_t end = rd.len, cap = r->cap;
            uint64_t *ra = r->address;
            uint16_t *rf = r->file16;
            uint32_t *rl = r->line;
            uint8_t *rg = r->flags;
            size_t n = r->n, pos = rd.pos;
            do {
                uint8_t o = b[pos];
                uint32_t v;
                switch (kind[o]) {
                case FR_SPECIAL:
                    addr += sp_addr[o];
                    line += sp_line[o];
                    /* fall through */
                case FR_COPY:
                    if (n >= cap) {
                        r->n = n;
                        return GS_DWL_MORE;
                    }
                    ra[n] = addr;
                    rf[n] = (uint16_t)file;
                    rl[n] = line;
                    rg[n] = flags;
                    n++;
                    flags &= (uint8_t)~(GS_DWL_BASIC_BLOCK | GS_DWL_PROLOGUE_END | GS_DWL_EPILOGUE_BEGIN);
                    continue;
                case FR_NEGATE:
                    flags ^= GS_DWL_IS_STMT;
                    continue;
                case FR_CONST_ADD_PC:
                    addr += sp_addr[255];
                    continue;
                case FR_OTHER:
                    goto fast_end;
                }
                /* advance_line, advance_pc, set_file: one-byte operand only. */
                if (pos + 1 >= end || b[pos + 1] >= 0x80)
                    goto fast_end;
                v = b[++pos];
                if (kind[o] == FR_ADVANCE_LINE)
                    line += (v & 0x40) ? v - 0x80u : v;     /* one-byte SLEB128 */
                else if (kind[o] == FR_ADVANCE_PC)
                    addr += min_inst * v;
                else
                    file = v;
            } while (++pos < end);
        fast_end:
            r->n = n;
            rd.pos = pos;
            if (pos >= end)
                break;
        }
        op = rd.base[rd.pos++];
        if (op >= opcode_base) {
            /* Special opcode [DWARF5 6.2.5.1]. */
            unsigned adj = (unsigned)(op - opcode_base);
            ADVANCE(adj / line_range);
            line += (uint32_t)(line_base + (int)(adj % line_range));
            EMIT();
            continue;
        }
        if (op == 0) {
            /* Extended opcode [DWARF5 6.2.5.3]: 0, ULEB length, sub-opcode. */
            size_t at = rd.pos - 1, start, end;
            uint64_t len = gs_rd_uvarint(&rd);
            uint8_t sub;
            if (rd.err)
                break;
            start = rd.pos;
            if (len > rd.len - start) {
                gs_rd_fail(&rd, GS_ERR_FORMAT, at, "extended opcode past the end of the unit");
                break;
            }
            end = start + (size_t)len;
            if (len == 0)
                continue;
            sub = gs_rd_u8(&rd);
            switch (sub) {
            case DW_LNE_end_sequence:
                flags |= GS_DWL_END_SEQUENCE;
                EMIT();
                if (k->seqs && seq_open) {
                    if (k->nseq < k->cap) {
                        k->lo[k->nseq] = seq_lo;
                        k->hi[k->nseq] = addr;
                        k->unit[k->nseq] = k->unit_idx;
                    }
                    k->nseq++;
                }
                seq_open = 0;
                addr = 0;
                op_index = 0;
                file = 1;
                line = 1;
                column = 0;
                disc = 0;
                flags = h->default_is_stmt ? GS_DWL_IS_STMT : 0;
                break;
            case DW_LNE_set_address: {
                size_t n = (size_t)len - 1;
                if (n != 1 && n != 2 && n != 4 && n != 8) {
                    gs_rd_fail(&rd, GS_ERR_FORMAT, at, "DW_LNE_set_address operand size not 1, 2, 4 or 8");
                    break;
                }
                addr = gs_uN_at(&rd, rd.pos, (int)n);
                op_index = 0;
                break;
            }
            case DW_LNE_set_discriminator:
                disc = (uint32_t)gs_rd_uvarint(&rd);
                if (!rd.err && rd.pos > end)
                    gs_rd_fail(&rd, GS_ERR_FORMAT, at, "DW_LNE_set_discriminator operand past its length");
                break;
            case DW_LNE_define_file:
                /* A file entry appended to the header's table, laid out as
                 * one there [DWARF4 6.2.5.3]; removed in v5, where code 3
                 * is skipped like an unknown opcode. */
                if (k->defs != NULL && h->version < 5) {
                    gs_reader sub = rd;
                    gs_dwl_entry ent;
                    int last;
                    sub.len = end;
                    gs_dwl_read_v2_file(&sub, &ent, &last);
                    if (sub.err) {
                        gs_rd_fail(&rd, GS_ERR_FORMAT, at, "DW_LNE_define_file entry past its length");
                        break;
                    }
                    if (k->ndefs < k->defs_cap)
                        k->defs[k->ndefs] = ent;
                    k->ndefs++;
                }
                break;
            default:
                /* Unknown or vendor opcodes: skipped by their length. */
                break;
            }
            if (rd.err)
                break;
            rd.pos = end;
            continue;
        }
        switch (op) {
        case DW_LNS_copy:
            EMIT();
            break;
        case DW_LNS_advance_pc:
            ADVANCE(gs_rd_uvarint(&rd));
            break;
        case DW_LNS_advance_line:
            line += (uint32_t)gs_rd_sleb128(&rd);
            break;
        case DW_LNS_set_file:
            file = (uint32_t)gs_rd_uvarint(&rd);
            break;
        case DW_LNS_set_column:
            column = (uint32_t)gs_rd_uvarint(&rd);
            break;
        case DW_LNS_negate_stmt:
            flags ^= GS_DWL_IS_STMT;
            break;
        case DW_LNS_set_basic_block:
            flags |= GS_DWL_BASIC_BLOCK;
            break;
        case DW_LNS_const_add_pc:
            ADVANCE((255u - opcode_base) / line_range);
            break;
        case DW_LNS_fixed_advance_pc:
            addr += gs_rd_u16(&rd);
            op_index = 0;
            break;
        case DW_LNS_set_prologue_end:
            flags |= GS_DWL_PROLOGUE_END;
            break;
        case DW_LNS_set_epilogue_begin:
            flags |= GS_DWL_EPILOGUE_BEGIN;
            break;
        case DW_LNS_set_isa:
            (void)gs_rd_uvarint(&rd);
            break;
        default: {
            /* An opcode this decoder does not know: skip its ULEB operands
             * by the count in standard_opcode_lengths [DWARF5 6.2.5.2]. */
            unsigned j;
            for (j = 0; j < h->std_lengths[op] && !rd.err; j++)
                (void)gs_rd_uvarint(&rd);
            break;
        }
        }
        if (rd.err)
            break;
    }
#undef EMIT
#undef ADVANCE
    if (rd.err)
        return gs_rd_finish(&rd, e);
    return GS_OK;
}

int gs_dwl_decode(const gs_dwl_secs *s, const uint64_t *offs, size_t first, size_t nunits,
                  gs_dwl_rows *r, uint64_t *unit_row, size_t *next, gs_err *e)
{
    size_t k;
    gs_dwl_header h;
    sink snk;
    memset(&snk, 0, sizeof snk);
    snk.r = r;
    for (k = first; k < nunits; k++) {
        int rc;
        if (offs[k] > s->line_len) {
            *next = k;
            return gs_set_err(e, GS_ERR_FORMAT, (size_t)offs[k], "line program offset past the section");
        }
        unit_row[k] = r->n;
        rc = gs_dwl_open(s, (size_t)offs[k], &h, e);
        if (rc == GS_OK)
            rc = run(s, &h, &snk, e);
        if (rc != GS_OK) {
            r->n = (size_t)unit_row[k];
            *next = k;
            return rc;
        }
        unit_row[k + 1] = r->n;
    }
    *next = nunits;
    return GS_OK;
}

int gs_dwl_sequences(const gs_dwl_secs *s, const uint64_t *offs, size_t n,
                     uint64_t *lo, uint64_t *hi, uint32_t *unit, size_t cap,
                     size_t *nseq, gs_err *e)
{
    size_t k;
    gs_dwl_header h;
    sink snk;
    memset(&snk, 0, sizeof snk);
    snk.seqs = 1;
    snk.lo = lo;
    snk.hi = hi;
    snk.unit = unit;
    snk.cap = lo && hi && unit ? cap : 0;
    *nseq = 0;
    for (k = 0; k < n; k++) {
        int rc;
        if (offs[k] > s->line_len)
            return gs_set_err(e, GS_ERR_FORMAT, (size_t)offs[k], "line program offset past the section");
        snk.unit_idx = (uint32_t)k;
        rc = gs_dwl_open(s, (size_t)offs[k], &h, e);
        if (rc == GS_OK)
            rc = run(s, &h, &snk, e);
        if (rc != GS_OK)
            return rc;
    }
    *nseq = snk.nseq;
    return GS_OK;
}

int gs_dwl_defined_files(const gs_dwl_secs *s, size_t off, gs_dwl_entry *out, size_t cap,
                         size_t *n, gs_err *e)
{
    gs_dwl_header h;
    sink snk;
    int rc;
    memset(&snk, 0, sizeof snk);
    *n = 0;
    rc = gs_dwl_open(s, off, &h, e);
    if (rc != GS_OK)
        return rc;
    if (h.version >= 5)
        return GS_OK;
    snk.defs = out;
    snk.defs_cap = cap;
    rc = run(s, &h, &snk, e);
    *n = snk.ndefs;
    return rc;
}
