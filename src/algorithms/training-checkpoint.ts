// Training checkpoints on disk: parameters + optimizer buffers in tensors.bin, training state in state.json, and
// manifest.json with the sha256 and size of both, verified on load. The last two are kept (<dir> and
// <dir>.previous); a checkpoint that fails verification is reported and the older one is used. Non-finite weights are
// never written. Leaves out: sharding, compression, distributed state. No paper.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OptimizerState, Rng, Tensor } from '../engine/index.ts';
import { writeFileAtomic } from './run-folder.ts';

export interface TrainingState {
  step: number;                       // steps completed
  dataPosition: number;               // next example index in the data order
  rng: ReturnType<Rng['getState']>;   // the trainer's RNG
  extra: Record<string, unknown>;     // e.g. KL coefficient, moving-average baseline
}

interface TensorEntry { name: string; offset: number; length: number }
interface FileSum { sha256: string; bytes: number }
interface Manifest { version: 2; files: Record<string, FileSum> }

const FILES = ['state.json', 'tensors.bin'] as const;

/** A checkpoint that fails its checks (checksum, size, JSON, finite values, names); `file` is the first bad file. */
export class CorruptCheckpointError extends Error {
  constructor(readonly dir: string, readonly file: string, detail: string) {
    super(`checkpoint ${join(dir, file)} is corrupt: ${detail}`);
    this.name = 'CorruptCheckpointError';
  }
}

/** Thrown by saveCheckpoint when a tensor holds NaN/Inf: such weights are never checkpointed. */
export class NonFiniteWeightsError extends Error {
  constructor(readonly tensor: string, readonly index: number) {
    super(`tensor "${tensor}" holds a non-finite value at index ${index}; it was not checkpointed`);
    this.name = 'NonFiniteWeightsError';
  }
}

const sum = (bytes: Uint8Array): FileSum => ({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });

/** The older checkpoint kept beside `dir`. */
export const previousCheckpoint = (dir: string): string => `${dir}.previous`;

/**
 * Writes a checkpoint to `<dir>.tmp` (files, then manifest.json last), then rotates: `<dir>` → `<dir>.previous`,
 * `<dir>.tmp` → `<dir>`. A kill at any instant leaves at least one verified checkpoint (recoverCheckpoint).
 */
export function saveCheckpoint(dir: string, tensors: Map<string, Tensor>, optimizer: OptimizerState, state: TrainingState): void {
  const entries: TensorEntry[] = [];
  const blobs: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, data: Float32Array): void => {
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new NonFiniteWeightsError(name, bad);
    entries.push({ name, offset, length: data.length }); blobs.push(data); offset += data.length;
  };
  for (const [name, t] of tensors) add(`param:${name}`, t.data);
  for (const [name, b] of Object.entries(optimizer.buffers)) add(`optim:${name}`, b);
  const all = new Float32Array(offset);
  let at = 0;
  for (const b of blobs) { all.set(b, at); at += b.length; }
  const tensorBytes = new Uint8Array(all.buffer);
  const stateBytes = Buffer.from(JSON.stringify({ version: 1, state, optimizer: { kind: optimizer.kind, step: optimizer.step, lr: optimizer.lr }, entries }));
  const tmp = `${dir}.tmp`, previous = previousCheckpoint(dir);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileAtomic(join(tmp, 'tensors.bin'), tensorBytes);
  writeFileAtomic(join(tmp, 'state.json'), stateBytes);
  const manifest: Manifest = { version: 2, files: { 'state.json': sum(stateBytes), 'tensors.bin': sum(tensorBytes) } };
  writeFileAtomic(join(tmp, 'manifest.json'), JSON.stringify(manifest));
  if (existsSync(join(dir, 'state.json'))) {
    rmSync(previous, { recursive: true, force: true });
    renameSync(dir, previous);
  } else rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** A kill mid-rotation: finish it when `<dir>.tmp` is complete (has its manifest), else put `<dir>.previous` back. */
export function recoverCheckpoint(dir: string): void {
  if (existsSync(join(dir, 'state.json'))) return;
  const tmp = `${dir}.tmp`, previous = previousCheckpoint(dir);
  if (existsSync(join(tmp, 'manifest.json'))) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } else if (existsSync(join(previous, 'state.json'))) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(previous, dir);
  }
}

/** True when `dir` or its older sibling holds a checkpoint (after finishing an interrupted rotation). */
export function hasCheckpoint(dir: string): boolean {
  recoverCheckpoint(dir);
  return existsSync(join(dir, 'state.json')) || existsSync(join(previousCheckpoint(dir), 'state.json'));
}

/** Reads a checkpoint file and checks it against manifest.json (absent in checkpoints written before checksums). */
function readVerified(dir: string, file: (typeof FILES)[number], manifest: Manifest | null): Buffer {
  const path = join(dir, file);
  if (!existsSync(path)) throw new CorruptCheckpointError(dir, file, 'missing');
  const bytes = readFileSync(path);
  const expected = manifest?.files[file];
  if (manifest && !expected) throw new CorruptCheckpointError(dir, 'manifest.json', `no checksum for ${file}`);
  if (expected) {
    const got = sum(bytes);
    if (got.bytes !== expected.bytes) throw new CorruptCheckpointError(dir, file, `${got.bytes} bytes, manifest.json says ${expected.bytes}`);
    if (got.sha256 !== expected.sha256) throw new CorruptCheckpointError(dir, file, `sha256 ${got.sha256.slice(0, 12)}… does not match manifest.json's ${expected.sha256.slice(0, 12)}…`);
  }
  return bytes;
}

