// The coordinator's side of the queue: jobs added to BullMQ under deterministic ids (adding an id that is already
// there — a restarted coordinator, a replayed stage — attaches to the existing job, so its work is never done
// twice), with retries and exponential backoff, and each job's outcome gathered from the queue's event stream, with
// a sweep of the jobs still pending (one pipelined round trip, backing off per job) that catches any event missed
// across a Redis restart. Outcomes are typed: a job that failed its every attempt comes back as { kind: 'failed' },
// never as a throw. Leaves out job priorities and flows. Delivery is at-least-once (BullMQ); exactly-once recording
// is the run store's (idempotent record ids).
import type { ConnectionOptions, JobsOptions, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkRedis, redisConnection, redisOptions } from './redis-connection.ts';

export const QUEUE_NAMES = { judge: 'rlaif-judge', rollout: 'rlaif-rollout' } as const;
export type QueueKind = keyof typeof QUEUE_NAMES;

export type JobOutcome<T> = { kind: 'ok'; value: T } | { kind: 'failed'; reason: string };

export interface JobQueueOptions {
  url: string;        // redis://host:port
  attempts: number;   // tries per job before its failure is final
  backoffMs: number;  // delay before the first retry; doubles each time
  sweepMs?: number;   // how often jobs still pending are looked up directly (default 1000)
}

export interface JobQueueCounts {
  added: number;      // jobs asked for (including ids already in the queue)
  completed: number;
  failed: number;     // failed every attempt
}

interface Pending { kind: QueueKind; checkAt: number; checks: number; data: unknown; resolve: (outcome: JobOutcome<unknown>) => void }
interface Buffered { jobId: string; data: unknown }

/** A BullMQ job id must not contain ':' (its key separator). */
export function jobIdOf(parts: (string | number)[]): string {
  return parts.map(String).join('.').replace(/[:\s]/g, '_');
}

export class JobQueue {
  readonly counts: JobQueueCounts = { added: 0, completed: 0, failed: 0 };
  readonly #options: JobQueueOptions;
  readonly #redis: Redis;
  readonly #queues: Record<QueueKind, Queue>;
  readonly #events: Record<QueueKind, QueueEvents>;
  readonly #pending = new Map<string, Pending>();
  readonly #buffer: Record<QueueKind, Buffered[]> = { judge: [], rollout: [] };
  #flushScheduled = false;
  #sweep: NodeJS.Timeout;
  #sweeping = false;
  #closed = false;
  readonly #bullmq: typeof import('bullmq');

