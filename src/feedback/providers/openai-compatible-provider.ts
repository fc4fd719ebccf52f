// ChatModelV1 over any OpenAI-compatible chat-completions endpoint (vLLM, SGLang, llama.cpp server, Ollama, OpenAI,
// `rlaif serve`): the protocol on node:http(s) with a keep-alive agent, the body by JSON.stringify, the answer checked
// by a loose zod schema (chat-completion-wire.ts); logprobs asked for and missing, or fewer choices than n, come back as
// warnings. The key and URL credentials are redacted from every error message. Leaves out retries (the executor owns
// them), streaming, redirects and proxies. Logprob use follows Lee et al. 2023 (arXiv 2309.00267).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { onAbort } from '../abort-fanout.ts';
import { ProviderError, parseRetryAfter, type ChatGenerateOptions, type ChatGenerateResult, type ChatModelV1 } from '../chat-model-v1.ts';
import { createRedactor, redactUrl, urlSecrets } from '../secret-redaction.ts';
import { chatCompletionBody, parseChatCompletion, statusError, type OpenAIEndpointOptions } from './chat-completion-wire.ts';

export interface OpenAICompatibleOptions extends OpenAIEndpointOptions {
  maxSockets?: number; // keep-alive connections at most (default 256; the executor's concurrency bounds use)
}

function headerReader(headers: IncomingHttpHeaders): { get(name: string): string | null } {
  return { get: (name) => { const value = headers[name]; return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value; } };
}

export class OpenAICompatibleProvider implements ChatModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai-compatible';
  readonly modelId: string;
  readonly supportsLogprobs = true;
  readonly baseURL: string; // redacted
  /** Removes this endpoint's key and URL credentials from a text (error bodies may echo them). */
  readonly redact: (text: string) => string;
  readonly #secure: boolean;
  readonly #hostname: string;
  readonly #port: string;
  readonly #path: string;
  readonly #agent: HttpAgent;
  readonly #headers: OutgoingHttpHeaders; // the key lives here only, never in a record
  readonly #defaultTimeoutMs: number;

  constructor(options: OpenAICompatibleOptions) {
    const environment = options.environment ?? process.env;
    const key = environment[options.apiKeyEnvironmentVariable ?? 'OPENAI_API_KEY'];
    this.redact = createRedactor([key, ...urlSecrets(options.baseURL)]);
    let url: URL;
    try {
      url = new URL(options.baseURL);
    } catch {
      throw new Error(`baseURL ${redactUrl(options.baseURL)}: not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`baseURL ${redactUrl(options.baseURL)}: protocol must be http or https`);
    this.modelId = options.model;
    this.baseURL = redactUrl(options.baseURL);
    this.#secure = url.protocol === 'https:';
    this.#hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.#port = url.port;
    this.#path = `${url.pathname.replace(/\/$/, '')}/chat/completions${url.search}`;
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256 };
    this.#agent = this.#secure ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    // Local servers accept any key; 'no-key' matches what the openai package sends without one.
    this.#headers = { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${key || 'no-key'}` };
    if (url.username || url.password) this.#headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
  }

  toJSON(): Record<string, string> {
    return { provider: this.provider, model: this.modelId, baseURL: this.baseURL };
  }

  /** Close idle keep-alive sockets (lets a process exit at once). */
  close(): void {
    this.#agent.destroy();
  }

  doGenerate(options: ChatGenerateOptions): Promise<ChatGenerateResult> {
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new ProviderError('client-error', 'request aborted by caller'));
    const body = JSON.stringify(chatCompletionBody(this.modelId, options));
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    return new Promise<ChatGenerateResult>((resolve, reject) => {
      const pending = new PendingRequest(resolve, reject, this.redact);
      const request = (this.#secure ? httpsRequest : httpRequest)(
        { hostname: this.#hostname, port: this.#port, path: this.#path, method: 'POST', agent: this.#agent, headers: { ...this.#headers, 'content-length': Buffer.byteLength(body) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          // A connection cut mid-body ends in 'error' ("aborted"), never in 'end'.
          response.on('error', (error) => pending.finish(new ProviderError('connection', `response failed: ${error.message}`)));
          response.on('end', () => {
            if (!response.complete) return pending.finish(new ProviderError('connection', 'connection closed before the response completed'));
            const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
            const status = response.statusCode ?? 0;
            if (status < 200 || status >= 300) return pending.finish(statusError(status, parseRetryAfter(headerReader(response.headers)), text));
            try {
              pending.finish(null, parseChatCompletion(text, options));
            } catch (error) {
              pending.finish(error instanceof ProviderError ? error : new ProviderError('bad-response', String(error)));
            }
          });
        },
      );
      pending.timer = setTimeout(() => {
        pending.finish(new ProviderError('timeout', `no complete response within ${timeoutMs} ms`));
        request.destroy();
      }, timeoutMs);
      pending.unsubscribe = onAbort(signal, () => {
        pending.finish(new ProviderError('client-error', 'request aborted by caller'));
        request.destroy();
      });
      request.on('error', (error) => pending.finish(new ProviderError('connection', `request failed: ${error.message}`)));
      request.end(body);
    });
  }
}

/** One request's settlement: the first outcome wins, then its timer and abort subscription are released. */
class PendingRequest {
  settled = false;
  timer: ReturnType<typeof setTimeout> | undefined;
  unsubscribe: (() => void) | undefined;

  constructor(
    readonly resolve: (result: ChatGenerateResult) => void,
    readonly reject: (error: ProviderError) => void,
    readonly redact: (text: string) => string,
  ) {}

  finish(error: ProviderError | null, result?: ChatGenerateResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    if (!error) return this.resolve(result!);
    const message = this.redact(error.message);
    this.reject(message === error.message ? error : new ProviderError(error.kind, message, { status: error.status, retryAfterMs: error.retryAfterMs }));
  }
}
