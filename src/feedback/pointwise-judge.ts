// Pointwise score judge for direct RLAIF: rationale, then a 1-10 rating read as the probability-weighted mean over the
// score tokens (or votes), rescaled to [-1, 1] as a reward; "10" is read whole or split as "1","0" (scoreDistribution).
// chainOfThought false asks for the score directly (the pointwise-direct template, one request).
// Follows Lee et al. 2023 (arXiv 2309.00267), section 2.2 (direct RLAIF).
import type { ChatMessage } from './chat-model-v1.ts';
import { selectPrinciples, type PrincipleMode } from './constitution.ts';
import { deriveSeed } from '../engine/random.ts';
import { checkTemplateMode, rationaleStep, toFailure, verdictStep } from './judge-steps.ts';
import { emptyUsage, renderConversation, type PointwiseInput, type PointwiseResult } from './judgment-types.ts';
import { renderTemplate } from './prompt-template.ts';
import { judgeIdentity, withJudgeDefaults, type JudgeOptions } from './judge-options.ts';
import type { RequestExecutor } from './request-executor.ts';
import { scoreDistribution } from './verdict-parsing.ts';

export interface PointwiseJudgeOptions extends JudgeOptions {
  principleMode: Extract<PrincipleMode, 'sample-one'>; // one principle per score
}

/** Defaults for whatever a caller leaves out: the shipped template ('-direct' without chain-of-thought) and
 * constitution, one principle sampled per score, the default step options, seed 0. */
export function pointwiseJudgeOptions(options: Partial<PointwiseJudgeOptions> = {}): PointwiseJudgeOptions {
  return withJudgeDefaults<PointwiseJudgeOptions>('pointwise', { principleMode: 'sample-one' }, options);
}

const scoreTokens = Array.from({ length: 10 }, (_, index) => String(index + 1));

/** Expected score on 1..10 mapped linearly onto [-1, 1]. */
export function scoreToReward(score: number): number {
  return (score - 5.5) / 4.5;
}

export class PointwiseJudge {
  readonly #executor: RequestExecutor;
  readonly #options: PointwiseJudgeOptions;
  readonly #chainOfThought: boolean;

  constructor(executor: RequestExecutor, settings: Partial<PointwiseJudgeOptions> = {}) {
    const options = pointwiseJudgeOptions(settings);
    this.#chainOfThought = options.chainOfThought ?? true;
    checkTemplateMode(options.template, 'pointwise', this.#chainOfThought);
    this.#executor = executor;
    this.#options = options;
  }

  /** Everything besides the input that changes the answer; part of the cache key. */
  identity(): Record<string, unknown> {
    return judgeIdentity('pointwise', this.#executor.model, this.#options, false);
  }

  async judge(input: PointwiseInput, signal?: AbortSignal): Promise<PointwiseResult> {
    const usage = emptyUsage();
    try {
      const principle = selectPrinciples(this.#options.constitution, 'sample-one', input.id, this.#options.seed)[0]!;
      const template = this.#options.template;
      const reference = input.reference ? `\n\n${template.referenceLabel}: ${input.reference}` : '';
      const messages: ChatMessage[] = [
        { role: 'system', content: renderTemplate(template.preamble, { principle: principle.text }, template.path) },
        { role: 'user', content: renderTemplate(template.context, { conversation: renderConversation(input.conversation) + reference, response: input.response }, template.path) },
      ];
      const seed = deriveSeed(this.#options.seed, `${input.id}|${principle.id}|pointwise`);
      let rationale: string | null = null;
      let verdictMessages = messages; // without chain-of-thought the context itself asks for the score
      if (this.#chainOfThought) {
        rationale = await rationaleStep({ executor: this.#executor, messages, steps: this.#options.steps, seed, usage, signal });
        verdictMessages = [...messages, { role: 'assistant', content: rationale }, { role: 'user', content: template.verdictRequest! }];
      }
      const reading = await verdictStep({ executor: this.#executor, messages: verdictMessages, verdictOptions: scoreTokens, steps: this.#options.steps, seed, usage, signal, readLogprobs: scoreDistribution });
      const score = reading.distribution.reduce((sum, probability, index) => sum + probability * (index + 1), 0);
      return {
        kind: 'ok',
        score,
        reward: scoreToReward(score),
        distribution: reading.distribution,
        labelSource: reading.labelSource,
        rationale,
        principle: { id: principle.id, text: principle.text },
        usage,
      };
    } catch (error) {
      return toFailure(error, usage, signal);
    }
  }
}
