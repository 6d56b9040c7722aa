/* symtab.h - find a symbol by name in a container's symbol table.
 *
 * Symbol tables hold tens of thousands of entries in large Go binaries; a
 * name search in C keeps gosym.open() within its few-millisecond budget.
 * Layouts: ELF Elf32_Sym/Elf64_Sym (gABI "Symbol Table"), Mach-O
 * nlist/nlist_64 (<mach-o/nlist.h>), PE COFF 18-byte symbol records with
 * auxiliary records (PE/COFF specification 5.4).
 */
#ifndef GOSYM_SYMTAB_H
#define GOSYM_SYMTAB_H

#include "reader.h"

enum {
    GS_SYM_ELF32 = 1,
    GS_SYM_ELF64 = 2,
    GS_SYM_MACHO32 = 3,
    GS_SYM_MACHO64 = 4,
    GS_SYM_COFF = 5
};

/* gs_symtab_find scans count records of the given kind at tab_off in
 * base[0:len] (strings at str_off, str_len bytes) for the first symbol named
 * name.  *index gets its record index (-1 when absent) and *value its value
 * field as stored (for COFF: the section-relative value; *section gets the
 * 1-based section number).  Records that do not fit stop the scan with
 * GS_ERR_FORMAT. */
int gs_symtab_find(const uint8_t *base, size_t len, int kind, int big_endian,
                   size_t tab_off, size_t count, size_t str_off, size_t str_len,
                   const char *name, size_t name_len,
                   int64_t *index, uint64_t *value, int32_t *section,
                   size_t *err_off);

#endif
