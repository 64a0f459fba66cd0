/* track.c - the port-scan evidence store; see track.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "track.h"

#define NONE UINT32_MAX
/* Port entries may exceed the exact services by this many, so that a
 * port first seen after the services overflowed still gets counted. */
#define EXTRA_PORTS 256
/* A port or target gets a sketch once NFH__PS_SKETCH_AFTER contacts
 * could not be kept exactly (track.h): only the busy ones need one. */
#define SKETCH_AFTER NFH__PS_SKETCH_AFTER

/* The sources' index: open addressing with linear probing, load at
 * most one half. A slot holds the source's pointer beside its hash, so
 * that finding a source costs the slot and the source, nothing more. */
typedef struct src_slot {
  uint32_t hash;
  uint32_t i; /* index in src */
  ps_source *s; /* NULL: empty */
} src_slot;

/* Blocks for the sources and their arrays: 64 and 128 bytes, then a
 * power of two or three quarters of one, up to 64 KiB (larger ones come
 * from malloc(3)); every size is a multiple of 64, so every block starts
 * on a cache line. They are carved from big chunks, with a free list per
 * size. Arrays grow by half, so that they are four fifths full on
 * average rather than three quarters. Growing an array or dropping a
 * source costs a pointer swap; malloc(3) spent more time searching its
 * bins for the many small, growing arrays than the detector spent on
 * the contacts themselves. The chunks go back when the store does.
 * They are 2 MiB, on a 2 MiB boundary and marked for transparent huge
 * pages where the system has them: the detector reads its memory at
 * random, and with small pages most reads would miss the TLB. */
#define POOL_CLASSES 20 /* 64 B ... 64 KiB */
#define POOL_CHUNK ((size_t)1 << 21)

/* Sources have a size class of their own. */
#define POOL_SOURCE POOL_CLASSES
#define SOURCE_BLOCK ((sizeof(ps_source) + 63) & ~(size_t)63)

typedef struct pool {
  void *free[POOL_SOURCE + 1]; /* linked through their first word */
  char *next;  /* the current chunk's unused part */
  size_t left;
  void **chunks;
  size_t nchunks, cap_chunks;
} pool;

struct ps_store {
  ps_params p;
  pool pool;
  uint32_t *scratch; /* the sweep's working space */
  uint32_t cap_scratch;
  uint32_t swept_cutoff_s; /* the last sweep's cutoff, 0 before one */
  ps_source **src;
  uint32_t nsrc, cap_src;
  src_slot *slots;
  uint32_t cap_slots; /* power of two or 0 */
  uint64_t entries; /* targets + services of all sources */
  uint64_t evictions;
  ps_edge_seen *edges; /* see nfh__ps_store_note_edge */
  uint32_t nedges, cap_edges;
};

/* ------------------------------------------------------------ hashing */

static inline uint32_t mix32(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return (uint32_t)x;
}

static uint64_t addr_hash64(const nfh_addr *a) {
  uint8_t buf[17];
  memcpy(buf, a->bytes, 16);
  buf[16] = a->family;
  return nfh_hll_hash(buf, sizeof(buf));
}

/* A service's hash derives from its target's address hash, not from
 * the target's index, so that it is known before the target is found:
 * a contact looks its service up first and finds the target through
 * it. */
static uint32_t service_hash(uint32_t target_hash, uint8_t proto,
                             uint16_t port) {
  return mix32((uint64_t)target_hash << 24 ^ (uint64_t)proto << 16 ^ port ^
               0x5bd1e995ull << 56);
}

static uint32_t port_hash(uint8_t proto, uint16_t port) {
  return mix32((uint64_t)proto << 16 | port);
}

/* The key a target's sketch of ports holds. */
static uint64_t port_key(uint8_t proto, uint16_t port) {
  return (uint64_t)proto << 16 | port;
}

/* -------------------------------------------------------------- index */

/* Open addressing with linear probing, load at most three quarters (a
 * slot is 8 bytes: a probe sequence mostly stays in one cache line).
 * Entries are never removed one by one: after an eviction or a sweep the
 * index is rebuilt.
 * Most sources touch one or two targets (a web site's visitors, the
 * Internet's background), so a per-source table gets its index only past
 * LINEAR_MAX entries; below, a scan of the few entries is cheaper than
 * the index's memory and allocations. */
#define LINEAR_MAX 8

typedef uint32_t (*hash_of_fn)(const void *entries, uint32_t i);

static uint32_t hash_of_target(const void *e, uint32_t i) {
  return ((const ps_target *)e)[i].hash;
}
static uint32_t hash_of_service(const void *e, uint32_t i) {
  return ((const ps_service *)e)[i].hash;
}
static uint32_t hash_of_port(const void *e, uint32_t i) {
  return ((const ps_port *)e)[i].hash;
}

/* ------------------------------------------------------------ prefetch */

/* Starts loading the line at p, and the one its 'len' bytes end in. */
static inline void prefetch_span(const void *p, size_t len) {
  __builtin_prefetch(p, 1, 3);
  __builtin_prefetch((const char *)p + len - 1, 1, 3);
}

/* Starts loading every line of the 'len' bytes at p. */
static inline void prefetch_lines(const void *p, size_t len) {
  for (size_t o = 0; o < len; o += 64)
    __builtin_prefetch((const char *)p + o, 1, 3);
  if (len)
    __builtin_prefetch((const char *)p + len - 1, 1, 3);
}

/* ---------------------------------------------------------------- pool */

/* The size class of a block of 'bytes': its log2, rounded up. */
static inline unsigned pool_class(size_t bytes) {
  if (bytes <= 64)
    return 0;
  if (bytes <= 128)
    return 1;
  /* 2^j >= bytes > 2^(j-1), j >= 8: 3 * 2^(j-2) or 2^j. */
  unsigned j = (unsigned)(64 - __builtin_clzll((unsigned long long)bytes - 1));
  return 2 * (j - 7) + (bytes > (size_t)3 << (j - 2));
}

/* The bytes of class k (POOL_CLASSES and beyond: from malloc(3)). */
static inline size_t class_size(unsigned k) {
  if (k == POOL_SOURCE)
    return SOURCE_BLOCK;
  if (k < 2)
    return (size_t)64 << k;
  unsigned j = k / 2 + 7;
  return k % 2 ? (size_t)1 << j : (size_t)3 << (j - 2);
}

/* A chunk of POOL_CHUNK bytes on a POOL_CHUNK boundary, or NULL. */
static void *chunk_alloc(void) {
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
  size_t len = 2 * POOL_CHUNK;
  char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return NULL;
  char *c = (char *)(((uintptr_t)m + POOL_CHUNK - 1) & ~(POOL_CHUNK - 1));
  if (c > m)
    munmap(m, (size_t)(c - m));
  if (c + POOL_CHUNK < m + len)
    munmap(c + POOL_CHUNK, (size_t)(m + len - (c + POOL_CHUNK)));
  madvise(c, POOL_CHUNK, MADV_HUGEPAGE);
  return c;
#else
  return aligned_alloc(POOL_CHUNK, POOL_CHUNK);
#endif
}

static void chunk_free(void *c) {
#if defined(MAP_ANONYMOUS) && defined(MADV_HUGEPAGE)
  munmap(c, POOL_CHUNK);
#else
  free(c);
#endif
}

/* A block of class k (uninitialised) or NULL. */
static void *pool_take(pool *p, unsigned k) {
  size_t size = class_size(k);
  void *b = p->free[k];
  if (b) {
    memcpy(&p->free[k], b, sizeof(void *));
    /* The next block of the class: a freed block is long out of the
     * cache, and reading its link was the miss of every take. */
    if (p->free[k])
      __builtin_prefetch(p->free[k], 1, 3);
    return b;
  }
  if (p->left < size) {
    if (p->nchunks == p->cap_chunks) {
      size_t cap = p->cap_chunks ? p->cap_chunks * 2 : 16;
      void **grown = realloc(p->chunks, cap * sizeof(void *));
      if (!grown)
        return NULL;
      p->chunks = grown;
      p->cap_chunks = cap;
    }
    char *c = chunk_alloc();
    if (!c)
      return NULL;
    p->chunks[p->nchunks++] = c;
    p->next = c;
    p->left = POOL_CHUNK;
  }
  b = p->next;
  p->next += size;
  p->left -= size;
  return b;
}

static void pool_give(pool *p, void *b, unsigned k) {
  memcpy(b, &p->free[k], sizeof(void *));
  p->free[k] = b;
}

/* A block of at least 'bytes' (uninitialised) or NULL; *got is set to
 * its usable size. */
static void *pool_get(pool *p, size_t bytes, size_t *got) {
  unsigned k = pool_class(bytes);
  if (k >= POOL_CLASSES) {
    *got = bytes;
    return malloc(bytes);
  }
  *got = class_size(k);
  return pool_take(p, k);
}

/* Returns a block; 'bytes' is any size that pool_get gave it for (its
 * size class is all that counts). NULL is a no-op. */
static void pool_put(pool *p, void *b, size_t bytes) {
  if (!b)
    return;
  unsigned k = pool_class(bytes);
  if (k >= POOL_CLASSES)
    free(b);
  else
    pool_give(p, b, k);
}

