// Scoring and heads: teacher-forced log-probs and entropies match a plain forward of each sequence alone, carry a
// gradient under grad mode and none under noGrad; reward scores read the last real token whatever the padding.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, noGrad, setPoisoning, sum } from '../engine/index.ts';
import { ScalarHead, sequenceScores, tokenValues } from './heads.ts';
import { scoreResponses } from './score.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';

setPoisoning(true);

for (const family of ['gpt2', 'llama'] as const) {
  describe(`scoring (${family})`, () => {
    const model = tinyModel(family, 3);
    const V = model.config.vocabSize;
    const prompts = [testIds(4, V, 1), testIds(2, V, 2)];
    const responses = [testIds(3, V, 3), testIds(5, V, 4)];

    test('log-probs and entropies equal a forward of each sequence alone', () => {
      const scored = noGrad(() => scoreResponses(model, { prompts, responses }));
      const R = scored.responseWidth;
      assert.equal(R, 5);
      assert.equal(scored.logprobs.requiresGrad, false);
      for (let b = 0; b < 2; b++) {
        const seq = Int32Array.from([...prompts[b], ...responses[b]]);
        const logits = noGrad(() => model.forward(seq, [1, seq.length]));
        for (let j = 0; j < R; j++) {
          if (j >= responses[b].length) { assert.equal(scored.responseMask[b * R + j], 0); assert.equal(scored.logprobs.data[b * R + j], 0); continue; }
          const row = logits.data.subarray((prompts[b].length - 1 + j) * V, (prompts[b].length + j) * V);
          const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
          const entropy = -row.reduce((s, x) => s + Math.exp(x - lse) * (x - lse), 0);
          assert.ok(Math.abs(scored.logprobs.data[b * R + j] - (row[responses[b][j]] - lse)) < 1e-5);
          assert.ok(Math.abs(scored.entropies!.data[b * R + j] - entropy) < 1e-5);
        }
      }
    });

    test('a gradient flows when grad mode is on', () => {
      const scored = scoreResponses(model, { prompts, responses }, { temperature: 0.7 });
      assert.equal(scored.logprobs.requiresGrad, true);
      backward(sum(scored.logprobs));
      const first = [...model.parameters().values()][0];
      assert.ok(first.grad && first.grad.some((g) => g !== 0));
      for (const p of model.parameters().values()) p.grad = null;
    });

    test('reward scores read the last real token with left or right padding; values per token', () => {
      const head = new ScalarHead(model.config.hiddenSize, { seed: 1 });
      const a = testIds(4, V, 8), b = testIds(2, V, 9);
      const alone = noGrad(() => sequenceScores(model, head, b, [1, 2])).data[0];
      const right = noGrad(() => sequenceScores(model, head, Int32Array.from([...a, ...b, 0, 0]), [2, 4], { keyMask: Float32Array.of(1, 1, 1, 1, 1, 1, 0, 0) }));
      const left = noGrad(() => sequenceScores(model, head, Int32Array.from([...a, 0, 0, ...b]), [2, 4], { keyMask: Float32Array.of(1, 1, 1, 1, 0, 0, 1, 1) }));
      assert.ok(Math.abs(right.data[1] - alone) < 1e-5 && Math.abs(left.data[1] - alone) < 1e-5);
      assert.ok(Math.abs(right.data[0] - left.data[0]) < 1e-5);
      const scores = sequenceScores(model, head, Int32Array.from([...a, 0, 0, ...b]), [2, 4], { keyMask: Float32Array.of(1, 1, 1, 1, 0, 0, 1, 1) });
      backward(sum(scores));
      assert.ok(head.weight.grad!.some((g) => g !== 0));
      for (const p of model.parameters().values()) p.grad = null;
      assert.deepEqual(noGrad(() => tokenValues(model, head, a, [1, 4])).shape, [1, 4]);
    });
  });
}
