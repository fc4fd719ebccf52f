// Wall and CPU milliseconds a decode step of `generate` on a Hugging Face-format model: B prompts of 40 tokens, 64
// new tokens each, N generations after one warm-up (prefill included, spread over the 64 steps). For side-by-side
// builds (a `git worktree` at the parent commit), run alternately from each checkout.
// Run: RLAIF_THREADS=1 B=16 N=30 node --import tsx bench/generate-steps.ts <model folder>
import { loadPretrained } from '../src/models/checkpoint.ts';
import { generate } from '../src/models/generate.ts';
import { Transformer } from '../src/models/transformer.ts';

const directory = process.argv[2];
if (!directory) throw new Error('generate-steps: give a model folder (config.json, model.safetensors)');
const B = Number(process.env.B ?? 16), N = Number(process.env.N ?? 20);
if (!(Number.isInteger(B) && B >= 1 && Number.isInteger(N) && N >= 1)) throw new Error(`generate-steps: B and N must be positive integers, got ${process.env.B}, ${process.env.N}`);
const pretrained = loadPretrained(directory);
const model = new Transformer(pretrained.config, pretrained.parameters);
const V = Math.min(900, pretrained.config.vocabSize - 4);
const prompts = Array.from({ length: B }, (_, i) => Array.from({ length: 40 }, (_, j) => (i * 31 + j * 7) % V + 4));
generate(model, prompts, { maxNewTokens: 64, seed: 1 });
const t0 = performance.now(), c0 = process.cpuUsage();
for (let n = 0; n < N; n++) generate(model, prompts, { maxNewTokens: 64, seed: 1 });
const cpu = process.cpuUsage(c0);
console.log(`batch ${B}: wall ${((performance.now() - t0) / N / 64).toFixed(3)} ms, cpu ${((cpu.user + cpu.system) / 1000 / N / 64).toFixed(3)} ms a step`);
