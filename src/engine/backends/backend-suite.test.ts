// Shared kernel suite: every non-js backend (and every CPU level of the native one) against the js reference,
// on random shapes including 0, 1, 3, 17, 129 and sizes off the GEMM block sizes; forward outputs poisoned with NaN,
// gradient outputs pre-filled (accumulate semantics). Then bad input: thrown errors naming the op, no crash.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AttentionParams, Backend, GemmParams } from '../backend.ts';
import { availableBackends, loadBackend } from './index.ts';
import { assertClose, poisoned, randomBuffer, uniforms } from '../testing/kernel-check.ts';
import { JsBackend } from './js-backend.ts';
import { backendsUnderTest } from '../testing/backends-under-test.ts';
import { NATIVE_ADDON_PATH, nativeCpuLevels } from './native-backend.ts';

const js = new JsBackend();
const SIZES = [0, 1, 3, 17, 129];

const rand = uniforms(42);
const random = (n: number, scale = 1) => randomBuffer(rand, n, scale);
const poison = poisoned;
const ids = (n: number, V: number) => Int32Array.from({ length: n }, () => Math.floor(((rand() + 1) / 2) * V));
const close = assertClose;

/** Runs `call` on js and on `backend` with identical copies of `arrays`; compares the `outputs` keys. */
function same<T extends Record<string, Float32Array | Int32Array>>(label: string, backend: Backend, arrays: T,
  outputs: (keyof T)[], call: (b: Backend, a: T) => void, rel = 1e-5, abs = 1e-5): void {
  const copy = (): T => Object.fromEntries(Object.entries(arrays).map(([k, v]) => [k, v.slice()])) as T;
  const want = copy(), got = copy();
  call(js, want);
  call(backend, got);
  for (const key of outputs) close(`${label} ${String(key)}`, got[key], want[key], rel, abs);
}

/**
 * Why this checkout should have the native kernels, or null: the addon was built here, or CI / RLAIF_EXPECT_NATIVE=1
 * says so (CI's `npm install` builds it on a fresh clone, and a failed build only prints a notice). RLAIF_EXPECT_NATIVE=0
 * turns the expectation off.
 */
export function nativeExpected(env: NodeJS.ProcessEnv = process.env, addonExists = existsSync(NATIVE_ADDON_PATH)): string | null {
  if (env.RLAIF_EXPECT_NATIVE === '0') return null;
  if (env.RLAIF_EXPECT_NATIVE === '1') return 'RLAIF_EXPECT_NATIVE=1';
  if (env.CI && env.CI !== 'false' && env.CI !== '0') return `CI=${env.CI}`;
  return addonExists ? `${NATIVE_ADDON_PATH} exists` : null;
}

const expected = nativeExpected();
it('the native kernels load where they are expected', { skip: expected ? false : 'not expected here: no addon built, no CI, RLAIF_EXPECT_NATIVE not 1 (or 0)' }, () => {
  assert.ok(availableBackends().includes('native'), `native kernels expected (${expected}) but they do not load: ${
    (() => { try { loadBackend('native'); return 'no error'; } catch (error) { return (error as Error).message; } })()}`);
});

it('native kernels are expected after a build, on CI, or when asked; RLAIF_EXPECT_NATIVE=0 opts out', () => {
  assert.equal(nativeExpected({}, false), null);
  assert.match(nativeExpected({}, true)!, /rlaif_native\.node exists/);
  assert.equal(nativeExpected({ CI: 'true' }, false), 'CI=true');
  assert.equal(nativeExpected({ RLAIF_EXPECT_NATIVE: '1' }, false), 'RLAIF_EXPECT_NATIVE=1');
  assert.equal(nativeExpected({ CI: 'true', RLAIF_EXPECT_NATIVE: '0' }, true), null);
});

const under = backendsUnderTest();

