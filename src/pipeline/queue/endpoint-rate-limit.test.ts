// The shared per-endpoint limit: three clients (as three workers would) on one Redis get no more than the limit per
// window between them, and another endpoint's limit is its own. Only lower bounds on time are asserted (a loaded
// machine makes things slower, never faster).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestRedis, type TestRedis } from '../testing/test-redis.ts';
import { localRateLimiter, redisRateLimiter } from './endpoint-rate-limit.ts';
import { redisConnection } from './redis-connection.ts';

let redis: TestRedis;
before(async () => { redis = await startTestRedis(); });
after(async () => { await redis.close(); });

test('three clients share one endpoint limit through Redis: 30 requests at 4 per 200 ms window take at least 7 window changes', async () => {
  const connections = await Promise.all([0, 1, 2].map(() => redisConnection(redis.url)));
  try {
    const limiters = connections.map((c) => redisRateLimiter({ redis: c, endpoint: 'http://judge|m', perSecond: 20, windowMs: 200 }));
    const other = redisRateLimiter({ redis: connections[0]!, endpoint: 'http://other|m', perSecond: 20, windowMs: 200 });
    const start = performance.now();
    await Promise.all(Array.from({ length: 30 }, (_, i) => limiters[i % 3]!.acquire()));
    const elapsed = performance.now() - start;
    // ceil(30 / 4) = 8 windows: the last request waits for at least 7 window boundaries after the first window began.
    assert.ok(elapsed >= 6 * 200, `30 requests under a 4-per-window limit took ${elapsed.toFixed(0)} ms (at least 1200 expected)`);
    const t = performance.now();
    for (let i = 0; i < 4; i++) await other.acquire();
    assert.ok(performance.now() - t < 1200, 'another endpoint has its own budget');
  } finally {
    for (const c of connections) c.disconnect();
  }
});

test('the in-process limiter: 10 requests at 2 per 100 ms window span at least 4 window changes', async () => {
  const limiter = localRateLimiter({ perSecond: 20, windowMs: 100 });
  const start = performance.now();
  await Promise.all(Array.from({ length: 10 }, () => limiter.acquire()));
  assert.ok(performance.now() - start >= 3 * 100, `took ${(performance.now() - start).toFixed(0)} ms`);
});
