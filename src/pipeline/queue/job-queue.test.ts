// The coordinator's sweep, which settles jobs whose events it never saw: a restarted coordinator asking for a job that
// finished (or failed for good) while it was away gets that outcome without the job running again; a job lost from
// Redis while pending is added again and run once. A worker in this process, a real redis-server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestRedis, type TestRedis } from '../testing/test-redis.ts';
import { JobQueue } from './job-queue.ts';
import { startQueueWorker, type QueueWorker } from './queue-worker.ts';
import { checkRedis } from './redis-connection.ts';

let redis: TestRedis, worker: QueueWorker;
const runs: string[] = [];
before(async () => {
  redis = await startTestRedis();
  worker = await startQueueWorker({ url: redis.url, concurrency: 4, handlers: { judge: async (data, job) => {
    runs.push(job.id);
    if ((data as { fail?: boolean }).fail) throw new Error('scripted failure');
    return { doubled: 2 * (data as { n: number }).n };
  } } });
});
after(async () => { await worker.close(); await redis.close(); });

const open = () => JobQueue.open({ url: redis.url, attempts: 1, backoffMs: 10, sweepMs: 100 });

test('a coordinator asking for jobs that finished while it was away: their outcomes come from the sweep, nothing runs again', async () => {
  const first = await open();
  assert.deepEqual(await first.run('judge', 'sweep-ok', { n: 21 }), { kind: 'ok', value: { doubled: 42 } });
  assert.equal((await first.run('judge', 'sweep-failed', { n: 1, fail: true })).kind, 'failed');
  await first.close();
  const before = runs.length, second = await open();   // its event stream starts after those events
  try {
    assert.deepEqual(await second.run('judge', 'sweep-ok', { n: 21 }), { kind: 'ok', value: { doubled: 42 } });
    const failed = await second.run('judge', 'sweep-failed', { n: 1, fail: true });
    assert.ok(failed.kind === 'failed' && /scripted failure/.test(failed.reason), JSON.stringify(failed));
    assert.equal(runs.length, before, 'neither job ran again');
    assert.deepEqual(second.counts, { added: 2, completed: 1, failed: 1 });
  } finally {
    await second.close();
  }
});

test('a job lost from Redis while pending is added again by the sweep and runs', async () => {
  const queue = await open();
  let rollouts: QueueWorker | null = null;
  try {
    const outcome = queue.run('rollout', 'sweep-lost', { n: 5 });   // no rollout worker yet: it waits
    const key = 'bull:rlaif-rollout';
    while (!(await queue.redis.exists(`${key}:sweep-lost`))) await new Promise((resolve) => setTimeout(resolve, 10));
    await queue.redis.del(`${key}:sweep-lost`);   // as if Redis lost it: its hash and its place in the wait list
    await queue.redis.lrem(`${key}:wait`, 0, 'sweep-lost');
    rollouts = await startQueueWorker({ url: redis.url, concurrency: 1, handlers: { rollout: async (data, job) => { runs.push(job.id); return { doubled: 2 * (data as { n: number }).n }; } } });
    assert.deepEqual(await outcome, { kind: 'ok', value: { doubled: 10 } });
    assert.equal(runs.filter((id) => id === 'sweep-lost').length, 1, 'run once, after the sweep added it again');
  } finally {
    await rollouts?.close();
    await queue.close();
  }
});

test('no Redis at the URL: opening a queue or a worker fails at once, naming the URL without its password; a live one passes the check', { timeout: 20_000 }, async () => {
  const dead = 'redis://user:sekret@127.0.0.1:1';
  const started = performance.now();
  await assert.rejects(JobQueue.open({ url: dead, attempts: 1, backoffMs: 10 }), (error: Error) => /no Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1/.test(error.message) && !error.message.includes('sekret'));
  await assert.rejects(startQueueWorker({ url: dead, concurrency: 1, handlers: { judge: async () => ({}) } }), /no Redis at redis:\/\/\*\*\*@127\.0\.0\.1:1/);
  assert.ok(performance.now() - started < 5000, 'a refused connection is not waited on');
  await checkRedis(redis.url, 2000);
});
