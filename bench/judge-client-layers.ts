// Where `rlaif judge`'s client cost over a raw HTTP client lives (issue 13's judge_throughput_ratio_serve): the same
// captured request bodies (a recording proxy in front of `rlaif serve` on the embedded testbed policy, 128 pairs, both
// orders, a rationale then a verdict each) sent through each layer of the judge in turn, 16 requests in flight:
//   raw       node:http, keep-alive, no parsing (the bench's raw client);
//   provider  OpenAICompatibleProvider.doGenerate (request body built, response parsed and checked);
//   executor  RequestExecutor.generate (its concurrency limiter, retries, usage counts);
//   pairs     the executor, two orders of a pair in flight together, as the pairwise judge sends them;
//   job       runJudgeJob over the same provider (pairs, prompts rendered, verdicts read, cache, outputs);
//   command   judgeCommand, as a user runs it (config loaded, its own provider, logger, run folder);
//   offline   runJudgeJob over an instant in-process provider: the judge's own work, no HTTP (4 requests a pair).
// Prints each layer's client CPU per request (this process's user + system time), its GC time per request and its
// judgments/s, medians of 5 interleaved rounds after a warm-up. A diagnostic, not a RESULT: the wall-time figures
// move with the machine; the CPU ones are steadier.
// node --import tsx bench/judge-client-layers.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { judgeCommand } from '../src/cli/judge-command.ts';
import type { ChatGenerateOptions } from '../src/feedback/chat-model-v1.ts';
import type { JudgmentUsage } from '../src/feedback/judgment-types.ts';
import { OpenAICompatibleProvider } from '../src/feedback/providers/openai-compatible-provider.ts';
import { RequestExecutor, defaultRetry } from '../src/feedback/request-executor.ts';
import { runJudgeJob, type JudgeRunSummary } from '../src/pipeline/judge-run.ts';
import { loadJudgeRunConfig } from '../src/pipeline/judge-run-config.ts';
import { instantProvider } from './instant-provider.ts';
import { captureJudgeChains, judgeRuns, post, startServe } from './serve-bench.ts';

const CONCURRENCY = 16, PAIRS = 128, ROUNDS = 5;

let gcMs = 0;
const gcObserver = new PerformanceObserver((list) => { for (const entry of list.getEntries()) gcMs += entry.duration; });
gcObserver.observe({ entryTypes: ['gc'] });

const { url, child } = await startServe([]);
const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-judge-layers-'));
try {
  // The judge's request bodies, captured through a proxy in a first run.
  const config = judgeRuns(directory, PAIRS);
  const { bodies, chains } = await captureJudgeChains(url, PAIRS, (proxyUrl) => judgeCommand({ config: config(proxyUrl), progress: false }));

  const provider = new OpenAICompatibleProvider({ baseURL: `${url}/v1`, model: 'rlaif-testbed-policy' });
  const executor = new RequestExecutor(provider, { concurrency: CONCURRENCY, timeoutMs: 60_000, retry: defaultRetry });
  const usage = (): JudgmentUsage => ({ requests: 0, promptTokens: 0, completionTokens: 0 });
  const optionsOf = (body: string): ChatGenerateOptions => {
    const parsed = JSON.parse(body) as { messages: ChatGenerateOptions['messages']; max_tokens: number; temperature: number; seed: number; n: number; top_logprobs?: number };
    return { messages: parsed.messages, maxTokens: parsed.max_tokens, temperature: parsed.temperature, seed: parsed.seed, n: parsed.n, ...(parsed.top_logprobs ? { topLogprobs: parsed.top_logprobs } : {}) };
  };
  const inChains = async (send: (body: string) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next < chains.length) for (const body of chains[next++]!) await send(body); }));
  };
  const instant = instantProvider();
  // A judge layer's run counts only if it did the captured work, no more and no less: every pair judged now (none
  // from a cache, none failed) in exactly the captured number of requests (a retry or a failure would be other work).
  const complete = (name: string, summary: JudgeRunSummary): void => {
    if (summary.judged !== PAIRS || summary.judgedNow !== PAIRS || summary.usage.requests !== bodies.length) {
      throw new Error(`judge-client-layers: the ${name} layer judged ${summary.judged} of ${PAIRS} pairs (${summary.judgedNow} now, ${summary.failures} failed) in ${summary.usage.requests} requests, expected ${bodies.length}`);
    }
  };
  const layers: Record<string, () => Promise<unknown>> = {
    raw: () => inChains((body) => post(`${url}/v1/chat/completions`, body)),
    provider: () => inChains((body) => provider.doGenerate(optionsOf(body))),
    executor: () => inChains((body) => executor.generate(optionsOf(body), usage())),
    pairs: async () => {
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < chains.length) {
          const first = next;
          next += 2;
          await Promise.all(chains.slice(first, first + 2).map(async (chain) => { for (const body of chain) await executor.generate(optionsOf(body), usage()); }));
        }
      }));
    },
    job: async () => complete('job', await runJudgeJob(loadJudgeRunConfig(config(url)), directory, { languageModel: provider })),
    command: async () => complete('command', await judgeCommand({ config: config(url), progress: false })),
    offline: async () => complete('offline', await runJudgeJob(loadJudgeRunConfig(config(url)), directory, { languageModel: instant })),
  };
  const figures: Record<string, { cpu: number[]; gc: number[]; rate: number[] }> = {};
  for (let round = -1; round < ROUNDS; round++) {
    for (const name of Object.keys(layers)) {
      const gcBefore = gcMs, started = performance.now(), cpu = process.cpuUsage();
      await layers[name]!();
      await new Promise((resolve) => setImmediate(resolve));                      // GC entries are delivered late
      const used = process.cpuUsage(cpu), seconds = (performance.now() - started) / 1000;
      if (round < 0) continue;
      const figure = (figures[name] ??= { cpu: [], gc: [], rate: [] });
      figure.cpu.push((used.user + used.system) / 1000 / bodies.length);
      figure.gc.push((gcMs - gcBefore) / bodies.length);
      figure.rate.push(chains.length / seconds);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log(`# judge client layers: ${chains.length} judgments of ${bodies.length} requests, ${CONCURRENCY} in flight, medians of ${ROUNDS} rounds`);
  for (const [name, figure] of Object.entries(figures)) {
    console.log(`${name.padEnd(8)} CPU ${median(figure.cpu).toFixed(3)} ms/request, GC ${median(figure.gc).toFixed(3)} ms/request, ${median(figure.rate).toFixed(1)} judgments/s (rounds ${figure.rate.map((rate) => rate.toFixed(0)).join(' ')})`);
  }
  provider.close();
} finally {
  child.kill();
  gcObserver.disconnect();
  rmSync(directory, { recursive: true, force: true });
}
