// PPO-ptx in `rlaif run` (algorithm.pretrainCoef): the config's checks (policy-gradient algorithms only; pretraining
// text required outside the testbed, relative to the config file), the paragraphs as language-modelling examples, and
// a round's update that replays them (its loss reported apart). The trainer's own tests (policy-gradient-trainer.test.ts)
// show the loss moving the weights and its draws resuming.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LoopPolicy, pretrainExamples } from './loop-policy.ts';
import { parseRunConfig } from './run-config.ts';
import { TINY_BOS, TINY_EOS, TinyTokenizer, tinyBase } from './testing/tiny-loop.ts';

test('pretrainCoef: refused for DPO and without text outside the testbed; pretrainText is relative to the config file', () => {
  assert.throws(() => parseRunConfig('algorithm: {name: dpo, pretrainCoef: 1}', { source: 'r.yaml' }), /r\.yaml: algorithm\.pretrainCoef is PPO-ptx, for the policy-gradient algorithms .*dpo takes no pretraining loss/);
  const elsewhere = 'policy: {kind: checkpoint, path: m}\nlabeler: {kind: checkpoint, path: m}\nprompts: {kind: file, path: p.jsonl}\n';
  assert.throws(() => parseRunConfig(`${elsewhere}algorithm: {pretrainCoef: 1}`, { source: 'r.yaml' }), /r\.yaml: algorithm\.pretrainCoef needs pretraining text: set algorithm\.pretrainText/);
  assert.equal(parseRunConfig(`${elsewhere}algorithm: {pretrainCoef: 1, pretrainText: text.txt}`, { source: 'r.yaml', baseDirectory: '/cfg' }).algorithm.pretrainText, '/cfg/text.txt');
  assert.equal(parseRunConfig('algorithm: {pretrainCoef: 0.5}').algorithm.pretrainText, null, "the testbed's policy brings its corpus");
  assert.equal(parseRunConfig(null).algorithm.pretrainCoef, 0, 'off by default');
});

test('pretraining paragraphs become examples: BOS (else EOS), the tokens, EOS, cut to the context; empty lines dropped', () => {
  const tokenizer = new TinyTokenizer();
  const examples = pretrainExamples(['ab', 'cabcab'], tokenizer, 5);
  assert.deepEqual(examples.map((e) => [...e.prompt]), [[TINY_BOS], [TINY_BOS]]);
  assert.deepEqual([...examples[0]!.response], [...tokenizer.encode('ab'), TINY_EOS]);
  assert.deepEqual([...examples[1]!.response], tokenizer.encode('cabc'), 'cut to 4 tokens after the separator (context 5)');
  const noBos = Object.assign(new TinyTokenizer(), { bosTokenId: null });
  assert.deepEqual([...pretrainExamples(['a'], noBos, 5)[0]!.prompt], [TINY_EOS]);
});

test("a round's update replays the pretraining text (pretrainLoss reported); without text it is refused", async () => {
  const config = parseRunConfig('promptsPerRound: 2\nsamplesPerPrompt: 2\nmaxNewTokens: 4\nalgorithm: {pretrainCoef: 1, pretrainBatchSize: 2}\n');
  const policy = new LoopPolicy({ base: tinyBase(), tokenizer: new TinyTokenizer(), config, seed: 3, pretrain: ['aaaa', 'abab', 'cccc'] });
  const prompts = [Int32Array.of(TINY_BOS, 0), Int32Array.of(TINY_BOS, 1)].flatMap((p) => [p, p]);
  const { batch } = policy.sample(prompts, [1, 2, 3, 4]);
  const { metrics } = await policy.learn(batch, Float32Array.of(1, 0, 0, 1));
  assert.ok(metrics.pretrainLoss! > 0, `the update's pretraining loss: ${metrics.pretrainLoss}`);
  const off = new LoopPolicy({ base: tinyBase(), tokenizer: new TinyTokenizer(), config: parseRunConfig('promptsPerRound: 2\nsamplesPerPrompt: 2\nmaxNewTokens: 4\n'), seed: 3 });
  assert.equal((await off.learn(off.sample(prompts, [1, 2, 3, 4]).batch, Float32Array.of(1, 0, 0, 1))).metrics.pretrainLoss, undefined);
  assert.throws(() => new LoopPolicy({ base: tinyBase(), tokenizer: new TinyTokenizer(), config, seed: 3 }), /pretrainCoef 1 needs pretraining examples/);
});
