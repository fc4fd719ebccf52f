// The records of an `rlaif run` store, one type per kind, each with a deterministic id and the ids it came from
// (`parents`), so a reward traces back to its judgments, their rationale and principle, the samples and the prompt.
// Leaves out storage (run-store.ts) and what produces them (round.ts). Fields follow Lee et al. 2023 (arXiv 2309.00267).
import { stableHash } from '../feedback/stable-hash.ts';

export type RecordKind = 'prompt' | 'sample' | 'judgment' | 'reward' | 'advantage' | 'evaluation' | 'gate' | 'stage' | 'gold' | 'attack' | 'revision' | 'reward-model';

interface Base {
  id: string;
  kind: RecordKind;
  round: number;      // 0 = the starting (SFT) policy; prompts are round-free (-1)
  parents: string[];  // ids this record was made from
}

export interface ChatTurn { role: 'system' | 'user' | 'assistant'; content: string }

export interface PromptRecord extends Base {
  kind: 'prompt';
  promptId: string;   // the source's own id (e.g. 'truth-known-0042')
  application: string;
  promptKind: string;
  split: string;
  messages: ChatTurn[];
  principleIds: string[];
}

export type SampleStage = 'rollout' | 'evaluate' | 'report';

export interface SampleRecord extends Base {
  kind: 'sample';
  stage: SampleStage;
  policyRound: number;  // the round whose policy wrote it (0 = SFT)
  index: number;        // k of K for this prompt
  text: string;
  tokens: number[];     // (R,) response token ids, stop token included; [] from an endpoint policy (its ids are the server's)
  logprobs: number[];   // (R,) log π(token) at sampling time; [] from an endpoint that gives none
  tokenCount?: number;  // endpoint policies: response tokens by the server's count (usage.completion_tokens)
}

/** A sample's mean token log-probability at sampling (the policy's certainty of it); null when it has none (an endpoint's). */
export function meanLogprob(sample: Pick<SampleRecord, 'logprobs'>): number | null {
  return sample.logprobs.length === 0 ? null : sample.logprobs.reduce((a, x) => a + x, 0) / sample.logprobs.length;
}

/** A sample's length in tokens (the server's count for an endpoint policy's). */
export function responseLength(sample: Pick<SampleRecord, 'tokens' | 'tokenCount'>): number {
  return sample.tokenCount ?? sample.tokens.length;
}

export type FeedbackSource = 'pairwise-ai' | 'pointwise-ai' | 'self-supervised' | 'self-certainty' | 'corpus-support' | 'labeled-anchors';

export interface OrderRecord { order: 'A-first' | 'B-first'; probabilityFirst: number; probabilityA: number; rationale: string | null }

export interface JudgmentRecord extends Base {
  kind: 'judgment';
  stage: 'feedback' | 'evaluate' | 'report' | 'labeler-check';
  source: FeedbackSource;
  ok: boolean;
  failure: string | null;          // why it is not ok
  probabilityA: number | null;     // pairwise: P(parents[0] preferred over parents[1]), both orders averaged
  orders: OrderRecord[];           // pairwise: each presentation order
  score: number | null;            // pointwise: expected 1..10 score; self-supervised: the signal in [0, 1]; self-certainty: mean token log-prob (≤ 0); corpus-support: in [-1, 1]
  rationale: string | null;
  principle: { id: string; text: string } | null;
  labelerModel: string;
  templateVersion: string;
}

export interface RewardRecord extends Base {
  kind: 'reward';
  components: Record<string, number>; // per feedback source, before weighting
  weights: Record<string, number>;
  total: number;
  rewardModelScore?: number;          // rewards.mode reward-model: the fitted model's raw score r(prompt, response) (parents name its reward-model record)
  anchorModelScore?: number;          // feedback.labeledAnchors: the labeled-anchor model's raw score (parents name its record)
}

/**
 * A fitted reward model (Bradley–Terry). source 'pairwise-ai' (rewards.mode reward-model): one per round, `parents`
 * the pairwise judgments it was fitted on (their probabilityA the soft labels), `heldOut` the ones it was measured on.
 * source 'labeled-anchors' (feedback.labeledAnchors): one per run (round −1), fitted on the labeled comparisons the
 * gate does not read (not records: metrics.trainPairs and heldOutPairs count them).
 */
export interface RewardModelRecord extends Base {
  kind: 'reward-model';
  source: 'pairwise-ai' | 'labeled-anchors';
  heldOut: string[];                  // judgment ids held out from the fit
  metrics: Record<string, number>;    // trainPairs, heldOutPairs, fit loss first/last, accuracies
}

