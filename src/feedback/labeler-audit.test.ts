// Tests the labeler audit on hand-built judgments whose metrics are worked out by hand (pairwise, and pairs labeled from
// two scores, whose position figures must read n/a), and on a real judge over position-biased and vote-only fake labelers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OrderVerdict, PairwiseResult, PointwiseJudgment } from './judgment-types.ts';
import { auditLabeler, cohenKappa, expectedCalibrationError, formatAudit, wilsonInterval } from './labeler-audit.ts';
import type { ScoredPairJudgment, ScoredPairResult } from './scored-pair-judge.ts';
import { defaultStepOptions } from './judge-steps.ts';
import { PairwiseJudge } from './pairwise-judge.ts';
import { InProcessProvider } from './providers/in-process-provider.ts';
import { RequestExecutor } from './request-executor.ts';
import { DeterministicLanguageModel } from './testing/deterministic-language-model.ts';
import { defaultBrain } from './testing/scripted-openai-server.ts';

function verdict(order: 'A-first' | 'B-first', probabilityFirst: number): OrderVerdict {
  return { order, probabilityFirst, probabilityA: order === 'A-first' ? probabilityFirst : 1 - probabilityFirst, rationale: 'r', labelSource: 'logprobs', votes: null, verdictRaw: '1' };
}

function judged(forwardFirst: number, reversedFirst: number): PairwiseResult {
  const forward = verdict('A-first', forwardFirst);
  const reversed = verdict('B-first', reversedFirst);
  const probabilityA = (forward.probabilityA + reversed.probabilityA) / 2;
  return {
    kind: 'ok',
    preferred: probabilityA === 0.5 ? 'tie' : probabilityA > 0.5 ? 'A' : 'B',
    probability: probabilityA,
    rationale: 'r',
    principles: [{ id: 'p', text: 't' }],
    positions: [{ principle: { id: 'p', text: 't' }, forward, reversed, probabilityA }],
    usage: { requests: 4, promptTokens: 0, completionTokens: 0 },
  };
}

test('metrics on a worked example', () => {
  const usage = { requests: 1, promptTokens: 0, completionTokens: 0 };
  const audit = auditLabeler([
    { gold: 'A', result: judged(0.9, 0.2) }, // P(A) = (0.9 + 0.8)/2 = 0.85 right; orders consistent
    { gold: 'B', result: judged(0.7, 0.8) }, // P(A) = (0.7 + 0.2)/2 = 0.45 right; both chose position 1
    { gold: 'A', result: judged(0.6, 0.6) }, // P(A) = 0.5 tie; both chose position 1
    { gold: 'B', result: judged(0.8, 0.3) }, // P(A) = 0.75 wrong
    { gold: 'A', result: { kind: 'invalid', reason: 'unparseable-verdict', raw: 'banana', detail: '', usage } },
  ]);
  assert.equal(audit.pairs, 5);
  assert.equal(audit.judged, 4);
  assert.equal(audit.parseFailureRate, 0.2);
  assert.equal(audit.accuracy, (1 + 1 + 0.5 + 0) / 4);
  assert.deepEqual(audit.accuracyInterval, wilsonInterval(0.625, 4), 'the interval is over the 4 labeled pairs');
  assert.match(formatAudit(audit), /95% interval \(Wilson\)\s+\d+\.\d%-\d+\.\d%/);
  assert.equal(audit.accuracyForwardOnly, (1 + 0 + 1 + 0) / 4);
  assert.equal(audit.samePositionPreferred, 2 / 4);
  assert.equal(audit.positionOneRate, 6 / 8);
  assert.equal(audit.votesLabelRate, 0);
  assert.equal(audit.tieRate, 1 / 4);
  // kappa over the 3 non-ties: labeler (1,0,1) vs gold (1,0,0): po = 2/3, pe = (2/3)(1/3)+(1/3)(2/3) = 4/9.
  assert.ok(Math.abs(audit.cohenKappa! - (2 / 3 - 4 / 9) / (1 - 4 / 9)) < 1e-12);
  const table = formatAudit(audit);
  assert.match(table, /78\.0%/);
  assert.match(table, /18\.0%/);
  assert.match(table, /50\.0%/);
});

