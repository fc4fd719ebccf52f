// A diagnostic of the RL update of `rlaif run` (issues 11, 12): policy-gradient iterations on the testbed's SFT policy
// with the gold checker as the reward, with no labeler, evaluation or gate between them. Each iteration draws
// promptsPerRound train prompts at random, samples samplesPerPrompt answers each from the policy as it is now, scores
// them by gold, and updates once (the run's algorithm settings). Every --every iterations it prints gold's pass rate on
// half the test prompts (two samples each, a fixed seed), per prompt kind: how much the update can carry from train
// entities and templates to held-out ones with perfect rewards. This breaks the testbed's rule that no training signal
// reads gold: an upper bound, never a result.
// Usage: node --import tsx scripts/oracle-rl-steps.ts [--iterations N] [--every N] [--reward pairwise|score|pass] [--config FILE] [--seed N]
//   [--from RUN/checkpoints/round-N] (start from a run's policy; --iterations 0 only measures it)
//   --reward pairwise: the mean of the sign of gold's comparison with the two neighbours in the sample's group (the
//   run's pairwise reward compares every two distinct texts of a group, each judged once); score: gold's graded score;
//   pass: 1 or 0. certainty: no gold at all — the sample's mean token log-probability under the policy that sampled it
//   (self-certainty: an update toward the answers the policy is surest of sharpens it, as a lower temperature does).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/index.ts';
import { batchFromSamples } from '../src/pipeline/round-stages.ts';
import { parseRunConfig } from '../src/pipeline/run-config.ts';
import { meanLogprob } from '../src/pipeline/run-records.ts';
import { buildPolicy, loadCheckpoint, readReferenceText } from '../src/pipeline/run-setup.ts';
import { buildTestbed } from '../src/testbed/build.ts';
import { goldCheck } from '../src/testbed/gold.ts';
import type { TestbedPrompt } from '../src/testbed/prompts.ts';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20' }, every: { type: 'string', default: '5' }, reward: { type: 'string', default: 'pairwise' },
  config: { type: 'string' }, from: { type: 'string' }, seed: { type: 'string', default: '0' }, cache: { type: 'string', default: '.rlaif-cache' } } });
const count = (name: string, text: string) => { const n = Number(text); if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${text}"`); return n; };
const iterations = count('iterations', values.iterations!), every = Math.max(1, count('every', values.every!)), seed = count('seed', values.seed!);
const reward = values.reward!;
if (!['pairwise', 'score', 'pass', 'certainty'].includes(reward)) throw new Error(`--reward must be pairwise, score, pass or certainty, got "${reward}"`);

const testbed = await buildTestbed({ seed, cacheDirectory: values.cache });
const config = parseRunConfig(values.config ? readFileSync(values.config, 'utf8') : null, { source: values.config ?? 'config', overrides: { seed } });
const policy = buildPolicy(config, loadCheckpoint(testbed.policyDirectory),   // algorithm.pretrainCoef replays the testbed corpus (or pretrainText)
  config.algorithm.pretrainCoef > 0 ? readReferenceText(config.algorithm.pretrainText ?? testbed.corpusPath, 'pretraining text') : undefined);
if (values.from) policy.load(values.from);   // a run's checkpoint (checkpoints/round-<n>) instead of the SFT policy
const train = testbed.prompts.filter((p) => p.split === 'train'), test = testbed.prompts.filter((p) => p.split === 'test').filter((_, i) => i % 2 === 0);
const K = config.samplesPerPrompt, rng = new Rng(seed + 1);

async function testPass(): Promise<string> {
  const rows = test.flatMap((p, i) => [0, 1].map((k) => ({ messages: p.messages, seed: 999 + i * 2 + k })));
  const out = await policy.sampleRows(rows);
  const byKind = new Map<string, [number, number]>();
  let passed = 0;
  out.forEach((o, j) => {
    const p = test[Math.floor(j / 2)]!, pass = goldCheck(testbed.world, p, o.text).pass, t = byKind.get(p.kind) ?? [0, 0];
    t[0]++; if (pass) { t[1]++; passed++; }
    byKind.set(p.kind, t);
  });
  return `test pass ${(passed / out.length).toFixed(3)} (${out.length} samples): ${[...byKind].map(([k, [n, g]]) => `${k} ${(g / n).toFixed(2)}`).join(', ')}`;
}

console.log(`reward ${reward}, ${config.algorithm.name}, learning rate ${config.algorithm.learningRate}, ${config.promptsPerRound} prompts x ${K} samples an iteration`);
console.log(`iteration 0: ${await testPass()}`);
for (let it = 1; it <= iterations; it++) {
  const prompts: TestbedPrompt[] = Array.from({ length: config.promptsPerRound }, () => train[rng.int(train.length)]!);
  const rows = prompts.flatMap((p, i) => Array.from({ length: K }, (_, k) => ({ messages: p.messages, seed: it * 100_000 + i * K + k })));
  const samples = await policy.sampleRows(rows);
  const batch = batchFromSamples(rows.map((r) => policy.promptTokens(r.messages)), samples, config.maxNewTokens);
  const verdicts = samples.map((s, j) => goldCheck(testbed.world, prompts[Math.floor(j / K)]!, s.text));
  const rewards = Float32Array.from(samples, (s, j) => {
    if (reward === 'score') return verdicts[j]!.score;
    if (reward === 'pass') return verdicts[j]!.pass ? 1 : 0;
    if (reward === 'certainty') return meanLogprob(s) ?? 0;
    const g = Math.floor(j / K) * K, k = j - g;
    const versus = (o: number) => (samples[o]!.text === s.text ? 0 : Math.sign(verdicts[j]!.score - verdicts[o]!.score));
    return (versus(g + ((k + 1) % K)) + versus(g + ((k + K - 1) % K))) / 2;
  });
  await policy.learn(batch, rewards);
  const trainPass = verdicts.filter((v) => v.pass).length / verdicts.length;
  if (it % every === 0) console.log(`iteration ${it}: train samples' pass ${trainPass.toFixed(3)}; ${await testPass()}`);
}
