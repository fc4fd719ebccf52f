// The world and its prompts: deterministic per seed, different across seeds, splits disjoint by entity and by
// template, every kind present in every split, and the ideal/violating answers of every prompt judged as meant.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../engine/random.ts';
import { idealResponse, violatingResponse } from './answers.ts';
import { goldCheck } from './gold.ts';
import { KIND_APPLICATION, makePrompts, SPLITS, type PromptKind, type Split } from './prompts.ts';
import { makeWorld } from './world.ts';
import { testbedSeed, type TestbedStream } from './world.ts';

test('makeWorld: the same seed gives the same world; another seed another one', () => {
  assert.deepEqual(makeWorld(3), makeWorld(3));
  const a = makeWorld(3), b = makeWorld(4);
  assert.notDeepEqual(a.creatures.map((c) => c.name), b.creatures.map((c) => c.name));
  const names = [...a.creatures.map((c) => c.name), ...a.unknownNames, ...a.petNames];
  assert.equal(new Set(names).size, names.length, 'creature, unknown and pet names are distinct');
  assert.ok(a.creatures.every((c) => c.friend !== c.name), 'no creature is its own friend');
  assert.throws(() => makeWorld(1.5), /seed must be an integer/);
});

test('makePrompts: deterministic per seed, ids unique, every kind in every split', () => {
  const world = makeWorld(7);
  const prompts = makePrompts(world);
  assert.deepEqual(prompts, makePrompts(makeWorld(7)));
  assert.notDeepEqual(prompts.map((p) => p.messages), makePrompts(makeWorld(8)).map((p) => p.messages));
  assert.equal(new Set(prompts.map((p) => p.id)).size, prompts.length);
  for (const kind of Object.keys(KIND_APPLICATION) as PromptKind[]) {
    for (const split of SPLITS) {
      assert.ok(prompts.some((p) => p.kind === kind && p.split === split), `${kind} has ${split} prompts`);
    }
  }
  const capped = makePrompts(world, { perKind: { test: 5 } });
  assert.ok(capped.filter((p) => p.split === 'test' && p.kind === 'known-fact').length === 5);
});

test('splits are disjoint by entity and by template, for two seeds', () => {
  for (const seed of [0, 11]) {
    const prompts = makePrompts(makeWorld(seed));
    const by = (split: Split, field: 'entity' | 'template') => new Set(prompts.filter((p) => p.split === split).map((p) => p[field]));
    for (const field of ['entity', 'template'] as const) {
      for (const [x, y] of [['train', 'test'], ['train', 'validation'], ['validation', 'test']] as const) {
        const overlap = [...by(x, field)].filter((v) => by(y, field).has(v));
        assert.deepEqual(overlap, [], `seed ${seed}: ${field}s shared by ${x} and ${y}`);
      }
    }
    // The subject's name never appears in a prompt of another split (the split is by entity, not only by label).
    const trainSubjects = by('train', 'entity');
    for (const p of prompts.filter((q) => q.split === 'test' && q.kind !== 'forbidden-harm' && q.kind !== 'benign-lookalike')) {
      const last = p.messages.at(-1)!.content;
      for (const name of trainSubjects) assert.ok(!new RegExp(`\\b${name}\\b`).test(last), `${p.id} asks about train entity ${name}`);
    }
  }
});

test('every prompt: its ideal answer passes gold with full score, its violating answer fails', () => {
  for (const seed of [0, 5]) {
    const world = makeWorld(seed);
    const rng = new Rng(seed);
    for (const p of makePrompts(world)) {
      const ideal = goldCheck(world, p, idealResponse(world, p));
      assert.deepEqual(ideal, { pass: true, violations: [], score: 1 }, `${p.id}: ${idealResponse(world, p)}`);
      assert.equal(goldCheck(world, p, violatingResponse(world, p, rng)).pass, false, `${p.id}: violation passes`);
    }
  }
});

test('testbed streams are derived by label: no stream of one seed is another stream of another seed', () => {
  const streams: TestbedStream[] = ['prompts', 'corpus', 'demonstrations', 'judging-examples', 'anchor-set', 'tokenizer-names', 'batches', 'init', 'corpus-stories'];
  // Seeds 0..199 plus the pairs that collided under `seed ^ constant` (seed 0's demonstrations were seed 0xde70 ^ 0xc0ffee's corpus).
  const seeds = [...Array.from({ length: 200 }, (_, i) => i), 0xde70 ^ 0xc0ffee, 0xde70 ^ 0x5eed0001, 0x5a11 ^ 0x7a11, 0xa7c4 ^ 0xde70];
  const seen = new Map<number, string>();
  for (const seed of seeds) {
    seen.set(seed, `world ${seed}`); // the world draws from the seed itself
  }
  for (const seed of seeds) {
    for (const stream of streams) {
      const value = testbedSeed(seed, stream), where = `${stream} of ${seed}`;
      assert.ok(!seen.has(value), `${where} is the stream '${seen.get(value)}'`);
      seen.set(value, where);
    }
  }
});
