import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { goldCheck, goldCompare, makePrompts, makeWorld } from '../testbed/index.ts';
import { runLoop } from './run-loop.ts';
import { terminalTable, writeHtmlReport } from './run-report.ts';
import { summarizeRun } from './run-summary.ts';
import { testbedGoldHook } from './testbed-report.ts';
import { inTinyRun } from './testing/tiny-loop.ts';
import { KILL_TEST_CONFIG } from './testing/tiny-run-process.ts';

test('gold figures: K answers per test prompt, each against the SFT answer of the same index, with 95% intervals over prompts in the records, summary and table', async () => {
  await inTinyRun({ prefix: 'rlaif-gold-', yaml: `${KILL_TEST_CONFIG}\ntestSamplesPerPrompt: 3\n` }, async ({ store, context }) => {
    const world = makeWorld(5, { creatures: 8, unknownNames: 6, petNames: 6 });
    const all = makePrompts(world).filter((p) => p.split === 'test');
    const test = ['truthfulness', 'value-alignment', 'dialogue-coherence'].flatMap((app) => all.filter((p) => p.application === app).slice(0, 4))
      .map((p) => ({ ...p, principleIds: ['helpful'] }));   // the tiny labeler's constitution has this one principle
    await runLoop(context, testbedGoldHook({ context, world, test, proxyOnTest: true }));
    // The report's answers, (prompt, index) → text, per policy round, read back from the store.
    const answers = (round: number) => {
      const byKey = new Map(store.all('sample').filter((s) => s.stage === 'report' && s.policyRound === round)
        .map((s) => [`${store.get('prompt', s.parents[0]!)!.promptId}|${s.index}`, s.text]));
      return test.map((p) => [0, 1, 2].map((k) => byKey.get(`${p.id}|${k}`)!));
    };
    const sft = answers(0);
    let varied = false;
    for (const gold of store.all('gold')) {
      const m = gold.metrics, mine = answers(gold.round);
      assert.equal(m.gold_test_samples_per_prompt, 3);
      assert.equal(m.gold_test_prompts, test.length);
      const passes = test.map((p, i) => mine[i]!.filter((text) => goldCheck(world, p, text).pass).length / 3);
      assert.ok(Math.abs(m.gold_pass_rate! - passes.reduce((a, x) => a + x, 0) / test.length) < 1e-12, `round ${gold.round}: pass rate over 3 answers a prompt`);
      for (const kind of new Set(test.map((p) => p.kind))) {
        const mineOfKind = passes.filter((_, i) => test[i]!.kind === kind);
        assert.ok(Math.abs(m[`gold_pass_rate_kind_${kind.replaceAll('-', '_')}`]! - mineOfKind.reduce((a, x) => a + x, 0) / mineOfKind.length) < 1e-12, `round ${gold.round}: ${kind}`);
      }
      if (gold.round > 0) {
        const wins = test.map((p, i) => [0, 1, 2].reduce((a, k) => { const w = goldCompare(world, p, mine[i]![k]!, sft[i]![k]!).winner; return a + (w === 'a' ? 1 : w === 'tie' ? 0.5 : 0); }, 0) / 3);
        assert.ok(Math.abs(m.gold_win_rate_vs_sft! - wins.reduce((a, x) => a + x, 0) / test.length) < 1e-12, `round ${gold.round}: answer k against SFT's answer k`);
        varied ||= new Set(wins).size > 1;
        const kind = test[0]!.kind, ofKind = wins.filter((_, i) => test[i]!.kind === kind);
        assert.ok(Math.abs(m[`gold_win_rate_vs_sft_kind_${kind.replaceAll('-', '_')}`]! - ofKind.reduce((a, x) => a + x, 0) / ofKind.length) < 1e-12, `round ${gold.round}: ${kind} win rate`);
      }
      for (const name of ['gold_win_rate_vs_sft', 'gold_pass_rate', 'hallucination_rate', 'coherence_error_rate', 'proxy_win_rate_vs_sft']) {
        const [low, value, high] = [m[`${name}_ci_low`]!, m[name]!, m[`${name}_ci_high`]!];
        assert.ok(low <= value && value <= high && low >= 0 && high <= 1, `round ${gold.round} ${name}: ${low} ≤ ${value} ≤ ${high}`);
      }
    }
    assert.ok(varied, 'the per-prompt win rates differ, so the comparison by index is tested');
    // Every recorded disagreement: gold prefers one side of the stored pair, and the labeler the other (or neither).
    const disagreements = store.all('gold').flatMap((g) => g.disagreements);
    assert.ok(disagreements.length > 0, 'the scripted labeler and gold disagree somewhere');
    for (const d of disagreements) {
      const prompt = test.find((p) => p.id === d.promptId)!, candidate = store.get('sample', d.candidate)!, sftAnswer = store.get('sample', d.sft)!;
      const winner = goldCompare(world, prompt, candidate.text, sftAnswer.text).winner;
      assert.equal(d.goldWinner, winner === 'a' ? 'candidate' : 'sft');
      assert.ok(d.goldWinner === 'candidate' ? d.labelerProbability <= 0.5 : d.labelerProbability >= 0.5, `${d.promptId}: the labeler (${d.labelerProbability}) is not on gold's side`);
    }
    const summary = summarizeRun(store), final = store.get('gold', store.all('gold').find((g) => g.round === summary.final_round)!.id)!.metrics;
    assert.equal(summary.gold_win_rate_vs_sft_ci_low, final.gold_win_rate_vs_sft_ci_low);
    assert.equal(summary.hallucination_rate_sft_ci_high, store.all('gold').find((g) => g.round === 0)!.metrics.hallucination_rate_ci_high);
    assert.equal(summary.gold_test_samples_per_prompt, 3);
    assert.match(terminalTable(store).split('\n')[2]!, /0\.500 \[0\.50, 0\.50\]\s+\d\.\d{3} \[\d\.\d\d, \d\.\d\d\]/, 'SFT row: win rate and pass rate with intervals');
    const html = readFileSync(writeHtmlReport(store, summary), 'utf8');
    assert.match(html, new RegExp(`Gold per prompt kind[^]*<th>${test[0]!.kind}</th><td>\\d\\.\\d{3}</td><td>\\d\\.\\d{3} / \\d\\.\\d{3}</td>`), 'the per-kind table: SFT pass rate, then pass / win');
    assert.match(html, /per application \(validation\)[^]*<th>dialogue-coherence<\/th><td>\d\.\d{3} of \d+<\/td>/, 'the labeler per application');
    store.close();
  });
});

