import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalJson, hashToUnit, stableHash } from './stable-hash.ts';

test('hashToUnit is deterministic, in [0, 1), and spreads near-identical labels evenly', () => {
  assert.equal(hashToUnit('0|pair-1|harm|AB'), hashToUnit('0|pair-1|harm|AB'));
  const buckets = new Array<number>(20).fill(0);
  const seen = new Set<number>();
  const count = 20_000;
  for (let index = 0; index < count; index++) {
    const value = hashToUnit(`0|pair-${index}|principle|AB`);
    assert.ok(value >= 0 && value < 1, `value ${value}`);
    seen.add(value);
    buckets[Math.floor(value * buckets.length)]!++;
  }
  assert.equal(seen.size, count, 'distinct labels give distinct values');
  // Chi-square with 19 degrees of freedom: 43.8 is the 0.999 quantile.
  const expected = count / buckets.length;
  const chiSquare = buckets.reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0);
  assert.ok(chiSquare < 43.8, `chi-square ${chiSquare.toFixed(1)} over ${buckets.join(',')}`);
  // One character apart still lands far apart on average (no clustering of neighbouring ids).
  let gap = 0;
  for (let index = 0; index < 1000; index++) gap += Math.abs(hashToUnit(`s${index}`) - hashToUnit(`s${index + 1}`));
  assert.ok(gap / 1000 > 0.25, `mean gap ${gap / 1000}`);
});

test('stableHash ignores key order and undefined fields', () => {
  assert.equal(stableHash({ a: 1, b: [1, { c: 2, d: undefined }] }), stableHash({ b: [1, { c: 2 }], a: 1 }));
  assert.notEqual(stableHash({ a: 1 }), stableHash({ a: 2 }));
  assert.equal(canonicalJson({ b: 1, a: 'x' }), '{"a":"x","b":1}');
});
