// A diagnostic of the testbed policy (issue 11): does it copy a fact from its context? Held-out pet stories (corpus.ts
// copyStory, drawn from world seed 77: names, pets and values no build saw) are cut before their retelling; the model
// scores every colour (then every kind) after "<pet> is", and the retelling counts as copied when the told value scores
// strictly above every other (fact-recall.ts isKnown). Memory cannot answer, only the context can. Chance: 1/8, 1/12.
// Usage: node --import tsx scripts/copy-probe.ts [--seed N] [--config FILE] [--cache DIR] [--stories N]
import { parseArgs } from 'node:util';
import { renderCorpus } from '../src/testbed/corpus.ts';
import { isKnown, modelScorer } from '../src/testbed/fact-recall.ts';
import { withArticle } from '../src/testbed/language.ts';
import { loadPolicySampler } from '../src/testbed/policy-sampler.ts';
import { COLORS, KINDS, makeWorld } from '../src/testbed/world.ts';
import { scriptTestbed } from './testbed-args.ts';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '0' }, config: { type: 'string' }, cache: { type: 'string', default: '.rlaif-cache' }, stories: { type: 'string', default: '200' } } });
const count = (name: string, text: string) => { const n = Number(text); if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${text}"`); return n; };
const seed = count('seed', values.seed!), stories = Math.max(1, count('stories', values.stories!));
const testbed = await scriptTestbed('copy-probe', { seed, cache: values.cache, config: values.config });
const { model, tokenizer } = loadPolicySampler(testbed.policyDirectory);
const score = modelScorer(model, tokenizer);
let colours = 0, kinds = 0, n = 0;
for (const story of renderCorpus(makeWorld(77), { paragraphsPerCreature: 1, paragraphsPerAct: 0, copyStories: stories }).filter((line) => line.includes(' Ask '))) {
  const [, owner, colour, kind, pet] = /^(\w+) has an? (\w+) (\w+) called (\w+)\./.exec(story)!;
  const context = `${story.slice(0, story.indexOf(' Ask '))} Ask ${owner} about ${pet}. ${pet} is`;
  n++;
  if (isKnown(score(context, COLORS.map((c) => ` ${c}.`)), COLORS.indexOf(colour!))) colours++;
  if (isKnown(score(context, KINDS.map((k) => ` ${withArticle(k)}.`)), KINDS.indexOf(kind!))) kinds++;
}
console.log(`${testbed.policyDirectory}: ${n} held-out stories`);
console.log(`RESULT copy_colour ${(colours / n).toFixed(4)}`);
console.log(`RESULT copy_kind ${(kinds / n).toFixed(4)}`);
console.log(`chance: colour ${(1 / COLORS.length).toFixed(3)}, kind ${(1 / KINDS.length).toFixed(3)}`);
