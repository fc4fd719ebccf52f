// `npm run bench -- judge-inprocess`: the testbed's in-process pairwise judging (its template, one principle, a
// rationale of up to 72 tokens, the verdict from log-probs, both orders) of K = 4 samples per prompt, all 6 pairs, by
// an untrained model of the separate labeler's shape (untrained-checkpoint.ts: the cost is the shape's, the verdicts
// are noise; so its rationale is sampled at temperature 1, where greedy decoding ended at once, and its verdict reads
// the whole vocabulary's log-probs, where its verdict tokens may be), a prompt's 6 pairs in flight together, sharing
// work (the default: prefix caching + concurrent requests decoded in one batch) and not (one request at a time, each
// prompt prefilled whole), in the same run, interleaved; each round's sharing judge is a fresh one (the last one
// closed, its buffers handed back to the process, as a run's judge does when done). RESULT judge_inprocess_per_s (judgments/s sharing),
// judge_inprocess_per_s_unshared, and judge_inprocess_prefix_speedup (bar ≥ 2); the share of prompt tokens taken
// from cached blocks is printed, and judgments per CPU-second of the process (steadier than wall time on a busy
// machine). Leaves out a trained labeler (rationale lengths are the untrained model's).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/engine/index.ts';
import { loadPretrained } from '../src/models/checkpoint.ts';
import { PrefixCache } from '../src/models/prefix-cache.ts';
import { Transformer } from '../src/models/transformer.ts';
import { makePrompts, makeWorld } from '../src/testbed/index.ts';
import { testbedJudge } from '../src/testbed/testbed-judge.ts';
import { writeUntrainedCheckpoint } from './untrained-checkpoint.ts';

const K = 4, PROMPTS = 2, ROUNDS = 3;

/** Four answers of the lengths a policy writes, about the prompt's subject. */
function samplesFor(entity: string): string[] {
  return [`I do not know anyone called ${entity}.`, `${entity} lives near the stone bridge and eats seeds.`,
    `${entity} is a grey fox. Every morning it walks to the river bank to look for beetles, and it likes to eat them.`,
    `No, I will not help with that.`];
}

/**
 * The verdict prefills of one prompt's 6 pairs in both orders (12 prompts: a shared 110-token principle and
 * conversation, then 20-40 tokens of answers, a 72-token rationale and the verdict question; the shared part cached)
 * one at a time (PrefixCache.prefill) and together (prefillMany: the same bits, blocks side by side in ragged
 * forwards), 8 interleaved rounds, medians: RESULT judge_inprocess_verdict_prefill_ms (together), _alone_ms, and
 * judge_inprocess_verdict_prefill_speedup.
 */
