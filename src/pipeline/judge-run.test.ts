// Tests the judging run's guards around what it is given and what it writes: no test double reachable from a config
// (tests inject their labeler), and the run folder's contents. End-to-end runs against the scripted server live in
// cli/judge-command.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { DeterministicLanguageModel } from '../feedback/testing/deterministic-language-model.ts';
import { parseJudgeRunConfig } from './judge-run-config.ts';
import { runJudgeJob } from './judge-run.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judge-run-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function writePairs(name: string, count: number): string {
  const path = join(directory, name);
  const lines = Array.from({ length: count }, (_, index) => JSON.stringify({ id: `p${index}`, prompt: `Question ${index}?`, chosen: `[good] Answer ${index}.`, rejected: `[bad] Reply ${index}.` }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const inProcess = { kind: 'in-process', model: { kind: 'embedded', seed: 0 } };

test("no test double in a config: 'deterministic-test' is rejected; tests inject their labeler", async () => {
  const input = { path: writePairs('pairs.jsonl', 3), format: 'trl' };
  assert.throws(() => parseJudgeRunConfig({ input, provider: { kind: 'in-process', model: 'deterministic-test' } }, 'x.yaml'), /x\.yaml: field 'provider\.model'/);
  assert.throws(() => parseJudgeRunConfig({ input, provider: { ...inProcess, supportsLogprobs: false } }, 'x.yaml'), /unknown key 'provider\.supportsLogprobs'/);
  const config = parseJudgeRunConfig({ input, provider: inProcess, output: { runDirectory: 'injected', parquet: false } }, 'x.yaml');
  const model = new DeterministicLanguageModel();
  const summary = await runJudgeJob(config, directory, { languageModel: new InProcessProvider(model) });
  assert.deepEqual([summary.judged, summary.failures], [3, 0]);
  assert.equal(model.calls, 12, '3 pairs x 2 orders x (rationale + verdict), all to the injected model');
  const record = JSON.parse(readFileSync(join(directory, 'injected', 'preferences.jsonl'), 'utf8').split('\n')[0]!);
  assert.equal(record.judgment.provenance.model, 'deterministic-test');
});
