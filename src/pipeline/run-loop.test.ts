import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { scoreTokens } from '../algorithms/rollout.ts';
import { noGrad } from '../engine/tensor.ts';
import { applicationWinRates, type ProxyMetrics } from './gates.ts';
import { recordId } from './run-records.ts';
import { promptRecordId } from './round-context.ts';
import { batchFromSamples } from './round-stages.ts';
import { parseRunConfig } from './run-config.ts';
import { runLoop } from './run-loop.ts';
import { RunStore } from './run-store.ts';
import { aShare, inTinyRun, tinyLoop } from './testing/tiny-loop.ts';
import { KILL_TEST_CONFIG } from './testing/tiny-run-process.ts';
import { assertCrashResumeEqual } from './testing/crash-resume.ts';

const YAML = KILL_TEST_CONFIG; // the tiny run the kill -9 test's child process runs too

test('two rounds on a tiny model: every record linked, every reward traced to its prompt and principle', async () => {
  await inTinyRun({ prefix: 'rlaif-loop-', yaml: YAML }, async ({ store, context }) => {
    const outcome = await runLoop(context);
    assert.deepEqual(outcome.gates.map((g) => g.round), [0, 1, 2]);
    assert.match(outcome.stopReason, /^budget: 2 rounds/);
    const rollout = store.all('sample').filter((s) => s.stage === 'rollout');
    assert.equal(rollout.length, 2 * 4 * 4);
    assert.equal(store.all('sample').filter((s) => s.stage === 'evaluate').length, 3 * 6);
    assert.equal(store.count('reward'), 32);
    assert.equal(store.count('advantage'), 32);
    for (const sample of rollout) assert.equal(sample.tokens.length, sample.logprobs.length);
    for (const reward of store.all('reward')) {
      const trace = store.trace(reward.id);
      assert.equal(trace.samples[0]!.id, reward.parents[0]);
      assert.ok(trace.prompt.promptId.startsWith('train-'));
      const pairwise = trace.judgments.filter((j) => j.source === 'pairwise-ai');
      const group = rollout.filter((s) => s.round === reward.round && s.parents[0] === trace.samples[0]!.parents[0]);
      assert.equal(pairwise.length, new Set(group.map((s) => s.text)).size - 1, 'each distinct text is judged against every other distinct text of its group');
      assert.equal(pairwise[0]!.principle?.id, 'helpful');
      assert.equal(pairwise[0]!.orders.length, 2, 'both orders recorded');
      assert.ok(trace.judgments.some((j) => j.source === 'self-supervised'));
      assert.deepEqual(Object.keys(reward.components).sort(), ['pairwise-ai', 'self-supervised']);
      const expected = reward.components['pairwise-ai']! + 0.5 * reward.components['self-supervised']!;
      assert.ok(Math.abs(reward.total - expected) < 1e-9);
    }
    // Rewards follow the labeler's taste: within a group, the sample with more a's gets the higher pairwise component.
    let agree = 0, pairs = 0;
    for (const reward of store.all('reward')) {
      const own = store.get('sample', reward.parents[0]!)!;
      for (const other of store.all('reward').filter((r) => r.round === reward.round && r.id !== reward.id)) {
        const theirs = store.get('sample', other.parents[0]!)!;
        if (theirs.parents[0] !== own.parents[0] || aShare(own.text) === aShare(theirs.text)) continue;
        pairs++;
        if ((aShare(own.text) > aShare(theirs.text)) === (reward.components['pairwise-ai']! > other.components['pairwise-ai']!)) agree++;
      }
    }
    assert.ok(pairs > 0 && agree / pairs > 0.7, `rewards agree with the labeler's taste on ${agree}/${pairs} ordered pairs`);
    // Each evaluation after round 0 splits its win rate over the last kept policy by application (the gate's
    // application-regression monitor reads these); weighted by pairs they give the overall rate back.
    for (const gate of outcome.gates.filter((g) => g.round > 0)) {
      const metrics = store.get('evaluation', recordId('evaluation', { round: gate.round }))!.metrics;
      const apps = applicationWinRates(metrics as unknown as ProxyMetrics);
      assert.deepEqual(apps.map((a) => [a.application, a.pairs]), [['dialogue-coherence', 3], ['truthfulness', 3]]);
      assert.ok(Math.abs(apps.reduce((s, a) => s + a.rate * a.pairs, 0) / 6 - metrics.winRateVsPrevious!) < 1e-12, `round ${gate.round}`);
      // Each application's rate from the stored judgments of its own prompts against the last kept policy's samples.
      const kept = outcome.gates.filter((g) => g.round < gate.round).at(-1)!.keptRound;
      for (const { application, rate } of apps) {
        const wins = store.all('judgment').filter((j) => j.stage === 'evaluate' && j.round === gate.round && store.get('sample', j.parents[1]!)!.policyRound === kept
          && store.get('prompt', store.get('sample', j.parents[0]!)!.parents[0]!)!.application === application)
          .map((j) => (j.probabilityA === null || j.probabilityA === 0.5 ? 0.5 : j.probabilityA > 0.5 ? 1 : 0));
        assert.equal(wins.length, 3);
        assert.ok(Math.abs(wins.reduce((a: number, x: number) => a + x, 0) / 3 - rate) < 1e-12, `round ${gate.round} ${application}`);
      }
    }
    store.close();
  });
});

