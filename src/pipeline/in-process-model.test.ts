// Tests the content identity of in-process checkpoints: the hash follows weights, config, shards and tokenizer files,
// not the folder's path; it streams files larger than one read and matches the documented layout; the model id keeps
// the path for people and the hash for caches.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { saveTokenizer, trainByteLevelBpe } from '../models/bpe-trainer.ts';
import { savePretrained } from '../models/checkpoint.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGpt2Config } from '../models/testing/tiny-models.ts';
import { checkpointContentHash, checkpointFiles, checkpointHashing, inProcessModelId, loadInProcessModel } from './in-process-model.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-in-process-model-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const config = tinyGpt2Config({ vocab_size: 96, n_positions: 32 });

test('the hash follows the weights, config and tokenizer files, not the path; rewriting the same weights keeps it', () => {
  const checkpoint = join(directory, 'a');
  savePretrained(checkpoint, config, initParameters(config, 1));
  const first = checkpointContentHash(checkpoint);
  assert.match(first, /^[0-9a-f]{64}$/);
  cpSync(checkpoint, join(directory, 'copy'), { recursive: true });
  assert.equal(checkpointContentHash(join(directory, 'copy')), first, 'same files elsewhere: same hash');
  savePretrained(checkpoint, config, initParameters(config, 2));
  const second = checkpointContentHash(checkpoint);
  assert.notEqual(second, first, 'new weights at the same path');
  savePretrained(checkpoint, config, initParameters(config, 1));
  assert.equal(checkpointContentHash(checkpoint), first, 'the first weights again');
  const configPath = join(join(directory, 'copy'), 'config.json');
  writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), layer_norm_epsilon: 1e-6 }));
  assert.notEqual(checkpointContentHash(join(directory, 'copy')), first, 'same weights, another config.json');
  const trained = trainByteLevelBpe(['a small corpus', 'for a tokenizer'], { vocabSize: 280, specialTokens: ['<|endoftext|>'] });
  saveTokenizer(checkpoint, trained);
  const withTokenizer = checkpointContentHash(checkpoint);
  assert.notEqual(withTokenizer, first, 'tokenizer.json added');
  writeFileSync(join(checkpoint, 'chat_template.jinja'), '{{ messages }}');
  assert.notEqual(checkpointContentHash(checkpoint), withTokenizer, 'a chat template added');
  writeFileSync(join(checkpoint, 'README.md'), 'notes');
  assert.deepEqual(checkpointFiles(checkpoint).map((path) => path.slice(checkpoint.length + 1)), ['chat_template.jinja', 'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'], 'only what loading reads, sorted');
});

test('sharded checkpoints hash the index and every shard', () => {
  const checkpoint = join(directory, 'sharded');
  savePretrained(checkpoint, config, initParameters(config, 3), { maxShardBytes: 20_000 });
  const files = checkpointFiles(checkpoint).map((path) => path.slice(checkpoint.length + 1));
  assert.ok(files.includes('model.safetensors.index.json') && files.filter((file) => /^model-\d+-of-\d+\.safetensors$/.test(file)).length >= 2, files.join(', '));
  const before = checkpointContentHash(checkpoint);
  savePretrained(checkpoint, config, initParameters(config, 4), { maxShardBytes: 20_000 });
  assert.notEqual(checkpointContentHash(checkpoint), before);
});

test('files larger than one 4 MiB read hash as path, size and bytes in sorted order', () => {
  const folder = join(directory, 'large');
  mkdirSync(folder);
  const weights = randomBytes(9 * 1024 * 1024 + 123);
  const configText = '{"model_type":"gpt2"}';
  writeFileSync(join(folder, 'model.safetensors'), weights);
  writeFileSync(join(folder, 'config.json'), configText);
  const expected = createHash('sha256')
    .update(`config.json\0${configText.length}\0`).update(configText)
    .update(`model.safetensors\0${weights.length}\0`).update(weights)
    .digest('hex');
  assert.equal(checkpointContentHash(folder), expected);
});

