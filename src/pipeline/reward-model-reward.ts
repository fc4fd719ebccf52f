// The reward-model reward mode of `rlaif run` (issue 12: "a reward model fitted on soft labels"): each RL round fits a
// small reward model — a fresh scalar head on a trainable copy of the SFT policy's transformer trunk — on the round's
// pairwise soft labels (Bradley–Terry with soft targets, RewardModelTrainer), holds out a share of the pairs to measure
// its pairwise accuracy, records it, then scores the rollouts with it. The pairwise source's weight goes to the reward
// model; the direct soft-label component stays in each reward record (weight 0) beside the model's score. Leaves out
// ensembles and carrying the model across rounds. Lee et al. 2023 (arXiv 2309.00267) §2.2; InstructGPT 2203.02155 §3.5.
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import { concatTokens } from '../algorithms/preference-pairs.ts';
import { trainableCopy } from '../algorithms/reference-model.ts';
import { RewardModelTrainer } from '../algorithms/reward-model-trainer.ts';
import type { MatmulPrecision } from '../engine/index.ts';
import { hashToUnit } from '../feedback/stable-hash.ts';
import { ScalarHead } from '../models/heads.ts';
import type { Transformer } from '../models/transformer.ts';
import { deriveSeed } from '../engine/random.ts';
import type { RunConfig } from './run-config.ts';
import { inProcessPolicy, seedFor, type RoundContext } from './round-context.ts';
import { rewardStage, type Feedback, type RoundSamples } from './round-stages.ts';
import { recordId, type RewardRecord } from './run-records.ts';

export type RewardModelSettings = RunConfig['rewards']['rewardModel'];

export interface FittedRewardModel {
  score(sequences: Int32Array[]): Float32Array;   // (N,) r(prompt + response)
  metrics: Record<string, number>;                // trainPairs, heldOutPairs, fitLossFirst, fitLoss, trainAccuracy, heldOutAccuracy (NaN without held-out pairs)
}

/** Bradley–Terry fit with soft labels on `train`; accuracy on `heldOut` (the labeler's preferred side counts as chosen). */
export async function fitRewardModel(options: { trunk: Transformer; train: TokenPreferencePair[]; heldOut: TokenPreferencePair[]; settings: RewardModelSettings;
  maxGradNorm: number; precision?: MatmulPrecision; seed: number }): Promise<FittedRewardModel> {
  const { settings, seed } = options;
  const model = trainableCopy(options.trunk);
  const trainer = new RewardModelTrainer({ model, head: new ScalarHead(model.config.hiddenSize, { bias: true, seed: deriveSeed(seed, 'head') }), train: options.train,
    config: { learningRate: settings.learningRate, batchSize: Math.min(settings.batchSize, options.train.length), maxGradNorm: options.maxGradNorm, margin: 0, evalEvery: 0, seed, precision: options.precision } });
  let first = Number.NaN, last = Number.NaN;
  for (let step = 0; step < settings.steps; step++) {
    const { metrics } = await trainer.trainStep();
    if (step === 0) first = metrics.loss!;
    last = metrics.loss!;
  }
  const held = options.heldOut.length > 0 ? trainer.evaluate(options.heldOut) : null;
  return {
    score: (sequences) => trainer.scoreSequences(sequences),
    metrics: { trainPairs: options.train.length, heldOutPairs: options.heldOut.length, fitLossFirst: first, fitLoss: last,
      trainAccuracy: trainer.evaluate(options.train).accuracy, heldOutAccuracy: held?.accuracy ?? Number.NaN, heldOutLoss: held?.loss ?? Number.NaN },
  };
}

export function rewardModelId(round: number): string {
  return recordId('reward-model', { round });
}

/**
 * The rewards stage of mode reward-model: fit on the round's judged pairs, score every sample, then the same reward
 * records as the direct mode with the model's component. A resumed round whose rewards are all stored is not refitted.
 */
export async function rewardModelStage(context: RoundContext, round: number, rollout: RoundSamples, feedback: Feedback): Promise<RewardRecord[]> {
  const { store, config } = context, policy = inProcessPolicy(context.policy, 'rewards.mode reward-model');
  const stored = rollout.samples.map((s) => store.get('reward', recordId('reward', s.id)));
  if (stored.every((r) => r !== undefined)) return stored as RewardRecord[];
  const K = rollout.samples.length / rollout.prompts.length;
  const promptOf = new Map(rollout.samples.map((s, b) => [s.id, policy.promptTokens(rollout.prompts[Math.floor(b / K)]!.messages)]));
  const tokensOf = new Map(rollout.samples.map((s) => [s.id, Int32Array.from(s.tokens)]));
  const judged = feedback.pairs.filter((j) => j.ok && j.probabilityA !== null && tokensOf.get(j.parents[0]!)!.length > 0 && tokensOf.get(j.parents[1]!)!.length > 0);
  const settings = config.rewards.rewardModel;
  const isHeldOut = (id: string) => hashToUnit(`${id}|reward-model-held-out`) < settings.heldOutShare;
  const pair = (j: (typeof judged)[number]): TokenPreferencePair => {
    const aWins = j.probabilityA! >= 0.5, a = tokensOf.get(j.parents[0]!)!, b = tokensOf.get(j.parents[1]!)!;
    return { prompt: promptOf.get(j.parents[0]!)!, chosen: aWins ? a : b, rejected: aWins ? b : a, label: Math.max(j.probabilityA!, 1 - j.probabilityA!) };
  };
  const train = judged.filter((j) => !isHeldOut(j.id)), heldOut = judged.filter((j) => isHeldOut(j.id));
  let scores: Float32Array = new Float32Array(rollout.samples.length), metrics: Record<string, number> = { trainPairs: 0, heldOutPairs: heldOut.length };
  if (train.length > 0) {
    const fitted = await fitRewardModel({ trunk: policy.reference, train: train.map(pair), heldOut: heldOut.map(pair), settings,
      maxGradNorm: config.algorithm.maxGradNorm, precision: config.algorithm.precision, seed: seedFor(context, `reward-model|${round}`) });
    scores = fitted.score(rollout.samples.map((s) => concatTokens(promptOf.get(s.id)!, tokensOf.get(s.id)!)));
    metrics = fitted.metrics;
  }
  const id = rewardModelId(round);
  store.put({ id, kind: 'reward-model', round, parents: train.map((j) => j.id), heldOut: heldOut.map((j) => j.id), metrics });
  return rewardStage(context, round, rollout, feedback, { id, scores });
}
