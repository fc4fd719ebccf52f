// What a client's CPU costs `rlaif serve` on this machine (issue 13's judge_throughput_ratio_serve): the raw client of
// the serve bench (the judge's captured requests, a verdict after its rationale's reply, 16 in flight) against the same
// client burning BURN_MS of CPU on the main thread after each reply, as a heavier client (parsing, bookkeeping) does.
// Client and server share the machine's cores, so a client's CPU is taken from the server's decode. Prints each
// round's judgments/s and the ratio (burning / plain), which client goes first alternating, and the median.
// Run: node --import tsx bench/judge-client-burn.ts [burn ms a request, default 0.25] [rounds, default 8]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeCommand } from '../src/cli/judge-command.ts';
import { captureJudgeChains, judgeRuns, post, startServe } from './serve-bench.ts';

const burnMs = Number(process.argv[2] ?? 0.25), rounds = Number(process.argv[3] ?? 8);
if (!(burnMs >= 0) || !Number.isInteger(rounds) || rounds < 1) throw new Error(`judge-client-burn: expected [burn ms >= 0] [rounds >= 1], got ${process.argv.slice(2).join(' ')}`);
const PAIRS = 128, CONCURRENCY = 16;
const { url, child } = await startServe([]);
const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-burn-'));
try {
  const config = judgeRuns(directory, PAIRS);
  const { chains } = await captureJudgeChains(url, PAIRS, (proxyUrl) => judgeCommand({ config: config(proxyUrl), progress: false }));
  const spin = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };
  /** Judgments/s of the chains replayed, `ms` of CPU burnt after each reply. */
  const run = async (ms: number): Promise<number> => {
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < chains.length) for (const body of chains[next++]!) { await post(`${url}/v1/chat/completions`, body); if (ms > 0) spin(ms); }
    }));
    return chains.length / ((performance.now() - started) / 1000);
  };
  await run(0); await run(burnMs);                                          // warm-up, untimed
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let plain: number, burning: number;
    if (round % 2 === 0) { plain = await run(0); burning = await run(burnMs); } else { burning = await run(burnMs); plain = await run(0); }
    ratios.push(burning / plain);
    console.log(`# round ${round}: plain ${plain.toFixed(1)}, burning ${burnMs} ms a request ${burning.toFixed(1)} judgments/s, ratio ${(burning / plain).toFixed(3)}`);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(`judge-client-burn: ${burnMs} ms of client CPU a request gives ${sorted[sorted.length >> 1]!.toFixed(3)} of the plain client's judgments/s (median of ${rounds} rounds, ${chains.length} judgments of ${2 * chains.length} requests each)`);
} finally {
  child.kill();
  rmSync(directory, { recursive: true, force: true });
}
