// Rollouts for RL: batched sampling through models/generate.ts (KV cache, a seed per sequence, a stop token) laid out
// as one (B, T) batch with action-aligned masks, and teacher-forced per-token log-probs and entropies of a batch.
// Leaves out: stop strings and top-p (generate.ts has them; RL here samples at temperature 1 for on-policy log-probs).
import { entropy, reshape, scope, targetLogprobs, type Tensor } from '../engine/index.ts';
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

// ------------------------------------------------------------------------------------------------ length groups
// A batch laid out as (B, P + maxNewTokens) is mostly padding when prompts and responses vary in length (an `rlaif
// run` round on the testbed: 31% real tokens). Forwards over groups of rows of similar length, each cut to the
// columns its rows use, do the same per-row work on a fraction of the tokens (HF Trainer's group_by_length, applied
// within one batch, so which rows share an optimizer step does not change). Positions follow each row's real tokens
// (Transformer's default) and padding is masked, so a row's results are the full batch's up to float rounding.

/** Rows of a batch and the columns [from, from + T) they use: the longest prompt's start to the longest response's end. */
export interface RowGroup { rows: number[]; from: number; T: number }

/** Default padded tokens (rows × columns) a group holds at most: the size at which the forward's products stay efficient. */
export const GROUP_TOKENS = 2048;

/**
 * The rows of `batch` in groups of similar length, longest first, each at most `tokens` padded tokens unless one row
 * alone is longer; `tokens` 0 = one group of every row over all T columns (the batch as it is).
 */
export function lengthGroups(batch: Pick<RolloutBatch, 'B' | 'T' | 'promptLength' | 'keyMask' | 'responseLengths'>, tokens = GROUP_TOKENS): RowGroup[] {
  const { B, T, promptLength: P } = batch, rows = Array.from({ length: B }, (_, b) => b);
  if (!(Number.isInteger(tokens) && tokens >= 0)) throw new Error(`lengthGroups: tokens must be a non-negative integer, got ${tokens}`);
  if (B === 0) return [];
  if (tokens === 0) return [{ rows, from: 0, T }];
  const prompt = (b: number) => { let n = 0; for (let t = 0; t < P; t++) n += batch.keyMask[b * T + t]! !== 0 ? 1 : 0; return n; };
  const sized = rows.map((b) => ({ b, prompt: prompt(b), response: batch.responseLengths[b]! }))
    .sort((x, y) => (y.prompt + y.response) - (x.prompt + x.response) || x.b - y.b);
  const groups: RowGroup[] = [];
  let members: number[] = [], maxPrompt = 0, maxResponse = 0;
  const close = () => { if (members.length > 0) groups.push({ rows: members.sort((x, y) => x - y), from: P - maxPrompt, T: maxPrompt + maxResponse }); };
  for (const row of sized) {
    const prompt = Math.max(maxPrompt, row.prompt), response = Math.max(maxResponse, row.response);
    if (members.length > 0 && (members.length + 1) * (prompt + response) > tokens) {
      close();
      members = [row.b]; maxPrompt = row.prompt; maxResponse = row.response;
    } else {
      members.push(row.b); maxPrompt = prompt; maxResponse = response;
    }
  }
  close();
  return groups;
}

/** Group g's rows of a (B, T) array, its columns only: (rows, g.T). */
export function groupColumns<A extends Float32Array | Int32Array>(source: A, T: number, group: RowGroup): A {
  const out = new (source.constructor as new (n: number) => A)(group.rows.length * group.T);
  group.rows.forEach((b, i) => out.set(source.subarray(b * T + group.from, b * T + group.from + group.T), i * group.T));
  return out;
}

/** Writes a group's (rows, g.T) values back into a (B, T) array at its rows and columns. */
export function scatterColumns(target: Float32Array, T: number, group: RowGroup, values: Float32Array): void {
  group.rows.forEach((b, i) => target.set(values.subarray(i * group.T, (i + 1) * group.T), b * T + group.from));
}

/** A group as a batch of its own: its rows' tokens and masks over its columns. */
export function groupBatch(batch: Pick<RolloutBatch, 'T' | 'tokens' | 'keyMask' | 'actionMask'>, group: RowGroup): Pick<RolloutBatch, 'B' | 'T' | 'tokens' | 'keyMask' | 'actionMask'> {
  return { B: group.rows.length, T: group.T, tokens: groupColumns(batch.tokens, batch.T, group),
    keyMask: groupColumns(batch.keyMask, batch.T, group), actionMask: groupColumns(batch.actionMask, batch.T, group) };
}

/**
 * scoreTokens' log-probs and entropies (B, T) computed group by group (lengthGroups): the same values on every action
 * up to float rounding, 0 outside each row's group columns; no hidden states. Runs in its own scopes: call it under
 * noGrad (reference log-probs, measurements), where the full batch's (B, T, V) logits would also be the memory peak.
 */
export function scoreTokensGrouped(model: Transformer, batch: Pick<RolloutBatch, 'B' | 'T' | 'promptLength' | 'tokens' | 'keyMask' | 'actionMask' | 'responseLengths'>,
  tokens = GROUP_TOKENS): { logprobs: Float32Array; entropies: Float32Array } {
  const logprobs = new Float32Array(batch.B * batch.T), entropies = new Float32Array(batch.B * batch.T);
  for (const group of lengthGroups(batch, tokens)) {
    scope(() => {
      const s = scoreTokens(model, groupBatch(batch, group));
      scatterColumns(logprobs, batch.T, group, s.logprobs.data);
      scatterColumns(entropies, batch.T, group, s.entropies.data);
    });
  }
  return { logprobs, entropies };
}
