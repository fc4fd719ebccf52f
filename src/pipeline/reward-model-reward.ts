// The reward-model reward mode of `rlaif run` (issue 12: "a reward model fitted on soft labels"): each RL round fits a
// small reward model — a fresh scalar head on a trainable copy of the SFT policy's transformer trunk — on the round's
// pairwise soft labels (Bradley–Terry with soft targets, RewardModelTrainer), holds out a share of the pairs to measure
// its pairwise accuracy, records it, then scores the rollouts with it. The pairwise source's weight goes to the reward
// model; the direct soft-label component stays in each reward record (weight 0) beside the model's score. The
// labeled-data source (feedback.labeledAnchors) is the same kind of model fitted once on labeled comparisons. Leaves
// out ensembles and carrying the model across rounds. Lee et al. 2023 (arXiv 2309.00267) §2.2; InstructGPT 2203.02155 §3.5.
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
import { rewardStage, type Feedback, type ModelScores, type RoundSamples } from './round-stages.ts';
import { recordId, type RewardRecord } from './run-records.ts';

export type RewardModelSettings = RunConfig['rewards']['rewardModel'];

export interface FittedRewardModel {
  score(sequences: Int32Array[]): Float32Array;   // (N,) r(prompt + response)
  metrics: Record<string, number>;                // trainPairs, heldOutPairs, fitLossFirst, fitLoss, trainAccuracy, heldOutAccuracy (NaN without held-out pairs)
}

/** Bradley–Terry fit with soft labels on `train`; accuracy on `heldOut` (the labeler's preferred side counts as chosen). */
export async function fitRewardModel(options: { trunk: Transformer; train: TokenPreferencePair[]; heldOut: TokenPreferencePair[]; settings: RewardModelSettings;
  maxGradNorm: number; precision?: MatmulPrecision; groupTokens?: number; seed: number; onProgress?: (done: number, total: number) => void }): Promise<FittedRewardModel> {
  const { settings, seed } = options;
  const model = trainableCopy(options.trunk);
  const trainer = new RewardModelTrainer({ model, head: new ScalarHead(model.config.hiddenSize, { bias: true, seed: deriveSeed(seed, 'head') }), train: options.train,
    config: { learningRate: settings.learningRate, batchSize: Math.min(settings.batchSize, options.train.length), maxGradNorm: options.maxGradNorm, margin: 0, evalEvery: 0, seed,
      precision: options.precision, groupTokens: options.groupTokens } });
  let first = Number.NaN, last = Number.NaN;
  const total = settings.steps + 1; // the steps, then the accuracies
  for (let step = 0; step < settings.steps; step++) {
    const { metrics } = await trainer.trainStep();
    if (step === 0) first = metrics.loss!;
    last = metrics.loss!;
    options.onProgress?.(step + 1, total);
  }
  const held = options.heldOut.length > 0 ? trainer.evaluate(options.heldOut) : null;
  // Train accuracy on at most TRAIN_ACCURACY_PAIRS of the pairs, spread evenly: a user's few thousand labeled pairs
  // would otherwise cost more forward passes than the fit (2,300 HH-RLHF pairs: most of a 100 s rewards stage).
  const stride = Math.max(1, Math.ceil(options.train.length / TRAIN_ACCURACY_PAIRS));
  const trainAccuracy = trainer.evaluate(options.train.filter((_, i) => i % stride === 0)).accuracy;
  options.onProgress?.(total, total);
  return {
    score: (sequences) => trainer.scoreSequences(sequences),
    metrics: { trainPairs: options.train.length, heldOutPairs: options.heldOut.length, fitLossFirst: first, fitLoss: last,
      trainAccuracy, heldOutAccuracy: held?.accuracy ?? Number.NaN, heldOutLoss: held?.loss ?? Number.NaN },
  };
}

/** The train pairs a fitted model's trainAccuracy is measured on, at most (every k-th of them). */
export const TRAIN_ACCURACY_PAIRS = 256;

export function rewardModelId(round: number): string {
  return recordId('reward-model', { round });
}

export const ANCHOR_MODEL_ID = recordId('reward-model', { source: 'labeled-anchors' });

const heldOutBy = (share: number) => (key: string) => hashToUnit(`${key}|reward-model-held-out`) < share;

/** The model's fit options from the config: the SFT trunk, the algorithm's clip and precision. */
function fitOptions(context: RoundContext, label: string) {
  const { config } = context, policy = inProcessPolicy(context.policy, 'a reward model (rewards.mode reward-model, feedback.labeledAnchors)');
  return { trunk: policy.reference, settings: config.rewards.rewardModel, maxGradNorm: config.algorithm.maxGradNorm, precision: config.algorithm.precision,
    groupTokens: config.algorithm.groupTokens, seed: seedFor(context, label) };
}

/** Fitted once per process (deterministic, so a resumed run refits the same model); recorded once per run. */
const anchorModels = new WeakMap<RoundContext, Promise<FittedRewardModel>>();

