// The judging run's folder (issue 10 items 8, 9): a second process on it is refused naming the holder's pid, a folder
// of another run kind is refused, and a finished run leaves no temp files or Parquet staging folders (a dead process's
// staging folder is removed by the next run); an output that cannot be written fails the run naming it, the others are
// written whole, and the same command finishes from the cache once the obstacle is gone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { lockRunFolder } from '../algorithms/run-folder.ts';
import { parseJudgeRunConfig } from './judge-run-config.ts';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { DeterministicLanguageModel } from '../feedback/testing/deterministic-language-model.ts';
import { runJudgeJob } from './judge-run.ts';

// The scripted toy labeler, injected (no config can name a test double).
const toy = () => ({ languageModel: new InProcessProvider(new DeterministicLanguageModel()) });

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judge-folder-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const config = (runDirectory: string) => parseJudgeRunConfig({
  input: { path: '/work/shared/data/hh-rlhf-harmless-base-test.jsonl.gz', format: 'hh-rlhf', limit: 3 },
  provider: { kind: 'in-process', model: { kind: 'embedded' } }, output: { runDirectory },
}, 'test');

describe('judging run folder', () => {
  test('a folder another process holds is refused naming its pid; nothing is written', async () => {
    const run = join(directory, 'locked');
    const lock = lockRunFolder(run, { command: 'rlaif judge' });
    try {
      await assert.rejects(runJudgeJob(config(run), directory, toy()), new RegExp(`in use by process ${process.pid} .*rlaif judge`));
      assert.deepEqual(readdirSync(run), ['run.lock']);
    } finally {
      lock.release();
    }
  });

  test('a training run folder is refused', async () => {
    const run = join(directory, 'train');
    mkdirSync(run);
    writeFileSync(join(run, 'run.json'), JSON.stringify({ version: 1, kind: 'train pg', configHash: 'x', createdAt: 'x' }));
    await assert.rejects(runJudgeJob(config(run), directory, toy()), (error: unknown) => /it is a `train pg` run, this is `judge`. Resume it with the same kind and config, or choose another run folder$/.test((error as Error).message));
  });

  test('a finished run leaves only its outputs; a killed writer\'s Parquet staging folder is removed by the next run', async () => {
    const run = join(directory, 'clean');
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    mkdirSync(join(run, `.rlaif-parquet-${dead}-0-1`), { recursive: true });
    writeFileSync(join(run, `.rlaif-parquet-${dead}-0-1`, 'rows.jsonl'), '{}\n');
    const summary = await runJudgeJob(config(run), directory, toy());
    assert.equal(summary.pairs, 3);
    const files = readdirSync(run).sort();
    assert.deepEqual(files.filter((name) => name.startsWith('.')), [], `hidden leftovers in ${files.join(', ')}`);
    for (const name of ['run.json', 'config.json', 'preferences.jsonl', 'preferences.parquet', 'audit.json']) assert.ok(files.includes(name), name);
    assert.ok(!existsSync(join(run, 'run.lock')), 'the lock is released');
  });

  test('an output that cannot be written fails the run naming it; the others are written; a re-run finishes from the cache', async () => {
    const run = join(directory, 'blocked');
    mkdirSync(join(run, 'audit.json'), { recursive: true });
    writeFileSync(join(run, 'audit.json', 'in-the-way'), '');       // a folder that is not empty: no file can replace it
    await assert.rejects(runJudgeJob(config(run), directory, toy()), (error: Error) => error.message.startsWith(`${join(run, 'audit.json')}: could not write the file: `));
    const files = readdirSync(run).sort();
    assert.deepEqual(files.filter((name) => name.startsWith('.')), [], `hidden leftovers in ${files.join(', ')}`);
    for (const name of ['config.json', 'run.json', 'cache.jsonl', 'preferences.jsonl', 'preferences.parquet', 'audit.txt', 'usage.json']) assert.ok(files.includes(name), name);
    assert.ok(!existsSync(join(run, 'run.lock')), 'the lock is released');
    rmSync(join(run, 'audit.json'), { recursive: true });
    const again = await runJudgeJob(config(run), directory, toy());
    assert.deepEqual([again.fromCache, again.judgedNow], [3, 0]);
    assert.ok(existsSync(join(run, 'audit.json')));
  });
});
