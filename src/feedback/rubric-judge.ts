// Additive 5-point rubric judge (LLM-as-a-Judge of Self-Rewarding Language Models, Yuan et al. 2024, arXiv 2401.10020):
// sampled justifications ending "Score: <points>", parsed; unparseable text is retried, then a typed failure. With
// `samples` > 1 (the paper samples 3) the score is the mean and every sampled score and justification is kept.
import type { ChatMessage } from './chat-model-v1.ts';
import { deriveSeed } from '../engine/random.ts';
import { JudgeFailureError, toFailure } from './judge-steps.ts';
import { emptyUsage, renderConversation, type JudgmentFailure, type PointwiseInput, type RubricJudgment } from './judgment-types.ts';
import { renderTemplate, type PromptTemplate } from './prompt-template.ts';
import type { RequestExecutor } from './request-executor.ts';
import { parseRubricScore } from './verdict-parsing.ts';

export interface RubricJudgeOptions {
  template: PromptTemplate;
  maxTokens: number;
  temperature: number;
  samples: number; // parsed scores averaged
  maxParseAttempts: number;
  seed: number;
}

/** A rubric judgment with each sampled judgment kept: `score` is their mean, `justification` the first one's. */
export interface RubricSampledJudgment extends RubricJudgment {
  samples: Array<{ score: number; justification: string }>; // (parsed samples,) in the order sampled
}

export type RubricSampledResult = RubricSampledJudgment | JudgmentFailure;

export class RubricJudge {
  readonly #executor: RequestExecutor;
  readonly #options: RubricJudgeOptions;

  constructor(executor: RequestExecutor, options: RubricJudgeOptions) {
    this.#executor = executor;
    this.#options = options;
  }

  identity(): Record<string, unknown> {
    const { template, ...rest } = this.#options;
    return { judge: 'rubric', provider: this.#executor.model.provider, model: this.#executor.model.modelId, templateVersion: template.version, templateHash: template.contentHash, ...rest };
  }

  async judge(input: PointwiseInput, signal?: AbortSignal): Promise<RubricSampledResult> {
    const usage = emptyUsage();
    try {
      const template = this.#options.template;
      const messages: ChatMessage[] = [
        { role: 'system', content: template.preamble },
        { role: 'user', content: renderTemplate(template.context, { conversation: renderConversation(input.conversation), response: input.response }, template.path) },
      ];
      const seed = deriveSeed(this.#options.seed, `${input.id}|rubric`);
      const samples: RubricSampledJudgment['samples'] = [];
      let lastRaw = '';
      for (let attempt = 0; attempt < this.#options.maxParseAttempts && samples.length < this.#options.samples; attempt++) {
        const result = await this.#executor.generate(
          { messages, maxTokens: this.#options.maxTokens, temperature: this.#options.temperature, seed: deriveSeed(seed, `sample|${attempt}`), n: this.#options.samples - samples.length, signal },
          usage,
        );
        for (const choice of result.choices) {
          lastRaw = choice.text;
          const score = parseRubricScore(choice.text, 5);
          if (score !== null) samples.push({ score, justification: choice.text.trim() });
        }
      }
      if (samples.length === 0) throw new JudgeFailureError('unparseable-verdict', lastRaw, `no "Score: <0-5>" after ${this.#options.maxParseAttempts} attempts`);
      const score = samples.reduce((sum, sample) => sum + sample.score, 0) / samples.length;
      return { kind: 'ok', score, justification: samples[0]!.justification, samples, usage };
    } catch (error) {
      return toFailure(error, usage, signal);
    }
  }
}
