// GEMM throughput of one backend: C (n, n) = A (n, n) @ B (n, n), median GFLOP/s over `reps` timed runs after
// one warm-up. Leaves out printing and backend choice (bench/run.ts); run this file directly to tune kernels:
//   node --import tsx bench/matmul.ts [n ...]   (RLAIF_CPU / RLAIF_THREADS pick the level and threads)
import type { Backend } from '../src/engine/backend.ts';
import { f32ToBf16 } from '../src/engine/bf16.ts';

/** Median GFLOP/s of `reps` n×n×n matmuls (2 n³ flops each) on `backend`. */
export function matmulGflops(backend: Backend, n: number, reps: number): number {
  const a = new Float32Array(n * n), b = new Float32Array(n * n), c = new Float32Array(n * n); // (n, n) each
  for (let i = 0; i < n * n; i++) { a[i] = Math.sin(i) * 0.5; b[i] = Math.cos(i) * 0.5; }
  const params = {
    a, b, c, M: n, N: n, K: n, transA: false, transB: false, alpha: 1, beta: 0, batch: 1,
    strideA: 0, strideB: 0, strideC: 0,
  };
  backend.gemm(params);
  const rates: number[] = [];
  for (let r = 0; r < Math.max(1, reps); r++) {
    const t0 = process.hrtime.bigint();
    backend.gemm(params);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push((2 * n * n * n) / seconds / 1e9);
  }
  rates.sort((x, y) => x - y);
  return rates[Math.floor(rates.length / 2)];
}

/** The same for bf16: C (n, n) = bf16(A) (n, n) @ Wᵀ with W (n, n) in bf16 (gemmBf16: float32 sums). */
export function matmulBf16Gflops(backend: Backend, n: number, reps: number): number {
  const a = new Float32Array(n * n), c = new Float32Array(n * n);          // (n, n) each
  const w = f32ToBf16(Float32Array.from({ length: n * n }, (_, i) => Math.cos(i) * 0.5)); // (n, n) bf16
  for (let i = 0; i < n * n; i++) a[i] = Math.sin(i) * 0.5;
  backend.gemmBf16(a, w, c, n, n, n);
  const rates: number[] = [];
  for (let r = 0; r < Math.max(1, reps); r++) {
    const t0 = process.hrtime.bigint();
    backend.gemmBf16(a, w, c, n, n, n);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push((2 * n * n * n) / seconds / 1e9);
  }
  rates.sort((x, y) => x - y);
  return rates[Math.floor(rates.length / 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { createNativeBackend } = await import('../src/engine/backends/native-backend.ts');
  const backend = createNativeBackend();
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length ? sizes : [512, 1024]) {
    const reps = n <= 256 ? 200 : n <= 512 ? 40 : 15;
    console.log(`matmul ${n}³ native/${backend.cpu} threads=${backend.threads}: ${matmulGflops(backend, n, reps).toFixed(1)} GFLOP/s; ` +
      `bf16 (${backend.bf16Kernel}): ${matmulBf16Gflops(backend, n, reps).toFixed(1)} GFLOP/s`);
  }
}
