// `npm run tune`: the per-machine GEMM micro-kernel, blocking and split search (src/engine/gemm-search.ts) for the
// native backend's level, then the thread-pool thresholds' (src/engine/pool-search.ts),
// recorded in the tuning cache (src/engine/tuning.ts: RLAIF_TUNING_FILE or ~/.cache/rlaif/tuning.json) under this
// CPU's key; every later process on this machine loads it. ~20-60 s on 2 cores. Run it on a quiet machine: with other
// work on the cores the candidates' scores swing by +-10% and the margin (5%) is all that stands between the default
// and a choice made by noise. Each search is timed beside a measure of other work on the machine (cpu-busy.ts): past
// RLAIF_TUNE_BUSY_CPUS its choice is not recorded (the compiled defaults are, marked busy). Usage: npm run tune [-- --dry-run]
import { nativeGemmSplit, nativePoolThresholds, setNativeGemmSplit } from '../src/engine/backends/native-backend.ts';
import { measureOthersBusy, tuneBusyLimit } from '../src/engine/cpu-busy.ts';
import { applyGemmChoice, searchGemmBlocking, searchGemmSplit } from '../src/engine/gemm-search.ts';
import { searchPoolThresholds } from '../src/engine/pool-search.ts';
import { machineKey, type TunedEntry, tuningFile, writeTuning } from '../src/engine/tuning.ts';

const dryRun = process.argv.includes('--dry-run');
const limit = tuneBusyLimit();
// the search must start from the compiled default: ignore any cached entry in this process
const target = tuningFile();
process.env.RLAIF_TUNING_FILE = '/dev/null/none';
process.env.RLAIF_AUTOTUNE = '0'; // this is the search: no first-use one
const defaultSplit = nativeGemmSplit();
/** Others' CPUs during a search, printed; true when past the limit (its choice is then not recorded). */
const busy = (part: string, others: number | null): boolean => {
  console.log(`# other work during the ${part} search: ${others === null ? 'not known here (no /proc/stat)' : `${others.toFixed(2)} CPUs busy on average`}`);
  if (others === null || others <= limit) return false;
  console.log(`busy: more than RLAIF_TUNE_BUSY_CPUS ${limit}: the ${part} search's choice is not recorded (the compiled defaults are, marked busy: the next start searches again); run this on a quiet machine`);
  return true;
};
const searched = measureOthersBusy(() => {
  const result = searchGemmBlocking({ log: (line) => console.log(`# ${line}`) });
  const { chosen } = result;
  const d = result.defaultBlocking;
  console.log(`tuned ${result.level}: ${chosen.kernel} micro-kernel, mc ${chosen.mc} kc ${chosen.kc} nc ${chosen.nc}, ${chosen.gflops.toFixed(1)} GFLOP/s ` +
    `(default ${result.level} micro-kernel, mc ${d.mc} kc ${d.kc} nc ${d.nc}: ${chosen.defaultGflops.toFixed(1)}) for ${machineKey(result.level)}`);
  applyGemmChoice(result.level, chosen); // the split and the pool thresholds measured under the GEMM they will run with
  const split = searchGemmSplit({ level: result.level, log: (line) => console.log(`# ${line}`) });
  console.log(`split: ${split.split} compute tasks per thread (compiled default ${split.defaultSplit})`);
  return { result, split: split.split };
});
const { result } = searched.value;
let entry: TunedEntry = { ...result.chosen, split: searched.value.split };
if (busy('GEMM blocking', searched.othersCpus)) {
  entry = { kernel: result.level, ...result.defaultBlocking, split: defaultSplit, gflops: result.chosen.defaultGflops, defaultGflops: result.chosen.defaultGflops,
    measuredAt: new Date().toISOString(), busyCpus: Number(searched.othersCpus!.toFixed(3)) };
}
applyGemmChoice(result.level, entry);
setNativeGemmSplit(entry.split!);
const inForce = nativePoolThresholds();
const measured = measureOthersBusy(() => searchPoolThresholds({ level: result.level, log: (line) => console.log(`# ${line}`) }));
const pool = measured.value;
console.log(`pool from ${pool.general} multiply-adds, few rows from ${pool.fewRows}, one row streamed from ${pool.stream} (compiled defaults 2097152, 8388608, 524288; ${pool.threads} threads)`);
const stamp = { threads: pool.threads, measuredAt: new Date().toISOString() };
entry = { ...entry, pool: busy('thread-pool threshold', measured.othersCpus) && pool.threads >= 2
  ? { general: inForce.general, fewRows: inForce.fewRows, stream: inForce.stream, ...stamp, busyCpus: Number(measured.othersCpus!.toFixed(3)) }
  : { general: pool.general, fewRows: pool.fewRows, stream: pool.stream, ...stamp } };
if (!dryRun) {
  writeTuning(result.level, entry, target);
  console.log(`recorded in ${target}`);
}
