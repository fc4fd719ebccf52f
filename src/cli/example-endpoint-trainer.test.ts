// examples/external-serve-dpo.sh, the external trainer of examples/run-endpoint-policy.yaml, run as `rlaif run` runs
// it: DPO with `rlaif train dpo` from RLAIF_BASE_MODEL (a tiny checkpoint, 2 steps), then `rlaif serve` on the
// trained folder in the background, and endpoint.json naming that server and its folder; the server answers chat
// completions as the next round's policy. The test stops the server it started (serve.pid).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readEndpointFile } from '../pipeline/endpoint-policy.ts';
import { writeTinyCheckpoint } from '../pipeline/testing/tiny-checkpoint.ts';
import { scratchFolder } from './testing/scratch-folder.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const scratch = scratchFolder('rlaif-endpoint-trainer-');

const freePort = () => new Promise<number>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address() as { port: number }; s.close(() => resolve(port)); }); });

test('external-serve-dpo.sh trains from the served folder, serves the result, and names it in endpoint.json', async () => {
  const base = join(scratch.directory, 'base'), output = join(scratch.directory, 'round-1', 'output');
  writeTinyCheckpoint(base);
  mkdirSync(output, { recursive: true });
  const rows = ['Where does Ana live?', 'Who is the fox?', 'What does the fox eat?', 'Is the wood north?']
    .map((prompt, i) => JSON.stringify({ prompt, chosen: `Ana lives in the north wood ${i}.`, rejected: `I do not know ${i}.` }));
  const preferences = scratch.write('preferences.jsonl', `${rows.join('\n')}\n`);
  const port = await freePort();
  const env = { ...process.env, RLAIF_BASE_MODEL: base, RLAIF_OUTPUT: output, RLAIF_PREFERENCES: preferences, RLAIF_FORMAT: 'trl-standard', RLAIF_ROUND: '1',
    RLAIF_SEED: '0', RLAIF_DPO_STEPS: '2', RLAIF_SERVE_PORT_BASE: String(port - 1), RLAIF_CLI: `${process.execPath} ${join(root, 'bin', 'rlaif.js')}` };   // split on spaces by sh, as the scripts use it
  const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn('sh', [join(root, 'examples', 'external-serve-dpo.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.on('exit', (code) => resolve({ code, out }));
  });
  let pid: number | null = null;
  try {
    try { pid = Number(readFileSync(join(output, 'serve.pid'), 'utf8')); } catch { /* not started */ }
    assert.equal(run.code, 0, run.out.slice(-2000));
    pid = Number(readFileSync(join(output, 'serve.pid'), 'utf8'));
    const endpoint = readEndpointFile(output);
    assert.deepEqual(endpoint, { baseURL: `http://127.0.0.1:${port}/v1`, model: 'round-1', checkpoint: join(output, 'model') });
    const response = await fetch(`${endpoint.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'round-1', messages: [{ role: 'user', content: 'Where does Ana live?' }], max_tokens: 4, seed: 1 }) });
    assert.equal(response.status, 200, await response.clone().text());
    assert.ok(readFileSync(join(output, 'model', 'config.json'), 'utf8').length > 0, 'the trained folder the server serves');
  } finally {
    if (pid) { try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ } }
  }
});
