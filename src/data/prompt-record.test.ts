// The shared prompts schema: text or messages (or a TRL message-list prompt, or HH-RLHF transcripts), optional id
// (default prompt-<line>), the run's optional split / application / kind / principles, extra keys ignored; a bad line,
// a repeated id or an empty file is an error naming the file (and line). JSONL, Parquet and Hugging Face–style dataset
// folders read the same rows. The shipped example prompts file reads.
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPromptDataset, readPromptRecords, splitFromFileName } from './prompt-record.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-prompts-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const file = (name: string, text: string) => { const path = join(directory, name); writeFileSync(path, text); return path; };

test('text and message prompts, ids, extra keys; the shipped examples/tiny-world-prompts.jsonl', () => {
  const path = file('p.jsonl', '{"prompt": "a", "category": "x"}\n{"id": 7, "messages": [{"role": "user", "content": "b"}]}\n');
  assert.deepEqual(readPromptRecords(path), [
    { id: 'prompt-1', line: 1, where: `${path}:1`, prompt: 'a' },
    { id: '7', line: 2, where: `${path}:2`, messages: [{ role: 'user', content: 'b' }] },
  ]);
  const shipped = readPromptRecords(fileURLToPath(new URL('../../examples/tiny-world-prompts.jsonl', import.meta.url)));
  assert.equal(shipped[0].id, 'ada-food');
  assert.equal(shipped[0].prompt, 'Q: What does Ada eat? A:');
});

test('bad lines, repeated ids and empty files are errors naming the file', () => {
  assert.throws(() => readPromptRecords(file('bad.jsonl', '{"prompt": "a"}\n{"text": "b"}\n')), /bad\.jsonl:2: needs a string 'prompt', a 'messages' list/);
  assert.throws(() => readPromptRecords(file('roles.jsonl', '{"messages": [{"role": "robot", "content": "b"}]}\n')), /roles\.jsonl:1: needs/);
  assert.throws(() => readPromptRecords(file('dup.jsonl', '{"id": "x", "prompt": "a"}\n{"id": "x", "prompt": "b"}\n')), /dup\.jsonl:2: prompt id 'x' repeats line 1/);
  assert.throws(() => readPromptRecords(file('empty.jsonl', '\n')), /empty\.jsonl: no prompts/);
});

