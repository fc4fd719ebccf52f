// The figures `rlaif run` ends with, read from the run store: the RESULT names of issue 12 (gold figures of the final
// kept policy against SFT on the test split when the testbed is the world; the proxy's otherwise), rounds kept and
// rolled back, and seconds per stage, each gold figure with its 95% interval over test prompts (`_ci_low`, `_ci_high`).
// The same object is summary.json.
import type { RunStore } from './run-store.ts';
import { recordId } from './run-records.ts';
import { labelerCheckId } from './labeler-check.ts';

export type RunSummary = Record<string, number>;

/** Summary of the run in `store`; gold names appear only when gold records exist (testbed mode). */
export function summarizeRun(store: RunStore): RunSummary {
  const gates = store.all('gate');
  if (gates.length === 0) throw new Error(`${store.dir}: no rounds finished yet`);
  const final = gates.at(-1)!.keptRound;
  const gold = (round: number) => store.get('gold', recordId('gold', { round }))?.metrics;
  const evaluation = (round: number) => store.get('evaluation', recordId('evaluation', { round }))?.metrics;
  const summary: RunSummary = {};
  const sftGold = gold(0), finalGold = gold(final);
  if (sftGold && finalGold) {
    // A figure's 95% interval over test prompts, where its gold record has one (runs recorded before 2026-12-04 have none).
    const interval = (into: string, metrics: Record<string, number>, name: string) => {
      if (metrics[`${name}_ci_low`] === undefined) return;
      summary[`${into}_ci_low`] = metrics[`${name}_ci_low`]!;
      summary[`${into}_ci_high`] = metrics[`${name}_ci_high`]!;
    };
    summary.gold_win_rate_vs_sft = finalGold.gold_win_rate_vs_sft!;
    interval('gold_win_rate_vs_sft', finalGold, 'gold_win_rate_vs_sft');
    summary.gold_tie_rate = finalGold.gold_tie_rate!;
    if (finalGold.proxy_win_rate_vs_sft !== undefined) {
      summary.proxy_win_rate_vs_sft = finalGold.proxy_win_rate_vs_sft;
      interval('proxy_win_rate_vs_sft', finalGold, 'proxy_win_rate_vs_sft');
      summary.gold_proxy_gap = finalGold.proxy_win_rate_vs_sft - finalGold.gold_win_rate_vs_sft!;
    }
    for (const name of ['hallucination_rate', 'harmful_compliance_rate', 'over_refusal_rate', 'coherence_error_rate']) {
      summary[`${name}_sft`] = sftGold[name]!;
      interval(`${name}_sft`, sftGold, name);
      summary[`${name}_final`] = finalGold[name]!;
      interval(`${name}_final`, finalGold, name);
    }
    if (finalGold.gold_test_prompts !== undefined) {
      summary.gold_test_prompts = finalGold.gold_test_prompts;
      summary.gold_test_samples_per_prompt = finalGold.gold_test_samples_per_prompt!;
    }
    summary.length_drift = finalGold.mean_length! / sftGold.mean_length! - 1;
    // Baselines of SFT with no training (testBestOf): the gold-best and the surest of that many SFT answers per prompt.
    for (const name of ['baseline_gold_pick_win_rate_vs_sft', 'baseline_surest_pick_win_rate_vs_sft']) {
      if (sftGold[name] === undefined) continue;
      summary[name] = sftGold[name];
      interval(name, sftGold, name);
    }
    if (sftGold.baseline_pick_of !== undefined) summary.baseline_pick_of = sftGold.baseline_pick_of;
    if (sftGold.redteam_attack_success !== undefined && finalGold.redteam_attack_success !== undefined) {  // adversarial rounds (issue 14)
      summary.redteam_attack_success_sft = sftGold.redteam_attack_success;
      summary.redteam_attack_success_final = finalGold.redteam_attack_success;
      summary.redteam_distinct_failures = sftGold.redteam_distinct_failures!;
      summary.redteam_attack_gradable = sftGold.redteam_attack_gradable!;
      if (sftGold.generator_failures !== undefined) {  // the baseline: as many of the testbed's own prompts of the attacked kinds
        summary.redteam_failures_sft = sftGold.redteam_failures!;
        summary.generator_failures_sft = sftGold.generator_failures;
      }
    }
  } else {
    summary.proxy_win_rate_vs_sft = (evaluation(final)?.winRateVsSft as number | undefined) ?? 0.5;
    summary.length_drift = (evaluation(final)?.meanLength ?? 0) / (evaluation(0)?.meanLength ?? 1) - 1;
  }
  const check = store.get('stage', labelerCheckId())?.detail;  // the labeler on the labeled anchors, before round 1
  if (check && check.judged! > 0) {
    summary.labeler_anchor_agreement = check.agreement!;
    summary.labeler_anchor_informative_rate = check.informative!;
    if (check.minAgreement !== undefined) summary.labeler_min_agreement = check.minAgreement;
    if (check.minInformative !== undefined) summary.labeler_min_informative = check.minInformative;
  }
  // The labeler's judgments that failed (an endpoint error after its retries, a verdict it did not write): their pairs
  // gave no reward and no win. Counted so that an outage or a template the labeler cannot follow is not silent.
  const asked = labelerJudgments(store);
  summary.labeler_judgments = asked.total;
  summary.labeler_judgment_failures = asked.failed;
  summary.final_round = final;
  summary.rounds_kept = gates.filter((g) => g.round > 0 && g.keep).length;
  summary.rounds_rolled_back = gates.filter((g) => !g.keep).length;
  const stages: Record<string, number> = {};
  for (const s of store.all('stage')) stages[s.stage] = (stages[s.stage] ?? 0) + s.ms / 1000;
  summary.run_total_s = Object.values(stages).reduce((a, x) => a + x, 0);
  for (const [name, seconds] of Object.entries(stages).sort()) summary[`stage_${name}_s`] = seconds;
  return summary;
}

/**
 * The AI labeler's judgments of the rounds (pairwise and pointwise; the labeler check's are reported by the check, and
 * its failed attempts are asked again), how many failed, and the failures by reason.
 */
export function labelerJudgments(store: RunStore): { total: number; failed: number; reasons: Record<string, number> } {
  const asked = store.all('judgment').filter((j) => (j.source === 'pairwise-ai' || j.source === 'pointwise-ai') && j.stage !== 'labeler-check');
  const reasons: Record<string, number> = {};
  for (const j of asked) if (!j.ok) { const reason = (j.failure ?? 'unknown').split(':')[0]!; reasons[reason] = (reasons[reason] ?? 0) + 1; }
  return { total: asked.length, failed: Object.values(reasons).reduce((a, n) => a + n, 0), reasons };
}

/** `RESULT <name> <value>` lines, one per figure. */
export function resultLines(summary: RunSummary): string[] {
  return Object.entries(summary).map(([name, value]) => `RESULT ${name} ${Number.isInteger(value) ? value : value.toFixed(4)}`);
}
