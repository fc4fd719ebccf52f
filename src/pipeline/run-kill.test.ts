// kill -9 at random points of a run, then the same run again until it finishes: the store ends with every record
// exactly once, equal to an uninterrupted run's (timings aside), and the final weights are equal. RLAIF_KILLS sets
// how many kills (default 3; the bar is checked with RLAIF_KILLS=10).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseRunConfig } from './run-config.ts';
import { runLoop } from './run-loop.ts';
import { RunStore } from './run-store.ts';
import { KILL_TEST_CONFIG, KILL_TEST_ITERATIONS_CONFIG } from './testing/tiny-run-process.ts';
import { tinyLoop } from './testing/tiny-loop.ts';

const child = fileURLToPath(new URL('./testing/tiny-run-process.ts', import.meta.url));

/** Runs the child in `dir`; kills it with SIGKILL `killAfterMs` after it opened the store (null: let it finish). */
function runChild(dir: string, killAfterMs: number | null, variant: string): Promise<'killed' | 'done'> {
  return new Promise((resolve) => {
    const process_ = spawn(process.execPath, ['--import', 'tsx', child, dir, variant], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '', timer: NodeJS.Timeout | null = null;
    process_.stdout.on('data', (chunk) => {
      out += chunk;
      if (killAfterMs !== null && !timer && out.includes('open')) timer = setTimeout(() => process_.kill('SIGKILL'), killAfterMs);
    });
    process_.on('exit', () => { if (timer) clearTimeout(timer); resolve(out.includes('done') ? 'done' : 'killed'); });
  });
}

function contents(dir: string, yaml: string): string[] {
  const store = RunStore.open(dir, parseRunConfig(yaml));
  const all = (['prompt', 'sample', 'judgment', 'reward', 'advantage', 'evaluation', 'gate'] as const).flatMap((k) => store.all(k).map((r) => JSON.stringify(r)));
  store.close();
  return all;
}

for (const [variant, yaml] of [['one', KILL_TEST_CONFIG], ['iterations', KILL_TEST_ITERATIONS_CONFIG]] as const) {
test(`kill -9 at random points, resumed each time: nothing lost, nothing duplicated, same results as an uninterrupted run (${variant === 'one' ? 'one RL iteration a round' : 'two RL iterations a round: kills land between them too'})`, async () => {
  const reference = mkdtempSync(join(tmpdir(), 'rlaif-kill-ref-')), killed = mkdtempSync(join(tmpdir(), 'rlaif-kill-'));
  try {
    const config = parseRunConfig(yaml);
    const store = RunStore.open(reference, config);
    const t0 = performance.now();
    await runLoop(tinyLoop({ config, store }).context);
    const runMs = performance.now() - t0;
    store.close();
    const kills = Number(process.env.RLAIF_KILLS ?? 3);
    let seed = 12345, midway = 0;
    for (let i = 0; i < kills; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      // Each attempt resumes and runs on for a random share of what is left (at most half a whole run).
      const outcome = await runChild(killed, Math.round((0.05 + 0.45 * (seed / 2147483648)) * runMs), variant);
      if (outcome === 'killed') midway++;
    }
    assert.equal(await runChild(killed, null, variant), 'done');
    assert.ok(midway > 0, `at least one kill landed before the run finished (${midway} of ${kills}; a run takes ${runMs.toFixed(0)} ms)`);
    const expected = contents(reference, yaml).sort(), got = contents(killed, yaml);
    assert.equal(new Set(got).size, got.length, 'no record twice');
    assert.deepEqual([...got].sort(), expected, 'the same records as the uninterrupted run');
    for (const kind of ['samples', 'judgments', 'rewards']) {
      const lines = readFileSync(join(killed, 'records', `${kind}.jsonl`), 'utf8').trim().split('\n');
      assert.equal(new Set(lines.map((l) => JSON.parse(l).id)).size, lines.length, `${kind}.jsonl: no id written twice`);
    }
    const weights = (dir: string, round: number) => readFileSync(join(dir, 'checkpoints', `round-${round}`, 'tensors.bin'));
    const final = JSON.parse(expected.find((r) => r.includes('"kind":"gate"') && r.includes('"round":2'))!).keptRound as number;
    assert.ok(weights(killed, final).equals(weights(reference, final)), 'final policy weights equal');
  } finally {
    rmSync(reference, { recursive: true, force: true });
    rmSync(killed, { recursive: true, force: true });
  }
});
}
