// Rollouts as queue jobs (`rlaif run --queue`). Coordinator: queueRollout cuts a stage's rows into chunks of
// config.rolloutBatchRows — the batches the in-process run samples in, so each row's tokens and log-probs are the
// in-process run's bit for bit — and sends each chunk as one job on the rollout queue, id'd by (run, round, stage,
// the chunk's sample ids), so a restarted coordinator attaches to the jobs it queued. An in-process policy's weights
// go to Redis once per version under their content hash, the rows as prompt token ids and seeds; the worker samples
// with the run's own function (sampleTokenRows) and returns token ids and log-probs, decoded by the coordinator. A
// policy behind an endpoint: the worker asks the endpoint, a request per row, under policy.requestsPerSecond counted
// in Redis for all workers. A job that failed every attempt stops
// the stage (a sample has no typed failure); the run resumes from the store. Sampling in a worker holds its event
// loop: a batch longer than the worker's --lock-ms is handed to another worker too (same result, work wasted). An
// endpoint's server may batch requests, so its log-probs can differ in the last bits between runs; its texts do not.
// Leaves out LoRA adapters and bf16 generation weights (those policies sample in the coordinator: rolloutOnQueue).
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { tensor } from '../../engine/index.ts';
import { stableHash } from '../../feedback/stable-hash.ts';
import type { TransformerConfig } from '../../models/config.ts';
import { Transformer } from '../../models/transformer.ts';
import { EndpointPolicy, type RolloutRow, type RowSample } from '../endpoint-policy.ts';
import { sampleTokenRows, type LoopPolicy, type TokenSettings } from '../loop-policy.ts';
import type { RolloutRunner, RunPolicy } from '../round-context.ts';
import type { ChatTurn } from '../run-records.ts';
import { redisRateLimiter } from './endpoint-rate-limit.ts';
import { jobIdOf, type JobQueue } from './job-queue.ts';
import type { JobHandler } from './queue-worker.ts';

type JobPolicy =
  | { kind: 'weights'; key: string; settings: TokenSettings }
  | { kind: 'endpoint'; baseURL: string; model: string; apiKeyEnvironmentVariable: string; maxNewTokens: number; temperature: number; requestsPerSecond: number | null };

export interface RolloutJobData {
  run: string;
  policy: JobPolicy;
  rows: { promptTokens?: number[]; messages?: ChatTurn[]; seed: number }[];   // (rows,) token ids (weights) or messages (endpoint)
}

export interface RolloutJobResult { samples: RowSample[] }   // (rows,) text '' for weights: the coordinator decodes

const WEIGHTS_TTL_SECONDS = 7 * 24 * 3600;
const weightsKey = (key: string) => `rlaif:shared:weights.${key}`;

/** Why a policy's rollouts stay in the coordinator (null: they can go to the workers). */
export function rolloutOnQueue(policy: RunPolicy): string | null {
  if (policy.kind === 'endpoint') return null;
  if (policy.model.adapter) return 'a LoRA policy samples in this process (its adapters are not shipped to workers)';
  if (policy.model.bf16Weights().size > 0) return 'a policy with bf16 generation weights samples in this process';
  return null;
}

/** The weights as one buffer: u32 header length, header JSON (config, names, shapes), then float32 data in name order. */
export function encodeWeights(model: Transformer): Buffer {
  const entries = [...model.parameters()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header = Buffer.from(JSON.stringify({ config: model.config, tensors: entries.map(([name, t]) => ({ name, shape: t.shape })) }));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return Buffer.concat([length, header, ...entries.map(([, t]) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))]);
}

export function decodeWeights(bytes: Buffer): Transformer {
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString('utf8')) as { config: TransformerConfig; tensors: { name: string; shape: number[] }[] };
  const parameters = new Map();
  let offset = 4 + headerLength;
  for (const { name, shape } of header.tensors) {
    const n = shape.reduce((a, d) => a * d, 1), data = new Float32Array(n);
    data.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * n)));
    parameters.set(name, tensor(data, shape));
    offset += 4 * n;
  }
  if (offset !== bytes.length) throw new Error(`policy weights: ${bytes.length - offset} bytes past the last tensor (a corrupt upload?)`);
  return new Transformer(header.config, parameters);
}

export interface QueueRolloutOptions {
  queue: JobQueue;
  run: string;
  rowsPerJob: number;                       // config.rolloutBatchRows
  onProgress?: (event: { stage: string; round: number; done: number; total: number }) => void;   // jobs of a stage done
}

