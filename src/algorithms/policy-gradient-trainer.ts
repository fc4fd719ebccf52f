// Policy-gradient RL on a transformer policy — REINFORCE, RLOO, GRPO and PPO with a value head — as one step of named,
// timed stages: rollout → score → referenceLogprobs → values → advantages → update. Full fine-tuning or any subset
// of parameters (e.g. LoRA adapters) via `trainable`. PPO: arXiv 1707.06347; GRPO 2402.03300; RLOO 2402.14740.
import { AdamW, add, backward, mulScalar, noGrad, Rng, scope, tensor, type Tensor } from '../engine/index.ts';
import { deriveSeed } from '../engine/random.ts';
import type { Transformer } from '../models/transformer.ts';
import { computeAdvantages, whitenAdvantages } from './advantages.ts';
import { makeKlController, type KlController } from './kl-control.ts';
import { entropyBonus, grpoLoss, klRewardPenalty, policyGradientLoss, ppoPolicyLoss, ppoValueLoss } from './losses.ts';
import { ScalarHead } from '../models/heads.ts';
import { atPrecision } from './precision-config.ts';
import { aggregationOf, policyGradientConfig, policyGradientShape, type PolicyGradientAlgorithm, type PolicyGradientConfig } from './policy-gradient-config.ts';
import type { RewardSource } from './reward-sources.ts';
import { groupBatch, groupColumns, lengthGroups, responseTokens, sampleBatch, scoreTokens, scoreTokensGrouped, type RolloutBatch } from './rollout.ts';
import { aggregationWeights, maskedMeanValue } from './token-aggregation.ts';
import { selectTrainable, type LoraOptions } from './trainable-parameters.ts';
import { sftBatch, sftLoss, type SftExample } from './sft-trainer.ts';
import { restoreTrainer, saveTrainer, StageTimer, type StepRecord, type TrainingState } from './training-run.ts';

export { policyGradientConfig, policyGradientConfigSchema, type PolicyGradientAlgorithm, type PolicyGradientConfig,
  type PolicyGradientConfigInput } from './policy-gradient-config.ts';

export interface PolicyGradientSetup {
  config: PolicyGradientConfig;                    // parsed by policyGradientConfigSchema (checked again here)
  policy: Transformer;
  reference: Transformer;                          // frozen π_ref (frozenCopy(policy) before training)
  trainable?: Map<string, Tensor>;                 // default: every policy parameter
  lora?: LoraOptions | null;                       // train only LoRA adapters attached to the policy (base frozen)
  prompts: { text: string; tokens: Int32Array }[]; // cycled in order; the data position is checkpointed
  decode: (ids: Int32Array) => string;
  reward: RewardSource;
  pretrain?: SftExample[];                         // pretraining text for config.pretrainCoef (PPO-ptx), drawn at random
}

/** The trainer's own keys of a config that may carry more (a CLI run config). */
function trainerKeys(config: PolicyGradientConfig): PolicyGradientConfig {
  return Object.fromEntries(Object.keys(policyGradientShape).map((key) => [key, config[key as keyof PolicyGradientConfig]])) as PolicyGradientConfig;
}

/** Rows of a batch, copied (minibatches). */
function rows(source: Float32Array, index: number[], T: number): Float32Array {
  const out = new Float32Array(index.length * T);
  index.forEach((b, i) => out.set(source.subarray(b * T, (b + 1) * T), i * T));
  return out;
}

export class PolicyGradientTrainer {
  readonly config: PolicyGradientConfig;
  readonly optimizer: AdamW;
  readonly valueHead: ScalarHead | null;
  readonly klController: KlController;
  readonly rng: Rng;
  readonly pretrainRng: Rng;                       // draws the pretraining batches (its own stream: the rest is as without them)
  readonly trainable: Map<string, Tensor>;
  step = 0;
  dataPosition = 0;
  baseline: number | undefined = undefined;

