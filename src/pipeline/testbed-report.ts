// Gold figures for the report in testbed mode: after each round the policy answers the TEST prompts (same seed per
// prompt every round), the testbed's gold checkers grade the answers and compare them with the SFT policy's, and the
// labeler judges the same pairs so the report can show the gold–proxy gap and the pairs where they disagree. Each
// figure over prompts carries its 95% percentile-bootstrap interval over prompts (`<name>_ci_low`, `_ci_high`). Nothing
// here reaches the gate or the update: the figures go to gold records only.
import { goldCheck, goldCompare, type TestbedPrompt, type World } from '../testbed/index.ts';
import type { ReportHook } from './run-loop.ts';
import { inOrder, judgePair, sampleStage } from './round-stages.ts';
import type { LoopPrompt, RoundContext, RunPolicy } from './round-context.ts';
import { meanLogprob, responseLength, type GoldDisagreement, type SampleRecord } from './run-records.ts';
import { bootstrapMean } from './bootstrap-interval.ts';

const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((a, x) => a + x, 0) / values.length);

/** The loop's view of a testbed prompt: no gold key, no template or entity. */
export function loopPrompt(prompt: TestbedPrompt): LoopPrompt {
  return { id: prompt.id, application: prompt.application, kind: prompt.kind, split: prompt.split,
    messages: prompt.messages.map((m) => ({ role: m.role, content: m.content })), principleIds: [...prompt.principleIds] };
}

/** A figure over prompts and its interval: `<name>` (the mean of the per-prompt values), `<name>_ci_low`, `<name>_ci_high`. */
function withInterval(metrics: Record<string, number>, name: string, perPrompt: number[], seed: number, round: number): void {
  const { mean, interval } = bootstrapMean(perPrompt, { seed, label: `gold|${round}|${name}` });
  metrics[name] = perPrompt.length === 0 ? 0 : mean;
  if (interval) [metrics[`${name}_ci_low`], metrics[`${name}_ci_high`]] = interval;
}

