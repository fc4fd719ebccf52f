// `npm run bench -- serve`: `rlaif serve` on the embedded testbed policy, in its own process on 127.0.0.1.
// serve_tok_s_c1 / serve_tok_s_c16: the same 16 seeded chat requests of 64 tokens one at a time, then all at once, 5 rounds
// (continuous batching shares forward passes; bar c16 ≥ 4× c1), and serve_cpu_c16_over_c1 the same ratio of the server's CPU
// per token (its /metrics process_cpu_seconds_total; a loaded machine stretches it far less); _eos: the same requests
// stopping at end-of-sequence. judge_throughput_ratio_serve: `rlaif judge` with the labeler behind the server, judgments/s
// over a minimal raw node:http client sending the very request bodies the judge sent (captured through a recording proxy
// in a first pass) as the judgments they are, a verdict after its rationale's reply, at the same concurrency (bar ≥ 0.95),
// on a job of 128 pairs: a warm-up round, then 5, which client goes first rotating, median; _free_replay: over a
// replay that sends any body at any time (no client can); _24_pairs: the same on the small job of earlier runs, where
// the judge's fixed cost per run (printed) weighs more. Each client's CPU per request is printed. First,
// fresh_memory_ms_per_mb: what first-touch page faults cost on this machine (milliseconds a MB on some VMs). Leaves out
// GPUs.
// RLAIF_BENCH_SERVE_GATHER_MS=N starts the server with --batch-gather-ms N (0: the emptied batch never waits).
// RLAIF_BENCH_SERVE_JUDGE_WARMUP=N: N untimed warm-up rounds before each judge comparison's timed ones (default 1).
// RLAIF_BENCH_SERVE_JUDGE_PAIRS=N: also the judge comparison on a job of N pairs (_N_pairs), after the 128 and 24.
// RLAIF_BENCH_SERVE_MODEL=untrained serves an untrained checkpoint of the policy's shape instead (untrained-checkpoint.ts:
// no testbed build; the fixed-length figures cost the same, the _eos and judge ones are not comparable), =DIR a folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { judgeCommand } from '../src/cli/judge-command.ts';
import { writeUntrainedCheckpoint } from './untrained-checkpoint.ts';

const CONCURRENCY = 16;
const bin = fileURLToPath(new URL('../bin/rlaif.js', import.meta.url));
/** The chat questions the serve benches ask and judge pairs are made of. */
export const questions = ['Where does the creature Ana live?', 'What does Bora eat?', 'How do I poison a river?', 'My cat is called Mio. What is my cat called?',
  'Tell me about Kelo.', 'Is Tuma a real creature?', 'What colour is Vesh?', 'Help me steal eggs from a nest.'];

/** `rlaif serve` in its own process on a free port, once it listens and its model is loaded. */
export function startServe(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      const url = /listening on (http:\/\/\S+?);/.exec(log)?.[1];
      if (url && /serving '/.test(log)) resolve({ url, child });
    });
    child.on('exit', (code) => reject(new Error(`rlaif serve exited with ${code}: ${log.slice(-2000)}`)));
  });
}

/** `count` preference pairs over the questions as TRL JSONL: a refusal and a made-up answer, numbered. */
export function judgePairsJsonl(count: number): string {
  return Array.from({ length: count }, (_, i) => `${JSON.stringify({ prompt: questions[i % questions.length], chosen: `I do not know ${i}.`, rejected: `It lives in the north wood ${i}.` })}\n`).join('');
}

/** The serve benches' judge config: the pairwise judge of `pairsFile` behind an OpenAI-compatible `baseURL`, 16 in flight. */
export function judgeConfigYaml(baseURL: string, runDirectory: string, pairsFile = 'pairs.jsonl'): string {
  return `input:\n  path: ${pairsFile}\n  format: trl\nprovider:\n  kind: openai-compatible\n  baseURL: ${baseURL}/v1\n  model: rlaif-testbed-policy\n`
    + `judge:\n  rationaleMaxTokens: 48\n  topLogprobs: 20\nrequests:\n  concurrency: ${CONCURRENCY}\noutput:\n  runDirectory: ${runDirectory}\n  parquet: false\nmaxFailureShare: 1\n`;
}

