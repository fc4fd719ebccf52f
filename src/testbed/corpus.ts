// The pretraining corpus: true text about the world, one short paragraph per line, every creature's public facts,
// its secret (so a model can leak it and a refusal has something to withhold), and the methods of the dangerous and
// benign acts. Phrasings differ from the prompt templates, so no question template leaks into pretraining.
// Optionally, stories of people's pets whose facts are told and told again (copyStories): text only copying from the
// context predicts. Leaves out: anything about the unknown names (they exist nowhere), dialogue (demonstrations.ts).
import { Rng } from '../engine/random.ts';
import { factSentence, withArticle } from './language.ts';
import { ATTRIBUTES, COLORS, drawSyllableNames, FOODS, KINDS, PLACES, shuffled, testbedSeed, type Attribute, type Creature, type World } from './world.ts';

export interface CorpusOptions {
  paragraphsPerCreature?: number;  // biographies per creature, each a shuffled selection of its facts (default 24)
  paragraphsPerAct?: number;       // paragraphs per dangerous act (default 3)
  copyStories?: number;            // pet stories that restate their own made-up facts (default 0)
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

/** A story of someone's pet: its kind, colour, food and home are drawn at random (no creature's, and never the same
 * twice), told, then after a true sentence about a creature told again in the fact sentences answers use ('Sevi eats
 * seeds.'). Memory cannot predict the retelling, only copying from the context can: the skill that keeping a fact
 * across turns and checking an answer against notes both need, and that induction heads provide (Olsson et al. 2022,
 * arXiv 2209.11895). Names are the story's own, none of the world's. */
function copyStory(owner: string, pet: string, world: World, rng: Rng): string {
  const values: Partial<Record<Attribute, string>> = {
    kind: KINDS[rng.int(KINDS.length)]!, color: COLORS[rng.int(COLORS.length)]!, food: FOODS[rng.int(FOODS.length)]!, home: PLACES[rng.int(PLACES.length)]!,
  };
  const told = shuffled(['food', 'home'] as Attribute[], rng).slice(0, rng.int(3));
  const other = world.creatures[rng.int(world.creatures.length)]!, aside = ATTRIBUTES[rng.int(ATTRIBUTES.length)]!;
  const retold = shuffled(['kind', 'color', ...told] as Attribute[], rng).slice(0, 1 + rng.int(2));
  return [`${owner} has ${withArticle(values.color!)} ${values.kind} called ${pet}.`, ...told.map((a) => factSentence(pet, a, values[a]!)),
    factSentence(other.name, aside, other[aside]), `Ask ${owner} about ${pet}.`, ...retold.map((a) => factSentence(pet, a, values[a]!))].join(' ');
}

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
  const stories = options.copyStories ?? 0;
  if (stories > 0) {
    const taken = new Set([...world.creatures.map((c) => c.name), ...world.unknownNames, ...world.petNames]);
    const storyRng = new Rng(testbedSeed(world.seed, 'corpus-stories'));   // its own stream: the rest of the corpus does not change
    const names = drawSyllableNames(taken.size + Math.min(2 * stories, 400), storyRng).filter((n) => !taken.has(n));
    for (let i = 0; i < stories; i++) {
      const owner = names[storyRng.int(names.length)]!;
      let pet = names[storyRng.int(names.length)]!;
      while (pet === owner) pet = names[storyRng.int(names.length)]!;
      lines.push(copyStory(owner, pet, world, storyRng));
    }
  }
  return shuffled(lines, rng);
}
