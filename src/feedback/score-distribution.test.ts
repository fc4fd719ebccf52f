// Tests reading a 1-10 score from logprobs when the tokenizer splits "10" into "1","0": unit cases, and the pointwise
// judge end to end over an in-process model whose vocabulary has no "10" token.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GeneratedToken } from './chat-model-v1.ts';
import { PointwiseJudge } from './pointwise-judge.ts';
import { InProcessProvider, type InProcessGenerateRequest, type InProcessLanguageModel } from './providers/in-process-provider.ts';
import { RequestExecutor } from './request-executor.ts';
import { scoreDistribution } from './verdict-parsing.ts';

const at = (pairs: Array<[string, number]>, emitted = pairs[0]![0]): GeneratedToken => ({
  token: emitted,
  logprob: Math.log(pairs.find(([token]) => token === emitted)?.[1] ?? 1e-9),
  topLogprobs: pairs.map(([token, p]) => ({ token, logprob: Math.log(p) })),
});

test('"1" followed by "0" counts as 10, weighted by the next position\'s P("0")', () => {
  // P(first = "1") = 0.8, P("9") = 0.2; after "1": P("0") = 0.75, end = 0.25 → P(10) = 0.6, P(1) = 0.2, P(9) = 0.2.
  const distribution = scoreDistribution([at([['1', 0.8], ['9', 0.2]]), at([['0', 0.75], ['<eos>', 0.25]])])!;
  assert.ok(Math.abs(distribution[9]! - 0.6) < 1e-9);
  assert.ok(Math.abs(distribution[0]! - 0.2) < 1e-9);
  assert.ok(Math.abs(distribution[8]! - 0.2) < 1e-9);
  assert.ok(Math.abs(distribution.reduce((sum, p) => sum + p, 0) - 1) < 1e-9);
});

test('a whole "10" token, a lone "1", and leading whitespace all read right', () => {
  assert.equal(scoreDistribution([at([['10', 1]])])![9], 1);
  assert.equal(scoreDistribution([at([['1', 1]])])![0], 1, 'no next position: "1" stays 1');
  assert.equal(scoreDistribution([at([['1', 1]]), at([['.', 1]])])![0], 1, '"1" then not "0" is 1');
  assert.ok(Math.abs(scoreDistribution([at([[' ', 1]]), at([['1', 1]]), at([['0', 0.9], ['5', 0.1]])])![9]! - 0.9) < 1e-9);
  assert.equal(scoreDistribution([at([['7', 1]]), at([['0', 1]])])![6], 1, '"0" after another digit changes nothing');
  assert.equal(scoreDistribution([at([['x', 1]])]), null);
});

/** A labeler whose tokenizer has single digits only: an excellent response is rated "1","0" (P 0.9) or "9". */
class DigitTokenModel implements InProcessLanguageModel {
  readonly modelId = 'digit-tokens';
  readonly supportsLogprobs = true;
  async generate(request: InProcessGenerateRequest) {
    if (!request.messages.at(-1)!.content.includes('Rating=')) return { text: 'It is excellent.', tokens: null, promptTokens: 1 };
    const tokens = [at([['1', 0.9], ['9', 0.1]]), at([['0', 0.95], ['\n', 0.05]])];
    return { text: '10', tokens, promptTokens: 1 };
  }
}

test('the pointwise judge reads "10" split into "1","0" as a top score', async () => {
  const executor = new RequestExecutor(new InProcessProvider(new DigitTokenModel()), { concurrency: 1, timeoutMs: 1000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  const judge = new PointwiseJudge(executor, { seed: 1 });
  const result = await judge.judge({ id: 'x', conversation: [{ role: 'user', content: 'Hi' }], response: 'Hello! How can I help?' });
  assert.equal(result.kind, 'ok');
  if (result.kind !== 'ok') return;
  // 0.9·0.95 → 10, 0.9·0.05 → 1, 0.1 → 9: mean 8.55 + 0.045 + 0.9 = 9.495 (it read 1.8 before the fix).
  assert.ok(Math.abs(result.score - 9.495) < 1e-9, `score ${result.score}`);
  assert.ok(result.reward > 0.8);
});
