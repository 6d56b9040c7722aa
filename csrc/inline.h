/* inline.h - inlined-call expansion from the pclntab's inline trees.
 *
 * At a pc, PCDATA_InlTreeIndex gives an index into the function's
 * FUNCDATA_InlTree array of inlinedCall records, or -1 in the function's
 * own code.  A record names the inlined callee and the parent pc: an
 * instruction whose position is the call site.  Following parent pcs gives
 * the frames, innermost first; each frame's file:line is that of the pc the
 * walk is at (runtime/symtabinl.go: inlineUnwinder).
 *
 * Record layouts (runtime/symtab.go, runtime/symtabinl.go):
 *   Go 1.13-1.19, 20 bytes: parent int16, funcID u8, pad, file int32,
 *     line int32, func_ (name offset) int32, parentPc int32.
 *   Go 1.20+, 16 bytes: funcID u8, pad[3], nameOff int32, parentPc int32,
 *     startLine int32.
 * Indexes (runtime/funcdata.h of each release): PCDATA_InlTreeIndex is 2
 * from Go 1.13; FUNCDATA_InlTree is 4 in Go 1.13-1.15 (after
 * RegPointerMaps and StackObjects) and 3 from Go 1.16.
 * Funcdata: Go 1.18+ stores u32 offsets from moduledata.gofunc after the
 * pcdata array (~0 = none); earlier releases store pointers, aligned to the
 * pointer size.
 */
#ifndef GOSYM_INLINE_H
#define GOSYM_INLINE_H

#include "pclntab.h"
#include "pcvalue.h"

enum { GS_INL_NONE = 0, GS_INL_20 = 20, GS_INL_16 = 16 };

/* GS_INL_MAX_DEPTH bounds a walk (a corrupt tree could loop). */
enum { GS_INL_MAX_DEPTH = 128 };

/* A mapped range of the file: virtual address -> file offset. */
typedef struct gs_seg {
    uint64_t va;
    uint64_t off;
    uint64_t size;
} gs_seg;

typedef struct gs_inl {
    const uint8_t *file;     /* the whole file (the inline trees live outside the table) */
    size_t file_len;
    const gs_seg *segs;
    size_t nsegs;
    uint64_t gofunc;         /* Go 1.18+: address funcdata offsets are relative to */
    uint64_t pcln_va;        /* the table's address (pre-1.18 funcdata alignment) */
    int layout;              /* GS_INL_NONE, GS_INL_20 or GS_INL_16 */
    uint32_t funcdata_inltree;  /* FUNCDATA_InlTree: 4 in Go 1.13-1.15, 3 from 1.16 */
    uint32_t pcdata_inlindex;   /* PCDATA_InlTreeIndex: 2 from Go 1.13 */
} gs_inl;

/* One frame of an expansion. */
typedef struct gs_frame {
    int32_t name_off;        /* funcname-table offset of the function */
    uint32_t file_off;       /* table offset of the file name (0: none) */
    int32_t line;            /* -1: unknown */
    int32_t start_line;      /* 0: unknown (before Go 1.20) */
    uint64_t pc;             /* the pc whose position this frame reports */
    uint8_t inlined;         /* 1 for an inlined call, 0 for the physical function */
    uint8_t func_id;
} gs_frame;

/* Flags of the frame walks (gs_func_frames, gs_pcln_symbolize_mt).
 * GS_FR_RETURN_ADDRESS: the pcs are return addresses (runtime.Callers,
 * runtime/pprof locations, stack traces): as runtime.Frames.Next does, the
 * function is the one containing pc, and the position reported is that of
 * pc - 1 unless pc is the function's entry (gs_call_pc). */
enum { GS_FR_RETURN_ADDRESS = 1 };

/* gs_call_pc is the pc whose position is reported for pc in the function
 * starting at entry: pc itself, or pc - 1 for a return address past the
 * entry (runtime/symtab.go, Frames.Next: `if pc > entry { pc-- }`). */
static inline uint64_t gs_call_pc(uint64_t entry, uint64_t pc, unsigned flags)
{
    return (flags & GS_FR_RETURN_ADDRESS) && pc > entry ? pc - 1 : pc;
}

