// Picks the next token from one row of logits: temperature, top-k, nucleus (top-p, Holtzman et al., arXiv 1904.09751),
// min-p (Nguyen et al., arXiv 2407.01082: tokens at least min_p times as likely as the most likely one), greedy at
// temperature 0. Returns the log-prob of the raw model (temperature 1) and of the distribution sampled.
// Leaves out: repetition penalties, beam search. Ties at the top-k / top-p / min-p threshold are all kept.
import { getBackend, type Rng } from '../engine/index.ts';

export interface SamplingOptions {
  temperature?: number;  // 0 = greedy; default 1
  topK?: number;         // keep the k most likely tokens; 0 = off (default)
  topP?: number;         // keep the smallest set with probability ≥ p; 1 = off (default)
  minP?: number;         // keep the tokens with probability ≥ minP × the largest (at the temperature); 0 = off (default)
}

export interface SampledToken {
  token: number;
  logprob: number;          // log π_θ(token) of the raw model at temperature 1
  samplingLogprob: number;  // log q(token) under the temperature/top-k/top-p distribution it was drawn from (0 if greedy)
}

export function checkSamplingOptions(options: SamplingOptions): void {
  const { temperature = 1, topK = 0, topP = 1, minP = 0 } = options;
  if (!(temperature >= 0 && Number.isFinite(temperature))) throw new Error(`sampling: temperature must be ≥ 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) throw new Error(`sampling: topK must be a non-negative integer, got ${topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`sampling: topP must be in (0, 1], got ${topP}`);
  if (!(minP >= 0 && minP <= 1)) throw new Error(`sampling: minP must be in [0, 1], got ${minP}`);
}

let sorted = new Float32Array(0);
let weights = new Float64Array(0);
let probabilities = new Float32Array(0);
let logprobs = new Float32Array(0);

/** A row's raw softmax and log-softmax (V each), computed beforehand for many rows in one kernel call each. */
export interface SoftmaxRows {
  softmax: Float32Array;
  logSoftmax: Float32Array;
}

/**
 * The raw softmax and log-softmax of every row of logits (B, V) into `into` (each ≥ B·V), one kernel call each: the
 * same values per row as one call per row (the kernels work row by row), without B calls' overhead.
 */
export function softmaxRows(logits: Float32Array, B: number, V: number, into: SoftmaxRows): (b: number) => SoftmaxRows {
  if (into.softmax.length < B * V || into.logSoftmax.length < B * V) throw new Error(`softmaxRows: buffers hold fewer than ${B} x ${V} values`);
  const backend = getBackend(), p = into.softmax.subarray(0, B * V), logp = into.logSoftmax.subarray(0, B * V);
  backend.softmax(logits.subarray(0, B * V), p, B, V);
  backend.logSoftmax(logits.subarray(0, B * V), logp, B, V);
  return (b) => ({ softmax: p.subarray(b * V, (b + 1) * V), logSoftmax: logp.subarray(b * V, (b + 1) * V) });
}

/**
 * Draws one token from logits (V) with one uniform from rng (none when greedy). The raw model's softmax and
 * log-softmax come from the backend's vectorized kernels (a 16-row decode step spent a fifth of its time in
 * Math.exp); each depends on this row alone, so a row samples the same in any batch.
 */
export function sampleFromLogits(logits: Float32Array, options: SamplingOptions, rng: Rng, rows?: SoftmaxRows): SampledToken {
  const V = logits.length, temperature = options.temperature ?? 1, topK = options.topK ?? 0, topP = options.topP ?? 1, minP = options.minP ?? 0;
  let max = -Infinity, argmax = 0;
  for (let j = 0; j < V; j++) if (logits[j] > max) { max = logits[j]; argmax = j; }
  if (probabilities.length < V) { probabilities = new Float32Array(V); logprobs = new Float32Array(V); }
  const backend = getBackend();
  let logp = rows?.logSoftmax;                                             // (V) log π_θ at temperature 1
  if (!logp) backend.logSoftmax(logits, logp = logprobs.subarray(0, V), 1, V);
  if (temperature === 0) return { token: argmax, logprob: logp[argmax], samplingLogprob: 0 };
  let w: Float32Array | Float64Array;                                      // (V) unnormalized sampling weights
  if (temperature === 1) {
    w = rows?.softmax ?? probabilities.subarray(0, V);
    if (!rows?.softmax) backend.softmax(logits, w, 1, V);
  } else {
    if (weights.length < V) weights = new Float64Array(V);
    w = weights;
    for (let j = 0; j < V; j++) w[j] = Math.exp((logits[j] - max) / temperature);
  }

  // Candidates are the tokens with logit ≥ threshold (the order of logits and logits / T agree).
  let threshold = -Infinity;
  if ((topK > 0 && topK < V) || topP < 1) {
    if (sorted.length < V) sorted = new Float32Array(V);
    const s = sorted.subarray(0, V);
    s.set(logits);
    s.sort().reverse();                                                    // descending
    const keep = topK > 0 && topK < V ? topK : V;
    threshold = s[keep - 1];
    if (topP < 1) {
      let total = 0;
      for (let j = 0; j < keep; j++) total += Math.exp((s[j] - max) / temperature);
      let cumulative = 0;
      for (let j = 0; j < keep; j++) {
        cumulative += Math.exp((s[j] - max) / temperature) / total;
        if (cumulative >= topP) { threshold = Math.max(threshold, s[j]); break; }
      }
    }
  }
  // p_j / p_max = exp((l_j - max) / T) ≥ minP: a threshold on the logits too (kept after top-k / top-p, whose
  // renormalization leaves the ratios to the largest as they were)
  if (minP > 0) threshold = Math.max(threshold, max + temperature * Math.log(minP));
  let total = 0;
  if (threshold === -Infinity) for (let j = 0; j < V; j++) total += w[j];
  else for (let j = 0; j < V; j++) if (logits[j] >= threshold) total += w[j];
  const target = rng.uniform() * total;
  let cumulative = 0, token = argmax;
  for (let j = 0; j < V; j++) {
    if (logits[j] < threshold || w[j] === 0) continue;
    cumulative += w[j];
    token = j;
    if (cumulative > target) break;
  }
  return { token, logprob: logp[token], samplingLogprob: Math.log(w[token] / total) };
}
