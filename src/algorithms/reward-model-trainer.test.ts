// Learning test: a reward model on the tiny digit GPT reaches ≥ 0.9 held-out pairwise accuracy on a separable
// synthetic preference set (chosen = the more sorted digit string), with hard and with soft labels; bad pairs are
// rejected naming the field; the trained model plugs into the RL reward-source interface.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Transformer } from '../models/transformer.ts';
import { trainableCopy } from './reference-model.ts';
import { rewardModelReward } from './reward-sources.ts';
import { RewardModelTrainer, type RewardModelConfig } from './reward-model-trainer.ts';
import { BOS, digitPreferencePairs, EOS, encodeDigits, pretrainDigitPolicy } from '../testbed/digit-task.ts';

const config: RewardModelConfig = { learningRate: 3e-3, batchSize: 32, maxGradNorm: 1, margin: 0, evalEvery: 40, seed: 3 };

describe('reward model on sorted-digit preferences', () => {
  let base: Transformer;
  before(() => { base = pretrainDigitPolicy(40); });

  for (const soft of [false, true]) {
    test(`reaches ≥ 0.9 held-out accuracy (${soft ? 'soft' : 'hard'} labels)`, async () => {
      const trainer = new RewardModelTrainer({ config, model: trainableCopy(base),
        train: digitPreferencePairs(4096, 11, { soft }), heldOut: digitPreferencePairs(200, 12) });
      const start = trainer.evaluate(trainer.setup.heldOut!);
      let last = 0;
      for (let step = 0; step < 240; step++) {
        const record = await trainer.trainStep();
        if (record.metrics.heldOutAccuracy !== undefined) last = record.metrics.heldOutAccuracy;
        for (const value of Object.values(record.metrics)) assert.ok(Number.isFinite(value));
      }
      console.log(`reward model (${soft ? 'soft' : 'hard'}): held-out accuracy ${start.accuracy.toFixed(3)} → ${last.toFixed(3)}`);
      assert.ok(last >= 0.9, `held-out accuracy ${last}`);
      if (!soft) {
        const reward = rewardModelReward('rm', (sequences) => trainer.scoreSequences(sequences));
        const outcome = await reward.score({ prompts: ['', ''], responses: ['012345', '543210'],
          promptTokens: [Int32Array.of(BOS), Int32Array.of(BOS)],
          responseTokens: [Int32Array.from([...encodeDigits('012345'), EOS]), Int32Array.from([...encodeDigits('543210'), EOS])] });
        assert.ok(outcome.rewards[0] > outcome.rewards[1], `sorted ${outcome.rewards[0]} vs reversed ${outcome.rewards[1]}`);
      }
    });
  }

  test('malformed pairs are rejected naming the pair and field', () => {
    const pairs = digitPreferencePairs(3, 1);
    pairs[2] = { ...pairs[2], label: 1.5 };
    assert.throws(() => new RewardModelTrainer({ config, model: trainableCopy(base), train: pairs }), /train: pair 2: field 'label'/);
    pairs[2] = { ...pairs[1], rejected: Int32Array.of(99) };
    assert.throws(() => new RewardModelTrainer({ config, model: trainableCopy(base), train: pairs }), /pair 2: field 'rejected' has token 99/);
  });
});
