// Checks the wasm kernels against the js reference on random shapes (0, 1, 3, 17, 129, off-block sizes), all GEMM
// transposes and strides, the threaded GEMM path, accumulate semantics of backward kernels and bad-input errors.
// Leaves out finite-difference gradient checks (the op suite does those on the js reference).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttentionParams, Backend, GemmParams } from '../backend.ts';
import { assertClose, poisoned, randomBuffer, uniforms } from '../testing/kernel-check.ts';
import { JsBackend } from './js-backend.ts';
import { createWasmBackend, WasmBackend } from './wasm-backend.ts';

const js = new JsBackend();
const wasm = createWasmBackend() as WasmBackend;

const next = uniforms(1234);
const rand = () => (next() + 1) / 2;  // [0, 1)
const randn = (n: number, scale = 1) => randomBuffer(next, n, scale);

/** Relative-to-(1 + |expected|) tolerance, NaN matching NaN (poisoned buffers both sides leave alone). */
function check(actual: Float32Array, expected: Float32Array, what: string, tol = 2e-4): void {
  assertClose(what, actual, expected, tol, tol, true);
}

/** Runs fn on js and wasm over copies of the same buffers and compares every buffer afterwards. */
function compare(what: string, buffers: Float32Array[], fn: (backend: Backend, bufs: Float32Array[]) => void,
  tol?: number): void {
  const mine = buffers.map((b) => b.slice()), ref = buffers.map((b) => b.slice());
  fn(js, ref);
  fn(wasm, mine);
  mine.forEach((b, i) => check(b, ref[i], `${what} buffer ${i}`, tol));
}

function gemmCase(M: number, N: number, K: number, transA: boolean, transB: boolean, beta: number, batch = 1,
  broadcast: 'none' | 'a' | 'b' = 'none', alpha = 1): void {
  const strideA = broadcast === 'a' ? 0 : M * K, strideB = broadcast === 'b' ? 0 : K * N;
  const a = randn(Math.max(1, (batch - 1) * strideA + M * K)), b = randn(Math.max(1, (batch - 1) * strideB + K * N));
  const c = beta === 0 ? poisoned(batch * M * N) : randn(batch * M * N);
  const what = `gemm M${M} N${N} K${K} tA${+transA} tB${+transB} beta${beta} batch${batch} ${broadcast}`;
  compare(what, [a, b, c], (backend, [a2, b2, c2]) => {
    const p: GemmParams = { a: a2, b: b2, c: c2, M, N, K, transA, transB, alpha, beta, batch, strideA, strideB,
      strideC: M * N };
    backend.gemm(p);
  });
}

test('wasm gemm matches js on odd shapes, all transposes, alpha/beta', () => {
  const sizes = [0, 1, 3, 17, 129];
  for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    for (const M of sizes) for (const N of sizes) for (const K of [0, 1, 17, 129]) {
      if (rand() < 0.6 && M * N * K > 0) continue; // a random third of the grid, always the empty cases
      gemmCase(M, N, K, tA, tB, 0);
    }
    gemmCase(33, 9, 5, tA, tB, 1, 1, 'none', 0.5);
    gemmCase(7, 41, 300, tA, tB, 0.25, 1, 'none', -2);   // K spans two packing blocks
    gemmCase(5, 6, 7, tA, tB, 1, 3, 'a');
    gemmCase(5, 6, 7, tA, tB, 0, 4, 'b');
    gemmCase(3, 17, 0, tA, tB, 0.5);                    // K = 0 only scales C
  }
});

test('wasm gemm uses the worker threads on large problems and stays exact', () => {
  gemmCase(300, 260, 200, false, false, 0);
  gemmCase(300, 260, 200, true, true, 1);
  gemmCase(130, 520, 70, false, true, 0, 3, 'b');  // batched, wide N: several column blocks per batch
  gemmCase(1030, 9, 600, true, false, 0);          // tall and thin: row blocks only
});

