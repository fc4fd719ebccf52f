// Repacks the key/value caches of running sequences into one batch cache, so sequences can join and leave a batch
// between decode steps (continuous batching, Yu et al. "Orca", OSDI 2022). Each row's real positions are contiguous at
// the end of the written part (left padding masked), so a row is its last `span` positions; packing right-aligns every
// row's span to the longest one and masks the rest. Leaves out paged blocks (vLLM's PagedAttention): rows are copied.
import type { TransformerConfig } from './config.ts';
import { type KvBufferPool, KvCache } from './kv-cache.ts';

export interface CacheRow {
  cache: KvCache;
  row: number; // b of the cache's (B, …) rows
}

/** Real positions of a row: the written positions from its first unmasked one to the end. */
export function rowSpan(cache: KvCache, row: number): number {
  const base = row * cache.capacity;
  for (let j = 0; j < cache.length; j++) if (cache.keyMask[base + j] !== 0) return cache.length - j;
  return 0;
}

/**
 * A new cache of rows.length rows holding each source row's span right-aligned at [L - span, L), L the longest span;
 * room for `headroom` more positions before it grows; never more than maxCapacity positions; buffers from `pool`.
 */
export function packRows(config: TransformerConfig, rows: readonly CacheRow[], options: { headroom: number; maxCapacity: number; pool?: KvBufferPool }): KvCache {
  if (rows.length === 0) throw new Error('packRows: no rows');
  const spans = rows.map((r) => rowSpan(r.cache, r.row));
  const L = Math.max(...spans);
  if (L + 1 > options.maxCapacity) throw new Error(`packRows: a row of ${L} positions does not fit ${options.maxCapacity}`);
  const packed = new KvCache(config, rows.length, options.maxCapacity, Math.min(options.maxCapacity, L + Math.max(1, options.headroom)), options.pool);
  const { numKvHeads: Hkv, headDim: D, numLayers } = config;
  const cap = packed.capacity;
  rows.forEach(({ cache: source, row }, b) => {
    const span = spans[b]!, from = source.length - span, to = L - span, sourceCap = source.capacity;
    for (let layer = 0; layer < numLayers; layer++) {
      const sk = source.keys[layer]!, sv = source.values[layer]!, dk = packed.keys[layer]!, dv = packed.values[layer]!;
      for (let h = 0; h < Hkv; h++) {
        const src = ((row * Hkv + h) * sourceCap + from) * D, dst = ((b * Hkv + h) * cap + to) * D;   // (B, Hkv, cap, D)
        dk.set(sk.subarray(src, src + span * D), dst);
        dv.set(sv.subarray(src, src + span * D), dst);
      }
    }
    packed.keyMask.fill(1, b * cap + to, b * cap + L);                                                  // (B, cap)
  });
  packed.length = L;
  return packed;
}
