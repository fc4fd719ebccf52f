// What every trainer shares: named, timed stages; per-step metrics appended as JSONL to the run folder; safety
// monitors (NaN/Inf, reward and KL thresholds) that stop the run with a clear message; checkpoints of parameters,
// optimizer state, RNG state, step and data position for exact resume (training-checkpoint.ts: checksummed, last two
// kept). Leaves out: distributed state.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hasCheckpoint } from './training-checkpoint.ts';

/** Runs `evaluate` on the held-out set as the step's 'evaluate' stage every `every` steps (0 = never); else null. */
export async function periodicEvaluation<T, E>(timer: StageTimer, step: number, every: number, heldOut: T | undefined | null,
  evaluate: (heldOut: T) => E): Promise<E | null> {
  if (!heldOut || every <= 0 || step % every !== 0) return null;
  return timer.run('evaluate', () => evaluate(heldOut));
}

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

/**
 * Thrown when a monitor stops the run; `checkpoint` is the newest checkpoint on disk (null if none was written yet).
 * Every checkpoint was verified finite when written or loaded, so it is the last one whose loss and weights were finite.
 */
export class TrainingStopped extends Error {
  constructor(readonly reason: 'non-finite' | 'reward-below-floor' | 'kl-above-ceiling', readonly step: number,
    readonly checkpoint: string | null, detail: string, readonly checkpointStep: number | null = null) {
    super(`training stopped at step ${step}: ${detail}. ${checkpoint
      ? `The last checkpoint with finite loss and weights${checkpointStep === null ? '' : ` (step ${checkpointStep})`} is kept at ${checkpoint}.`
      : 'No checkpoint was written yet.'}`);
    this.name = 'TrainingStopped';
  }
}

export interface MonitorOptions {
  minRewardMean?: number;  // stop when the step's reward mean falls below this (reward collapse / hacking guard)
  maxKl?: number;          // stop when the measured KL to the reference exceeds this (divergence guard)
}

/** Checks a step's metrics: any NaN/Inf, a reward below the floor or a KL above the ceiling stops the run. */
export function checkMonitors(step: number, metrics: Record<string, number>, options: MonitorOptions, checkpoint: string | null,
  checkpointStep: number | null = null): void {
  for (const [name, value] of Object.entries(metrics)) {
    if (!Number.isFinite(value)) throw new TrainingStopped('non-finite', step, checkpoint, `metric ${name} is ${value}`, checkpointStep);
  }
  if (options.minRewardMean !== undefined && metrics.rewardMean !== undefined && metrics.rewardMean < options.minRewardMean) {
    throw new TrainingStopped('reward-below-floor', step, checkpoint, `reward mean ${metrics.rewardMean.toFixed(4)} < floor ${options.minRewardMean}`, checkpointStep);
  }
  if (options.maxKl !== undefined && metrics.kl !== undefined && metrics.kl > options.maxKl) {
    throw new TrainingStopped('kl-above-ceiling', step, checkpoint, `KL to the reference ${metrics.kl.toFixed(4)} > ceiling ${options.maxKl}`, checkpointStep);
  }
}

/**
 * A reward with no spread across a step's samples gives every sample the same advantage (zero after a baseline or
 * group normalisation): the loss is 0 and the policy does not learn. Returns the warning, or null.
 */
export function constantRewardWarning(record: StepRecord): string | null {
  const { rewardStd, rewardMean } = record.metrics;
  if (rewardStd === undefined || rewardMean === undefined || rewardStd > 1e-12) return null;
  return `the reward was ${rewardMean} for every sample of step ${record.step}: with no spread there is nothing to learn ` +
    `(advantages are 0). Check the reward (a pattern that never matches, a window no response reaches, a judge that always says the same)`;
}

/**
 * The files a training run writes in its folder: metrics.jsonl and checkpoint/ (+ checkpoint.previous/). The folder
 * itself (lock, run.json, config.json) is opened with openRunFolder (run-folder.ts) by whoever starts the run.
 */
export class RunFolder {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  get metricsPath(): string { return join(this.dir, 'metrics.jsonl'); }

  appendMetrics(record: StepRecord): void {
    appendFileSync(this.metricsPath, JSON.stringify(record) + '\n');
  }

  get checkpointDir(): string { return join(this.dir, 'checkpoint'); }
  hasCheckpoint(): boolean {
    return hasCheckpoint(this.checkpointDir);
  }
}

/** True when a run folder holds a checkpoint to resume from (openRunFolder's `hasProgress` for training runs). */
export function trainingRunHasProgress(dir: string): boolean {
  return hasCheckpoint(join(dir, 'checkpoint'));
}

export { CorruptCheckpointError, hasCheckpoint, loadCheckpoint, loadNewestCheckpoint, NonFiniteWeightsError, previousCheckpoint,
  recoverCheckpoint, restoreTrainer, saveCheckpoint, saveTrainer, type CheckpointedTrainer, type TrainingState } from './training-checkpoint.ts';
