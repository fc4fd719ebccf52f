// Critique–revision SFT, Constitutional AI's supervised stage (Bai et al., arXiv 2212.08073 §3.1): sample a response
// from the policy, have it critiqued against a principle and revised (src/feedback's CritiqueReviser or anything with
// the same `revise`), then fine-tune on the revisions with the SFT step (loss on response tokens only).
// Leaves out: several critique rounds per response (call revise again), mixing in helpfulness data.
import { AdamW, noGrad, Rng, type Tensor } from '../engine/index.ts';
import type { CritiqueRevisionResult, PointwiseInput } from '../feedback/judgment-types.ts';
import type { Transformer } from '../models/transformer.ts';
import { responseTokens, sampleBatch } from './rollout.ts';
import { atPrecision } from './precision-config.ts';
import type { MatmulPrecision } from '../engine/index.ts';
import { sftStep, type SftExample } from './sft-trainer.ts';
import { restoreTrainer, saveTrainer, StageTimer, type StepRecord, type TrainingState } from './training-run.ts';

export interface CritiqueRevisionConfig {
  promptsPerStep: number;
  maxNewTokens: number;
  temperature: number;
  stopToken: number | null;
  learningRate: number;
  maxGradNorm: number;
  sftStepsPerBatch: number;  // SFT updates on each batch of revisions
  seed: number;
  precision?: MatmulPrecision; // matmuls while training (precision-config.ts; absent: fp32)
}

/** What revises a response: src/feedback's CritiqueReviser fits. */
export interface ReviserLike {
  revise(input: PointwiseInput, signal?: AbortSignal): Promise<CritiqueRevisionResult>;
}

export interface CritiqueRevisionSetup {
  config: CritiqueRevisionConfig;
  policy: Transformer;                                   // trainable
  prompts: { text: string; tokens: Int32Array }[];       // cycled in order
  decode: (ids: Int32Array) => string;
  encodeResponse: (text: string) => Int32Array;          // revision text → response tokens (stop token included)
  reviser: ReviserLike;
}

/** One revised sample, kept for inspection (critique, principle) and for training (tokens). */
export interface RevisionRecord {
  prompt: string;
  response: string;
  critique: string;
  revision: string;
  principle: string;
}

export class CritiqueRevisionTrainer {
  readonly config: CritiqueRevisionConfig;
  readonly trainable: Map<string, Tensor>;
  readonly optimizer: AdamW;
  readonly rng: Rng;
  readonly revisions: RevisionRecord[] = [];
  step = 0;
  dataPosition = 0;

  constructor(readonly setup: CritiqueRevisionSetup) {
    this.config = setup.config;
    this.trainable = new Map([...setup.policy.parameters()].filter(([, t]) => t.requiresGrad));
    if (this.trainable.size === 0) throw new Error('critique-revision: the policy has no trainable parameters (use trainableCopy)');
    this.optimizer = new AdamW([...this.trainable.values()], { lr: this.config.learningRate, weightDecay: 0 });
    this.rng = new Rng(this.config.seed);
  }

  /** rollout → critiqueRevision → update. */
  async trainStep(signal?: AbortSignal): Promise<StepRecord> {
    const c = this.config, timer = new StageTimer(), { prompts } = this.setup;
    const batchPrompts = Array.from({ length: c.promptsPerStep }, (_, i) => prompts[(this.dataPosition + i) % prompts.length]);
    const seed = this.rng.nextUint32();
    const batch = await timer.run('rollout', () => noGrad(() => sampleBatch(this.setup.policy, batchPrompts.map((p) => p.tokens),
      { maxNewTokens: c.maxNewTokens, temperature: c.temperature, stopToken: c.stopToken, seed })), c.promptsPerStep * c.maxNewTokens);
    const results = await timer.run('critiqueRevision', () => Promise.all(batchPrompts.map((prompt, b) => {
      const response = this.setup.decode(responseTokens(batch, b));
      return this.setup.reviser.revise({ id: `${this.step}:${this.dataPosition + b}`, conversation: [{ role: 'user', content: prompt.text }], response }, signal)
        .then((result) => ({ result, response }));
    })));
    const examples: SftExample[] = [];
    let failures = 0, changed = 0;
    results.forEach(({ result, response }, b) => {
      if (result.kind !== 'ok') { failures++; return; }
      this.revisions.push({ prompt: batchPrompts[b].text, response, critique: result.critique, revision: result.revision, principle: result.principle.id });
      if (result.revision !== response) changed++;
      examples.push({ prompt: batchPrompts[b].tokens, response: this.setup.encodeResponse(result.revision) });
    });
    let loss = 0, gradNorm = 0;
    if (examples.length > 0) {
      const tokens = examples.reduce((a, e) => a + e.prompt.length + e.response.length, 0) * c.sftStepsPerBatch;
      await timer.run('update', () => {
        for (let k = 0; k < c.sftStepsPerBatch; k++) ({ loss, gradNorm } = atPrecision(c.precision, () => sftStep(this.setup.policy, this.optimizer, examples, c.maxGradNorm)));
      }, tokens);
    }
    this.step++;
    this.dataPosition += c.promptsPerStep;
    return { step: this.step, stages: timer.stages,
      metrics: { revised: examples.length, revisionFailures: failures, changedFraction: examples.length > 0 ? changed / examples.length : 0, loss, gradNorm } };
  }

  state(): TrainingState {
    return { step: this.step, dataPosition: this.dataPosition, rng: this.rng.getState(), extra: {} };
  }

  save(dir: string): void {
    saveTrainer(dir, this, this.state());
  }

  load(dir: string): void {
    this.rng.setState(restoreTrainer(dir, this).rng);
  }
}
