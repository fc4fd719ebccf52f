// GEMM tuning at first use: when the native backend loads a CPU level with neither RLAIF_GEMM_BLOCKING nor an entry
// for this CPU in the tuning cache (tuning.ts), a short measured search (gemm-search.ts: two shapes, 3 interleaved
// rounds, ~1-3 s; then pool-search.ts's thresholds, 5 rounds, ~1-2 s) runs once, in a child process of its own, and
// records its choice (the compiled default when nothing beats it by 5%) under this CPU's key; every later process on
// the machine starts tuned. An entry from before the pool search (or its stream threshold) gets the pool's alone, once.
// RLAIF_AUTOTUNE=0 turns it off (the compiled default stands, as in the test suite); a search that fails warns once and
// the default stands. A search that other work disturbed records the compiled defaults, says so, and is made again at
// the next start (autotune-process.ts, tuning.ts searchAgain); processes that start at once search one at a time
// (a lock file beside the tuning file), the others waiting to read what it recorded.
// Leaves out: the longer search (`rlaif tune --search`), -march=native (never: the kernels dispatch at run time).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from './process-alive.ts';

/** The short search's settings: the kernels' most common shapes (a square and a training-step product). */
export const FIRST_USE_SEARCH = { shapes: [[512, 512, 512], [1024, 512, 128]] as [number, number, number][], rounds: 3, reps: 3 };

/** Whether first-use tuning may run (RLAIF_AUTOTUNE unset or anything but "0"). */
export function autotuneEnabled(): boolean {
  return process.env.RLAIF_AUTOTUNE !== '0';
}

/** Runs the short search for `level` in a child process that writes its choice to `file`: the GEMM blocking and the
 * pool thresholds ('all'), or the pool thresholds alone, added to this CPU's entry ('pool'); false when it failed.
 * One search at a time per tuning file (`file`.lock): a process that finds another's search under way waits for it
 * and reads what it recorded (true), instead of searching beside it (each would time the other's work). */
export function tuneAtFirstUse(level: string, file: string, what: 'all' | 'pool' = 'all'): boolean {
  const lock = takeTuningLock(file, level);
  if (lock === 'waited') return true;
  if (typeof lock === 'object') {                       // nowhere to record it: a search at every start would be wasted
    process.stderr.write(`rlaif: the tuning cache ${file} cannot be written (${lock.unwritable}), so no search runs: the compiled defaults stand (RLAIF_TUNING_FILE names another file; RLAIF_AUTOTUNE=0 skips this)\n`);
    return false;
  }
  try {
    const typescript = import.meta.url.endsWith('.ts'); // sources run through tsx; the package ships compiled .js
    const script = fileURLToPath(new URL(`./autotune-process.${typescript ? 'ts' : 'js'}`, import.meta.url));
    process.stderr.write(`rlaif: tuning the ${what === 'all' ? 'GEMM blocking and thread-pool thresholds' : 'thread-pool thresholds'} for this CPU (${level}); once per machine, RLAIF_AUTOTUNE=0 skips it\n`);
    const run = spawnSync(process.execPath, [...(typescript ? ['--import', 'tsx'] : []), script, level, file, what], {
      encoding: 'utf8', timeout: SEARCH_TIMEOUT_MS,
      // search from the compiled defaults, on every CPU this process may run on: a first use under RLAIF_THREADS=1 had
      // measured no pool (one thread) and recorded the compiled thresholds for every later process on the machine
      env: { ...process.env, RLAIF_AUTOTUNE: '0', RLAIF_GEMM_BLOCKING: '', RLAIF_GEMM_KERNEL: '', RLAIF_GEMM_SPLIT: '', RLAIF_POOL_MIN_MACS: '', RLAIF_THREADS: '', RLAIF_TUNING_FILE: '/dev/null/none' },
    });
    for (const line of (run.stdout ?? '').split('\n')) if (line.startsWith('rlaif: ')) process.stderr.write(`${line}\n`); // a busy search, said
    if (run.status === 0) return true;
    const why = run.error ? run.error.message : run.signal ? `killed by ${run.signal}` : (run.stderr.trim().split('\n').at(-1) ?? `exit code ${run.status}`);
    process.stderr.write(`rlaif: GEMM tuning failed (${why}); the compiled default stands\n`);
    return false;
  } finally {
    rmSync(lockPath(file), { force: true });
  }
}

const SEARCH_TIMEOUT_MS = 180_000;
const lockPath = (file: string) => `${file}.lock`;

/**
 * Takes the tuning file's lock for this process ('taken'), or, while a live process holds it, waits until it lets go
 * ('waited', up to the search's timeout and a little more); `unwritable` (why) where the lock cannot be made beside
 * the file (its folder cannot be made or written: nor could the entry). A lock whose process is gone, or older than
 * any search, is taken over.
 */
export function takeTuningLock(file: string, level: string): 'taken' | 'waited' | { unwritable: string } {
  const path = lockPath(file);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    return { unwritable: (error as Error).message };
  }
  const deadline = Date.now() + SEARCH_TIMEOUT_MS + 20_000, nap = new Int32Array(new SharedArrayBuffer(4));
  let waited = false;
  for (;;) {
    if (!waited) {
      try {
        writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
        return 'taken';
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return { unwritable: (error as Error).message };
      }
    }
    let holder = Number.NaN, age = 0;
    try {
      holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      if (waited) return 'waited';                                    // let go: its entry is recorded
      continue;
    }
    // gone, older than any search (its pid since reused), or never finished being written a while ago: taken over,
    // unless this process was waiting for it
    if (age > SEARCH_TIMEOUT_MS + 20_000 || (Number.isInteger(holder) ? !processAlive(holder) : age > 5_000)) {
      rmSync(path, { force: true });
      if (waited) return 'waited';
      continue;
    }
    if (waited && Date.now() > deadline) return 'waited';
    if (!waited) process.stderr.write(`rlaif: waiting for process ${Number.isInteger(holder) ? holder : '(starting)'}'s tuning of this CPU (${level}) to finish, to use what it records\n`);
    waited = true;
    Atomics.wait(nap, 0, 0, 100);
  }
}
