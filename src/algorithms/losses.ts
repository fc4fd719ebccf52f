// RLHF/RLAIF losses as small pure functions over engine tensors, each with its formula and paper (OpenRLHF loss.py,
// verl core_algos style). Every loss takes a mask; an all-masked batch gives 0 with zero gradient, never NaN.
// Leaves out: advantage estimation (advantages.ts), KL coefficient control (kl-control.ts), sampling.
import {
  add, addScalar, clamp, exp, logSigmoid, maximum, mul, mulScalar, neg, square, sub, sum, tensor, where, type Tensor,
} from '../engine/index.ts';
import { aggregateTokens, type TokenAggregation } from './token-aggregation.ts';

const LOG_RATIO_LIMIT = 20; // log π/π_old clamped to ±20 before exp (verl), so masked garbage never overflows

/** Σ_b w_b·x_b with w = mask/Σmask over pairs (B,); 0 when every pair is masked. */
function maskedPairMean(x: Tensor, mask?: Tensor): Tensor {
  const B = x.shape[0];
  const m = mask?.data ?? new Float32Array(B).fill(1);
  let count = 0;
  for (let b = 0; b < B; b++) if (m[b] !== 0) count++;
  const weights = new Float32Array(B);
  for (let b = 0; b < B; b++) weights[b] = m[b] !== 0 ? 1 / count : 0;
  const safe = mask ? where(mask, x, tensor([0], [])) : x;
  return sum(mul(safe, tensor(weights, [B]))); // ()
}

function fraction(flags: (i: number) => boolean, mask: Float32Array): number {
  let hit = 0, n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) { n++; if (flags(i)) hit++; }
  return n > 0 ? hit / n : 0;
}

// ------------------------------------------------------------------------------------------------ preference losses

export interface BradleyTerryInput {
  chosen: Tensor;    // (B,) reward r(x, y_chosen)
  rejected: Tensor;  // (B,) reward r(x, y_rejected)
  labels?: Tensor;   // (B,) soft label p = P(chosen ≻ rejected) in [0, 1]; default 1 (hard labels)
  margin?: Tensor;   // (B,) margin m ≥ 0 the reward gap must exceed (Llama 2, arXiv 2307.09288); default 0
  mask?: Tensor;     // (B,) 1 = pair counts
}

/**
 * Bradley–Terry reward-model loss (InstructGPT arXiv 2203.02155 §3.5) with soft labels and an optional margin:
 *   d = r_c − r_r;  loss = −mean_b [ p·log σ(d − m) + (1 − p)·log σ(−d − m) ].
 * p ∈ {0, 1} is exact (log σ is finite everywhere), p = ½ pulls d toward 0.
 */
export function bradleyTerryLoss(input: BradleyTerryInput): Tensor {
  const B = input.chosen.shape[0];
  const p = input.labels ?? tensor(new Float32Array(B).fill(1), [B]);
  const margin = input.margin ?? tensor(new Float32Array(B), [B]);
  const gap = sub(input.chosen, input.rejected);                             // (B,)
  const forward = mul(p, logSigmoid(sub(gap, margin)));                      // (B,)
  const reverse = mul(addScalar(neg(p), 1), logSigmoid(sub(neg(gap), margin))); // (B,)
  return neg(maskedPairMean(add(forward, reverse), input.mask));            // ()
}

export interface PreferenceLogprobs {
  policyChosen: Tensor;       // (B,) log π_θ(y_c | x), summed over response tokens
  policyRejected: Tensor;     // (B,) log π_θ(y_r | x)
  referenceChosen: Tensor;    // (B,) log π_ref(y_c | x), no gradient
  referenceRejected: Tensor;  // (B,) log π_ref(y_r | x)
  mask?: Tensor;              // (B,) 1 = pair counts
}

export interface PreferenceLossResult {
  loss: Tensor;                   // ()
  chosenRewards: Float32Array;    // (B,) implicit reward β·(log π_θ − log π_ref)(y_c)
  rejectedRewards: Float32Array;  // (B,) implicit reward of y_r
}

