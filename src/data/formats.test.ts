// Tests every dataset format: all 2,312 real HH-RLHF pairs import and round-trip to identical transcripts; judged records
// round-trip through TRL (both styles), OpenAI preference JSONL, Parquet and DuckDB-read JSONL with nothing lost; bad
// lines are errors naming file and line.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import type { PairwiseJudgment } from '../feedback/judgment-types.ts';
import { readWithDuckDb, writeParquet } from './duckdb-format.ts';
import { readHhRlhf, recordToHhPair, writeHhRlhf } from './hh-rlhf-format.ts';
import { judgedRecord, preparePair } from './judged-pairs.ts';
import { readOpenAIPreference, writeOpenAIPreference } from './openai-preference-format.ts';
import type { PreferenceRecord } from './preference-record.ts';
import { readTrl, writeTrl } from './trl-format.ts';

const hhPath = '/work/shared/data/hh-rlhf-harmless-base-test.jsonl.gz';
const directory = mkdtempSync(join(tmpdir(), 'rlaif-data-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function judgment(probability: number): PairwiseJudgment {
  const forward = { order: 'A-first' as const, probabilityFirst: 0.8, probabilityA: 0.8, rationale: 'A is kinder.', labelSource: 'logprobs' as const, votes: null, verdictRaw: '1' };
  const reversed = { order: 'B-first' as const, probabilityFirst: 0.3, probabilityA: 0.7, rationale: 'Still A.', labelSource: 'logprobs' as const, votes: null, verdictRaw: '2' };
  return {
    kind: 'ok',
    preferred: probability > 0.5 ? 'A' : 'B',
    probability,
    rationale: 'A is kinder.',
    principles: [{ id: 'harmless', text: 'Be harmless.' }],
    positions: [{ principle: { id: 'harmless', text: 'Be harmless.' }, forward, reversed, probabilityA: 0.75 }],
    usage: { requests: 4, promptTokens: 100, completionTokens: 12 },
  };
}

const provenance = { provider: 'openai-compatible', model: 'scripted', templateVersion: 'pairwise-v1', templateHash: 'abc', constitution: 'harmless@v1', seed: 1, judgedAt: '2025-01-01T00:00:00.000Z' };

function sampleRecords(): PreferenceRecord[] {
  const single: PreferenceRecord = { id: 'single', prompt: [{ role: 'user', content: 'Hi "there"\nnew line' }], chosen: [{ role: 'assistant', content: 'Hello ✓' }], rejected: [{ role: 'assistant', content: '' }] };
  const judged = judgedRecord(single, preparePair(single, 3), judgment(0.25), provenance)!;
  return [single, { ...judged, id: 'judged', source: { file: 'x.jsonl', line: 7 } }];
}

describe('HH-RLHF', () => {
  test('all 2,312 pairs import, none dropped, and render back to the identical transcripts', () => {
    const records = readHhRlhf(hhPath);
    assert.equal(records.length, 2312);
    const original = gunzipSync(readFileSync(hhPath)).toString('utf8').split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as { chosen: string; rejected: string });
    let multiTurnContinuations = 0;
    for (const [index, record] of records.entries()) {
      assert.deepEqual(recordToHhPair(record), original[index], `line ${index + 1}`);
      assert.equal(record.prompt.at(-1)!.role, 'user');
      assert.equal(record.chosen[0]!.role, 'assistant');
      if (record.chosen.length > 1 || record.rejected.length > 1) multiTurnContinuations++;
    }
    assert.equal(new Set(records.map((record) => record.id)).size, 2312);
    assert.ok(multiTurnContinuations > 0 && multiTurnContinuations < 10, 'pairs that diverge early are kept as multi-message continuations');
  });

  test('HH-RLHF → conversational TRL → Parquet → OpenAI → HH-RLHF keeps every pair', async () => {
    const records = readHhRlhf(hhPath);
    writeTrl(join(directory, 'hh-trl.jsonl'), records, 'conversational');
    await writeParquet(join(directory, 'hh.parquet'), readTrl(join(directory, 'hh-trl.jsonl')));
    writeOpenAIPreference(join(directory, 'hh-openai.jsonl'), await readWithDuckDb(join(directory, 'hh.parquet')));
    const back = readOpenAIPreference(join(directory, 'hh-openai.jsonl'));
    assert.deepEqual(back, records);
    writeHhRlhf(join(directory, 'hh.jsonl.gz'), back);
    const parseLines = (path: string): unknown[] => gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
    const written = parseLines(join(directory, 'hh.jsonl.gz'));
    const source = parseLines(hhPath);
    assert.equal(written.length, 2312);
    const differing = written.filter((value, index) => JSON.stringify(value) !== JSON.stringify(source[index])).length;
    assert.equal(differing, 0, 'every transcript identical after the round-trip');
  });

  test('a malformed line is an error naming file and line', () => {
    const path = join(directory, 'bad.jsonl');
    writeFileSync(path, `${JSON.stringify({ chosen: '\n\nHuman: a\n\nAssistant: b', rejected: '\n\nHuman: a\n\nAssistant: c' })}\n{"chosen": 3, "rejected": "x"}\n`);
    assert.throws(() => readHhRlhf(path), /bad\.jsonl:2: field 'chosen' must be a string/);
    writeFileSync(path, '{"chosen": "\\n\\nHuman: a", \n');
    assert.throws(() => readHhRlhf(path), /bad\.jsonl:1: invalid JSON/);
  });
});

