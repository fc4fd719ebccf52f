// The self-certainty feedback source in a tiny run: a judgment per sample (source self-certainty, the sample's mean
// token log-probability at sampling as its score, the group's mean in its rationale, the sample its parent), and the
// reward's component: that score minus the group's mean, at its weight. The config refuses the source for an endpoint
// policy, which gives no log-probabilities.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRunConfig } from './run-config.ts';
import { runLoop } from './run-loop.ts';
import { inTinyRun, oneSourceRunYaml } from './testing/tiny-loop.ts';

const YAML = oneSourceRunYaml('{pairwise: 0, selfCertainty: 2}');

test('self-certainty: a judgment per sample with its mean log-prob, and the reward is that minus its group mean, at its weight', async () => {
  await inTinyRun({ prefix: 'rlaif-certainty-source-', yaml: YAML }, async ({ store, context }) => {
    await runLoop(context);
    const samples = store.all('sample').filter((s) => s.round === 1 && s.stage === 'rollout');
    assert.equal(samples.length, 16);
    const judgments = store.all('judgment').filter((j) => j.source === 'self-certainty');
    assert.equal(judgments.length, samples.length, 'one per sample');
    const byPrompt = new Map<string, typeof samples>();
    for (const s of samples) byPrompt.set(s.parents[0]!, [...(byPrompt.get(s.parents[0]!) ?? []), s]);
    assert.equal(byPrompt.size, 4);
    for (const group of byPrompt.values()) {
      assert.equal(group.length, 4);
      const mean = (s: (typeof samples)[number]) => s.logprobs.reduce((a, x) => a + x, 0) / s.logprobs.length;
      const groupMean = group.reduce((a, s) => a + mean(s), 0) / group.length;
      let total = 0;
      for (const sample of group) {
        assert.ok(sample.logprobs.length > 0);
        const j = judgments.find((x) => x.parents[0] === sample.id)!;
        assert.ok(j, `sample ${sample.id} has its self-certainty judgment`);
        assert.ok(Math.abs(j.score! - mean(sample)) < 1e-9, 'the score is the mean token log-prob at sampling');
        assert.ok(j.score! <= 0);
        assert.equal(j.labelerModel, 'self-certainty');
        assert.match(j.rationale!, new RegExp(`mean token log-probability ${j.score!.toFixed(3)} over ${sample.logprobs.length} tokens; the group's mean ${groupMean.toFixed(3)}`));
        const reward = store.get('reward', store.all('reward').find((r) => r.parents[0] === sample.id)!.id)!;
        assert.deepEqual(reward.weights, { 'self-certainty': 2 });
        assert.ok(Math.abs(reward.components['self-certainty']! - (mean(sample) - groupMean)) < 1e-9, 'centred in its group');
        assert.ok(Math.abs(reward.total - 2 * (mean(sample) - groupMean)) < 1e-9, 'at its weight');
        assert.ok(reward.parents.includes(j.id), 'the reward traces to the judgment');
        total += reward.total;
      }
      assert.ok(Math.abs(total) < 1e-9, "a group's rewards sum to 0");
    }
    assert.ok(new Set(judgments.map((j) => j.score)).size > 1, 'the scores differ between samples');
    store.close();
  });
});

test('self-certainty: refused for an endpoint policy, which gives no log-probabilities', () => {
  const endpoint = 'policy: {kind: endpoint, baseURL: "http://127.0.0.1:9/v1", model: m}\nalgorithm: {name: dpo}\nupdate: {kind: external, command: "true"}\n';
  assert.throws(() => parseRunConfig(`${endpoint}feedback: {selfCertainty: 1}`, { source: 'r.yaml' }), /r\.yaml: feedback\.selfCertainty needs the rollout's log-probabilities, which policy\.kind endpoint does not give/);
  assert.equal(parseRunConfig('feedback: {selfCertainty: 1}', { source: 'r.yaml' }).feedback.selfCertainty, 1);
  assert.equal(parseRunConfig(null).feedback.selfCertainty, 0, 'off by default');
});
