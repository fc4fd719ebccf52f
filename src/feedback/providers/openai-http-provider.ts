// ChatModelV1 that speaks the OpenAI chat-completions protocol directly on node:http(s) with a keep-alive agent: the
// judging hot path. Leaves out retries (the executor owns them), streaming, redirects and proxies.
// Why not the `openai` package here: profiled on loopback, its per-request work (request building, header merging,
// AbortController plumbing, fetch Response/Headers/web streams, logging hooks) cost about as much client CPU as the whole
// raw HTTP exchange, which held judge throughput to ~0.5-0.65 of a raw client (bar: 0.95). This path does one
// JSON.stringify (frozen messages' JSON reused), one http.request, one JSON.parse and a hand-written shape check. The `openai`-based provider stays
// available (provider.client: openai-sdk). Logprob use follows Lee et al. 2023 (arXiv 2309.00267).
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ProviderError, parseRetryAfter, type ChatGenerateOptions, type ChatGenerateResult, type ChatModelV1 } from '../chat-model-v1.ts';
import { onAbort } from '../abort-fanout.ts';
import { chatCompletionJson, parseChatCompletion, redactUrl, statusError, type OpenAIEndpointOptions } from './chat-completion-wire.ts';

export interface OpenAIHttpOptions extends OpenAIEndpointOptions {
  maxSockets?: number; // keep-alive connections at most (default 256; the executor's concurrency bounds use)
}

function headerReader(headers: IncomingHttpHeaders): { get(name: string): string | null } {
  return { get: (name) => { const value = headers[name]; return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value; } };
}

export class OpenAIHttpProvider implements ChatModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'openai-compatible'; // same protocol and answers as the openai-sdk client: cache keys are shared
  readonly modelId: string;
  readonly supportsLogprobs = true;
  readonly baseURL: string; // redacted
  readonly #secure: boolean;
  readonly #hostname: string;
  readonly #port: string;
  readonly #path: string;
  readonly #agent: HttpAgent;
  readonly #headers: OutgoingHttpHeaders; // the key lives here only, never in a record
  readonly #defaultTimeoutMs: number;

  constructor(options: OpenAIHttpOptions) {
    const environment = options.environment ?? process.env;
    const key = environment[options.apiKeyEnvironmentVariable ?? 'OPENAI_API_KEY'];
    const url = new URL(options.baseURL);
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
    const body = chatCompletionJson(this.modelId, options);
    const timeoutMs = options.timeoutMs ?? this.#defaultTimeoutMs;
    return new Promise<ChatGenerateResult>((resolve, reject) => {
      const pending = new PendingRequest(resolve, reject);
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
              pending.finish(null, parseChatCompletion(text));
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
  ) {}

  finish(error: ProviderError | null, result?: ChatGenerateResult): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.unsubscribe?.();
    if (error) this.reject(error);
    else this.resolve(result!);
  }
}
