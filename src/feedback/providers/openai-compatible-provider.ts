// ChatModelV1 over any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, llama.cpp server, Ollama, OpenAI).
// Leaves out retries (the request executor owns them; the client is built with maxRetries 0) and streaming.
// Asks for logprobs/top_logprobs so judges can read soft labels (Lee et al. 2023, arXiv 2309.00267).
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { z } from 'zod';
import { createNodeHttpFetch } from './node-http-fetch.ts';
import {
  ProviderError,
  parseRetryAfter,
  type ChatGenerateOptions,
  type ChatGenerateResult,
  type ChatModelV1,
  type GeneratedToken,
} from '../chat-model-v1.ts';

export interface OpenAICompatibleOptions {
  baseURL: string;
  model: string;
  apiKeyEnvironmentVariable?: string; // name of the variable holding the key; the key itself never enters a record
  environment?: Record<string, string | undefined>; // defaults to process.env
  defaultTimeoutMs?: number;
  transport?: 'node-http' | 'global-fetch'; // node-http (default): keep-alive node:http agent, cheaper per request
}

// Loose, minimal wire schemas: only what a judge reads; anything else the server sends is ignored.
const alternativeSchema = z.object({ token: z.string(), logprob: z.number() });
const tokenSchema = alternativeSchema.extend({ top_logprobs: z.array(alternativeSchema).nullish() });
const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }).nullish(),
        logprobs: z.object({ content: z.array(tokenSchema).nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
});

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

export class OpenAICompatibleProvider implements ChatModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai-compatible';
  readonly modelId: string;
  readonly supportsLogprobs = true;
  readonly baseURL: string; // redacted
  readonly #client: OpenAI;
  readonly #defaultTimeoutMs: number;

  constructor(options: OpenAICompatibleOptions) {
    const environment = options.environment ?? process.env;
    const variable = options.apiKeyEnvironmentVariable ?? 'OPENAI_API_KEY';
    this.modelId = options.model;
    this.baseURL = redactUrl(options.baseURL);
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
    // Local servers accept any key; 'no-key' keeps the client from refusing to start.
    this.#client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: environment[variable] || 'no-key',
      maxRetries: 0,
      ...(options.transport === 'global-fetch' ? {} : { fetch: createNodeHttpFetch() }),
    });
  }

  toJSON(): Record<string, string> {
    return { provider: this.provider, model: this.modelId, baseURL: this.baseURL };
  }

  async doGenerate(options: ChatGenerateOptions): Promise<ChatGenerateResult> {
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onOuterAbort = (): void => controller.abort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const wantsLogprobs = (options.topLogprobs ?? 0) > 0;
    try {
      const response = await this.#client.chat.completions
        .create(
          {
            model: this.modelId,
            messages: options.messages,
            max_tokens: options.maxTokens,
            temperature: options.temperature,
            seed: options.seed,
            n: options.n ?? 1,
            ...(wantsLogprobs ? { logprobs: true, top_logprobs: options.topLogprobs } : {}),
          },
          { signal: controller.signal, timeout: timeoutMs, maxRetries: 0 },
        )
        .asResponse();
      let body: string;
      try {
        body = await response.text();
      } catch (error) {
        throw timedOut ? new ProviderError('timeout', `no complete response within ${timeoutMs} ms`) : new ProviderError('connection', `response body failed: ${(error as Error).message}`);
      }
      return parseCompletion(body);
    } catch (error) {
      throw toProviderError(error, timedOut, timeoutMs);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

function parseCompletion(body: string): ChatGenerateResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ProviderError('bad-response', `response is not JSON (${body.length} chars, starts ${JSON.stringify(body.slice(0, 40))})`);
  }
  const parsed = completionSchema.safeParse(json);
  if (!parsed.success) throw new ProviderError('bad-response', `response does not match chat-completion shape: ${parsed.error.issues[0]?.message ?? ''}`);
  return {
    choices: parsed.data.choices.map((choice) => ({
      text: choice.message?.content ?? '',
      tokens: choice.logprobs?.content
        ? choice.logprobs.content.map((token): GeneratedToken => ({ token: token.token, logprob: token.logprob, topLogprobs: token.top_logprobs ?? [] }))
        : null,
      finishReason: choice.finish_reason ?? null,
    })),
    usage: { promptTokens: parsed.data.usage?.prompt_tokens ?? 0, completionTokens: parsed.data.usage?.completion_tokens ?? 0 },
  };
}

function toProviderError(error: unknown, timedOut: boolean, timeoutMs: number): ProviderError {
  if (error instanceof ProviderError) return error;
  if (timedOut || error instanceof APIConnectionTimeoutError) return new ProviderError('timeout', `no response within ${timeoutMs} ms`);
  if (error instanceof APIUserAbortError) return new ProviderError('client-error', 'request aborted by caller');
  if (error instanceof APIError && typeof error.status === 'number') {
    const retryAfterMs = parseRetryAfter(error.headers ?? undefined);
    const status = error.status;
    if (status === 429) return new ProviderError('rate-limited', `HTTP 429`, { status, retryAfterMs });
    if (status >= 500 || status === 408 || status === 409) return new ProviderError('server-error', `HTTP ${status}`, { status, retryAfterMs });
    return new ProviderError('client-error', `HTTP ${status}: ${String(error.message).slice(0, 200)}`, { status });
  }
  if (error instanceof APIError) return new ProviderError('connection', `connection failed: ${error.message}`);
  return new ProviderError('connection', `request failed: ${(error as Error)?.message ?? String(error)}`);
}
