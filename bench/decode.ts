// Decode of the GPT-2-small-sized model (124M parameters, random weights) at batch 1: tokens/s with the KV cache,
// optionally with bf16 weights, and with --profile the ms per decode step each kernel takes (GEMVs by shape).
// With --batch N, N sequences at once (a batched decode step; tokens/s counts all of them). Leaves out prefill
// (bench/models-bench.ts has it). Compare thread counts in one shell loop:
//   for t in 1 2 1 2; do RLAIF_THREADS=$t node --import tsx bench/decode.ts; done
// Run: node --import tsx bench/decode.ts [--tokens 32] [--reps 3] [--batch 1] [--bf16] [--profile]
import { getBackend } from '../src/engine/index.ts';
import { generate } from '../src/models/generate.ts';
import { initParameters } from '../src/models/parameters.ts';
import { gpt2SmallConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';
import { timeKernels } from './kernel-timer.ts';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const tokens = option('--tokens', 32), reps = option('--reps', 3), batch = option('--batch', 1);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`decode: --batch must be a whole number of at least 1, got ${batch}`);
const bf16 = argv.includes('--bf16'), profile = argv.includes('--profile');

/** Median tokens/s (all sequences') of sampling `newTokens` new tokens after a one-token prompt, `batch` sequences at
 * once (1 unless given), after one warm-up run. */
export function decodeTokS(model: Transformer, newTokens: number, repeats: number, batch = 1): number {
  const run = () => generate(model, Array.from({ length: batch }, () => [0]), { maxNewTokens: newTokens, seed: 1, useCache: true });
  run();
  const times = Array.from({ length: repeats }, () => {
    const t0 = performance.now();
    run();
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  return (batch * newTokens) / (times[Math.floor(times.length / 2)] / 1000);
}

const stats = profile ? timeKernels().stats : new Map<string, { ms: number; calls: number }>();

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = gpt2SmallConfig();
  let model = new Transformer(config, initParameters(config, 0));
  if (bf16) {
    const { toBf16Weights } = await import('../src/models/bf16-weights.ts');
    model = toBf16Weights(model);
  }
  const backend = getBackend();
  const tokS = decodeTokS(model, tokens, reps, batch);
  console.log(`RESULT decode_124m_tok_s_b${batch}${bf16 ? '_bf16' : ''} ${tokS.toFixed(1)}   # ${backend.name}, ${backend.threads} threads, ${tokens} tokens`);
  if (profile) {
    const perStep = (ms: number) => ms / ((reps + 1) * tokens);   // a step makes one token of each of the batch's sequences
    for (const [key, entry] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
      console.log(`${perStep(entry.ms).toFixed(3).padStart(8)} ms/step ${String(entry.calls / ((reps + 1) * tokens)).padStart(5)}x  ${key}`);
    }
  }
}
