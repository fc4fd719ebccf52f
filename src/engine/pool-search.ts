// The measured search behind the pool thresholds (tuning.ts `pool`): from how many multiply-adds a product is worth
// handing to the thread pool on this machine, for products in general, for products of few rows (batched decode
// steps: the kernels' register tiles over B read in place), and for one row over a B streamed from memory (a decode
// step of a model larger than the caches; its shapes timed over 256 MiB of copies, so each product finds its B in
// memory, as such a model's weights are). Each ladder shape is timed on one thread (the thresholds above
// it) and on the pool (the thresholds at 1), alternately in interleaved rounds (medians), and the threshold is the
// smallest shape from which the pool wins by the margin at that shape and every larger one on the ladder; when it
// never does, twice the ladder's largest. A pool hand-off costs microseconds where workers wake fast and far more on
// a VM whose sleeping workers are descheduled: the compiled defaults (2^21, 2^23) were set by hand on one machine.
// Leaves out: load that comes and goes after the search (a search on a busy machine raises the thresholds; `npm run
// tune` on a quiet one sets them again), products other than these shapes' paths, wasm.
import { createNativeBackend, nativePoolThresholds, setNativePoolThresholds, type CpuLevel } from './backends/native-backend.ts';
import { median } from './gemm-search.ts';
import type { PoolThresholds } from './tuning.ts';

/** Products past 128 rows (packed, blocked GEMM): 1 to 17 million multiply-adds. */
export const GENERAL_LADDER: [number, number, number][] = [[256, 64, 64], [256, 128, 64], [256, 128, 128], [256, 256, 128], [512, 256, 128]];
/** 16-row products (a batched decode step's projections): 0.26 to 17 million multiply-adds. Ladders version 2
 * (tuning.ts POOL_LADDERS) added the three below 1 million (16 x 128, 256, 384 x 128: a 128-wide model's projections,
 * the testbed policy's) and the MLP's down projection (16 x 128 x 512): starting at 16 x 512 x 128, the ladder let no
 * machine choose a threshold below it, though at AVX2 on Zen 5 16 x 384 x 128 took 17.0 us on one thread against 13.3
 * on two (bench/gemm-loop.ts). */
export const FEW_ROWS_LADDER: [number, number, number][] = [[16, 128, 128], [16, 256, 128], [16, 384, 128], [16, 128, 512], [16, 512, 128], [16, 1024, 128], [16, 1024, 256], [16, 2048, 256], [16, 2048, 512]];
/** One-row products over a B from memory (a 124M model's projections among them): 0.6 to 2.4 million multiply-adds.
 * Products below the first stay on one thread: with B in cache (a small model's) the pool lost there where from
 * memory it won (bench/gemv-pool.ts on Zen 5: 1 MiB of B took 1.22x one thread's time hot and 0.70x from memory;
 * 2.25 MiB 0.81x and 0.61x). */
export const STREAM_LADDER: [number, number, number][] = [[1, 768, 768], [1, 1536, 768], [1, 2304, 768], [1, 3072, 768]];
/** MiB of B copies the stream ladder cycles through: past the last-level caches seen (32-105 MiB); less where that
 * much memory cannot be had (a small container), and the ladder left out where not even the least can */
const STREAM_COLD_MIB = [256, 64];

function coldCopies(sizes: readonly number[]): Float32Array | null {
  for (const mib of sizes) {
    try {
      return new Float32Array((mib * 1024 * 1024) / 4).fill(0.5);
    } catch {
      // RangeError: an allocation this size refused; try the next
    }
  }
  return null;
}

export interface LadderPoint { macs: number; singleUs: number; pooledUs: number }

/** The threshold a ladder's timings give: the smallest macs from which the pool is faster by `margin` at every point
 * on (the points in any order); twice the largest macs when the pool never is. */
export function chooseThreshold(points: LadderPoint[], margin: number): number {
  const sorted = [...points].sort((a, b) => a.macs - b.macs);
  let threshold = 2 * sorted[sorted.length - 1]!.macs;
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (sorted[i]!.pooledUs * margin > sorted[i]!.singleUs) break;
    threshold = sorted[i]!.macs;
  }
  return threshold;
}