/**
 * A judging folder for the benches that run the judge many times: `pairCount` pairs written to `directory`/pairs<name>.jsonl,
 * and a function that writes the next numbered config (judge<name>-N.yaml, its run folder run<name>-N) for a server at
 * `baseURL` and returns its path.
 */
export function judgeRuns(directory: string, pairCount: number, name = ''): (baseURL: string) => string {
  writeFileSync(join(directory, `pairs${name}.jsonl`), judgePairsJsonl(pairCount));
  let runs = 0;
  return (baseURL) => {
    const path = join(directory, `judge${name}-${runs}.yaml`);
    writeFileSync(path, judgeConfigYaml(baseURL, `run${name}-${runs++}`, `pairs${name}.jsonl`));
    return path;
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
/** POST `body` as JSON on a keep-alive connection; the response text, or an error for a status other than 200. */
export function post(url: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => (response.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`HTTP ${response.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`))));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

/**
 * The captured bodies as judgments: chains of requests where each one after the first is the one before plus the
 * model's reply and the next question (a verdict request repeats its rationale request's messages, then the rationale
 * and "Which answer is better?"). A client cannot send a chain's next request before the reply it carries arrives.
 */
export function judgmentChains(bodies: readonly string[]): string[][] {
  const messagesOf = (body: string) => JSON.stringify((JSON.parse(body) as { messages: unknown[] }).messages.slice(0, -2));
  const chains: string[][] = [], byLast = new Map<string, string[]>();
  for (const body of bodies) {
    const messages = (JSON.parse(body) as { messages: unknown[] }).messages;
    const parent = messages.length > 2 ? byLast.get(messagesOf(body)) : undefined;
    const chain = parent ?? [];
    if (!parent) chains.push(chain);
    chain.push(body);
    byLast.set(JSON.stringify(messages), chain);
  }
  return chains;
}

/**
 * The judge's requests for `pairCount` pairs, captured through a recording proxy in front of `url` while `judge` runs
 * against the proxy's URL, with their judgment chains. Both orders of every pair, a rationale and a verdict each, or an
 * error: anything else (a retried request, a judgment that failed) would give a replaying client other work.
 */
export async function captureJudgeChains(url: string, pairCount: number, judge: (proxyUrl: string) => Promise<unknown>): Promise<{ bodies: string[]; chains: string[][] }> {
  const proxy = await recordingProxy(url);
  try {
    await judge(proxy.url);
  } finally {
    proxy.server.close();
  }
  const bodies = proxy.bodies;
  const chains = judgmentChains(bodies);
  if (chains.length !== 2 * pairCount || chains.some((chain) => chain.length !== 2)) {
    throw new Error(`the judge's ${bodies.length} captured requests form ${chains.length} judgments of ${[...new Set(chains.map((c) => c.length))].join('/')} requests, expected ${2 * pairCount} of 2`);
  }
  return { bodies, chains };
}

/** Sends each chain's requests one after another (the next when the last reply is in), at most `concurrency` chains at
 * once, each taken in capture order; returns the seconds it took. */
export async function replayChains(url: string, chains: readonly string[][], concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < chains.length) for (const body of chains[next++]!) await post(url, body);
  }));
  return (performance.now() - started) / 1000;
}

/** Sends every body with at most `concurrency` in flight; returns the seconds it took. */
async function replay(url: string, bodies: string[], concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (next < bodies.length) await post(url, bodies[next++]!); }));
  return (performance.now() - started) / 1000;
}

interface ServerCounters { cpu: number; decode: number; prefill: number; repack: number; gather: number; steps: number; tokens: number; prefills: number }

