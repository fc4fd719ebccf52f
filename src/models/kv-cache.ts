// Key/value cache for incremental decoding: per layer, preallocated (B, Hkv, capacity, D) keys and values, and the
// (B, capacity) key mask of which cached positions are real tokens (left padding and finished sequences are 0), its
// buffers optionally drawn from a pool that takes them back when the cache is dropped.
// Leaves out: paged or sliding-window caches, dropping finished rows from the batch.
import { Tensor } from '../engine/index.ts';
import type { TransformerConfig } from './config.ts';

// Cache tensors are views of this never-disposed owner, so a scope() that wraps them never pools their buffers.
const OWNER = new Tensor(new Float32Array(0), [0]);

function view(data: Float32Array, shape: number[]): Tensor {
  const t = new Tensor(data, shape);
  t.base = OWNER;
  return t;
}

/**
 * Float32Arrays handed out as exact-length views of pooled power-of-two buffers and taken back when a cache is
 * released: a batch engine that repacks its cache whenever sequences join stops allocating (page-faulting, collecting)
 * megabytes per join. A view's contents are stale, not zero: a cache reads only the positions it has written, and
 * attention never weighs a masked one.
 */
export class KvBufferPool {
  readonly #free = new Map<number, Float32Array[]>();   // whole buffers by length (a power of two)
  #bytes = 0;                                           // held in #free
  /**
   * keepBytes: the most the pool holds. A budget in bytes, not buffers per size: a prefix cache's evicted entry
   * frees 2 x layers buffers of one size at once (12 for a 6-layer labeler; keeping 8 a size sent the rest back to
   * fresh, page-faulting memory), while a large model's buffers are each tens of MB.
   */
  constructor(readonly keepBytes = 256 * 2 ** 20) {}

  take(n: number): Float32Array {
    const size = 2 ** Math.ceil(Math.log2(Math.max(1, n)));
    const pooled = this.#free.get(size)?.pop();
    if (pooled) this.#bytes -= pooled.byteLength;
    return (pooled ?? new Float32Array(size)).subarray(0, n);
  }

  give(views: readonly Float32Array[]): void {
    for (const view of views) {
      const whole = new Float32Array(view.buffer);
      let list = this.#free.get(whole.length);
      if (!list) this.#free.set(whole.length, (list = []));
      if (this.#bytes + whole.byteLength > this.keepBytes || list.some((b) => b.buffer === whole.buffer)) continue;
      list.push(whole);
      this.#bytes += whole.byteLength;
    }
  }

  /** Bytes held for reuse. */
  get heldBytes(): number {
    return this.#bytes;
  }
}

/**
 * The process's pool: generate(), every batch engine and every prefix cache draw from and return to it, so a judge or
 * policy loaded anew (each round of a run, each judge a bench starts) finds the buffers the last one dropped instead
 * of fresh, page-faulting memory. Its byte budget bounds what it keeps for all of them together.
 */
export const sharedKvPool = new KvBufferPool();

export class KvCache {
  keys: Float32Array[];             // per layer (B, Hkv, capacity, D)
  values: Float32Array[];           // per layer (B, Hkv, capacity, D)
  keyMask: Float32Array;            // (B, capacity) 1 = real token, 0 = padding or not yet written
  private fullMask: Float32Array;   // (B, capacity) scratch for windowMask
  /** Positions allocated now: starts small and doubles up to maxCapacity, so decode attends over ≤ 2× the length. */
  capacity: number;
  /** Positions written so far (the same for every row: prompts are left-padded to a common length). */
  length = 0;

  /** Rows (B); fewer after keepRows. */
  batch: number;

  constructor(readonly config: TransformerConfig, batch: number, readonly maxCapacity: number, initialCapacity = 16,
    private readonly pool: KvBufferPool | null = null) {
    if (!(Number.isInteger(batch) && batch > 0 && Number.isInteger(maxCapacity) && maxCapacity > 0)) {
      throw new Error(`KvCache: batch ${batch} and capacity ${maxCapacity} must be positive integers`);
    }
    this.batch = batch;
    this.capacity = Math.min(maxCapacity, Math.max(1, initialCapacity));
    const size = batch * config.numKvHeads * this.capacity * config.headDim;
    this.keys = Array.from({ length: config.numLayers }, () => this.allocate(size));
    this.values = Array.from({ length: config.numLayers }, () => this.allocate(size));
    this.keyMask = new Float32Array(batch * this.capacity);
    this.fullMask = new Float32Array(batch * this.capacity);
  }

  private allocate(n: number): Float32Array {
    return this.pool ? this.pool.take(n) : new Float32Array(n);
  }

