// Learning test: offline DPO (and IPO, cDPO) on sorted-digit preferences raises held-out implicit-reward accuracy
// from 0.5 (π_θ = π_ref: every implicit reward is 0) and the policy's own ranking of held-out pairs; LoRA DPO changes
// only adapter weights. Numbers printed for the report.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Transformer } from '../models/transformer.ts';
import { DpoTrainer, type DpoConfig, type DpoLossType } from './dpo-trainer.ts';
import { frozenCopy, trainableCopy } from './reference-model.ts';
import { digitPreferencePairs, pretrainDigitPolicy } from '../testbed/digit-task.ts';

function config(loss: DpoLossType): DpoConfig {
  return { loss, beta: loss === 'ipo' ? 0.5 : 0.1, labelSmoothing: 0.1, learningRate: 3e-3, batchSize: 32, maxGradNorm: 1, evalEvery: 0, seed: 5 };
}

describe('DPO on sorted-digit preferences', () => {
  let base: Transformer;
  const train = digitPreferencePairs(1024, 21), heldOut = digitPreferencePairs(200, 22);
  before(() => { base = pretrainDigitPolicy(60); });

  for (const loss of ['dpo', 'ipo', 'cdpo'] as const) {
    test(`${loss} raises held-out implicit-reward accuracy`, async () => {
      const trainer = new DpoTrainer({ config: config(loss), policy: trainableCopy(base), reference: frozenCopy(base), train, heldOut });
      const before = trainer.evaluate(heldOut);
      for (let step = 0; step < 60; step++) {
        const record = await trainer.trainStep();
        for (const [name, value] of Object.entries(record.metrics)) assert.ok(Number.isFinite(value), `${name} = ${value}`);
      }
      const after = trainer.evaluate(heldOut);
      console.log(`${loss}: held-out implicit-reward accuracy ${before.implicitAccuracy.toFixed(3)} → ${after.implicitAccuracy.toFixed(3)}, ` +
        `policy ranking accuracy ${before.policyAccuracy.toFixed(3)} → ${after.policyAccuracy.toFixed(3)}, margin ${after.implicitMargin.toFixed(3)}`);
      assert.equal(before.implicitAccuracy, 0.5);
      assert.ok(after.implicitAccuracy >= 0.85, `implicit-reward accuracy ${after.implicitAccuracy}`);
      assert.ok(after.policyAccuracy > before.policyAccuracy + 0.2, `policy accuracy ${before.policyAccuracy} → ${after.policyAccuracy}`);
    });
  }

  test('with LoRA only adapter weights change, and accuracy still rises', async () => {
    const policy = trainableCopy(base);
    const baseWeights = new Map([...policy.parameters()].map(([name, t]) => [name, t.data.slice()]));
    // One epoch (30 steps of 32 of the 1024 pairs) at lr 1e-3. Measured on the native backend, held-out accuracy
    // 0.5 → 0.71–0.76 over config seeds 1–10 (0.73 on seed 5). Past one epoch the adapter drifts (0.47–0.79 at 120
    // steps at lr 3e-3, the old setting, which passed or failed with the minibatch order), so the test stops there.
    const trainer = new DpoTrainer({ config: { ...config('dpo'), learningRate: 1e-3 }, policy, reference: frozenCopy(base), train,
      lora: { rank: 8, alpha: 16, targets: ['c_attn', 'c_proj', 'c_fc'] } });
    assert.ok([...trainer.trainable.keys()].every((name) => name.includes('lora_')), 'only adapter tensors are trainable');
    for (let step = 0; step < 30; step++) await trainer.trainStep();
    for (const [name, t] of policy.parameters()) assert.deepEqual(t.data, baseWeights.get(name), `base ${name} changed`);
    const after = trainer.evaluate(heldOut);
    console.log(`dpo + LoRA: held-out implicit-reward accuracy 0.500 → ${after.implicitAccuracy.toFixed(3)}`);
    assert.ok(after.implicitAccuracy >= 0.65, `implicit-reward accuracy ${after.implicitAccuracy}`);
  });
});
