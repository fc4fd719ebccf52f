// The project's own Transformer as an in-process language model, for a judge's policy (pairs sampled) or its labeler:
// a Hugging Face checkpoint folder (loadPretrained + tokenizer.json, or the 96-symbol character tokenizer for the
// project's own checkpoints) or the embedded tiny GPT with a seeded initialisation. Leaves out quantised weights.
// A checkpoint's model id carries a sha256 of its files, so judgments cached for one set of weights are never reused
// for another written to the same path.
import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve, sep } from 'node:path';
import { CONFIG_FILE, INDEX_FILE, loadPretrained, WEIGHTS_FILE } from '../models/checkpoint.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGptConfig } from '../models/presets.ts';
import { CharTokenizer, HfTokenizer, type TextTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { TransformerLanguageModel } from '../feedback/providers/transformer-language-model.ts';
import type { InProcessModelSource } from './judge-run-config.ts';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']; // what HfTokenizer.load reads
const CHUNK_BYTES = 4 << 20; // files stream through the hash in 4 MiB reads, never held whole

/** The files a checkpoint folder is loaded from (those present): config, weights (single file or index + shards), tokenizer. */
export function checkpointFiles(directory: string): string[] {
  const root = resolve(directory);
  const files = [CONFIG_FILE, ...TOKENIZER_FILES].map((name) => join(root, name));
  const indexPath = join(root, INDEX_FILE);
  if (existsSync(indexPath)) {
    files.push(indexPath);
    try {
      const weightMap = (JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map?: Record<string, unknown> }).weight_map ?? {};
      for (const shard of new Set(Object.values(weightMap))) {
        const path = resolve(root, String(shard));
        if (path.startsWith(root + sep)) files.push(path);
      }
    } catch {
      // A malformed index is hashed as it is; loadPretrained reports what is wrong with it.
    }
  } else files.push(join(root, WEIGHTS_FILE));
  return [...new Set(files)].filter((path) => existsSync(path)).sort();
}

/**
 * sha256 over the checkpoint's files in sorted order, each as its path relative to the folder, its size and its bytes:
 * any change to weights, config or tokenizer changes it; the folder's own path does not.
 */
export function checkpointContentHash(directory: string): string {
  const root = resolve(directory);
  const files = checkpointFiles(root);
  const stamps = fileStamps(files);
  const known = hashesByStamps.get(stamps);
  if (known !== undefined) return known;
  const digest = hashFiles(root, files);
  // Remembered only when nothing was rewritten while it was read, and only for files last changed over a second ago:
  // file times come from a coarse clock (~4 ms), so a same-size rewrite right after a fresh write could keep every
  // stamp; one that comes after this hash cannot keep a time a second older (git's "racy" entries, the same way).
  const settled = Date.now() - 1000;
  if (fileStamps(checkpointFiles(root)) === stamps && files.every((path) => statSync(path).mtimeMs < settled)) hashesByStamps.set(stamps, digest);
  return digest;
}

/**
 * Content hashes already computed in this process, by the files' stamps (path, inode, size, modification and change
 * times in ns): a checkpoint named twice (the sampled-pairs key, then the loader) is read once. Counted for tests.
 */
const hashesByStamps = new Map<string, string>();
export const checkpointHashing = { filesRead: 0 };

function hashFiles(root: string, files: string[]): string {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  for (const path of files) {
    checkpointHashing.filesRead++;
    const descriptor = openSync(path, 'r');
    try {
      hash.update(`${relative(root, path)}\0${fstatSync(descriptor).size}\0`);
      for (let read = readSync(descriptor, buffer, 0, CHUNK_BYTES, null); read > 0; read = readSync(descriptor, buffer, 0, CHUNK_BYTES, null)) hash.update(buffer.subarray(0, read));
    } finally {
      closeSync(descriptor);
    }
  }
  return hash.digest('hex');
}

/** What identifies a file's content on disk without reading it: a rewrite (in place or by rename) changes it. */
function fileStamps(paths: string[]): string {
  return paths.map((path) => {
    const stat = statSync(path, { bigint: true });
    return `${path}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  }).join('|');
}

function modelIdOf(source: InProcessModelSource, contentHash: string): string {
  if (source.kind === 'embedded') return `embedded:tiny-gpt@${source.seed ?? 0}`;
  return `checkpoint:${source.path}@sha256:${contentHash.slice(0, 16)}${source.dtype === 'bf16' ? '@bf16' : ''}`;
}

/** The model id `loadInProcessModel` gives a source, without loading it (a checkpoint's files are hashed, not parsed). */
export function inProcessModelId(source: InProcessModelSource, at: (path: string) => string): string {
  return modelIdOf(source, source.kind === 'checkpoint' ? checkpointContentHash(at(source.path)) : '');
}

/**
 * Load the model a config names; relative checkpoint paths resolve with `at`. The model id names the source as
 * written, plus for a checkpoint the first 16 hex digits of its content hash: `checkpoint:<path>@sha256:<hash>`, and
 * `@bf16` when its weight matrices are held in bf16 (their judgments and samples differ from float32's).
 */
export function loadInProcessModel(source: InProcessModelSource, at: (path: string) => string): TransformerLanguageModel {
  if (source.kind === 'embedded') {
    const config = tinyGptConfig();
    return new TransformerLanguageModel({ model: new Transformer(config, initParameters(config, source.seed ?? 0)), tokenizer: new CharTokenizer(), modelId: modelIdOf(source, '') });
  }
  const directory = at(source.path);
  // Hashed first (which also warms the page cache for the load), then loaded; a file rewritten in between is an error.
  const files = checkpointFiles(directory);
  const stamps = fileStamps(files);
  const contentHash = checkpointContentHash(directory);
  const { model, tokenizer } = loadCheckpoint(directory, { weights: source.dtype ?? 'float32' });
  if (fileStamps(checkpointFiles(directory)) !== stamps) throw new Error(`${directory}: checkpoint files changed while loading; load again once they are written`);
  return new TransformerLanguageModel({ model, tokenizer, modelId: modelIdOf(source, contentHash) });
}

/** A Hugging Face folder as a Transformer and its tokenizer (tokenizer.json, or the 96-character tokenizer that
 * `rlaif demo --save` writes); weights 'bf16' holds its weight matrices in bf16 (generation only). */
export function loadCheckpoint(directory: string, options: { weights?: 'float32' | 'bf16' } = {}): { model: Transformer; tokenizer: TextTokenizer } {
  if (!existsSync(join(directory, CONFIG_FILE))) throw new Error(`${directory}: not a Hugging Face checkpoint folder (no config.json)`);
  const pretrained = loadPretrained(directory, options);
  const model = new Transformer(pretrained.config, pretrained.parameters, pretrained.bf16Weights);
  if (existsSync(join(directory, 'tokenizer.json'))) return { model, tokenizer: HfTokenizer.load(directory) };
  if (pretrained.config.vocabSize === 96) return { model, tokenizer: new CharTokenizer() };
  throw new Error(`${directory}: no tokenizer.json, and vocabulary ${pretrained.config.vocabSize} is not the character tokenizer's 96`);
}