export interface PoolSearchOptions {
  level?: CpuLevel;
  rounds?: number;      // interleaved rounds (median per shape and mode); default 5
  margin?: number;      // the pool must be this much faster; default 1.1
  log?: (line: string) => void;
  streamCopiesMiB?: readonly number[]; // sizes to try for the stream ladder's copies, first that can be had; default 256, then 64
}

export interface PoolSearchResult extends PoolThresholds {
  stream: number;
  threads: number;
  points: { general: LadderPoint[]; fewRows: LadderPoint[]; stream: LadderPoint[] };
}

/** Runs the search in this process (it sets the process's thresholds while it measures, then restores them). */
export function searchPoolThresholds(options: PoolSearchOptions = {}): PoolSearchResult {
  const backend = createNativeBackend(options.level);
  const before = nativePoolThresholds();
  if (backend.threads < 2) return { ...before, threads: backend.threads, points: { general: [], fewRows: [], stream: [] } };
  const rounds = options.rounds ?? 5, margin = options.margin ?? 1.1;
  const gemm = (a: Float32Array, b: Float32Array, c: Float32Array, [M, N, K]: [number, number, number]) =>
    backend.gemm({ a, b, c, M, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
  /** µs per product, B hot: the same product again and again, median of 5 timed batches. */
  const hot = (shape: [number, number, number]): (() => number) => {
    const [M, N, K] = shape, a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)), c = new Float32Array(M * N);
    const calls = Math.max(3, Math.round(3e7 / (M * N * K)));
    return () => {
      gemm(a, b, c, shape);
      const times: number[] = [];
      for (let rep = 0; rep < 5; rep++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) gemm(a, b, c, shape);
        times.push(Number(process.hrtime.bigint() - t0) / 1e3 / calls);
      }
      return median(times);
    };
  };
  /** µs per product, B from memory: each product on the next of consecutive copies in `cold`, so none is in cache. */
  const fromMemory = (shape: [number, number, number], cold: Float32Array): (() => number) => {
    const [M, N, K] = shape, size = K * N, copies = Math.floor(cold.length / size);
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), c = new Float32Array(M * N);
    return () => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < copies; i++) gemm(a, cold.subarray(i * size, (i + 1) * size), c, shape);
      return Number(process.hrtime.bigint() - t0) / 1e3 / copies;
    };
  };
  const cold = coldCopies(options.streamCopiesMiB ?? STREAM_COLD_MIB);
  if (!cold) options.log?.('pool stream: no memory for the copies, the threshold in force is kept');
  const ladders = { general: GENERAL_LADDER, fewRows: FEW_ROWS_LADDER, stream: cold ? STREAM_LADDER : [] };
  const shapes = [
    ...[...ladders.general, ...ladders.fewRows].map((shape) => ({ shape, time: hot(shape) })),
    ...(cold ? ladders.stream.map((shape) => ({ shape, time: fromMemory(shape, cold) })) : []),
  ].map((s) => ({ ...s, single: [] as number[], pooled: [] as number[] }));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const s of shapes) {
        for (const mode of round % 2 === 0 ? ['single', 'pooled'] as const : ['pooled', 'single'] as const) {
          setNativePoolThresholds(mode === 'single' ? { general: 2 ** 40, fewRows: 2 ** 40, stream: 2 ** 40 } : { general: 1, fewRows: 1, stream: 1 });
          s[mode].push(s.time());
        }
      }
    }
  } finally {
    setNativePoolThresholds(before);
  }
  const pointsOf = (ladder: [number, number, number][]): LadderPoint[] => ladder.map((shape) => {
    const s = shapes.find((candidate) => candidate.shape === shape)!;
    return { macs: shape[0] * shape[1] * shape[2], singleUs: median(s.single), pooledUs: median(s.pooled) };
  });
  const points = { general: pointsOf(ladders.general), fewRows: pointsOf(ladders.fewRows), stream: pointsOf(ladders.stream) };
  for (const [name, list] of Object.entries(points)) {
    for (const p of list) options.log?.(`pool ${name} ${(p.macs / 1e6).toFixed(1)}M multiply-adds: one thread ${p.singleUs.toFixed(1)} us, the pool ${p.pooledUs.toFixed(1)} us`);
  }
  return { general: chooseThreshold(points.general, margin), fewRows: chooseThreshold(points.fewRows, margin), stream: cold ? chooseThreshold(points.stream, margin) : before.stream, threads: backend.threads, points };
}
