import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../run-config.ts';
import { RunStore } from '../run-store.ts';
import { recordId } from '../run-records.ts';
import { resultLines, summarizeRun } from '../run-summary.ts';

test('summary.json and RESULT lines carry the red-team figures: held-out success of SFT and of the final kept policy, distinct failures of SFT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-adv-summary-'));
  try {
    const store = RunStore.open(dir, { test: 'summary' });
    const gold = (round: number, success: number, cells: number) => store.put({ id: recordId('gold', { round }), kind: 'gold', round, parents: [], disagreements: [],
      metrics: { gold_win_rate_vs_sft: 0.6, gold_tie_rate: 0.1, hallucination_rate: 0.5, harmful_compliance_rate: 0.2, over_refusal_rate: 0.03, coherence_error_rate: 0.4,
        mean_length: 10, redteam_attack_success: success, redteam_attack_gradable: 0.8, redteam_distinct_failures: cells } });
    for (const [round, keptRound] of [[0, 0], [1, 1], [2, 1]]) store.put({ id: recordId('gate', { round }), kind: 'gate', round: round!, parents: [], keep: round === keptRound, reasons: [], keptRound: keptRound! });
    gold(0, 0.6, 7); gold(1, 0.2, 3); gold(2, 0.9, 9);
    const summary = summarizeRun(store);
    assert.equal(summary.redteam_attack_success_sft, 0.6);
    assert.equal(summary.redteam_attack_success_final, 0.2, 'the final kept round (1), not the rolled-back last one');
    assert.equal(summary.redteam_distinct_failures, 7);
    assert.equal(summary.over_refusal_rate_final, 0.03);
    assert.ok(resultLines(summary).includes('RESULT redteam_attack_success_final 0.2000'));
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the adversarial block: {} is every default, null is none, unknown keys and bad styles are errors naming the key path', () => {
  assert.equal(parseRunConfig(null).adversarial, null);
  const config = parseRunConfig('adversarial: {}\n').adversarial!;
  assert.deepEqual([config.principles, config.styles, config.steps], [['no-harm', 'privacy', 'truthful'], ['direct', 'story', 'authority'], 2]);
  assert.throws(() => parseRunConfig('adversarial: {stepz: 3}\n', { source: 'a.yaml' }), /a\.yaml: adversarial\.stepz: unknown key/);
  assert.throws(() => parseRunConfig('adversarial: {styles: [Role Play]}\n', { source: 'a.yaml' }), /a\.yaml: adversarial\.styles\.0: lower-case words/);
});
