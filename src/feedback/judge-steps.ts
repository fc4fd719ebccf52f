// The two steps every chain-of-thought judge shares: sample a rationale, then ask for the verdict separately and read
// its soft label from verdict-token logprobs, or from sampled votes when the provider gives none; parse retries bounded.
// Judges without chain-of-thought run the verdict step alone.
// Follows Lee et al. 2023 (arXiv 2309.00267), section 2.1 ("two-step" CoT and soft labels). Leaves out self-consistency.
import { ProviderError, type ChatMessage, type GeneratedToken } from './chat-model-v1.ts';
import type { FailureReason, JudgmentFailure, JudgmentUsage, LabelSource } from './judgment-types.ts';
import type { PromptTemplate } from './prompt-template.ts';
import type { RequestExecutor } from './request-executor.ts';
import { hashToUnit } from './stable-hash.ts';
import { countVotes, verdictDistribution } from './verdict-parsing.ts';

export interface StepOptions {
  rationaleMaxTokens: number;
  rationaleTemperature: number;
  verdictMaxTokens: number;
  topLogprobs: number;
  votes: number; // samples when falling back to votes
  voteTemperature: number;
  maxParseAttempts: number; // verdict attempts before a typed 'unparseable-verdict' failure
}

export const defaultStepOptions: StepOptions = {
  rationaleMaxTokens: 512,
  rationaleTemperature: 0,
  verdictMaxTokens: 2,
  topLogprobs: 5,
  votes: 5,
  voteTemperature: 1,
  maxParseAttempts: 3,
};

/** Thrown inside a judge to end it as a typed failure. */
export class JudgeFailureError extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly raw: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * A two-step judge needs a template with a 'verdictRequest' (asked after the rationale); a direct one needs the
 * '-direct' variant, whose context ends by asking for the verdict. Anything else is an error naming the file.
 */
export function checkTemplateMode(template: PromptTemplate, judge: 'pairwise' | 'pointwise', chainOfThought: boolean): void {
  const direct = `${judge}-direct`;
  if (chainOfThought) {
    if (template.name === direct) throw new Error(`${template.path}: '${direct}' asks for the verdict directly; use the '${judge}' template for chain-of-thought judging`);
    if (!template.verdictRequest) throw new Error(`${template.path}: field 'verdictRequest' is required for ${judge} judging`);
  } else if (template.name !== direct) {
    throw new Error(`${template.path}: judging without chain-of-thought needs the '${direct}' template, got '${template.name}'`);
  }
}

/** A 31-bit seed determined by the run seed and a label naming the call. */
export function deriveSeed(seed: number, label: string): number {
  return Math.floor(hashToUnit(`${seed}|${label}`) * 2 ** 31);
}

/** Map what went wrong to a typed failure; an abort by the caller is rethrown so nothing partial is recorded. */
export function toFailure(error: unknown, usage: JudgmentUsage, signal?: AbortSignal): JudgmentFailure {
  if (signal?.aborted) throw error;
  if (error instanceof JudgeFailureError) return { kind: 'invalid', reason: error.reason, raw: error.raw, detail: error.message, usage };
  if (error instanceof ProviderError) return { kind: 'invalid', reason: 'provider-error', raw: '', detail: `${error.kind}: ${error.message}`, usage };
  throw error;
}

export async function rationaleStep(
  executor: RequestExecutor,
  messages: ChatMessage[],
  options: StepOptions,
  seed: number,
  usage: JudgmentUsage,
  signal?: AbortSignal,
): Promise<string> {
  let last = '';
  for (let attempt = 0; attempt < options.maxParseAttempts; attempt++) {
    const result = await executor.generate(
      { messages, maxTokens: options.rationaleMaxTokens, temperature: options.rationaleTemperature, seed: seed + attempt, signal },
      usage,
    );
    last = result.choices[0]?.text ?? '';
    if (last.trim() !== '') return last.trim();
  }
  throw new JudgeFailureError('empty-response', last, `rationale empty after ${options.maxParseAttempts} attempts`);
}

export interface VerdictReading {
  distribution: number[]; // (options,) probabilities summing to 1
  labelSource: LabelSource;
  votes: number[] | null; // (options,) when from votes
  raw: string;
}

export async function verdictStep(
  executor: RequestExecutor,
  messages: ChatMessage[],
  verdictOptions: string[],
  options: StepOptions,
  seed: number,
  usage: JudgmentUsage,
  signal?: AbortSignal,
  readLogprobs: (tokens: GeneratedToken[], options: string[]) => number[] | null = verdictDistribution, // e.g. scoreDistribution
): Promise<VerdictReading> {
  let lastRaw = '';
  for (let attempt = 0; attempt < options.maxParseAttempts; attempt++) {
    const attemptSeed = seed + 1000 * attempt;
    if (executor.model.supportsLogprobs) {
      const result = await executor.generate(
        { messages, maxTokens: options.verdictMaxTokens, temperature: 0, seed: attemptSeed, topLogprobs: options.topLogprobs, signal },
        usage,
      );
      const choice = result.choices[0];
      lastRaw = choice?.text ?? '';
      if (choice?.tokens) {
        const distribution = readLogprobs(choice.tokens, verdictOptions);
        if (distribution) return { distribution, labelSource: 'logprobs', votes: null, raw: lastRaw };
        continue; // logprobs came back but name no verdict: nonsense, try again
      }
      // The provider returned no logprobs despite being asked: fall through to votes.
    }
    const sampled = await executor.generate(
      { messages, maxTokens: options.verdictMaxTokens, temperature: options.voteTemperature, seed: attemptSeed, n: options.votes, signal },
      usage,
    );
    lastRaw = sampled.choices.map((choice) => choice.text).join(' | ');
    const { counts } = countVotes(sampled.choices, verdictOptions);
    const total = counts.reduce((sum, value) => sum + value, 0);
    if (total > 0) return { distribution: counts.map((value) => value / total), labelSource: 'votes', votes: counts, raw: lastRaw };
  }
  throw new JudgeFailureError('unparseable-verdict', lastRaw, `no verdict among [${verdictOptions.join(', ')}] after ${options.maxParseAttempts} attempts`);
}
