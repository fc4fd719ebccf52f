// Benchmarks the labeler client: per-judgment client overhead (our stack at concurrency 1 minus a raw node:http
// keep-alive client sending the same bodies) and throughput against the raw client at the same concurrency, for the
// one OpenAI-compatible provider (node:http keep-alive, JSON.stringify body, zod-checked answer), interleaved round by
// round, medians. Server in its own process on 127.0.0.1. Leaves out real models. RESULT lines for bench/run.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ChatGenerateOptions, ChatGenerateResult, ChatModelV1 } from '../src/feedback/chat-model-v1.ts';
import { runJudgments } from '../src/feedback/judge-runner.ts';
import type { PairwiseInput } from '../src/feedback/judgment-types.ts';
import { PairwiseJudge } from '../src/feedback/pairwise-judge.ts';
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
  return new PairwiseJudge(executor, { seed: 1 });
}

// What the scripted server answers to a rationale request, so captured verdict bodies equal the ones our judge sends.
const serverRationale = 'Weighing both against the principle: one response is clearer and safer than the other.';

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
      return { choices: [{ text: wantsLogprobs ? '1' : serverRationale, tokens, finishReason: 'stop' }], usage: { promptTokens: 1, completionTokens: 1 } };
    },
  };
  const judge = makeJudge(capturing, 1);
  for (const item of items) await judge.judge(item);
  return bodies;
}

type Client = 'provider';

interface Measure {
  requestsPerSecond: number;
  secondsPerJudgment: number; // for the raw client: the time of 4 requests, what one judgment sends
  cpuMicrosecondsPerRequest: number; // this (client) process's user+system CPU per request
}

async function rawThroughput(url: string, bodies: string[], total: number, parallel: number): Promise<Measure> {
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
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < total) await post(bodies[next++ % bodies.length]!);
  }));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { requestsPerSecond: total / seconds, secondsPerJudgment: (4 * seconds) / total, cpuMicrosecondsPerRequest: (used.user + used.system) / total };
}

async function ourThroughput(url: string, items: PairwiseInput[], parallel: number): Promise<Measure> {
  const provider = new OpenAICompatibleProvider({ baseURL: url, model: 'scripted', environment: {} });
  const judge = makeJudge(provider, parallel);
  let requests = 0;
  const cpu = process.cpuUsage();
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
  const used = process.cpuUsage(cpu);
  provider.close();
  if (outcome.judgedNow !== items.length) throw new Error('bench: not every pair judged');
  return { requestsPerSecond: requests / seconds, secondsPerJudgment: seconds / items.length, cpuMicrosecondsPerRequest: (used.user + used.system) / requests };
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

export async function runJudgeBench(options: { rounds?: number } = {}): Promise<void> {
  const { url, child } = await startServerProcess();
  const clients: Client[] = ['provider'];
  const rounds = options.rounds ?? 7;
  // 8,000 requests (~1.5 s) per measurement: with 2,000 a single ratio swung 0.81-1.12 on this shared machine (timer
  // granularity of a 2 ms server, other tenants, the judge run's ramp-down while its last verdicts finish); at 8,000
  // consecutive raw-vs-raw measurements agree within ~3%.
  const pairsPerRound = 2000;
  try {
    const bodies = await captureBodies(pairs(8, 0));
    // Warm up every client (JIT, sockets) before anything is timed.
    for (let warm = 0; warm < 2; warm++) {
      await rawThroughput(url, bodies, 1000, concurrency);
      for (let index = 0; index < clients.length; index++) await ourThroughput(url, pairs(200, 100_000 + warm * 1000), concurrency);
    }
    // Throughput at concurrency 16: raw and each client take turns inside every round, so load from other users of
    // this shared machine falls on all of them alike; each ratio compares neighbours in time. Client and server share
    // this machine's cores, so a client's CPU per request also slows the server: the ratio counts that, as it should.
    const raw: Measure[] = [];
    const ours = new Map<Client, Measure[]>(clients.map((client) => [client, []]));
    const ratios = new Map<Client, number[]>(clients.map((client) => [client, []]));
    for (let round = 0; round < rounds; round++) {
      const before = await rawThroughput(url, bodies, 4 * pairsPerRound, concurrency);
      raw.push(before);
      for (const client of clients) {
        const our = await ourThroughput(url, pairs(pairsPerRound, round * 10_000), concurrency);
        ours.get(client)!.push(our);
        ratios.get(client)!.push(our.requestsPerSecond / before.requestsPerSecond);
      }
    }
    // Overhead: one request at a time; our seconds per judgment minus the raw time of the same 4 requests, paired
    // per round (raw measured right before each client).
    const overheads = new Map<Client, number[]>(clients.map((client) => [client, []]));
    const sequentialRaw: Measure[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const client of clients) {
        const before = await rawThroughput(url, bodies, 400, 1);
        sequentialRaw.push(before);
        const our = await ourThroughput(url, pairs(100, 50_000 + round * 1000), 1);
        overheads.get(client)!.push((our.secondsPerJudgment - before.secondsPerJudgment) * 1000);
      }
    }
    const cpu = (values: Measure[]): string => `${median(values.map((value) => value.cpuMicrosecondsPerRequest)).toFixed(0)} µs CPU/request`;
    console.log(`judge bench: concurrency ${concurrency}, server latency ${serverLatencyMs} ms, ${rounds} interleaved rounds, medians; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, ${availableParallelism()} cores shared by client and server`);
    console.log(`  raw node:http      ${median(raw.map((value) => value.requestsPerSecond)).toFixed(0)} req/s, ${cpu(raw)}; sequential ${(median(sequentialRaw.map((value) => value.secondsPerJudgment)) * 1000).toFixed(3)} ms per 4 requests`);
    for (const client of clients) {
      const measures = ours.get(client)!;
      console.log(`  ${client.padEnd(18)} ${median(measures.map((value) => value.requestsPerSecond)).toFixed(0)} req/s, ${cpu(measures)}; ratio ${median(ratios.get(client)!).toFixed(3)} [${ratios.get(client)!.map((value) => value.toFixed(2)).join(' ')}]; overhead ${median(overheads.get(client)!).toFixed(3)} ms/judgment [${overheads.get(client)!.map((value) => value.toFixed(2)).join(' ')}]`);
    }
    console.log(`RESULT judge_overhead_ms ${median(overheads.get('provider')!).toFixed(3)}`);
    console.log(`RESULT judge_throughput_ratio ${median(ratios.get('provider')!).toFixed(3)}`);
  } finally {
    child.stdin!.end();
    child.kill('SIGTERM');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runJudgeBench();
