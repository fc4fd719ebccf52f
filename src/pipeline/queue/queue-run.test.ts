// A run through the queue with three worker processes gives the in-process run's store: the same judgments, rewards,
// advantages, evaluations and gate decisions (timings aside), every judgment asked of a worker once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseRunConfig } from '../run-config.ts';
import { runLoop } from '../run-loop.ts';
import { RunStore } from '../run-store.ts';
import { calls, startWorkers, stopWorkers } from '../testing/queue-processes.ts';
import { startTestRedis, type TestRedis } from '../testing/test-redis.ts';
import { tinyLoop } from '../testing/tiny-loop.ts';
import { tinyQueueRun } from '../testing/tiny-queue-run.ts';
import { KILL_TEST_CONFIG } from '../testing/tiny-run-process.ts';

export function contentOf(store: RunStore): string[] {
  return (['prompt', 'sample', 'judgment', 'reward', 'advantage', 'evaluation', 'gate'] as const)
    .flatMap((kind) => store.all(kind).map((r) => JSON.stringify(r))).sort();
}

let redis: TestRedis;
const dirs: string[] = [];
const temp = (name: string) => { const d = mkdtempSync(join(tmpdir(), `rlaif-queue-${name}-`)); dirs.push(d); return d; };
before(async () => { redis = await startTestRedis(); });
after(async () => { await redis.close(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

test('three queue workers give the in-process store: same judgments, rewards and kept rounds; each judgment asked once', async () => {
  const config = parseRunConfig(KILL_TEST_CONFIG);
  const reference = RunStore.open(temp('ref'), config);
  const straight = tinyLoop({ config, store: reference });
  const expectedOutcome = await runLoop(straight.context);
  const expected = contentOf(reference);
  reference.close();

  const logs = [0, 1, 2].map((i) => join(temp('logs'), `worker-${i}.log`));
  const workers = await startWorkers({ url: redis.url, logs });
  try {
    const { outcome, store, queue } = await tinyQueueRun({ dir: temp('run'), config, url: redis.url });
    assert.deepEqual(contentOf(store), expected, 'the same records as the in-process run');
    assert.deepEqual(outcome.gates.map((g) => [g.round, g.keep, g.keptRound]), expectedOutcome.gates.map((g) => [g.round, g.keep, g.keptRound]));
    const asked = calls(logs), judged = store.all('judgment').filter((j) => j.source === 'pairwise-ai' && j.orders.length > 0);
    assert.equal(asked.length, judged.length, 'one labeler call per judgment');
    assert.equal(new Set(asked).size, asked.length, 'no judgment asked twice');
    assert.equal(queue.counts.completed, judged.length);
    const busy = logs.filter((log) => calls([log]).length > 0).length;
    assert.ok(busy >= 2, `jobs spread over the workers (${busy} of 3 took some)`);
    store.close();
    await queue.close();
  } finally {
    await stopWorkers(workers);
  }
  for (const w of workers) assert.match(w.output(), /closed/, 'SIGTERM: the worker closed gracefully');
});
