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
