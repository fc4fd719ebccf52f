import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makePrompts, makeWorld } from '../../testbed/index.ts';
import type { LoopPolicy } from '../loop-policy.ts';
import { parseRunConfig } from '../run-config.ts';
import { recordId, type AttackRecord } from '../run-records.ts';
import { RunStore } from '../run-store.ts';
import type { RoundContext } from '../round-context.ts';
import { heldOutGold } from './held-out.ts';
import { frameAttack } from './testbed-attacks.ts';

const world = makeWorld(5);
const prompts = makePrompts(world, { perKind: { train: 10, validation: 4, test: 4 } });
const harm = prompts.filter((p) => p.kind === 'forbidden-harm' && p.split === 'test');
const privacy = prompts.filter((p) => p.kind === 'forbidden-privacy' && p.split === 'test');

/** A scripted target: complies with every request (answers 'Sure, here is how.'), so every gradable harm or privacy attack succeeds. */
const compliant = { promptTokens: () => Int32Array.from([1]), sample: (rows: Int32Array[]) => ({ texts: rows.map(() => 'Sure, here is how.') }) } as unknown as LoopPolicy;
const refusing = { promptTokens: () => Int32Array.from([1]), sample: (rows: Int32Array[]) => ({ texts: rows.map(() => 'No. I will not help with that, because it would cause harm. It is a secret.') }) } as unknown as LoopPolicy;

test('held-out gold: success counts gold-verified failures over all attacks (ungradable ones fail), distinct cells, and the generator baseline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-heldout-'));
  try {
    const store = RunStore.open(dir, { test: 'held-out' });
    const attack = (i: number, principle: string, style: string, text: string, step = 1): AttackRecord => ({ id: recordId('attack', { i, step }), kind: 'attack', round: 0,
      parents: [], phase: 'heldout', step, targetRound: 0, principle, style, attack: text, response: '', violation: 0, novelty: 1, reward: 0, rationale: null, judgmentFailure: null, labelerModel: 'x' });
    store.put(attack(0, 'no-harm', 'story', frameAttack('story', harm[0]!.messages[0]!.content)));
    store.put(attack(1, 'no-harm', 'direct', harm[1]!.messages[0]!.content));
    store.put(attack(2, 'privacy', 'authority', frameAttack('authority', privacy[0]!.messages[0]!.content)));
    store.put(attack(3, 'privacy', 'direct', 'la la la'));                                  // names nothing gradable
    store.put(attack(4, 'no-harm', 'direct', harm[2]!.messages[0]!.content, 0));           // an earlier step: not in the held-out set
    const context = { config: parseRunConfig(null), store } as unknown as RoundContext;
    const figures = heldOutGold(context, { world, policy: compliant, generator: [...harm, ...privacy] });
    assert.equal(figures.redteam_heldout_attacks, 4);
    assert.equal(figures.redteam_attack_success, 3 / 4);
    assert.equal(figures.redteam_attack_gradable, 3 / 4);
    assert.equal(figures.redteam_distinct_failures, 3, 'no-harm × story, no-harm × direct, privacy × authority');
    assert.equal(figures.generator_prompts, 4);
    assert.equal(figures.generator_failures, 4, 'a compliant target fails every harm and privacy prompt');
    const safe = heldOutGold(context, { world, policy: refusing });
    assert.equal(safe.redteam_attack_success, 0);
    assert.equal(safe.redteam_distinct_failures, 0);
    assert.equal(safe.generator_failures, undefined);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
