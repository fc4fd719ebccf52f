// Offline preference optimisation: DPO (sigmoid), IPO and conservative DPO (label smoothing) from preference pairs,
// with policy and frozen-reference sequence log-probs from teacher-forced scoring (models/score.ts); reports loss,
// implicit-reward accuracy and margins. DPO arXiv 2305.18290; IPO 2310.12036. The online loop: online-dpo-trainer.ts.
// Leaves out: per-pair soft labels (cDPO's ε is one number), precomputed reference log-probs, sequence packing.
import { AdamW, mul, noGrad, scope, slice, sum, tensor, type Tensor } from '../engine/index.ts';
import { scoreResponses } from '../models/score.ts';
import type { Transformer } from '../models/transformer.ts';
import { dpoLoss, ipoLoss, type PreferenceLossResult } from './losses.ts';
import { DatasetTrainer } from './dataset-trainer.ts';
import type { MatmulPrecision } from '../engine/index.ts';
import { backwardOverPairGroups, checkPreferencePairs, meanOverBatches, pairGroups, type TokenPreferencePair } from './preference-pairs.ts';
import { GROUP_TOKENS } from './rollout.ts';
import { pairStatistics } from './reward-model-trainer.ts';
import { selectTrainable, type LoraOptions } from './trainable-parameters.ts';
import { periodicEvaluation, restoreTrainer, saveTrainer, StageTimer, type StepRecord, type TrainingState } from './training-run.ts';

export type DpoLossType = 'dpo' | 'ipo' | 'cdpo';

export interface DpoConfig {
  loss: DpoLossType;
  beta: number;             // β: strength of the pull toward the reference (IPO: the target gap is 1/(2β))
  labelSmoothing: number;   // cDPO's ε, the assumed share of flipped labels (used when loss = 'cdpo')
  learningRate: number;
  batchSize: number;        // pairs per optimizer step
  maxGradNorm: number;
  evalEvery: number;        // steps between held-out evaluations (0 = never inside trainStep)
  seed: number;             // epoch shuffles (and LoRA init)
  precision?: MatmulPrecision; // matmuls while training (precision-config.ts; absent: fp32)
  groupTokens?: number;     // a step's pairs scored in groups of similar length of at most this many padded tokens (preference-pairs.ts pairGroups); 0 = all at once; absent: GROUP_TOKENS
}

export interface DpoSetup {
  config: DpoConfig;
  policy: Transformer;               // trainable (trainableCopy of the SFT model)
  reference: Transformer;            // frozen π_ref (frozenCopy of the same model)
  train?: TokenPreferencePair[];     // the offline dataset (the online loop passes pairs to trainOn instead)
  heldOut?: TokenPreferencePair[];
  trainable?: Map<string, Tensor>;   // default: every policy parameter
  lora?: LoraOptions | null;         // train only LoRA adapters (base frozen)
}

export interface PreferenceEvaluation {
  implicitAccuracy: number;  // share of pairs with implicit reward r(y_c) > r(y_r), ties ½ (0.5 when π_θ = π_ref)
  implicitMargin: number;    // mean β·h
  policyAccuracy: number;    // share of pairs with log π_θ(y_c|x) > log π_θ(y_r|x): does the policy itself rank them?
  loss: number;
}

interface SequenceLogprobs { chosen: Tensor; rejected: Tensor } // (B,), (B,)

/** Σ_t log π(y_t | x, y_<t) of chosen and rejected responses in one forward pass; `average` divides by length (IPO). */
export function pairLogprobs(model: Transformer, pairs: TokenPreferencePair[], average: boolean): SequenceLogprobs {
  const B = pairs.length;
  const scored = scoreResponses(model, { prompts: [...pairs.map((p) => p.prompt), ...pairs.map((p) => p.prompt)],
    responses: [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)] }, { entropies: false });
  let totals = sum(scored.logprobs, 1);                                                            // (2B,)
  if (average) totals = mul(totals, tensor(Float32Array.from([...pairs.map((p) => 1 / p.chosen.length), ...pairs.map((p) => 1 / p.rejected.length)]), [2 * B]));
  return { chosen: slice(totals, 0, 0, B), rejected: slice(totals, 0, B, 2 * B) };                // (B,), (B,)
}

export class DpoTrainer extends DatasetTrainer {
  readonly config: DpoConfig;
  readonly trainable: Map<string, Tensor>;
  readonly optimizer: AdamW;

