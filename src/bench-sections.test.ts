// `npm run bench`'s sections (bench/sections.ts, bench/run.ts): a section that fails costs its own figures only; the
// run goes on, names the failed sections at the end, records what it measured (--json) and exits 1. End to end: the
// queue section on a machine without redis-server (PATH holds only node), said at the start, JSON still written.
// Leaves out: the sections' own figures (npm run bench).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SectionRunner } from '../bench/sections.ts';

test('bench sections: a section that throws is reported, and the next one still runs', async () => {
  const lines: string[] = [], ran: string[] = [];
  const runner = new SectionRunner((section) => section !== 'skipped', (line) => lines.push(line));
  await runner.run('first', () => { ran.push('first'); throw new Error('the labeler server went away'); });
  await runner.run('skipped', () => { ran.push('skipped'); });
  await runner.run('second', async () => { ran.push('second'); });
  assert.deepEqual(ran, ['first', 'second']);
  assert.deepEqual([...runner.failures], [['first', 'the labeler server went away']]);
  assert.ok(lines.some((line) => line.startsWith('# first section FAILED: the labeler server went away; going on')), lines.join('\n'));
  assert.equal(runner.summarize(), false);
  assert.match(lines.at(-1)!, /^# first section FAILED \(its figures are missing from this run\): the labeler server went away$/);
  const clean = new SectionRunner(() => true, () => {});
  await clean.run('only', () => {});
  assert.equal(clean.summarize(), true);
});

test('bench: without redis-server the queue section fails up front, the JSON is still written, exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-bench-sections-'));
  try {
    const bin = join(dir, 'bin'), json = join(dir, 'bench.json');
    spawnSync('mkdir', [bin]);
    symlinkSync(process.execPath, join(bin, 'node'));
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'queue', '--json', json], {
      cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 120_000,
      env: { ...process.env, PATH: bin, RLAIF_AUTOTUNE: '0' },
    });
    assert.equal(run.status, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^# queue section will fail: redis-server is not installed: run `bash scripts\/ensure-redis.sh`/m);
    assert.match(run.stdout, /^# queue section FAILED \(its figures are missing from this run\): redis-server is not installed/m);
    const recorded = JSON.parse(readFileSync(json, 'utf8')) as { machine: unknown; failed: Record<string, string>; sections: string[] };
    assert.deepEqual(recorded.sections, ['queue']);
    assert.ok(recorded.machine);
    assert.match(recorded.failed.queue!, /^redis-server is not installed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
