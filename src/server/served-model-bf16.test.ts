// `rlaif serve --dtype bf16`: the checkpoint's weight matrices held in bf16 for serving (half the bytes each decode
// step reads). The served model really holds bf16 matrices; a server over it answers the OpenAI endpoints, and its
// echo log-likelihoods of a prompt match the float32 server's to bf16's precision (not exactly: they are rounded); a
// LoRA adapter with bf16 weights is refused by name.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTinyCheckpoint } from '../pipeline/testing/tiny-checkpoint.ts';
import { parseServeConfig } from './serve-config.ts';
import { loadServedModel } from './served-model.ts';
import { startServer, type RunningServer } from './server.ts';

const root = mkdtempSync(join(tmpdir(), 'rlaif-serve-bf16-'));
const modelDirectory = join(root, 'tiny');
const servers: Record<'float32' | 'bf16', RunningServer | null> = { float32: null, bf16: null };

before(async () => {
  writeTinyCheckpoint(modelDirectory);
  for (const dtype of ['float32', 'bf16'] as const) {
    servers[dtype] = await startServer({ config: parseServeConfig({ port: 0 }), load: () => loadServedModel({ modelDirectory, dtype }) });
    await servers[dtype]!.ready;
  }
});
after(async () => {
  for (const server of Object.values(servers)) await server?.close();
  rmSync(root, { recursive: true, force: true });
});

async function post(dtype: 'float32' | 'bf16', path: string, body: unknown): Promise<any> {
  const response = await fetch(`${servers[dtype]!.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

test('--dtype bf16 holds the weight matrices in bf16; float32 holds none', async () => {
  assert.ok((await servers.bf16!.ready).model.bf16Weights().size > 0);
  assert.equal((await servers.float32!.ready).model.bf16Weights().size, 0);
});

test('a bf16 server answers chat, and its prompt log-likelihoods match float32 to bf16 precision', async () => {
  const chat = await post('bf16', '/v1/chat/completions', { model: 'tiny', messages: [{ role: 'user', content: 'Where does Ana live?' }], max_tokens: 6, temperature: 0 });
  assert.equal(chat.choices.length, 1);
  assert.ok(chat.usage.completion_tokens > 0);
  const body = { model: 'tiny', prompt: 'Where does Ana live? Ana lives in the north wood.', max_tokens: 1, temperature: 0, echo: true, logprobs: 1 };
  const [f32, b16] = [await post('float32', '/v1/completions', body), await post('bf16', '/v1/completions', body)];
  const a: (number | null)[] = f32.choices[0].logprobs.token_logprobs, b: (number | null)[] = b16.choices[0].logprobs.token_logprobs;
  assert.equal(a.length, b.length);
  let differs = false;
  for (let i = 1; i < a.length - 1; i++) {
    assert.ok(Math.abs(a[i]! - b[i]!) < 0.05, `token ${i}: float32 ${a[i]}, bf16 ${b[i]}`);
    if (a[i] !== b[i]) differs = true;
  }
  assert.ok(differs, 'bf16 log-likelihoods equal float32 to the bit: the weights were not rounded');
});

test('a LoRA adapter with bf16 weights is refused, naming the flag to use', async () => {
  await assert.rejects(loadServedModel({ modelDirectory, adapterDirectory: join(root, 'adapter'), dtype: 'bf16' }), /--adapter .*: a LoRA adapter adds to float32 weights; serve it with --dtype float32/);
});
