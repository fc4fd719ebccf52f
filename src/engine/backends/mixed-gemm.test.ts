// gemmMixed (mixed-precision training's products: operands rounded to bf16, float32 sums) of every non-js backend
// and native CPU level against the js reference (rounded copies, float64 sums): every transpose (the packers' unit-
// stride paths for both layouts of each operand), beta 0 and 1 (C poisoned / accumulated), alpha and beta off 0 and 1,
// batches, odd shapes (rows off the 14-row slivers, columns off 32, K odd and past the 512-deep k blocks), threaded and
// not; on vdpbf16ps where the CPU has it and on the plain path forced; with sumsB (op(B)'s column sums, fused into the
// packing of B on every path) and biasC (fused into the tiles' stores) and without. Also: the operands really are rounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GemmParams } from '../backend.ts';
import { assertClose, poisoned, randomBuffer, uniforms } from '../testing/kernel-check.ts';
import { backendsUnderTest } from '../testing/backends-under-test.ts';
import { JsBackend } from './js-backend.ts';

const js = new JsBackend();
const next = uniforms(11);
const random = (n: number) => randomBuffer(next, n);

for (const [label, backend] of backendsUnderTest({ plainBf16: true })) {
  describe(`gemmMixed of ${label} matches the js reference`, () => {
    it('every transpose, beta 0 / 1, odd shapes, one thread and the pool', () => {
      // [M, N, K]: the last four have M N K >= 2^21 (gemm.c's mt_min_macs by default), so they run on the pool; K >= 1024
      // (two 512-deep k blocks) and >= M, N (20 40 1100 on one thread, 96 130 1030 and 40 64 1025 split by k blocks:
      // gemm.c's tall path); 29 70 513 ends in a one-deep block
      const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [14, 32, 2], [15, 33, 257], [29, 70, 513], [20, 40, 1100],
        [40, 95, 300], [0, 3, 4], [2, 0, 4], [130, 200, 129], [1024, 128, 96], [96, 130, 1030], [40, 64, 1025]];
      for (const [M, N, K] of shapes) for (const transA of [false, true]) for (const transB of [false, true]) {
        for (const beta of [0, 1]) {
          const a = random(M * K), b = random(K * N), c = beta === 0 ? poisoned(M * N) : random(M * N);
          const p: Omit<GemmParams, 'a' | 'b' | 'c'> = { M, N, K, transA, transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
          const want = c.slice(), got = c.slice();
          js.gemmMixed({ ...p, a, b, c: want });
          backend.gemmMixed({ ...p, a, b, c: got });
          assertClose(`gemmMixed ${JSON.stringify(p)}`, got, want, 1e-5, 2e-6 * K);
          // with sumsB (op(B)'s column sums added in, from the unrounded B) and biasC (added to C's rows as tiles are
          // stored): C plus the bias, the sums added to what was there
          const sums = random(N), wantSums = sums.slice(), gotSums = sums.slice(), wantC = c.slice(), gotC = c.slice();
          const biasC = random(N);
          js.gemmMixed({ ...p, a, b, c: wantC, sumsB: wantSums, biasC });
          backend.gemmMixed({ ...p, a, b, c: gotC, sumsB: gotSums, biasC });
          assertClose(`gemmMixed with sumsB and biasC ${JSON.stringify(p)}`, gotC, wantC, 1e-5, 2e-6 * K);
          assertClose(`sumsB ${JSON.stringify(p)}`, gotSums, wantSums, 1e-5, 1e-6 * K);
        }
      }
    });

    it('alpha and beta off 0 and 1, batches with a broadcast operand, K = 0 (sumsB over every item, unscaled; biasC on every item)', () => {
      const cases: Omit<GemmParams, 'a' | 'b' | 'c'>[] = [
        { M: 20, N: 40, K: 33, transA: false, transB: true, alpha: 0.5, beta: 0.25, batch: 1, strideA: 0, strideB: 0, strideC: 0 },
        { M: 17, N: 9, K: 31, transA: true, transB: false, alpha: 2, beta: 0, batch: 3, strideA: 17 * 31, strideB: 0, strideC: 17 * 9 },
        { M: 5, N: 6, K: 0, transA: false, transB: false, alpha: 1, beta: 0, batch: 2, strideA: 0, strideB: 0, strideC: 30 },
      ];
      for (const p of cases) {
        const a = random(Math.max(1, (p.batch - 1) * p.strideA + p.M * p.K)), b = random(Math.max(1, (p.batch - 1) * p.strideB + p.K * p.N));
        const c = p.beta === 0 ? poisoned(p.batch * p.M * p.N) : random(p.batch * p.M * p.N);
        const want = c.slice(), got = c.slice(), wantSums = random(p.N), gotSums = wantSums.slice();
        const biasC = random(p.N);
        js.gemmMixed({ ...p, a, b, c: want, sumsB: wantSums, biasC });
        backend.gemmMixed({ ...p, a, b, c: got, sumsB: gotSums, biasC });
        assertClose(`gemmMixed ${JSON.stringify(p)}`, got, want, 1e-5, 2e-6 * Math.max(p.K, 1));
        assertClose(`sumsB ${JSON.stringify(p)}`, gotSums, wantSums, 1e-5, 1e-6 * Math.max(p.K * p.batch, 1));
      }
      assert.throws(() => backend.gemmMixed({ a: random(5), b: random(6), c: new Float32Array(4), M: 2, N: 2, K: 3,
        transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 }), /gemmMixed.*A/);
    });

    it('rounds its operands: off the fp32 product by about bf16\'s precision, not by less', () => {
      const M = 64, N = 64, K = 256, a = random(M * K), b = random(K * N);
      const p = { M, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
      const exact = new Float32Array(M * N), mixed = new Float32Array(M * N);
      js.gemm({ ...p, a, b, c: exact });
      backend.gemmMixed({ ...p, a, b, c: mixed });
      let difference = 0, norm = 0;
      for (let i = 0; i < M * N; i++) { difference += (mixed[i] - exact[i]) ** 2; norm += exact[i] ** 2; }
      const relative = Math.sqrt(difference / norm); // bf16's unit roundoff 2^-9: ~1e-3 for random operands
      assert.ok(relative > 1e-4 && relative < 1e-2, `relative difference from fp32 ${relative}`);
    });
  });
}
