// Length groups (rollout.ts lengthGroups, scoreTokensGrouped; the policy-gradient update's groupTokens; DPO's
// preference-pairs.ts pairGroups): a batch of
// prompts and responses of very different lengths, laid out as `rlaif run` lays it out ((B, P + maxNewTokens), left-
// padded prompts), scored and trained over groups of similar length gives what the whole batch gives: the same
// log-probs and entropies on every action, and for every algorithm and token aggregation the same loss, metrics and
// gradient of one optimizer step, up to float rounding; and one DPO, IPO or cDPO step on pairs of very different lengths
// the same loss, implicit-reward figures and gradient, grouped or whole; and so one reward-model (Bradley-Terry) step.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noGrad, Rng, scope } from '../engine/index.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGptConfig } from '../models/presets.ts';
import { Transformer } from '../models/transformer.ts';
import { DpoTrainer, type DpoLossType } from './dpo-trainer.ts';
import { policyGradientConfig, PolicyGradientTrainer } from './policy-gradient-trainer.ts';
import { pairGroups, type TokenPreferencePair } from './preference-pairs.ts';
import { RewardModelTrainer } from './reward-model-trainer.ts';
import { frozenCopy } from './reference-model.ts';
import { programmaticReward } from './reward-sources.ts';
import { lengthGroups, scoreTokens, scoreTokensGrouped, type RolloutBatch } from './rollout.ts';

const N = 12; // maxNewTokens

/** B rows: prompts of 2-30 tokens, responses of 1-N tokens, laid out as sampleBatch lays them out. */
function variedBatch(B: number, seed: number): RolloutBatch {
  const rng = new Rng(seed);
  const prompts = Array.from({ length: B }, (_, b) => Int32Array.from({ length: b % 3 === 0 ? 20 + rng.int(11) : 2 + rng.int(6) }, () => 1 + rng.int(90)));
  const responses = Array.from({ length: B }, () => Int32Array.from({ length: 1 + rng.int(N) }, () => 1 + rng.int(90)));
  const P = Math.max(...prompts.map((p) => p.length)), T = P + N;
  const tokens = new Int32Array(B * T), keyMask = new Float32Array(B * T), actionMask = new Float32Array(B * T);
  const logprobs = new Float32Array(B * T), responseLengths = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const prompt = prompts[b]!, response = responses[b]!, n = response.length;
    tokens.set(prompt, b * T + P - prompt.length);
    tokens.set(response, b * T + P);
    keyMask.fill(1, b * T + P - prompt.length, b * T + P + n);
    actionMask.fill(1, b * T + P - 1, b * T + P - 1 + n);
    for (let k = 0; k < n; k++) logprobs[b * T + P - 1 + k] = -4.5 - 0.1 * rng.uniform();   // π_old near the untrained model's
    responseLengths[b] = n;
  }
  return { B, T, promptLength: P, tokens, keyMask, actionMask, logprobs, responseLengths };
}

function model(seed: number): Transformer {
  const config = tinyGptConfig({ contextLength: 64 });
  return new Transformer(config, initParameters(config, seed));
}

interface StepOutcome { metrics: Record<string, number | undefined>; grads: Float32Array[] }

/** The same step whole and grouped: each named metric, and every gradient entry, within 1e-4 relative. */
function assertSameStep(whole: StepOutcome, grouped: StepOutcome, keys: readonly string[]): void {
  for (const key of keys) {
    const a = whole.metrics[key]!, b = grouped.metrics[key]!;
    assert.ok(Math.abs(a - b) <= 1e-5 + 1e-4 * Math.abs(a), `${key}: whole ${a}, grouped ${b}`);
  }
  let worst = 0, scale = 0;
  whole.grads.forEach((g, p) => g.forEach((x, i) => { worst = Math.max(worst, Math.abs(x - grouped.grads[p]![i]!)); scale = Math.max(scale, Math.abs(x)); }));
  assert.ok(scale > 0 && worst <= 1e-4 * scale, `gradients differ by ${worst} (largest ${scale})`);
}

