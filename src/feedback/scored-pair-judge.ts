// A pair's preference from two separate scores: each candidate is scored alone by the pointwise judge (1-10, direct
// RLAIF, Lee et al. 2023, arXiv 2309.00267) or the additive-rubric judge (0-5, Yuan et al. 2024, arXiv 2401.10020), and
// P(A preferred) = P(s_A > s_B) + ½·P(s_A = s_B) for s_A, s_B drawn independently from the two score distributions.
// Leaves out position bias: no response is ever shown beside the other. One unparseable score fails the whole pair.
import { FanoutAbortController, onAbort } from './abort-fanout.ts';
import {
  emptyUsage,
  type JudgmentFailure,
  type JudgmentUsage,
  type PairwiseInput,
  type PairwiseResult,
  type PointwiseInput,
  type PointwiseJudgment,
  type PointwiseResult,
  type PrincipleReference,
} from './judgment-types.ts';
import type { PointwiseJudge } from './pointwise-judge.ts';
import type { RubricJudge, RubricSampledJudgment, RubricSampledResult } from './rubric-judge.ts';
import { clampProbability } from './verdict-parsing.ts';

export type ScoreKind = 'pointwise' | 'rubric';
export type JudgeKind = 'pairwise' | ScoreKind;

/** One candidate's score as its judge returned it: score, rationale, principle and distribution (pointwise) or samples (rubric). */
export type CandidateScore = PointwiseJudgment | RubricSampledJudgment;
export type CandidateScoreResult = PointwiseResult | RubricSampledResult;

export interface ScoredPairJudgment {
  kind: 'ok';
  judge: ScoreKind;
  preferred: 'A' | 'B' | 'tie'; // tie when |P(A) - 0.5| <= tieMargin (equal score distributions give exactly 0.5)
  probability: number; // P(A preferred) from the two score distributions, then clamped if asked
  rationale: string | null; // both rationales, labelled "Response A (score): ..."; null without chain-of-thought
  principles: PrincipleReference[]; // pointwise: the one principle both were scored under; rubric: none (fixed criteria)
  scores: { A: CandidateScore; B: CandidateScore };
  usage: JudgmentUsage; // both candidates together
}

/** A pair whose score could not be read for one candidate (or both); both judges' results are kept whole. */
export interface ScoredPairFailure extends JudgmentFailure {
  judge: ScoreKind;
  candidate: 'A' | 'B' | 'both'; // whose score failed; `reason`, `raw` and `detail` are that judge's (A's when both)
  scores: { A: CandidateScoreResult; B: CandidateScoreResult };
}

export type ScoredPairResult = ScoredPairJudgment | ScoredPairFailure;

/** A score distribution as (value, probability) points; the probabilities sum to 1. */
export type ScoreDistribution = Array<{ value: number; probability: number }>;

/**
 * P(s_A > s_B) + ½·P(s_A = s_B) for independent s_A ~ a, s_B ~ b, written as ½ + ½·Σ_{u > v} (a(u)·b(v) − a(v)·b(u))
 * over the union of values: each term pairs the two ways u and v can fall, so equal distributions give exactly ½ and
 * swapping a and b gives exactly 1 − P (no rounding asymmetry to break ties). Point masses give 1, 0 or ½.
 */
export function probabilityFirstHigher(a: ScoreDistribution, b: ScoreDistribution): number {
  const values = [...new Set([...a, ...b].map((point) => point.value))].sort((x, y) => x - y);
  const massAt = (distribution: ScoreDistribution): number[] => values.map((value) => distribution.reduce((sum, point) => (point.value === value ? sum + point.probability : sum), 0));
  const first = massAt(a); // (values,)
  const second = massAt(b); // (values,)
  let difference = 0; // P(s_A > s_B) − P(s_A < s_B)
  for (let high = 1; high < values.length; high++) {
    for (let low = 0; low < high; low++) difference += first[high]! * second[low]! - first[low]! * second[high]!;
  }
  return Math.min(1, Math.max(0, 0.5 + 0.5 * difference));
}

/** A candidate's score distribution: the pointwise judge's P(score = s) over 1..10, or the rubric's sampled scores equally weighted. */
export function scoreDistributionOf(score: CandidateScore): ScoreDistribution {
  if ('distribution' in score) return score.distribution.map((probability, index) => ({ value: index + 1, probability }));
  return score.samples.map((sample) => ({ value: sample.score, probability: 1 / score.samples.length }));
}

export type PairScorer = { kind: 'pointwise'; judge: PointwiseJudge } | { kind: 'rubric'; judge: RubricJudge };

export interface ScoredPairJudgeOptions {
  scorer: PairScorer;
  clamp: { min: number; max: number } | null; // applied to P(A), as for pairwise soft labels
  tieMargin: number; // |P(A) - 0.5| <= tieMargin is a tie
}

