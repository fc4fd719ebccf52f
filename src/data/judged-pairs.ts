// Bridges preference records and the pairwise judge: which response is shown as candidate A is drawn by a seeded hash
// (so a position-biased labeler cannot look right by accident), and judgments become judged records with provenance.
// Leaves out sampling new pairs from a policy (pairs come from a dataset). Follows Lee et al. 2023 (arXiv 2309.00267).
import type { JudgmentProvenance, PairwiseInput, PairwiseJudgment, PairwiseResult } from '../feedback/judgment-types.ts';
import { renderConversation } from '../feedback/judgment-types.ts';
import { hashToUnit } from '../feedback/stable-hash.ts';
import type { PreferenceRecord } from './preference-record.ts';

export interface PreparedPair {
  input: PairwiseInput;
  candidateA: 'chosen' | 'rejected';
}

/** The judge sees text; multi-message continuations are rendered as a transcript. */
function continuationText(messages: PreferenceRecord['chosen']): string {
  return messages.length === 1 ? messages[0]!.content : renderConversation(messages);
}

export function preparePair(record: PreferenceRecord, seed: number): PreparedPair {
  const candidateA = hashToUnit(`${seed}:order:${record.id}`) < 0.5 ? 'chosen' : 'rejected';
  const [a, b] = candidateA === 'chosen' ? [record.chosen, record.rejected] : [record.rejected, record.chosen];
  return { input: { id: record.id, conversation: record.prompt, candidates: [continuationText(a), continuationText(b)] }, candidateA };
}

/** The source's label expressed as the judge's candidate name. */
export function goldCandidate(prepared: PreparedPair): 'A' | 'B' {
  return prepared.candidateA === 'chosen' ? 'A' : 'B';
}

/**
 * A judged record: chosen/rejected reordered to the labeler's verdict (ties keep the source order), with the full
 * judgment, both-order probabilities and provenance. Failures return null: they are reported, not turned into data.
 */
export function judgedRecord(record: PreferenceRecord, prepared: PreparedPair, result: PairwiseResult, provenance: JudgmentProvenance): PreferenceRecord | null {
  if (result.kind !== 'ok') return null;
  const judgment: PairwiseJudgment = result;
  const probabilitySourceChosen = prepared.candidateA === 'chosen' ? judgment.probability : 1 - judgment.probability;
  const keepOrder = judgment.preferred === 'tie' || probabilitySourceChosen >= 0.5;
  const { judgment: _previous, ...rest } = record;
  return {
    ...rest,
    chosen: keepOrder ? record.chosen : record.rejected,
    rejected: keepOrder ? record.rejected : record.chosen,
    judgment: {
      candidateA: keepOrder ? prepared.candidateA : prepared.candidateA === 'chosen' ? 'rejected' : 'chosen',
      probabilityChosen: keepOrder ? probabilitySourceChosen : 1 - probabilitySourceChosen,
      sourceChosen: keepOrder ? 'chosen' : 'rejected',
      result: judgment,
      provenance,
    },
  };
}
