// `rlaif train` and its run folder (issue 10 items 6-8): another kind or config is refused naming what differs and
// leaves config.json alone; an invalid config writes nothing; metrics without a checkpoint are not appended to; --fresh
// moves the old run aside; a bit-flipped checkpoint falls back to the older one; a held lock names its pid.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { lockRunFolder } from '../algorithms/run-folder.ts';
import { scratchFolder } from './testing/scratch-folder.ts';
import { trainCommand } from './train-command.ts';

const { directory, write: config } = scratchFolder('rlaif-train-run-folder-');
const steps = (runDir: string) => readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).step);
const PG = 'promptsPerStep: 2\ngroupSize: 2\npretrainSteps: 5\n';
const SFT = 'syntheticExamples: 16\nbatchSize: 4\npretrainSteps: 5\n';

describe('rlaif train run folders', () => {
  test('sft on a pg folder and grpo → ppo are refused naming what differs; config.json and metrics stay', async () => {
    const runDir = join(directory, 'pg');
    await trainCommand('pg', config('pg.yaml', `runDir: ${runDir}\nsteps: 2\n${PG}`), { progress: false });
    const before = readFileSync(join(runDir, 'config.json'), 'utf8');
    await assert.rejects(trainCommand('sft', config('sft-on-pg.yaml', `runDir: ${runDir}\nsteps: 2\n${SFT}`), { progress: false }),
      /pg holds another run: it is a `train pg` run, this is `train sft`.*--fresh/);
    await assert.rejects(trainCommand('pg', config('ppo.yaml', `runDir: ${runDir}\nsteps: 4\nalgorithm: ppo\n${PG}`), { progress: false }),
      /the config differs \(algorithm: "grpo" → "ppo"\)/);
    await assert.rejects(trainCommand('pg', config('invalid.yaml', `runDir: ${runDir}\nsteps: 4\nalgorithm: ppo2\n${PG}`), { progress: false }), /algorithm/);
    assert.equal(readFileSync(join(runDir, 'config.json'), 'utf8'), before, 'config.json untouched');
    assert.deepEqual(steps(runDir), [1, 2]);
    assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).kind, 'train pg');
  });

  test('a deleted checkpoint with metrics left is refused; --fresh moves the old run aside and starts at 0', async () => {
    const runDir = join(directory, 'sft');
    const path = config('sft.yaml', `runDir: ${runDir}\nsteps: 2\n${SFT}`);
    await trainCommand('sft', path, { progress: false });
    rmSync(join(runDir, 'checkpoint'), { recursive: true });
    rmSync(join(runDir, 'checkpoint.previous'), { recursive: true, force: true });
    await assert.rejects(trainCommand('sft', path, { progress: false }), /metrics\.jsonl holds records of an earlier run but its resume point is gone/);
    assert.deepEqual(steps(runDir), [1, 2]);
    const logged: string[] = [];
    const summary = await trainCommand('sft', path, { progress: false, fresh: true, log: (line) => logged.push(line) });
    assert.equal(summary.resumedFrom, null);
    assert.deepEqual(steps(runDir), [1, 2]);
    const aside = readdirSync(directory).filter((name) => name.startsWith('sft.old-'));
    assert.equal(aside.length, 1);
    assert.ok(existsSync(join(directory, aside[0], 'metrics.jsonl')));
    assert.match(logged[0], /the previous run in .*sft was moved to .*sft\.old-/);
  });

  test('a bit-flipped tensors.bin: resume falls back to the older checkpoint and says so', async () => {
    const runDir = join(directory, 'flip');
    await trainCommand('sft', config('flip.yaml', `runDir: ${runDir}\nsteps: 3\ncheckpointEvery: 1\n${SFT}`), { progress: false });
    const tensors = join(runDir, 'checkpoint', 'tensors.bin');
    const bytes = readFileSync(tensors);
    bytes[1234] ^= 0x10;
    writeFileSync(tensors, bytes);
    const logged: string[] = [];
    const summary = await trainCommand('sft', config('flip.yaml', `runDir: ${runDir}\nsteps: 5\ncheckpointEvery: 1\n${SFT}`), { progress: false, log: (line) => logged.push(line) });
    assert.equal(summary.resumedFrom, 2);
    assert.deepEqual(steps(runDir), [1, 2, 3, 4, 5]);
    assert.match(logged.join('\n'), /warning: checkpoint .*tensors\.bin is corrupt: sha256 .*resuming from the older checkpoint \(step 2\)/);
    assert.match(logged.join('\n'), /resuming .*flip from step 2 of 5/);
  });

  test('a run folder another process holds is refused naming its pid', async () => {
    const runDir = join(directory, 'locked');
    const lock = lockRunFolder(runDir, { command: 'rlaif train sft' });
    try {
      await assert.rejects(trainCommand('sft', config('locked.yaml', `runDir: ${runDir}\nsteps: 1\n${SFT}`), { progress: false }),
        new RegExp(`locked is in use by process ${process.pid} on .*\`rlaif train sft\``));
      assert.ok(!existsSync(join(runDir, 'config.json')));
    } finally {
      lock.release();
    }
  });
});

