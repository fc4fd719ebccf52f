// A queue worker process for the queue tests: `rlaif worker`'s judge handler with the tiny run's scripted labeler
// (built from each job's spec, as a real worker builds the run's labeler). argv: redis URL, a log file to which it
// appends one line per labeler call (the judgment's id), and optionally a text: a pair whose candidates contain it
// throws (a permanently failing job). Prints 'ready'; SIGTERM closes it gracefully. Test-only.
import { appendFileSync } from 'node:fs';
import { judgeJobHandler } from '../queue/judge-jobs.ts';
import { startQueueWorker } from '../queue/queue-worker.ts';
import { redisConnection } from '../queue/redis-connection.ts';
import { tinyLabeler } from './tiny-loop.ts';

const [url, log, failOn] = process.argv.slice(2);
const redis = redisConnection(url!);
const handler = judgeJobHandler({ redis, labelerFor: async (spec) => {
  const { labeler } = tinyLabeler({ seed: spec.seed, principleMode: spec.principleMode, chainOfThought: spec.chainOfThought });
  return { ...labeler, model: labeler.model, templateVersion: labeler.templateVersion,
    pairwise: async (input, ids) => {
      appendFileSync(log!, `${input.id}\n`);
      if (failOn && input.candidates.some((c) => c.includes(failOn))) throw new Error(`scripted failure on '${failOn}'`);
      return labeler.pairwise(input, ids);
    },
    pointwise: async (input, ids) => { appendFileSync(log!, `${input.id}\n`); return labeler.pointwise(input, ids); },
  };
} });
const worker = await startQueueWorker({ url: url!, handlers: { judge: handler }, concurrency: 4, lockMs: 2000, stalledIntervalMs: 1000 });
process.on('SIGTERM', () => void worker.close().then(() => { redis.disconnect(); process.stdout.write('closed\n'); process.exit(0); }));
process.stdout.write('ready\n');
