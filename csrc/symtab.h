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
 * GS_ERR_FORMAT (reason and offset in *e). */
int gs_symtab_find(const uint8_t *base, size_t len, int kind, int big_endian,
                   size_t tab_off, size_t count, size_t str_off, size_t str_len,
                   const char *name, size_t name_len,
                   int64_t *index, uint64_t *value, int32_t *section, gs_err *e);


/* One symbol as listed by gs_symtab_list. */
typedef struct gs_sym {
    uint64_t value;          /* as stored (COFF: section-relative) */
    uint64_t size;           /* ELF st_size; 0 where the format has none */
    uint32_t name_off;       /* offset in the string table; COFF short names: ~0 */
    uint32_t index;          /* record index (COFF short names are read from it) */
    int32_t section;         /* ELF st_shndx, Mach-O n_sect, COFF 1-based section */
    uint8_t type;            /* ELF STT_*, Mach-O n_type, COFF storage class */
    uint8_t is_func;         /* a code symbol (ELF STT_FUNC; Mach-O N_SECT in a text
                                section is decided by the caller; COFF type 0x20) */
} gs_sym;

/* gs_symtab_list copies up to cap symbols into out and sets *n to the
 * number of symbols in the table (auxiliary COFF records excluded). */
int gs_symtab_list(const uint8_t *base, size_t len, int kind, int big_endian,
                   size_t tab_off, size_t count, gs_sym *out, size_t cap, size_t *n,
                   gs_err *e);

#endif
