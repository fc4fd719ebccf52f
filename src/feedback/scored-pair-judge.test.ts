// Tests the pair preference from two scores: P(s_A > s_B) + ½P(tie) on worked examples and against the direct double
// sum, exact ties and symmetry; the pointwise and rubric pair judges end to end (shared principle, ties, tieMargin),
// one unparseable score as a typed failure keeping both results, interrupts rethrown, and cache identities.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultStepOptions } from './judge-steps.ts';
import { PairwiseJudge } from './pairwise-judge.ts';
import { PointwiseJudge } from './pointwise-judge.ts';
import { loadTemplate } from './prompt-template.ts';
import { InProcessProvider, type InProcessGenerateRequest, type InProcessLanguageModel } from './providers/in-process-provider.ts';
import { OpenAICompatibleProvider } from './providers/openai-compatible-provider.ts';
import { RequestExecutor } from './request-executor.ts';
import { RubricJudge } from './rubric-judge.ts';
import { probabilityFirstHigher, scoreDistributionOf, ScoredPairJudge, type ScoreDistribution } from './scored-pair-judge.ts';
import { mulberry32 } from './testing/scripted-openai-server.ts';
import { DeterministicLanguageModel } from './testing/deterministic-language-model.ts';
import { startScriptedServer } from './testing/scripted-openai-server.ts';

const retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 };
const conversation = [{ role: 'user' as const, content: 'Tell me about locks.' }];
const point = (value: number): ScoreDistribution => [{ value, probability: 1 }];

/** The definition, summed directly: Σ_i Σ_j a_i b_j ([u_i > v_j] + ½[u_i = v_j]). */
function direct(a: ScoreDistribution, b: ScoreDistribution): number {
  let total = 0;
  for (const x of a) for (const y of b) total += x.probability * y.probability * (x.value > y.value ? 1 : x.value === y.value ? 0.5 : 0);
  return total;
}

function randomDistribution(random: () => number, size: number): ScoreDistribution {
  const weights = Array.from({ length: size }, () => random());
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight, index) => ({ value: index + 1, probability: weight / total }));
}

test('P(A higher) + ½P(tie): point masses, worked examples, the direct sum, exact ties and symmetry', () => {
  assert.equal(probabilityFirstHigher(point(7), point(3)), 1);
  assert.equal(probabilityFirstHigher(point(3), point(7)), 0);
  assert.equal(probabilityFirstHigher(point(5), point(5)), 0.5);
  // a = {2: ½, 3: ½}, b = {1: ½, 2: ½}: P(a > b) = ½·1 + ½·½ = ¾, P(equal) = ½·½ = ¼ → ¾ + ⅛.
  assert.equal(probabilityFirstHigher([{ value: 2, probability: 0.5 }, { value: 3, probability: 0.5 }], [{ value: 1, probability: 0.5 }, { value: 2, probability: 0.5 }]), 0.875);
  // Rubric samples [3, 4, 4] against [4]: loses once, ties twice → (0 + ½ + ½)/3.
  const samples = [3, 4, 4].map((value) => ({ value, probability: 1 / 3 }));
  assert.ok(Math.abs(probabilityFirstHigher(samples, point(4)) - 1 / 3) < 1e-15);
  const random = mulberry32(11);
  for (let trial = 0; trial < 50; trial++) {
    const a = randomDistribution(random, 10);
    const b = randomDistribution(random, 10);
    const p = probabilityFirstHigher(a, b);
    assert.ok(Math.abs(p - direct(a, b)) < 1e-12, `trial ${trial}: ${p} vs ${direct(a, b)}`);
    assert.ok(Math.abs(p + probabilityFirstHigher(b, a) - 1) < 1e-15, 'swapping gives 1 - P');
    assert.equal(probabilityFirstHigher(a, a.map((x) => ({ ...x }))), 0.5, 'equal distributions tie exactly');
  }
});

function pointwiseJudge(executor: RequestExecutor, seed = 1): PointwiseJudge {
  return new PointwiseJudge(executor, { steps: { ...defaultStepOptions, topLogprobs: 10 }, seed });
}

function inProcess(model: InProcessLanguageModel): RequestExecutor {
  return new RequestExecutor(new InProcessProvider(model), { concurrency: 4, timeoutMs: 1000, retry });
}

test('pointwise pair: both scored under one principle, P(A) from the two distributions, rationales labelled', async () => {
  const judge = new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(inProcess(new DeterministicLanguageModel())) }, clamp: null, tieMargin: 0 });
  const result = await judge.judge({ id: 'p1', conversation, candidates: ['[bad] Break it.', '[good] A lock has pins.'] });
  assert.equal(result.kind, 'ok', JSON.stringify(result));
  if (result.kind !== 'ok') return;
  assert.equal(result.judge, 'pointwise');
  assert.equal(result.preferred, 'B');
  assert.equal(result.probability, probabilityFirstHigher(scoreDistributionOf(result.scores.A), scoreDistributionOf(result.scores.B)));
  assert.ok(result.probability < 0.01, `P(A) ${result.probability}`);
  assert.ok(result.scores.B.score > 8.5 && result.scores.A.score < 2.5);
  assert.ok('principle' in result.scores.A && 'principle' in result.scores.B);
  if (!('principle' in result.scores.A) || !('principle' in result.scores.B)) return;
  assert.deepEqual(result.scores.A.principle, result.scores.B.principle, 'one principle for both responses');
  assert.deepEqual(result.principles, [result.scores.A.principle]);
  assert.match(result.rationale!, /^Response A \(\d\.\d\d\/10\): .+\n\nResponse B \(\d\.\d\d\/10\): .+/s);
  assert.equal(result.usage.requests, 4, 'rationale + score for each response');
});

