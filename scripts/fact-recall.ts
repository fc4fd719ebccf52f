// A diagnostic of what the testbed's SFT policy knows of the world (issue 11): builds the testbed (or reads it from the
// cache) and prints two recall figures per group of creatures.
// - alone: the corpus's fact sentence after its bare opening ("Tavur eats"), the true value scored above every other
//   value of the attribute (src/testbed/fact-recall.ts, as `rlaif testbed audit` prints it). A question asks this way.
// - in its paragraph: every plain fact sentence of the corpus where it stands, after the paragraph's earlier
//   sentences, at the paragraph's start or in the middle. What pretraining stored, cued by its own context.
// Creatures: test (their known-fact prompts are in the test split: only the corpus describes them) and the others
// (train creatures are also in the demonstrations). A policy config with `finetuneSteps: 0` measures pretraining alone.
// Leaves out the corpus's other phrasings ("The food of Tavur is ...") in the paragraph figure.
// Usage: node --import tsx scripts/fact-recall.ts [--seed N] [--cache DIR] [--config FILE] [--max-sentences N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { creatureSplits, factRecall, isKnown, modelScorer, sharedOpening } from '../src/testbed/fact-recall.ts';
import { factSentence } from '../src/testbed/language.ts';
import { loadPolicySampler } from '../src/testbed/policy-sampler.ts';
import { SPLITS } from '../src/testbed/prompts.ts';
import { ATTRIBUTES } from '../src/testbed/world.ts';
import { scriptTestbed } from './testbed-args.ts';

const { values } = parseArgs({ options: {
  seed: { type: 'string', default: '0' }, cache: { type: 'string' }, config: { type: 'string' }, 'max-sentences': { type: 'string', default: '4000' },
} });
const seed = Number(values.seed), maxSentences = Number(values['max-sentences']);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`fact-recall: --seed must be a non-negative integer, got '${values.seed}'`);
if (!Number.isInteger(maxSentences) || maxSentences < 1) throw new Error(`fact-recall: --max-sentences must be a positive integer, got '${values['max-sentences']}'`);
const testbed = await scriptTestbed('fact-recall', { seed, cache: values.cache, config: values.config });
const sampler = loadPolicySampler(testbed.policyDirectory);
const score = modelScorer(sampler.model, sampler.tokenizer);
const percent = (known: number, total: number) => (total > 0 ? `${(100 * known / total).toFixed(1)}% of ${total}` : 'n/a');

const alone = factRecall(testbed.world, testbed.prompts, score);
console.log(`alone: ${SPLITS.map((s) => `${s} creatures ${percent(alone.bySplit[s].known, alone.bySplit[s].total)}`).join(', ')}; chance ${(100 * alone.chance).toFixed(1)}%`);
console.log(`alone, per attribute: ${ATTRIBUTES.map((a) => `${a} ${percent(alone.byAttribute[a].known, alone.byAttribute[a].total)}`).join(', ')}`);

const splitOf = creatureSplits(testbed.prompts);
const tally = new Map<string, { known: number; total: number }>();
let sentences = 0;
scan: for (const line of readFileSync(testbed.corpusPath, 'utf8').split('\n')) {
  for (const creature of testbed.world.creatures) {
    for (const attribute of ATTRIBUTES) {
      const at = line.indexOf(factSentence(creature.name, attribute, creature[attribute]));
      if (at < 0) continue;
      const options = testbed.world.vocabulary[attribute];
      const candidates = options.map((v) => factSentence(creature.name, attribute, v));
      const opening = sharedOpening(candidates);
      const scores = score(line.slice(0, at) + opening, candidates.map((c) => c.slice(opening.length)));
      const truth = options.indexOf(creature[attribute]);
      const key = `${splitOf.get(creature.name) === 'test' ? 'test' : 'other'} creatures, ${at === 0 ? 'paragraph start' : 'mid-paragraph'}`;
      const entry = tally.get(key) ?? { known: 0, total: 0 };
      entry.known += isKnown(scores, truth) ? 1 : 0;
      entry.total++;
      tally.set(key, entry);
      if (++sentences >= maxSentences) break scan;
    }
  }
}
console.log(`in its paragraph: ${[...tally].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k} ${percent(v.known, v.total)}`).join('; ')}`);
console.log(`RESULT fact_recall_test ${alone.bySplit.test.rate?.toFixed(4) ?? 'n/a'}`);
