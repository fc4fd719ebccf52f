// Tests retries, backoff bounds, Retry-After, timeouts and the concurrency bound of the request executor, against the
// scripted loopback server and a counting fake model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProviderError, parseRetryAfter, type ChatGenerateOptions, type ChatGenerateResult, type ChatModelV1 } from './chat-model-v1.ts';
import { emptyUsage } from './judgment-types.ts';
import { OpenAICompatibleProvider } from './providers/openai-compatible-provider.ts';
import { ConcurrencyLimiter, RequestExecutor, backoffDelay, costOf, defaultRetry } from './request-executor.ts';
import { startScriptedServer } from './testing/scripted-openai-server.ts';

const request: ChatGenerateOptions = { messages: [{ role: 'user', content: 'hello' }], maxTokens: 8, temperature: 0, seed: 1 };

test('Retry-After from a 429 is honoured', async () => {
  const server = await startScriptedServer({ failureRate: 1, failureKinds: ['rate-limit'], retryAfterSeconds: 1 });
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
    const delays: number[] = [];
    const executor = new RequestExecutor(provider, {
      concurrency: 1,
      timeoutMs: 1000,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5000 },
      onRetry: ({ delayMs, error }) => {
        delays.push(delayMs);
        assert.equal(error.kind, 'rate-limited');
      },
    });
    const started = Date.now();
    await assert.rejects(executor.generate(request, emptyUsage()), (error: unknown) => error instanceof ProviderError && error.kind === 'rate-limited' && error.retryAfterMs === 1000);
    assert.deepEqual(delays, [1000]);
    assert.ok(Date.now() - started >= 990, 'waited for Retry-After');
    assert.equal(server.stats.requests, 2);
  } finally {
    await server.close();
  }
});

test('a hanging server is cut off by the per-request timeout and retried', async () => {
  const server = await startScriptedServer({ failureRate: 1, failureKinds: ['timeout'], hangMs: 3000 });
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
    const executor = new RequestExecutor(provider, { concurrency: 2, timeoutMs: 100, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 10 } });
    const started = Date.now();
    await assert.rejects(executor.generate(request, emptyUsage()), (error: unknown) => error instanceof ProviderError && error.kind === 'timeout');
    assert.ok(Date.now() - started < 1500);
    assert.equal(executor.totals.requests, 3);
    assert.equal(executor.totals.failedRequests, 1);
  } finally {
    await server.close();
  }
});

test('truncated JSON is a retryable bad response', async () => {
  const server = await startScriptedServer({ failureRate: 1, failureKinds: ['truncated-json'] });
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
    await assert.rejects(provider.doGenerate(request), (error: unknown) => error instanceof ProviderError && error.kind === 'bad-response' && error.retryable);
  } finally {
    await server.close();
  }
});

test('client errors are not retried', async () => {
  let calls = 0;
  const model: ChatModelV1 = {
    specificationVersion: 'v1',
    provider: 'fake',
    modelId: 'fake',
    supportsLogprobs: false,
    doGenerate: async (): Promise<ChatGenerateResult> => {
      calls++;
      throw new ProviderError('client-error', 'HTTP 401', { status: 401 });
    },
  };
  const executor = new RequestExecutor(model, { concurrency: 1, timeoutMs: 100, retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  await assert.rejects(executor.generate(request, emptyUsage()));
  assert.equal(calls, 1);
});

test('the limiter never exceeds its bound', async () => {
  const limiter = new ConcurrencyLimiter(3);
  let active = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: 20 }, () =>
      limiter.run(async () => {
        active++;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 2));
        active--;
      }),
    ),
  );
  assert.equal(peak, 3);
});

/**
 * Four requests through two slots; the first two replies arrive in one turn of the event loop (two I/O callbacks,
 * modelled as two immediates). Returns the order of events: requests sent, replies in, callers resumed.
 */