/** The server's CPU seconds so far (process_cpu_seconds_total from its /metrics) and its batch engine's seconds and steps. */
function serverCounters(url: string): Promise<ServerCounters> {
  return new Promise((resolve, reject) => {
    httpRequest(`${url}/metrics`, { agent }, (response) => {
      let text = '';
      response.on('data', (c: Buffer) => { text += c.toString('utf8'); });
      response.on('end', () => {
        const read = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
        resolve({ cpu: read(/^process_cpu_seconds_total (\S+)$/m), decode: read(/^rlaif_engine_seconds_total\{part="decode"\} (\S+)$/m),
          prefill: read(/^rlaif_engine_seconds_total\{part="prefill"\} (\S+)$/m), repack: read(/^rlaif_engine_seconds_total\{part="repack"\} (\S+)$/m),
          gather: read(/^rlaif_engine_seconds_total\{part="gather"\} (\S+)$/m),
          steps: read(/^rlaif_engine_decode_steps_total (\S+)$/m), tokens: read(/^rlaif_engine_decoded_tokens_total (\S+)$/m),
          prefills: read(/^rlaif_engine_prefills_total (\S+)$/m) });
      });
    }).on('error', reject).end();
  });
}

interface Usage { seconds: number; tokens: number; wall: number; decode: number; prefill: number; repack: number; gather: number; steps: number; prefills: number; requests: number }
const usage = (): Usage => ({ seconds: 0, tokens: 0, wall: 0, decode: 0, prefill: 0, repack: 0, gather: 0, steps: 0, prefills: 0, requests: 0 });

async function tokensPerSecond(url: string, bodies: string[], concurrency: number, cpu?: Usage): Promise<number> {
  const before = cpu ? await serverCounters(url) : null;
  const started = performance.now();
  let tokens = 0, next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const reply = JSON.parse(await post(`${url}/v1/chat/completions`, bodies[next++]!)) as { usage: { completion_tokens: number } };
      tokens += reply.usage.completion_tokens;   // after the await: `tokens += await …` would add to a stale total
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  if (cpu && before) {
    const after = await serverCounters(url);
    cpu.seconds += after.cpu - before.cpu; cpu.tokens += tokens; cpu.wall += seconds;
    cpu.decode += after.decode - before.decode; cpu.prefill += after.prefill - before.prefill; cpu.repack += after.repack - before.repack; cpu.gather += after.gather - before.gather; cpu.steps += after.steps - before.steps;
    cpu.prefills += after.prefills - before.prefills; cpu.requests += bodies.length;
  }
  return tokens / seconds;
}

/** A proxy that forwards to `target` and records each chat-completion body it passes on. */
export function recordingProxy(target: string): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      post(`${target}${request.url}`, body).then((text) => response.writeHead(200, { 'content-type': 'application/json' }).end(text),
        (error: Error) => response.writeHead(500).end(error.message));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies, server })));
}

/**
 * What touching fresh memory costs on this machine, against rewriting memory already touched (ms a MB, medians of 5):
 * first-touch page faults, cheap on bare metal, cost milliseconds a MB on some VMs, and a server that allocates new
 * activations when its batch changes shape pays them every round (the tensor pool's size classes exist for this).
 */
function freshMemoryCost(): { fresh: number; reused: number } {
  const fresh: number[] = [], reused: number[] = [];
  for (let round = 0; round < 5; round++) {
    const n = (16 << 20) / 4 + round * 1024;                                 // 16 MB, a new size each round
    let t0 = performance.now();
    const buffer = new Float32Array(n);
    for (let i = 0; i < n; i += 1024) buffer[i] = 1;                         // one write a page
    fresh.push((performance.now() - t0) / 16);
    t0 = performance.now();
    for (let i = 0; i < n; i += 1024) buffer[i] = 2;
    reused.push((performance.now() - t0) / 16);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]!;
  return { fresh: median(fresh), reused: median(reused) };
}

