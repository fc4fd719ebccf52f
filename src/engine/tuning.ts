// Per-machine GEMM tuning: the native kernels' cache blocking (mc rows of A, kc depth, nc columns of B) chosen by a
// short measured search on the machine itself, cached per CPU (model, family/model/stepping, level) in the user's
// cache folder and applied when the native backend loads; RLAIF_GEMM_BLOCKING="mc,kc,nc" overrides both.
// The same entry holds the pool thresholds (`pool`: the multiply-adds from which a product goes to the thread pool,
// for products in general, for those of few rows, and for 1-4 rows over weights streamed from memory) from their own
// measured search (pool-search.ts); RLAIF_POOL_MIN_MACS="general,fewRows[,stream]" overrides them. The entry also
// names the register micro-kernel the level's GEMM runs on (`kernel`: the level's own, or a lower level's, e.g. AVX2's
// 6x16 on an AVX-512 CPU whose 512-bit FMAs run as two halves; absent: its own), from the same search;
// RLAIF_GEMM_KERNEL=<level> overrides it. And `split`: the compute tasks per thread of a GEMM all threads share,
// measured after the blocking; RLAIF_GEMM_SPLIT=n overrides it. A search during which other work kept more than
// RLAIF_TUNE_BUSY_CPUS busy (cpu-busy.ts) records the compiled defaults with `busyCpus`, and runs again at the next
// start, up to TUNE_SEARCHES in all.
// Leaves out: the micro-kernels themselves (compiled once per level), the search itself (a short one at first use:
// autotune.ts; a longer one: `rlaif tune --search`, also `npm run tune`).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CpuLevel } from './backends/native-backend.ts';
import { cpuIdentity } from './cpu-identity.ts';

export interface Blocking { mc: number; kc: number; nc: number }

/** A register micro-kernel, named by the level it was compiled for. */
export type GemmKernel = CpuLevel;
export const GEMM_KERNELS: readonly GemmKernel[] = ['avx512', 'avx2', 'generic'];

/**
 * Multiply-adds from which a product goes to the thread pool: in general, for products of few rows, and for 1-4 rows
 * over a B streamed once in memory order (a decode step's weights; absent: the compiled default, 2^19).
 */
export interface PoolThresholds { general: number; fewRows: number; stream?: number }

export interface TunedEntry extends Blocking {
  kernel?: GemmKernel;      // the micro-kernel the blocking is for; absent: the level's own (entries from before the choice)
  split?: number;           // compute tasks per thread of a shared GEMM; absent in entries from before the split search
  gflops: number;           // the score (geometric mean GFLOP/s over the search's shapes) of this blocking
  defaultGflops: number;    // ... and of the compiled default, measured interleaved with it
  measuredAt: string;       // ISO date
  /** set when other work kept this many CPUs busy on average during the search (past RLAIF_TUNE_BUSY_CPUS): the
   * compiled default micro-kernel, blocking and split are recorded instead of its noise, and it is searched again */
  busyCpus?: number;
  searches?: number;        // searches that made this entry as it is (absent: 1); a busy one is redone until TUNE_SEARCHES
  /** absent in entries written before the pool search existed; threads: the pool's threads when it was measured
   * (absent before it was recorded; 1: nothing measured, the compiled thresholds); busyCpus and searches as above,
   * for the pool's own search (a busy one records the thresholds that were in force) */
  pool?: PoolThresholds & { measuredAt: string; threads?: number; busyCpus?: number; searches?: number;
    /** the search's ladders version (pool-search.ts POOL_LADDERS; absent: 1): older ones are measured again */
    ladders?: number };
}

/** The pool search's ladders' version (pool-search.ts), recorded with the thresholds (`pool.ladders`): an entry
 * measured on older ladders is measured again at the next start. 2: the few-row ladder from 0.26 million
 * multiply-adds instead of 1 million. */
export const POOL_LADDERS = 2;

/** How many searches a machine gets while other work disturbs them: then the compiled defaults stay (no more searches
 * at start-up; `rlaif tune --search` on a quiet machine sets them). */
export const TUNE_SEARCHES = 3;

/** Whether a search marked busy (busyCpus set) is to be made again: fewer than TUNE_SEARCHES made it so far. */
export function searchAgain(part: { busyCpus?: number; searches?: number }): boolean {
  return part.busyCpus !== undefined && (part.searches ?? 1) < TUNE_SEARCHES;
}

/** Where tuned blockings are kept: RLAIF_TUNING_FILE, else $XDG_CACHE_HOME/rlaif/tuning.json, else ~/.cache/... */
export function tuningFile(): string {
  if (process.env.RLAIF_TUNING_FILE) return process.env.RLAIF_TUNING_FILE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rlaif', 'tuning.json');
}

/** The cache key of this machine at one CPU level: a different CPU (or stepping) never reuses another's choice. */
export function machineKey(level: string): string {
  const cpu = cpuIdentity();
  return `${cpu.model} | family ${cpu.family ?? '?'} model ${cpu.modelNumber ?? '?'} stepping ${cpu.stepping ?? '?'} | ${level}`;
}

/** RLAIF_GEMM_BLOCKING="mc,kc,nc" parsed, or null when unset; anything else is an error naming the variable. */
export function blockingFromEnv(value = process.env.RLAIF_GEMM_BLOCKING): Blocking | null {
  if (value === undefined || value === '') return null;
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length !== 3 || parts.some((part) => !/^\d+$/.test(part))) {
    throw new Error(`RLAIF_GEMM_BLOCKING must be three whole numbers "mc,kc,nc" (e.g. "336,256,3072"), got "${value}"`);
  }
  const [mc, kc, nc] = parts.map(Number);
  return { mc, kc, nc };
}

