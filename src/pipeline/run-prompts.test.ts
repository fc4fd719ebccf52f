// `rlaif run` on a user's prompts in any format the shared schema reads (data/prompt-record.ts): a Hugging Face–style
// dataset folder mixing Parquet and JSONL, HH-RLHF and TRL rows. The run's prompts carry the dataset's ids, splits,
// applications and principles (defaults where a row names none; rows with no split anywhere split by a hash of their id,
// the same each time); a whole round runs on them with a tiny checkpoint as the policy and a scripted labeler.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { startScriptedServer, type ScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { scratchFolder } from '../cli/testing/scratch-folder.ts';
import { rlaifRun } from './rlaif-run.ts';
import { RunStore } from './run-store.ts';
import { readPromptFile } from './run-setup.ts';
import { writeTinyCheckpoint } from './testing/tiny-checkpoint.ts';

const scratch = scratchFolder('rlaif-run-prompts-');
let labeler: ScriptedServer;
before(async () => { labeler = await startScriptedServer({ seed: 5 }); });
after(async () => { await labeler.close(); });

const jsonl = (rows: object[]) => rows.map((row) => JSON.stringify(row)).join('\n') + '\n';
const hh = (question: string) => ({ chosen: `\n\nHuman: ${question}\n\nAssistant: No.`, rejected: `\n\nHuman: ${question}\n\nAssistant: Yes.` });

/** A dataset folder as the Hugging Face Hub lays one out: train in Parquet, validation and test in JSONL. */
async function dataset(): Promise<string> {
  const folder = join(scratch.directory, 'dataset'), data = join(folder, 'data');
  mkdirSync(data, { recursive: true });
  const staging = join(folder, 'train.rows.json');
  writeFileSync(staging, jsonl(Array.from({ length: 6 }, (_, i) => ({ id: `t${i}`, prompt: [{ role: 'user', content: `Where does Ana live? (${i})` }], application: i % 2 ? 'harmless' : 'helpful' }))));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`COPY (SELECT * FROM read_json_auto('${staging}')) TO '${join(data, 'train-00000-of-00001.parquet')}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
  writeFileSync(join(data, 'validation-00000-of-00001.jsonl'), jsonl([hh('Can you help me?'), hh('Where is the wood?'), { id: 'v3', prompt: 'Who is Ana?', principles: ['no-assistance-crime'] }]));
  writeFileSync(join(data, 'test-00000-of-00001.jsonl'), jsonl([hh('Is the fox red?')]));
  return folder;
}

test("the run's prompts from a dataset folder: the rows' ids, splits from file names, applications and principles", async () => {
  const prompts = await readPromptFile(await dataset());
  assert.deepEqual(prompts.map((p) => [p.id, p.split, p.application, p.kind, p.principleIds.join()]), [
    ['data/test-00000-of-00001.jsonl:prompt-1', 'test', 'default', 'prompt', ''],
    ...Array.from({ length: 6 }, (_, i) => [`t${i}`, 'train', i % 2 ? 'harmless' : 'helpful', 'prompt', '']),
    ['data/validation-00000-of-00001.jsonl:prompt-1', 'validation', 'default', 'prompt', ''],
    ['data/validation-00000-of-00001.jsonl:prompt-2', 'validation', 'default', 'prompt', ''],
    ['v3', 'validation', 'default', 'prompt', 'no-assistance-crime'],
  ]);
  assert.deepEqual(prompts[0]!.messages, [{ role: 'user', content: 'Is the fox red?' }]);
  assert.deepEqual(prompts[1]!.messages, [{ role: 'user', content: 'Where does Ana live? (0)' }]);
  // No split anywhere: a hash of the id decides, the same on every read.
  const unsplit = scratch.write('unsplit.jsonl', jsonl(Array.from({ length: 40 }, (_, i) => ({ prompt: `q${i}` }))));
  const once = (await readPromptFile(unsplit)).map((p) => p.split), again = (await readPromptFile(unsplit)).map((p) => p.split);
  assert.deepEqual(once, again);
  assert.ok(once.filter((s) => s === 'train').length > 20 && once.includes('validation') && once.includes('test'), once.join());
});

test('rlaif run takes a dataset folder as its prompts: a round samples train rows and evaluates validation rows', async () => {
  writeTinyCheckpoint(join(scratch.directory, 'policy'), 1);
  const config = scratch.write('run.yaml', [
    'policy: {kind: checkpoint, path: policy}',
    `labeler: {kind: openai-compatible, baseURL: '${labeler.url}', model: scripted}`,
    'prompts: {kind: file, path: dataset}',
    'rounds: 1', 'iterationsPerRound: 1', 'promptsPerRound: 2', 'samplesPerPrompt: 2', 'maxNewTokens: 4', 'validationPrompts: 3', 'testPrompts: 1', 'anchorPairs: 0',
    'feedback: {chainOfThought: false}', '',
  ].join('\n'));
  const out = join(scratch.directory, 'run');
  await rlaifRun({ configPath: config, out });
  const store = RunStore.open(out, RunStore.config(out));
  try {
    const prompts = store.all('prompt');
    const rolledOut = new Set(store.all('sample').filter((s) => s.stage === 'rollout').map((s) => prompts.find((p) => p.id === s.parents[0])?.promptId));
    assert.ok(rolledOut.size > 0 && [...rolledOut].every((id) => /^t\d$/.test(id ?? '')), [...rolledOut].join());
    assert.deepEqual(prompts.filter((p) => p.split === 'validation').map((p) => p.promptId).sort(),
      ['data/validation-00000-of-00001.jsonl:prompt-1', 'data/validation-00000-of-00001.jsonl:prompt-2', 'v3']);
    assert.ok(store.all('gate').some((g) => g.round === 1), 'round 1 was gated');
  } finally {
    store.close();
  }
});
