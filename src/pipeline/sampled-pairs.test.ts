// Tests the sampled-pairs file a resumed `rlaif judge` reuses: it is keyed by the policy checkpoint's content, so new
// weights overwritten at the same path are sampled again, and the same weights written again reuse their samples.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { savePretrained } from '../models/checkpoint.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGpt2Config } from '../models/testing/tiny-models.ts';
import { samplePairs } from './sampled-pairs.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-sampled-pairs-'));
after(() => rmSync(directory, { recursive: true, force: true }));

test('a policy checkpoint overwritten at the same path is sampled again; the same weights written again reuse their samples', async () => {
  const config = tinyGpt2Config({ vocab_size: 96, n_positions: 32 }); // 96: the character tokenizer, no tokenizer.json
  const checkpoint = join(directory, 'policy');
  const prompts = join(directory, 'prompts.jsonl');
  writeFileSync(prompts, '{"id":"q1","prompt":"Store bleach?"}\n{"id":"q2","prompt":"A fact?"}\n');
  const runDirectory = join(directory, 'run');
  mkdirSync(runDirectory);
  const sample = { policy: { kind: 'checkpoint' as const, path: 'policy', dtype: 'float32' as const }, prompts: 'prompts.jsonl', samplesPerPrompt: 2, maxTokens: 8, temperature: 1, seed: 5 };
  const at = (path: string): string => join(directory, path);
  const sampledFiles = (): string[] => readdirSync(runDirectory).filter((file) => file.startsWith('sampled-pairs-')).sort();
  const stamp = (file: string): string => {
    const stat = statSync(join(runDirectory, file), { bigint: true });
    return `${stat.ino}:${stat.mtimeNs}`;
  };
  const texts = (records: Awaited<ReturnType<typeof samplePairs>>): string[] => records.flatMap((record) => [record.chosen[0]!.content, record.rejected[0]!.content]);

  savePretrained(checkpoint, config, initParameters(config, 7));
  const first = await samplePairs(sample, at, runDirectory);
  assert.equal(first.length, 2);
  assert.equal(sampledFiles().length, 1);

  savePretrained(checkpoint, config, initParameters(config, 8));
  const overwritten = await samplePairs(sample, at, runDirectory);
  assert.notDeepEqual(texts(overwritten), texts(first), 'new weights: new samples, not the old file');
  assert.equal(sampledFiles().length, 2, 'the new samples have their own file beside the old');
  const [fileA, fileB] = sampledFiles() as [string, string];
  const stamps = [stamp(fileA), stamp(fileB)];

  savePretrained(checkpoint, config, initParameters(config, 8));
  assert.deepEqual(await samplePairs(sample, at, runDirectory), overwritten, 'the same weights written again');
  savePretrained(checkpoint, config, initParameters(config, 7));
  assert.deepEqual(await samplePairs(sample, at, runDirectory), first, 'the first weights written back');
  assert.deepEqual(sampledFiles(), [fileA, fileB]);
  assert.deepEqual([stamp(fileA), stamp(fileB)], stamps, 'both reused as they were, not sampled and written again');
});
