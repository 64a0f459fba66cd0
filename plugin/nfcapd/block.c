/* block.c - the decoded form of one data block; see block.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/alloc.h"
#include "block.h"

void nfh__block_reset(nfh__block *block) {
  block->nflows = 0;
  block->nexporters = 0;
  block->nsamplers = 0;
  block->nstats = 0;
  block->status = NFH_OK;
  block->errmsg[0] = '\0';
  block->faults = 0;
  block->fault[0] = '\0';
  block->damaged = 0;
  block->v1_records = 0;
}

void nfh__block_fault(nfh__block *block, const char *fmt, ...) {
  if (block->faults++ == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(block->fault, sizeof(block->fault), fmt, ap);
    va_end(ap);
  }
}

void nfh__block_free(nfh__block *block) {
  nfh__free(block->raw);
  nfh__free(block->data);
  nfh__free(block->flows);
  nfh__free(block->selectors);
  nfh__free(block->exporters);
  nfh__free(block->samplers);
  nfh__free(block->exporter_at);
  nfh__free(block->sampler_at);
  nfh__free(block->stats);
  nfh__free(block->stat_at);
  memset(block, 0, sizeof(*block));
}

/* Grows an array of 'elem' sized items to hold one more; 0 or -1. */
static int grow(void **items, size_t *cap, size_t count, size_t elem) {
  if (count < *cap)
    return 0;
  size_t new_cap = *cap ? *cap * 2 : 256;
  void *grown = nfh__realloc(*items, new_cap * elem);
  if (!grown)
    return -1;
  *items = grown;
  *cap = new_cap;
  return 0;
}

nfh_flow *nfh__block_add_flow(nfh__block *block) {
  size_t old_cap = block->flows_cap;
  if (grow((void **)&block->flows, &block->flows_cap, block->nflows,
           sizeof(nfh_flow)) != 0)
    return NULL;
  if (block->selectors && block->flows_cap != old_cap) {
    int64_t *grown = nfh__realloc(block->selectors,
                                  block->flows_cap * sizeof(int64_t));
    if (!grown)
      return NULL;
    block->selectors = grown;
  }
  nfh_flow *flow = &block->flows[block->nflows];
  memset(flow, 0, sizeof(*flow));
  flow->sampling = 1;
  flow->aggr_flows = 1;
  if (block->selectors)
    block->selectors[block->nflows] = NFH__NO_SELECTOR;
  block->nflows++;
  return flow;
}

nfh_status nfh__block_set_selector(nfh__block *block, size_t flow_index,
                                   int64_t selector) {
  if (flow_index >= block->nflows)
    return NFH_EINVAL;
  if (!block->selectors) {
    /* Allocated on first use: most files carry no sampler elements. */
    block->selectors = nfh__malloc(block->flows_cap * sizeof(int64_t));
    if (!block->selectors)
      return NFH_ENOMEM;
    for (size_t i = 0; i < block->nflows; i++)
      block->selectors[i] = NFH__NO_SELECTOR;
  }
  block->selectors[flow_index] = selector;
  return NFH_OK;
}

/* Grows a record array and its position array together. Both grow
 * before *cap changes, so that after a failed allocation *cap still fits
 * both (a block is reused after an out-of-memory fault). */
static int grow_placed(void **items, size_t **at, size_t *cap, size_t count,
                       size_t elem) {
  if (count < *cap)
    return 0;
  size_t new_cap = *cap ? *cap * 2 : 256;
  size_t *grown_at = nfh__realloc(*at, new_cap * sizeof(size_t));
  if (!grown_at)
    return -1;
  *at = grown_at;
  void *grown = nfh__realloc(*items, new_cap * elem);
  if (!grown)
    return -1;
  *items = grown;
  *cap = new_cap;
  return 0;
}

nfh_status nfh__block_add_exporter(nfh__block *block, const nfh_exporter *e) {
  if (grow_placed((void **)&block->exporters, &block->exporter_at,
                  &block->exporters_cap, block->nexporters, sizeof(*e)) != 0)
    return NFH_ENOMEM;
  block->exporter_at[block->nexporters] = block->nflows;
  block->exporters[block->nexporters++] = *e;
  return NFH_OK;
}

nfh_status nfh__block_add_sampler(nfh__block *block, const nfh_sampler *s) {
  if (grow_placed((void **)&block->samplers, &block->sampler_at,
                  &block->samplers_cap, block->nsamplers, sizeof(*s)) != 0)
    return NFH_ENOMEM;
  block->sampler_at[block->nsamplers] = block->nflows;
  block->samplers[block->nsamplers++] = *s;
  return NFH_OK;
}

nfh_status nfh__block_add_exporter_stat(nfh__block *block,
                                        const nfh_exporter_stat *s) {
  if (grow_placed((void **)&block->stats, &block->stat_at, &block->stats_cap,
                  block->nstats, sizeof(*s)) != 0)
    return NFH_ENOMEM;
  block->stat_at[block->nstats] = block->nflows;
  block->stats[block->nstats++] = *s;
  return NFH_OK;
}

nfh_status nfh__block_fail(nfh__block *block, nfh_status status,
                           const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(block->errmsg, sizeof(block->errmsg), fmt, ap);
  va_end(ap);
  block->status = status;
  return status;
}
