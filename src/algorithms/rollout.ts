// Rollouts for RL: batched sampling through models/generate.ts (KV cache, a seed per sequence, a stop token) laid out
// as one (B, T) batch with action-aligned masks, and teacher-forced per-token log-probs and entropies of a batch.
// Leaves out: stop strings and top-p (generate.ts has them; RL here samples at temperature 1 for on-policy log-probs).
import { entropy, reshape, targetLogprobs, type Tensor } from '../engine/index.ts';
import { generate } from '../models/generate.ts';
import type { Transformer } from '../models/transformer.ts';

/** One batch of prompt + response sequences; token-level arrays are aligned to ACTIONS: index t predicts token t+1. */
export interface RolloutBatch {
  B: number;
  T: number;                   // prompt length P (after left padding) + maxNewTokens
  promptLength: number;        // P
  tokens: Int32Array;          // (B, T) left-padded prompt, then response, then padding after the stop token
  keyMask: Float32Array;       // (B, T) 1 = real token (prompt or response incl. the stop token)
  actionMask: Float32Array;    // (B, T) 1 at t where tokens[t+1] is a sampled response token; last column 0
  logprobs: Float32Array;      // (B, T) log π(tokens[t+1] | ≤ t) at sampling time (temperature 1 view), 0 off the mask
  responseLengths: Int32Array; // (B,) sampled tokens per row, stop token included
}

export interface SampleOptions {
  maxNewTokens: number;
  temperature?: number;        // default 1 (RL needs on-policy samples: keep 1 unless you know why)
  topK?: number;               // 0 = off
  stopToken?: number | null;   // sampling ends for a row after this token
  padToken?: number;           // written after the stop (default 0)
  seed: number;                // row b draws from Rng(rowSeed(seed, b)) (models/generate.ts) unless `seeds` is given
  seeds?: readonly number[];   // (B,) one seed per row: row b's sample depends only on seeds[b]
}

/** Samples maxNewTokens for every prompt with models/generate.ts (KV cache) and lays the result out as a batch. */
export function sampleBatch(model: Transformer, prompts: Int32Array[], options: SampleOptions): RolloutBatch {
  const B = prompts.length, P = Math.max(...prompts.map((p) => p.length)), N = options.maxNewTokens, T = P + N;
  const sequences = generate(model, prompts, {
    maxNewTokens: N, temperature: options.temperature ?? 1, topK: options.topK ?? 0, seed: options.seed, seeds: options.seeds,
    stopTokenIds: options.stopToken === undefined || options.stopToken === null ? [] : [options.stopToken],
    padTokenId: options.padToken ?? 0,
  });
  const tokens = new Int32Array(B * T), keyMask = new Float32Array(B * T);                 // (B, T)
  const actionMask = new Float32Array(B * T), logprobs = new Float32Array(B * T);          // (B, T)
  const responseLengths = new Int32Array(B);                                               // (B,)
  sequences.forEach((sequence, b) => {
    const offset = P - sequence.prompt.length;                                             // left padding
    tokens.set(sequence.prompt, b * T + offset);
    keyMask.fill(1, b * T + offset, b * T + P + sequence.tokens.length);
    tokens.set(sequence.tokens, b * T + P);
    actionMask.fill(1, b * T + P - 1, b * T + P - 1 + sequence.tokens.length);
    logprobs.set(sequence.logprobs, b * T + P - 1);                                        // raw π_θ, temperature 1
    responseLengths[b] = sequence.tokens.length;
  });
  return { B, T, promptLength: P, tokens, keyMask, actionMask, logprobs, responseLengths };
}

export interface TokenScores {
  logprobs: Tensor;  // (B, T) log π(tokens[t+1] | ≤ t), 0 where tokens[t+1] is not an action (ignore index)
  entropies: Tensor; // (B, T) entropy of π(· | ≤ t)
  hidden: Tensor;    // (B, T, C) final hidden states (value / reward heads read these)
}

/** Teacher-forced per-token log-probs and entropies of a batch under model (with gradient when grad mode is on). */
export function scoreTokens(model: Transformer, batch: Pick<RolloutBatch, 'B' | 'T' | 'tokens' | 'keyMask' | 'actionMask'>): TokenScores {
  const { B, T } = batch;
  const targets = new Int32Array(B * T).fill(-100);                                   // (B, T)
  for (let i = 0; i < B * T; i++) if (batch.actionMask[i] !== 0) targets[i] = batch.tokens[i + 1];
  const hidden = model.hidden(batch.tokens, [B, T], { keyMask: batch.keyMask });     // (B, T, C)
  const logits = model.logits(hidden);                                                // (B, T, V)
  const logprobs = reshape(targetLogprobs(logits, targets), [B, T]);                  // (B, T)
  const entropies = reshape(entropy(logits), [B, T]);                                 // (B, T)
  return { logprobs, entropies, hidden };
}

/** Response token ids of row b (the sampled tokens, stop token included). */
export function responseTokens(batch: RolloutBatch, b: number): Int32Array {
  return batch.tokens.slice(b * batch.T + batch.promptLength, b * batch.T + batch.promptLength + batch.responseLengths[b]);
}
