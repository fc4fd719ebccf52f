// The built-in synthetic data's seeds: no run seed's held-out set is another run seed's training set (issue 9 item 5).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { syntheticDataSeeds } from './train-command.ts';

test('synthetic train and held-out seeds never collide across run seeds 0..999', () => {
  const owner = new Map<number, string>();
  for (let seed = 0; seed < 1000; seed++) {
    const { train, heldOut } = syntheticDataSeeds(seed);
    for (const [role, value] of [['train', train], ['heldOut', heldOut]] as const) {
      const previous = owner.get(value);
      assert.equal(previous, undefined, `run seed ${seed}'s ${role} data seed ${value} is also ${previous}'s`);
      owner.set(value, `run seed ${seed} ${role}`);
    }
  }
});