describe('length groups', () => {
  test('every row in exactly one group; each group holds its rows\' real tokens and stays within the budget', () => {
    const batch = variedBatch(24, 1);
    for (const tokens of [1, 64, 200, 10_000]) {
      const groups = lengthGroups(batch, tokens);
      assert.deepEqual(groups.flatMap((g) => g.rows).sort((a, b) => a - b), Array.from({ length: 24 }, (_, b) => b));
      for (const g of groups) {
        assert.ok(g.rows.length === 1 || g.rows.length * g.T <= tokens, `${g.rows.length} rows × ${g.T} > ${tokens}`);
        for (const b of g.rows) {
          for (let t = 0; t < batch.T; t++) {
            if (batch.keyMask[b * batch.T + t] && (t < g.from || t >= g.from + g.T)) assert.fail(`row ${b}'s token at ${t} is outside [${g.from}, ${g.from + g.T})`);
          }
        }
      }
    }
    assert.equal(lengthGroups(batch, 64).length > 3, true);
    assert.deepEqual(lengthGroups(batch, 0), [{ rows: Array.from({ length: 24 }, (_, b) => b), from: 0, T: batch.T }]);
  });

  test('scored group by group: the whole batch\'s log-probs and entropies on every action', () => {
    const batch = variedBatch(24, 2), m = model(3);
    const { whole, grouped } = noGrad(() => scope(() => {
      const s = scoreTokens(m, batch);
      return { whole: { logprobs: s.logprobs.data.slice(), entropies: s.entropies.data.slice() }, grouped: scoreTokensGrouped(m, batch, 64) };
    }));
    let actions = 0;
    for (let i = 0; i < batch.B * batch.T; i++) {
      if (!batch.actionMask[i]) continue;
      actions++;
      assert.ok(Math.abs(whole.logprobs[i]! - grouped.logprobs[i]!) < 1e-5, `log-prob ${i}: ${whole.logprobs[i]} vs ${grouped.logprobs[i]}`);
      assert.ok(Math.abs(whole.entropies[i]! - grouped.entropies[i]!) < 1e-5, `entropy ${i}: ${whole.entropies[i]} vs ${grouped.entropies[i]}`);
    }
    assert.ok(actions > 50);
  });

  const cases = [
    { algorithm: 'grpo', aggregation: null },                        // seq-mean-token-mean, with its KL term
    { algorithm: 'grpo', aggregation: 'seq-mean-token-sum-norm' },   // Dr. GRPO's constant divisor
    { algorithm: 'grpo', aggregation: 'token-mean', entropyCoef: 0.01 },
    { algorithm: 'rloo', aggregation: null },                        // seq-mean-token-sum
    { algorithm: 'reinforce', aggregation: 'seq-mean-token-sum-norm', entropyCoef: 0.01 },   // divisor B · T of the batch
  ] as const;
  for (const knobs of cases) {
    test(`one ${knobs.algorithm} step (${knobs.aggregation ?? 'its own aggregation'}${'entropyCoef' in knobs ? ', entropy bonus' : ''}): the same loss, metrics and gradient`, async () => {
      const batch = variedBatch(24, 4), base = model(5);
      const rewards = Float32Array.from({ length: 24 }, (_, b) => Math.sin(b * 1.7));
      const run = async (groupTokens: number) => {
        const policy = frozenCopy(base);
        for (const t of policy.parameters().values()) t.requiresGrad = true;
        const trainer = new PolicyGradientTrainer({
          config: policyGradientConfig({ ...knobs, groupSize: 4, promptsPerStep: 6, maxNewTokens: N, minibatches: 1, epochs: 1, groupTokens, seed: 3 }),
          policy, reference: frozenCopy(base), prompts: [{ text: '', tokens: Int32Array.of(1) }], decode: (ids) => Array.from(ids).join(' '),
          reward: programmaticReward('none', () => 0),
        });
        const { record } = await trainer.learn(batch, rewards);
        return { metrics: record.metrics, grads: [...trainer.trainable.values()].map((t) => t.grad!.slice()) };
      };
      assertSameStep(await run(0), await run(64), ['loss', 'clipFraction', 'entropy', 'gradNorm']);
    });
  }
});

describe('preference steps over pair groups (DPO, reward model)', () => {
  const rng = new Rng(6);
  const ids = (n: number) => Int32Array.from({ length: n }, () => 1 + rng.int(90));
  const pairs: TokenPreferencePair[] = Array.from({ length: 12 }, (_, i) => ({ prompt: ids(i % 3 === 0 ? 25 : 3 + rng.int(5)), chosen: ids(1 + rng.int(12)), rejected: ids(1 + rng.int(12)) }));

  test('every pair in exactly one group, each within its budget', () => {
    for (const tokens of [1, 60, 120, 10_000]) {
      const groups = pairGroups(pairs, tokens);
      assert.deepEqual(groups.flat().sort((a, b) => a - b), pairs.map((_, i) => i));
      for (const g of groups) {
        const longest = Math.max(...g.map((i) => pairs[i]!.prompt.length + Math.max(pairs[i]!.chosen.length, pairs[i]!.rejected.length)));
        assert.ok(g.length === 1 || 2 * g.length * longest <= tokens, `${g.length} pairs of up to ${longest} tokens > ${tokens}`);
      }
    }
    assert.ok(pairGroups(pairs, 60).length > 3);
    assert.deepEqual(pairGroups(pairs, 0), [pairs.map((_, i) => i)]);
  });

  for (const loss of ['dpo', 'ipo', 'cdpo'] as DpoLossType[]) {
    test(`one ${loss} step: the same loss, implicit rewards and gradient, grouped or whole`, async () => {
      const base = model(7);
      const run = async (groupTokens: number) => {
        const policy = frozenCopy(base);
        for (const t of policy.parameters().values()) t.requiresGrad = true;
        const trainer = new DpoTrainer({ config: { loss, beta: 0.5, labelSmoothing: 0.1, learningRate: 1e-3, batchSize: 12, maxGradNorm: 1, evalEvery: 0, seed: 1, groupTokens },
          policy, reference: model(8) });
        const record = await trainer.trainOn(pairs);
        return { metrics: record.metrics, grads: [...trainer.trainable.values()].map((t) => t.grad!.slice()) };
      };
      assertSameStep(await run(0), await run(60), ['loss', 'gradNorm', 'rewardAccuracy', 'rewardMargin', 'chosenReward', 'rejectedReward']);
    });
  }

  test('one reward-model step (Bradley-Terry, soft labels): the same loss, accuracy, margin and gradient, grouped or whole', async () => {
    const soft = pairs.map((p, i) => ({ ...p, label: 0.6 + 0.03 * i }));
    const run = async (groupTokens: number) => {
      const trunk = model(9);
      for (const t of trunk.parameters().values()) t.requiresGrad = true;
      const trainer = new RewardModelTrainer({ config: { learningRate: 1e-3, batchSize: 12, maxGradNorm: 1, margin: 0, evalEvery: 0, seed: 1, groupTokens }, model: trunk, train: soft });
      const record = await trainer.trainStep();
      return { metrics: record.metrics, grads: [...trainer.trainable.values()].map((t) => t.grad!.slice()) };
    };
    assertSameStep(await run(0), await run(60), ['loss', 'gradNorm', 'accuracy', 'rewardMargin']);
  });
});
