// The policy a run improves: a Transformer with its tokenizer, the frozen reference, and the update of the chosen
// algorithm (GRPO / RLOO / PPO through PolicyGradientTrainer.learn; DPO / online DPO through DpoTrainer.trainOn),
// full or LoRA, and SFT on revisions for critique-revision rounds (sftStep, same trainable parameters). Rollouts with
// one seed per sample; KL, entropy and anchor likelihoods for the gate; save/load of the whole training state for
// rollback and resume. Leaves out: remote policies (endpoint-policy.ts: OpenAI-compatible endpoints cannot be trained
// here). GRPO arXiv 2402.03300, RLOO 2402.14740, PPO 1707.06347, DPO 2305.18290.
import { AdamW, noGrad, Rng, scope, type Tensor } from '../engine/index.ts';
import { atPrecision } from '../algorithms/precision-config.ts';
import { sftBatch, sftLoss, sftStep, type SftExample } from '../algorithms/sft-trainer.ts';
import { deriveSeed } from '../engine/random.ts';
import { DpoTrainer } from '../algorithms/dpo-trainer.ts';
import { RATIO_FREE } from '../algorithms/policy-gradient-config.ts';
import { policyGradientConfig, PolicyGradientTrainer } from '../algorithms/policy-gradient-trainer.ts';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import { frozenCopy, trainableCopy } from '../algorithms/reference-model.ts';
import { sampleBatch, scoreTokensGrouped, responseTokens, type RolloutBatch } from '../algorithms/rollout.ts';
import { plainTranscript } from '../feedback/providers/transformer-language-model.ts';
import { scoreResponses } from '../models/score.ts';
import type { TextTokenizer } from '../models/tokenizer.ts';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import type { Transformer } from '../models/transformer.ts';
import type { RolloutRow, RowSample } from './endpoint-policy.ts';
import type { RunConfig } from './run-config.ts';

type ChatTokenizer = TextTokenizer & { chatTemplate?: string | null; applyChatTemplate?: (messages: ChatMessage[]) => number[] };

export interface PolicySamples {
  batch: RolloutBatch;
  texts: string[];           // (B,) decoded responses, special tokens skipped
}

export interface SampleMeasures {
  kl: Float32Array;          // (B,) Σ_t log π(a_t) − log π_ref(a_t) over each response (k1)
  entropy: Float32Array;     // (B,) mean token entropy of π over each response
}

export interface TokenSettings { maxNewTokens: number; temperature: number; stopToken: number | null }

/**
 * One batch of rows sampled from `model`, each row's randomness from its own seed: the response token ids (stop token
 * included) and their log-probs. The one sampling function of the in-process rollout and of a rollout worker.
 */
export function sampleTokenRows(model: Transformer, prompts: Int32Array[], seeds: number[], settings: TokenSettings): { tokens: number[]; logprobs: number[] }[] {
  const batch = noGrad(() => sampleBatch(model, prompts, { maxNewTokens: settings.maxNewTokens, temperature: settings.temperature, stopToken: settings.stopToken, seed: 0, seeds }));
  return prompts.map((_, b) => {
    const start = b * batch.T + batch.promptLength, length = batch.responseLengths[b]!;
    return { tokens: Array.from(batch.tokens.subarray(start, start + length)), logprobs: Array.from(batch.logprobs.subarray(start - 1, start - 1 + length)) };
  });
}

export interface LoopPolicyOptions {
  base: Transformer;         // the starting (SFT) weights; copied, never modified
  tokenizer: ChatTokenizer;
  config: Pick<RunConfig, 'algorithm' | 'maxNewTokens' | 'temperature' | 'samplesPerPrompt' | 'promptsPerRound'> & Partial<Pick<RunConfig, 'rolloutBatchRows'>>;
  seed: number;
  pretrain?: string[];       // pretraining paragraphs for algorithm.pretrainCoef (PPO-ptx)
}

/**
 * Pretraining paragraphs as language-modelling examples: after a separator token (BOS, else EOS: the testbed's corpus
 * paragraphs follow its end token, as in its build), the paragraph's tokens and EOS, cut to the context.
 */
