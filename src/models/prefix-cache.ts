// Prefix caching for one-sequence sampling (vLLM's automatic prefix caching, by blocks, and SGLang's RadixAttention,
// arXiv 2312.07104, without the radix tree): prompts are prefilled in blocks of `block` tokens, the key/value caches
// of recent prompts' whole blocks are kept, and a new prompt starts from a copy of the most blocks it shares with one,
// so only the rest is prefilled. A judge asking about K samples of one prompt in both orders shares the principle and
// the conversation; its verdict request extends the rationale request it follows. Every prompt is computed in the same
// blocks whether they come from the cache or not, so a result never depends on what was cached before (bit for bit).
// Sampling as generate() does for one prompt and its seed (to float rounding: generate() prefills in one pass); the
// logits of each step are kept for callers that report top alternatives. Leaves out batching several sequences.
import { noGrad, Rng, scope } from '../engine/index.ts';
import { KvBufferPool, KvCache } from './kv-cache.ts';
import { checkSamplingOptions, sampleFromLogits, type SamplingOptions } from './sampling.ts';
import type { Transformer } from './transformer.ts';

export interface PrefixSampleOptions extends SamplingOptions {
  maxNewTokens: number;              // ≥ 1; prompt + maxNewTokens - 1 ≤ the model's positions
  seed: number;                      // the sequence samples as generate() with seeds: [seed]
  stopTokenIds?: readonly number[];  // finishing tokens (kept in the output, like an EOS)
  keepLogits?: boolean;              // return each step's logits (N, V)
}

export interface PrefixSample {
  tokens: number[];                  // (N,) generated, the stop token included
  logprobs: number[];                // (N,) log π(token | prefix) of the raw model (temperature 1)
  logits: Float32Array | null;       // (N, V) the logits each token was drawn from, when keepLogits
  reused: number;                    // prompt tokens taken from the cache (not prefilled)
}

interface Entry {
  ids: Int32Array;                   // (L,) whole blocks of a prompt, L a multiple of the block size
  cache: KvCache;                    // (1, ·, capacity ≥ L, ·) holding those tokens' keys and values at [0, L)
}

export class PrefixCache {
  readonly #model: Transformer;
  readonly #maxEntries: number;
  readonly #block: number;
  #entries: Entry[] = [];            // most recently used last
  readonly #pool = new KvBufferPool(); // buffers of evicted entries' caches, for the next prompts
  readonly stats = { prompts: 0, promptTokens: 0, reusedTokens: 0 };

