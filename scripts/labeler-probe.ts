// A diagnostic of the testbed labeler (issue 11): how far more judging training takes it. Loads a built testbed
// (`rlaif testbed build` first; this reads the cache), fine-tunes a copy of its labeler on judging examples alone
// (train prompts, the build's own generator, notes and template), and prints, before and every 500 steps, the
// teacher-forced decision accuracy on judging examples of *test* prompts with clean planted flaws: given the right
// rationale up to a decision, does the next token say right/wrong as the label does ("assess", per principle), and
// does "so answer" pick the answer the rationale ranked higher ("final")? With --out DIR it saves the fine-tuned
// labeler there and runs the testbed audit with it against the build's SFT policy (the headline figure), and
// its agreement with gold on the gate's clean anchor pairs.
// Leaves out: the on-policy examples, the policy's own training. Self-Rewarding LMs (arXiv 2401.10020) train judging
// into the policy; this asks what judging alone, at several times the build's judging steps, buys.
// With --on-policy-prompts N the SFT policy answers N train prompts twice and a labeled budget of its answers
// (--on-policy-pairs, --on-policy-singles; 10% of labels flipped) joins the training, --on-policy-share of the batches
// (Self-Rewarding LMs' EFT data, on the finished policy: the answers the labeler will judge, as a separate labeler's).
// With --from DIR it starts from that folder's weights instead of the build's labeler (same tokenizer: e.g. the
// labeler after scripts/reading-drill.ts --out DIR).
// With --config FILE the testbed is built (or read from the cache) with that testbed config (YAML), as `rlaif testbed build --config`.
// Usage: node --import tsx scripts/labeler-probe.ts [--seed N] [--cache DIR] [--config FILE] [--from DIR] [--steps N] [--batch N] [--lr X]
//   [--out DIR] [--on-policy-prompts N [--on-policy-pairs N] [--on-policy-singles N] [--on-policy-share X]]
import { cpSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chatSftExample } from '../src/algorithms/chat-sft.ts';
import { sftStep, type SftExample } from '../src/algorithms/sft-trainer.ts';
import { AdamW, Rng, warmupCosine } from '../src/engine/index.ts';
import { noGrad } from '../src/engine/tensor.ts';
import type { ChatMessage } from '../src/feedback/chat-model-v1.ts';
import { loadPretrained, savePretrained } from '../src/models/checkpoint.ts';
import { HfTokenizer } from '../src/models/tokenizer.ts';
import { Transformer } from '../src/models/transformer.ts';
import { auditLabeler, type AuditItem } from '../src/feedback/labeler-audit.ts';
import { auditTestbed } from '../src/testbed/audit.ts';
import { goldCompare } from '../src/testbed/gold.ts';
import { testbedJudge } from '../src/testbed/testbed-judge.ts';
import { decisionExamples } from '../src/testbed/embedded-model.ts';
import { makeJudgingExamples } from '../src/testbed/judging-examples.ts';
import { testbedTemplates } from '../src/testbed/labeler-format.ts';
import { buildNotesIndex } from '../src/testbed/notes.ts';
import { makeOnPolicyExamples } from '../src/testbed/on-policy-judging.ts';
import { loadPolicySampler } from '../src/testbed/policy-sampler.ts';
import { scriptTestbed } from './testbed-args.ts';

