// Prefix caching for one-sequence sampling (vLLM's automatic prefix caching, by blocks, and SGLang's RadixAttention,
// arXiv 2312.07104, without the radix tree): prompts are prefilled in blocks of `block` tokens, the key/value caches
// of recent prompts' whole blocks are kept, and a new prompt starts from a copy of the most blocks it shares with one,
// so only the rest is prefilled. A judge asking about K samples of one prompt in both orders shares the principle and
// the conversation; its verdict request extends the rationale request it follows. Every prompt is computed in the same
// blocks whether they come from the cache or not, so a result never depends on what was cached before (bit for bit).
// Sampling as generate() does for one prompt and its seed (to float rounding: generate() prefills in one pass); the
// logits of each step are kept for callers that report top alternatives. prefillBatch prefills prompts that arrive
// together (a batch engine's joining requests) in batched forwards, in waves: a prompt that shares more whole blocks
// with an earlier one of the batch than with the cache waits for that one's blocks; each wave is one forward of
// every prompt's uncached suffix, left-padded (agreeing with one-by-one prefills to float rounding, not bit for bit).
// prefillMany prefills prompts whose first logits are the answer (a judge's verdicts) bit for bit as prefill() does,
// each in its own blocks over its own cache, the prompts' next blocks run side by side in one ragged forward.
// Leaves out decoding several sequences (the batch engine's job).
import { noGrad, Rng, scope } from '../engine/index.ts';
import { KvCache, sharedKvPool } from './kv-cache.ts';
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
  cache: KvCache;                    // (B, ·, capacity, ·) holding those tokens' keys and values in one row:
  row: number;                       //   row `row`, positions [start, start + L)
  start: number;
}

/** A prompt prefilled alone (prefill, prefillMany): its one-row cache, the logits (V) after it, the tokens taken from the
 * cache, and whether the cache keeps its cache as an entry (the caller must not release it then). */
export interface Prefilled { cache: KvCache; logits: Float32Array; reused: number; cached: boolean }

/** One prompt of a batched prefill: its row of a wave's cache, the logits (V) after it, the tokens taken from the cache. */
export interface WaveRow {
  cache: KvCache;                    // (B, ·, capacity, ·) the wave's cache: this prompt's positions are its row's last ones
  row: number;
  logits: Float32Array;              // (V)
  reused: number;
  cached: boolean;                   // kept by the prefix cache (the caller must not release it)
}

export class PrefixCache {
  readonly #model: Transformer;
  readonly #maxEntries: number;
  readonly #block: number;
  #entries: Entry[] = [];            // most recently used last
  readonly #holders = new Map<KvCache, number>();   // entries holding each cache (released when the last one goes)
  readonly stats = { prompts: 0, promptTokens: 0, reusedTokens: 0, forwards: 0 };

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
  prefill(prompt: readonly number[], room: number): Prefilled {
    return this.prefillMany([prompt], room)[0]!;
  }