  /** Hands the key/value buffers back to the pool (if any); the cache must not be used afterwards. */
  release(): void {
    this.pool?.give([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
  }

  /**
   * Keeps only the given rows (ascending, distinct), in that order, in place: each kept row's block moves down to its
   * new index (rows already in place, such as a prefix, are not copied) and the buffers become views of their first
   * rows. The written positions, their mask and the capacity are unchanged, so a row attends to what it did before.
   */
  keepRows(rows: readonly number[]): void {
    const n = rows.length;
    if (n === 0 || rows.some((row, i) => !Number.isInteger(row) || row < 0 || row >= this.batch || (i > 0 && row <= rows[i - 1]!))) {
      throw new Error(`KvCache.keepRows: rows ${rows.join(', ')} are not ascending distinct rows of ${this.batch}`);
    }
    const { numKvHeads: Hkv, headDim: D } = this.config;
    const cap = this.capacity, block = Hkv * cap * D;                  // one row of (B, Hkv, cap, D)
    rows.forEach((from, to) => {
      if (from === to) return;
      for (const buffer of [...this.keys, ...this.values]) buffer.copyWithin(to * block, from * block, (from + 1) * block);
      this.keyMask.copyWithin(to * cap, from * cap, (from + 1) * cap);
    });
    this.keys = this.keys.map((k) => k.subarray(0, n * block));
    this.values = this.values.map((v) => v.subarray(0, n * block));
    this.keyMask = this.keyMask.subarray(0, n * cap);
    this.fullMask = this.fullMask.subarray(0, n * cap);
    this.batch = n;
  }

  /** Makes room for T more positions (growing the buffers when needed); the model calls this before its first layer. */
  reserve(B: number, T: number): void {
    if (B !== this.batch) throw new Error(`KvCache: batch ${B} does not match the cache's batch ${this.batch}`);
    if (this.length + T > this.maxCapacity) {
      throw new Error(`KvCache: ${this.length} cached + ${T} new positions exceed the capacity ${this.maxCapacity}`);
    }
    if (this.length + T > this.capacity) this.grow(Math.min(this.maxCapacity, Math.max(2 * this.capacity, this.length + T)));
  }

  /** Reallocates to a larger capacity, copying the written positions. */
  private grow(capacity: number): void {
    const { numKvHeads: Hkv, headDim: D } = this.config;
    const B = this.batch, old = this.capacity, rows = B * Hkv;
    const move = (from: Float32Array, width: number) => {
      const to = this.allocate(rows * capacity * width);               // (B·Hkv, capacity, width)
      for (let r = 0; r < rows; r++) to.set(from.subarray(r * old * width, r * old * width + this.length * width), r * capacity * width);
      return to;
    };
    const previous = [...this.keys, ...this.values];
    this.keys = this.keys.map((k) => move(k, D));
    this.values = this.values.map((v) => move(v, D));
    this.pool?.give(previous);
    const mask = new Float32Array(B * capacity);                         // (B, capacity)
    for (let b = 0; b < B; b++) mask.set(this.keyMask.subarray(b * old, b * old + this.length), b * capacity);
    this.keyMask = mask;
    this.fullMask = new Float32Array(B * capacity);
    this.capacity = capacity;
  }

  /** Records which of the T new positions (B, T) are real tokens (null: all are). */
  writeMask(keyMask: Float32Array | null, T: number): void {
    for (let b = 0; b < this.batch; b++) for (let t = 0; t < T; t++) {
      this.keyMask[b * this.capacity + this.length + t] = keyMask ? keyMask[b * T + t] : 1;
    }
  }

  /** Copies the new keys and values (B, Hkv, T, D) of one layer into positions [length, length + T). */
  write(layer: number, k: Tensor, v: Tensor): void {
    const [B, Hkv, T, D] = k.shape;
    const K = this.keys[layer], V = this.values[layer], cap = this.capacity, kd = k.data, vd = v.data, n = T * D;
    for (let b = 0; b < B; b++) for (let h = 0; h < Hkv; h++) {
      const src = (b * Hkv + h) * n, dst = ((b * Hkv + h) * cap + this.length) * D;
      if (n > 256) { K.set(kd.subarray(src, src + n), dst); V.set(vd.subarray(src, src + n), dst); continue; }
      for (let i = 0; i < n; i++) { K[dst + i] = kd[src + i]; V[dst + i] = vd[src + i]; }   // a decode step: no subarray views to collect
    }
  }

  /** Advances the length after every layer has written T positions. */
  advance(T: number): void {
    this.length += T;
  }

  /** The key mask (B, S) for attention over window(…, T, full): S = capacity when full, else length + T. */
  windowMask(T: number, full: boolean): Float32Array {
    const B = this.batch, cap = this.capacity, S = this.length + T, width = full ? cap : S;
    // Full windows reuse one buffer: it is read during the forward only (the cache path records no backward).
    const mask = full ? this.fullMask.fill(0) : new Float32Array(B * width);   // (B, width), unwritten positions 0
    for (let b = 0; b < B; b++) for (let j = 0; j < S; j++) mask[b * width + j] = this.keyMask[b * cap + j];
    return mask;
  }

  /**
   * Keys and values of one layer for attention after T new positions were written.
   * full = true: the whole capacity (B, Hkv, capacity, D) without a copy, unwritten positions masked (for T = 1);
   * full = false: the first length + T positions (B, Hkv, S, D) (for causal chunks): a contiguous copy, or views of
   * the buffers when they are the whole capacity.
   */
  window(layer: number, T: number, full: boolean): { k: Tensor; v: Tensor } {
    const { numKvHeads: Hkv, headDim: D } = this.config;
    const B = this.batch, cap = this.capacity, S = this.length + T;
    // the whole capacity, or the first S positions when they are the whole capacity: views, no copy
    if (full || S === cap) return { k: view(this.keys[layer], [B, Hkv, cap, D]), v: view(this.values[layer], [B, Hkv, cap, D]) };
    const k = new Float32Array(B * Hkv * S * D), v = new Float32Array(B * Hkv * S * D);  // (B, Hkv, S, D)
    for (let b = 0; b < B; b++) for (let h = 0; h < Hkv; h++) {
      const src = (b * Hkv + h) * cap * D, dst = (b * Hkv + h) * S * D;
      k.set(this.keys[layer].subarray(src, src + S * D), dst);
      v.set(this.values[layer].subarray(src, src + S * D), dst);
    }
    return { k: new Tensor(k, [B, Hkv, S, D]), v: new Tensor(v, [B, Hkv, S, D]) };
  }
}
