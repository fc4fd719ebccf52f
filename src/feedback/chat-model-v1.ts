// The versioned provider interface every labeler model sits behind: one `doGenerate` call, one options object.
// Leaves out streaming, tools and images: judges need text, per-token logprobs and top_logprobs only.
// Shape follows the Vercel AI SDK's LanguageModelV1 seam; logprob use follows Lee et al. 2023 (arXiv 2309.00267).

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TokenAlternative {
  token: string;
  logprob: number; // natural log of the probability
}

export interface GeneratedToken {
  token: string;
  logprob: number;
  topLogprobs: TokenAlternative[]; // (K,) most likely alternatives at this position, best first
}

export interface ChatGenerateOptions {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  seed: number; // every sampling call takes a seed
  n?: number; // completions sampled (default 1)
  topLogprobs?: number; // 0 or absent: no logprobs asked for
  timeoutMs?: number; // per-request limit; the provider aborts after it
  signal?: AbortSignal;
}

export interface ChatChoice {
  text: string;
  tokens: GeneratedToken[] | null; // (T,) null when the provider gives no logprobs
  finishReason: string | null;
}

export interface ChatUsage {
  promptTokens: number;
  completionTokens: number;
}

/**
 * A setting the provider could not honour, returned with the result instead of a silent fallback (the AI SDK's
 * `warnings`): e.g. logprobs asked for and none came back, fewer choices than `n`, a prompt cut to fit the context.
 */
export interface ChatWarning {
  type: 'unsupported-setting';
  setting: 'topLogprobs' | 'n' | 'maxTokens' | 'messages';
  details: string;
}

export interface ChatGenerateResult {
  choices: ChatChoice[]; // (n,)
  usage: ChatUsage;
  warnings?: ChatWarning[]; // absent or empty: every setting was honoured
}

export interface ChatModelV1 {
  readonly specificationVersion: 'v1';
  readonly provider: string; // e.g. 'openai-compatible', 'in-process'
  readonly modelId: string;
  readonly supportsLogprobs: boolean;
  doGenerate(options: ChatGenerateOptions): Promise<ChatGenerateResult>;
}

export type ProviderErrorKind = 'rate-limited' | 'server-error' | 'timeout' | 'connection' | 'bad-response' | 'client-error';

/** A typed failure from a provider. `retryable` decides the executor's behaviour; `retryAfterMs` honours Retry-After. */
export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  constructor(kind: ProviderErrorKind, message: string, options: { status?: number | null; retryAfterMs?: number | null } = {}) {
    super(message);
    this.name = 'ProviderError';
    this.kind = kind;
    this.status = options.status ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
  get retryable(): boolean {
    return this.kind !== 'client-error';
  }
}

/** Parse Retry-After (seconds or HTTP date) and OpenAI's retry-after-ms into milliseconds. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | null {
  if (!headers) return null;
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && milliseconds.trim() !== '' && Number.isFinite(Number(milliseconds))) return Math.max(0, Number(milliseconds));
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - now) : null;
}