  constructor(readonly setup: DpoSetup) {
    super();
    const c = this.config = setup.config;
    if (!(c.beta > 0)) throw new Error(`dpo: beta must be > 0, got ${c.beta}`);
    if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 0.5)) throw new Error(`dpo: labelSmoothing must be in [0, 0.5), got ${c.labelSmoothing}`);
    const V = setup.policy.config.vocabSize;
    if (setup.train) checkPreferencePairs(setup.train, V, 'dpo: train');
    if (setup.heldOut) checkPreferencePairs(setup.heldOut, V, 'dpo: heldOut');
    this.trainable = selectTrainable(setup.policy, { lora: setup.lora, trainable: setup.trainable, seed: c.seed }).trainable;
    this.optimizer = new AdamW([...this.trainable.values()], { lr: c.learningRate, weightDecay: 0 });
  }

  private preferenceLoss(policy: SequenceLogprobs, reference: SequenceLogprobs): PreferenceLossResult {
    const input = { policyChosen: policy.chosen, policyRejected: policy.rejected, referenceChosen: reference.chosen, referenceRejected: reference.rejected };
    const c = this.config;
    if (c.loss === 'ipo') return ipoLoss(input, c.beta);
    return dpoLoss(input, c.beta, c.loss === 'cdpo' ? c.labelSmoothing : 0);
  }

  /** The reference's sequence log-probs of `pairs`, scored in groups of similar length (pairGroups). */
  private referenceLogprobs(pairs: TokenPreferencePair[]): SequenceLogprobs {
    const chosen = new Float32Array(pairs.length), rejected = new Float32Array(pairs.length);
    for (const group of pairGroups(pairs, this.config.groupTokens ?? GROUP_TOKENS)) {
      noGrad(() => scope(() => {
        const r = pairLogprobs(this.setup.reference, group.map((i) => pairs[i]!), this.config.loss === 'ipo');
        group.forEach((i, k) => { chosen[i] = r.chosen.data[k]!; rejected[i] = r.rejected.data[k]!; });
      }));
    }
    return { chosen: tensor(chosen, [pairs.length]), rejected: tensor(rejected, [pairs.length]) };
  }

  /** One optimizer step on the next batch of the offline dataset. */
  async trainStep(): Promise<StepRecord> {
    const train = this.setup.train;
    if (!train) throw new Error('dpo: trainStep needs setup.train (or call trainOn with pairs)');
    return this.trainOn(this.nextBatch(train, this.config.batchSize, this.config.seed));
  }

  /** One optimizer step on the given pairs (the online loop builds them from fresh samples). */
  async trainOn(pairs: TokenPreferencePair[]): Promise<StepRecord> {
    const c = this.config, timer = new StageTimer();
    const tokens = pairs.reduce((a, p) => a + 2 * p.prompt.length + p.chosen.length + p.rejected.length, 0);
    const reference = await timer.run('referenceLogprobs', () => this.referenceLogprobs(pairs), tokens);
    // One optimizer step, its forward and backward over groups of pairs of similar length (backwardOverPairGroups);
    // implicit rewards are per pair, gathered back in the batch's order.
    const update = await timer.run('update', () => {
      const chosenRewards = new Float32Array(pairs.length), rejectedRewards = new Float32Array(pairs.length);
      this.optimizer.zeroGrad();
      const loss = backwardOverPairGroups(pairs, c.groupTokens ?? GROUP_TOKENS, c.precision, (group, part) => {
        const own = { chosen: tensor(group.map((i) => reference.chosen.data[i]!), [group.length]), rejected: tensor(group.map((i) => reference.rejected.data[i]!), [group.length]) };
        const result = this.preferenceLoss(pairLogprobs(this.setup.policy, part, c.loss === 'ipo'), own);
        group.forEach((i, k) => { chosenRewards[i] = result.chosenRewards[k]!; rejectedRewards[i] = result.rejectedRewards[k]!; });
        return result.loss;
      });
      const { gradNorm } = this.optimizer.step({ maxGradNorm: c.maxGradNorm });
      const stats = pairStatistics(chosenRewards, rejectedRewards);
      return { loss, gradNorm, rewardAccuracy: stats.accuracy, rewardMargin: stats.margin, chosenReward: mean(chosenRewards), rejectedReward: mean(rejectedRewards) };
    }, tokens);
    this.step++;
    const held = await periodicEvaluation(timer, this.step, c.evalEvery, this.setup.heldOut, (pairs) => this.evaluate(pairs));
    const metrics: Record<string, number> = { ...update,
      ...held && { heldOutRewardAccuracy: held.implicitAccuracy, heldOutPolicyAccuracy: held.policyAccuracy } };
    return { step: this.step, metrics, stages: timer.stages };
  }

  /** Implicit-reward and policy ranking accuracy on pairs, without gradients. */
  evaluate(pairs: TokenPreferencePair[], batchSize = 64): PreferenceEvaluation {
    return meanOverBatches(pairs, batchSize, (part) => {
      const policy = pairLogprobs(this.setup.policy, part, this.config.loss === 'ipo');
      const result = this.preferenceLoss(policy, this.referenceLogprobs(part));
      const implicit = pairStatistics(result.chosenRewards, result.rejectedRewards);
      return { implicitAccuracy: implicit.accuracy, implicitMargin: implicit.margin, loss: result.loss.item(),
        policyAccuracy: pairStatistics(policy.chosen.data, policy.rejected.data).accuracy };
    });
  }

  state(extra: Record<string, unknown> = {}): TrainingState {
    return this.trainingState(this.config.seed, extra);
  }

  save(dir: string, extraTensors = new Map<string, Tensor>(), extra: Record<string, unknown> = {}): void {
    saveTrainer(dir, this, this.state(extra), extraTensors);
  }

  load(dir: string, extraTensors = new Map<string, Tensor>()): TrainingState {
    return restoreTrainer(dir, this, extraTensors);
  }
}

function mean(x: Float32Array): number {
  return x.reduce((a, v) => a + v, 0) / Math.max(x.length, 1);
}
