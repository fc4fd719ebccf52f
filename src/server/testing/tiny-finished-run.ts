// A finished `rlaif run` folder small enough for dashboard tests (seconds): the tiny loop of pipeline/testing (tiny GPT,
// a scripted labeler through the real judges, two rounds with gates) plus the testbed's gold report on a few test
// prompts of a small world, so gold records hold real labeler–gold disagreements; then summary.json. Test-only.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig } from '../../pipeline/run-config.ts';
import { runLoop } from '../../pipeline/run-loop.ts';
import { RunStore } from '../../pipeline/run-store.ts';
import { summarizeRun } from '../../pipeline/run-summary.ts';
import { testbedGoldHook } from '../../pipeline/testbed-report.ts';
import { tinyLoop } from '../../pipeline/testing/tiny-loop.ts';
import { KILL_TEST_CONFIG } from '../../pipeline/testing/tiny-run-process.ts';
import { makePrompts, makeWorld } from '../../testbed/index.ts';

// The tiny loop's run (pipeline/testing/tiny-run-process.ts) with chain-of-thought on, so judgments carry rationales.
export const TINY_RUN_CONFIG = KILL_TEST_CONFIG.replace('chainOfThought: false', 'chainOfThought: true');
if (!TINY_RUN_CONFIG.includes('chainOfThought: true')) throw new Error('tiny-finished-run: KILL_TEST_CONFIG no longer names chainOfThought: false');

/** Writes the run into `dir` (a run folder); returns its record counts. */
export async function writeTinyFinishedRun(dir: string, options: { testPrompts?: number; gold?: boolean } = {}): Promise<{ rewards: number; disagreements: number }> {
  const config = parseRunConfig(TINY_RUN_CONFIG);
  const store = RunStore.open(dir, config);
  try {
    const { context } = tinyLoop({ config, store });
    const world = makeWorld(5, { creatures: 8, unknownNames: 6, petNames: 6 });
    const test = makePrompts(world).filter((p) => p.split === 'test').slice(0, options.testPrompts ?? 16)
      .map((p) => ({ ...p, principleIds: ['helpful'] }));   // the tiny labeler's constitution has this one principle
    // gold: false — a run on a user's own prompts, with no gold checker and so no gold records.
    await runLoop(context, options.gold === false ? undefined : testbedGoldHook({ context, world, test, proxyOnTest: true }));
    store.commit();
    writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summarizeRun(store), null, 2)}\n`);
    return { rewards: store.count('reward'), disagreements: store.all('gold').reduce((n, g) => n + g.disagreements.length, 0) };
  } finally {
    store.close();
  }
}
