// The worker's side of the queue (`rlaif worker`): BullMQ workers on the judge and rollout queues, each job handed
// to its handler and its typed result returned to the coordinator. A worker that dies mid-job loses its lock and the
// job goes back to the queue (stalled-job recovery by the surviving workers); close() — on SIGTERM — stops taking
// jobs and finishes the ones in hand. Leaves out sandboxed (child-process) processors. No paper.
import type { ConnectionOptions, Job } from 'bullmq';
import { QUEUE_NAMES, type QueueKind } from './job-queue.ts';
import { checkRedis, redisOptions } from './redis-connection.ts';

export type JobHandler = (data: unknown, job: { id: string; attempt: number }) => Promise<unknown>;

export interface QueueWorkerOptions {
  url: string;
  handlers: Partial<Record<QueueKind, JobHandler>>;
  concurrency: number | Partial<Record<QueueKind, number>>;   // jobs in hand at once per queue (I/O-bound judge jobs: more than 1; CPU-bound rollouts: 1)
  lockMs?: number;              // a job whose worker stops renewing its lock for this long is stalled (default 30 s)
  stalledIntervalMs?: number;   // how often workers look for stalled jobs (default 30 s)
  maxStalledCount?: number;     // stalls a job survives before it fails (default 3)
  onJob?: (event: { kind: QueueKind; id: string; ms: number; ok: boolean }) => void;
}

export interface QueueWorker {
  readonly processed: number;
  close(): Promise<void>;       // finishes the jobs in hand, takes no more
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  let processed = 0;
  await checkRedis(options.url);   // a dead or wrong URL is an error, not a silent wait
  const { Worker } = await import('bullmq');   // on first use: see redis-connection.ts
  const workers = (Object.entries(options.handlers) as [QueueKind, JobHandler][]).map(([kind, handler]) => {
    const worker = new Worker(QUEUE_NAMES[kind], async (job: Job) => {
      const start = performance.now();
      let ok = false;
      try {
        const value = await handler(job.data, { id: job.id!, attempt: job.attemptsMade + 1 });
        ok = true;
        return value;
      } finally {
        processed++;
        options.onJob?.({ kind, id: job.id!, ms: performance.now() - start, ok });
      }
    }, {
      connection: redisOptions(options.url, `rlaif-worker-${kind}`) as ConnectionOptions,
      concurrency: typeof options.concurrency === 'number' ? options.concurrency : options.concurrency[kind] ?? 1,
      lockDuration: options.lockMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: options.maxStalledCount ?? 3,
    });
    worker.on('error', () => {});   // connection errors while Redis restarts: the worker reconnects by itself
    return worker;
  });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  return {
    get processed() { return processed; },
    async close() { await Promise.all(workers.map((w) => w.close())); },
  };
}
