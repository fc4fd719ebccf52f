// The shipped feedback-source ablation (examples/ablation-feedback-sources.yaml), its variants unchanged, run end to
// end on a tiny testbed with a tiny base config: one `rlaif run` per variant, each with its own sources in the reward,
// gold figures tabulated; a second call resumes every finished run and gives the same table.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { mergeConfig, parseAblationConfig, runAblation } from './ablation.ts';
import { RunStore } from './run-store.ts';
import { TINY_TESTBED } from './testing/tiny-testbed.ts';

// The tiny testbed's labeler writes no verdict: with the labeler check on, the run would stop before round 1 (as the
// shipped ablation's own base does, this study of the sources turns the check off).
const TINY_RUN = { rounds: 1, iterationsPerRound: 1, promptsPerRound: 2, samplesPerPrompt: 2, maxNewTokens: 8, validationPrompts: 2, testPrompts: 4, anchorPairs: 4,
  rewards: { rewardModel: { steps: 2, batchSize: 4 } }, gate: { minLabelerAgreement: 0, minLabelerInformative: 0 } };

test('the feedback-source ablation example runs each variant and tabulates gold figures (tiny testbed and base)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-ablation-'));
  try {
    const shipped = parse(readFileSync(new URL('../../examples/ablation-feedback-sources.yaml', import.meta.url), 'utf8')) as { variants: Record<string, unknown> };
    const configPath = join(dir, 'ablation.yaml');
    writeFileSync(configPath, stringify({ base: TINY_RUN, variants: shipped.variants }));
    const options = { configPath, seed: 3, out: join(dir, 'runs'), run: { testbed: { config: TINY_TESTBED, cacheDirectory: join(dir, 'cache') } } };
    const result = await runAblation(options);
    assert.deepEqual(result.rows.map((r) => r.variant), ['ai-pairwise', 'ai-pointwise', 'self-supervised', 'self-certainty', 'corpus-support', 'labeled-anchors', 'mixed']);
    const sources: Record<string, string[]> = { 'ai-pairwise': ['pairwise-ai'], 'ai-pointwise': ['pointwise-ai'], 'self-supervised': ['self-supervised'], 'self-certainty': ['self-certainty'],
      'corpus-support': ['corpus-support'], 'labeled-anchors': ['labeled-anchors'], mixed: ['corpus-support', 'labeled-anchors', 'pairwise-ai', 'pointwise-ai', 'self-supervised'] };
    for (const row of result.rows) {
      assert.ok(Number.isFinite(row.summary.gold_win_rate_vs_sft), `${row.variant}: a gold win rate`);
      assert.equal(row.summary.rounds_kept! + row.summary.rounds_rolled_back!, 1);
      const store = RunStore.open(row.dir, RunStore.config(row.dir));
      const rewards = store.all('reward');
      assert.ok(rewards.length > 0);
      for (const r of rewards) assert.deepEqual(Object.keys(r.weights).sort(), sources[row.variant], `${row.variant}: only its own sources in the reward`);
      store.close();
    }
    console.log(`feedback-source ablation on the tiny testbed (figures of a 1-round toy, not results):\n${result.table}`);
    const tsv = readFileSync(result.tsvPath, 'utf8').trim().split('\n');
    assert.equal(tsv.length, 8);
    assert.match(tsv[0]!, /^variant\tgold_win_rate_vs_sft\t/);
    assert.match(result.table, /^mixed\s+[0-9.]+/m);
    const again = await runAblation(options);
    assert.equal(again.table, result.table, 'a second call resumes the finished runs: same table');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ablation configs: variants merge over base key by key; a bad variant is named', () => {
  assert.deepEqual(mergeConfig({ rounds: 2, feedback: { pairwise: 1, pointwise: 0 } }, { feedback: { pointwise: 1 } }), { rounds: 2, feedback: { pairwise: 1, pointwise: 1 } });
  const variants = parseAblationConfig('base: {rounds: 2}\nvariants:\n  a: {feedback: {pairwise: 0, pointwise: 1}}\n', 'x.yaml');
  assert.match(variants[0]!.text, /rounds: 2/);
  assert.throws(() => parseAblationConfig('variants:\n  a: {feedback: {pairwize: 1}}\n', 'x.yaml'), /x\.yaml variants\.a: feedback\.pairwize: unknown key/);
  assert.throws(() => parseAblationConfig('variants: {}\n', 'x.yaml'), /x\.yaml: variants: at least one variant/);
  assert.throws(() => parseAblationConfig('variants:\n  A_b: {}\n', 'x.yaml'), /x\.yaml: variants\.A_b: .*kebab-case/);
  assert.throws(() => parseAblationConfig('bass: {}\nvariants:\n  a: {}\n', 'x.yaml'), /x\.yaml: bass: unknown key/);
});
