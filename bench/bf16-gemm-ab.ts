// `node --import tsx bench/bf16-gemm-ab.ts` (with RLAIF_AMX=0 for the other side): the bf16 GEMM kernels on this machine: fp32 and bf16 matmul 1024³ GFLOP/s (best of 5), then the tiny-GPT
// train step fp32 against mixed precision (bench/mixed-precision.ts stepTimes: interleaved rounds, median ratio)
import { loadBackend } from '../src/engine/index.ts';
import { matmulBf16Gflops, matmulGflops } from './matmul.ts';
import { stepTimes } from './mixed-precision.ts';
const backend = loadBackend('native');
const mode = (backend as unknown as { bf16Gemm: string }).bf16Gemm;
const best = (f: () => number) => Math.max(...Array.from({ length: 5 }, f));
console.log(`RLAIF_AMX=${process.env.RLAIF_AMX ?? ''} bf16Gemm ${mode}: fp32 ${best(() => matmulGflops(backend, 1024, 10)).toFixed(1)} bf16 ${best(() => matmulBf16Gflops(backend, 1024, 10)).toFixed(1)} GFLOP/s`);
const steps = stepTimes(3);
console.log(`RLAIF_AMX=${process.env.RLAIF_AMX ?? ''} bf16Gemm ${mode}: train step fp32 ${steps.fp32.toFixed(1)} ms, bf16 ${steps.bf16.toFixed(1)} ms, ratio ${steps.ratio.toFixed(3)}`);