  private constructor(options: JobQueueOptions, redis: Redis, bullmq: typeof import('bullmq')) {
    this.#options = options;
    this.#redis = redis;
    this.#bullmq = bullmq;
    const { Queue } = bullmq;
    const defaultJobOptions: JobsOptions = { attempts: options.attempts, backoff: { type: 'exponential', delay: options.backoffMs },
      removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } };
    this.#queues = { judge: new Queue(QUEUE_NAMES.judge, { connection: this.#redis, defaultJobOptions }),
      rollout: new Queue(QUEUE_NAMES.rollout, { connection: this.#redis, defaultJobOptions }) };
    for (const queue of Object.values(this.#queues)) queue.on('error', () => {});   // Redis restarting: commands wait, the sweep covers
    this.#events = { judge: this.#listen('judge'), rollout: this.#listen('rollout') };
    this.#sweep = setInterval(() => void this.#sweepPending(), options.sweepMs ?? 1000);
  }

  static async open(options: JobQueueOptions): Promise<JobQueue> {
    await checkRedis(options.url);   // a dead or wrong URL is an error, not a silent wait
    const [bullmq, redis] = await Promise.all([import('bullmq'), redisConnection(options.url, { name: 'rlaif-coordinator' })]);
    const queue = new JobQueue(options, redis, bullmq);
    await Promise.all([...Object.values(queue.#queues).map((q) => q.waitUntilReady()), ...Object.values(queue.#events).map((e) => e.waitUntilReady())]);
    return queue;
  }

  get redis(): Redis { return this.#redis; }
  get pending(): number { return this.#pending.size; }

  /** Stores a JSON value under its content hash (workers read it once and cache it); returns the key. */
  async putShared(key: string, value: unknown): Promise<void> {
    await this.#redis.set(`rlaif:shared:${key}`, JSON.stringify(value), 'EX', 30 * 24 * 3600);
  }

  /**
   * The outcome of job `jobId` on queue `kind`: added if new, else the existing job's (finished or not). Calls in
   * one tick are added in one round trip.
   */
  run<T>(kind: QueueKind, jobId: string, data: unknown): Promise<JobOutcome<T>> {
    const existing = this.#pending.get(jobId);
    if (existing) return new Promise((resolve) => { const previous = existing.resolve; existing.resolve = (o) => { previous(o); resolve(o as JobOutcome<T>); }; });
    this.counts.added++;
    return new Promise((resolve) => {
      this.#pending.set(jobId, { kind, checkAt: Date.now() + (this.#options.sweepMs ?? 1000), checks: 0, data, resolve: resolve as Pending['resolve'] });
      this.#buffer[kind].push({ jobId, data });
      if (!this.#flushScheduled) { this.#flushScheduled = true; setImmediate(() => void this.#flush()); }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    await Promise.all([...Object.values(this.#events).map((e) => e.close()), ...Object.values(this.#queues).map((q) => q.close())]);
    this.#redis.disconnect();
  }

  #listen(kind: QueueKind): QueueEvents {
    const events = new this.#bullmq.QueueEvents(QUEUE_NAMES[kind], { connection: redisOptions(this.#options.url, `rlaif-coordinator-events-${kind}`) as ConnectionOptions });
    events.on('completed', ({ jobId, returnvalue }) => this.#settle(jobId, { kind: 'ok', value: parse(returnvalue) }));
    events.on('failed', ({ jobId, failedReason }) => this.#settle(jobId, { kind: 'failed', reason: failedReason }));
    events.on('error', () => {});   // connection errors during a Redis restart: ioredis reconnects; the sweep covers the gap
    return events;
  }

  #settle(jobId: string, outcome: JobOutcome<unknown>): void {
    const pending = this.#pending.get(jobId);
    if (!pending) return;
    this.#pending.delete(jobId);
    if (outcome.kind === 'ok') this.counts.completed++; else this.counts.failed++;
    pending.resolve(outcome);
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    for (const kind of Object.keys(this.#buffer) as QueueKind[]) {
      const batch = this.#buffer[kind].splice(0);
      if (batch.length === 0) continue;
      try {
        await this.#queues[kind].addBulk(batch.map((b) => ({ name: kind, data: b.data, opts: { jobId: b.jobId } })));
      } catch (error) {
        // Redis unreachable for longer than ioredis waits: put them back and try again shortly.
        this.#buffer[kind].unshift(...batch);
        if (!this.#flushScheduled) { this.#flushScheduled = true; setTimeout(() => void this.#flush(), 500); }
        void error;
      }
    }
  }

  /**
   * Looks up jobs pending for a while: an event may have been missed (a Redis restart). All due jobs in one pipelined
   * round trip (their membership of the completed and failed sets, and their result), nothing parsed but results;
   * a job found unfinished is looked up again after 2, 4, then 8 sweep intervals.
   */
  async #sweepPending(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const now = Date.now(), sweepMs = this.#options.sweepMs ?? 1000, due = [...this.#pending].filter(([, p]) => p.checkAt <= now);
      if (due.length === 0) return;
      const pipeline = this.#redis.pipeline();
      for (const [jobId, p] of due) {
        const queue = this.#queues[p.kind];
        pipeline.exists(queue.toKey(jobId)).zscore(queue.toKey('completed'), jobId).zscore(queue.toKey('failed'), jobId).hmget(queue.toKey(jobId), 'returnvalue', 'failedReason');
      }
      const replies = (await pipeline.exec()) ?? [];
      due.forEach(([jobId, p], i) => {
        const [exists, completed, failed, fields] = replies.slice(4 * i, 4 * i + 4).map(([error, value]) => (error ? undefined : value));
        if (exists === undefined || !this.#pending.has(jobId)) return;   // a reply lost to a reconnect, or settled meanwhile
        if (exists === 0) {   // not in Redis (lost with an unpersisted Redis): add it again, once per sweep
          if (!this.#buffer[p.kind].some((b) => b.jobId === jobId)) this.#buffer[p.kind].push({ jobId, data: p.data });
          p.checks = 0;
          p.checkAt = now + sweepMs;
          if (!this.#flushScheduled) { this.#flushScheduled = true; setImmediate(() => void this.#flush()); }
          return;
        }
        const [returnvalue, failedReason] = (fields ?? [null, null]) as (string | null)[];
        if (completed !== null && completed !== undefined) this.#settle(jobId, { kind: 'ok', value: parse(returnvalue) });
        else if (failed !== null && failed !== undefined) this.#settle(jobId, { kind: 'failed', reason: failedReason ?? 'failed' });
        else { p.checks++; p.checkAt = now + sweepMs * 2 ** Math.min(p.checks, 3); }
      });
    } catch {
      // Redis down: the next sweep tries again.
    } finally {
      this.#sweeping = false;
    }
  }
}

function parse(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try { return JSON.parse(value); } catch { return value; }
}
