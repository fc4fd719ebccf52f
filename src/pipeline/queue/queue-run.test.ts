// Runs through the queue with worker processes, judgments and rollouts both. A clean run gives the in-process run's
// store (same samples, judgments, rewards, advantages, evaluations, gate decisions; timings aside), each judgment
// asked of a worker once, each rollout chunk sampled once. Faults, each ending with nothing lost, nothing duplicated
// and no result recorded twice: Redis killed (-9) and restarted mid-stage, a job that fails every attempt (a typed
// failure is recorded and the run goes on), the coordinator killed (-9) and restarted, a worker killed (-9) while it
// holds a judge job, another while it holds a rollout job. No step waits for a fixed time: each fault is
// triggered by what the processes report, so the tests hold on a loaded machine. One pool of workers serves all.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseRunConfig } from '../run-config.ts';
import { runLoop, type LoopOutcome } from '../run-loop.ts';
import { RunStore } from '../run-store.ts';
import { calls, callsSince, inFlight, markCalls, rolloutJobs, setFaults, spawnTs, startWorkers, stopWorkers, until, type Child } from '../testing/queue-processes.ts';
import { startTestRedis, type TestRedis } from '../testing/test-redis.ts';
import { tinyLoop } from '../testing/tiny-loop.ts';
import { tinyQueueRun } from '../testing/tiny-queue-run.ts';
import { KILL_TEST_CONFIG } from '../testing/tiny-run-process.ts';

const config = parseRunConfig(KILL_TEST_CONFIG);
let redis: TestRedis, expected: string[], expectedOutcome: LoopOutcome, workers: Child[], logs: string[];
const dirs: string[] = [], opened: (() => Promise<void>)[] = [];   // each run's store and queue, closed at the end even after a failure
const temp = (name: string) => { const d = mkdtempSync(join(tmpdir(), `rlaif-queue-${name}-`)); dirs.push(d); return d; };
const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);

function contentOf(store: RunStore): string[] {
  return (['prompt', 'sample', 'judgment', 'reward', 'advantage', 'evaluation', 'gate'] as const)
    .flatMap((kind) => store.all(kind).map((r) => JSON.stringify(r))).sort();
}

/** Every record file of the run folder holds each id once. */
function assertNoIdTwice(dir: string): void {
  for (const kind of ['samples', 'judgments', 'rewards', 'advantages', 'gates']) {
    const ids = lines(join(dir, 'records', `${kind}.jsonl`)).map((l) => JSON.parse(l).id as string);
    assert.equal(new Set(ids).size, ids.length, `${kind}.jsonl: no id written twice`);
  }
}

