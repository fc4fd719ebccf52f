// The OpenAI chat-completions wire format: the request body a judge sends (JSON.stringify of a plain object) and a
// loose zod schema for what comes back (only the fields judges read; anything else is ignored, null or absent optional
// fields allowed). Settings the answer shows were not honoured become warnings. Leaves out streaming, tools and images.
// Logprob fields as used by Lee et al. 2023 (arXiv 2309.00267).
import { z } from 'zod';
import { ProviderError, type ChatGenerateOptions, type ChatGenerateResult, type ChatWarning } from '../chat-model-v1.ts';

/** Where an OpenAI-compatible endpoint is and how to authenticate. */
export interface OpenAIEndpointOptions {
  baseURL: string;
  model: string;
  apiKeyEnvironmentVariable?: string; // name of the variable holding the key; the key itself never enters a record
  environment?: Record<string, string | undefined>; // defaults to process.env
  defaultTimeoutMs?: number;
}

export interface ChatCompletionRequestBody {
  model: string;
  messages: ChatGenerateOptions['messages'];
  max_tokens: number;
  temperature: number;
  seed: number;
  n: number;
  logprobs?: true;
  top_logprobs?: number;
}

export function chatCompletionBody(model: string, options: ChatGenerateOptions): ChatCompletionRequestBody {
  const body: ChatCompletionRequestBody = { model, messages: options.messages, max_tokens: options.maxTokens, temperature: options.temperature, seed: options.seed, n: options.n ?? 1 };
  if ((options.topLogprobs ?? 0) > 0) {
    body.logprobs = true;
    body.top_logprobs = options.topLogprobs;
  }
  return body;
}

const alternativeSchema = z.looseObject({ token: z.string(), logprob: z.number() });
const choiceSchema = z.looseObject({
  message: z.looseObject({ content: z.string().nullish() }).nullish(),
  logprobs: z.looseObject({ content: z.array(alternativeSchema.extend({ top_logprobs: z.array(alternativeSchema).nullish() })).nullish() }).nullish(),
  finish_reason: z.string().nullish(),
});
/** What judges read of a chat completion; everything else a server sends is ignored. */
export const chatCompletionSchema = z.looseObject({
  choices: z.array(choiceSchema).min(1),
  usage: z.looseObject({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
});

type WireCompletion = z.infer<typeof chatCompletionSchema>;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNullish = (value: unknown): value is null | undefined => value === null || value === undefined;
// zod's z.number() refuses NaN and the infinities (JSON's 1e999 parses to Infinity): so does this.
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isAlternative = (value: unknown): boolean => isObject(value) && typeof value.token === 'string' && isNumber(value.logprob);

/**
 * chatCompletionSchema's check written out by hand, for the answers a judge reads by the hundred a second: true only
 * where the schema accepts (it tests every field the schema tests, no fewer), so a body it passes reads the same as
 * the schema's output; any other body goes through the schema, which names the field that is wrong.
 */
function isWireCompletion(json: unknown): json is WireCompletion {
  if (!isObject(json)) return false;
  const { choices, usage } = json;
  if (!Array.isArray(choices) || choices.length === 0) return false;
  for (const choice of choices as unknown[]) {
    if (!isObject(choice)) return false;
    const { message, logprobs, finish_reason: finishReason } = choice;
    if (!isNullish(message) && !(isObject(message) && (isNullish(message.content) || typeof message.content === 'string'))) return false;
    if (!isNullish(finishReason) && typeof finishReason !== 'string') return false;
    if (isNullish(logprobs)) continue;
    if (!isObject(logprobs)) return false;
    const content = logprobs.content;
    if (isNullish(content)) continue;
    if (!Array.isArray(content)) return false;
    for (const entry of content as unknown[]) {
      if (!isAlternative(entry)) return false;
      const top = (entry as Record<string, unknown>).top_logprobs;
      if (isNullish(top)) continue;
      if (!Array.isArray(top) || !(top as unknown[]).every(isAlternative)) return false;
    }
  }
  if (isNullish(usage)) return true;
  return isObject(usage) && (isNullish(usage.prompt_tokens) || isNumber(usage.prompt_tokens)) && (isNullish(usage.completion_tokens) || isNumber(usage.completion_tokens));
}

/** The wire completion as a result: choices' text, tokens (with their alternatives) and finish reasons, and usage. */
function completionResult(data: WireCompletion, request?: ChatGenerateOptions): ChatGenerateResult {
  const choices = data.choices.map((choice) => ({
    text: choice.message?.content ?? '',
    tokens: choice.logprobs?.content?.map((entry) => ({ token: entry.token, logprob: entry.logprob, topLogprobs: entry.top_logprobs?.map(({ token, logprob }) => ({ token, logprob })) ?? [] })) ?? null,
    finishReason: choice.finish_reason ?? null,
  }));
  const usage = { promptTokens: data.usage?.prompt_tokens ?? 0, completionTokens: data.usage?.completion_tokens ?? 0 };
  const warnings: ChatWarning[] = [];
  if (request && (request.topLogprobs ?? 0) > 0 && choices.some((choice) => choice.tokens === null)) {
    warnings.push({ type: 'unsupported-setting', setting: 'topLogprobs', details: `asked for top_logprobs ${request.topLogprobs}, the server returned no logprobs` });
  }
  if (request && choices.length < (request.n ?? 1)) warnings.push({ type: 'unsupported-setting', setting: 'n', details: `asked for n = ${request.n}, the server returned ${choices.length} choices` });
  return warnings.length > 0 ? { choices, usage, warnings } : { choices, usage };
}

/** Parse a JSON value with chatCompletionSchema alone: the reference parseChatCompletion's quick check must agree with. */
export function parseWithSchema(json: unknown, request?: ChatGenerateOptions): ChatGenerateResult {
  const parsed = chatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProviderError('bad-response', `response does not match chat-completion shape: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return completionResult(parsed.data, request);
}

/**
 * Parse a response body into a result, or throw a retryable 'bad-response' ProviderError (truncated or wrong shape).
 * `request`, when given, turns settings the answer did not honour (logprobs, n) into warnings.
 */
export function parseChatCompletion(body: string, request?: ChatGenerateOptions): ChatGenerateResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ProviderError('bad-response', `response is not JSON (${body.length} chars)`);
  }
  return isWireCompletion(json) ? completionResult(json, request) : parseWithSchema(json, request);
}

/** Map an HTTP error status to a typed ProviderError (429 and 5xx retryable, Retry-After kept). */
export function statusError(status: number, retryAfterMs: number | null, message: string): ProviderError {
  if (status === 429) return new ProviderError('rate-limited', 'HTTP 429', { status, retryAfterMs });
  if (status >= 500 || status === 408 || status === 409) return new ProviderError('server-error', `HTTP ${status}`, { status, retryAfterMs });
  return new ProviderError('client-error', `HTTP ${status}: ${message.slice(0, 200)}`, { status });
}
