// Client CPU per request, 16 in flight: the OpenAI-compatible provider's doGenerate against a raw node:http post of the
// same body (and the raw post plus JSON.parse), 2000 requests each, 6 interleaved rounds, against a mock server in a
// child process that answers at once with a fixed chat completion. Leaves out the judge above the provider.
// Run: node --import tsx bench/transport-ab.ts
import { fork } from 'node:child_process';
import { Agent, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { OpenAICompatibleProvider } from '../src/feedback/providers/openai-compatible-provider.ts';
import type { ChatGenerateOptions } from '../src/feedback/chat-model-v1.ts';
import { chatCompletionBody } from '../src/feedback/providers/chat-completion-wire.ts';
const reply = JSON.stringify({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Ana lives in Ashford. Answer 1 is wrong. Answer 2 is right, so answer 2 is better.' }, logprobs: null }], usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } });
if (process.argv[2] === 'mock') {
  const server = createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(reply)); });
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else {
  const mock = fork(fileURLToPath(import.meta.url), ['mock'], { execArgv: ['--import', 'tsx'] });
  const port = await new Promise<number>((r) => mock.once('message', (m) => r(m as number)));
  const provider = new OpenAICompatibleProvider({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'm' });
  const messages = [{ role: 'system' as const, content: 'Judge two answers by this rule: be truthful.' }, { role: 'user' as const, content: 'Where does Ana live?\n\nAnswer 1: Ana lives in Dunmoor.\n\nAnswer 2: Ana lives in Ashford.\n\nCheck each answer against the rule.' }];
  const options: ChatGenerateOptions = { messages, maxTokens: 48, temperature: 0, seed: 1, topLogprobs: 0 };
  const body = JSON.stringify(chatCompletionBody('m', options));
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const post = (body: string) => new Promise<string>((resolve, reject) => { const r = httpRequest(`http://127.0.0.1:${port}/v1/chat/completions`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => { const cs: Buffer[] = []; res.on('data', (c: Buffer) => cs.push(c)); res.on('end', () => resolve(Buffer.concat(cs).toString())); }); r.on('error', reject); r.end(body); });
  const N = 2000;
  const run = async (f: () => Promise<unknown>) => { const c = process.cpuUsage(); let next = 0; await Promise.all(Array.from({ length: 16 }, async () => { while (next++ < N) await f(); })); const u = process.cpuUsage(c); return (u.user + u.system) / 1000 / N; };
  for (let r = 0; r < 6; r++) {
    const a = await run(() => provider.doGenerate(options)), b = await run(() => post(body)), c = await run(async () => JSON.parse(await post(body)));
    console.log(`round ${r}: provider ${a.toFixed(3)} ms, raw ${b.toFixed(3)} ms, raw+JSON.parse ${c.toFixed(3)} ms CPU a request`);
  }
  provider.close(); agent.destroy(); mock.kill();
}
