// The child process of first-use GEMM tuning (autotune.ts): runs the short search for one CPU level from the compiled
// defaults and records the choice in the tuning file: the micro-kernel, blocking, split and pool thresholds (all), or
// the pool thresholds alone, added to this CPU's entry (pool). Usage: autotune-process <level> <tuning file> [all | pool].
// Leaves out: anything the parent process needs in memory (it reads the recorded entry back).
import { FIRST_USE_SEARCH } from './autotune.ts';
import { type CpuLevel, setNativeGemmSplit } from './backends/native-backend.ts';
import { applyGemmChoice, searchGemmBlocking, searchGemmSplit } from './gemm-search.ts';
import { searchPoolThresholds } from './pool-search.ts';
import { readTuning, writeTuning } from './tuning.ts';

const [level, file, what = 'all'] = process.argv.slice(2);
if (!level || !file || (what !== 'all' && what !== 'pool')) throw new Error('usage: autotune-process <level> <tuning file> [all | pool]');
const found = what === 'all' ? searchGemmBlocking({ level: level as CpuLevel, ...FIRST_USE_SEARCH }).chosen : readTuning(level, file);
if (!found) throw new Error(`${file}: no entry for this CPU at ${level} to add the pool thresholds to`);
applyGemmChoice(level as CpuLevel, found); // the split and the pool measured under the GEMM they will run with
const entry = what === 'all' ? { ...found, split: searchGemmSplit({ level: level as CpuLevel, ...FIRST_USE_SEARCH }).split } : found;
if (entry.split !== undefined) setNativeGemmSplit(entry.split);
const pool = searchPoolThresholds({ level: level as CpuLevel, rounds: 5 });
writeTuning(level, { ...entry, pool: { general: pool.general, fewRows: pool.fewRows, stream: pool.stream, threads: pool.threads, measuredAt: new Date().toISOString() } }, file);
