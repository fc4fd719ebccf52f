// update: { kind: external }: the command gets the round's judged pairs and the current policy as a Hugging Face
// folder, the checkpoint it writes becomes the candidate the gate judges; a failing command stops the run naming its
// log. The stand-in trainer (testing/nudge-checkpoint.ts) shifts one parameter by 0.01.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseRunConfig } from './run-config.ts';
import { roundPreferences } from './run-export.ts';
import { runLoop } from './run-loop.ts';
import { RunStore } from './run-store.ts';
import { tinyLoop } from './testing/tiny-loop.ts';

const nudge = fileURLToPath(new URL('./testing/nudge-checkpoint.ts', import.meta.url));
const config = (command: string) => parseRunConfig(`rounds: 1\npromptsPerRound: 3\nsamplesPerPrompt: 3\nmaxNewTokens: 6\nvalidationPrompts: 3\nfeedback: {chainOfThought: false}\n` +
  `gate: {minWinRateVsPrevious: 0, maxLengthDrift: 5}\nupdate: {kind: external, format: trl, command: '${command}'}\n`);

test('an external trainer: it gets the round\'s preferences and the policy, its checkpoint is the candidate, the gate decides', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-external-')), source = mkdtempSync(join(tmpdir(), 'rlaif-external-source-'));
  try {
    writeFileSync(join(source, 'tokenizer.json'), '{"stand-in": true}');
    const run = config(`"${process.execPath}" --import tsx "${nudge}" h.0.mlp.c_fc.bias`);
    const store = RunStore.open(dir, run);
    const { context } = tinyLoop({ config: run, store });
    context.policySource = source;
    const before = Array.from(context.policy.model.parameters().get('h.0.mlp.c_fc.bias')!.data);
    const outcome = await runLoop(context);
    assert.deepEqual(outcome.gates.map((g) => g.round), [0, 1]);
    const output = join(dir, 'external', 'round-1', 'output');
    const given = readFileSync(join(output, 'given-preferences.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(given.map((r) => r.id), roundPreferences(store, 1).map((r) => r.id), 'the round\'s judged pairs, by judgment id');
    assert.ok(given.length > 0 && Array.isArray(given[0].prompt), 'TRL conversational rows');
    assert.equal(readFileSync(join(dir, 'external', 'round-1', 'base', 'tokenizer.json'), 'utf8'), '{"stand-in": true}', 'the base folder has the tokenizer');
    context.policy.load(store.checkpointDir(1));
    const after = Array.from(context.policy.model.parameters().get('h.0.mlp.c_fc.bias')!.data);
    assert.ok(after.every((v, i) => Math.abs(v - (before[i]! + 0.01)) < 1e-6), 'the candidate is the trained checkpoint');
    assert.ok(store.get('stage', store.all('stage').find((s) => s.round === 1 && s.stage === 'update')!.id)!.detail.pairs === given.length);
    assert.ok(store.all('gate').find((g) => g.round === 1), 'the gate decided on it');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(source, { recursive: true, force: true });
  }
});

test('an external command that fails stops the run with an error naming its log', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-external-fail-'));
  try {
    const run = config('echo trainer crashed >&2; exit 3');
    const store = RunStore.open(dir, run);
    const { context } = tinyLoop({ config: run, store });
    context.policySource = dir;
    await assert.rejects(runLoop(context), /update\.command exited with code 3 in round 1; its output: .*command\.log/);
    assert.match(readFileSync(join(dir, 'external', 'round-1', 'command.log'), 'utf8'), /trainer crashed/);
    assert.equal(store.all('gate').length, 1, 'no gate for a round without its update');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
