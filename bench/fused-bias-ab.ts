// The reference tiny-GPT train step with its projections' bias added by the forward GEMM's tiles and its bias gradient
// summed by the weight-gradient GEMM as it packs dY (gemm's biasC and sumsB), against the same step with both done in
// passes of their own (the product, then biasAdd over C; sumRowsInto over dY): the backend's gemm is wrapped to strip
// them and run the separate kernels, alternating round by round in one process, so the machine's drift cancels in each
// round's ratio. Prints the median step of each and the median and every round's ratio (fused / separate).
// Run: node --import tsx bench/fused-bias-ab.ts [rounds] (RLAIF_CPU=avx2 for that level's kernels)
import type { Backend, GemmParams } from '../src/engine/backend.ts';
import { getBackend } from '../src/engine/index.ts';
import { trainStepMs } from './train-step.ts';

const rounds = Number(process.argv[2] ?? 8);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`fused-bias-ab: rounds must be a positive integer, got ${process.argv[2]}`);
const backend = getBackend() as Backend & { gemm: Backend['gemm'] };
const gemm = backend.gemm.bind(backend);
let fused = true;
backend.gemm = (p: GemmParams) => {
  if (fused || (!p.sumsB && !p.biasC)) return gemm(p);
  if (p.sumsB && (p.transB || p.batch !== 1)) throw new Error('fused-bias-ab: column sums of a transposed or batched B');
  gemm({ ...p, sumsB: undefined, biasC: undefined });
  if (p.biasC) backend.biasAdd(p.c, p.biasC, p.M, p.N);
  if (p.sumsB) backend.sumRowsInto(p.b, p.sumsB, p.K, p.N);
};
const separate: number[] = [], together: number[] = [], ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  fused = false;
  const s = trainStepMs(10);
  fused = true;
  const f = trainStepMs(10);
  separate.push(s); together.push(f); ratios.push(f / s);
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`${backend.name} backend: separate passes ${median(separate).toFixed(2)} ms, fused ${median(together).toFixed(2)} ms a step`);
console.log(`RESULT fused_bias_step_ratio ${median(ratios).toFixed(3)}   # fused / separate, rounds ${ratios.map((x) => x.toFixed(3)).join(' ')}`);
