// Loads and saves Hugging Face checkpoint folders: config.json + model.safetensors, or shards listed in
// model.safetensors.index.json. Checks every expected tensor's presence and shape; extra tensors become warnings.
// Leaves out: pytorch_model.bin (pickle), tokenizer files (tokenizer.ts), adapters (LoRA has its own files).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { type Bf16Matrix, parameter, type Tensor } from '../engine/index.ts';
import { bf16WeightNames, toBf16Matrix } from './bf16-weights.ts';
import { configFromHf, configToHf, type TransformerConfig } from './config.ts';
import { expectedParameters } from './parameters.ts';
import { CheckpointError, openSafetensors, orCheckpointError, writeSafetensors, type SafetensorsReader, type StoredDtype, type TensorLike }
  from './safetensors.ts';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface PretrainedModel {
  config: TransformerConfig;
  parameters: Map<string, Tensor>;   // our names (expectedParameters), float32, requiresGrad
  bf16Weights: Map<string, Bf16Matrix>; // with weights 'bf16': the matrices, (out, in), not in `parameters`; else empty
  warnings: string[];                // extra tensors ignored, tied lm_head dropped, ...
  files: string[];                   // weight files read
}

function readJson(path: string): unknown {
  const text = orCheckpointError(path, 'cannot read', () => readFileSync(path, 'utf-8'));
  return orCheckpointError(path, 'not valid JSON', () => JSON.parse(text));
}

/** Weight files of a folder: tensor name → file path (from the shard index, or every tensor of model.safetensors). */
function weightFiles(dir: string): { index: Map<string, string> | null; files: string[] } {
  const indexPath = join(dir, INDEX_FILE);
  if (existsSync(indexPath)) {
    const json = readJson(indexPath) as { weight_map?: unknown };
    const weightMap = json?.weight_map;
    if (!weightMap || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
      throw new CheckpointError(indexPath, undefined, 'no weight_map object');
    }
    const index = new Map<string, string>();
    const root = resolve(dir);
    for (const [name, file] of Object.entries(weightMap)) {
      const path = resolve(dir, String(file));
      if (typeof file !== 'string' || !path.startsWith(root + sep)) {
        throw new CheckpointError(indexPath, name, `shard ${JSON.stringify(file)} is not a file inside ${dir}`);
      }
      index.set(name, path);
    }
    return { index, files: [...new Set(index.values())] };
  }
  const single = join(dir, WEIGHTS_FILE);
  if (!existsSync(single)) {
    throw new CheckpointError(dir, undefined, `no ${WEIGHTS_FILE} or ${INDEX_FILE} (pytorch_model.bin is not supported)`);
  }
  return { index: null, files: [single] };
}

/** Maps a stored name to ours: GPT-2's optional `transformer.` prefix, a bare Llama body's missing `model.` prefix. */
function canonicalName(stored: string, config: TransformerConfig, expected: Map<string, number[]>): string {
  if (config.family === 'gpt2' && stored.startsWith('transformer.')) return stored.slice('transformer.'.length);
  if (config.family === 'llama' && !expected.has(stored) && expected.has(`model.${stored}`)) return `model.${stored}`;
  return stored;
}

/** Groups ignored names by pattern (layer numbers → *) so 24 attention-mask buffers make one warning line. */
function summarize(names: string[], why: string): string[] {
  const groups = new Map<string, string[]>();
  for (const name of names) {
    const pattern = name.replace(/\.\d+\./g, '.*.');
    groups.set(pattern, [...(groups.get(pattern) ?? []), name]);
  }
  return [...groups].map(([pattern, members]) =>
    `${members.length === 1 ? members[0] : `${pattern} (${members.length} tensors)`}: ${why}`);
}

export interface LoadOptions {
  /** 'bf16': matrices read as bf16 for generation (a BF16 file's bytes as they are, no float32 copy); default float32 */
  weights?: 'float32' | 'bf16';
}

/**
 * Loads a checkpoint folder. Every tensor the config implies must be present with its exact shape (else a
 * CheckpointError naming file, tensor, expected and found shape); tensors it does not use are listed in `warnings`.
 * With `weights: 'bf16'` the matrices come back in `bf16Weights` (for `new Transformer(config, parameters, bf16Weights)`).
 */
