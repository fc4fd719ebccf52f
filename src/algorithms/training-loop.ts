// The loop every trainer runs under: resume from the run folder's checkpoint, step, check monitors (NaN/Inf, reward
// floor, KL ceiling) before anything is written, append metrics.jsonl, checkpoint atomically every N steps.
// A stopped run leaves the last good checkpoint on disk untouched. Leaves out: progress display (the CLI's `onStep`).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../engine/index.ts';
import { checkMonitors, TrainingStopped, type MonitorOptions, type RunFolder, type StepRecord } from './training-run.ts';

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
}

export interface LoopResult {
  resumedFrom: number | null;    // step of the checkpoint loaded, null for a fresh run
  lastCheckpoint: string | null;
  records: StepRecord[];         // this invocation's steps
}

/** Runs trainer to options.steps; throws TrainingStopped (from checkMonitors) with the last good checkpoint named. */
export async function runTraining(trainer: LoopTrainer, options: LoopOptions): Promise<LoopResult> {
  const { run } = options;
  let resumedFrom: number | null = null, lastCheckpoint: string | null = null;
  if ((options.resume ?? true) && run.hasCheckpoint()) {
    trainer.load(run.checkpointDir);
    resumedFrom = trainer.step;
    lastCheckpoint = run.checkpointDir;
    dropMetricsAfter(join(run.dir, 'metrics.jsonl'), trainer.step);
  }
  const records: StepRecord[] = [];
  while (trainer.step < options.steps) {
    options.beforeStep?.(trainer.step);
    const record = await trainer.trainStep().catch((error: unknown) => {
      // The engine refuses to backpropagate a NaN/Inf loss and names the op where it first appeared.
      if (error instanceof EngineError && error.op === 'backward' && /the loss is (NaN|-?Infinity)/.test(error.message)) {
        throw new TrainingStopped('non-finite', trainer.step + 1, lastCheckpoint, error.message);
      }
      throw error;
    });
    checkMonitors(record.step, record.metrics, options.monitors ?? {}, lastCheckpoint);
    run.appendMetrics(record);
    records.push(record);
    if (record.step % options.checkpointEvery === 0 || record.step >= options.steps) {
      trainer.save(run.checkpointDir);
      lastCheckpoint = run.checkpointDir;
    }
    options.onStep?.(record);
  }
  return { resumedFrom, lastCheckpoint, records };
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
  writeFileSync(path, kept.map((line) => `${line}\n`).join(''));
}