  /**
   * prefill() of several prompts at once, bit for bit the same results: each prompt is computed in the same blocks
   * over its own cache, and the prompts' next blocks run together in one ragged forward (Transformer.forwardRagged,
   * where a sequence's logits do not depend on what it is batched with; with bf16 weights, not row-invariant, one
   * after another). A prompt sharing whole blocks with an earlier one of the call than with the cache waits for that
   * one's blocks (a later round), so they are computed once.
   */
  prefillMany(prompts: readonly (readonly number[])[], room: number): Prefilled[] {
    const { config } = this.#model;
    const V = config.vocabSize, block = this.#block;
    prompts.forEach((prompt) => this.#check(prompt));
    const results: Prefilled[] = new Array(prompts.length);
    let remaining = prompts.map((_, i) => i);
    while (remaining.length > 0) {
      const round: { index: number; cache: KvCache; start: number; reused: number; logits: Float32Array }[] = [], deferred: number[] = [];
      remaining.forEach((index, k) => {
        const prompt = prompts[index]!, P = prompt.length;
        const { entry, shared } = this.#longestPrefix(prompt);
        const reused = this.#wholeBlocks(shared, P);
        const fromPeer = Math.max(0, ...remaining.slice(0, k).map((j) => this.#wholeBlocks(commonLength(prompts[j]!, prompt), P)));
        if (fromPeer > reused) { deferred.push(index); return; }
        const cache = new KvCache(config, 1, P + room, P + room, sharedKvPool);
        if (entry && reused > 0) { copyPositions(entry, cache, 0, 0, reused); cache.length = reused; }
        this.stats.prompts++; this.stats.promptTokens += P; this.stats.reusedTokens += reused;
        round.push({ index, cache, start: reused, reused, logits: new Float32Array(V) });
      });
      for (let active = round.filter((r) => r.start < prompts[r.index]!.length); active.length > 0; active = active.filter((r) => r.start < prompts[r.index]!.length)) {
        const sequences = active.map((r) => ({ ids: Int32Array.from(prompts[r.index]!.slice(r.start, Math.min(prompts[r.index]!.length, r.start + block))), cache: r.cache }));
        noGrad(() => scope(() => {
          const out = this.#blockForward(sequences);
          active.forEach((r, k) => r.logits.set(out.subarray(k * V, (k + 1) * V)));
        }));
        this.stats.forwards++;
        for (const r of active) r.start += block;
      }
      round.forEach(({ index, cache, reused, logits }) => {
        const prompt = prompts[index]!, whole = Math.floor(prompt.length / block) * block, cached = whole > reused;
        if (cached) this.#remember({ ids: Int32Array.from(prompt.slice(0, whole)), cache, row: 0, start: 0 });
        results[index] = { cache, logits, reused, cached };
      });
      remaining = deferred;
    }
    return results;
  }

  /** The logits (S, V) after one block of each sequence, each over its own cache: ragged (bit for bit the same
   * whatever the batch) with float32 weights; one sequence at a time with bf16 ones. */
  #blockForward(sequences: readonly { ids: Int32Array; cache: KvCache }[]): Float32Array {
    if (!this.#model.hasBf16Weights) return this.#model.forwardRagged(sequences).data;
    const V = this.#model.config.vocabSize, out = new Float32Array(sequences.length * V);
    sequences.forEach(({ ids, cache }, k) => out.set(this.#model.forward(ids, [1, ids.length], { cache, lastOnly: true }).data.subarray(0, V), k * V));
    return out;
  }

  /**
   * Prefills prompts that arrive together, in waves of one batched forward each (see the header): for each prompt,
   * the row of a wave's cache (room for `room` more positions) holding its keys and values as its last positions, and
   * the logits (V) of the token after it. A wave whose prompts brought new whole blocks is kept for later prompts
   * (`cached`: this cache releases it when its last entry goes); the caller releases the others.
   */
  prefillBatch(prompts: readonly (readonly number[])[], room: number): WaveRow[] {
    prompts.forEach((prompt) => this.#check(prompt));
    const results: WaveRow[] = new Array(prompts.length);
    let remaining = prompts.map((_, i) => i);
    while (remaining.length > 0) {
      const wave: { index: number; entry: Entry | null; reusable: number }[] = [], deferred: number[] = [];
      remaining.forEach((index, k) => {
        const prompt = prompts[index]!;
        const { entry, shared } = this.#longestPrefix(prompt);
        const reusable = this.#wholeBlocks(shared, prompt.length);
        const fromPeer = Math.max(0, ...remaining.slice(0, k).map((j) => this.#wholeBlocks(commonLength(prompts[j]!, prompt), prompt.length)));
        if (fromPeer > reusable) deferred.push(index);
        else wave.push({ index, entry, reusable });
      });
      this.#prefillWave(wave.map((w) => ({ ...w, prompt: prompts[w.index]! })), room)
        .forEach((result, k) => { results[wave[k]!.index] = result; });
      remaining = deferred;
    }
    return results;
  }

  /**
   * One forward of the wave's uncached suffixes (B, S), S the longest: a prompt of P tokens takes its first P - S
   * tokens (at most its cached whole blocks: a shorter suffix recomputes cached tokens where it would have padding)
   * from its cache entry, right-aligned at [L - taken, L) in a new (B, ·) cache, then the rest of it runs.
   */
  #prefillWave(wave: { prompt: readonly number[]; entry: Entry | null; reusable: number }[], room: number): WaveRow[] {
    const { config } = this.#model;
    const B = wave.length, V = config.vocabSize;
    const S = Math.max(...wave.map((w) => w.prompt.length - w.reusable));
    const taken = wave.map((w) => Math.max(0, w.prompt.length - S));     // ≤ reusable: P - reusable ≤ S
    const L = Math.max(...taken);
    const cache = new KvCache(config, B, L + S + room, L + S, sharedKvPool);   // full after the forward: attention reads it in place
    const ids = new Int32Array(B * S), mask = new Float32Array(B * S);     // (B, S) left-padded suffixes
    wave.forEach(({ prompt, entry }, b) => {
      if (taken[b]! > 0) copyPositions(entry!, cache, b, L - taken[b]!, taken[b]!);
      const feed = prompt.length - taken[b]!;
      for (let t = 0; t < feed; t++) { ids[b * S + S - feed + t] = prompt[taken[b]! + t]!; mask[b * S + S - feed + t] = 1; }
    });
    cache.length = L;
    const logits = new Float32Array(B * V);                                 // (B, V)
    noGrad(() => scope(() => { logits.set(this.#model.forward(ids, [B, S], { cache, keyMask: mask, lastOnly: true }).data.subarray(0, B * V)); }));
    this.stats.forwards++;
    let cached = false;
    wave.forEach(({ prompt, reusable }, b) => {
      const P = prompt.length, whole = Math.floor(P / this.#block) * this.#block;
      this.stats.prompts++; this.stats.promptTokens += P; this.stats.reusedTokens += taken[b]!;
      if (whole <= reusable) return;                                        // new whole blocks: kept for later prompts
      this.#remember({ ids: Int32Array.from(prompt.slice(0, whole)), cache, row: b, start: L - taken[b]! });
      cached = true;
    });
    return wave.map((_, b) => ({ cache, row: b, logits: logits.slice(b * V, (b + 1) * V), reused: taken[b]!, cached }));
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

  /**
   * Forgets every cached sequence (after the model's weights changed, or when its user is done) and hands their
   * buffers back to the pool, for the next cache of this process. Entries' caches are read only inside this class's
   * calls and the batch engine's synchronous step (copied or packed, never kept), so between calls none is in use.
   */
  clear(): void {
    const caches = [...this.#holders.keys()];
    this.#entries = [];
    this.#holders.clear();
    for (const cache of caches) cache.release();
  }

  #check(prompt: readonly number[]): void {
    const V = this.#model.config.vocabSize;
    if (prompt.length === 0) throw new Error('PrefixCache: the prompt is empty (give at least one token, e.g. BOS)');
    for (const id of prompt) if (!(Number.isInteger(id) && id >= 0 && id < V)) throw new Error(`PrefixCache: token ${id} is outside [0, ${V})`);
  }

  /** Whole blocks of `shared` tokens a prompt of P tokens may take: one token at least is fed. */
  #wholeBlocks(shared: number, P: number): number {
    return Math.floor(Math.min(shared, P - 1) / this.#block) * this.#block;
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
    this.#holders.set(entry.cache, (this.#holders.get(entry.cache) ?? 0) + 1);
    // An evicted entry's buffers go back to the pool once no other entry holds them: its cache was read (copied,
    // packed) or decoded from already.
    if (this.#entries.length <= this.#maxEntries) return;
    const evicted = this.#entries.shift()!.cache, holders = this.#holders.get(evicted)! - 1;
    if (holders > 0) { this.#holders.set(evicted, holders); return; }
    this.#holders.delete(evicted);
    evicted.release();
  }
}

/** Tokens two prompts share from their start. */
function commonLength(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length);
  let n = 0;
  while (n < limit && a[n] === b[n]) n++;
  return n;
}

/** Copies an entry's first n positions into a target row at `to`, marking them real in its mask. */
function copyPositions(entry: Entry, target: KvCache, targetRow: number, to: number, n: number): void {
  const { cache: source, row: sourceRow, start: from } = entry;
  const { numKvHeads: Hkv, headDim: D, numLayers } = source.config;
  if (from + n > source.length || to + n > target.capacity || sourceRow >= source.batch || targetRow >= target.batch) {
    throw new Error(`copyPositions: ${n} positions from [${from}) of row ${sourceRow} (${source.batch} rows, ${source.length} written) into [${to}) of row ${targetRow} (${target.batch} rows, capacity ${target.capacity})`);
  }
  for (let layer = 0; layer < numLayers; layer++) for (let h = 0; h < Hkv; h++) {
    const src = ((sourceRow * Hkv + h) * source.capacity + from) * D, dst = ((targetRow * Hkv + h) * target.capacity + to) * D;  // (B, Hkv, capacity, D)
    target.keys[layer]!.set(source.keys[layer]!.subarray(src, src + n * D), dst);
    target.values[layer]!.set(source.values[layer]!.subarray(src, src + n * D), dst);
  }
  target.keyMask.fill(1, targetRow * target.capacity + to, targetRow * target.capacity + to + n);   // (B, capacity)
}
