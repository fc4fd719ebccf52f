// Where the reference tiny-GPT training step spends its time: times every kernel of the current backend
// (kernel-timer.ts) and prints ms per step and calls per step for each kernel (GEMMs by transpose, shape and
// accumulate), beside the step's median. Leaves out JS-side time except as the gap between the two totals.
// Run: node --import tsx bench/step-profile.ts   (RLAIF_BACKEND picks the backend)
import { timeKernels } from './kernel-timer.ts';
import { trainStepMs } from './train-step.ts';

const timer = timeKernels({ on: false }), stats = timer.stats;
trainStepMs(3); // warm up: pool, JIT
timer.on = true;
const steps = 20, ran = steps + 2; // trainStepMs runs 2 untimed steps first; the kernels are timed in all of them
const median = trainStepMs(steps);
timer.on = false;
const total = [...stats.values()].reduce((sum, entry) => sum + entry.ms, 0) / ran;
console.log(`step median ${median.toFixed(2)} ms; kernels ${total.toFixed(2)} ms per step (mean)`);
for (const [key, entry] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`${(entry.ms / ran).toFixed(3).padStart(8)} ms ${String(entry.calls / ran).padStart(4)}x  ${key}`);
}
