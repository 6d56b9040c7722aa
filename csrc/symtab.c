/* symtab.c - symbol lookup by name.  See symtab.h. */
#include "symtab.h"

/* Does the NUL-terminated string at strings[off] equal name? */
static int str_eq(const uint8_t *strs, size_t str_len, uint64_t off,
                  const char *name, size_t name_len)
{
    if (off >= str_len || name_len > str_len - off - 0)
        return 0;
    if (memcmp(strs + off, name, name_len) != 0)
        return 0;
    /* The byte after the name must be the terminator (or the end). */
    return off + name_len == str_len || strs[off + name_len] == 0;
}

/* The size of one symbol-table entry of a kind (0: unknown kind). */
static size_t entry_size(int kind)
{
    switch (kind) {
    case GS_SYM_ELF32: return 16;
    case GS_SYM_ELF64: return 24;
    case GS_SYM_MACHO32: return 12;
    case GS_SYM_MACHO64: return 16;
    case GS_SYM_COFF: return 18;
    default: return 0;
    }
}

int gs_symtab_find(const uint8_t *base, size_t len, int kind, int big_endian,
                   size_t tab_off, size_t count, size_t str_off, size_t str_len,
                   const char *name, size_t name_len,
                   int64_t *index, uint64_t *value, int32_t *section, gs_err *e)
{
    size_t entsize, k;
    const uint8_t *strs;
    *index = -1;
    *value = 0;
    *section = 0;
    if ((entsize = entry_size(kind)) == 0)
        return gs_set_err(e, GS_ERR_ARG, 0, "unknown symbol table kind");
    if (tab_off > len || count > (len - tab_off) / entsize)
        return gs_set_err(e, GS_ERR_FORMAT, tab_off, "symbol table out of range");
    if (str_off > len || str_len > len - str_off)
        return gs_set_err(e, GS_ERR_FORMAT, str_off, "string table out of range");
    strs = base + str_off;
    for (k = 0; k < count; k++) {
        const uint8_t *p = base + tab_off + k * entsize;
        switch (kind) {
        case GS_SYM_ELF32:
            if (str_eq(strs, str_len, gs_load32(p, big_endian), name, name_len)) {
                *index = (int64_t)k;
                *value = gs_load32(p + 4, big_endian);
                *section = gs_load16(p + 14, big_endian);
                return GS_OK;
            }
            break;
        case GS_SYM_ELF64:
            if (str_eq(strs, str_len, gs_load32(p, big_endian), name, name_len)) {
                *index = (int64_t)k;
                *value = gs_load64(p + 8, big_endian);
                *section = gs_load16(p + 6, big_endian);
                return GS_OK;
            }
            break;
        case GS_SYM_MACHO32:
        case GS_SYM_MACHO64:
            if (str_eq(strs, str_len, gs_load32(p, big_endian), name, name_len)) {
                *index = (int64_t)k;
                *value = kind == GS_SYM_MACHO64 ? gs_load64(p + 8, big_endian)
                                               : gs_load32(p + 8, big_endian);
                *section = p[5];
                return GS_OK;
            }
            break;
        case GS_SYM_COFF: {
            int match;
            if (gs_load32(p, 0) == 0) {
                /* Long name: offset into the string table (which counts
                 * its own 4-byte size field). */
                match = str_eq(strs, str_len, gs_load32(p + 4, 0), name, name_len);
            } else {
                size_t n = 0;
                while (n < 8 && p[n])
                    n++;
                match = n == name_len && memcmp(p, name, n) == 0;
            }
            if (match) {
                *index = (int64_t)k;
                *value = gs_load32(p + 8, 0);
                *section = (int16_t)gs_load16(p + 12, 0);
                return GS_OK;
            }
            k += p[17]; /* skip auxiliary records */
            break;
        }
        }
    }
    return GS_OK;
}

int gs_symtab_list(const uint8_t *base, size_t len, int kind, int big_endian,
                   size_t tab_off, size_t count, gs_sym *out, size_t cap, size_t *n,
                   gs_err *e)
{
    size_t entsize, k, m = 0;
    *n = 0;
    if ((entsize = entry_size(kind)) == 0)
        return gs_set_err(e, GS_ERR_ARG, 0, "unknown symbol table kind");
    if (tab_off > len || count > (len - tab_off) / entsize)
        return gs_set_err(e, GS_ERR_FORMAT, tab_off, "symbol table out of range");
    for (k = 0; k < count; k++) {
        const uint8_t *p = base + tab_off + k * entsize;
        gs_sym s;
        memset(&s, 0, sizeof s);
        s.index = (uint32_t)k;
        switch (kind) {
        case GS_SYM_ELF32:
            s.name_off = gs_load32(p, big_endian);
            s.value = gs_load32(p + 4, big_endian);
            s.size = gs_load32(p + 8, big_endian);
            s.type = p[12] & 0xf;
            s.section = gs_load16(p + 14, big_endian);
            s.is_func = s.type == 2;
            break;
        case GS_SYM_ELF64:
            s.name_off = gs_load32(p, big_endian);
            s.type = p[4] & 0xf;
            s.section = gs_load16(p + 6, big_endian);
            s.value = gs_load64(p + 8, big_endian);
            s.size = gs_load64(p + 16, big_endian);
            s.is_func = s.type == 2;
            break;
        case GS_SYM_MACHO32:
        case GS_SYM_MACHO64:
            s.name_off = gs_load32(p, big_endian);
            s.type = p[4];
            s.section = p[5];
            s.value = kind == GS_SYM_MACHO64 ? gs_load64(p + 8, big_endian) : gs_load32(p + 8, big_endian);
            /* N_SECT, not a debugging (N_STAB) entry; text-ness is decided
             * by the caller from the section. */
            s.is_func = (s.type & 0xe0) == 0 && (s.type & 0x0e) == 0x0e;
            break;
        case GS_SYM_COFF:
            s.name_off = gs_load32(p, 0) == 0 ? gs_load32(p + 4, 0) : 0xffffffffu;
            s.value = gs_load32(p + 8, 0);
            s.section = (int16_t)gs_load16(p + 12, 0);
            s.type = p[16];
            s.is_func = (gs_load16(p + 14, 0) & 0xf0) == 0x20 || s.section > 0;
            k += p[17];
            break;
        }
        if (m < cap)
            out[m] = s;
        m++;
    }
    *n = m;
    return GS_OK;
}
