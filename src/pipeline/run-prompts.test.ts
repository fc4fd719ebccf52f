// `rlaif run` on a user's prompts in any format the shared schema reads (data/prompt-record.ts): a Hugging Face–style
// dataset folder mixing Parquet and JSONL, HH-RLHF and TRL rows. The run's prompts carry the dataset's ids, splits,
// applications and principles (defaults where a row names none; rows with no split anywhere split by a hash of their id,
// the same each time); a whole round runs on them with a tiny checkpoint as the policy and a scripted labeler, and with
// the user's human preference pairs (`anchors`) as the labeled anchors the labeler is checked on.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { startScriptedServer, type ScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { rlaifRun } from './rlaif-run.ts';
import { RunStore } from './run-store.ts';
import { parseRunConfig } from './run-config.ts';
import { kernelSettings, readRunMachine, RUN_MACHINE_FILE } from './run-machine.ts';
import { readAnchorPairs, readPromptFile } from './run-setup.ts';
import { writeTinyCheckpoint } from './testing/tiny-checkpoint.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-run-prompts-'));
const scratch = { directory, write: (name: string, text: string) => { const path = join(directory, name); writeFileSync(path, text); return path; } };
let labeler: ScriptedServer;
before(async () => { labeler = await startScriptedServer({ seed: 5 }); });
after(async () => { await labeler.close(); rmSync(directory, { recursive: true, force: true }); });

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

test('rlaif run takes a dataset folder as its prompts: a round samples train rows and evaluates validation rows', async (t) => {
  writeTinyCheckpoint(join(scratch.directory, 'policy'), 1);
  const config = scratch.write('run.yaml', [
    'policy: {kind: checkpoint, path: policy}',
    `labeler: {kind: openai-compatible, baseURL: '${labeler.url}', model: scripted}`,
    'prompts: {kind: file, path: dataset}',
    'anchors: {path: anchors.jsonl, format: hh-rlhf}',
    'rounds: 1', 'iterationsPerRound: 1', 'promptsPerRound: 2', 'samplesPerPrompt: 2', 'maxNewTokens: 4', 'validationPrompts: 3', 'testPrompts: 1', 'anchorPairs: 2',
    'feedback: {chainOfThought: false, labeledAnchors: 0.5}', 'rewards: {rewardModel: {steps: 2, batchSize: 2}}', '',
  ].join('\n'));
  scratch.write('anchors.jsonl', jsonl([hh('Can you help me?'), hh('Where is the wood?'), hh('Is the fox red?')]));
  const out = join(scratch.directory, 'run');
  const result = await rlaifRun({ configPath: config, out });
  assert.equal(typeof result.summary.labeler_anchor_agreement, 'number');
  // No gold checker for these prompts: the table and the report say so instead of showing empty gold columns.
  assert.doesNotMatch(result.table, /gold/);
  const report = readFileSync(result.reportPath, 'utf8');
  assert.match(report, /this run has no gold checker/);
  assert.doesNotMatch(report, /gold figures are on the test split|Where the labeler and gold disagree|gold \(test\)/);
  const store = RunStore.open(out, RunStore.config(out));
  try {
    const prompts = store.all('prompt');
    const rolledOut = new Set(store.all('sample').filter((s) => s.stage === 'rollout').map((s) => prompts.find((p) => p.id === s.parents[0])?.promptId));
    assert.ok(rolledOut.size > 0 && [...rolledOut].every((id) => /^t\d$/.test(id ?? '')), [...rolledOut].join());
    assert.deepEqual(prompts.filter((p) => p.split === 'validation').map((p) => p.promptId).sort(),
      ['data/validation-00000-of-00001.jsonl:prompt-1', 'data/validation-00000-of-00001.jsonl:prompt-2', 'v3']);
    assert.ok(store.all('gate').some((g) => g.round === 1), 'round 1 was gated');
    // The labeler check judged the gate's two anchors (both orders across the set), on the anchors' own prompts.
    const checked = store.all('judgment').filter((j) => j.stage === 'labeler-check');
    assert.equal(checked.length, 2);
    // The pairs past the gate's train the labeled-data source's reward model, whose scores enter every reward.
    assert.equal(store.all('reward-model').filter((m) => m.source === 'labeled-anchors').length, 1);
    const rewards = store.all('reward');
    assert.ok(rewards.length > 0 && rewards.every((r) => typeof r.components['labeled-anchors'] === 'number'), 'labeled-anchors in each reward');
  } finally {
    store.close();
  }
  // The kernels it computed with are in its folder and its report; a resume under other ones says so.
  assert.deepEqual(readRunMachine(out), kernelSettings());
  assert.match(report, /<h2>Kernels<\/h2>.*\n?<pre>MACHINE cpu /);
  writeFileSync(join(out, RUN_MACHINE_FILE), JSON.stringify({ kernels: ['cpu elsewhere', 'kernels other'] }));
  const notices: string[] = [];
  t.mock.method(console, 'error', (...args: unknown[]) => { notices.push(args.join(' ')); });
  await rlaifRun({ configPath: config, out });
  assert.ok(notices.some((line) => line.startsWith('rlaif run: this run began under other kernel settings (cpu elsewhere; kernels other) than this process\'s (cpu ')), notices.join('\n'));
  assert.deepEqual(readRunMachine(out), ['cpu elsewhere', 'kernels other'], 'the first settings are kept');
});

