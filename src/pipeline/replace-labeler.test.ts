// rlaifRun's replaceLabeler (the diagnostics' hook, scripts/oracle-ceiling.ts): the replacement judges every pair of
// the run and its name is what the records say; with a queue it is refused before anything is opened.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { PairwiseResult, PointwiseResult } from '../feedback/judgment-types.ts';
import type { LoopLabeler } from './loop-labeler.ts';
import { rlaifRun } from './rlaif-run.ts';
import { RunStore } from './run-store.ts';
import { TINY_TESTBED } from './testing/tiny-testbed.ts';

const usage = { requests: 0, promptTokens: 0, completionTokens: 0 };

/** Prefers the shorter text; counts what it was asked. */
function shorterLabeler(): LoopLabeler & { asked: number } {
  const labeler = {
    asked: 0, model: 'scripted-shorter', templateVersion: 'scripted-1',
    async pairwise(input: { candidates: [string, string] }): Promise<PairwiseResult> {
      labeler.asked++;
      const [a, b] = input.candidates, probability = a.length < b.length ? 0.9 : a.length > b.length ? 0.1 : 0.5;
      return { kind: 'ok', preferred: probability > 0.5 ? 'A' : probability < 0.5 ? 'B' : 'tie', probability, rationale: 'shorter', principles: [], positions: [], usage };
    },
    async pointwise(): Promise<PointwiseResult> { throw new Error('not asked in this run'); },
  };
  return labeler;
}

test('replaceLabeler: the replacement judges every pair and is named in every judgment; refused with a queue', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-replace-labeler-'));
  try {
    const config = join(dir, 'run.yaml');
    writeFileSync(config, 'rounds: 1\niterationsPerRound: 1\npromptsPerRound: 2\nsamplesPerPrompt: 3\nmaxNewTokens: 8\nvalidationPrompts: 2\ntestPrompts: 2\nanchorPairs: 4\n');
    const labeler = shorterLabeler();
    let testbedSeen = false;
    const result = await rlaifRun({ configPath: config, seed: 3, out: join(dir, 'run'), testbed: { config: TINY_TESTBED, cacheDirectory: join(dir, 'cache') },
      replaceLabeler: (testbed) => { testbedSeen = testbed !== null && testbed.seed === 3; return labeler; } });
    assert.ok(testbedSeen, 'the replacement is made from the run\'s testbed');
    const store = RunStore.open(result.dir, result.config);
    const asked = store.all('judgment').filter((j) => !j.rationale?.startsWith('identical responses'));
    assert.ok(asked.length > 0 && labeler.asked === asked.length, `${labeler.asked} asked, ${asked.length} recorded`);
    let compared = 0;
    for (const j of asked) {
      assert.equal(j.labelerModel, 'scripted-shorter');
      const [a, b] = j.parents.map((id) => store.get('sample', id)?.text);   // the labeler check's anchors are no samples
      if (a !== undefined && b !== undefined && a.length !== b.length && ++compared) assert.equal(j.probabilityA! > 0.5, a.length < b.length, 'the judgment is the replacement\'s');
    }
    assert.ok(compared > 0, 'some judged samples differ in length');
    store.close();
    const queued = join(dir, 'queued');
    await assert.rejects(rlaifRun({ configPath: config, out: queued, queue: 'redis://127.0.0.1:1', replaceLabeler: () => labeler }), /replaced labeler runs in this process only/);
    assert.ok(!existsSync(queued), 'nothing opened');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
