// Preference pairs as token arrays — what the reward-model and DPO trainers consume — with checks that name the
// offending pair and field, and a deterministic epoch order for exact resume. Leaves out: text, chat templates and
// file formats (the data layer and the CLI turn datasets into these). Bradley–Terry labels: arXiv 2203.02155 §3.5.
import { backward, deriveSeed, mulScalar, noGrad, Rng, scope, type MatmulPrecision, type Tensor } from '../engine/index.ts';
import { atPrecision } from './precision-config.ts';

export interface TokenPreferencePair {
  prompt: Int32Array;    // (P,) context tokens, P ≥ 1
  chosen: Int32Array;    // (Rc,) preferred response tokens, Rc ≥ 1
  rejected: Int32Array;  // (Rr,) the other response
  label?: number;        // soft label P(chosen ≻ rejected) in [0, 1] (the labeler's probability); default 1 (hard)
}

/** Throws an error naming `source`, the pair index and the field when a pair is malformed. */
export function checkPreferencePairs(pairs: readonly TokenPreferencePair[], vocabSize: number, source = 'preference pairs'): void {
  if (pairs.length === 0) throw new Error(`${source}: no pairs`);
  pairs.forEach((pair, i) => {
    for (const field of ['prompt', 'chosen', 'rejected'] as const) {
      const ids = pair[field];
      if (!(ids instanceof Int32Array) || ids.length === 0) throw new Error(`${source}: pair ${i}: field '${field}' must be a non-empty Int32Array`);
      for (const id of ids) if (id < 0 || id >= vocabSize) throw new Error(`${source}: pair ${i}: field '${field}' has token ${id} outside [0, ${vocabSize})`);
    }
    if (pair.label !== undefined && !(pair.label >= 0 && pair.label <= 1)) throw new Error(`${source}: pair ${i}: field 'label' must be in [0, 1], got ${pair.label}`);
  });
}

/**
 * Index of the example at position `position` of an endless stream of epochs, epoch e shuffled by
 * Rng(deriveSeed(seed, `epoch|e`)): with Rng(seed + e), seed s's second epoch was seed s + 1's first.
 */
export function epochIndex(count: number, position: number, seed: number, cache: Map<number, number[]>): number {
  const epoch = Math.floor(position / count);
  let order = cache.get(epoch);
  if (!order) {
    order = new Rng(deriveSeed(seed, `epoch|${epoch}`)).shuffle([...Array(count).keys()]);
    cache.clear();
    cache.set(epoch, order);
  }
  return order[position % count];
}

/** Joins prompt and response into one sequence. (P + R,) */
export function concatTokens(prompt: Int32Array, response: Int32Array): Int32Array {
  const out = new Int32Array(prompt.length + response.length);
  out.set(prompt);
  out.set(response, prompt.length);
  return out;
}

/** Pair-weighted means of per-batch figures over `pairs`, in batches of `batchSize`, without gradients (evaluation). */
export function meanOverBatches<K extends string>(pairs: readonly TokenPreferencePair[], batchSize: number,
  measure: (part: TokenPreferencePair[]) => Record<K, number>): Record<K, number> {
  if (pairs.length === 0) throw new Error('evaluation: no preference pairs');
  const totals = {} as Record<K, number>;
  for (let start = 0; start < pairs.length; start += batchSize) {
    const part = pairs.slice(start, start + batchSize);
    const figures = noGrad(() => scope(() => measure(part)));
    for (const key of Object.keys(figures) as K[]) totals[key] = (totals[key] ?? 0) + figures[key] * part.length;
  }
  for (const key of Object.keys(totals) as K[]) totals[key] /= pairs.length;
  return totals;
}

/**
 * Indices of `pairs` in groups of similar length (longest first), each at most `tokens` padded tokens when its chosen
 * and rejected sequences are scored together (2 × pairs × the longest prompt + response), unless one pair alone is
 * longer; `tokens` 0 = one group of every pair. A step's forward and backward over such groups see the pairs a whole
 * batch sees, without padding every sequence to the batch's longest (rollout.ts lengthGroups does the same for rollouts).
 */
export function pairGroups(pairs: readonly TokenPreferencePair[], tokens: number): number[][] {
  if (!(Number.isInteger(tokens) && tokens >= 0)) throw new Error(`pairGroups: tokens must be a non-negative integer, got ${tokens}`);
  if (pairs.length === 0) return [];
  if (tokens === 0) return [pairs.map((_, i) => i)];
  const length = (p: TokenPreferencePair) => p.prompt.length + Math.max(p.chosen.length, p.rejected.length);
  const order = pairs.map((p, i) => ({ i, n: length(p) })).sort((a, b) => b.n - a.n || a.i - b.i);
  const groups: number[][] = [];
  let members: number[] = [], longest = 0;
  for (const { i, n } of order) {
    if (members.length > 0 && 2 * (members.length + 1) * Math.max(longest, n) > tokens) { groups.push(members.sort((a, b) => a - b)); members = []; longest = 0; }
    members.push(i); longest = Math.max(longest, n);
  }
  groups.push(members.sort((a, b) => a - b));
  return groups;
}

/**
 * The forward and backward of one optimizer step over `pairs`, group by group (pairGroups): `meanLoss(group, part)` is
 * a loss that is a mean over the group's pairs (DPO, IPO, Bradley-Terry), and is weighted by the group's share of the
 * pairs, so the gradients that accumulate are the whole batch's. Returns the step's loss. The caller zeroes the
 * gradients before and steps the optimizer after; `meanLoss` may gather per-pair figures by the indices in `group`.
 */
export function backwardOverPairGroups(pairs: readonly TokenPreferencePair[], tokens: number, precision: MatmulPrecision | undefined,
  meanLoss: (group: number[], part: TokenPreferencePair[]) => Tensor): number {
  let loss = 0;
  for (const group of pairGroups(pairs, tokens)) {
    atPrecision(precision, () => scope(() => {
      const scaled = mulScalar(meanLoss(group, group.map((i) => pairs[i]!)), group.length / pairs.length);   // ()
      loss += scaled.item();
      backward(scaled);
    }));
  }
  return loss;
}
