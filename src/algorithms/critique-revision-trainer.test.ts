// Critique–revision SFT through the real feedback layer: CritiqueReviser over the in-process provider with a
// deterministic adapter whose revision is checkable (it sorts the response's digits). After training the policy
// gives revisions a higher log-probability and its own samples are more sorted.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadConstitution } from '../feedback/constitution.ts';
import { CritiqueReviser } from '../feedback/critique-revision.ts';
import { loadTemplate } from '../feedback/prompt-template.ts';
import { InProcessProvider, type InProcessGenerateRequest, type InProcessLanguageModel } from '../feedback/providers/in-process-provider.ts';
import { RequestExecutor } from '../feedback/request-executor.ts';
import { noGrad, scope } from '../engine/index.ts';
import type { Transformer } from '../models/transformer.ts';
import { CritiqueRevisionTrainer } from './critique-revision-trainer.ts';
import { trainableCopy } from './reference-model.ts';
import { sftLoss, sftBatch } from './sft-trainer.ts';
import { BOS, decodeDigits, encodeDigits, EOS, pretrainDigitPolicy, randomDigits, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';
import { Rng } from '../engine/index.ts';
import { sampleBatch, responseTokens } from './rollout.ts';

/** Critiques say the digits are out of order; a revision is the response's first six digits (padded with 9s), sorted. */
class SortingReviser implements InProcessLanguageModel {
  readonly modelId = 'sorting-reviser';
  readonly supportsLogprobs = false;
  async generate(request: InProcessGenerateRequest) {
    const last = request.messages.at(-1)!.content, context = request.messages[1]!.content;
    const response = /Assistant's last response: ([0-9]*)/.exec(context)?.[1] ?? '';
    const revised = [...response.padEnd(RESPONSE_DIGITS, '9').slice(0, RESPONSE_DIGITS)].sort().join('');
    const text = last.includes('Revision:') ? revised : 'The digits are not six in non-decreasing order.';
    return { text, tokens: null, promptTokens: 10 };
  }
}

function meanSorted(policy: Transformer, seed: number): number {
  const batch = noGrad(() => sampleBatch(policy, Array.from({ length: 64 }, () => Int32Array.of(BOS)), { maxNewTokens: RESPONSE_DIGITS + 1, stopToken: EOS, seed }));
  let total = 0;
  for (let b = 0; b < batch.B; b++) total += sortedReward('', decodeDigits(responseTokens(batch, b)));
  return total / batch.B;
}

describe('critique–revision SFT (Constitutional AI supervised stage)', () => {
  let base: Transformer;
  before(() => { base = pretrainDigitPolicy(80); });

  test('the policy moves toward the revisions', async () => {
    const executor = new RequestExecutor(new InProcessProvider(new SortingReviser()), { concurrency: 4, timeoutMs: 2000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 } });
    const reviser = new CritiqueReviser(executor, { template: loadTemplate('critique-revision'), constitution: loadConstitution(), maxTokens: 32, temperature: 0, seed: 4 });
    const policy = trainableCopy(base);
    const trainer = new CritiqueRevisionTrainer({ config: { promptsPerStep: 32, maxNewTokens: RESPONSE_DIGITS + 1, temperature: 1, stopToken: EOS,
      learningRate: 3e-3, maxGradNorm: 1, sftStepsPerBatch: 1, seed: 2 }, policy, prompts: [{ text: 'Write six digits.', tokens: Int32Array.of(BOS) }],
      decode: decodeDigits, encodeResponse: (text) => Int32Array.from([...encodeDigits(text), EOS]), reviser });
    const rng = new Rng(77);
    const heldOut = Array.from({ length: 64 }, () => ({ prompt: Int32Array.of(BOS), response: Int32Array.from([...encodeDigits([...randomDigits(rng)].sort().join('')), EOS]) }));
    const revisionLoss = (): number => noGrad(() => scope(() => sftLoss(policy, sftBatch(heldOut)).item()));
    const lossBefore = revisionLoss(), sortedBefore = meanSorted(policy, 5);
    for (let step = 0; step < 60; step++) {
      const record = await trainer.trainStep();
      assert.equal(record.metrics.revisionFailures, 0);
    }
    const lossAfter = revisionLoss(), sortedAfter = meanSorted(policy, 5);
    console.log(`critique-revision: held-out revision NLL/token ${lossBefore.toFixed(3)} → ${lossAfter.toFixed(3)}, sampled sortedness ${sortedBefore.toFixed(3)} → ${sortedAfter.toFixed(3)}`);
    assert.match(trainer.revisions[0]!.critique, /not six in non-decreasing order/);
    for (const r of trainer.revisions) assert.equal(sortedReward('', r.revision), 1, `revision ${r.revision} of ${r.response}`);
    assert.ok(lossAfter < lossBefore - 0.2, `revision loss ${lossBefore} → ${lossAfter}`);
    assert.ok(sortedAfter > sortedBefore + 0.2, `sortedness ${sortedBefore} → ${sortedAfter}`);
  });
});