/** Writes rows (JSON objects) as a Parquet file through DuckDB, as pandas or the Hugging Face Hub would store them. */
async function parquet(path: string, rows: object[]): Promise<string> {
  const staging = `${path}.rows.jsonl`;
  writeFileSync(staging, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`COPY (SELECT * FROM read_json_auto('${staging}')) TO '${path}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(staging);
  }
  return path;
}

const HH = { chosen: '\n\nHuman: How do I pick a lock?\n\nAssistant: I cannot help with that.', rejected: '\n\nHuman: How do I pick a lock?\n\nAssistant: Use a pin.' };

test('TRL conversational prompts, HH-RLHF transcripts and the run\'s split, application, kind and principles', () => {
  const path = file('shapes.jsonl', [
    { prompt: [{ role: 'user', content: 'hi' }], chosen: [{ role: 'assistant', content: 'hello' }] },
    HH,
    { id: 'm', messages: [{ role: 'user', content: 'x' }], split: 'test', application: 'truthfulness', kind: 'known-fact', principles: ['honest'] },
  ].map((row) => JSON.stringify(row)).join('\n'));
  assert.deepEqual(readPromptRecords(path), [
    { id: 'prompt-1', line: 1, where: `${path}:1`, messages: [{ role: 'user', content: 'hi' }] },
    { id: 'prompt-2', line: 2, where: `${path}:2`, messages: [{ role: 'user', content: 'How do I pick a lock?' }] },
    { id: 'm', line: 3, where: `${path}:3`, split: 'test', application: 'truthfulness', kind: 'known-fact', principles: ['honest'], messages: [{ role: 'user', content: 'x' }] },
  ]);
  const implicit = { chosen: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'good' }], rejected: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'bad' }] };
  assert.deepEqual(readPromptRecords(file('implicit.jsonl', JSON.stringify(implicit) + '\n'))[0]!.messages, [{ role: 'user', content: 'q' }], 'TRL implicit prompt');
  assert.throws(() => readPromptRecords(file('apart.jsonl', JSON.stringify({ chosen: [{ role: 'user', content: 'a' }], rejected: [{ role: 'user', content: 'b' }] }) + '\n')),
    /apart\.jsonl:1: 'chosen' and 'rejected' share no opening user turn/);
  assert.throws(() => readPromptRecords(file('split.jsonl', '{"prompt": "a", "split": "holdout"}\n')), /split\.jsonl:1: "split" must be train, validation or test, got "holdout"/);
  assert.throws(() => readPromptRecords(file('principles.jsonl', '{"prompt": "a", "principles": "honest"}\n')), /principles\.jsonl:1: "principles" must be a list of principle ids/);
  assert.throws(() => readPromptRecords(file('hh.jsonl', JSON.stringify({ chosen: '\n\nHuman: a\n\nAssistant: b', rejected: 'no transcript' }) + '\n')), /hh\.jsonl:1: field 'rejected'/);
});

test('Parquet files and Hugging Face–style dataset folders read the same rows; splits come from file names', async () => {
  const single = await parquet(join(directory, 'p.parquet'), [{ id: 'a', prompt: 'one' }, { prompt: 'two', application: 'x' }]);
  assert.deepEqual(await readPromptDataset(single), [
    { id: 'a', line: 1, where: `${single}: row 1`, prompt: 'one' },
    { id: 'prompt-2', line: 2, where: `${single}: row 2`, application: 'x', prompt: 'two' },
  ]);
  const folder = join(directory, 'dataset');
  mkdirSync(join(folder, 'data'), { recursive: true });
  mkdirSync(join(folder, 'dev'));
  await parquet(join(folder, 'data', 'train-00000-of-00001.parquet'), [{ messages: [{ role: 'user', content: 't1' }] }, { prompt: 't2', split: 'test' }]);
  writeFileSync(join(folder, 'data', 'test-00000-of-00001.jsonl'), `${JSON.stringify(HH)}\n`);
  writeFileSync(join(folder, 'dev', 'part-0.jsonl'), '{"prompt": "v"}\n');
  writeFileSync(join(folder, 'other.jsonl'), '{"prompt": "o"}\n');
  writeFileSync(join(folder, 'README.md'), '# a dataset card, not prompts\n');
  const records = await readPromptDataset(folder);
  assert.deepEqual(records.map((r) => [r.id, r.split ?? null, r.prompt ?? r.messages![0]!.content]), [
    ['data/test-00000-of-00001.jsonl:prompt-1', 'test', 'How do I pick a lock?'],
    ['data/train-00000-of-00001.parquet:prompt-1', 'train', 't1'],
    ['data/train-00000-of-00001.parquet:prompt-2', 'test', 't2'], // the row's own split wins
    ['dev/part-0.jsonl:prompt-1', 'validation', 'v'],
    ['other.jsonl:prompt-1', null, 'o'],                        // no split named: the run splits it by a hash of the id
  ]);
  assert.deepEqual(['train.jsonl', 'data/validation-00000-of-00002.parquet', 'valid.jsonl.gz', 'test_set.parquet', 'd/testing.jsonl', 'x/contest.jsonl'].map(splitFromFileName),
    ['train', 'validation', 'validation', 'test', undefined, undefined]);
});

test('dataset errors name the file: missing, empty folder, wrong extension, not Parquet, a bad row, repeated ids across files', async () => {
  await assert.rejects(readPromptDataset(join(directory, 'nope.parquet')), /nope\.parquet: no such file or folder/);
  const empty = join(directory, 'empty-dataset');
  mkdirSync(empty);
  writeFileSync(join(empty, 'notes.txt'), 'x');
  await assert.rejects(readPromptDataset(empty), /empty-dataset: no prompts files in this folder/);
  await assert.rejects(readPromptDataset(file('prompts.csv', 'prompt\na\n')), /prompts\.csv: prompts must be JSONL \(\.jsonl, \.jsonl\.gz\), Parquet \(\.parquet\) or a dataset folder/);
  await assert.rejects(readPromptDataset(file('fake.parquet', 'not parquet')), /fake\.parquet: cannot read with DuckDB: .*Parquet/);
  const badRow = await parquet(join(directory, 'bad-row.parquet'), [{ prompt: 'ok' }, { text: 'no prompt' }]);
  await assert.rejects(readPromptDataset(badRow), /bad-row\.parquet: row 2: needs a string 'prompt'/);
  const twice = join(directory, 'twice');
  mkdirSync(twice);
  writeFileSync(join(twice, 'train.jsonl'), '{"id": "x", "prompt": "a"}\n');
  writeFileSync(join(twice, 'test.jsonl'), '{"id": "x", "prompt": "b"}\n');
  await assert.rejects(readPromptDataset(twice), /train\.jsonl:1: prompt id 'x' repeats .*test\.jsonl:1/);
});
