// Bridges preference records and the pair judges (pairwise, or two scores): which response is candidate A is drawn by a
// seeded hash (so a position-biased labeler cannot look right by accident), and judgments become judged records with
// provenance. Leaves out sampling new pairs from a policy (pipeline/sampled-pairs.ts). Follows Lee et al. 2023 (arXiv 2309.00267).
import type { PairwiseInput, PairwiseResult } from '../feedback/judgment-types.ts';
import { renderConversation } from '../feedback/judgment-types.ts';
import type { ScoredPairResult } from '../feedback/scored-pair-judge.ts';
import { hashToUnit } from '../feedback/stable-hash.ts';
import type { PairJudgment, PairProvenance, PreferenceRecord } from './preference-record.ts';

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
 * judgment (both-order probabilities, or both scores with their rationales) and provenance. Failures return null:
 * they are reported, not turned into data.
 */
export function judgedRecord(record: PreferenceRecord, prepared: PreparedPair, result: PairwiseResult | ScoredPairResult, provenance: PairProvenance): PreferenceRecord | null {
  if (result.kind !== 'ok') return null;
  const probabilitySourceChosen = prepared.candidateA === 'chosen' ? result.probability : 1 - result.probability;
  const keepOrder = result.preferred === 'tie' || probabilitySourceChosen >= 0.5;
  const candidateA = keepOrder ? prepared.candidateA : prepared.candidateA === 'chosen' ? 'rejected' : 'chosen';
  const judgment: PairJudgment = {
    candidateA,
    probabilityChosen: keepOrder ? probabilitySourceChosen : 1 - probabilitySourceChosen,
    sourceChosen: keepOrder ? 'chosen' : 'rejected',
    result,
    provenance,
  };
  if ('scores' in result) {
    const [chosen, rejected] = candidateA === 'chosen' ? [result.scores.A, result.scores.B] : [result.scores.B, result.scores.A];
    judgment.scores = { chosen: chosen.score, rejected: rejected.score };
  }
  const { judgment: _previous, ...rest } = record;
  return { ...rest, chosen: keepOrder ? record.chosen : record.rejected, rejected: keepOrder ? record.rejected : record.chosen, judgment };
}
