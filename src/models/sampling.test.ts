// Sampling with every row's softmax computed in one kernel call (a batched decode step) draws exactly what one row at
// a time draws: the same softmax and log-softmax bits per row, the same token, log-prob and sampling log-prob.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getBackend, Rng } from '../engine/index.ts';
import { checkSamplingOptions, sampleFromLogits, softmaxRows } from './sampling.ts';

test('softmaxRows: each row as one-row kernel calls give it, bit for bit; samples the same with or without them', () => {
  const backend = getBackend();
  for (const [B, V] of [[16, 1024], [3, 37], [1, 5]] as const) {
    const rng = new Rng(B * V);
    const logits = Float32Array.from({ length: B * V }, () => 6 * rng.uniform() - 3);   // (B, V)
    const row = softmaxRows(logits, B, V, { softmax: new Float32Array(B * V + 7), logSoftmax: new Float32Array(B * V + 7) });
    for (let b = 0; b < B; b++) {
      const x = logits.subarray(b * V, (b + 1) * V), p = new Float32Array(V), logp = new Float32Array(V);
      backend.softmax(x, p, 1, V);
      backend.logSoftmax(x, logp, 1, V);
      assert.deepEqual(Array.from(row(b).softmax), Array.from(p), `softmax of row ${b} (B ${B}, V ${V})`);
      assert.deepEqual(Array.from(row(b).logSoftmax), Array.from(logp), `log-softmax of row ${b} (B ${B}, V ${V})`);
      for (const options of [{ temperature: 1 }, { temperature: 1, topP: 0.7 }, { temperature: 0.5 }, { temperature: 0 }]) {
        assert.deepEqual(sampleFromLogits(x, options, new Rng(b), row(b)), sampleFromLogits(x, options, new Rng(b)), `row ${b} ${JSON.stringify(options)}`);
      }
    }
  }
  assert.throws(() => softmaxRows(new Float32Array(8), 2, 4, { softmax: new Float32Array(7), logSoftmax: new Float32Array(8) }), /fewer than 2 x 4/);
});

test('min-p keeps the tokens at least minP times as likely as the most likely one (at the temperature), and samples them in proportion', () => {
  // probabilities at temperature 1 proportional to 8, 4, 2, 1, 0.5: with minP 0.2 only the first three are candidates
  const logits = Float32Array.from([8, 4, 2, 1, 0.5], Math.log);
  const counts = [0, 0, 0, 0, 0], rng = new Rng(3);
  for (let i = 0; i < 7000; i++) {
    const drawn = sampleFromLogits(logits, { minP: 0.2 }, rng);
    counts[drawn.token]!++;
    assert.ok(Math.abs(drawn.samplingLogprob - Math.log([8, 4, 2][drawn.token]! / 14)) < 1e-6, `sampling log-prob of token ${drawn.token}`);
  }
  assert.deepEqual(counts.slice(3), [0, 0], 'tokens below minP x the largest are never drawn');
  for (const [token, share] of [[0, 8 / 14], [1, 4 / 14], [2, 2 / 14]] as const) assert.ok(Math.abs(counts[token]! / 7000 - share) < 0.02, `token ${token}: ${counts[token]} of 7000`);
  // at temperature 2 the ratios to the largest are square roots (0.71, 0.5, 0.35, 0.25): minP 0.3 now keeps four tokens
  const hot = new Set(Array.from({ length: 2000 }, () => sampleFromLogits(logits, { minP: 0.3, temperature: 2 }, rng).token));
  assert.deepEqual([...hot].sort(), [0, 1, 2, 3]);
  assert.equal(sampleFromLogits(logits, { minP: 1 }, rng).token, 0, 'minP 1: the most likely token alone');
  assert.throws(() => checkSamplingOptions({ minP: 1.5 }), /minP must be in \[0, 1\], got 1.5/);
});
