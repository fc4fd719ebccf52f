// One update of a GPT-2-small-shaped model (124M, random weights) on a round of real-looking lengths, with its wall
// time and this process's peak resident memory (VmHWM), for `groupTokens` (length groups) as given:
// - grpo: learn (the reference's log-probs, then one optimizer step) on 16 rows laid out as `rlaif run` lays out a
//   round: prompts of 32-320 tokens, responses of 4-48, left-padded to (16, longest prompt + 48);
// - dpo: one DPO step (trainOn) on 8 pairs with the same prompt and response lengths.
// Run once per setting, each in its own process, so each peak is its own:
//   node --import tsx bench/update-memory.ts grpo 0       # the batch whole (before length groups)
//   node --import tsx bench/update-memory.ts grpo 2048    # the default
// Leaves out sampling (the tokens are random) and LoRA (every weight trains: AdamW's state is in the peak too).
import { readFileSync } from 'node:fs';
import { DpoTrainer } from '../src/algorithms/dpo-trainer.ts';
import { policyGradientConfig, PolicyGradientTrainer } from '../src/algorithms/policy-gradient-trainer.ts';
import { frozenCopy } from '../src/algorithms/reference-model.ts';
import { programmaticReward } from '../src/algorithms/reward-sources.ts';
import type { RolloutBatch } from '../src/algorithms/rollout.ts';
import { Rng } from '../src/engine/index.ts';
import { initParameters } from '../src/models/parameters.ts';
import { gpt2SmallConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';

const mode = process.argv[2] ?? 'grpo', groupTokens = Number(process.argv[3] ?? 2048);
if (mode !== 'grpo' && mode !== 'dpo') throw new Error(`update-memory: the mode must be grpo or dpo, got "${mode}"`);
if (!(Number.isInteger(groupTokens) && groupTokens >= 0)) throw new Error(`update-memory: groupTokens must be a non-negative integer, got "${process.argv[3]}"`);
const peakMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN) / 1024;

const config = gpt2SmallConfig(), N = 48, B = 16, rng = new Rng(5);
const base = new Transformer(config, initParameters(config, 1));
const prompts = Array.from({ length: B }, () => 32 + rng.int(289)), responses = Array.from({ length: B }, () => 4 + rng.int(45));
const P = Math.max(...prompts), T = P + N;
const tokens = new Int32Array(B * T), keyMask = new Float32Array(B * T), actionMask = new Float32Array(B * T);
const logprobs = new Float32Array(B * T), responseLengths = Int32Array.from(responses);
for (let b = 0; b < B; b++) {
  const p = prompts[b]!, n = responses[b]!;
  for (let t = P - p; t < P + n; t++) { tokens[b * T + t] = 1 + rng.int(config.vocabSize - 1); keyMask[b * T + t] = 1; }
  actionMask.fill(1, b * T + P - 1, b * T + P - 1 + n);
  logprobs.fill(-10.8, b * T + P - 1, b * T + P - 1 + n);   // about log(1 / 50257): an untrained model's
}
const batch: RolloutBatch = { B, T, promptLength: P, tokens, keyMask, actionMask, logprobs, responseLengths };
const real = keyMask.reduce((a, x) => a + x, 0);

const policy = frozenCopy(base);
for (const t of policy.parameters().values()) t.requiresGrad = true;
const before = peakMb();
const started = performance.now();
if (mode === 'grpo') {
  const trainer = new PolicyGradientTrainer({
    config: policyGradientConfig({ algorithm: 'grpo', groupSize: 4, promptsPerStep: 4, maxNewTokens: N, minibatches: 1, epochs: 1, learningRate: 1e-5, groupTokens }),
    policy, reference: frozenCopy(base), prompts: [{ text: '', tokens: Int32Array.of(1) }], decode: (ids) => Array.from(ids).join(' '),
    reward: programmaticReward('none', () => 0),
  });
  await trainer.learn(batch, Float32Array.from({ length: B }, (_, b) => Math.sin(b)));
} else {
  const row = (b: number) => ({ prompt: tokens.slice(b * T + P - prompts[b]!, b * T + P), response: tokens.slice(b * T + P, b * T + P + responses[b]!) });
  const pairs = Array.from({ length: B / 2 }, (_, i) => ({ prompt: row(2 * i).prompt, chosen: row(2 * i).response, rejected: row(2 * i + 1).response }));
  const trainer = new DpoTrainer({ config: { loss: 'dpo', beta: 0.1, labelSmoothing: 0, learningRate: 1e-5, batchSize: pairs.length, maxGradNorm: 1, evalEvery: 0, seed: 1, groupTokens },
    policy, reference: frozenCopy(base) });
  await trainer.trainOn(pairs);
}
const seconds = (performance.now() - started) / 1000;
const layout = mode === 'grpo' ? `${B} rows laid out as (${B}, ${T}) = ${B * T} padded tokens, ${real} real (${(100 * real / (B * T)).toFixed(0)}%)`
  : `${B / 2} pairs (${B} sequences, ${real} real tokens)`;
console.log(`# update-memory: ${mode}, GPT-2-small shape, ${layout}, groupTokens ${groupTokens}`);
console.log(`RESULT ${mode}_update_124m_s ${seconds.toFixed(1)}`);
console.log(`RESULT ${mode}_update_124m_peak_mb ${peakMb().toFixed(0)}   # before the update: ${before.toFixed(0)}`);
