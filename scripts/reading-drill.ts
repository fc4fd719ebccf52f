// A diagnostic of the testbed labeler's weakest skill (issue 11): comparing a claim with a fact stated a few tokens
// before it, in plain text. Loads the built testbed's labeler (`rlaif testbed build` first; this reads the cache) or,
// with --fresh, a model of its shape at initialization, and trains it on drills alone: a made-up name (never in the
// corpus, so only the text can answer), 1 to 3 facts about it, then claims each followed by right or wrong ("Kelo is
// red. Claim: Kelo is white. It is wrong."). It prints the decision accuracy on drills about held-out names every
// --every steps; with --out DIR it saves the drilled labeler there (scripts/labeler-probe.ts --from DIR goes on with
// judging). Leaves out the judging format (scripts/labeler-probe.ts measures that).
// Usage: node --import tsx scripts/reading-drill.ts [--seed N] [--cache DIR] [--steps N] [--lr X] [--facts 1|2|3|mixed]
//   [--claims N] [--fresh] [--every N] [--out DIR] [--config FILE (the testbed config the build used)]
import { cpSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sftStep, type SftExample } from '../src/algorithms/sft-trainer.ts';
import { AdamW, Rng, warmupCosine } from '../src/engine/index.ts';
import { noGrad } from '../src/engine/tensor.ts';
import { loadPretrained, savePretrained } from '../src/models/checkpoint.ts';
import { initParameters } from '../src/models/parameters.ts';
import { HfTokenizer } from '../src/models/tokenizer.ts';
import { Transformer } from '../src/models/transformer.ts';
import { factSentence } from '../src/testbed/language.ts';
import { drawSyllableNames, type Attribute } from '../src/testbed/world.ts';
import { positiveArg, scriptTestbed } from './testbed-args.ts';

const { values } = parseArgs({ options: {
  seed: { type: 'string', default: '0' }, cache: { type: 'string', default: '.rlaif-cache' }, steps: { type: 'string', default: '2000' },
  lr: { type: 'string', default: '3e-3' }, facts: { type: 'string', default: '1' }, claims: { type: 'string', default: '2' },
  fresh: { type: 'boolean', default: false }, every: { type: 'string', default: '250' }, out: { type: 'string' }, config: { type: 'string' },
} });
const steps = positiveArg('steps', values.steps!), lr = positiveArg('lr', values.lr!, false), claims = positiveArg('claims', values.claims!), every = positiveArg('every', values.every!);
if (!['1', '2', '3', 'mixed'].includes(values.facts!)) throw new Error(`--facts must be 1, 2, 3 or mixed, got "${values.facts}"`);

const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got "${values.seed}"`);
const testbed = await scriptTestbed('reading-drill', { seed, cache: values.cache, config: values.config });
const pretrained = loadPretrained(testbed.labelerDirectory);
const model = new Transformer(pretrained.config, values.fresh ? initParameters(pretrained.config, 1234) : pretrained.parameters);
const tokenizer = HfTokenizer.load(testbed.labelerDirectory);
const vocabulary = testbed.world.vocabulary, attributes: Attribute[] = ['kind', 'color', 'home', 'food', 'age'];
const endId = tokenizer.tokenToId('<|end|>')!;
const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });

/** One drill: its text and, per claim, the text up to the decision and whether the claim is right. */
function drill(rng: Rng, names: string[]): { text: string; decisions: { prefix: string; right: boolean }[] } {
  const name = names[rng.int(names.length)]!;
  const count = values.facts === 'mixed' ? 1 + rng.int(3) : Number(values.facts);
  const chosen = [...attributes].sort(() => rng.uniform() - 0.5).slice(0, count);
  const truth = Object.fromEntries(chosen.map((a) => [a, vocabulary[a][rng.int(vocabulary[a].length)]!]));
  let text = chosen.map((a) => factSentence(name, a, truth[a]!)).join(' ');
  const decisions: { prefix: string; right: boolean }[] = [];
  for (let i = 0; i < claims; i++) {
    const attribute = chosen[rng.int(chosen.length)]!, right = rng.uniform() < 0.5;
    let value = truth[attribute]!;
    if (!right) do value = vocabulary[attribute][rng.int(vocabulary[attribute].length)]!; while (value === truth[attribute]);
    text += ` Claim: ${factSentence(name, attribute, value)} It is`;
    decisions.push({ prefix: text, right });
    text += right ? ' right.' : ' wrong.';
  }
  return { text, decisions };
}

const names = drawSyllableNames(3000, new Rng(5)).filter((n) => !testbed.world.creatures.some((c) => c.name === n));
const trainNames = names.slice(0, 2500), testNames = names.slice(2500);
const rng = new Rng(11);
const training: SftExample[] = Array.from({ length: 20000 }, () => ({ prompt: Int32Array.of(endId), response: Int32Array.from([...encode(drill(rng, trainNames).text), endId]) }));
const held = Array.from({ length: 200 }, () => drill(new Rng(rng.int(1e9)), testNames));
const RIGHT = encode(' right')[0]!, WRONG = encode(' wrong')[0]!;
const evaluate = (step: number) => noGrad(() => {
  let good = 0, total = 0;
  for (const d of held) for (const decision of d.decisions) {
    const ids = Int32Array.from([endId, ...encode(decision.prefix)]);
    const logits = model.forward(ids, [1, ids.length], { lastOnly: true }).data;
    if ((logits[RIGHT]! > logits[WRONG]!) === decision.right) good++;
    total++;
  }
  console.log(`step ${step}: held-out drill accuracy ${(good / total).toFixed(3)} (${total} decisions)`);
});

console.log(`${values.fresh ? 'fresh' : 'the build\'s'} labeler (${pretrained.config.hiddenSize} wide, ${pretrained.config.numLayers} layers), facts ${values.facts}, claims ${claims}, lr ${lr}, batch 16`);
evaluate(0);
const optimizer = new AdamW([...model.parameters().values()], { lr, weightDecay: 0.01 });
const batches = new Rng(3), started = performance.now();
for (let step = 0; step < steps; step++) {
  optimizer.lr = warmupCosine({ maxLr: lr, warmupSteps: 30, totalSteps: steps }, step);
  sftStep(model, optimizer, Array.from({ length: 16 }, () => training[batches.int(training.length)]!), 1);
  if ((step + 1) % every === 0 || step === steps - 1) { evaluate(step + 1); process.stderr.write(`${((performance.now() - started) / 1000).toFixed(0)} s\n`); }
}
if (values.out) {
  cpSync(testbed.labelerDirectory, values.out, { recursive: true });
  savePretrained(values.out, pretrained.config, model.parameters());
  console.log(`saved the drilled labeler in ${values.out}`);
}
