// Reward-model training from preference pairs: Bradley–Terry loss (hard or soft labels, optional margin) on a scalar
// head read at each sequence's last real token (models/heads.ts), right-padded batches with chosen and rejected in
// one forward pass, per-step loss/accuracy and held-out pairwise accuracy. InstructGPT arXiv 2203.02155 §3.5.
// Leaves out: ensembles, reward normalisation after training, LoRA (full fine-tuning of the trunk and head).
import { AdamW, noGrad, scope, slice, tensor, type Tensor } from '../engine/index.ts';
import { ScalarHead, sequenceScores } from '../models/heads.ts';
import type { Transformer } from '../models/transformer.ts';
import { bradleyTerryLoss } from './losses.ts';
import { DatasetTrainer } from './dataset-trainer.ts';
import type { MatmulPrecision } from '../engine/index.ts';
import { backwardOverPairGroups, checkPreferencePairs, concatTokens, meanOverBatches, type TokenPreferencePair } from './preference-pairs.ts';
import { GROUP_TOKENS } from './rollout.ts';
import { periodicEvaluation, restoreTrainer, saveTrainer, StageTimer, type StepRecord, type TrainingState } from './training-run.ts';

export interface RewardModelConfig {
  learningRate: number;
  batchSize: number;        // pairs per optimizer step
  maxGradNorm: number;
  margin: number;           // Bradley–Terry margin m (0 = none)
  evalEvery: number;        // steps between held-out evaluations (0 = never inside trainStep)
  seed: number;             // epoch shuffles
  precision?: MatmulPrecision; // matmuls while training (precision-config.ts; absent: fp32)
  groupTokens?: number;     // a step's pairs scored in groups of similar length of at most this many padded tokens (preference-pairs.ts pairGroups); 0 = all at once; absent: GROUP_TOKENS
}

export interface RewardModelSetup {
  config: RewardModelConfig;
  model: Transformer;       // trunk, every parameter trainable (trainableCopy of a pretrained policy)
  head?: ScalarHead;        // default: a fresh 'score' head with bias
  train: TokenPreferencePair[];
  heldOut?: TokenPreferencePair[];
}

export interface PairwiseEvaluation {
  accuracy: number;         // share of pairs with r(chosen) > r(rejected) (ties count ½)
  loss: number;             // mean Bradley–Terry loss with the pairs' labels
  margin: number;           // mean r(chosen) − r(rejected)
}

interface PaddedSequences { ids: Int32Array; keyMask: Float32Array; shape: [number, number] } // (N, T) right-padded

function padRight(sequences: Int32Array[]): PaddedSequences {
  const N = sequences.length, T = Math.max(...sequences.map((s) => s.length));
  const ids = new Int32Array(N * T), keyMask = new Float32Array(N * T);        // (N, T)
  sequences.forEach((s, n) => { ids.set(s, n * T); keyMask.fill(1, n * T, n * T + s.length); });
  return { ids, keyMask, shape: [N, T] };
}

export class RewardModelTrainer extends DatasetTrainer {
  readonly config: RewardModelConfig;
  readonly head: ScalarHead;
  readonly trainable: Map<string, Tensor>;
  readonly optimizer: AdamW;

  constructor(readonly setup: RewardModelSetup) {
    super();
    this.config = setup.config;
    checkPreferencePairs(setup.train, setup.model.config.vocabSize, 'reward model: train');
    if (setup.heldOut) checkPreferencePairs(setup.heldOut, setup.model.config.vocabSize, 'reward model: heldOut');
    this.head = setup.head ?? new ScalarHead(setup.model.config.hiddenSize, { bias: true, seed: setup.config.seed });
    this.trainable = new Map([...setup.model.parameters(), ...this.head.parameters()]);
    this.optimizer = new AdamW([...this.trainable.values()], { lr: this.config.learningRate, weightDecay: 0 });
  }