  constructor(readonly setup: PolicyGradientSetup) {
    this.config = policyGradientConfig(trainerKeys(setup.config)); // a hand-built config meets the schema's checks too
    const c = this.config;
    this.trainable = selectTrainable(setup.policy, { lora: setup.lora, trainable: setup.trainable, seed: c.seed }).trainable;
    this.valueHead = c.algorithm === 'ppo' ? new ScalarHead(setup.policy.config.hiddenSize, { name: 'value_head', bias: true }) : null;
    this.valueHead?.weight.data.fill(0);                    // zero-initialised: values start neutral
    if (this.valueHead) for (const [name, t] of this.valueHead.parameters()) this.trainable.set(name, t);
    this.optimizer = new AdamW([...this.trainable.values()], { lr: c.learningRate, weightDecay: 0 });
    this.klController = makeKlController(c.klTarget === null
      ? { kind: 'fixed', initial: c.klCoef } : { kind: 'adaptive', initial: c.klCoef, target: c.klTarget, horizon: c.klHorizon });
    this.rng = new Rng(c.seed);
    this.pretrainRng = new Rng(deriveSeed(c.seed, 'pretrain'));
    if (c.pretrainCoef > 0 && !(setup.pretrain && setup.pretrain.length > 0)) {
      throw new Error(`pretrainCoef ${c.pretrainCoef} needs pretraining examples (the trainer was given none): set it to 0, or give the text to replay`);
    }
  }

  /** One RL step; returns its metrics and stage timings. */
  async trainStep(): Promise<StepRecord> {
    const c = this.config, { policy } = this.setup, timer = new StageTimer();
    const prompts = Array.from({ length: c.promptsPerStep }, (_, i) => this.setup.prompts[(this.dataPosition + i) % this.setup.prompts.length]);
    const expanded = prompts.flatMap((p) => Array.from({ length: c.groupSize }, () => p));
    const sampleSeed = this.rng.nextUint32();
    const batch = await timer.run('rollout', () => sampleBatch(policy, expanded.map((p) => p.tokens),
      { maxNewTokens: c.maxNewTokens, temperature: c.temperature, stopToken: c.stopToken, seed: sampleSeed }),
      expanded.length * c.maxNewTokens);
    const generated = batch.responseLengths.reduce((a, n) => a + n, 0);
    const outcome = await timer.run('score', () => this.setup.reward.score({
      prompts: expanded.map((p) => p.text), promptTokens: expanded.map((p) => p.tokens),
      responseTokens: expanded.map((_, b) => responseTokens(batch, b)),
      responses: expanded.map((_, b) => this.setup.decode(responseTokens(batch, b))),
      ids: expanded.map((_, b) => `${this.step}:${b}`),
    }), generated);
    const learned = await this.learn(batch, outcome.rewards, timer);
    return { ...learned.record, metrics: { ...learned.record.metrics, rewardFailures: outcome.failures } };
  }

  /**
   * The update half of a step on a batch sampled elsewhere (the `rlaif run` round samples, judges and records first):
   * referenceLogprobs → values → advantages → update. Returns the step record and the (B, T) advantages used.
   */
  async learn(batch: RolloutBatch, rewards: Float32Array, timer = new StageTimer()): Promise<{ record: StepRecord; advantages: Float32Array }> {
    const c = this.config, { policy, reference } = this.setup;
    const { B, T } = batch, generated = batch.responseLengths.reduce((a, n) => a + n, 0);
    const referenceLogprobs = await timer.run('referenceLogprobs', () => noGrad(() => scoreTokensGrouped(reference, batch, c.groupTokens).logprobs), B * T);
    const oldValues = await timer.run('values', () => this.valueHead ? noGrad(() => scope(() =>
      this.valueHead!.forward(scoreTokens(policy, batch).hidden).data.slice())) : null, this.valueHead ? B * T : 0);
    const kl = this.sequenceKl(batch, referenceLogprobs);
    const { advantages, returns } = await timer.run('advantages', () => this.advantages(batch, rewards, referenceLogprobs, oldValues));
    const update = await timer.run('update', () => this.update(batch, referenceLogprobs, advantages, returns, oldValues), B * T * c.epochs);
    this.klController.update(kl, B);
    this.step++;
    this.dataPosition += c.promptsPerStep;
    const r = rewards, mean = r.reduce((a, x) => a + x, 0) / B;
    const std = Math.sqrt(r.reduce((a, x) => a + (x - mean) ** 2, 0) / B);
    return {
      advantages,
      record: {
        step: this.step, stages: timer.stages,
        metrics: { rewardMean: mean, rewardStd: std, kl, klCoef: this.klController.value, responseLength: generated / B, ...update },
      },
    };
  }