export function testbedGoldHook(options: { context: RoundContext; world: World; test: TestbedPrompt[]; proxyOnTest: boolean }): ReportHook {
  const { context, world, test } = options;
  const loopTest = test.map(loopPrompt), K = context.config.testSamplesPerPrompt, seed = context.config.seed;
  // (test.length, K): answer k of prompt i is at i * K + k; the SFT policy's answer of the same index is its opponent.
  const samplesOf = async (round: number): Promise<SampleRecord[]> =>
    (await sampleStage(context, { round, policyRound: round, stage: 'report', prompts: loopTest, perPrompt: K })).samples;
  /**
   * Baselines for every round's gold win rate, measured once on the SFT policy: `testBestOf` more SFT answers per test
   * prompt (the report's samples of round 0 from index K on, so a resumed run finds them), of which the best by gold and
   * the one the policy is surest of (highest mean token log-probability at sampling) each face SFT's K test answers.
   */
  const baselines = async (sft: SampleRecord[]): Promise<Record<string, number>> => {
    const extra = context.config.testBestOf;
    const pool = (await sampleStage(context, { round: 0, policyRound: 0, stage: 'report', prompts: loopTest, perPrompt: extra, firstIndex: K })).samples;
    const certainty = (s: SampleRecord) => meanLogprob(s) ?? Number.NEGATIVE_INFINITY;
    const best: number[] = [], surest: number[] = [];
    test.forEach((prompt, i) => {
      const candidates = pool.slice(i * extra, (i + 1) * extra), scores = candidates.map((c) => goldCheck(world, prompt, c.text).score);
      const bestText = candidates[scores.indexOf(Math.max(...scores))]!.text;
      const surestText = candidates.reduce((m, c) => (certainty(c) > certainty(m) ? c : m)).text;
      const versus = (text: string) => mean(Array.from({ length: K }, (_, k) => {
        const { winner } = goldCompare(world, prompt, text, sft[i * K + k]!.text);
        return winner === 'a' ? 1 : winner === 'tie' ? 0.5 : 0;
      }));
      best.push(versus(bestText));
      surest.push(versus(surestText));
    });
    const out: Record<string, number> = { baseline_pick_of: extra };
    withInterval(out, 'baseline_gold_pick_win_rate_vs_sft', best, seed, 0);
    if (pool.some((s) => s.logprobs.length > 0)) withInterval(out, 'baseline_surest_pick_win_rate_vs_sft', surest, seed, 0);
    return out;
  };
  return {
    async afterRound(round: number, _policy: RunPolicy) {
      const mine = await samplesOf(round), sft = round === 0 ? mine : await samplesOf(0);
      const verdicts = mine.map((s, j) => goldCheck(world, test[Math.floor(j / K)]!, s.text));
      // Per prompt, the share of its K answers that `flag` marks; prompts that `keep` leaves out are not counted.
      const perPrompt = (keep: (p: TestbedPrompt) => boolean, flag: (j: number) => boolean) => test.flatMap((p, i) => {
        if (!keep(p)) return [];
        let n = 0;
        for (let k = 0; k < K; k++) n += flag(i * K + k) ? 1 : 0;
        return [n / K];
      });
      const failed = (keep: (p: TestbedPrompt) => boolean, violation?: string) =>
        perPrompt(keep, (j) => (violation ? verdicts[j]!.violations.includes(violation) : !verdicts[j]!.pass));
      // Every (prompt, answer index) pair after round 0: gold compares them here; the labeler judges them in one batch
      // (as many at once as it allows, as the evaluate stage asks), in pair order.
      const pairs = round === 0 ? [] : test.flatMap((prompt, i) => Array.from({ length: K }, (_, k) => ({ prompt, i, j: i * K + k })));
      const golds = pairs.map(({ prompt, j }) => goldCompare(world, prompt, mine[j]!.text, sft[j]!.text));
      let done = 0;
      const judgments = !options.proxyOnTest ? [] : await inOrder(pairs.map(({ i, j }) => async () => {
        const judgment = await judgePair(context, { round, stage: 'report', prompt: loopTest[i]!, a: mine[j]!, b: sft[j]! });
        context.onProgress?.({ stage: 'report', round, done: ++done, total: pairs.length });
        return judgment;
      }), context.labeler.parallelism ?? 1);
      const score = (winner: 'a' | 'b' | 'tie') => (winner === 'a' ? 1 : winner === 'tie' ? 0.5 : 0);
      const labelerP = judgments.map((judgment) => (judgment.ok && judgment.probabilityA !== null ? judgment.probabilityA : 0.5));
      const labelerSide = (p: number) => (p > 0.5 ? 'a' : p < 0.5 ? 'b' : 'tie');
      // Per prompt, the mean over its K pairs (the bootstrap's units).
      const perPair = (value: (n: number) => number) => test.map((_, i) => mean(Array.from({ length: K }, (_, k) => value(i * K + k))));
      const goldWins = round === 0 ? [] : perPair((n) => score(golds[n]!.winner)), ties = round === 0 ? [] : perPair((n) => (golds[n]!.winner === 'tie' ? 1 : 0));
      const proxyWins = judgments.length === 0 ? [] : perPair((n) => score(labelerSide(labelerP[n]!)));
      const agreements = judgments.filter((_, n) => labelerSide(labelerP[n]!) === golds[n]!.winner).length;
      const disagreements: GoldDisagreement[] = [];
      judgments.forEach((judgment, n) => {
        const gold = golds[n]!, { prompt, j } = pairs[n]!;
        if (disagreements.length < 8 && gold.winner !== 'tie' && labelerSide(labelerP[n]!) !== gold.winner) {
          disagreements.push({ promptId: prompt.id, candidate: mine[j]!.id, sft: sft[j]!.id, judgment: judgment.id, labelerProbability: labelerP[n]!,
            goldWinner: gold.winner === 'a' ? 'candidate' : 'sft', violations: { candidate: gold.a.violations, sft: gold.b.violations } });
        }
      });
      const metrics: Record<string, number> = {};
      // Round 0 is the SFT policy against its own answers: every pair a tie, exactly ½.
      if (round === 0) Object.assign(metrics, { gold_win_rate_vs_sft: 0.5, gold_win_rate_vs_sft_ci_low: 0.5, gold_win_rate_vs_sft_ci_high: 0.5, gold_tie_rate: 1 });
      else {
        withInterval(metrics, 'gold_win_rate_vs_sft', goldWins, seed, round);
        metrics.gold_tie_rate = mean(ties);
      }
      const all = () => true, kinds = (...names: string[]) => (p: TestbedPrompt) => names.includes(p.kind), app = (name: string) => (p: TestbedPrompt) => p.application === name;
      withInterval(metrics, 'hallucination_rate', failed(app('truthfulness')), seed, round);
      withInterval(metrics, 'harmful_compliance_rate', failed(kinds('forbidden-harm', 'forbidden-privacy')), seed, round);
      withInterval(metrics, 'over_refusal_rate', failed(kinds('benign-lookalike'), 'over-refusal'), seed, round);
      withInterval(metrics, 'coherence_error_rate', failed(app('dialogue-coherence')), seed, round);
      metrics.value_alignment_failure_rate = mean(failed(app('value-alignment')));
      withInterval(metrics, 'gold_pass_rate', perPrompt(all, (j) => verdicts[j]!.pass), seed, round);
      metrics.gold_score_mean = verdicts.reduce((a, v) => a + v.score, 0) / Math.max(verdicts.length, 1);
      metrics.mean_length = mine.reduce((a, s) => a + responseLength(s), 0) / Math.max(mine.length, 1);
      // Per prompt kind (no intervals: a kind has 10–60 prompts): where a round gained and where it lost.
      for (const kind of [...new Set(test.map((p) => p.kind))].sort()) {
        const name = kind.replaceAll('-', '_');
        metrics[`gold_pass_rate_kind_${name}`] = mean(perPrompt(kinds(kind), (j) => verdicts[j]!.pass));
        if (round > 0) metrics[`gold_win_rate_vs_sft_kind_${name}`] = mean(test.flatMap((p, i) => (p.kind === kind ? [goldWins[i]!] : [])));
      }
      if (round === 0 && context.config.testBestOf > 0) Object.assign(metrics, await baselines(mine));
      metrics.gold_test_prompts = test.length;
      metrics.gold_test_samples_per_prompt = K;
      if (options.proxyOnTest) {
        if (round === 0) Object.assign(metrics, { proxy_win_rate_vs_sft: 0.5, proxy_win_rate_vs_sft_ci_low: 0.5, proxy_win_rate_vs_sft_ci_high: 0.5 });
        else withInterval(metrics, 'proxy_win_rate_vs_sft', proxyWins, seed, round);
        metrics.labeler_gold_agreement = judgments.length ? agreements / judgments.length : 1;
      }
      return { metrics, disagreements };
    },
  };
}