describe('round-trips of judged records', () => {
  test('TRL conversational and standard', () => {
    for (const style of ['conversational', 'standard'] as const) {
      const path = join(directory, `trl-${style}.jsonl`);
      writeTrl(path, sampleRecords(), style);
      assert.deepEqual(readTrl(path), sampleRecords(), style);
    }
    const standardRow = JSON.parse(readFileSync(join(directory, 'trl-standard.jsonl'), 'utf8').split('\n')[0]!);
    assert.equal(standardRow.prompt, 'Hi "there"\nnew line');
    const multi = { ...sampleRecords()[0]!, prompt: [{ role: 'user' as const, content: 'a' }, { role: 'assistant' as const, content: 'b' }, { role: 'user' as const, content: 'c' }] };
    assert.throws(() => writeTrl(join(directory, 'x.jsonl'), [multi], 'standard'), /record 'single': field 'prompt' must be one user message/);
  });

  test('OpenAI preference JSONL, Parquet, DuckDB JSONL', async () => {
    writeOpenAIPreference(join(directory, 'openai.jsonl'), sampleRecords());
    assert.deepEqual(readOpenAIPreference(join(directory, 'openai.jsonl')), sampleRecords());
    await writeParquet(join(directory, 'judged.parquet'), sampleRecords());
    assert.deepEqual(await readWithDuckDb(join(directory, 'judged.parquet')), sampleRecords());
    writeTrl(join(directory, 'duck.jsonl'), sampleRecords(), 'conversational');
    const viaDuck = await readWithDuckDb(join(directory, 'duck.jsonl'));
    assert.deepEqual(viaDuck, sampleRecords());
  });

  test('a judged record keeps rationale, principle, both-order probabilities and provenance, ordered by the verdict', () => {
    const [single, judged] = sampleRecords();
    const prepared = preparePair(single!, 3);
    // P(A) = 0.25: the labeler prefers B; whichever response B was, it becomes chosen.
    const expectedChosen = prepared.candidateA === 'chosen' ? single!.rejected : single!.chosen;
    assert.deepEqual(judged!.chosen, expectedChosen);
    assert.equal(judged!.judgment!.probabilityChosen, 0.75);
    const result = judged!.judgment!.result;
    assert.ok('positions' in result, 'a pairwise judgment');
    assert.equal(result.positions[0]!.reversed!.probabilityFirst, 0.3);
    assert.equal(judged!.judgment!.result.rationale, 'A is kinder.');
    assert.equal(judged!.judgment!.provenance.model, 'scripted');
  });
});
