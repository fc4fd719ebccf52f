// Products with few rows of A (decode steps, prefill blocks, batched sampling) on the native backend: GFLOP/s of
// A (M, K) B (K, N), B read in place, for M from 1 to 32 on the tiny GPT's and the 124M model's weight shapes. Each
// figure is the median of 5 timed batches of repeated products (hot operands). M <= 4 takes the streamed path, 5-128
// the register tiles (small B) or up to 16 (large B), above that the packed GEMM (native/gemm.c).
// Run: node --import tsx bench/gemv-rows.ts   (RLAIF_THREADS=1 for one core)
import { createNativeBackend } from '../src/engine/backends/native-backend.ts';

const backend = createNativeBackend();
for (const [K, N] of [[128, 384], [128, 512], [512, 128], [768, 2304], [768, 3072]]) {
  const line: string[] = [];
  for (const M of [1, 2, 4, 5, 8, 12, 16, 32]) {
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
    const c = new Float32Array(M * N);
    const reps = Math.max(20, Math.round(2e8 / (M * N * K)));
    const times: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) backend.gemm({ a, b, c, M, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      times.push((performance.now() - t0) / reps);
    }
    times.sort((x, y) => x - y);
    line.push(`M${M}: ${((2 * M * N * K) / times[2]! / 1e6).toFixed(1)}`);
  }
  console.log(`K ${K} N ${N} GFLOP/s`, line.join('  '));
}
