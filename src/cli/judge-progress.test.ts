// Tests the judge progress line: a run waiting on a hung server says it is waiting, for how long, with its retries and
// the last error, instead of `0/2 pairs | eta 0s`; an estimate only once pairs finish.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressLine } from './judge-progress.ts';

test('waiting, retries and the last error show while nothing finishes; an eta once pairs do', () => {
  const hung = { total: 2, done: 0, failures: 0, cached: 0, retries: 3, lastError: 'timeout: no complete response within 60000 ms', startedAt: 0, lastResultAt: 0 };
  assert.equal(progressLine(hung, 95_000), 'judging 0/2 pairs | 0 failed | 0 cached | waiting 1m35s for the labeler | 3 retries | last error: timeout: no complete response within 60000 ms');
  const moving = { ...hung, done: 1, retries: 0, lastError: null, lastResultAt: 9_000 };
  assert.equal(progressLine(moving, 10_000), 'judging 1/2 pairs | 0 failed | 0 cached | eta 10s');
  assert.equal(progressLine({ ...moving, done: 2 }, 10_000), 'judging 2/2 pairs | 0 failed | 0 cached');
  assert.match(progressLine({ ...moving, lastError: 'x'.repeat(200) }, 10_000), /last error: x{77}\.\.\.$/);
});
