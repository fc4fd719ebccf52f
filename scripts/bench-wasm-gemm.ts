// Measures the wasm backend's GEMM in GFLOP/s (median of repeats, operands copied in and out as in real calls)
// and, separately, the copy overhead. Usage: tsx scripts/bench-wasm-gemm.ts [n ...]; RLAIF_WASM_THREADS=1 for one.
import { createWasmBackend } from '../src/engine/backends/wasm-backend.ts';
import type { GemmParams } from '../src/engine/backend.ts';

const backend = createWasmBackend();
const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length ? sizes : [512, 1024]) {
  const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const c = new Float32Array(n * n);
  const p: GemmParams = { a, b, c, M: n, N: n, K: n, transA: false, transB: false, alpha: 1, beta: 0, batch: 1,
    strideA: 0, strideB: 0, strideC: 0 };
  const reps = n <= 512 ? 31 : 11;
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const t0 = performance.now(); backend.gemm(p); const t = performance.now() - t0;
    if (r >= 2) times.push(t);
  }
  times.sort((x, y) => x - y);
  const median = times[times.length >> 1];
  const copy: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(); c.set(a); a.set(b); b.set(c); copy.push(performance.now() - t0);
  }
  copy.sort((x, y) => x - y);
  console.log(`RESULT matmul_${n}_gflops_wasm ${(2 * n ** 3 / median / 1e6).toFixed(1)}  (threads ${backend.threads}, ` +
    `median ${median.toFixed(2)} ms, best ${(2 * n ** 3 / times[0] / 1e6).toFixed(1)} GFLOP/s, ` +
    `3 copies of n^2 floats ${copy[copy.length >> 1].toFixed(2)} ms)`);
}