static void pool_free(pool *p) {
  for (size_t i = 0; i < p->nchunks; i++)
    chunk_free(p->chunks[i]);
  free(p->chunks);
  memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------- indexes */

static void index_put(ps_index *ix, uint32_t hash, uint32_t i) {
  uint32_t mask = ix->cap - 1;
  uint32_t k = hash & mask;
  while (ix->slots[k])
    k = (k + 1) & mask;
  ix->slots[k] = (uint64_t)hash << 32 | (i + 1);
}

/* Makes room for 'n' entries, rebuilding from the entries when the
 * index grows. Returns 0 or -1 (unchanged). */
static int index_reserve(pool *p, ps_index *ix, uint32_t n,
                         const void *entries, uint32_t nentries,
                         hash_of_fn hash_of) {
  if (ix->cap && (uint64_t)n * 4 <= (uint64_t)ix->cap * 3)
    return 0;
  uint32_t cap = ix->cap ? ix->cap : 16;
  while ((uint64_t)cap * 3 < (uint64_t)n * 4)
    cap *= 2;
  size_t got;
  uint64_t *slots = pool_get(p, cap * sizeof(uint64_t), &got);
  if (!slots)
    return -1;
  memset(slots, 0, cap * sizeof(uint64_t));
  pool_put(p, ix->slots, ix->cap * sizeof(uint64_t));
  ix->slots = slots;
  ix->cap = cap;
  for (uint32_t i = 0; i < nentries; i++)
    index_put(ix, hash_of(entries, i), i);
  return 0;
}

/* index_reserve for a per-source table: nothing while it is small. */
static int table_reserve(pool *p, ps_index *ix, uint32_t n,
                         const void *entries, uint32_t nentries,
                         hash_of_fn hash_of) {
  return n > LINEAR_MAX ? index_reserve(p, ix, n, entries, nentries, hash_of)
                        : 0;
}

static void table_put(ps_index *ix, uint32_t hash, uint32_t i) {
  if (ix->cap)
    index_put(ix, hash, i);
}

static void index_rebuild(ps_index *ix, const void *entries,
                          uint32_t nentries, hash_of_fn hash_of) {
  if (!ix->cap)
    return;
  memset(ix->slots, 0, ix->cap * sizeof(uint64_t));
  for (uint32_t i = 0; i < nentries; i++)
    index_put(ix, hash_of(entries, i), i);
}

/* Rebuilds a per-source table's index after entries were dropped, at
 * the size the entries left need (none while they are few). */
static void index_fit(pool *p, ps_index *ix, const void *entries,
                      uint32_t nentries, hash_of_fn hash_of) {
  if (!ix->cap)
    return;
  uint32_t cap = 0;
  if (nentries > LINEAR_MAX)
    for (cap = 16; cap < nentries * 2; cap *= 2)
      ;
  if (cap * 4 <= ix->cap) {
    size_t got;
    uint64_t *slots = cap ? pool_get(p, cap * sizeof(uint64_t), &got) : NULL;
    if (cap && !slots) {
      index_rebuild(ix, entries, nentries, hash_of);
      return;
    }
    pool_put(p, ix->slots, ix->cap * sizeof(uint64_t));
    ix->slots = slots;
    ix->cap = cap;
  }
  index_rebuild(ix, entries, nentries, hash_of);
}

static void index_free(pool *p, ps_index *ix) {
  pool_put(p, ix->slots, ix->cap * sizeof(uint64_t));
  ix->slots = NULL;
  ix->cap = 0;
}

static uint32_t find_target(const ps_source *s, const nfh_addr *a,
                            uint32_t hash) {
  if (!s->tindex.cap) {
    for (uint32_t i = 0; i < s->ntargets; i++)
      if (s->targets[i].hash == hash && nfh_addr_equal(&s->targets[i].addr, a))
        return i;
    return NONE;
  }
  uint32_t mask = s->tindex.cap - 1;
  for (uint32_t k = hash & mask; s->tindex.slots[k]; k = (k + 1) & mask) {
    uint64_t v = s->tindex.slots[k];
    uint32_t i = (uint32_t)v - 1;
    if ((uint32_t)(v >> 32) == hash && nfh_addr_equal(&s->targets[i].addr, a))
      return i;
  }
  return NONE;
}

/* Whether service v is (target a, proto, port). */
static inline int service_is(const ps_source *s, const ps_service *v,
                             const nfh_addr *a, uint32_t target_hash,
                             uint8_t proto, uint16_t port) {
  const ps_target *t = &s->targets[v->target];
  return v->proto == proto && v->port == port && t->hash == target_hash &&
         nfh_addr_equal(&t->addr, a);
}

/* The service (target a, proto, port): 'hash' is service_hash() of the
 * target's address hash 'target_hash'. */
static uint32_t find_service(const ps_source *s, const nfh_addr *a,
                             uint32_t target_hash, uint8_t proto,
                             uint16_t port, uint32_t hash) {
  if (!s->sindex.cap) {
    for (uint32_t i = 0; i < s->nservices; i++) {
      const ps_service *v = &s->services[i];
      if (v->hash == hash && service_is(s, v, a, target_hash, proto, port))
        return i;
    }
    return NONE;
  }
  uint32_t mask = s->sindex.cap - 1;
  for (uint32_t k = hash & mask; s->sindex.slots[k]; k = (k + 1) & mask) {
    uint64_t x = s->sindex.slots[k];
    if ((uint32_t)(x >> 32) != hash)
      continue;
    const ps_service *v = &s->services[(uint32_t)x - 1];
    if (service_is(s, v, a, target_hash, proto, port))
      return (uint32_t)x - 1;
  }
  return NONE;
}

static uint32_t find_port(const ps_source *s, uint8_t proto, uint16_t port,
                          uint32_t hash) {
  if (!s->pindex.cap) {
    for (uint32_t i = 0; i < s->nports; i++)
      if (s->ports[i].proto == proto && s->ports[i].port == port)
        return i;
    return NONE;
  }
  uint32_t mask = s->pindex.cap - 1;
  for (uint32_t k = hash & mask; s->pindex.slots[k]; k = (k + 1) & mask) {
    uint64_t x = s->pindex.slots[k];
    if ((uint32_t)(x >> 32) != hash)
      continue;
    const ps_port *q = &s->ports[(uint32_t)x - 1];
    if (q->proto == proto && q->port == port)
      return (uint32_t)x - 1;
  }
  return NONE;
}

static ps_source *find_source(const ps_store *st, const nfh_addr *a,
                              uint32_t hash) {
  if (!st->cap_slots)
    return NULL;
  uint32_t mask = st->cap_slots - 1;
  for (uint32_t k = hash & mask; st->slots[k].s; k = (k + 1) & mask) {
    const src_slot *x = &st->slots[k];
    if (x->hash == hash && nfh_addr_equal(&x->s->addr, a))
      return x->s;
  }
  return NULL;
}

static void src_put(ps_store *st, uint32_t i) {
  uint32_t mask = st->cap_slots - 1;
  uint32_t k = st->src[i]->hash & mask;
  while (st->slots[k].s)
    k = (k + 1) & mask;
  st->slots[k].hash = st->src[i]->hash;
  st->slots[k].i = i;
  st->slots[k].s = st->src[i];
}

/* Rebuilds the sources' index after sources were dropped. */
static void src_rebuild(ps_store *st) {
  if (!st->cap_slots)
    return;
  memset(st->slots, 0, st->cap_slots * sizeof(src_slot));
  for (uint32_t i = 0; i < st->nsrc; i++)
    src_put(st, i);
}

/* Makes room in the index for 'n' sources. Returns 0 or -1
 * (unchanged). */
static int src_reserve(ps_store *st, uint32_t n) {
  if (st->cap_slots && n * 2 <= st->cap_slots)
    return 0;
  uint32_t cap = st->cap_slots ? st->cap_slots : 64;
  while (cap < n * 2)
    cap *= 2;
  src_slot *slots = calloc(cap, sizeof(src_slot));
  if (!slots)
    return -1;
  free(st->slots);
  st->slots = slots;
  st->cap_slots = cap;
  src_rebuild(st);
  return 0;
}

/* Grows an array of 'size'-byte elements to hold one more, doubling up
 * to 'limit'. Returns 0 or -1 (unchanged). */
static int grow(void **array, uint32_t *cap, uint32_t n, size_t size,
                uint32_t limit) {
  if (n < *cap)
    return 0;
  uint32_t c = *cap ? *cap * 2 : 2;
  if (c > limit)
    c = limit;
  if (c <= n)
    return -1;
  void *grown = realloc(*array, (size_t)c * size);
  if (!grown)
    return -1;
  *array = grown;
  *cap = c;
  return 0;
}

/* Moves an array that uses a quarter of its capacity or less to a block
 * twice its size. Keeps it where it is when memory is short. */
static void pool_shrink(pool *p, void **array, uint32_t *cap, uint32_t n,
                        size_t size) {
  if (*cap <= 4 || n > *cap / 4)
    return;
  uint32_t c = n > 1 ? n * 2 : 2;
  size_t got;
  void *b = pool_get(p, (size_t)c * size, &got);
  if (!b)
    return;
  if (got / size < *cap)
    c = (uint32_t)(got / size);
  if (n)
    memcpy(b, *array, (size_t)n * size);
  pool_put(p, *array, (size_t)*cap * size);
  *array = b;
  *cap = c;
}

/* grow() for a source's arrays, from the pool: the capacity is what the
 * block holds, up to 'limit'. */
static int pool_grow(pool *p, void **array, uint32_t *cap, uint32_t n,
                     size_t size, uint32_t limit) {
  if (n < *cap)
    return 0;
  uint32_t c = !*cap ? 1 : *cap < 4 ? *cap + 2 : *cap + *cap / 2;
  if (c > limit)
    c = limit;
  if (c <= n)
    return -1;
  size_t got;
  void *grown = pool_get(p, (size_t)c * size, &got);
  if (!grown)
    return -1;
  if (got / size < limit)
    c = (uint32_t)(got / size);
  if (n)
    memcpy(grown, *array, (size_t)n * size);
  pool_put(p, *array, (size_t)*cap * size);
  *array = grown;
  *cap = c;
  return 0;
}

/* ------------------------------------------------------- create/destroy */

ps_store *nfh__ps_store_create(const ps_params *params) {
  ps_store *st = calloc(1, sizeof(*st));
  if (!st)
    return NULL;
  st->p = *params;
  return st;
}

static void source_free(ps_store *st, ps_source *s) {
  if (!s)
    return;
  pool *p = &st->pool;
  pool_put(p, s->targets, (size_t)s->cap_targets * sizeof(ps_target));
  pool_put(p, s->services, (size_t)s->cap_services * sizeof(ps_service));
  pool_put(p, s->ports, (size_t)s->cap_ports * sizeof(ps_port));
  index_free(p, &s->tindex);
  index_free(p, &s->sindex);
  index_free(p, &s->pindex);
  for (uint32_t i = 0; i < s->nsketches; i++)
    nfh_hll_destroy(s->sketches[i].hll);
  free(s->sketches);
  pool_put(p, s->good, (size_t)s->cap_good * sizeof(uint32_t));
  pool_put(p, s->seen, (size_t)s->cap_seen * sizeof(uint32_t));
  pool_give(p, s, POOL_SOURCE);
}

/* ------------------------------------------------------------ hash sets */

/* Sets of 32-bit hashes: open addressing, 0 marks an empty slot (a hash
 * of 0 is kept as 1), load at most one half. The known-good set of a
 * source and the services seen by a lite one are such sets. Past
 * HSET_MAX hashes a set is emptied: a source that has quietly succeeded
 * with that many hosts loses little by meeting them anew. */
#define HSET_MAX 65536

static inline uint32_t hset_key(uint32_t hash) { return hash ? hash : 1; }

static inline int hset_has(const uint32_t *set, uint32_t n, uint32_t cap,
                           uint32_t hash) {
  if (!n)
    return 0;
  uint32_t k = hset_key(hash), mask = cap - 1;
  for (uint32_t i = k & mask; set[i]; i = (i + 1) & mask)
    if (set[i] == k)
      return 1;
  return 0;
}

static void hset_put(uint32_t *set, uint32_t cap, uint32_t k) {
  uint32_t mask = cap - 1, i = k & mask;
  while (set[i] && set[i] != k)
    i = (i + 1) & mask;
  set[i] = k;
}

/* Adds a hash. Returns 1 when it is new, 0 when it was there, -1 when
 * memory ran out (the set is unchanged). */
static int hset_add(pool *p, uint32_t **set, uint32_t *n, uint32_t *cap,
                    uint32_t hash) {
  if (hset_has(*set, *n, *cap, hash))
    return 0;
  if (*n >= HSET_MAX) {
    memset(*set, 0, *cap * sizeof(uint32_t));
    *n = 0;
  }
  if ((*n + 1) * 2 > *cap) {
    uint32_t c = *cap ? *cap * 2 : 16;
    size_t got;
    uint32_t *grown = pool_get(p, c * sizeof(uint32_t), &got);
    if (!grown)
      return -1;
    memset(grown, 0, c * sizeof(uint32_t));
    for (uint32_t i = 0; i < *cap; i++)
      if ((*set)[i])
        hset_put(grown, c, (*set)[i]);
    pool_put(p, *set, *cap * sizeof(uint32_t));
    *set = grown;
    *cap = c;
  }
  hset_put(*set, *cap, hset_key(hash));
  (*n)++;
  return 1;
}

/* The known-good set: targets folded by the sweep, and all targets of a
 * lite source. */
static int good_has(const ps_source *s, uint32_t hash) {
  return hset_has(s->good, s->ngood, s->cap_good, hash);
}

/* Adds a hash; returns 0 or -1 (memory: the set is unchanged). */
static int good_add(ps_store *st, ps_source *s, uint32_t hash) {
  return hset_add(&st->pool, &s->good, &s->ngood, &s->cap_good, hash) < 0
             ? -1
             : 0;
}

void nfh__ps_store_destroy(ps_store *st) {
  if (!st)
    return;
  for (uint32_t i = 0; i < st->nsrc; i++)
    source_free(st, st->src[i]);
  free(st->src);
  free(st->slots);
  pool_free(&st->pool);
  free(st->scratch);
  free(st->edges);
  free(st);
}

const ps_edge_seen *nfh__ps_store_edges(const ps_store *st, size_t *n) {
  *n = st->nedges;
  return st->edges;
}

int nfh__ps_store_note_edge(ps_store *st, uint32_t hash, uint32_t at_s) {
  for (uint32_t i = 0; i < st->nedges; i++)
    if (st->edges[i].hash == hash) {
      if (at_s > st->edges[i].at_s)
        st->edges[i].at_s = at_s;
      return 0;
    }
  if (st->nedges >= PS_EDGE_SEEN_MAX) {
    uint32_t oldest = 0;
    for (uint32_t i = 1; i < st->nedges; i++)
      if (st->edges[i].at_s < st->edges[oldest].at_s)
        oldest = i;
    st->edges[oldest] = (ps_edge_seen){hash, at_s};
    return 0;
  }
  if (st->nedges == st->cap_edges) {
    uint32_t cap = st->cap_edges ? 2 * st->cap_edges : 64;
    ps_edge_seen *g = realloc(st->edges, cap * sizeof(*g));
    if (!g)
      return -1;
    st->edges = g;
    st->cap_edges = cap;
  }
  st->edges[st->nedges++] = (ps_edge_seen){hash, at_s};
  return 0;
}

ps_source *const *nfh__ps_store_sources(const ps_store *st, size_t *n) {
  *n = st->nsrc;
  return st->src;
}

uint64_t nfh__ps_store_evictions(const ps_store *st) { return st->evictions; }

uint64_t nfh__ps_store_entries(const ps_store *st) { return st->entries; }

void nfh__ps_target_services(const ps_source *s, uint32_t (*n)[4]) {
  memset(n, 0, (size_t)s->ntargets * sizeof(*n));
  for (uint32_t i = 0; i < s->nservices; i++)
    n[s->services[i].target][s->services[i].cls]++;
}

uint32_t nfh__ps_sampling(const ps_source *s) {
  if (s->sampling <= 1)
    return 1;
  if (s->contacts_now && 4 * (uint64_t)s->sampled_now <= s->contacts_now)
    return 1;
  return s->sampling;
}

double nfh__ps_sketch_count(const ps_source *s, int16_t sketch) {
  if (sketch < 0 || (uint32_t)sketch >= s->nsketches ||
      !s->sketches[sketch].hll)
    return 0;
  return nfh_hll_count(s->sketches[sketch].hll);
}

/* --------------------------------------------------------------- TRW */

/* One first contact: a step of both walks (b skips weak failures),
 * each clamped at the floor; crossing the threshold is remembered. */
static void trw_step(const ps_params *p, ps_source *s, int cls, double w,
                     uint32_t when, int walk_a, int walk_b) {
  double step = cls == PS_SUCC ? p->step_succ : p->step_fail;
  if (walk_a) {
    s->llr_a += w * step;
    if (s->llr_a < p->log_eta0)
      s->llr_a = p->log_eta0;
    if (!s->crossed_a && s->llr_a >= p->log_eta1) {
      s->crossed_a = 1;
      s->crossed_a_s = when;
    }
  }
  if (walk_b && cls != PS_WEAK) {
    s->llr_b += w * step;
    if (s->llr_b < p->log_eta0)
      s->llr_b = p->log_eta0;
    if (!s->crossed_b && s->llr_b >= p->log_eta1) {
      s->crossed_b = 1;
      s->crossed_b_s = when;
    }
  }
  if (walk_a)
    s->first_contacts++;
}

double nfh__ps_suspicion(const ps_source *s) {
  double fails = (double)s->tn[PS_WEAK] + 2.0 * s->tn[PS_STRONG] +
                 s->sn[PS_WEAK] + 2.0 * s->sn[PS_STRONG] +
                 s->o_contacts[PS_WEAK] + 2.0 * s->o_contacts[PS_STRONG];
  double walk = s->llr_a > s->llr_b ? s->llr_a : s->llr_b;
  return fails + 4.0 * (walk > 0 ? walk : 0) +
         50.0 * (s->crossed_a || s->crossed_b);
}

/* ------------------------------------------------------------ eviction */

typedef struct rank {
  double suspicion;
  uint32_t last_s;
  uint32_t i;
} rank;

static int by_suspicion(const void *pa, const void *pb) {
  const rank *a = pa, *b = pb;
  if (a->suspicion != b->suspicion)
    return a->suspicion < b->suspicion ? -1 : 1;
  if (a->last_s != b->last_s)
    return a->last_s < b->last_s ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

static uint64_t source_entries(const ps_source *s) {
  return (uint64_t)s->ntargets + s->nservices;
}

/* What a source costs in the state: a known-good hash is an eighth of
 * an entry. */
static uint64_t source_cost(const ps_source *s) {
  return source_entries(s) + s->ngood / 8;
}

/* Drops the least suspicious sources: at least 'min_count', and more
 * until the entries fit 'max_entries'. Returns 0 or -1 (memory for the
 * ranking; nothing evicted). */
static int evict(ps_store *st, uint32_t min_count, uint64_t max_entries) {
  if (!st->nsrc)
    return 0;
  rank *r = malloc((size_t)st->nsrc * sizeof(*r));
  if (!r)
    return -1;
  for (uint32_t i = 0; i < st->nsrc; i++) {
    r[i].suspicion = nfh__ps_suspicion(st->src[i]);
    r[i].last_s = st->src[i]->last_s;
    r[i].i = i;
  }
  qsort(r, st->nsrc, sizeof(*r), by_suspicion);
  uint32_t dropped = 0;
  for (uint32_t k = 0; k < st->nsrc; k++) {
    if (dropped >= min_count && st->entries <= max_entries)
      break;
    ps_source *s = st->src[r[k].i];
    /* Past the count, only sources that hold entries help: a lite one
     * holds none. */
    if (dropped >= min_count && !source_entries(s))
      continue;
    st->entries -= source_entries(s);
    source_free(st, s);
    st->src[r[k].i] = NULL;
    dropped++;
  }
  free(r);
  uint32_t n = 0;
  for (uint32_t i = 0; i < st->nsrc; i++)
    if (st->src[i])
      st->src[n++] = st->src[i];
  st->evictions += st->nsrc - n;
  st->nsrc = n;
  src_rebuild(st);
  return 0;
}

/* Evicts when the entries exceed the bound: down to 80% of it. */
static void keep_within_entries(ps_store *st) {
  if (st->entries > st->p.max_entries)
    evict(st, 0, st->p.max_entries / 10 * 8);
}

/* --------------------------------------------------------------- adding */

/* The source of address a ('hash' its mix32(addr_hash64)), created when
 * new (lite or not). Returns NULL when out of memory. */
static ps_source *get_source(ps_store *st, const nfh_addr *a, uint8_t home,
                             uint32_t when, uint32_t hash, uint8_t lite) {
  ps_source *s = find_source(st, a, hash);
  if (s)
    return s;
  if (st->nsrc >= st->p.max_sources &&
      evict(st, st->p.max_sources / 5 + 1, st->p.max_entries) != 0)
    return NULL;
  if (grow((void **)&st->src, &st->cap_src, st->nsrc, sizeof(ps_source *),
           UINT32_MAX / 2) != 0 ||
      src_reserve(st, st->nsrc + 1) != 0)
    return NULL;
  /* Pool blocks start on a cache line: a contact reads the first two. */
  s = pool_take(&st->pool, POOL_SOURCE);
  if (!s)
    return NULL;
  memset(s, 0, sizeof(*s));
  s->addr = *a;
  s->home = home;
  s->hash = hash;
  s->first_s = s->last_s = when;
  s->sampling = 1;
  s->target_sketch = -1;
  s->lite = lite;
  st->src[st->nsrc] = s;
  src_put(st, st->nsrc);
  st->nsrc++;
  return s;
}

/* A new sketch for s; returns its index or -1 (limit or memory). */
static int16_t new_sketch(const ps_params *p, ps_source *s, uint32_t when) {
  if (s->nsketches >= p->max_sketches || s->nsketches >= INT16_MAX)
    return -1;
  ps_sketch *grown =
      realloc(s->sketches, (s->nsketches + 1) * sizeof(ps_sketch));
  if (!grown)
    return -1;
  s->sketches = grown;
  nfh_hll *h;
  if (nfh_hll_create(p->hll_precision, &h) != NFH_OK)
    return -1;
  s->sketches[s->nsketches].hll = h;
  s->sketches[s->nsketches].created_s = when;
  return (int16_t)s->nsketches++;
}

static void touch(uint32_t *first, uint32_t *last, uint32_t f, uint32_t l) {
  if (!*first || f < *first)
    *first = f;
  if (l > *last)
    *last = l;
}

/* Adds a target; the caller checked the cap. Returns its index or NONE
 * (memory). */
static uint32_t add_target(ps_store *st, ps_source *s, const nfh_addr *a,
                           uint8_t home, uint32_t hash) {
  if (pool_grow(&st->pool, (void **)&s->targets, &s->cap_targets,
                s->ntargets, sizeof(ps_target), st->p.max_targets) != 0 ||
      table_reserve(&st->pool, &s->tindex, s->ntargets + 1, s->targets,
                    s->ntargets, hash_of_target) != 0)
    return NONE;
  ps_target *t = &s->targets[s->ntargets];
  memset(t, 0, sizeof(*t));
  t->addr = *a;
  t->home = home;
  t->hash = hash;
  t->sketch = -1;
  table_put(&s->tindex, hash, s->ntargets);
  st->entries++;
  return s->ntargets++;
}

static uint32_t get_port(ps_store *st, ps_source *s, uint8_t proto,
                         uint16_t port) {
  uint32_t h = port_hash(proto, port);
  uint32_t i = find_port(s, proto, port, h);
  if (i != NONE)
    return i;
  uint32_t limit = st->p.max_services + EXTRA_PORTS;
  if (s->nports >= limit) {
    s->ports_full = 1;
    return NONE;
  }
  if (pool_grow(&st->pool, (void **)&s->ports, &s->cap_ports, s->nports,
                sizeof(ps_port), limit) != 0 ||
      table_reserve(&st->pool, &s->pindex, s->nports + 1, s->ports, s->nports,
                    hash_of_port) != 0)
    return NONE;
  ps_port *q = &s->ports[s->nports];
  memset(q, 0, sizeof(*q));
  q->proto = proto;
  q->port = port;
  q->hash = h;
  q->sketch = -1;
  table_put(&s->pindex, h, s->nports);
  return s->nports++;
}

static uint32_t add_service(ps_store *st, ps_source *s, uint32_t target,
                            uint8_t proto, uint16_t port, uint32_t hash,
                            uint32_t port_ix) {
  if (pool_grow(&st->pool, (void **)&s->services, &s->cap_services,
                s->nservices, sizeof(ps_service), st->p.max_services) != 0 ||
      table_reserve(&st->pool, &s->sindex, s->nservices + 1, s->services,
                    s->nservices, hash_of_service) != 0)
    return NONE;
  ps_service *v = &s->services[s->nservices];
  memset(v, 0, sizeof(*v));
  v->target = target;
  v->proto = proto;
  v->port = port;
  v->hash = hash;
  v->port_ix = port_ix;
  table_put(&s->sindex, hash, s->nservices);
  st->entries++;
  return s->nservices++;
}

/* Moves a target to a better class, keeping the source's tally. */
static void target_class(ps_source *s, ps_target *t, uint8_t cls) {
  if (cls <= t->cls)
    return;
  if (t->cls)
    s->tn[t->cls]--;
  s->tn[cls]++;
  t->cls = cls;
}

/* Moves a service to a better class, keeping its port's and source's
 * tallies. */
static void service_class(ps_source *s, ps_service *v, uint8_t cls) {
  if (cls <= v->cls)
    return;
  uint32_t pi = v->port_ix;
  if (v->cls) {
    s->sn[v->cls]--;
    if (pi != NONE)
      s->ports[pi].n[v->cls]--;
  }
  s->sn[cls]++;
  if (pi != NONE)
    s->ports[pi].n[cls]++;
  v->cls = cls;
}

/* An unreachable is proof for a weak failure: it becomes strong, and
 * walk b, which skipped it, takes its step now. */
static void upgrade_by_icmp(const ps_params *p, ps_source *s, ps_target *t,
                            uint32_t when) {
  t->reasons |= PS_R_ICMP;
  if (t->cls == PS_WEAK)
    target_class(s, t, PS_STRONG);
  if (t->first_cls == PS_WEAK && !t->b_counted) {
    t->b_counted = 1;
    trw_step(p, s, PS_STRONG, t->weight / 255.0, when, 0, 1);
  }
}

/* Seeds a new port sketch with the targets of the port's services. */
static void seed_port_sketch(ps_source *s, const ps_port *q) {
  nfh_hll *h = s->sketches[q->sketch].hll;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->port == q->port && v->proto == q->proto)
      nfh_hll_add_hash(h, addr_hash64(&s->targets[v->target].addr));
  }
}

