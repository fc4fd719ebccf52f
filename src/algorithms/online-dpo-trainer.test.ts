// Online DPO (Self-Rewarding loop) on the digit task: with a programmatic scorer as the preference source the sampled
// responses get more sorted over iterations; with a src/feedback pairwise judge (in-process provider, deterministic
// adapter whose toy labeler prefers sorted digits) the judged pairs train and chosen beats rejected; resume is exact.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PairwiseJudge } from '../feedback/pairwise-judge.ts';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { RequestExecutor } from '../feedback/request-executor.ts';
import { DeterministicLanguageModel } from '../feedback/testing/deterministic-language-model.ts';
import type { Transformer } from '../models/transformer.ts';
import { OnlineDpoTrainer, type OnlineDpoConfig } from './online-dpo-trainer.ts';
import { pairwiseJudgePreferences, scorerPreferences, type PreferenceSource } from './preference-sources.ts';
import { frozenCopy, trainableCopy } from './reference-model.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';

const config: OnlineDpoConfig = {
  loss: 'dpo', beta: 0.1, labelSmoothing: 0, learningRate: 3e-3, batchSize: 16, maxGradNorm: 1, evalEvery: 0, seed: 9,
  promptsPerIteration: 16, samplesPerPrompt: 4, maxNewTokens: RESPONSE_DIGITS + 1, temperature: 1, stopToken: EOS,
  epochsPerIteration: 2, refreshReference: true,
};

function trainer(base: Transformer, preferences: PreferenceSource, overrides: Partial<OnlineDpoConfig> = {}): OnlineDpoTrainer {
  return new OnlineDpoTrainer({ config: { ...config, ...overrides }, policy: trainableCopy(base), reference: frozenCopy(base),
    prompts: [{ text: '', tokens: Int32Array.of(BOS) }], decode: decodeDigits, preferences });
}

describe('online DPO (Self-Rewarding loop) on sorted digits', () => {
  let base: Transformer;
  before(() => { base = pretrainDigitPolicy(60); });

  test('a programmatic preference source raises the sampled responses\' score', async () => {
    const online = trainer(base, scorerPreferences('sorted', sortedReward));
    const scores: number[] = [];
    for (let i = 0; i < 30; i++) {
      const record = await online.trainStep();
      scores.push(record.metrics.scoreMean);
    }
    const start = (scores[0] + scores[1]) / 2, end = (scores.at(-1)! + scores.at(-2)!) / 2;
    console.log(`online dpo (scorer): sampled sortedness ${start.toFixed(3)} → ${end.toFixed(3)}`);
    assert.ok(end >= start + 0.15, `score ${start} → ${end}`);
  });

  test('killed after 2 iterations and resumed equals 4 uninterrupted ones (reference refresh included)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rlaif-online-dpo-'));
    try {
      const source = scorerPreferences('sorted', sortedReward), small = { promptsPerIteration: 4 };
      const straight = trainer(base, source, small);
      for (let i = 0; i < 4; i++) await straight.trainStep();
      const first = trainer(base, source, small);
      for (let i = 0; i < 2; i++) await first.trainStep();
      first.save(join(dir, 'checkpoint'));
      const resumed = trainer(base, source, small);
      resumed.load(join(dir, 'checkpoint'));
      for (let i = 0; i < 2; i++) await resumed.trainStep();
      for (const [name, t] of straight.dpo.trainable) assert.deepEqual(resumed.dpo.trainable.get(name)!.data, t.data, name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a feedback-layer pairwise judge supplies the pairs', async () => {
    const sortedness = (text: string): number => sortedReward('', text.trim());
    const model = new DeterministicLanguageModel({ brain: {
      pairwise: (first, second) => Math.min(0.97, Math.max(0.03, 0.5 + 0.9 * (sortedness(first) - sortedness(second)))),
      pointwise: () => Array.from({ length: 10 }, () => 0.1),
    } });
    const executor = new RequestExecutor(new InProcessProvider(model), { concurrency: 4, timeoutMs: 2000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 } });
    const judge = new PairwiseJudge(executor, { tieMargin: 0.05, seed: 1 });
    const source = pairwiseJudgePreferences(judge);
    const answer = await source.prefer({ id: 'q', prompt: '', responses: ['531', '135', '315'] });
    assert.deepEqual(answer.choice && [answer.choice.chosen, answer.choice.rejected], [1, 0]);
    const online = trainer(base, source, { promptsPerIteration: 4, samplesPerPrompt: 3 });
    for (let i = 0; i < 2; i++) {
      const record = await online.trainStep();
      assert.equal(record.metrics.judgeFailures, 0);
      assert.ok(record.metrics.pairs > 0 && Number.isFinite(record.metrics.loss), JSON.stringify(record.metrics));
    }
  });
});
