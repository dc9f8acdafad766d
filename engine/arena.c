/* arena.c — see arena.h. Chunks grow to fit one oversized request and are kept on reset. */
#include "engine/arena.h"

struct VgArenaChunk {
    VgArenaChunk *next;
    size_t cap, used;
    max_align_t data[];
};

void vg_arena_init(VgArena *a, size_t chunk_size)
{
    memset(a, 0, sizeof(*a));
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
}

static VgArenaChunk *chunk_new(size_t cap)
{
    VgArenaChunk *c = g_malloc(sizeof(VgArenaChunk) + cap);
    c->next = NULL;
    c->cap = cap;
    c->used = 0;
    return c;
}

void *vg_arena_alloc(VgArena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    VgArenaChunk *c = a->head;
    while (c && c->used + n > c->cap)
        c = c->next; /* later chunks are empty after a reset */
    if (!c) {
        c = chunk_new(n > a->chunk_size ? n : a->chunk_size);
        if (!a->first) {
            a->first = c;
        } else {
            VgArenaChunk *t = a->first;
            while (t->next)
                t = t->next;
            t->next = c;
        }
    }
    a->head = c;
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

VgStr vg_arena_strdup(VgArena *a, const char *s, size_t n)
{
    char *p = vg_arena_alloc(a, n + 1);
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return vg_str(p, n);
}

void vg_arena_prefetch_write(const VgArena *a, size_t ahead, size_t n)
{
    const VgArenaChunk *c = a->head;
    if (!c || c->used + ahead >= c->cap)
        return;
    size_t end = MIN(c->used + ahead + n, c->cap);
    for (size_t off = (c->used + ahead) & ~(size_t)63; off < end; off += 64)
        vg_prefetch_write((const char *)c->data + off);
}

void vg_arena_reset(VgArena *a)
{
    for (VgArenaChunk *c = a->first; c; c = c->next)
        c->used = 0;
    a->head = a->first;
}

void vg_arena_destroy(VgArena *a)
{
    VgArenaChunk *c = a->first;
    while (c) {
        VgArenaChunk *n = c->next;
        g_free(c);
        c = n;
    }
    memset(a, 0, sizeof(*a));
}
