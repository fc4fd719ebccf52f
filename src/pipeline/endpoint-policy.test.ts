// A policy behind an endpoint under policy.requestsPerSecond: in one process the limit holds for its requests; on
// queue workers it is one limit counted in Redis for all of them (two workers' rollout jobs share it), and a new
// endpoint (the next round's) has its own. Only lower bounds on time are asserted (a loaded machine is slower, never
// faster). The scripted OpenAI-compatible server stands in for the policy's server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startScriptedServer, type ScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { EndpointPolicy } from './endpoint-policy.ts';
import { localRateLimiter } from './queue/endpoint-rate-limit.ts';
import { redisConnection } from './queue/redis-connection.ts';
import { rolloutJobHandler, type RolloutJobData } from './queue/rollout-jobs.ts';
import { startTestRedis, type TestRedis } from './testing/test-redis.ts';

let server: ScriptedServer, redis: TestRedis;
before(async () => { server = await startScriptedServer({ seed: 2, fixedReply: 'a short answer' }); redis = await startTestRedis(); });
after(async () => { await server.close(); await redis.close(); });

const rows = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ messages: [{ role: 'user' as const, content: `${tag} ${i}?` }], seed: i }));

test('in one process: 10 requests at 4 per second span at least two window changes; the next endpoint gets its own limit', async () => {
  const keys: string[] = [];
  const policy = new EndpointPolicy({ endpoint: { baseURL: server.url, model: 'a' }, apiKeyEnvironmentVariable: 'OPENAI_API_KEY', maxNewTokens: 4, temperature: 1,
    requestsPerSecond: 4, limiterFor: (endpoint, perSecond) => { keys.push(endpoint); return localRateLimiter({ perSecond }); } });
  try {
    const start = performance.now();
    const samples = await policy.sampleRows(rows(10, 'local'));
    assert.equal(samples.length, 10);
    assert.ok(performance.now() - start >= 1000, `10 requests at 4/s took ${(performance.now() - start).toFixed(0)} ms (at least 1000 expected)`);
    policy.use({ baseURL: server.url, model: 'b' });
    assert.deepEqual(keys, [`${server.url}|a`, `${server.url}|b`]);
  } finally {
    policy.close();
  }
});

test('on queue workers: two workers\' rollout jobs share one limit through Redis', async () => {
  const connections = await Promise.all([redisConnection(redis.url), redisConnection(redis.url)]);
  const handlers = connections.map((c) => rolloutJobHandler({ redis: c }));
  try {
    const job = (tag: string): RolloutJobData => ({ run: 'rate', rows: rows(6, tag),
      policy: { kind: 'endpoint', baseURL: server.url, model: 'shared', apiKeyEnvironmentVariable: 'OPENAI_API_KEY', maxNewTokens: 4, temperature: 1, requestsPerSecond: 4 } });
    const start = performance.now();
    await Promise.all(handlers.map((handle, i) => handle(job(`worker-${i}`), { id: `job-${i}`, attempt: 1 })));
    // 12 requests at 4 per window: the last waits for two window changes (each worker alone would wait for one).
    assert.ok(performance.now() - start >= 1000, `12 requests at 4/s on two workers took ${(performance.now() - start).toFixed(0)} ms (at least 1000 expected)`);
  } finally {
    for (const handle of handlers) handle.close();
    for (const c of connections) c.disconnect();
  }
});
