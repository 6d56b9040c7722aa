/* goformat.h - the facts of Go's symbol-table formats that csrc/ reads, named
 * once.  Each cites the Go source it follows; the decoders use these names
 * instead of numbers.  (Moduledata word indexes live in gosym/pclntab.py,
 * GOFUNC_INDEX: only the Python side reads moduledata.)
 */
#ifndef GOSYM_GOFORMAT_H
#define GOSYM_GOFORMAT_H

/* pclntab magics (runtime/symtab.go: pcHeader; debug/gosym/pclntab.go).
 * Macros: the values do not fit a C enum's int. */
#define GS_MAGIC_GO12  0xfffffffbu   /* Go 1.2-1.15 */
#define GS_MAGIC_GO116 0xfffffffau   /* Go 1.16-1.17 */
#define GS_MAGIC_GO118 0xfffffff0u   /* Go 1.18-1.19 */
#define GS_MAGIC_GO120 0xfffffff1u   /* Go 1.20+ */

/* pcHeader: magic u32, two zero pad bytes, then these bytes, then
 * pointer-sized words from GS_HDR_WORDS. */
enum {
    GS_HDR_PAD = 4,
    GS_HDR_QUANTUM = 6,
    GS_HDR_PTRSIZE = 7,
    GS_HDR_WORDS = 8
};

/* _func (runtime/runtime2.go): the entry (u32 from 1.18, a pointer before),
 * then u32 fields at these offsets after it; cuOffset from 1.16, startLine
 * from 1.20; the record ends in funcID, flag (1.16+), pad, nfuncdata bytes,
 * followed by npcdata u32 pcdata offsets and the funcdata. */
enum {
    GS_FUNC_NAMEOFF = 0,
    GS_FUNC_ARGS = 4,
    GS_FUNC_DEFERRETURN = 8,
    GS_FUNC_PCSP = 12,
    GS_FUNC_PCFILE = 16,
    GS_FUNC_PCLN = 20,
    GS_FUNC_NPCDATA = 24,
    GS_FUNC_CUOFFSET = 28,
    GS_FUNC_STARTLINE = 32,
    GS_FUNC_TRAILER = 4          /* funcID, flag, pad, nfuncdata */
};

/* PCDATA and FUNCDATA indexes (runtime/funcdata.h of each release). */
enum {
    GS_PCDATA_INLTREEINDEX = 2,      /* from Go 1.13 */
    GS_FUNCDATA_INLTREE_GO113 = 4,   /* Go 1.13-1.15: after RegPointerMaps, StackObjects */
    GS_FUNCDATA_INLTREE_GO116 = 3    /* from Go 1.16 */
};

/* inlinedCall records (runtime/symtab.go, runtime/symtabinl.go): sizes and
 * field offsets. */
enum {
    GS_INLREC16_SIZE = 16,          /* Go 1.20+: funcID, pad[3], nameOff, parentPc, startLine */
    GS_INLREC16_FUNCID = 0,
    GS_INLREC16_NAMEOFF = 4,
    GS_INLREC16_PARENTPC = 8,
    GS_INLREC16_STARTLINE = 12,
    GS_INLREC20_SIZE = 20,          /* Go 1.13-1.19: parent int16, funcID, pad, file, line, func_, parentPc */
    GS_INLREC20_FUNCID = 2,
    GS_INLREC20_NAMEOFF = 12,
    GS_INLREC20_PARENTPC = 16
};

/* Go 1.18+ funcdata entries are u32 offsets from moduledata.gofunc; this
 * one means "none". */
#define GS_FUNCDATA_NONE 0xffffffffu

#endif /* GOSYM_GOFORMAT_H */
