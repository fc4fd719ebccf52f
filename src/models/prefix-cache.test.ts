// Prefix caching: whole blocks of a shared prefix come from the cache, the result is bit for bit what a cold cache
// gives (it never depends on what was cached before), and it samples what generate() samples for the seed (both
// families: learned positions and RoPE). Batched prefills (prefillBatch) wait for a batch peer's blocks, run each wave
// in one forward, and give what one-by-one cold prefills give, to float rounding. prefillMany gives exactly what
// prefill() gives, its prompts' blocks batched.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toBf16Weights } from './bf16-weights.ts';
import { generate } from './generate.ts';
import { sharedKvPool } from './kv-cache.ts';
import { PrefixCache } from './prefix-cache.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';

for (const family of ['gpt2', 'llama'] as const) {
  describe(`PrefixCache (${family})`, () => {
    const model = tinyModel(family, 4);
    const V = model.config.vocabSize;
    const shared = Array.from(testIds(21, V, 5));
    const promptA = [...shared, ...testIds(6, V, 8)], promptB = [...shared, ...testIds(9, V, 9)];
    const options = { maxNewTokens: 7, temperature: 1.3, seed: 42, keepLogits: true };

    test('whole shared blocks are reused, and the result is what a cold cache gives, bit for bit', () => {
      const cold = new PrefixCache({ model, block: 8 }).sample(promptB, options);
      const warm = new PrefixCache({ model, block: 8 });
      assert.equal(warm.sample(promptA, options).reused, 0);
      const again = warm.sample(promptB, options);
      assert.equal(again.reused, 16, 'two whole blocks of the 21 shared tokens');
      assert.deepEqual(again.tokens, cold.tokens);
      assert.deepEqual(again.logprobs, cold.logprobs);
      assert.deepEqual(again.logits, cold.logits);
      assert.equal(warm.sample(promptB, options).reused, 24, 'its own blocks next time: all but the last partial one');
      assert.deepEqual(warm.stats, { prompts: 3, promptTokens: promptA.length + 2 * promptB.length, reusedTokens: 40, forwards: 4 + 2 + 1 });
    });

    test("clear() forgets every entry and hands its buffers to the process's pool, where the next cache takes them", () => {
      const cache = new PrefixCache({ model, block: 8 });
      cache.sample(promptA, options);
      cache.sample(promptB, options);
      const held = sharedKvPool.heldBytes;
      cache.clear();
      const given = sharedKvPool.heldBytes - held;
      const perEntry = 2 * model.config.numLayers * 4 * model.config.numKvHeads * model.config.headDim;   // bytes a position, at least
      assert.ok(given >= 2 * perEntry * promptA.length, `the entries' ${given} bytes are back in the pool`);
      assert.equal(cache.sample(promptB, options).reused, 0, 'forgotten');
      const next = new PrefixCache({ model, block: 8 }), before = sharedKvPool.heldBytes;
      next.sample(promptA, options);
      assert.ok(sharedKvPool.heldBytes < before, 'a new cache draws from the pool');
    });

    test('samples what generate() samples for the seed; keeps the logits each token was drawn from', () => {
      const cache = new PrefixCache({ model, block: 8 });
      cache.sample(promptA, options);
      const got = cache.sample(promptB, options);
      const [want] = generate(model, [promptB], { maxNewTokens: 7, temperature: 1.3, seeds: [42] });
      assert.deepEqual(got.tokens, Array.from(want!.tokens));
      got.logprobs.forEach((logprob, k) => assert.ok(Math.abs(logprob - want!.logprobs[k]!) < 1e-5, `logprob ${k}`));
      const row = got.logits!.subarray(0, V), token = got.tokens[0]!;
      const lse = Math.log(row.reduce((sum, x) => sum + Math.exp(x - row[0]!), 0)) + row[0]!;
      assert.ok(Math.abs(row[token]! - lse - got.logprobs[0]!) < 1e-5);
      assert.throws(() => cache.sample([], options), /empty/);
      assert.throws(() => cache.sample(promptA, { ...options, maxNewTokens: model.config.maxPositions }), /exceeds the context/);
    });

    test('prefillBatch: prompts sharing blocks with an earlier one wait for it; each wave is one forward; logits as cold prefills give', () => {
      const promptC = [...shared, ...testIds(3, V, 10)], other = Array.from(testIds(12, V, 11));
      const batch = new PrefixCache({ model, block: 8 });
      const rows = batch.prefillBatch([promptA, promptB, promptC, other], 1);
      // wave 1: A and the unrelated prompt; wave 2: B and C from A's first two blocks (S = 30 - 16 = 14 new tokens
      // each: C, 24 tokens long, takes 24 - 14 = 10 of them from the cache and recomputes 6 where it would pad)
      assert.deepEqual(rows.map((r) => r.reused), [0, 16, 10, 0]);
      assert.equal(batch.stats.forwards, 2);
      assert.deepEqual(rows.map((r) => r.row), [0, 0, 1, 1]);
      for (const [k, prompt] of [promptA, promptB, promptC, other].entries()) {
        const cold = new PrefixCache({ model, block: 8 }).prefill(prompt, 1).logits;
        rows[k]!.logits.forEach((x, v) => assert.ok(Math.abs(x - cold[v]!) < 1e-4 * (1 + Math.abs(cold[v]!)), `prompt ${k} logit ${v}: ${x} vs ${cold[v]}`));
      }
      // the batch's blocks are cached for later prompts: B's 3 whole blocks now
      const later = batch.sample(promptB, options), cold = new PrefixCache({ model, block: 8 }).sample(promptB, options);
      assert.equal(later.reused, 24);
      assert.deepEqual(later.tokens, cold.tokens);
      later.logprobs.forEach((logprob, k) => assert.ok(Math.abs(logprob - cold.logprobs[k]!) < 1e-4, `logprob ${k}`));
      assert.throws(() => batch.prefillBatch([promptA, []], 1), /empty/);
    });

    test('prefillMany: what prefill() gives each prompt, bit for bit; peers wait for shared blocks; blocks batched', () => {
      const promptC = [...shared, ...testIds(3, V, 10)], other = Array.from(testIds(12, V, 11)), short = Array.from(testIds(3, V, 13));
      const prompts = [promptA, promptB, promptC, other, short, promptA];
      const many = new PrefixCache({ model, block: 8 });
      const rows = many.prefillMany(prompts, 2);
      // round 1: A (4 blocks: 8, 8, 8, 3 tokens), the unrelated prompt and the short one, their blocks side by side
      // (4 forwards); round 2: B, C and A again from A's cached blocks (B 30 - 16, C 24 - 16, A 27 - 24 new tokens: 2
      // forwards)
      assert.deepEqual(rows.map((r) => r.reused), [0, 16, 16, 0, 0, 24]);
      assert.equal(many.stats.forwards, 4 + 2);
      for (const [k, prompt] of prompts.entries()) {
        const cold = new PrefixCache({ model, block: 8 }).prefill(prompt, 2);
        assert.deepEqual(rows[k]!.logits, cold.logits, `prompt ${k}`);
        assert.equal(rows[k]!.cache.length, prompt.length);
        assert.equal(rows[k]!.cache.capacity, prompt.length + 2, 'room to decode');
      }
      // warm: the same bits again, from the cache
      const again = many.prefillMany([promptB, short], 2);
      assert.deepEqual(again.map((r) => r.reused), [24, 0]);
      assert.deepEqual(again[0]!.logits, rows[1]!.logits);
      assert.deepEqual(again[1]!.logits, rows[4]!.logits);
      assert.throws(() => many.prefillMany([promptA, []], 1), /empty/);
    });

    test('prefillMany with bf16 weights (not row-invariant): one prompt after another, what prefill() gives', () => {
      const bf16 = toBf16Weights(model), prompts = [promptA, promptB, Array.from(testIds(5, V, 13))];
      const rows = new PrefixCache({ model: bf16, block: 8 }).prefillMany(prompts, 1);
      assert.deepEqual(rows.map((r) => r.reused), [0, 16, 0]);
      for (const [k, prompt] of prompts.entries()) assert.deepEqual(rows[k]!.logits, new PrefixCache({ model: bf16, block: 8 }).prefill(prompt, 1).logits, `prompt ${k}`);
    });
  });
}
