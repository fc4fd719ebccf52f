// Tests the judge section of the `rlaif judge` config: judge.kind defaults to pairwise (old configs parse as before),
// each kind takes its own keys, and a key of another kind, a bad kind or a useless combination is an error naming it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJudgeRunConfig } from './judge-run-config.ts';

const base = { input: { path: 'pairs.jsonl', format: 'trl' }, provider: { kind: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', model: 'm' } };
const parse = (judge: unknown) => parseJudgeRunConfig({ ...base, judge }, 'x.yaml');

test('judge.kind defaults to pairwise with the old defaults; pointwise and rubric take their own', () => {
  const old = parseJudgeRunConfig(base, 'x.yaml');
  assert.equal(old.judge.kind, 'pairwise');
  assert.deepEqual(parse({ bothOrders: false }).judge, parse({ kind: 'pairwise', bothOrders: false }).judge);
  if (old.judge.kind === 'pairwise') assert.deepEqual([old.judge.bothOrders, old.judge.principleMode, old.judge.topLogprobs, old.judge.chainOfThought], [true, 'sample-one', 5, true]);
  const pointwise = parse({ kind: 'pointwise', topLogprobs: 10, chainOfThought: false, tieMargin: 0.05 }).judge;
  assert.deepEqual(pointwise.kind === 'pointwise' ? [pointwise.principleMode, pointwise.topLogprobs, pointwise.chainOfThought, pointwise.tieMargin] : pointwise, ['sample-one', 10, false, 0.05]);
  assert.equal('bothOrders' in pointwise, false, 'no pairwise-only defaults in a pointwise config');
  const rubric = parse({ kind: 'rubric', samples: 3, rationaleTemperature: 0.7 }).judge;
  assert.deepEqual(rubric.kind === 'rubric' ? [rubric.samples, rubric.rationaleMaxTokens, rubric.maxParseAttempts] : rubric, [3, 512, 3]);
  assert.ok(Object.isFrozen(rubric));
});

test('a key of another judge kind is an error naming the kind it belongs to and why', () => {
  assert.throws(() => parse({ kind: 'pointwise', bothOrders: false }), /^Error: x\.yaml: key 'judge\.bothOrders' is for judge\.kind 'pairwise', not 'pointwise': .*no order to swap$/);
  assert.throws(() => parse({ kind: 'rubric', fewShot: [] }), /key 'judge\.fewShot' is for judge\.kind 'pairwise', not 'rubric': its worked examples compare two responses/);
  assert.throws(() => parse({ kind: 'rubric', constitution: 'c.yaml' }), /key 'judge\.constitution' is for judge\.kind 'pairwise' or 'pointwise', not 'rubric': the rubric judge reads its score from the 'Score: N'/);
  assert.throws(() => parse({ kind: 'rubric', topLogprobs: 10 }), /key 'judge\.topLogprobs' is for judge\.kind 'pairwise' or 'pointwise', not 'rubric'/);
  assert.throws(() => parse({ samples: 3 }), /key 'judge\.samples' is for judge\.kind 'rubric', not 'pairwise': .*judge\.votes/);
  assert.throws(() => parse({ kind: 'pointwise', bothOrder: false }), /x\.yaml: unknown key 'judge\.bothOrder'/);
});

test('bad kinds and combinations that cannot work name the field', () => {
  assert.throws(() => parse({ kind: 'pointwize' }), /x\.yaml: field 'judge\.kind': expected 'pairwise', 'pointwise' or 'rubric'/);
  assert.throws(() => parse({ kind: 'pointwise', principleMode: 'aggregate-all' }), /field 'judge\.principleMode': judge\.kind 'pointwise' scores both responses under one principle/);
  assert.throws(() => parse({ kind: 'rubric', samples: 3 }), /field 'judge\.samples': samples above 1 at rationaleTemperature 0/);
  assert.throws(() => parse({ kind: 'pointwise', topLogprobs: 21 }), /field 'judge\.topLogprobs': at most 20 with an openai-compatible provider/);
  assert.throws(() => parse({ kind: 'rubric', tieMargin: 0.7 }), /field 'judge\.tieMargin'/);
});
