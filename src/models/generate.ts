// Batched sampling from a Transformer: prompts of different lengths left-padded into one batch, a KV cache (or full
// recomputation of the window each step), temperature/top-k/top-p, stop tokens and stop strings, a seed per sequence.
// Leaves out: beam search, speculative decoding, shrinking the batch as sequences finish (finished rows idle, masked).
import { deriveSeed, noGrad, Rng, scope } from '../engine/index.ts';
import { KvCache, sharedKvPool } from './kv-cache.ts';
import { checkSamplingOptions, sampleFromLogits, type SamplingOptions } from './sampling.ts';
import type { Transformer } from './transformer.ts';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seeds?: readonly number[];          // one per prompt: sequence i's samples depend only on seeds[i]
  seed?: number;                      // when seeds is absent, sequence 0 uses seed, sequence i > 0 deriveSeed(seed, `row|i`) (default 0)
  stopTokenIds?: readonly number[];   // finishing tokens (kept in the output, like an EOS)
  stopStrings?: readonly string[];    // finish once decode(tokens) contains one (needs decode)
  decode?: (tokens: Int32Array) => string;
  padTokenId?: number;                // id fed on padding (masked out; default 0)
  useCache?: boolean;                 // default true; false recomputes the whole window every step
}

export type FinishReason = 'stop' | 'length';

export interface GeneratedSequence {
  prompt: Int32Array;                 // (P_i) the prompt as given
  tokens: Int32Array;                 // (N_i) generated tokens, the stop token included
  logprobs: Float32Array;             // (N_i) log π_θ(token | prefix) of the raw model (temperature 1, no filtering)
  samplingLogprobs: Float32Array;     // (N_i) log-prob under the distribution sampled (temperature, top-k, top-p)
  finishReason: FinishReason;
  text?: string;                      // decode(tokens) cut before the first stop string (when decode is given)
}

interface Row {
  tokens: number[];
  logprobs: number[];
  samplingLogprobs: number[];
  finishReason: FinishReason | null;
  text?: string;
  rng: Rng;
}

/**
 * The seed of row `row` of a batch sampled under one `seed`: the seed itself for row 0 (one sequence samples as it did
 * alone), a derived seed for the others. With `seed + row`, row 1 under seed s drew the same stream as row 0 under s + 1.
 */
export function rowSeed(seed: number, row: number): number {
  return row === 0 ? seed : deriveSeed(seed, `row|${row}`);
}

let logitsScratch = new Float32Array(0);   // (≥ B·V) a call's next-token logits: nothing returned keeps a view of it

