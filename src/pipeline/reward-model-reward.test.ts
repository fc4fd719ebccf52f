import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import { concatTokens } from '../algorithms/preference-pairs.ts';
import { Rng } from '../engine/index.ts';
import { ANCHOR_MODEL_ID, fitRewardModel, rewardModelId } from './reward-model-reward.ts';
import { parseRunConfig } from './run-config.ts';
import { runLoop } from './run-loop.ts';
import { writeHtmlReport } from './run-report.ts';
import { summarizeRun } from './run-summary.ts';
import { assertCrashResumeEqual } from './testing/crash-resume.ts';
import { aShare, tinyBase, TinyTokenizer, TINY_BOS, inTinyRun, tinyLoop } from './testing/tiny-loop.ts';

const tokenizer = new TinyTokenizer();
const countA = (text: string) => [...text].filter((c) => c === 'a').length;

/** Pairs of random a/b/c strings; the soft label P(first preferred) = σ(1.5·(a's in first − a's in second)). */
function pairs(n: number, seed: number): { pair: TokenPreferencePair; first: string; second: string }[] {
  const rng = new Rng(seed), text = () => Array.from({ length: 3 + rng.int(6) }, () => 'abc'[rng.int(3)]).join('');
  return Array.from({ length: n }, () => {
    const first = text(), second = text(), p = 1 / (1 + Math.exp(-1.5 * (countA(first) - countA(second))));
    return { first, second, pair: { prompt: Int32Array.of(TINY_BOS, 4), chosen: Int32Array.from(tokenizer.encode(first)), rejected: Int32Array.from(tokenizer.encode(second)), label: p } };
  });
}

test('the fitted reward model orders held-out pairs by the hidden preference (more a\'s) far better than chance; the fit reports its progress', async () => {
  const train = pairs(256, 1), heldOut = pairs(200, 2).filter((p) => countA(p.first) !== countA(p.second));
  const progress: string[] = [];
  const fitted = await fitRewardModel({ trunk: tinyBase(), train: train.map((p) => p.pair), heldOut: [], settings: { steps: 80, batchSize: 32, learningRate: 3e-3, heldOutShare: 0 },
    maxGradNorm: 1, seed: 3, onProgress: (done, total) => progress.push(`${done}/${total}`) });
  assert.deepEqual([progress.length, progress[0], progress.at(-2), progress.at(-1)], [81, '1/81', '80/81', '81/81']);
  const score = (text: string) => fitted.score([concatTokens(Int32Array.of(TINY_BOS, 4), Int32Array.from(tokenizer.encode(text)))])[0]!;
  const right = heldOut.filter((p) => (score(p.first) > score(p.second)) === (countA(p.first) > countA(p.second))).length / heldOut.length;
  console.log(`reward model: held-out pairs ordered as the preference ${right.toFixed(3)} (${heldOut.length} pairs); fit loss ${fitted.metrics.fitLossFirst!.toFixed(3)} → ${fitted.metrics.fitLoss!.toFixed(3)}`);
  assert.ok(right > 0.9, `held-out ordering accuracy ${right}`);
  assert.ok(fitted.metrics.fitLoss! < fitted.metrics.fitLossFirst!);
});

const YAML = `
rounds: 2
iterationsPerRound: 1
promptsPerRound: 4
samplesPerPrompt: 4
maxNewTokens: 8
validationPrompts: 6
feedback: {pairwise: 1, selfSupervised: 0.5, chainOfThought: false}
rewards: {mode: reward-model, rewardModel: {steps: 30, batchSize: 16, learningRate: 0.003, heldOutShare: 0.3}}
`;

test('reward-model mode on a tiny run: fitted on the round\'s soft labels, recorded with them, its scores are the rewards', async () => {
  await inTinyRun({ prefix: 'rlaif-rm-', yaml: YAML }, async ({ store, context }) => {
    await runLoop(context);
    let agree = 0, ordered = 0;
    for (const round of [1, 2]) {
      const model = store.get('reward-model', rewardModelId(round))!;
      assert.ok(model, `round ${round}: a reward-model record`);
      const fitted = model.parents.map((id) => store.get('judgment', id)!), held = model.heldOut.map((id) => store.get('judgment', id)!);
      assert.ok(fitted.length > 0 && held.length > 0, 'fitted on some pairs, measured on others');
      for (const j of [...fitted, ...held]) {
        assert.equal(j.source, 'pairwise-ai');
        assert.equal(j.round, round);
        assert.ok(j.probabilityA! >= 0 && j.probabilityA! <= 1, 'each a soft label');
      }
      assert.equal(new Set([...model.parents, ...model.heldOut]).size, fitted.length + held.length, 'held-out pairs are not fitted on');
      assert.equal(model.metrics.trainPairs, fitted.length);
      assert.ok(model.metrics.fitLoss! < model.metrics.fitLossFirst!, `round ${round}: the fit lowers its loss`);
      const rewards = store.all('reward').filter((r) => r.round === round);
      assert.equal(rewards.length, 16);
      for (const r of rewards) {
        assert.equal(r.parents[1], model.id, 'the reward names the model that scored it');
        assert.ok(Number.isFinite(r.rewardModelScore));
        assert.deepEqual(r.weights, { 'pairwise-ai': 0, 'self-supervised': 0.5, 'reward-model': 1 });
        assert.ok(Math.abs(r.total - (r.components['reward-model']! + 0.5 * r.components['self-supervised']!)) < 1e-9);
        assert.ok(r.parents.some((id) => store.get('judgment', id)?.source === 'pairwise-ai'), 'its own soft labels stay linked');
        const own = store.get('sample', r.parents[0]!)!;
        for (const other of rewards) {
          const theirs = store.get('sample', other.parents[0]!)!;
          if (other.id === r.id || theirs.parents[0] !== own.parents[0] || aShare(theirs.text) === aShare(own.text)) continue;
          ordered++;
          if ((r.rewardModelScore! > other.rewardModelScore!) === (aShare(own.text) > aShare(theirs.text))) agree++;
        }
      }
    }
    assert.ok(ordered > 0 && agree / ordered > 0.6, `reward-model scores follow the labeler's taste on ${agree}/${ordered} ordered pairs`);
    const html = readFileSync(writeHtmlReport(store, summarizeRun(store)), 'utf8');
    assert.match(html, /Reward models fitted on the soft labels/);
    assert.match(html, /reward-model -?[0-9.]+/, 'traces show the reward-model component');
    store.close();
  });
});

