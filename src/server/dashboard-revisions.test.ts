// The dashboard's provenance over a critique-revision round (tiny loop): each revision is listed as a training example
// and traced to its prompt, the response critiqued, the principle and the critique; filters and search reach them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRunConfig } from '../pipeline/run-config.ts';
import { runLoop } from '../pipeline/run-loop.ts';
import { RunStore } from '../pipeline/run-store.ts';
import { tinyLoop } from '../pipeline/testing/tiny-loop.ts';
import { provenanceList, traceView } from './dashboard-data.ts';
import { RunReader } from './run-reader.ts';

test('revisions in the provenance list and traced to critique, principle and the original response', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-dashboard-revisions-'));
  try {
    const config = parseRunConfig('rounds: 1\nschedule: [{type: critique-revision, samplesPerPrompt: 2}]\npromptsPerRound: 3\nmaxNewTokens: 8\nvalidationPrompts: 3\n');
    const store = RunStore.open(dir, config);
    await runLoop(tinyLoop({ config, store }).context);
    store.close();
    const run = new RunReader(dir, 'tiny');
    run.refresh();
    const { rows, total } = provenanceList(run, {});
    assert.equal(total, 6, 'one row per revision (the round has no rewards)');
    assert.ok(rows.every((r) => r.kind === 'revision' && r.principles[0] === 'helpful' && r.round === 1));
    assert.equal(provenanceList(run, { query: 'letters are not a' }).total, 6, 'search reaches the critiques');
    assert.equal(provenanceList(run, { principle: 'harmless' }).total, 0);
    assert.equal(provenanceList(run, { round: 0 }).total, 0);
    const trace = traceView(run, rows[0]!.id)!;
    assert.equal(trace.kind, 'revision');
    const revision = (trace as Extract<typeof trace, { kind: 'revision' }>).revision;
    assert.equal(trace.samples[0]!.text, revision.original, 'the response critiqued');
    assert.equal(revision.revision, rows[0]!.text);
    assert.match(revision.critique!, /letters are not a\./);
    assert.equal(revision.principle?.id, 'helpful');
    assert.ok(trace.prompt?.promptId.startsWith('train-'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
