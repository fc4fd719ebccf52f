// The child process of first-use GEMM tuning (autotune.ts): runs the short search for one CPU level from the compiled
// defaults and records the choice in the tuning file: the micro-kernel, blocking, split and pool thresholds (all), or
// the pool thresholds alone, added to this CPU's entry (pool). Each search is timed beside a measure of what other work
// took of the machine meanwhile (cpu-busy.ts); past RLAIF_TUNE_BUSY_CPUS its choice is not recorded: the compiled
// defaults are, marked busy, and the next start searches again (tuning.ts searchAgain). Prints one line per busy search
// for the parent to relay. Usage: autotune-process <level> <tuning file> [all | pool].
// Leaves out: anything the parent process needs in memory (it reads the recorded entry back).
import { FIRST_USE_SEARCH } from './autotune.ts';
import { type CpuLevel, nativeGemmSplit, nativePoolThresholds, setNativeGemmSplit } from './backends/native-backend.ts';
import { measureOthersBusy, tuneBusyLimit } from './cpu-busy.ts';
import { applyGemmChoice, searchGemmBlocking, searchGemmSplit } from './gemm-search.ts';
import { searchPoolThresholds } from './pool-search.ts';
import { readTuning, TUNE_SEARCHES, type TunedEntry, writeTuning } from './tuning.ts';

const [level, file, what = 'all'] = process.argv.slice(2) as [CpuLevel, string, string];
if (!level || !file || (what !== 'all' && what !== 'pool')) throw new Error('usage: autotune-process <level> <tuning file> [all | pool]');
const limit = tuneBusyLimit();
const previous = readTuning(level, file);
if (what === 'pool' && !previous) throw new Error(`${file}: no entry for this CPU at ${level} to add the pool thresholds to`);
const busy = (others: number | null) => others !== null && others > limit;
const say = (part: string, others: number, searches: number) => console.log(`rlaif: other work kept ${others.toFixed(2)} CPUs busy during the ${part} search (more than RLAIF_TUNE_BUSY_CPUS ${limit}), so its timings are not recorded: the compiled defaults stand, and ${searches < TUNE_SEARCHES ? `the next start searches again (search ${searches} of ${TUNE_SEARCHES})` : `no more searches run at start-up (${TUNE_SEARCHES} were busy); \`npm run tune\` on a quiet machine sets them`}`);

let entry: TunedEntry;
if (what === 'all') {
  const defaultSplit = nativeGemmSplit();
  const measured = measureOthersBusy(() => {
    const result = searchGemmBlocking({ level, ...FIRST_USE_SEARCH });
    applyGemmChoice(level, result.chosen);                      // the split measured under the GEMM it will run with
    return { chosen: { ...result.chosen, split: searchGemmSplit({ level, ...FIRST_USE_SEARCH }).split }, compiled: result.defaultBlocking };
  });
  const searches = previous?.busyCpus !== undefined ? (previous.searches ?? 1) + 1 : 1;
  if (busy(measured.othersCpus)) {
    const { compiled, chosen } = measured.value;
    entry = { kernel: level, mc: compiled.mc, kc: compiled.kc, nc: compiled.nc, split: defaultSplit, gflops: chosen.defaultGflops, defaultGflops: chosen.defaultGflops,
      measuredAt: new Date().toISOString(), busyCpus: Number(measured.othersCpus!.toFixed(3)), searches };
    say('GEMM blocking', measured.othersCpus!, searches);
  } else {
    entry = { ...measured.value.chosen, ...(searches > 1 ? { searches } : {}) };
  }
} else {
  entry = previous!;
}
applyGemmChoice(level, { kernel: entry.kernel ?? level, mc: entry.mc, kc: entry.kc, nc: entry.nc }); // the pool measured under the GEMM it will run with
if (entry.split !== undefined) setNativeGemmSplit(entry.split);
const inForce = nativePoolThresholds();
const measured = measureOthersBusy(() => searchPoolThresholds({ level, rounds: 5 }));
const pool = measured.value;
const searches = previous?.pool?.busyCpus !== undefined ? (previous.pool.searches ?? 1) + 1 : 1;
const stamp = { threads: pool.threads, measuredAt: new Date().toISOString() };
if (busy(measured.othersCpus) && pool.threads >= 2) {
  entry = { ...entry, pool: { general: inForce.general, fewRows: inForce.fewRows, stream: inForce.stream, ...stamp, busyCpus: Number(measured.othersCpus!.toFixed(3)), searches } };
  say('thread-pool threshold', measured.othersCpus!, searches);
} else {
  entry = { ...entry, pool: { general: pool.general, fewRows: pool.fewRows, stream: pool.stream, ...stamp, ...(searches > 1 ? { searches } : {}) } };
}
writeTuning(level, entry, file);
