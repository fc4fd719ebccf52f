// The reward-hacking demonstration, small: a labeler that likes length (the tiny loop's 'longer' taste, the same
// exploit examples/reward-hacking.yaml sets with labelerBias) — the policy learns to write longer, the labeler's
// win rate rises, and the gate, which never sees gold, rolls the round back on length drift.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from './run-config.ts';
import { runLoop } from './run-loop.ts';
import { RunStore } from './run-store.ts';
import { tinyLoop } from './testing/tiny-loop.ts';

test('an exploitable labeler (likes length): proxy rises, the gate rolls the round back for length drift', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-hack-'));
  try {
    const config = parseRunConfig(`
rounds: 2
iterationsPerRound: 1
promptsPerRound: 6
samplesPerPrompt: 4
maxNewTokens: 12
validationPrompts: 8
feedback: {chainOfThought: false}
algorithm: {learningRate: 0.05, stepsPerRound: 4, klCoef: 0}
stop: {maxRollbacks: 2}
`);
    const store = RunStore.open(dir, config);
    const { context } = tinyLoop({ config, store, taste: 'longer', anchors: false });
    const outcome = await runLoop(context);
    const rolledBack = outcome.gates.filter((g) => !g.keep);
    assert.ok(rolledBack.length >= 1, `a round was rolled back (gates: ${JSON.stringify(outcome.gates.map((g) => [g.round, g.keep, g.reasons]))})`);
    const first = rolledBack[0]!;
    assert.ok(first.reasons.some((r) => r.startsWith('length-drift')), first.reasons.join('; '));
    const evaluation = store.all('evaluation').find((e) => e.round === first.round)!;
    assert.ok(evaluation.metrics.winRateVsPrevious! > 0.5, `the labeler preferred the longer policy (${evaluation.metrics.winRateVsPrevious})`);
    assert.ok(!rolledBack.some((g) => g.round === outcome.keptRound), 'the final policy is never a rolled-back round');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
