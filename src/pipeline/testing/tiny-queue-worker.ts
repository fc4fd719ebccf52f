// A queue worker process for the queue tests: `rlaif worker`'s judge handler with the tiny run's scripted labeler
// (built from each job's spec, as a real worker builds the run's labeler). argv: redis URL, a log file to which it
// appends one line per labeler call (the judgment's id). Faults, read before each call from <log>.faults.json when the
// test writes one: failOn (a pair with a candidate equal to this text throws: a permanently failing job), hold (the
// next call logs 'hold <id>' and never returns: a worker stuck mid-job, to be killed), delayMs (each call logs
// 'start <id>', then takes this long: jobs in flight to kill the coordinator under). Rollout jobs: `rlaif worker`'s
// own handler, each job's id appended to <log>.rollout when done; holdRollout: the next rollout job whose id holds
// this text logs 'hold <id>' there and never returns. Prints 'ready'; SIGTERM closes it gracefully. Test-only.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { judgeJobHandler } from '../queue/judge-jobs.ts';
import { rolloutJobHandler } from '../queue/rollout-jobs.ts';
import { startQueueWorker } from '../queue/queue-worker.ts';
import { redisConnection } from '../queue/redis-connection.ts';
import { tinyLabeler } from './tiny-loop.ts';

const [url, log] = process.argv.slice(2);
const faults = (): { failOn?: string; hold?: boolean; delayMs?: number; holdRollout?: string } => (existsSync(`${log}.faults.json`) ? JSON.parse(readFileSync(`${log}.faults.json`, 'utf8')) : {});
let held = false;
const redis = await redisConnection(url!);
const handler = judgeJobHandler({ redis, labelerFor: async (spec) => {
  const { labeler } = tinyLabeler({ seed: spec.seed, principleMode: spec.principleMode, chainOfThought: spec.chainOfThought });
  return { ...labeler, model: labeler.model, templateVersion: labeler.templateVersion,
    pairwise: async (input, ids) => {
      const { failOn, hold, delayMs } = faults();
      if (hold && !held) { held = true; appendFileSync(log!, `hold ${input.id}\n`); await new Promise(() => {}); }
      if (delayMs) { appendFileSync(log!, `start ${input.id}\n`); await new Promise((resolve) => setTimeout(resolve, delayMs)); }
      appendFileSync(log!, `${input.id}\n`);
      if (failOn !== undefined && input.candidates.includes(failOn)) throw new Error(`scripted failure on '${failOn}'`);
      return labeler.pairwise(input, ids);
    },
    pointwise: async (input, ids) => { appendFileSync(log!, `${input.id}\n`); return labeler.pointwise(input, ids); },
  };
} });
const sample = rolloutJobHandler({ redis });
let heldRollout = false;
const rollout = async (data: unknown, job: { id: string; attempt: number }) => {
  const holdOn = faults().holdRollout;
  if (holdOn !== undefined && job.id.includes(holdOn) && !heldRollout) { heldRollout = true; appendFileSync(`${log}.rollout`, `hold ${job.id}\n`); await new Promise(() => {}); }
  const value = await sample(data, job);
  appendFileSync(`${log}.rollout`, `${job.id}\n`);
  return value;
};
const worker = await startQueueWorker({ url: url!, handlers: { judge: handler, rollout }, concurrency: { judge: 4, rollout: 1 }, lockMs: 2000, stalledIntervalMs: 1000 });
process.on('SIGTERM', () => void worker.close().then(() => { redis.disconnect(); process.stdout.write('closed\n'); process.exit(0); }));
process.stdout.write('ready\n');