static void seed_target_sketch(ps_source *s, uint32_t ti) {
  nfh_hll *h = s->sketches[s->targets[ti].sketch].hll;
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (v->target == ti)
      nfh_hll_add_hash(h, port_key(v->proto, v->port));
  }
}

/* ---------------------------------------------------------------- lite */

/* A lite source's first failure: from now on it keeps its targets and
 * services one by one. The hosts it met so far stay in the known-good
 * set, and its ports keep counting their services as folded. */
static void promote(ps_store *st, ps_source *s) {
  pool_put(&st->pool, s->seen, (size_t)s->cap_seen * sizeof(uint32_t));
  s->seen = NULL;
  s->nseen = s->cap_seen = 0;
  s->lite = 0;
}

/* A contact c on port q: its span, and, when fresh (this run's, not one
 * replayed from the state), its count and this run's first contact. */
static void port_contact(ps_port *q, const ps_contact *c, int fresh) {
  touch(&q->first_s, &q->last_s, c->first_s, c->last_s);
  if (!fresh)
    return;
  q->contacts++;
  if (!q->run_first_s || c->first_s < q->run_first_s)
    q->run_first_s = c->first_s;
}

/* An answered contact of a lite source: a first contact when the host is
 * new to it, a service counted on its port when new. Returns 0 or -1
 * (memory). */
