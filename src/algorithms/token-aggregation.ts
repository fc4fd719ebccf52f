// Masked reductions of per-token losses (B, T) to one scalar, with the aggregation choices named as in verl's agg_loss.
// Every mode is Σ_{b,t} w_{b,t}·loss_{b,t} with constant weights w from the mask, so an all-masked batch gives 0 with
// zero gradient (no 0/0). Leaves out: sequence packing. Dr. GRPO's constant-length norm: arXiv 2503.20783.
import { mul, sum, tensor, where, type Tensor } from '../engine/index.ts';

/**
 * - 'token-mean': Σ mask·loss / Σ mask — every token in the batch weighs the same (DAPO, verl default).
 * - 'seq-mean-token-mean': mean over non-empty sequences of each sequence's token mean — the original GRPO
 *   (arXiv 2402.03300); a token of a short response weighs more than one of a long response (a length bias).
 * - 'seq-mean-token-sum': mean over non-empty sequences of each sequence's token sum (REINFORCE on log π(y|x)).
 * - 'seq-mean-token-sum-norm': Σ mask·loss / (B · normLength) — Dr. GRPO: a constant divisor removes the bias.
 */
export const TOKEN_AGGREGATIONS = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'] as const;
export type TokenAggregation = (typeof TOKEN_AGGREGATIONS)[number];

/** Constant weights (B·T) for one aggregation: the loss is Σ weights ⊙ loss. */
export function aggregationWeights(mask: Float32Array, B: number, T: number, mode: TokenAggregation,
  normLength = T): Float32Array {
  const weights = new Float32Array(B * T);
  const counts = new Float64Array(B);
  let total = 0, nonEmpty = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) if (mask[b * T + t] !== 0) counts[b]++;
    total += counts[b];
    if (counts[b] > 0) nonEmpty++;
  }
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      if (mask[i] === 0) continue;
      if (mode === 'token-mean') weights[i] = 1 / total;
      else if (mode === 'seq-mean-token-mean') weights[i] = 1 / (counts[b] * nonEmpty);
      else if (mode === 'seq-mean-token-sum') weights[i] = 1 / nonEmpty;
      else weights[i] = 1 / (B * normLength);
    }
  }
  return weights;
}

/** Scalar aggregate of lossPerToken (B, T) over mask (B, T) (1 = response token, 0 = prompt or padding). */
export function aggregateTokens(lossPerToken: Tensor, mask: Tensor, mode: TokenAggregation = 'token-mean',
  normLength?: number): Tensor {
  const [B, T] = lossPerToken.shape;
  const weights = tensor(aggregationWeights(mask.data, B, T, mode, normLength), [B, T]); // (B, T)
  const zero = tensor([0], []);
  return sum(mul(where(mask, lossPerToken, zero), weights));                             // ()
}

/** Plain-number masked mean of a buffer (metrics); 0 when nothing is unmasked. */
export function maskedMeanValue(values: Float32Array, mask: Float32Array): number {
  let s = 0, n = 0;
  for (let i = 0; i < values.length; i++) if (mask[i] !== 0) { s += values[i]; n++; }
  return n > 0 ? s / n : 0;
}
