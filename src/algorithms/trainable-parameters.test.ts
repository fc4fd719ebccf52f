// LoRA wiring of the trainers: with `lora` the policy-gradient trainer updates only adapter tensors (base weights
// bit-identical after training, checkpoints hold only the adapter) and the run resumes. The learning check with LoRA
// is in dpo-trainer.test.ts (implicit-reward accuracy rises with only the adapter trained).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PolicyGradientTrainer, type PolicyGradientConfig } from './policy-gradient-trainer.ts';
import { frozenCopy, trainableCopy } from './reference-model.ts';
import { programmaticReward } from './reward-sources.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from './testing/digit-task.ts';
import { selectTrainable } from './trainable-parameters.ts';

const config: PolicyGradientConfig = {
  algorithm: 'rloo', promptsPerStep: 2, groupSize: 4, maxNewTokens: RESPONSE_DIGITS + 1, temperature: 1, stopToken: EOS,
  learningRate: 1e-2, maxGradNorm: 1, epochs: 1, minibatches: 1, clipLow: 0.2, clipHigh: 0.2, aggregation: null, klCoef: 0.02,
  klTarget: null, klHorizon: 1000, entropyCoef: 0, valueCoef: 0.5, valueClip: 0.5, gamma: 1, lambda: 0.95, seed: 3,
};

describe('LoRA in the trainers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-lora-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('policy gradient with LoRA changes only adapter weights', async () => {
    const base = pretrainDigitPolicy(20), policy = trainableCopy(base);
    const before = new Map([...policy.parameters()].map(([name, t]) => [name, t.data.slice()]));
    const make = (p = policy) => new PolicyGradientTrainer({ config, policy: p, reference: frozenCopy(base), prompts: [{ text: '', tokens: Int32Array.of(BOS) }],
      decode: decodeDigits, reward: programmaticReward('sorted', sortedReward), lora: { rank: 4, alpha: 8, targets: ['c_attn', 'c_fc'] } });
    const trainer = make();
    const adapterStart = new Map([...trainer.trainable].map(([name, t]) => [name, t.data.slice()]));
    assert.ok(trainer.trainable.size === 8 && [...trainer.trainable.keys()].every((name) => /lora_[AB]\.weight$/.test(name)), [...trainer.trainable.keys()].join(', '));
    for (let i = 0; i < 5; i++) await trainer.trainStep();
    for (const [name, t] of policy.parameters()) assert.deepEqual(t.data, before.get(name), `base ${name} changed`);
    assert.ok([...trainer.trainable].some(([name, t]) => t.data.some((v, i) => v !== adapterStart.get(name)![i])), 'the adapter trained');
    trainer.save(join(dir, 'checkpoint'));
    const resumed = make(trainableCopy(base));
    resumed.load(join(dir, 'checkpoint'));
    assert.equal(resumed.step, 5);
    for (const [name, t] of trainer.trainable) assert.deepEqual(resumed.trainable.get(name)!.data, t.data, name);
  });

  test('lora and an explicit trainable set are mutually exclusive; frozen parameters are refused', () => {
    const policy = trainableCopy(pretrainDigitPolicy(1));
    assert.throws(() => selectTrainable(policy, { lora: { rank: 2, alpha: 2, targets: ['c_attn'] }, trainable: new Map(), seed: 0 }), /either `lora` or `trainable`/);
    assert.throws(() => selectTrainable(frozenCopy(policy), { seed: 0 }), /does not require gradients/);
  });
});