for (const [label, backend] of under) {
  describe(`backend ${label} matches js`, () => {
    it('gemm: transposes, odd and empty sizes, alpha/beta, batch strides incl. broadcast', () => {
      const shapes: [number, number, number][] = [[1, 1, 1], [3, 17, 129], [17, 3, 1], [129, 33, 17], [0, 5, 3],
        [5, 0, 3], [5, 3, 0], [14, 32, 256], [15, 33, 257], [29, 65, 300], [300, 130, 70], [64, 64, 32], [2, 300, 8000]];
      for (const [M, N, K] of shapes) for (const transA of [false, true]) for (const transB of [false, true]) {
        for (const [alpha, beta, batch, mode] of [[1, 0, 1, 0], [0.5, 1, 3, 0], [2, -0.5, 2, 1], [1, 0, 3, 2], [1, 1, 4, 3]]) {
          // mode 0: packed batches; 1: A broadcast (strideA 0) and gaps between C batches; 2: B broadcast;
          // 3: every batch accumulates into one C (strideC 0: must run in order)
          if (K > 1000 && mode > 0) continue; // the long-K case only checks the per-KC-panel path
          const strideA = mode === 1 ? 0 : M * K, strideB = mode === 2 ? 0 : K * N;
          const strideC = mode === 3 ? 0 : M * N + (mode === 1 ? 5 : 0), cLength = (batch - 1) * strideC + M * N + (mode === 1 ? 5 : 0);
          const a = random(Math.max(1, (batch - 1) * strideA + M * K)), b = random(Math.max(1, (batch - 1) * strideB + K * N));
          const c = beta === 0 ? poison(cLength) : random(cLength);
          if (mode === 1) for (let bi = 0; bi < batch; bi++) for (let g = 0; g < 5; g++) c[bi * strideC + M * N + g] = 7;
          const p = { M, N, K, transA, transB, alpha, beta, batch, strideA, strideB, strideC };
          same(`gemm ${JSON.stringify(p)}`, backend, { a, b, c }, ['c'],
            (be, x) => be.gemm({ ...p, a: x.a, b: x.b, c: x.c } as GemmParams), 1e-5, 1e-5 * Math.max(1, K));
        }
      }
    });

    it('gemm: tall products with transposed A (weight gradients), split over k between threads and summed', () => {
      // K at least 4 M with A transposed (native gemm.c's tall path on two or more threads); K odd and off every block
      for (const [M, N, K] of [[64, 300, 2001], [14, 33, 4099], [130, 129, 1024]] as [number, number, number][]) {
        for (const transB of [false, true]) for (const [alpha, beta] of [[1, 0], [0.5, 1], [2, -0.5]]) {
          const a = random(M * K), b = random(K * N), c = beta === 0 ? poison(M * N) : random(M * N);
          const p = { M, N, K, transA: true, transB, alpha, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
          same(`gemm ${JSON.stringify(p)}`, backend, { a, b, c }, ['c'], (be, x) => be.gemm({ ...p, a: x.a, b: x.b, c: x.c }), 1e-5, 1e-5 * K);
        }
      }
    });

    it('elementwise: gelu, silu (+ backward), add, axpy, biasAdd, sumRowsInto', () => {
      for (const n of [...SIZES, 5000, 100003]) {
        const x = random(n, 6);
        if (n > 10) { x[0] = 40; x[1] = -40; x[2] = 100; x[3] = -100; }
        const dy = random(n), dx = random(n);
        same(`gelu n=${n}`, backend, { x, y: poison(n) }, ['y'], (be, a) => be.gelu(a.x, a.y, n));
        same(`silu n=${n}`, backend, { x, y: poison(n) }, ['y'], (be, a) => be.silu(a.x, a.y, n));
        same(`geluBackward n=${n}`, backend, { x, dy, dx }, ['dx'], (be, a) => be.geluBackward(a.x, a.dy, a.dx, n));
        same(`siluBackward n=${n}`, backend, { x, dy, dx }, ['dx'], (be, a) => be.siluBackward(a.x, a.dy, a.dx, n));
        // overwrite mode: dx is poisoned, so an element read or left unwritten shows up as NaN
        same(`geluBackward overwrite n=${n}`, backend, { x, dy, dx: poison(n) }, ['dx'], (be, a) => be.geluBackward(a.x, a.dy, a.dx, n, false));
        same(`siluBackward overwrite n=${n}`, backend, { x, dy, dx: poison(n) }, ['dx'], (be, a) => be.siluBackward(a.x, a.dy, a.dx, n, false));
        same(`add n=${n}`, backend, { x, dy, y: poison(n) }, ['y'], (be, a) => be.add(a.x, a.dy, a.y, n));
        same(`axpy n=${n}`, backend, { x, dx }, ['dx'], (be, a) => be.axpy(-0.75, a.x, a.dx, n));
      }
      for (const rows of [...SIZES, 1000]) for (const cols of SIZES) {
        const x = random(rows * cols), bias = random(cols), out = random(cols);
        same(`biasAdd ${rows}x${cols}`, backend, { x, bias }, ['x'], (be, a) => be.biasAdd(a.x, a.bias, rows, cols));
        same(`sumRowsInto ${rows}x${cols}`, backend, { x, out }, ['out'],
          (be, a) => be.sumRowsInto(a.x, a.out, rows, cols), 1e-5, 1e-5 * Math.max(1, Math.sqrt(rows)));
      }
    });

    it('layerNorm and rmsNorm, forward and backward', () => {
      for (const rows of [...SIZES, 600]) for (const cols of [1, 3, 17, 129, 256]) {
        const n = rows * cols, x = random(n, 3), w = random(cols), b = random(cols), dy = random(n);
        same(`layerNorm ${rows}x${cols}`, backend, { x, w, b, y: poison(n), mean: poison(rows), rstd: poison(rows) },
          ['y', 'mean', 'rstd'], (be, a) => be.layerNorm(a.x, a.w, a.b, a.y, a.mean, a.rstd, rows, cols, 1e-5), 1e-4, 1e-5);
        const mean = new Float32Array(rows), rstd = new Float32Array(rows);
        js.layerNorm(x, w, b, new Float32Array(n), mean, rstd, rows, cols, 1e-5);
        same(`layerNormBackward ${rows}x${cols}`, backend,
          { dy, x, w, mean, rstd, dx: random(n), dw: random(cols), db: random(cols) }, ['dx', 'dw', 'db'],
          (be, a) => be.layerNormBackward(a.dy, a.x, a.w, a.mean, a.rstd, a.dx, a.dw, a.db, rows, cols), 1e-4, 1e-4);
        same(`rmsNorm ${rows}x${cols}`, backend, { x, w, y: poison(n), rstd: poison(rows) }, ['y', 'rstd'],
          (be, a) => be.rmsNorm(a.x, a.w, a.y, a.rstd, rows, cols, 1e-6), 1e-4, 1e-5);
        js.rmsNorm(x, w, new Float32Array(n), rstd, rows, cols, 1e-6);
        same(`rmsNormBackward ${rows}x${cols}`, backend, { dy, x, w, rstd, dx: random(n), dw: random(cols) },
          ['dx', 'dw'], (be, a) => be.rmsNormBackward(a.dy, a.x, a.w, a.rstd, a.dx, a.dw, rows, cols), 1e-4, 1e-4);
      }
    });

    it('softmax, logSoftmax, targetLogprobs, entropy: forward and backward', () => {
      for (const rows of [...SIZES, 300]) for (const cols of [1, 3, 17, 129, 1000]) {
        const n = rows * cols, x = random(n, 8), dy = random(n);
        if (n > 4 && cols > 1) { x[1] = -Infinity; x[n - 1] = -Infinity; }
        same(`softmax ${rows}x${cols}`, backend, { x, y: poison(n) }, ['y'], (be, a) => be.softmax(a.x, a.y, rows, cols));
        same(`logSoftmax ${rows}x${cols}`, backend, { x, y: poison(n) }, ['y'],
          (be, a) => be.logSoftmax(a.x, a.y, rows, cols));
        const y = new Float32Array(n), ly = new Float32Array(n);
        js.softmax(x, y, rows, cols); js.logSoftmax(x, ly, rows, cols);
        same(`softmaxBackward ${rows}x${cols}`, backend, { y, dy, dx: random(n) }, ['dx'],
          (be, a) => be.softmaxBackward(a.y, a.dy, a.dx, rows, cols));
        same(`logSoftmaxBackward ${rows}x${cols}`, backend, { y: ly, dy, dx: random(n) }, ['dx'],
          (be, a) => be.logSoftmaxBackward(a.y, a.dy, a.dx, rows, cols), 1e-5, 1e-4);
        const z = random(n, 8), t = ids(rows, cols), g = random(rows);
        if (rows > 2) { t[1] = -100; g[2] = 0; }
        same(`targetLogprobs ${rows}x${cols}`, backend, { z, t, out: poison(rows), lse: poison(rows) }, ['out', 'lse'],
          (be, a) => be.targetLogprobs(a.z, a.t as Int32Array, a.out, a.lse, rows, cols, -100));
        const lse = new Float32Array(rows), h = new Float32Array(rows);
        js.targetLogprobs(z, t, new Float32Array(rows), lse, rows, cols, -100);
        same(`targetLogprobsBackward ${rows}x${cols}`, backend, { z, t, lse, g, d: random(n) }, ['d'],
          (be, a) => be.targetLogprobsBackward(a.z, a.t as Int32Array, a.lse, a.g, a.d, rows, cols, -100));
        same(`entropy ${rows}x${cols}`, backend, { z, out: poison(rows), lse: poison(rows) }, ['out', 'lse'],
          (be, a) => be.entropy(a.z, a.out, a.lse, rows, cols), 1e-5, 1e-4);
        js.entropy(z, h, lse, rows, cols);
        same(`entropyBackward ${rows}x${cols}`, backend, { z, lse, h, g, d: random(n) }, ['d'],
          (be, a) => be.entropyBackward(a.z, a.lse, a.h, a.g, a.d, rows, cols), 1e-5, 1e-5);
      }
    });

    it('attention forward and backward: GQA, causal offset, key mask, empty', () => {
      const cases: [number, number, number, number, number, number, boolean, boolean][] = [
        [1, 1, 1, 1, 1, 1, true, false], [2, 4, 2, 17, 17, 8, true, false], [2, 4, 1, 5, 9, 3, true, true],
        [1, 2, 2, 3, 7, 16, false, true], [2, 4, 4, 64, 64, 32, true, false], [1, 3, 1, 0, 4, 4, true, false],
        [3, 2, 1, 129, 129, 17, true, true], [1, 2, 1, 0, 0, 5, false, false],
        // register-tiled native path (D a multiple of 16, more than 4 queries): row/key tails, causal offset, GQA
        [2, 4, 2, 21, 37, 16, true, true], [1, 2, 1, 33, 70, 64, false, false], [2, 2, 1, 9, 9, 48, true, false],
        [1, 1, 1, 13, 19, 32, false, true], [1, 2, 2, 40, 40, 32, true, true]];
      for (const [B, H, Hkv, T, S, D, causal, masked] of cases) {
        let keyMask: Float32Array | null = null;
        if (masked) {
          keyMask = Float32Array.from({ length: B * S }, () => (rand() > -0.6 ? 1 : 0));
          for (let j = 0; j < S; j++) keyMask[j] = j < 2 ? 0 : keyMask[j]; // early queries of batch 0 see no key
          if (B > 1) for (let j = 0; j < S; j++) keyMask[S + j] = 0;      // batch 1 fully padded
        }
        const p: AttentionParams = { B, H, Hkv, T, S, D, causal, scale: 1 / Math.sqrt(Math.max(1, D)), keyMask };
        const nq = B * H * T * D, nk = B * Hkv * S * D, np = B * H * T * S;
        const q = random(nq, 2), k = random(nk, 2), v = random(nk), dout = random(nq);
        const label = `attention ${JSON.stringify({ ...p, keyMask: masked })}`;
        same(label, backend, { q, k, v, out: poison(nq), probs: poison(np) }, ['out', 'probs'],
          (be, a) => be.attention(a.q, a.k, a.v, a.out, a.probs, p), 1e-5, 1e-5);
        const probs = new Float32Array(np);
        js.attention(q, k, v, new Float32Array(nq), probs, p);
        same(`${label} backward`, backend, { q, k, v, probs, dout, dq: random(nq), dk: random(nk), dv: random(nk) },
          ['dq', 'dk', 'dv'], (be, a) => be.attentionBackward(a.q, a.k, a.v, a.probs, a.dout, a.dq, a.dk, a.dv, p),
          1e-5, 1e-4);
      }
    });

    it('attention of a decode step over a KV cache: left padding, unwritten capacity masked, a few queries', () => {
      // native decode path: T <= 4, D a multiple of 16 up to 128 (144 falls back); rows with different spans
      const cases: [number, number, number, number, number, number, boolean][] = [
        [4, 4, 2, 1, 40, 32, false], [2, 2, 1, 4, 23, 16, true], [1, 2, 1, 1, 9, 128, false], [2, 1, 1, 2, 12, 144, true],
        [3, 4, 4, 1, 70, 64, false], [1, 1, 1, 3, 3, 32, true]];
      for (const [B, H, Hkv, T, S, D, causal] of cases) {
        const keyMask = new Float32Array(B * S);                           // (B, S) row b: padding, real keys, unwritten
        for (let b = 0; b < B; b++) {
          const written = S - ((b * 7) % Math.max(1, S - T)), padding = Math.min(written - 1, (b * 3) % 5);
          for (let j = padding; j < written; j++) keyMask[b * S + j] = 1;
        }
        const p: AttentionParams = { B, H, Hkv, T, S, D, causal, scale: 1 / Math.sqrt(D), keyMask };
        const nq = B * H * T * D, nk = B * Hkv * S * D, np = B * H * T * S;
        same(`decode attention ${JSON.stringify({ B, H, Hkv, T, S, D, causal })}`, backend,
          { q: random(nq, 2), k: random(nk, 2), v: random(nk), out: poison(nq), probs: poison(np) }, ['out', 'probs'],
          (be, a) => be.attention(a.q, a.k, a.v, a.out, a.probs, p), 1e-5, 1e-5);
      }
    });

    it('attention of a decode step scores a key the same whether it falls in a whole block of keys or in the tail', () => {
      // The native decode path scores whole blocks of keys (8 on AVX2, 16 on AVX-512) through one fold of their lane
      // sums, the last keys one at a time; both must add each key's lanes in the same order. A key repeated, once in the
      // first block and once among the last three of 35, gets the same score, so the same probability, bit for bit.
      const own = uniforms(11), draw = (n: number, scale = 1) => randomBuffer(own, n, scale);
      for (const D of [32, 64]) {
        for (let trial = 0; trial < 6; trial++) {
          const n = 35, q = draw(D, 2), k = draw(n * D, 2), v = draw(n * D), probs = poison(n);
          for (const [copy, of] of [[n - 1, 5], [n - 3, 12]] as const) k.copyWithin(copy * D, of * D, (of + 1) * D);
          backend.attention(q, k, v, poison(D), probs, { B: 1, H: 1, Hkv: 1, T: 1, S: n, D, causal: true, scale: 1 / Math.sqrt(D), keyMask: null });
          assert.equal(probs[n - 1], probs[5], `D ${D} trial ${trial}: key 5 and its copy at ${n - 1}`);
          assert.equal(probs[n - 3], probs[12], `D ${D} trial ${trial}: key 12 and its copy at ${n - 3}`);
        }
      }
    });

    it('attention of a decode step gives each head the bits of the head alone, with masked keys among the real ones', () => {
      // The native decode path takes up to 4 heads of a batch row in one task and runs their weighted sums side by side
      // (2 or 4 at once, by D and the vector width), skipping keys of probability 0 block by block. Each head, with its
      // key-value head, must come out as it does alone; masked keys inside the span (probability 0) take the slow path.
      const own = uniforms(13), draw = (n: number, scale = 1) => randomBuffer(own, n, scale);   // not the suite's stream
      for (const [B, H, Hkv, D, S] of [[2, 5, 5, 32, 45], [2, 6, 2, 16, 40], [1, 4, 4, 64, 70], [3, 7, 7, 32, 20]] as const) {
        const keyMask = new Float32Array(B * S);
        for (let b = 0; b < B; b++) {
          keyMask.fill(1, b * S + b % 3, b * S + S - b);                  // padding, real keys, unwritten
          for (const hole of [9, 10, 17 + b]) keyMask[b * S + hole] = 0;   // masked keys among the real ones
        }
        const q = draw(B * H * D, 2), k = draw(B * Hkv * S * D, 2), v = draw(B * Hkv * S * D);
        const p: AttentionParams = { B, H, Hkv, T: 1, S, D, causal: true, scale: 1 / Math.sqrt(D), keyMask };
        const out = poison(B * H * D), probs = poison(B * H * S);
        backend.attention(q, k, v, out, probs, p);
        for (let b = 0; b < B; b++) {
          for (let h = 0; h < H; h++) {
            const g = b * Hkv + Math.floor(h / (H / Hkv)), alone = poison(D), aloneProbs = poison(S);
            backend.attention(q.slice((b * H + h) * D, (b * H + h + 1) * D), k.slice(g * S * D, (g + 1) * S * D), v.slice(g * S * D, (g + 1) * S * D),
              alone, aloneProbs, { ...p, B: 1, H: 1, Hkv: 1, keyMask: keyMask.slice(b * S, (b + 1) * S) });
            const label = `${JSON.stringify({ B, H, Hkv, D, S })} row ${b} head ${h}`;
            assert.deepEqual(Array.from(out.subarray((b * H + h) * D, (b * H + h + 1) * D)), Array.from(alone), `${label}: out`);
            assert.deepEqual(Array.from(probs.subarray((b * H + h) * S, (b * H + h + 1) * S)), Array.from(aloneProbs), `${label}: probs`);
          }
        }
      }
    });

    it('attention of a decode step does not depend on the left padding before a row: bit for bit', () => {
      // A batch engine keeps a row's keys wherever its batch put them (KvCache.keepRows): the same keys after 0..40
      // padded positions must give the same bits, or a request's sampled tokens would depend on its batch-mates.
      // Several draws (one let wasm's sums pass by luck when they started at position 0), and 300 keys: past the wasm
      // GEMM's 256-deep k blocks.
      const own = uniforms(5), draw = (n: number, scale = 1) => randomBuffer(own, n, scale);   // not the suite's stream
      for (const [D, n] of [[32, 37], [64, 37], [32, 37], [64, 37], [32, 37], [16, 300]] as const) {
        const H = 2, q = draw(H * D, 2), keys = draw(H * n * D, 2), values = draw(H * n * D);
        let reference: Float32Array | null = null;
        for (const padding of [0, 1, 5, 16, 23, 40]) {
          const S = padding + n + 9, k = new Float32Array(H * S * D), v = new Float32Array(H * S * D), keyMask = new Float32Array(S);
          for (let h = 0; h < H; h++) {
            k.set(keys.subarray(h * n * D, (h + 1) * n * D), (h * S + padding) * D);
            v.set(values.subarray(h * n * D, (h + 1) * n * D), (h * S + padding) * D);
          }
          keyMask.fill(1, padding, padding + n);                            // padding, n real keys, unwritten capacity
          const out = poison(H * D);
          backend.attention(q, k, v, out, poison(H * S), { B: 1, H, Hkv: H, T: 1, S, D, causal: true, scale: 1 / Math.sqrt(D), keyMask });
          if (!reference) reference = out;
          else assert.deepEqual(Array.from(out), Array.from(reference), `D ${D}, ${n} keys: ${padding} positions of padding change the output`);
        }
      }
    });

    it('attention of a batched decode step past half an L2 of keys and values: each row alone\'s bits, and js\'s values', () => {
      // The native decode path prefetches keys and values when a call's cache outgrows 512 KiB (16 rows here, 2.5 MB);
      // one row alone stays below it. The batch must give each row's bits as computed alone.
      for (const [T, D] of [[1, 32], [3, 64]] as const) {
        const B = 16, H = 4, Hkv = 2, S = 310, scale = 1 / Math.sqrt(D);
        const keyMask = new Float32Array(B * S);
        for (let b = 0; b < B; b++) keyMask.fill(1, (b * 5) % 23, S - ((b * 37) % 90));   // padding, keys, unwritten
        const q = random(B * H * T * D, 2), k = random(B * Hkv * S * D, 2), v = random(B * Hkv * S * D);
        const p: AttentionParams = { B, H, Hkv, T, S, D, causal: true, scale, keyMask };
        const out = poison(B * H * T * D);
        backend.attention(q, k, v, out, poison(B * H * T * S), p);
        for (let b = 0; b < B; b++) {
          const row = (x: Float32Array, n: number) => x.slice(b * n, (b + 1) * n);
          const alone = poison(H * T * D);
          backend.attention(row(q, H * T * D), row(k, Hkv * S * D), row(v, Hkv * S * D), alone, poison(H * T * S),
            { ...p, B: 1, keyMask: row(keyMask, S) });
          assert.deepEqual(Array.from(row(out, H * T * D)), Array.from(alone), `T ${T}, D ${D}: row ${b} in its batch differs from the row alone`);
        }
        same(`batched decode attention ${JSON.stringify({ B, H, Hkv, T, S, D })}`, backend,
          { q, k, v, out: poison(B * H * T * D), probs: poison(B * H * T * S) }, ['out', 'probs'],
          (be, a) => be.attention(a.q, a.k, a.v, a.out, a.probs, p), 1e-5, 1e-5);
      }
    });

    it('attention over the first S positions of rows of keyCapacity (a KV cache read in place): the compacted rows\' bits', () => {
      // A prefix chunk of T queries over a cache of capacity L: the same bits as the first S positions copied out, on
      // every path (tiled T > 4, decode T <= 4, the plain one for D off 16), with left padding in the mask.
      const cases: [number, number, number, number, number, number, number][] = [
        [1, 2, 2, 32, 96, 161, 32], [2, 4, 2, 21, 37, 64, 16], [2, 2, 1, 3, 20, 33, 32], [1, 3, 3, 7, 12, 40, 5], [1, 1, 1, 1, 1, 9, 16]];
      const own = uniforms(7), draw = (n: number, scale = 1) => randomBuffer(own, n, scale);   // not the suite's stream
      for (const [B, H, Hkv, T, S, L, D] of cases) {
        const k = draw(B * Hkv * L * D, 2), v = draw(B * Hkv * L * D), q = draw(B * H * T * D, 2);
        const keyMask = new Float32Array(B * L);                            // (B, L): padding, written, unwritten
        for (let b = 0; b < B; b++) keyMask.fill(1, b * L + (b * 3) % Math.max(1, S - T), b * L + S);
        const ck = new Float32Array(B * Hkv * S * D), cv = new Float32Array(B * Hkv * S * D), cm = new Float32Array(B * S);
        for (let r = 0; r < B * Hkv; r++) { ck.set(k.subarray(r * L * D, (r * L + S) * D), r * S * D); cv.set(v.subarray(r * L * D, (r * L + S) * D), r * S * D); }
        for (let b = 0; b < B; b++) cm.set(keyMask.subarray(b * L, b * L + S), b * S);
        const p: AttentionParams = { B, H, Hkv, T, S, D, causal: true, scale: 1 / Math.sqrt(D), keyMask: cm };
        const want = poison(B * H * T * D), wantProbs = poison(B * H * T * S), got = poison(B * H * T * D), gotProbs = poison(B * H * T * S);
        backend.attention(q, ck, cv, want, wantProbs, p);
        backend.attention(q, k, v, got, gotProbs, { ...p, keyMask, keyCapacity: L });
        const label = JSON.stringify({ B, H, Hkv, T, S, L, D });
        assert.deepEqual(Array.from(got), Array.from(want), `${label}: out`);
        assert.deepEqual(Array.from(gotProbs), Array.from(wantProbs), `${label}: probs`);
      }
      const f = new Float32Array(64), expectThrow = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, pattern);
      const p: AttentionParams = { B: 1, H: 1, Hkv: 1, T: 2, S: 4, D: 2, causal: true, scale: 1, keyMask: null };
      expectThrow(() => backend.attention(f, f, f, f, f, { ...p, keyCapacity: 3 }), /attention.*capacity 3.*S=4/);
      expectThrow(() => backend.attentionBackward(f, f, f, f, f, f, f, f, { ...p, keyCapacity: 8 }), /attentionBackward.*capacity 8/);
    });

    it('attention token-major (a fused projection\'s rows read in place): the head-major layout\'s bits, forward and backward', () => {
      // [B, H, Hkv, T, D, causal, masked, extra columns]: the tiled path (T > 4, D a multiple of 16), the decode one
      // (T <= 4), the plain one (D off 16); GQA; q, k and v at shuffled column offsets with spare columns between
      const cases: [number, number, number, number, number, boolean, boolean, number][] = [
        [2, 4, 2, 21, 16, true, true, 3], [1, 2, 2, 40, 32, true, false, 0], [2, 2, 1, 3, 32, true, true, 1],
        [2, 3, 1, 9, 5, true, false, 2], [1, 1, 1, 1, 16, false, false, 0], [1, 2, 1, 17, 48, false, true, 5], [1, 2, 2, 0, 16, true, false, 0],
        [2, 4, 2, 1, 32, true, false, 1], [1, 5, 5, 1, 16, false, false, 2]];   // one query, heads taken several at a time
      const own = uniforms(9), draw = (n: number, scale = 1) => randomBuffer(own, n, scale);   // not the suite's stream
      for (const [B, H, Hkv, T, D, causal, masked, extra] of cases) {
        const W = (H + 2 * Hkv) * D + 2 * extra, t = { W, v: extra, q: extra + Hkv * D, k: W - Hkv * D };  // v, q, spare, k
        const keyMask = masked ? Float32Array.from({ length: B * T }, (_, j) => (j % T === 1 ? 0 : 1)) : null;
        const p: AttentionParams = { B, H, Hkv, T, S: T, D, causal, scale: 1 / Math.sqrt(D), keyMask };
        const qkv = draw(B * T * W, 2), dout = draw(B * T * H * D), label = JSON.stringify({ B, H, Hkv, T, D, causal, masked, extra });
        const split = (offset: number, heads: number, from = qkv, width = W) => {
          const out = new Float32Array(B * heads * T * D);
          js.headsLayout(from, out, B, T, heads, D, width, offset, true, false);
          return out;
        };
        const q = split(t.q, H), k = split(t.k, Hkv), v = split(t.v, Hkv);
        // head-major on this backend, merged by the js reference's copy, against token-major on this backend: the same bits
        const outHeads = poison(B * H * T * D), probsHeads = poison(B * H * T * T);
        backend.attention(q, k, v, outHeads, probsHeads, p);
        const want = new Float32Array(B * T * H * D);
        js.headsLayout(outHeads, want, B, T, H, D, H * D, 0, false, false);
        const got = poison(B * T * H * D), gotProbs = poison(B * H * T * T);
        backend.attention(qkv, qkv, qkv, got, gotProbs, { ...p, tokenMajor: t });
        assert.deepEqual(Array.from(got), Array.from(want), `${label}: out`);
        assert.deepEqual(Array.from(gotProbs), Array.from(probsHeads), `${label}: probs`);
        const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);
        backend.attentionBackward(q, k, v, probsHeads, split(0, H, dout, H * D), dq, dk, dv, p);
        const wantGrad = new Float32Array(B * T * W);
        js.headsLayout(dq, wantGrad, B, T, H, D, W, t.q, false, true);
        js.headsLayout(dk, wantGrad, B, T, Hkv, D, W, t.k, false, true);
        js.headsLayout(dv, wantGrad, B, T, Hkv, D, W, t.v, false, true);
        const grad = new Float32Array(B * T * W);
        backend.attentionBackward(qkv, qkv, qkv, gotProbs, dout, grad, grad, grad, { ...p, tokenMajor: t });
        assert.deepEqual(Array.from(grad), Array.from(wantGrad), `${label}: the gradient`);
        // and the js reference's own token-major path, with the gradient accumulated onto what was there
        same(`token-major attention ${label}`, backend, { qkv, out: poison(B * T * H * D), probs: poison(B * H * T * T) }, ['out', 'probs'],
          (be, a) => be.attention(a.qkv, a.qkv, a.qkv, a.out, a.probs, { ...p, tokenMajor: t }), 1e-5, 1e-5);
        same(`token-major attention ${label} backward`, backend, { qkv, probs: probsHeads, dout, grad: draw(B * T * W) }, ['grad'],
          (be, a) => be.attentionBackward(a.qkv, a.qkv, a.qkv, a.probs, a.dout, a.grad, a.grad, a.grad, { ...p, tokenMajor: t }), 1e-5, 1e-4);
      }
      const f = new Float32Array(256), expectThrow = (fn: () => unknown, pattern: RegExp) => assert.throws(fn, pattern);
      const p: AttentionParams = { B: 1, H: 2, Hkv: 2, T: 4, S: 4, D: 4, causal: true, scale: 1, keyMask: null, tokenMajor: { W: 24, q: 0, k: 8, v: 16 } };
      expectThrow(() => backend.attention(f, f, f, f, f, { ...p, tokenMajor: { W: 24, q: 0, k: 8, v: 17 } }), /attention.*v.*\[17, 25\).*W=24/);
      expectThrow(() => backend.attention(f, f, f, f, f, { ...p, S: 6, keyCapacity: 8 }), /attention.*capacity 8/);
      expectThrow(() => backend.attention(f.subarray(0, 95), f, f, f, f, p), /attention.*q/);
      expectThrow(() => backend.attentionBackward(f, f, f, f, f, f.subarray(0, 95), f, f, p), /attentionBackward.*dq/);
    });

    it('headsLayout: split a column block into heads and merge back, overwrite and accumulate', () => {
      for (const [B, T, H, D, extra] of [[1, 1, 1, 1, 0], [2, 3, 4, 17, 5], [3, 17, 2, 3, 129], [0, 3, 2, 2, 1], [2, 0, 2, 2, 0], [8, 64, 4, 40, 3]]) {
        for (const offset of [0, extra]) {
          const W = offset + H * D + extra, tokenMajor = B * T * W, headMajor = B * H * T * D;
          for (const toHeads of [true, false]) for (const accumulate of [false, true]) {
            const src = random(toHeads ? tokenMajor : headMajor);
            const dst = toHeads ? (accumulate ? random(headMajor) : poison(headMajor)) : random(tokenMajor);
            same(`headsLayout ${[B, T, H, D, W, offset]} toHeads=${toHeads} accumulate=${accumulate}`, backend, { src, dst },
              ['dst'], (be, a) => be.headsLayout(a.src, a.dst, B, T, H, D, W, offset, toHeads, accumulate));
          }
        }
      }
      assert.throws(() => backend.headsLayout(new Float32Array(8), new Float32Array(8), 1, 2, 2, 2, 3, 0, true, false), /headsLayout.*outside width 3/);
      assert.throws(() => backend.headsLayout(new Float32Array(7), new Float32Array(8), 1, 2, 2, 2, 4, 0, true, false), /headsLayout.*src/);
    });

    it('embedding gather / scatter-add, adamw, sumSquares, firstNonFinite', () => {
      for (const n of SIZES) for (const D of [1, 3, 17, 129]) {
        const V = 11, table = random(V * D), id = ids(n, V);
        same(`embedding n=${n} D=${D}`, backend, { table, id, out: poison(n * D) }, ['out'],
          (be, a) => be.embedding(a.table, a.id as Int32Array, a.out, n, D, V));
        same(`embeddingBackward n=${n} D=${D}`, backend, { d: random(n * D), id, dt: random(V * D) }, ['dt'],
          (be, a) => be.embeddingBackward(a.d, a.id as Int32Array, a.dt, n, D, V));
      }
      for (const n of [...SIZES, 70001]) {
        same(`adamw n=${n}`, backend, { p: random(n), g: random(n), m: random(n, 0.1), v: random(n, 0.01).map(Math.abs) },
          ['p', 'm', 'v'], (be, a) => be.adamw(a.p, a.g, a.m, a.v, n, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.19, 0.002, 0.5),
          1e-5, 1e-6);
        const x = random(n, 10);
        const want = js.sumSquares(x, n), got = backend.sumSquares(x, n);
        assert.ok(Math.abs(got - want) <= 1e-9 * Math.abs(want), `sumSquares n=${n}: ${got} vs ${want}`);
        assert.equal(backend.firstNonFinite(x, n), -1, `firstNonFinite clean n=${n}`);
        for (const bad of [NaN, Infinity, -Infinity]) {
          if (n === 0) continue;
          const y = x.slice(), at = Math.floor(n * 0.7);
          y[at] = bad; if (at + 1 < n) y[n - 1] = NaN;
          assert.equal(backend.firstNonFinite(y, n), at, `firstNonFinite ${bad} at ${at} of ${n}`);
        }
      }
    });

    it('bad input throws an error naming the op and the sizes; the process survives', () => {
      const f = new Float32Array(8), expectThrow = (fn: () => unknown, pattern: RegExp) =>
        assert.throws(fn, (e: unknown) => e instanceof Error && pattern.test(e.message), String(pattern));
      const g = { a: f, b: f, c: new Float32Array(3), M: 2, N: 2, K: 2, transA: false, transB: false, alpha: 1, beta: 0,
        batch: 1, strideA: 4, strideB: 4, strideC: 4 };
      expectThrow(() => backend.gemm(g), /gemm.*C has 3 elements, needs 4/);
      expectThrow(() => backend.gemm({ ...g, c: f, batch: 3 }), /gemm.*A has 8 elements, needs 12/);
      expectThrow(() => backend.gemm({ ...g, c: f, M: 1.5 }), /gemm.*M/);
      expectThrow(() => backend.gelu(f, f, 9), /gelu.*9/);
      expectThrow(() => backend.gelu([1, 2] as unknown as Float32Array, f, 2), /gelu/);
      expectThrow(() => backend.add(new Float64Array(4) as unknown as Float32Array, f, f, 4), /add/);
      expectThrow(() => backend.softmax(f, f, -1, 2), /softmax/);
      expectThrow(() => backend.layerNorm(f, f, f, f, f, new Float32Array(1), 2, 4, 1e-5), /layerNorm.*rstd/);
      expectThrow(() => backend.embedding(f, Int32Array.of(0, 1, 7), f, 3, 2, 4), /embedding.*7.*position 2/);
      expectThrow(() => backend.embeddingBackward(f, Int32Array.of(-1), f, 1, 2, 4), /embeddingBackward.*-1.*position 0/);
      expectThrow(() => backend.targetLogprobs(f, Int32Array.of(0, 9), f, f, 2, 4, -100), /targetLogprobs.*9.*row 1/);
      expectThrow(() => backend.embedding(f, new Float32Array(2) as unknown as Int32Array, f, 2, 2, 4), /embedding/);
      const p: AttentionParams = { B: 1, H: 3, Hkv: 2, T: 1, S: 1, D: 1, causal: true, scale: 1, keyMask: null };
      expectThrow(() => backend.attention(f, f, f, f, f, p), /attention.*3.*2/);
      expectThrow(() => backend.attention(f, f, f, f, f, { ...p, H: 2, T: 4, S: 4, D: 4 }), /attention.*q/);
      expectThrow(() => backend.adamw(f, f, f, new Float32Array(2), 8, 1, 1, 1, 1, 1, 1, 1, 1), /adamw.*v/);
      assert.equal(backend.sumSquares(f, 8), 0);
    });
  });
}