static int lite_contact(ps_store *st, ps_source *s, const ps_contact *c,
                        uint32_t th, uint32_t sh, int fresh) {
  int is_new = hset_add(&st->pool, &s->good, &s->ngood, &s->cap_good, th);
  if (is_new < 0)
    return -1;
  if (is_new)
    trw_step(&st->p, s, PS_SUCC, c->weight, c->first_s, 1, 1);
  uint32_t pi = get_port(st, s, c->proto, c->port);
  if (pi == NONE)
    return 0;
  ps_port *q = &s->ports[pi];
  port_contact(q, c, fresh);
  is_new = hset_add(&st->pool, &s->seen, &s->nseen, &s->cap_seen, sh);
  if (is_new < 0)
    return -1;
  if (is_new) {
    q->n[PS_SUCC]++;
    q->folded++;
    q->folded_home += c->dst_home;
  }
  return 0;
}

/* ------------------------------------------------------------ prefetch */

/* Where the entry for (proto, port) would be looked up. */
static void prefetch_port_slot(const ps_source *s, uint8_t proto,
                               uint16_t port) {
  if (s->pindex.cap)
    __builtin_prefetch(
        &s->pindex.slots[port_hash(proto, port) & (s->pindex.cap - 1)], 0, 3);
  else if (s->nports)
    prefetch_lines(s->ports, s->nports * sizeof(ps_port));
}

/* The entry for (proto, port), its slot loaded (prefetch_port_slot). */
static void prefetch_port(const ps_source *s, uint8_t proto, uint16_t port) {
  if (!s->pindex.cap)
    return;
  uint32_t ph = port_hash(proto, port), m = s->pindex.cap - 1;
  for (uint32_t k = ph & m; s->pindex.slots[k]; k = (k + 1) & m)
    if ((uint32_t)(s->pindex.slots[k] >> 32) == ph) {
      prefetch_span(&s->ports[(uint32_t)s->pindex.slots[k] - 1],
                    sizeof(ps_port));
      return;
    }
}

/* The stages walk every contact's chain one link at a time, all contacts
 * at each stage, so that their cache misses overlap instead of following
 * each other: source slot, source, service slot, service, then target
 * and port. A stage reads what the one before started loading and takes
 * the likely path (the first slot whose hash matches); recording the
 * contact then finds it all in the cache. Nothing changes the store in
 * between, so every pointer read is valid. */
void nfh__ps_store_prefetch(const ps_store *st, ps_contact *c, size_t n) {
  const ps_source *src[PS_PREFETCH_MAX];
  uint32_t hash[PS_PREFETCH_MAX];
  const ps_service *svc[PS_PREFETCH_MAX];
  if (n > PS_PREFETCH_MAX)
    n = PS_PREFETCH_MAX;
  uint32_t mask = st->cap_slots - 1;
  for (size_t i = 0; i < n; i++) {
    c[i].src_hash = addr_hash64(&c[i].src);
    c[i].dst_hash = addr_hash64(&c[i].dst);
    c[i].hashed = 1;
    hash[i] = mix32(c[i].src_hash);
    if (st->cap_slots)
      __builtin_prefetch(&st->slots[hash[i] & mask], 0, 3);
  }
  /* The source: its first four lines (see ps_source). */
  for (size_t i = 0; i < n; i++) {
    src[i] = NULL;
    if (!st->cap_slots)
      continue;
    for (uint32_t k = hash[i] & mask; st->slots[k].s; k = (k + 1) & mask)
      if (st->slots[k].hash == hash[i]) {
        src[i] = st->slots[k].s;
        prefetch_lines(src[i], 256);
        break;
      }
  }
  /* The service's slot; a lite source's sets and port instead. */
  for (size_t i = 0; i < n; i++) {
    const ps_source *s = src[i];
    if (!s)
      continue;
    uint32_t th = (uint32_t)c[i].dst_hash;
    hash[i] = service_hash(th, c[i].proto, c[i].port);
    if (s->lite) {
      if (s->ngood)
        __builtin_prefetch(&s->good[hset_key(th) & (s->cap_good - 1)], 0, 3);
      if (s->nseen)
        __builtin_prefetch(&s->seen[hset_key(hash[i]) & (s->cap_seen - 1)],
                           0, 3);
      prefetch_port_slot(s, c[i].proto, c[i].port);
    } else if (s->sindex.cap) {
      __builtin_prefetch(&s->sindex.slots[hash[i] & (s->sindex.cap - 1)], 0,
                         3);
    } else if (s->nservices) {
      prefetch_lines(s->services, s->nservices * sizeof(ps_service));
    }
  }
  /* The service; when there is none, what a new one needs. */
  for (size_t i = 0; i < n; i++) {
    const ps_source *s = src[i];
    svc[i] = NULL;
    if (!s)
      continue;
    if (s->lite) {
      prefetch_port(s, c[i].proto, c[i].port);
      continue;
    }
    if (s->sindex.cap) {
      uint32_t m = s->sindex.cap - 1;
      for (uint32_t k = hash[i] & m; s->sindex.slots[k]; k = (k + 1) & m)
        if ((uint32_t)(s->sindex.slots[k] >> 32) == hash[i]) {
          svc[i] = &s->services[(uint32_t)s->sindex.slots[k] - 1];
          __builtin_prefetch(svc[i], 1, 3);
          break;
        }
    } else {
      for (uint32_t k = 0; k < s->nservices; k++)
        if (s->services[k].hash == hash[i]) {
          svc[i] = &s->services[k];
          break;
        }
    }
    if (svc[i])
      continue;
    uint32_t th = (uint32_t)c[i].dst_hash;
    if (s->tindex.cap)
      __builtin_prefetch(&s->tindex.slots[th & (s->tindex.cap - 1)], 0, 3);
    else if (s->ntargets)
      prefetch_lines(s->targets, s->ntargets * sizeof(ps_target));
    if (s->ngood)
      __builtin_prefetch(&s->good[hset_key(th) & (s->cap_good - 1)], 0, 3);
    prefetch_port_slot(s, c[i].proto, c[i].port);
    /* Where a new target, service and port would go. */
    if (s->ntargets < s->cap_targets)
      prefetch_span(&s->targets[s->ntargets], sizeof(ps_target));
    if (s->nservices < s->cap_services)
      prefetch_span(&s->services[s->nservices], sizeof(ps_service));
    if (s->nports < s->cap_ports)
      prefetch_span(&s->ports[s->nports], sizeof(ps_port));
  }
  /* Its target and port. */
  for (size_t i = 0; i < n; i++) {
    const ps_source *s = src[i];
    const ps_service *v = svc[i];
    if (v) {
      prefetch_span(&s->targets[v->target], sizeof(ps_target));
      if (v->port_ix != NONE)
        prefetch_span(&s->ports[v->port_ix], sizeof(ps_port));
      continue;
    }
    if (!s || s->lite)
      continue;
    uint32_t th = (uint32_t)c[i].dst_hash;
    if (s->tindex.cap) {
      uint32_t m = s->tindex.cap - 1;
      for (uint32_t k = th & m; s->tindex.slots[k]; k = (k + 1) & m)
        if ((uint32_t)(s->tindex.slots[k] >> 32) == th) {
          prefetch_span(&s->targets[(uint32_t)s->tindex.slots[k] - 1],
                        sizeof(ps_target));
          break;
        }
    }
    prefetch_port(s, c[i].proto, c[i].port);
  }
}

