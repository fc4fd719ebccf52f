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
import { makePrompts, makeWorld } from '../../testbed/index.ts';

// The tiny loop's run (pipeline/testing/tiny-run-process.ts) with chain-of-thought on, so judgments carry rationales.
export const TINY_RUN_CONFIG = `
rounds: 2
promptsPerRound: 4
samplesPerPrompt: 4
maxNewTokens: 8
validationPrompts: 6
feedback: {pairwise: 1, selfSupervised: 0.5, chainOfThought: true}
algorithm: {learningRate: 0.01, stepsPerRound: 2}
gate: {maxLengthDrift: 5, minWinRateVsPrevious: 0}
`;

/** Writes the run into `dir` (a run folder); returns its record counts. */
export async function writeTinyFinishedRun(dir: string, options: { testPrompts?: number } = {}): Promise<{ rewards: number; disagreements: number }> {
  const config = parseRunConfig(TINY_RUN_CONFIG);
  const store = RunStore.open(dir, config);
  try {
    const { context } = tinyLoop({ config, store });
    const world = makeWorld(5, { creatures: 8, unknownNames: 6, petNames: 6 });
    const test = makePrompts(world).filter((p) => p.split === 'test').slice(0, options.testPrompts ?? 16)
      .map((p) => ({ ...p, principleIds: ['helpful'] }));   // the tiny labeler's constitution has this one principle
    await runLoop(context, testbedGoldHook({ context, world, test, proxyOnTest: true }));
    store.commit();
    writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summarizeRun(store), null, 2)}\n`);
    return { rewards: store.count('reward'), disagreements: store.all('gold').reduce((n, g) => n + g.disagreements.length, 0) };
  } finally {
    store.close();
  }
}