test('the model id keeps the path as written and adds the content hash; the embedded model is named by its seed', () => {
  const checkpoint = join(directory, 'named');
  savePretrained(checkpoint, config, initParameters(config, 5));
  const model = loadInProcessModel({ kind: 'checkpoint', path: 'named' }, (path) => join(directory, path));
  assert.equal(model.modelId, `checkpoint:named@sha256:${checkpointContentHash(checkpoint).slice(0, 16)}`);
  assert.equal(loadInProcessModel({ kind: 'embedded', preset: 'tiny-gpt', seed: 4 }, (path) => path).modelId, 'embedded:tiny-gpt@4');
});

test('dtype bf16 holds the weight matrices in bf16 under a model id of its own; float32 ids are unchanged', async () => {
  const checkpoint = join(directory, 'half');
  savePretrained(checkpoint, config, initParameters(config, 6));
  const hash = checkpointContentHash(checkpoint).slice(0, 16);
  const at = (path: string) => join(directory, path);
  const full = loadInProcessModel({ kind: 'checkpoint', path: 'half', dtype: 'float32' }, at);
  const half = loadInProcessModel({ kind: 'checkpoint', path: 'half', dtype: 'bf16' }, at);
  assert.equal(full.modelId, `checkpoint:half@sha256:${hash}`);
  assert.equal(half.modelId, `checkpoint:half@sha256:${hash}@bf16`);
  assert.equal(inProcessModelId({ kind: 'checkpoint', path: 'half', dtype: 'bf16' }, at), half.modelId);
  // the same greedy tokens' log-probs: near float32's, and not equal to them (the weights were rounded to bf16)
  const request = { messages: [{ role: 'user' as const, content: 'Where does Ana live?' }], maxTokens: 6, temperature: 0, seed: 1, topLogprobs: 0 };
  const [a, b] = [await full.generate(request), await half.generate(request)];
  const la = a.tokens!.map((t) => t.logprob), lb = b.tokens!.map((t) => t.logprob);
  assert.ok(la.length > 0 && la.length === lb.length);
  assert.ok(la.every((x, i) => Math.abs(x - lb[i]!) < 0.05), `float32 ${la.join(' ')}; bf16 ${lb.join(' ')}`);
  assert.ok(la.some((x, i) => x !== lb[i]), 'bf16 log-probs equal float32 to the bit: the weights were not rounded');
});

test('a settled checkpoint is read once per process; a rewrite, even in place with the same size, is read again', () => {
  const checkpoint = join(directory, 'settled');
  savePretrained(checkpoint, config, initParameters(config, 3));
  const files = checkpointFiles(checkpoint);
  const reads = (run: () => void): number => { const before = checkpointHashing.filesRead; run(); return checkpointHashing.filesRead - before; };
  // Just written: times within the file clock's granularity of a possible next write, so never remembered.
  assert.equal(reads(() => checkpointContentHash(checkpoint)), files.length);
  assert.equal(reads(() => checkpointContentHash(checkpoint)), files.length, 'fresh files are hashed again');
  const past = new Date(Date.now() - 60_000);
  for (const path of files) utimesSync(path, past, past);
  const hash = checkpointContentHash(checkpoint);
  assert.equal(reads(() => assert.equal(checkpointContentHash(checkpoint), hash)), 0, 'settled: remembered');
  const id = inProcessModelId({ kind: 'checkpoint', path: checkpoint }, (path) => path);
  assert.equal(reads(() => assert.equal(loadInProcessModel({ kind: 'checkpoint', path: checkpoint }, (path) => path).modelId, id)), 0, 'the loader reuses it');
  // The same bytes' size, other bytes, written in place: new times, so hashed again, and the hash follows.
  const weights = join(checkpoint, 'model.safetensors');
  const bytes = readFileSync(weights);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(weights, bytes);
  assert.equal(reads(() => assert.notEqual(checkpointContentHash(checkpoint), hash)), files.length);
});
