// Tests the OpenAI-compatible provider against the scripted loopback server: completions with logprobs, every failure
// (429 + Retry-After, 500, hang, truncated JSON, body cut off, abort) typed, responses checked by the loose schema (extra
// fields ignored, wrong shapes named), and settings the server ignored (logprobs, n) returned as warnings.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ProviderError, type ChatGenerateOptions } from '../chat-model-v1.ts';
import { startScriptedServer } from '../testing/scripted-openai-server.ts';
import { parseChatCompletion } from './chat-completion-wire.ts';
import { OpenAICompatibleProvider } from './openai-compatible-provider.ts';

const verdictRequest: ChatGenerateOptions = { messages: [{ role: 'user', content: 'Which? Preferred Response=' }], maxTokens: 2, temperature: 0, seed: 1, topLogprobs: 2 };
const isKind = (kind: string) => (error: unknown) => error instanceof ProviderError && error.kind === kind;

test('a completion with logprobs; the key goes in the header and stays out of records', async () => {
  const server = await startScriptedServer();
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: { OPENAI_API_KEY: 'sk-direct' } });
    const result = await provider.doGenerate(verdictRequest);
    assert.equal(result.choices[0]!.text, '1');
    assert.equal(result.choices[0]!.tokens![0]!.topLogprobs.length, 2);
    assert.equal(result.warnings, undefined, 'every setting honoured');
    assert.ok(result.usage.promptTokens > 0);
    assert.ok(server.stats.authorizations.has('Bearer sk-direct'));
    assert.equal(JSON.stringify(provider).includes('sk-direct'), false, 'the key stays out of records');
    provider.close();
  } finally {
    await server.close();
  }
});

test('a server that ignores logprobs and n: the result says so in warnings, never silently', async () => {
  const server = await startScriptedServer({ logprobs: false, maxChoices: 1 });
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
    const result = await provider.doGenerate({ ...verdictRequest, n: 3 });
    assert.equal(result.choices[0]!.tokens, null);
    assert.deepEqual(result.warnings!.map((warning) => warning.setting), ['topLogprobs', 'n']);
    assert.match(result.warnings![1]!.details, /n = 3, the server returned 1/);
    provider.close();
  } finally {
    await server.close();
  }
});

test('the loose response schema: extra and null fields pass, a wrong shape is a retryable bad-response naming the field', () => {
  const ok = parseChatCompletion(JSON.stringify({ id: 'x', system_fingerprint: null, choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: null }, logprobs: null, finish_reason: 'length', extra: 1 }] }));
  assert.deepEqual(ok, { choices: [{ text: '', tokens: null, finishReason: 'length' }], usage: { promptTokens: 0, completionTokens: 0 } });
  const tokens = parseChatCompletion(JSON.stringify({ choices: [{ message: { content: '2' }, logprobs: { content: [{ token: '2', logprob: -0.1, bytes: [50], top_logprobs: [{ token: '2', logprob: -0.1 }, { token: '1', logprob: -2.3, bytes: null }] }] } }], usage: { prompt_tokens: 7, completion_tokens: 1 } }));
  assert.deepEqual(tokens.choices[0]!.tokens, [{ token: '2', logprob: -0.1, topLogprobs: [{ token: '2', logprob: -0.1 }, { token: '1', logprob: -2.3 }] }]);
  assert.deepEqual(tokens.usage, { promptTokens: 7, completionTokens: 1 });
  const bad = (body: unknown, field: RegExp) => assert.throws(() => parseChatCompletion(JSON.stringify(body)), (error: unknown) => isKind('bad-response')(error) && (error as ProviderError).retryable && field.test((error as Error).message));
  bad({ choices: [] }, /field 'choices'/);
  bad({ choices: [{ message: { content: 5 } }] }, /field 'choices\.0\.message\.content'/);
  bad({ choices: [{ message: { content: 'x' }, logprobs: { content: [{ token: 'x', logprob: 'high' }] } }] }, /field 'choices\.0\.logprobs\.content\.0\.logprob'/);
  assert.throws(() => parseChatCompletion('{"choices":['), (error: unknown) => isKind('bad-response')(error));
});

test('failures are typed: 429 with Retry-After, 500, hang past the timeout, truncated JSON', async () => {
  const cases = [
    { kind: 'rate-limit', expect: (error: unknown) => isKind('rate-limited')(error) && (error as ProviderError).retryAfterMs === 2000 },
    { kind: 'server-error', expect: (error: unknown) => isKind('server-error')(error) && (error as ProviderError).status === 500 },
    { kind: 'timeout', expect: isKind('timeout') },
    { kind: 'truncated-json', expect: (error: unknown) => isKind('bad-response')(error) && (error as ProviderError).retryable },
  ] as const;
  for (const { kind, expect } of cases) {
    const server = await startScriptedServer({ failureRate: 1, failureKinds: [kind], retryAfterSeconds: 2, hangMs: 2000 });
    try {
      const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
      const started = Date.now();
      // Only the hang is meant to meet the timeout: the other kinds get one no loaded machine reaches (150 ms did,
      // turning a slow 429 into a timeout under load 12).
      await assert.rejects(provider.doGenerate({ ...verdictRequest, timeoutMs: kind === 'timeout' ? 300 : 10_000 }), expect, kind);
      assert.ok(Date.now() - started < 1500, `${kind} settles promptly (the hang lasts 2 s)`);
      provider.close();
    } finally {
      await server.close();
    }
  }
});

test('an abort from the caller ends the request at once; a refused connection is a retryable connection error', async () => {
  const server = await startScriptedServer({ latencyMs: 500 });
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await assert.rejects(provider.doGenerate({ ...verdictRequest, signal: controller.signal }), isKind('client-error'));
    assert.ok(Date.now() - started < 400);
    provider.close();
  } finally {
    await server.close();
  }
  const refused = new OpenAICompatibleProvider({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', environment: {} });
  await assert.rejects(refused.doGenerate(verdictRequest), (error: unknown) => isKind('connection')(error) && (error as ProviderError).retryable);
});

test('a response cut off mid-body is a retryable connection error at once, not a timeout', async () => {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"choices":[', () => response.socket?.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const provider = new OpenAICompatibleProvider({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'm', environment: {} });
    const started = Date.now();
    await assert.rejects(provider.doGenerate({ ...verdictRequest, timeoutMs: 5000 }), (error: unknown) => isKind('connection')(error) && (error as ProviderError).retryable);
    assert.ok(Date.now() - started < 2000, 'settles without waiting for the timeout');
    provider.close();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
