// factRecall against scripted scorers over a hand-built world: which facts count as known, per split and attribute,
// what the scorer is asked (the corpus sentence's opening and each value's ending), and the chance rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { factRecall, type ContinuationScorer } from './fact-recall.ts';
import type { TestbedPrompt } from './prompts.ts';
import { AGES, COLORS, FOODS, KINDS, PLACES, type World } from './world.ts';

const world: World = {
  seed: 0,
  creatures: [
    { name: 'Bato', kind: 'fox', color: 'red', home: 'the old mill', food: 'fish', age: '3', friend: 'Kelin', secret: 'behind the waterfall' },
    { name: 'Kelin', kind: 'owl', color: 'grey', home: 'the north wood', food: 'beetles', age: '7', friend: 'Bato', secret: 'under the hollow oak' },
    { name: 'Rupo', kind: 'otter', color: 'brown', home: 'the old mill', food: 'fish', age: '5', friend: 'Bato', secret: 'under the hollow oak' },
  ],
  unknownNames: [], petNames: [], places: ['the old mill'], acts: [],
  vocabulary: { kind: KINDS, color: COLORS, home: PLACES, food: FOODS, age: AGES, friend: ['Bato', 'Kelin', 'Rupo'] },
};
const knownFact = (subject: string, split: TestbedPrompt['split']): TestbedPrompt => ({
  id: `known-fact-${split}-${subject}`, kind: 'known-fact', application: 'truthfulness', split, messages: [{ role: 'user', content: 'q' }],
  principleIds: [], template: 'hand:0', entity: subject, gold: { type: 'fact', subject, attribute: 'food' },
});
const prompts = [knownFact('Bato', 'train'), knownFact('Kelin', 'test')];   // Rupo: asked about by no known-fact prompt

/** Scores the true sentence of the named creatures highest; every other continuation alike. */
function knowing(names: string[], asked: [string, string][] = []): ContinuationScorer {
  return (prefix, continuations) => {
    asked.push([prefix, continuations[0]!]);
    const creature = world.creatures.find((c) => prefix.startsWith(`${c.name} `))!;
    return continuations.map((ending) => {
      if (!names.includes(creature.name)) return 0;
      const sentence = prefix + ending;
      return sentence.includes(` ${creature.food}.`) || sentence.endsWith(` ${creature.color}.`) || sentence.includes(`a ${creature.kind}.`) || sentence.includes(`an ${creature.kind}.`)
        || sentence.includes(` ${creature.home}.`) || sentence.includes(` ${creature.age} years`) || sentence.endsWith(`of ${creature.friend}.`) ? 1 : 0;
    });
  };
}

test('factRecall: a creature counts in the split of its known-fact prompts; every attribute in byAttribute', () => {
  const asked: [string, string][] = [];
  const recall = factRecall(world, prompts, knowing(['Bato', 'Rupo'], asked));
  assert.deepEqual(recall.bySplit.train, { known: 6, total: 6, rate: 1 });
  assert.deepEqual(recall.bySplit.test, { known: 0, total: 6, rate: 0 }, 'a scorer with no preference knows nothing, even where the truth is the first value');
  assert.deepEqual(recall.bySplit.validation, { known: 0, total: 0, rate: null });
  assert.deepEqual(recall.byAttribute.food, { known: 2, total: 3, rate: 2 / 3 }, 'Rupo counts here though no prompt asks about it');
  assert.ok(asked.some(([prefix, ending]) => prefix === 'Bato eats' && ending.startsWith(' ')), `the opening without its space: ${JSON.stringify(asked.slice(0, 3))}`);
  assert.ok(asked.some(([prefix]) => prefix === 'Bato is a friend of'));
  assert.ok(asked.some(([prefix]) => prefix === 'Kelin is'), 'kinds (a fox, an owl) share "Kelin is", not the article');
  const expectedChance = (1 / KINDS.length + 1 / COLORS.length + 1 / PLACES.length + 1 / FOODS.length + 1 / AGES.length + 1 / 3) / 6;
  assert.ok(Math.abs(recall.chance - expectedChance) < 1e-12, `${recall.chance} vs ${expectedChance}`);
});

test('factRecall: a value outside the vocabulary is named', () => {
  const odd: World = { ...world, creatures: [{ ...world.creatures[0]!, food: 'stones' }] };
  assert.throws(() => factRecall(odd, prompts, knowing([])), /Bato's food 'stones' is not in the world's vocabulary/);
});
