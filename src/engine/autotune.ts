// GEMM tuning at first use: when the native backend loads a CPU level with neither RLAIF_GEMM_BLOCKING nor an entry
// for this CPU in the tuning cache (tuning.ts), a short measured search (gemm-search.ts: two shapes, 3 interleaved
// rounds, ~1-3 s; then pool-search.ts's thresholds, 5 rounds, ~1-2 s) runs once, in a child process of its own, and
// records its choice (the compiled default when nothing beats it by 5%) under this CPU's key; every later process on
// the machine starts tuned. An entry from before the pool search (or its stream threshold) gets the pool's alone, once.
// RLAIF_AUTOTUNE=0 turns it off (the compiled default stands, as in the test suite); a search that fails warns once and
// the default stands.
// Leaves out: the longer `npm run tune` search, -march=native (never: the kernels dispatch at run time).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The short search's settings: the kernels' most common shapes (a square and a training-step product). */
export const FIRST_USE_SEARCH = { shapes: [[512, 512, 512], [1024, 512, 128]] as [number, number, number][], rounds: 3, reps: 3 };

/** Whether first-use tuning may run (RLAIF_AUTOTUNE unset or anything but "0"). */
export function autotuneEnabled(): boolean {
  return process.env.RLAIF_AUTOTUNE !== '0';
}

/** Runs the short search for `level` in a child process that writes its choice to `file`: the GEMM blocking and the
 * pool thresholds ('all'), or the pool thresholds alone, added to this CPU's entry ('pool'); false when it failed. */
export function tuneAtFirstUse(level: string, file: string, what: 'all' | 'pool' = 'all'): boolean {
  const typescript = import.meta.url.endsWith('.ts'); // sources run through tsx; the package ships compiled .js
  const script = fileURLToPath(new URL(`./autotune-process.${typescript ? 'ts' : 'js'}`, import.meta.url));
  process.stderr.write(`rlaif: tuning the ${what === 'all' ? 'GEMM blocking and thread-pool thresholds' : 'thread-pool thresholds'} for this CPU (${level}); once per machine, RLAIF_AUTOTUNE=0 skips it\n`);
  const run = spawnSync(process.execPath, [...(typescript ? ['--import', 'tsx'] : []), script, level, file, what], {
    encoding: 'utf8', timeout: 180_000,
    // search from the compiled defaults, on every CPU this process may run on: a first use under RLAIF_THREADS=1 had
    // measured no pool (one thread) and recorded the compiled thresholds for every later process on the machine
    env: { ...process.env, RLAIF_AUTOTUNE: '0', RLAIF_GEMM_BLOCKING: '', RLAIF_GEMM_KERNEL: '', RLAIF_GEMM_SPLIT: '', RLAIF_POOL_MIN_MACS: '', RLAIF_THREADS: '', RLAIF_TUNING_FILE: '/dev/null/none' },
  });
  if (run.status === 0) return true;
  const why = run.error ? run.error.message : run.signal ? `killed by ${run.signal}` : (run.stderr.trim().split('\n').at(-1) ?? `exit code ${run.status}`);
  process.stderr.write(`rlaif: GEMM tuning failed (${why}); the compiled default stands\n`);
  return false;
}
