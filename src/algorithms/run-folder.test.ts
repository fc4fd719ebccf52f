// Run folders: atomic writes leave no temp file; the lock refuses a second holder naming its pid and takes over a dead
// one's; run.json refuses another kind or config (naming what differs) and leftover records without a resume point;
// --fresh moves the old folder aside; config.json and run.json are written only by start() (or startAsync()); the
// async atomic write leaves the old file until its new one is synced, and writeAll waits for every write.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { configDifferences, LOCK_FILE, lockRunFolder, openRunFolder, RunFolderLockedError, RunMismatchError, writeAll, writeFileAtomic, writeFileAtomicAsync } from './run-folder.ts';

const root = mkdtempSync(join(tmpdir(), 'rlaif-run-folder-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = () => join(root, `run-${counter++}`);

/** The pid of a process that has exited (so no live process has it, for a while at least). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('run folder', () => {
  test('writeFileAtomic replaces the file whole and leaves no temp file', () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileAtomic(join(dir, 'a.json'), 'old');
    writeFileAtomic(join(dir, 'a.json'), new Uint8Array([110, 101, 119]));
    assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir), ['a.json']);
  });

  test('writeFileAtomicAsync: the old file stays until the new one is synced, then is replaced whole; no temp file left', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileAtomic(join(dir, 'a.json'), 'old');
    const written = writeFileAtomicAsync(join(dir, 'a.json'), 'new');
    assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), 'old', 'renamed only once synced');
    assert.equal(readdirSync(dir).length, 2, 'the new data waits in a temp file');
    await written;
    assert.equal(readFileSync(join(dir, 'a.json'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(dir), ['a.json']);
  });

  test('a failed rename: writeFileAtomicAsync rejects naming the file, writeFileAtomic throws; neither leaves its temp file', async () => {
    const dir = fresh();
    mkdirSync(join(dir, 'b.json'), { recursive: true });
    writeFileSync(join(dir, 'b.json', 'inside'), '');            // a folder that is not empty: the rename must fail
    await assert.rejects(writeFileAtomicAsync(join(dir, 'b.json'), 'x'), (error: Error) => error.message.startsWith(`${join(dir, 'b.json')}: could not write the file: `));
    assert.deepEqual(readdirSync(dir), ['b.json']);
    assert.throws(() => writeFileAtomic(join(dir, 'b.json'), 'x'), /ENOTEMPTY|EISDIR|EEXIST/);
    assert.deepEqual(readdirSync(dir), ['b.json']);
  });

  test('writeAll waits for every write, then rethrows the first failure (a write that throws counts)', async () => {
    const dir = fresh();
    mkdirSync(dir);
    await assert.rejects(writeAll([
      () => { throw new Error('first failure'); },
      () => writeFileAtomicAsync(join(dir, 'c.json'), 'c'),
      () => Promise.reject(new Error('second failure')),
    ]), /first failure/);
    assert.equal(readFileSync(join(dir, 'c.json'), 'utf8'), 'c', 'the write that succeeded had finished');
    assert.deepEqual(readdirSync(dir), ['c.json']);
  });

  test('startAsync writes what start() writes', async () => {
    const dirs = [fresh(), fresh()];
    const opened = dirs.map((dir) => openRunFolder({ dir, kind: 'judge', config: { a: 1 }, hasProgress: () => false }));
    opened[0]!.start();
    await opened[1]!.startAsync();
    for (const name of ['config.json', 'run.json']) {
      const [sync, async] = dirs.map((dir) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>);
      assert.deepEqual({ ...async, createdAt: null }, { ...sync, createdAt: null }, name);
    }
    assert.deepEqual(readdirSync(dirs[1]!).sort(), [LOCK_FILE, 'config.json', 'run.json'].sort());
    for (const run of opened) run.release();
  });

  test('a second lock is refused naming the holder; a released or dead holder\'s lock is taken', () => {
    const dir = fresh();
    const lock = lockRunFolder(dir, { command: 'rlaif judge' });
    assert.throws(() => lockRunFolder(dir, { command: 'rlaif judge' }), (error: unknown) => {
      assert.ok(error instanceof RunFolderLockedError);
      assert.match(error.message, new RegExp(`in use by process ${process.pid} on ${hostname()} \\(\`rlaif judge\``));
      return true;
    });
    lock.release();
    assert.ok(!existsSync(join(dir, LOCK_FILE)));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), hostname: hostname(), command: 'rlaif train pg', startedAt: 'x' }));
    const taken = lockRunFolder(dir, { command: 'rlaif train pg' });
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    taken.release();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, hostname: 'another-host', command: 'rlaif train pg', startedAt: 'x' }));
    assert.throws(() => lockRunFolder(dir, { command: 'x' }), /in use by process 1 on another-host/);
  });

  test('a lock held by another live process is refused (spawned holder)', () => {
    const dir = fresh();
    mkdirSync(dir);
    // the parent of this test (a live process that is not us) as the holder
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, hostname: hostname(), command: 'rlaif judge', startedAt: 'x' }));
    assert.throws(() => lockRunFolder(dir, { command: 'rlaif judge' }), new RegExp(`process ${process.ppid} `));
  });

  test('run.json: same kind and config resume; another kind or config is refused naming what differs', () => {
    const dir = fresh();
    const progress = () => existsSync(join(dir, 'progress'));
    const first = openRunFolder({ dir, kind: 'train pg', config: { algorithm: 'grpo', steps: 3, lora: { rank: 2 } }, resumableKeys: ['steps'], hasProgress: progress });
    assert.ok(!existsSync(join(dir, 'config.json')), 'nothing is written before start()');
    assert.equal(first.resuming, false);
    first.start();
    writeFileSync(join(dir, 'progress'), '');
    first.release();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).kind, 'train pg');
    const again = openRunFolder({ dir, kind: 'train pg', config: { algorithm: 'grpo', steps: 9, lora: { rank: 2 } }, resumableKeys: ['steps'], hasProgress: progress });
    assert.equal(again.resuming, true);
    again.release();
    assert.throws(() => openRunFolder({ dir, kind: 'train sft', config: {}, hasProgress: progress }),
      (error: unknown) => error instanceof RunMismatchError && /it is a `train pg` run, this is `train sft`.*--fresh/.test(error.message));
    assert.throws(() => openRunFolder({ dir, kind: 'train pg', config: { algorithm: 'ppo', steps: 3, lora: { rank: 4 } }, resumableKeys: ['steps'], hasProgress: progress }),
      /the config differs \(algorithm: "grpo" → "ppo", lora\.rank: 2 → 4\)/);
    assert.ok(!existsSync(join(dir, LOCK_FILE)), 'a refused open releases its lock');
  });

  test('records without their resume point are refused; --fresh moves the folder aside and starts empty', () => {
    const dir = fresh();
    const opened = openRunFolder({ dir, kind: 'train sft', config: { a: 1 }, hasProgress: () => false, progressFiles: ['metrics.jsonl'] });
    opened.start();
    writeFileSync(join(dir, 'metrics.jsonl'), '{"step":1}\n');
    opened.release();
    assert.throws(() => openRunFolder({ dir, kind: 'train sft', config: { a: 1 }, hasProgress: () => false, progressFiles: ['metrics.jsonl'] }),
      /metrics\.jsonl holds records of an earlier run but its resume point is gone/);
    const restarted = openRunFolder({ dir, kind: 'train sft', config: { a: 1 }, hasProgress: () => false, progressFiles: ['metrics.jsonl'], fresh: true });
    assert.ok(restarted.movedAside && readFileSync(join(restarted.movedAside, 'metrics.jsonl'), 'utf8').includes('"step":1'), 'the old records are kept aside');
    assert.deepEqual(readdirSync(dir), [LOCK_FILE]);
    assert.ok(!existsSync(join(restarted.movedAside, LOCK_FILE)));
    restarted.release();
  });

  test('configDifferences names nested keys, absent keys, and skips ignored top-level keys', () => {
    assert.deepEqual(configDifferences({ a: 1, b: { c: 2 }, steps: 3 }, { a: 1, b: { c: 3, d: 'x' }, steps: 5 }, ['steps']),
      ['b.c: 2 → 3', 'b.d: (absent) → "x"']);
  });
});
