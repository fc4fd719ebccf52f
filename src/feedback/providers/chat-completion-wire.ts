// The OpenAI chat-completions wire format both OpenAI-compatible providers share: the request body a judge sends and a
// hand-written, loose check of what comes back (only the fields judges read; anything else is ignored).
// Leaves out streaming, tools and images. Logprob fields as used by Lee et al. 2023 (arXiv 2309.00267).
import { ProviderError, type ChatGenerateOptions, type ChatGenerateResult, type GeneratedToken, type TokenAlternative } from '../chat-model-v1.ts';

/** Where an OpenAI-compatible endpoint is and how to authenticate: the options both providers take. */
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

// Messages a caller froze cannot change, so their JSON is kept and reused: judges send the same system prompt, context
// and verdict request in many requests (the context twice per order under chain-of-thought).
const frozenMessageJson = new WeakMap<ChatGenerateOptions['messages'][number], string>();

function messageJson(message: ChatGenerateOptions['messages'][number]): string {
  if (!Object.isFrozen(message)) return JSON.stringify(message);
  let json = frozenMessageJson.get(message);
  if (json === undefined) {
    json = JSON.stringify(message);
    frozenMessageJson.set(message, json);
  }
  return json;
}

/** JSON.stringify(chatCompletionBody(model, options)), byte for byte, reusing the JSON of frozen messages. */
export function chatCompletionJson(model: string, options: ChatGenerateOptions): string {
  let messages = '';
  for (const message of options.messages) messages += (messages === '' ? '' : ',') + messageJson(message);
  const logprobs = (options.topLogprobs ?? 0) > 0 ? `,"logprobs":true,"top_logprobs":${JSON.stringify(options.topLogprobs)}` : '';
  return `{"model":${JSON.stringify(model)},"messages":[${messages}],"max_tokens":${JSON.stringify(options.maxTokens)},"temperature":${JSON.stringify(options.temperature)},"seed":${JSON.stringify(options.seed)},"n":${JSON.stringify(options.n ?? 1)}${logprobs}}`;
}

// A plain validator instead of a zod schema: this runs once per request on the judging hot path, and it is small
// enough to read. Same looseness as the schema it replaced: null/absent optional fields are allowed.
type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const absent = (value: unknown): boolean => value === null || value === undefined;

function bad(message: string): ProviderError {
  return new ProviderError('bad-response', `response does not match chat-completion shape: ${message}`);
}

function readAlternative(value: unknown, where: string): TokenAlternative {
  if (!isObject(value) || typeof value.token !== 'string' || typeof value.logprob !== 'number') throw bad(`${where} needs a string token and a number logprob`);
  return { token: value.token, logprob: value.logprob };
}

function readTokens(logprobs: unknown, where: string): GeneratedToken[] | null {
  if (absent(logprobs)) return null;
  if (!isObject(logprobs)) throw bad(`${where}.logprobs is not an object`);
  const content = logprobs.content;
  if (absent(content)) return null;
  if (!Array.isArray(content)) throw bad(`${where}.logprobs.content is not an array`);
  return content.map((entry, index): GeneratedToken => {
    const token = readAlternative(entry, `${where}.logprobs.content[${index}]`);
    const top = (entry as Json).top_logprobs;
    if (!absent(top) && !Array.isArray(top)) throw bad(`${where}.logprobs.content[${index}].top_logprobs is not an array`);
    return { token: token.token, logprob: token.logprob, topLogprobs: Array.isArray(top) ? top.map((item, k) => readAlternative(item, `${where}.top_logprobs[${k}]`)) : [] };
  });
}

/** Parse a response body into a result, or throw a retryable 'bad-response' ProviderError (truncated or wrong shape). */
export function parseChatCompletion(body: string): ChatGenerateResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ProviderError('bad-response', `response is not JSON (${body.length} chars, starts ${JSON.stringify(body.slice(0, 40))})`);
  }
  if (!isObject(json) || !Array.isArray(json.choices) || json.choices.length === 0) throw bad('choices must be a non-empty array');
  const choices = json.choices.map((choice: unknown, index: number) => {
    const where = `choices[${index}]`;
    if (!isObject(choice)) throw bad(`${where} is not an object`);
    const message = choice.message;
    if (!absent(message) && !isObject(message)) throw bad(`${where}.message is not an object`);
    const content = isObject(message) ? message.content : null;
    if (!absent(content) && typeof content !== 'string') throw bad(`${where}.message.content is not a string`);
    const finish = choice.finish_reason;
    if (!absent(finish) && typeof finish !== 'string') throw bad(`${where}.finish_reason is not a string`);
    return { text: (content as string | null | undefined) ?? '', tokens: readTokens(choice.logprobs, where), finishReason: (finish as string | null | undefined) ?? null };
  });
  const usage = json.usage;
  if (!absent(usage) && !isObject(usage)) throw bad('usage is not an object');
  const count = (value: unknown): number => (typeof value === 'number' ? value : 0);
  return { choices, usage: { promptTokens: count(isObject(usage) ? usage.prompt_tokens : 0), completionTokens: count(isObject(usage) ? usage.completion_tokens : 0) } };
}

/** Remove credentials that a user may have put into a URL, so the URL can go into records and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) if (/key|token|secret/i.test(key)) parsed.searchParams.set(key, 'REDACTED');
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '<unparseable url>';
  }
}

/** Map an HTTP error status to a typed ProviderError (429 and 5xx retryable, Retry-After kept). */
export function statusError(status: number, retryAfterMs: number | null, message: string): ProviderError {
  if (status === 429) return new ProviderError('rate-limited', 'HTTP 429', { status, retryAfterMs });
  if (status >= 500 || status === 408 || status === 409) return new ProviderError('server-error', `HTTP ${status}`, { status, retryAfterMs });
  return new ProviderError('client-error', `HTTP ${status}: ${message.slice(0, 200)}`, { status });
}
