// Tests the JSONL judgment cache: persistence across opens, a torn last line ignored and trimmed, corrupt lines skipped.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { JudgmentCache } from './judgment-cache.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-cache-'));
after(() => rmSync(directory, { recursive: true, force: true }));

test('entries persist across opens; keys depend on identity and input', () => {
  const path = join(directory, 'a.jsonl');
  const cache = JudgmentCache.open<number>(path);
  const key = JudgmentCache.keyOf({ model: 'm', templateVersion: 'v1' }, { id: '1', text: 'x' });
  assert.notEqual(key, JudgmentCache.keyOf({ model: 'm', templateVersion: 'v2' }, { id: '1', text: 'x' }));
  assert.equal(key, JudgmentCache.keyOf({ templateVersion: 'v1', model: 'm' }, { text: 'x', id: '1' }), 'key ignores property order');
  assert.equal(JudgmentCache.keyer({ templateVersion: 'v1', model: 'm' })({ text: 'x', id: '1' }), key, 'keyer gives the same keys');
  cache.set(key, 42);
  cache.close();
  const reopened = JudgmentCache.open<number>(path);
  assert.equal(reopened.get(key), 42);
  assert.equal(reopened.get('missing'), undefined);
  assert.equal(reopened.hits, 1);
  assert.equal(reopened.misses, 1);
  reopened.close();
});

test('a torn last line is ignored, trimmed, and later appends stay readable', () => {
  const path = join(directory, 'torn.jsonl');
  const cache = JudgmentCache.open<string>(path);
  cache.set('k1', 'one');
  cache.set('k2', 'two');
  cache.close();
  appendFileSync(path, '{"key":"k3","value":"thr'); // crash mid-write
  const reopened = JudgmentCache.open<string>(path);
  assert.equal(reopened.size, 2);
  assert.equal(reopened.skippedLines, 1);
  assert.equal(reopened.get('k3'), undefined);
  reopened.set('k4', 'four');
  reopened.close();
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  assert.equal(lines.length, 3);
  lines.forEach((line) => JSON.parse(line));
  const again = JudgmentCache.open<string>(path);
  assert.equal(again.get('k4'), 'four');
  assert.equal(again.skippedLines, 0);
  again.close();
});

test('a corrupt middle line is skipped and counted, not fatal', () => {
  const path = join(directory, 'corrupt.jsonl');
  appendFileSync(path, '{"key":"a","value":1}\nnot json at all\n{"key":"b","value":2}\n');
  const cache = JudgmentCache.open<number>(path);
  assert.equal(cache.size, 2);
  assert.equal(cache.skippedLines, 1);
  cache.close();
});