/** The labeled-data source's model: fitted on context.labeledPairs (preferred as chosen, hard labels), a hashed share held out. */
function anchorModel(context: RoundContext, round: number): Promise<FittedRewardModel> {
  let fitted = anchorModels.get(context);
  if (!fitted) {
    const { config } = context, policy = inProcessPolicy(context.policy, 'feedback.labeledAnchors'), isHeldOut = heldOutBy(config.rewards.rewardModel.heldOutShare);
    const room = policy.model.config.maxPositions, stop = policy.stopToken === null ? [] : [policy.stopToken];
    const pairs = (context.labeledPairs ?? []).map((a, i) => {
      const chosen = Int32Array.from([...policy.tokenizer.encode(a.preferred), ...stop]), rejected = Int32Array.from([...policy.tokenizer.encode(a.other), ...stop]);
      return { key: `${a.prompt.id}|${i}`, pair: { prompt: policy.promptTokens(a.prompt.messages, Math.max(chosen.length, rejected.length)), chosen, rejected } };
    }).filter(({ pair }) => pair.chosen.length > 0 && pair.rejected.length > 0 && pair.prompt.length + Math.max(pair.chosen.length, pair.rejected.length) <= room);
    const train = pairs.filter((p) => !isHeldOut(p.key)).map((p) => p.pair), heldOut = pairs.filter((p) => isHeldOut(p.key)).map((p) => p.pair);
    if (train.length === 0) throw new Error('feedback.labeledAnchors: no labeled comparisons to fit the labeled-anchor model on (the testbed anchor set has none beyond the gate\'s anchorPairs)');
    fitted = fitRewardModel({ ...fitOptions(context, 'labeled-anchor-model'), train, heldOut,
      onProgress: (done, total) => context.onProgress?.({ stage: `rewards: fitting the labeled-anchor model on ${train.length} pairs`, round, done, total }) });
    anchorModels.set(context, fitted);
  }
  return fitted;
}

/**
 * The rewards stage when a fitted model gives a component: rewards.mode reward-model fits on the round's judged pairs
 * and scores every sample; feedback.labeledAnchors scores them with the labeled-anchor model. Then the same reward
 * records as the direct mode. A resumed round whose rewards are all stored fits nothing.
 */
export async function rewardModelStage(context: RoundContext, round: number, rollout: RoundSamples, feedback: Feedback): Promise<RewardRecord[]> {
  const { store, config } = context, policy = inProcessPolicy(context.policy, 'rewards.mode reward-model');
  const stored = rollout.samples.map((s) => store.get('reward', recordId('reward', s.id)));
  if (stored.every((r) => r !== undefined)) return stored as RewardRecord[];
  const K = rollout.samples.length / rollout.prompts.length;
  const promptOf = new Map(rollout.samples.map((s, b) => [s.id, policy.promptTokens(rollout.prompts[Math.floor(b / K)]!.messages)]));
  const tokensOf = new Map(rollout.samples.map((s) => [s.id, Int32Array.from(s.tokens)]));
  const sequences = rollout.samples.map((s) => concatTokens(promptOf.get(s.id)!, tokensOf.get(s.id)!));
  const models: Partial<Record<'reward-model' | 'labeled-anchors', ModelScores>> = {};
  if (config.rewards.mode === 'reward-model') {
    const judged = feedback.pairs.filter((j) => j.ok && j.probabilityA !== null && tokensOf.get(j.parents[0]!)!.length > 0 && tokensOf.get(j.parents[1]!)!.length > 0);
    const isHeldOut = heldOutBy(config.rewards.rewardModel.heldOutShare);
    const pair = (j: (typeof judged)[number]): TokenPreferencePair => {
      const aWins = j.probabilityA! >= 0.5, a = tokensOf.get(j.parents[0]!)!, b = tokensOf.get(j.parents[1]!)!;
      return { prompt: promptOf.get(j.parents[0]!)!, chosen: aWins ? a : b, rejected: aWins ? b : a, label: Math.max(j.probabilityA!, 1 - j.probabilityA!) };
    };
    const train = judged.filter((j) => !isHeldOut(j.id)), heldOut = judged.filter((j) => isHeldOut(j.id));
    let scores: Float32Array = new Float32Array(rollout.samples.length), metrics: Record<string, number> = { trainPairs: 0, heldOutPairs: heldOut.length };
    if (train.length > 0) {
      const fitted = await fitRewardModel({ ...fitOptions(context, `reward-model|${round}`), train: train.map(pair), heldOut: heldOut.map(pair),
        onProgress: (done, total) => context.onProgress?.({ stage: `rewards: fitting the reward model on ${train.length} pairs`, round, done, total }) });
      scores = fitted.score(sequences);
      metrics = fitted.metrics;
    }
    const id = rewardModelId(round);
    store.put({ id, kind: 'reward-model', source: 'pairwise-ai', round, parents: train.map((j) => j.id), heldOut: heldOut.map((j) => j.id), metrics });
    models['reward-model'] = { id, scores };
  }
  if (config.feedback.labeledAnchors > 0) {
    const fitted = await anchorModel(context, round);
    store.put({ id: ANCHOR_MODEL_ID, kind: 'reward-model', source: 'labeled-anchors', round: -1, parents: [], heldOut: [], metrics: fitted.metrics });
    models['labeled-anchors'] = { id: ANCHOR_MODEL_ID, scores: fitted.score(sequences) };
  }
  return rewardStage(context, round, rollout, feedback, models);
}
