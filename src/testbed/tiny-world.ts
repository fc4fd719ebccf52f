// The tiny world: a small synthetic world whose facts are known, rendered as plain English text.
// It makes the engine demo's shipped corpus (scripts/make-corpus.ts writes data/tiny-world.txt, which the PyTorch
// comparison also trains on). The testbed's richer world, with private facts, dangerous acts and gold checkers, is
// world.ts; this one stays as it is so the demo's corpus and its figures do not change. Leaves out: dialogue.
import { Rng } from '../engine/random.ts';

export interface Creature {
  name: string;
  kind: string;
  color: string;
  home: string;
  food: string;
  friend: string;
  age: number;
}

const NAMES = ['Ada', 'Bram', 'Cleo', 'Dov', 'Esme', 'Finn', 'Gus', 'Hana', 'Ivo', 'Juno', 'Kai', 'Lena', 'Milo',
  'Nia', 'Otto', 'Pia', 'Quin', 'Rosa', 'Sami', 'Tova', 'Uma', 'Vik', 'Wren', 'Xia', 'Yuri', 'Zoe'];
const KINDS = ['fox', 'owl', 'hare', 'otter', 'badger', 'heron', 'mole', 'crow', 'deer', 'frog'];
const COLORS = ['red', 'grey', 'brown', 'white', 'black', 'golden', 'silver', 'green'];
const PLACES = ['the north wood', 'the river bank', 'the old mill', 'the hill farm', 'the reed marsh', 'the stone bridge',
  'the south meadow', 'the pine ridge'];
const FOODS = ['berries', 'acorns', 'fish', 'clover', 'beetles', 'apples', 'seeds', 'mushrooms'];

/** A world of creatures with fixed facts, drawn from a seed. */
export function makeWorld(seed: number, size = NAMES.length): Creature[] {
  const rng = new Rng(seed);
  const names = NAMES.slice(0, size);
  return names.map((name) => ({
    name,
    kind: KINDS[rng.int(KINDS.length)],
    color: COLORS[rng.int(COLORS.length)],
    home: PLACES[rng.int(PLACES.length)],
    food: FOODS[rng.int(FOODS.length)],
    friend: names[rng.int(names.length)],
    age: 1 + rng.int(12),
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
