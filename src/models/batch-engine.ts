// Continuous batching over the KV cache (Yu et al. "Orca", OSDI 2022): sequences of concurrent requests share every
// forward pass. Between decode steps, finished and cancelled sequences leave the batch and waiting ones join: they
// are prefilled together (left-padded), then their caches are packed with the running rows (packed-cache.ts). Each
// sequence samples with its own seeded Rng exactly as models/generate.ts does, so a request gives the tokens a
// one-prompt generate() gives for its seed (up to float rounding of the batched matmuls). With a PrefixCache, the
// joining prompts are prefilled from the longest runs of cached blocks they share instead: requests whose first
// logits are the answer alone, block by block (bit for bit a function of the prompt), the others' uncached suffixes
// batched (prefillBatch).
// Leaves out paged attention, chunked prefill of long prompts and speculative decoding.
import { noGrad, Rng, scope } from '../engine/index.ts';
import { KvCache, sharedKvPool } from './kv-cache.ts';
import { checkSamplingOptions, sampleFromLogits, softmaxRows, type SamplingOptions, type SoftmaxRows } from './sampling.ts';
import type { Transformer } from './transformer.ts';
import { packRows, type CacheRow } from './packed-cache.ts';
import type { PrefixCache } from './prefix-cache.ts';

export interface TopToken { token: number; logprob: number }

/** How an empty batch gathers arrivals before the next prefill (#gatherArrivals); quietMs 0: never. */
export interface GatherOptions {
  quietMs: number;                   // start after a window this long in which no sequence arrived
  maxShare: number;                  // and at the latest after this share of the last step's time (default 0.15)
}

export interface TokenStep {
  token: number;
  logprob: number;      // log π(token | prefix) of the raw model (temperature 1)
  top: TopToken[];      // (topLogprobs,) most likely tokens at this position, best first; [] when not asked
}

export type SequenceFinish = 'stop' | 'length';

export interface SequenceRequest {
  prompt: readonly number[];         // (P,) token ids, 1 ≤ P, P + maxNewTokens - 1 ≤ the model's positions
  maxNewTokens: number;
  sampling: SamplingOptions;
  seed: number;
  stopTokenIds: readonly number[];   // finishing tokens (reported in `tokens`, like generate())
  topLogprobs: number;               // alternatives per position (0: none)
  isStopped?: (tokens: readonly number[]) => boolean; // e.g. a stop string in the decoded text
  onToken?: (step: TokenStep, index: number) => void;
  signal?: AbortSignal;
}

export interface SequenceResult {
  tokens: TokenStep[];               // (N,) the stop token included
  finishReason: SequenceFinish;
}

export interface EngineStats {
  forwardPasses: number;             // prefills + decode steps
  decodeSteps: number;
  decodedTokens: number;             // sum over decode steps of the batch size
  maxBatch: number;                  // most rows seen in one decode step
  ms: { prefill: number; repack: number; decode: number; gather: number };   // time spent in each part of the loop
}

interface Sequence {
  request: SequenceRequest;
  rng: Rng;
  tokens: TokenStep[];
  resolve: (result: SequenceResult) => void;
  reject: (error: unknown) => void;
  done: boolean;
}

export class BatchEngine {
  readonly stats: EngineStats = { forwardPasses: 0, decodeSteps: 0, decodedTokens: 0, maxBatch: 0, ms: { prefill: 0, repack: 0, decode: 0, gather: 0 } };
  readonly #model: Transformer;
  readonly #maxBatch: number;
  readonly #padTokenId: number;
  readonly #waiting: Sequence[] = [];
  #active: Sequence[] = [];           // rows of #cache, in order
  #cache: KvCache | null = null;
  #rows: SoftmaxRows = { softmax: new Float32Array(0), logSoftmax: new Float32Array(0) };   // (B, V) each, a decode step's
  #logits = new Float32Array(0);      // (≥ B·V) a step's logits (#logitsFor)
  readonly #prefixCache: PrefixCache | null;
  #running = false;
  readonly #gather: GatherOptions;
  #finishedLast = 0;                  // sequences the last step finished
  #lastStepMs = 0;