  /** Mean over sequences of Σ_t (log π_old − log π_ref) on response tokens (the k1 estimate of KL per sequence). */
  private sequenceKl(batch: RolloutBatch, referenceLogprobs: Float32Array): number {
    let total = 0;
    for (let i = 0; i < batch.B * batch.T; i++) if (batch.actionMask[i]) total += batch.logprobs[i] - referenceLogprobs[i];
    return total / batch.B;
  }

  private advantages(batch: RolloutBatch, rewards: Float32Array, referenceLogprobs: Float32Array, values: Float32Array | null) {
    const c = this.config, { T, actionMask: mask } = batch, beta = this.klController.value;
    if (c.algorithm === 'grpo') return computeAdvantages('grpo', { rewards, mask, T, groupSize: c.groupSize, normalizeByStd: c.groupStdNormalization });
    const penalty = klRewardPenalty(batch.logprobs, referenceLogprobs, mask, beta, 'k1');  // (B, T)
    if (c.algorithm === 'ppo') {
      const out = computeAdvantages('gae', { rewards, mask, T, tokenRewards: penalty, values: values!, gamma: c.gamma, lambda: c.lambda });
      return { advantages: whitenAdvantages(out.advantages, mask), returns: out.returns };
    }
    const shaped = Float32Array.from(rewards, (r, b) => { // R − β·Σ_t KL_t: KL as reward shaping (sequence level)
      let s = r;
      for (let t = 0; t < T; t++) s += penalty[b * T + t];
      return s;
    });
    const out = computeAdvantages(c.algorithm, { rewards: shaped, mask, T, groupSize: c.groupSize, baseline: this.baseline });
    if (c.algorithm === 'reinforce') this.baseline = out.baseline;
    return out;
  }