export function loadPretrained(dir: string, options: LoadOptions = {}): PretrainedModel {
  const configPath = join(dir, CONFIG_FILE);
  const config = configFromHf(readJson(configPath), configPath);
  const expected = expectedParameters(config);
  const { index, files } = weightFiles(dir);

  const readers = new Map<string, SafetensorsReader>();
  try {
    for (const file of files) readers.set(file, openSafetensors(file));
    // our name → where it is stored
    const located = new Map<string, { stored: string; reader: SafetensorsReader }>();
    const extras: string[] = [];
    const indexPath = join(dir, INDEX_FILE);
    const entries: [string, SafetensorsReader][] = index
      ? [...index].map(([name, file]) => [name, readers.get(file)!])
      : [...readers.values()].flatMap((reader) => reader.names.map((name) => [name, reader] as [string, SafetensorsReader]));
    for (const [stored, reader] of entries) {
      if (!reader.tensors.has(stored)) {
        throw new CheckpointError(reader.path, stored, `listed in ${indexPath} but not in this shard`);
      }
      const name = canonicalName(stored, config, expected);
      if (!expected.has(name)) { extras.push(stored); continue; }
      const previous = located.get(name);
      if (previous) {
        throw new CheckpointError(reader.path, stored, `same parameter as '${previous.stored}' in ${previous.reader.path}`);
      }
      located.set(name, { stored, reader });
    }

    if (index) {   // tensors a shard holds that the index does not list are unused too
      for (const reader of readers.values()) extras.push(...reader.names.filter((n) => !index.has(n)));
    }

    const parameters = new Map<string, Tensor>();
    const bf16Weights = new Map<string, Bf16Matrix>();
    const inBf16 = options.weights === 'bf16' ? bf16WeightNames(config) : new Set<string>();
    for (const [name, shape] of expected) {
      const found = located.get(name);
      if (!found) {
        const where = index ? indexPath : files[0];
        throw new CheckpointError(where, name, `missing (expected shape [${shape.join(', ')}] from ${configPath})`);
      }
      const info = found.reader.info(found.stored);
      if (info.shape.length !== shape.length || info.shape.some((d, i) => d !== shape[i])) {
        throw new CheckpointError(found.reader.path, found.stored,
          `shape [${info.shape.join(', ')}] does not match [${shape.join(', ')}] expected from ${configPath}`);
      }
      if (inBf16.has(name)) bf16Weights.set(name, toBf16Matrix(config, name, found.reader.readBf16(found.stored), shape));
      else parameters.set(name, parameter(found.reader.read(found.stored).data, shape, name));
    }

    const warnings: string[] = [];
    const tiedHead = extras.filter((n) => config.tieWordEmbeddings && /^(transformer\.)?lm_head\.weight$/.test(n));
    if (tiedHead.length > 0) {
      warnings.push(`${tiedHead[0]}: ignored, tie_word_embeddings is true so the output layer is the token embedding`);
    }
    warnings.push(...summarize(extras.filter((n) => !tiedHead.includes(n)), 'not used by this config, ignored'));
    return { config, parameters, bf16Weights, warnings, files };
  } finally {
    for (const reader of readers.values()) reader.close();
  }
}

export interface SaveOptions {
  dtype?: StoredDtype;       // on-disk dtype, F32 by default
  maxShardBytes?: number;    // split into model-0000i-of-0000n.safetensors + index when larger (default: never)
}

function writeTextAtomic(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/**
 * Writes config.json and the weights (single file, or shards + index) in Hugging Face layout. Every expected
 * parameter must be present with its shape; extra parameters (a value head, ...) are written after them.
 */
export function savePretrained(dir: string, config: TransformerConfig, parameters: Map<string, TensorLike>,
  options: SaveOptions = {}): { files: string[] } {
  const dtype = options.dtype ?? 'F32';
  const ordered = new Map<string, TensorLike>();
  for (const [name, shape] of expectedParameters(config)) {
    const t = parameters.get(name);
    if (!t) throw new CheckpointError(dir, name, `cannot save: parameter missing (expected [${shape.join(', ')}])`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new CheckpointError(dir, name, `cannot save: shape [${t.shape.join(', ')}] but the config implies [${shape.join(', ')}]`);
    }
    ordered.set(name, t);
  }
  for (const [name, t] of parameters) if (!ordered.has(name)) ordered.set(name, t);

  mkdirSync(dir, { recursive: true });
  writeTextAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(configToHf(config, dtype), null, 2)}\n`);
  const bytesPer = dtype === 'F32' ? 4 : 2;
  const shards: Map<string, TensorLike>[] = [new Map()];
  let shardBytes = 0, totalBytes = 0;
  for (const [name, t] of ordered) {
    const bytes = t.data.length * bytesPer;
    if (options.maxShardBytes && shardBytes > 0 && shardBytes + bytes > options.maxShardBytes) {
      shards.push(new Map());
      shardBytes = 0;
    }
    shards[shards.length - 1].set(name, t);
    shardBytes += bytes;
    totalBytes += bytes;
  }
  if (shards.length === 1) {
    writeSafetensors(join(dir, WEIGHTS_FILE), ordered, { format: 'pt' }, dtype);
    rmSync(join(dir, INDEX_FILE), { force: true });   // a stale index would shadow the new file
    return { files: [WEIGHTS_FILE] };
  }
  const pad = (i: number) => String(i).padStart(5, '0');
  const files = shards.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`);
  const weightMap: Record<string, string> = {};
  shards.forEach((shard, i) => {
    writeSafetensors(join(dir, files[i]), shard, { format: 'pt' }, dtype);
    for (const name of shard.keys()) weightMap[name] = files[i];
  });
  writeTextAtomic(join(dir, INDEX_FILE), `${JSON.stringify({ metadata: { total_size: totalBytes }, weight_map: weightMap }, null, 2)}\n`);
  rmSync(join(dir, WEIGHTS_FILE), { force: true });
  return { files };
}
