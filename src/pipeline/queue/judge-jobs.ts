// Judgments (and critique → revisions) as queue jobs. Coordinator: queueLabeler is a LoopLabeler whose every judgment is a job on the judge
// queue, id'd by (run, round, stage, judgment id) — the judgment id already names the samples it compares — with the
// labeler's spec stored once in Redis under its hash. Worker: judgeJobHandler builds the labeler from that spec
// (run-labeler.ts, the run's own code path), judges, and returns the typed result with the labeler's identity; the
// coordinator refuses a result from a labeler that is not the run's. A job that failed every attempt becomes a typed
// failure ('job-failed'), recorded like any failed judgment: the run goes on. Lee et al. 2023 (arXiv 2309.00267).
import type { Redis } from 'ioredis';
import type { CritiqueRevisionResult, JudgmentFailure, PairwiseInput, PairwiseResult, PointwiseInput, PointwiseResult } from '../../feedback/judgment-types.ts';
import type { JudgmentPlace, LoopLabeler, RevisionInput } from '../loop-labeler.ts';
import { stableHash } from '../../feedback/stable-hash.ts';
import { specHash, type LabelerSpec } from '../run-labeler.ts';
import { jobIdOf, type JobQueue } from './job-queue.ts';
import type { JobHandler } from './queue-worker.ts';

export interface JudgeJobData {
  run: string;                          // the run's id
  spec: string;                         // key of the LabelerSpec in Redis
  method: 'pairwise' | 'pointwise' | 'revise';
  input: PairwiseInput | PointwiseInput | RevisionInput;
  principleIds: string[];
}

export interface JudgeJobResult {
  model: string;                        // the worker's labeler identity, checked against the run's
  templateVersion: string;
  result: PairwiseResult | PointwiseResult | CritiqueRevisionResult;
}

const NO_USAGE = { requests: 0, promptTokens: 0, completionTokens: 0 };

function failure(detail: string): JudgmentFailure {
  return { kind: 'invalid', reason: 'job-failed', raw: '', detail, usage: NO_USAGE };
}

export interface QueueLabelerOptions {
  queue: JobQueue;
  run: string;                          // the run's id (a hash of its folder and config)
  spec: LabelerSpec;
  identity: Pick<LoopLabeler, 'model' | 'templateVersion'>;   // the labeler the run would use in-process
  parallelism?: number;                 // judgments in flight per stage (default 256)
}

/** The run's labeler with every judgment sent to the workers. */
export async function queueLabeler(options: QueueLabelerOptions): Promise<LoopLabeler> {
  const { queue, run, spec, identity } = options, key = specHash(spec);
  await queue.putShared(`spec.${key}`, spec);
  const ask = async <R extends JudgeJobResult['result']>(method: JudgeJobData['method'], input: JudgeJobData['input'],
    principleIds: readonly string[], place: JudgmentPlace | undefined): Promise<R> => {
    const jobId = jobIdOf([run, `r${place?.round ?? 'x'}`, place?.stage ?? 'judge', input.id]);
    const data: JudgeJobData = { run, spec: key, method, input, principleIds: [...principleIds] };
    const outcome = await queue.run<JudgeJobResult>('judge', jobId, data);
    if (outcome.kind === 'failed') return failure(`job ${jobId} failed every attempt: ${outcome.reason}`) as R;
    const { model, templateVersion, result } = outcome.value;
    if (model !== identity.model || templateVersion !== identity.templateVersion) {
      return failure(`job ${jobId}: the worker's labeler is ${model} (template ${templateVersion}), the run's is ${identity.model} (template ${identity.templateVersion})`) as R;
    }
    return result as R;
  };
  return {
    model: identity.model,
    templateVersion: identity.templateVersion,
    parallelism: options.parallelism ?? 256,
    pairwise: (input, ids, place) => ask<PairwiseResult>('pairwise', input, ids, place),
    pointwise: (input, ids, place) => ask<PointwiseResult>('pointwise', input, ids, place),
    revise: (input, ids, place) => ask<CritiqueRevisionResult>('revise', input, ids, place),
  };
}

/** The worker's judge: labelers built once per spec (read from Redis), then one judgment per job. */
export function judgeJobHandler(options: { redis: Redis; labelerFor: (spec: LabelerSpec) => Promise<LoopLabeler> }): JobHandler {
  const labelers = new Map<string, Promise<LoopLabeler>>();
  const labelerOf = (key: string): Promise<LoopLabeler> => {
    let labeler = labelers.get(key);
    if (!labeler) {
      labeler = (async () => {
        const text = await options.redis.get(`rlaif:shared:spec.${key}`);
        if (text === null) throw new Error(`labeler spec ${key} is not in Redis (the coordinator stores it before adding jobs)`);
        return options.labelerFor(JSON.parse(text) as LabelerSpec);
      })();
      labeler.catch(() => labelers.delete(key));   // a failed build is tried again by the next job
      labelers.set(key, labeler);
    }
    return labeler;
  };
  return async (raw) => {
    const data = raw as JudgeJobData, labeler = await labelerOf(data.spec);
    if (data.method === 'revise' && !labeler.revise) throw new Error(`labeler ${labeler.model} cannot critique and revise`);
    const result = data.method === 'pairwise' ? await labeler.pairwise(data.input as PairwiseInput, data.principleIds)
      : data.method === 'revise' ? await labeler.revise!(data.input as RevisionInput, data.principleIds)
        : await labeler.pointwise(data.input as PointwiseInput, data.principleIds);
    const value: JudgeJobResult = { model: labeler.model, templateVersion: labeler.templateVersion, result };
    return value;
  };
}

/** A run's id for its job ids: its folder and its config (a resumed run gets the same id, another run another). */
export function runIdOf(dir: string, config: unknown): string {
  return `run${stableHash({ dir, config }).slice(0, 12)}`;
}