/* --------------------------------------------------------------- contact */

/* Counts a contact not kept exactly in o (a source's, port's or
 * target's o_contacts): by its class, and among the half-open ones. */
static void count_past_exact(uint32_t o[4], const ps_contact *c, int fresh) {
  o[c->cls] += fresh;
  o[PS_O_HALFOPEN] += fresh && (c->reasons & PS_R_HALFOPEN);
}

int nfh__ps_store_contact(ps_store *st, const ps_contact *c) {
  const ps_params *p = &st->p;
  uint64_t th = c->hashed ? c->dst_hash : addr_hash64(&c->dst);
  uint32_t th32 = (uint32_t)th;
  ps_source *s =
      get_source(st, &c->src, c->src_home, c->first_s,
                 mix32(c->hashed ? c->src_hash : addr_hash64(&c->src)),
                 c->cls == PS_SUCC);
  if (!s)
    return -1;
  touch(&s->first_s, &s->last_s, c->first_s, c->last_s);
  int fresh = c->last_s > s->replay_until_s;
  s->contacts += fresh;
  s->contacts_now += fresh;
  s->sampled_now += fresh && c->sampling > 1;
  if (c->sampling > s->sampling)
    s->sampling = c->sampling;
  if (c->ack_conn) {
    s->ack_conns++;
    s->ack_replied += c->replied != 0;
  }
  uint32_t sh = service_hash(th32, c->proto, c->port);
  if (s->lite) {
    if (c->cls == PS_SUCC)
      return lite_contact(st, s, c, th32, sh, fresh);
    promote(st, s);
  }
  /* The service first: a known one names its target and port, and most
   * contacts are repeats. */
  uint32_t si = find_service(s, &c->dst, th32, c->proto, c->port, sh);
  uint32_t ti =
      si != NONE ? s->services[si].target : find_target(s, &c->dst, th32);
  if (ti == NONE && good_has(s, th32)) {
    /* A host this source succeeded with before the sweep folded it. */
    if (c->cls == PS_SUCC) {
      uint32_t pi = get_port(st, s, c->proto, c->port);
      if (pi != NONE) {
        port_contact(&s->ports[pi], c, fresh);
      }
      return 0;
    }
    /* It failed now: back as an entry, its first contact long made. */
    if (s->ntargets < p->max_targets) {
      ti = add_target(st, s, &c->dst, c->dst_home, th32);
      if (ti == NONE)
        return -1;
      ps_target *t = &s->targets[ti];
      t->first_cls = PS_SUCC;
      t->weight = 255;
      t->b_counted = 1;
      target_class(s, t, PS_SUCC);
    }
  } else if (ti == NONE) {
    if (s->ntargets < p->max_targets) {
      ti = add_target(st, s, &c->dst, c->dst_home, th32);
      if (ti == NONE)
        return -1;
      ps_target *t = &s->targets[ti];
      t->first_cls = c->cls;
      t->weight = (uint8_t)lround(c->weight * 255);
      if (!t->weight)
        t->weight = 1;
      t->b_counted = c->cls != PS_WEAK;
      t->first_reasons = c->reasons;
      trw_step(p, s, c->cls, c->weight, c->first_s, 1, 1);
    } else {
      /* Past the cap: the sketch counts the targets, and a register
       * that grew proves a first contact (some first contacts are
       * missed, never a repeat counted). */
      if (s->target_sketch < 0) {
        s->target_sketch = new_sketch(p, s, c->first_s);
        if (s->target_sketch >= 0)
          for (uint32_t i = 0; i < s->ntargets; i++)
            nfh_hll_add_hash(s->sketches[s->target_sketch].hll,
                             addr_hash64(&s->targets[i].addr));
      }
      if (s->target_sketch >= 0 &&
          nfh_hll_add_hash(s->sketches[s->target_sketch].hll, th))
        trw_step(p, s, c->cls, c->weight, c->first_s, 1, 1);
      count_past_exact(s->o_contacts, c, fresh);
    }
  } else if (s->target_sketch >= 0) {
    nfh_hll_add_hash(s->sketches[s->target_sketch].hll, th);
  }

  int failed_now = fresh && c->cls != PS_SUCC;
  s->failed_now |= failed_now;
  ps_target *t = ti != NONE ? &s->targets[ti] : NULL;
  if (t) {
    touch(&t->first_s, &t->last_s, c->first_s, c->last_s);
    t->contacts += fresh;
    if (c->cls != PS_SUCC)
      t->reasons |= c->reasons;
    t->failed_now |= failed_now;
    target_class(s, t, c->cls);
  }

  uint32_t pi = NONE;
  if (si != NONE)
    pi = s->services[si].port_ix;
  if (pi == NONE) {
    pi = get_port(st, s, c->proto, c->port);
    if (si != NONE)
      s->services[si].port_ix = pi;
  }
  ps_port *q = pi != NONE ? &s->ports[pi] : NULL;
  if (q) {
    port_contact(q, c, fresh);
    q->failed_now |= failed_now;
  }
  if (t && si == NONE && s->nservices < p->max_services) {
    si = add_service(st, s, ti, c->proto, c->port, sh, pi);
    if (si == NONE)
      return -1;
  }
  if (si != NONE) {
    ps_service *v = &s->services[si];
    touch(&v->first_s, &v->last_s, c->first_s, c->last_s);
    v->contacts += fresh;
    v->failed_now |= failed_now;
    uint8_t cls = c->cls;
    if (cls != PS_SUCC) {
      v->fails += fresh;
      v->refused +=
          fresh && (c->reasons & (PS_R_RST | PS_R_ICMP | PS_R_DENIED));
      v->reasons |= c->reasons;
    }
    if (cls == PS_WEAK && v->cls <= PS_WEAK && t->icmp_pending) {
      /* An unreachable from this target arrived first: this is the
       * probe it answered. */
      t->icmp_pending--;
      v->reasons |= PS_R_ICMP;
      cls = PS_STRONG;
    }
    service_class(s, v, cls);
    if (cls == PS_STRONG && (v->reasons & PS_R_ICMP))
      upgrade_by_icmp(p, s, t, c->first_s);
  } else {
    /* Not kept exactly: contact tallies, and sketches for the busy
     * port and target so that their distinct counts go on. */
    if (q) {
      count_past_exact(q->o_contacts, c, fresh);
      if (c->cls != PS_SUCC && c->last_s > q->o_last_fail_s)
        q->o_last_fail_s = c->last_s;
      uint32_t o = q->o_contacts[1] + q->o_contacts[2] + q->o_contacts[3];
      if (q->sketch < 0 && o >= SKETCH_AFTER) {
        q->sketch = new_sketch(p, s, c->first_s);
        if (q->sketch >= 0)
          seed_port_sketch(s, q);
      }
      if (q->sketch >= 0)
        nfh_hll_add_hash(s->sketches[q->sketch].hll, th);
    }
    if (t) {
      count_past_exact(t->o_contacts, c, fresh);
      uint32_t o = t->o_contacts[1] + t->o_contacts[2] + t->o_contacts[3];
      if (t->sketch < 0 && o >= SKETCH_AFTER) {
        t->sketch = new_sketch(p, s, c->first_s);
        if (t->sketch >= 0)
          seed_target_sketch(s, ti);
      }
      if (t->sketch >= 0)
        nfh_hll_add_hash(s->sketches[t->sketch].hll,
                         port_key(c->proto, c->port));
    }
  }
  keep_within_entries(st);
  return 0;
}

int nfh__ps_store_unreachable(ps_store *st, const nfh_addr *prober,
                              uint8_t prober_home, const nfh_addr *sender,
                              uint8_t sender_home, int from_target,
                              uint32_t count, uint32_t when_s,
                              double weight) {
  const ps_params *p = &st->p;
  ps_source *s = get_source(st, prober, prober_home, when_s,
                            mix32(addr_hash64(prober)), 0);
  if (!s)
    return -1;
  if (s->lite)
    promote(st, s);
  touch(&s->first_s, &s->last_s, when_s, when_s);
  uint64_t th = addr_hash64(sender);
  uint32_t ti = find_target(s, sender, (uint32_t)th);
  if (ti == NONE && good_has(s, (uint32_t)th) && from_target &&
      s->ntargets < p->max_targets) {
    /* A host that answered before the sweep folded it now refuses: back
     * as an entry, its first contact long made. */
    ti = add_target(st, s, sender, sender_home, (uint32_t)th);
    if (ti == NONE)
      return -1;
    ps_target *t = &s->targets[ti];
    t->first_cls = PS_SUCC;
    t->weight = 255;
    t->b_counted = 1;
    target_class(s, t, PS_SUCC);
  }
  if (ti == NONE) {
    if (!from_target || s->ntargets >= p->max_targets) {
      /* A router or firewall on the way answered for some target: it
       * explains failures, it is no target itself. */
      s->icmp_other += count;
      return 0;
    }
    ti = add_target(st, s, sender, sender_home, (uint32_t)th);
    if (ti == NONE)
      return -1;
    ps_target *t = &s->targets[ti];
    t->first_cls = PS_STRONG;
    t->weight = (uint8_t)lround(weight * 255);
    if (!t->weight)
      t->weight = 1;
    t->b_counted = 1;
    t->reasons = PS_R_ICMP;
    t->first_reasons = PS_R_ICMP;
    t->icmp_pending = count;
    touch(&t->first_s, &t->last_s, when_s, when_s);
    target_class(s, t, PS_STRONG);
    if (s->target_sketch >= 0)
      nfh_hll_add_hash(s->sketches[s->target_sketch].hll, th);
    trw_step(p, s, PS_STRONG, weight, when_s, 1, 1);
    keep_within_entries(st);
    return 0;
  }
  ps_target *t = &s->targets[ti];
  touch(&t->first_s, &t->last_s, when_s, when_s);
  /* Each message answers one probe: turn that many of the target's
   * silent (weak) services into refused ones, keep the rest for probes
   * still to come. */
  uint32_t left = count;
  for (uint32_t i = 0; left && i < s->nservices; i++) {
    ps_service *v = &s->services[i];
    if (v->target == ti && v->cls == PS_WEAK) {
      v->reasons |= PS_R_ICMP;
      service_class(s, v, PS_STRONG);
      left--;
    }
  }
  if (when_s > s->replay_until_s)
    t->icmp_pending += left;
  upgrade_by_icmp(p, s, t, when_s);
  return 0;
}