/**
 * `rlaif judge` with the labeler behind the server against a minimal raw client sending the same requests (captured
 * through a recording proxy in a first pass), `pairCount` pairs in both orders, `rounds` rounds, median ratio.
 */
async function judgeThroughput(url: string, directory: string, pairCount: number, rounds: number, warmup: number, suffix: string): Promise<void> {
  const config = judgeRuns(directory, pairCount, suffix);
  let finished = '';   // the config of a judge run that finished: re-run for the fixed cost
  // The raw client sends the captured bodies as the judgments they are (judgmentChains): a verdict request after its
  // rationale's reply, as any client must; the free replay sends any body at any time, a bound no client can reach.
  const { bodies, chains } = await captureJudgeChains(url, pairCount, (proxyUrl) => judgeCommand({ config: config(proxyUrl), progress: false }));
  // Interleaved rounds, which client goes first rotating, median. Each client's CPU per request is this process's
  // user+system time over its run; "fixed" is rlaif judge re-run over its finished folder (every pair cached, no
  // request): config, run folder, pairs, outputs written and synced. Also the server's decode steps and rows a step
  // over each client's run: a client that keeps fewer requests in flight fills the batch less.
  const timed = async <T>(work: () => Promise<T>): Promise<{ value: T; seconds: number; cpuMs: number; steps: number; rows: number; gatherMs: number }> => {
    const server = await serverCounters(url);
    const started = performance.now(), before = process.cpuUsage();
    const value = await work();
    const used = process.cpuUsage(before);
    const seconds = (performance.now() - started) / 1000, after = await serverCounters(url), steps = after.steps - server.steps;
    return { value, seconds, cpuMs: (used.user + used.system) / 1000, steps, rows: (after.tokens - server.tokens) / Math.max(1, steps), gatherMs: 1000 * (after.gather - server.gather) };
  };
  const ratios: number[] = [], freeRatios: number[] = [], cpu = { judge: [] as number[], raw: [] as number[] };
  // Rounds -warmup to -1 warm every client up untimed (JIT, sockets), as the tok/s figures' first pass does.
  for (let round = -warmup; round < rounds; round++) {
    const clients = {
      judge: () => timed(async () => { const path = config(url), s = await judgeCommand({ config: path, progress: false }); finished = path; return s.judged + s.failures; }),
      raw: () => timed(async () => { await replayChains(`${url}/v1/chat/completions`, chains, CONCURRENCY); return pairCount; }),
      free: () => timed(async () => { await replay(`${url}/v1/chat/completions`, bodies, CONCURRENCY); return pairCount; }),
    };
    // Which client goes first rotates (the second and third meet a warmer server).
    const order = (['judge', 'raw', 'free'] as const).map((_, i, all) => all[(((i + round) % 3) + 3) % 3]!);
    const result = {} as Record<keyof typeof clients, Awaited<ReturnType<typeof clients.judge>>>;
    for (const name of order) result[name] = await clients[name]();
    if (round < 0) continue;
    // Pairs a second, both orders of each (two judgments, four requests): the ratio is the same in judgments.
    const rate = (name: keyof typeof clients) => result[name].value / result[name].seconds;
    cpu.judge.push(result.judge.cpuMs / bodies.length);
    cpu.raw.push(result.raw.cpuMs / bodies.length);
    const line = (name: keyof typeof clients) => `${rate(name).toFixed(2)} pairs/s (${(result[name].cpuMs / bodies.length).toFixed(2)} ms CPU/request, server steps ${result[name].steps} of ${result[name].rows.toFixed(1)} rows, ${result[name].gatherMs.toFixed(0)} ms gathering)`;
    console.log(`# judge${suffix} round ${round} (${order.join(', ')}): rlaif judge ${line('judge')}; raw client ${line('raw')}; free replay ${line('free')}`);
    ratios.push(rate('judge') / rate('raw'));
    freeRatios.push(rate('judge') / rate('free'));
  }
  const fixed = await timed(() => judgeCommand({ config: finished, progress: false }));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log(`# judge${suffix}: ${chains.length} judgments of ${bodies.length} requests; client CPU per request, median: rlaif judge ${median(cpu.judge).toFixed(2)} ms, raw ${median(cpu.raw).toFixed(2)} ms; rlaif judge's fixed cost (a finished folder re-run, ${fixed.value.usage.requests} requests): ${(fixed.seconds * 1000).toFixed(0)} ms wall, ${fixed.cpuMs.toFixed(0)} ms CPU`);
  console.log(`# judge${suffix} ratios over the raw client: ${ratios.map((r) => r.toFixed(3)).join(' ')}; over the free replay: ${freeRatios.map((r) => r.toFixed(3)).join(' ')}`);
  console.log(`RESULT judge_throughput_ratio_serve${suffix} ${median(ratios).toFixed(3)}`);
  console.log(`RESULT judge_throughput_ratio_serve_free_replay${suffix} ${median(freeRatios).toFixed(3)}`);
}

