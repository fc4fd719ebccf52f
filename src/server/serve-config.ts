// The settings of `rlaif serve`: one zod schema holding every default, bound and description (the CLI maps its flags
// onto it, tests pass partial objects). Leaves out TLS (put a reverse proxy in front) and several models per server.
import { z } from 'zod';

export const serveConfigSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('address to bind; 127.0.0.1 unless told otherwise (0.0.0.0 exposes the server)'),
  port: z.number().int().min(0).max(65535).default(8000).describe('TCP port (0: any free port)'),
  apiKey: z.string().min(1).nullable().default(null).describe("bearer key every API request must carry ('Authorization: Bearer KEY'); null: none"),
  corsOrigin: z.string().min(1).nullable().default(null).describe("origin allowed by CORS (e.g. 'http://localhost:3000', or '*'); null: no CORS headers"),
  maxBodyBytes: z.number().int().min(1024).default(1 << 20).describe('largest request body; larger ones get 413'),
  maxTokens: z.number().int().min(1).default(512).describe('largest max_tokens a request may ask for (400 above); also capped by the context'),
  maxN: z.number().int().min(1).max(128).default(16).describe('largest n (choices per request)'),
  maxConcurrency: z.number().int().min(1).default(32).describe('requests generating at once (their sequences share forward passes)'),
  maxQueue: z.number().int().min(0).default(64).describe('requests waiting for a slot; past concurrency + queue a request gets 429 with Retry-After'),
  maxBatch: z.number().int().min(1).default(64).describe('sequences decoded in one forward pass'),
  batchGatherMs: z.number().int().min(0).max(1000).default(1).describe('after a step that finished several requests and emptied the batch, wait for their clients\' next requests until none has come for this many ms (at most 15% of that step\'s time) so they share one prefill; 0: never wait, not even the event-loop turns an empty batch takes while a burst arrives'),
  requestTimeoutMs: z.number().int().min(1).default(120_000).describe('a request still generating after this gets 408 (streams end with an error event); its sequences are cancelled'),
  runsDirectory: z.string().min(1).default('runs').describe('folder of run folders the dashboard lists'),
});

export type ServeConfig = z.infer<typeof serveConfigSchema>;

export function parseServeConfig(raw: unknown): ServeConfig {
  const parsed = serveConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.');
    throw new Error(`serve option '${key || '(root)'}': ${issue.message}`);
  }
  return Object.freeze(parsed.data);
}
