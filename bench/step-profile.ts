// Where the reference tiny-GPT training step spends its time: wraps every method of the current backend with a timer
// and prints ms per step and calls per step for each kernel (GEMMs by transpose, shape and accumulate), beside the
// step's median. Leaves out JS-side time except as the gap between the two totals.
// Run: node --import tsx bench/step-profile.ts   (RLAIF_BACKEND picks the backend)
import { getBackend } from '../src/engine/backends/index.ts';
import type { GemmParams } from '../src/engine/backend.ts';
import { trainStepMs } from './train-step.ts';

const backend = getBackend() as unknown as Record<string, unknown>;
const stats = new Map<string, { ms: number; calls: number }>();
const names = new Set([...Object.getOwnPropertyNames(Object.getPrototypeOf(backend)), ...Object.keys(backend)]);
let timing = false;
for (const name of names) {
  const kernel = backend[name];
  if (typeof kernel !== 'function' || name === 'constructor') continue;
  backend[name] = (...args: unknown[]): unknown => {
    if (!timing) return (kernel as (...a: unknown[]) => unknown).apply(backend, args);
    let key = name;
    if (name === 'gemm') {
      const p = args[0] as GemmParams;
      key = `gemm ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'} M${p.M} N${p.N} K${p.K}${p.batch > 1 ? ` batch ${p.batch}` : ''}${p.beta ? ' acc' : ''}`;
    }
    const t0 = performance.now();
    const result = (kernel as (...a: unknown[]) => unknown).apply(backend, args);
    const entry = stats.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += performance.now() - t0;
    entry.calls++;
    stats.set(key, entry);
    return result;
  };
}
trainStepMs(3); // warm up: pool, JIT
timing = true;
const steps = 20, ran = steps + 2; // trainStepMs runs 2 untimed steps first; the kernels are timed in all of them
const median = trainStepMs(steps);
timing = false;
const total = [...stats.values()].reduce((sum, entry) => sum + entry.ms, 0) / ran;
console.log(`step median ${median.toFixed(2)} ms; kernels ${total.toFixed(2)} ms per step (mean)`);
for (const [key, entry] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`${(entry.ms / ran).toFixed(3).padStart(8)} ms ${String(entry.calls / ran).padStart(4)}x  ${key}`);
}
