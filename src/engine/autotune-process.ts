// The child process of first-use GEMM tuning (autotune.ts): runs the short search for one CPU level from the compiled
// default and records the choice in the tuning file. Usage: autotune-process <level> <tuning file>.
// Leaves out: anything the parent process needs in memory (it reads the recorded entry back).
import { FIRST_USE_SEARCH } from './autotune.ts';
import type { CpuLevel } from './backends/native-backend.ts';
import { searchGemmBlocking } from './gemm-search.ts';
import { writeTuning } from './tuning.ts';

const [level, file] = process.argv.slice(2);
if (!level || !file) throw new Error('usage: autotune-process <level> <tuning file>');
const result = searchGemmBlocking({ level: level as CpuLevel, ...FIRST_USE_SEARCH });
writeTuning(result.level, result.chosen, file);
