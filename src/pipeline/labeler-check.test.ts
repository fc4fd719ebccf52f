// The labeler check: a labeler whose taste matches the anchors' labels agrees with them; one with no preference
// between them sits at chance, leans nowhere and gets the warning; a resumed run reads the check back without asking
// the labeler again; the summary carries it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { labelerCheckId, labelerCheckStage, weakLabelerWarning } from './labeler-check.ts';
import { runLoop } from './run-loop.ts';
import { parseRunConfig } from './run-config.ts';
import { RunStore } from './run-store.ts';
import { labelerJudgments, summarizeRun } from './run-summary.ts';
import { tinyLoop } from './testing/tiny-loop.ts';

const YAML = 'rounds: 1\niterationsPerRound: 1\npromptsPerRound: 4\nmaxNewTokens: 8\nvalidationPrompts: 6\n';

async function check(taste: 'a-rich' | 'longer') {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-labeler-check-'));
  try {
    const config = parseRunConfig(YAML);
    let store = RunStore.open(dir, config);
    const first = tinyLoop({ config, store, taste });
    const result = await labelerCheckStage(first.context);
    const calls = first.labelerModel.calls;
    assert.ok(calls > 0);
    store.commit(); store.close();
    store = RunStore.open(dir, config);
    const again = tinyLoop({ config, store, taste });
    assert.deepEqual(await labelerCheckStage(again.context), result, 'a resumed run reads the check back');
    assert.equal(again.labelerModel.calls, 0, 'and asks the labeler nothing');
    const judgments = store.all('judgment').filter((j) => j.stage === 'labeler-check');
    assert.equal(judgments.length, 4, 'one judgment per anchor pair');
    // Half the pairs show the labeled answer second: a labeler that always picks the first answer would score ½.
    assert.ok(judgments.some((j) => j.probabilityA! > 0.5) && judgments.some((j) => j.probabilityA! < 0.5) || taste === 'longer');
    store.put({ id: 'gate-0', kind: 'gate', round: 0, parents: [], keep: true, reasons: [], keptRound: 0 });
    const summary = summarizeRun(store);
    store.close();
    return { result: result!, summary, warning: weakLabelerWarning(result, 'tiny', config.gate) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('labeler check: a labeler that shares the labels agrees with them; no warning', async () => {
  const { result, summary, warning } = await check('a-rich');   // anchors: 'aaaa' preferred over 'bcbc'
  assert.deepEqual([result.pairs, result.judged, result.agreement, result.informative], [4, 4, 1, 1]);
  assert.equal(summary.labeler_anchor_agreement, 1);
  assert.equal(summary.labeler_anchor_informative_rate, 1);
  assert.equal(warning, null);
});

test('labeler check: a labeler with no preference between the anchors sits at chance, leans nowhere, and is named weak', async () => {
  const { result, summary, warning } = await check('longer');   // both anchors have 4 letters
  assert.deepEqual([result.agreement, result.informative], [0.5, 0]);
  assert.equal(summary.labeler_anchor_agreement, 0.5);
  assert.match(warning ?? '', /prefers the labeled answer on 0\.50 of 4 anchor pairs .*close to noise.*The gate keeps no round with it/);
  assert.equal(summary.labeler_min_agreement, 0.6, 'the threshold the check was made against');
});

test('labeler check: a labeler whose every anchor judgment failed is named, not passed over in silence', () => {
  assert.match(weakLabelerWarning({ pairs: 4, judged: 0, agreement: Number.NaN, informative: Number.NaN }, 'tiny', { minLabelerAgreement: 0.6, minLabelerInformative: 0.5 }) ?? '', /answered none of the 4 anchor pairs/);
  assert.equal(weakLabelerWarning(null, 'tiny', { minLabelerAgreement: 0.6, minLabelerInformative: 0.5 }), null, 'no anchors, no check, no warning');
});

test('labeler check: a labeler that cannot be reached, or answers none of the anchors, stops the run; the same command asks again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-labeler-down-'));
  const usage = { requests: 1, promptTokens: 0, completionTokens: 0 };
  try {
    const config = parseRunConfig(YAML);
    let store = RunStore.open(dir, config);
    const failing = (reason: 'provider-error' | 'unparseable-verdict', detail: string) => {
      const loop = tinyLoop({ config, store, taste: 'a-rich' }), asked = { count: 0 };
      loop.context.labeler = { ...loop.context.labeler, pairwise: async () => { asked.count++; return { kind: 'invalid', reason, raw: '', detail, usage }; } };
      return { context: loop.context, asked };
    };
    // Down: its first judgment spent its retries, so the other anchors are not tried.
    const down = failing('provider-error', 'connect ECONNREFUSED 127.0.0.1:8000');
    await assert.rejects(labelerCheckStage(down.context), /labeler check: the labeler \(.*\) could not be reached: its first judgment failed with provider-error: connect ECONNREFUSED.*no round ran.*run the same command again/);
    assert.equal(down.asked.count, 1);
    // Up but writing no verdict: every anchor is tried, then the run stops.
    const mute = failing('unparseable-verdict', 'no verdict among [1, 2]');
    await assert.rejects(labelerCheckStage(mute.context), /answered none of the 4 anchor pairs it was asked to judge \(first failure: unparseable-verdict: no verdict/);
    assert.equal(mute.asked.count, 4, 'the first anchor asked again (its attempt 1), then the other three');
    assert.equal(store.get('stage', labelerCheckId()), undefined, 'no check recorded');
    store.close();
    // With the check turned off (a study of a weak labeler's rounds), a labeler that answers nothing is warned about and the run goes on.
    const off = mkdtempSync(join(tmpdir(), 'rlaif-labeler-off-'));
    try {
      const offConfig = parseRunConfig(`${YAML}gate: {minLabelerAgreement: 0, minLabelerInformative: 0}\n`);
      const loop = tinyLoop({ config: offConfig, store: RunStore.open(off, offConfig), taste: 'a-rich' });
      loop.context.labeler = { ...loop.context.labeler, pairwise: async () => ({ kind: 'invalid', reason: 'unparseable-verdict', raw: '', detail: 'no verdict', usage }) };
      const check = await labelerCheckStage(loop.context);
      assert.deepEqual([check!.pairs, check!.judged], [4, 0]);
      assert.match(weakLabelerWarning(check, 'tiny', offConfig.gate) ?? '', /answered none of the 4 anchor pairs/);
      loop.context.store.close();
    } finally {
      rmSync(off, { recursive: true, force: true });
    }
    store = RunStore.open(dir, config);
    const up = tinyLoop({ config, store, taste: 'a-rich' });
    const result = await labelerCheckStage(up.context);
    assert.deepEqual([result!.pairs, result!.judged, result!.agreement], [4, 4, 1], 'asked again, answered, checked');
    const judgments = store.all('judgment').filter((j) => j.stage === 'labeler-check');
    assert.deepEqual([judgments.filter((j) => !j.ok).length, judgments.filter((j) => j.ok).length], [5, 4], 'the failed attempts stay beside the new ones');
    assert.deepEqual(labelerJudgments(store), { total: 0, failed: 0, reasons: {} }, "the check's attempts are not counted as the rounds' failed judgments");
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('labeler check: the gate reads it; a labeler below its thresholds has every round rolled back (labeler-untrusted)', async () => {
  for (const [taste, untrusted] of [['longer', true], ['a-rich', false]] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'rlaif-labeler-gate-'));
    try {
      const config = parseRunConfig(YAML);
      const store = RunStore.open(dir, config);
      const { context } = tinyLoop({ config, store, taste });
      await labelerCheckStage(context);
      const outcome = await runLoop(context);
      const round1 = outcome.gates.find((g) => g.round === 1)!;
      assert.equal(round1.reasons.some((r) => r.startsWith('labeler-untrusted:')), untrusted, `${taste}: ${round1.reasons.join('; ')}`);
      if (untrusted) assert.equal(round1.keep, false);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