before(async () => {
  redis = await startTestRedis();
  const store = RunStore.open(temp('ref'), config);
  expectedOutcome = await runLoop(tinyLoop({ config, store }).context);
  expected = contentOf(store);
  store.close();
  const logDir = temp('logs');
  logs = [0, 1, 2].map((i) => join(logDir, `worker-${i}.log`));
  workers = await startWorkers({ url: redis.url, logs });
});
after(async () => {
  for (const close of opened) await close();
  await stopWorkers(workers);
  await redis.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('three queue workers give the in-process store: same samples, judgments, rewards and kept rounds; each judgment asked once', async () => {
  const mark = markCalls(logs), dir = temp('run'), rolloutsBefore = logs.map((log) => rolloutJobs(log).done.length);
  const { outcome, store, queue } = await tinyQueueRun({ dir, config, url: redis.url, opened });
  assert.deepEqual(contentOf(store), expected, 'the same records as the in-process run');
  assert.deepEqual(outcome.gates.map((g) => [g.round, g.keep, g.keptRound]), expectedOutcome.gates.map((g) => [g.round, g.keep, g.keptRound]));
  const asked = callsSince(mark), judged = store.all('judgment').filter((j) => j.source === 'pairwise-ai' && j.orders.length > 0);
  assert.equal(asked.length, judged.length, 'one labeler call per judgment');
  assert.equal(new Set(asked).size, asked.length, 'no judgment asked twice');
  const rollouts = logs.map((log, i) => rolloutJobs(log).done.slice(rolloutsBefore[i]));
  // Chunks of rolloutBatchRows: 4 prompts × 4 samples in 2 rounds, and the 6 validation prompts of rounds 0, 1 and 2.
  const chunks = 2 * Math.ceil((config.promptsPerRound * config.samplesPerPrompt) / config.rolloutBatchRows) + 3 * Math.ceil(config.validationPrompts / config.rolloutBatchRows);
  assert.equal(rollouts.flat().length, chunks, 'every sample drawn by a worker, a job per chunk');
  assert.equal(new Set(rollouts.flat()).size, chunks, 'no chunk sampled twice');
  assert.equal(queue.counts.completed, judged.length + chunks);
  const busy = logs.filter((log) => calls([log]).length > 0).length;
  assert.ok(busy >= 2, `jobs spread over the workers (${busy} of 3 took some)`);
  assert.ok(rollouts.filter((r) => r.length > 0).length >= 2, `rollout jobs spread over the workers (${rollouts.map((r) => r.length).join(', ')})`);
  store.close();
  await queue.close();
});

test('Redis killed -9 and restarted mid-stage: workers and coordinator reconnect, the store equals the in-process one', async () => {
  const mark = markCalls(logs), dir = temp('run');
  const run = tinyQueueRun({ dir, config, url: redis.url, opened });
  await until(() => callsSince(mark).length >= 8);
  await redis.stop('SIGKILL');
  await redis.start();
  const { store, queue } = await run;
  assert.deepEqual(contentOf(store), expected, 'nothing lost, nothing duplicated');
  assertNoIdTwice(dir);
  store.close();
  await queue.close();
});

test('a job that fails every attempt: a typed failure is recorded for that judgment, the run goes on to the end', async () => {
  // A text the tiny run samples in its first round: the judgment of any pair holding it fails on every worker.
  const records = expected.map((r) => JSON.parse(r));
  const target = records.find((r) => r.kind === 'judgment' && r.stage === 'feedback' && r.round === 1 && r.orders.length > 0);
  const failOn = records.find((r) => r.kind === 'sample' && r.id === target.parents[0]).text as string;
  for (const log of logs) setFaults(log, { failOn });
  const mark = markCalls(logs);
  try {
    const dir = temp('run');
    const { store, queue, outcome } = await tinyQueueRun({ dir, config, url: redis.url, opened });
    assert.deepEqual(outcome.gates.map((g) => g.round), [0, 1, 2], 'every round ran');
    const failed = store.all('judgment').filter((j) => !j.ok);
    assert.ok(failed.some((j) => j.id === target.id), 'the failing judgment is recorded');
    for (const j of failed) assert.match(j.failure!, /^job-failed: job \S+ failed every attempt: scripted failure/);
    assert.equal(queue.counts.failed, failed.length);
    assert.equal(callsSince(mark).filter((id) => id === target.id).length, config.queue.attempts, 'tried config.queue.attempts times');
    assertNoIdTwice(dir);
    store.close();
    await queue.close();
  } finally {
    for (const log of logs) setFaults(log, {});
  }
});

test('the coordinator killed -9 with jobs in flight and restarted: no job asked twice, the store equals the in-process one', async () => {
  const mark = markCalls(logs), dir = temp('run');
  for (const log of logs) setFaults(log, { delayMs: 300 });   // each judgment takes 300 ms: the kill lands while some are in flight
  try {
    const first = spawnTs('../testing/tiny-queue-run-process.ts', [dir, redis.url]);
    await first.printed('open');
    await until(() => (callsSince(mark).length >= 4 && inFlight(mark).length > 0) || first.process.exitCode !== null);
    first.process.kill('SIGKILL');
    const flying = inFlight(mark);
    await first.exited;
    assert.ok(flying.length > 0, `killed with judgments in flight (coordinator output: ${first.output().slice(-1500)})`);
    const second = spawnTs('../testing/tiny-queue-run-process.ts', [dir, redis.url]);
    await second.printed('done');
    await second.exited;
    const store = RunStore.open(dir, config);
    assert.deepEqual(contentOf(store), expected, 'nothing lost, nothing duplicated');
    store.close();
    assertNoIdTwice(dir);
    const asked = callsSince(mark);
    for (const id of flying) assert.equal(asked.filter((x) => x === id).length, 1, `${id}, in flight at the kill, was judged once`);
    assert.equal(new Set(asked).size, asked.length, 'no judgment asked of a worker twice across the restart');
  } finally {
    for (const log of logs) setFaults(log, {});
  }
});

test('a worker killed -9 while it holds a job: another worker takes the job over, the store equals the in-process one', async () => {
  const dir = temp('run');
  setFaults(logs[0]!, { hold: true });
  const run = tinyQueueRun({ dir, config, url: redis.url, opened });
  await until(() => lines(logs[0]!).some((l) => l.startsWith('hold ')));
  const held = lines(logs[0]!).find((l) => l.startsWith('hold '))!.slice(5);
  workers[0]!.process.kill('SIGKILL');
  const { store, queue } = await run;
  assert.deepEqual(contentOf(store), expected, 'nothing lost, nothing duplicated');
  assert.ok(calls(logs.slice(1)).includes(held), 'the held job was judged by a surviving worker');
  assertNoIdTwice(dir);
  store.close();
  await queue.close();
});

test('a worker killed -9 while it holds a rollout job: another worker samples that chunk, the store equals the in-process one', async () => {
  const dir = temp('run'), victim = 1;   // workers[0] died in the test before
  setFaults(logs[victim]!, { holdRollout: '.rollout.' });   // a chunk of a rollout stage (not an evaluation's)
  const run = tinyQueueRun({ dir, config, url: redis.url, opened });
  await until(() => rolloutJobs(logs[victim]!).held !== null);
  const held = rolloutJobs(logs[victim]!).held!;
  workers[victim]!.process.kill('SIGKILL');
  const { store, queue } = await run;
  assert.deepEqual(contentOf(store), expected, 'nothing lost, nothing duplicated');
  assert.ok(logs.some((log, i) => i !== victim && rolloutJobs(log).done.includes(held)), `the held chunk ${held} was sampled by a surviving worker`);
  assertNoIdTwice(dir);
  store.close();
  await queue.close();
});
