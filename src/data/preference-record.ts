// The preference record every dataset format converts to and from: a conversation prompt, a chosen and a rejected
// continuation (lists of messages), and, once judged, the labeler's full judgment with provenance.
// Leaves out tool calls and images. Judgment fields follow Lee et al. 2023 (arXiv 2309.00267); pairs labeled from two
// scores (pointwise, rubric) keep both scores with their rationales.
import { z } from 'zod';
import type { JudgmentProvenance, Message, PairwiseJudgment } from '../feedback/judgment-types.ts';
import type { JudgeKind, ScoredPairJudgment } from '../feedback/scored-pair-judge.ts';

/** Provenance of a judged pair: which judge kind labeled it, with what model, template and seed. */
export interface PairProvenance extends JudgmentProvenance {
  judge?: JudgeKind; // absent in records written before judge kinds existed: those are pairwise
}

export const messageSchema = z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });
export const messagesSchema = z.array(messageSchema);

/** What the labeler said about a pair, kept with the pair so every preference traces back to its rationale. */
export interface PairJudgment {
  candidateA: 'chosen' | 'rejected'; // which of this record's responses was shown as candidate A
  probabilityChosen: number; // P(chosen preferred) from the labeler's (clamped) soft label
  sourceChosen: 'chosen' | 'rejected' | null; // where the labeler's chosen sat in the source data; null if the source had no label
  scores?: { chosen: number; rejected: number }; // pointwise (expected 1..10) / rubric (mean 0..5 points) of each response
  result: PairwiseJudgment | ScoredPairJudgment; // rationale(s), principles; both-order probabilities or both scores
  provenance: PairProvenance;
}

export interface PreferenceRecord {
  id: string;
  prompt: Message[]; // the shared context, ending where the continuations start
  chosen: Message[]; // (>= 1 messages) the preferred continuation
  rejected: Message[];
  judgment?: PairJudgment;
  source?: { file: string; line: number };
}

// Judgments are produced by our own code; on read they are checked loosely for shape and kept whole.
const judgmentSchema = z
  .object({
    candidateA: z.enum(['chosen', 'rejected']),
    probabilityChosen: z.number().min(0).max(1),
    sourceChosen: z.enum(['chosen', 'rejected']).nullable(),
    scores: z.object({ chosen: z.number(), rejected: z.number() }).optional(),
    result: z.union([
      z.looseObject({ kind: z.literal('ok'), rationale: z.string().nullable(), positions: z.array(z.unknown()) }),
      z.looseObject({ kind: z.literal('ok'), judge: z.enum(['pointwise', 'rubric']), rationale: z.string().nullable(), scores: z.looseObject({ A: z.looseObject({ score: z.number() }), B: z.looseObject({ score: z.number() }) }) }),
    ]),
    provenance: z.looseObject({ provider: z.string(), model: z.string(), templateVersion: z.string(), judge: z.enum(['pairwise', 'pointwise', 'rubric']).optional() }),
  })
  .passthrough();

export const recordSchema = z.object({
  id: z.string().min(1),
  prompt: messagesSchema,
  chosen: messagesSchema.min(1),
  rejected: messagesSchema.min(1),
  judgment: judgmentSchema.optional(),
  source: z.object({ file: z.string(), line: z.number().int() }).optional(),
});

/** Validate one record, or throw an error naming where it came from and the offending field. */
export function parseRecord(value: unknown, where: string): PreferenceRecord {
  const parsed = recordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${where}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  const record = parsed.data as PreferenceRecord;
  if (record.judgment === undefined) delete record.judgment;
  if (record.source === undefined) delete record.source;
  return record;
}

/**
 * How many opening messages two conversations of one preference pair share as their prompt: the turns equal in both
 * (each side keeping at least its last message as its response), cut back to end on a user turn. 0: none.
 */
export function sharedUserOpening(chosen: readonly Message[], rejected: readonly Message[]): number {
  let shared = 0;
  while (shared < chosen.length - 1 && shared < rejected.length - 1 && chosen[shared]!.role === rejected[shared]!.role
    && chosen[shared]!.content === rejected[shared]!.content) shared++;
  while (shared > 0 && chosen[shared - 1]!.role !== 'user') shared--;
  return shared;
}
