// The measured search behind per-machine GEMM tuning (tuning.ts): each candidate cache blocking of one native CPU
// level is set in this process and timed on a few product shapes, in interleaved rounds (a busy neighbour then weighs
// on every candidate alike); the best median score wins only if it beats the compiled default by a margin.
// Leaves out: the micro-kernel shape and thread split; running anywhere but a process of its own (it changes the
// level's blocking for the whole process while it measures).
import { createNativeBackend, type CpuLevel, setNativeBlocking } from './backends/native-backend.ts';
import type { Blocking, TunedEntry } from './tuning.ts';

export interface GemmSearchOptions {
  level?: CpuLevel;                         // default: the level the native backend picks
  shapes?: [number, number, number][];      // (M, N, K) products scored; default 512³, 1024³ and a training-step GEMM
  candidates?: Blocking[];                  // default: a grid around the compiled blocking
  rounds?: number;                          // interleaved rounds over all candidates (median per candidate)
  reps?: number;                            // timed products per shape per round (median)
  margin?: number;                          // a candidate must beat the default by this factor to be chosen
  log?: (line: string) => void;
}

export interface GemmSearchResult {
  level: CpuLevel;
  defaultBlocking: Blocking;
  scores: { blocking: Blocking; gflops: number }[];   // median geometric-mean GFLOP/s, candidates in order
  chosen: TunedEntry;
}

function gflopsOf(gemm: () => void, flops: number, reps: number): number {
  gemm();
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    gemm();
    rates.push(flops / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e9);
  }
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)];
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
    throw new Error(`the ${level} blocking is already ${first.blockingSource === 'tuned' ? 'tuned' : 'forced by RLAIF_GEMM_BLOCKING'}; search in a process that starts from the compiled default (RLAIF_TUNING_FILE=/dev/null, RLAIF_GEMM_BLOCKING unset)`);
  }
  const candidates = options.candidates ?? blockingGrid(def, first.blocking.mr);
  if (!candidates.some((b) => b.mc === def.mc && b.kc === def.kc && b.nc === def.nc)) candidates.unshift(def);
  const shapes = options.shapes ?? [[512, 512, 512], [1024, 1024, 1024], [1024, 512, 128]];
  const rounds = options.rounds ?? 5, reps = options.reps ?? 5, margin = options.margin ?? 1.05;
  const buffers = shapes.map(([M, N, K]) => ({
    M, N, K, a: Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b: Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)),
    c: new Float32Array(M * N),
  }));
  const perCandidate = candidates.map(() => [] as number[]);
  try {
    for (let round = 0; round < rounds; round++) {
      candidates.forEach((blocking, i) => {
        setNativeBlocking(level, blocking);
        let logSum = 0;
        for (const s of buffers) {
          const run = () => first.gemm({ a: s.a, b: s.b, c: s.c, M: s.M, N: s.N, K: s.K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
          logSum += Math.log(gflopsOf(run, 2 * s.M * s.N * s.K, reps));
        }
        perCandidate[i].push(Math.exp(logSum / buffers.length));
      });
      options.log?.(`round ${round + 1}/${rounds} done`);
    }
  } finally {
    setNativeBlocking(level, def);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const scores = candidates.map((blocking, i) => ({ blocking, gflops: median(perCandidate[i]) }));
  const defaultScore = scores.find((s) => s.blocking.mc === def.mc && s.blocking.kc === def.kc && s.blocking.nc === def.nc)!.gflops;
  let best = scores.reduce((a, b) => (b.gflops > a.gflops ? b : a));
  if (best.gflops < defaultScore * margin) best = { blocking: def, gflops: defaultScore };
  for (const s of scores) options.log?.(`mc ${s.blocking.mc} kc ${s.blocking.kc} nc ${s.blocking.nc}: ${s.gflops.toFixed(1)} GFLOP/s`);
  return {
    level, defaultBlocking: def, scores,
    chosen: { ...best.blocking, gflops: best.gflops, defaultGflops: defaultScore, measuredAt: new Date().toISOString() },
  };
}