test('wasm gemm runs tasks on the worker threads', async (t) => {
  const runtime = wasm.runtime;
  if (runtime.threads < 2) { t.skip('one thread configured'); return; }
  runtime.startThreads();
  for (let i = 0; i < 300 && runtime.readyWorkers() < runtime.threads - 1; i++) await new Promise((r) => setTimeout(r, 10));
  const n = 384, a = randn(n * n), b = randn(n * n), expected = new Float32Array(n * n);
  const params = (c: Float32Array): GemmParams => ({ a, b, c, M: n, N: n, K: n, transA: false, transB: true, alpha: 1,
    beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
  js.gemm(params(expected));
  const before = runtime.workerTasks;
  for (let rep = 0; rep < 20 && runtime.workerTasks === before; rep++) {
    const c = poisoned(n * n);
    wasm.gemm(params(c));
    check(c, expected, 'threaded gemm');
  }
  assert.ok(runtime.workerTasks > before, 'no GEMM task ran on a worker thread');
});

test('wasm gemm with gaps between C batches leaves the gaps alone', () => {
  const M = 3, N = 4, K = 5, batch = 3, strideC = M * N + 5;
  const a = randn(batch * M * K), b = randn(batch * K * N), c = randn((batch - 1) * strideC + M * N);
  compare('gemm gaps', [a, b, c], (backend, [a2, b2, c2]) => backend.gemm({ a: a2, b: b2, c: c2, M, N, K,
    transA: false, transB: true, alpha: 1, beta: 0, batch, strideA: M * K, strideB: K * N, strideC }));
});

test('wasm gemm with every batch writing the same C accumulates in batch order', () => {
  const M = 9, N = 10, K = 11, batch = 3;
  compare('gemm strideC 0', [randn(batch * M * K), randn(K * N), randn(M * N)], (backend, [a, b, c]) => backend.gemm({
    a, b, c, M, N, K, transA: false, transB: false, alpha: 1, beta: 1, batch, strideA: M * K, strideB: 0, strideC: 0 }));
});

test('wasm elementwise forward and backward (accumulating)', () => {
  for (const n of [0, 1, 3, 17, 129, 1000]) {
    const x = randn(n, 6);
    compare(`gelu ${n}`, [x, poisoned(n)], (be, [x2, y]) => be.gelu(x2, y, n), 1e-5);
    compare(`silu ${n}`, [x, poisoned(n)], (be, [x2, y]) => be.silu(x2, y, n), 1e-5);
    compare(`geluBackward ${n}`, [x, randn(n), randn(n)], (be, [x2, dy, dx]) => be.geluBackward(x2, dy, dx, n), 1e-5);
    compare(`siluBackward ${n}`, [x, randn(n), randn(n)], (be, [x2, dy, dx]) => be.siluBackward(x2, dy, dx, n), 1e-5);
  }
});

test('wasm layerNorm and rmsNorm forward and backward', () => {
  for (const [rows, cols] of [[0, 5], [1, 1], [3, 17], [17, 129], [5, 3]]) {
    const n = rows * cols, x = randn(n, 3), w = randn(cols), b = randn(cols);
    compare(`layerNorm ${rows}x${cols}`, [x, w, b, poisoned(n), poisoned(rows), poisoned(rows)],
      (be, [x2, w2, b2, y, mean, rstd]) => be.layerNorm(x2, w2, b2, y, mean, rstd, rows, cols, 1e-5));
    const mean = new Float32Array(rows), rstd = new Float32Array(rows);
    js.layerNorm(x, w, b, new Float32Array(n), mean, rstd, rows, cols, 1e-5);
    compare(`layerNormBackward ${rows}x${cols}`, [randn(n), x, w, mean, rstd, randn(n), randn(cols), randn(cols)],
      (be, [dy, x2, w2, m2, r2, dx, dw, db]) => be.layerNormBackward(dy, x2, w2, m2, r2, dx, dw, db, rows, cols), 1e-3);
    compare(`rmsNorm ${rows}x${cols}`, [x, w, poisoned(n), poisoned(rows)],
      (be, [x2, w2, y, r2]) => be.rmsNorm(x2, w2, y, r2, rows, cols, 1e-5));
    js.rmsNorm(x, w, new Float32Array(n), rstd, rows, cols, 1e-5);
    compare(`rmsNormBackward ${rows}x${cols}`, [randn(n), x, w, rstd, randn(n), randn(cols)],
      (be, [dy, x2, w2, r2, dx, dw]) => be.rmsNormBackward(dy, x2, w2, r2, dx, dw, rows, cols), 1e-3);
  }
});

test('wasm softmax family, target logprobs and entropy', () => {
  for (const [rows, cols] of [[0, 4], [1, 1], [3, 17], [17, 129], [2, 1001]]) {
    const n = rows * cols, x = randn(n, 5);
    if (n > 3) x[2] = -Infinity; // a masked logit
    compare(`softmax ${rows}x${cols}`, [x, poisoned(n)], (be, [x2, y]) => be.softmax(x2, y, rows, cols), 1e-5);
    compare(`logSoftmax ${rows}x${cols}`, [x, poisoned(n)], (be, [x2, y]) => be.logSoftmax(x2, y, rows, cols), 1e-5);
    const y = new Float32Array(n), ly = new Float32Array(n);
    js.softmax(x, y, rows, cols); js.logSoftmax(x, ly, rows, cols);
    compare(`softmaxBackward ${rows}x${cols}`, [y, randn(n), randn(n)], (be, [y2, dy, dx]) => be.softmaxBackward(y2, dy, dx, rows, cols), 1e-5);
    compare(`logSoftmaxBackward ${rows}x${cols}`, [ly, randn(n), randn(n)], (be, [y2, dy, dx]) => be.logSoftmaxBackward(y2, dy, dx, rows, cols), 1e-4);

    const logits = randn(n, 4);
    const targets = Int32Array.from({ length: rows }, (_, r) => (r % 3 === 2 ? -100 : Math.floor(rand() * cols)));
    compare(`targetLogprobs ${rows}x${cols}`, [logits, poisoned(rows), poisoned(rows)],
      (be, [l, out, lse]) => be.targetLogprobs(l, targets, out, lse, rows, cols, -100), 1e-5);
    const lse = new Float32Array(rows);
    js.targetLogprobs(logits, targets, new Float32Array(rows), lse, rows, cols, -100);
    const g = randn(rows);
    if (rows > 1) g[1] = 0;
    compare(`targetLogprobsBackward ${rows}x${cols}`, [logits, lse, g, randn(n)],
      (be, [l, s, g2, d]) => be.targetLogprobsBackward(l, targets, s, g2, d, rows, cols, -100), 1e-5);
    compare(`entropy ${rows}x${cols}`, [logits, poisoned(rows), poisoned(rows)],
      (be, [l, out, s]) => be.entropy(l, out, s, rows, cols), 1e-5);
    const h = new Float32Array(rows);
    js.entropy(logits, h, lse, rows, cols);
    compare(`entropyBackward ${rows}x${cols}`, [logits, lse, h, g, randn(n)],
      (be, [l, s, h2, g2, d]) => be.entropyBackward(l, s, h2, g2, d, rows, cols), 1e-5);
  }
});

test('wasm attention forward and backward (causal, grouped heads, padding mask)', () => {
  const shapes = [[1, 1, 1, 1, 1, 1], [2, 4, 2, 3, 3, 17], [1, 3, 3, 17, 20, 8], [2, 2, 1, 5, 5, 1], [1, 2, 2, 0, 3, 4],
    [2, 4, 4, 33, 33, 16], [4, 4, 2, 64, 70, 32]]; // the last is large enough to split heads across threads
  for (const [B, H, Hkv, T, S, D] of shapes) for (const causal of [true, false]) {
    const keyMask = B > 1 ? Float32Array.from({ length: B * S }, (_, i) => (i < S ? 0 : rand() < 0.8 ? 1 : 0)) : null;
    const p: AttentionParams = { B, H, Hkv, T, S, D, causal, scale: 1 / Math.sqrt(Math.max(D, 1)), keyMask };
    const nq = B * H * T * D, nkv = B * Hkv * S * D, np = B * H * T * S;
    const q = randn(nq), k = randn(nkv), v = randn(nkv);
    const what = `attention B${B} H${H} Hkv${Hkv} T${T} S${S} D${D} causal${causal}`;
    compare(what, [q, k, v, poisoned(nq), poisoned(np)], (be, [q2, k2, v2, out, probs]) => be.attention(q2, k2, v2, out, probs, p));
    const probs = new Float32Array(np);
    js.attention(q, k, v, new Float32Array(nq), probs, p);
    compare(`${what} backward`, [q, k, v, probs, randn(nq), randn(nq), randn(nkv), randn(nkv)],
      (be, [q2, k2, v2, p2, dout, dq, dk, dv]) => be.attentionBackward(q2, k2, v2, p2, dout, dq, dk, dv, p), 1e-4);
  }
});

test('wasm adamw and delegated kernels', () => {
  for (const n of [0, 1, 3, 17, 129]) {
    compare(`adamw ${n}`, [randn(n), randn(n), randn(n, 0.1), randn(n, 0.01).map(Math.abs)],
      (be, [p, g, m, v]) => be.adamw(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.1, 0.001, 0.5), 1e-5);
    compare(`axpy ${n}`, [randn(n), randn(n)], (be, [x, y]) => be.axpy(0.3, x, y, n));
  }
  const x = randn(10);
  x[7] = Infinity;
  assert.equal(wasm.firstNonFinite(x, 10), 7);
});

test('wasm kernels reject short buffers and bad targets, naming the op', () => {
  const f = (n: number) => new Float32Array(n);
  const gemm = (): void => wasm.gemm({ a: f(5), b: f(6), c: f(6), M: 2, N: 3, K: 3, transA: false, transB: false,
    alpha: 1, beta: 0, batch: 1, strideA: 6, strideB: 9, strideC: 6 });
  assert.throws(gemm, /^EngineError: gemm: A has 5 elements, needs 6/);
  assert.throws(() => wasm.gelu(f(3), f(2), 3), /gelu: y has 2 elements/);
  assert.throws(() => wasm.geluBackward(f(3), f(3), f(1), 3), /geluBackward: dx/);
  assert.throws(() => wasm.layerNorm(f(6), f(2), f(3), f(6), f(2), f(2), 2, 3, 1e-5), /layerNorm: weight/);
  assert.throws(() => wasm.softmax(f(6), f(5), 2, 3), /softmax: y/);
  assert.throws(() => wasm.adamw(f(4), f(4), f(3), f(4), 4, 1, 0.9, 0.99, 1e-8, 0, 1, 1, 1), /adamw: m/);
  const p: AttentionParams = { B: 1, H: 2, Hkv: 1, T: 3, S: 3, D: 4, causal: true, scale: 0.5, keyMask: null };
  assert.throws(() => wasm.attention(f(24), f(12), f(11), f(24), f(18), p), /attention: v/);
  assert.throws(() => wasm.attentionBackward(f(24), f(12), f(12), f(18), f(24), f(24), f(12), f(2), p), /attentionBackward: dv/);
  assert.throws(() => wasm.targetLogprobs(f(6), Int32Array.of(0, 3), f(2), f(2), 2, 3, -100), /targetLogprobs: target 3 at row 1/);
});
