// The corpus-support feedback source in a tiny run: a judgment per sample (source corpus-support, its checker's score
// and every sentence's verdict as the rationale, the sample its parent), the reward's component and weight; the config
// refuses the source without reference text, and a run without a checker fails naming feedback.corpus. The checker
// itself (testbed/self-supervised.ts corpusSupport) is tested on hand-written cases in its own file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CorpusSupport } from '../testbed/self-supervised.ts';
import { parseRunConfig } from './run-config.ts';
import { runLoop } from './run-loop.ts';
import { readReferenceText } from './run-setup.ts';
import { aShare, inTinyRun, oneSourceRunYaml } from './testing/tiny-loop.ts';

const YAML = oneSourceRunYaml('{pairwise: 0, corpusSupport: 1, corpus: reference.txt}');

/** A stand-in checker: the more a's, the better supported (its share of the sample, rescaled to [-1, 1]). */
function check(text: string): CorpusSupport {
  const share = aShare(text), good = share > 0.5;
  return { supported: good ? 1 : 0, contradicted: good ? 0 : 1, unsupported: 0, sentences: 1, score: 2 * share - 1, verdicts: [{ sentence: text, verdict: good ? 'supported' : 'contradicted' }] };
}

test('corpus support: a judgment per sample with its score and verdicts, and the reward is that score at its weight', async () => {
  await inTinyRun({ prefix: 'rlaif-corpus-source-', yaml: YAML }, async ({ store, context }) => {
    context.corpusSupport = check;
    await runLoop(context);
    const samples = store.all('sample').filter((s) => s.round === 1 && s.stage === 'rollout');
    assert.equal(samples.length, 16);
    const judgments = store.all('judgment').filter((j) => j.source === 'corpus-support');
    assert.equal(judgments.length, samples.length, 'one per sample');
    for (const sample of samples) {
      const j = judgments.find((x) => x.parents[0] === sample.id)!;
      assert.ok(j, `sample ${sample.id} has its corpus-support judgment`);
      assert.equal(j.score, check(sample.text).score);
      assert.equal(j.labelerModel, 'corpus-support');
      assert.match(j.rationale!, /(supported|contradicted): "/, 'the rationale names each sentence and its verdict');
      const reward = store.get('reward', store.all('reward').find((r) => r.parents[0] === sample.id)!.id)!;
      assert.deepEqual(reward.weights, { 'corpus-support': 1 });
      assert.equal(reward.components['corpus-support'], j.score);
      assert.equal(reward.total, j.score);
      assert.ok(reward.parents.includes(j.id), 'the reward traces to the judgment');
    }
    assert.ok(new Set(judgments.map((j) => j.score)).size > 1, 'the scores differ between samples');
    store.close();
  });
});

test('corpus support: refused without reference text; a run without a checker names feedback.corpus', async () => {
  assert.throws(() => parseRunConfig('feedback: {corpusSupport: 1}\nprompts: {kind: file, path: p.jsonl}', { source: 'r.yaml' }), /r\.yaml: feedback\.corpusSupport needs reference text: set feedback\.corpus/);
  assert.equal(parseRunConfig('feedback: {corpusSupport: 1}', { source: 'r.yaml' }).feedback.corpus, null, "the testbed's prompts bring the testbed's corpus");
  assert.equal(parseRunConfig('feedback: {corpusSupport: 1, corpus: ref.txt}', { source: 'r.yaml', baseDirectory: '/cfg' }).feedback.corpus, '/cfg/ref.txt', 'relative to the config file');
  await inTinyRun({ prefix: 'rlaif-corpus-source-', yaml: YAML }, async ({ store, context }) => {
    await assert.rejects(runLoop(context), /feedback\.corpusSupport > 0, but this run has no reference text .*feedback\.corpus/);
    store.close();
  });
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-corpus-text-'));
  try {
    writeFileSync(join(dir, 'empty.txt'), '\n  \n');
    assert.throws(() => readReferenceText(join(dir, 'empty.txt'), 'feedback.corpus'), /feedback\.corpus: .*empty\.txt has no text/);
    assert.throws(() => readReferenceText(join(dir, 'missing.txt'), 'feedback.corpus'), /feedback\.corpus: cannot read .*missing\.txt/);
    writeFileSync(join(dir, 'ref.txt'), 'Bato eats fish.\n\nKelin is grey.\n');
    assert.deepEqual(readReferenceText(join(dir, 'ref.txt'), 'feedback.corpus'), ['Bato eats fish.', 'Kelin is grey.']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
