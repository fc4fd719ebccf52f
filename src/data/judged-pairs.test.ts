// Tests judged records from pairs labeled by two scores: chosen/rejected follow the higher score whichever candidate it
// was shown as, both scores are kept under the record's names, and the record round-trips through TRL JSONL intact.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { PointwiseJudgment } from '../feedback/judgment-types.ts';
import type { ScoredPairJudgment } from '../feedback/scored-pair-judge.ts';
import { judgedRecord, preparePair } from './judged-pairs.ts';
import { parseRecord, type PreferenceRecord } from './preference-record.ts';
import { readTrl, writeTrl } from './trl-format.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judged-pairs-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const usage = { requests: 2, promptTokens: 10, completionTokens: 2 };
const principle = { id: 'harmless', text: 'Be harmless.' };
const provenance = { judge: 'pointwise' as const, provider: 'in-process', model: 'checkpoint:x@sha256:0123456789abcdef', templateVersion: 'pointwise-v1', templateHash: 'abc', constitution: 'harmless@v1', seed: 1, judgedAt: '2025-01-01T00:00:00.000Z' };

function score(value: number, rationale: string): PointwiseJudgment {
  return { kind: 'ok', score: value, reward: (value - 5.5) / 4.5, distribution: Array.from({ length: 10 }, (_, index) => (index + 1 === value ? 1 : 0)), labelSource: 'logprobs', rationale, principle, usage };
}

function scored(a: number, b: number): ScoredPairJudgment {
  const preferred = a === b ? 'tie' : a > b ? 'A' : 'B';
  return { kind: 'ok', judge: 'pointwise', preferred, probability: a === b ? 0.5 : a > b ? 1 : 0, rationale: `Response A (${a}/10): ra\n\nResponse B (${b}/10): rb`, principles: [principle], scores: { A: score(a, 'ra'), B: score(b, 'rb') }, usage };
}

test('the higher score becomes chosen whichever candidate it was; both scores kept under the record names; TRL round-trip', () => {
  const records: PreferenceRecord[] = [];
  for (const id of ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']) {
    const record: PreferenceRecord = { id, prompt: [{ role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'source chosen' }], rejected: [{ role: 'assistant', content: 'source rejected' }] };
    const prepared = preparePair(record, 0);
    // The labeler rates the source's rejected response 8 and its chosen 3: the judged record swaps them.
    const [a, b] = prepared.candidateA === 'chosen' ? [3, 8] : [8, 3];
    const judged = judgedRecord(record, prepared, scored(a, b), provenance)!;
    assert.equal(judged.chosen[0]!.content, 'source rejected', id);
    assert.deepEqual(judged.judgment!.scores, { chosen: 8, rejected: 3 });
    assert.equal(judged.judgment!.probabilityChosen, 1);
    assert.equal(judged.judgment!.sourceChosen, 'rejected');
    const shownFirst = judged.judgment!.candidateA === 'chosen' ? judged.chosen : judged.rejected;
    assert.equal(shownFirst[0]!.content, prepared.input.candidates[0], 'candidateA still names the response shown as A');
    records.push(judged);
  }
  const tie = judgedRecord(records[0]!, preparePair(records[0]!, 0), scored(5, 5), provenance)!;
  assert.deepEqual([tie.chosen, tie.judgment!.scores], [records[0]!.chosen, { chosen: 5, rejected: 5 }], 'a tie keeps the order');
  const path = join(directory, 'scored.jsonl');
  writeTrl(path, records, 'conversational');
  assert.deepEqual(readTrl(path), records);
});

test('a scored judgment without both scores is rejected naming the field', () => {
  const source: PreferenceRecord = { id: 'x', prompt: [], chosen: [{ role: 'assistant', content: 'a' }], rejected: [{ role: 'assistant', content: 'b' }] };
  const broken = JSON.parse(JSON.stringify(judgedRecord(source, preparePair(source, 0), scored(7, 2), provenance)));
  assert.doesNotThrow(() => parseRecord(JSON.parse(JSON.stringify(broken)), 'pairs.jsonl:3'));
  delete broken.judgment.result.scores.B;
  assert.throws(() => parseRecord(broken, 'pairs.jsonl:3'), /^Error: pairs\.jsonl:3: field 'judgment\.result/);
});
