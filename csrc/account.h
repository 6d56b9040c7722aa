/* account.h - where the bytes of a pclntab go (for `gosym cost`).
 *
 * Every byte of the table is given exactly one category, the first that
 * claims it in the order below; bytes nobody claims are "other" (alignment
 * padding, and anything the format does not describe).  So the counts sum
 * to the table size exactly.  Shared (deduplicated) pc-value tables count
 * once.
 */
#ifndef GOSYM_ACCOUNT_H
#define GOSYM_ACCOUNT_H

#include "pclntab.h"

enum {
    GS_ACC_HEADER = 1,
    GS_ACC_FUNCTAB,       /* (entry, funcoff) pairs and the end entry */
    GS_ACC_FUNC,          /* _func records with their pcdata/funcdata arrays */
    GS_ACC_FUNCNAME,      /* function names */
    GS_ACC_CUTAB,         /* cu table (1.16+) */
    GS_ACC_FILETAB,       /* file names (and the 1.2 file offset table) */
    GS_ACC_PCSP,
    GS_ACC_PCFILE,
    GS_ACC_PCLN,
    GS_ACC_PCDATA0,       /* PCDATA_UnsafePoint (RegMapIndex before 1.16) */
    GS_ACC_PCDATA1,       /* PCDATA_StackMapIndex */
    GS_ACC_PCDATA2,       /* PCDATA_InlTreeIndex */
    GS_ACC_PCDATA3,       /* PCDATA_ArgLiveIndex (1.17+) */
    GS_ACC_PCDATA_OTHER,
    GS_ACC_FUNCDATA,      /* go:func.* inside the table (Go 1.26+) */
    GS_ACC_OTHER,
    GS_ACC_N
};

/* gs_pcln_account counts the table's bytes by category into counts[GS_ACC_N]
 * (index 0 unused).  funcdata_off is the table offset where go:func.*
 * starts when it lies inside the table (Go 1.26+), else (size_t)-1.
 * Allocates one byte per table byte while it runs. */
int gs_pcln_account(const gs_pcln *t, size_t funcdata_off, uint64_t counts[GS_ACC_N], gs_err *e);

/* Per function (for `gosym cost --by`): row i of per_func, GS_PF_N words,
 * gets what function i owns.  Bytes go to the first function that claims
 * them, so a pc-value table shared by several functions counts once, for the
 * lowest index, and the rows plus the shared categories sum to the table. */
enum {
    GS_PF_CODE = 0,       /* code bytes: the pc extent of its pcsp/pcln tables */
    GS_PF_RECORD,         /* its functab pair and _func record with arrays */
    GS_PF_NAME,           /* its name (a name shared by two records counts once) */
    GS_PF_PCVALUE,        /* pcsp, pcfile, pcln and pcdata tables it claims first */
    GS_PF_FUNCDATA,       /* go:func.* objects it names first, when inside the table (Go 1.26+) */
    GS_PF_N
};

/* gs_pcln_account_funcs is gs_pcln_account that also fills per_func
 * (nfunc * GS_PF_N words) when it is not NULL. */
int gs_pcln_account_funcs(const gs_pcln *t, size_t funcdata_off, uint64_t counts[GS_ACC_N],
                          uint64_t *per_func, gs_err *e);

#endif
