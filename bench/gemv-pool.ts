// One-row products A (1, K) B (K, N), B read in place (native/gemm.c gemv_stream: a decode step at batch 1), on one
// thread and on the pool, with B hot (the same B again and again: a small model's weights, in cache) and with B from
// memory (consecutive copies over 256 MiB, so no product finds its B in cache: a large model's weights). Per shape and
// case: median µs per product of 5 interleaved rounds, GB/s of B read, and pool ÷ one thread. The pool search's stream
// ladder (src/engine/pool-search.ts) measures the from-memory case; the hot one shows what that threshold costs a
// small model whose products cross it. Native backend only.
// Run: node --import tsx bench/gemv-pool.ts
import { createNativeBackend, nativePoolThresholds, setNativePoolThresholds } from '../src/engine/backends/native-backend.ts';

const backend = createNativeBackend();
if (backend.threads < 2) throw new Error('gemv-pool: needs two threads or more (RLAIF_THREADS)');
const before = nativePoolThresholds(), never = 2 ** 40;
const cold = new Float32Array((256 * 1024 * 1024) / 4).fill(0.5);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(`# one-row products on ${backend.threads} threads; this process's thresholds ${JSON.stringify(before)}`);
try {
  for (const [K, N] of [[384, 384], [512, 512], [768, 768], [768, 1536], [768, 2304], [768, 3072], [3072, 768]] as const) {
    const size = K * N, copies = Math.floor(cold.length / size);
    const a = Float32Array.from({ length: K }, (_, i) => Math.sin(i)), c = new Float32Array(N), hot = cold.subarray(0, size);
    const product = (b: Float32Array) => backend.gemm({ a, b, c, M: 1, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
    const times = { hot: { single: [] as number[], pooled: [] as number[] }, memory: { single: [] as number[], pooled: [] as number[] } };
    for (let round = 0; round < 5; round++) {
      for (const mode of round % 2 === 0 ? ['single', 'pooled'] as const : ['pooled', 'single'] as const) {
        setNativePoolThresholds(mode === 'single' ? { general: never, fewRows: never, stream: never } : { general: 1, fewRows: 1, stream: 1 });
        const calls = Math.max(20, Math.round(3e7 / size));
        product(hot);
        let t0 = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) product(hot);
        times.hot[mode].push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
        t0 = process.hrtime.bigint();
        for (let i = 0; i < copies; i++) product(cold.subarray(i * size, (i + 1) * size));
        times.memory[mode].push(Number(process.hrtime.bigint() - t0) / 1e3 / copies);
      }
    }
    const line = (name: 'hot' | 'memory') => {
      const single = median(times[name].single), pooled = median(times[name].pooled);
      return `${name} ${single.toFixed(1)} / ${pooled.toFixed(1)} us (${(size * 4 / single / 1e3).toFixed(1)} / ${(size * 4 / pooled / 1e3).toFixed(1)} GB/s, pool ${(pooled / single).toFixed(2)}x)`;
    };
    console.log(`1x${K}x${N} (${(size / 1e6).toFixed(2)}M multiply-adds, ${(size * 4 / 1024).toFixed(0)} KiB of B), one thread / pool: ${line('hot')}; ${line('memory')}`);
  }
} finally {
  setNativePoolThresholds(before);
}