/** Samples continuations of every prompt in one batch; runs under noGrad, each step in its own scope. */
export function generate(model: Transformer, prompts: readonly (Int32Array | readonly number[])[], options: GenerateOptions): GeneratedSequence[] {
  checkSamplingOptions(options);
  const { maxNewTokens } = options;
  const B = prompts.length;
  if (B === 0) return [];
  if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1)) throw new Error(`generate: maxNewTokens must be a positive integer, got ${maxNewTokens}`);
  if (options.seeds && options.seeds.length !== B) throw new Error(`generate: ${options.seeds.length} seeds for ${B} prompts`);
  if (options.stopStrings?.length && !options.decode) throw new Error('generate: stopStrings need a decode function');
  const V = model.config.vocabSize;
  prompts.forEach((p, i) => {
    if (p.length === 0) throw new Error(`generate: prompt ${i} is empty (give at least one token, e.g. BOS)`);
    for (const id of p) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`generate: prompt ${i} has token ${id} outside [0, ${V})`);
  });
  const P = Math.max(...prompts.map((p) => p.length));
  const useCache = options.useCache ?? true;
  if (useCache && model.config.family === 'gpt2' && P + maxNewTokens - 1 > model.config.maxPositions) {
    throw new Error(`generate: prompt length ${P} + maxNewTokens ${maxNewTokens} - 1 exceeds n_positions ${model.config.maxPositions}`);
  }
  const pad = options.padTokenId ?? 0;
  const stopIds = new Set(options.stopTokenIds ?? []);
  const rows: Row[] = prompts.map((_, i) => ({
    tokens: [], logprobs: [], samplingLogprobs: [], finishReason: null,
    rng: new Rng(options.seeds ? options.seeds[i] : rowSeed(options.seed ?? 0, i)),
  }));

  const ids = new Int32Array(B * P).fill(pad);                             // (B, P) left-padded prompts
  const mask = new Float32Array(B * P);                                    // (B, P)
  prompts.forEach((p, b) => {
    const offset = P - p.length;
    for (let t = 0; t < p.length; t++) { ids[b * P + offset + t] = p[t]; mask[b * P + offset + t] = 1; }
  });
  if (logitsScratch.length < B * V) logitsScratch = new Float32Array(B * V);
  const logits = logitsScratch.subarray(0, B * V);                         // (B, V) next-token logits, kept for the next call
  const readLogits = (out: { data: Float32Array }) => logits.set(out.data.subarray(0, B * V));

  noGrad(() => {
    // Buffers of earlier calls (rollouts and evaluations repeat their shapes; fresh memory page-faults).
    const cache = useCache ? new KvCache(model.config, B, P + maxNewTokens - 1, 16, sharedKvPool) : null;
    try {
      if (cache) scope(() => readLogits(model.forward(ids, [B, P], { cache, keyMask: mask, lastOnly: true })));
      else scope(() => readLogits(forwardWindow(model, ids, mask, B, P)));
      let allIds = ids, allMask = mask, width = P;
      for (let step = 0; step < maxNewTokens; step++) {
        for (let b = 0; b < B; b++) {
          const row = rows[b];
          if (row.finishReason) continue;
          const sampled = sampleFromLogits(logits.subarray(b * V, (b + 1) * V), options, row.rng);
          row.tokens.push(sampled.token);
          row.logprobs.push(sampled.logprob);
          row.samplingLogprobs.push(sampled.samplingLogprob);
          if (stopIds.has(sampled.token)) row.finishReason = 'stop';
          else if (options.decode && options.stopStrings?.length) checkStopStrings(row, options.decode, options.stopStrings);
          if (!row.finishReason && row.tokens.length === maxNewTokens) row.finishReason = 'length';
        }
        if (rows.every((r) => r.finishReason)) break;
        const next = new Int32Array(B), nextMask = new Float32Array(B);     // (B, 1)
        for (let b = 0; b < B; b++) {
          const row = rows[b], done = row.finishReason !== null;         // finished rows idle on masked padding
          next[b] = done ? pad : row.tokens[step];
          nextMask[b] = done ? 0 : 1;
        }
        if (cache) {
          scope(() => readLogits(model.forward(next, [B, 1], { cache, keyMask: nextMask, lastOnly: true })));
          continue;
        }
        [allIds, allMask] = [appendColumn(allIds, next, B, width), appendColumn(allMask, nextMask, B, width)];
        width++;
        scope(() => readLogits(forwardWindow(model, allIds, allMask, B, width)));
      }
    } finally {
      cache?.release();                                                    // its buffers serve the next call
    }
  });

  return rows.map((row, i) => ({
    prompt: Int32Array.from(prompts[i]),
    tokens: Int32Array.from(row.tokens),
    logprobs: Float32Array.from(row.logprobs),
    samplingLogprobs: Float32Array.from(row.samplingLogprobs),
    finishReason: row.finishReason ?? 'length',
    ...(options.decode ? { text: row.text ?? options.decode(Int32Array.from(row.tokens)) } : {}),
  }));
}

/** Last-position logits (B, 1, V) of the whole sequence so far, cropped to the model's last maxPositions columns. */
function forwardWindow(model: Transformer, ids: Int32Array, mask: Float32Array, B: number, width: number) {
  const W = model.config.family === 'gpt2' ? Math.min(width, model.config.maxPositions) : width;
  if (W === width) return model.forward(ids, [B, width], { keyMask: mask, lastOnly: true });
  const cropIds = new Int32Array(B * W), cropMask = new Float32Array(B * W);   // (B, W)
  for (let b = 0; b < B; b++) {
    cropIds.set(ids.subarray(b * width + width - W, (b + 1) * width), b * W);
    cropMask.set(mask.subarray(b * width + width - W, (b + 1) * width), b * W);
  }
  return model.forward(cropIds, [B, W], { keyMask: cropMask, lastOnly: true });
}

function appendColumn<A extends Int32Array | Float32Array>(a: A, column: A, B: number, width: number): A {
  const out = new (a.constructor as { new (n: number): A })(B * (width + 1));   // (B, width + 1)
  for (let b = 0; b < B; b++) {
    out.set(a.subarray(b * width, (b + 1) * width), b * (width + 1));
    out[b * (width + 1) + width] = column[b];
  }
  return out;
}

function checkStopStrings(row: Row, decode: (tokens: Int32Array) => string, stops: readonly string[]): void {
  const text = decode(Int32Array.from(row.tokens));
  let cut = -1;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (cut < 0 || at < cut)) cut = at;
  }
  if (cut >= 0) { row.finishReason = 'stop'; row.text = text.slice(0, cut); }
}

/** Prompts as token arrays from a padded batch ids (B, P) with keyMask (B, P), left- or right-padded. */
export function promptsFromPadded(ids: Int32Array, shape: [number, number], keyMask: Float32Array): Int32Array[] {
  const [B, P] = shape;
  if (ids.length !== B * P || keyMask.length !== B * P) throw new Error(`promptsFromPadded: ids ${ids.length} and keyMask ${keyMask.length} must both be (B, P) = ${B * P}`);
  return Array.from({ length: B }, (_, b) => {
    const row: number[] = [];
    for (let t = 0; t < P; t++) if (keyMask[b * P + t] !== 0) row.push(ids[b * P + t]);
    return Int32Array.from(row);
  });
}
