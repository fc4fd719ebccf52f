// The measured search behind per-machine GEMM tuning (tuning.ts): each candidate of one native CPU level, a register
// micro-kernel (the level's own, or on AVX-512 the AVX2 one: same bits for the same kc) with a cache blocking, is set
// in this process and timed on a few product shapes, in interleaved rounds (a busy neighbour then weighs on every
// candidate alike); the best median score wins only if it beats the compiled default (own kernel, its blocking) by a
// margin. Then (searchGemmSplit) the compute tasks per thread of a GEMM all threads share, under that choice. Leaves out:
// running anywhere but a process of its own (it changes the GEMM for the whole process while it measures).
import { compiledGemmBlocking, createNativeBackend, type CpuLevel, nativeGemmKernels, nativeGemmSplit, setNativeBlocking, setNativeGemmKernel, setNativeGemmSplit } from './backends/native-backend.ts';
import type { Blocking, TunedEntry } from './tuning.ts';

/** A blocking for one micro-kernel (absent: the level's own). */
export type GemmCandidate = Blocking & { kernel?: CpuLevel };

export interface GemmSearchOptions {
  level?: CpuLevel;                         // default: the level the native backend picks
  shapes?: [number, number, number][];      // (M, N, K) products scored; default 512³, 1024³ and a training-step GEMM
  candidates?: GemmCandidate[];             // default: a grid around each micro-kernel's compiled blocking
  rounds?: number;                          // interleaved rounds over all candidates (median per candidate)
  reps?: number;                            // timed products per shape per round (median)
  margin?: number;                          // a candidate must beat the default by this factor to be chosen
  log?: (line: string) => void;
}

export interface GemmSearchResult {
  level: CpuLevel;
  defaultBlocking: Blocking;
  scores: { blocking: Blocking & { kernel: CpuLevel }; gflops: number }[];   // median geometric-mean GFLOP/s, candidates in order
  chosen: TunedEntry & { kernel: CpuLevel };
}

/** Sets a recorded choice in this process: its micro-kernel (the level's own when it names none), then its blocking. */
export function applyGemmChoice(level: CpuLevel, entry: GemmCandidate): void {
  setNativeGemmKernel(level, entry.kernel ?? level);
  setNativeBlocking(level, entry);
}

/** The products both searches score by default: two squares and a training-step GEMM. */
const DEFAULT_SHAPES: [number, number, number][] = [[512, 512, 512], [1024, 1024, 1024], [1024, 512, 128]];

export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** The best-scoring candidate, or `incumbent` unless the best beats its score by `margin`. */
function bestUnlessBeaten<T>(scores: { candidate: T; gflops: number }[], incumbent: T, incumbentGflops: number, margin: number): T {
  const best = scores.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  return best.gflops >= incumbentGflops * margin ? best.candidate : incumbent;
}

function gflopsOf(gemm: () => void, flops: number, reps: number): number {
  gemm();
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    gemm();
    rates.push(flops / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e9);
  }
  return median(rates);
}

type Product = { M: number; N: number; K: number; a: Float32Array; b: Float32Array; c: Float32Array };

function productBuffers(shapes: [number, number, number][]): Product[] {
  return shapes.map(([M, N, K]) => ({
    M, N, K, a: Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b: Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)),
    c: new Float32Array(M * N),
  }));
}

