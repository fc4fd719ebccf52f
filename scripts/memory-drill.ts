// A diagnostic for issue 11: can the testbed's self-judging labeler turn what it knows of the world into a verdict?
// Earlier probes drilled reading (a claim checked against a fact written before it: scripts/reading-drill.ts). This one
// drills memory: a claim about a real creature, with no fact in the text, then right or wrong ("Claim: Zibas is grey.
// It is wrong."), the loss on the decision word and the end token after it (the claim is context: the false claims
// are never learned as text). The drills are
// made from the corpus's facts (unlabeled true text: a self-supervised task, no gold call) about the train and
// validation creatures; the accuracy is measured on claims about the test creatures, which no drill names, so it can
// only come from what pretraining stored. Beside it, the model's own certainty on the same claims: the true sentence
// against the false one by summed token log-probability (what `policy_certainty_gold_agreement` reads in the audit).
// Prints, every --every steps, the held-out decision accuracy (true and false claims, half each) and the paired
// accuracy (the true claim's P(right) above its false twin's), per attribute on the last line.
// With --drill-all the drills name every creature, the test ones too (their facts are corpus text like the others'),
// never with the false value a measured claim uses: what a labeler drilled on the whole corpus could reach.
// Usage: node --import tsx scripts/memory-drill.ts [--seed N] [--cache DIR] [--config FILE] [--steps N] [--lr X] [--every N] [--drill-all]
import { parseArgs } from 'node:util';
import { sftStep, type SftExample } from '../src/algorithms/sft-trainer.ts';
import { AdamW, Rng, warmupCosine } from '../src/engine/index.ts';
import { noGrad } from '../src/engine/tensor.ts';
import { creatureSplits, modelScorer, sharedOpening } from '../src/testbed/fact-recall.ts';
import { factSentence } from '../src/testbed/language.ts';
import { loadPolicySampler } from '../src/testbed/policy-sampler.ts';
import { ATTRIBUTES, type Attribute, type Creature } from '../src/testbed/world.ts';
import { positiveArg, scriptTestbed } from './testbed-args.ts';

