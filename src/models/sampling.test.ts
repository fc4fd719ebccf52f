// Sampling with every row's softmax computed in one kernel call (a batched decode step) draws exactly what one row at
// a time draws: the same softmax and log-softmax bits per row, the same token, log-prob and sampling log-prob.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getBackend, Rng } from '../engine/index.ts';
import { sampleFromLogits, softmaxRows } from './sampling.ts';

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
