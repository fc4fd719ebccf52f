// What every trainer over a fixed dataset shares (SFT, reward model, offline DPO): the step count, the position in an
// endless stream of epochs shuffled under the seed (epochIndex), and the training state its checkpoint records.
// Leaves out: the model, the optimizer and the step itself (each trainer's own), and trainers that sample their data.
import { Rng } from '../engine/index.ts';
import { epochIndex } from './preference-pairs.ts';
import type { TrainingState } from './training-run.ts';

export abstract class DatasetTrainer {
  step = 0;
  dataPosition = 0;                                     // examples consumed: the next batch starts here in the stream
  private readonly epochCache = new Map<number, number[]>();

  /** The next `size` items of `items` in the seed's epoch order; advances dataPosition past them. */
  protected nextBatch<T>(items: readonly T[], size: number, seed: number): T[] {
    const batch = Array.from({ length: size }, (_, i) => items[epochIndex(items.length, this.dataPosition + i, seed, this.epochCache)]);
    this.dataPosition += size;
    return batch;
  }

  /** The state a checkpoint records; the data order is a function of the seed, so its RNG state is the seed's. */
  protected trainingState(seed: number, extra: Record<string, unknown> = {}): TrainingState {
    return { step: this.step, dataPosition: this.dataPosition, rng: new Rng(seed).getState(), extra };
  }
}
