import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCorpus } from './corpus.ts';
import { makeWorld } from './world.ts';

test('copy stories: off by default; each retells its own made-up pet facts after an aside, under names no creature, unknown or pet name has; the rest of the corpus unchanged', () => {
  const world = makeWorld(3, { creatures: 12, unknownNames: 6, petNames: 6 });
  const plain = renderCorpus(world, { paragraphsPerCreature: 4 }), withStories = renderCorpus(world, { paragraphsPerCreature: 4, copyStories: 40 });
  const isStory = (line: string) => / has an? \w+ \w+ called \w+\./.test(line) && line.includes(' Ask ');
  assert.equal(plain.filter(isStory).length, 0);
  const stories = withStories.filter(isStory);
  assert.equal(stories.length, 40);
  assert.deepEqual(withStories.filter((l) => !isStory(l)).sort(), [...plain].sort(), 'the other paragraphs are the same');
  const taken = new Set([...world.creatures.map((c) => c.name), ...world.unknownNames, ...world.petNames]);
  let retoldKinds = 0;
  for (const story of stories) {
    const [, owner, color, kind, pet] = /^(\w+) has an? (\w+) (\w+) called (\w+)\./.exec(story)!;
    assert.ok(!taken.has(owner!) && !taken.has(pet!) && owner !== pet, story);
    const [told, retold] = story.split(` Ask ${owner} about ${pet}. `) as [string, string];
    assert.ok(retold && retold.startsWith(pet!), `the retelling is about the pet: ${story}`);
    for (const sentence of retold.split(/(?<=\.) /)) {
      // Every retold sentence was told before the aside, in the same words or (kind, colour) in the opening.
      const ok = told.includes(sentence) || sentence === `${pet} is ${color}.` || new RegExp(`^${pet} is an? ${kind}\\.$`).test(sentence);
      assert.ok(ok, `"${sentence}" retells the story's own fact: ${story}`);
      if (sentence.includes(` ${kind}.`)) retoldKinds++;
    }
  }
  assert.ok(retoldKinds > 5, 'kinds are retold too');
});