/** h = (log π_θ(y_c) − log π_ref(y_c)) − (log π_θ(y_r) − log π_ref(y_r)): (B,). */
export function preferenceLogRatio(input: PreferenceLogprobs): Tensor {
  return sub(sub(input.policyChosen, input.referenceChosen), sub(input.policyRejected, input.referenceRejected));
}

function implicitRewards(input: PreferenceLogprobs, beta: number): [Float32Array, Float32Array] {
  const B = input.policyChosen.shape[0];
  const chosen = new Float32Array(B), rejected = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    chosen[b] = beta * (input.policyChosen.data[b] - input.referenceChosen.data[b]);
    rejected[b] = beta * (input.policyRejected.data[b] - input.referenceRejected.data[b]);
  }
  return [chosen, rejected];
}

/**
 * DPO, sigmoid form (arXiv 2305.18290), with conservative DPO / label smoothing ε (Mitchell 2023, as in TRL):
 *   loss = −mean_b [ (1 − ε)·log σ(β h) + ε·log σ(−β h) ].   ε = 0 is plain DPO.
 */
export function dpoLoss(input: PreferenceLogprobs, beta: number, labelSmoothing = 0): PreferenceLossResult {
  const scaled = mulScalar(preferenceLogRatio(input), beta);            // (B,)
  const perPair = add(mulScalar(logSigmoid(scaled), 1 - labelSmoothing),
    mulScalar(logSigmoid(neg(scaled)), labelSmoothing));                 // (B,)
  const [chosenRewards, rejectedRewards] = implicitRewards(input, beta);
  return { loss: neg(maskedPairMean(perPair, input.mask)), chosenRewards, rejectedRewards };
}

/**
 * IPO (arXiv 2310.12036): loss = mean_b (h − 1/(2β))². A squared loss that does not push h to infinity on
 * deterministic preferences. TRL feeds length-averaged log-probs here; pass whichever the trainer chose.
 */
export function ipoLoss(input: PreferenceLogprobs, beta: number): PreferenceLossResult {
  const perPair = square(addScalar(preferenceLogRatio(input), -1 / (2 * beta))); // (B,)
  const [chosenRewards, rejectedRewards] = implicitRewards(input, beta);
  return { loss: maskedPairMean(perPair, input.mask), chosenRewards, rejectedRewards };
}

// ---------------------------------------------------------------------------------------------- policy-gradient losses

export interface PolicyLossResult {
  loss: Tensor;          // ()
  clipFraction: number;  // share of unmasked tokens where the clipped term was the active one
  approxKl: number;      // mean over unmasked tokens of ½(log π − log π_old)², a k2 estimate of KL(π_old‖π)
}

// No defaults here: the trainer's knobs (ε, β, value clip, aggregation) have theirs in policy-gradient-config.ts only.
export interface PpoClipOptions {
  clipLow: number;       // ε_low, ratio floor 1 − ε_low
  clipHigh: number;      // ε_high, ratio ceiling 1 + ε_high (DAPO's clip-higher sets it above ε_low)
  aggregation: TokenAggregation;
  normLength?: number;   // divisor for 'seq-mean-token-sum-norm'
}

/**
 * PPO clipped surrogate (arXiv 1707.06347), per token t with r = π_θ/π_old = exp(log π_θ − log π_old):
 *   loss_t = max(−A_t·r_t, −A_t·clip(r_t, 1 − ε_low, 1 + ε_high)), aggregated over the mask.
 */
