// The tiny run of run-loop.test.ts with its judgments and rollouts sent to queue workers: the coordinator's side, as
// `rlaif run --queue` wires it (queueLabeler over the run's labeler spec and identity, queueRollout). Test-only.
import { JobQueue } from '../queue/job-queue.ts';
import { queueLabeler, runIdOf } from '../queue/judge-jobs.ts';
import { queueRollout } from '../queue/rollout-jobs.ts';
import type { RunConfig } from '../run-config.ts';
import { runLoop, type LoopOutcome } from '../run-loop.ts';
import { RunStore } from '../run-store.ts';
import { TINY_CONSTITUTION, tinyLoop } from './tiny-loop.ts';

export async function tinyQueueRun(options: { dir: string; config: Readonly<RunConfig>; url: string; onOpen?: () => void; opened?: (() => Promise<void>)[] }): Promise<{ outcome: LoopOutcome; store: RunStore; queue: JobQueue }> {
  const { dir, config, url } = options;
  const store = RunStore.open(dir, config);
  const queue = await JobQueue.open({ url, attempts: 3, backoffMs: 100, sweepMs: 500 });
  const { context } = tinyLoop({ config, store });
  context.labeler = await queueLabeler({ queue, run: runIdOf(dir, config), identity: context.labeler,
    spec: { labeler: config.labeler, seed: config.seed, principleMode: config.feedback.principleMode, chainOfThought: config.feedback.chainOfThought, constitution: TINY_CONSTITUTION } });
  context.rollout = queueRollout({ queue, run: runIdOf(dir, config), rowsPerJob: config.rolloutBatchRows });
  options.onOpen?.();
  options.opened?.push(async () => { store.close(); await queue.close(); });
  try {
    return { outcome: await runLoop(context), store, queue };
  } catch (error) {
    store.close();
    await queue.close();
    throw error;
  }
}
