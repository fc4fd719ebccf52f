// The labeler check, before the first round: the labeler judges the gate's labeled anchor pairs (labels a person would
// give, on validation prompts), both orders as always, half of them with the labeled answer shown first, and the run
// records how often it prefers the labeled answer (Lee et al. 2023, arXiv 2309.00267: AI-labeler alignment, here
// against the run's own labeled data, never gold) and how often its judgment leans either way at all. A labeler near
// chance steers the RL by noise and makes the gate's win rates coin flips; the run says so on stderr, in summary.json
// and in the report, instead of leaving the user to find out from the rounds, and below gate.minLabelerAgreement or
// gate.minLabelerInformative the gate keeps no round (gates.ts, labeler-untrusted). Leaves out stopping the run: its rounds still run and are
// reported (the gold figures show what keeping them would have done).
import { recordId, type JudgmentRecord } from './run-records.ts';
import type { RoundContext } from './round-context.ts';
import { inOrder, judgmentRecord } from './round-stages.ts';

export interface LabelerCheck {
  pairs: number;        // anchor pairs asked
  judged: number;       // judgments that came back (failures are left out of the rates)
  agreement: number;    // share preferring the labeled answer (P = ½ counts half)
  informative: number;  // share whose P(A) is at least `margin` away from ½
  minAgreement?: number; // gate.minLabelerAgreement when checked (absent in checks recorded before it existed)
  minInformative?: number; // gate.minLabelerInformative when checked (likewise)
}

const MARGIN = 0.05;

export const labelerCheckId = () => recordId('stage', { round: -1, stage: 'labeler_check' });

/** Judges the anchors (once: a resumed run reads the judgments and the stage record back) and records the check. */
export async function labelerCheckStage(context: RoundContext): Promise<LabelerCheck | null> {
  const { store, anchors } = context;
  if (anchors.length === 0) return null;
  const recorded = store.get('stage', labelerCheckId());
  if (recorded) return recorded.detail as unknown as LabelerCheck;
  const started = performance.now();
  let done = 0;
  const judged = await inOrder(anchors.map((anchor, i) => async (): Promise<{ record: JudgmentRecord; labeledFirst: boolean }> => {
    const labeledFirst = i % 2 === 0;
    const candidates: [string, string] = labeledFirst ? [anchor.preferred, anchor.other] : [anchor.other, anchor.preferred];
    const id = recordId('judgment', { source: 'labeler-check', prompt: anchor.prompt.id, a: candidates[0], b: candidates[1] });
    let record = store.get('judgment', id);
    if (!record) {
      const result = await context.labeler.pairwise({ id, conversation: anchor.prompt.messages, candidates }, anchor.prompt.principleIds, { round: 0, stage: 'labeler-check' });
      store.put(judgmentRecord(context, { id, round: 0, parents: [], stage: 'labeler-check', source: 'pairwise-ai' }, result));
      record = store.get('judgment', id)!;
    }
    context.onProgress?.({ stage: 'labeler-check', round: 0, done: ++done, total: anchors.length });
    return { record, labeledFirst };
  }), context.labeler.parallelism ?? 1);
  const ok = judged.filter((j) => j.record.ok && j.record.probabilityA !== null);
  const towardLabeled = ok.map((j) => (j.labeledFirst ? j.record.probabilityA! : 1 - j.record.probabilityA!));
  const mean = (values: number[]) => (values.length === 0 ? Number.NaN : values.reduce((a, x) => a + x, 0) / values.length);
  const check: LabelerCheck = {
    pairs: anchors.length, judged: ok.length,
    agreement: mean(towardLabeled.map((p) => (p > 0.5 ? 1 : p === 0.5 ? 0.5 : 0))),
    informative: mean(towardLabeled.map((p) => (Math.abs(p - 0.5) >= MARGIN ? 1 : 0))),
    minAgreement: context.config.gate.minLabelerAgreement, minInformative: context.config.gate.minLabelerInformative,
  };
  store.put({ id: labelerCheckId(), kind: 'stage', round: -1, parents: ok.map((j) => j.record.id), stage: 'labeler_check', ms: performance.now() - started, detail: { ...check } });
  return check;
}

/** The warning for a labeler below the gate's thresholds on the anchors (gate.minLabelerAgreement and
 * minLabelerInformative; null when it is not). */
export function weakLabelerWarning(check: LabelerCheck | null, model: string, gate: { minLabelerAgreement: number; minLabelerInformative: number }): string | null {
  if (!check) return null;
  if (check.judged === 0) return `rlaif run: the labeler (${model}) answered none of the ${check.pairs} anchor pairs it was asked to judge (every judgment failed: see judgments.jsonl, stage labeler-check); its feedback will fail the same way.`;
  if (check.agreement >= gate.minLabelerAgreement && check.informative >= gate.minLabelerInformative) return null;
  return `rlaif run: the labeler (${model}) prefers the labeled answer on ${check.agreement.toFixed(2)} of ${check.judged} anchor pairs (chance is 0.50; ` +
    `${check.informative.toFixed(2)} of its judgments lean at least ${MARGIN} either way): its feedback is close to noise, and the gate's win rates with it. ` +
    `The gate keeps no round with it (gate.minLabelerAgreement ${gate.minLabelerAgreement}, gate.minLabelerInformative ${gate.minLabelerInformative}; 0 turns each off). ` +
    'A stronger labeler (labeler: endpoint or a larger checkpoint) is needed for gains.';
}
