// Tests that no credential reaches disk or logs: a canary API key, URL credentials (user:password@host, ?api_key=) and a
// server that echoes the Authorization header and the request URL in its 401/429/500 bodies; then every file of the run
// folder (config.json, cache.jsonl, failures.jsonl, judge.log, usage.json, audit) and the run's messages are searched.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { judgeCommand } from './judge-command.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judge-secrets-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => (statSync(join(folder, name)).isDirectory() ? filesUnder(join(folder, name)) : [join(folder, name)]));
}

test('a canary key and URL credentials echoed by the server appear in no file, cache, log or message', async () => {
  const key = 'sk-canary-KEY-0123456789abcdef';
  const password = 'pw-canary-PASSWORD';
  const queryKey = 'qs-canary-QUERYKEY';
  const canaries = [key, password, queryKey, Buffer.from(`judge:${password}`).toString('base64')];
  process.env.RLAIF_CANARY_KEY = key;
  const server = await startScriptedServer({ seed: 7, failureRate: 0.5, failureKinds: ['unauthorized', 'server-error', 'rate-limit'], echoCredentials: true });
  try {
    const pairs = join(directory, 'pairs.jsonl');
    writeFileSync(pairs, Array.from({ length: 6 }, (_, index) => JSON.stringify({ id: `p${index}`, prompt: `Q${index}?`, chosen: `[good] a${index}`, rejected: `[bad] b${index}` })).join('\n') + '\n');
    const port = new URL(server.url).port;
    const urls = { 'key-run': server.url, 'url-credentials-run': `http://judge:${password}@127.0.0.1:${port}/v1?api_key=${queryKey}` };
    const messages: string[] = [];
    for (const [name, baseURL] of Object.entries(urls)) {
      const config = join(directory, `${name}.yaml`);
      writeFileSync(config, `input:\n  path: pairs.jsonl\n  format: trl\nprovider:\n  kind: openai-compatible\n  baseURL: "${baseURL}"\n  model: scripted\n  apiKeyEnvironmentVariable: RLAIF_CANARY_KEY\nrequests:\n  maxAttempts: 2\n  baseDelayMs: 1\n  maxDelayMs: 2\n  maxRetryAfterMs: 2\noutput:\n  runDirectory: ${name}\n  parquet: false\n`);
      const summary = await judgeCommand({ config, progress: false });
      assert.ok(summary.failures > 0, `${name}: some requests failed with echoed credentials (${JSON.stringify(summary.failureReasons)})`);
      messages.push(JSON.stringify(summary));
      const log = readFileSync(join(directory, name, 'judge.log'), 'utf8');
      assert.match(log, /"event":"request-retry"/, `${name}: retries are logged (at info)`);
      assert.match(log, /\[redacted\]/, `${name}: the echoed credential was there to redact`);
    }
    assert.ok(server.stats.authorizations.has(`Bearer ${key}`), 'the key was sent');
    for (const file of filesUnder(directory)) {
      const text = readFileSync(file, 'utf8');
      for (const canary of canaries) if (!file.endsWith('.yaml')) assert.equal(text.includes(canary), false, `${file} holds ${canary}`);
    }
    for (const message of messages) for (const canary of canaries) assert.equal(message.includes(canary), false, `the summary holds ${canary}`);
    const written = JSON.parse(readFileSync(join(directory, 'url-credentials-run', 'config.json'), 'utf8'));
    assert.equal(written.provider.baseURL, `http://[redacted]@127.0.0.1:${port}/v1?api_key=[redacted]`);
    // A YAML error quotes the broken line: the credentials in it are redacted from the message.
    const broken = join(directory, 'broken.yaml');
    writeFileSync(broken, `provider:\n  baseURL: http://judge:${password}@127.0.0.1:${port}/v1?api_key=${queryKey}\n   model: : x\n`);
    await assert.rejects(judgeCommand({ config: broken, progress: false }), (error: Error) => /cannot read config/.test(error.message) && canaries.every((canary) => !error.message.includes(canary)));
  } finally {
    await server.close();
    delete process.env.RLAIF_CANARY_KEY;
  }
});
