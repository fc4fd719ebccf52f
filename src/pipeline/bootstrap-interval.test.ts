import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../engine/index.ts';
import { bootstrapMean } from './bootstrap-interval.ts';

test('bootstrap interval: the mean, a ±1.96·SE interval for a coin, degenerate for constant values, none for no units, deterministic per label', () => {
  const coin = Array.from({ length: 100 }, (_, i) => i % 2);   // mean ½, SE 0.05
  const { mean, interval } = bootstrapMean(coin, { seed: 0, label: 'coin' });
  assert.equal(mean, 0.5);
  assert.ok(interval![0] > 0.38 && interval![0] < 0.42 && interval![1] > 0.58 && interval![1] < 0.62, `${interval}`);
  assert.deepEqual(bootstrapMean(coin, { seed: 0, label: 'coin' }).interval, interval, 'same seed and label, same interval');
  assert.notDeepEqual(bootstrapMean(coin, { seed: 0, label: 'other', resamples: 200 }).interval, bootstrapMean(coin, { seed: 0, label: 'coin', resamples: 200 }).interval);
  assert.deepEqual(bootstrapMean([0.5, 0.5, 0.5], { seed: 0, label: 'x' }).interval, [0.5, 0.5]);
  assert.deepEqual(bootstrapMean([], { seed: 0, label: 'x' }).interval, null);
  assert.throws(() => bootstrapMean(coin, { seed: 0, label: 'x', confidence: 1 }), /confidence 1 in \(0, 1\)/);
});

test('bootstrap interval: covers the true mean about 95% of the time (200 samples of 60 wins, losses and ties at 0.3 / 0.5 / 0.2)', () => {
  const rng = new Rng(7), truth = 0.3 + 0.2 * 0.5;
  let covered = 0;
  for (let trial = 0; trial < 200; trial++) {
    const values = Array.from({ length: 60 }, () => { const u = rng.uniform(); return u < 0.3 ? 1 : u < 0.5 ? 0.5 : 0; });
    const [low, high] = bootstrapMean(values, { seed: trial, label: 'coverage', resamples: 1000 }).interval!;
    if (low <= truth && truth <= high) covered++;
  }
  assert.ok(covered >= 180 && covered <= 198, `covered ${covered} of 200`);
});