if (under.some(([label]) => label === 'native')) {
  describe('native CPU level selection', () => {
    for (const level of nativeCpuLevels().filter((l) => l !== 'avx512')) {
      it(`RLAIF_CPU=${level} picks the ${level} kernels`, () => {
        const code = `import('./src/engine/backends/native-backend.ts').then((m) => {
          const b = m.createNativeBackend(); const c = new Float32Array(4);
          b.gemm({ a: Float32Array.of(1, 2, 3, 4), b: Float32Array.of(1, 0, 0, 1), c, M: 2, N: 2, K: 2, transA: false,
            transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
          console.log(b.cpu, Array.from(c).join(',')); })`;
        const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', code],
          { env: { ...process.env, RLAIF_CPU: level }, encoding: 'utf8' });
        assert.equal(out.stdout.trim(), `${level} 1,2,3,4`, out.stderr);
      });
    }
    it('RLAIF_CPU naming an unknown level is an error', () => {
      const out = spawnSync(process.execPath, ['--import', 'tsx', '-e',
        `import('./src/engine/backends/native-backend.ts').then((m) => m.createNativeBackend())`],
      { env: { ...process.env, RLAIF_CPU: 'sse9' }, encoding: 'utf8' });
      assert.notEqual(out.status, 0);
      assert.match(out.stderr, /RLAIF_CPU must be avx512, avx2 or generic/);
    });
  });
}
