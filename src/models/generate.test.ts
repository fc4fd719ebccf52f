// Generation: cached and uncached sampling agree token for token; a left-padded batch gives each sequence what it
// gets alone; stop tokens and stop strings end a sequence; top-k and top-p are respected; log-probs are consistent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noGrad, Rng, setPoisoning } from '../engine/index.ts';
import { generate, promptsFromPadded } from './generate.ts';
import { sampleFromLogits } from './sampling.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';

setPoisoning(true);

for (const family of ['gpt2', 'llama'] as const) {
  describe(`generate (${family})`, () => {
    const model = tinyModel(family, 7);
    const V = model.config.vocabSize;
    const prompts = [testIds(5, V, 1), testIds(2, V, 2), testIds(7, V, 3)];

    test('cached and uncached generation give identical tokens for the same seed', () => {
      const options = { maxNewTokens: 12, seeds: [10, 11, 12], temperature: 1.3 };
      const cached = generate(model, prompts, options);
      const uncached = generate(model, prompts, { ...options, useCache: false });
      for (let i = 0; i < prompts.length; i++) {
        assert.deepEqual(Array.from(cached[i].tokens), Array.from(uncached[i].tokens), `sequence ${i}`);
        for (let t = 0; t < cached[i].tokens.length; t++) assert.ok(Math.abs(cached[i].logprobs[t] - uncached[i].logprobs[t]) < 1e-4);
        assert.equal(cached[i].finishReason, 'length');
        assert.equal(cached[i].tokens.length, 12);
      }
    });

    test('a call on key/value buffers left by other calls (stale, other shapes) gives what a fresh cache gives, bit for bit', () => {
      const options = { maxNewTokens: 9, seeds: [3, 4, 5], temperature: 1 };
      const first = generate(model, prompts, options);
      generate(model, [testIds(11, V, 9), testIds(3, V, 8)], { maxNewTokens: 20, seeds: [1, 2], temperature: 1.5 });   // other shapes
      generate(model, prompts.slice(0, 2), { maxNewTokens: 9, seeds: [7, 8] });
      const again = generate(model, prompts, options);
      for (let i = 0; i < prompts.length; i++) {
        assert.deepEqual(Array.from(again[i].tokens), Array.from(first[i].tokens), `sequence ${i}`);
        assert.deepEqual(Array.from(again[i].logprobs), Array.from(first[i].logprobs), `sequence ${i} log-probs`);
      }
    });

    test('a left-padded batch gives each sequence the tokens it gets alone', () => {
      const options = { maxNewTokens: 10, seeds: [5, 6, 7], topK: 8 };
      const batch = generate(model, prompts, options);
      prompts.forEach((p, i) => {
        const alone = generate(model, [p], { ...options, seeds: [options.seeds[i]] });
        assert.deepEqual(Array.from(batch[i].tokens), Array.from(alone[0].tokens), `sequence ${i}`);
      });
      const rightPadded = promptsFromPadded(Int32Array.from([...prompts[1], 0, 0, 0, 0, 0]), [1, 7], Float32Array.of(1, 1, 0, 0, 0, 0, 0));
      assert.deepEqual(Array.from(rightPadded[0]), Array.from(prompts[1]));
    });

    test('log-probs: raw model at temperature 1 and the sampling distribution', () => {
      const [greedy] = generate(model, [prompts[0]], { maxNewTokens: 4, temperature: 0 });
      const logits = noGrad(() => model.forward(Int32Array.from([...prompts[0], greedy.tokens[0]]), [1, 6]));
      const row = logits.data.subarray(4 * V, 5 * V);
      const lse = Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
      assert.equal(greedy.tokens[0], row.indexOf(Math.max(...row)));
      assert.ok(Math.abs(greedy.logprobs[0] - (row[greedy.tokens[0]] - lse)) < 1e-5);
      assert.deepEqual(Array.from(greedy.samplingLogprobs), [0, 0, 0, 0]);
      const [sampled] = generate(model, [prompts[0]], { maxNewTokens: 1, temperature: 0.5, seeds: [3] });
      const t = sampled.tokens[0];
      const lse2 = Math.log(row.reduce((s, x) => s + Math.exp(x / 0.5), 0));
      assert.ok(Math.abs(sampled.samplingLogprobs[0] - (row[t] / 0.5 - lse2)) < 1e-4);
      assert.ok(Math.abs(sampled.logprobs[0] - (row[t] - lse)) < 1e-5);
    });

    test('stop tokens and stop strings', () => {
      const [free] = generate(model, [prompts[1]], { maxNewTokens: 10, seeds: [9] });
      const stopAt = free.tokens[3];
      const firstIndex = Array.from(free.tokens).indexOf(stopAt);
      const [stopped] = generate(model, [prompts[1]], { maxNewTokens: 10, seeds: [9], stopTokenIds: [stopAt] });
      assert.equal(stopped.finishReason, 'stop');
      assert.deepEqual(Array.from(stopped.tokens), Array.from(free.tokens.subarray(0, firstIndex + 1)));
      const decode = (ids: Int32Array) => Array.from(ids, (id) => String.fromCharCode(97 + (id % 26))).join('');
      const target = decode(free.tokens.subarray(4, 6));
      const byString = generate(model, [prompts[1], prompts[0]], { maxNewTokens: 10, seeds: [9, 1], stopStrings: [target], decode });
      const cut = decode(free.tokens).indexOf(target);
      assert.equal(byString[0].finishReason, 'stop');
      assert.equal(byString[0].text, decode(free.tokens).slice(0, cut));
      assert.ok(byString[0].tokens.length <= 6);
    });
  });
}

