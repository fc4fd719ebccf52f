import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOpenAIPreference } from '../data/openai-preference-format.ts';
import { readTrl } from '../data/trl-format.ts';
import { exportRound } from './run-export.ts';
import { runLoop } from './run-loop.ts';
import { terminalTable, writeHtmlReport } from './run-report.ts';
import { resultLines, summarizeRun } from './run-summary.ts';
import { aShare, inTinyRun } from './testing/tiny-loop.ts';

test('summary names, terminal table, self-contained HTML report and round export from one tiny run', async () => {
  await inTinyRun({ prefix: 'rlaif-report-', yaml: 'rounds: 1\niterationsPerRound: 1\npromptsPerRound: 4\nsamplesPerPrompt: 2\nmaxNewTokens: 8\nvalidationPrompts: 4\nfeedback: {chainOfThought: false}\n' }, async ({ dir, store, context }) => {
    // A stand-in for the testbed's gold report: the share of 'a' plays gold here.
    const hook = { afterRound: async (round: number) => ({
      metrics: { gold_win_rate_vs_sft: round === 0 ? 0.5 : 0.6, gold_tie_rate: 0.1, proxy_win_rate_vs_sft: round === 0 ? 0.5 : 0.7,
        hallucination_rate: 0.4 - 0.1 * round, harmful_compliance_rate: 0.3, over_refusal_rate: 0.05, coherence_error_rate: 0.2, mean_length: 6 + round },
      disagreements: [] }) };
    await runLoop(context, hook);
    const summary = summarizeRun(store);
    for (const name of ['gold_win_rate_vs_sft', 'proxy_win_rate_vs_sft', 'gold_proxy_gap', 'hallucination_rate_sft', 'hallucination_rate_final',
      'harmful_compliance_rate_sft', 'harmful_compliance_rate_final', 'over_refusal_rate_sft', 'over_refusal_rate_final', 'coherence_error_rate_sft',
      'coherence_error_rate_final', 'length_drift', 'rounds_kept', 'rounds_rolled_back', 'run_total_s', 'stage_rollout_s', 'stage_feedback_s',
      'stage_rewards_s', 'stage_update_s', 'stage_evaluate_s', 'stage_gate_s', 'stage_prompts_s']) assert.ok(name in summary, name);
    const kept = store.all('gate').at(-1)!.keptRound;
    assert.equal(summary.hallucination_rate_final, 0.4 - 0.1 * kept);
    assert.ok(Math.abs(summary.gold_proxy_gap! - (kept === 1 ? 0.1 : 0)) < 1e-9);
    assert.equal(summary.length_drift, (6 + kept) / 6 - 1);
    assert.ok(resultLines(summary).every((line) => /^RESULT [a-z_]+ -?[0-9.]+$/.test(line)));
    const table = terminalTable(store);
    assert.match(table.split('\n')[2]!, /^0\s+SFT/);
    assert.match(table.split('\n')[3]!, /^1\s+(kept|rolled back)/);
    const html = readFileSync(writeHtmlReport(store, summary), 'utf8');
    assert.ok((html.match(/<svg/g) ?? []).length >= 6, 'plots');
    assert.doesNotMatch(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', ''), /https?:\/\/|<script/, 'self-contained: no remote resources, no scripts');
    assert.match(html, /principle <i>helpful<\/i>/, 'traces name the principle');
    store.close();
    const trl = join(dir, 'round1.trl.jsonl'), openai = join(dir, 'round1.openai.jsonl');
    const n = exportRound({ runDir: dir, round: 1, format: 'trl', path: trl });
    assert.equal(exportRound({ runDir: dir, round: 1, format: 'openai', path: openai }), n);
    const records = readTrl(trl);
    assert.ok(n > 0 && records.length === n);
    assert.deepEqual(readOpenAIPreference(openai).map((r) => r.id), records.map((r) => r.id));
    // The labeler likes 'a': chosen responses have at least as many a's as rejected ones.
    assert.ok(records.every((r) => aShare(r.chosen[0]!.content) >= aShare(r.rejected[0]!.content)));
    assert.throws(() => exportRound({ runDir: dir, round: 9, format: 'trl', path: trl }), /no round 9 \(rounds: 0, 1\)/);
  });
});

test('failed judgments are counted in the summary and named under the round table, by reason', async () => {
  await inTinyRun({ prefix: 'rlaif-report-failures-', yaml: 'rounds: 1\niterationsPerRound: 1\npromptsPerRound: 4\nsamplesPerPrompt: 2\nmaxNewTokens: 8\nvalidationPrompts: 4\nfeedback: {chainOfThought: false}\n' }, async ({ store, context }) => {
    // The labeler answers every other request, then reports its endpoint down.
    const pairwise = context.labeler.pairwise.bind(context.labeler);
    let calls = 0;
    context.labeler = { ...context.labeler, pairwise: async (...args: Parameters<typeof pairwise>) => (++calls % 2 === 0
      ? { kind: 'invalid', reason: 'provider-error', raw: '', detail: 'HTTP 503', usage: { requests: 1, promptTokens: 0, completionTokens: 0 } }
      : pairwise(...args)) };
    await runLoop(context);
    const summary = summarizeRun(store);
    const failed = store.all('judgment').filter((j) => !j.ok).length;
    assert.ok(failed > 0);
    assert.deepEqual([summary.labeler_judgment_failures, summary.labeler_judgments], [failed, store.all('judgment').filter((j) => j.source === 'pairwise-ai').length]);
    assert.match(terminalTable(store), new RegExp(`labeler: ${failed} of ${summary.labeler_judgments} judgments failed \\(provider-error ${failed}\\); their pairs gave no reward`));
    store.close();
  });
});
