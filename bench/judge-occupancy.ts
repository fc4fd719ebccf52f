// How well each client keeps `rlaif serve` busy (issue 13's judge_throughput_ratio_serve): `rlaif judge` and the serve
// bench's raw chain replay of its captured requests, against one `rlaif serve` on the embedded testbed policy, 128 pairs
// (512 requests), 16 in flight, judge first and raw first alternating, after two warm-up rounds. Per client, means over
// the rounds: wall time; "start", from the call to the first request written to its socket, and "end", from the last
// reply to the return (the judge's config, run folder, pairs, templates and synced outputs; connections it opens);
// the requests in flight, written and not yet answered (node:http's diagnostics channels), averaged over the whole
// run and over the requests phase alone (first request written to last reply), and the share of that phase with all
// 16 in flight. A client that keeps as many in flight as the other over the requests phase loses only its start and
// end; the rest of a gap is the server running slower for it. A diagnostic, not a RESULT.
// node --import tsx bench/judge-occupancy.ts [rounds, default 8]
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeCommand } from '../src/cli/judge-command.ts';
import { captureJudgeChains, judgeRuns, replayChains, startServe } from './serve-bench.ts';

const CONCURRENCY = 16, PAIRS = 128, ROUNDS = Number(process.argv[2] ?? 8);
if (!(Number.isInteger(ROUNDS) && ROUNDS >= 1)) throw new Error(`judge-occupancy: rounds must be a whole number of at least 1, got '${process.argv[2]}'`);

/** Chat-completion requests written and replies finished, with their times: the run's events. */
let events: Array<{ at: number; change: 1 | -1 }> = [];
const watched = new WeakSet<ClientRequest>();
diagnostics.subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: ClientRequest };
  if (!request.path.endsWith('/chat/completions')) return;       // /metrics and the like are not the clients' work
  watched.add(request);
  events.push({ at: performance.now(), change: 1 });
});
diagnostics.subscribe('http.client.response.finish', (message) => {
  if (watched.has((message as { request: ClientRequest }).request)) events.push({ at: performance.now(), change: -1 });
});

interface Occupancy { wall: number; start: number; end: number; meanRun: number; meanRequests: number; fullShare: number }

/** The run's occupancy from its events, between `started` and `ended`. */
function occupancy(started: number, ended: number): Occupancy {
  if (events.length !== 8 * PAIRS) throw new Error(`judge-occupancy: ${events.length / 2} requests in a run, expected ${4 * PAIRS}`);
  const first = events[0]!.at, last = events.at(-1)!.at;
  let inFlight = 0, since = started, area = 0, full = 0;
  for (const { at, change } of events) {
    area += inFlight * (at - since);
    if (inFlight >= CONCURRENCY) full += at - since;
    since = at;
    inFlight += change;
  }
  return { wall: ended - started, start: first - started, end: ended - last, meanRun: area / (ended - started), meanRequests: area / (last - first), fullShare: full / (last - first) };
}

const { url, child } = await startServe(['--max-concurrency', '64', '--max-batch', '64']);
const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-occupancy-'));
try {
  const config = judgeRuns(directory, PAIRS);
  const judge = async () => {
    const summary = await judgeCommand({ config: config(url), progress: false });
    if (summary.judged !== PAIRS) throw new Error(`judge-occupancy: judged ${summary.judged} of ${PAIRS} pairs`);
  };
  // The judge's requests, captured through a proxy, replayed as the serve bench's raw client does: each judgment's
  // verdict after its rationale's reply, 16 judgments at once, in capture order.
  const { chains } = await captureJudgeChains(url, PAIRS, (proxyUrl) => judgeCommand({ config: config(proxyUrl), progress: false }));
  const raw = () => replayChains(`${url}/v1/chat/completions`, chains, CONCURRENCY);
  const figures = { judge: [] as Occupancy[], raw: [] as Occupancy[] };
  for (let round = -2; round < ROUNDS; round++) {
    const order = ((round % 2) + 2) % 2 === 0 ? (['judge', 'raw'] as const) : (['raw', 'judge'] as const);
    for (const name of order) {
      events = [];
      const started = performance.now();
      await (name === 'judge' ? judge() : raw());
      const figure = occupancy(started, performance.now());
      if (round >= 0) figures[name].push(figure);
    }
  }
  const mean = (list: Occupancy[], key: keyof Occupancy) => list.reduce((sum, figure) => sum + figure[key], 0) / list.length;
  console.log(`# judge occupancy: ${PAIRS} pairs (${4 * PAIRS} requests), ${CONCURRENCY} in flight, means of ${ROUNDS} rounds after 2 warm-up rounds`);
  for (const name of ['judge', 'raw'] as const) {
    const list = figures[name];
    console.log(`${name.padEnd(5)} wall ${mean(list, 'wall').toFixed(0)} ms, start ${mean(list, 'start').toFixed(1)} ms, end ${mean(list, 'end').toFixed(1)} ms; `
      + `in flight ${mean(list, 'meanRun').toFixed(2)} over the run, ${mean(list, 'meanRequests').toFixed(2)} over the requests phase (all ${CONCURRENCY} for ${(100 * mean(list, 'fullShare')).toFixed(1)}% of it)`);
  }
  const requestsPhase = (name: 'judge' | 'raw') => mean(figures[name], 'wall') - mean(figures[name], 'start') - mean(figures[name], 'end');
  console.log(`judge over raw: wall ${(mean(figures.judge, 'wall') / mean(figures.raw, 'wall')).toFixed(3)}x, requests phase ${(requestsPhase('judge') / requestsPhase('raw')).toFixed(3)}x; `
    + `the judge's start and end are ${(100 * (mean(figures.judge, 'start') + mean(figures.judge, 'end')) / mean(figures.judge, 'wall')).toFixed(1)}% of its wall`);
} finally {
  child.kill();
  rmSync(directory, { recursive: true, force: true });
}
