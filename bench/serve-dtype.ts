// `node --import tsx bench/serve-dtype.ts` (`rlaif serve --dtype`, issue 16 item 2): a GPT-2-small-shaped checkpoint
// (random weights) served in float32 and in bf16, alternately, twice each: three requests of 32 new tokens one at a
// time, then 8 at once, tokens/s over HTTP (token-id prompts of 128 tokens, so each request's prefill counts too;
// temperature 0, end-of-sequence ignored), and the bytes its weights take. Leaves out the embedded policy (its
// weights fit in cache, so bf16 buys little there) and the serve section's interleaved rounds.
import { parseServeConfig } from '../src/server/serve-config.ts';
import { loadServedModel } from '../src/server/served-model.ts';
import { startServer } from '../src/server/server.ts';
import { gpt2SmallCheckpoint } from './untrained-checkpoint.ts';

const dir = gpt2SmallCheckpoint();
const prompt = Array.from({ length: 128 }, (_, i) => (i * 37) % 50000 + 1);
for (const dtype of ['float32', 'bf16', 'float32', 'bf16'] as const) {
  const server = await startServer({ config: parseServeConfig({ port: 0, maxTokens: 64 }), load: () => loadServedModel({ modelDirectory: dir, dtype }) });
  const served = await server.ready;
  let bytes = 0;
  for (const tensor of served.model.parameters().values()) bytes += tensor.data.byteLength;
  for (const matrix of served.model.bf16Weights().values()) bytes += matrix.bits.byteLength;
  const one = () => fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'rlaif-gpt2s-random', prompt, max_tokens: 32, temperature: 0, ignore_eos: true }) }).then((r) => r.json() as Promise<any>);
  const first = await one();
  if (!first.usage) throw new Error(`serve-dtype: ${JSON.stringify(first).slice(0, 400)}`);
  let t0 = performance.now(), tokens = 0;
  for (let i = 0; i < 3; i++) tokens += (await one()).usage.completion_tokens;
  const c1 = tokens / ((performance.now() - t0) / 1000);
  t0 = performance.now(); tokens = 0;
  for (const r of await Promise.all(Array.from({ length: 8 }, one))) tokens += r.usage.completion_tokens;
  const c8 = tokens / ((performance.now() - t0) / 1000);
  console.log(`${dtype}: one at a time ${c1.toFixed(1)} tok/s, 8 at once ${c8.toFixed(1)} tok/s (prefill of 128 tokens included); weights ${(bytes / 2 ** 20).toFixed(0)} MiB`);
  await server.close();
}
