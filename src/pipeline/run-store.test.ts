import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { recordId, type JudgmentRecord, type PromptRecord, type RewardRecord, type SampleRecord } from './run-records.ts';
import { queryRun } from './run-store-sql.ts';
import { RunStore } from './run-store.ts';
import { writerSample } from './testing/writer-sample.ts';

function temp(): string {
  return mkdtempSync(join(tmpdir(), 'rlaif-store-'));
}

function prompt(): PromptRecord {
  return { id: recordId('prompt', 'p1'), kind: 'prompt', round: -1, parents: [], promptId: 'p1', application: 'truthfulness',
    promptKind: 'known-fact', split: 'train', messages: [{ role: 'user', content: 'Where does Ana live?' }], principleIds: ['honest'] };
}

function sample(p: PromptRecord, index: number, text: string): SampleRecord {
  return { id: recordId('sample', { round: 1, prompt: p.id, index }), kind: 'sample', round: 1, parents: [p.id], stage: 'rollout',
    policyRound: 0, index, text, tokens: [5, 6, 2], logprobs: [-0.5, -1, -0.1] };
}

function judgment(a: SampleRecord, b: SampleRecord): JudgmentRecord {
  return { id: recordId('judgment', { a: a.id, b: b.id }), kind: 'judgment', round: 1, parents: [a.id, b.id], stage: 'feedback',
    source: 'pairwise-ai', ok: true, failure: null, probabilityA: 0.8, orders: [], score: null,
    rationale: 'Response 2 says Ana lives in Oslo; she lives in Bergen.', principle: { id: 'honest', text: 'Do not state falsehoods.' },
    labelerModel: 'embedded:test', templateVersion: '1' };
}

test('idempotent puts, trace from reward to principle and prompt, DuckDB reads the records', async () => {
  const dir = temp();
  try {
    const store = RunStore.open(dir, { seed: 1 });
    const p = prompt(), a = sample(p, 0, 'Bergen.'), b = sample(p, 1, 'Oslo.'), j = judgment(a, b);
    const r: RewardRecord = { id: recordId('reward', a.id), kind: 'reward', round: 1, parents: [a.id, j.id],
      components: { 'pairwise-ai': 0.6 }, weights: { 'pairwise-ai': 1 }, total: 0.6 };
    for (const record of [p, a, b, j, r]) assert.equal(store.put(record), true);
    assert.equal(store.put({ ...a, text: 'changed' }), false, 'an id already present is not written again');
    store.close();
    const reopened = RunStore.open(dir, { seed: 1 });
    assert.equal(reopened.count('sample'), 2);
    assert.equal(reopened.get('sample', a.id)?.text, 'Bergen.');
    const trace = reopened.trace(r.id);
    assert.equal(trace.prompt.promptId, 'p1');
    assert.deepEqual(trace.samples.map((s) => s.text), ['Bergen.', 'Oslo.']);
    assert.equal(trace.judgments[0]?.principle?.id, 'honest');
    assert.match(trace.judgments[0]?.rationale ?? '', /Bergen/);
    reopened.close();
    const rows = await queryRun(dir, `SELECT s.text, len(s.tokens) AS n, j.principle.id AS principle FROM samples s
      JOIN judgments j ON list_contains(j.parents, s.id) ORDER BY s.index`);
    assert.deepEqual(rows, [{ text: 'Bergen.', n: 3, principle: 'honest' }, { text: 'Oslo.', n: 3, principle: 'honest' }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a torn last line is dropped on open; a corrupt line elsewhere is an error naming file:line; a changed config is refused', () => {
  const dir = temp();
  try {
    const store = RunStore.open(dir, { seed: 1 });
    const p = prompt();
    store.put(p);
    store.put(sample(p, 0, 'x'));
    store.close();
    const file = join(dir, 'records', 'samples.jsonl');
    appendFileSync(file, '{"id":"sample-torn","kind":"sam');
    const reopened = RunStore.open(dir, { seed: 1 });
    assert.equal(reopened.count('sample'), 1);
    assert.ok((reopened.droppedOnOpen().sample ?? 0) > 0);
    reopened.put(sample(p, 1, 'y'));                  // the next append starts on a clean line
    reopened.close();
    appendFileSync(file, '{"id":"sample-cut","te\n');  // a cut-short last line that happens to end in a newline
    const again = RunStore.open(dir, { seed: 1 });
    assert.equal(again.count('sample'), 2);
    again.close();
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 2);
    writeFileSync(file, `not json\n${readFileSync(file, 'utf8')}`);
    assert.throws(() => RunStore.open(dir, { seed: 1 }), /samples\.jsonl:1: corrupt record/);
    assert.throws(() => RunStore.open(dir, { seed: 2 }), /another config \(first difference at 'seed'\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a writer killed with SIGKILL mid-write, restarted, leaves every record exactly once', async () => {
  const dir = temp(), count = 120;
  const child = fileURLToPath(new URL('./testing/record-writer-process.ts', import.meta.url));
  const runChild = (killAfterMs: number | null) => new Promise<void>((resolve) => {
    // The child prints 'open' once the store is open; the kill lands killAfterMs later, while it appends.
    const process_ = spawn(process.execPath, ['--import', 'tsx', child, dir, String(count)], { stdio: ['ignore', 'pipe', 'ignore'] });
    let timer: NodeJS.Timeout | null = null;
    process_.stdout.once('data', () => { if (killAfterMs !== null) timer = setTimeout(() => process_.kill('SIGKILL'), killAfterMs); });
    process_.on('exit', () => { if (timer) clearTimeout(timer); resolve(); });
  });
  try {
    let killedMidway = 0;
    for (const delay of [2, 10, 25]) {
      await runChild(delay);
      const store = RunStore.open(dir, { test: 'kill' });
      const n = store.count('sample');
      store.all('sample').forEach((s, i) => assert.deepEqual(s, writerSample(i), 'records are an exact prefix of the sequence'));
      if (n > 0 && n < count) killedMidway++;
      store.close();
    }
    await runChild(null);
    const store = RunStore.open(dir, { test: 'kill' });
    assert.equal(store.count('sample'), count);
    store.all('sample').forEach((s, i) => assert.deepEqual(s, writerSample(i)));
    store.close();
    const lines = readFileSync(join(dir, 'records', 'samples.jsonl'), 'utf8').trim().split('\n');
    assert.equal(lines.length, count, 'no duplicated line on disk');
    assert.ok(killedMidway > 0, 'at least one kill landed while records were being written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
