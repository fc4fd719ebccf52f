// Where the reference tiny-GPT training step spends its time: times every kernel of the current backend
// (kernel-timer.ts) and prints ms per step and calls per step for each kernel (GEMMs by transpose, shape and
// accumulate), beside the step's median. Leaves out JS-side time except as the gap between the two totals.
// Run: node --import tsx bench/step-profile.ts [fp32|bf16]   (RLAIF_BACKEND picks the backend; bf16: mixed precision)
import type { MatmulPrecision } from '../src/engine/index.ts';
import { timeKernels } from './kernel-timer.ts';
import { trainStepMs } from './train-step.ts';

const precision = (process.argv[2] ?? 'fp32') as MatmulPrecision;
if (precision !== 'fp32' && precision !== 'bf16') throw new Error(`step-profile: precision must be fp32 or bf16, got ${precision}`);
const timer = timeKernels({ on: false }), stats = timer.stats;
trainStepMs(3, { precision }); // warm up: pool, JIT
timer.on = true;
const steps = 20, ran = steps + 2; // trainStepMs runs 2 untimed steps first; the kernels are timed in all of them
const median = trainStepMs(steps, { precision });
timer.on = false;
const total = [...stats.values()].reduce((sum, entry) => sum + entry.ms, 0) / ran;
console.log(`${precision}: step median ${median.toFixed(2)} ms; kernels ${total.toFixed(2)} ms per step (mean)`);
for (const [key, entry] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`${(entry.ms / ran).toFixed(3).padStart(8)} ms ${String(entry.calls / ran).padStart(4)}x  ${key}`);
}