/** RLAIF_GEMM_KERNEL=<level> (whose register micro-kernel the GEMM runs on), or null when unset; anything else is an error naming the variable. */
export function gemmKernelFromEnv(value = process.env.RLAIF_GEMM_KERNEL): GemmKernel | null {
  if (value === undefined || value === '') return null;
  if (!(GEMM_KERNELS as readonly string[]).includes(value.trim())) throw new Error(`RLAIF_GEMM_KERNEL must name a level's micro-kernel (${GEMM_KERNELS.join(', ')}), got "${value}"`);
  return value.trim() as GemmKernel;
}

/** A split is a whole number of compute tasks per thread in [1, 64]. */
export function isGemmSplit(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 64;
}

/** RLAIF_GEMM_SPLIT=n (compute tasks per thread of a shared GEMM), or null when unset; anything else is an error naming the variable. */
export function gemmSplitFromEnv(value = process.env.RLAIF_GEMM_SPLIT): number | null {
  if (value === undefined || value === '') return null;
  const split = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!isGemmSplit(split)) throw new Error(`RLAIF_GEMM_SPLIT must be a whole number of tasks per thread in [1, 64], got "${value}"`);
  return split;
}

/** RLAIF_POOL_MIN_MACS="general,fewRows[,stream]" parsed, or null when unset; anything else is an error naming the variable. */
export function poolThresholdsFromEnv(value = process.env.RLAIF_POOL_MIN_MACS): PoolThresholds | null {
  if (value === undefined || value === '') return null;
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => !/^\d+$/.test(part) || Number(part) < 1 || Number(part) > 2 ** 40)) {
    throw new Error(`RLAIF_POOL_MIN_MACS must be two or three whole numbers of multiply-adds "general,fewRows[,stream]", each in [1, 2^40] (e.g. "2097152,8388608,524288"), got "${value}"`);
  }
  const [general, fewRows, stream] = parts.map(Number);
  return stream === undefined ? { general, fewRows } : { general, fewRows, stream };
}

function readAll(file: string): Record<string, TunedEntry> {
  if (!existsSync(file)) return {};
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed as Record<string, TunedEntry> : {};
  } catch (error) {
    throw new Error(`${file}: not a tuning file (${(error as Error).message}); delete it or run \`rlaif tune --search\` again`);
  }
}

/** The cached entry for this machine at `level`, or null. */
export function readTuning(level: string, file = tuningFile()): TunedEntry | null {
  const entry = readAll(file)[machineKey(level)];
  if (!entry) return null;
  for (const key of ['mc', 'kc', 'nc'] as const) {
    if (!Number.isInteger(entry[key]) || entry[key] <= 0) throw new Error(`${file}: entry "${machineKey(level)}" has ${key} = ${entry[key]}`);
  }
  if (entry.kernel !== undefined && !(GEMM_KERNELS as readonly string[]).includes(entry.kernel)) throw new Error(`${file}: entry "${machineKey(level)}" has kernel = ${JSON.stringify(entry.kernel)}, expected one of ${GEMM_KERNELS.join(', ')}`);
  if (entry.split !== undefined && !isGemmSplit(entry.split)) throw new Error(`${file}: entry "${machineKey(level)}" has split = ${JSON.stringify(entry.split)}, expected a whole number of tasks per thread in [1, 64]`);
  if (entry.pool !== undefined) {
    for (const key of ['general', 'fewRows', 'stream'] as const) {
      const value = entry.pool?.[key];
      if (key === 'stream' && value === undefined) continue; // entries from before the stream threshold
      if (!Number.isInteger(value) || value! < 1 || value! > 2 ** 40) throw new Error(`${file}: entry "${machineKey(level)}" has pool.${key} = ${value}`);
    }
    const threads = entry.pool.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`${file}: entry "${machineKey(level)}" has pool.threads = ${JSON.stringify(threads)}, expected a whole number >= 1`);
    const ladders = entry.pool.ladders;
    if (ladders !== undefined && !(Number.isInteger(ladders) && ladders >= 1)) throw new Error(`${file}: entry "${machineKey(level)}" has pool.ladders = ${JSON.stringify(ladders)}, expected a whole number >= 1`);
  }
  for (const [name, part] of [['', entry], ['pool.', entry.pool ?? {}]] as const) {
    if (part.busyCpus !== undefined && !(typeof part.busyCpus === 'number' && part.busyCpus >= 0)) throw new Error(`${file}: entry "${machineKey(level)}" has ${name}busyCpus = ${JSON.stringify(part.busyCpus)}, expected a number of CPUs >= 0`);
    if (part.searches !== undefined && !(Number.isInteger(part.searches) && part.searches >= 1)) throw new Error(`${file}: entry "${machineKey(level)}" has ${name}searches = ${JSON.stringify(part.searches)}, expected a whole number >= 1`);
  }
  return entry;
}

/** Records this machine's entry at `level` (other machines' entries are kept; written atomically). */
export function writeTuning(level: string, entry: TunedEntry, file = tuningFile()): void {
  const all = readAll(file);
  all[machineKey(level)] = entry;
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(all, null, 2)}\n`);
  renameSync(temporary, file);
}
