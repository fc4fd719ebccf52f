// Where `rlaif serve`'s time goes under each client (issue 13's judge_throughput_ratio_serve): the judge as it runs
// (its executor yields to I/O after each reply, RequestExecutor's yieldAfterReply), the same judge resuming each reply's
// caller at once (the provider wrapped under another provider id, so the executor's default is off), and the raw chain
// replay of the serve bench, all against one `rlaif serve` on the embedded testbed policy, 128 pairs (512 requests),
// 16 in flight, which client goes first rotating each round, after two warm-up rounds. Per client, means over the
// rounds: wall time, the server's engine time (prefill, decode + repack, gathering an emptied batch's arrivals) and the
// rest ("idle": the server waiting for requests, HTTP, the judge's start and end), and the client's CPU per request;
// then each judge's time over the raw client's, paired by round. A diagnostic, not a RESULT.
// node --import tsx bench/judge-server-time.ts [rounds, default 12]
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatModelV1 } from '../src/feedback/chat-model-v1.ts';
import { OpenAICompatibleProvider } from '../src/feedback/providers/openai-compatible-provider.ts';
import { runJudgeJob } from '../src/pipeline/judge-run.ts';
import { loadJudgeRunConfig } from '../src/pipeline/judge-run-config.ts';
import { captureJudgeChains, judgeRuns, replayChains, startServe } from './serve-bench.ts';

const CONCURRENCY = 16, PAIRS = 128, ROUNDS = Number(process.argv[2] ?? 12);

const { url, child } = await startServe(['--max-concurrency', '64', '--max-batch', '64']);
const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-server-time-'));

/** The server's engine seconds so far, by part (its /metrics). */
function engineSeconds(): Promise<Record<'prefill' | 'decode' | 'repack' | 'gather', number>> {
  return new Promise((resolve, reject) => {
    httpRequest(`${url}/metrics`, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      response.on('end', () => {
        const read = (part: string) => Number(new RegExp(`^rlaif_engine_seconds_total\\{part="${part}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
        resolve({ prefill: read('prefill'), decode: read('decode'), repack: read('repack'), gather: read('gather') });
      });
    }).on('error', reject).end();
  });
}

type Row = { wall: number; prefill: number; decode: number; gather: number; idle: number; cpu: number };
async function measure(work: () => Promise<unknown>): Promise<Row> {
  const before = await engineSeconds();
  const started = performance.now(), cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu), wall = performance.now() - started;
  const after = await engineSeconds();
  const ms = (part: keyof typeof after) => 1000 * (after[part] - before[part]);
  const engine = ms('prefill') + ms('decode') + ms('repack') + ms('gather');
  return { wall, prefill: ms('prefill'), decode: ms('decode') + ms('repack'), gather: ms('gather'), idle: wall - engine, cpu: (used.user + used.system) / 1000 / (4 * PAIRS) };
}

try {
  const nextConfig = judgeRuns(directory, PAIRS);
  const config = (baseURL: string) => loadJudgeRunConfig(nextConfig(baseURL));
  // The judge's request bodies, captured through a proxy, for the raw client.
  const { chains } = await captureJudgeChains(url, PAIRS, (proxyUrl) => runJudgeJob(config(proxyUrl), directory));
  const judge = (resumeAtOnce: boolean) => () => measure(async () => {
    const provider = new OpenAICompatibleProvider({ baseURL: `${url}/v1`, model: 'rlaif-testbed-policy' });
    // The executor yields after replies for the 'openai-compatible' provider id; another id keeps the old behaviour.
    const languageModel: ChatModelV1 = resumeAtOnce
      ? { specificationVersion: 'v1', provider: 'openai-compatible (callers resumed at once)', modelId: provider.modelId, supportsLogprobs: true, doGenerate: (options) => provider.doGenerate(options) }
      : provider;
    try {
      const summary = await runJudgeJob(config(url), directory, { languageModel });
      if (summary.judged !== PAIRS) throw new Error(`judged ${summary.judged} of ${PAIRS} pairs: ${summary.failed ?? JSON.stringify(summary.failureReasons)}`);
    } finally {
      provider.close();
    }
  });
  const clients = {
    'raw client': () => measure(() => replayChains(`${url}/v1/chat/completions`, chains, CONCURRENCY)),
    'judge, yielding': judge(false),
    'judge, at once': judge(true),
  };
  const names = Object.keys(clients) as (keyof typeof clients)[];
  const rows = Object.fromEntries(names.map((name) => [name, [] as Row[]])) as Record<keyof typeof clients, Row[]>;
  for (let round = -2; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round + names.length * 2) % names.length]!;
      const row = await clients[name]();
      if (round >= 0) rows[name].push(row);
    }
  }
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log(`# server time by client: ${PAIRS} pairs (${4 * PAIRS} requests), ${CONCURRENCY} in flight, means of ${ROUNDS} rounds (ms)`);
  for (const name of names) {
    const r = rows[name], f = (key: keyof Row) => mean(r.map((row) => row[key]));
    console.log(`${name.padEnd(16)} wall ${f('wall').toFixed(1)}: prefill ${f('prefill').toFixed(1)}, decode ${f('decode').toFixed(1)}, gathering ${f('gather').toFixed(1)}, idle ${f('idle').toFixed(1)}; client CPU ${f('cpu').toFixed(3)} ms/request`);
  }
  for (const name of names.slice(1)) {
    const ratios = rows[name].map((row, i) => rows['raw client'][i]!.wall / row.wall);
    console.log(`${name}: raw client's time over its time, median ${median(ratios).toFixed(3)}, mean ${mean(ratios).toFixed(3)} (rounds ${ratios.map((x) => x.toFixed(3)).join(' ')})`);
  }
  const gain = rows['judge, at once'].map((row, i) => row.wall / rows['judge, yielding'][i]!.wall);
  console.log(`judge, yielding over at once: ${mean(gain).toFixed(3)}x as fast (mean of paired rounds; median ${median(gain).toFixed(3)})`);
} finally {
  child.kill();
  rmSync(directory, { recursive: true, force: true });
}
