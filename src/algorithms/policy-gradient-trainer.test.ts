// Learning tests: from a tiny GPT pretrained here on digit strings (a fifth of them sorted), REINFORCE, RLOO, GRPO and PPO each raise
// the sorted-digits reward within 40 steps with KL to the reference under a ceiling the KL penalty has to earn (medians
// over three seeds). Also:
// a run killed after 2 steps and resumed from its checkpoint ends with the same weights as 4 uninterrupted steps; PPO-ptx's
// pretraining loss moves the weights toward its text, off it reports nothing, and its draws resume.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Transformer } from '../models/transformer.ts';
import { policyGradientConfig, PolicyGradientTrainer, type PolicyGradientAlgorithm, type PolicyGradientConfig } from './policy-gradient-trainer.ts';
import { frozenCopy } from './reference-model.ts';
import { programmaticReward } from './reward-sources.ts';
import { BOS, decodeDigits, encodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';
import { sftBatch, sftLoss } from './sft-trainer.ts';
import { checkMonitors, TrainingStopped } from './training-run.ts';
import { median, rewardCurve } from './testing/reward-curve.ts';

// Each claim is checked on the median of three config seeds (7, 8, 9): a single seed now and then collapses onto one
// unsorted string (reward → 0; measured: PPO β = 0.03 on seed 7, REINFORCE β = 0.02 on seed 11), and a ceiling met
// by one lucky seed proves nothing. KL per sequence (nats) at the end of 40 steps is bounded on this task by −log π_ref
// of the one string a collapsed policy emits: ≈ 19–21 nats. Measured on the native backend over seeds 7–15, medians of
// the triples (7–9, 10–12, 13–15): with the configured β, rloo 8.8 / 5.4 / 6.3, grpo 6.6 / 4.9 / 7.2, ppo 4.4 / 4.4 /
// 8.6; with β = 0, rloo 18.8 / 19.0 / 20.5, grpo 19.0 / 20.3 / 12.3, ppo 19.8 / 20.3 / 20.3. The ceilings sit between: a
// KL penalty that is not applied fails them. Median reward rises were ≥ 0.30 for every algorithm and triple. REINFORCE's
// β = 0.02 does not hold its KL below collapse (0.05 collapses onto an unsorted string), so it has no ceiling here.
const MAX_KL: Record<PolicyGradientAlgorithm, number | null> = { reinforce: null, rloo: 13, grpo: 10, ppo: 13 };
const BETA: Record<PolicyGradientAlgorithm, number> = { reinforce: 0.02, rloo: 0.03, grpo: 0.1, ppo: 0.03 };
const SEEDS = [7, 8, 9];

/** The schema's defaults, with the digit task's response length and EOS and a β tuned per algorithm. */
function config(algorithm: PolicyGradientAlgorithm, seed = 7): PolicyGradientConfig {
  return policyGradientConfig({ algorithm, maxNewTokens: RESPONSE_DIGITS + 1, stopToken: EOS, klCoef: BETA[algorithm], seed });
}

function trainerFor(base: Transformer, c: PolicyGradientConfig): PolicyGradientTrainer {
  const policy = frozenCopy(base);
  for (const t of policy.parameters().values()) t.requiresGrad = true;
  return new PolicyGradientTrainer({
    config: c, policy, reference: frozenCopy(base), prompts: [{ text: '', tokens: Int32Array.of(BOS) }],
    decode: decodeDigits, reward: programmaticReward('sorted', sortedReward),
  });
}

describe('policy-gradient learning on sorted digits', () => {
  let base: Transformer;
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-pg-'));
  // A fifth of the pretraining strings sorted: the base then has features a reward can build on. On a base pretrained
  // on uniform digits only, single seeds sometimes stall or collapse (measured: PPO 0.559 → 0.594, RLOO → 0.0 on seed 8),
  // while on this base every algorithm rose by ≥ 0.24 on seeds 7 and 8 on the native backend.
  before(() => { base = pretrainDigitPolicy(80, 1, { sortedShare: 0.2 }); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const algorithm of ['reinforce', 'rloo', 'grpo', 'ppo'] as const) {
    test(`${algorithm} raises the reward${MAX_KL[algorithm] ? ` with KL under ${MAX_KL[algorithm]}` : ''}`, async () => {
      const rises: number[] = [], finalKls: number[] = [];
      for (const seed of SEEDS) {
        const { start, end, kls } = await rewardCurve(trainerFor(base, config(algorithm, seed)), { steps: 40, first: 2, last: 3 });
        console.log(`${algorithm} seed ${seed}: reward ${start.toFixed(3)} → ${end.toFixed(3)}, final KL ${kls.at(-1)!.toFixed(2)}`);
        rises.push(end - start);
        finalKls.push(kls.at(-1)!);
      }
      assert.ok(median(rises) >= 0.2, `${algorithm}: reward rises ${rises.map((r) => r.toFixed(3)).join(', ')}`);
      const ceiling = MAX_KL[algorithm];
      if (ceiling !== null) assert.ok(median(finalKls) < ceiling, `${algorithm}: final KLs ${finalKls.map((k) => k.toFixed(2)).join(', ')}`);
    });
  }

  test('killed after 2 steps and resumed equals 4 uninterrupted steps (same seed)', async () => {
    const straight = trainerFor(base, config('ppo'));
    for (let i = 0; i < 4; i++) await straight.trainStep();
    const first = trainerFor(base, config('ppo'));
    for (let i = 0; i < 2; i++) await first.trainStep();
    first.save(join(dir, 'checkpoint'));
    const resumed = trainerFor(base, config('ppo'));
    resumed.load(join(dir, 'checkpoint'));
    assert.equal(resumed.step, 2);
    for (let i = 0; i < 2; i++) await resumed.trainStep();
    for (const [name, t] of straight.trainable) assert.deepEqual(resumed.trainable.get(name)!.data, t.data, `parameter ${name}`);
  });

  test('PPO-ptx: pretrainCoef adds the language-modelling loss of pretraining text to each step; off, nothing of it', async () => {
    // Text the base never saw (nine after nine) and a reward of 0 everywhere: GRPO's advantages are 0 and its KL term's
    // gradient is 0 at the reference, so the pretraining loss is the only thing that can move the weights.
    const nines = Array.from({ length: 4 }, () => ({ prompt: Int32Array.of(BOS), response: Int32Array.from([...encodeDigits('999999'), EOS]) }));
    const withZeroReward = (pretrainCoef: number, pretrain?: typeof nines) => {
      const policy = frozenCopy(base);
      for (const t of policy.parameters().values()) t.requiresGrad = true;
      return new PolicyGradientTrainer({ config: policyGradientConfig({ ...config('grpo'), pretrainCoef, pretrainBatchSize: 4 }), policy, reference: frozenCopy(base),
        prompts: [{ text: '', tokens: Int32Array.of(BOS) }], decode: decodeDigits, reward: programmaticReward('zero', () => 0), ...(pretrain ? { pretrain } : {}) });
    };
    const nll = (t: PolicyGradientTrainer) => sftLoss(t.setup.policy, sftBatch(nines)).item();
    const off = withZeroReward(0), on = withZeroReward(1, nines), before = nll(on);
    const offRecord = await off.trainStep();
    const onRecord = await on.trainStep();   // the first step: the policy starts at the reference, so its RL loss is KL alone
    for (let i = 0; i < 2; i++) await on.trainStep();
    for (const [name, t] of off.trainable) assert.deepEqual(t.data, base.parameters().get(name)!.data, `off: ${name} unchanged`);
    assert.equal(offRecord.metrics.pretrainLoss, undefined, 'off: no pretraining loss reported');
    assert.ok(nll(on) < before - 0.1, `on: the pretraining text's loss falls (${before.toFixed(3)} → ${nll(on).toFixed(3)})`);
    assert.ok(onRecord.metrics.pretrainLoss! > 1 && Math.abs(onRecord.metrics.loss!) < 0.1 * onRecord.metrics.pretrainLoss!, `on: reported apart from the RL loss (only KL here): ${onRecord.metrics.loss}, ${onRecord.metrics.pretrainLoss}`);
    assert.throws(() => withZeroReward(1), /pretrainCoef 1 needs pretraining examples/);
  });

  test('PPO-ptx: killed after 2 steps and resumed equals 4 uninterrupted steps (the pretraining draws resume too)', async () => {
    const pretrain = ['123456', '999999', '000111', '543210'].map((d) => ({ prompt: Int32Array.of(BOS), response: Int32Array.from([...encodeDigits(d), EOS]) }));
    const make = () => {
      const policy = frozenCopy(base);
      for (const t of policy.parameters().values()) t.requiresGrad = true;
      return new PolicyGradientTrainer({ config: policyGradientConfig({ ...config('grpo'), pretrainCoef: 0.5, pretrainBatchSize: 2 }), policy, reference: frozenCopy(base),
        prompts: [{ text: '', tokens: Int32Array.of(BOS) }], decode: decodeDigits, reward: programmaticReward('sorted', sortedReward), pretrain });
    };
    const straight = make();
    for (let i = 0; i < 4; i++) await straight.trainStep();
    const first = make();
    for (let i = 0; i < 2; i++) await first.trainStep();
    first.save(join(dir, 'checkpoint-ptx'));
    const resumed = make();
    resumed.load(join(dir, 'checkpoint-ptx'));
    for (let i = 0; i < 2; i++) await resumed.trainStep();
    for (const [name, t] of straight.trainable) assert.deepEqual(resumed.trainable.get(name)!.data, t.data, `parameter ${name}`);
  });

  test('monitors stop on NaN, a reward floor and a KL ceiling, naming the last checkpoint', () => {
    assert.throws(() => checkMonitors(3, { loss: NaN }, {}, '/run/checkpoint'), (e: unknown) =>
      e instanceof TrainingStopped && e.reason === 'non-finite' && /loss is NaN.*\/run\/checkpoint/.test(e.message));
    assert.throws(() => checkMonitors(3, { rewardMean: -2 }, { minRewardMean: -1 }, null), /reward mean/);
    assert.throws(() => checkMonitors(3, { kl: 30 }, { maxKl: 25 }, null), /KL to the reference/);
  });
});