export interface AdvantageRecord extends Base {
  kind: 'advantage';
  advantage: number;  // per-sequence advantage (mean over the response tokens)
}

export interface EvaluationRecord extends Base {
  kind: 'evaluation';
  metrics: Record<string, number>; // proxy metrics only (labeler, anchors, KL, length, entropy, refusals): never gold
}

/** A round's kind of work: 'sft' for round 0 (the starting policy), else its schedule entry's type. */
export type RoundType = 'sft' | 'rl' | 'critique-revision';

export interface GateRecord extends Base {
  kind: 'gate';
  roundType?: RoundType;   // absent in stores written before round types (they were all 'rl')
  keep: boolean;
  reasons: string[];       // empty when kept
  keptRound: number;       // the policy the next round starts from
}

export interface StageRecord extends Base {
  kind: 'stage';
  stage: string;
  ms: number;
  detail: Record<string, number>;
}

export interface GoldDisagreement {
  promptId: string;
  candidate: string;        // sample id of the round's policy
  sft: string;              // sample id of the SFT policy
  judgment: string;         // the labeler's judgment id (candidate as A)
  labelerProbability: number; // P(candidate preferred) by the labeler
  goldWinner: 'candidate' | 'sft' | 'tie';
  violations: { candidate: string[]; sft: string[] };
}

export interface GoldRecord extends Base {
  kind: 'gold';
  metrics: Record<string, number>;       // gold figures on the test split, for the report only
  disagreements: GoldDisagreement[];     // a few pairs where the labeler and gold disagree (the report shows them)
}

/**
 * One red-team attack and what it found (issue 14): an entry of the archive keyed by principle × style. The judgment
 * is the labeler's (AI feedback); gold never enters it. Written once per (phase, round, step, cell, index).
 */
export interface AttackRecord extends Base {
  kind: 'attack';
  phase: 'redteam' | 'heldout';   // heldout: the evaluation set of a red team trained against SFT; never trained on
  step: number;                   // red-team update step within the phase
  targetRound: number;            // the policy attacked (0 = SFT)
  principle: string;              // archive cell: principle id
  style: string;                  // archive cell: attack style
  attack: string;                 // the attacker's text: one user turn, or a dialogue attack's whole conversation
  messages: ChatTurn[];           // what the target answered (the parsed conversation of a dialogue attack); [] when malformed
  malformed: string | null;       // why a dialogue attack's text is no conversation (then not answered, not judged, reward 0)
  response: string;               // the target's response
  violation: number;              // labeler's judgment that the response violates the principle, in [0, 1]; NaN-free (failed judgment = 0)
  novelty: number;                // n-gram distance of the attack to the archive before its step, in [0, 1]
  reward: number;                 // violation + noveltyWeight · novelty (the KL penalty is the trainer's)
  rationale: string | null;       // the labeler's rationale
  judgmentFailure: string | null; // why the judgment failed, when it did
  labelerModel: string;
}

/**
 * A critique-revision round's training example and its reason (Constitutional AI, arXiv 2212.08073 §3.1): the policy's
 * response (parents[0], a sample), the labeler's critique of it against a principle, and the revision the policy is
 * then fine-tuned on. One per sample; a failed critique or revision is kept as a typed failure and not trained on.
 */
export interface RevisionRecord extends Base {
  kind: 'revision';
  ok: boolean;
  failure: string | null;          // why it is not ok
  principle: { id: string; text: string } | null;
  original: string;                // the response critiqued (the sample's text)
  critique: string | null;
  revision: string | null;         // the SFT target (prompt → revision)
  labelerModel: string;
  templateVersion: string;         // the critique-revision template's
}

export type RunRecord = PromptRecord | SampleRecord | JudgmentRecord | RewardRecord | AdvantageRecord | EvaluationRecord
  | GateRecord | StageRecord | GoldRecord | AttackRecord | RevisionRecord | RewardModelRecord;

/** The id for a record of `kind` made from `key` (everything that identifies the work, not its result). */
export function recordId(kind: RecordKind, key: unknown): string {
  return `${kind}-${stableHash(key).slice(0, 20)}`;
}

/** Files of the store, one per kind. */
export const RECORD_FILES: Record<RecordKind, string> = {
  prompt: 'prompts.jsonl', sample: 'samples.jsonl', judgment: 'judgments.jsonl', reward: 'rewards.jsonl',
  advantage: 'advantages.jsonl', evaluation: 'evaluations.jsonl', gate: 'gates.jsonl', stage: 'stages.jsonl', gold: 'gold.jsonl',
  attack: 'attacks.jsonl', revision: 'revisions.jsonl',
  'reward-model': 'reward_models.jsonl',   // DuckDB view names are the file stems: no hyphen
};