export function pretrainExamples(lines: string[], tokenizer: TextTokenizer, maxPositions: number): SftExample[] {
  const separator = tokenizer.bosTokenId ?? tokenizer.eosTokenId;
  if (separator === null) throw new Error('algorithm.pretrainCoef: the tokenizer has neither a BOS nor an EOS token to open each paragraph with');
  return lines.map((line) => {
    const ids = [...tokenizer.encode(line, { addSpecialTokens: false }), ...(tokenizer.eosTokenId === null ? [] : [tokenizer.eosTokenId])];
    return { prompt: Int32Array.of(separator), response: Int32Array.from(ids.slice(0, maxPositions - 1)) };
  }).filter((e) => e.response.length > 0);
}

export class LoopPolicy {
  readonly kind = 'in-process' as const;
  readonly model: Transformer;
  readonly reference: Transformer;
  readonly tokenizer: ChatTokenizer;
  readonly stopToken: number | null;
  readonly #options: LoopPolicyOptions;
  readonly #pg: PolicyGradientTrainer | null;
  readonly #dpo: DpoTrainer | null;

  constructor(options: LoopPolicyOptions) {
    this.#options = options;
    const { base, tokenizer, config, seed } = options, a = config.algorithm;
    this.model = trainableCopy(base);
    this.reference = frozenCopy(base);
    this.tokenizer = tokenizer;
    this.stopToken = tokenizer.eosTokenId;
    if (a.name === 'dpo' || a.name === 'online-dpo') {
      this.#pg = null;
      this.#dpo = new DpoTrainer({ policy: this.model, reference: this.reference, lora: a.lora,
        config: { loss: 'dpo', beta: a.klCoef, labelSmoothing: 0, learningRate: a.learningRate, batchSize: 0, maxGradNorm: a.maxGradNorm, evalEvery: 0, seed, precision: a.precision, groupTokens: a.groupTokens } });
    } else {
      this.#dpo = null;
      this.#pg = new PolicyGradientTrainer({
        policy: this.model, reference: this.reference, lora: a.lora, prompts: [], decode: (ids) => this.decode(ids),
        reward: { name: 'unused', score: () => { throw new Error('the run scores rewards itself (learn)'); } },
        // The knobs the run sets; the rest are policy-gradient-config.ts's defaults. rloo has no importance ratio: one pass.
        config: policyGradientConfig({
          algorithm: a.name, promptsPerStep: config.promptsPerRound, groupSize: config.samplesPerPrompt, maxNewTokens: config.maxNewTokens,
          temperature: config.temperature, stopToken: this.stopToken, learningRate: a.learningRate, maxGradNorm: a.maxGradNorm,
          epochs: RATIO_FREE.has(a.name) ? 1 : a.stepsPerRound, minibatches: a.minibatches, clipLow: a.clip, clipHigh: a.clip, klCoef: a.klCoef, seed,
          groupStdNormalization: a.groupStdNormalization, precision: a.precision, pretrainCoef: a.pretrainCoef, pretrainBatchSize: a.pretrainBatchSize,
          groupTokens: a.groupTokens,
        }),
        ...(a.pretrainCoef > 0 ? { pretrain: pretrainExamples(options.pretrain ?? [], tokenizer, base.config.maxPositions) } : {}),
      });
    }
  }

  get learnsFromPairs(): boolean { return this.#dpo !== null; }

  /**
   * Prompt token ids: the tokenizer's chat template, else a plain transcript after BOS; a prompt longer than the
   * context leaves room for `room` tokens (default maxNewTokens) by keeping its end. (P,)
   */
  promptTokens(messages: ChatMessage[], room = this.#options.config.maxNewTokens): Int32Array {
    const t = this.tokenizer;
    let ids: number[];
    if (t.chatTemplate && t.applyChatTemplate) ids = t.applyChatTemplate(messages);
    else {
      const text = t.encode(plainTranscript(messages));
      ids = t.bosTokenId !== null && text[0] !== t.bosTokenId ? [t.bosTokenId, ...text] : text;
    }
    const keep = Math.max(1, this.model.config.maxPositions - room);
    return Int32Array.from(ids.length > keep ? ids.slice(ids.length - keep) : ids);
  }

  decode(ids: ArrayLike<number>): string {
    return this.tokenizer.decode(ids, { skipSpecialTokens: true }).trim();
  }

  /** One sample per (prompt, seed) row, each row's randomness from its own seed. */
  sample(prompts: Int32Array[], seeds: number[]): PolicySamples {
    const c = this.#options.config;
    const batch = noGrad(() => sampleBatch(this.model, prompts, { maxNewTokens: c.maxNewTokens, temperature: c.temperature, stopToken: this.stopToken, seed: 0, seeds }));
    return { batch, texts: prompts.map((_, b) => this.decode(responseTokens(batch, b))) };
  }

  /** One sample per row (prompt tokens from its messages, randomness from its seed), as records hold them. */
  async sampleRows(rows: RolloutRow[]): Promise<RowSample[]> {
    const per = this.#options.config.rolloutBatchRows ?? Math.max(rows.length, 1), out: RowSample[] = [];
    for (let start = 0; start < rows.length; start += per) {   // the batches a queued rollout's jobs sample too
      const chunk = rows.slice(start, start + per);
      const drawn = sampleTokenRows(this.model, chunk.map((row) => this.promptTokens(row.messages)), chunk.map((row) => row.seed), this.tokenSettings);
      for (const d of drawn) out.push({ text: this.decode(d.tokens), ...d });
    }
    return out;
  }

  /** What sampling needs besides the weights (a rollout worker gets these with them). */
  get tokenSettings(): TokenSettings {
    return { maxNewTokens: this.#options.config.maxNewTokens, temperature: this.#options.config.temperature, stopToken: this.stopToken };
  }

  /** KL to the reference and entropy per response of a batch, under the current policy. */
  measure(batch: RolloutBatch): SampleMeasures {
    const { B, T } = batch;
    return noGrad(() => {
      const tokens = this.#options.config.algorithm.groupTokens;
      const policy = scoreTokensGrouped(this.model, batch, tokens), reference = scoreTokensGrouped(this.reference, batch, tokens);
      const kl = new Float32Array(B), entropy = new Float32Array(B);
      for (let b = 0; b < B; b++) {
        let n = 0;
        for (let t = 0; t < T; t++) {
          const i = b * T + t;
          if (!batch.actionMask[i]) continue;
          kl[b] += policy.logprobs[i]! - reference.logprobs[i]!;
          entropy[b] += policy.entropies[i]!;
          n++;
        }
        entropy[b] /= Math.max(n, 1);
      }
      return { kl, entropy };
    });
  }

  /** Share of labeled pairs whose preferred response the policy finds likelier per token (its own ranking). */
  anchorAgreement(pairs: { prompt: Int32Array; preferred: Int32Array; other: Int32Array }[]): number {
    if (pairs.length === 0) return Number.NaN;
    return noGrad(() => scope(() => {
      const scored = scoreResponses(this.model, { prompts: [...pairs.map((p) => p.prompt), ...pairs.map((p) => p.prompt)],
        responses: [...pairs.map((p) => p.preferred), ...pairs.map((p) => p.other)] }, { entropies: false });
      const R = scored.logprobs.shape[1]!, data = scored.logprobs.data, n = pairs.length;
      const mean = (row: number, length: number) => { let s = 0; for (let t = 0; t < length; t++) s += data[row * R + t]; return s / length; };
      return pairs.filter((p, i) => mean(i, p.preferred.length) > mean(n + i, p.other.length)).length / n;
    }));
  }

  /** Policy gradient on rewards of a sampled batch; returns the per-sequence advantages (B,) and step metrics. */
  async learn(batch: RolloutBatch, rewards: Float32Array): Promise<{ advantages: Float32Array; metrics: Record<string, number> }> {
    if (!this.#pg) throw new Error('learn: this policy learns from pairs (dpo)');
    const { record, advantages } = await this.#pg.learn(batch, rewards);
    const perSequence = new Float32Array(batch.B);
    for (let b = 0; b < batch.B; b++) {
      let s = 0, n = 0;
      for (let t = 0; t < batch.T; t++) if (batch.actionMask[b * batch.T + t]) { s += advantages[b * batch.T + t]; n++; }
      perSequence[b] = n > 0 ? s / n : 0;
    }
    return { advantages: perSequence, metrics: record.metrics };
  }

  /** DPO on judged pairs (chosen = the labeler's preferred sample, label = its soft probability). */
  async learnPairs(pairs: TokenPreferencePair[], seed: number): Promise<Record<string, number>> {
    if (!this.#dpo) throw new Error('learnPairs: this policy learns from rewards (policy gradient)');
    const a = this.#options.config.algorithm;
    if (a.name === 'online-dpo') for (const [name, t] of this.model.parameters()) this.reference.parameters().get(name)?.data.set(t.data);
    let last: Record<string, number> = {};
    const size = Math.max(1, Math.ceil(pairs.length / a.minibatches));
    for (let pass = 0; pass < a.stepsPerRound; pass++) {
      const order = new Rng(deriveSeed(seed, `dpo-pass-${pass}`)).shuffle([...Array(pairs.length).keys()]);
      for (let start = 0; start < pairs.length; start += size) {
        last = (await this.#dpo.trainOn(order.slice(start, start + size).map((i) => pairs[i]!))).metrics;
      }
    }
    return last;
  }

  /**
   * SFT on (prompt, response) pairs — Constitutional AI's supervised stage (arXiv 2212.08073 §3.1) — with a fresh AdamW
   * over the parameters the algorithm trains (the LoRA adapters under LoRA; never PPO's value head): `epochs` seeded
   * passes of `minibatches` steps. The algorithm's own optimizer state is left as it was.
   */
  async learnSft(examples: SftExample[], options: { learningRate: number; epochs: number; minibatches: number; seed: number }): Promise<Record<string, number>> {
    if (examples.length === 0) return { examples: 0 };
    const a = this.#options.config.algorithm;
    const value = new Set<Tensor>(this.#pg?.valueHead ? this.#pg.valueHead.parameters().values() : []);
    const trainable = [...(this.#pg ?? this.#dpo)!.trainable.values()].filter((t) => !value.has(t));
    const optimizer = new AdamW(trainable, { lr: options.learningRate, weightDecay: 0 });
    const size = Math.max(1, Math.ceil(examples.length / options.minibatches));
    const lossOfAll = () => noGrad(() => scope(() => sftLoss(this.model, sftBatch(examples)).item()));   // mean NLL per target token
    const before = lossOfAll();
    let gradNorm = 0, steps = 0;
    for (let pass = 0; pass < options.epochs; pass++) {
      const order = new Rng(deriveSeed(options.seed, `sft-pass-${pass}`)).shuffle([...Array(examples.length).keys()]);
      for (let start = 0; start < examples.length; start += size, steps++) {
        ({ gradNorm } = atPrecision(a.precision, () => sftStep(this.model, optimizer, order.slice(start, start + size).map((i) => examples[i]!), a.maxGradNorm)));
      }
    }
    return { examples: examples.length, sftSteps: steps, sftLossBefore: before, sftLossAfter: lossOfAll(), gradNorm };
  }

  /** The whole training state (trainable weights, optimizer, RNG, KL controller; reference for online DPO). */
  save(dir: string): void {
    if (this.#pg) this.#pg.save(dir);
    else this.#dpo!.save(dir, this.#referenceTensors());
  }

  load(dir: string): void {
    if (this.#pg) this.#pg.load(dir);
    else this.#dpo!.load(dir, this.#referenceTensors());
  }

  #referenceTensors() {
    return new Map([...this.reference.parameters()].map(([name, t]) => [`reference.${name}`, t]));
  }
}
