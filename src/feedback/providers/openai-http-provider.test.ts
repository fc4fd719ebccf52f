// Tests the direct node:http OpenAI-compatible client against the scripted loopback server: the same completions as
// the `openai`-package client, every failure (429 + Retry-After, 500, hang, truncated JSON, body cut off, abort) typed
// alike, and the hand-built request body equal to JSON.stringify's.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { ProviderError, type ChatGenerateOptions } from '../chat-model-v1.ts';
import { startScriptedServer } from '../testing/scripted-openai-server.ts';
import { OpenAICompatibleProvider, createOpenAICompatibleProvider } from './openai-compatible-provider.ts';
import { chatCompletionBody, chatCompletionJson } from './chat-completion-wire.ts';
import { OpenAIHttpProvider } from './openai-http-provider.ts';

const verdictRequest: ChatGenerateOptions = { messages: [{ role: 'user', content: 'Which? Preferred Response=' }], maxTokens: 2, temperature: 0, seed: 1, topLogprobs: 2 };
const isKind = (kind: string) => (error: unknown) => error instanceof ProviderError && error.kind === kind;

test('direct and openai-sdk clients return the same completion, logprobs included', async () => {
  const server = await startScriptedServer();
  try {
    const direct = new OpenAIHttpProvider({ baseURL: server.url, model: 'm', environment: { OPENAI_API_KEY: 'sk-direct' } });
    const sdk = new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} });
    const [a, b] = [await direct.doGenerate(verdictRequest), await sdk.doGenerate(verdictRequest)];
    assert.deepEqual(a, b);
    assert.equal(a.choices[0]!.tokens![0]!.topLogprobs.length, 2);
    assert.ok(server.stats.authorizations.has('Bearer sk-direct'));
    assert.equal(JSON.stringify(direct).includes('sk-direct'), false, 'the key stays out of records');
    assert.equal(createOpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} }) instanceof OpenAIHttpProvider, true, 'direct is the default');
    direct.close();
  } finally {
    await server.close();
  }
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
      const provider = new OpenAIHttpProvider({ baseURL: server.url, model: 'm', environment: {} });
      const started = Date.now();
      await assert.rejects(provider.doGenerate({ ...verdictRequest, timeoutMs: 150 }), expect, kind);
      assert.ok(Date.now() - started < 1500, `${kind} settles promptly`);
      provider.close();
    } finally {
      await server.close();
    }
  }
});

test('an abort from the caller ends the request at once; a refused connection is a retryable connection error', async () => {
  const server = await startScriptedServer({ latencyMs: 500 });
  try {
    const provider = new OpenAIHttpProvider({ baseURL: server.url, model: 'm', environment: {} });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    await assert.rejects(provider.doGenerate({ ...verdictRequest, signal: controller.signal }), isKind('client-error'));
    assert.ok(Date.now() - started < 400);
    provider.close();
  } finally {
    await server.close();
  }
  const refused = new OpenAIHttpProvider({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', environment: {} });
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
    const provider = new OpenAIHttpProvider({ baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'm', environment: {} });
    const started = Date.now();
    await assert.rejects(provider.doGenerate({ ...verdictRequest, timeoutMs: 5000 }), (error: unknown) => isKind('connection')(error) && (error as ProviderError).retryable);
    assert.ok(Date.now() - started < 2000, 'settles without waiting for the timeout');
    provider.close();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the request body is JSON.stringify of the wire body byte for byte, frozen messages reused or not', () => {
  const system = Object.freeze({ role: 'system' as const, content: 'Judge by "this" principle:\n\t\u2028 ünïcode \ud83d\ude00' });
  const user = { role: 'user' as const, content: 'Response 1: a\\b\n\nPreferred Response=' };
  const cases: ChatGenerateOptions[] = [
    { messages: [system, user], maxTokens: 512, temperature: 0, seed: 123456789 },
    { messages: [system, user, Object.freeze({ role: 'assistant' as const, content: 'because' })], maxTokens: 2, temperature: 0.7, seed: 0, n: 5, topLogprobs: 20 },
    { messages: [user], maxTokens: 1, temperature: 1e-7, seed: 2 ** 31 - 1, topLogprobs: 0 },
  ];
  for (const options of cases) {
    for (let repeat = 0; repeat < 2; repeat++) assert.equal(chatCompletionJson('model "x"', options), JSON.stringify(chatCompletionBody('model "x"', options)));
  }
});
