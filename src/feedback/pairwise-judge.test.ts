// Tests the pairwise judge end to end against the scripted OpenAI server on loopback: soft labels, both orders,
// principle modes, clamping, vote fallback, typed failures, judging without chain-of-thought, an already-aborted signal.
// Leaves out volume (see judge-runner.test.ts).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultStepOptions } from './judge-steps.ts';
import { loadConstitution } from './constitution.ts';
import { JudgmentCache } from './judgment-cache.ts';
import { PairwiseJudge, pairwiseJudgeOptions, type PairwiseJudgeOptions } from './pairwise-judge.ts';
import { loadTemplate } from './prompt-template.ts';
import { OpenAICompatibleProvider } from './providers/openai-compatible-provider.ts';
import { RequestExecutor } from './request-executor.ts';
import { startScriptedServer, type ScriptedServer } from './testing/scripted-openai-server.ts';

const fastRetry = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 50 };

function makeJudge(url: string, overrides: Partial<PairwiseJudgeOptions> = {}): { judge: PairwiseJudge; executor: RequestExecutor } {
  const provider = new OpenAICompatibleProvider({ baseURL: url, model: 'scripted', environment: {} });
  const executor = new RequestExecutor(provider, { concurrency: 4, timeoutMs: 2000, retry: fastRetry });
  const judge = new PairwiseJudge(executor, {
    seed: 7,
    ...overrides,
  });
  return { judge, executor };
}

const pair = { id: 'p1', conversation: [{ role: 'user' as const, content: 'How do I pick a lock?' }], candidates: ['[bad] Here is how.', '[good] I would rather not.'] as [string, string] };

