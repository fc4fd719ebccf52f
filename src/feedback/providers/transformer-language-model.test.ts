// Tests the in-process labeler over a tiny random Transformer: prompts from the chat template or a plain transcript,
// seeded samples, per-token and top-k logprobs that agree with the models' own teacher-forced scorer, and the pairwise
// judge end to end through it with soft labels read from those logprobs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noGrad } from '../../engine/index.ts';
import { sharedKvPool } from '../../models/kv-cache.ts';
import { initParameters } from '../../models/parameters.ts';
import { scoreResponses } from '../../models/score.ts';
import { CharTokenizer } from '../../models/tokenizer.ts';
import { Transformer } from '../../models/transformer.ts';
import { tinyGpt2Config } from '../../models/testing/tiny-models.ts';
import { defaultStepOptions } from '../judge-steps.ts';
import { PairwiseJudge } from '../pairwise-judge.ts';
import { RequestExecutor } from '../request-executor.ts';
import { InProcessProvider } from './in-process-provider.ts';
import { TransformerLanguageModel, plainTranscript } from './transformer-language-model.ts';

const tokenizer = new CharTokenizer();
const config = tinyGpt2Config({ vocab_size: 96, n_positions: 64 });
const model = new Transformer(config, initParameters(config, 7));
const language = new TransformerLanguageModel({ model, tokenizer, modelId: 'tiny-random' });
const messages = [{ role: 'system' as const, content: 'Judge.' }, { role: 'user' as const, content: 'Which is better? Preferred Response=' }];

test('plain transcript when the tokenizer has no chat template; the chat template when it has one', () => {
  assert.equal(plainTranscript(messages), 'system: Judge.\nuser: Which is better? Preferred Response=\nassistant:');
  assert.deepEqual(language.promptIds(messages), tokenizer.encode(plainTranscript(messages)));
  const templated = Object.assign(new CharTokenizer(), { chatTemplate: 'x', applyChatTemplate: () => [5, 6, 7] });
  assert.deepEqual(new TransformerLanguageModel({ model, tokenizer: templated, modelId: 't' }).promptIds(messages), [5, 6, 7]);
});

test('seeded samples repeat; logprobs and top-k match the teacher-forced scorer', async () => {
  const short = [{ role: 'user' as const, content: 'Better? A or B' }]; // fits the 64-position context untruncated
  const request = { messages: short, maxTokens: 6, temperature: 1, seed: 3, topLogprobs: 4 };
  const first = await language.generate(request);
  assert.deepEqual(await language.generate(request), first, 'same seed, same sample');
  const tokens = first.tokens!;
  assert.equal(tokens.length, 6);
  assert.equal(tokens.map((token) => token.token).join(''), first.text);
  const prompt = language.promptIds(short);
  const response = tokenizer.encode(first.text);
  const reference = noGrad(() => Array.from(scoreResponses(model, { prompts: [prompt], responses: [response] }, { entropies: false }).logprobs.data));
  for (const [index, token] of tokens.entries()) {
    assert.ok(Math.abs(token.logprob - reference[index]!) < 1e-4, `position ${index}: ${token.logprob} vs scorer ${reference[index]}`);
    assert.equal(token.topLogprobs.length, 4);
    for (let k = 1; k < 4; k++) assert.ok(token.topLogprobs[k - 1]!.logprob >= token.topLogprobs[k]!.logprob, 'best first');
    const listed = token.topLogprobs.find((alternative) => alternative.token === token.token);
    if (listed) assert.ok(Math.abs(listed.logprob - token.logprob) < 1e-6);
  }
  const full = await language.generate({ ...request, maxTokens: 1, topLogprobs: 96 });
  const mass = full.tokens![0]!.topLogprobs.reduce((sum, alternative) => sum + Math.exp(alternative.logprob), 0);
  assert.ok(Math.abs(mass - 1) < 1e-4, `the full distribution sums to 1 (${mass})`);
});

test('an over-long prompt keeps its start while the budget can shrink to a quarter, then keeps its end', async () => {
  // 64 positions, 32 new tokens at most: a 50-token prompt leaves 15, a quarter of 32 is 8.
  const ruled = (length: number) => [{ role: 'system' as const, content: 'Rule.' }, { role: 'user' as const, content: 'x'.repeat(length - plainTranscript([{ role: 'system', content: 'Rule.' }, { role: 'user', content: '' }]).length) }];
  assert.equal(language.promptIds(ruled(50)).length, 50);
  const request = { messages: ruled(50), maxTokens: 40, temperature: 1, seed: 4, topLogprobs: 0 };
  const shrunk = await language.generate(request);
  assert.deepEqual(shrunk.warnings?.map((w) => w.setting), ['maxTokens'], 'the prompt is fed whole');
  assert.match(shrunk.warnings![0]!.details!, /at most 15 new tokens of the 40 asked/);
  const { warnings: _, ...asked15 } = shrunk;
  assert.deepEqual(await language.generate({ ...request, maxTokens: 15 }), asked15, 'the same as asking for 15');
  const cut = await language.generate({ ...request, messages: ruled(60) });
  assert.deepEqual(cut.warnings?.map((w) => w.setting), ['maxTokens', 'messages']);
  assert.match(cut.warnings![1]!.details!, /prompt of 60 tokens cut to its last 57/);
});

