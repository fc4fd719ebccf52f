// Advantage estimators against float64 references written from the papers' formulas; equal-reward groups give 0;
// the registry picks by name and rejects unknown names. Also the KL controllers' direction of travel.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../engine/index.ts';
import { computeAdvantages, registerAdvantageEstimator, whitenAdvantages } from './advantages.ts';
import { AdaptiveKlController, FixedKlController, makeKlController } from './kl-control.ts';

const T = 5;
const close = (a: number, b: number, what: string) =>
  assert.ok(Number.isFinite(a) && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
function mask(rows: [number, number][]): Float32Array {
  const m = new Float32Array(rows.length * T);
  rows.forEach(([start, end], b) => { for (let t = start; t < end; t++) m[b * T + t] = 1; });
  return m;
}

describe('advantage estimators', () => {
  test('grpo: (R − mean)/(std + ε) per group, broadcast over response tokens', () => {
    const rewards = Float32Array.from([1, 0, 0.5, 2, 3, 3]), m = mask([[1, 4], [2, 5], [0, 0], [1, 2], [1, 5], [3, 5]]);
    const { advantages } = computeAdvantages('grpo', { rewards, mask: m, T, groupSize: 3 });
    for (let g = 0; g < 6; g += 3) {
      const group = [0, 1, 2].map((i) => rewards[g + i]);
      const mean = group.reduce((a, b) => a + b) / 3;
      const std = Math.sqrt(group.reduce((a, r) => a + (r - mean) ** 2, 0) / 2);
      for (let i = 0; i < 3; i++) for (let t = 0; t < T; t++) {
        const k = (g + i) * T + t;
        close(advantages[k], m[k] ? (rewards[g + i] - mean) / (std + 1e-6) : 0, `grpo[${k}]`);
      }
    }
  });
  test('grpo: a group whose rewards are all equal gets advantage 0, no NaN (with and without std)', () => {
    const rewards = Float32Array.from([0.7, 0.7, 0.7, 0.7]), m = mask([[0, 5], [0, 5], [0, 5], [0, 5]]);
    for (const normalizeByStd of [true, false]) {
      const { advantages } = computeAdvantages('grpo', { rewards, mask: m, T, groupSize: 4, normalizeByStd });
      for (const a of advantages) assert.ok(a === 0, `advantage ${a}`);
    }
  });
  test('rloo: R_i minus the mean of the others', () => {
    const rewards = Float32Array.from([1, 2, 4, 0, 0, 3]), m = mask([[0, 5], [0, 5], [0, 5], [0, 5], [0, 5], [0, 5]]);
    const { advantages } = computeAdvantages('rloo', { rewards, mask: m, T, groupSize: 3 });
    close(advantages[0], 1 - 3, 'rloo 0');
    close(advantages[T * 2], 4 - 1.5, 'rloo 2');
    close(advantages[T * 5], 3 - 0, 'rloo 5');
  });
  test('reinforce: R − b with b a moving average; first step uses the batch mean', () => {
    const rewards = Float32Array.from([1, 3]), m = mask([[0, 5], [0, 5]]);
    const first = computeAdvantages('reinforce', { rewards, mask: m, T });
    close(first.advantages[0], -1, 'first');
    close(first.baseline!, 2, 'baseline');
    const second = computeAdvantages('reinforce', { rewards: Float32Array.from([5, 5]), mask: m, T, baseline: first.baseline, baselineMomentum: 0.5 });
    close(second.advantages[0], 3, 'second');
    close(second.baseline!, 3.5, 'moving average');
  });
  test('gae matches a float64 recursion over the response tokens', () => {
    const rng = new Rng(3);
    const m = mask([[1, 5], [2, 4], [0, 0]]);
    const rewards = Float32Array.from([1, -0.5, 2]);
    const values = rng.fillNormal(new Float32Array(3 * T)), tokenRewards = rng.fillNormal(new Float32Array(3 * T), 0, 0.1);
    const gamma = 0.9, lambda = 0.8;
    const out = computeAdvantages('gae', { rewards, mask: m, T, values, tokenRewards, gamma, lambda });
    for (let b = 0; b < 3; b++) {
      const positions = [...Array(T).keys()].filter((t) => m[b * T + t]);
      let next = 0;
      for (let j = positions.length - 1; j >= 0; j--) {
        const i = b * T + positions[j];
        const r = tokenRewards[i] + (j === positions.length - 1 ? rewards[b] : 0);
        const vNext = j + 1 < positions.length ? values[b * T + positions[j + 1]] : 0;
        next = r + gamma * vNext - values[i] + gamma * lambda * next;
        close(out.advantages[i], next, `gae[${i}]`);
        close(out.returns[i], next + values[i], `returns[${i}]`);
      }
      for (let t = 0; t < T; t++) if (!m[b * T + t]) assert.equal(out.advantages[b * T + t], 0);
    }
  });
  test('registry: unknown names are errors listing the known ones; new estimators register by name', () => {
    assert.throws(() => computeAdvantages('remax', { rewards: new Float32Array(1), mask: new Float32Array(T), T }), /known: gae, grpo, rloo, reinforce/);
    registerAdvantageEstimator('constant-one', (input) => ({ advantages: input.mask.slice(), returns: input.mask.slice() }));
    assert.equal(computeAdvantages('constant-one', { rewards: new Float32Array(1), mask: mask([[0, 2]]), T }).advantages[1], 1);
    assert.throws(() => computeAdvantages('grpo', { rewards: new Float32Array(5), mask: new Float32Array(5 * T), T, groupSize: 2 }), /whole number/);
  });
  test('whitening gives mean 0, std 1 on the mask and leaves masked positions 0', () => {
    const m = mask([[0, 3], [1, 5]]), a = new Rng(4).fillNormal(new Float32Array(2 * T), 3, 2);
    const w = whitenAdvantages(a, m);
    const on = [...w].filter((_, i) => m[i]);
    close(on.reduce((x, y) => x + y) / on.length, 0, 'mean');
    close(on.reduce((x, y) => x + y * y, 0) / on.length, 1, 'variance');
    assert.equal(w[3], 0);
  });
});

describe('KL control (Ziegler et al. 2019)', () => {
  test('fixed stays; adaptive rises above target, falls below, clipped at ±20% per horizon', () => {
    const fixed = new FixedKlController(0.1);
    fixed.update();
    assert.equal(fixed.value, 0.1);
    const up = new AdaptiveKlController(0.1, 1, 100);
    up.update(10, 10); // error clipped to 0.2 → ×(1 + 0.2·10/100)
    close(up.value, 0.1 * 1.02, 'up');
    const down = makeKlController({ kind: 'adaptive', initial: 0.1, target: 1, horizon: 100 });
    down.update(0.5, 10);
    close(down.value, 0.1 * 0.98, 'down'); // error −0.5 clipped to −0.2
    const restored = makeKlController({ kind: 'adaptive', initial: 1, target: 1, horizon: 100 });
    restored.loadState(down.state());
    assert.equal(restored.value, down.value);
  });
});
