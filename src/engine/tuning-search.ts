// One tuning search for a CPU level, as the first use (autotune-process.ts: the short search) and `rlaif tune --search`
// (the longer one) run it: the GEMM micro-kernel and blocking (gemm-search.ts), the split of a shared GEMM, then the
// pool thresholds (pool-search.ts), each part timed beside a measure of what other work took of the machine meanwhile
// (cpu-busy.ts). A part during which others kept more than the limit busy records the compiled defaults, marked
// `busyCpus` (tuning.ts searchAgain: the next start searches again, TUNE_SEARCHES in all), instead of its noise.
// Must run in a process that starts from the compiled defaults (no tuning file read, nothing forced).
// Leaves out: writing the entry (the caller's), the lock that keeps searches apart (autotune.ts).
import { type CpuLevel, nativeGemmSplit, nativePoolThresholds, setNativeGemmSplit } from './backends/native-backend.ts';
import { measureOthersBusy } from './cpu-busy.ts';
import { applyGemmChoice, searchGemmBlocking, searchGemmSplit } from './gemm-search.ts';
import { searchPoolThresholds } from './pool-search.ts';
import { POOL_LADDERS, TUNE_SEARCHES, type TunedEntry } from './tuning.ts';

export interface TuningSearchOptions {
  level: CpuLevel;
  what: 'all' | 'pool';                  // the whole search, or the pool thresholds alone added to `previous`
  previous: TunedEntry | null;           // this CPU's entry before: its busy searches are counted on
  busyLimit: number;                     // CPUs other work may keep busy on average (RLAIF_TUNE_BUSY_CPUS)
  gemm?: { shapes?: [number, number, number][]; rounds?: number; reps?: number };  // default: gemm-search's (the longer search)
  poolRounds?: number;                   // default 5
  log?: (line: string) => void;          // each candidate's score, each ladder point
}

/** One part of the search: how busy others kept the machine (null: not known here), and whether that was too busy. */
export interface SearchPart { part: 'GEMM blocking' | 'thread-pool threshold'; othersCpus: number | null; busy: boolean; searches: number }

export interface TuningSearchOutcome {
  entry: TunedEntry;                     // what to record
  parts: SearchPart[];
  found: { kernel: CpuLevel; mc: number; kc: number; nc: number; gflops: number; defaultGflops: number; split: number; pool: { general: number; fewRows: number; stream: number } };  // what the timings chose, recorded or not
}

/** The line a busy part prints: what other work took, that the defaults stand, and what happens next. */
export function busyNotice(part: SearchPart, limit: number): string {
  const others = part.othersCpus!.toFixed(2);
  return `rlaif: other work kept ${others} CPUs busy during the ${part.part} search (more than RLAIF_TUNE_BUSY_CPUS ${limit}), so its timings are not recorded: the compiled defaults stand, and ` +
    (part.searches < TUNE_SEARCHES ? `the next start searches again (search ${part.searches} of ${TUNE_SEARCHES})` : `no more searches run at start-up (${TUNE_SEARCHES} were busy); \`rlaif tune --search\` on a quiet machine sets them`);
}

/** Runs the search (the process's GEMM and pool settings are left at what the entry records). */
export function runTuningSearch(options: TuningSearchOptions): TuningSearchOutcome {
  const { level, previous, busyLimit } = options;
  if (options.what === 'pool' && !previous) throw new Error(`no tuning entry for this CPU at ${level} to add the pool thresholds to`);
  const parts: SearchPart[] = [];
  const tooBusy = (others: number | null) => others !== null && others > busyLimit;
  const now = () => new Date().toISOString();
  // a busy part's count goes on from the entry before (one that counted starts again at 1)
  const searchNumber = (before: { busyCpus?: number; searches?: number } | undefined) => before?.busyCpus !== undefined ? (before.searches ?? 1) + 1 : 1;
  let entry: TunedEntry, gemmFound: TunedEntry;
  if (options.what === 'all') {
    const defaultSplit = nativeGemmSplit();
    const measured = measureOthersBusy(() => {
      const result = searchGemmBlocking({ level, ...options.gemm, log: options.log });
      applyGemmChoice(level, result.chosen);                    // the split measured under the GEMM it will run with
      return { result, split: searchGemmSplit({ level, ...options.gemm, log: options.log }).split };
    });
    const { result, split } = measured.value;
    const searches = searchNumber(previous ?? undefined);
    const busy = tooBusy(measured.othersCpus);
    parts.push({ part: 'GEMM blocking', othersCpus: measured.othersCpus, busy, searches });
    gemmFound = { ...result.chosen, split };
    entry = busy
      ? { kernel: level, ...result.defaultBlocking, split: defaultSplit, gflops: result.chosen.defaultGflops, defaultGflops: result.chosen.defaultGflops,
          measuredAt: now(), busyCpus: Number(measured.othersCpus!.toFixed(3)), searches }
      : { ...result.chosen, split, ...(searches > 1 ? { searches } : {}) };
  } else {
    entry = gemmFound = previous!;
  }
  applyGemmChoice(level, { kernel: entry.kernel ?? level, mc: entry.mc, kc: entry.kc, nc: entry.nc }); // the pool measured under the GEMM it will run with
  if (entry.split !== undefined) setNativeGemmSplit(entry.split);
  const inForce = nativePoolThresholds();
  const measured = measureOthersBusy(() => searchPoolThresholds({ level, rounds: options.poolRounds ?? 5, log: options.log }));
  const pool = measured.value;
  const searches = searchNumber(previous?.pool);
  const busy = tooBusy(measured.othersCpus) && pool.threads >= 2;
  parts.push({ part: 'thread-pool threshold', othersCpus: measured.othersCpus, busy, searches });
  const stamp = { threads: pool.threads, measuredAt: now(), ladders: POOL_LADDERS };
  entry = { ...entry, pool: busy
    ? { general: inForce.general, fewRows: inForce.fewRows, stream: inForce.stream, ...stamp, busyCpus: Number(measured.othersCpus!.toFixed(3)), searches }
    : { general: pool.general, fewRows: pool.fewRows, stream: pool.stream, ...stamp, ...(searches > 1 ? { searches } : {}) } };
  const found = { kernel: gemmFound.kernel ?? level, mc: gemmFound.mc, kc: gemmFound.kc, nc: gemmFound.nc, gflops: gemmFound.gflops, defaultGflops: gemmFound.defaultGflops,
    split: gemmFound.split ?? nativeGemmSplit(), pool: { general: pool.general, fewRows: pool.fewRows, stream: pool.stream } };
  return { entry, parts, found };
}
