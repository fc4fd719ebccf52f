// The labeler check, before the first round: the labeler judges the gate's labeled anchor pairs (labels a person would
// give, on validation prompts), both orders as always, half of them with the labeled answer shown first, and the run
// records how often it prefers the labeled answer (Lee et al. 2023, arXiv 2309.00267: AI-labeler alignment, here
// against the run's own labeled data, never gold) and how often its judgment leans either way at all. A labeler near
// chance steers the RL by noise and makes the gate's win rates coin flips; the run says so on stderr, in summary.json
// and in the report, instead of leaving the user to find out from the rounds, and below gate.minLabelerAgreement or
// gate.minLabelerInformative the gate keeps no round (gates.ts, labeler-untrusted); its rounds still run and are
// reported (the gold figures show what keeping them would have done). A labeler that cannot be reached (its first
// judgment spent its retries on provider errors), or that answers none of the anchors while the gate reads the check,
// stops the run before round 1 with the failure named, and the same command asks the failed judgments again (a
// numbered attempt each time; the earlier attempts stay).
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
  const tasks = anchors.map((anchor, i) => async (): Promise<{ record: JudgmentRecord; labeledFirst: boolean }> => {
    const labeledFirst = i % 2 === 0;
    const candidates: [string, string] = labeledFirst ? [anchor.preferred, anchor.other] : [anchor.other, anchor.preferred];
    const key = { source: 'labeler-check', prompt: anchor.prompt.id, a: candidates[0], b: candidates[1] };
    // Attempt 0 has the id checks always had; a failed attempt is followed by the next when the check runs again.
    const idOf = (attempt: number) => recordId('judgment', attempt === 0 ? key : { ...key, attempt });
    let attempt = 0, record = store.get('judgment', idOf(0));
    while (record && !record.ok) record = store.get('judgment', idOf(++attempt));
    const id = idOf(attempt);
    if (!record) {
      const result = await context.labeler.pairwise({ id, conversation: anchor.prompt.messages, candidates }, anchor.prompt.principleIds, { round: 0, stage: 'labeler-check' });
      store.put(judgmentRecord(context, { id, round: 0, parents: [], stage: 'labeler-check', source: 'pairwise-ai' }, result));
      record = store.get('judgment', id)!;
    }
    context.onProgress?.({ stage: 'labeler-check', round: 0, done: ++done, total: anchors.length });
    return { record, labeledFirst };
  });
  const stop = (what: string) => {
    store.commit();
    return new Error(`labeler check: the labeler (${context.labeler.model}) ${what}; no round ran. Check the labeler (its endpoint, model name, template) `
      + 'and run the same command again: the failed judgments are asked again (see judgments.jsonl, stage labeler-check).');
  };
  // The first anchor goes alone: a labeler that cannot be reached at all (its retries spent) stops the run at once,
  // instead of after every anchor has spent its retries too. One that answered but wrote no verdict may do better on
  // the others, so the check goes on.
  const first = await tasks[0]!();
  if (!first.record.ok && first.record.failure?.startsWith('provider-error')) throw stop(`could not be reached: its first judgment failed with ${first.record.failure}`);
  const judged = [first, ...await inOrder(tasks.slice(1), context.labeler.parallelism ?? 1)];
  const ok = judged.filter((j) => j.record.ok && j.record.probabilityA !== null);
  // Answering none, the labeler would have every round rolled back by a gate that reads the check: stop instead. With
  // the check turned off (both thresholds 0: a study of what a weak labeler's rounds do) the rounds run, as asked.
  const { minLabelerAgreement, minLabelerInformative } = context.config.gate;
  if (ok.length === 0 && (minLabelerAgreement > 0 || minLabelerInformative > 0)) {
    throw stop(`answered none of the ${anchors.length} anchor pairs it was asked to judge (first failure: ${judged.find((j) => j.record.failure)?.record.failure ?? 'no probability'})`);
  }
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
