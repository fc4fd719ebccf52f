// epochIndex: every epoch visits each example once, and epoch orders are derived by label, so seed s's next epoch is
// not seed s + 1's first (with Rng(seed + epoch) it was).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { epochIndex } from './preference-pairs.ts';

const order = (count: number, seed: number, epoch: number): number[] => {
  const cache = new Map<number, number[]>();
  return Array.from({ length: count }, (_, i) => epochIndex(count, epoch * count + i, seed, cache));
};

test('each epoch is a permutation of the examples', () => {
  for (const epoch of [0, 1, 5]) assert.deepEqual([...order(17, 3, epoch)].sort((a, b) => a - b), [...Array(17).keys()]);
});

test('an epoch of seed s is not an epoch of seed s + 1', () => {
  for (let seed = 0; seed < 100; seed++) {
    assert.notDeepEqual(order(20, seed, 1), order(20, seed + 1, 0), `seed ${seed} epoch 1 vs seed ${seed + 1} epoch 0`);
  }
});
