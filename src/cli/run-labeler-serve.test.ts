// `rlaif run` with its labeler behind a real `rlaif serve` on loopback gives the judgments the same checkpoint gives
// in-process for the same seeds (issue 13, "clients that prove it"): a tiny run (tiny policy, scripted prompts) whose
// labeler is built from the run config by labelerFromSpec, once as `kind: checkpoint`, once as `kind:
// openai-compatible`. Verdicts, probabilities (to 1e-6), rationales and principles must agree record for record.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { savePretrained } from '../models/checkpoint.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGpt2Config } from '../models/testing/tiny-models.ts';
import { labelerFromSpec, labelerSpec } from '../pipeline/run-labeler.ts';
import type { JudgmentRecord } from '../pipeline/run-records.ts';
import { runLoop } from '../pipeline/run-loop.ts';
import { inTinyRun, TINY_CONSTITUTION } from '../pipeline/testing/tiny-loop.ts';
import { scratchFolder } from './testing/scratch-folder.ts';
import { serveProcess } from './testing/serve-process.ts';

const scratch = scratchFolder('rlaif-run-serve-');

const RUN = `
rounds: 1
iterationsPerRound: 1
promptsPerRound: 2
samplesPerPrompt: 3
maxNewTokens: 6
validationPrompts: 2
feedback: {pairwise: 1, selfSupervised: 0, chainOfThought: true}
algorithm: {learningRate: 0.01, stepsPerRound: 1}
gate: {maxLengthDrift: 5, minWinRateVsPrevious: 0}
`;

/**
 * A labeler checkpoint of the character tokenizer: random weights scaled up 20x, so what it says depends on every
 * token it reads (a random network at its init scale says nearly the same after any prompt), and the verdict tokens
 * '1' and '2' (ids 18, 19) share a direction the final norm's bias points along, so both are always among the top
 * tokens and which one leads is left to the context: soft labels strictly between 0 and 1 that differ from pair to pair.
 */
function writeLabeler(directory: string): void {
  const config = tinyGpt2Config({ vocab_size: 96, n_positions: 256 });
  const parameters = initParameters(config, 7);
  for (const [name, tensor] of parameters) if (!name.includes('ln')) for (let i = 0; i < tensor.data.length; i++) tensor.data[i]! *= 20;
  const wte = parameters.get('wte.weight')!, C = config.hiddenSize;
  parameters.get('ln_f.bias')!.data[0] = 5;
  wte.data[18 * C] = wte.data[19 * C] = 2;
  savePretrained(directory, config, parameters);
}

/** The run's judgment records with the labeler's labeled fields only (its model name differs by construction). */
async function judgments(labeler: string): Promise<Record<string, unknown>[]> {
  return inTinyRun({ prefix: 'rlaif-run-serve-run-', yaml: `${RUN}labeler:\n${labeler}` }, async ({ config, store, context }) => {
    try {
      const judging = await labelerFromSpec(labelerSpec(config, TINY_CONSTITUTION));
      await runLoop({ ...context, labeler: judging });
      return store.all('judgment').filter((record) => record.source === 'pairwise-ai').map((record: JudgmentRecord) => ({
        id: record.id, round: record.round, stage: record.stage, parents: record.parents, ok: record.ok, failure: record.failure,
        probabilityA: record.probabilityA, rationale: record.rationale, principle: record.principle, orders: record.orders,
      }));
    } finally {
      store.close();
    }
  });
}

test('rlaif run with the labeler behind rlaif serve records the judgments it records with the labeler in-process', async () => {
  const labelerDirectory = join(scratch.directory, 'labeler');
  writeLabeler(labelerDirectory);
  const url = await serveProcess(['--model', labelerDirectory, '--served-model-name', 'labeler']);
  const local = await judgments(`  kind: checkpoint\n  path: ${labelerDirectory}\n`);
  const remote = await judgments(`  kind: openai-compatible\n  baseURL: ${url}/v1\n  model: labeler\n`);
  assert.ok(local.length >= 6, `${local.length} pairwise judgments in-process`);
  assert.ok(local.every((j) => j.ok), 'every judgment parses');
  assert.ok(new Set(local.map((j) => j.rationale)).size > local.length / 2, 'rationales differ from pair to pair');
  const first = local.flatMap((j) => (j.orders as { probabilityFirst: number }[]).map((order) => order.probabilityFirst));
  // Apart by 1e-4 at least, a hundred times the tolerance below (the prompts overflow the 256 positions: the verdict
  // request keeps its end, the rationale's budget shrinks first, so the labels spread over a few thousandths).
  assert.ok(first.every((p) => p > 0.01 && p < 0.99) && new Set(first.map((p) => p.toFixed(4))).size > first.length / 2, `soft labels vary: ${first.join(', ')}`);
  assert.equal(remote.length, local.length);
  // Numbers to 1e-6 (the server sends log-probabilities as JSON decimals; rounding both sides to 6 places instead split
  // 0.8711885 into 0.871188 and 0.871189), everything else exactly.
  const byId = (list: Record<string, unknown>[]) => [...list].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const close = (got: unknown, want: unknown, path: string): void => {
    if (typeof want === 'number' && typeof got === 'number') return assert.ok(Math.abs(got - want) <= 1e-6, `${path}: ${got} vs ${want}`);
    if (want && typeof want === 'object' && got && typeof got === 'object') {
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${path}: fields`);
      for (const key of Object.keys(want)) close((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], `${path}.${key}`);
      return;
    }
    assert.deepEqual(got, want, path);
  };
  close(byId(remote), byId(local), 'judgments');
});