export function ppoPolicyLoss(logprobs: Tensor, oldLogprobs: Tensor, advantages: Tensor, mask: Tensor,
  options: PpoClipOptions): PolicyLossResult {
  const { clipLow, clipHigh } = options;
  const zero = tensor([0], []);
  const logRatio = clamp(where(mask, sub(logprobs, oldLogprobs), zero), -LOG_RATIO_LIMIT, LOG_RATIO_LIMIT); // (B, T)
  const ratio = exp(logRatio);                                                         // (B, T)
  const unclipped = neg(mul(advantages, ratio));                                       // (B, T)
  const clipped = neg(mul(advantages, clamp(ratio, 1 - clipLow, 1 + clipHigh)));      // (B, T)
  const perToken = maximum(unclipped, clipped);                                        // (B, T)
  const loss = aggregateTokens(perToken, mask, options.aggregation, options.normLength);
  const m = mask.data, L = logRatio.data;
  const clipFraction = fraction((i) => clipped.data[i] > unclipped.data[i], m);
  let kl = 0, n = 0;
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) { kl += 0.5 * L[i] * L[i]; n++; }
  return { loss, clipFraction, approxKl: n > 0 ? kl / n : 0 };
}

/**
 * PPO clipped value loss (as in OpenAI baselines / OpenRLHF ValueLoss), per token:
 *   v_clip = v_old + clip(v − v_old, −ε, ε);  loss_t = ½·max((v − R)², (v_clip − R)²).
 */
export function ppoValueLoss(values: Tensor, oldValues: Tensor, returns: Tensor, mask: Tensor, clipRange: number,
  aggregation: TokenAggregation = 'token-mean'): { loss: Tensor; clipFraction: number } {
  const clippedValues = add(oldValues, clamp(sub(values, oldValues), -clipRange, clipRange)); // (B, T)
  const unclippedError = square(sub(values, returns));                                    // (B, T)
  const clippedError = square(sub(clippedValues, returns));                               // (B, T)
  const perToken = mulScalar(maximum(unclippedError, clippedError), 0.5);                 // (B, T)
  const clipFraction = fraction((i) => clippedError.data[i] > unclippedError.data[i], mask.data);
  return { loss: aggregateTokens(perToken, mask, aggregation), clipFraction };
}

export interface GrpoOptions extends PpoClipOptions {
  klCoef: number;           // β of the KL loss term (the paper uses 0.04; 0 turns it off)
  klEstimator?: KlEstimator; // default 'k3', the paper's unbiased estimator
}

/**
 * GRPO (DeepSeekMath, arXiv 2402.03300): the PPO clipped surrogate with a sequence advantage Â_b (group-normalised
 * reward, from advantages.ts) broadcast over the response, plus β·KL(π_θ‖π_ref) as a loss term (not in the reward):
 *   loss = agg_{b,t} [ max(−Â_b r_bt, −Â_b clip(r_bt)) + β·k3_bt ].
 * The paper's aggregation is 'seq-mean-token-mean'; DAPO uses 'token-mean'; Dr. GRPO 'seq-mean-token-sum-norm'.
 */
export function grpoLoss(logprobs: Tensor, oldLogprobs: Tensor, referenceLogprobs: Tensor | null,
  sequenceAdvantages: Tensor, mask: Tensor, options: GrpoOptions): PolicyLossResult & { kl: number } {
  const [B, T] = logprobs.shape;
  const { aggregation, klCoef } = options;
  const tokenAdvantages = mul(sequenceAdvantages.rank === 1 ? tensorColumn(sequenceAdvantages, B) : sequenceAdvantages,
    tensor(new Float32Array(B * T).fill(1), [B, T]));                                   // (B, T)
  const policy = ppoPolicyLoss(logprobs, oldLogprobs, tokenAdvantages, mask, { ...options, aggregation });
  if (!referenceLogprobs || klCoef === 0) return { ...policy, kl: 0 };
  const kl = klLoss(logprobs, referenceLogprobs, mask, options.klEstimator ?? 'k3', aggregation, options.normLength);
  return { ...policy, loss: add(policy.loss, mulScalar(kl, klCoef)), kl: kl.item() };
}

function tensorColumn(x: Tensor, B: number): Tensor {
  return tensor(x.data, [B, 1]); // (B, 1) constant view of a detached advantage vector
}