/** Version of the rule turning two scores into P(A); part of the cache key, bumped if the rule changes. */
const pairRule = 'P(sA>sB)+P(tie)/2@1';

function addUsage(first: JudgmentUsage, second: JudgmentUsage): JudgmentUsage {
  const total = emptyUsage();
  for (const usage of [first, second]) {
    total.requests += usage.requests;
    total.promptTokens += usage.promptTokens;
    total.completionTokens += usage.completionTokens;
  }
  return total;
}

function scaleOf(score: CandidateScore): string {
  return 'distribution' in score ? `${score.score.toFixed(2)}/10` : `${score.score.toFixed(2)}/5`;
}

function rationaleOf(score: CandidateScore): string | null {
  return 'distribution' in score ? score.rationale : score.justification;
}

export class ScoredPairJudge {
  readonly #options: ScoredPairJudgeOptions;

  constructor(options: ScoredPairJudgeOptions) {
    this.#options = options;
  }

  get kind(): ScoreKind {
    return this.#options.scorer.kind;
  }

  /** Everything besides the input that changes the answer; part of the cache key (differs from pairwise's and between kinds). */
  identity(): Record<string, unknown> {
    const { scorer, clamp, tieMargin } = this.#options;
    return { judge: scorer.kind, pairRule, scorer: scorer.judge.identity(), clamp, tieMargin };
  }

  /**
   * Both candidates are scored concurrently with the pair's id, so they share the principle drawn and the sampling
   * seeds (common random numbers: the difference reflects the responses, not the draw).
   */
  async judge(input: PairwiseInput, signal?: AbortSignal): Promise<ScoredPairResult> {
    signal?.throwIfAborted(); // an interrupt, not a failure: nothing is sent and nothing partial is recorded
    const siblings = new FanoutAbortController(); // an unexpected error in one candidate stops the other
    const unsubscribe = onAbort(signal, () => siblings.abort());
    try {
      const [a, b] = await Promise.all(input.candidates.map((response) => this.#score({ id: input.id, conversation: input.conversation, response, ...(input.reference !== undefined ? { reference: input.reference } : {}) }, siblings.signal)));
      return this.#combine(a!, b!);
    } catch (error) {
      siblings.abort();
      throw error; // an interrupt (or a bug): nothing partial is recorded
    } finally {
      unsubscribe();
    }
  }

  #score(input: PointwiseInput, signal: AbortSignal): Promise<CandidateScoreResult> {
    const scorer = this.#options.scorer;
    return scorer.kind === 'pointwise' ? scorer.judge.judge(input, signal) : scorer.judge.judge(input, signal);
  }

  #combine(a: CandidateScoreResult, b: CandidateScoreResult): ScoredPairResult {
    const judge = this.#options.scorer.kind;
    const usage = addUsage(a.usage, b.usage);
    if (a.kind !== 'ok' || b.kind !== 'ok') {
      const failed = a.kind !== 'ok' ? a : (b as JudgmentFailure);
      const candidate = a.kind !== 'ok' && b.kind !== 'ok' ? 'both' : a.kind !== 'ok' ? 'A' : 'B';
      const detail = [a, b].flatMap((result, index) => (result.kind === 'ok' ? [] : [`candidate ${index === 0 ? 'A' : 'B'}: ${result.detail}`])).join('; ');
      return { kind: 'invalid', judge, reason: failed.reason, raw: failed.raw, detail, usage, candidate, scores: { A: a, B: b } };
    }
    const mean = probabilityFirstHigher(scoreDistributionOf(a), scoreDistributionOf(b));
    const preferred = Math.abs(mean - 0.5) <= this.#options.tieMargin ? 'tie' : mean > 0.5 ? 'A' : 'B';
    const rationales = [a, b].map(rationaleOf);
    const rationale = rationales.every((text) => text === null) ? null : `Response A (${scaleOf(a)}): ${rationales[0] ?? ''}\n\nResponse B (${scaleOf(b)}): ${rationales[1] ?? ''}`;
    return {
      kind: 'ok',
      judge,
      preferred,
      probability: clampProbability(mean, this.#options.clamp),
      rationale,
      principles: 'principle' in a ? [a.principle] : [],
      scores: { A: a, B: b },
      usage,
    };
  }
}

/**
 * A pair compared from two ratings as a pairwise result (for callers that take PairwiseResult, e.g. a run's labeler):
 * P(A) and the preference from the two score distributions, both rationales, the principle; no presentation orders
 * (neither response was shown beside the other). A failed rating fails the pair, with its reason and detail.
 */
export function pairwiseFromScores(result: ScoredPairResult): PairwiseResult {
  if (result.kind !== 'ok') return { kind: result.kind, reason: result.reason, raw: result.raw, detail: result.detail, usage: result.usage };
  return { kind: 'ok', preferred: result.preferred, probability: result.probability, rationale: result.rationale, principles: result.principles, positions: [], usage: result.usage };
}
