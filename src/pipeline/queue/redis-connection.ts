// How the queue reaches Redis, from a redis:// URL: ioredis options with the settings BullMQ's blocking workers need
// (no per-request retry limit: commands wait through a Redis restart instead of failing) and a reconnect delay that
// grows to 1 s. BullMQ gets options (it then owns and closes its connections); redisConnection opens one of ours.
// Leaves out Sentinel and Cluster. No paper.
import type { Redis, RedisOptions } from 'ioredis';

// ioredis (here) and BullMQ (job-queue.ts, queue-worker.ts) are imported when a queue, a worker or a shared rate limit
// first needs them, not when a command starts (together about a seventh of a second of every start otherwise): most
// runs use none of these.

export function redisOptions(url: string, name?: string): RedisOptions {
  let parsed: URL;
  try { parsed = new URL(url); } catch { parsed = new URL('invalid:'); }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new Error(`expected a redis://host:port URL, got '${url}'`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new Error(`${url}: the path must be a database number, got '${db}'`);
  return {
    host: parsed.hostname || '127.0.0.1', port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined, password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db === '' ? 0 : Number(db), tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null, enableReadyCheck: true, connectionName: name,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  };
}

export async function redisConnection(url: string, options: { name?: string } = {}): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisOptions(url, options.name));
  redis.on('error', () => {});   // refused connections while Redis restarts: ioredis retries, commands wait
  return redis;
}

/** The URL as it may be printed: user and password masked. */
export function redactedRedisUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** How long opening a queue or a worker waits for Redis before saying it is not there (RLAIF_REDIS_CONNECT_TIMEOUT_MS). */
export function redisConnectTimeoutMs(): number {
  const text = process.env.RLAIF_REDIS_CONNECT_TIMEOUT_MS;
  const value = text === undefined ? 20_000 : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`RLAIF_REDIS_CONNECT_TIMEOUT_MS must be a positive number of milliseconds, got '${text}'`);
  return value;
}

/**
 * One PING to the Redis at `url` on a connection of its own that does not retry, or an error naming the URL: once a
 * queue runs, its commands wait through a Redis restart, so a Redis that is not there at the start (a wrong URL, no
 * redis-server) would leave it waiting forever, silently. Refused connections fail at once; a host that never
 * answers, after `ms`.
 */
export async function checkRedis(url: string, ms: number = redisConnectTimeoutMs()): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis({ ...redisOptions(url, 'rlaif-check'), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: ms });
  redis.on('error', () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([redis.connect().then(() => redis.ping()), new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); })]);
  } catch (error) {
    throw new Error(`no Redis at ${redactedRedisUrl(url)}: ${(error as Error).message} (is redis-server running? \`bash scripts/ensure-redis.sh\` starts one; RLAIF_REDIS_CONNECT_TIMEOUT_MS waits longer for a slow one)`);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
