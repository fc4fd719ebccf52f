// Test helper: runs a policy-gradient trainer for some steps and returns its reward at the start and the end and the
// KL per step, with the monitors' wild-estimate stop on; and the median the learning tests take over seeds.
// Leaves out: any threshold (each test states its own, with the measurements behind it).
import type { PolicyGradientTrainer } from '../policy-gradient-trainer.ts';
import { checkMonitors } from '../training-run.ts';

export interface RewardCurve {
  start: number;   // mean reward of the first `first` steps
  end: number;     // mean reward of the last `last` steps
  kls: number[];   // (steps,) KL per sequence at each step
}

export async function rewardCurve(trainer: PolicyGradientTrainer, options: { steps: number; first: number; last: number }): Promise<RewardCurve> {
  const rewards: number[] = [], kls: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const record = await trainer.trainStep();
    checkMonitors(record.step, record.metrics, { maxKl: 25 }, null); // a KL estimate gone wild stops the run
    rewards.push(record.metrics.rewardMean);
    kls.push(record.metrics.kl);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { start: mean(rewards.slice(0, options.first)), end: mean(rewards.slice(-options.last)), kls };
}

/** The middle value (the upper middle of an even count). */
export function median(values: number[]): number {
  return [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
}
