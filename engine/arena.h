/* arena.h — a bump allocator reused per batch.
 *
 * The hot path must not call malloc per event. Whatever an event needs beyond views into
 * the input (an unescaped JSON string, a templated endpoint, a number formatted for a rule)
 * comes from the worker's arena, and the whole arena is reset when the batch is done.
 * Chunks are kept across resets, so a warm arena never allocates.
 */
#ifndef VG_ARENA_H
#define VG_ARENA_H

#include "engine/vg.h"

typedef struct VgArenaChunk VgArenaChunk;

typedef struct {
    VgArenaChunk *head;  /* chunk being filled */
    VgArenaChunk *first; /* all chunks, in order */
    size_t chunk_size;
} VgArena;

void vg_arena_init(VgArena *a, size_t chunk_size);
/* Returns 8-byte aligned memory valid until the next reset; never NULL (aborts on OOM). */
void *vg_arena_alloc(VgArena *a, size_t n);
/* Copies s into the arena with a trailing NUL (not counted in the result's length). */
VgStr vg_arena_strdup(VgArena *a, const char *s, size_t n);
void vg_arena_reset(VgArena *a);
/* vg_prefetch_write() of the bytes [ahead, ahead + n) past what the arena handed out last
 * (within its current chunk): the allocations to come, when another core read the arena
 * the last time it was used. */
void vg_arena_prefetch_write(const VgArena *a, size_t ahead, size_t n);
void vg_arena_destroy(VgArena *a);

#endif
