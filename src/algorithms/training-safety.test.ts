// Safety in a real training run: a NaN poisoned into a policy weight mid-run stops the run with TrainingStopped naming
// the non-finite metric and the last good checkpoint, which is still on disk, loads, and holds finite weights of the
// last checkpointed step; metrics.jsonl holds only the good steps. Also: resume continues a run from its checkpoint.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Transformer } from '../models/transformer.ts';
import { policyGradientConfig, PolicyGradientTrainer } from './policy-gradient-trainer.ts';
import { frozenCopy, trainableCopy } from './reference-model.ts';
import { programmaticReward } from './reward-sources.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';
import { runTraining } from './training-loop.ts';
import { RunFolder, TrainingStopped } from './training-run.ts';

const config = policyGradientConfig({ algorithm: 'grpo', promptsPerStep: 2, groupSize: 4, maxNewTokens: RESPONSE_DIGITS + 1,
  stopToken: EOS, epochs: 1, minibatches: 1, klCoef: 0.1, seed: 3 });

function trainer(base: Transformer, reward = programmaticReward('sorted', sortedReward)): PolicyGradientTrainer {
  return new PolicyGradientTrainer({ config, policy: trainableCopy(base), reference: frozenCopy(base),
    prompts: [{ text: '', tokens: Int32Array.of(BOS) }], decode: decodeDigits, reward });
}

describe('training safety', () => {
  let base: Transformer;
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-safety-'));
  before(() => { base = pretrainDigitPolicy(20); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a NaN poisoned into a weight mid-run stops it; the last good checkpoint stays intact', async () => {
    const run = new RunFolder(join(dir, 'poisoned')), pg = trainer(base);
    let checkpointed: Map<string, Float32Array> | null = null;
    const stopped = await runTraining(pg, { run, steps: 10, checkpointEvery: 2,
      beforeStep: (step) => { if (step === 5) pg.setup.policy.parameters().get('h.1.mlp.c_fc.weight')!.data[7] = NaN; },
      onStep: (record) => { if (record.step === 4) checkpointed = new Map([...pg.trainable].map(([name, t]) => [name, t.data.slice()])); },
    }).then(() => null, (error: unknown) => error);
    assert.ok(stopped instanceof TrainingStopped, `expected TrainingStopped, got ${stopped}`);
    assert.equal(stopped.reason, 'non-finite');
    assert.equal(stopped.step, 6);
    assert.equal(stopped.checkpoint, run.checkpointDir);
    assert.match(stopped.message, /training stopped at step 6: backward: the loss is NaN .*conv1d.*\. The last checkpoint with finite loss and weights \(step 4\) is kept at .*checkpoint/);
    const restored = trainer(base);
    restored.load(run.checkpointDir);
    assert.equal(restored.step, 4);
    for (const [name, t] of restored.trainable) {
      assert.ok(t.data.every(Number.isFinite), `${name} is finite`);
      assert.deepEqual(t.data, checkpointed!.get(name), `${name} equals the step-4 weights`);
    }
    const steps = readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5]);
  });

  test('a reward with no spread is a visible warning (once at its first step, and a count at the end)', async () => {
    const warnings: string[] = [];
    const result = await runTraining(trainer(base, programmaticReward('never-matches', () => 0)), {
      run: new RunFolder(join(dir, 'constant')), steps: 3, checkpointEvery: 3, onWarning: (message) => warnings.push(message) });
    assert.deepEqual(result.warnings, warnings);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /the reward was 0 for every sample of step 1: with no spread there is nothing to learn/);
    assert.match(warnings[1], /no spread in 3 of 3 steps/);
    const varied = await runTraining(trainer(base), { run: new RunFolder(join(dir, 'varied')), steps: 2, checkpointEvery: 2, onWarning: () => assert.fail('no warning expected') });
    assert.deepEqual(varied.warnings, []);
  });

  test('a run resumed from its checkpoint continues to the requested step', async () => {
    const run = new RunFolder(join(dir, 'resumed'));
    await runTraining(trainer(base), { run, steps: 3, checkpointEvery: 2 });
    const second = await runTraining(trainer(base), { run, steps: 5, checkpointEvery: 2 });
    assert.equal(second.resumedFrom, 3);
    const steps = readFileSync(join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).step);
    assert.deepEqual(steps, [1, 2, 3, 4, 5]);
  });
});
