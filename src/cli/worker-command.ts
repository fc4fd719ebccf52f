// `rlaif worker --redis URL [--concurrency N]`: a queue worker for `rlaif run --queue URL` runs, on this machine or
// any other that reaches the Redis: it takes judge jobs, builds each run's labeler from the spec the run stored
// (testbed, in-process checkpoint or endpoint; endpoint request limits shared through Redis), and returns the typed
// judgments; and rollout jobs, sampling with the policy weights the run stored (or from the policy's endpoint).
// SIGTERM/SIGINT: finish the jobs in hand, then exit. Leaves out GPU placement.
import type { Command } from 'commander';
import { redisRateLimiter } from '../pipeline/queue/endpoint-rate-limit.ts';
import { judgeJobHandler } from '../pipeline/queue/judge-jobs.ts';
import { rolloutJobHandler } from '../pipeline/queue/rollout-jobs.ts';
import { startQueueWorker } from '../pipeline/queue/queue-worker.ts';
import { checkRedis, redactedRedisUrl, redisConnection } from '../pipeline/queue/redis-connection.ts';
import { labelerFromSpec } from '../pipeline/run-labeler.ts';

function positive(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${name} must be a positive integer, got '${value}'`);
  return Number(value);
}

export function registerWorkerCommand(program: Command): void {
  program.command('worker').description('take judge and rollout jobs of `rlaif run --queue` runs from Redis (any number of workers, any machine)')
    .requiredOption('--redis <url>', 'the queue, e.g. redis://127.0.0.1:6379')
    .option('--concurrency <n>', 'judge jobs in hand at once (judging an endpoint is I/O-bound: more than 1 helps)', '8')
    .option('--rollout-concurrency <n>', 'rollout jobs in hand at once (sampling in this process is CPU-bound: 1 per core it may use)', '1')
    .option('--lock-ms <ms>', 'a job whose worker stops renewing its lock this long is handed to another worker', '30000')
    .action(async (options: { redis: string; concurrency: string; rolloutConcurrency: string; lockMs: string }) => {
      const concurrency = positive(options.concurrency, '--concurrency'), lockMs = positive(options.lockMs, '--lock-ms');
      const rolloutConcurrency = positive(options.rolloutConcurrency, '--rollout-concurrency');
      await checkRedis(options.redis);   // before the shared connection, which would retry a dead URL forever
      const redis = await redisConnection(options.redis, { name: 'rlaif-worker-shared' });
      let done = 0, failed = 0;
      const handler = judgeJobHandler({ redis, labelerFor: (spec) => {
        console.error(`worker: building the labeler of a run (${spec.labeler.kind}${spec.labeler.kind === 'openai-compatible' ? ` ${spec.labeler.baseURL} ${spec.labeler.model}` : ''})`);
        return labelerFromSpec(spec, { limiterFor: (endpoint, perSecond) => redisRateLimiter({ redis, endpoint, perSecond }) });
      } });
      const rollout = rolloutJobHandler({ redis });
      const worker = await startQueueWorker({ url: options.redis, handlers: { judge: handler, rollout },
        concurrency: { judge: concurrency, rollout: rolloutConcurrency }, lockMs, stalledIntervalMs: Math.max(1000, lockMs),
        onJob: (event) => {
          if (event.ok) done++; else failed++;
          if ((done + failed) % 50 === 0) console.error(`worker: ${done} jobs done, ${failed} failed attempts`);
        } });
      console.error(`worker: waiting for jobs on ${redactedRedisUrl(options.redis)} (concurrency ${concurrency}, rollouts ${rolloutConcurrency}); SIGTERM finishes the jobs in hand and exits`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          console.error(`worker: ${signal}: finishing the jobs in hand`);
          void worker.close().then(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      rollout.close();
      redis.disconnect();
      console.error(`worker: closed after ${done} jobs (${failed} failed attempts)`);
    });
}
