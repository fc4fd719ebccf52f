// Every loss against an independent float64 reference on random inputs (within 1e-6), gradients by finite
// differences, and the edge cases: every token masked (0 loss, zero gradient), soft labels of exactly 0 and 1.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, parameter, Rng, setPoisoning, tensor, type Tensor } from '../engine/index.ts';
import { gradcheck } from '../engine/testing/gradcheck.ts';
import {
  bradleyTerryLoss, dpoLoss, entropyBonus, grpoLoss, ipoLoss, klLoss, klPerToken, klRewardPenalty, policyGradientLoss,
  ppoPolicyLoss, ppoValueLoss, type KlEstimator,
} from './losses.ts';
import { computeAdvantages } from './advantages.ts';
import { aggregateTokens, type TokenAggregation } from './token-aggregation.ts';

setPoisoning(true);
const B = 6, T = 7;
const MODES: TokenAggregation[] = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'];

function randn(shape: number[], seed: number, scale = 1, offset = 0): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return parameter(new Rng(seed).fillNormal(new Float32Array(n), offset, scale), shape);
}
function constant(values: ArrayLike<number>, shape: number[]): Tensor {
  return tensor(Float32Array.from(values), shape);
}
/** Response mask: row b has a contiguous response; row 2 is empty (everything masked). */
function responseMask(): Tensor {
  const m = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    if (b === 2) continue;
    const start = 1 + (b % 3), length = 1 + ((b * 5) % (T - start));
    for (let t = start; t < start + length; t++) m[b * T + t] = 1;
  }
  return constant(m, [B, T]);
}
function close(actual: number, expected: number, what: string): void {
  assert.ok(Number.isFinite(actual), `${what}: not finite (${actual})`);
  assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs float64 ${expected}`);
}
function noGradFailures(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], what: string): void {
  const failures = gradcheck(fn, inputs, { eps: 1e-3, rtol: 1e-2, atol: 1e-3 });
  assert.deepEqual(failures, [], `${what}: gradient mismatches`);
}
const f64 = (t: Tensor): number[] => Array.from(t.data);
const logSigmoid64 = (x: number): number => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));

/** float64 aggregation, written from the definitions (not from aggregationWeights). */
function aggregate64(loss: number[], mask: number[], mode: TokenAggregation, normLength = T): number {
  const rows: { sum: number; count: number }[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0, c = 0;
    for (let t = 0; t < T; t++) if (mask[b * T + t]) { s += loss[b * T + t]; c++; }
    rows.push({ sum: s, count: c });
  }
  const live = rows.filter((r) => r.count > 0);
  if (live.length === 0) return 0;
  if (mode === 'token-mean') return live.reduce((a, r) => a + r.sum, 0) / live.reduce((a, r) => a + r.count, 0);
  if (mode === 'seq-mean-token-mean') return live.reduce((a, r) => a + r.sum / r.count, 0) / live.length;
  if (mode === 'seq-mean-token-sum') return live.reduce((a, r) => a + r.sum, 0) / live.length;
  return rows.reduce((a, r) => a + r.sum, 0) / (B * normLength);
}

function assertZeroLossZeroGrad(loss: Tensor, inputs: Tensor[], what: string): void {
  assert.ok(loss.item() === 0, `${what}: all-masked loss is ${loss.item()}`);
  if (loss.requiresGrad) backward(loss);
  for (const x of inputs) if (x.grad) for (const g of x.grad) assert.ok(g === 0, `${what}: non-zero gradient ${g}`);
}

describe('token aggregation', () => {
  test('all four modes match float64 and have the right gradient', () => {
    const mask = responseMask();
    for (const mode of MODES) {
      const x = randn([B, T], 1);
      close(aggregateTokens(x, mask, mode).item(), aggregate64(f64(x), f64(mask), mode), mode);
      noGradFailures((y) => aggregateTokens(y, mask, mode), [x], mode);
    }
  });
});

describe('Bradley–Terry', () => {
  const reference = (c: number[], r: number[], p: number[], m: number[], mask: number[]): number => {
    let s = 0, n = 0;
    for (let b = 0; b < c.length; b++) {
      if (!mask[b]) continue;
      const d = c[b] - r[b];
      s += -(p[b] * logSigmoid64(d - m[b]) + (1 - p[b]) * logSigmoid64(-d - m[b])); n++;
    }
    return n ? s / n : 0;
  };
  test('soft labels (including exactly 0 and 1) with margin match float64', () => {
    const chosen = randn([B], 2, 2), rejected = randn([B], 3, 2);
    const labels = constant([0, 1, 0.3, 0.5, 1, 0.9], [B]), margin = constant([0, 0.5, 0, 1, 0.2, 0], [B]);
    const mask = constant([1, 1, 1, 0, 1, 1], [B]);
    const loss = bradleyTerryLoss({ chosen, rejected, labels, margin, mask });
    close(loss.item(), reference(f64(chosen), f64(rejected), f64(labels), f64(margin), f64(mask)), 'bt');
    noGradFailures((c, r) => bradleyTerryLoss({ chosen: c, rejected: r, labels, margin, mask }), [chosen, rejected], 'bt');
  });
  test('hard labels by default; a huge gap with label 0 stays finite', () => {
    const chosen = constant([200, 0], [2]), rejected = constant([0, 0], [2]);
    close(bradleyTerryLoss({ chosen, rejected }).item(), reference([200, 0], [0, 0], [1, 1], [0, 0], [1, 1]), 'hard');
    const loss = bradleyTerryLoss({ chosen, rejected, labels: constant([0, 1], [2]) });
    close(loss.item(), (200 + Math.log(2)) / 2, 'label 0');
  });
  test('every pair masked gives 0 and zero gradient', () => {
    const chosen = randn([B], 4), rejected = randn([B], 5);
    assertZeroLossZeroGrad(bradleyTerryLoss({ chosen, rejected, mask: constant(new Float32Array(B), [B]) }), [chosen, rejected], 'bt');
  });
});

describe('DPO / IPO / conservative DPO', () => {
  const inputs = () => ({
    policyChosen: randn([B], 10, 3, -20), policyRejected: randn([B], 11, 3, -20),
    referenceChosen: constant(f64(randn([B], 12, 3, -20)), [B]), referenceRejected: constant(f64(randn([B], 13, 3, -20)), [B]),
  });
  const h = (x: ReturnType<typeof inputs>, b: number): number =>
    (x.policyChosen.data[b] - x.referenceChosen.data[b]) - (x.policyRejected.data[b] - x.referenceRejected.data[b]);
  for (const smoothing of [0, 0.1]) {
    test(`sigmoid DPO, label smoothing ${smoothing}, matches float64`, () => {
      const x = inputs(), beta = 0.3;
      let expected = 0;
      for (let b = 0; b < B; b++) {
        const z = beta * h(x, b);
        expected += -((1 - smoothing) * logSigmoid64(z) + smoothing * logSigmoid64(-z)) / B;
      }
      const result = dpoLoss(x, beta, smoothing);
      close(result.loss.item(), expected, 'dpo');
      close(result.chosenRewards[0], beta * (x.policyChosen.data[0] - x.referenceChosen.data[0]), 'implicit reward');
      noGradFailures((c, r) => dpoLoss({ ...x, policyChosen: c, policyRejected: r }, beta, smoothing).loss,
        [x.policyChosen, x.policyRejected], 'dpo');
    });
  }
  test('IPO matches float64', () => {
    const x = inputs(), beta = 0.5;
    let expected = 0;
    for (let b = 0; b < B; b++) expected += (h(x, b) - 1 / (2 * beta)) ** 2 / B;
    close(ipoLoss(x, beta).loss.item(), expected, 'ipo');
    noGradFailures((c, r) => ipoLoss({ ...x, policyChosen: c, policyRejected: r }, beta).loss, [x.policyChosen, x.policyRejected], 'ipo');
  });
  test('every pair masked gives 0 and zero gradient', () => {
    const x = { ...inputs(), mask: constant(new Float32Array(B), [B]) };
    assertZeroLossZeroGrad(dpoLoss(x, 0.1).loss, [x.policyChosen, x.policyRejected], 'dpo');
    const y = { ...inputs(), mask: constant(new Float32Array(B), [B]) };
    assertZeroLossZeroGrad(ipoLoss(y, 0.1).loss, [y.policyChosen, y.policyRejected], 'ipo');
  });
});

function ppo64(lp: number[], old: number[], adv: number[], mask: number[], low: number, high: number, mode: TokenAggregation) {
  const perToken = lp.map((l, i) => {
    const r = Math.exp(l - old[i]);
    return Math.max(-adv[i] * r, -adv[i] * Math.min(Math.max(r, 1 - low), 1 + high));
  });
  let clipped = 0, n = 0;
  lp.forEach((l, i) => {
    if (!mask[i]) return;
    n++;
    const r = Math.exp(l - old[i]);
    if (-adv[i] * Math.min(Math.max(r, 1 - low), 1 + high) > -adv[i] * r) clipped++;
  });
  return { loss: aggregate64(perToken, mask, mode), clipFraction: n ? clipped / n : 0 };
}

describe('PPO', () => {
  test('clipped surrogate matches float64 for every aggregation, with asymmetric clipping', () => {
    const mask = responseMask();
    for (const mode of MODES) {
      const logprobs = randn([B, T], 20, 0.3, -1), old = constant(f64(randn([B, T], 21, 0.3, -1)), [B, T]);
      const advantages = constant(f64(randn([B, T], 22)), [B, T]);
      const result = ppoPolicyLoss(logprobs, old, advantages, mask, { clipLow: 0.2, clipHigh: 0.28, aggregation: mode });
      const expected = ppo64(f64(logprobs), f64(old), f64(advantages), f64(mask), 0.2, 0.28, mode);
      close(result.loss.item(), expected.loss, `ppo ${mode}`);
      close(result.clipFraction, expected.clipFraction, 'clip fraction');
      assert.ok(result.clipFraction > 0 && result.clipFraction < 1, 'the test data exercise clipping');
      noGradFailures((x) => ppoPolicyLoss(x, old, advantages, mask, { clipLow: 0.2, clipHigh: 0.28, aggregation: mode }).loss,
        [logprobs], `ppo ${mode}`);
    }
  });
  test('clipped value loss matches float64', () => {
    const mask = responseMask();
    const values = randn([B, T], 30), old = constant(f64(randn([B, T], 31)), [B, T]), returns = constant(f64(randn([B, T], 32)), [B, T]);
    const per = f64(values).map((v, i) => {
      const vc = old.data[i] + Math.min(Math.max(v - old.data[i], -0.2), 0.2);
      return 0.5 * Math.max((v - returns.data[i]) ** 2, (vc - returns.data[i]) ** 2);
    });
    close(ppoValueLoss(values, old, returns, mask, 0.2).loss.item(), aggregate64(per, f64(mask), 'token-mean'), 'value');
    noGradFailures((v) => ppoValueLoss(v, old, returns, mask, 0.2).loss, [values], 'value');
  });
  test('every token masked gives 0 and zero gradient, even with garbage on masked positions', () => {
    const empty = constant(new Float32Array(B * T), [B, T]);
    const logprobs = randn([B, T], 40, 1, 50), values = randn([B, T], 41, 1e3);
    const garbage = constant(f64(randn([B, T], 42, 1e3)), [B, T]);
    assertZeroLossZeroGrad(ppoPolicyLoss(logprobs, garbage, garbage, empty, { clipLow: 0.2, clipHigh: 0.2, aggregation: 'token-mean' }).loss, [logprobs], 'ppo');
    assertZeroLossZeroGrad(ppoValueLoss(values, garbage, garbage, empty, 0.2).loss, [values], 'value');
  });
});

describe('GRPO, RLOO, REINFORCE', () => {
  test('GRPO (surrogate + β·k3) matches float64 in both aggregations', () => {
    const mask = responseMask();
    for (const mode of ['seq-mean-token-mean', 'token-mean'] as const) {
      const logprobs = randn([B, T], 50, 0.3, -1), old = constant(f64(randn([B, T], 51, 0.3, -1)), [B, T]);
      const ref = constant(f64(randn([B, T], 52, 0.3, -1)), [B, T]), adv = constant(f64(randn([B], 53)), [B]);
      const tokenAdv = f64(mask).map((_, i) => adv.data[Math.floor(i / T)]);
      const surrogate = ppo64(f64(logprobs), f64(old), tokenAdv, f64(mask), 0.2, 0.2, mode).loss;
      const k3 = f64(logprobs).map((l, i) => Math.exp(ref.data[i] - l) - (ref.data[i] - l) - 1);
      const expected = surrogate + 0.04 * aggregate64(k3, f64(mask), mode);
      close(grpoLoss(logprobs, old, ref, adv, mask, { clipLow: 0.2, clipHigh: 0.2, klCoef: 0.04, aggregation: mode }).loss.item(), expected, `grpo ${mode}`);
      noGradFailures((x) => grpoLoss(x, old, ref, adv, mask, { clipLow: 0.2, clipHigh: 0.2, klCoef: 0.04, aggregation: mode }).loss, [logprobs], 'grpo');
    }
  });
  test('REINFORCE and RLOO (advantages.ts baselines + policyGradientLoss) match float64 (sequence log-prob form)', () => {
    const mask = responseMask(), logprobs = randn([B, T], 60, 0.5, -2);
    const rewards = Float32Array.from([1, 0, 0.5, 2, -1, 0.25]);
    const seqLogp = (b: number) => { let s = 0; for (let t = 0; t < T; t++) if (mask.data[b * T + t]) s += logprobs.data[b * T + t]; return s; };
    const live = [0, 1, 3, 4, 5]; // row 2 is empty
    const reinforce64 = -live.reduce((a, b) => a + (rewards[b] - 0.4) * seqLogp(b), 0) / live.length;
    const pg = (x: Tensor, name: 'reinforce' | 'rloo') => policyGradientLoss(x, constant(computeAdvantages(name,
      { rewards, mask: mask.data, T, groupSize: 3, baseline: 0.4 }).advantages, [B, T]), mask, 'seq-mean-token-sum');
    close(pg(logprobs, 'reinforce').item(), reinforce64, 'reinforce');
    const loo = (b: number) => { const g = Math.floor(b / 3) * 3; let s = 0; for (let i = g; i < g + 3; i++) if (i !== b) s += rewards[i]; return rewards[b] - s / 2; };
    const rloo64 = -live.reduce((a, b) => a + loo(b) * seqLogp(b), 0) / live.length;
    close(pg(logprobs, 'rloo').item(), rloo64, 'rloo');
    noGradFailures((x) => pg(x, 'rloo'), [logprobs], 'rloo');
  });
  test('every token masked gives 0 and zero gradient', () => {
    const empty = constant(new Float32Array(B * T), [B, T]);
    const logprobs = randn([B, T], 70, 1, 50), ref = constant(f64(randn([B, T], 71, 1, -50)), [B, T]);
    assertZeroLossZeroGrad(grpoLoss(logprobs, ref, ref, constant(new Float32Array(B).fill(1), [B]), empty,
      { clipLow: 0.2, clipHigh: 0.2, klCoef: 0.04, aggregation: 'seq-mean-token-mean' }).loss, [logprobs], 'grpo');
    const lp2 = randn([B, T], 72);
    assertZeroLossZeroGrad(policyGradientLoss(lp2, constant(new Float32Array(B).fill(1), [B]), empty, 'seq-mean-token-sum'), [lp2], 'pg');
  });
});

describe('KL estimators and entropy bonus', () => {
  const k64 = (lp: number, ref: number, e: KlEstimator) => {
    const lr = ref - lp;
    return e === 'k1' ? -lr : e === 'k2' ? 0.5 * lr * lr : Math.exp(lr) - 1 - lr;
  };
  for (const estimator of ['k1', 'k2', 'k3'] as const) {
    test(`${estimator}: per token, as a loss and as reward shaping match float64`, () => {
      const mask = responseMask(), logprobs = randn([B, T], 80, 0.5, -1), ref = constant(f64(randn([B, T], 81, 0.5, -1)), [B, T]);
      const per = f64(logprobs).map((l, i) => k64(l, ref.data[i], estimator));
      const perToken = klPerToken(logprobs, ref, estimator);
      per.forEach((v, i) => close(perToken.data[i], v, `${estimator}[${i}]`));
      close(klLoss(logprobs, ref, mask, estimator).item(), aggregate64(per, f64(mask), 'token-mean'), `${estimator} loss`);
      noGradFailures((x) => klLoss(x, ref, mask, estimator), [logprobs], estimator);
      const penalty = klRewardPenalty(logprobs.data, ref.data, mask.data, 0.1, estimator);
      penalty.forEach((v, i) => close(v, mask.data[i] ? -0.1 * per[i] : 0, `${estimator} penalty`));
      const empty = constant(new Float32Array(B * T), [B, T]);
      const lp2 = randn([B, T], 82, 1, 40);
      assertZeroLossZeroGrad(klLoss(lp2, ref, empty, estimator), [lp2], `${estimator} masked`);
    });
  }
  test('k3 is non-negative and 0 when the policies agree', () => {
    const lp = randn([B, T], 90);
    for (const v of klPerToken(lp, lp, 'k3').data) assert.equal(v, 0);
    for (const v of klPerToken(lp, constant(f64(randn([B, T], 91)), [B, T]), 'k3').data) assert.ok(v >= 0);
  });
  test('entropy bonus is −c · masked mean entropy', () => {
    const mask = responseMask(), entropies = randn([B, T], 95, 0.3, 2);
    close(entropyBonus(entropies, mask, 0.01).item(), -0.01 * aggregate64(f64(entropies), f64(mask), 'token-mean'), 'entropy');
    noGradFailures((x) => entropyBonus(x, mask, 0.01), [entropies], 'entropy');
  });
});
