// Teacher-forced scoring: per-token log-probs and entropies of given responses after given prompts, batched, with a
// gradient when grad mode is on (PPO, GRPO, DPO train through it) and without under noGrad (the frozen reference).
// Layout: prompts left-padded to a common width P, responses right-padded to R; column P + j holds response token j.
// Leaves out: packing several sequences into one row; the losses (src/algorithms).
import { mulScalar, slice, targetLogprobs, entropy as tokenEntropy, type Tensor } from '../engine/index.ts';
import type { Transformer } from './transformer.ts';

export interface ScoreBatch {
  prompts: readonly (Int32Array | readonly number[])[];    // B prompts, each ≥ 1 token
  responses: readonly (Int32Array | readonly number[])[];  // B responses (may be empty)
}

export interface ScoreOptions {
  temperature?: number;      // divide logits by this first (match the sampling temperature; default 1)
  padTokenId?: number;       // id placed on padding (masked out; default 0)
  entropies?: boolean;       // also compute per-token entropies (default true)
}

export interface ScoreResult {
  logprobs: Tensor;           // (B, R) log π(response token j | prompt, response < j); 0 on padding
  entropies: Tensor | null;   // (B, R) entropy of π(· | prompt, response < j) in nats (padding rows are meaningless)
  responseMask: Float32Array; // (B, R) 1 on real response tokens
  ids: Int32Array;            // (B, P + R) the padded input
  keyMask: Float32Array;      // (B, P + R) 1 on real tokens
  promptWidth: number;        // P
  responseWidth: number;      // R
}

/** Lays out prompt + response rows: prompts left-padded to P, responses right-padded to R. */
export function layoutBatch(batch: ScoreBatch, padTokenId = 0) {
  const B = batch.prompts.length;
  if (batch.responses.length !== B) throw new Error(`score: ${B} prompts but ${batch.responses.length} responses`);
  batch.prompts.forEach((p, i) => { if (p.length === 0) throw new Error(`score: prompt ${i} is empty`); });
  const P = Math.max(...batch.prompts.map((p) => p.length));
  const R = Math.max(1, ...batch.responses.map((r) => r.length));
  const S = P + R;
  const ids = new Int32Array(B * S).fill(padTokenId);                      // (B, P + R)
  const keyMask = new Float32Array(B * S);                                 // (B, P + R)
  const responseMask = new Float32Array(B * R);                            // (B, R)
  const targets = new Int32Array(B * R).fill(-100);                        // (B, R) ignore index on padding
  for (let b = 0; b < B; b++) {
    const prompt = batch.prompts[b], response = batch.responses[b];
    for (let t = 0; t < prompt.length; t++) { ids[b * S + P - prompt.length + t] = prompt[t]; keyMask[b * S + P - prompt.length + t] = 1; }
    for (let j = 0; j < response.length; j++) {
      ids[b * S + P + j] = response[j];
      keyMask[b * S + P + j] = 1;
      responseMask[b * R + j] = 1;
      targets[b * R + j] = response[j];
    }
  }
  return { B, P, R, S, ids, keyMask, responseMask, targets };
}

/**
 * Log-probs (and entropies) of each response token. The hidden states of the prompt's last position and of every
 * response position but the last go through the output projection: logits are (B, R, V), never (B, P + R, V).
 */
export function scoreResponses(model: Transformer, batch: ScoreBatch, options: ScoreOptions = {}): ScoreResult {
  const { B, P, R, S, ids, keyMask, responseMask, targets } = layoutBatch(batch, options.padTokenId ?? 0);
  const V = model.config.vocabSize;
  for (let i = 0; i < targets.length; i++) {
    if (targets[i] !== -100 && (targets[i] < 0 || targets[i] >= V)) throw new Error(`score: response ${Math.floor(i / R)} has token ${targets[i]} outside [0, ${V})`);
  }
  const hidden = model.hidden(ids, [B, S], { keyMask });                  // (B, P + R, C)
  const predicting = slice(hidden, 1, P - 1, P + R - 1);                   // (B, R, C) states that predict the response
  let logits = model.logits(predicting);                                   // (B, R, V)
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`score: temperature must be > 0, got ${temperature}`);
  if (temperature !== 1) logits = mulScalar(logits, 1 / temperature);      // (B, R, V)
  const logprobs = targetLogprobs(logits, targets, -100);                  // (B, R)
  const entropies = options.entropies === false ? null : tokenEntropy(logits);  // (B, R)
  return { logprobs, entropies, responseMask, ids, keyMask, promptWidth: P, responseWidth: R };
}