/* --------------------------------------------------------------- sweep */

static int never_failed(const ps_source *s) {
  return !s->tn[PS_WEAK] && !s->tn[PS_STRONG] && !s->sn[PS_WEAK] &&
         !s->sn[PS_STRONG] && !s->o_contacts[PS_WEAK] &&
         !s->o_contacts[PS_STRONG] && !s->icmp_other && !s->crossed_a &&
         !s->crossed_b;
}

/* Whether a target that has no failed service may be folded. */
static int foldable(const ps_target *t, uint32_t cutoff_s) {
  return t->cls == PS_SUCC && t->last_s < cutoff_s && t->sketch < 0 &&
         !t->icmp_pending && !t->o_contacts[PS_WEAK] &&
         !t->o_contacts[PS_STRONG];
}

/* Makes room for n values in st->scratch. Returns 0 or -1. */
static int scratch_reserve(ps_store *st, uint32_t n) {
  if (n <= st->cap_scratch)
    return 0;
  uint32_t *b = malloc((size_t)n * sizeof(uint32_t));
  if (!b)
    return -1;
  free(st->scratch);
  st->scratch = b;
  st->cap_scratch = n;
  return 0;
}

/* fold_targets' mark of a folded target in a home network (NONE: one
 * outside): its port counts it among folded_home. */
#define FOLDED_HOME (NONE - 1)

/* Folds the source's quiet, always-answering targets into its known-good
 * set and drops their services (their ports keep the distinct counts). */
static void fold_targets(ps_store *st, ps_source *s, uint32_t cutoff_s) {
  uint32_t i = 0;
  while (i < s->ntargets && !foldable(&s->targets[i], cutoff_s))
    i++;
  if (i == s->ntargets || scratch_reserve(st, s->ntargets) != 0)
    return;
  /* The targets with a failed service stay: marked 1 first, then the
   * same array maps old indexes to new (each mark is read before its
   * place is overwritten). */
  uint32_t *remap = st->scratch;
  memset(remap, 0, (size_t)s->ntargets * sizeof(uint32_t));
  for (uint32_t k = 0; k < s->nservices; k++)
    if (s->services[k].cls == PS_WEAK || s->services[k].cls == PS_STRONG)
      remap[s->services[k].target] = 1;
  for (uint32_t k = 0; k < i; k++)
    remap[k] = k;
  uint32_t kept = i;
  for (; i < s->ntargets; i++) {
    ps_target *t = &s->targets[i];
    if (!remap[i] && foldable(t, cutoff_s) && good_add(st, s, t->hash) == 0) {
      remap[i] = t->home ? FOLDED_HOME : NONE;
      s->tn[PS_SUCC]--;
      continue;
    }
    remap[i] = kept;
    if (kept != i)
      s->targets[kept] = *t;
    kept++;
  }
  if (kept == s->ntargets)
    return;
  st->entries -= s->ntargets - kept;
  s->ntargets = kept;
  uint32_t kv = 0;
  for (uint32_t k = 0; k < s->nservices; k++) {
    ps_service v = s->services[k];
    if (remap[v.target] >= FOLDED_HOME) {
      s->sn[v.cls]--;
      if (v.port_ix != NONE) {
        s->ports[v.port_ix].folded++;
        s->ports[v.port_ix].folded_home += remap[v.target] == FOLDED_HOME;
      }
      continue;
    }
    v.target = remap[v.target];
    s->services[kv++] = v;
  }
  st->entries -= s->nservices - kv;
  s->nservices = kv;
  /* Memory follows what is left. */
  pool_shrink(&st->pool, (void **)&s->targets, &s->cap_targets, s->ntargets,
              sizeof(ps_target));
  pool_shrink(&st->pool, (void **)&s->services, &s->cap_services,
              s->nservices, sizeof(ps_service));
  index_fit(&st->pool, &s->tindex, s->targets, s->ntargets, hash_of_target);
  index_fit(&st->pool, &s->sindex, s->services, s->nservices,
            hash_of_service);
}

/* At most one failed target or service and no verdict: one probe. */
static int failed_once(const ps_source *s) {
  return s->tn[PS_WEAK] + s->tn[PS_STRONG] + s->o_contacts[PS_WEAK] +
                 s->o_contacts[PS_STRONG] <=
             1 &&
         s->sn[PS_WEAK] + s->sn[PS_STRONG] <= 1 && s->icmp_other <= 1 &&
         !s->crossed_a && !s->crossed_b;
}

void nfh__ps_store_sweep(ps_store *st, uint32_t now_s, uint32_t idle_s,
                         uint32_t lone_idle_s) {
  if (now_s <= idle_s)
    return;
  uint32_t cutoff = now_s - idle_s;
  uint32_t lone = now_s > lone_idle_s ? now_s - lone_idle_s : 0;
  uint32_t k = 0;
  for (uint32_t i = 0; i < st->nsrc; i++) {
    /* The sources lie anywhere: load the ones a few steps ahead, and
     * the targets of the ones loaded before. */
    if (i + 8 < st->nsrc)
      prefetch_lines(st->src[i + 8], sizeof(ps_source));
    if (i + 4 < st->nsrc) {
      const ps_source *a = st->src[i + 4];
      if (a->ntargets && a->last_s >= st->swept_cutoff_s) {
        prefetch_lines(a->targets, (a->ntargets < 4 ? a->ntargets : 4) *
                                       sizeof(ps_target));
        prefetch_lines(a->services, (a->nservices < 4 ? a->nservices : 4) *
                                        sizeof(ps_service));
      }
    }
    ps_source *s = st->src[i];
    if ((s->last_s < cutoff && never_failed(s)) ||
        (s->last_s < lone && failed_once(s))) {
      st->entries -= source_entries(s);
      source_free(st, s);
      continue;
    }
    /* A source quiet since the last sweep has nothing new to fold: all
     * its targets were quiet then, and nothing has changed them. */
    if (s->last_s >= st->swept_cutoff_s)
      fold_targets(st, s, cutoff);
    st->src[k++] = s;
  }
  st->nsrc = k;
  st->swept_cutoff_s = cutoff;
  src_rebuild(st);
}

/* ------------------------------------------------------------ demotion */

static int synonly_only(uint8_t reasons) {
  return !(reasons & (PS_R_RST | PS_R_ICMP | PS_R_ODD | PS_R_DENIED));
}

static void replay_trw(const ps_params *p, ps_source *s);

void nfh__ps_store_demote_synonly(ps_store *st) {
  for (uint32_t k = 0; k < st->nsrc; k++) {
    ps_source *s = st->src[k];
    for (uint32_t i = 0; i < s->nservices; i++) {
      ps_service *v = &s->services[i];
      if (v->cls != PS_STRONG || !synonly_only(v->reasons))
        continue;
      uint32_t pi = v->port_ix;
      s->sn[PS_STRONG]--;
      s->sn[PS_WEAK]++;
      if (pi != NONE) {
        s->ports[pi].n[PS_STRONG]--;
        s->ports[pi].n[PS_WEAK]++;
      }
      v->cls = PS_WEAK;
    }
    for (uint32_t i = 0; i < s->ntargets; i++) {
      ps_target *t = &s->targets[i];
      if (t->cls == PS_STRONG && synonly_only(t->reasons)) {
        s->tn[PS_STRONG]--;
        s->tn[PS_WEAK]++;
        t->cls = PS_WEAK;
      }
      if (t->first_cls == PS_STRONG && synonly_only(t->first_reasons)) {
        t->first_cls = PS_WEAK;
        t->b_counted = 0;
      }
    }
    replay_trw(&st->p, s);
  }
}

/* -------------------------------------------------------------- state */

/* Blob layout, little-endian, version 2 (1 lacks folded_home):
 *   "NFPS" u32 version u32 nsources, then per source:
 *   addr[16] family home crossed_a crossed_b
 *   u32 first_s last_s crossed_a_s crossed_b_s first_contacts sampling
 *       ack_conns ack_replied icmp_other o_contacts[4]
 *   f64 llr_a llr_b   u64 contacts   i16 target_sketch
 *   u32 nsketches   { u32 created_s u32 len bytes[len] }
 *   u32 ntargets    { addr[16] family cls first_cls weight reasons home
 *                     b_counted first_reasons i16 sketch u32 first_s
 *                     last_s contacts
 *                     icmp_pending o_contacts[4] }
 *   u32 nservices   { u32 target u16 port u8 proto cls reasons
 *                     u32 first_s last_s contacts fails refused }
 *   u32 nports      { u16 port u8 proto i16 sketch u32 o_contacts[4]
 *                     first_s last_s contacts folded folded_home }
 *   u32 ngood       { u32 hash }
 * and after the sources, from version 3:
 *   u32 nedges      { u32 hash at_s }   (nfh__ps_store_note_edge)
 * Per-port and per-target tallies by class are rebuilt from the
 * services on load, so they cannot disagree with them. */

/* A saved target's size: address and family, seven bytes of classes
 * and flags, the sketch index, eight u32. */
#define SAVED_TARGET_BYTES (17 + 7 + 2 + 8 * 4)

#define BLOB_MAGIC "NFPS"
#define BLOB_VERSION 3

typedef struct wbuf {
  uint8_t *b;
  size_t n, cap;
  int failed;
} wbuf;

static void put(wbuf *w, const void *data, size_t len) {
  if (w->failed)
    return;
  if (w->n + len > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->n + len)
      cap *= 2;
    uint8_t *grown = realloc(w->b, cap);
    if (!grown) {
      w->failed = 1;
      return;
    }
    w->b = grown;
    w->cap = cap;
  }
  if (data)
    memcpy(w->b + w->n, data, len);
  w->n += len;
}

static void put_u8(wbuf *w, uint8_t v) { put(w, &v, 1); }

static void put_le(wbuf *w, uint64_t v, int bytes) {
  uint8_t b[8];
  for (int i = 0; i < bytes; i++)
    b[i] = (uint8_t)(v >> (8 * i));
  put(w, b, (size_t)bytes);
}

static void put_u16(wbuf *w, uint16_t v) { put_le(w, v, 2); }
static void put_u32(wbuf *w, uint32_t v) { put_le(w, v, 4); }
static void put_u64(wbuf *w, uint64_t v) { put_le(w, v, 8); }
static void put_i16(wbuf *w, int16_t v) { put_le(w, (uint16_t)v, 2); }

