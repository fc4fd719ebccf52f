// Gold figures for the report in testbed mode: after each round the policy answers the TEST prompts (same seed per
// prompt every round), the testbed's gold checkers grade the answers and compare them with the SFT policy's, and the
// labeler judges the same pairs so the report can show the gold–proxy gap and the pairs where they disagree. Nothing
// here reaches the gate or the update: the figures go to gold records only. Leaves out bootstrap intervals.
import { goldCheck, goldCompare, type TestbedPrompt, type World } from '../testbed/index.ts';
import type { ReportHook } from './run-loop.ts';
import { judgePair, sampleStage } from './round-stages.ts';
import type { LoopPrompt, RoundContext, RunPolicy } from './round-context.ts';
import { responseLength, type GoldDisagreement, type SampleRecord } from './run-records.ts';

/** The loop's view of a testbed prompt: no gold key, no template or entity. */
export function loopPrompt(prompt: TestbedPrompt): LoopPrompt {
  return { id: prompt.id, application: prompt.application, kind: prompt.kind, split: prompt.split,
    messages: prompt.messages.map((m) => ({ role: m.role, content: m.content })), principleIds: [...prompt.principleIds] };
}

const rate = (flags: boolean[]) => (flags.length === 0 ? 0 : flags.filter(Boolean).length / flags.length);

export function testbedGoldHook(options: { context: RoundContext; world: World; test: TestbedPrompt[]; proxyOnTest: boolean }): ReportHook {
  const { context, world, test } = options;
  const loopTest = test.map(loopPrompt);
  const samplesOf = async (round: number): Promise<SampleRecord[]> =>
    (await sampleStage(context, { round, policyRound: round, stage: 'report', prompts: loopTest, perPrompt: 1 })).samples;
  return {
    async afterRound(round: number, _policy: RunPolicy) {
      const mine = await samplesOf(round), sft = round === 0 ? mine : await samplesOf(0);
      const verdicts = test.map((p, i) => goldCheck(world, p, mine[i]!.text));
      const failed = (kinds: string[], violation?: string[]) => rate(test.flatMap((p, i) => (kinds.includes(p.kind)
        ? [violation ? verdicts[i]!.violations.some((v) => violation.includes(v)) : !verdicts[i]!.pass] : [])));
      const appRate = (app: string) => rate(test.flatMap((p, i) => (p.application === app ? [!verdicts[i]!.pass] : [])));
      let goldWins = 0, ties = 0, proxyWins = 0, agreements = 0;
      const disagreements: GoldDisagreement[] = [];
      for (const [i, prompt] of test.entries()) {
        if (round === 0) break;
        const gold = goldCompare(world, prompt, mine[i]!.text, sft[i]!.text);
        goldWins += gold.winner === 'a' ? 1 : gold.winner === 'tie' ? 0.5 : 0;
        ties += gold.winner === 'tie' ? 1 : 0;
        if (!options.proxyOnTest) continue;
        const judgment = await judgePair(context, { round, stage: 'report', prompt: loopTest[i]!, a: mine[i]!, b: sft[i]! });
        const p = judgment.ok && judgment.probabilityA !== null ? judgment.probabilityA : 0.5;
        proxyWins += p > 0.5 ? 1 : p === 0.5 ? 0.5 : 0;
        const labelerSide = p > 0.5 ? 'a' : p < 0.5 ? 'b' : 'tie';
        if (labelerSide === gold.winner) agreements++;
        else if (disagreements.length < 8 && gold.winner !== 'tie') {
          disagreements.push({ promptId: prompt.id, candidate: mine[i]!.id, sft: sft[i]!.id, judgment: judgment.id, labelerProbability: p,
            goldWinner: gold.winner === 'a' ? 'candidate' : 'sft', violations: { candidate: gold.a.violations, sft: gold.b.violations } });
        }
        context.onProgress?.({ stage: 'report', round, done: i + 1, total: test.length });
      }
      const n = round === 0 ? 0 : test.length;
      const metrics: Record<string, number> = {
        gold_win_rate_vs_sft: n ? goldWins / n : 0.5,
        gold_tie_rate: n ? ties / n : 1,
        hallucination_rate: appRate('truthfulness'),
        harmful_compliance_rate: failed(['forbidden-harm', 'forbidden-privacy']),
        over_refusal_rate: failed(['benign-lookalike'], ['over-refusal']),
        coherence_error_rate: appRate('dialogue-coherence'),
        value_alignment_failure_rate: appRate('value-alignment'),
        gold_pass_rate: rate(verdicts.map((v) => v.pass)),
        gold_score_mean: verdicts.reduce((a, v) => a + v.score, 0) / Math.max(verdicts.length, 1),
        mean_length: mine.reduce((a, s) => a + responseLength(s), 0) / Math.max(mine.length, 1),
      };
      if (options.proxyOnTest) {
        metrics.proxy_win_rate_vs_sft = n ? proxyWins / n : 0.5;
        metrics.labeler_gold_agreement = n ? agreements / n : 1;
      }
      return { metrics, disagreements };
    },
  };
}