test('anchors: human preference pairs in a seed-fixed order; unusable pairs left out and counted; config errors name the key', async () => {
  const diverging = { chosen: '\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d', rejected: '\n\nHuman: a\n\nAssistant: x\n\nHuman: c\n\nAssistant: y' };
  const same = { chosen: '\n\nHuman: q\n\nAssistant: same', rejected: '\n\nHuman: q\n\nAssistant: same' };
  const path = scratch.write('pairs.jsonl', jsonl([...Array.from({ length: 8 }, (_, i) => hh(`Question ${i}?`)), diverging, same]));
  const read = await readAnchorPairs({ path, format: 'hh-rlhf' }, 0);
  assert.equal(read.skipped, 2);
  assert.equal(read.pairs.length, 8);
  assert.deepEqual(read.pairs[0]!.prompt.messages.at(-1)!.role, 'user');
  assert.deepEqual([read.pairs[0]!.preferred, read.pairs[0]!.other], ['No.', 'Yes.']);
  const ids = (pairs: { prompt: { id: string } }[]) => pairs.map((p) => p.prompt.id);
  assert.deepEqual(ids((await readAnchorPairs({ path, format: 'hh-rlhf' }, 0)).pairs), ids(read.pairs));
  assert.notDeepEqual(ids((await readAnchorPairs({ path, format: 'hh-rlhf' }, 1)).pairs), ids(read.pairs));
  await assert.rejects(readAnchorPairs({ path: scratch.write('none.jsonl', jsonl([same])), format: 'hh-rlhf' }, 0), /anchors\.path: .*none\.jsonl: no usable labeled comparison among 1/);
  await assert.rejects(readAnchorPairs({ path: join(scratch.directory, 'missing.jsonl'), format: 'trl' }, 0), /^Error: anchors\.path: /);
  assert.throws(() => parseRunConfig('anchors: {path: p.jsonl, format: hh-rlhf}', { source: 'r.yaml' }), /r\.yaml: anchors: the testbed's prompts come with their own labeled anchor set/);
  assert.throws(() => parseRunConfig('prompts: {kind: file, path: p.jsonl}\nanchors: {path: p.jsonl, format: csv}', { source: 'r.yaml' }), /r\.yaml: anchors\.format: /);
  assert.throws(() => parseRunConfig('prompts: {kind: file, path: p.jsonl}\nfeedback: {labeledAnchors: 1}', { source: 'r.yaml' }), /feedback\.labeledAnchors needs labeled comparisons: set anchors/);
  const parsed = parseRunConfig('prompts: {kind: file, path: p.jsonl}\nanchors: {path: data/pairs.parquet, format: parquet}\nfeedback: {labeledAnchors: 1}', { source: 'r.yaml', baseDirectory: '/exp' });
  assert.equal(parsed.anchors?.path, '/exp/data/pairs.parquet');
});

test("config.json in the run folder keeps no credentials of the labeler's base URL", async () => {
  const config = scratch.write('secret.yaml', [
    'policy: {kind: checkpoint, path: policy}', "labeler: {kind: openai-compatible, baseURL: 'http://bob:pa55wordsecret@127.0.0.1:9/v1?token=tokensecret99', model: m}",
    'prompts: {kind: file, path: no-such-prompts.jsonl}', '',
  ].join('\n'));
  const out = join(scratch.directory, 'secret-run');
  await assert.rejects(rlaifRun({ configPath: config, out }), /no-such-prompts\.jsonl: no such file/);   // config.json is written first
  const written = readFileSync(join(out, 'config.json'), 'utf8');
  assert.ok(!written.includes('pa55wordsecret') && !written.includes('tokensecret99') && !written.includes('bob'), written);
  assert.ok(written.includes('"baseURL": "http://[redacted]@127.0.0.1:9/v1?token=[redacted]"'), 'the URL is kept, its credentials not');
});
