// A training run killed for real (SIGKILL, no chance to clean up) and started again with the same command ends with
// the same weights, bit for bit, as a run that was never interrupted (issue 5: checkpoint and resume).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
const STEPS = 10;

function writeConfig(dir: string): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(path, `runDir: run\nsteps: ${STEPS}\ncheckpointEvery: 1\nalgorithm: grpo\n`);
  return path;
}

function linesIn(path: string): number {
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).length : 0;
}

test('rlaif train pg killed with SIGKILL mid-run and resumed equals an uninterrupted run', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'rlaif-kill-'));
  try {
    const straightDir = join(root, 'straight'), killedDir = join(root, 'killed');
    for (const dir of [straightDir, killedDir]) spawnSync('mkdir', ['-p', dir]);
    const straight = spawnSync(process.execPath, [CLI, 'train', 'pg', '--config', writeConfig(straightDir), '--no-progress'], { encoding: 'utf8' });
    assert.equal(straight.status, 0, straight.stderr);

    const config = writeConfig(killedDir);
    const metrics = join(killedDir, 'run', 'metrics.jsonl');
    const child = spawn(process.execPath, [CLI, 'train', 'pg', '--config', config, '--no-progress'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const started = Date.now();
    while (linesIn(metrics) < 4 && Date.now() - started < 60_000) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    const signal = await exited;
    const stepsBeforeKill = linesIn(metrics);
    assert.equal(signal, 'SIGKILL', 'the run was killed, not finished');
    assert.ok(stepsBeforeKill >= 4 && stepsBeforeKill < STEPS, `killed after ${stepsBeforeKill} of ${STEPS} steps`);

    const resumed = spawnSync(process.execPath, [CLI, 'train', 'pg', '--config', config, '--no-progress'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    const recorded = readFileSync(metrics, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).step);
    assert.deepEqual(recorded, Array.from({ length: STEPS }, (_, i) => i + 1), 'metrics.jsonl holds each step once');
    const weights = (dir: string) => readFileSync(join(dir, 'run', 'checkpoint', 'tensors.bin'));
    assert.ok(weights(straightDir).equals(weights(killedDir)), 'final weights differ from the uninterrupted run');
    const state = (dir: string) => JSON.parse(readFileSync(join(dir, 'run', 'checkpoint', 'state.json'), 'utf8'));
    assert.equal(state(killedDir).state.step, STEPS);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
