// The records judges take and return: structured inputs, typed results, typed failures (never a magic -1).
// Leaves out storage: the data layer turns these into preference datasets; feedback never imports data.
// Field meanings follow Lee et al. 2023 (arXiv 2309.00267) and Bai et al. 2022 (arXiv 2212.08073).
import type { ChatMessage } from './chat-model-v1.ts';

export type Message = ChatMessage;

export interface PrincipleReference {
  id: string;
  text: string;
}

export interface PairwiseInput {
  id: string; // stable id of the pair; seeds principle sampling and keys the cache
  conversation: Message[]; // the context, ending where the candidates would continue
  candidates: [string, string]; // [A, B]; A and B are names independent of the order shown to the labeler
  reference?: string; // optional reference answer shown to the labeler
}

export interface PointwiseInput {
  id: string;
  conversation: Message[];
  response: string;
  reference?: string;
}

export type LabelSource = 'logprobs' | 'votes';

/** One presentation order's verdict. */
export interface OrderVerdict {
  order: 'A-first' | 'B-first';
  probabilityFirst: number; // P(the response shown first is preferred), from verdict-token probabilities or votes
  probabilityA: number; // the same, mapped back to candidate A
  rationale: string | null; // step-one chain-of-thought text; null when judged without chain-of-thought
  labelSource: LabelSource;
  votes: [number, number] | null; // (2,) votes for first, second when labelSource is 'votes'
  verdictRaw: string; // text the verdict step returned
}

export interface PrincipleVerdict {
  principle: PrincipleReference;
  forward: OrderVerdict; // A shown first
  reversed: OrderVerdict | null; // B shown first; null when both-orders is off
  probabilityA: number; // mean over the orders, before clamping
}

export interface JudgmentUsage {
  requests: number; // provider calls including retries
  promptTokens: number;
  completionTokens: number;
}

export type FailureReason = 'unparseable-verdict' | 'provider-error' | 'empty-response' | 'job-failed'; // job-failed: a queued judgment failed its every attempt

/** A judgment that could not be made; `raw` keeps the model's text (or the error) for inspection. */
export interface JudgmentFailure {
  kind: 'invalid';
  reason: FailureReason;
  raw: string;
  detail: string;
  usage: JudgmentUsage;
}

export interface PairwiseJudgment {
  kind: 'ok';
  preferred: 'A' | 'B' | 'tie';
  probability: number; // P(A preferred): averaged over orders and principles, then clamped if asked
  rationale: string | null; // null when judged without chain-of-thought
  principles: PrincipleReference[];
  positions: PrincipleVerdict[]; // one per principle used
  usage: JudgmentUsage;
}

export type PairwiseResult = PairwiseJudgment | JudgmentFailure;

export interface PointwiseJudgment {
  kind: 'ok';
  score: number; // expected score on 1..10
  reward: number; // score rescaled to [-1, 1]
  distribution: number[]; // (10,) P(score = s) for s = 1..10; all zero but one when from a single vote
  labelSource: LabelSource;
  rationale: string | null; // null when judged without chain-of-thought
  principle: PrincipleReference;
  usage: JudgmentUsage;
}

export type PointwiseResult = PointwiseJudgment | JudgmentFailure;

export interface RubricJudgment {
  kind: 'ok';
  score: number; // 0..5 additive points
  justification: string;
  usage: JudgmentUsage;
}

export type RubricResult = RubricJudgment | JudgmentFailure;

export interface CritiqueRevision {
  kind: 'ok';
  critique: string;
  revision: string;
  principle: PrincipleReference;
  usage: JudgmentUsage;
}

export type CritiqueRevisionResult = CritiqueRevision | JudgmentFailure;

/** Where a judgment came from; kept with every judged pair. Never holds credentials. */
export interface JudgmentProvenance {
  provider: string;
  model: string;
  templateVersion: string;
  templateHash: string;
  constitution: string | null; // name@version
  seed: number;
  judgedAt: string; // ISO time the judgment was first made (cached re-runs keep it)
}

export function emptyUsage(): JudgmentUsage {
  return { requests: 0, promptTokens: 0, completionTokens: 0 };
}

export function renderConversation(messages: Message[]): string {
  return messages.map((message) => `${message.role === 'user' ? 'Human' : message.role === 'assistant' ? 'Assistant' : 'System'}: ${message.content}`).join('\n\n');
}