const { values } = parseArgs({ options: {
  seed: { type: 'string', default: '0' }, cache: { type: 'string', default: '.rlaif-cache' }, config: { type: 'string' },
  steps: { type: 'string', default: '1000' }, 'drill-all': { type: 'boolean', default: false }, lr: { type: 'string', default: '1e-3' }, every: { type: 'string', default: '250' },
} });
const steps = positiveArg('steps', values.steps!), lr = positiveArg('lr', values.lr!, false), every = positiveArg('every', values.every!);
const seed = Number(values.seed);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got "${values.seed}"`);

const testbed = await scriptTestbed('memory-drill', { seed, cache: values.cache, config: values.config });
const { model, tokenizer } = loadPolicySampler(testbed.labelerDirectory);
const endId = tokenizer.tokenToId('<|end|>')!;
const encode = (text: string) => tokenizer.encode(text, { addSpecialTokens: false });
const RIGHT = encode(' right')[0]!, WRONG = encode(' wrong')[0]!;
if (encode(' right').length !== 1 || encode(' wrong').length !== 1) throw new Error('memory-drill: " right" and " wrong" must be one token each');

interface Claim { creature: Creature; attribute: Attribute; value: string; right: boolean }
const world = testbed.world, splitOf = creatureSplits(testbed.prompts);
const falseValue = (c: Creature, a: Attribute, rng: Rng): string => {
  const options = world.vocabulary[a].filter((v) => v !== c[a] && v !== c.name);
  return options[rng.int(options.length)]!;
};
const claimText = (claim: Claim) => `Claim: ${factSentence(claim.creature.name, claim.attribute, claim.value)} It is`;

const held = world.creatures.filter((c) => splitOf.get(c.name) === 'test');
const drilled = values['drill-all'] ? world.creatures : world.creatures.filter((c) => splitOf.get(c.name) !== 'test');
if (held.length === 0) throw new Error('memory-drill: no test creatures in this world');
const rng = new Rng(17);
// Each held-out fact once true and once with a false value (the same false value for the certainty comparison); with
// --drill-all, drills name the test creatures too (their facts are in the corpus) but never with that false value.
const pairs = held.flatMap((creature) => ATTRIBUTES.map((attribute) => ({ creature, attribute, wrong: falseValue(creature, attribute, rng) })));
const measured = new Set(pairs.map((p) => `${p.creature.name}/${p.attribute}/${p.wrong}`));
const training: SftExample[] = Array.from({ length: 20000 }, () => {
  const creature = drilled[rng.int(drilled.length)]!, attribute = ATTRIBUTES[rng.int(ATTRIBUTES.length)]!, right = rng.uniform() < 0.5;
  let value = creature[attribute];
  if (!right) do value = falseValue(creature, attribute, rng); while (measured.has(`${creature.name}/${attribute}/${value}`));
  const claim = { creature, attribute, value, right };
  return { prompt: Int32Array.from([endId, ...encode(claimText(claim))]), response: Int32Array.of(right ? RIGHT : WRONG, endId) };
});

const score = modelScorer(model, tokenizer);
const certaintyPaired = noGrad(() => pairs.filter((p) => {
  const sentences = [factSentence(p.creature.name, p.attribute, p.creature[p.attribute]), factSentence(p.creature.name, p.attribute, p.wrong)];
  const opening = sharedOpening(sentences);
  const [truth, falsehood] = score(opening, sentences.map((s) => s.slice(opening.length)));
  return truth! > falsehood!;
}).length / pairs.length);

const margin = (claim: Claim): number => noGrad(() => {
  const ids = Int32Array.from([endId, ...encode(claimText(claim))]);
  const logits = model.forward(ids, [1, ids.length], { lastOnly: true }).data;
  return logits[RIGHT]! - logits[WRONG]!;
});
const evaluate = (step: number) => {
  let decided = 0, paired = 0;
  const perAttribute = new Map<Attribute, number>();
  for (const p of pairs) {
    const onTrue = margin({ creature: p.creature, attribute: p.attribute, value: p.creature[p.attribute], right: true });
    const onFalse = margin({ creature: p.creature, attribute: p.attribute, value: p.wrong, right: false });
    decided += (onTrue > 0 ? 1 : 0) + (onFalse < 0 ? 1 : 0);
    if (onTrue > onFalse) { paired++; perAttribute.set(p.attribute, (perAttribute.get(p.attribute) ?? 0) + 1); }
  }
  console.log(`step ${step}: held-out creatures' claims decided right ${(decided / (2 * pairs.length)).toFixed(3)}, paired ${(paired / pairs.length).toFixed(3)} (${pairs.length} facts; the policy's certainty on the same pairs ${certaintyPaired.toFixed(3)})`);
  return perAttribute;
};

console.log(`memory drill: seed ${seed}, ${drilled.length} drilled creatures${values['drill-all'] ? ' (the test creatures among them)' : ''}, ${held.length} measured, lr ${lr}, batch 16, ${steps} steps`);
evaluate(0);
const optimizer = new AdamW([...model.parameters().values()], { lr, weightDecay: 0.01 });
const batches = new Rng(3), started = performance.now();
let last = new Map<Attribute, number>();
for (let step = 0; step < steps; step++) {
  optimizer.lr = warmupCosine({ maxLr: lr, warmupSteps: 30, totalSteps: steps }, step);
  sftStep(model, optimizer, Array.from({ length: 16 }, () => training[batches.int(training.length)]!), 1);
  if ((step + 1) % every === 0 || step === steps - 1) { last = evaluate(step + 1); process.stderr.write(`${((performance.now() - started) / 1000).toFixed(0)} s\n`); }
}
console.log(`paired, per attribute (of ${held.length}): ${ATTRIBUTES.map((a) => `${a} ${last.get(a) ?? 0}`).join(', ')}`);
