// Reward sources: direct RLAIF through a real pointwise judge over an in-process labeler (its 1–10 score, rescaled to
// [-1, 1], becomes the reward; an unreadable verdict gives the configured reward and is counted), a weighted sum that
// mixes sources and keeps each one's rewards, and a programmatic reward.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GeneratedToken } from '../feedback/chat-model-v1.ts';
import { PointwiseJudge } from '../feedback/pointwise-judge.ts';
import { InProcessProvider, type InProcessGenerateRequest, type InProcessLanguageModel } from '../feedback/providers/in-process-provider.ts';
import { RequestExecutor } from '../feedback/request-executor.ts';
import { judgeReward, programmaticReward, weightedReward, type RewardBatch } from './reward-sources.ts';

const one = (token: string): GeneratedToken => ({ token, logprob: 0, topLogprobs: [{ token, logprob: 0 }] });

/** A labeler that rates a response by the digit it contains ("rate 7" → 7); no digit → an unreadable verdict. */
class DigitRatingModel implements InProcessLanguageModel {
  readonly modelId = 'digit-rating';
  readonly supportsLogprobs = true;
  calls = 0;
  async generate(request: InProcessGenerateRequest) {
    this.calls++;
    const text = request.messages.map((m) => m.content).join('\n');
    if (!text.includes('Rating=')) return { text: 'Considered.', tokens: null, promptTokens: 1 };
    const digit = /Response: [^\n]*rate (\d)/.exec(text)?.[1];
    if (!digit) return { text: 'no idea', tokens: [one('no'), one(' idea')], promptTokens: 1 };
    return { text: digit, tokens: [one(digit)], promptTokens: 1 };
  }
}

function judgeOver(model: InProcessLanguageModel): PointwiseJudge {
  const executor = new RequestExecutor(new InProcessProvider(model),
    { concurrency: 2, timeoutMs: 5000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  return new PointwiseJudge(executor, { seed: 1 });
}

function batch(responses: string[]): RewardBatch {
  return { prompts: responses.map(() => 'Say something.'), responses, promptTokens: responses.map(() => Int32Array.of(1)),
    responseTokens: responses.map((r) => Int32Array.from(r, (ch) => ch.charCodeAt(0))), ids: responses.map((_, b) => `s${b}`) };
}

describe('reward sources', () => {
  test('direct RLAIF: the pointwise judge\'s score, rescaled to [-1, 1], is the reward; an unreadable verdict is counted', async () => {
    const model = new DigitRatingModel();
    const source = judgeReward(judgeOver(model), { invalidReward: -0.5, concurrency: 2 });
    const outcome = await source.score(batch(['rate 1', 'rate 9', 'nothing here', 'rate 5']));
    // score s on 1..10 → reward (s − 5.5) / 4.5
    assert.deepEqual([...outcome.rewards].map((r) => Number(r.toFixed(4))), [-1, 0.7778, -0.5, -0.1111]);
    assert.equal(outcome.failures, 1);
    assert.ok(model.calls >= 4);
  });

  test('a weighted sum mixes the sources and keeps each one\'s rewards and failures', async () => {
    const length = programmaticReward('length', (_prompt, response) => response.length / 10);
    const judge = judgeReward(judgeOver(new DigitRatingModel()));
    const mixed = weightedReward([{ source: judge, weight: 0.75 }, { source: length, weight: 0.25 }]);
    const outcome = await mixed.score(batch(['rate 1', 'rate 9', '??']));
    const judged = outcome.components!.judge, lengths = outcome.components!.length;
    assert.deepEqual([...lengths].map((x) => Number(x.toFixed(4))), [0.6, 0.6, 0.2]);
    assert.deepEqual([...judged].map((x) => Number(x.toFixed(4))), [-1, 0.7778, 0]);
    for (let b = 0; b < 3; b++) assert.ok(Math.abs(outcome.rewards[b] - (0.75 * judged[b] + 0.25 * lengths[b])) < 1e-6, `row ${b}`);
    assert.equal(outcome.failures, 1, 'the judge\'s unreadable verdict');
    assert.equal(mixed.name, '0.75·judge + 0.25·length');
  });

  test('two parts under one name would share a component: an error', () => {
    const a = programmaticReward('same', () => 1), b = programmaticReward('same', () => 0);
    assert.throws(() => weightedReward([{ source: a, weight: 1 }, { source: b, weight: 1 }]), /two reward sources named 'same'/);
  });
});