/** The run's rollouts sent to the workers, a job per chunk of rows. */
export function queueRollout(options: QueueRolloutOptions): RolloutRunner {
  const { queue, run, rowsPerJob } = options, uploaded = new Set<string>();
  const upload = async (policy: LoopPolicy): Promise<string> => {
    const bytes = encodeWeights(policy.model), key = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
    if (!uploaded.has(key)) {
      await queue.redis.set(weightsKey(key), bytes, 'EX', WEIGHTS_TTL_SECONDS, 'NX');   // NX: a restarted coordinator's upload is already there
      await queue.redis.expire(weightsKey(key), WEIGHTS_TTL_SECONDS);
      uploaded.add(key);
    }
    return key;
  };
  return async (policy, rows, place) => {
    const jobPolicy: JobPolicy = policy.kind === 'endpoint'
      ? { kind: 'endpoint', baseURL: policy.endpoint.baseURL, model: policy.endpoint.model, apiKeyEnvironmentVariable: policy.apiKeyEnvironmentVariable, maxNewTokens: policy.maxNewTokens, temperature: policy.temperature,
        requestsPerSecond: policy.requestsPerSecond }
      : { kind: 'weights', key: await upload(policy), settings: policy.tokenSettings };
    const chunks = Array.from({ length: Math.ceil(rows.length / rowsPerJob) }, (_, c) => ({ start: c * rowsPerJob, rows: rows.slice(c * rowsPerJob, (c + 1) * rowsPerJob) }));
    let done = 0;
    const results = await Promise.all(chunks.map(async ({ start, rows: chunk }) => {
      const ids = place.ids.slice(start, start + chunk.length);
      const jobId = jobIdOf([run, `r${place.round}`, place.stage, `rows${stableHash(ids).slice(0, 16)}`]);
      const data: RolloutJobData = { run, policy: jobPolicy, rows: chunk.map((row) => (policy.kind === 'endpoint'
        ? { messages: row.messages, seed: row.seed } : { promptTokens: Array.from(policy.promptTokens(row.messages)), seed: row.seed })) };
      const outcome = await queue.run<RolloutJobResult>('rollout', jobId, data);
      if (outcome.kind === 'failed') throw new Error(`rollout job ${jobId} (round ${place.round}, ${place.stage}) failed every attempt: ${outcome.reason}`);
      if (outcome.value.samples.length !== chunk.length) throw new Error(`rollout job ${jobId}: ${outcome.value.samples.length} samples for ${chunk.length} rows`);
      options.onProgress?.({ stage: place.stage, round: place.round, done: ++done, total: chunks.length });
      return outcome.value.samples;
    }));
    const samples = results.flat();
    return policy.kind === 'endpoint' ? samples : samples.map((s) => ({ ...s, text: policy.decode(s.tokens) }));
  };
}

/** The worker's rollouts: policies loaded once per weights key (from Redis) or endpoint, then one chunk per job. */
export function rolloutJobHandler(options: { redis: Redis; cached?: number }): JobHandler & { close(): void } {
  const models = new Map<string, Promise<Transformer>>(), endpoints = new Map<string, EndpointPolicy>();
  const modelOf = (key: string): Promise<Transformer> => {
    let model = models.get(key);
    if (!model) {
      model = (async () => {
        const bytes = await options.redis.getBuffer(weightsKey(key));
        if (bytes === null) throw new Error(`policy weights ${key} are not in Redis (the coordinator stores them before adding jobs)`);
        return decodeWeights(bytes);
      })();
      model.catch(() => models.delete(key));
      models.set(key, model);
      while (models.size > (options.cached ?? 2)) models.delete(models.keys().next().value!);
    }
    return model;
  };
  const handler = async (raw: unknown): Promise<RolloutJobResult> => {
    const { policy, rows } = raw as RolloutJobData;
    if (policy.kind === 'weights') {
      const drawn = sampleTokenRows(await modelOf(policy.key), rows.map((r) => Int32Array.from(r.promptTokens!)), rows.map((r) => r.seed), policy.settings);
      const value: RolloutJobResult = { samples: drawn.map((d) => ({ text: '', ...d })) };
      return value;
    }
    const key = `${policy.baseURL}|${policy.model}|${policy.apiKeyEnvironmentVariable}|${policy.maxNewTokens}|${policy.temperature}|${policy.requestsPerSecond}`;
    let endpoint = endpoints.get(key);
    if (!endpoint) {
      endpoints.set(key, endpoint = new EndpointPolicy({ endpoint: policy, apiKeyEnvironmentVariable: policy.apiKeyEnvironmentVariable, maxNewTokens: policy.maxNewTokens,
        temperature: policy.temperature, requestsPerSecond: policy.requestsPerSecond,
        limiterFor: (name, perSecond) => redisRateLimiter({ redis: options.redis, endpoint: name, perSecond }) }));   // one limit for all workers
    }
    const value: RolloutJobResult = { samples: await endpoint.sampleRows(rows.map((r): RolloutRow => ({ messages: r.messages!, seed: r.seed }))) };
    return value;
  };
  /** Closes the endpoints' keep-alive connections (after the worker closed). */
  return Object.assign(handler, { close: () => { for (const endpoint of endpoints.values()) endpoint.close(); endpoints.clear(); } });
}
