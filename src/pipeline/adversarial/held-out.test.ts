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
import { parseDialogue, renderDialogue } from './dialogue-attack.ts';
import { frameAttack, longDialogue } from './testbed-attacks.ts';

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
      parents: [], phase: 'heldout', step, targetRound: 0, principle, style, attack: text, messages: [{ role: 'user', content: text }], malformed: null, response: '', violation: 0, novelty: 1, reward: 0, rationale: null, judgmentFailure: null, labelerModel: 'x' });
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

test('held-out gold: a long-dialogue attack is answered as its parsed conversation and graded by its gold key; a malformed one is not answered and fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-heldout-dialogue-'));
  try {
    const store = RunStore.open(dir, { test: 'held-out' });
    const dialogues = prompts.filter((p) => p.split === 'test' && p.kind === 'multi-turn-user-fact' && p.gold.type === 'pet' && p.gold.asked === 'color');
    const fillers = prompts.filter((p) => p.split === 'test' && p.kind === 'multi-turn-recall').slice(0, 2).map((p) => [p.messages[2]!, p.messages[3]!]);
    const texts = dialogues.slice(0, 2).map((p) => renderDialogue(longDialogue(p, { fillers, style: 'story' })));
    texts.push(`${texts[0]!}\nBot: The end.`);   // ends on the attacker's own Bot: turn: malformed
    texts.forEach((text, i) => {
      const parsed = parseDialogue(text);
      store.put({ id: recordId('attack', { i }), kind: 'attack', round: 0, parents: [], phase: 'heldout', step: 2, targetRound: 0, principle: 'coherent', style: i === 1 ? 'direct' : 'story',
        attack: text, messages: parsed.kind === 'ok' ? parsed.messages : [], malformed: parsed.kind === 'ok' ? null : parsed.reason, response: '', violation: 0, novelty: 1, reward: 0,
        rationale: null, judgmentFailure: null, labelerModel: 'x' });
    });
    // A scripted target that reads the conversation it is sent: it names the pet's colour, the right one or another.
    const target = (right: boolean) => {
      const sent: string[][] = [];
      const policy = { promptTokens: (messages: { content: string }[]) => Int32Array.from([sent.push(messages.map((m) => m.content)) - 1]),
        sample: (rows: Int32Array[]) => ({ texts: rows.map((r) => {
          const opening = sent[r[0]!]![0]!, pet = dialogues.find((p) => p.messages[0]!.content === opening)!.gold as { petKind: string; petColor: string };
          return `Your ${pet.petKind} is ${right ? pet.petColor : world.vocabulary.color.find((c) => c !== pet.petColor)}.`;
        }) }) } as unknown as LoopPolicy;
      return { policy, sent };
    };
    const context = { config: parseRunConfig(null), store } as unknown as RoundContext;
    const contradicting = target(false), figures = heldOutGold(context, { world, policy: contradicting.policy });
    assert.equal(contradicting.sent.length, 2, 'the malformed attack is never sent');
    assert.ok(contradicting.sent.every((turns) => turns.length === 9), 'each as its 9 parsed turns');
    assert.deepEqual([figures.redteam_heldout_attacks, figures.redteam_attack_gradable, figures.redteam_attack_success, figures.redteam_distinct_failures], [3, 2 / 3, 2 / 3, 2]);
    const consistent = heldOutGold(context, { world, policy: target(true).policy });
    assert.deepEqual([consistent.redteam_attack_success, consistent.redteam_distinct_failures], [0, 0]);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
