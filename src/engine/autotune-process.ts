// The child process of first-use GEMM tuning (autotune.ts): runs the short search for one CPU level from the compiled
// defaults (tuning-search.ts) and records it in the tuning file: the micro-kernel, blocking, split and pool thresholds
// (all), or the pool thresholds alone, added to this CPU's entry (pool). A part that other work disturbed (past
// RLAIF_TUNE_BUSY_CPUS) records the compiled defaults, marked busy, and prints a line for the parent to relay.
// Usage: autotune-process <level> <tuning file> [all | pool].
// Leaves out: anything the parent process needs in memory (it reads the recorded entry back).
import { FIRST_USE_SEARCH } from './autotune.ts';
import type { CpuLevel } from './backends/native-backend.ts';
import { tuneBusyLimit } from './cpu-busy.ts';
import { busyNotice, runTuningSearch } from './tuning-search.ts';
import { readTuning, writeTuning } from './tuning.ts';

const [level, file, what = 'all'] = process.argv.slice(2) as [CpuLevel, string, string];
if (!level || !file || (what !== 'all' && what !== 'pool')) throw new Error('usage: autotune-process <level> <tuning file> [all | pool]');
const busyLimit = tuneBusyLimit();
const previous = readTuning(level, file);
if (what === 'pool' && !previous) throw new Error(`${file}: no entry for this CPU at ${level} to add the pool thresholds to`);
const { shapes, rounds, reps } = FIRST_USE_SEARCH;
const outcome = runTuningSearch({ level, what, previous, busyLimit, gemm: { shapes, rounds, reps } });
for (const part of outcome.parts) if (part.busy) console.log(busyNotice(part, busyLimit));
writeTuning(level, outcome.entry, file);
