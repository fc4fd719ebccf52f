// What every trainer shares: named, timed stages; per-step metrics appended as JSONL to the run folder; safety
// monitors (NaN/Inf, reward and KL thresholds) that stop the run with a clear message; atomic checkpoints of
// parameters, optimizer state, RNG state, step and data position for exact resume. Leaves out: distributed state.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OptimizerState, Rng, Tensor } from '../engine/index.ts';

export interface StageTiming { ms: number; tokens: number; tokensPerSecond: number }

/** Runs named stages in order and records each one's wall time and tokens processed. */
export class StageTimer {
  readonly stages: Record<string, StageTiming> = {};

  async run<T>(name: string, fn: () => T | Promise<T>, tokens = 0): Promise<T> {
    const start = performance.now();
    const result = await fn();
    const ms = performance.now() - start;
    const previous = this.stages[name];
    const total = { ms: (previous?.ms ?? 0) + ms, tokens: (previous?.tokens ?? 0) + tokens, tokensPerSecond: 0 };
    total.tokensPerSecond = total.ms > 0 ? (1000 * total.tokens) / total.ms : 0;
    this.stages[name] = total;
    return result;
  }

  /** Adds another timer's stages (e.g. the inner update steps of an online iteration) into this one's. */
  merge(stages: Record<string, StageTiming>): void {
    for (const [name, timing] of Object.entries(stages)) {
      const previous = this.stages[name];
      const ms = (previous?.ms ?? 0) + timing.ms, tokens = (previous?.tokens ?? 0) + timing.tokens;
      this.stages[name] = { ms, tokens, tokensPerSecond: ms > 0 ? (1000 * tokens) / ms : 0 };
    }
  }

  totalMs(): number {
    return Object.values(this.stages).reduce((a, s) => a + s.ms, 0);
  }
}

/** One line of metrics.jsonl: the step, named numbers, and the stage timings. */
export interface StepRecord {
  step: number;
  metrics: Record<string, number>;
  stages: Record<string, StageTiming>;
}

/** Thrown when a monitor stops the run; `checkpoint` is the last good one (null if none was written yet). */
export class TrainingStopped extends Error {
  constructor(readonly reason: 'non-finite' | 'reward-below-floor' | 'kl-above-ceiling', readonly step: number,
    readonly checkpoint: string | null, detail: string) {
    super(`training stopped at step ${step}: ${detail}. ${checkpoint ? `The last good checkpoint is kept at ${checkpoint}.` : 'No checkpoint was written yet.'}`);
    this.name = 'TrainingStopped';
  }
}

export interface MonitorOptions {
  minRewardMean?: number;  // stop when the step's reward mean falls below this (reward collapse / hacking guard)
  maxKl?: number;          // stop when the measured KL to the reference exceeds this (divergence guard)
}

/** Checks a step's metrics: any NaN/Inf, a reward below the floor or a KL above the ceiling stops the run. */
export function checkMonitors(step: number, metrics: Record<string, number>, options: MonitorOptions, checkpoint: string | null): void {
  for (const [name, value] of Object.entries(metrics)) {
    if (!Number.isFinite(value)) throw new TrainingStopped('non-finite', step, checkpoint, `metric ${name} is ${value}`);
  }
  if (options.minRewardMean !== undefined && metrics.rewardMean !== undefined && metrics.rewardMean < options.minRewardMean) {
    throw new TrainingStopped('reward-below-floor', step, checkpoint, `reward mean ${metrics.rewardMean.toFixed(4)} < floor ${options.minRewardMean}`);
  }
  if (options.maxKl !== undefined && metrics.kl !== undefined && metrics.kl > options.maxKl) {
    throw new TrainingStopped('kl-above-ceiling', step, checkpoint, `KL to the reference ${metrics.kl.toFixed(4)} > ceiling ${options.maxKl}`);
  }
}

