// The evaluate and gate stages: the candidate policy samples one response per validation prompt (the same seed per
// prompt every round), the labeler compares it with the last kept policy's and the SFT policy's responses, and the
// proxy metrics (win rates, anchor agreement, KL, length, entropy, refusals) feed the gate. Nothing here reads gold.
// A policy behind an endpoint has no KL and no anchor agreement (NaN: those monitors stay silent) and an entropy
// estimated from its sampled tokens' log-probs. The gate tests the win rate over the validation prompts (gates.ts). Lee et al. 2023 (arXiv 2309.00267).
import { decideGate, type LabelerTrust, type ProxyMetrics } from './gates.ts';
import { labelerCheckId } from './labeler-check.ts';
import { inOrder, judgePair, sampleStage } from './round-stages.ts';
import type { RoundContext } from './round-context.ts';
import { roundConfig } from './run-config.ts';
import { meanLogprob, recordId, responseLength, type EvaluationRecord, type GateRecord, type JudgmentRecord, type SampleRecord } from './run-records.ts';

/** Ties count half; a failed judgment counts as a tie. P(a preferred) read from a judgment of (a, b). */
function win(judgment: JudgmentRecord): number {
  if (!judgment.ok || judgment.probabilityA === null || judgment.probabilityA === 0.5) return 0.5;
  return judgment.probabilityA > 0.5 ? 1 : 0;
}

export function evaluationId(round: number): string {
  return recordId('evaluation', { round });
}

/**
 * Mean token entropy estimated from sampled tokens, mean of −log π(a_t) (its expectation is the entropy at temperature
 * 1): an endpoint policy's, whose full distributions are not here. NaN when the server gave no log-probs.
 */
export function sampledEntropy(samples: SampleRecord[]): number {
  const perSample = samples.map(meanLogprob).filter((x): x is number => x !== null).map((x) => -x);
  return perSample.length === 0 ? Number.NaN : perSample.reduce((a, x) => a + x, 0) / perSample.length;
}

/** The validation samples a policy (by round) wrote in its evaluation. */
function validationSamples(context: RoundContext, policyRound: number): SampleRecord[] {
  return context.validation.map((prompt) => context.store.get('sample', recordId('sample', { stage: 'evaluate', policyRound, prompt: prompt.id, index: 0 }))!);
}

/** Proxy metrics of the policy now loaded (written by `round`), compared with round `keptRound`'s and SFT's samples. */
export async function evaluateStage(context: RoundContext, round: number, keptRound: number): Promise<ProxyMetrics> {
  const existing = context.store.get('evaluation', evaluationId(round));
  if (existing) return existing.metrics as unknown as ProxyMetrics;
  const { validation, policy, config } = context;
  const current = await sampleStage(context, { round, policyRound: round, stage: 'evaluate', prompts: validation, perPrompt: 1 });
  // Behind an endpoint: no KL (the reference's weights are not here), entropy estimated by −log π of the sampled tokens.
  const measures = policy.kind === 'in-process' ? policy.measure(current.batch!) : { kl: [Number.NaN], entropy: [sampledEntropy(current.samples)] };
  // Both comparisons' judgments, asked in one batch (many at once through a queue), counted in prompt order.
  const opponents = [...new Set([keptRound, 0])].filter((r) => r !== round);
  let done = 0;
  const total = opponents.length * validation.length;
  const judged = await inOrder(opponents.flatMap((otherRound) => {
    const others = validationSamples(context, otherRound);
    return validation.map((prompt, i) => async () => {
      const judgment = await judgePair(context, { round, stage: 'evaluate', prompt, a: current.samples[i]!, b: others[i]! });
      context.onProgress?.({ stage: 'evaluate', round, done: ++done, total });
      return judgment;
    });
  }), context.labeler.parallelism ?? 1);
  const mean = (values: ArrayLike<number>) => Array.from(values).reduce((a, x) => a + x, 0) / Math.max(values.length, 1);
  // (validation,) the candidate's win (ties half) against round `otherRound`'s sample of each validation prompt.
  const winsAgainst = (otherRound: number): number[] => {
    const at = opponents.indexOf(otherRound) * validation.length;
    return judged.slice(at, at + validation.length).map(win);
  };
  const against = (otherRound: number): number => (otherRound === round ? 0.5 : mean(winsAgainst(otherRound)));
  // Per application, the candidate against the last kept policy: flat keys, as applicationWinRates reads them.
  const byApplication: Record<string, number> = {};
  if (keptRound !== round) {
    const wins = winsAgainst(keptRound);
    for (const application of [...new Set(validation.map((p) => p.application))].sort()) {
      const mine = wins.filter((_, i) => validation[i]!.application === application);
      byApplication[`winRateVsPrevious.${application}`] = mean(mine);
      byApplication[`validationPairs.${application}`] = mine.length;
    }
  }
  const refusal = config.gate.refusalPatterns.map((p) => new RegExp(p, 'i'));
  const anchors = policy.kind === 'endpoint' ? [] : context.anchors.map((a) => {
    const preferred = Int32Array.from(policy.tokenizer.encode(a.preferred)), other = Int32Array.from(policy.tokenizer.encode(a.other));
    return { prompt: policy.promptTokens(a.prompt.messages, Math.max(preferred.length, other.length)), preferred, other };
  }).filter((a) => a.preferred.length > 0 && a.other.length > 0 && a.prompt.length + Math.max(a.preferred.length, a.other.length) <= policy.model.config.maxPositions);
  const metrics: ProxyMetrics = {
    winRateVsPrevious: against(keptRound),
    winRateVsSft: against(0),
    anchorAgreement: anchors.length > 0 && policy.kind === 'in-process' ? policy.anchorAgreement(anchors) : Number.NaN,
    kl: mean(measures.kl),
    meanLength: mean(current.samples.map(responseLength)),
    entropy: mean(measures.entropy),
    refusalRate: mean(current.samples.map((s) => (refusal.some((r) => r.test(s.text)) ? 1 : 0))),
    validationPairs: validation.length,
    ...byApplication,
  };
  const record: EvaluationRecord = { id: evaluationId(round), kind: 'evaluation', round, parents: current.samples.map((s) => s.id),
    metrics: { ...metrics } as unknown as Record<string, number> };
  context.store.put(record);
  return metrics;
}

/** The gate: keep or roll back to the last kept round, with the reasons; written once per round. */
export function gateStage(context: RoundContext, round: number, current: ProxyMetrics, keptRound: number): GateRecord {
  const id = recordId('gate', { round });
  const existing = context.store.get('gate', id);
  if (existing) return existing;
  const metricsOf = (r: number) => context.store.get('evaluation', evaluationId(r))!.metrics as unknown as ProxyMetrics;
  const check = context.store.get('stage', labelerCheckId())?.detail as unknown as LabelerTrust | undefined; // absent without anchors
  const decision = round === 0 ? { keep: true, reasons: [] } : decideGate(current, metricsOf(keptRound), metricsOf(0), context.config.gate, check ?? null);
  const record: GateRecord = { id, kind: 'gate', round, roundType: round === 0 ? 'sft' : roundConfig(context.config, round).type, parents: [evaluationId(round)], keep: decision.keep, reasons: decision.reasons,
    keptRound: decision.keep ? round : keptRound };
  context.store.put(record);
  return record;
}
