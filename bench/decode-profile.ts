// Where a decode step of a trained Hugging Face-format model goes, at batch 1 and 16: 64 new tokens from 40-token
// prompts, each kernel's ms and calls (kernel-timer.ts) beside the wall time, after two warm-up generations. Then the
// cold-weight check: each 16 x 128 x 512 product (an MLP up-projection of a 128-wide model) of a batch-16 generation
// timed as the decode step runs it (its weights pushed out of cache by the other layers'), at once again on the same
// operands (hot), and on fresh copies (hot); with WARM_B=1 the weights are read once in row order from JS before each
// first call. Leaves out the model's own choice of shapes (any model with other widths skips the cold-weight part).
// Run: RLAIF_THREADS=1 node --import tsx bench/decode-profile.ts <model folder, e.g. .rlaif-cache/testbed-seed0-self-*/policy>
import type { GemmParams } from '../src/engine/backend.ts';
import { getBackend } from '../src/engine/backends/index.ts';
import { loadPretrained } from '../src/models/checkpoint.ts';
import { generate } from '../src/models/generate.ts';
import { Transformer } from '../src/models/transformer.ts';
import { timeKernels } from './kernel-timer.ts';

const directory = process.argv[2];
if (!directory) throw new Error('decode-profile: give a model folder (config.json, model.safetensors)');
const pretrained = loadPretrained(directory);
const model = new Transformer(pretrained.config, pretrained.parameters);
const promptsOf = (batch: number) => Array.from({ length: batch }, (_, i) => Array.from({ length: 40 }, (_, j) => (i * 31 + j * 7) % Math.min(900, pretrained.config.vocabSize - 4) + 4));
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;

const timer = timeKernels({ on: false });
for (const batch of [1, 16]) {
  const run = () => generate(model, promptsOf(batch), { maxNewTokens: 64, seed: 1 });
  run(); run();
  timer.stats.clear();
  timer.on = true;
  const t0 = performance.now();
  run();
  const ms = performance.now() - t0;
  timer.on = false;
  let kernels = 0;
  for (const s of timer.stats.values()) kernels += s.ms;
  console.log(`batch ${batch}: ${ms.toFixed(1)} ms for 64 tokens (${(ms / 64).toFixed(3)} ms a step), kernels ${kernels.toFixed(1)} ms`);
  for (const [key, s] of [...timer.stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 10)) console.log(`  ${s.ms.toFixed(2).padStart(7)} ms ${String(s.calls).padStart(5)}x ${key}`);
}

const backend = getBackend() as unknown as { gemm: (p: GemmParams) => void };
const gemm = backend.gemm.bind(backend);
let on = false;
const first: number[] = [], again: number[] = [], copies: number[] = [];
backend.gemm = (p: GemmParams) => {
  if (!on || p.M !== 16 || p.N !== 512 || p.K !== 128) { gemm(p); return; }
  if (process.env.WARM_B) { let z = 0; for (let i = 0; i < p.b.length; i += 16) z += p.b[i]!; if (z === 1e30) console.log(z); }
  let t0 = performance.now(); gemm(p); first.push(performance.now() - t0);
  t0 = performance.now(); gemm(p); again.push(performance.now() - t0);
  const fresh = { ...p, a: Float32Array.from(p.a), b: Float32Array.from(p.b), c: new Float32Array(p.c.length) };
  gemm(fresh); t0 = performance.now(); gemm(fresh); copies.push(performance.now() - t0);
};
generate(model, promptsOf(16), { maxNewTokens: 64, seed: 1 });
on = true;
generate(model, promptsOf(16), { maxNewTokens: 64, seed: 1 });
if (first.length === 0) console.log('cold weights: this model has no 16 x 128 x 512 products');
else console.log(`cold weights, 16 x 128 x 512${process.env.WARM_B ? ' (B read in row order first)' : ''}: first in its step ${(median(first) * 1000).toFixed(1)} us, again at once ${(median(again) * 1000).toFixed(1)} us, fresh copies ${(median(copies) * 1000).toFixed(1)} us (medians of ${first.length})`);