/** The run folder: config.json, metrics.jsonl, checkpoint/ (state.json + tensors.bin). */
export class RunFolder {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  writeConfig(config: unknown): void {
    writeFileSync(join(this.dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  }

  appendMetrics(record: StepRecord): void {
    appendFileSync(join(this.dir, 'metrics.jsonl'), JSON.stringify(record) + '\n');
  }

  get checkpointDir(): string { return join(this.dir, 'checkpoint'); }
  hasCheckpoint(): boolean {
    recoverCheckpoint(this.checkpointDir);
    return existsSync(join(this.checkpointDir, 'state.json'));
  }
}

export interface TrainingState {
  step: number;                       // steps completed
  dataPosition: number;               // next example index in the data order
  rng: ReturnType<Rng['getState']>;   // the trainer's RNG
  extra: Record<string, unknown>;     // e.g. KL coefficient, moving-average baseline
}

interface TensorEntry { name: string; offset: number; length: number }

/** Writes a checkpoint atomically: to `<dir>.tmp`, then swapped in by renames (a kill never leaves half a checkpoint). */
export function saveCheckpoint(dir: string, tensors: Map<string, Tensor>, optimizer: OptimizerState, state: TrainingState): void {
  const entries: TensorEntry[] = [];
  const blobs: Float32Array[] = [];
  let offset = 0;
  const add = (name: string, data: Float32Array): void => { entries.push({ name, offset, length: data.length }); blobs.push(data); offset += data.length; };
  for (const [name, t] of tensors) add(`param:${name}`, t.data);
  for (const [name, b] of Object.entries(optimizer.buffers)) add(`optim:${name}`, b);
  const bytes = new Float32Array(offset);
  let at = 0;
  for (const b of blobs) { bytes.set(b, at); at += b.length; }
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'tensors.bin'), new Uint8Array(bytes.buffer));
  const manifest = { version: 1, state, optimizer: { kind: optimizer.kind, step: optimizer.step, lr: optimizer.lr }, entries };
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(manifest));
  // Swap in two renames so a kill at any instant leaves a complete checkpoint at dir or at dir.old (never neither):
  // recoverCheckpoint() puts dir.old back when the second rename did not happen.
  const previous = `${dir}.old`;
  rmSync(previous, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, previous);
  renameSync(tmp, dir);
  rmSync(previous, { recursive: true, force: true });
}

/** After a kill between saveCheckpoint's two renames, the last complete checkpoint is dir.old: move it back. */
export function recoverCheckpoint(dir: string): void {
  const previous = `${dir}.old`;
  if (!existsSync(join(dir, 'state.json')) && existsSync(join(previous, 'state.json'))) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(previous, dir);
  }
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

/** Loads a checkpoint into the given tensors (same names and sizes) and returns optimizer and training state. */
export function loadCheckpoint(dir: string, tensors: Map<string, Tensor>): { optimizer: OptimizerState; state: TrainingState } {
  const manifest = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as {
    state: TrainingState; optimizer: Omit<OptimizerState, 'buffers'>; entries: TensorEntry[];
  };
  const raw = readFileSync(join(dir, 'tensors.bin'));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const buffers: Record<string, Float32Array> = {};
  const seen = new Set<string>();
  for (const entry of manifest.entries) {
    const data = all.subarray(entry.offset, entry.offset + entry.length);
    if (entry.name.startsWith('param:')) {
      const name = entry.name.slice(6), t = tensors.get(name);
      if (!t) throw new Error(`${dir}: checkpoint has parameter "${name}" the model does not`);
      if (t.size !== data.length) throw new Error(`${dir}: parameter "${name}" has ${data.length} values, the model needs ${t.size}`);
      t.data.set(data);
      seen.add(name);
    } else buffers[entry.name.slice(6)] = data.slice();
  }
  for (const name of tensors.keys()) if (!seen.has(name)) throw new Error(`${dir}: checkpoint lacks parameter "${name}"`);
  return { optimizer: { ...manifest.optimizer, buffers }, state: manifest.state };
}
