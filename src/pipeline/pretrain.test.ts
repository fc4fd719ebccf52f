// The engine learns: a small GPT's loss on the shipped corpus falls; pretraining resumed from saved weights and
// optimizer state ends exactly where an uninterrupted run does; batches match the PyTorch script's hash.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AdamW } from '../engine/index.ts';
import { configFromHf } from '../models/config.ts';
import { initParameters } from '../models/parameters.ts';
import { CharTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { evaluateLm, lmBatch, mix32, pretrainLm } from './pretrain.ts';

const corpus = Int32Array.from(new CharTokenizer().encode(readFileSync(new URL('../../data/tiny-world.txt', import.meta.url), 'utf8').slice(0, 60_000)));
const config = configFromHf({ model_type: 'gpt2', vocab_size: 96, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 32 }, 'test');
const options = { batchSize: 8, contextLength: 32, lr: 3e-3, weightDecay: 0.01 };

test('the integer hash matches the PyTorch script (golden values)', () => {
  // computed with scripts/torch-train-compare.py's mix32 in Python
  assert.deepEqual([0, 1, 2, 12345].map(mix32), [301794027, 3140136926, 3601063660, 4284060360]);
  const { inputs, targets } = lmBatch(corpus, 3, 2, 5);
  assert.deepEqual(Array.from(inputs.subarray(1, 5)), Array.from(targets.subarray(0, 4)), 'targets are inputs shifted by one');
});

test('a small GPT learns the shipped corpus: held-out loss falls far below the uniform guess', () => {
  const model = new Transformer(config, initParameters(config, 0));
  const before = evaluateLm(model, corpus, 4, 8, 32);
  const { losses } = pretrainLm(model, corpus, { ...options, steps: 100 });
  const after = evaluateLm(model, corpus, 4, 8, 32);
  assert.ok(Math.abs(before - Math.log(96)) < 0.1, `starts near uniform: ${before}`);
  assert.ok(after < 3.1 && after < before - 1.4, `held-out loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
  assert.ok(losses[losses.length - 1] < losses[0] - 1.4);
});

test('resumed pretraining equals uninterrupted pretraining', () => {
  const straight = new Transformer(config, initParameters(config, 1));
  pretrainLm(straight, corpus, { ...options, steps: 8 });

  const first = new Transformer(config, initParameters(config, 1));
  const { optimizer } = pretrainLm(first, corpus, { ...options, steps: 4 });
  const saved = { weights: new Map([...first.parameters()].map(([k, t]) => [k, t.data.slice()])), state: optimizer.state() };

  const resumedParams = initParameters(config, 99);                    // different init: everything must come from the save
  for (const [name, t] of resumedParams) t.data.set(saved.weights.get(name)!);
  const resumed = new Transformer(config, resumedParams);
  const restored = new AdamW([...resumed.parameters().values()], { lr: options.lr, weightDecay: options.weightDecay });
  restored.loadState(saved.state);
  pretrainLm(resumed, corpus, { ...options, steps: 8, startStep: 4, optimizer: restored });
  for (const [name, t] of straight.parameters()) {
    assert.deepEqual(Array.from(resumed.parameters().get(name)!.data), Array.from(t.data), name);
  }
});
