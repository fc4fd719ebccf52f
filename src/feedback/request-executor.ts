// Runs provider calls with bounded concurrency, a per-request timeout, and retries with exponential backoff and
// full jitter on 429/5xx/timeouts/garbled responses, honouring Retry-After; counts requests, tokens and cost.
// Leaves out circuit breaking and adaptive rate limits. Backoff follows the AWS "full jitter" scheme; no paper.
import { ProviderError, type ChatGenerateOptions, type ChatGenerateResult, type ChatModelV1, type ChatWarning } from './chat-model-v1.ts';
import type { JudgmentUsage } from './judgment-types.ts';

export interface RetryOptions {
  maxAttempts: number; // total tries per request, first included
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number; // a server asking for longer than this is capped (bounded waits)
}

export interface ExecutorOptions {
  concurrency: number; // requests in flight at most
  timeoutMs: number; // per request
  retry: RetryOptions;
  random?: () => number; // jitter source; tests pass a seeded one
  sleep?: (milliseconds: number) => Promise<void>;
  onRetry?: (event: { attempt: number; error: ProviderError; delayMs: number }) => void;
  onWarning?: (warning: ChatWarning) => void; // called once per setting the provider did not honour (all are counted)
  /**
   * Before a reply's caller resumes, yield to the event loop's I/O (setImmediate): replies that arrive together (a
   * server answers every request its last step finished at once) each free their slot and send the next queued request
   * first, and the callers' work on them (parsing verdicts, prompts for the next step, the cache) runs after, instead
   * of the last reply's successor waiting behind every earlier caller's work. Default: on for 'openai-compatible'
   * providers, off for in-process ones (their replies resolve together as microtasks already, and their next requests
   * must reach the batch engine before its next step).
   */
  yieldAfterReply?: boolean;
}

export interface CostRates {
  inputPerMillionTokens: number;
  outputPerMillionTokens: number;
}

export interface UsageTotals {
  requests: number;
  retries: number;
  failedRequests: number;
  promptTokens: number;
  completionTokens: number;
}

export const defaultRetry: RetryOptions = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 30_000, maxRetryAfterMs: 120_000 };

/** A counting semaphore; waiters are served first in, first out. */
export class ConcurrencyLimiter {
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency must be a positive integer, got ${limit}`);
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.limit) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#active++;
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

export function backoffDelay(attempt: number, retry: RetryOptions, random: () => number, retryAfterMs: number | null): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  const jittered = random() * ceiling; // full jitter
  if (retryAfterMs === null) return jittered;
  return Math.min(retry.maxRetryAfterMs, Math.max(retryAfterMs, jittered));
}

export class RequestExecutor {
  readonly model: ChatModelV1;
  readonly totals: UsageTotals = { requests: 0, retries: 0, failedRequests: 0, promptTokens: 0, completionTokens: 0 };
  /** Settings the provider did not honour: the first warning of each, and how many requests it came with. */
  readonly warnings = new Map<ChatWarning['setting'], { warning: ChatWarning; count: number }>();
  readonly #options: ExecutorOptions;
  readonly #limiter: ConcurrencyLimiter;
  readonly #random: () => number;
  readonly #sleep: (milliseconds: number) => Promise<void>;
  readonly #yieldAfterReply: boolean;

  constructor(model: ChatModelV1, options: ExecutorOptions) {
    this.model = model;
    this.#options = options;
    this.#limiter = new ConcurrencyLimiter(options.concurrency);
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? ((milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)));
    this.#yieldAfterReply = options.yieldAfterReply ?? model.provider === 'openai-compatible';
  }

  /** One logical request: retried until it succeeds, fails for a non-retryable reason, or attempts run out. */
  async generate(options: ChatGenerateOptions, usage: JudgmentUsage): Promise<ChatGenerateResult> {
    const retry = this.#options.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.#limiter.run(() => {
          this.totals.requests++;
          usage.requests++;
          return this.model.doGenerate({ ...options, timeoutMs: options.timeoutMs ?? this.#options.timeoutMs });
        });
        this.totals.promptTokens += result.usage.promptTokens;
        this.totals.completionTokens += result.usage.completionTokens;
        usage.promptTokens += result.usage.promptTokens;
        usage.completionTokens += result.usage.completionTokens;
        for (const warning of result.warnings ?? []) this.#warn(warning);
        if (this.#yieldAfterReply) await new Promise<void>((resolve) => setImmediate(resolve));
        return result;
      } catch (caught) {
        const error = caught instanceof ProviderError ? caught : new ProviderError('connection', (caught as Error)?.message ?? String(caught));
        if (!error.retryable || attempt >= retry.maxAttempts || options.signal?.aborted) {
          this.totals.failedRequests++;
          throw error;
        }
        const delayMs = backoffDelay(attempt, retry, this.#random, error.retryAfterMs);
        this.totals.retries++;
        this.#options.onRetry?.({ attempt, error, delayMs });
        await this.#sleep(delayMs);
      }
    }
  }

  #warn(warning: ChatWarning): void {
    const seen = this.warnings.get(warning.setting);
    if (seen) {
      seen.count++;
      return;
    }
    this.warnings.set(warning.setting, { warning, count: 1 });
    this.#options.onWarning?.(warning);
  }
}

export function costOf(totals: Pick<UsageTotals, 'promptTokens' | 'completionTokens'>, rates: CostRates): number {
  return (totals.promptTokens * rates.inputPerMillionTokens + totals.completionTokens * rates.outputPerMillionTokens) / 1e6;
}