function verdictPrefills(directory: string): void {
  const { config, parameters } = loadPretrained(directory);
  const model = new Transformer(config, parameters), V = config.vocabSize;
  const rng = new Rng(1), tokens = (n: number) => Array.from({ length: n }, () => rng.int(V));
  const shared = tokens(110), cache = new PrefixCache({ model });
  const verdicts = () => Array.from({ length: 12 }, () => [...shared, ...tokens(20 + rng.int(21)), ...tokens(72), ...tokens(12)]);
  const warm = cache.prefill([...shared, ...tokens(20)], 1);                           // the shared blocks cached
  if (!warm.cached) warm.cache.release();
  const times = { alone: [] as number[], together: [] as number[] };
  for (let round = 0; round < 9; round++) {
    for (const mode of ['alone', 'together'] as const) {
      const prompts = verdicts(), started = performance.now();
      const rows = mode === 'alone' ? prompts.map((prompt) => cache.prefill(prompt, 1)) : cache.prefillMany(prompts, 1);
      if (round > 0) times[mode].push(performance.now() - started);                   // round 0 warms up
      for (const row of rows) if (!row.cached) row.cache.release();
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const alone = median(times.alone), together = median(times.together);
  console.log(`# judge-inprocess verdict prefills (12 prompts): one at a time ${times.alone.map((t) => t.toFixed(0)).join(' ')} ms, together ${times.together.map((t) => t.toFixed(0)).join(' ')} ms`);
  console.log(`RESULT judge_inprocess_verdict_prefill_ms ${together.toFixed(1)}`);
  console.log(`RESULT judge_inprocess_verdict_prefill_alone_ms ${alone.toFixed(1)}`);
  console.log(`RESULT judge_inprocess_verdict_prefill_speedup ${(alone / together).toFixed(2)}`);
}

export async function runJudgeInprocessBench(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-judge-inprocess-'));
  try {
    writeUntrainedCheckpoint(directory, 'labeler');
    const steps = { topLogprobs: 1024, rationaleTemperature: 1 };
    const judges = { shared: testbedJudge({ labelerDirectory: directory }, { steps, kind: 'pairwise' }), whole: testbedJudge({ labelerDirectory: directory }, { steps, kind: 'pairwise', shareWork: false }) };
    const kinds = new Set<string>();
    const prompts = makePrompts(makeWorld(0)).filter((p) => p.split === 'validation' && !kinds.has(p.kind) && kinds.add(p.kind)).slice(0, PROMPTS + 1);
    const cpuRates: { shared: number[]; whole: number[] } = { shared: [], whole: [] };   // judgments per CPU-second
    const judgeAll = async (which: 'shared' | 'whole', batch: typeof prompts): Promise<number> => {
      const started = performance.now(), cpu = process.cpuUsage();
      let judged = 0;
      for (const prompt of batch) {                                                      // a prompt's pairs in flight together
        const samples = samplesFor(prompt.entity), pairs: [number, number][] = [];
        for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) pairs.push([i, j]);
        for (const result of await Promise.all(pairs.map(([i, j]) => judges[which].comparePair(prompt, samples[i]!, samples[j]!)))) {
          if (result.kind !== 'ok') throw new Error(`judge-inprocess bench: ${which} judgment failed: ${result.reason} ${result.detail}`);
          judged++;
        }
      }
      const used = process.cpuUsage(cpu);
      cpuRates[which].push(judged / ((used.user + used.system) / 1e6));
      return judged / ((performance.now() - started) / 1000);
    };
    for (let pass = 0; pass < 2; pass++) {                                              // warm-up: JIT, buffer pools (one pass left
      await judgeAll('shared', prompts.slice(PROMPTS));                                 // round 0 at about 1.5-1.9x, the others at 2-2.4x)
      await judgeAll('whole', prompts.slice(PROMPTS));
    }
    cpuRates.shared = []; cpuRates.whole = [];
    const rates: { shared: number; whole: number }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Each round's shared judge must not find earlier prompts cached: a fresh one, as a new run would start (the old
      // one hands its buffers back to the process, as a run's judge does when done).
      judges.shared.close();
      judges.shared = testbedJudge({ labelerDirectory: directory }, { steps, kind: 'pairwise' });
      const batch = prompts.slice(0, PROMPTS);
      const whole = await judgeAll('whole', batch), shared = await judgeAll('shared', batch);
      rates.push({ shared, whole });
      const stats = judges.shared.prefixCacheStats()!;
      console.log(`# judge-inprocess round ${round}: ${shared.toFixed(2)} judgments/s sharing work, ${whole.toFixed(2)} not (${(shared / whole).toFixed(2)}x); `
        + `${stats.reusedTokens} of ${stats.promptTokens} prompt tokens from the cache over ${stats.prompts} prompts`);
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const shared = median(rates.map((r) => r.shared)), whole = median(rates.map((r) => r.whole)), speedup = median(rates.map((r) => r.shared / r.whole));
    const cpuShared = median(cpuRates.shared), cpuWhole = median(cpuRates.whole);   // the rounds, not the warm-up
    console.log(`# judge-inprocess per CPU-second of this process (less swayed by other load): ${cpuShared.toFixed(2)} sharing, ${cpuWhole.toFixed(2)} not (${(cpuShared / cpuWhole).toFixed(2)}x)`);
    console.log(`RESULT judge_inprocess_per_s ${shared.toFixed(2)}`);
    console.log(`RESULT judge_inprocess_per_s_unshared ${whole.toFixed(2)}`);
    console.log(`RESULT judge_inprocess_prefix_speedup ${speedup.toFixed(2)}`);
    verdictPrefills(directory);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