function readManifest(dir: string): Manifest | null {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) return null;
  try {
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
    if (manifest.version !== 2 || typeof manifest.files !== 'object') throw new Error('unknown layout');
    return manifest;
  } catch (error) {
    throw new CorruptCheckpointError(dir, 'manifest.json', (error as Error).message);
  }
}

/** Loads a verified checkpoint into the given tensors (same names and sizes); returns optimizer and training state. */
export function loadCheckpoint(dir: string, tensors: Map<string, Tensor>): { optimizer: OptimizerState; state: TrainingState } {
  const manifest = readManifest(dir);
  const stateBytes = readVerified(dir, 'state.json', manifest), raw = readVerified(dir, 'tensors.bin', manifest);
  let parsed: { state: TrainingState; optimizer: Omit<OptimizerState, 'buffers'>; entries: TensorEntry[] };
  try {
    parsed = JSON.parse(stateBytes.toString('utf8'));
    if (!parsed.state || !Array.isArray(parsed.entries)) throw new Error('no state or entries');
  } catch (error) {
    throw new CorruptCheckpointError(dir, 'state.json', `not a checkpoint state (${(error as Error).message})`);
  }
  if (raw.byteLength % 4 !== 0) throw new CorruptCheckpointError(dir, 'tensors.bin', `${raw.byteLength} bytes is not whole float32 values`);
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const buffers: Record<string, Float32Array> = {};
  const values = new Map<string, Float32Array>();
  for (const entry of parsed.entries) {
    if (entry.offset + entry.length > all.length) throw new CorruptCheckpointError(dir, 'tensors.bin', `too short for ${entry.name}`);
    const data = all.subarray(entry.offset, entry.offset + entry.length);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new CorruptCheckpointError(dir, 'tensors.bin', `${entry.name} holds ${data[bad]} at index ${bad}`);
    if (entry.name.startsWith('param:')) {
      const name = entry.name.slice(6), t = tensors.get(name);
      if (!t) throw new Error(`${dir}: checkpoint has parameter "${name}" the model does not`);
      if (t.size !== data.length) throw new Error(`${dir}: parameter "${name}" has ${data.length} values, the model needs ${t.size}`);
      values.set(name, data);
    } else buffers[entry.name.slice(6)] = data.slice();
  }
  for (const name of tensors.keys()) if (!values.has(name)) throw new Error(`${dir}: checkpoint lacks parameter "${name}"`);
  for (const [name, data] of values) tensors.get(name)!.data.set(data);  // only once everything checked out
  return { optimizer: { ...parsed.optimizer, buffers }, state: parsed.state };
}

function readStep(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { state: TrainingState }).state.step;
}

/** The state every trainer checkpoints besides its own extras (RNG, KL coefficient, baselines, reference weights). */
export interface CheckpointedTrainer {
  step: number;
  dataPosition: number;
  readonly trainable: Map<string, Tensor>;
  readonly optimizer: { state(): OptimizerState; loadState(state: OptimizerState): void };
}

/** Saves a trainer's trainable tensors (and extra tensors), optimizer state and training state. */
export function saveTrainer(dir: string, trainer: CheckpointedTrainer, state: TrainingState,
  extraTensors: Map<string, Tensor> = new Map()): void {
  saveCheckpoint(dir, new Map([...trainer.trainable, ...extraTensors]), trainer.optimizer.state(), state);
}

/** Restores tensors, optimizer, step and data position; returns the state so the trainer can restore its extras. */
export function restoreTrainer(dir: string, trainer: CheckpointedTrainer,
  extraTensors: Map<string, Tensor> = new Map()): TrainingState {
  const { optimizer, state } = loadCheckpoint(dir, new Map([...trainer.trainable, ...extraTensors]));
  trainer.optimizer.loadState(optimizer);
  trainer.step = state.step;
  trainer.dataPosition = state.dataPosition;
  return state;
}

/**
 * Loads the newest checkpoint that verifies: `dir`, else `<dir>.previous` (the message says why `dir` was skipped).
 * `load` is the trainer's own loader. Throws naming both when neither verifies. Returns the folder loaded.
 */
export function loadNewestCheckpoint(dir: string, load: (dir: string) => void, warn: (message: string) => void): string {
  recoverCheckpoint(dir);
  const candidates = [dir, previousCheckpoint(dir)].filter((d) => existsSync(join(d, 'state.json')));
  const failures: string[] = [];
  for (const candidate of candidates) {
    try {
      load(candidate);
      if (candidate === dir) return dir;
      // The newest is corrupt: keep it aside for inspection and make the older one the newest again.
      const aside = `${dir}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      if (existsSync(dir)) renameSync(dir, aside);
      renameSync(candidate, dir);
      warn(`${failures.join('; ')}; resuming from the older checkpoint (step ${readStep(dir)}) instead; the corrupt one is kept at ${aside}`);
      return dir;
    } catch (error) {
      if (!(error instanceof CorruptCheckpointError)) throw error;
      failures.push(error.message);
    }
  }
  throw new Error(`no usable checkpoint: ${failures.join('; ')}. Start afresh with --fresh (the run folder is moved aside)`);
}
