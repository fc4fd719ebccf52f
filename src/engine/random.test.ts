// Tests seed derivation: deriveSeed(seed, label) is deterministic, 31-bit, and distinct labels (and distinct parent
// seeds) give distinct seeds where addition collides (seed + 1 == (seed + 1) + 0).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSeed, hashToUnit } from './random.ts';

test('deriveSeed: deterministic, a 31-bit integer, distinct for distinct labels and parents', () => {
  assert.equal(deriveSeed(7, 'verdict|0'), deriveSeed(7, 'verdict|0'));
  const seen = new Map<number, string>();
  for (let parent = 0; parent < 20; parent++) {
    for (const step of ['rationale', 'verdict', 'votes', 'choice']) {
      for (let attempt = 0; attempt < 10; attempt++) {
        const label = `${parent}/${step}|${attempt}`;
        const seed = deriveSeed(parent, `${step}|${attempt}`);
        assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 31, `${label}: ${seed}`);
        assert.equal(seen.get(seed), undefined, `${label} collides with ${seen.get(seed)}`);
        seen.set(seed, label);
      }
    }
  }
  // Addition's collision: parent 1's attempt 0 and parent 0's attempt 1 both gave seed 1.
  assert.notEqual(deriveSeed(1, 'rationale|0'), deriveSeed(0, 'rationale|1'));
});

test('hashToUnit is in [0, 1) and spreads neighbouring labels', () => {
  let sum = 0;
  for (let index = 0; index < 2000; index++) {
    const value = hashToUnit(`label-${index}`);
    assert.ok(value >= 0 && value < 1);
    sum += value;
  }
  assert.ok(Math.abs(sum / 2000 - 0.5) < 0.03, `mean ${sum / 2000}`);
});
