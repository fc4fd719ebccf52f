// A policy served elsewhere (`policy: { kind: endpoint }`): any OpenAI-compatible chat-completions server (vLLM,
// SGLang, llama.cpp, `rlaif serve`) samples the rollouts, one request per sample with its own seed, through the one
// provider (openai-compatible-provider.ts) and its request executor (retries, timeouts). Its "checkpoint" is the
// endpoint itself (with the folder it serves, when known): save/load write and read endpoint.json, so rollback returns
// to the last kept endpoint. Leaves out
// training (the external command trains and serves the next policy) and KL, which needs the reference's weights.
// Preference rounds only: DPO (arXiv 2305.18290) needs no rollout log-probs.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { ChatModelV1 } from '../feedback/chat-model-v1.ts';
import { OpenAICompatibleProvider } from '../feedback/providers/openai-compatible-provider.ts';
import { defaultRetry, RequestExecutor } from '../feedback/request-executor.ts';
import { rateLimitedProvider, type RateLimiter } from './queue/endpoint-rate-limit.ts';
import type { ChatTurn } from './run-records.ts';

/** Where the policy is served. */
export const policyEndpointSchema = z.strictObject({
  baseURL: z.string().url().describe('chat-completions base URL of the server that serves the policy'),
  model: z.string().min(1).describe('model name the server expects'),
  checkpoint: z.string().min(1).optional().describe("the Hugging Face folder this endpoint serves (relative to the endpoint.json's folder): the next external command's RLAIF_BASE_MODEL"),
});
export type PolicyEndpoint = z.infer<typeof policyEndpointSchema>;

export const ENDPOINT_FILE = 'endpoint.json';

/** One sample to draw: a conversation and the seed of its randomness. */
export interface RolloutRow { messages: ChatTurn[]; seed: number }

/** One drawn sample. Token ids are known only for an in-process policy; an endpoint reports its token count. */
export interface RowSample {
  text: string;
  tokens: number[];      // (R,) response token ids, stop token included; [] from an endpoint
  logprobs: number[];    // (R,) log π(token) at sampling time; [] when the endpoint gives none
  tokenCount?: number;   // response tokens by the server's count (usage.completion_tokens), endpoints only
}

/** Reads `<dir>/endpoint.json`, naming the file and the field when it is wrong. */
export function readEndpointFile(dir: string): PolicyEndpoint {
  const path = join(dir, ENDPOINT_FILE);
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(path, 'utf8')); } catch (error) { throw new Error(`${path}: ${(error as Error).message}`); }
  const parsed = policyEndpointSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((issue) => `${path}: ${issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : `${issue.path.join('.') || '(root)'}: ${issue.message}`}`).join('\n'));
  }
  return parsed.data.checkpoint ? { ...parsed.data, checkpoint: resolve(dir, parsed.data.checkpoint) } : parsed.data;
}

export interface EndpointPolicyOptions {
  endpoint: PolicyEndpoint;                 // the starting policy's server
  apiKeyEnvironmentVariable: string;
  maxNewTokens: number;
  temperature: number;
  concurrency?: number;                     // requests in flight at once (default 8)
  requestsPerSecond?: number | null;        // at most this many requests per second to each endpoint (null: no limit)
  limiterFor?: (endpoint: string, perSecond: number) => RateLimiter;   // the limit's counter: in memory, or shared in Redis
}

export class EndpointPolicy {
  readonly kind = 'endpoint' as const;
  /** Its rounds learn from judged pairs (the external command's DPO): pairwise feedback is always asked for. */
  readonly learnsFromPairs = true;
  readonly #options: EndpointPolicyOptions;
  #endpoint!: PolicyEndpoint;
  #provider!: OpenAICompatibleProvider;
  #executor!: RequestExecutor;

  constructor(options: EndpointPolicyOptions) {
    this.#options = options;
    this.use(options.endpoint);
  }

  get endpoint(): PolicyEndpoint { return { ...this.#endpoint }; }
  get apiKeyEnvironmentVariable(): string { return this.#options.apiKeyEnvironmentVariable; }
  get maxNewTokens(): number { return this.#options.maxNewTokens; }
  get temperature(): number { return this.#options.temperature; }
  get requestsPerSecond(): number | null { return this.#options.requestsPerSecond ?? null; }

  /** Samples from `endpoint` from now on. */
  use(endpoint: PolicyEndpoint): void {
    this.#provider?.close();
    this.#endpoint = { baseURL: endpoint.baseURL, model: endpoint.model, ...(endpoint.checkpoint ? { checkpoint: endpoint.checkpoint } : {}) };
    this.#provider = new OpenAICompatibleProvider({ baseURL: endpoint.baseURL, model: endpoint.model, apiKeyEnvironmentVariable: this.#options.apiKeyEnvironmentVariable, defaultTimeoutMs: 120_000 });
    const { requestsPerSecond, limiterFor } = this.#options;
    const provider: ChatModelV1 = requestsPerSecond && limiterFor
      ? rateLimitedProvider(this.#provider, limiterFor(`${this.#endpoint.baseURL}|${this.#endpoint.model}`, requestsPerSecond)) : this.#provider;
    this.#executor = new RequestExecutor(provider, { concurrency: this.#options.concurrency ?? 8, timeoutMs: 120_000, retry: defaultRetry });
  }

  /** One completion per row, seeded by the row; the per-token log-probs when the server gives them. */
  async sampleRows(rows: RolloutRow[]): Promise<RowSample[]> {
    return Promise.all(rows.map(async (row) => {
      const usage = { requests: 0, promptTokens: 0, completionTokens: 0 };
      let result;
      try {
        result = await this.#executor.generate({ messages: row.messages, maxTokens: this.#options.maxNewTokens, temperature: this.#options.temperature,
          seed: row.seed, topLogprobs: 1 }, usage);
      } catch (error) {
        throw new Error(`policy endpoint ${this.#provider.baseURL} (model ${this.#endpoint.model}): ${(error as Error).message}`);
      }
      const choice = result.choices[0]!, logprobs = choice.tokens?.map((t) => t.logprob) ?? [];
      return { text: choice.text.trim(), tokens: [], logprobs, tokenCount: result.usage.completionTokens || logprobs.length };
    }));
  }

  /** The policy's checkpoint: the endpoint serving it. */
  save(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${ENDPOINT_FILE}.tmp`), `${JSON.stringify(this.#endpoint, null, 2)}\n`);
    renameSync(join(dir, `${ENDPOINT_FILE}.tmp`), join(dir, ENDPOINT_FILE));
  }

  load(dir: string): void {
    this.use(readEndpointFile(dir));
  }

  close(): void {
    this.#provider.close();
  }
}