/**
 * Policy-gradient loss for REINFORCE / RLOO (Williams 1992; RLOO arXiv 2402.14740): loss = −agg(A_bt · log π_θ(a_t)).
 * With 'seq-mean-token-sum' and a sequence advantage this is −mean_b A_b·log π_θ(y_b | x_b), the paper's form.
 * The advantages (moving-average baseline, leave-one-out) come from advantages.ts.
 */
export function policyGradientLoss(logprobs: Tensor, advantages: Tensor, mask: Tensor, aggregation: TokenAggregation): Tensor {
  const [B] = logprobs.shape;
  const A = advantages.rank === 1 ? tensorColumn(advantages, B) : advantages; // (B, 1) or (B, T)
  return neg(aggregateTokens(mul(logprobs, A), mask, aggregation));           // ()
}

// ------------------------------------------------------------------------------------------------- KL and entropy

/** Schulman's estimators of KL(π_θ‖π_ref) from samples of π_θ, with log r = log π_ref − log π_θ. */
export type KlEstimator = 'k1' | 'k2' | 'k3';

/**
 * Per-token KL estimate (J. Schulman, "Approximating KL Divergence", 2020):
 *   k1 = −log r (unbiased, high variance, can be negative);  k2 = ½(log r)² (biased, low variance);
 *   k3 = (r − 1) − log r (unbiased, always ≥ 0; GRPO's choice). log r clamped to ±20.
 */
export function klPerToken(logprobs: Tensor, referenceLogprobs: Tensor, estimator: KlEstimator): Tensor {
  const logRatio = clamp(sub(referenceLogprobs, logprobs), -LOG_RATIO_LIMIT, LOG_RATIO_LIMIT); // (B, T)
  if (estimator === 'k1') return neg(logRatio);
  if (estimator === 'k2') return mulScalar(square(logRatio), 0.5);
  return sub(addScalar(exp(logRatio), -1), logRatio);
}

/** KL as a loss term: agg over the mask of klPerToken (gradient flows into logprobs). */
export function klLoss(logprobs: Tensor, referenceLogprobs: Tensor, mask: Tensor, estimator: KlEstimator = 'k3',
  aggregation: TokenAggregation = 'token-mean', normLength?: number): Tensor {
  const zero = tensor([0], []);
  const safeLogprobs = where(mask, logprobs, zero), safeReference = where(mask, referenceLogprobs, zero);
  return aggregateTokens(klPerToken(safeLogprobs, safeReference, estimator), mask, aggregation, normLength);
}

/**
 * KL as reward shaping (Ziegler et al. arXiv 1909.08593; InstructGPT): per-token reward −β·k(log π, log π_ref) on
 * response tokens, 0 elsewhere. Plain numbers, no gradient: (B·T) buffers in, (B·T) penalty out.
 */
export function klRewardPenalty(logprobs: Float32Array, referenceLogprobs: Float32Array, mask: Float32Array,
  klCoef: number, estimator: KlEstimator = 'k1'): Float32Array {
  const out = new Float32Array(logprobs.length);
  for (let i = 0; i < out.length; i++) {
    if (mask[i] === 0) continue;
    const logRatio = Math.max(-LOG_RATIO_LIMIT, Math.min(LOG_RATIO_LIMIT, referenceLogprobs[i] - logprobs[i]));
    const k = estimator === 'k1' ? -logRatio : estimator === 'k2' ? 0.5 * logRatio * logRatio
      : Math.expm1(logRatio) - logRatio;
    out[i] = -klCoef * k;
  }
  return out;
}

/** Entropy bonus (arXiv 1707.06347 eq. 9): loss term −c·agg(H_t); entropies (B, T) from the engine's entropy op. */
export function entropyBonus(entropies: Tensor, mask: Tensor, coefficient: number,
  aggregation: TokenAggregation = 'token-mean'): Tensor {
  return mulScalar(aggregateTokens(entropies, mask, aggregation), -coefficient); // ()
}