describe('generate: seeds of a batch', () => {
  test('batches under adjacent seeds draw unrelated rows; row 0 draws as the seed alone', () => {
    const model = tinyModel('gpt2', 7);
    const prompt = testIds(3, model.config.vocabSize, 4), prompts = [prompt, prompt, prompt, prompt];
    const options = { maxNewTokens: 12, temperature: 2 };
    const tokens = (seed: number) => generate(model, prompts, { ...options, seed }).map((s) => Array.from(s.tokens).join(','));
    const first = tokens(20), next = tokens(21);
    // under seed + row, row r + 1 of seed 20 was row r of seed 21
    for (let row = 0; row + 1 < prompts.length; row++) assert.notEqual(first[row + 1], next[row], `row ${row + 1} of seed 20 vs row ${row} of seed 21`);
    assert.equal(new Set(first).size, prompts.length, 'rows of one batch differ');
    assert.equal(first[0], Array.from(generate(model, [prompt], { ...options, seeds: [20] })[0].tokens).join(','));
  });
});

describe('sampling', () => {
  const logits = Float32Array.from([2, 1.5, 1, 0.5, 0, -0.5, -1, -3]);
  const probs = Array.from(logits, Math.exp);
  const total = probs.reduce((a, b) => a + b, 0);

  test('top-k keeps only the k most likely tokens', () => {
    const rng = new Rng(1), seen = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const s = sampleFromLogits(logits, { topK: 3 }, rng);
      seen.add(s.token);
      const kept = probs[0] + probs[1] + probs[2];
      assert.ok(Math.abs(s.samplingLogprob - Math.log(probs[s.token] / kept)) < 1e-5);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  test('top-p keeps the smallest set reaching p', () => {
    const rng = new Rng(2), seen = new Set<number>();
    // cumulative: 0.40, 0.65, 0.80, ... → p = 0.7 keeps 3 tokens
    for (let i = 0; i < 400; i++) seen.add(sampleFromLogits(logits, { topP: 0.7 }, rng).token);
    assert.ok((probs[0] + probs[1]) / total < 0.7 && (probs[0] + probs[1] + probs[2]) / total >= 0.7);
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
    const combined = new Set<number>();
    for (let i = 0; i < 200; i++) combined.add(sampleFromLogits(logits, { topP: 0.7, topK: 2 }, rng).token);
    assert.deepEqual([...combined].sort(), [0, 1]);
  });

  test('log-probs: the raw model at any temperature, the sampled distribution at its own', () => {
    const rng = new Rng(4);
    for (const temperature of [1, 0.5, 0]) for (let i = 0; i < 50; i++) {
      const s = sampleFromLogits(logits, { temperature }, rng);
      assert.ok(Math.abs(s.logprob - Math.log(probs[s.token] / total)) < 1e-6, `raw log-prob at temperature ${temperature}`);
      const tempered = temperature === 0 ? null : probs.map((p) => p ** (1 / temperature));
      const want = tempered ? Math.log(tempered[s.token] / tempered.reduce((a, b) => a + b, 0)) : 0;
      assert.ok(Math.abs(s.samplingLogprob - want) < 1e-6, `sampling log-prob at temperature ${temperature}`);
      if (temperature === 0) assert.equal(s.token, 0);
    }
  });

  test('sampling follows the distribution', () => {
    const rng = new Rng(3), counts = new Array(8).fill(0);
    for (let i = 0; i < 4000; i++) counts[sampleFromLogits(logits, {}, rng).token]++;
    for (let j = 0; j < 8; j++) assert.ok(Math.abs(counts[j] / 4000 - probs[j] / total) < 0.03, `token ${j}`);
  });
});