test('reward-model mode crashed mid-judging and resumed: same records, same weights, no judgment asked twice', async () => {
  const config = parseRunConfig(YAML);
  await assertCrashResumeEqual({ config, make: (store) => tinyLoop({ config, store }), on: 'pairwise', crashAfter: [9, 4],
    contentOf: (store) => (['sample', 'judgment', 'reward', 'reward-model', 'advantage', 'evaluation', 'gate'] as const).flatMap((k) => store.all(k).map((r) => JSON.stringify(r))).sort(),
    fingerprint: (run) => [...run.context.policy.model.parameters().values()].map((t) => Array.from(t.data)) });
});

test('the labeled-anchor source alone: a model fitted once on the labeled comparisons scores every sample', async () => {
  await inTinyRun({ prefix: 'rlaif-anchor-source-', yaml: YAML.replace('rewards: {mode: reward-model, ', 'rewards: {').replace('feedback: {pairwise: 1, selfSupervised: 0.5,', 'feedback: {pairwise: 0, labeledAnchors: 1,') }, async ({ store, context }) => {
    await runLoop(context);
    const models = store.all('reward-model');
    assert.deepEqual(models.map((m) => [m.id, m.source, m.round]), [[ANCHOR_MODEL_ID, 'labeled-anchors', -1]], 'one model for the whole run');
    assert.ok(models[0]!.metrics.trainPairs! > 20 && models[0]!.metrics.heldOutPairs! > 0);
    assert.ok(models[0]!.metrics.heldOutAccuracy! > 0.7, `held-out labeled pairs ordered ${models[0]!.metrics.heldOutAccuracy}`);
    assert.equal(store.all('judgment').filter((j) => j.stage === 'feedback').length, 0, 'no AI feedback asked for');
    let agree = 0, ordered = 0;
    const rewards = store.all('reward');
    assert.equal(rewards.length, 32);
    for (const r of rewards) {
      assert.deepEqual(r.weights, { 'labeled-anchors': 1 });
      assert.equal(r.total, r.components['labeled-anchors']);
      assert.ok(r.parents.includes(ANCHOR_MODEL_ID) && Number.isFinite(r.anchorModelScore));
      const own = store.get('sample', r.parents[0]!)!;
      for (const other of rewards) {
        const theirs = store.get('sample', other.parents[0]!)!;
        if (other.round !== r.round || theirs.parents[0] !== own.parents[0] || aShare(theirs.text) === aShare(own.text)) continue;
        ordered++;
        if ((r.anchorModelScore! > other.anchorModelScore!) === (aShare(own.text) > aShare(theirs.text))) agree++;
      }
    }
    assert.ok(ordered > 0 && agree / ordered > 0.6, `labeled-anchor scores follow the labels' preference on ${agree}/${ordered} ordered pairs`);
    store.close();
  });
});

test('rewards.mode reward-model needs pairwise feedback and a policy-gradient update', () => {
  assert.equal(parseRunConfig(null).rewards.mode, 'direct');
  assert.throws(() => parseRunConfig('rewards: {mode: reward-model}\nfeedback: {pairwise: 0, pointwise: 1}', { source: 'r.yaml' }), /r\.yaml: rewards\.mode reward-model .* feedback\.pairwise must be > 0/);
  assert.throws(() => parseRunConfig('rewards: {mode: reward-model}\nalgorithm: {name: dpo}', { source: 'r.yaml' }), /algorithm\.name must be grpo, rloo or ppo/);
  assert.throws(() => parseRunConfig('rewardMode: direct', { source: 'r.yaml' }), /r\.yaml: rewardMode: unknown key/);
  assert.throws(() => parseRunConfig('feedback: {labeledAnchors: 1}\nprompts: {kind: file, path: p.jsonl}', { source: 'r.yaml' }), /r\.yaml: feedback\.labeledAnchors needs labeled comparisons/);
  assert.throws(() => parseRunConfig('policy: {kind: endpoint, baseURL: "http://127.0.0.1:1/v1", model: m}\nalgorithm: {name: dpo}\nupdate: {kind: external, command: "true"}\nfeedback: {labeledAnchors: 1}', { source: 'r.yaml' }),
    /r\.yaml: policy\.kind endpoint: feedback\.labeledAnchors fits its reward model/);
});
