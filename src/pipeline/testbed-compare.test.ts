// The testbed labeler's `compare: pointwise` (labeler.compare in a run config): a pair's P(A) comes from a rating of
// each response alone (ScoredPairJudge, whose rule and order-freeness feedback/scored-pair-judge.test.ts checks); the
// loop receives it as a pairwise result with no presentation orders, and a run with it records such judgments.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pairwiseFromScores } from '../feedback/scored-pair-judge.ts';
import { buildTestbed, type BuiltTestbed } from '../testbed/index.ts';
import { rlaifRun } from './rlaif-run.ts';
import { RunStore } from './run-store.ts';
import { testbedLabeler } from './testbed-setup.ts';
import { TINY_TESTBED } from './testing/tiny-testbed.ts';

let dir = '', testbed: BuiltTestbed;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rlaif-testbed-compare-'));
  testbed = await buildTestbed({ seed: 4, cacheDirectory: join(dir, 'cache'), config: TINY_TESTBED });
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('pairwiseFromScores: the scored pair as a pairwise result with no presentation orders; a failed rating fails the pair with its reason', () => {
  const usage = { requests: 2, promptTokens: 10, completionTokens: 4 };
  const principle = { id: 'truthful', text: 'Be truthful.' };
  const rating = (score: number) => ({ kind: 'ok' as const, score, reward: (score - 5.5) / 4.5, distribution: Array.from({ length: 10 }, (_, i) => (i + 1 === score ? 1 : 0)), labelSource: 'logprobs' as const, rationale: `r${score}`, principle, usage });
  const ok = pairwiseFromScores({ kind: 'ok', judge: 'pointwise', preferred: 'A', probability: 1, rationale: 'Response A (7.00/10): r7\n\nResponse B (3.00/10): r3', principles: [principle], scores: { A: rating(7), B: rating(3) }, usage });
  assert.deepEqual(ok, { kind: 'ok', preferred: 'A', probability: 1, rationale: 'Response A (7.00/10): r7\n\nResponse B (3.00/10): r3', principles: [principle], positions: [], usage });
  const failure = { kind: 'invalid' as const, reason: 'unparseable-verdict' as const, raw: ' an', detail: 'no verdict', usage };
  const failed = pairwiseFromScores({ ...failure, judge: 'pointwise', candidate: 'B', detail: 'candidate B: no verdict', scores: { A: rating(7), B: failure } });
  assert.deepEqual(failed, { ...failure, detail: 'candidate B: no verdict' });
});

test('compare pointwise: the testbed labeler compares through two ratings, named by the pointwise template', async () => {
  const prompt = testbed.prompts.find((p) => p.split === 'validation')!;
  const scored = testbedLabeler(testbed, 0, 'pointwise'), sideBySide = testbedLabeler(testbed, 0, 'pairwise');
  assert.notEqual(scored.templateVersion, sideBySide.templateVersion, 'the records name the pointwise template');
  const input = { id: 'pair-0', conversation: prompt.messages, candidates: [`${prompt.entity} is small.`, 'I will not help.'] as [string, string] };
  const result = await scored.pairwise(input, prompt.principleIds);
  // The tiny testbed's labeler (4 training steps) writes no score: the pair fails naming the candidate ratings.
  if (result.kind === 'ok') assert.match(result.rationale ?? '', /^Response A \([\d.]+\/10\): /);
  else assert.match(result.detail, /^candidate A: /);
  const shown = await sideBySide.pairwise(input, prompt.principleIds);
  if (shown.kind !== 'ok') assert.doesNotMatch(shown.detail, /^candidate A: /);
});

test('rlaif run with labeler.compare pointwise: its judgments are pairs from two ratings, named by the pointwise template', async () => {
  const config = join(dir, 'run.yaml');
  // The tiny testbed's labeler writes no rating: the labeler check is off, or the run would stop before round 1.
  writeFileSync(config, 'labeler: {kind: testbed, compare: pointwise}\nrounds: 1\niterationsPerRound: 1\npromptsPerRound: 2\nsamplesPerPrompt: 3\nmaxNewTokens: 8\nvalidationPrompts: 2\ntestPrompts: 2\nanchorPairs: 4\n'
    + 'gate: {minLabelerAgreement: 0, minLabelerInformative: 0}\n');
  const result = await rlaifRun({ configPath: config, seed: 4, out: join(dir, 'run'), testbed: { config: TINY_TESTBED, cacheDirectory: join(dir, 'cache') } });
  const store = RunStore.open(result.dir, result.config);
  try {
    const asked = store.all('judgment').filter((j) => j.source === 'pairwise-ai' && !j.rationale?.startsWith('identical responses'));
    assert.ok(asked.length > 0, 'pairs were judged');
    const version = testbedLabeler(testbed, 4, 'pointwise').templateVersion;
    for (const j of asked) {
      assert.deepEqual(j.orders, [], `${j.id}: no presentation orders`);
      assert.equal(j.templateVersion, version);
      if (j.ok) assert.match(j.rationale ?? '', /^Response A \(/);
      else assert.match(j.failure ?? '', /: candidate A: /, `${j.id}: a failed pair names its ratings`);
    }
    assert.ok(asked.some((j) => j.stage === 'labeler-check') && asked.some((j) => j.stage === 'evaluate'), 'the anchor check and the gate compare the same way');
  } finally {
    store.close();
  }
});