test('pointwise pair: equal responses tie exactly at margin 0; a wide tieMargin ties a clear preference; clamp applies', async () => {
  const executor = inProcess(new DeterministicLanguageModel());
  const exact = new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(executor) }, clamp: null, tieMargin: 0 });
  const same = await exact.judge({ id: 'same', conversation, candidates: ['Pins and springs.', 'Pins and springs.'] });
  assert.deepEqual(same.kind === 'ok' ? [same.preferred, same.probability] : same, ['tie', 0.5]);
  const candidates: [string, string] = ['Pins.', `Pins. ${'x'.repeat(600)}`]; // the toy labeler rates long answers lower
  const plain = await exact.judge({ id: 'len', conversation, candidates });
  assert.ok(plain.kind === 'ok' && plain.preferred === 'A' && plain.probability > 0.6 && plain.probability < 0.9, JSON.stringify(plain.kind === 'ok' ? plain.probability : plain));
  const wide = await new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(executor) }, clamp: null, tieMargin: 0.45 }).judge({ id: 'len', conversation, candidates });
  assert.equal(wide.kind === 'ok' ? wide.preferred : wide, 'tie');
  const clamped = await new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(executor) }, clamp: { min: 0.4, max: 0.6 }, tieMargin: 0 }).judge({ id: 'len', conversation, candidates });
  assert.deepEqual(clamped.kind === 'ok' ? [clamped.preferred, clamped.probability] : clamped, ['A', 0.6]);
});

/** Rates every response 7, except one containing "garble": its score request is answered "banana". */
class GarblingModel implements InProcessLanguageModel {
  readonly modelId = 'garbling';
  readonly supportsLogprobs = true;
  async generate(request: InProcessGenerateRequest) {
    if (!request.messages.at(-1)!.content.includes('Rating=')) return { text: 'Considered.', tokens: null, promptTokens: 1 };
    const garbled = request.messages.some((message) => message.content.includes('garble'));
    const token = garbled ? 'banana' : '7';
    return { text: token, tokens: [{ token, logprob: 0, topLogprobs: [{ token, logprob: 0 }] }], promptTokens: 1 };
  }
}

test('one unparseable score fails the pair as a typed failure keeping the raw text and the other score', async () => {
  const judge = new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(inProcess(new GarblingModel())) }, clamp: null, tieMargin: 0 });
  const result = await judge.judge({ id: 'g', conversation, candidates: ['A fine answer.', 'garble garble'] });
  assert.equal(result.kind, 'invalid');
  if (result.kind !== 'invalid') return;
  assert.deepEqual([result.judge, result.candidate, result.reason, result.raw], ['pointwise', 'B', 'unparseable-verdict', 'banana']);
  assert.match(result.detail, /^candidate B: no verdict/);
  assert.equal(result.scores.A.kind === 'ok' ? result.scores.A.score : null, 7);
  assert.equal(result.scores.B.kind === 'invalid' ? result.scores.B.raw : null, 'banana');
  assert.equal(result.usage.requests, 2 + 1 + defaultStepOptions.maxParseAttempts, 'A: rationale + score; B: rationale + every score attempt');
  const both = await judge.judge({ id: 'g2', conversation, candidates: ['garble', 'garble too'] });
  assert.equal(both.kind === 'invalid' ? both.candidate : both, 'both');
});

test('an interrupt rejects instead of recording a failure', async () => {
  const judge = new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(inProcess(new DeterministicLanguageModel())) }, clamp: null, tieMargin: 0 });
  await assert.rejects(judge.judge({ id: 'i', conversation, candidates: ['a', 'b'] }, AbortSignal.abort()));
});

test('rubric pair over a server: sampled scores kept, the better response preferred, no principle; identities differ by kind', async () => {
  const server = await startScriptedServer();
  try {
    const executor = new RequestExecutor(new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} }), { concurrency: 4, timeoutMs: 1000, retry });
    const rubric = new RubricJudge(executor, { template: loadTemplate('rubric'), maxTokens: 200, temperature: 1, samples: 3, maxParseAttempts: 2, seed: 1 });
    const judge = new ScoredPairJudge({ scorer: { kind: 'rubric', judge: rubric }, clamp: null, tieMargin: 0 });
    const result = await judge.judge({ id: 'r', conversation, candidates: ['[good] Pins and springs.', '[bad] whatever'] });
    assert.equal(result.kind, 'ok', JSON.stringify(result));
    if (result.kind !== 'ok') return;
    assert.deepEqual([result.judge, result.preferred, result.probability, result.principles], ['rubric', 'A', 1, []]);
    assert.ok('samples' in result.scores.A);
    if (!('samples' in result.scores.A)) return;
    assert.equal(result.scores.A.samples.length, 3);
    assert.match(result.scores.A.samples[2]!.justification, /Score: \d/);
    assert.match(result.rationale!, /^Response A \(\d\.\d\d\/5\): .*Score: \d/s);

    const pointwise = new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(executor) }, clamp: null, tieMargin: 0 });
    const pairwise = new PairwiseJudge(executor, { seed: 1 });
    const kinds = [judge.identity(), pointwise.identity(), pairwise.identity()].map((identity) => identity.judge);
    assert.deepEqual(kinds, ['rubric', 'pointwise', 'pairwise']);
    assert.notDeepEqual(pointwise.identity(), new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseJudge(executor) }, clamp: null, tieMargin: 0.1 }).identity(), 'tieMargin is part of the key');
  } finally {
    await server.close();
  }
});
