// The tiny world: a small synthetic world whose facts are known, rendered as plain English text.
// It makes the engine demo's shipped corpus (scripts/make-corpus.ts writes data/tiny-world.txt, which the PyTorch
// comparison also trains on). The testbed's richer world, with private facts, dangerous acts and gold checkers, is
// world.ts, whose types and vocabulary this one draws from; its draws stay as they were, so the demo's corpus and its
// figures do not change. Leaves out: dialogue, secrets, dangerous acts.
import { Rng } from '../engine/random.ts';
import { AGES, COLORS, FOODS, KINDS, PLACES, type Creature as WorldCreature } from './world.ts';

/** A testbed creature without the private fact. */
export type Creature = Omit<WorldCreature, 'secret'>;

const NAMES = ['Ada', 'Bram', 'Cleo', 'Dov', 'Esme', 'Finn', 'Gus', 'Hana', 'Ivo', 'Juno', 'Kai', 'Lena', 'Milo',
  'Nia', 'Otto', 'Pia', 'Quin', 'Rosa', 'Sami', 'Tova', 'Uma', 'Vik', 'Wren', 'Xia', 'Yuri', 'Zoe'];
// The testbed's vocabulary, cut to the lists this world was first drawn from (10 kinds, 8 places, 8 foods): the
// draws, and so the shipped corpus, stay byte for byte as they were.
const TINY_KINDS = KINDS.slice(0, 10), TINY_PLACES = PLACES.slice(0, 8), TINY_FOODS = FOODS.slice(0, 8);

/** A world of creatures with fixed facts, drawn from a seed. */
export function makeWorld(seed: number, size = NAMES.length): Creature[] {
  const rng = new Rng(seed);
  const names = NAMES.slice(0, size);
  return names.map((name) => ({
    name,
    kind: TINY_KINDS[rng.int(TINY_KINDS.length)],
    color: COLORS[rng.int(COLORS.length)],
    home: TINY_PLACES[rng.int(TINY_PLACES.length)],
    food: TINY_FOODS[rng.int(TINY_FOODS.length)],
    friend: names[rng.int(names.length)],
    age: AGES[rng.int(AGES.length)],
  })).map((c, _i, all) => (c.friend === c.name ? { ...c, friend: all[(all.indexOf(c) + 1) % all.length].name } : c));
}

const TEMPLATES: ((c: Creature) => string)[] = [
  (c) => `${c.name} is a ${c.color} ${c.kind}.`,
  (c) => `${c.name} lives near ${c.home}.`,
  (c) => `${c.name} likes to eat ${c.food}.`,
  (c) => `${c.name} is ${c.age} years old.`,
  (c) => `The ${c.kind} called ${c.name} is a friend of ${c.friend}.`,
  (c) => `Every morning ${c.name} walks to ${c.home} to look for ${c.food}.`,
  (c) => `Q: What does ${c.name} eat? A: ${c.name} eats ${c.food}.`,
  (c) => `Q: Where does ${c.name} live? A: Near ${c.home}.`,
  (c) => `Q: What kind of animal is ${c.name}? A: A ${c.color} ${c.kind}.`,
];

/** About `chars` characters of true sentences about the world, one paragraph per line. */
export function renderCorpus(world: Creature[], seed: number, chars: number): string {
  const rng = new Rng(seed);
  const lines: string[] = [];
  let total = 0;
  while (total < chars) {
    const sentences: string[] = [];
    const count = 2 + rng.int(4);
    for (let i = 0; i < count; i++) {
      const creature = world[rng.int(world.length)];
      sentences.push(TEMPLATES[rng.int(TEMPLATES.length)](creature));
    }
    const line = sentences.join(' ');
    lines.push(line);
    total += line.length + 1;
  }
  return lines.join('\n') + '\n';
}
