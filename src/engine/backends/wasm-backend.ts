// The wasm SIMD128 fallback backend (kernels in native/wasm/*.c -> committed wasm/kernels.wasm; GEMM and attention
// on up to 8 threads). In wasm: gemm, gelu, silu, layerNorm, rmsNorm, softmax, logSoftmax, targetLogprobs, entropy
// (+ backwards), attention (+ backward), adamw. Delegated to JsBackend, being memory-bound or gathers: biasAdd,
// sumRowsInto, add, axpy, headsLayout, embedding (+ backward), sumSquares, firstNonFinite.
import {
  type AttentionParams, type Backend, type GemmParams, type TokenMajorLayout, checkLength,
  checkLengths, EngineError,
} from '../backend.ts';
import { addBiasRows, addColumnSums, attentionLengths, checkAttention, checkGemm, JsBackend, roundedOperands } from './js-backend.ts';
import { defaultWasmThreads, WasmRuntime, webAssembly } from './wasm/wasm-runtime.ts';

/** GEMMs with at least this many flops (2 M N K batch) are split across the worker threads. */
const PARALLEL_FLOPS = 2 ** 22;

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly threads: number;
  private readonly js = new JsBackend();
  private readonly k: Record<string, (...args: number[]) => number>;

  constructor(readonly runtime: WasmRuntime) {
    this.threads = runtime.threads;
    this.k = runtime.exports;
  }

  gemm(p: GemmParams): void {
    const op = 'gemm';
    checkGemm(op, p);
    addColumnSums(p);
    const { M, N, K, batch } = p;
    if (batch === 0 || M === 0 || N === 0) return;
    const rt = this.runtime;
    rt.reset();
    const a = rt.put(op, p.a, (batch - 1) * p.strideA + M * K);
    const b = rt.put(op, p.b, (batch - 1) * p.strideB + K * N);
    const spanC = (batch - 1) * p.strideC + M * N;
    // C is copied in when it is read (beta != 0) or when its batches leave gaps that the copy-out must preserve.
    const packedC = batch === 1 || p.strideC === M * N;
    const c = p.beta !== 0 || !packedC ? rt.put(op, p.c, spanC) : rt.alloc(op, spanC);
    const overlapping = batch > 1 && p.strideC < M * N; // batches write the same C: keep js's sequential order
    const parallel = !overlapping && 2 * M * N * K * batch >= PARALLEL_FLOPS;
    rt.gemm({ a, b, c, M, N, K, transA: p.transA, transB: p.transB, alpha: p.alpha, beta: p.beta, batch,
      strideA: p.strideA, strideB: p.strideB, strideC: p.strideC }, parallel);
    rt.get(op, c, p.c, spanC);
    addBiasRows(p);
  }

  /** Operands rounded to bf16 in js, then the wasm gemm (no bf16 kernel in wasm: no speed-up, same numerics). */
  gemmMixed(p: GemmParams): void {
    checkGemm('gemmMixed', p);
    addColumnSums(p);
    this.gemm(roundedOperands(p));
    addBiasRows(p);
  }

  /** The js reference: wasm has no bf16 kernel (generation with bf16 weights is for the native backend). */
  gemmBf16(a: Float32Array, w: Uint16Array, c: Float32Array, M: number, N: number, K: number): void {
    this.js.gemmBf16(a, w, c, M, N, K);
  }

  biasAdd(x: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    floats('biasAdd', x, bias); this.js.biasAdd(x, bias, rows, cols);
  }
  sumRowsInto(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
    floats('sumRowsInto', x, out); this.js.sumRowsInto(x, out, rows, cols);
  }
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    floats('add', a, b, out); this.js.add(a, b, out, n);
  }
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void { floats('axpy', x, y); this.js.axpy(alpha, x, y, n); }

  gelu(x: Float32Array, y: Float32Array, n: number): void { this.unary('gelu', x, y, n); }
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate = true): void {
    this.unaryBackward('geluBackward', 'gelu_bwd', x, dy, dx, n, accumulate);
  }
  silu(x: Float32Array, y: Float32Array, n: number): void { this.unary('silu', x, y, n); }
  siluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate = true): void {
    this.unaryBackward('siluBackward', 'silu_bwd', x, dy, dx, n, accumulate);
  }

  layerNorm(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, mean: Float32Array,
    rstd: Float32Array, rows: number, cols: number, eps: number): void {
    const op = 'layerNorm', n = rows * cols;
    checkLength(op, 'x', x, n); checkLength(op, 'y', y, n); checkLength(op, 'weight', w, cols);
    checkLength(op, 'bias', b, cols); checkLength(op, 'mean', mean, rows); checkLength(op, 'rstd', rstd, rows);
    const rt = this.start();
    const px = rt.put(op, x, n), pw = rt.put(op, w, cols), pb = rt.put(op, b, cols);
    const py = rt.alloc(op, n), pm = rt.alloc(op, rows), pr = rt.alloc(op, rows);
    this.k.layernorm(px, pw, pb, py, pm, pr, rows, cols, eps);
    rt.get(op, py, y, n); rt.get(op, pm, mean, rows); rt.get(op, pr, rstd, rows);
  }

  layerNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, mean: Float32Array, rstd: Float32Array,
    dx: Float32Array, dw: Float32Array, db: Float32Array, rows: number, cols: number): void {
    const op = 'layerNormBackward', n = rows * cols;
    checkLength(op, 'dy', dy, n); checkLength(op, 'x', x, n); checkLength(op, 'dx', dx, n);
    checkLength(op, 'weight', w, cols); checkLength(op, 'dweight', dw, cols); checkLength(op, 'dbias', db, cols);
    checkLength(op, 'mean', mean, rows); checkLength(op, 'rstd', rstd, rows);
    const rt = this.start();
    const pdy = rt.put(op, dy, n), px = rt.put(op, x, n), pw = rt.put(op, w, cols), pm = rt.put(op, mean, rows);
    const pr = rt.put(op, rstd, rows), pdx = rt.put(op, dx, n), pdw = rt.put(op, dw, cols), pdb = rt.put(op, db, cols);
    this.k.layernorm_bwd(pdy, px, pw, pm, pr, pdx, pdw, pdb, rows, cols);
    rt.get(op, pdx, dx, n); rt.get(op, pdw, dw, cols); rt.get(op, pdb, db, cols);
  }

  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, rstd: Float32Array, rows: number, cols: number,
    eps: number): void {
    const op = 'rmsNorm', n = rows * cols;
    checkLength(op, 'x', x, n); checkLength(op, 'y', y, n); checkLength(op, 'weight', w, cols);
    checkLength(op, 'rstd', rstd, rows);
    const rt = this.start();
    const px = rt.put(op, x, n), pw = rt.put(op, w, cols), py = rt.alloc(op, n), pr = rt.alloc(op, rows);
    this.k.rmsnorm(px, pw, py, pr, rows, cols, eps);
    rt.get(op, py, y, n); rt.get(op, pr, rstd, rows);
  }

  rmsNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array,
    dw: Float32Array, rows: number, cols: number): void {
    const op = 'rmsNormBackward', n = rows * cols;
    checkLength(op, 'dy', dy, n); checkLength(op, 'x', x, n); checkLength(op, 'dx', dx, n);
    checkLength(op, 'weight', w, cols); checkLength(op, 'dweight', dw, cols); checkLength(op, 'rstd', rstd, rows);
    const rt = this.start();
    const pdy = rt.put(op, dy, n), px = rt.put(op, x, n), pw = rt.put(op, w, cols), pr = rt.put(op, rstd, rows);
    const pdx = rt.put(op, dx, n), pdw = rt.put(op, dw, cols);
    this.k.rmsnorm_bwd(pdy, px, pw, pr, pdx, pdw, rows, cols);
    rt.get(op, pdx, dx, n); rt.get(op, pdw, dw, cols);
  }

  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    this.rowwise('softmax', 'softmax', x, y, rows, cols);
  }
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    this.rowwiseBackward('softmaxBackward', 'softmax_bwd', y, dy, dx, rows, cols);
  }
  logSoftmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    this.rowwise('logSoftmax', 'logsoftmax', x, y, rows, cols);
  }
  logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    this.rowwiseBackward('logSoftmaxBackward', 'logsoftmax_bwd', y, dy, dx, rows, cols);
  }

  targetLogprobs(logits: Float32Array, targets: Int32Array, out: Float32Array, lse: Float32Array, rows: number,
    V: number, ignoreIndex: number): void {
    const op = 'targetLogprobs';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'targets', targets, rows);
    checkLength(op, 'out', out, rows); checkLength(op, 'lse', lse, rows);
    checkTargets(op, targets, null, rows, V, ignoreIndex);
    const rt = this.start();
    const pl = rt.put(op, logits, rows * V), pt = rt.putInt32(op, targets, rows), po = rt.alloc(op, rows);
    const ps = rt.alloc(op, rows);
    this.k.target_logprobs(pl, pt, po, ps, rows, V, ignoreIndex);
    rt.get(op, po, out, rows); rt.get(op, ps, lse, rows);
  }

  targetLogprobsBackward(logits: Float32Array, targets: Int32Array, lse: Float32Array, g: Float32Array,
    dlogits: Float32Array, rows: number, V: number, ignoreIndex: number): void {
    const op = 'targetLogprobsBackward';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'targets', targets, rows);
    checkLength(op, 'lse', lse, rows); checkLength(op, 'g', g, rows); checkLength(op, 'dlogits', dlogits, rows * V);
    checkTargets(op, targets, g, rows, V, ignoreIndex);
    const rt = this.start();
    const pl = rt.put(op, logits, rows * V), pt = rt.putInt32(op, targets, rows), ps = rt.put(op, lse, rows);
    const pg = rt.put(op, g, rows), pd = rt.put(op, dlogits, rows * V);
    this.k.target_logprobs_bwd(pl, pt, ps, pg, pd, rows, V, ignoreIndex);
    rt.get(op, pd, dlogits, rows * V);
  }

  entropy(logits: Float32Array, out: Float32Array, lse: Float32Array, rows: number, V: number): void {
    const op = 'entropy';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'out', out, rows); checkLength(op, 'lse', lse, rows);
    const rt = this.start();
    const pl = rt.put(op, logits, rows * V), po = rt.alloc(op, rows), ps = rt.alloc(op, rows);
    this.k.entropy(pl, po, ps, rows, V);
    rt.get(op, po, out, rows); rt.get(op, ps, lse, rows);
  }

  entropyBackward(logits: Float32Array, lse: Float32Array, h: Float32Array, g: Float32Array,
    dlogits: Float32Array, rows: number, V: number): void {
    const op = 'entropyBackward';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'lse', lse, rows); checkLength(op, 'h', h, rows);
    checkLength(op, 'g', g, rows); checkLength(op, 'dlogits', dlogits, rows * V);
    const rt = this.start();
    const pl = rt.put(op, logits, rows * V), ps = rt.put(op, lse, rows), ph = rt.put(op, h, rows);
    const pg = rt.put(op, g, rows), pd = rt.put(op, dlogits, rows * V);
    this.k.entropy_bwd(pl, ps, ph, pg, pd, rows, V);
    rt.get(op, pd, dlogits, rows * V);
  }

  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, probs: Float32Array,
    p: AttentionParams): void {
    const op = 'attention';
    checkAttention(op, p, q, k, v, probs);
    const t = p.tokenMajor;
    if (t) {                                                    // the wasm kernel reads head-major rows: copies
      const { B, H, T, D } = p;
      checkLength(op, 'out', out, B * H * T * D);
      const heads = this.#headMajor(p, t, q, k, v), merged = this.#spare(3, B * H * T * D);
      this.attention(heads.q, heads.k, heads.v, merged, probs, { ...p, tokenMajor: null });
      this.js.headsLayout(merged, out, B, T, H, D, H * D, 0, false, false);
      return;
    }
    if ((p.keyCapacity ?? p.S) !== p.S) {                       // the wasm kernel reads whole rows: the first S of each
      const rows = compactRows(p, k, v);
      return this.attention(q, rows.k, rows.v, out, probs, { ...p, keyMask: rows.keyMask, keyCapacity: undefined });
    }
    const { B, H, Hkv, T, S, D } = p;
    const nq = B * H * T * D, nkv = B * Hkv * S * D, np = B * H * T * S;
    checkLength(op, 'out', out, nq);
    if (B === 0 || H === 0) return;
    const rt = this.start();
    const pq = rt.put(op, q, nq), pk = rt.put(op, k, nkv), pv = rt.put(op, v, nkv);
    const pm = p.keyMask ? rt.put(op, p.keyMask, B * S) : 0;
    const po = rt.alloc(op, nq), pp = rt.alloc(op, np);
    rt.attention({ q: pq, k: pk, v: pv, out: po, probs: pp, mask: pm, dq: 0, dk: 0, dv: 0, B, H, Hkv, T, S, D,
      causal: p.causal, scale: p.scale }, false, 4 * B * H * T * S * D >= PARALLEL_FLOPS);
    rt.get(op, po, out, nq); rt.get(op, pp, probs, np);
  }

  attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dout: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array, p: AttentionParams): void {
    const op = 'attentionBackward';
    checkAttention(op, p, q, k, v, probs);
    const { B, H, Hkv, T, S, D } = p, t = p.tokenMajor;
    if (t) {                                                    // head-major copies, the gradients added back in place
      const n = attentionLengths(p);
      checkLength(op, 'dout', dout, n.out); checkLength(op, 'dq', dq, n.q);
      checkLength(op, 'dk', dk, n.kv); checkLength(op, 'dv', dv, n.kv);
      const heads = this.#headMajor(p, t, q, k, v), g = this.#spare(3, B * H * T * D);
      this.js.headsLayout(dout, g, B, T, H, D, H * D, 0, true, false);
      const gq = this.#spare(4, n.out, true), gk = this.#spare(5, B * Hkv * S * D, true), gv = this.#spare(6, B * Hkv * S * D, true);
      this.attentionBackward(heads.q, heads.k, heads.v, probs, g, gq, gk, gv, { ...p, tokenMajor: null });
      this.js.headsLayout(gq, dq, B, T, H, D, t.W, t.q, false, true);
      this.js.headsLayout(gk, dk, B, S, Hkv, D, t.W, t.k, false, true);
      this.js.headsLayout(gv, dv, B, S, Hkv, D, t.W, t.v, false, true);
      return;
    }
    const nq = B * H * T * D, nkv = B * Hkv * S * D, np = B * H * T * S;
    checkLength(op, 'dout', dout, nq); checkLength(op, 'dq', dq, nq);
    checkLength(op, 'dk', dk, nkv); checkLength(op, 'dv', dv, nkv);
    if (B === 0 || H === 0) return;
    const rt = this.start();
    const pq = rt.put(op, q, nq), pk = rt.put(op, k, nkv), pv = rt.put(op, v, nkv), pp = rt.put(op, probs, np);
    const pdo = rt.put(op, dout, nq), pdq = rt.put(op, dq, nq), pdk = rt.put(op, dk, nkv), pdv = rt.put(op, dv, nkv);
    rt.attention({ q: pq, k: pk, v: pv, out: pdo, probs: pp, mask: 0, dq: pdq, dk: pdk, dv: pdv, B, H, Hkv, T, S, D,
      causal: p.causal, scale: p.scale }, true, 8 * B * H * T * S * D >= PARALLEL_FLOPS);
    rt.get(op, pdq, dq, nq); rt.get(op, pdk, dk, nkv); rt.get(op, pdv, dv, nkv);
  }

  readonly #spares: Float32Array[] = [];
  /** n floats of the reusable buffer `slot` (grown, never shrunk: fresh pages cost milliseconds a MB on some VMs),
   * zeroed when asked; the token-major attention's head-major copies. */
  #spare(slot: number, n: number, zero = false): Float32Array {
    if ((this.#spares[slot]?.length ?? -1) < n) this.#spares[slot] = new Float32Array(n);
    const buffer = this.#spares[slot]!.subarray(0, n);
    return zero ? buffer.fill(0) : buffer;
  }

  /** q, k and v of a token-major attention (p.tokenMajor) copied into the head-major layout. */
  #headMajor(p: AttentionParams, t: TokenMajorLayout, q: Float32Array, k: Float32Array, v: Float32Array):
    { q: Float32Array; k: Float32Array; v: Float32Array } {
    const { B, H, Hkv, T, S, D } = p, kv = B * Hkv * S * D;
    const heads = { q: this.#spare(0, B * H * T * D), k: this.#spare(1, kv), v: this.#spare(2, kv) };
    this.js.headsLayout(q, heads.q, B, T, H, D, t.W, t.q, true, false);
    this.js.headsLayout(k, heads.k, B, S, Hkv, D, t.W, t.k, true, false);
    this.js.headsLayout(v, heads.v, B, S, Hkv, D, t.W, t.v, true, false);
    return heads;
  }

  headsLayout(src: Float32Array, dst: Float32Array, B: number, T: number, H: number, D: number, W: number,
    offset: number, toHeads: boolean, accumulate: boolean): void {
    floats('headsLayout', src, dst);
    this.js.headsLayout(src, dst, B, T, H, D, W, offset, toHeads, accumulate);
  }
  embedding(table: Float32Array, ids: Int32Array, out: Float32Array, n: number, D: number, V: number): void {
    floats('embedding', table, out); ints('embedding', ids); this.js.embedding(table, ids, out, n, D, V);
  }
  embeddingBackward(dout: Float32Array, ids: Int32Array, dtable: Float32Array, n: number, D: number, V: number): void {
    floats('embeddingBackward', dout, dtable); ints('embeddingBackward', ids);
    this.js.embeddingBackward(dout, ids, dtable, n, D, V);
  }

  adamw(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number,
    beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
    gradScale: number): void {
    const op = 'adamw';
    checkLengths(op, { param, grad, m, v }, n);
    const rt = this.start();
    const pp = rt.put(op, param, n), pg = rt.put(op, grad, n), pm = rt.put(op, m, n), pv = rt.put(op, v, n);
    this.k.adamw(pp, pg, pm, pv, n, lr, beta1, beta2, eps, weightDecay, bc1, bc2, gradScale);
    rt.get(op, pp, param, n); rt.get(op, pm, m, n); rt.get(op, pv, v, n);
  }

  sumSquares(x: Float32Array, n: number): number { floats('sumSquares', x); return this.js.sumSquares(x, n); }
  firstNonFinite(x: Float32Array, n: number): number { floats('firstNonFinite', x); return this.js.firstNonFinite(x, n); }

  private start(): WasmRuntime { this.runtime.reset(); return this.runtime; }

  private unary(op: 'gelu' | 'silu', x: Float32Array, y: Float32Array, n: number): void {
    checkLength(op, 'x', x, n); checkLength(op, 'y', y, n);
    const rt = this.start();
    const px = rt.put(op, x, n), py = rt.alloc(op, n);
    this.k[op](px, py, n);
    rt.get(op, py, y, n);
  }

  private unaryBackward(op: string, kernel: string, x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate: boolean): void {
    checkLength(op, 'x', x, n); checkLength(op, 'dy', dy, n); checkLength(op, 'dx', dx, n);
    const rt = this.start();
    if (!accumulate) dx.fill(0, 0, n); // the wasm kernels accumulate; overwriting is zero then accumulate here
    const px = rt.put(op, x, n), pdy = rt.put(op, dy, n), pdx = rt.put(op, dx, n);
    this.k[kernel](px, pdy, pdx, n);
    rt.get(op, pdx, dx, n);
  }

  private rowwise(op: string, kernel: string, x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    const n = rows * cols;
    checkLength(op, 'x', x, n); checkLength(op, 'y', y, n);
    const rt = this.start();
    const px = rt.put(op, x, n), py = rt.alloc(op, n);
    this.k[kernel](px, py, rows, cols);
    rt.get(op, py, y, n);
  }

  private rowwiseBackward(op: string, kernel: string, y: Float32Array, dy: Float32Array, dx: Float32Array,
    rows: number, cols: number): void {
    const n = rows * cols;
    checkLength(op, 'y', y, n); checkLength(op, 'dy', dy, n); checkLength(op, 'dx', dx, n);
    const rt = this.start();
    const py = rt.put(op, y, n), pdy = rt.put(op, dy, n), pdx = rt.put(op, dx, n);
    this.k[kernel](py, pdy, pdx, rows, cols);
    rt.get(op, pdx, dx, n);
  }
}

/** The delegated kernels get the same type checks as the wasm ones (a Float64Array must not pass silently). */
function floats(op: string, ...buffers: unknown[]): void {
  for (const b of buffers) if (!(b instanceof Float32Array)) throw new EngineError(op, 'expected Float32Array buffers');
}
function ints(op: string, ids: unknown): void {
  if (!(ids instanceof Int32Array)) throw new EngineError(op, 'expected an Int32Array of ids');
}

/** Rejects targets outside [0, V) (other than ignoreIndex) before any memory is touched; rows with g = 0 pass. */
function checkTargets(op: string, targets: Int32Array, g: Float32Array | null, rows: number, V: number,
  ignoreIndex: number): void {
  for (let r = 0; r < rows; r++) {
    const t = targets[r];
    if (t === ignoreIndex || (g && g[r] === 0)) continue;
    if (t < 0 || t >= V) {
      throw new EngineError(op, `target ${t} at row ${r} is outside the vocabulary [0, ${V}) (logits ${rows}x${V})`);
    }
  }
}

/** Loads the wasm kernels (synchronously); throws with the reason when this Node cannot run them. */
export function createWasmBackend(): Backend {
  if (!webAssembly() || typeof SharedArrayBuffer !== 'function') {
    throw new Error('WebAssembly with shared memory is not available in this runtime');
  }
  try {
    return new WasmBackend(new WasmRuntime(defaultWasmThreads()));
  } catch (error) {
    throw new Error(`wasm kernels failed to load: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The first S positions of each (b, head) row of k and v, and of each b of the key mask, when rows hold keyCapacity. */
function compactRows(p: AttentionParams, k: Float32Array, v: Float32Array): { k: Float32Array; v: Float32Array; keyMask: Float32Array | null } {
  const { B, Hkv, S, D } = p, L = p.keyCapacity!;
  const ck = new Float32Array(B * Hkv * S * D), cv = new Float32Array(B * Hkv * S * D);   // (B, Hkv, S, D)
  for (let r = 0; r < B * Hkv; r++) {
    ck.set(k.subarray(r * L * D, (r * L + S) * D), r * S * D);
    cv.set(v.subarray(r * L * D, (r * L + S) * D), r * S * D);
  }
  let mask: Float32Array | null = null;
  if (p.keyMask) {
    mask = new Float32Array(B * S);                                                        // (B, S)
    for (let b = 0; b < B; b++) mask.set(p.keyMask.subarray(b * L, b * L + S), b * S);
  }
  return { k: ck, v: cv, keyMask: mask };
}
