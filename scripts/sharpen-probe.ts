// A diagnostic of self-improvement by sharpening (issue 12): no labeler and no gold in the update (unless --pick gold). Each step draws
// --prompts train prompts, samples --group answers each from the policy as it is now (temperature 1), keeps the one the
// policy is surest of (highest mean token log-probability), and fine-tunes on those (SFT, a fresh AdamW at --lr,
// --epochs passes). Every --every steps it prints gold's figures on every test prompt: pass rate, and the gold win
// rate of two answers against two of the SFT policy's (ties half), per prompt kind. Huang et al. 2024 (arXiv
// 2412.01951) call this SFT-sharpening. Gold only measures here (but for --pick gold).
// Usage: node --import tsx scripts/sharpen-probe.ts [--seed N] [--steps N] [--every N] [--prompts N] [--group K] [--lr X] [--epochs N] [--replay N] [--pick surest|gold]
//   --replay N: N pretraining-corpus paragraphs join each step's examples (replay, as the build's fine-tuning has; InstructGPT's
//   PPO-ptx mixes pretraining gradients into RL for the same reason: updates on some prompts erode what others need)
//   --pick gold: keep the best of the group by gold's score instead (rejection-sampling fine-tuning with a perfect
//   labeler: an upper bound, which breaks the rule that no training signal reads gold)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng } from '../src/engine/index.ts';
import { parseRunConfig } from '../src/pipeline/run-config.ts';
import { meanLogprob } from '../src/pipeline/run-records.ts';
import { buildPolicy, loadCheckpoint } from '../src/pipeline/run-setup.ts';
import { buildTestbed } from '../src/testbed/build.ts';
import { goldCheck, goldCompare } from '../src/testbed/gold.ts';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '0' }, steps: { type: 'string', default: '6' }, every: { type: 'string', default: '2' },
  prompts: { type: 'string', default: '256' }, replay: { type: 'string', default: '0' }, pick: { type: 'string', default: 'surest' }, group: { type: 'string', default: '6' }, lr: { type: 'string', default: '0.001' }, epochs: { type: 'string', default: '2' },
  cache: { type: 'string', default: '.rlaif-cache' } } });
const num = (name: string, min: number) => {
  const x = Number(values[name as keyof typeof values]);
  if (!(x >= min)) throw new Error(`--${name} must be a number ≥ ${min}, got "${values[name as keyof typeof values]}"`);
  return x;
};
const pick = values.pick!;
if (pick !== 'surest' && pick !== 'gold') throw new Error(`--pick must be surest or gold, got "${pick}"`);
const replay = num('replay', 0), seed = num('seed', 0), steps = num('steps', 0), every = Math.max(1, num('every', 1)), P = num('prompts', 1), G = num('group', 1);
const lr = num('lr', 0), epochs = num('epochs', 1);

const testbed = await buildTestbed({ seed, cacheDirectory: values.cache });
const config = parseRunConfig(null, { source: 'defaults', overrides: { seed } });
const sft = buildPolicy(config, loadCheckpoint(testbed.policyDirectory)), policy = buildPolicy(config, loadCheckpoint(testbed.policyDirectory));
const train = testbed.prompts.filter((p) => p.split === 'train'), test = testbed.prompts.filter((p) => p.split === 'test');
const rng = new Rng(seed + 11), corpus = readFileSync(testbed.corpusPath, 'utf8').split('\n').filter((l) => l.trim());
const endId = policy.stopToken!;   // the testbed's <|end|>, which also ends each corpus paragraph in the build
const sure = (sample: { logprobs: number[] }) => meanLogprob(sample) ?? Number.NEGATIVE_INFINITY;

const sftAnswers = (await sft.sampleRows(test.flatMap((p, i) => [0, 1].map((k) => ({ messages: p.messages, seed: 5_000_000 + i * 2 + k }))))).map((o) => o.text);
async function measure(step: number): Promise<void> {
  const mine = (await policy.sampleRows(test.flatMap((p, i) => [0, 1].map((k) => ({ messages: p.messages, seed: 6_000_000 + i * 2 + k }))))).map((o) => o.text);
  const byKind = new Map<string, { pass: number; win: number; n: number }>();
  let pass = 0, win = 0;
  mine.forEach((text, j) => {
    const p = test[j >> 1]!, ok = goldCheck(testbed.world, p, text).pass, w = goldCompare(testbed.world, p, text, sftAnswers[j]!).winner;
    const v = w === 'a' ? 1 : w === 'tie' ? 0.5 : 0, t = byKind.get(p.kind) ?? { pass: 0, win: 0, n: 0 };
    t.n++; t.pass += ok ? 1 : 0; t.win += v; pass += ok ? 1 : 0; win += v;
    byKind.set(p.kind, t);
  });
  console.log(`step ${step}: test pass ${(pass / mine.length).toFixed(3)}, gold win/SFT ${(win / mine.length).toFixed(3)} (${mine.length} answers); `
    + [...byKind].sort().map(([k, t]) => `${k} ${(t.pass / t.n).toFixed(2)}/${(t.win / t.n).toFixed(2)}`).join(', '));
}

console.log(`seed ${seed}: ${P} train prompts × ${G} answers a step, the ${pick === 'gold' ? 'best by gold' : 'surest'} kept, ${replay} corpus paragraphs replayed; SFT at ${lr}, ${epochs} epochs`);
await measure(0);
for (let step = 1; step <= steps; step++) {
  const prompts = Array.from({ length: P }, () => train[rng.int(train.length)]!);
  const drawn = await policy.sampleRows(prompts.flatMap((p, i) => Array.from({ length: G }, (_, k) => ({ messages: p.messages, seed: step * 1_000_000 + i * G + k }))));
  const examples = prompts.flatMap((p, i) => {
    const group = drawn.slice(i * G, (i + 1) * G);
    const best = pick === 'gold' ? group.reduce((m, o) => (goldCheck(testbed.world, p, o.text).score > goldCheck(testbed.world, p, m.text).score ? o : m))
      : group.reduce((m, o) => (sure(o) > sure(m) ? o : m));
    return best.tokens.length === 0 ? [] : [{ prompt: policy.promptTokens(p.messages, best.tokens.length), response: Int32Array.from(best.tokens) }];
  });
  for (let r = 0; r < replay; r++) {
    const ids = policy.tokenizer.encode(corpus[rng.int(corpus.length)]!, { addSpecialTokens: false });
    if (ids.length + 1 < policy.model.config.maxPositions) examples.push({ prompt: Int32Array.of(endId), response: Int32Array.from([...ids, endId]) });
  }
  const m = await policy.learnSft(examples, { learningRate: lr, epochs, minibatches: 4, seed: seed * 1000 + step });
  process.stderr.write(`step ${step}: ${examples.length} examples, SFT loss ${m.sftLossBefore!.toFixed(3)} → ${m.sftLossAfter!.toFixed(3)}\n`);
  if (step % every === 0) await measure(step);
}
