// The loop every trainer runs under: resume from the run folder's checkpoint, step, check monitors (NaN/Inf, reward
// floor, KL ceiling) before anything is written, append metrics.jsonl, checkpoint atomically every N steps.
// A stopped run leaves the last good checkpoint on disk untouched. Leaves out: progress display (the CLI's `onStep`).
import { existsSync, readFileSync } from 'node:fs';
import { EngineError } from '../engine/index.ts';
import { writeFileAtomic } from './run-folder.ts';
import { loadNewestCheckpoint, NonFiniteWeightsError } from './training-checkpoint.ts';
import { checkMonitors, constantRewardWarning, TrainingStopped, type MonitorOptions, type RunFolder, type StepRecord } from './training-run.ts';

/** What a trainer offers the loop. `step` counts completed steps. */
export interface LoopTrainer {
  readonly step: number;
  trainStep(): Promise<StepRecord>;
  save(dir: string): void;
  load(dir: string): void;
}

export interface LoopOptions {
  run: RunFolder;
  steps: number;                 // train until trainer.step reaches this
  checkpointEvery: number;       // steps between checkpoints (the last step always checkpoints)
  monitors?: MonitorOptions;
  resume?: boolean;              // default true: load run/checkpoint when present
  beforeStep?: (step: number) => void;        // e.g. fault injection in tests
  onStep?: (record: StepRecord) => void;      // e.g. a progress bar
  onWarning?: (message: string) => void;      // default: one line on stderr
  onResume?: (step: number, checkpoint: string) => void; // a checkpoint was loaded
}

export interface LoopResult {
  resumedFrom: number | null;    // step of the checkpoint loaded, null for a fresh run
  lastCheckpoint: string | null;
  records: StepRecord[];         // this invocation's steps
  warnings: string[];            // what onWarning was told (constant reward, checkpoint fallback)
}

/** Runs trainer to options.steps; throws TrainingStopped (from checkMonitors) with the last good checkpoint named. */
export async function runTraining(trainer: LoopTrainer, options: LoopOptions): Promise<LoopResult> {
  const { run } = options, warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
    (options.onWarning ?? ((m: string) => process.stderr.write(`rlaif: warning: ${m}\n`)))(message);
  };
  let resumedFrom: number | null = null, lastCheckpoint: string | null = null, checkpointStep: number | null = null;
  if ((options.resume ?? true) && run.hasCheckpoint()) {
    lastCheckpoint = loadNewestCheckpoint(run.checkpointDir, (dir) => trainer.load(dir), warn);
    resumedFrom = checkpointStep = trainer.step;
    dropMetricsAfter(run.metricsPath, trainer.step);
    options.onResume?.(trainer.step, lastCheckpoint);
  }
  const records: StepRecord[] = [];
  let constantSteps = 0;
  while (trainer.step < options.steps) {
    options.beforeStep?.(trainer.step);
    const record = await trainer.trainStep().catch((error: unknown) => {
      // The engine refuses to backpropagate a NaN/Inf loss and names the op where it first appeared.
      if (error instanceof EngineError && error.op === 'backward' && /the loss is (NaN|-?Infinity)/.test(error.message)) {
        throw new TrainingStopped('non-finite', trainer.step + 1, lastCheckpoint, error.message, checkpointStep);
      }
      throw error;
    });
    checkMonitors(record.step, record.metrics, options.monitors ?? {}, lastCheckpoint, checkpointStep);
    const constant = constantRewardWarning(record);
    if (constant && constantSteps++ === 0) warn(constant);
    run.appendMetrics(record);
    records.push(record);
    if (record.step % options.checkpointEvery === 0 || record.step >= options.steps) {
      try {
        trainer.save(run.checkpointDir);
      } catch (error) {
        // The step's loss was finite but its update left NaN/Inf in the weights: keep the older checkpoints.
        if (error instanceof NonFiniteWeightsError) throw new TrainingStopped('non-finite', record.step, lastCheckpoint, `after the update ${error.message}`, checkpointStep);
        throw error;
      }
      lastCheckpoint = run.checkpointDir;
      checkpointStep = record.step;
    }
    options.onStep?.(record);
  }
  if (constantSteps > 1) warn(`the reward had no spread in ${constantSteps} of ${records.length} steps of this run`);
  return { resumedFrom, lastCheckpoint, records, warnings };
}

/** A run killed after its last checkpoint wrote metrics for steps it will redo: keep only whole lines of steps ≤ step. */
function dropMetricsAfter(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => {
    if (line.trim() === '') return false;
    try {
      return (JSON.parse(line) as StepRecord).step <= step;
    } catch {
      return false; // a line torn by the kill: its step is redone
    }
  });
  writeFileAtomic(path, kept.map((line) => `${line}\n`).join(''));
}
