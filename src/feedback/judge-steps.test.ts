// Tests the shared judge steps' seeds: every request of a judgment gets its own seed from deriveSeed, so a rationale
// retry never reuses the verdict's seed (with seed + attempt for retries and seed + 1 for the verdict, it did).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatGenerateOptions, ChatGenerateResult, ChatModelV1 } from './chat-model-v1.ts';
import { defaultStepOptions } from './judge-steps.ts';
import { PairwiseJudge } from './pairwise-judge.ts';
import { RequestExecutor } from './request-executor.ts';

/** Answers the first rationale request of each order with empty text (forcing a retry) and records every seed. */
function emptyFirstRationaleModel(): ChatModelV1 & { requests: Array<{ kind: string; seed: number }> } {
  const requests: Array<{ kind: string; seed: number }> = [];
  const rationaleCalls = new Map<string, number>();
  return {
    specificationVersion: 'v1', provider: 'recording', modelId: 'recording', supportsLogprobs: true, requests,
    doGenerate: async (options: ChatGenerateOptions): Promise<ChatGenerateResult> => {
      const verdict = (options.topLogprobs ?? 0) > 0;
      requests.push({ kind: verdict ? 'verdict' : 'rationale', seed: options.seed });
      const usage = { promptTokens: 1, completionTokens: 1 };
      if (verdict) return { choices: [{ text: '1', tokens: [{ token: '1', logprob: -0.2, topLogprobs: [{ token: '1', logprob: -0.2 }, { token: '2', logprob: -1.7 }] }], finishReason: 'stop' }], usage };
      const context = options.messages[1]!.content;
      const calls = (rationaleCalls.get(context) ?? 0) + 1;
      rationaleCalls.set(context, calls);
      return { choices: [{ text: calls === 1 ? '' : 'Response 1 is safer.', tokens: null, finishReason: 'stop' }], usage };
    },
  };
}

test('a rationale retry does not reuse the verdict seed: every request of a judgment has its own seed', async () => {
  const model = emptyFirstRationaleModel();
  const executor = new RequestExecutor(model, { concurrency: 1, timeoutMs: 1000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  const judge = new PairwiseJudge(executor, { steps: defaultStepOptions, seed: 0 });
  const result = await judge.judge({ id: 'pair-1', conversation: [{ role: 'user', content: 'Store bleach?' }], candidates: ['Up high.', 'Anywhere.'] });
  assert.equal(result.kind, 'ok', JSON.stringify(result));
  assert.deepEqual(model.requests.map((request) => request.kind).sort(), ['rationale', 'rationale', 'rationale', 'rationale', 'verdict', 'verdict']);
  const seeds = model.requests.map((request) => request.seed);
  assert.equal(new Set(seeds).size, seeds.length, `seeds repeat: ${JSON.stringify(model.requests)}`);
});