describe('rlaif train errors name the file and the config key', () => {
  test('a folder, a bad .gz, a truncated .gz and a missing file given as data; a broken state.json under runDir', async () => {
    const dataDir = join(directory, 'a-folder');
    mkdirSync(dataDir, { recursive: true });
    const notGzip = join(directory, 'plain.jsonl.gz');
    writeFileSync(notGzip, '{"response": "0123"}\n');
    const truncated = join(directory, 'cut.jsonl.gz');
    writeFileSync(truncated, gzipSync('{"response": "0123"}\n'.repeat(50)).subarray(0, 30));
    const cases: [string, RegExp][] = [
      [dataDir, /errors\.yaml: data: .*a-folder: is a folder, expected a JSONL file/],
      [notGzip, /errors\.yaml: data: .*plain\.jsonl\.gz: not gzip-compressed although the name ends in \.gz \(zlib: incorrect header check\)/],
      [truncated, /errors\.yaml: data: .*cut\.jsonl\.gz: the gzip data is truncated \(zlib: unexpected end of file\)/],
      [join(directory, 'missing.jsonl'), /errors\.yaml: data: .*missing\.jsonl: no such file/],
    ];
    for (const [data, message] of cases) {
      await assert.rejects(trainCommand('sft', config('errors.yaml', `runDir: ${join(directory, 'errors-run')}\nsteps: 1\npretrainSteps: 5\ndata: ${data}\n`), { progress: false }), message);
    }
    await assert.rejects(trainCommand('dpo', config('held.yaml', `runDir: ${join(directory, 'held-run')}\nsteps: 1\npretrainSteps: 5\nheldOut: ${dataDir}\n`), { progress: false }),
      /held\.yaml: heldOut: .*a-folder: is a folder/);
    const runDir = join(directory, 'broken-state');
    const path = config('broken.yaml', `runDir: ${runDir}\nsteps: 1\n${SFT}`);
    await trainCommand('sft', path, { progress: false });
    writeFileSync(join(runDir, 'checkpoint', 'state.json'), '{"state": {"step": 1');
    await assert.rejects(trainCommand('sft', config('broken.yaml', `runDir: ${runDir}\nsteps: 2\n${SFT}`), { progress: false }),
      /broken\.yaml: runDir: no usable checkpoint: checkpoint .*broken-state\/checkpoint\/state\.json is corrupt/);
  });
});

describe('rlaif train resume after moving the run folder', () => {
  test('a moved run folder resumes (runDir is not part of the config hash); steps may grow', async () => {
    const before = join(directory, 'moved-a'), after = join(directory, 'moved-b');
    await trainCommand('sft', config('moved.yaml', `runDir: ${before}\nsteps: 1\n${SFT}`), { progress: false });
    renameSync(before, after);
    const summary = await trainCommand('sft', config('moved.yaml', `runDir: ${after}\nsteps: 2\n${SFT}`), { progress: false });
    assert.equal(summary.resumedFrom, 1);
    assert.deepEqual(steps(after), [1, 2]);
  });
});