  private update(batch: RolloutBatch, referenceLogprobs: Float32Array, advantages: Float32Array, returns: Float32Array,
    oldValues: Float32Array | null): Record<string, number> {
    const c = this.config, { B, T } = batch, aggregation = aggregationOf(c);
    const sums = { loss: 0, clipFraction: 0, valueLoss: 0, entropy: 0, gradNorm: 0, pretrainLoss: 0 };
    const pretrain = this.setup.pretrain ?? [];
    let count = 0;
    for (let epoch = 0; epoch < c.epochs; epoch++) {
      const order = this.rng.shuffle([...Array(B).keys()]);
      const size = Math.ceil(B / c.minibatches);
      for (let start = 0; start < B; start += size) {
        const index = order.slice(start, start + size), b = index.length;
        const tokensRows = new Int32Array(b * T);
        index.forEach((row, i) => tokensRows.set(batch.tokens.subarray(row * T, (row + 1) * T), i * T));
        const sub = { B: b, T, promptLength: batch.promptLength, tokens: tokensRows, keyMask: rows(batch.keyMask, index, T), actionMask: rows(batch.actionMask, index, T),
          responseLengths: Int32Array.from(index, (row) => batch.responseLengths[row]!) };
        const columns = { old: rows(batch.logprobs, index, T), reference: rows(referenceLogprobs, index, T), advantages: rows(advantages, index, T),
          oldValues: oldValues ? rows(oldValues, index, T) : null, returns: rows(returns, index, T) };
        // One optimizer step over the minibatch, its forward and backward run over groups of rows of similar length
        // (rollout.ts lengthGroups; PPO's value head reads the whole minibatch's hidden states: one group). Every loss
        // term is Σ w·loss with weights from the mask (token-aggregation.ts), so each group's term, scaled by its
        // share of the minibatch's weights, adds up to the minibatch's loss and its gradients to the same gradient.
        const groups = lengthGroups(sub, this.valueHead ? 0 : c.groupTokens);
        const normLength = c.algorithm === 'grpo' ? c.maxNewTokens : undefined;   // Dr. GRPO's divisor; the other losses' default (T)
        const policyWeights = aggregationWeights(sub.actionMask, b, T, aggregation, normLength);
        const actions = sub.actionMask.reduce((a, x) => a + (x !== 0 ? 1 : 0), 0);
        const result = { loss: 0, clipFraction: 0, valueLoss: 0, entropy: 0, gradNorm: 0, pretrainLoss: 0 };
        this.optimizer.zeroGrad();
        groups.forEach((group, g) => atPrecision(c.precision, () => scope(() => {
          const part = groupBatch(sub, group), n = group.rows.length, G = group.T;
          const mask = tensor(part.actionMask, [n, G]), old = tensor(groupColumns(columns.old, T, group), [n, G]);
          const adv = tensor(groupColumns(columns.advantages, T, group), [n, G]);
          const local = aggregationWeights(part.actionMask, n, G, aggregation, normLength).reduce((a, w) => a + w, 0);
          const policyScale = local > 0 ? groupColumns(policyWeights, T, group).reduce((a, w) => a + w, 0) / local : 0;
          const groupActions = part.actionMask.reduce((a, x) => a + (x !== 0 ? 1 : 0), 0), tokenShare = actions > 0 ? groupActions / actions : 0;
          const s = scoreTokens(this.setup.policy, part);
          let loss: Tensor, clipFraction = 0, valueLoss = 0;
          if (c.algorithm === 'grpo') {
            const r = grpoLoss(s.logprobs, old, tensor(groupColumns(columns.reference, T, group), [n, G]), adv, mask,
              { clipLow: c.clipLow, clipHigh: c.clipHigh, aggregation, klCoef: this.klController.value, normLength });
            loss = mulScalar(r.loss, policyScale); clipFraction = r.clipFraction;
          } else if (c.algorithm === 'ppo') {
            const p = ppoPolicyLoss(s.logprobs, old, adv, mask, { clipLow: c.clipLow, clipHigh: c.clipHigh, aggregation });
            const v = ppoValueLoss(this.valueHead!.forward(s.hidden), tensor(groupColumns(columns.oldValues!, T, group), [n, G]),
              tensor(groupColumns(columns.returns, T, group), [n, G]), mask, c.valueClip);
            loss = addScaled(p.loss, v.loss, c.valueCoef);   // one group (the whole minibatch): scale 1
            clipFraction = p.clipFraction; valueLoss = v.loss.item();
          } else {
            loss = mulScalar(policyGradientLoss(s.logprobs, adv, mask, aggregation), policyScale);
          }
          if (c.entropyCoef !== 0) loss = addScaled(loss, entropyBonus(s.entropies, mask, c.entropyCoef), tokenShare);   // token-mean
          // PPO-ptx: + γ · the mean token NLL of a batch of pretraining text (reported apart from the RL loss), once a step.
          let pretrainLoss = 0;
          if (c.pretrainCoef > 0 && g === 0) {
            const lm = sftLoss(this.setup.policy, sftBatch(Array.from({ length: c.pretrainBatchSize }, () => pretrain[this.pretrainRng.int(pretrain.length)]!)));
            pretrainLoss = lm.item();
            loss = addScaled(loss, lm, c.pretrainCoef);
          }
          result.loss += loss.item() - c.pretrainCoef * pretrainLoss;
          result.pretrainLoss += pretrainLoss;
          result.clipFraction += clipFraction * tokenShare;
          result.valueLoss += valueLoss;
          result.entropy += maskedMeanValue(s.entropies.data, part.actionMask) * tokenShare;
          if (loss.requiresGrad) backward(loss);
        })));
        result.gradNorm = this.optimizer.step({ maxGradNorm: c.maxGradNorm }).gradNorm;
        for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] += result[key];
        count++;
      }
    }
    for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] /= Math.max(count, 1);
    if (c.pretrainCoef === 0) { const { pretrainLoss: _, ...rest } = sums; return rest; }
    return sums;
  }

  /** Everything a resume needs besides the tensors. */
  state(): TrainingState {
    return { step: this.step, dataPosition: this.dataPosition, rng: this.rng.getState(),
      extra: { kl: this.klController.state(), baseline: this.baseline ?? null, pretrainRng: this.pretrainRng.getState() } };
  }

  save(dir: string): void {
    saveTrainer(dir, this, this.state());
  }

  load(dir: string): void {
    const state = restoreTrainer(dir, this);
    this.rng.setState(state.rng);
    this.klController.loadState(state.extra.kl as ReturnType<KlController['state']>);
    this.baseline = (state.extra.baseline as number | null) ?? undefined;
    if (state.extra.pretrainRng) this.pretrainRng.setState(state.extra.pretrainRng as ReturnType<Rng['getState']>);  // absent in checkpoints saved before PPO-ptx
  }
}

function addScaled(a: Tensor, b: Tensor, scale: number): Tensor {
  return add(a, mulScalar(b, scale)); // ()
}
