# Declarations of the plain-C core in csrc/ (no Python API there), cimported by
# the extension modules gosym._pclntab, gosym._symtab, gosym._render and
# gosym._native.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t


from gosym._reader cimport *


cdef extern from "pclntab.h":
    enum:
        GS_VER12
        GS_VER116
        GS_VER118
        GS_VER120


    ctypedef struct gs_pcln:
        gs_reader rd
        uint32_t magic
        int version
        int quantum
        int ptr_size
        uint64_t nfunc
        uint64_t nfiles
        uint64_t hdr_text_start
        uint64_t text_base
        size_t funcname_off
        size_t cu_off
        size_t filetab_off
        size_t pctab_off
        size_t funcdata_off
        size_t functab_off
        int functab_field
        uint32_t nfiletab12

    ctypedef struct gs_func:
        uint64_t entry
        size_t off
        int32_t name_off
        int32_t args
        uint32_t deferreturn
        uint32_t pcsp
        uint32_t pcfile
        uint32_t pcln
        uint32_t npcdata
        uint32_t cu_offset
        int32_t start_line
        uint8_t func_id
        uint8_t flag
        uint8_t nfuncdata
        size_t pcdata_off

    int gs_pcln_open(gs_pcln *t, const uint8_t *base, size_t len, gs_err *e) nogil
    int gs_pcln_check_sorted(const gs_pcln *t, gs_err *e) nogil
    int gs_pcln_scan(const uint8_t *base, size_t len, size_t start, size_t stop, int want_ptr,
                     int want_be, size_t *pos, int *ptr_size, int *big_endian) nogil
    uint64_t gs_pcln_entry(const gs_pcln *t, uint64_t i) nogil
    int64_t gs_pcln_find(const gs_pcln *t, uint64_t pc) nogil
    int gs_pcln_func(const gs_pcln *t, uint64_t i, gs_func *f, gs_err *e) nogil
    int gs_pcln_name(const gs_pcln *t, int32_t name_off, const char **s, size_t *n, gs_err *e) nogil
    int gs_pcln_file_off(const gs_pcln *t, const gs_func *f, int32_t fileno, size_t *off, gs_err *e) nogil
    int gs_pcvalue(const gs_pcln *t, uint32_t tab, uint64_t entry, uint64_t pc, int32_t *val, gs_err *e) nogil
    int gs_pcln_frame_size(const gs_pcln *t, uint64_t i, int32_t *most, gs_err *e) nogil
    int gs_pcdata_tab(const gs_pcln *t, const gs_func *f, uint32_t k, uint32_t *tab, gs_err *e) nogil
    int gs_pcln_columns(const gs_pcln *t, uint64_t *entry, uint64_t *end,
                        int32_t *name_off, int32_t *start_line, uint32_t *file_off,
                        gs_err *e) nogil
    int gs_pcln_lookup_many(const gs_pcln *t, const uint64_t *pcs, size_t n,
                            int64_t *func_idx, int32_t *line, uint32_t *file_off) nogil
    void gs_advise_huge(void *p, size_t bytes) nogil
    int gs_pcln_lines(const gs_pcln *t, uint64_t i, uint64_t *pc, uint32_t *file_off,
                      int32_t *line, size_t cap, size_t *nrows, uint64_t *end_pc, gs_err *e) nogil


cdef extern from "goformat.h":
    enum:
        GS_PCDATA_INLTREEINDEX
        GS_FUNCDATA_INLTREE_GO113
        GS_FUNCDATA_INLTREE_GO116


cdef extern from "symtab.h":
    enum:
        GS_SYM_ELF32
        GS_SYM_ELF64
        GS_SYM_MACHO32
        GS_SYM_MACHO64
        GS_SYM_COFF

    ctypedef struct gs_sym:
        uint64_t value
        uint64_t size
        uint32_t name_off
        uint32_t index
        int32_t section
        uint8_t type
        uint8_t is_func

    int gs_symtab_list(const uint8_t *base, size_t len, int kind, int big_endian,
                       size_t tab_off, size_t count, gs_sym *out, size_t cap, size_t *n,
                       gs_err *e) nogil
    int gs_symtab_find(const uint8_t *base, size_t len, int kind, int big_endian,
                       size_t tab_off, size_t count, size_t str_off, size_t str_len,
                       const char *name, size_t name_len,
                       int64_t *index, uint64_t *value, int32_t *section, gs_err *e) nogil


