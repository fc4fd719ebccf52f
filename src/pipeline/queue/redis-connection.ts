// How the queue reaches Redis, from a redis:// URL: ioredis options with the settings BullMQ's blocking workers need
// (no per-request retry limit: commands wait through a Redis restart instead of failing) and a reconnect delay that
// grows to 1 s. BullMQ gets options (it then owns and closes its connections); redisConnection opens one of ours.
// Leaves out Sentinel and Cluster. No paper.
import { Redis, type RedisOptions } from 'ioredis';

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

export function redisConnection(url: string, options: { name?: string } = {}): Redis {
  const redis = new Redis(redisOptions(url, options.name));
  redis.on('error', () => {});   // refused connections while Redis restarts: ioredis retries, commands wait
  return redis;
}
