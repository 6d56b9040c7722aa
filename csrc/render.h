/* render.h - address parsing and text answers for `gosym lookup`.
 *
 * The lookup command's hot loop in C: hex address lines in, the text
 * styles of go tool addr2line, addr2line -f -i and llvm-symbolizer out,
 * straight from a gs_symres and the pclntab's string tables. */
#ifndef GOSYM_RENDER_H
#define GOSYM_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "pclntab.h"

/* A growable byte buffer. */
typedef struct gs_text {
    char *p;
    size_t n, cap;
} gs_text;

void gs_text_free(gs_text *b);

/* gs_parse_addrs reads the lines of buf[0:n] (split at '\n'), skipping
 * blank ones.  Every other line must be a hex address: ASCII blanks around,
 * an optional 0x or 0X, then 1 to 16 hex digits.  Writes the addresses to
 * pcs (room for cap) and returns their count, or -1 when some line is in
 * another form (the caller then parses the batch the slow way) or there are
 * more than cap. */
int64_t gs_parse_addrs(const char *buf, size_t n, uint64_t *pcs, size_t cap);

enum { GS_STYLE_GO = 0, GS_STYLE_GNU = 1, GS_STYLE_LLVM = 2 };

/* The frames of a batch, as gs_pcln_symbolize left them. */
typedef struct gs_frames_view {
    const uint32_t *first;
    const uint16_t *count;
    const int32_t *name_off;
    const uint32_t *file_off;
    const int32_t *line;
} gs_frames_view;

/* One frame's text: function and file names (not NUL-terminated), line
 * and column. */
typedef struct gs_frame_text {
    const char *name;
    size_t nn;
    const char *file;
    size_t fn;
    int32_t line;
    int32_t column;
} gs_frame_text;

/* Reads frame j into *f; nonzero (a GS_ERR_*) to stop. */
typedef int (*gs_frame_text_fn)(void *ctx, size_t j, gs_frame_text *f);

/* The frames of a batch as strings (a source other than the pclntab):
 * pc k has count[k] frames from first[k], innermost first, out of nframes. */
typedef struct gs_str_frames {
    const size_t *first;
    const size_t *count;
    const char *const *name;
    const size_t *name_len;
    const char *const *file;
    const size_t *file_len;
    const int32_t *line;
    const int32_t *column;
    size_t nframes;
} gs_str_frames;

/* gs_render_strings is gs_render_text for frames given as strings, in the
 * same styles through the same code; llvm prints the frames' columns.
 * GS_ERR_ARG when a pc's frames run past nframes or the style is unknown. */
int gs_render_strings(const gs_str_frames *s, const uint8_t *valid, size_t npcs, int style,
                      int inline_frames, gs_text *out, size_t *ends);

/* gs_render_text appends the answer of each of npcs pcs to out, and sets
 * ends[k] to out->n after pc k.  valid (may be NULL) marks pcs to answer;
 * the others, and pcs with no frames, print the style's miss.  With
 * inline == 0 a pc prints one frame: the physical function with the
 * innermost position.  Returns GS_OK, GS_ERR_NOMEM, or a format error
 * when a name is out of range (the caller then takes the slow path, which
 * reports it). */
int gs_render_text(const gs_pcln *t, const gs_frames_view *v, const uint8_t *valid, size_t npcs,
                   int style, int inline_frames, gs_text *out, size_t *ends);

#endif