  /** Rewards of chosen and rejected responses in one forward pass: ((B,), (B,)). */
  private pairScores(pairs: TokenPreferencePair[]): { chosen: Tensor; rejected: Tensor } {
    const B = pairs.length;
    const padded = padRight([...pairs.map((p) => concatTokens(p.prompt, p.chosen)), ...pairs.map((p) => concatTokens(p.prompt, p.rejected))]);
    const scores = sequenceScores(this.setup.model, this.head, padded.ids, padded.shape, { keyMask: padded.keyMask }); // (2B,)
    return { chosen: slice(scores, 0, 0, B), rejected: slice(scores, 0, B, 2 * B) };                                 // (B,), (B,)
  }

  private lossOf(pairs: TokenPreferencePair[], chosen: Tensor, rejected: Tensor): Tensor {
    const B = pairs.length;
    return bradleyTerryLoss({ chosen, rejected,
      labels: tensor(Float32Array.from(pairs, (p) => p.label ?? 1), [B]),
      margin: this.config.margin > 0 ? tensor(new Float32Array(B).fill(this.config.margin), [B]) : undefined });
  }

  async trainStep(): Promise<StepRecord> {
    const c = this.config, timer = new StageTimer(), train = this.setup.train;
    const pairs = this.nextBatch(train, c.batchSize, c.seed);
    const tokens = pairs.reduce((a, p) => a + 2 * p.prompt.length + p.chosen.length + p.rejected.length, 0);
    // One optimizer step, its forward and backward over groups of pairs of similar length (backwardOverPairGroups);
    // the scores are gathered back in the batch's order.
    const update = await timer.run('update', () => {
      const chosen = new Float32Array(pairs.length), rejected = new Float32Array(pairs.length);
      this.optimizer.zeroGrad();
      const loss = backwardOverPairGroups(pairs, c.groupTokens ?? GROUP_TOKENS, c.precision, (group, part) => {
        const scores = this.pairScores(part);
        group.forEach((i, k) => { chosen[i] = scores.chosen.data[k]!; rejected[i] = scores.rejected.data[k]!; });
        return this.lossOf(part, scores.chosen, scores.rejected);
      });
      const { gradNorm } = this.optimizer.step({ maxGradNorm: c.maxGradNorm });
      return { loss, gradNorm, ...pairStatistics(chosen, rejected) };
    }, tokens);
    this.step++;
    const held = await periodicEvaluation(timer, this.step, c.evalEvery, this.setup.heldOut, (pairs) => this.evaluate(pairs));
    const metrics: Record<string, number> = { loss: update.loss, accuracy: update.accuracy, rewardMargin: update.margin, gradNorm: update.gradNorm,
      ...held && { heldOutAccuracy: held.accuracy, heldOutLoss: held.loss } };
    return { step: this.step, metrics, stages: timer.stages };
  }

  /** Held-out pairwise accuracy, loss and margin, in batches, without gradients. */
  evaluate(pairs: TokenPreferencePair[], batchSize = 64): PairwiseEvaluation {
    return meanOverBatches(pairs, batchSize, (part) => {
      const { chosen, rejected } = this.pairScores(part), { accuracy, margin } = pairStatistics(chosen.data, rejected.data);
      return { accuracy, margin, loss: this.lossOf(part, chosen, rejected).item() };
    });
  }

  /** Reward of each full sequence (prompt + response ids): (N,). Plugs into reward-sources' rewardModelReward. */
  scoreSequences(sequences: Int32Array[]): Float32Array {
    return noGrad(() => scope(() => {
      const padded = padRight(sequences);
      return sequenceScores(this.setup.model, this.head, padded.ids, padded.shape, { keyMask: padded.keyMask }).data.slice();
    }));
  }

  state(): TrainingState {
    return this.trainingState(this.config.seed);
  }

  save(dir: string): void {
    saveTrainer(dir, this, this.state());
  }

  load(dir: string): void {
    restoreTrainer(dir, this);
  }
}

/** Accuracy (ties ½) and mean margin of paired rewards. */
export function pairStatistics(chosen: Float32Array, rejected: Float32Array): { accuracy: number; margin: number } {
  let accuracy = 0, margin = 0;
  for (let b = 0; b < chosen.length; b++) {
    const d = chosen[b] - rejected[b];
    accuracy += d > 0 ? 1 : d === 0 ? 0.5 : 0;
    margin += d;
  }
  return { accuracy: accuracy / chosen.length, margin: margin / chosen.length };
}