/** Geometric-mean GFLOP/s of the products under the GEMM now set (median of `reps` each). */
function score(backend: Pick<ReturnType<typeof createNativeBackend>, 'gemm'>, products: Product[], reps: number): number {
  let logSum = 0;
  for (const s of products) {
    const run = () => backend.gemm({ a: s.a, b: s.b, c: s.c, M: s.M, N: s.N, K: s.K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
    logSum += Math.log(gflopsOf(run, 2 * s.M * s.N * s.K, reps));
  }
  return Math.exp(logSum / products.length);
}

/** Candidates around the default: mc in {1/2, 1, 3/2} x, kc in {1/2, 1, 3/2, 2} x (rounded to the level's tile). */
export function blockingGrid(def: Blocking, mr: number): Blocking[] {
  const grid: Blocking[] = [];
  for (const fm of [0.5, 1, 1.5]) for (const fk of [0.5, 1, 1.5, 2]) {
    const mc = Math.max(mr, Math.round((def.mc * fm) / mr) * mr), kc = Math.max(16, Math.round((def.kc * fk) / 16) * 16);
    if (!grid.some((b) => b.mc === mc && b.kc === kc)) grid.push({ mc, kc, nc: def.nc });
  }
  return grid;
}

/** Runs the search; the caller records `chosen` (writeTuning) and the default stays set in this process afterwards. */
export function searchGemmBlocking(options: GemmSearchOptions = {}): GemmSearchResult {
  const first = createNativeBackend(options.level);
  const level = first.cpu;
  const def: Blocking = { mc: first.blocking.mc, kc: first.blocking.kc, nc: first.blocking.nc };
  if (first.blockingSource !== 'default') {
    throw new Error(`the ${level} GEMM is already ${first.blockingSource === 'tuned' || first.blockingSource === 'busy' ? 'tuned' : `forced by ${first.blockingSource}`}; search in a process that starts from the compiled default (RLAIF_TUNING_FILE=/dev/null, RLAIF_GEMM_BLOCKING and RLAIF_GEMM_KERNEL unset)`);
  }
  const same = (a: Blocking & { kernel: CpuLevel }, b: Blocking & { kernel: CpuLevel }) => a.kernel === b.kernel && a.mc === b.mc && a.kc === b.kc && a.nc === b.nc;
  const own = { ...def, kernel: level };
  let candidates: Array<Blocking & { kernel: CpuLevel }>;
  if (options.candidates) candidates = options.candidates.map((c) => ({ mc: c.mc, kc: c.kc, nc: c.nc, kernel: c.kernel ?? level }));
  else {
    candidates = [];
    for (const kernel of nativeGemmKernels(level)) {  // each kernel's grid around its own compiled blocking
      const compiled = compiledGemmBlocking(level, kernel);
      candidates.push(...blockingGrid(compiled, compiled.mr).map((b) => ({ ...b, kernel })));
    }
    setNativeGemmKernel(level, level);
  }
  if (!candidates.some((c) => same(c, own))) candidates.unshift(own);
  candidates.sort((a, b) => Number(a.kernel !== level) - Number(b.kernel !== level));   // one kernel switch per round each way
  const shapes = options.shapes ?? DEFAULT_SHAPES;
  const rounds = options.rounds ?? 5, reps = options.reps ?? 5, margin = options.margin ?? 1.05;
  const buffers = productBuffers(shapes);
  const perCandidate = candidates.map(() => [] as number[]);
  try {
    for (let round = 0; round < rounds; round++) {
      candidates.forEach((blocking, i) => {
        applyGemmChoice(level, blocking);
        perCandidate[i].push(score(first, buffers, reps));
      });
      options.log?.(`round ${round + 1}/${rounds} done`);
    }
  } finally {
    applyGemmChoice(level, own);
  }
  const scores = candidates.map((blocking, i) => ({ blocking, gflops: median(perCandidate[i]) }));
  const defaultScore = scores.find((s) => same(s.blocking, own))!.gflops;
  const chosen = bestUnlessBeaten(scores.map((s) => ({ candidate: s, gflops: s.gflops })), { blocking: own, gflops: defaultScore }, defaultScore, margin);
  for (const s of scores) options.log?.(`${s.blocking.kernel} micro-kernel, mc ${s.blocking.mc} kc ${s.blocking.kc} nc ${s.blocking.nc}: ${s.gflops.toFixed(1)} GFLOP/s`);
  return {
    level, defaultBlocking: def, scores,
    chosen: { kernel: chosen.blocking.kernel, mc: chosen.blocking.mc, kc: chosen.blocking.kc, nc: chosen.blocking.nc, gflops: chosen.gflops, defaultGflops: defaultScore, measuredAt: new Date().toISOString() },
  };
}

export interface SplitSearchOptions {
  level?: CpuLevel;                         // default: the level the native backend picks
  shapes?: [number, number, number][];      // (M, N, K) products scored, as the blocking search's
  candidates?: number[];                    // compute tasks per thread tried (default 2, 4, 8, 16)
  rounds?: number;
  reps?: number;
  margin?: number;                          // a candidate must beat the split in force by this factor
  log?: (line: string) => void;
}

export interface SplitSearchResult {
  split: number;                            // the choice: the split in force at the start unless beaten by the margin
  defaultSplit: number;                     // the split in force at the start (set again afterwards)
  scores: { split: number; gflops: number }[];
}

/**
 * The second stage of the GEMM search: how many compute tasks per thread a GEMM that all threads share is split into
 * (spare tasks absorb a busy neighbour; fewer pack A fewer times), timed under the micro-kernel and blocking now set, in
 * interleaved rounds. Leaves out the few-row products' split (their own pool threshold, pool-search.ts).
 */
export function searchGemmSplit(options: SplitSearchOptions = {}): SplitSearchResult {
  const backend = createNativeBackend(options.level);
  const defaultSplit = nativeGemmSplit();
  const candidates = [...new Set([defaultSplit, ...(options.candidates ?? [2, 4, 8, 16])])];
  const products = productBuffers(options.shapes ?? DEFAULT_SHAPES);
  const rounds = options.rounds ?? 5, reps = options.reps ?? 5, margin = options.margin ?? 1.05;
  const perCandidate = candidates.map(() => [] as number[]);
  try {
    for (let round = 0; round < rounds; round++) {
      candidates.forEach((split, i) => {
        setNativeGemmSplit(split);
        perCandidate[i].push(score(backend, products, reps));
      });
    }
  } finally {
    setNativeGemmSplit(defaultSplit);
  }
  const scores = candidates.map((split, i) => ({ split, gflops: median(perCandidate[i]) }));
  for (const s of scores) options.log?.(`${s.split} tasks a thread: ${s.gflops.toFixed(1)} GFLOP/s`);
  return { split: bestUnlessBeaten(scores.map((s) => ({ candidate: s.split, gflops: s.gflops })), defaultSplit, scores[0].gflops, margin), defaultSplit, scores };
}