static void put_f64(wbuf *w, double d) {
  uint64_t v;
  memcpy(&v, &d, 8);
  put_u64(w, v);
}

static void put_addr(wbuf *w, const nfh_addr *a) {
  put(w, a->bytes, 16);
  put_u8(w, a->family);
}

typedef struct pick {
  double suspicion;
  const ps_source *s;
} pick;

static int by_suspicion_desc(const void *pa, const void *pb) {
  const pick *a = pa, *b = pb;
  if (a->suspicion != b->suspicion)
    return a->suspicion > b->suspicion ? -1 : 1;
  return nfh_addr_compare(&a->s->addr, &b->s->addr);
}

static int worth_keeping(const ps_source *s, uint32_t horizon_s) {
  return s->last_s >= horizon_s &&
         (s->tn[PS_WEAK] || s->tn[PS_STRONG] || s->sn[PS_WEAK] ||
          s->sn[PS_STRONG] || s->o_contacts[PS_WEAK] ||
          s->o_contacts[PS_STRONG] || s->icmp_other);
}

static void save_source(wbuf *w, const ps_source *s, uint32_t horizon_s,
                        uint32_t *remap, int16_t *sketch_map) {
  /* Which sketches, targets and services survive the horizon. */
  uint32_t nsk = 0;
  for (uint32_t i = 0; i < s->nsketches; i++)
    sketch_map[i] = s->sketches[i].created_s >= horizon_s &&
                            s->sketches[i].hll
                        ? (int16_t)nsk++
                        : -1;
  uint32_t nt = 0;
  for (uint32_t i = 0; i < s->ntargets; i++)
    remap[i] = s->targets[i].last_s >= horizon_s ? nt++ : NONE;
  uint32_t nv = 0;
  for (uint32_t i = 0; i < s->nservices; i++)
    nv += remap[s->services[i].target] != NONE &&
          s->services[i].last_s >= horizon_s;
  uint32_t np = 0;
  for (uint32_t i = 0; i < s->nports; i++)
    np += s->ports[i].last_s >= horizon_s;

  put_addr(w, &s->addr);
  put_u8(w, s->home);
  put_u8(w, s->crossed_a);
  put_u8(w, s->crossed_b);
  put_u32(w, s->first_s);
  put_u32(w, s->last_s);
  put_u32(w, s->crossed_a_s);
  put_u32(w, s->crossed_b_s);
  put_u32(w, s->first_contacts);
  put_u32(w, s->sampling);
  put_u32(w, s->ack_conns);
  put_u32(w, s->ack_replied);
  put_u32(w, s->icmp_other);
  for (int k = 0; k < 4; k++)
    put_u32(w, s->o_contacts[k]);
  put_f64(w, s->llr_a);
  put_f64(w, s->llr_b);
  put_u64(w, s->contacts);
  put_i16(w, s->target_sketch >= 0 ? sketch_map[s->target_sketch] : -1);
  put_u32(w, nsk);
  for (uint32_t i = 0; i < s->nsketches; i++) {
    if (sketch_map[i] < 0)
      continue;
    size_t len = nfh_hll_serialized_size(s->sketches[i].hll), written = 0;
    put_u32(w, s->sketches[i].created_s);
    put_u32(w, (uint32_t)len);
    /* Reserve the bytes, then let the sketch write itself into them. */
    size_t at = w->n;
    put(w, NULL, len);
    if (!w->failed)
      nfh_hll_serialize(s->sketches[i].hll, w->b + at, len, &written);
  }
  put_u32(w, nt);
  for (uint32_t i = 0; i < s->ntargets; i++) {
    const ps_target *t = &s->targets[i];
    if (remap[i] == NONE)
      continue;
    put_addr(w, &t->addr);
    put_u8(w, t->cls);
    put_u8(w, t->first_cls);
    put_u8(w, t->weight);
    put_u8(w, t->reasons);
    put_u8(w, t->home);
    put_u8(w, t->b_counted);
    put_u8(w, t->first_reasons);
    put_i16(w, t->sketch >= 0 ? sketch_map[t->sketch] : -1);
    put_u32(w, t->first_s);
    put_u32(w, t->last_s);
    put_u32(w, t->contacts);
    put_u32(w, t->icmp_pending);
    for (int k = 0; k < 4; k++)
      put_u32(w, t->o_contacts[k]);
  }
  put_u32(w, nv);
  for (uint32_t i = 0; i < s->nservices; i++) {
    const ps_service *v = &s->services[i];
    if (remap[v->target] == NONE || v->last_s < horizon_s)
      continue;
    put_u32(w, remap[v->target]);
    put_u16(w, v->port);
    put_u8(w, v->proto);
    put_u8(w, v->cls);
    put_u8(w, v->reasons);
    put_u32(w, v->first_s);
    put_u32(w, v->last_s);
    put_u32(w, v->contacts);
    put_u32(w, v->fails);
    put_u32(w, v->refused);
  }
  put_u32(w, np);
  for (uint32_t i = 0; i < s->nports; i++) {
    const ps_port *q = &s->ports[i];
    if (q->last_s < horizon_s)
      continue;
    put_u16(w, q->port);
    put_u8(w, q->proto);
    put_i16(w, q->sketch >= 0 ? sketch_map[q->sketch] : -1);
    for (int k = 0; k < 4; k++)
      put_u32(w, q->o_contacts[k]);
    put_u32(w, q->first_s);
    put_u32(w, q->last_s);
    put_u32(w, q->contacts);
    put_u32(w, q->folded);
    put_u32(w, q->folded_home);
  }
  put_u32(w, s->ngood);
  for (uint32_t i = 0; i < s->cap_good; i++)
    if (s->good[i])
      put_u32(w, s->good[i]);
}

int nfh__ps_store_save(const ps_store *st, uint32_t horizon_s,
                       uint32_t max_sources, uint64_t max_entries,
                       void **data, size_t *len) {
  *data = NULL;
  *len = 0;
  pick *picks = malloc(((size_t)st->nsrc + 1) * sizeof(*picks));
  uint32_t *remap = malloc(((size_t)st->p.max_targets + 1) * sizeof(uint32_t));
  int16_t *sketch_map =
      malloc(((size_t)st->p.max_sketches + 1) * sizeof(int16_t));
  if (!picks || !remap || !sketch_map) {
    free(picks);
    free(remap);
    free(sketch_map);
    return -1;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < st->nsrc; i++)
    if (worth_keeping(st->src[i], horizon_s)) {
      picks[n].suspicion = nfh__ps_suspicion(st->src[i]);
      picks[n].s = st->src[i];
      n++;
    }
  qsort(picks, n, sizeof(*picks), by_suspicion_desc);
  uint64_t entries = 0;
  uint32_t keep = 0;
  while (keep < n && keep < max_sources &&
         entries + source_cost(picks[keep].s) <= max_entries) {
    entries += source_cost(picks[keep].s);
    keep++;
  }
  wbuf w = {0};
  put(&w, BLOB_MAGIC, 4);
  put_u32(&w, BLOB_VERSION);
  put_u32(&w, keep);
  for (uint32_t i = 0; i < keep; i++)
    save_source(&w, picks[i].s, horizon_s, remap, sketch_map);
  uint32_t nedges = 0;
  for (uint32_t i = 0; i < st->nedges; i++)
    nedges += st->edges[i].at_s >= horizon_s;
  put_u32(&w, nedges);
  for (uint32_t i = 0; i < st->nedges; i++)
    if (st->edges[i].at_s >= horizon_s) {
      put_u32(&w, st->edges[i].hash);
      put_u32(&w, st->edges[i].at_s);
    }
  free(picks);
  free(remap);
  free(sketch_map);
  if (w.failed) {
    free(w.b);
    return -1;
  }
  *data = w.b;
  *len = w.n;
  return 0;
}

typedef struct rbuf {
  const uint8_t *b;
  size_t n, off;
  int failed;
} rbuf;

static const uint8_t *take(rbuf *r, size_t len) {
  if (r->failed || r->n - r->off < len) {
    r->failed = 1;
    return NULL;
  }
  const uint8_t *p = r->b + r->off;
  r->off += len;
  return p;
}

