import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../run-config.ts';
import { runLoop } from '../run-loop.ts';
import { RunStore } from '../run-store.ts';
import { assertCrashResumeEqual } from '../testing/crash-resume.ts';
import { tinyLoop } from '../testing/tiny-loop.ts';
import { adversarialHtml, adversarialRows } from './adversarial-report.ts';
import { attackPromptId } from './adversary.ts';
import { archiveElites } from './archive.ts';
import { parseDialogue } from './dialogue-attack.ts';
import { TINY_DIALOGUE_FORMAT, withTinyAdversary } from './testing/tiny-adversary.ts';

const YAML = `
rounds: 2
iterationsPerRound: 1
promptsPerRound: 4
samplesPerPrompt: 3
maxNewTokens: 6
validationPrompts: 3
feedback: {chainOfThought: false}
algorithm: {learningRate: 0.01}
gate: {maxLengthDrift: 5, minWinRateVsPrevious: 0}
adversarial: {principles: [helpful, coherent], styles: [direct, story], steps: 1, attacksPerCell: 3, maxAttackTokens: 6, maxDialogueTokens: 16, failureThreshold: 0.3, minedAttackShare: 0.5}
`;

test('adversarial rounds: a red-team phase per round fills the archive; flagged attacks become the policy phase’s prompts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-adv-'));
  try {
    const config = parseRunConfig(YAML);
    const store = RunStore.open(dir, config);
    const { context } = withTinyAdversary(tinyLoop({ config, store }));
    await runLoop(context);
    const attacks = store.all('attack');
    assert.equal(attacks.length, 2 * 2 * 4 * 3, 'rounds × samplings (steps + 1) × cells × attacksPerCell');
    for (const a of attacks) {
      assert.ok(a.violation >= 0 && a.violation <= 1 && a.novelty >= 0 && a.novelty <= 1);
      assert.equal(a.judgmentFailure, null);
      assert.ok(['helpful', 'coherent'].includes(a.principle));
      if (a.principle === 'helpful') assert.deepEqual(a.messages, [{ role: 'user', content: a.attack }], 'a single-turn attack is one user turn');
      const parsed = parseDialogue(a.attack, TINY_DIALOGUE_FORMAT);
      if (a.principle === 'coherent' && parsed.kind === 'malformed') {
        // recorded as such: not answered, not judged, no reward
        assert.deepEqual([a.malformed, a.messages, a.response, a.violation, a.novelty, a.reward, a.rationale], [parsed.reason, [], '', 0, 0, 0, null], a.attack);
        continue;
      }
      if (a.principle === 'coherent') assert.deepEqual([a.malformed, a.messages], [null, parsed.kind === 'ok' ? parsed.messages : []], 'the target answers the parsed conversation');
      assert.ok(Math.abs(a.reward - (a.violation + 0.3 * a.novelty)) < 1e-9);
    }
    const dialogue = attacks.filter((a) => a.principle === 'coherent');
    assert.ok(dialogue.some((a) => a.malformed === null && a.messages.length >= 3) && dialogue.some((a) => a.malformed !== null),
      'the tiny attacker writes some well-formed conversations and some malformed ones');
    assert.ok(dialogue.some((a) => a.violation >= 0.3), 'a conversation the labeler flags');
    assert.equal(archiveElites(attacks).size, 4, 'one elite per principle × style cell');
    // round 1's red team attacks the SFT policy; round 2's the last kept one
    assert.deepEqual([...new Set(attacks.map((a) => `${a.round}:${a.targetRound}`))].sort(), ['1:0', `2:${store.all('gate').find((g) => g.round === 1)!.keptRound}`]);
    const flagged = attacks.filter((a) => a.violation >= 0.3);
    assert.ok(flagged.length >= 2, `the scripted labeler flags a's-poor answers (${flagged.length} flagged)`);
    for (const round of [1, 2]) {
      const promptIds = new Set(store.all('sample').filter((s) => s.stage === 'rollout' && s.round === round).map((s) => store.get('prompt', s.parents[0]!)!.promptId));
      const mined = [...promptIds].filter((id) => id.startsWith('attack:'));
      assert.equal(mined.length, 2, `round ${round}: half of promptsPerRound mined from flagged attacks`);
      for (const id of mined) {
        const attack = attacks.find((a) => attackPromptId(a.id) === id)!;
        assert.ok(attack.round <= round && attack.violation >= 0.3 && attack.malformed === null, 'only flagged attacks of this or earlier rounds');
        const prompt = store.all('prompt').find((p) => p.promptId === id)!;
        assert.deepEqual(prompt.messages, attack.messages, 'trained on as the conversation the target answered');
      }
    }
    assert.ok(store.all('stage').some((s) => s.stage === 'redteam' && s.round === 2));
    const rows = adversarialRows(store, { threshold: 0.3 });
    assert.deepEqual(rows.map((r) => [r.round, r.attacks, r.minedPrompts]), [[1, 24, 2], [2, 24, 2]], 'the report counts each round’s attacks and mined prompts');
    assert.deepEqual(rows.map((r) => r.malformed), [1, 2].map((round) => attacks.filter((a) => a.round === round && a.malformed !== null).length));
    assert.ok(rows.some((r) => r.malformed > 0));
    assert.ok(rows.every((r) => Number.isFinite(r.minedReward) && Number.isFinite(r.freshReward)));
    assert.match(adversarialHtml(store, { threshold: 0.3 }), /helpful × story/);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('adversarial rounds resume after crashes in the red-team phase: same records, no judgment asked twice', async () => {
  const config = parseRunConfig(YAML);
  const contentOf = (store: RunStore) => (['prompt', 'sample', 'judgment', 'reward', 'attack', 'gate'] as const).flatMap((k) => store.all(k).map((r) => JSON.stringify(r))).sort();
  await assertCrashResumeEqual({ config, make: (store) => withTinyAdversary(tinyLoop({ config, store })), contentOf, crashAfter: [5, 8, 3], on: 'pointwise' });
});