test("baselines: the gold-best and the surest of testBestOf more SFT answers, each against SFT's test answers, in the SFT record, summary, table and plot", async () => {
  await inTinyRun({ prefix: 'rlaif-baselines-', yaml: `${KILL_TEST_CONFIG.replace(/^rounds: 2$/m, 'rounds: 1')}\ntestSamplesPerPrompt: 2\ntestBestOf: 3\n` }, async ({ store, context }) => {
    const world = makeWorld(5, { creatures: 8, unknownNames: 6, petNames: 6 });
    const all = makePrompts(world).filter((p) => p.split === 'test');
    const test = ['truthfulness', 'value-alignment', 'dialogue-coherence'].flatMap((app) => all.filter((p) => p.application === app).slice(0, 4))
      .map((p) => ({ ...p, principleIds: ['helpful'] }));
    await runLoop(context, testbedGoldHook({ context, world, test, proxyOnTest: false }));
    // Round 0's report samples, (prompt, index) → sample: indices 0–1 are SFT's test answers, 2–4 the baseline pool.
    const byKey = new Map(store.all('sample').filter((s) => s.stage === 'report' && s.policyRound === 0).map((s) => [`${store.get('prompt', s.parents[0]!)!.promptId}|${s.index}`, s]));
    const sure = (s: { logprobs: number[] }) => s.logprobs.reduce((a, x) => a + x, 0) / s.logprobs.length;
    const score = (w: string) => (w === 'a' ? 1 : w === 'tie' ? 0.5 : 0);
    const best: number[] = [], surest: number[] = [];
    for (const p of test) {
      const sft = [0, 1].map((k) => byKey.get(`${p.id}|${k}`)!.text), pool = [2, 3, 4].map((k) => byKey.get(`${p.id}|${k}`)!);
      assert.ok(pool.every((s) => s !== undefined), `${p.id}: three baseline answers`);
      const bestText = pool.map((s) => s.text).sort((a, b) => goldCheck(world, p, b).score - goldCheck(world, p, a).score)[0]!;
      const surestText = pool.reduce((m, s) => (sure(s) > sure(m) ? s : m)).text;
      const versus = (text: string) => sft.reduce((a, t) => a + score(goldCompare(world, p, text, t).winner), 0) / 2;
      best.push(versus(bestText));
      surest.push(versus(surestText));
    }
    const m = store.all('gold').find((g) => g.round === 0)!.metrics, meanOf = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    assert.equal(m.baseline_pick_of, 3);
    assert.ok(Math.abs(m.baseline_gold_pick_win_rate_vs_sft! - meanOf(best)) < 1e-12, 'the gold-best of 3 against both SFT answers');
    assert.ok(Math.abs(m.baseline_surest_pick_win_rate_vs_sft! - meanOf(surest)) < 1e-12, 'the surest of 3 against both SFT answers');
    assert.ok(m.baseline_gold_pick_win_rate_vs_sft! >= m.baseline_surest_pick_win_rate_vs_sft!, 'no pick beats gold’s own');
    assert.ok(m.baseline_gold_pick_win_rate_vs_sft_ci_low! <= m.baseline_gold_pick_win_rate_vs_sft! && m.baseline_gold_pick_win_rate_vs_sft! <= m.baseline_gold_pick_win_rate_vs_sft_ci_high!);
    assert.ok(store.all('gold').filter((g) => g.round > 0).every((g) => g.metrics.baseline_pick_of === undefined), 'measured once, on SFT');
    const summary = summarizeRun(store);
    assert.equal(summary.baseline_gold_pick_win_rate_vs_sft, m.baseline_gold_pick_win_rate_vs_sft);
    assert.equal(summary.baseline_surest_pick_win_rate_vs_sft_ci_high, m.baseline_surest_pick_win_rate_vs_sft_ci_high);
    assert.equal(summary.baseline_pick_of, 3);
    assert.match(terminalTable(store), /^baselines, SFT with no training \(gold win\/SFT\): the gold-best of 3 SFT answers \d\.\d{3} \[\d\.\d\d, \d\.\d\d\]; the one of 3 the SFT policy is surest of \d\.\d{3} /m);
    assert.match(readFileSync(writeHtmlReport(store, summary), 'utf8'), /against the baselines of SFT with no training[^]*SFT, gold-best of 3[^]*SFT, surest of 3/);
    store.close();
  });
  await inTinyRun({ prefix: 'rlaif-baselines-off-', yaml: `${KILL_TEST_CONFIG.replace(/^rounds: 2$/m, 'rounds: 1')}\ntestBestOf: 0\n` }, async ({ store, context }) => {
    const world = makeWorld(5, { creatures: 8, unknownNames: 6, petNames: 6 });
    const test = makePrompts(world).filter((p) => p.split === 'test').slice(0, 6).map((p) => ({ ...p, principleIds: ['helpful'] }));
    await runLoop(context, testbedGoldHook({ context, world, test, proxyOnTest: false }));
    assert.equal(store.all('gold').find((g) => g.round === 0)!.metrics.baseline_pick_of, undefined, 'testBestOf 0: no baselines');
    assert.doesNotMatch(terminalTable(store), /baselines/);
    store.close();
  });
});