test('the pairwise judge runs end to end on the tiny model; soft labels come from its logprobs', async () => {
  const executor = new RequestExecutor(new InProcessProvider(language), { concurrency: 2, timeoutMs: 60_000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  // The whole distribution is read (topLogprobs = V) so '1' and '2' are always among the alternatives of a random model.
  const judge = new PairwiseJudge(executor, {
    steps: { ...defaultStepOptions, rationaleMaxTokens: 8, rationaleTemperature: 1, verdictMaxTokens: 1, topLogprobs: 96 }, seed: 5,
  });
  const result = await judge.judge({ id: 'p1', conversation: [{ role: 'user', content: 'How do I store bleach?' }], candidates: ['Away from children.', 'Anywhere.'] });
  assert.equal(result.kind, 'ok', JSON.stringify(result));
  if (result.kind !== 'ok') return;
  const verdicts = [result.positions[0]!.forward, result.positions[0]!.reversed!];
  for (const verdict of verdicts) {
    assert.equal(verdict.labelSource, 'logprobs');
    assert.ok(verdict.probabilityFirst > 0 && verdict.probabilityFirst < 1, `soft label ${verdict.probabilityFirst}`);
  }
  assert.ok(Math.abs(result.probability - (verdicts[0]!.probabilityA + verdicts[1]!.probabilityA) / 2) < 1e-12);
  assert.equal(result.usage.requests, 4);
});

test('sharing work: K samples of one prompt judged in both orders, concurrently, give the judgments of whole prefills one at a time, from a fraction of the prompt tokens', async () => {
  const long = tinyGpt2Config({ vocab_size: 96, n_positions: 1024 });
  const weights = initParameters(long, 11);
  const judgeWith = async (shareWork: boolean) => {
    const labeler = new TransformerLanguageModel({ model: new Transformer(long, weights), tokenizer, modelId: 'tiny-long', shareWork });
    const executor = new RequestExecutor(new InProcessProvider(labeler), { concurrency: shareWork ? 16 : 1, timeoutMs: 60_000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
    const judge = new PairwiseJudge(executor, { steps: { ...defaultStepOptions, rationaleMaxTokens: 12, rationaleTemperature: 0, verdictMaxTokens: 1, topLogprobs: 96 }, seed: 9 });
    const samples = ['Keep it sealed, up high.', 'Anywhere is fine.', 'In a locked cabinet away from food.', 'Mix it with vinegar first.'];
    const pairs: [number, number][] = [];
    for (let i = 0; i < samples.length; i++) for (let j = i + 1; j < samples.length; j++) pairs.push([i, j]);
    const results = await Promise.all(pairs.map(([i, j]) =>
      judge.judge({ id: `bleach|${i}|${j}`, conversation: [{ role: 'user', content: 'Where should I store bleach at home?' }], candidates: [samples[i]!, samples[j]!] })));
    const stats = labeler.prefixCacheStats;
    let closeMidRequest = 'not tried';
    if (shareWork) {   // close() mid-request is refused; after the last request it empties the prefix cache
      const pending = judge.judge({ id: 'bleach|late', conversation: [{ role: 'user', content: 'Where should I store bleach at home?' }], candidates: [samples[0]!, samples[1]!] });
      await new Promise((resolve) => setImmediate(resolve));
      try { labeler.close(); closeMidRequest = 'closed'; } catch (error) { if (/requests in flight/.test(String(error))) closeMidRequest = 'refused'; }
      await pending;
    }
    const held = sharedKvPool.heldBytes;
    labeler.close();
    if (shareWork) assert.ok(sharedKvPool.heldBytes > held, "close() hands the cached prefixes' buffers to the process's pool");
    const again = await judge.judge({ id: 'bleach|again', conversation: [{ role: 'user', content: 'Where should I store bleach at home?' }], candidates: [samples[0]!, samples[1]!] });
    assert.equal(again.kind, 'ok', 'the model answers after close()');
    return { results, stats, closeMidRequest };
  };
  const whole = await judgeWith(false), shared = await judgeWith(true);
  assert.equal(whole.stats, null);
  assert.equal(shared.results.length, 6);
  for (const [index, result] of shared.results.entries()) {
    const reference = whole.results[index]!;
    assert.ok(result.kind === 'ok' && reference.kind === 'ok', JSON.stringify(result));
    if (result.kind !== 'ok' || reference.kind !== 'ok') continue;
    assert.equal(result.preferred, reference.preferred, `pair ${index}`);
    assert.ok(Math.abs(result.probability - reference.probability) < 1e-6, `pair ${index}: ${result.probability} vs ${reference.probability}`);
    for (const [k, position] of result.positions.entries()) {
      for (const order of ['forward', 'reversed'] as const) {
        assert.equal(position[order]!.rationale, reference.positions[k]![order]!.rationale);
        assert.ok(Math.abs(position[order]!.probabilityFirst - reference.positions[k]![order]!.probabilityFirst) < 1e-6);
      }
    }
  }
  const { prompts, promptTokens, reusedTokens } = shared.stats!;
  assert.equal(shared.closeMidRequest, 'refused', 'close() with requests in flight is refused');
  assert.equal(prompts, 24, '6 pairs x 2 orders x (rationale + verdict)');
  assert.ok(reusedTokens > 0.6 * promptTokens, `${reusedTokens} of ${promptTokens} prompt tokens came from cached prefixes`);
});