test('pairs without a gold label leave agreement figures n/a and still measure position bias and ties', () => {
  const audit = auditLabeler([
    { gold: null, result: judged(0.9, 0.7) }, // both orders chose position 1
    { gold: null, result: judged(0.6, 0.4) }, // P(A) = 0.6; orders consistent
    { gold: 'A', result: judged(0.2, 0.9) },  // P(A) = 0.15: wrong
  ]);
  assert.equal(audit.judged, 3);
  assert.equal(audit.labeled, 1);
  assert.equal(audit.accuracy, 0, 'accuracy counts the one labeled pair only');
  assert.equal(audit.samePositionPreferred, 1 / 3);
  const unlabeled = auditLabeler([{ gold: null, result: judged(0.9, 0.7) }]);
  assert.equal(unlabeled.accuracy, null);
  assert.equal(unlabeled.cohenKappa, null);
  assert.equal(unlabeled.expectedCalibrationError, null);
  assert.equal(unlabeled.samePositionPreferred, 1);
  assert.match(formatAudit(unlabeled), /alignment \/ accuracy \(order-averaged\)\s+n\/a/);
});

test('kappa and calibration edge cases', () => {
  assert.equal(cohenKappa([[1, 1], [0, 0]]), 1);
  assert.equal(cohenKappa([[1, 0], [0, 1]]), -1);
  assert.equal(cohenKappa([]), null);
  // Perfectly calibrated: confidence 0.75 and 3 of 4 right.
  assert.equal(expectedCalibrationError([0, 1, 2, 3].map((index) => ({ confidence: 0.75, correct: index < 3 ? 1 : 0 }))), 0);
  // Overconfident: confidence 0.95, half right.
  assert.ok(Math.abs(expectedCalibrationError([{ confidence: 0.95, correct: 1 }, { confidence: 0.95, correct: 0 }])! - 0.45) < 1e-12);
});

function scoredPair(preferred: 'A' | 'B' | 'tie', probability: number): ScoredPairResult {
  const usage = { requests: 2, promptTokens: 0, completionTokens: 0 };
  const principle = { id: 'p', text: 't' };
  const score = (value: number): PointwiseJudgment => ({ kind: 'ok', score: value, reward: (value - 5.5) / 4.5, distribution: Array.from({ length: 10 }, (_, index) => (index + 1 === value ? 1 : 0)), labelSource: 'logprobs', rationale: 'r', principle, usage });
  const [a, b] = preferred === 'A' ? [8, 3] : preferred === 'B' ? [3, 8] : [5, 5];
  return { kind: 'ok', judge: 'pointwise', preferred, probability, rationale: 'r', principles: [principle], scores: { A: score(a), B: score(b) }, usage: { requests: 4, promptTokens: 0, completionTokens: 0 } };
}

test('pairs labeled from two scores: agreement, ties and parse failures measured; position figures n/a, never 0', () => {
  const usage = { requests: 1, promptTokens: 0, completionTokens: 0 };
  const scoredA = (scoredPair('A', 1) as ScoredPairJudgment).scores.A;
  const unparseable: ScoredPairResult = { kind: 'invalid', judge: 'pointwise', candidate: 'B', reason: 'unparseable-verdict', raw: 'banana', detail: 'candidate B: no verdict', usage, scores: { A: scoredA, B: { kind: 'invalid', reason: 'unparseable-verdict', raw: 'banana', detail: '', usage } } };
  const audit = auditLabeler([
    { gold: 'A', result: scoredPair('A', 0.9) }, // right
    { gold: 'A', result: scoredPair('B', 0.2) }, // wrong
    { gold: 'B', result: scoredPair('tie', 0.5) }, // half
    { gold: 'B', result: scoredPair('B', 0.3) }, // right
    { gold: null, result: scoredPair('A', 0.7) }, // no gold: counts for ties only
    { gold: 'A', result: unparseable },
  ], 0, 'pointwise');
  assert.equal(audit.judge, 'pointwise');
  assert.deepEqual([audit.pairs, audit.judged, audit.labeled], [6, 5, 4]);
  assert.equal(audit.accuracy, (1 + 0 + 0.5 + 1) / 4);
  assert.equal(audit.tieRate, 1 / 5);
  assert.equal(audit.parseFailureRate, 1 / 6);
  // kappa over the 3 non-ties: labeler (A, B, B) vs gold (A, A, B): po = 2/3, pe = (1/3)(2/3) + (2/3)(1/3) = 4/9.
  assert.ok(Math.abs(audit.cohenKappa! - (2 / 3 - 4 / 9) / (1 - 4 / 9)) < 1e-12);
  // ECE: confidences 0.9, 0.8, 0.5, 0.7 with credits 1, 0, 0.5, 1 in four different bins.
  assert.ok(Math.abs(audit.expectedCalibrationError! - (0.1 + 0.8 + 0 + 0.3) / 4) < 1e-12);
  for (const figure of [audit.accuracyForwardOnly, audit.samePositionPreferred, audit.positionOneRate]) assert.equal(figure, null);
  assert.equal(audit.votesLabelRate, 0, 'the pointwise scores were read from logprobs');
  const table = formatAudit(audit);
  assert.match(table, /same position preferred \(both orders\)\s+n\/a \*/);
  assert.match(table, /alignment \/ accuracy \(pointwise scores\)\s+62\.5%/);
  assert.match(table, /\* not applicable: the pointwise judge scores each response alone/);
  assert.throws(() => auditLabeler([{ gold: 'A', result: judged(0.9, 0.2) }], 0, 'pointwise'), /a pairwise judgment in a pointwise audit/);
  assert.throws(() => auditLabeler([{ gold: 'A', result: scoredPair('A', 0.9) }]), /a pointwise judgment in a pairwise audit/);
});

