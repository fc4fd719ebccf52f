import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rlaifRun } from './rlaif-run.ts';
import { parseRunConfig } from './run-config.ts';
import { TINY_TESTBED } from './testing/tiny-testbed.ts';
import { runLoop } from './run-loop.ts';
import { terminalTable, writeHtmlReport } from './run-report.ts';
import { recordId } from './run-records.ts';
import { RunStore } from './run-store.ts';
import { summarizeRun } from './run-summary.ts';
import { assertCrashResumeEqual } from './testing/crash-resume.ts';
import { inTinyRun, tinyLoop } from './testing/tiny-loop.ts';

const YAML = `
rounds: 2
iterationsPerRound: 1
schedule: [{type: critique-revision, samplesPerPrompt: 2, learningRate: 0.02, epochs: 3}, {type: rl}]
promptsPerRound: 4
samplesPerPrompt: 3
maxNewTokens: 8
validationPrompts: 6
feedback: {chainOfThought: false}
`;

test('a critique-revision round then an RL round: revisions recorded and linked, SFT on them, evaluated and gated like any round', async () => {
  await inTinyRun({ prefix: 'rlaif-critique-', yaml: YAML }, async ({ store, context }) => {
    const outcome = await runLoop(context);
    assert.deepEqual(outcome.gates.map((g) => g.roundType), ['sft', 'critique-revision', 'rl']);
    const revisions = store.all('revision');
    assert.equal(revisions.length, 4 * 2, 'one revision per sample of the critique-revision round');
    for (const r of revisions) {
      const sample = store.get('sample', r.parents[0]!)!;
      assert.equal(sample.round, 1);
      assert.equal(sample.stage, 'rollout');
      assert.equal(r.original, sample.text, 'the original response is the sample critiqued');
      assert.ok(store.get('prompt', sample.parents[0]!)!.promptId.startsWith('train-'), 'traced to its prompt');
      assert.equal(r.principle?.id, 'helpful');
      assert.match(r.critique!, /letters are not a\.$/);
      assert.equal(r.revision, sample.text.replace(/[bc]/g, 'a') || 'aaa', "the labeler's revision, recorded as it came");
      assert.equal(r.templateVersion, 'critique-revision-v1');
    }
    assert.equal(store.all('reward').filter((r) => r.round === 1).length, 0, 'no rewards in a critique-revision round');
    assert.equal(store.get('stage', recordId('stage', { round: 1, stage: 'rewards' })), undefined);
    assert.ok(store.all('reward').filter((r) => r.round === 2).length > 0, 'the RL round after it has rewards');
    const update = store.get('stage', recordId('stage', { round: 1, stage: 'update' }))!.detail;
    assert.equal(update.examples, 8);
    assert.ok(update.sftLossAfter! < update.sftLossBefore! - 0.1, `SFT on the revisions lowers their loss: ${update.sftLossBefore} → ${update.sftLossAfter}`);
    assert.ok(Math.abs(store.all('evaluation').find((e) => e.round === 1)!.metrics.kl!) > 1e-6, 'the candidate moved away from the reference');
    assert.ok(store.get('gate', recordId('gate', { round: 1 })), 'gated like any round');
    const table = terminalTable(store).split('\n');
    assert.match(table[0]!, /round\s+decision\s+type/);
    assert.match(table[3]!, /^1\s+(kept|rolled back)\s+critique-revision/);
    assert.match(table[4]!, /^2\s+(kept|rolled back)\s+rl/);
    const html = readFileSync(writeHtmlReport(store, summarizeRun(store)), 'utf8');
    assert.match(html, /Critique → revision/);
    assert.match(html, /original response \(sample <code>sample-/);
    assert.match(html, /letters are not a\./);
    store.close();
  });
});

test('a critique-revision run crashed mid-revision and mid-judging, resumed: same records and weights, no request twice', async () => {
  const yaml = `${YAML.replace('rounds: 2', 'rounds: 3')}`.replace('{type: rl}]', '{type: rl}, {type: critique-revision}]');
  const contentOf = (store: RunStore) => (['prompt', 'sample', 'judgment', 'reward', 'revision', 'evaluation', 'gate'] as const)
    .flatMap((kind) => store.all(kind).map((r) => JSON.stringify(r))).sort();
  const fingerprint = (run: ReturnType<typeof tinyLoop>) => [...run.context.policy.model.parameters().values()].map((t) => Array.from(t.data));
  const config = parseRunConfig(yaml);
  await assertCrashResumeEqual({ config, make: (store) => tinyLoop({ config, store }), contentOf, crashAfter: [3, 0, 6], on: 'revise', fingerprint });
  await assertCrashResumeEqual({ config, make: (store) => tinyLoop({ config, store }), contentOf, crashAfter: [5, 9], on: 'pairwise', fingerprint });
});

test('a critique-revision round under LoRA trains the adapters only', async () => {
  await inTinyRun({ prefix: 'rlaif-critique-lora-', yaml: 'rounds: 1\nschedule: [{type: critique-revision, learningRate: 0.01}]\npromptsPerRound: 4\nmaxNewTokens: 8\nvalidationPrompts: 4\nalgorithm: {lora: {rank: 2, alpha: 4}}\n' }, async ({ store, context }) => {
    const base = new Map([...context.policy.model.parameters()].map(([name, t]) => [name, Float32Array.from(t.data)]));
    await runLoop(context);
    const update = store.get('stage', recordId('stage', { round: 1, stage: 'update' }))!.detail;
    assert.ok(update.sftLossAfter! < update.sftLossBefore!, `${update.sftLossBefore} → ${update.sftLossAfter}`);
    for (const [name, t] of context.policy.model.parameters()) assert.deepEqual(t.data, base.get(name), `${name}: the base stays frozen`);
    store.close();
  });
});

test('on the embedded testbed (tiny): the testbed labeler critiques and revises through rlaif run; every sample gets a revision record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-critique-testbed-'));
  try {
    const config = join(dir, 'run.yaml');
    // The tiny testbed's labeler writes no verdict: the labeler check is off, or the run would stop before round 1.
    writeFileSync(config, 'rounds: 1\nschedule: [{type: critique-revision, maxTokens: 24}]\npromptsPerRound: 2\nsamplesPerPrompt: 2\nmaxNewTokens: 8\nvalidationPrompts: 2\ntestPrompts: 2\nanchorPairs: 4\n'
      + 'gate: {minLabelerAgreement: 0, minLabelerInformative: 0}\n');
    const result = await rlaifRun({ configPath: config, seed: 3, out: join(dir, 'run'), testbed: { config: TINY_TESTBED, cacheDirectory: join(dir, 'cache') } });
    assert.match(result.table, /^1\s+(kept|rolled back)\s+critique-revision/m);
    const store = RunStore.open(result.dir, result.config);
    const revisions = store.all('revision'), samples = store.all('sample').filter((s) => s.stage === 'rollout');
    assert.deepEqual(revisions.map((r) => r.parents[0]).sort(), samples.map((s) => s.id).sort());
    for (const r of revisions) {
      assert.match(r.labelerModel, /^testbed:/);
      assert.equal(r.templateVersion, 'testbed-critique-revision-v1'); // the template its labeler was trained on and revised with
      // A tiny labeler barely trained to critique: a revision is either whole or a typed failure.
      if (r.ok) assert.ok(r.critique && r.revision && r.principle); else assert.match(r.failure!, /^[a-z-]+: /);
    }
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('schedule: entries checked by type; critique-revision rounds refuse an external trainer', () => {
  assert.deepEqual(parseRunConfig(null).schedule, [{ type: 'rl' }]);
  const config = parseRunConfig('schedule: [{type: critique-revision}]');
  assert.deepEqual(config.schedule[0], { type: 'critique-revision', samplesPerPrompt: 1, learningRate: 1e-3, epochs: 2, minibatches: 2, maxTokens: 64, temperature: 0 });
  assert.throws(() => parseRunConfig('schedule: [{type: sft}]', { source: 'r.yaml' }), /r\.yaml: schedule\.0\.type:/);
  assert.throws(() => parseRunConfig('schedule: [{type: rl, epochs: 2}]', { source: 'r.yaml' }), /r\.yaml: schedule\.0\.epochs: unknown key/);
  assert.throws(() => parseRunConfig('schedule: []', { source: 'r.yaml' }), /r\.yaml: schedule:/);
  assert.throws(() => parseRunConfig('schedule: [{type: critique-revision}]\nupdate: {kind: external, command: "true"}', { source: 'r.yaml' }),
    /r\.yaml: schedule: critique-revision rounds train in this process/);
});