  constructor(options: { model: Transformer; maxEntries?: number; block?: number }) {
    this.#model = options.model;
    this.#maxEntries = options.maxEntries ?? 32;
    this.#block = options.block ?? 32;
    if (!(Number.isInteger(this.#maxEntries) && this.#maxEntries >= 1)) throw new Error(`PrefixCache: maxEntries must be a positive integer, got ${this.#maxEntries}`);
    if (!(Number.isInteger(this.#block) && this.#block >= 1)) throw new Error(`PrefixCache: block must be a positive integer, got ${this.#block}`);
  }

  /**
   * The prompt's keys and values in a new one-row cache with room for `room` more positions, and the logits (V) of
   * the token after it: the longest run of whole blocks shared with a cached prompt is copied, the rest prefilled
   * block by block; this prompt's whole blocks are cached for the next ones (`cached`). The cache is the caller's to
   * extend past the prompt (cached blocks are only ever read below it) and, when not cached, to release.
   */
  prefill(prompt: readonly number[], room: number): { cache: KvCache; logits: Float32Array; reused: number; cached: boolean } {
    const { config } = this.#model;
    const P = prompt.length, V = config.vocabSize, block = this.#block;
    if (P === 0) throw new Error('PrefixCache: the prompt is empty (give at least one token, e.g. BOS)');
    for (const id of prompt) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`PrefixCache: token ${id} is outside [0, ${V})`);
    const { entry, shared } = this.#longestPrefix(prompt);
    const reused = Math.floor(Math.min(shared, P - 1) / block) * block;  // whole blocks; one token at least is fed
    const cache = new KvCache(config, 1, P + room, P + room, this.#pool);
    if (entry && reused > 0) copyPrefix(entry.cache, cache, reused);
    this.stats.prompts++; this.stats.promptTokens += P; this.stats.reusedTokens += reused;
    const logits = new Float32Array(V);                                   // (V) logits of the token after the prompt
    for (let start = reused; start < P; start += block) {
      const ids = Int32Array.from(prompt.slice(start, Math.min(P, start + block)));   // (1, ≤ block)
      noGrad(() => scope(() => { logits.set(this.#model.forward(ids, [1, ids.length], { cache, lastOnly: true }).data.subarray(0, V)); }));
    }
    const whole = Math.floor(P / block) * block, cached = whole > reused;
    if (cached) this.#remember({ ids: Int32Array.from(prompt.slice(0, whole)), cache });
    return { cache, logits, reused, cached };
  }

  /** Samples a continuation of `prompt` from its prefill (above) one token at a time. */
  sample(prompt: readonly number[], options: PrefixSampleOptions): PrefixSample {
    checkSamplingOptions(options);
    const { config } = this.#model;
    const P = prompt.length, V = config.vocabSize, { maxNewTokens } = options;
    if (!(Number.isInteger(maxNewTokens) && maxNewTokens >= 1)) throw new Error(`PrefixCache.sample: maxNewTokens must be a positive integer, got ${maxNewTokens}`);
    if (P + maxNewTokens - 1 > config.maxPositions) throw new Error(`PrefixCache.sample: prompt length ${P} + maxNewTokens ${maxNewTokens} - 1 exceeds the context of ${config.maxPositions}`);
    const { cache, logits, reused, cached } = this.prefill(prompt, maxNewTokens);
    const stops = new Set(options.stopTokenIds ?? []);
    const rng = new Rng(options.seed);
    const tokens: number[] = [], logprobs: number[] = [];
    const kept = options.keepLogits ? new Float32Array(maxNewTokens * V) : null;   // (maxNewTokens, V)
    for (;;) {
      kept?.set(logits, tokens.length * V);
      const sampled = sampleFromLogits(logits, options, rng);
      tokens.push(sampled.token);
      logprobs.push(sampled.logprob);
      if (stops.has(sampled.token) || tokens.length === maxNewTokens) break;
      noGrad(() => scope(() => { logits.set(this.#model.forward(Int32Array.of(sampled.token), [1, 1], { cache, lastOnly: true }).data.subarray(0, V)); }));
    }
    if (!cached) cache.release();
    return { tokens, logprobs, logits: kept ? kept.slice(0, tokens.length * V) : null, reused };
  }

  /** Forgets every cached sequence (e.g. after the model's weights changed). */
  clear(): void {
    this.#entries = [];
  }

  #longestPrefix(prompt: readonly number[]): { entry: Entry | null; shared: number } {
    let best: Entry | null = null, shared = 0;
    for (const entry of this.#entries) {
      const limit = Math.min(entry.ids.length, prompt.length);
      let n = 0;
      while (n < limit && entry.ids[n] === prompt[n]) n++;
      if (n > shared) { best = entry; shared = n; }
    }
    if (best) this.#entries = [...this.#entries.filter((e) => e !== best), best];
    return { entry: best, shared };
  }

  #remember(entry: Entry): void {
    this.#entries.push(entry);
    // An evicted entry's buffers go back to the pool: its cache was read (copied, packed) or decoded from already.
    if (this.#entries.length > this.#maxEntries) this.#entries.shift()!.cache.release();
  }
}

/** Copies the first n positions of a one-row cache into an empty one-row cache and marks them written. */
function copyPrefix(source: KvCache, target: KvCache, n: number): void {
  const { numKvHeads: Hkv, headDim: D, numLayers } = source.config;
  if (source.batch !== 1 || target.batch !== 1 || target.length !== 0 || n > source.length || n > target.capacity) {
    throw new Error(`copyPrefix: ${n} positions from a ${source.batch}-row cache of ${source.length} into a ${target.batch}-row one of ${target.length}/${target.capacity}`);
  }
  for (let layer = 0; layer < numLayers; layer++) for (let h = 0; h < Hkv; h++) {
    const from = h * source.capacity * D, to = h * target.capacity * D;                // (1, Hkv, capacity, D)
    target.keys[layer]!.set(source.keys[layer]!.subarray(from, from + n * D), to);
    target.values[layer]!.set(source.values[layer]!.subarray(from, from + n * D), to);
  }
  target.keyMask.set(source.keyMask.subarray(0, n));                                 // (1, capacity)
  target.length = n;
}
