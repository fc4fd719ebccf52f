// The pretraining corpus: true text about the world, one short paragraph per line, every creature's public facts,
// its secret (so a model can leak it and a refusal has something to withhold), and the methods of the dangerous and
// benign acts. Phrasings differ from the prompt templates, so no question template leaks into pretraining.
// Leaves out: anything about the unknown names (they exist nowhere), dialogue (demonstrations.ts).
import { Rng } from '../engine/random.ts';
import { factSentence, withArticle } from './language.ts';
import { ATTRIBUTES, shuffled, testbedSeed, type Attribute, type Creature, type World } from './world.ts';

export interface CorpusOptions {
  paragraphsPerCreature?: number;  // biographies per creature, each a shuffled selection of its facts (default 24)
  paragraphsPerAct?: number;       // paragraphs per dangerous act (default 3)
}

/** Other true phrasings of each attribute (the fact sentence of language.ts is the first). */
const VARIANTS: Record<Attribute, ((c: Creature) => string)[]> = {
  kind: [(c) => factSentence(c.name, 'kind', c.kind), (c) => `${c.name} the ${c.kind} is well known here.`],
  color: [(c) => factSentence(c.name, 'color', c.color), (c) => `The coat of ${c.name} is ${c.color}.`],
  home: [(c) => factSentence(c.name, 'home', c.home), (c) => `The home of ${c.name} is near ${c.home}.`],
  food: [(c) => factSentence(c.name, 'food', c.food), (c) => `The food of ${c.name} is ${c.food}.`],
  age: [(c) => factSentence(c.name, 'age', c.age), (c) => `${c.name} was born ${c.age} years ago.`],
  friend: [(c) => factSentence(c.name, 'friend', c.friend), (c) => `${c.name} and ${c.friend} are friends.`],
};

function biography(c: Creature, rng: Rng): string {
  const sentences = shuffled(ATTRIBUTES, rng).slice(0, 3 + rng.int(4)).map((a) => VARIANTS[a][rng.int(VARIANTS[a].length)]!(c));
  if (rng.uniform() < 0.25) sentences.push(`${c.name} hides its treasure ${c.secret}. That is a secret.`);
  if (rng.uniform() < 0.3) sentences.unshift(`${c.name} is ${withArticle(c.color)} ${c.kind} who lives near ${c.home}.`);
  return sentences.join(' ');
}

/** Field notes: a creature's facts as short queries, each answered by its fact sentence ('Notes on Bato. The food?
 * Bato eats fish.'). Web text is full of such question-and-answer text; without it a small model stores facts it
 * can complete in running prose but cannot retrieve when asked (Allen-Zhu & Li, "Physics of Language Models 3.1",
 * arXiv 2309.14316: knowledge extraction needs such mixed data). The phrasing is none of the prompt templates'. */
function fieldNotes(c: Creature, rng: Rng): string {
  const asked = shuffled(ATTRIBUTES, rng).slice(0, 2 + rng.int(3));
  return `Notes on ${c.name}. ${asked.map((a) => `${NOTE_QUERIES[a]}? ${factSentence(c.name, a, c[a])}`).join(' ')}`;
}
const NOTE_QUERIES: Record<Attribute, string> = { kind: 'The animal', color: 'The coat', home: 'The place', food: 'The meal', age: 'The years', friend: 'The companion' };

/** The corpus lines; the same world and options always give the same text. */
export function renderCorpus(world: World, options: CorpusOptions = {}): string[] {
  const perCreature = options.paragraphsPerCreature ?? 24, perAct = options.paragraphsPerAct ?? 3;
  const rng = new Rng(testbedSeed(world.seed, 'corpus'));
  const lines: string[] = [];
  for (const c of world.creatures) {
    for (let i = 0; i < perCreature; i++) lines.push(i % 4 === 3 ? fieldNotes(c, rng) : biography(c, rng));
    // Every fact at least once in its plain form, so the corpus covers the whole world.
    lines.push(ATTRIBUTES.map((a) => factSentence(c.name, a, c[a])).join(' '));
  }
  for (const act of world.acts) {
    for (let i = 0; i < perAct; i++) {
      lines.push(rng.uniform() < 0.5
        ? `To ${act.request}, one would ${act.method}. That would cause harm. To ${act.benignRequest}, ${act.benignMethod}.`
        : `To ${act.benignRequest}, ${act.benignMethod}. It is kind work.`);
    }
  }
  return shuffled(lines, rng);
}
