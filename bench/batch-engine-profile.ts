// Where `rlaif serve`'s batched decode step goes: the batch engine (models/batch-engine.ts, as the server runs it) on a
// trained Hugging Face-format model, N prompts of 24-36 tokens generating 64 tokens each with no stop token, all
// joining at once; after five warm-up generations, kernel timers (kernel-timer.ts) over `reps` more. Prints the
// engine's decode ms a step (its own clock, timers included) and each kernel's µs a decode step (prefills' kernels
// counted too, spread over the steps). Leaves out HTTP and the server's other work (bench/serve-bench.ts has those).
// Run: node --import tsx bench/batch-engine-profile.ts <model folder, e.g. .rlaif-cache/testbed-seed0-self-*/policy> [batch 16] [reps 10]
import { BatchEngine } from '../src/models/batch-engine.ts';
import { loadPretrained } from '../src/models/checkpoint.ts';
import { Transformer } from '../src/models/transformer.ts';
import { timeKernels } from './kernel-timer.ts';

const directory = process.argv[2], batch = Number(process.argv[3] ?? 16), reps = Number(process.argv[4] ?? 10);
if (!directory) throw new Error('batch-engine-profile: give a model folder (config.json, model.safetensors)');
if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(reps) || reps < 1) throw new Error(`batch-engine-profile: batch and reps must be whole numbers >= 1, got ${process.argv[3]} and ${process.argv[4]}`);
const pretrained = loadPretrained(directory);
const model = new Transformer(pretrained.config, pretrained.parameters);
const engine = new BatchEngine({ model, maxBatch: 64, padTokenId: 0 });
const vocabulary = Math.min(900, pretrained.config.vocabSize - 4);
const prompts = Array.from({ length: batch }, (_, i) => Array.from({ length: 24 + (i % 5) * 3 }, (_, j) => (i * 31 + j * 7) % vocabulary + 4));
const generation = () => Promise.all(prompts.map((prompt, i) => engine.generate({ prompt, maxNewTokens: 64, sampling: { temperature: 1 }, seed: 100 + i, stopTokenIds: [], topLogprobs: 0 })));
for (let i = 0; i < 5; i++) await generation();
const timer = timeKernels({ on: false });
const steps0 = engine.stats.decodeSteps, decode0 = engine.stats.ms.decode;
timer.on = true;
for (let i = 0; i < reps; i++) await generation();
timer.on = false;
const steps = engine.stats.decodeSteps - steps0;
let kernels = 0;
for (const entry of timer.stats.values()) kernels += entry.ms;
console.log(`batch ${batch}: decode ${((engine.stats.ms.decode - decode0) / steps).toFixed(3)} ms a step, kernels ${(1000 * kernels / steps).toFixed(0)} µs a step (prefills included), ${steps} steps`);
for (const [key, entry] of [...timer.stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
  console.log(`  ${(1000 * entry.ms / steps).toFixed(1).padStart(7)} µs a step ${(entry.calls / steps).toFixed(1).padStart(5)}x ${key}`);
}
