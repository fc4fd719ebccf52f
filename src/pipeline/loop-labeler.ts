// The labeler a run asks for feedback: the existing PairwiseJudge and PointwiseJudge over one request executor (an
// in-process model or an OpenAI-compatible endpoint), with each prompt's own principles as the constitution it is
// judged under. An optional, loudly named exploit (for the reward-hacking demonstration only) mixes a preference for
// the longer response into every judgment. Critique → revision (Constitutional AI, arXiv 2212.08073 §3.1) through the
// feedback layer's CritiqueReviser on the same executor. Leaves out rubric judges. Lee et al. 2023 (arXiv 2309.00267).
import type { Constitution, Principle } from '../feedback/constitution.ts';
import { CritiqueReviser } from '../feedback/critique-revision.ts';
import type { CritiqueRevisionResult, PairwiseInput, PairwiseResult, PointwiseInput, PointwiseResult } from '../feedback/judgment-types.ts';
import { loadTemplate, type PromptTemplate } from '../feedback/prompt-template.ts';
import { PairwiseJudge } from '../feedback/pairwise-judge.ts';
import { PointwiseJudge } from '../feedback/pointwise-judge.ts';
import type { RequestExecutor } from '../feedback/request-executor.ts';

/** Where a judgment is asked from (a queued job's id is made of it). */
export interface JudgmentPlace { round: number; stage: string }

/** A response to critique and revise, with the labeler's generation settings (a critique-revision round's). */
export interface RevisionInput extends PointwiseInput {
  maxTokens: number;       // per critique and per revision
  temperature: number;
}

export interface LoopLabeler {
  readonly model: string;            // recorded with every judgment
  readonly templateVersion: string;
  /** Judgments a stage may have in flight at once (absent: 1, one after another; a queue: many). */
  readonly parallelism?: number;
  /** P(candidate A preferred), both orders, under the prompt's principles (all of the constitution's when none given). */
  pairwise(input: PairwiseInput, principleIds: readonly string[], place?: JudgmentPlace): Promise<PairwiseResult>;
  pointwise(input: PointwiseInput, principleIds: readonly string[], place?: JudgmentPlace): Promise<PointwiseResult>;
  /** The critique-revision template's version `revise` uses, recorded with each revision (absent: the shipped one's). */
  readonly reviseTemplateVersion?: string;
  /** A critique of the response against one principle drawn from the prompt's, then a revision; absent: cannot revise. */
  revise?(input: RevisionInput, principleIds: readonly string[], place?: JudgmentPlace): Promise<CritiqueRevisionResult>;
}

/**
 * Critique → revision over `executor` with the shipped critique-revision template; `constitutionFor` gives the
 * principles a prompt names (each needs its critique and revision requests). One reviser per settings and principles.
 */
export function reviserOver(executor: RequestExecutor, constitutionFor: (ids: readonly string[]) => Constitution, seed: number, template: PromptTemplate = loadTemplate('critique-revision')): NonNullable<LoopLabeler['revise']> {
  const revisers = new Map<string, CritiqueReviser>();
  return async (input, ids) => {
    const key = JSON.stringify([[...ids].sort(), input.maxTokens, input.temperature]);
    let reviser = revisers.get(key);
    if (!reviser) revisers.set(key, reviser = new CritiqueReviser(executor, { template, constitution: constitutionFor(ids), maxTokens: input.maxTokens, temperature: input.temperature, seed }));
    const { maxTokens: _m, temperature: _t, ...pointwise } = input;
    return reviser.revise(pointwise);
  };
}

export interface JudgeLabelerOptions {
  executor: RequestExecutor;
  constitution: Constitution;
  principleMode: 'sample-one' | 'aggregate-all';
  chainOfThought: boolean;
  seed: number;
}

/** The feedback layer's judges behind the LoopLabeler interface, one judge per distinct principle set. */
export function judgeLabeler(options: JudgeLabelerOptions): LoopLabeler {
  const pairwise = new Map<string, PairwiseJudge>(), pointwise = new Map<string, PointwiseJudge>();
  const constitutionFor = (ids: readonly string[]): Constitution => {
    const chosen = ids.length === 0 ? options.constitution.principles
      : ids.map((id) => options.constitution.principles.find((p) => p.id === id)).filter((p): p is Principle => p !== undefined);
    if (chosen.length === 0) throw new Error(`labeler: none of the principles ${ids.join(', ')} is in constitution ${options.constitution.name}`);
    return { ...options.constitution, principles: chosen };
  };
  const key = (ids: readonly string[]) => [...ids].sort().join(',');
  const settings = { principleMode: options.principleMode, chainOfThought: options.chainOfThought, seed: options.seed };
  const probe = new PairwiseJudge(options.executor, { ...settings, constitution: options.constitution }).identity();
  return {
    model: `${probe.provider}:${probe.model}`,
    templateVersion: String(probe.templateVersion),
    async pairwise(input, ids) {
      let judge = pairwise.get(key(ids));
      if (!judge) pairwise.set(key(ids), judge = new PairwiseJudge(options.executor, { ...settings, constitution: constitutionFor(ids) }));
      return judge.judge(input);
    },
    async pointwise(input, ids) {
      let judge = pointwise.get(key(ids)); // one principle drawn per score from the prompt's own
      if (!judge) pointwise.set(key(ids), judge = new PointwiseJudge(options.executor, { ...settings, principleMode: 'sample-one', constitution: constitutionFor(ids) }));
      return judge.judge(input);
    },
    revise: reviserOver(options.executor, constitutionFor, options.seed),
  };
}

/**
 * Demonstration only (examples/reward-hacking.yaml): a labeler made exploitable by mixing a taste for length into
 * every pairwise judgment, P(A) ← (1 − w)·P(A) + w·[A longer than B]; its model name says so in every record.
 */
export function lengthBiased(labeler: LoopLabeler, weight: number): LoopLabeler {
  if (weight === 0) return labeler;
  return {
    model: `${labeler.model}+prefer-longer(${weight})`,
    templateVersion: labeler.templateVersion,
    parallelism: labeler.parallelism,
    async pairwise(input, ids, place) {
      const result = await labeler.pairwise(input, ids, place);
      if (result.kind !== 'ok') return result;
      const [a, b] = input.candidates, longer = a.length > b.length ? 1 : a.length < b.length ? 0 : 0.5;
      const probability = (1 - weight) * result.probability + weight * longer;
      return { ...result, probability, preferred: probability > 0.5 ? 'A' : probability < 0.5 ? 'B' : 'tie' };
    },
    pointwise: (input, ids, place) => labeler.pointwise(input, ids, place),
    ...labeler.revise && { revise: labeler.revise.bind(labeler) },
    ...labeler.reviseTemplateVersion !== undefined && { reviseTemplateVersion: labeler.reviseTemplateVersion },
  };
}
