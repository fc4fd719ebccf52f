// LoRA in the trainers: with `lora` the policy-gradient trainer updates only adapter tensors (base weights bit-identical
// after training, checkpoints hold only the adapter) and the run resumes; GRPO with only a LoRA adapter raises the
// sorted-digits reward. Its base is pretrained with some sorted strings: a base trained on uniform digits alone has a
// flat head and no conditional features in its trunk, and neither LoRA nor full training of the projection matrices
// moves it (measured: reward flat over 40 steps at lr 5e-3..5e-2), while full fine-tuning reaches the embeddings.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { policyGradientConfig, PolicyGradientTrainer } from './policy-gradient-trainer.ts';
import { frozenCopy, trainableCopy } from './reference-model.ts';
import { programmaticReward } from './reward-sources.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';
import { selectTrainable } from './trainable-parameters.ts';
import { median, rewardCurve } from './testing/reward-curve.ts';

// GRPO + LoRA is checked on the median of three config seeds (7, 8, 9): one seed's reward rise and highest KL swing
// too much for a threshold (measured on seeds 7–11: rises 0.15–0.19; highest KL per sequence over the 60 steps 2.6–5.4
// with β = 0.1 and 3.7–10.5 with β = 0). Medians over seeds 7–9: rise 0.18, highest KL 2.9 with β = 0.1 and 7.6 with
// β = 0. The ceiling between them fails when the KL term is not applied.
const MAX_KL = 5;
const SEEDS = [7, 8, 9];

const config = policyGradientConfig({ algorithm: 'rloo', promptsPerStep: 2, groupSize: 4, maxNewTokens: RESPONSE_DIGITS + 1,
  stopToken: EOS, learningRate: 1e-2, minibatches: 1, klCoef: 0.02, seed: 3 });

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

  test('GRPO with LoRA only (rank 8, all projections) raises the reward with KL under the ceiling (median of 3 seeds)', async () => {
    const base = pretrainDigitPolicy(600, 1, { sortedShare: 0.2 });
    const rises: number[] = [], highest: number[] = [];
    for (const seed of SEEDS) {
      const trainer = new PolicyGradientTrainer({
        config: { ...config, algorithm: 'grpo', promptsPerStep: 4, groupSize: 8, learningRate: 5e-3, epochs: 2, minibatches: 2, klCoef: 0.1, seed },
        policy: trainableCopy(base), reference: frozenCopy(base), prompts: [{ text: '', tokens: Int32Array.of(BOS) }],
        decode: decodeDigits, reward: programmaticReward('sorted', sortedReward), lora: { rank: 8, alpha: 16, targets: ['c_attn', 'c_proj', 'c_fc'] },
      });
      const { start, end, kls } = await rewardCurve(trainer, { steps: 60, first: 3, last: 5 });
      console.log(`grpo + LoRA seed ${seed}: reward ${start.toFixed(3)} → ${end.toFixed(3)}, highest KL ${Math.max(...kls).toFixed(2)}`);
      rises.push(end - start);
      highest.push(Math.max(...kls));
    }
    assert.ok(median(rises) >= 0.1, `reward rises ${rises.map((r) => r.toFixed(3)).join(', ')}`);
    assert.ok(median(highest) < MAX_KL, `highest KLs ${highest.map((k) => k.toFixed(2)).join(', ')}`);
  });

  test('lora and an explicit trainable set are mutually exclusive; frozen parameters are refused', () => {
    const policy = trainableCopy(pretrainDigitPolicy(1));
    assert.throws(() => selectTrainable(policy, { lora: { rank: 2, alpha: 2, targets: ['c_attn'] }, trainable: new Map(), seed: 0 }), /either `lora` or `trainable`/);
    assert.throws(() => selectTrainable(frozenCopy(policy), { seed: 0 }), /does not require gradients/);
  });
});
