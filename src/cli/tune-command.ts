// `rlaif tune`: what the kernels chose on this machine (the MACHINE lines the bench prints, and this CPU's entry in the
// tuning cache: when it was measured, whether a search was too busy to count), and `rlaif tune --search`, the
// per-machine search itself (src/engine/tuning-search.ts), recorded in the tuning cache (RLAIF_TUNING_FILE or
// ~/.cache/rlaif/tuning.json) under this CPU's key for every later process. The search is the longer one (~20-60 s on
// 2 cores; --quick: the first use's few seconds); run it on a quiet machine: a part that other work disturbed (past
// RLAIF_TUNE_BUSY_CPUS) records the compiled defaults, marked busy, and says so. RLAIF_CPU picks the level.
// Leaves out: the wasm and JS backends (nothing to tune).
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { FIRST_USE_SEARCH } from '../engine/autotune.ts';
import { createNativeBackend } from '../engine/backends/native-backend.ts';
import { tuneBusyLimit } from '../engine/cpu-busy.ts';
import { describeMachine, formatMachine } from '../engine/machine.ts';
import { busyNotice, runTuningSearch } from '../engine/tuning-search.ts';
import { machineKey, readTuning, TUNE_SEARCHES, type TunedEntry, tuningFile, writeTuning } from '../engine/tuning.ts';

/** This CPU's tuning entry in a few lines. */
function describeEntry(entry: TunedEntry | null, level: string, file: string): string[] {
  if (!entry) return [`tuning: no entry for "${machineKey(level)}" in ${file} (the compiled defaults; the first process with RLAIF_AUTOTUNE unset searches)`];
  const busy = (part: { busyCpus?: number; searches?: number }) => part.busyCpus === undefined ? ''
    : ` (compiled defaults: other work kept ${part.busyCpus} CPUs busy during its search ${part.searches ?? 1} of ${TUNE_SEARCHES}${(part.searches ?? 1) < TUNE_SEARCHES ? '; the next start searches again' : ''})`;
  const lines = [`tuning: "${machineKey(level)}" in ${file}`,
    `  gemm: the ${entry.kernel ?? level} micro-kernel, mc ${entry.mc} kc ${entry.kc} nc ${entry.nc}, ${entry.split ?? '?'} tasks a thread; ${entry.gflops.toFixed(1)} GFLOP/s against the default's ${entry.defaultGflops.toFixed(1)}, measured ${entry.measuredAt}${busy(entry)}`];
  const pool = entry.pool;
  lines.push(pool ? `  pool: from ${pool.general} multiply-adds, few rows from ${pool.fewRows}, one row streamed from ${pool.stream ?? '?'}, on ${pool.threads ?? '?'} threads, measured ${pool.measuredAt}${busy(pool)}` : '  pool: not measured (the compiled thresholds)');
  return lines;
}

export function registerTuneCommand(program: Command): void {
  program.command('tune').description("show what the kernels chose on this machine (CPU, GEMM blocking, thread-pool thresholds, the tuning cache's entry); --search measures them again")
    .option('--search', 'run the per-machine search and record it (~20-60 s on 2 cores; run it on a quiet machine)')
    .option('--quick', "with --search: the first use's short search (a few seconds)")
    .option('--dry-run', 'with --search: print what it finds, record nothing')
    .action((options: { search?: boolean; quick?: boolean; dryRun?: boolean }) => {
      if ((options.quick || options.dryRun) && !options.search) throw new Error('--quick and --dry-run go with --search');
      const file = tuningFile();
      if (!options.search) {
        const backend = createNativeBackend();
        for (const line of formatMachine(describeMachine(backend))) console.log(`MACHINE ${line}`);
        for (const line of describeEntry(readTuning(backend.cpu, file), backend.cpu, file)) console.log(line);
        return;
      }
      const busyLimit = tuneBusyLimit();                     // checked before the search's seconds, as is the file's folder
      if (!options.dryRun) {
        try {
          mkdirSync(dirname(file), { recursive: true });
          accessSync(dirname(file), constants.W_OK);
        } catch (error) {
          throw new Error(`the tuning cache ${file} cannot be written (${(error as Error).message}); RLAIF_TUNING_FILE names another file`);
        }
      }
      // the search starts from the compiled defaults: this process reads no entry and searches at no first use
      process.env.RLAIF_TUNING_FILE = '/dev/null/none';
      process.env.RLAIF_AUTOTUNE = '0';
      let level;
      try {
        level = createNativeBackend().cpu;
      } catch (error) {
        throw new Error(`the native kernels are not loaded, so there is nothing to tune (${(error as Error).message})`);
      } finally {
        process.env.RLAIF_TUNING_FILE = file;
      }
      const log = (line: string) => console.log(`# ${line}`);
      const previous = readTuning(level, file);
      const gemm = options.quick ? { shapes: FIRST_USE_SEARCH.shapes, rounds: FIRST_USE_SEARCH.rounds, reps: FIRST_USE_SEARCH.reps } : {};
      console.log(`searching ${machineKey(level)}${options.quick ? ' (the short search)' : ''}`);
      const outcome = runTuningSearch({ level, what: 'all', previous, busyLimit, gemm, log });
      const f = outcome.found;
      console.log(`found: the ${f.kernel} micro-kernel, mc ${f.mc} kc ${f.kc} nc ${f.nc}, ${f.gflops.toFixed(1)} GFLOP/s (the default's ${f.defaultGflops.toFixed(1)}), ${f.split} tasks a thread; pool from ${f.pool.general} multiply-adds, few rows from ${f.pool.fewRows}, one row streamed from ${f.pool.stream}`);
      for (const part of outcome.parts) {
        console.log(`other work during the ${part.part} search: ${part.othersCpus === null ? 'not known here (no /proc/stat)' : `${part.othersCpus.toFixed(2)} CPUs busy on average`}`);
        if (part.busy) console.log(busyNotice(part, busyLimit));
      }
      if (options.dryRun) { console.log('--dry-run: nothing recorded'); return; }
      writeTuning(level, outcome.entry, file);
      for (const line of describeEntry(outcome.entry, level, file)) console.log(line);
      if (outcome.parts.some((part) => part.busy)) process.exitCode = 1;  // the search did not do its job: its choice is not recorded
    });
}
