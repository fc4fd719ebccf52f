// Benchmarks the job queue (`npm run bench -- queue`): judgments of an OpenAI-compatible labeler (the scripted server
// in its own process) sent through BullMQ on a local redis-server to `rlaif worker` processes, against the same
// judgments made in this process. RESULT queue_overhead_ms: extra wall time per judge job through the queue (one
// worker with 32 jobs in hand, fast server: (T_queue − T_local) / jobs, the better of two tries each). RESULT queue_scaling_3w: judgments/s
// of 3 workers over 1 worker with a 50 ms-latency server (I/O-bound jobs). Leaves out rollout jobs (queue-run.test.ts
// checks them). No paper.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConstitution } from '../src/feedback/constitution.ts';
import type { PairwiseInput } from '../src/feedback/judgment-types.ts';
import type { LoopLabeler } from '../src/pipeline/loop-labeler.ts';
import { JobQueue } from '../src/pipeline/queue/job-queue.ts';
import { queueLabeler } from '../src/pipeline/queue/judge-jobs.ts';
import { labelerFromSpec, type LabelerSpec } from '../src/pipeline/run-labeler.ts';
import { inOrder } from '../src/pipeline/round-stages.ts';
import { startTestRedis } from '../src/pipeline/testing/test-redis.ts';

const bin = fileURLToPath(new URL('../bin/rlaif.js', import.meta.url));
const serverScript = fileURLToPath(new URL('../src/feedback/testing/scripted-server-process.ts', import.meta.url));

function started(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child[stream]!.on('data', (chunk) => { text += chunk; const m = pattern.exec(text); if (m) resolve(m[1] ?? m[0]); });
    child.on('exit', (code) => reject(new Error(`exited (${code}) before ready: ${text.slice(-500)}`)));
  });
}

async function scriptedServer(latencyMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', serverScript, JSON.stringify({ seed: 1, latencyMs })], { stdio: ['pipe', 'pipe', 'inherit'] });
  return { url: await started(child, 'stdout', /URL (\S+)/), child };
}

async function workers(url: string, count: number, concurrency: number): Promise<ChildProcess[]> {
  const children = Array.from({ length: count }, () => spawn(process.execPath, [bin, 'worker', '--redis', url, '--concurrency', String(concurrency)], { stdio: ['ignore', 'ignore', 'pipe'] }));
  await Promise.all(children.map((c) => started(c, 'stderr', /waiting for jobs/)));
  return children;
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise((resolve) => { c.once('exit', resolve); c.kill('SIGTERM'); })));
}

function pairs(count: number, tag: string): PairwiseInput[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${tag}-${i}`, conversation: [{ role: 'user', content: `Is it safe to answer question ${i}?` }],
    candidates: [`[good] A careful answer ${i}.`, `[bad] A careless answer ${i}.`] }));
}

/** Seconds to judge `items` with `labeler`, `width` at once. */
async function judgeAll(labeler: LoopLabeler, items: PairwiseInput[], width: number, tag: string): Promise<number> {
  const start = performance.now();
  const results = await inOrder(items.map((item) => () => labeler.pairwise(item, [], { round: 0, stage: tag })), width);
  const failed = results.filter((r) => r.kind !== 'ok').length;
  if (failed > 0) throw new Error(`${failed} of ${items.length} judgments failed`);
  return (performance.now() - start) / 1000;
}

function spec(url: string): LabelerSpec {
  return { labeler: { kind: 'openai-compatible', baseURL: url, model: 'scripted', apiKeyEnvironmentVariable: 'OPENAI_API_KEY', requestsPerSecond: null },
    seed: 1, principleMode: 'sample-one', chainOfThought: false, constitution: loadConstitution() };
}

const result = (name: string, value: number, digits: number) => console.log(`RESULT ${name} ${value.toFixed(digits)}`);

export async function runQueueBench(): Promise<void> {
  const redis = await startTestRedis();
  const queue = await JobQueue.open({ url: redis.url, attempts: 3, backoffMs: 100 });
  try {
    // Overhead: 1 worker × 32 jobs in hand vs this process's labeler (8 requests in flight), fast server.
    const fast = await scriptedServer(0);
    const local = await labelerFromSpec(spec(fast.url));
    const remote = await queueLabeler({ queue, run: `bench${Date.now()}`, spec: spec(fast.url), identity: local });
    const one = await workers(redis.url, 1, 32);
    const jobs = 300, localS: number[] = [], queueS: number[] = [];
    await judgeAll(remote, pairs(40, 'warm-q'), 64, 'warm');            // worker builds its labeler, connections warm
    await judgeAll(local, pairs(40, 'warm-l'), 8, 'warm');
    for (let rep = 0; rep < 2; rep++) {
      localS.push(await judgeAll(local, pairs(jobs, `l${rep}`), 8, 'local'));
      queueS.push(await judgeAll(remote, pairs(jobs, `q${rep}`), 256, 'queue'));
    }
    await stop(one);
    fast.child.kill('SIGTERM');
    console.log(`# ${jobs} judgments: in-process ${localS.map((s) => s.toFixed(2)).join(', ')} s; through the queue (1 worker) ${queueS.map((s) => s.toFixed(2)).join(', ')} s`);
    result('queue_overhead_ms', ((Math.min(...queueS) - Math.min(...localS)) / jobs) * 1000, 2);

    // Scaling: I/O-bound jobs (50 ms per request, 2 requests per judgment), 2 jobs in hand per worker.
    const slow = await scriptedServer(50);
    const identity = await labelerFromSpec(spec(slow.url));
    const rate = async (count: number, tag: string) => {
      const children = await workers(redis.url, count, 2);
      const labeler = await queueLabeler({ queue, run: `bench${Date.now()}${tag}`, spec: spec(slow.url), identity });
      await judgeAll(labeler, pairs(12 * count, `warm-${tag}`), 256, 'warm');
      const n = 60 * count, seconds = await judgeAll(labeler, pairs(n, tag), 256, 'scale');
      await stop(children);
      console.log(`# ${count} worker(s): ${n} judgments in ${seconds.toFixed(2)} s = ${(n / seconds).toFixed(1)}/s`);
      return n / seconds;
    };
    const single = await rate(1, 'w1'), triple = await rate(3, 'w3');
    slow.child.kill('SIGTERM');
    result('queue_scaling_3w', triple / single, 2);
  } finally {
    await queue.close();
    await redis.close();
  }
}
