// Additive 5-point rubric judge (LLM-as-a-Judge of Self-Rewarding Language Models, Yuan et al. 2024, arXiv 2401.10020):
// one sampled justification ending "Score: <points>", parsed; unparseable text is retried, then a typed failure.
// Leaves out averaging several sampled judgments (the paper samples 3 and averages; use `samples` > 1 here to do so).
import type { ChatMessage } from './chat-model-v1.ts';
import { deriveSeed, JudgeFailureError, toFailure } from './judge-steps.ts';
import { emptyUsage, renderConversation, type PointwiseInput, type RubricResult } from './judgment-types.ts';
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

  async judge(input: PointwiseInput, signal?: AbortSignal): Promise<RubricResult> {
    const usage = emptyUsage();
    try {
      const template = this.#options.template;
      const messages: ChatMessage[] = [
        { role: 'system', content: template.preamble },
        { role: 'user', content: renderTemplate(template.context, { conversation: renderConversation(input.conversation), response: input.response }, template.path) },
      ];
      const seed = deriveSeed(this.#options.seed, `${input.id}|rubric`);
      const scores: number[] = [];
      const justifications: string[] = [];
      let lastRaw = '';
      for (let attempt = 0; attempt < this.#options.maxParseAttempts && scores.length < this.#options.samples; attempt++) {
        const result = await this.#executor.generate(
          { messages, maxTokens: this.#options.maxTokens, temperature: this.#options.temperature, seed: seed + attempt, n: this.#options.samples - scores.length, signal },
          usage,
        );
        for (const choice of result.choices) {
          lastRaw = choice.text;
          const score = parseRubricScore(choice.text, 5);
          if (score !== null) {
            scores.push(score);
            justifications.push(choice.text.trim());
          }
        }
      }
      if (scores.length === 0) throw new JudgeFailureError('unparseable-verdict', lastRaw, `no "Score: <0-5>" after ${this.#options.maxParseAttempts} attempts`);
      return { kind: 'ok', score: scores.reduce((sum, value) => sum + value, 0) / scores.length, justification: justifications[0]!, usage };
    } catch (error) {
      return toFailure(error, usage, signal);
    }
  }
}
