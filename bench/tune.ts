// `npm run tune`: the per-machine GEMM micro-kernel, blocking and split search (src/engine/gemm-search.ts) for the
// native backend's level, then the thread-pool thresholds' (src/engine/pool-search.ts),
// recorded in the tuning cache (src/engine/tuning.ts: RLAIF_TUNING_FILE or ~/.cache/rlaif/tuning.json) under this
// CPU's key; every later process on this machine loads it. ~20-60 s on 2 cores. Run it on a quiet machine: with other
// work on the cores the candidates' scores swing by +-10% and the margin (5%) is all that stands between the default
// and a choice made by noise. Usage: npm run tune [-- --dry-run]
import { setNativeGemmSplit } from '../src/engine/backends/native-backend.ts';
import { applyGemmChoice, searchGemmBlocking, searchGemmSplit } from '../src/engine/gemm-search.ts';
import { searchPoolThresholds } from '../src/engine/pool-search.ts';
import { machineKey, tuningFile, writeTuning } from '../src/engine/tuning.ts';

const dryRun = process.argv.includes('--dry-run');
// the search must start from the compiled default: ignore any cached entry in this process
const target = tuningFile();
process.env.RLAIF_TUNING_FILE = '/dev/null/none';
process.env.RLAIF_AUTOTUNE = '0'; // this is the search: no first-use one
const result = searchGemmBlocking({ log: (line) => console.log(`# ${line}`) });
const { chosen } = result;
const d = result.defaultBlocking;
console.log(`tuned ${result.level}: ${chosen.kernel} micro-kernel, mc ${chosen.mc} kc ${chosen.kc} nc ${chosen.nc}, ${chosen.gflops.toFixed(1)} GFLOP/s ` +
  `(default ${result.level} micro-kernel, mc ${d.mc} kc ${d.kc} nc ${d.nc}: ${chosen.defaultGflops.toFixed(1)}) for ${machineKey(result.level)}`);
applyGemmChoice(result.level, chosen); // the split and the pool thresholds measured under the GEMM they will run with
const split = searchGemmSplit({ level: result.level, log: (line) => console.log(`# ${line}`) });
console.log(`split: ${split.split} compute tasks per thread (compiled default ${split.defaultSplit})`);
setNativeGemmSplit(split.split);
const pool = searchPoolThresholds({ level: result.level, log: (line) => console.log(`# ${line}`) });
console.log(`pool from ${pool.general} multiply-adds, few rows from ${pool.fewRows}, one row streamed from ${pool.stream} (compiled defaults 2097152, 8388608, 524288; ${pool.threads} threads)`);
if (!dryRun) {
  writeTuning(result.level, { ...chosen, split: split.split, pool: { general: pool.general, fewRows: pool.fewRows, stream: pool.stream, threads: pool.threads, measuredAt: new Date().toISOString() } }, target);
  console.log(`recorded in ${target}`);
}
