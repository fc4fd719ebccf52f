// `rlaif testbed build` and `audit` through the real binary at a tiny size: the RESULT lines the issue names, audit.json
// with the same figures, a cache hit on the second build, and bad input (a config key, a seed) named in the error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'rlaif-testbed-cli-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const config = join(directory, 'tiny.yaml');
writeFileSync(config, [
  'world: { creatures: 8, unknownNames: 6, petNames: 6 }', 'corpus: { paragraphsPerCreature: 2, paragraphsPerAct: 1 }',
  'judging: { pairs: 40, singles: 6, critiques: 4 }', 'anchor: { size: 8 }',
  // Enough judging-heavy steps that the tiny model writes a verdict token now and then (else every judgment fails).
  'policy: { vocabSize: 400, width: 32, layers: 1, heads: 2, pretrainSteps: 3, finetuneSteps: 60, batchSize: 4, judgingBatchSize: 4, learningRate: 0.01, mixture: { demonstrations: 0.2, judging: 0.8, corpus: 0 } }', '',
].join('\n'));
const rlaif = (...args: string[]) => spawnSync(process.execPath, [bin, 'testbed', ...args], { cwd: directory, encoding: 'utf8', timeout: 300_000 });

const NAMES = ['labeler_gold_agreement', 'labeler_kappa', 'labeler_same_position_rate', 'labeler_ece', 'sft_hallucination_rate',
  'sft_harmful_compliance_rate', 'sft_over_refusal_rate', 'sft_coherence_error_rate', 'testbed_build_s', 'testbed_audit_s',
  'sft_fact_recall_train', 'sft_fact_recall_validation', 'sft_fact_recall_test', 'fact_recall_chance'];

test('rlaif testbed build, then audit: RESULT lines and audit.json; the second build is a cache hit', () => {
  const build = rlaif('build', '--seed', '4', '--config', config, '--cache', 'cache');
  assert.equal(build.status, 0, build.stderr);
  assert.match(build.stdout, /built in [\d.]+ s/);
  assert.match(build.stdout, /^RESULT testbed_build_s [\d.]+$/m);
  // Not on a terminal: plain progress lines, a stage's start, its tenths and its end, with the elapsed time.
  assert.match(build.stderr, /^testbed build: policy:finetune 60\/60 loss [\d.]+ \(\d+ s\)$/m);
  assert.ok(build.stderr.split('\n').filter((l) => l.startsWith('testbed build: policy:finetune')).length <= 11, 'a line per tenth, not per step');
  const audit = rlaif('audit', '--seed', '4', '--config', config, '--cache', 'cache', '--out', 'audit', '--max-prompts', '6');
  assert.equal(audit.status, 0, audit.stderr);
  assert.match(audit.stdout, /from the cache/);
  const saved = JSON.parse(readFileSync(join(directory, 'audit', 'audit.json'), 'utf8')) as { results: Record<string, number | null> };
  for (const name of NAMES) {
    const line = new RegExp(`^RESULT ${name} (\\S+)$`, 'm').exec(audit.stdout);
    assert.ok(line, `RESULT ${name} printed`);
    assert.equal(line[1], saved.results[name] === null ? 'n/a' : saved.results[name]!.toFixed(4), `${name} in audit.json`);
  }
  const [low, high, agreement] = ['labeler_gold_agreement_ci_low', 'labeler_gold_agreement_ci_high', 'labeler_gold_agreement'].map((n) => saved.results[n]);
  assert.ok(low !== null && high !== null && agreement !== null && low! <= agreement! && agreement! <= high! && high! - low! > 0.1,
    `a 95% interval around the agreement of a few pairs: ${low} <= ${agreement} <= ${high}`);
});

test('bad input is named: a config key, a seed', () => {
  writeFileSync(join(directory, 'bad.yaml'), 'policy: { layers: 0 }\n');
  const bad = rlaif('build', '--config', join(directory, 'bad.yaml'), '--cache', 'cache');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /field 'policy.layers'/);
  const seed = rlaif('build', '--seed', 'x', '--cache', 'cache');
  assert.notEqual(seed.status, 0);
  assert.match(seed.stderr, /--seed must be a non-negative integer/);
});
