// ChatModelV1 over any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, llama.cpp server, Ollama, OpenAI).
// Leaves out retries (the request executor owns them; the client is built with maxRetries 0) and streaming.
// Asks for logprobs/top_logprobs so judges can read soft labels (Lee et al. 2023, arXiv 2309.00267).
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { chatCompletionBody, parseChatCompletion, redactUrl, statusError, type OpenAIEndpointOptions } from './chat-completion-wire.ts';
import { createNodeHttpFetch } from './node-http-fetch.ts';
import { OpenAIHttpProvider } from './openai-http-provider.ts';
import {
  ProviderError,
  parseRetryAfter,
  type ChatGenerateOptions,
  type ChatGenerateResult,
  type ChatModelV1,
} from '../chat-model-v1.ts';

export interface OpenAICompatibleOptions extends OpenAIEndpointOptions {
  transport?: 'node-http' | 'global-fetch'; // node-http (default): keep-alive node:http agent, cheaper per request
}

export { redactUrl };

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
    try {
      const response = await this.#client.chat.completions
        .create(
          chatCompletionBody(this.modelId, options),
          { signal: controller.signal, timeout: timeoutMs, maxRetries: 0 },
        )
        .asResponse();
      let body: string;
      try {
        body = await response.text();
      } catch (error) {
        throw timedOut ? new ProviderError('timeout', `no complete response within ${timeoutMs} ms`) : new ProviderError('connection', `response body failed: ${(error as Error).message}`);
      }
      return parseChatCompletion(body);
    } catch (error) {
      throw toProviderError(error, timedOut, timeoutMs);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

function toProviderError(error: unknown, timedOut: boolean, timeoutMs: number): ProviderError {
  if (error instanceof ProviderError) return error;
  if (timedOut || error instanceof APIConnectionTimeoutError) return new ProviderError('timeout', `no response within ${timeoutMs} ms`);
  if (error instanceof APIUserAbortError) return new ProviderError('client-error', 'request aborted by caller');
  if (error instanceof APIError && typeof error.status === 'number') {
    return statusError(error.status, parseRetryAfter(error.headers ?? undefined), String(error.message));
  }
  if (error instanceof APIError) return new ProviderError('connection', `connection failed: ${error.message}`);
  return new ProviderError('connection', `request failed: ${(error as Error)?.message ?? String(error)}`);
}

/**
 * The OpenAI-compatible provider a run uses: 'direct' (default) speaks the protocol on node:http with keep-alive
 * (openai-http-provider.ts, the cheap hot path); 'openai-sdk' goes through the `openai` package.
 */
export function createOpenAICompatibleProvider(options: OpenAICompatibleOptions & { client?: 'direct' | 'openai-sdk' }): ChatModelV1 {
  const { client = 'direct', transport, ...rest } = options;
  return client === 'openai-sdk' ? new OpenAICompatibleProvider({ ...rest, transport }) : new OpenAIHttpProvider(rest);
}
