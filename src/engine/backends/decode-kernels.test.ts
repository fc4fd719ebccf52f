// The decode kernels of every non-js backend and native CPU level against the js reference: products with a few
// rows of A (GEMV paths: 1, 2, 3, 5, 8, 16 rows, register tiles specialized by row count, column splits over the
// pool with odd tails), and the bf16-weight product gemmBf16 on odd shapes (K off every multiple of 32, the
// widen-then-GEMM path past 16 rows) on the vdpbf16ps kernel where the CPU has it and on the plain path forced, and
// its rounding of A (the level's vectorized bf16_round) bit for bit, ties included.
// Leaves out the big GEMM shapes (backend-suite.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, GemmParams } from '../backend.ts';
import { bf16ToF32, f32ToBf16 } from '../bf16.ts';
import { assertClose, poisoned, randomBuffer, uniforms } from '../testing/kernel-check.ts';
import { backendsUnderTest } from '../testing/backends-under-test.ts';
import { JsBackend } from './js-backend.ts';

const js = new JsBackend();
const next = uniforms(7);
const random = (n: number) => randomBuffer(next, n);

for (const [label, backend] of backendsUnderTest({ plainBf16: true })) {
  describe(`decode kernels of ${label} match js`, () => {
    it('gemm with a few rows of A: every row count the tiles specialize, threaded column splits, odd tails', () => {
      // N and K large enough that the product goes to the pool (M N K >= 2^19 for up to 4 rows, >= 2^23 for 5 to 16:
      // gemm.c's mt_min_macs_few_rows by default) and off every multiple of 16 / 64; smaller ones stay on one thread
      const shapes: [number, number, number][] = [[1, 777, 700], [2, 1000, 531], [3, 1031, 520], [5, 611, 1100],
        [8, 450, 1030], [16, 260, 300], [1, 70, 33], [4, 2049, 257], [8, 1030, 1020]];
      for (const [M, N, K] of shapes) for (const transB of [false, true]) for (const beta of [0, 1]) {
        const a = random(M * K), b = random(K * N);
        const c = beta === 0 ? poisoned(M * N) : random(M * N);
        const p: Omit<GemmParams, 'a' | 'b' | 'c'> = { M, N, K, transA: false, transB, alpha: 0.5, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
        const want = c.slice(), got = c.slice();
        js.gemm({ ...p, a, b, c: want });
        backend.gemm({ ...p, a, b, c: got });
        assertClose(`gemm ${JSON.stringify(p)}`, got, want, 1e-5, 1e-5 * K);
      }
    });

    it('gemm A B from 5 rows up: each row the bits the packed GEMM gives it, B read in place up to 128 rows when small', () => {
      // Row results that do not depend on the path or the row count (a prefill block, a batched decode step and a
      // whole prompt agree: gemm.c GEMV_SMALL_B_*, level_ops.c gemv_store): tail columns (N off 32), K past the kc
      // panel, more than 128 rows (packed). Fewer than 5 rows with K past kc stream B in one chain: not covered.
      const shapes: [number, number][] = [[16, 48], [64, 16], [192, 576], [300, 200], [768, 192], [1030, 64]];
      for (const [K, N] of shapes) {
        const a = random(300 * K), b = random(K * N);
        const p: Omit<GemmParams, 'a' | 'b' | 'c' | 'M'> = { N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
        const packed = new Float32Array(300 * N);
        backend.gemm({ ...p, M: 300, a, b, c: packed });
        const want = new Float32Array(300 * N);
        js.gemm({ ...p, M: 300, a, b, c: want });
        assertClose(`gemm 300x${N}x${K}`, packed, want, 1e-5, 1e-5 * K);
        for (const M of [17, 96]) {                                 // alpha and beta other than 1 and 0, C read
          const q = { ...p, M, a, b, alpha: 0.5, beta: 1 }, c = random(M * N);
          const want = c.slice(), got = c.slice();
          js.gemm({ ...q, c: want });
          backend.gemm({ ...q, c: got });
          assertClose(`gemm ${M}x${N}x${K} alpha 0.5 beta 1`, got, want, 1e-5, 1e-5 * K);
        }
        if (!label.startsWith('native')) continue;                 // wasm: its own kernels
        for (const M of [5, 7, 8, 9, 10, 13, 17, 32, 64, 128]) {   // 7-10, 13, 17: a last tile of 1 or 2 rows on some level
          const got = poisoned(M * N);
          backend.gemm({ ...p, M, a, b, c: got });
          assert.deepEqual(got, packed.subarray(0, M * N), `${M}x${N}x${K}: rows differ from the packed product's`);
        }
      }
    });

    it('gemm A B of more rows than a register tile with B past 4 MiB (read in row order): each row the packed GEMM\'s bits', () => {
      // level_ops.c gemv_nn_by_rows: the 124M's weights at batch 9-16 (7-16 on AVX2): sums kept in scratch rows
      // between k, chunks of columns, K past the kc panel and off the 4-row step, tail columns, beta 0 and 1.
      if (!label.startsWith('native')) return;                     // wasm and js: their own kernels
      for (const [K, N] of [[1030, 1100], [770, 1537]] as [number, number][]) {
        const a = random(64 * K), b = random(K * N), before = random(64 * N);
        const p: Omit<GemmParams, 'a' | 'b' | 'c' | 'M'> = { N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
        const packed = new Float32Array(64 * N), packedAcc = before.slice();
        backend.gemm({ ...p, M: 64, a, b, c: packed });
        backend.gemm({ ...p, M: 64, a, b, c: packedAcc, alpha: 0.5, beta: 1 });
        for (const M of [7, 9, 13, 16]) {
          const got = poisoned(M * N);
          backend.gemm({ ...p, M, a, b, c: got });
          assert.deepEqual(got, packed.subarray(0, M * N), `${M}x${N}x${K}: rows differ from the packed product's`);
          const acc = before.slice(0, M * N);
          backend.gemm({ ...p, M, a, b, c: acc, alpha: 0.5, beta: 1 });
          assert.deepEqual(acc, packedAcc.subarray(0, M * N), `${M}x${N}x${K}, beta 1: rows differ from the packed product's`);
        }
      }
    });

    it('gemm A Bᵀ for 5 to 16 rows (a tied LM head in a batched decode step): each row the packed GEMM\'s bits', () => {
      // gemv_nt_tiles keeps A's rows across a vector and broadcasts B's rows element by element: per element the
      // arithmetic of the packed A Bᵀ product, which more than 16 rows take. Tail columns (N off a group of B rows),
      // K past the kc panel, threaded column splits, 1 to 4 vectors of rows (AVX2 and generic), C overwritten (beta 0)
      // and accumulated (alpha 0.5, beta 1).
      const shapes: [number, number][] = [[128, 1024], [64, 70], [300, 200], [1030, 96], [768, 2049]];
      for (const [K, N] of shapes) {
        const a = random(64 * K), b = random(N * K), before = random(64 * N);
        const p: Omit<GemmParams, 'a' | 'b' | 'c' | 'M'> = { N, K, transA: false, transB: true, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
        const packed = new Float32Array(64 * N), packedAcc = before.slice();
        backend.gemm({ ...p, M: 64, a, b, c: packed });
        backend.gemm({ ...p, M: 64, a, b, c: packedAcc, alpha: 0.5, beta: 1 });
        const want = new Float32Array(64 * N);
        js.gemm({ ...p, M: 64, a, b, c: want });
        assertClose(`gemm 64x${N}x${K} transB`, packed, want, 1e-5, 1e-5 * K);
        if (!label.startsWith('native')) continue;
        for (const M of [5, 7, 8, 9, 13, 16]) {
          const got = poisoned(M * N);
          backend.gemm({ ...p, M, a, b, c: got });
          assert.deepEqual(got, packed.subarray(0, M * N), `${M}x${N}x${K} transB: rows differ from the packed product's`);
          const acc = before.slice(0, M * N);
          backend.gemm({ ...p, M, a, b, c: acc, alpha: 0.5, beta: 1 });
          assert.deepEqual(acc, packedAcc.subarray(0, M * N), `${M}x${N}x${K} transB, beta 1: rows differ from the packed product's`);
        }
      }
    });

    it('gemmBf16: bf16(A) Wᵀ on odd shapes, GEMV, widen-then-GEMM and packed GEMM paths, threaded, C overwritten', () => {
      const shapes: [number, number, number][] = [[1, 1, 1], [1, 5, 31], [1, 777, 700], [2, 33, 33], [3, 1031, 520],
        [5, 17, 95], [16, 300, 64], [17, 130, 70], [40, 257, 129], [1, 2049, 775], [0, 3, 4], [2, 0, 4], [2, 3, 0],
        // past 16 rows on AVX512_BF16: the packed vdpbf16ps GEMM (14-row slivers, 32-column slivers, 512-deep k blocks)
        [31, 70, 600], [20, 600, 301], [15, 33, 513], [64, 64, 64], [29, 45, 1030], [43, 100, 34]];
      for (const [M, N, K] of shapes) {
        const a = random(M * K), w = f32ToBf16(random(N * K));
        const want = poisoned(M * N), got = poisoned(M * N);
        js.gemmBf16(a, w, want, M, N, K);
        backend.gemmBf16(a, w, got, M, N, K);
        assertClose(`gemmBf16 M ${M} N ${N} K ${K}`, got, want, 1e-5, 2e-6 * K);
      }
      assert.throws(() => backend.gemmBf16(random(6), new Uint16Array(5), new Float32Array(4), 2, 2, 3), /gemmBf16.*W/);
    });

    it('gemmBf16 of 2 to 16 rows (a batched bf16 decode step): each row the bits of that row alone', () => {
      // The few-row path takes several rows of A against each W row (vdpbf16ps: four at a time, their sums reduced
      // together in _mm512_reduce_add_ps's order): a row's bits must not depend on the rows beside it.
      for (const [N, K] of [[300, 768], [97, 95], [64, 1030], [1100, 64]] as [number, number][]) {
        const w = f32ToBf16(random(N * K));
        for (const M of [2, 4, 5, 8, 13, 16]) {
          const a = random(M * K), got = poisoned(M * N);
          backend.gemmBf16(a, w, got, M, N, K);
          for (let m = 0; m < M; m++) {
            const alone = poisoned(N);
            backend.gemmBf16(a.subarray(m * K, (m + 1) * K), w, alone, 1, N, K);
            assert.deepEqual(got.subarray(m * N, (m + 1) * N), alone, `gemmBf16 ${M}x${N}x${K}: row ${m} differs from the row alone`);
          }
        }
      }
    });

    it('gemmBf16 rounds A to nearest even, exactly: A times an identity W gives bf16(A) bit for bit', () => {
      // ties (1 + 2^-8 -> 1, 1 + 3 2^-8 -> 1 + 2^-6, and negative), just off ties, large and small magnitudes; rows
      // on the GEMV path (<= 16) and past it (the packed GEMM), K off every multiple of 16 so the vector tail rounds too
      const special = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -8 - 2 ** -20,
        3.0e38, -1.5e-30, 65535.5, 0.1, -0.3];
      for (const [M, K] of [[3, 37], [21, 70]]) {
        const a = random(M * K).map((x, i) => (i < special.length ? special[i] : x * 10 ** ((i % 7) - 3)));
        const identity = new Float32Array(K * K);
        for (let k = 0; k < K; k++) identity[k * K + k] = 1;
        const got = poisoned(M * K);
        backend.gemmBf16(a, f32ToBf16(identity), got, M, K, K);
        const want = bf16ToF32(f32ToBf16(a));
        for (let i = 0; i < M * K; i++) assert.equal(got[i], want[i], `M ${M} K ${K} element ${i}: bf16(${a[i]}) is ${want[i]}, got ${got[i]}`);
      }
    });
  });
}
