// Benchmarks the labeler client: per-judgment client overhead (our stack at concurrency 1 minus a raw HTTP client
// sending the same requests) and throughput against what the scripted server sustains for a raw client at the same
// concurrency. Server runs in its own process on 127.0.0.1. Leaves out real models. Prints RESULT lines for bench/run.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ChatGenerateOptions, ChatGenerateResult, ChatModelV1 } from '../src/feedback/chat-model-v1.ts';
import { loadConstitution } from '../src/feedback/constitution.ts';
import { defaultStepOptions } from '../src/feedback/judge-steps.ts';
import { runJudgments } from '../src/feedback/judge-runner.ts';
import type { PairwiseInput } from '../src/feedback/judgment-types.ts';
import { PairwiseJudge } from '../src/feedback/pairwise-judge.ts';
import { loadTemplate } from '../src/feedback/prompt-template.ts';
import { OpenAICompatibleProvider } from '../src/feedback/providers/openai-compatible-provider.ts';
import { RequestExecutor } from '../src/feedback/request-executor.ts';

const concurrency = 16;
const serverLatencyMs = 2; // a fast local server; smaller latency makes client cost weigh more

function pairs(count: number, offset: number): PairwiseInput[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `bench-${offset + index}`,
    conversation: [{ role: 'user', content: `How should I answer question ${offset + index} about household safety?` }],
    candidates: [`[good] A careful, safe answer number ${index}.`, `[bad] A careless answer number ${index}.`],
  }));
}

function makeJudge(model: ChatModelV1, requestConcurrency: number): PairwiseJudge {
  const executor = new RequestExecutor(model, { concurrency: requestConcurrency, timeoutMs: 10_000, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 100 } });
  return new PairwiseJudge(executor, { template: loadTemplate('pairwise'), constitution: loadConstitution(), principleMode: 'sample-one', bothOrders: true, fewShot: [], clamp: null, tieMargin: 0, steps: defaultStepOptions, seed: 1 });
}

/** The wire bodies our judge sends for some pairs, captured without a server, so the raw client sends the same bytes. */
async function captureBodies(items: PairwiseInput[]): Promise<string[]> {
  const bodies: string[] = [];
  const capturing: ChatModelV1 = {
    specificationVersion: 'v1',
    provider: 'capture',
    modelId: 'scripted',
    supportsLogprobs: true,
    doGenerate: async (options: ChatGenerateOptions): Promise<ChatGenerateResult> => {
      const wantsLogprobs = (options.topLogprobs ?? 0) > 0;
      bodies.push(JSON.stringify({ model: 'scripted', messages: options.messages, max_tokens: options.maxTokens, temperature: options.temperature, seed: options.seed, n: options.n ?? 1, ...(wantsLogprobs ? { logprobs: true, top_logprobs: options.topLogprobs } : {}) }));
      const tokens = wantsLogprobs ? [{ token: '1', logprob: -0.1, topLogprobs: [{ token: '1', logprob: -0.1 }, { token: '2', logprob: -2.4 }] }] : null;
      return { choices: [{ text: wantsLogprobs ? '1' : 'rationale', tokens, finishReason: 'stop' }], usage: { promptTokens: 1, completionTokens: 1 } };
    },
  };
  const judge = makeJudge(capturing, 1);
  for (const item of items) await judge.judge(item);
  return bodies;
}

async function rawThroughput(url: string, bodies: string[], total: number, parallel: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const target = new URL(`${url}/chat/completions`);
  const post = (body: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const request = httpRequest({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer x' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve();
        });
      });
      request.on('error', reject);
      request.end(body);
    });
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < total) await post(bodies[next++ % bodies.length]!);
  }));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return total / seconds;
}

async function ourThroughput(url: string, items: PairwiseInput[], parallel: number): Promise<{ requestsPerSecond: number; secondsPerJudgment: number }> {
  const provider = new OpenAICompatibleProvider({ baseURL: url, model: 'scripted', environment: {} });
  const judge = makeJudge(provider, parallel);
  let requests = 0;
  const started = performance.now();
  const outcome = await runJudgments(items, {
    judge: async (item) => {
      const result = await judge.judge(item);
      requests += result.usage.requests;
      if (result.kind !== 'ok') throw new Error(`bench judgment failed: ${result.detail}`);
      return result;
    },
    identity: judge.identity(),
    cache: null,
    concurrency: parallel,
  });
  const seconds = (performance.now() - started) / 1000;
  if (outcome.judgedNow !== items.length) throw new Error('bench: not every pair judged');
  return { requestsPerSecond: requests / seconds, secondsPerJudgment: seconds / items.length };
}

async function startServerProcess(): Promise<{ url: string; child: ChildProcess }> {
  const script = fileURLToPath(new URL('../src/feedback/testing/scripted-server-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify({ latencyMs: serverLatencyMs })], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /URL (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`scripted server exited with ${code}`)));
  });
  return { url, child };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runJudgeBench(): Promise<void> {
  const { url, child } = await startServerProcess();
  try {
    const bodies = await captureBodies(pairs(8, 0));
    // Warm up both clients (JIT, sockets).
    await rawThroughput(url, bodies, 400, concurrency);
    await ourThroughput(url, pairs(100, 10_000), concurrency);
    const rounds = 3;
    const ratios: number[] = [];
    const raws: number[] = [];
    const ours: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const raw = await rawThroughput(url, bodies, 2000, concurrency);
      const our = await ourThroughput(url, pairs(500, round * 1000), concurrency);
      raws.push(raw);
      ours.push(our.requestsPerSecond);
      ratios.push(our.requestsPerSecond / raw);
    }
    // Overhead: sequential, one request at a time; our seconds per judgment minus the raw time of its 4 requests.
    const overheads: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const raw = await rawThroughput(url, bodies, 400, 1);
      const our = await ourThroughput(url, pairs(100, 50_000 + round * 1000), 1);
      overheads.push((our.secondsPerJudgment - 4 / raw) * 1000);
    }
    console.log(`judge bench: concurrency ${concurrency}, server latency ${serverLatencyMs} ms; raw ${median(raws).toFixed(0)} req/s, ours ${median(ours).toFixed(0)} req/s (median of ${rounds})`);
    console.log(`RESULT judge_overhead_ms ${median(overheads).toFixed(3)}`);
    console.log(`RESULT judge_throughput_ratio ${median(ratios).toFixed(3)}`);
  } finally {
    child.stdin!.end();
    child.kill('SIGTERM');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runJudgeBench();
