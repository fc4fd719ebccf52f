// The volume bar: 1,000 pairs judged against a loopback server where 30% of requests fail (429 with Retry-After, 500,
// hang past the timeout, truncated JSON, nonsense verdicts): every pair ends judged or as a typed failure, none lost or
// duplicated, and a re-run through the cache makes no call. Also: interrupts keep nothing partial.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { JudgmentCache } from './judgment-cache.ts';
import { runJudgments, type CachedJudgment } from './judge-runner.ts';
import type { PairwiseInput, PairwiseResult } from './judgment-types.ts';
import { PairwiseJudge } from './pairwise-judge.ts';
import { OpenAICompatibleProvider } from './providers/openai-compatible-provider.ts';
import { RequestExecutor } from './request-executor.ts';
import { mulberry32, startScriptedServer } from './testing/scripted-openai-server.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-runner-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function pairs(count: number): PairwiseInput[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `pair-${index}`,
    conversation: [{ role: 'user', content: `Question number ${index}?` }],
    candidates: index % 2 === 0 ? [`[good] answer ${index}`, `[bad] answer ${index}`] : [`[bad] answer ${index}`, `[good] answer ${index}`],
  }));
}

function makeStack(url: string, secret: string) {
  const provider = new OpenAICompatibleProvider({ baseURL: url, model: 'scripted', apiKeyEnvironmentVariable: 'TEST_KEY', environment: { TEST_KEY: secret } });
  const random = mulberry32(3);
  const executor = new RequestExecutor(provider, {
    concurrency: 32,
    timeoutMs: 1000, // loose enough for a loaded shared machine (400 was not, at load 12); injected hangs last longer (hangMs)
    retry: { maxAttempts: 12, baseDelayMs: 1, maxDelayMs: 8, maxRetryAfterMs: 20 }, // 0.3^12: no pair runs out of attempts (one that did is a provider error, never cached, and the re-run would call again)
    random,
  });
  const judge = new PairwiseJudge(executor, {
    seed: 11,
  });
  return { executor, judge };
}

describe('judge runner at volume', () => {
  test('1,000 pairs with 30% injected failures: all judged or typed failures, none lost, re-run costs 0 calls', async () => {
    const server = await startScriptedServer({ seed: 5, failureRate: 0.3, retryAfterSeconds: 0, hangMs: 2500 });
    const secret = 'sk-test-SECRET-must-not-leak';
    const cachePath = join(directory, 'bar', 'cache.jsonl');
    const items = pairs(1000);
    try {
      const first = makeStack(server.url, secret);
      const cache = JudgmentCache.open<CachedJudgment<PairwiseResult>>(cachePath);
      const seen = new Map<string, number>();
      const outcome = await runJudgments(items, {
        judge: (item, signal) => first.judge.judge(item, signal),
        identity: first.judge.identity(),
        cache,
        concurrency: 32,
        onResult: (item) => seen.set(item.id, (seen.get(item.id) ?? 0) + 1),
      });
      cache.close();
      assert.equal(outcome.interrupted, false);
      assert.equal(outcome.judgments.filter((judgment) => judgment !== null).length, 1000, 'none lost');
      assert.equal(seen.size, 1000);
      assert.ok([...seen.values()].every((count) => count === 1), 'none duplicated');
      const ok = outcome.judgments.filter((judgment) => judgment!.result.kind === 'ok');
      const failed = outcome.judgments.filter((judgment) => judgment!.result.kind === 'invalid');
      assert.equal(ok.length + failed.length, 1000);
      assert.ok(ok.length > 850, `most pairs judge despite failures (${ok.length})`);
      for (const judgment of failed) {
        const result = judgment!.result;
        assert.ok(result.kind === 'invalid' && ['unparseable-verdict', 'provider-error', 'empty-response'].includes(result.reason));
      }
      // The toy labeler prefers '[good]'; averaged labels should almost always find it.
      const correct = outcome.judgments.filter((judgment, index) => judgment!.result.kind === 'ok' && (judgment!.result as { preferred: string }).preferred === (index % 2 === 0 ? 'A' : 'B'));
      assert.equal(correct.length, ok.length);
      for (const kind of ['rate-limit', 'server-error', 'timeout', 'truncated-json', 'nonsense-verdict']) assert.ok((server.stats.outcomes[kind] ?? 0) > 20, `${kind} injected`);
      assert.ok(first.executor.totals.retries > 500);
      assert.deepEqual([...server.stats.authorizations], [`Bearer ${secret}`]);
      const cacheText = readFileSync(cachePath, 'utf8');
      assert.equal(cacheText.trim().split('\n').length, 1000, 'one cache line per pair');
      assert.equal(cacheText.includes(secret), false, 'API key never written');

      const requestsBefore = server.stats.requests;
      const second = makeStack(server.url, secret);
      const reopened = JudgmentCache.open<CachedJudgment<PairwiseResult>>(cachePath);
      const rerun = await runJudgments(items, { judge: (item, signal) => second.judge.judge(item, signal), identity: second.judge.identity(), cache: reopened, concurrency: 32 });
      reopened.close();
      assert.equal(server.stats.requests - requestsBefore, 0, 're-run makes 0 calls');
      assert.equal(rerun.fromCache, 1000);
      assert.deepEqual(rerun.judgments.map((judgment) => judgment!.result), outcome.judgments.map((judgment) => judgment!.result));
    } finally {
      await server.close();
    }
  });

  test('an interrupt stops new work; nothing partial is recorded; the re-run finishes the rest', async () => {
    const server = await startScriptedServer({ latencyMs: 5 });
    const cachePath = join(directory, 'interrupt', 'cache.jsonl');
    const items = pairs(60);
    try {
      const stack = makeStack(server.url, 'k');
      const controller = new AbortController();
      const cache = JudgmentCache.open<CachedJudgment<PairwiseResult>>(cachePath);
      let done = 0;
      const outcome = await runJudgments(items, {
        judge: (item, signal) => stack.judge.judge(item, signal),
        identity: stack.judge.identity(),
        cache,
        concurrency: 4,
        signal: controller.signal,
        onResult: () => {
          if (++done === 10) controller.abort();
        },
      });
      cache.close();
      assert.equal(outcome.interrupted, true);
      const kept = outcome.judgments.filter((judgment) => judgment !== null).length;
      assert.ok(kept >= 10 && kept < 60);
      assert.ok(outcome.judgments.every((judgment) => judgment === null || judgment.result.kind === 'ok'), 'no aborted judgment recorded as failure');
      const reopened = JudgmentCache.open<CachedJudgment<PairwiseResult>>(cachePath);
      assert.equal(reopened.size, kept);
      const rerun = await runJudgments(items, { judge: (item) => stack.judge.judge(item), identity: stack.judge.identity(), cache: reopened, concurrency: 4 });
      reopened.close();
      assert.equal(rerun.fromCache, kept);
      assert.equal(rerun.judgedNow, 60 - kept);
    } finally {
      await server.close();
    }
  });

  test('duplicate ids are refused before any call', async () => {
    await assert.rejects(runJudgments([{ id: 'x' }, { id: 'x' }], { judge: async () => ({ kind: 'ok' }), identity: {}, cache: null, concurrency: 1 }), /item 1: duplicate id 'x'/);
  });
});
