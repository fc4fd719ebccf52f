// The KV cache's buffer pool: exact-length views of pooled buffers, a released cache's buffers handed out again, a
// buffer never out twice at once, and growth that keeps what was written while its old buffers go back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor } from '../engine/index.ts';
import { KvBufferPool, KvCache } from './kv-cache.ts';
import { tinyGpt2Config } from './testing/tiny-models.ts';

test('KvBufferPool: exact-length views; released buffers come back, never two holders at once', () => {
  const pool = new KvBufferPool();
  const a = pool.take(100), b = pool.take(100);
  assert.equal(a.length, 100);
  assert.notEqual(a.buffer, b.buffer, 'two buffers out at once are distinct');
  pool.give([a]);
  pool.give([a]);                                            // a second give of the same buffer is ignored
  const c = pool.take(120), d = pool.take(120);              // same size class (128)
  assert.equal(c.buffer, a.buffer, 'the released buffer is handed out again');
  assert.notEqual(d.buffer, a.buffer, 'and only once');
});

test('KvCache with a pool: growing keeps the written positions and hands the old buffers back', () => {
  const config = tinyGpt2Config();
  const pool = new KvBufferPool();
  const { numKvHeads: Hkv, headDim: D } = config;
  const cache = new KvCache(config, 2, 40, 4, pool);
  const step = (value: number) => {
    cache.reserve(2, 1);
    cache.writeMask(null, 1);
    const k = new Tensor(new Float32Array(2 * Hkv * D).fill(value), [2, Hkv, 1, D]);   // (B, Hkv, T, D)
    for (let layer = 0; layer < config.numLayers; layer++) cache.write(layer, k, k);
    cache.advance(1);
  };
  for (let t = 0; t < 9; t++) step(t + 1);                   // capacity 4 -> 8 -> 16
  assert.equal(cache.capacity, 16);
  for (let b = 0; b < 2; b++) for (let h = 0; h < Hkv; h++) for (let t = 0; t < 9; t++) {
    assert.equal(cache.keys[0]![((b * Hkv + h) * cache.capacity + t) * D], t + 1, `row ${b} head ${h} position ${t}`);
  }
  const reused = pool.take(2 * Hkv * 8 * D);                 // the capacity-8 buffers went back when it grew to 16
  assert.ok(reused.some((x) => x !== 0), 'a buffer from before the growth, stale contents and all');
  cache.release();
  assert.equal(cache.keys.length, 0);
});

test('KvCache.keepRows: the kept rows move down in place, contents and mask with them, nothing allocated', () => {
  const config = tinyGpt2Config();
  const pool = new KvBufferPool();
  const { numKvHeads: Hkv, headDim: D } = config;
  const B = 4, cache = new KvCache(config, B, 40, 8, pool);
  const mask = Float32Array.from({ length: B * 3 }, (_, i) => (i % 3 === 0 && i / 3 === 1 ? 0 : 1));   // row 1 starts with padding
  cache.reserve(B, 3);
  cache.writeMask(mask, 3);
  const k = new Tensor(Float32Array.from({ length: B * Hkv * 3 * D }, (_, i) => i), [B, Hkv, 3, D]);    // (B, Hkv, T, D)
  const v = new Tensor(Float32Array.from({ length: B * Hkv * 3 * D }, (_, i) => -i), [B, Hkv, 3, D]);
  for (let layer = 0; layer < config.numLayers; layer++) cache.write(layer, k, v);
  cache.advance(3);
  const buffers = cache.keys.map((key) => key.buffer), all = new Set([...buffers, ...cache.values.map((value) => value.buffer)]);
  cache.keepRows([1, 3]);
  assert.equal(cache.batch, 2);
  assert.ok(cache.keys.every((key, layer) => key.buffer === buffers[layer]), 'the same buffers, no copy elsewhere');
  const cap = cache.capacity;
  for (const [to, from] of [[0, 1], [1, 3]] as const) {
    for (let h = 0; h < Hkv; h++) for (let t = 0; t < 3; t++) for (let d = 0; d < D; d++) {
      const expected = ((from * Hkv + h) * 3 + t) * D + d, at = ((to * Hkv + h) * cap + t) * D + d;
      assert.equal(cache.keys[config.numLayers - 1]![at], expected, `key row ${to} head ${h} position ${t}`);
      assert.equal(cache.values[0]![at], -expected, `value row ${to} head ${h} position ${t}`);
    }
    assert.deepEqual(Array.from(cache.keyMask.subarray(to * cap, to * cap + 3)), Array.from(mask.subarray(from * 3, from * 3 + 3)), `mask of row ${to}`);
  }
  assert.equal(cache.keyMask.length, 2 * cap);
  assert.throws(() => cache.keepRows([1, 0]), /ascending distinct/);
  cache.release();
  assert.ok(all.has(pool.take(B * Hkv * cap * D).buffer), 'the whole buffers go back to the pool');
});

test('KvBufferPool keeps buffers up to a byte budget, however many share a size', () => {
  const pool = new KvBufferPool(16 * 4 * 128);                  // room for 16 buffers of 128 floats
  const taken = Array.from({ length: 20 }, () => pool.take(100)); // one evicted 10-layer cache: 20 buffers of one size
  pool.give(taken);
  assert.equal(pool.heldBytes, 16 * 4 * 128, 'sixteen kept, four over the budget dropped');
  const again = Array.from({ length: 16 }, () => pool.take(128));
  assert.ok(again.every((b) => taken.some((t) => t.buffer === b.buffer)), 'all sixteen handed out again');
  assert.equal(pool.heldBytes, 0);
});
