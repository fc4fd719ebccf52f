// rlaif run takes the run folder's lock: a second process on the same folder is refused naming the holder's pid.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockRunFolder } from '../algorithms/run-folder.ts';
import { rlaifRun } from './rlaif-run.ts';

test('a run folder held by another live process is refused before anything is written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-run-lock-'));
  try {
    const config = join(dir, 'config.yaml');
    // No testbed: without the lock this config fails at once on its missing prompts file, with another message.
    writeFileSync(config, 'rounds: 1\npolicy: {kind: checkpoint, path: missing-policy}\nlabeler: {kind: checkpoint, path: missing-labeler}\nprompts: {kind: file, path: missing-prompts.jsonl}\n');
    const held = lockRunFolder(join(dir, 'run'), { command: 'another rlaif run' });
    await assert.rejects(rlaifRun({ configPath: config, out: join(dir, 'run') }), new RegExp(`in use by process ${process.pid}`));
    held.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