cdef extern from "inline.h":
    enum:
        GS_INL_NONE
        GS_INL_20
        GS_INL_16
        GS_INL_MAX_DEPTH

    ctypedef struct gs_seg:
        uint64_t va
        uint64_t off
        uint64_t size

    ctypedef struct gs_inl:
        const uint8_t *file
        size_t file_len
        const gs_seg *segs
        size_t nsegs
        uint64_t gofunc
        uint64_t pcln_va
        int layout
        uint32_t funcdata_inltree
        uint32_t pcdata_inlindex
        int fids_known
        int fid_wrapper, fid_gopanic, fid_sigpanic, fid_panicwrap

    ctypedef struct gs_frame:
        int32_t name_off
        uint32_t file_off
        int32_t line
        int32_t start_line
        uint64_t pc
        uint8_t inlined
        uint8_t func_id

    ctypedef struct gs_inl_rec:
        int32_t name_off
        int32_t parent_pc
        int32_t start_line
        uint8_t func_id

    int gs_inl_record(const gs_inl *c, int big_endian, size_t tree, int32_t ix,
                      gs_inl_rec *out, gs_err *e) nogil
    int gs_inl_tree_off(const gs_pcln *t, const gs_inl *c, const gs_func *f, size_t *off, gs_err *e) nogil
    int gs_inline_frames(const gs_pcln *t, const gs_inl *c, uint64_t pc,
                         gs_frame *out, size_t cap, size_t *n, gs_err *e) nogil
    ctypedef struct gs_lookup_cache:
        pass
    gs_lookup_cache *gs_lookup_cache_new() nogil
    void gs_lookup_cache_clear(gs_lookup_cache *cache) nogil
    void gs_lookup_cache_free(gs_lookup_cache *cache) nogil
    int64_t gs_lookup_find(const gs_pcln *t, gs_lookup_cache *cache, uint64_t pc) nogil
    int gs_func_frames(const gs_pcln *t, const gs_inl *c, gs_lookup_cache *cache, uint64_t i,
                       uint64_t pc, unsigned flags, gs_frame *out, size_t cap, size_t *n,
                       gs_err *e) nogil
    enum:
        GS_FR_RETURN_ADDRESS
        GS_FR_WRAPPERS
    void gs_inl_funcids(const gs_pcln *t, gs_inl *c) nogil
    void gs_pcln_call_pcs(const gs_pcln *t, const uint64_t *pcs, size_t n, uint64_t *out) nogil

    ctypedef struct gs_symres:
        uint32_t *first
        uint16_t *count
        int32_t *func
        int32_t *name_off
        uint32_t *file_off
        int32_t *line
        int32_t *start_line
        uint8_t *inlined
        size_t nframes
        size_t cap
        size_t npartial
        int borrowed

    int gs_pcln_symbolize(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                          gs_symres *r) nogil
    int gs_pcln_symbolize_mt(const gs_pcln *t, const gs_inl *c, const uint64_t *pcs, size_t n,
                             int nthreads, unsigned flags, gs_symres *r) nogil
    int gs_cpu_count() nogil
    void gs_symres_free(gs_symres *r) nogil


cdef extern from "account.h":
    enum:
        GS_ACC_N
        GS_PF_N

    int gs_pcln_account(const gs_pcln *t, size_t funcdata_off, uint64_t *counts, gs_err *e) nogil
    int gs_pcln_account_funcs(const gs_pcln *t, size_t funcdata_off, uint64_t *counts,
                              uint64_t *per_func, gs_err *e) nogil

cdef extern from "render.h":
    enum:
        GS_STYLE_GO
        GS_STYLE_GNU
        GS_STYLE_LLVM
    ctypedef struct gs_text:
        char *p
        size_t n
        size_t cap
    ctypedef struct gs_frames_view:
        const uint32_t *first
        const uint16_t *count
        const int32_t *name_off
        const uint32_t *file_off
        const int32_t *line
    void gs_text_free(gs_text *b) nogil
    int64_t gs_parse_addrs(const char *buf, size_t n, uint64_t *pcs, size_t cap) nogil
    int gs_render_text(const gs_pcln *t, const gs_frames_view *v, const uint8_t *valid, size_t npcs,
                       int style, int inline_frames, gs_text *out, size_t *ends) nogil
    ctypedef struct gs_str_frames:
        const size_t *first
        const size_t *count
        const char *const *name
        const size_t *name_len
        const char *const *file
        const size_t *file_len
        const int32_t *line
        const int32_t *column
        size_t nframes
    int gs_render_strings(const gs_str_frames *s, const uint8_t *valid, size_t npcs, int style,
                          int inline_frames, gs_text *out, size_t *ends) nogil