static uint64_t get_le(rbuf *r, int bytes) {
  const uint8_t *p = take(r, (size_t)bytes);
  uint64_t v = 0;
  if (p)
    for (int i = 0; i < bytes; i++)
      v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static uint8_t get_u8(rbuf *r) { return (uint8_t)get_le(r, 1); }
static uint16_t get_u16(rbuf *r) { return (uint16_t)get_le(r, 2); }
static uint32_t get_u32(rbuf *r) { return (uint32_t)get_le(r, 4); }
static uint64_t get_u64(rbuf *r) { return get_le(r, 8); }
static int16_t get_i16(rbuf *r) { return (int16_t)get_u16(r); }

static double get_f64(rbuf *r) {
  uint64_t v = get_u64(r);
  double d;
  memcpy(&d, &v, 8);
  return isfinite(d) ? d : 0;
}

static void get_addr(rbuf *r, nfh_addr *a) {
  const uint8_t *p = take(r, 16);
  memset(a, 0, sizeof(*a));
  if (p)
    memcpy(a->bytes, p, 16);
  a->family = get_u8(r);
  if (a->family != 4 && a->family != 6)
    r->failed = 1;
}

static uint8_t get_cls(rbuf *r) {
  uint8_t c = get_u8(r);
  if (c > PS_SUCC)
    r->failed = 1;
  return c;
}

/* A sketch index read from the blob, checked against the sketches. */
static int16_t get_sketch_ref(rbuf *r, const ps_source *s) {
  int16_t k = get_i16(r);
  if (k < -1 || (k >= 0 && (uint32_t)k >= s->nsketches)) {
    r->failed = 1;
    return -1;
  }
  return k;
}

typedef struct replay {
  uint32_t when;
  uint32_t i;
} replay;

static int by_when(const void *pa, const void *pb) {
  const replay *a = pa, *b = pb;
  if (a->when != b->when)
    return a->when < b->when ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

/* Walks the TRW again over the targets kept, in order of first contact:
 * what expired no longer counts. A source past its exact cap keeps its
 * saved walk, as its other first contacts are not known one by one. */
static void replay_trw(const ps_params *p, ps_source *s) {
  /* Folded targets' first contacts are not known one by one either. */
  if (s->target_sketch >= 0 || s->ngood || s->lite)
    return;
  s->llr_a = s->llr_b = 0;
  s->crossed_a = s->crossed_b = 0;
  s->crossed_a_s = s->crossed_b_s = 0;
  s->first_contacts = 0;
  replay *order = malloc(((size_t)s->ntargets + 1) * sizeof(*order));
  if (!order)
    return;
  for (uint32_t i = 0; i < s->ntargets; i++) {
    order[i].when = s->targets[i].first_s;
    order[i].i = i;
  }
  qsort(order, s->ntargets, sizeof(*order), by_when);
  for (uint32_t k = 0; k < s->ntargets; k++) {
    const ps_target *t = &s->targets[order[k].i];
    double w = t->weight / 255.0;
    trw_step(p, s, t->first_cls, w, t->first_s, 1, t->first_cls != PS_WEAK);
    if (t->first_cls == PS_WEAK && t->b_counted)
      trw_step(p, s, PS_STRONG, w, t->first_s, 0, 1);
  }
  free(order);
}

static int load_source(ps_store *st, rbuf *r, uint32_t horizon_s,
                       uint32_t version) {
  const ps_params *p = &st->p;
  nfh_addr a;
  get_addr(r, &a);
  uint8_t home = get_u8(r);
  if (r->failed)
    return -1;
  ps_source *s = get_source(st, &a, home, 0, mix32(addr_hash64(&a)), 0);
  if (!s)
    return -1;
  if (s->ntargets || s->nservices) {
    r->failed = 1; /* the same source twice */
    return -1;
  }
  s->crossed_a = get_u8(r) != 0;
  s->crossed_b = get_u8(r) != 0;
  s->first_s = get_u32(r);
  s->last_s = get_u32(r);
  s->crossed_a_s = get_u32(r);
  s->crossed_b_s = get_u32(r);
  s->first_contacts = get_u32(r);
  s->sampling = get_u32(r);
  if (!s->sampling)
    s->sampling = 1;
  s->ack_conns = get_u32(r);
  s->ack_replied = get_u32(r);
  s->icmp_other = get_u32(r);
  for (int k = 0; k < 4; k++)
    s->o_contacts[k] = get_u32(r);
  s->llr_a = get_f64(r);
  s->llr_b = get_f64(r);
  s->contacts = get_u64(r);
  int16_t tsk = get_i16(r);
  uint32_t nsk = get_u32(r);
  if (r->failed || nsk > 4096)
    return -1;
  for (uint32_t i = 0; i < nsk; i++) {
    uint32_t created = get_u32(r);
    uint32_t len = get_u32(r);
    const uint8_t *bytes = take(r, len);
    if (!bytes)
      return -1;
    /* Sketches beyond this run's limit or horizon are dropped; their
     * references become -1 below. */
    nfh_hll *h = NULL;
    if (nfh_hll_deserialize(bytes, len, &h) != NFH_OK) {
      r->failed = 1;
      return -1;
    }
    ps_sketch *grown =
        realloc(s->sketches, (s->nsketches + 1) * sizeof(ps_sketch));
    if (!grown) {
      nfh_hll_destroy(h);
      return -1;
    }
    s->sketches = grown;
    s->sketches[s->nsketches].hll = h;
    s->sketches[s->nsketches].created_s = created;
    s->nsketches++;
  }
  if (tsk < -1 || (tsk >= 0 && (uint32_t)tsk >= s->nsketches)) {
    r->failed = 1;
    return -1;
  }
  s->target_sketch = tsk;

  /* The count is checked against the bytes left before it sizes the
   * remap table: a damaged count would ask for gigabytes. */
  uint32_t nt = get_u32(r);
  if (r->failed || nt > (r->n - r->off) / SAVED_TARGET_BYTES) {
    r->failed = 1;
    return -1;
  }
  uint32_t *remap = malloc(((size_t)nt + 1) * sizeof(uint32_t));
  if (!remap)
    return -1;
  for (uint32_t i = 0; i < nt; i++) {
    nfh_addr ta;
    get_addr(r, &ta);
    ps_target t;
    memset(&t, 0, sizeof(t));
    t.cls = get_cls(r);
    t.first_cls = get_cls(r);
    t.weight = get_u8(r);
    t.reasons = get_u8(r);
    t.home = get_u8(r);
    t.b_counted = get_u8(r) != 0;
    t.first_reasons = get_u8(r);
    t.sketch = get_sketch_ref(r, s);
    t.first_s = get_u32(r);
    t.last_s = get_u32(r);
    t.contacts = get_u32(r);
    t.icmp_pending = get_u32(r);
    for (int k = 0; k < 4; k++)
      t.o_contacts[k] = get_u32(r);
    remap[i] = NONE;
    if (r->failed || t.first_cls == PS_NONE) {
      r->failed = 1;
      free(remap);
      return -1;
    }
    if (t.last_s < horizon_s || s->ntargets >= p->max_targets)
      continue;
    uint64_t th = addr_hash64(&ta);
    if (find_target(s, &ta, (uint32_t)th) != NONE)
      continue;
    uint32_t ti = add_target(st, s, &ta, t.home, (uint32_t)th);
    if (ti == NONE) {
      free(remap);
      return -1;
    }
    ps_target *dst = &s->targets[ti];
    t.addr = ta;
    t.hash = (uint32_t)th;
    uint8_t cls = t.cls;
    t.cls = PS_NONE;
    *dst = t;
    if (cls)
      target_class(s, dst, cls);
    remap[i] = ti;
  }
  uint32_t nv = get_u32(r);
  for (uint32_t i = 0; !r->failed && i < nv; i++) {
    uint32_t tix = get_u32(r);
    uint16_t port = get_u16(r);
    uint8_t proto = get_u8(r);
    uint8_t cls = get_cls(r);
    uint8_t reasons = get_u8(r);
    uint32_t f = get_u32(r), l = get_u32(r);
    uint32_t contacts = get_u32(r), fails = get_u32(r);
    uint32_t refused = get_u32(r);
    if (r->failed || tix >= nt || cls == PS_NONE) {
      r->failed = 1;
      break;
    }
    uint32_t ti = remap[tix];
    if (ti == NONE || l < horizon_s || s->nservices >= p->max_services)
      continue;
    const ps_target *lt = &s->targets[ti];
    uint32_t sh = service_hash(lt->hash, proto, port);
    if (find_service(s, &lt->addr, lt->hash, proto, port, sh) != NONE)
      continue;
    uint32_t pi = get_port(st, s, proto, port);
    uint32_t si = add_service(st, s, ti, proto, port, sh, pi);
    if (si == NONE) {
      free(remap);
      return -1;
    }
    ps_service *v = &s->services[si];
    v->first_s = f;
    v->last_s = l;
    v->contacts = contacts;
    v->fails = fails;
    v->refused = refused;
    v->reasons = reasons;
    service_class(s, v, cls);
    if (pi != NONE)
      touch(&s->ports[pi].first_s, &s->ports[pi].last_s, f, l);
  }
  free(remap);
  uint32_t np = get_u32(r);
  for (uint32_t i = 0; !r->failed && i < np; i++) {
    uint16_t port = get_u16(r);
    uint8_t proto = get_u8(r);
    int16_t sk = get_sketch_ref(r, s);
    uint32_t o[4];
    for (int k = 0; k < 4; k++)
      o[k] = get_u32(r);
    uint32_t f = get_u32(r), l = get_u32(r), contacts = get_u32(r);
    uint32_t folded = get_u32(r);
    /* Version 1 did not tell home from outside: all may be home, which
     * only makes a scan of home hosts look less failed. */
    uint32_t folded_home = version >= 2 ? get_u32(r) : folded;
    if (folded_home > folded)
      folded_home = folded;
    if (r->failed || l < horizon_s)
      continue;
    uint32_t pi = get_port(st, s, proto, port);
    if (pi == NONE)
      continue;
    ps_port *q = &s->ports[pi];
    q->sketch = sk;
    memcpy(q->o_contacts, o, sizeof(o));
    touch(&q->first_s, &q->last_s, f, l);
    q->contacts += contacts;
    q->folded += folded;
    q->folded_home += folded_home;
    q->n[PS_SUCC] += folded;
  }
  if (s->nports >= st->p.max_services + EXTRA_PORTS)
    s->ports_full = 1; /* it was, or may have been, in the run that saved */
  uint32_t ngood = get_u32(r);
  if (r->failed || ngood > r->n - r->off)
    return -1;
  for (uint32_t i = 0; i < ngood; i++) {
    uint32_t h = get_u32(r);
    if (r->failed || good_add(st, s, h) != 0)
      return -1;
  }
  if (r->failed)
    return -1;
  /* Sketches past this run's limit are forgotten along with their
   * references. */
  if (s->nsketches > p->max_sketches) {
    for (uint32_t i = p->max_sketches; i < s->nsketches; i++) {
      nfh_hll_destroy(s->sketches[i].hll);
      s->sketches[i].hll = NULL;
    }
    if (s->target_sketch >= (int16_t)p->max_sketches)
      s->target_sketch = -1;
    for (uint32_t i = 0; i < s->ntargets; i++)
      if (s->targets[i].sketch >= (int16_t)p->max_sketches)
        s->targets[i].sketch = -1;
    for (uint32_t i = 0; i < s->nports; i++)
      if (s->ports[i].sketch >= (int16_t)p->max_sketches)
        s->ports[i].sketch = -1;
    s->nsketches = p->max_sketches;
  }
  replay_trw(p, s);
  s->replay_until_s = s->last_s;
  for (uint32_t i = 0; i < s->nports; i++)
    s->ports[i].prior_last_s = s->ports[i].last_s;
  return 0;
}

static void store_clear(ps_store *st) {
  for (uint32_t i = 0; i < st->nsrc; i++)
    source_free(st, st->src[i]);
  st->nsrc = 0;
  st->nedges = 0;
  st->entries = 0;
  src_rebuild(st);
}

int nfh__ps_store_load(ps_store *st, const void *data, size_t len,
                       uint32_t horizon_s) {
  rbuf r = {data, len, 0, 0};
  const uint8_t *magic = take(&r, 4);
  if (!magic || memcmp(magic, BLOB_MAGIC, 4) != 0)
    return -1;
  uint32_t version = get_u32(&r);
  if (r.failed)
    return -1;
  if (version < 1 || version > BLOB_VERSION)
    return 1;
  uint32_t n = get_u32(&r);
  for (uint32_t i = 0; !r.failed && i < n; i++) {
    if (load_source(st, &r, horizon_s, version) != 0) {
      store_clear(st);
      return -1;
    }
  }
  uint32_t nedges = version >= 3 ? get_u32(&r) : 0;
  if (!r.failed && nedges > (r.n - r.off) / 8)
    r.failed = 1; /* more than the blob holds: damage */
  for (uint32_t i = 0; !r.failed && i < nedges; i++) {
    uint32_t hash = get_u32(&r), at = get_u32(&r);
    if (!r.failed && at >= horizon_s &&
        nfh__ps_store_note_edge(st, hash, at) != 0)
      r.failed = 1;
  }
  if (r.failed || r.off != r.n) {
    store_clear(st);
    return -1;
  }
  /* Sources whose whole activity lies before the horizon add nothing. */
  uint32_t k = 0;
  for (uint32_t i = 0; i < st->nsrc; i++) {
    ps_source *s = st->src[i];
    if (s->last_s < horizon_s || (!s->ntargets && !s->icmp_other &&
                                  s->target_sketch < 0)) {
      st->entries -= source_entries(s);
      source_free(st, s);
    } else {
      st->src[k++] = s;
    }
  }
  st->nsrc = k;
  src_rebuild(st);
  return 0;
}