  constructor(options: { model: Transformer; maxBatch: number; padTokenId?: number; prefixCache?: PrefixCache; gather?: Partial<GatherOptions> }) {
    if (!(Number.isInteger(options.maxBatch) && options.maxBatch >= 1)) throw new Error(`BatchEngine: maxBatch must be a positive integer, got ${options.maxBatch}`);
    this.#gather = { quietMs: options.gather?.quietMs ?? 0, maxShare: options.gather?.maxShare ?? 0.15 };
    if (!(this.#gather.quietMs >= 0 && this.#gather.maxShare >= 0)) throw new Error(`BatchEngine: gather quietMs and maxShare must be non-negative, got ${this.#gather.quietMs} and ${this.#gather.maxShare}`);
    this.#model = options.model;
    this.#maxBatch = options.maxBatch;
    this.#padTokenId = options.padTokenId ?? 0;
    this.#prefixCache = options.prefixCache ?? null;
  }

  /** Sequences decoding now, and waiting to join. */
  get activeCount(): number { return this.#active.length; }
  get waitingCount(): number { return this.#waiting.length; }

  /** Queues one sequence; resolves when it finishes, rejects with the signal's reason when cancelled. */
  generate(request: SequenceRequest): Promise<SequenceResult> {
    checkSamplingOptions(request.sampling);
    const { config } = this.#model;
    if (request.prompt.length === 0) throw new Error('prompt is empty');
    if (!(Number.isInteger(request.maxNewTokens) && request.maxNewTokens >= 1)) throw new Error(`maxNewTokens must be a positive integer, got ${request.maxNewTokens}`);
    if (request.prompt.length + request.maxNewTokens - 1 > config.maxPositions) throw new Error(`prompt of ${request.prompt.length} tokens + ${request.maxNewTokens} new tokens exceeds the context of ${config.maxPositions}`);
    for (const id of request.prompt) if (!(Number.isInteger(id) && id >= 0 && id < config.vocabSize)) throw new Error(`token ${id} is outside the vocabulary [0, ${config.vocabSize})`);
    if (request.signal?.aborted) return Promise.reject(request.signal.reason);
    return new Promise<SequenceResult>((resolve, reject) => {
      this.#waiting.push({ request, rng: new Rng(request.seed), tokens: [], resolve, reject, done: false });
      if (!this.#running) { this.#running = true; setImmediate(() => void this.#loop()); }
    });
  }

  async #loop(): Promise<void> {
    try {
      while (this.#active.length > 0 || this.#waiting.length > 0) {
        await this.#gatherArrivals();
        this.#step();
        await new Promise((resolve) => setImmediate(resolve));   // let requests arrive and streams flush
      }
    } catch (error) {
      for (const sequence of [...this.#active, ...this.#waiting.splice(0)]) this.#finish(sequence, error);
      this.#active = [];
      this.#cache = null;
    } finally {
      this.#running = false;
    }
  }

  /**
   * Before a prefill into an empty batch, gathers arrivals so that requests sent together share one prefill instead of
   * splitting into the first few and the rest a whole step later (Orca's iteration-level scheduling admits what is
   * there; vLLM's scheduler_delay_factor waits similarly). First, turns of the event loop while each brings more: a
   * burst of requests is read and parsed over several turns, a turn that brings one costs no waiting, and a lone
   * request pays one empty turn (the serve bench's 16 requests at once took 2.1 prefills, 1.0 with them). Then, after a
   * step that finished several sequences (closed-loop clients: a judge's verdict after its rationale, a sampler's next
   * prompt), windows of quietMs until one passes with no arrival, the batch is full, or maxShare of that step's time
   * has passed; Node's timers count whole milliseconds, so steps shorter than 1 / maxShare ms (decode steps) never
   * wait. quietMs 0: neither.
   */
  async #gatherArrivals(): Promise<void> {
    const { quietMs, maxShare } = this.#gather;
    if (quietMs <= 0 || this.#active.length > 0) return;
    const started = performance.now(), windows = this.#finishedLast >= 2, until = started + maxShare * this.#lastStepMs;
    this.#finishedLast = 0;
    for (let seen = this.#waiting.length; this.#waiting.length < this.#maxBatch; seen = this.#waiting.length) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#waiting.length === seen) break;                              // a turn with no arrival
    }
    let seen = this.#waiting.length;
    for (let now = performance.now(); windows && until - now >= 1 && this.#waiting.length < this.#maxBatch; now = performance.now()) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(quietMs, until - now)));
      if (this.#waiting.length === seen) break;                              // a window with no arrival
      seen = this.#waiting.length;
    }
    this.stats.ms.gather += performance.now() - started;
  }

  /**
   * One iteration: admit waiting sequences (one prefill; those finished by their first token leave at once), one
   * decode step for every row, then the rows that step finished leave, so their replies go out before the next
   * iteration's prefill.
   */
  #step(): void {
    for (const sequence of this.#waiting) if (sequence.request.signal?.aborted) this.#finish(sequence, sequence.request.signal.reason);
    const waiting = this.#waiting.filter((s) => !s.done);
    this.#waiting.splice(0, this.#waiting.length, ...waiting);
    const joining = this.#waiting.splice(0, Math.max(0, this.#maxBatch - this.#active.length));
    const t0 = performance.now();
    const prefilled = joining.length === 0 ? [] : this.#prefixCache ? this.#prefillCached(joining) : this.#prefill(joining);
    const t1 = performance.now(), entering = this.#active.length + joining.length;
    this.#repack(prefilled, joining);
    const t2 = performance.now();
    if (this.#active.length > 0) this.#decode();
    const t3 = performance.now();
    // Rows the decode step finished leave now: their requests are answered before the next step's prefill, not after.
    this.#repack([], []);
    const { ms } = this.stats, t4 = performance.now();
    this.#lastStepMs = t4 - t0;
    this.#finishedLast = entering - this.#active.length;          // finished (or cancelled) in this step
    ms.prefill += t1 - t0; ms.repack += t2 - t1 + t4 - t3; ms.decode += t3 - t2;
  }

  /**
   * The joining prompts from the prefix cache; samples each one's first token. Requests whose first logits are the
   * answer (one token, or top log-probs asked: a verdict read from its logits) are prefilled block by block, their
   * blocks batched in ragged forwards (prefillMany), so those logits are a function of the prompt, bit for bit (the
   * same text in both orders gives an exact tie); the others, which decode in a batch anyway, are prefilled together,
   * uncached suffixes batched (prefillBatch).
   */
  #prefillCached(joining: Sequence[]): (CacheRow & { owned: boolean })[] {
    const prefixCache = this.#prefixCache!, before = prefixCache.stats.forwards;
    const batched = joining.filter((s) => s.request.maxNewTokens > 1 && s.request.topLogprobs === 0);
    const waves = batched.length > 0 ? prefixCache.prefillBatch(batched.map((s) => s.request.prompt), 1) : [];
    const exact = joining.filter((s) => !batched.includes(s));
    const blocks = exact.length > 0 ? prefixCache.prefillMany(exact.map((s) => s.request.prompt), 1) : [];
    const rows = joining.map((sequence) => {
      const k = batched.indexOf(sequence);
      if (k >= 0) {
        const { cache, row, logits, cached } = waves[k]!;
        this.#sample(sequence, logits);
        return { cache, row, owned: !cached };
      }
      const { cache, logits, cached } = blocks[exact.indexOf(sequence)]!;
      this.#sample(sequence, logits);
      return { cache, row: 0, owned: !cached };
    });
    this.stats.forwardPasses += prefixCache.stats.forwards - before;
    return rows;
  }

  /** Prefill of the joining sequences in one left-padded forward; samples each one's first token. */
  #prefill(joining: Sequence[]): (CacheRow & { owned: boolean })[] {
    const { config } = this.#model;
    const B = joining.length, P = Math.max(...joining.map((s) => s.request.prompt.length)), V = config.vocabSize;
    const ids = new Int32Array(B * P).fill(this.#padTokenId);             // (B, P) left-padded prompts
    const mask = new Float32Array(B * P);                                  // (B, P)
    joining.forEach((s, b) => {
      const prompt = s.request.prompt, offset = P - prompt.length;
      for (let t = 0; t < prompt.length; t++) { ids[b * P + offset + t] = prompt[t]!; mask[b * P + offset + t] = 1; }
    });
    // Room to decode after the prompt: with no rows running, this becomes the batch cache as it is (no repack).
    const room = this.#active.length === 0 ? Math.max(...joining.map((s) => s.request.maxNewTokens)) : 0;
    const cache = new KvCache(config, B, config.maxPositions + 1, Math.min(config.maxPositions + 1, P + room), sharedKvPool);
    const logits = this.#logitsFor(B * V);                                 // (B, V), sampled from at once
    noGrad(() => scope(() => { logits.set(this.#model.forward(ids, [B, P], { cache, keyMask: mask, lastOnly: true }).data.subarray(0, B * V)); }));
    this.stats.forwardPasses++;
    joining.forEach((s, b) => this.#sample(s, logits.subarray(b * V, (b + 1) * V)));
    return joining.map((_, row) => ({ cache, row, owned: true }));
  }

  /**
   * The batch cache of the rows still running plus the joining ones that did not finish at once. Without joiners, the
   * rows that left are dropped in place (KvCache.keepRows: only rows that move down are copied); joiners into an empty
   * batch keep their prefill's cache when it is the only one (it was made with room to decode); else all rows are
   * packed into a new cache (packRows).
   */
  #repack(prefilled: (CacheRow & { owned?: boolean })[], joining: Sequence[]): void {
    const rows: (CacheRow & { sequence: Sequence })[] = [];
    this.#active.forEach((sequence, row) => { if (!this.#settle(sequence)) rows.push({ cache: this.#cache!, row, sequence }); });
    joining.forEach((sequence, i) => { if (!this.#settle(sequence)) rows.push({ ...prefilled[i]!, sequence }); });
    const unchanged = joining.length === 0 && rows.length === this.#active.length;
    this.#active = rows.map((r) => r.sequence);
    if (unchanged) return;
    const previous = this.#cache;
    const sources = new Set(rows.map((r) => r.cache));
    const only = sources.size === 1 ? rows[0]!.cache : null;
    const owned = new Set(prefilled.filter((p) => p.owned).map((p) => p.cache));
    // Room for every row's remaining tokens: the decode steps until the next repack never grow (copy) the cache.
    const headroom = Math.max(0, ...rows.map((r) => r.sequence.request.maxNewTokens - r.sequence.tokens.length));
    if (rows.length === 0) {
      this.#cache = null;
    } else if (only && (only === previous ? only.length + headroom <= only.maxCapacity                       // else packRows realigns
      : previous === null && owned.has(only) && only.capacity >= only.length + headroom)) {
      only.keepRows(rows.map((r) => r.row));                               // rows left, none joined; or one prefill's rows
      this.#cache = only;
    } else {
      this.#cache = packRows(this.#model.config, rows, { headroom, maxCapacity: this.#model.config.maxPositions + 1, pool: sharedKvPool });
    }
    if (previous !== this.#cache) previous?.release();
    for (const cache of owned) if (cache !== this.#cache) cache.release();   // not those the prefix cache keeps
  }

  /** Feeds every row's last token; samples the next. */
  #decode(): void {
    const B = this.#active.length, V = this.#model.config.vocabSize, cache = this.#cache!;
    const next = Int32Array.from(this.#active, (s) => s.tokens.at(-1)!.token);  // (B, 1)
    const logits = this.#logitsFor(B * V);                                      // (B, V), read before the next step
    noGrad(() => scope(() => { logits.set(this.#model.forward(next, [B, 1], { cache, lastOnly: true }).data.subarray(0, B * V)); }));
    Object.assign(this.stats, { forwardPasses: this.stats.forwardPasses + 1, decodeSteps: this.stats.decodeSteps + 1,
      decodedTokens: this.stats.decodedTokens + B, maxBatch: Math.max(this.stats.maxBatch, B) });
    if (this.#rows.softmax.length < B * V) this.#rows = { softmax: new Float32Array(B * V), logSoftmax: new Float32Array(B * V) };
    const row = softmaxRows(logits, B, V, this.#rows);                          // every row's in one call each
    this.#active.forEach((s, b) => this.#sample(s, logits.subarray(b * V, (b + 1) * V), row(b)));
  }

  /**
   * A step's logits buffer, kept between steps: a 16-row step of a 50k vocabulary is 3 MB, and fresh memory costs
   * milliseconds a MB on some machines (first-touch page faults). Nothing keeps a view of it past the step.
   */
  #logitsFor(n: number): Float32Array {
    if (this.#logits.length < n) this.#logits = new Float32Array(n);
    return this.#logits.subarray(0, n);
  }

  #sample(sequence: Sequence, logits: Float32Array, rows?: SoftmaxRows): void {
    if (sequence.done) return;
    const { request } = sequence;
    // One log-softmax row for the sampled token and its alternatives, so a token's log-prob is the same number in both
    // (OpenAI's API gives the chosen token's entry in top_logprobs the token's own logprob). A prefill's rows come alone.
    const row = rows ?? (request.topLogprobs > 0 ? this.#softmaxRow(logits) : undefined);
    const sampled = sampleFromLogits(logits, request.sampling, sequence.rng, row);
    const step: TokenStep = { token: sampled.token, logprob: sampled.logprob, top: request.topLogprobs > 0 ? topTokens(logits, request.topLogprobs, row!.logSoftmax) : [] };
    sequence.tokens.push(step);
    try {
      request.onToken?.(step, sequence.tokens.length - 1);
    } catch (error) {
      this.#finish(sequence, error);
    }
  }

  /** One row's softmax and log-softmax, in the decode step's buffers (free between steps): the values a step gives the row. */
  #softmaxRow(logits: Float32Array): SoftmaxRows {
    const V = logits.length;
    if (this.#rows.softmax.length < V) this.#rows = { softmax: new Float32Array(V), logSoftmax: new Float32Array(V) };
    return softmaxRows(logits, 1, V, this.#rows)(0);
  }

  /** Resolves a sequence that is finished or cancelled; returns whether it left. */
  #settle(sequence: Sequence): boolean {
    if (sequence.done) return true;
    const { request, tokens } = sequence;
    if (request.signal?.aborted) { this.#finish(sequence, request.signal.reason); return true; }
    const last = tokens.at(-1)?.token;
    // Called for every row twice a step (before and after its decode): the ids are copied only for a stop check that reads them.
    const finish: SequenceFinish | null = last !== undefined && request.stopTokenIds.includes(last) ? 'stop'
      : request.isStopped?.(tokens.map((t) => t.token)) ? 'stop' : tokens.length >= request.maxNewTokens ? 'length' : null;
    if (!finish) return false;
    sequence.done = true;
    sequence.resolve({ tokens, finishReason: finish });
    return true;
  }

  #finish(sequence: Sequence, error: unknown): void {
    if (sequence.done) return;
    sequence.done = true;
    sequence.reject(error);
  }
}

/** log Σ exp(logits) in float64. */
function logSumExp(logits: Float32Array): number {
  let max = -Infinity;
  for (let v = 0; v < logits.length; v++) if (logits[v]! > max) max = logits[v]!;
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += Math.exp(logits[v]! - max);
  return max + Math.log(sum);
}

/**
 * The k most likely tokens of a row of logits (V,) with their log-softmax, best first. With `logSoftmax` (the row's
 * log-softmax, V), the log-probs are read from it (the values sampling gives a token); without, computed in float64.
 */
export function topTokens(logits: Float32Array, k: number, logSoftmax?: Float32Array): TopToken[] {
  const V = logits.length;
  if (logSoftmax && logSoftmax.length !== V) throw new Error(`topTokens: logSoftmax has ${logSoftmax.length} values for ${V} logits`);
  const logNormalizer = logSoftmax ? 0 : logSumExp(logits);
  const logprobOf = (v: number) => (logSoftmax ? logSoftmax[v]! : logits[v]! - logNormalizer);
  if (k > 32) {                                                               // a sort beats insertion for many
    const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => logits[b]! - logits[a]!).slice(0, k);
    return order.map((v) => ({ token: v, logprob: logprobOf(v) }));
  }
  const best: number[] = [];                                                  // ids, kept sorted by logit descending
  for (let v = 0; v < V; v++) {
    if (best.length === k && logits[v]! <= logits[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && logits[best[at - 1]!]! < logits[v]!) at--;
    best.splice(at, 0, v);
    if (best.length > k) best.pop();
  }
  return best.map((v) => ({ token: v, logprob: logprobOf(v) }));
}
