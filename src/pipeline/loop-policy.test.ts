import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopPolicy } from './loop-policy.ts';
import { batchFromSamples } from './round-stages.ts';
import { parseRunConfig } from './run-config.ts';
import { tinyBase, TinyTokenizer } from './testing/tiny-loop.ts';

// The run's GRPO advantages with and without the group-std division (algorithm.groupStdNormalization): rewards of a
// labeler with no opinion (all within ±0.01 of 0) keep their size without it and are scaled to unit size with it.
test('rlaif run GRPO: algorithm.groupStdNormalization divides by the group std (true) or keeps the centred reward (false, the default)', async () => {
  assert.equal(parseRunConfig('').algorithm.groupStdNormalization, false, 'the default is Dr. GRPO');
  const K = 4, messages = [{ role: 'user' as const, content: 'ab?' }];
  const advantagesOf = async (normalize: boolean, rewards: number[]) => {
    const config = parseRunConfig(`samplesPerPrompt: ${K}\npromptsPerRound: 2\nmaxNewTokens: 6\nalgorithm: {groupStdNormalization: ${normalize}}\n`);
    const policy = new LoopPolicy({ base: tinyBase(), tokenizer: new TinyTokenizer(), config, seed: 3 });
    const rows = Array.from({ length: 2 * K }, (_, i) => ({ messages, seed: 100 + i }));
    const samples = await policy.sampleRows(rows);
    const batch = batchFromSamples(rows.map((r) => policy.promptTokens(r.messages)), samples, config.maxNewTokens);
    return Array.from((await policy.learn(batch, Float32Array.from(rewards))).advantages);
  };
  const timid = [0.01, -0.01, 0.005, -0.005, 0.002, 0, -0.002, 0];   // two groups of K
  const centred = (values: number[]) => values.map((v, i) => { const g = values.slice(i - (i % K), i - (i % K) + K); return v - g.reduce((a, x) => a + x, 0) / K; });
  const plain = await advantagesOf(false, timid);
  plain.forEach((a, i) => assert.ok(Math.abs(a - centred(timid)[i]!) < 1e-6, `sample ${i}: ${a} is the centred reward ${centred(timid)[i]}`));
  const scaled = await advantagesOf(true, timid);
  assert.ok(Math.max(...scaled.map(Math.abs)) > 0.8, `divided by a std of ~0.01, the advantages reach unit size: ${scaled.map((a) => a.toFixed(2))}`);
});