/** Judges 12 pairs with the pairwise judge over a fake labeler and audits them (every pair's gold is A). */
async function auditFakeLabeler(options: { positionBias: number; supportsLogprobs?: boolean; candidates: (index: number) => [string, string] }) {
  const model = new DeterministicLanguageModel({ brain: defaultBrain(options.positionBias), supportsLogprobs: options.supportsLogprobs ?? true });
  const executor = new RequestExecutor(new InProcessProvider(model), { concurrency: 4, timeoutMs: 1000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 } });
  const judge = new PairwiseJudge(executor, { steps: { ...defaultStepOptions, votes: 9 }, seed: 3 });
  const items = [];
  for (let index = 0; index < 12; index++) {
    const result = await judge.judge({ id: `pair-${index}`, conversation: [{ role: 'user', content: `Question ${index}?` }], candidates: options.candidates(index) });
    items.push({ gold: 'A' as const, result });
  }
  return auditLabeler(items);
}

test('same position preferred: high for a position-biased labeler, 0 for a consistent one (single-order labels)', async () => {
  // Equal responses and a +0.3 bias toward the first position: every order prefers position 1.
  const biased = await auditFakeLabeler({ positionBias: 0.3, candidates: (index) => [`Answer ${index}.`, `Reply ${index}.`] });
  assert.equal(biased.samePositionPreferred, 1);
  assert.equal(biased.positionOneRate, 1);
  // A clear quality gap and no bias: the better response wins in both orders, so never the same position.
  const consistent = await auditFakeLabeler({ positionBias: 0, candidates: (index) => [`[good] Answer ${index}.`, `[bad] Reply ${index}.`] });
  assert.equal(consistent.samePositionPreferred, 0);
  assert.equal(consistent.positionOneRate, 0.5);
  assert.equal(consistent.accuracy, 1);
});

test('labels read from votes because the provider gave no logprobs are counted', async () => {
  const candidates = (index: number): [string, string] => [`[good] Answer ${index}.`, `[bad] Reply ${index}.`];
  const votes = await auditFakeLabeler({ positionBias: 0, supportsLogprobs: false, candidates });
  assert.equal(votes.votesLabelRate, 1);
  assert.match(formatAudit(votes), /labels from votes \(no logprobs\)\s+100\.0%/);
  assert.equal((await auditFakeLabeler({ positionBias: 0, candidates })).votesLabelRate, 0);
});

test('wilsonInterval: textbook values, inside [0, 1] at the edges, null with no trials', () => {
  const close = (got: [number, number] | null, want: [number, number]) => assert.ok(got && Math.abs(got[0] - want[0]) < 5e-4 && Math.abs(got[1] - want[1]) < 5e-4, `${got} vs ${want}`);
  close(wilsonInterval(0.5, 100), [0.4038, 0.5962]);
  close(wilsonInterval(0, 10), [0, 0.2775]);
  close(wilsonInterval(1, 10), [0.7225, 1]);
  close(wilsonInterval(0.581, 124), [0.4930, 0.6642]);
  assert.equal(wilsonInterval(0.5, 0), null);
});
