// What the thread pool gains on a batched decode step's 16-row products, hot and as a step meets them. Hot: the same
// product again and again (A untouched, C never read: the pool search's ladder, pool-search.ts). Step: A written by
// this thread just before (as a layer norm's output is) and C read by it just after (as the next op reads it), through
// two GELU calls timed in both modes, so the difference is what the pool changes: its hand-offs, and the lines of A
// and C that cross between the cores' caches. One thread (thresholds never reached) against the pool (thresholds at
// 1), interleaved in 9 rounds, median µs a call; the ratio pool / one thread. A diagnostic, not a RESULT.
// Run: node --import tsx bench/pool-step-pattern.ts   (RLAIF_CPU=avx2 for that level)
import { createNativeBackend, nativePoolThresholds, setNativePoolThresholds } from '../src/engine/backends/native-backend.ts';

const backend = createNativeBackend();
if (backend.threads < 2) throw new Error(`pool-step-pattern: the pool has ${backend.threads} thread; run it where two or more CPUs are usable`);
const before = nativePoolThresholds();
const shapes: [number, number, number][] = [[16, 512, 128], [16, 128, 512], [16, 384, 128], [16, 1024, 256], [16, 2048, 512]];
const median = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1]!;
console.log(`# pool-step-pattern: ${backend.threads} threads, thresholds in force ${before.general} / ${before.fewRows} (few rows) multiply-adds`);
try {
  for (const [M, N, K] of shapes) {
    const source = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), a = new Float32Array(M * K);
    const b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)), c = new Float32Array(M * N), next = new Float32Array(M * N);
    const product = () => backend.gemm({ a, b, c, M, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
    const patterns = { hot: product, step: () => { backend.gelu(source, a, a.length); product(); backend.gelu(c, next, c.length); } };
    const times: Record<string, number[]> = {};
    for (let round = 0; round < 9; round++) {
      for (const mode of round % 2 === 0 ? ['one', 'pool'] as const : ['pool', 'one'] as const) {
        setNativePoolThresholds(mode === 'one' ? { ...before, general: 2 ** 40, fewRows: 2 ** 40 } : { ...before, general: 1, fewRows: 1 });
        for (const [name, run] of Object.entries(patterns)) {
          for (let i = 0; i < 20; i++) run();
          const t0 = performance.now();
          for (let i = 0; i < 200; i++) run();
          (times[`${name} ${mode}`] ??= []).push((performance.now() - t0) / 200 * 1000);
        }
      }
    }
    const us = (key: string) => median(times[key]!);
    const line = (name: string) => `${name}: one thread ${us(`${name} one`).toFixed(1)}, pool ${us(`${name} pool`).toFixed(1)} µs (${(us(`${name} pool`) / us(`${name} one`)).toFixed(2)})`;
    console.log(`M ${M} N ${N} K ${K} (${(M * N * K / 1e6).toFixed(2)}M multiply-adds): ${line('hot')}; ${line('step')}`);
  }
} finally {
  setNativePoolThresholds(before);
}
