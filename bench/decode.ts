// Decode of the GPT-2-small-sized model (124M parameters, random weights) at batch 1: tokens/s with the KV cache,
// optionally with bf16 weights, and with --profile the ms per token each kernel takes (GEMVs by shape).
// Leaves out prefill and batch > 1 (bench/models-bench.ts has them). Compare thread counts in one shell loop:
//   for t in 1 2 1 2; do RLAIF_THREADS=$t node --import tsx bench/decode.ts; done
// Run: node --import tsx bench/decode.ts [--tokens 32] [--reps 3] [--bf16] [--profile]
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
const tokens = option('--tokens', 32), reps = option('--reps', 3);
const bf16 = argv.includes('--bf16'), profile = argv.includes('--profile');

/** Median tokens/s of sampling `tokens` new tokens after a one-token prompt, batch 1, after one warm-up run. */
export function decodeTokS(model: Transformer, newTokens: number, repeats: number): number {
  const run = () => generate(model, [[0]], { maxNewTokens: newTokens, seed: 1, useCache: true });
  run();
  const times = Array.from({ length: repeats }, () => {
    const t0 = performance.now();
    run();
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  return newTokens / (times[Math.floor(times.length / 2)] / 1000);
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
  const tokS = decodeTokS(model, tokens, reps);
  console.log(`RESULT decode_124m_tok_s_b1${bf16 ? '_bf16' : ''} ${tokS.toFixed(1)}   # ${backend.name}, ${backend.threads} threads, ${tokens} tokens`);
  if (profile) {
    const perToken = (ms: number) => ms / ((reps + 1) * tokens);
    for (const [key, entry] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) {
      console.log(`${perToken(entry.ms).toFixed(3).padStart(8)} ms/token ${String(entry.calls / ((reps + 1) * tokens)).padStart(5)}x  ${key}`);
    }
  }
}
