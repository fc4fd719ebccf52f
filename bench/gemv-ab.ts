// Few-row products (A of 1-4 rows, B (K, N) read in place) on two builds of the native addon in one process,
// alternating round by round: this checkout's and another checkout's (its own build/Release), so a change to the
// few-row paths is measured against its parent while the machine drifts. Prints per shape each build's median µs per
// product (one core unless RLAIF_THREADS says otherwise) and the median and range of the per-round time ratios
// (this / other). SWAP=1 measures the other build first in each round (an order check); NT=1 multiplies by B
// transposed (B stored (N, K): a tied LM head) on M 1-4 x K 128 x N 1024.
// Run: RLAIF_THREADS=1 node --import tsx bench/gemv-ab.ts <other checkout root> [rounds]
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createNativeBackend } from '../src/engine/backends/native-backend.ts';

const root = process.argv[2], rounds = Number(process.argv[3] ?? 9);
if (!root || !existsSync(join(root, 'build', 'Release', 'rlaif_native.node'))) throw new Error(`gemv-ab: give the other checkout's root (with build/Release/rlaif_native.node), got ${root}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`gemv-ab: rounds must be a positive integer, got ${process.argv[3]}`);
const other = await import(pathToFileURL(resolve(root, 'src/engine/backends/native-backend.ts')).href) as { createNativeBackend: typeof createNativeBackend };
const pair = { this: createNativeBackend(), other: other.createNativeBackend() };
const builds = process.env.SWAP ? [['other', pair.other], ['this', pair.this]] as const : [['this', pair.this], ['other', pair.other]] as const;
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;
const transB = Boolean(process.env.NT);
const shapes = transB ? [[1, 128, 1024], [2, 128, 1024], [4, 128, 1024], [1, 768, 4096]] : [[1, 128, 512], [2, 128, 512], [3, 128, 512], [4, 128, 512], [4, 512, 128], [4, 128, 384]];
for (const [M, K, N] of shapes as [number, number, number][]) {
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const c = new Float32Array(M * N);
  const times: Record<string, number[]> = { this: [], other: [] }, ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const us: Record<string, number> = {};
    for (const [name, backend] of builds) {
      const run = () => backend.gemm({ a, b, c, M, N, K, transA: false, transB, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      for (let i = 0; i < 200; i++) run();
      const t0 = performance.now();
      for (let i = 0; i < 2000; i++) run();
      us[name] = (performance.now() - t0) / 2;  // µs per product: ms over 2000 products, x 1000
      times[name]!.push(us[name]!);
    }
    ratios.push(us.this! / us.other!);
  }
  console.log(`${transB ? 'NT ' : ''}M${M} K${K} N${N}: this ${median(times.this!).toFixed(1)} us, other ${median(times.other!).toFixed(1)} us, this/other ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
}
