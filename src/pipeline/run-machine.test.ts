// A run folder's machine.json: the kernel settings recorded at a run's first start, kept on a resume, and a notice
// naming both when a resume computes under others.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkRunMachine, kernelSettings, readRunMachine, RUN_MACHINE_FILE } from './run-machine.ts';

const dir = mkdtempSync(join(tmpdir(), 'rlaif-run-machine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the kernel settings are this process's MACHINE cpu and kernels lines", () => {
  const lines = kernelSettings();
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^cpu /);
  assert.match(lines[1]!, /^kernels \w+/);
});

test('the first start records the settings; a resume under the same says nothing, under others names both and keeps the first', () => {
  assert.equal(readRunMachine(dir), null);
  assert.equal(checkRunMachine(dir, ['cpu A', 'kernels avx512, gemm kc 256']), null);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, RUN_MACHINE_FILE), 'utf8')), { kernels: ['cpu A', 'kernels avx512, gemm kc 256'] });
  assert.equal(checkRunMachine(dir, ['cpu A', 'kernels avx512, gemm kc 256']), null);
  const notice = checkRunMachine(dir, ['cpu A', 'kernels avx512, gemm kc 512']);
  assert.equal(notice, "rlaif run: this run began under other kernel settings (cpu A; kernels avx512, gemm kc 256) than this process's (cpu A; kernels avx512, gemm kc 512); "
    + "the rounds it runs now compute with these, so their last bits differ from an uninterrupted run's (machine.json keeps the first)");
  assert.notEqual(checkRunMachine(dir, ['cpu A']), null, 'a line fewer is a difference too');
  assert.deepEqual(readRunMachine(dir), ['cpu A', 'kernels avx512, gemm kc 256']);
});