async function replyOrder(provider: string, yieldAfterReply?: boolean): Promise<string[]> {
  const log: string[] = [];
  const pending: Array<() => void> = [];
  const model: ChatModelV1 = {
    specificationVersion: 'v1', provider, modelId: 'm', supportsLogprobs: false,
    doGenerate: (options) => new Promise<ChatGenerateResult>((resolve) => {
      const name = options.messages[0]!.content;
      log.push(`sent ${name}`);
      pending.push(() => { log.push(`reply ${name}`); resolve({ choices: [{ text: name, tokens: null, finishReason: 'stop' }], usage: { promptTokens: 1, completionTokens: 1 } }); });
    }),
  };
  const executor = new RequestExecutor(model, { concurrency: 2, timeoutMs: 10_000, retry: defaultRetry, ...(yieldAfterReply === undefined ? {} : { yieldAfterReply }) });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  const done = Promise.all(['a', 'b', 'c', 'd'].map((name) => executor.generate({ messages: [{ role: 'user', content: name }], maxTokens: 1, temperature: 0, seed: 0 }, emptyUsage()).then(() => { log.push(`caller ${name}`); })));
  await settle();
  assert.deepEqual(log, ['sent a', 'sent b']);
  for (const reply of pending.splice(0)) setImmediate(reply);
  // c's and d's replies only after a's and b's callers have resumed (they need nothing from c or d), whenever that is:
  // a timer here would race with the yield on a loaded machine.
  for (let turns = 0; !(log.includes('caller a') && log.includes('caller b')); turns++) {
    assert.ok(turns < 10_000, `a's and b's callers never resumed: ${log.join(', ')}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (const reply of pending.splice(0)) reply();
  await done;
  return log;
}

test('replies that arrive together first free their slots and send what waits, then their callers resume (network providers)', async () => {
  // The default for an OpenAI-compatible provider: both replies hand their slots on (c and d go out) before a's caller
  // does any work on its reply.
  const network = await replyOrder('openai-compatible');
  assert.deepEqual(network.slice(0, 8), ['sent a', 'sent b', 'reply a', 'sent c', 'reply b', 'sent d', 'caller a', 'caller b']);
  // In-process providers keep resuming callers at once (their replies resolve together as microtasks; their next requests
  // must reach the batch engine before its next step): a's caller runs before b's reply is read.
  const inProcess = await replyOrder('in-process');
  assert.deepEqual(inProcess.slice(0, 5), ['sent a', 'sent b', 'reply a', 'sent c', 'caller a']);
  assert.deepEqual((await replyOrder('in-process', true)).slice(0, 8), network.slice(0, 8));
  assert.deepEqual((await replyOrder('openai-compatible', false)).slice(0, 5), inProcess.slice(0, 5));
});

test('backoff grows exponentially under a cap, with jitter, and never undercuts Retry-After', () => {
  const retry = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };
  assert.equal(backoffDelay(1, retry, () => 0.999999, null) < 100, true);
  assert.ok(backoffDelay(3, retry, () => 0.5, null) === 200);
  assert.equal(backoffDelay(9, retry, () => 0.5, null), 500);
  assert.equal(backoffDelay(1, retry, () => 0.5, 3000), 3000);
  assert.equal(backoffDelay(1, retry, () => 0.5, 60_000), 5000);
});

test('Retry-After parsing: seconds, dates, retry-after-ms', () => {
  const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name] ?? null });
  assert.equal(parseRetryAfter(headers({ 'retry-after': '2' })), 2000);
  assert.equal(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
  assert.equal(parseRetryAfter(headers({ 'retry-after': new Date(10_000).toUTCString() }), 4000), 6000);
  assert.equal(parseRetryAfter(headers({})), null);
});

test('cost follows token counts and rates', () => {
  assert.equal(costOf({ promptTokens: 2_000_000, completionTokens: 500_000 }, { inputPerMillionTokens: 0.5, outputPerMillionTokens: 2 }), 2);
});