/** Records of a run folder without timings (stage records carry wall times), as sorted JSON lines. */
function contentOf(store: RunStore): string[] {
  return (['prompt', 'sample', 'judgment', 'reward', 'advantage', 'evaluation', 'gate'] as const)
    .flatMap((kind) => store.all(kind).map((r) => JSON.stringify(r))).sort();
}

test('crashes at several points, each resumed: same records and final weights as an uninterrupted run, no judgment asked twice', async () => {
  await assertCrashResumeEqual({
    config: parseRunConfig(YAML), make: (store) => tinyLoop({ config: parseRunConfig(YAML), store }), contentOf,
    crashAfter: [7, 12, 1, 15], on: 'pairwise',
    fingerprint: (run) => [...run.context.policy.model.parameters().values()].map((t) => Array.from(t.data)),
  });
});

test('every update algorithm runs a round and moves the policy: rloo, ppo, dpo, online-dpo, and grpo with LoRA', async () => {
  for (const algorithm of ['rloo', 'ppo', 'dpo', 'online-dpo', 'grpo-lora']) {
    const dir = mkdtempSync(join(tmpdir(), `rlaif-${algorithm}-`));
    try {
      const name = algorithm === 'grpo-lora' ? 'grpo' : algorithm;
      const lora = algorithm === 'grpo-lora' ? ', lora: {rank: 2, alpha: 4}' : '';
      const config = parseRunConfig(`rounds: 1\niterationsPerRound: 1\npromptsPerRound: 3\nsamplesPerPrompt: 3\nmaxNewTokens: 6\nvalidationPrompts: 3\nfeedback: {chainOfThought: false}\nalgorithm: {name: ${name}, learningRate: 0.02${lora}}\n`);
      const store = RunStore.open(dir, config);
      const { context } = tinyLoop({ config, store });
      await runLoop(context);
      const kl = store.all('evaluation').find((e) => e.round === 1)!.metrics.kl!;
      assert.equal(store.all('evaluation').find((e) => e.round === 1)!.metrics.validationPairs, 3, 'the gate knows how many comparisons its win rate rests on');
      assert.ok(Math.abs(kl) > 1e-6, `${algorithm}: the candidate differs from the reference (KL ${kl})`);
      assert.equal(store.count('advantage'), name.includes('dpo') ? 0 : 9, `${algorithm}: advantages recorded for policy gradient only`);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('RL iterations in a round: each draws fresh prompts and samples from the policy as the last one left it; the first keeps the one-iteration ids', async () => {
  const one = await inTinyRun({ prefix: 'rlaif-iter1-', yaml: YAML.replace('rounds: 2', 'rounds: 1') }, async ({ store, context }) => {
    await runLoop(context);
    const ids = store.all('sample').filter((s) => s.stage === 'rollout').map((s) => s.id);
    store.close();
    return ids;
  });
  await inTinyRun({ prefix: 'rlaif-iter3-', yaml: YAML.replace('rounds: 2', 'rounds: 1').replace('iterationsPerRound: 1', 'iterationsPerRound: 3') }, async ({ dir, store, context }) => {
    const events: string[] = [];
    context.onProgress = (e) => events.push(`${e.stage} ${e.done}/${e.total}`);
    await runLoop(context);
    assert.ok(events.includes('feedback 2/3 0/1') && events.some((e) => /^feedback 2\/3 \d+\/([2-9]|\d\d+)$/.test(e)),
      "progress names the iteration, the judgments' own events too");
    const rollout = store.all('sample').filter((s) => s.stage === 'rollout');
    assert.equal(rollout.length, 3 * 4 * 4, 'three iterations of 4 prompts x 4 samples');
    assert.equal(new Set(rollout.map((s) => s.id)).size, rollout.length);
    assert.deepEqual(rollout.slice(0, 16).map((s) => s.id), one, "the first iteration's samples are a one-iteration round's");
    const promptsOf = (i: number) => new Set(rollout.slice(16 * i, 16 * (i + 1)).map((s) => s.parents[0]));
    assert.equal([...promptsOf(1)].filter((p) => promptsOf(0).has(p)).length, 0, 'the second iteration draws the next train prompts');
    assert.equal(store.count('reward'), 48);
    const updates = store.all('stage').filter((s) => s.round === 1 && s.stage === 'update');
    assert.deepEqual(updates.map((s) => s.detail.iteration), [0, 1, 2]);
    // Each iteration updated the policy the next one sampled from: the second's samples' log-probs are not the SFT policy's.
    const sft = tinyLoop({ config: context.config, store }).context.policy;
    const second = rollout.slice(16, 32), batch = batchFromSamples(second.map((s) => sft.promptTokens(context.train.find((p) => promptRecordId(p) === s.parents[0])!.messages)), second, context.config.maxNewTokens);
    const fresh = noGrad(() => scoreTokens(sft.model, batch).logprobs.data);
    let differ = 0;
    for (let i = 0; i < fresh.length; i++) if (batch.actionMask[i] && Math.abs(fresh[i]! - batch.logprobs[i]!) > 1e-4) differ++;
    assert.ok(differ > 0, "the second iteration's log-probs are the updated policy's");
    assert.deepEqual(readdirSync(join(dir, 'checkpoints')).sort(), ['round-0', 'round-1'], 'iteration checkpoints removed once the round ends');
    store.close();
  });
});
