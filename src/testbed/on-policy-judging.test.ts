// On-policy judging examples: the shadow world shares no name with the real one; labels follow gold on train prompts
// only, flipped at the configured rate with the rationale kept consistent with the preference; the conversations
// have the judges' shape; the sampler's answers are what gets labeled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldCheck, goldCompare } from './gold.ts';
import { idealResponse } from './answers.ts';
import { testbedTemplates } from './labeler-format.ts';
import { labelOnPolicyAnswers, makeOnPolicyExamples, onPolicyJudgingExamples, ratingOf } from './on-policy-judging.ts';
import type { PolicySampler } from './policy-sampler.ts';
import { makePrompts, type TestbedPrompt } from './prompts.ts';
import { makeWorld, shadowWorld } from './world.ts';

const world = makeWorld(4);
const prompts = makePrompts(world);
const train = prompts.filter((p) => p.split === 'train' && p.kind === 'known-fact').slice(0, 60);
/** Two answers per prompt: the ideal one and a wrong one (a different value of the asked attribute). */
const answersFor = (list: readonly TestbedPrompt[]) => list.map((p, i) => [idealResponse(world, p), i % 3 === 0 ? idealResponse(world, p) : 'I think it is something else entirely.']);

test('shadowWorld: same size, every name new to the real world, friends within itself, deterministic', () => {
  const shadow = shadowWorld(world);
  const real = new Set([...world.creatures.map((c) => c.name), ...world.unknownNames, ...world.petNames]);
  const names = [...shadow.creatures.map((c) => c.name), ...shadow.unknownNames, ...shadow.petNames];
  assert.equal(shadow.creatures.length, world.creatures.length);
  assert.equal(new Set(names).size, names.length, 'names distinct');
  assert.ok(names.every((n) => !real.has(n)), 'no shared name');
  const own = new Set(shadow.creatures.map((c) => c.name));
  assert.ok(shadow.creatures.every((c) => own.has(c.friend) && c.friend !== c.name));
  assert.deepEqual(shadowWorld(world), shadow);
  assert.notDeepEqual(shadowWorld(makeWorld(5)).creatures.map((c) => c.name), shadow.creatures.map((c) => c.name));
});

test('labels follow gold without noise; noise flips about its share, and a flipped pair swaps both answers\' labels', () => {
  const answers = answersFor(train);
  const clean = labelOnPolicyAnswers(world, train, answers, { pairs: 1000, singles: 1000, noise: 0, seed: 1 });
  assert.equal(clean.flipped, 0);
  assert.equal(clean.skipped, 20, 'identical answers are skipped');
  assert.equal(clean.pairs.length, 40);
  assert.equal(clean.singles.length, 120);
  for (const { prompt, first, second, better } of clean.pairs) {
    assert.equal(better, goldCompare(world, prompt, first.text, second.text).winner === 'a' ? 1 : 2);
    assert.equal(first.right, goldCheck(world, prompt, first.text).pass);
  }
  const noisy = labelOnPolicyAnswers(world, train, answers, { pairs: 1000, singles: 1000, noise: 0.5, seed: 1 });
  assert.ok(noisy.flipped > 30 && noisy.flipped < 130, `${noisy.flipped} of 160 labels flipped at noise 0.5`);
  const flippedPairs = noisy.pairs.filter((p, i) => p.better !== clean.pairs[i]!.better);
  assert.ok(flippedPairs.length > 0);
  for (const p of flippedPairs) assert.equal(p.better === 1 ? p.first.right : p.second.right, true, 'the preferred answer is the one labeled right');
  const budget = labelOnPolicyAnswers(world, train, answers, { pairs: 5, singles: 7, noise: 0, seed: 1 });
  assert.deepEqual([budget.pairs.length, budget.singles.length], [5, 7], 'the budget caps both');
  assert.throws(() => labelOnPolicyAnswers(world, prompts.filter((p) => p.split === 'test').slice(0, 2), [['a', 'b'], ['c', 'd']], { pairs: 1, singles: 1, noise: 0, seed: 1 }), /train prompts only/);
});

test('on-policy conversations: the judges\' shape, the verdict is the label, ratings graded by the labels', () => {
  const labels = labelOnPolicyAnswers(world, train, answersFor(train), { pairs: 3, singles: 3, noise: 0, seed: 1 });
  const templates = testbedTemplates();
  const examples = onPolicyJudgingExamples(world, labels, templates);
  assert.equal(examples.length, 6);
  for (const [i, c] of examples.entries()) {
    assert.deepEqual(c.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
    if (i < 3) {
      assert.equal(c[4]!.content, String(labels.pairs[i]!.better));
      assert.ok(c[2]!.content.endsWith(`so answer ${labels.pairs[i]!.better} is better.`));
      assert.ok(c[1]!.content.includes(labels.pairs[i]!.first.text));
    } else {
      assert.equal(c[4]!.content, String(ratingOf(labels.singles[i - 3]!.answer)));
      assert.equal(c[3]!.content, templates.pointwise.verdictRequest);
    }
  }
  assert.deepEqual([ratingOf({ text: '', right: true, score: 1 }), ratingOf({ text: '', right: true, score: 0.7 }), ratingOf({ text: '', right: false, score: -1 }),
    ratingOf({ text: '', right: false, score: -1.5 }), ratingOf({ text: '', right: false, score: -4 })], [9, 7, 4, 3, 2]);
});

test('makeOnPolicyExamples labels what the sampler says, split between sources by share', () => {
  const seen: string[] = [];
  const sampler = { sample: (list: readonly TestbedPrompt[]) => { seen.push(...list.map((p) => p.id)); return list.map((p, i) => [`${p.id} is here.`, i % 2 ? 'I do not know.' : `${p.id} is here.`]); } } as unknown as PolicySampler;
  const shadow = shadowWorld(world);
  const made = makeOnPolicyExamples(sampler, [{ world, prompts: train, share: 0.25 }, { world: shadow, prompts: makePrompts(shadow).filter((p) => p.split === 'train'), share: 0.75 }],
    testbedTemplates(), { prompts: 40, pairs: 1000, singles: 0, noise: 0, seed: 3 });
  assert.equal(seen.length, 40);
  assert.equal(seen.filter((id) => train.some((p) => p.id === id)).length, 10, 'a quarter of the prompts from the first source');
  assert.equal(made.examples.length, made.pairs);
  assert.ok(made.pairs > 0 && made.pairs <= 20, 'identical answers are not pairs');
});