const { values } = parseArgs({ options: {
  seed: { type: 'string', default: '0' }, cache: { type: 'string', default: '.rlaif-cache' }, steps: { type: 'string', default: '1500' },
  batch: { type: 'string', default: '8' }, lr: { type: 'string', default: '1e-3' }, out: { type: 'string' }, from: { type: 'string' }, config: { type: 'string' },
  'on-policy-prompts': { type: 'string', default: '0' }, 'on-policy-pairs': { type: 'string', default: '600' },
  'on-policy-singles': { type: 'string', default: '800' }, 'on-policy-share': { type: 'string', default: '0.5' },
} });
const number = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number, got "${text}"`);
  return value;
};
const seed = number('seed', values.seed!), steps = number('steps', values.steps!), batch = Math.max(1, number('batch', values.batch!)), lr = number('lr', values.lr!);

const testbed = await scriptTestbed('labeler-probe', { seed, cache: values.cache, config: values.config });
if (!testbed.fromCache) process.stderr.write(`built the testbed of seed ${seed} first (${testbed.manifest.buildSeconds.toFixed(0)} s)\n`);
const pretrained = loadPretrained(values.from ?? testbed.labelerDirectory);
const model = new Transformer(pretrained.config, pretrained.parameters);
const tokenizer = HfTokenizer.load(testbed.labelerDirectory);
const notes = buildNotesIndex(readFileSync(testbed.corpusPath, 'utf8').split('\n').filter((line) => line.trim() !== ''));
const templates = testbedTemplates();
const { world, prompts } = testbed;
const judging = (asked: typeof prompts, pairs: number, singles: number, from: number) => makeJudgingExamples(world, asked, templates, { pairs, singles, seed: seed * 1000 + from, notes });
const training = judging(prompts, 3000, 3000, 1).map((c, i) => chatSftExample(tokenizer, c, { where: `judging example ${i}` }))
  .filter((e) => e.prompt.length + e.response.length <= pretrained.config.maxPositions);
const onPolicyPrompts = number('on-policy-prompts', values['on-policy-prompts']!), onPolicyShare = number('on-policy-share', values['on-policy-share']!);
const onPolicy = onPolicyPrompts === 0 ? [] : makeOnPolicyExamples(loadPolicySampler(testbed.policyDirectory), [{ world, prompts, notes, share: 1 }], templates, {
  prompts: onPolicyPrompts, pairs: number('on-policy-pairs', values['on-policy-pairs']!), singles: number('on-policy-singles', values['on-policy-singles']!), noise: 0.1, seed: seed * 1000 + 4,
}).examples.map((c, i) => chatSftExample(tokenizer, c, { where: `on-policy judging example ${i}` })).filter((e) => e.prompt.length + e.response.length <= pretrained.config.maxPositions);
// Test prompts, marked train so the generator plants flaws in their answers (it only uses train prompts).
const onTest = judging(prompts.filter((p) => p.split === 'test').map((p) => ({ ...p, split: 'train' as const })), 300, 300, 2);
const onTrain = judging(prompts, 150, 150, 3);

const first = (word: string) => tokenizer.encode(` ${word}`, { addSpecialTokens: false })[0]!;
const RIGHT = first('right'), WRONG = first('wrong'), ABOUT = first('about'), ONE = first('1'), TWO = first('2');
/** Teacher-forced decision accuracy: 'final' (so answer N) and 'assess' (right vs wrong/about), per principle. */
function accuracy(conversations: ChatMessage[][]): string {
  const tally = new Map<string, [number, number]>();
  const count = (key: string, good: boolean) => { const t = tally.get(key) ?? [0, 0]; t[0]++; if (good) t[1]++; tally.set(key, t); };
  noGrad(() => {
    for (const [i, conversation] of conversations.entries()) {
      const rule = conversation[0]!.content.replace(/^[^:]*: /, '').split('.')[0]!;
      for (const d of decisionExamples(tokenizer, conversation, i)) {
        if (d.prompt.length > pretrained.config.maxPositions) continue;
        const logits = model.forward(d.prompt, [1, d.prompt.length], { lastOnly: true }).data; // (1, 1, V)
        const target = d.response[0]!;
        if (target === ONE || target === TWO) count('final', (logits[ONE]! > logits[TWO]!) === (target === ONE));
        else {
          const good = (logits[RIGHT]! > Math.max(logits[WRONG]!, logits[ABOUT]!)) === (target === RIGHT);
          count('assess', good);
          count(`assess "${rule}"`, good);
        }
      }
    }
  });
  return [...tally].map(([key, [n, good]]) => `${key} ${(good / n).toFixed(3)} (${n})`).join(', ');
}

console.log(`labeler ${values.from ?? testbed.labelerDirectory}: ${training.length} judging examples, ${onPolicy.length} on-policy ones, ${steps} steps of ${batch}, lr ${lr}`);
console.log(`step 0: test: ${accuracy(onTest)}\n        train: ${accuracy(onTrain)}`);
const optimizer = new AdamW([...model.parameters().values()], { lr, weightDecay: 0.01 });
const rng = new Rng(seed ^ 0x5eed);
const draw = (): SftExample[] => {
  const pool = onPolicy.length > 0 && rng.uniform() < onPolicyShare ? onPolicy : training;
  return Array.from({ length: batch }, () => pool[rng.int(pool.length)]!);
};
let sum = 0;
for (let step = 0; step < steps; step++) {
  optimizer.lr = warmupCosine({ maxLr: lr, warmupSteps: 30, totalSteps: steps }, step);
  sum += sftStep(model, optimizer, draw(), 1).loss;
  if ((step + 1) % 100 === 0) { process.stderr.write(`step ${step + 1}: loss ${(sum / 100).toFixed(4)}\n`); sum = 0; }
  if ((step + 1) % 500 === 0 || step === steps - 1) console.log(`step ${step + 1}: test: ${accuracy(onTest)}\n        train: ${accuracy(onTrain)}`);
}
if (values.out) {
  cpSync(testbed.labelerDirectory, values.out, { recursive: true });
  savePretrained(values.out, pretrained.config, model.parameters());
  const audit = await auditTestbed({ world, prompts, policyDirectory: testbed.policyDirectory, labelerDirectory: values.out, corpusPath: testbed.corpusPath, seed: 0 });
  console.log(`RESULT probe_labeler_gold_agreement ${audit.labeler.accuracy?.toFixed(4)}`);
  console.log(`RESULT probe_labeler_gold_agreement_pass_fail ${audit.passFailLabeler.accuracy?.toFixed(4)}`);
  console.log(`RESULT probe_labeler_same_position_rate ${audit.labeler.samePositionPreferred?.toFixed(4)}`);
  // The gate's labeled anchor pairs (validation prompts, planted flaws, gold's preference): clean pairs, both orders.
  const judge = testbedJudge({ labelerDirectory: values.out, corpusPath: testbed.corpusPath }, { kind: 'pairwise', seed: 0 });
  const byId = new Map(prompts.map((p) => [p.id, p]));
  const items: AuditItem[] = [];
  for (const anchor of testbed.anchorSet) {
    const prompt = byId.get(anchor.promptId)!, winner = goldCompare(world, prompt, anchor.a, anchor.b).winner;
    if (winner !== 'tie') items.push({ gold: winner === 'a' ? 'A' : 'B', result: await judge.comparePair(prompt, anchor.a, anchor.b) });
  }
  const anchors = auditLabeler(items, 0, 'pairwise');
  console.log(`RESULT probe_labeler_anchor_agreement ${anchors.accuracy?.toFixed(4)}   # ${anchors.labeled} clean anchor pairs, gold's label (not the noisy one)`);
}
