// What a command loads when it starts: DuckDB, a native library of tens of MB, is loaded only by what reads or writes
// Parquet or queries a run with SQL, and BullMQ and ioredis only by a queue, a worker or a shared rate limit, so
// `rlaif judge` over JSONL, a run without --queue and every other command start without them. Checked at exit by a
// preloaded module: DuckDB through the process's memory maps (/proc/self/maps, Linux), the other two through the
// CommonJS module cache they load into; controls that import each must be seen.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { scratchFolder } from './testing/scratch-folder.ts';

const { directory, write } = scratchFolder('rlaif-startup-');
const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
const linux = existsSync('/proc/self/maps');
const marker = 'DUCKDB-MAPPED', queueMarker = 'QUEUE-LOADED';
const preload = write('report-duckdb.mjs', `import { readFileSync } from 'node:fs';\nimport { createRequire } from 'node:module';\n`
  + `process.on('exit', () => {\n`
  + `  if (/duckdb/i.test(readFileSync('/proc/self/maps', 'utf8'))) process.stderr.write('${marker}\\n');\n`
  + `  const loaded = Object.keys(createRequire(import.meta.url).cache).filter((path) => /[\\\\/]node_modules[\\\\/](bullmq|ioredis)[\\\\/]/.test(path));\n`
  + `  if (loaded.length > 0) process.stderr.write('${queueMarker}\\n');\n`
  + `});\n`);

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', preload, ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('command start-up', { skip: linux ? false : 'needs /proc/self/maps (Linux)' }, () => {
  test('the control: a process that imports @duckdb/node-api is seen with it mapped', () => {
    const control = run(['--input-type=module', '-e', "await import('@duckdb/node-api');"]);
    assert.equal(control.status, 0, control.stderr);
    assert.match(control.stderr, new RegExp(marker));
  });

  test('the controls: processes that import BullMQ or ioredis are seen with them loaded', () => {
    for (const name of ['bullmq', 'ioredis']) {
      const control = run(['--input-type=module', '-e', `await import('${name}');`]);
      assert.equal(control.status, 0, control.stderr);
      assert.match(control.stderr, new RegExp(queueMarker), name);
    }
  });

  test('the whole CLI loads (every command module imported) without DuckDB, BullMQ or ioredis', () => {
    const result = run([bin, '--version']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^\d+\.\d+\.\d+/);
    assert.doesNotMatch(result.stderr, new RegExp(marker));
    assert.doesNotMatch(result.stderr, new RegExp(queueMarker));
  });

  test('SQL over a run (a folder with no records yet) still loads it, when used, and answers', () => {
    const script = `const { queryRun } = await import(${JSON.stringify(new URL('../pipeline/run-store-sql.ts', import.meta.url).href)});\n`
      + `console.log(JSON.stringify(await queryRun(${JSON.stringify(directory)}, 'select 41 + 1 as answer')));`;
    const result = run(['--import', 'tsx', '--input-type=module', '-e', script]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [{ answer: 42 }]);
    assert.match(result.stderr, new RegExp(marker));
  });
});