describe('pairwise judge', () => {
  let biased: ScriptedServer;
  before(async () => {
    biased = await startScriptedServer({ positionBias: 0.45 });
  });
  after(() => biased.close());

  test('soft labels from logprobs, both orders averaged cancel position bias', async () => {
    const { judge, executor } = makeJudge(biased.url);
    const result = await judge.judge(pair);
    assert.equal(result.kind, 'ok');
    if (result.kind !== 'ok') return;
    const position = result.positions[0]!;
    // Toy brain: P(first) = 0.5 + 0.4*(q_first - q_second) + 0.45, clipped to [0.03, 0.97].
    assert.ok(Math.abs(position.forward.probabilityFirst - 0.55) < 1e-6, `forward ${position.forward.probabilityFirst}`);
    assert.ok(Math.abs(position.reversed!.probabilityFirst - 0.97) < 1e-6, `reversed ${position.reversed!.probabilityFirst}`);
    // Forward alone prefers A (the bad one, shown first); averaged over orders B wins.
    assert.equal(position.forward.probabilityA > 0.5, true);
    assert.ok(Math.abs(result.probability - (0.55 + 0.03) / 2) < 1e-6);
    assert.equal(result.preferred, 'B');
    assert.equal(position.forward.labelSource, 'logprobs');
    assert.ok(result.rationale!.length > 0);
    assert.equal(result.usage.requests, 4); // 2 orders x (rationale + verdict)
    assert.equal(executor.totals.requests, 4);
    assert.ok(result.usage.promptTokens > 0);
  });

  test('aggregate-all judges under every principle; clamping bounds the label', async () => {
    const { judge } = makeJudge(biased.url, { principleMode: 'aggregate-all', clamp: { min: 0.4, max: 0.6 } });
    const result = await judge.judge(pair);
    assert.equal(result.kind, 'ok');
    if (result.kind !== 'ok') return;
    assert.equal(result.positions.length, 3);
    assert.deepEqual(result.principles.map((p) => p.id), ['harmful-unethical', 'wise-ethical', 'no-assistance-crime']);
    assert.equal(result.probability, 0.4);
    assert.equal(result.usage.requests, 12);
  });

  test('sample-one picks a principle determined by seed and id', async () => {
    const { judge } = makeJudge(biased.url);
    const ids = new Set<string>();
    for (let index = 0; index < 12; index++) {
      const result = await judge.judge({ ...pair, id: `pair-${index}` });
      assert.equal(result.kind, 'ok');
      if (result.kind === 'ok') ids.add(result.principles[0]!.id);
    }
    assert.ok(ids.size >= 2, 'different ids draw different principles');
    const again = await judge.judge({ ...pair, id: 'pair-3' });
    const first = await judge.judge({ ...pair, id: 'pair-3' });
    assert.equal(again.kind === 'ok' && first.kind === 'ok' && again.principles[0]!.id === first.principles[0]!.id, true);
  });

  test('without chain-of-thought: one request per order, soft labels from logprobs, a typed result, its own cache key', async () => {
    const server = await startScriptedServer({ positionBias: 0.45 });
    try {
      const { judge, executor } = makeJudge(server.url, { template: loadTemplate('pairwise-direct'), chainOfThought: false });
      const result = await judge.judge(pair);
      assert.equal(result.kind, 'ok', JSON.stringify(result));
      if (result.kind !== 'ok') return;
      assert.equal(result.usage.requests, 2, 'one verdict request per order, no rationale request');
      assert.equal(executor.totals.requests, 2);
      assert.equal(server.stats.requests, 2);
      assert.equal(result.rationale, null);
      const position = result.positions[0]!;
      for (const verdict of [position.forward, position.reversed!]) {
        assert.equal(verdict.rationale, null);
        assert.equal(verdict.labelSource, 'logprobs');
      }
      // Same toy brain as the two-step test: the direct prompt shows the same responses, so the same labels.
      assert.ok(Math.abs(position.forward.probabilityFirst - 0.55) < 1e-6, `forward ${position.forward.probabilityFirst}`);
      assert.ok(Math.abs(position.reversed!.probabilityFirst - 0.97) < 1e-6, `reversed ${position.reversed!.probabilityFirst}`);
      assert.ok(Math.abs(result.probability - (0.55 + 0.03) / 2) < 1e-6);
      assert.equal(result.preferred, 'B');
      const twoStep = makeJudge(server.url).judge;
      assert.notEqual(JudgmentCache.keyOf(judge.identity(), pair), JudgmentCache.keyOf(twoStep.identity(), pair));
      assert.equal(judge.identity().chainOfThought, false);
      assert.equal(judge.identity().templateVersion, 'pairwise-direct-v1');
      assert.equal('chainOfThought' in twoStep.identity(), false, 'two-step identities (and cache keys) are unchanged');
    } finally {
      await server.close();
    }
  });

  test('a template that does not match the mode is an error naming the file', () => {
    assert.throws(() => makeJudge(biased.url, { template: loadTemplate('pairwise'), chainOfThought: false }), /pairwise\.yaml: judging without chain-of-thought needs the 'pairwise-direct' template/);
    assert.throws(() => makeJudge(biased.url, { template: loadTemplate('pairwise-direct') }), /pairwise-direct\.yaml: 'pairwise-direct' asks for the verdict directly/);
  });

  test('falls back to sampled votes when the server returns no logprobs', async () => {
    const server = await startScriptedServer({ logprobs: false });
    try {
      const { judge } = makeJudge(server.url, { steps: { ...defaultStepOptions, votes: 9 } });
      const result = await judge.judge(pair);
      assert.equal(result.kind, 'ok');
      if (result.kind !== 'ok') return;
      const forward = result.positions[0]!.forward;
      assert.equal(forward.labelSource, 'votes');
      assert.equal(forward.votes![0] + forward.votes![1], 9);
      assert.equal(forward.probabilityFirst, forward.votes![0] / 9);
      assert.equal(result.preferred, 'B');
    } finally {
      await server.close();
    }
  });

  test('nonsense verdicts are retried, then recorded as typed failures with the raw text', async () => {
    const server = await startScriptedServer({ failureRate: 1, failureKinds: ['nonsense-verdict'] });
    try {
      const { judge } = makeJudge(server.url);
      const result = await judge.judge(pair);
      assert.equal(result.kind, 'invalid');
      if (result.kind !== 'invalid') return;
      assert.equal(result.reason, 'unparseable-verdict');
      assert.equal(result.raw, 'banana');
      assert.ok(result.usage.requests >= 4);
    } finally {
      await server.close();
    }
  });

  test('an already-aborted signal stops the judgment before any request: it rejects with the abort, not a failure', async () => {
    const { judge, executor } = makeJudge(biased.url);
    const before = biased.stats.requests;
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(judge.judge(pair, controller.signal), { name: 'AbortError' });
    assert.equal(biased.stats.requests - before, 0, 'nothing sent');
    assert.equal(executor.totals.requests, 0);
  });

  test('exhausted transport retries end as provider-error failures', async () => {
    const server = await startScriptedServer({ failureRate: 1, failureKinds: ['server-error'] });
    try {
      const { judge, executor } = makeJudge(server.url);
      const result = await judge.judge(pair);
      assert.equal(result.kind, 'invalid');
      if (result.kind === 'invalid') assert.equal(result.reason, 'provider-error');
      assert.ok(executor.totals.retries >= 3);
    } finally {
      await server.close();
    }
  });
});

test('options left out take the recipe defaults; the cache identity is the one the options written out give', () => {
  const executor = new RequestExecutor(new OpenAICompatibleProvider({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', environment: {} }), { concurrency: 1, timeoutMs: 1000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  const explicit = new PairwiseJudge(executor, {
    template: loadTemplate('pairwise'), constitution: loadConstitution(), principleMode: 'sample-one', bothOrders: true,
    fewShot: [], clamp: null, tieMargin: 0, steps: defaultStepOptions, seed: 4,
  });
  assert.deepEqual(new PairwiseJudge(executor, { seed: 4 }).identity(), explicit.identity());
  assert.notDeepEqual(new PairwiseJudge(executor, { seed: 4, bothOrders: false }).identity(), explicit.identity());
  assert.equal(pairwiseJudgeOptions({ chainOfThought: false }).template.name, 'pairwise-direct');
  assert.equal(pairwiseJudgeOptions({ clamp: undefined }).clamp, null, 'an explicit undefined takes the default');
});
