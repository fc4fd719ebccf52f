// Where the reference tiny-GPT training step spends its time: times every kernel of the current backend
// (kernel-timer.ts) and prints ms per step and calls per step for each kernel (GEMMs by transpose, shape and
// accumulate), beside the step's median. With `compare`: fp32 and mixed precision (bf16) interleaved round by round,
// each kernel's ms per step side by side with the ratio (gemm and gemmMixed of one shape on one line), and the GEMMs'
// and the other kernels' totals. Leaves out JS-side time except as the gap between the totals and the step.
// Run: node --import tsx bench/step-profile.ts [fp32 | bf16 | compare [rounds]]   (RLAIF_BACKEND picks the backend)
import type { MatmulPrecision } from '../src/engine/index.ts';
import { timeKernels } from './kernel-timer.ts';
import { trainStepMs } from './train-step.ts';

const mode = process.argv[2] ?? 'fp32';
if (mode !== 'fp32' && mode !== 'bf16' && mode !== 'compare') throw new Error(`step-profile: mode must be fp32, bf16 or compare, got ${mode}`);
const timer = timeKernels({ on: false }), stats = timer.stats;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

if (mode === 'compare') {
  const rounds = Number(process.argv[3] ?? 5), steps = 10, ran = steps + 2;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`step-profile: rounds must be a positive integer, got ${process.argv[3]}`);
  trainStepMs(3); trainStepMs(3, { precision: 'bf16' });
  const perStep = { fp32: new Map<string, number>(), bf16: new Map<string, number>() }; // kernel → ms per step (mean)
  const stepMs = { fp32: [] as number[], bf16: [] as number[] };
  for (let round = 0; round < rounds; round++) for (const precision of ['fp32', 'bf16'] as const) {
    stats.clear(); timer.on = true;
    stepMs[precision].push(trainStepMs(steps, { precision }));
    timer.on = false;
    for (const [key, entry] of stats) {
      const name = key.replace(/^gemmMixed /, 'gemm ');
      perStep[precision].set(name, (perStep[precision].get(name) ?? 0) + entry.ms / ran / rounds);
    }
  }
  const fp32 = median(stepMs.fp32), bf16 = median(stepMs.bf16);
  console.log(`step median fp32 ${fp32.toFixed(2)} ms, bf16 ${bf16.toFixed(2)} ms, ratio ${(bf16 / fp32).toFixed(3)}`);
  console.log('    fp32     bf16  ratio  kernel (ms per step)');
  const totals = { gemm: [0, 0], other: [0, 0] };
  for (const [name, ms] of [...perStep.fp32].sort((a, b) => b[1] - a[1])) {
    const mixed = perStep.bf16.get(name) ?? 0, total = totals[name.startsWith('gemm ') ? 'gemm' : 'other'];
    total[0] += ms; total[1] += mixed;
    console.log(`${ms.toFixed(3).padStart(8)} ${mixed.toFixed(3).padStart(8)} ${(mixed / ms).toFixed(2).padStart(6)}  ${name}`);
  }
  for (const [name, [a, b]] of Object.entries(totals)) console.log(`${a.toFixed(2).padStart(8)} ${b.toFixed(2).padStart(8)} ${(b / a).toFixed(2).padStart(6)}  total: ${name}`);
} else {
  const precision = mode as MatmulPrecision;
  trainStepMs(3, { precision }); // warm up: pool, JIT
  timer.on = true;
  const steps = 20, ran = steps + 2; // trainStepMs runs 2 untimed steps first; the kernels are timed in all of them
  const stepMedian = trainStepMs(steps, { precision });
  timer.on = false;
  const total = [...stats.values()].reduce((sum, entry) => sum + entry.ms, 0) / ran;
  console.log(`${precision}: step median ${stepMedian.toFixed(2)} ms; kernels ${total.toFixed(2)} ms per step (mean)`);
  for (const [key, entry] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`${(entry.ms / ran).toFixed(3).padStart(8)} ms ${String(entry.calls / ran).padStart(4)}x  ${key}`);
  }
}
