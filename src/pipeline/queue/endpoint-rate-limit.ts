// Per-endpoint request rate limits: a fixed one-second window counted in Redis (one key per endpoint and window, the
// window read from Redis's own clock, so workers on machines with skewed clocks share it), or in memory for a
// single process. acquire() waits until the request fits. Leaves out token-bucket bursts and per-token limits.
// No paper.
import type { Redis } from 'ioredis';
import type { ChatModelV1 } from '../../feedback/chat-model-v1.ts';

export interface RateLimiter {
  /** Resolves when one more request to the endpoint fits under its limit. */
  acquire(): Promise<void>;
}

// KEYS[1] = key prefix; ARGV[1] = limit per window, ARGV[2] = window ms. Returns 0 (go) or ms to wait.
const WINDOW_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
local slot = math.floor(now / window)
local key = KEYS[1] .. ':' .. slot
local count = redis.call('INCR', key)
if count == 1 then redis.call('PEXPIRE', key, window * 2) end
if count <= tonumber(ARGV[1]) then return 0 end
return (slot + 1) * window - now + 1
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A limit of `perSecond` requests per second to `endpoint`, shared by every process using this Redis. */
export function redisRateLimiter(options: { redis: Redis; endpoint: string; perSecond: number; windowMs?: number }): RateLimiter {
  const { redis, endpoint, perSecond } = options, windowMs = options.windowMs ?? 1000;
  const limit = Math.max(1, Math.round((perSecond * windowMs) / 1000));
  const key = `rlaif:rate:${endpoint}`;
  return {
    async acquire() {
      for (;;) {
        const wait = Number(await redis.eval(WINDOW_SCRIPT, 1, key, String(limit), String(windowMs)));
        if (wait <= 0) return;
        await sleep(wait);
      }
    },
  };
}

/** The same window in this process's memory (a run without a queue). */
export function localRateLimiter(options: { perSecond: number; windowMs?: number; now?: () => number }): RateLimiter {
  const windowMs = options.windowMs ?? 1000, limit = Math.max(1, Math.round((options.perSecond * windowMs) / 1000));
  const now = options.now ?? (() => Date.now());
  let slot = -1, count = 0;
  return {
    async acquire() {
      for (;;) {
        const t = now(), current = Math.floor(t / windowMs);
        if (current !== slot) { slot = current; count = 0; }
        if (++count <= limit) return;
        await sleep((current + 1) * windowMs - t + 1);
      }
    },
  };
}

/** The provider with every request first waiting for the limiter (retries included: each is a request). */
export function rateLimitedProvider(provider: ChatModelV1, limiter: RateLimiter): ChatModelV1 {
  return {
    specificationVersion: provider.specificationVersion, provider: provider.provider, modelId: provider.modelId, supportsLogprobs: provider.supportsLogprobs,
    async doGenerate(options) {
      await limiter.acquire();
      return provider.doGenerate(options);
    },
  };
}
