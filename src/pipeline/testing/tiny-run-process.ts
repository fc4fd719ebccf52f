// A child process for the kill -9 test of the loop: the tiny run of run-loop.test.ts in the folder argv[2], resumed
// from whatever is there (argv[3] 'iterations': the same run with two RL iterations a round). Prints 'open' once the
// store is open, then runs to the end. Test-only.
import { fileURLToPath } from 'node:url';
import { parseRunConfig } from '../run-config.ts';
import { runLoop } from '../run-loop.ts';
import { RunStore } from '../run-store.ts';
import { tinyLoop } from './tiny-loop.ts';

export const KILL_TEST_CONFIG = `
rounds: 2
iterationsPerRound: 1
promptsPerRound: 4
samplesPerPrompt: 4
rolloutBatchRows: 5
maxNewTokens: 8
validationPrompts: 6
feedback: {pairwise: 1, selfSupervised: 0.5, chainOfThought: false}
algorithm: {learningRate: 0.01, stepsPerRound: 2}
gate: {maxLengthDrift: 5, minWinRateVsPrevious: 0}
`;

/** The same tiny run with two RL iterations a round (each round's second iteration samples from the first's update). */
export const KILL_TEST_ITERATIONS_CONFIG = KILL_TEST_CONFIG.replace('iterationsPerRound: 1', 'iterationsPerRound: 2');

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {   // run as a child, not imported for its config
  const config = parseRunConfig(process.argv[3] === 'iterations' ? KILL_TEST_ITERATIONS_CONFIG : KILL_TEST_CONFIG);
  const store = RunStore.open(process.argv[2], config);
  process.stdout.write('open\n');
  await runLoop(tinyLoop({ config, store }).context);
  store.close();
  process.stdout.write('done\n');
}