/* gs_inl_tree_off returns in *off the file offset of function f's inline
 * tree, or 0 when it has none (or the context cannot locate it). */
int gs_inl_tree_off(const gs_pcln *t, const gs_inl *c, const gs_func *f, size_t *off, gs_err *e);

/* One inline-tree record, decoded. */
typedef struct gs_inl_rec {
    int32_t name_off;
    int32_t parent_pc;       /* offset from the function entry */
    int32_t start_line;      /* 0 before Go 1.20 */
    uint8_t func_id;
} gs_inl_rec;

/* gs_inl_record reads record ix of the tree at file offset tree. */
int gs_inl_record(const gs_inl *c, int big_endian, size_t tree, int32_t ix,
                  gs_inl_rec *out, gs_err *e);

/* Checkpoints of the long functions' tables kept between single lookups
 * (not thread-safe: one per table, used under the caller's lock). */
typedef struct gs_lookup_cache gs_lookup_cache;
gs_lookup_cache *gs_lookup_cache_new(void);
/* gs_lookup_cache_clear drops every checkpoint (after the context changes). */
void gs_lookup_cache_clear(gs_lookup_cache *cache);
void gs_lookup_cache_free(gs_lookup_cache *cache);

/* gs_func_frames writes the frames for pc in function i, innermost first,
 * into out[0:cap]; *n gets the number of frames (the last is the physical
 * function).  flags: GS_FR_* (gs_call_pc for return addresses).  cache (may be NULL) keeps checkpoints of long functions so
 * that repeated lookups there walk a few steps, not the whole table.
 * Malformed data fails the call (a miss is the caller's: i < 0). */
int gs_func_frames(const gs_pcln *t, const gs_inl *c, gs_lookup_cache *cache, uint64_t i,
                   uint64_t pc, unsigned flags, gs_frame *out, size_t cap, size_t *n, gs_err *e);

/* gs_inline_frames is gs_func_frames for the function containing pc, with
 * no cache and no flags; a pc outside every function gives *n = 0. */
int gs_inline_frames(const gs_pcln *t, const gs_inl *c, uint64_t pc,
                     gs_frame *out, size_t cap, size_t *n, gs_err *e);

/* Columnar result of gs_pcln_symbolize.  Per pc: first (index of its first
 * frame) and count (0: a miss or a bad record).  Per frame: the physical
 * function's index, the frame function's name offset, file offset, line,
 * start line and whether it is an inlined call.  Frame arrays are malloc'd
 * by gs_pcln_symbolize and released by gs_symres_free. */
typedef struct gs_symres {
    uint32_t *first;
    uint16_t *count;
    int32_t *func;
    int32_t *name_off;
    uint32_t *file_off;
    int32_t *line;
    int32_t *start_line;
    uint8_t *inlined;
    size_t nframes;
    size_t cap;
} gs_symres;

/* gs_pcln_symbolize expands every pc (inline frames included, innermost
 * first).  first and count must hold n entries; frame arrays start empty
 * (NULL, cap 0) and grow.  pcs are visited in address order, so each
 * function's tables are walked once for all the pcs inside it.  Returns
 * GS_ERR_NOMEM when memory runs out; a bad record fails only its pcs. */
int gs_pcln_symbolize(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                      gs_symres *r);

/* gs_pcln_symbolize_mt is gs_pcln_symbolize on nthreads threads (0: one
 * per CPU) with flags (GS_FR_*, as for gs_func_frames); the pcs are cut at
 * function boundaries, so the frames are the same as on one thread.  Small
 * batches run on one thread; so does everything on Windows. */
int gs_pcln_symbolize_mt(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                         int nthreads, unsigned flags, gs_symres *r);

/* gs_pcln_call_pcs writes to out[k] the pc whose position return address
 * pcs[k] reports (gs_call_pc in the function containing it; pcs outside
 * every function are copied), for the batches that take plain pcs
 * (gs_pcln_lookup_many).  out may be pcs. */
void gs_pcln_call_pcs(const gs_pcln *t, const uint64_t *pcs, size_t n, uint64_t *out);

/* gs_cpu_count is the number of online CPUs (1 when unknown). */
int gs_cpu_count(void);

void gs_symres_free(gs_symres *r);

#endif
