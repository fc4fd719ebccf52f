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
