// gemm's fused bias and column sums (a projection's forward bias, and its bias gradient summed while the weight
// gradient packs dY) on every non-js backend and native CPU level: every path of the native driver (few-row register
// tiles, one thread, k split between threads for tall products, threads sharing one packed B, batch items per task,
// overlapping C batches, K = 0), with the pool forced on and off. biasC must give the bits of the same product followed
// by biasAdd (the tiles add it after alpha and beta, one rounding of its own), and a row's bits whatever M is; sumsB
// must match the js reference's float64 column sums, over every batch item and unscaled by alpha.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, GemmParams } from '../backend.ts';
import { assertClose, poisoned, randomBuffer, uniforms } from '../testing/kernel-check.ts';
import { backendsUnderTest } from '../testing/backends-under-test.ts';
import { JsBackend } from './js-backend.ts';
import { nativePoolThresholds, setNativePoolThresholds } from './native-backend.ts';

const js = new JsBackend();
const next = uniforms(23);
const random = (n: number) => randomBuffer(next, n);
type Case = Omit<GemmParams, 'a' | 'b' | 'c'> & { label: string };

const one = (label: string, M: number, N: number, K: number, transA: boolean, transB: boolean, beta = 0): Case =>
  ({ label, M, N, K, transA, transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
const cases: Case[] = [
  one('few rows, B in place', 3, 70, 33, false, false), one('few rows, B transposed', 6, 70, 33, false, true),
  one('few rows, small B tiles', 40, 70, 33, false, false), one('past a sliver, odd sizes', 130, 200, 129, false, false),
  one('transposed B', 130, 200, 129, false, true), one('transposed A (a weight gradient)', 130, 200, 129, true, false, 1),
  one('both transposed', 130, 200, 129, true, true), one('tall K, split over k between threads', 40, 64, 1025, true, false, 1),
  one('tall K past the blocking\'s k panels, beta 1', 96, 130, 1030, true, false, 1),
  one('K past the k panels (the bias on the last one only)', 130, 70, 1100, false, false),
  one('K past the k panels, transposed B', 130, 70, 1100, false, true),
  { label: 'batch items, one per task', M: 64, N: 48, K: 40, transA: true, transB: false, alpha: 1, beta: 0, batch: 4,
    strideA: 64 * 40, strideB: 40 * 48, strideC: 64 * 48 },
  { label: 'three large items, threads sharing each', M: 150, N: 96, K: 70, transA: false, transB: false, alpha: 1, beta: 0,
    batch: 3, strideA: 150 * 70, strideB: 0, strideC: 150 * 96 },
  { label: 'overlapping C (summed items)', M: 60, N: 50, K: 30, transA: true, transB: false, alpha: 1, beta: 1, batch: 3,
    strideA: 60 * 30, strideB: 30 * 50, strideC: 0 },
  { label: 'overlapping C, beta 0 (the last item, the bias once per item)', M: 60, N: 50, K: 30, transA: false,
    transB: false, alpha: 1, beta: 0, batch: 3, strideA: 60 * 30, strideB: 0, strideC: 0 },
  { label: 'alpha and beta off 0 and 1 (bias added after)', M: 130, N: 70, K: 65, transA: false, transB: true, alpha: 0.5,
    beta: 0.25, batch: 1, strideA: 0, strideB: 0, strideC: 0 },
  { label: 'K = 0', M: 5, N: 6, K: 0, transA: false, transB: false, alpha: 1, beta: 0, batch: 2, strideA: 0, strideB: 0, strideC: 30 },
];

function operands(p: Case) {
  const a = random(Math.max(1, (p.batch - 1) * p.strideA + p.M * p.K));
  const b = random(Math.max(1, (p.batch - 1) * p.strideB + p.K * p.N));
  const span = (p.batch - 1) * p.strideC + p.M * p.N;
  return { a, b, c: p.beta === 0 ? poisoned(span) : random(span) };
}

function checkCase(backend: Backend, p: Case, where: string): void {
  const { a, b, c } = operands(p);
  const name = `${p.label} ${where} ${JSON.stringify({ ...p, label: undefined })}`;
  const bias = random(p.N), sums = random(p.N);
  // the same product without them, then biasAdd over every item's rows: the bits biasC must give
  const plain = c.slice();
  backend.gemm({ ...p, a, b, c: plain });
  if (p.strideC === 0 && p.batch > 1) backend.biasAdd(plain, bias, p.M, p.N);   // one C, summed over the items
  else for (let bi = 0; bi < p.batch; bi++) backend.biasAdd(plain.subarray(bi * p.strideC, bi * p.strideC + p.M * p.N), bias, p.M, p.N);
  const got = c.slice(), gotSums = sums.slice();
  backend.gemm({ ...p, a, b, c: got, sumsB: gotSums, biasC: bias });
  // the overlapping case adds the bias once per item into the one C: compare against js rather than biasAdd once
  if (!(p.strideC === 0 && p.batch > 1)) assert.deepEqual(got, plain, `biasC: the product's bits plus the bias, ${name}`);
  const want = c.slice(), wantSums = sums.slice();
  js.gemm({ ...p, a, b, c: want, sumsB: wantSums, biasC: bias });
  assertClose(`C with biasC ${name}`, got, want, 1e-5, 2e-6 * Math.max(p.K, 1));
  assertClose(`sumsB ${name}`, gotSums, wantSums, 1e-5, 1e-6 * Math.max(p.K * p.batch, 1));
}

const nativeThresholds = (() => { try { return nativePoolThresholds(); } catch { return null; } })();
after(() => { if (nativeThresholds) setNativePoolThresholds(nativeThresholds); });

for (const [label, backend] of backendsUnderTest()) {
  const native = label.startsWith('native');
  describe(`gemm's biasC and sumsB on ${label}`, () => {
    const settings: [string, (() => void) | null][] = native && nativeThresholds
      ? [['on one thread', () => setNativePoolThresholds({ general: 2 ** 40, fewRows: 2 ** 40, stream: 2 ** 40 })],
        ['on the pool', () => setNativePoolThresholds({ general: 1, fewRows: 1, stream: 1 })]]
      : [['', null]];
    for (const [where, set] of settings) {
      it(`every path ${where}: the bits of the product plus the bias, js's column sums`, () => {
        set?.();
        try {
          for (const p of cases) checkCase(backend, p, where);
        } finally {
          if (nativeThresholds) setNativePoolThresholds(nativeThresholds);
        }
      });
    }

    it('a row\'s bits with its bias do not depend on how many rows the product has (few-row tiles, small B, packed)', () => {
      const K = 192, N = 576, a = random(300 * K), w = random(K * N), bias = random(N);
      const rows = (M: number) => {
        const c = new Float32Array(M * N);
        backend.gemm({ a, b: w, c, M, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0,
          strideC: 0, biasC: bias });
        return c.subarray(0, 3 * N);
      };
      const packed = rows(300);
      for (const M of [3, 16, 40]) assert.deepEqual(rows(M), packed, `the first 3 rows of ${M} against 300`);
    });

    it('a bias or sums of the wrong length is an error naming it, before anything is written (here and on js)', () => {
      const p = { a: random(6), b: random(6), c: new Float32Array(4), M: 2, N: 2, K: 3, transA: false, transB: false, alpha: 1,
        beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
      for (const b of [backend, js]) {
        assert.throws(() => b.gemm({ ...p, biasC: new Float32Array(1) }), /gemm.*biasC/);
        assert.throws(() => b.gemm({ ...p, sumsB: new Float32Array(1) }), /gemm.*sumsB/);
        // checked before anything is written: the sums of a call refused for its bias are untouched
        const sums = new Float32Array(2), c = p.c.slice();
        assert.throws(() => b.gemm({ ...p, c, sumsB: sums, biasC: new Float32Array(1) }), /gemm.*biasC/);
        assert.deepEqual(sums, new Float32Array(2), `${b.name}: sums written by a refused call`);
        assert.deepEqual(c, p.c, `${b.name}: C written by a refused call`);
      }
    });
  });
}