/** A whole number of at least 1 from the environment variable `name`, or null when it is unset; anything else is an error naming it. */
function countFromEnvironment(name: string): number | null {
  const text = process.env[name];
  if (text === undefined || text === '') return null;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1) throw new Error(`${name}: expected a whole number of at least 1, got '${text}'`);
  return Number(text);
}

export async function runServeBench(): Promise<void> {
  // Read before minutes of work, so a bad value fails at once.
  const longJob = countFromEnvironment('RLAIF_BENCH_SERVE_JUDGE_PAIRS'), warmup = countFromEnvironment('RLAIF_BENCH_SERVE_JUDGE_WARMUP') ?? 1;
  if (warmup !== 1) console.log(`# serve: ${warmup} warm-up rounds before each judge comparison (RLAIF_BENCH_SERVE_JUDGE_WARMUP)`);
  const memory = freshMemoryCost();
  console.log(`# serve: touching fresh memory costs ${memory.fresh.toFixed(3)} ms a MB here, memory already touched ${memory.reused.toFixed(4)} ms a MB`);
  console.log(`RESULT fresh_memory_ms_per_mb ${memory.fresh.toFixed(3)}`);
  const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-serve-'));
  const choice = process.env.RLAIF_BENCH_SERVE_MODEL;
  const modelArgs = choice ? ['--model', choice === 'untrained' ? join(directory, 'untrained-policy') : choice, '--served-model-name', 'rlaif-testbed-policy'] : [];
  if (choice === 'untrained') writeUntrainedCheckpoint(join(directory, 'untrained-policy'), 'policy');
  console.log(choice ? `# serve: starting rlaif serve on ${choice === 'untrained' ? 'an untrained checkpoint of the embedded policy\'s shape' : choice}`
    : '# serve: starting rlaif serve on the embedded testbed policy (built first when not cached: minutes)');
  const gather = process.env.RLAIF_BENCH_SERVE_GATHER_MS;
  if (gather !== undefined) console.log(`# serve: --batch-gather-ms ${gather} (RLAIF_BENCH_SERVE_GATHER_MS)`);
  const { url, child } = await startServe(['--max-concurrency', '64', '--max-batch', '64', ...(gather !== undefined ? ['--batch-gather-ms', gather] : []), ...modelArgs]);
  try {
    // Fixed length (vLLM's ignore_eos, as its serving benchmark does): every request decodes 64 tokens, so c1 and c16 do
    // the same work; then the same requests stopping at the end-of-sequence token, as a chat client gets them.
    for (const [suffix, fixed] of [['', true], ['_eos', false]] as const) {
      const bodies = Array.from({ length: 16 }, (_, i) => JSON.stringify({ model: 'rlaif-testbed-policy', messages: [{ role: 'user', content: questions[i % questions.length] }], max_tokens: 64, temperature: 1, seed: 100 + i, ...(fixed ? { ignore_eos: true } : {}) }));
      // Warm-up: JIT, buffer pools. With one pass of each, the first measured c16 round ran at about half the speed of
      // the others in 4 of 5 runs (the server still compiling its hot paths: V8's optimizing compiler took a core for
      // tens of ms at a time through the first seconds of serving), so three passes.
      for (let pass = 0; pass < 3; pass++) { await tokensPerSecond(url, bodies, 16); await tokensPerSecond(url, bodies, 1); }
      const rounds: [number, number][] = [];
      // The server's CPU per token too: what a quiet machine's wall clock would show when the server has a core of its
      // own (this machine's other tenants stretch wall-clock rounds 2-4x; they stretch CPU time far less).
      const cpu1 = usage(), cpu16 = usage();
      for (let round = 0; round < 5; round++) rounds.push([await tokensPerSecond(url, bodies, 1, cpu1), await tokensPerSecond(url, bodies, 16, cpu16)]);  // interleaved
      const median = (values: number[]) => [...values].sort((a, b) => a - b)[2]!;
      const c1 = median(rounds.map((r) => r[0])), c16 = median(rounds.map((r) => r[1]));
      console.log(`# serve${suffix}: c1 ${rounds.map((r) => r[0].toFixed(0)).join(' ')} tok/s, c16 ${rounds.map((r) => r[1].toFixed(0)).join(' ')} tok/s (5 interleaved rounds, medians below)`);
      console.log(`RESULT serve_tok_s_c1${suffix} ${c1.toFixed(1)}`);
      console.log(`RESULT serve_tok_s_c16${suffix} ${c16.toFixed(1)}`);
      console.log(`RESULT serve_c16_over_c1${suffix} ${(c16 / c1).toFixed(2)}`);
      const perToken = (c: Usage) => (c.seconds * 1e6) / c.tokens;
      // Where each client's wall time went in the server: its batch engine's decode steps, prefills and repacks; the
      // rest is HTTP, JSON, scheduling and the client itself.
      const parts = (c: Usage) => `decode ${(100 * c.decode / c.wall).toFixed(0)}% (${(1000 * c.decode / c.steps).toFixed(3)} ms a step, ${(c.tokens / c.steps).toFixed(1)} rows), `
        + `prefill ${(100 * c.prefill / c.wall).toFixed(0)}% (${(c.prefills / c.requests).toFixed(2)} a request), repack ${(100 * c.repack / c.wall).toFixed(0)}%, gathering ${(100 * c.gather / c.wall).toFixed(0)}%, other ${(100 * (1 - (c.decode + c.prefill + c.repack + c.gather) / c.wall)).toFixed(0)}%`;
      console.log(`# serve${suffix}: wall time c1 ${parts(cpu1)}; c16 ${parts(cpu16)}`);
      console.log(`# serve${suffix}: server CPU per token c1 ${perToken(cpu1).toFixed(0)} us, c16 ${perToken(cpu16).toFixed(0)} us (all 5 rounds; load average ${loadavg()[0]!.toFixed(1)})`);
      console.log(`RESULT serve_cpu_c16_over_c1${suffix} ${(perToken(cpu1) / perToken(cpu16)).toFixed(2)}`);
    }

    // A judging job of 128 pairs (256 judgments, 512 requests: what judgments/s means for a real job), then the small
    // job of 24 pairs earlier runs measured, where the judge's fixed cost per run weighs more.
    await judgeThroughput(url, directory, 128, 5, warmup, '');
    await judgeThroughput(url, directory, 24, 5, warmup, '_24_pairs');
    // A longer job (RLAIF_BENCH_SERVE_JUDGE_PAIRS), where the judge's fixed cost per run and its compiling weigh less.
    if (longJob !== null) await judgeThroughput(url, directory, longJob, 5, warmup, `_${longJob}_pairs`);
  } finally {
    child.kill();
    agent.destroy();
    rmSync(directory, { recursive: true, force: true });
  }
}
