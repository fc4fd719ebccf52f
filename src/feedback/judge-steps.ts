// The two steps every chain-of-thought judge shares: sample a rationale, then ask for the verdict separately and read
// its soft label from verdict-token logprobs, or from sampled votes when the provider gives none; parse retries bounded.
// Judges without chain-of-thought run the verdict step alone.
// Follows Lee et al. 2023 (arXiv 2309.00267), section 2.1 ("two-step" CoT and soft labels). Leaves out self-consistency.
import { ProviderError, type ChatMessage, type GeneratedToken } from './chat-model-v1.ts';
import type { FailureReason, JudgmentFailure, JudgmentUsage, LabelSource } from './judgment-types.ts';
import type { PromptTemplate } from './prompt-template.ts';
import type { RequestExecutor } from './request-executor.ts';
import { deriveSeed } from '../engine/random.ts';
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

/** Map what went wrong to a typed failure; an abort by the caller is rethrown so nothing partial is recorded. */
export function toFailure(error: unknown, usage: JudgmentUsage, signal?: AbortSignal): JudgmentFailure {
  if (signal?.aborted) throw error;
  if (error instanceof JudgeFailureError) return { kind: 'invalid', reason: error.reason, raw: error.raw, detail: error.message, usage };
  if (error instanceof ProviderError) return { kind: 'invalid', reason: 'provider-error', raw: '', detail: `${error.kind}: ${error.message}`, usage };
  throw error;
}

/** One rationale request, retried on empty text; attempt k samples with deriveSeed(seed, `rationale|k`). */
export interface RationaleStepOptions {
  executor: RequestExecutor;
  messages: ChatMessage[];
  steps: StepOptions;
  seed: number; // the judgment's seed (one per pair, principle and order); each request derives its own from it
  usage: JudgmentUsage; // requests and tokens are added here
  signal?: AbortSignal;
}

export async function rationaleStep(options: RationaleStepOptions): Promise<string> {
  const { executor, messages, steps, seed, usage, signal } = options;
  let last = '';
  for (let attempt = 0; attempt < steps.maxParseAttempts; attempt++) {
    const result = await executor.generate(
      { messages, maxTokens: steps.rationaleMaxTokens, temperature: steps.rationaleTemperature, seed: deriveSeed(seed, `rationale|${attempt}`), signal },
      usage,
    );
    last = result.choices[0]?.text ?? '';
    if (last.trim() !== '') return last.trim();
  }
  throw new JudgeFailureError('empty-response', last, `rationale empty after ${steps.maxParseAttempts} attempts`);
}

export interface VerdictReading {
  distribution: number[]; // (options,) probabilities summing to 1
  labelSource: LabelSource;
  votes: number[] | null; // (options,) when from votes
  raw: string;
}

/** The verdict request: attempt k reads logprobs with deriveSeed(seed, `verdict|k`), votes with `votes|k`. */
export interface VerdictStepOptions {
  executor: RequestExecutor;
  messages: ChatMessage[];
  verdictOptions: string[]; // the verdict tokens, e.g. ['1', '2'] or the scores '1'..'10'
  steps: StepOptions;
  seed: number; // the judgment's seed, the same one its rationale step got: the labels keep them apart
  usage: JudgmentUsage;
  signal?: AbortSignal;
  readLogprobs?: (tokens: GeneratedToken[], options: string[]) => number[] | null; // default verdictDistribution; e.g. scoreDistribution
}

export async function verdictStep(options: VerdictStepOptions): Promise<VerdictReading> {
  const { executor, messages, verdictOptions, steps, seed, usage, signal, readLogprobs = verdictDistribution } = options;
  let lastRaw = '';
  for (let attempt = 0; attempt < steps.maxParseAttempts; attempt++) {
    if (executor.model.supportsLogprobs) {
      const result = await executor.generate(
        { messages, maxTokens: steps.verdictMaxTokens, temperature: 0, seed: deriveSeed(seed, `verdict|${attempt}`), topLogprobs: steps.topLogprobs, signal },
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
      { messages, maxTokens: steps.verdictMaxTokens, temperature: steps.voteTemperature, seed: deriveSeed(seed, `votes|${attempt}`), n: steps.votes, signal },
      usage,
    );
    lastRaw = sampled.choices.map((choice) => choice.text).join(' | ');
    const { counts } = countVotes(sampled.choices, verdictOptions);
    const total = counts.reduce((sum, value) => sum + value, 0);
    if (total > 0) return { distribution: counts.map((value) => value / total), labelSource: 'votes', votes: counts, raw: lastRaw };
  }
  throw new JudgeFailureError('unparseable-verdict', lastRaw, `no verdict among [${verdictOptions.join(', ')}] after ${steps.maxParseAttempts} attempts`);
}
