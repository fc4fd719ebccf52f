// Online / iterative DPO — the Self-Rewarding loop (Yuan et al., arXiv 2401.10020): sample K responses per prompt
// from the current policy, have a preference source (programmatic scorer or AI judge) pick chosen and rejected, train
// DPO on those pairs, repeat; optionally the reference becomes the current policy each iteration (M_t → M_{t+1}).
// Leaves out: the policy judging itself (pass a judge over the policy's own provider as the source to get that).
import { noGrad, Rng, type Tensor } from '../engine/index.ts';
import { DpoTrainer, type DpoConfig } from './dpo-trainer.ts';
import type { TokenPreferencePair } from './preference-pairs.ts';
import type { PreferenceSource } from './preference-sources.ts';
import { responseTokens, sampleBatch } from './rollout.ts';
import type { LoraOptions } from './trainable-parameters.ts';
import { StageTimer, type StepRecord } from './training-run.ts';
import type { Transformer } from '../models/transformer.ts';

export interface OnlineDpoConfig extends DpoConfig {
  promptsPerIteration: number;  // prompts sampled from per iteration
  samplesPerPrompt: number;     // K ≥ 2 responses per prompt
  maxNewTokens: number;
  temperature: number;
  stopToken: number | null;
  epochsPerIteration: number;   // passes of DPO over the iteration's pairs (in batches of batchSize)
  refreshReference: boolean;    // Self-Rewarding: π_ref ← π_θ after each iteration (not with LoRA)
}

export interface OnlineDpoSetup {
  config: OnlineDpoConfig;
  policy: Transformer;
  reference: Transformer;
  prompts: { text: string; tokens: Int32Array }[];   // cycled in order; the data position is checkpointed
  decode: (ids: Int32Array) => string;
  preferences: PreferenceSource;
  lora?: LoraOptions | null;
}

export class OnlineDpoTrainer {
  readonly config: OnlineDpoConfig;
  readonly dpo: DpoTrainer;
  readonly rng: Rng;
  iteration = 0;
  dataPosition = 0;

  constructor(readonly setup: OnlineDpoSetup) {
    const c = this.config = setup.config;
    if (c.samplesPerPrompt < 2) throw new Error(`online dpo: samplesPerPrompt must be ≥ 2, got ${c.samplesPerPrompt}`);
    if (c.refreshReference && setup.lora) throw new Error('online dpo: refreshReference with LoRA is not supported (the reference is the frozen base)');
    this.dpo = new DpoTrainer({ config: c, policy: setup.policy, reference: setup.reference, lora: setup.lora });
    this.rng = new Rng(c.seed);
  }

  get step(): number { return this.iteration; }

  /** One iteration: rollout → judge → pairs → update (→ refresh the reference). */
  async trainStep(signal?: AbortSignal): Promise<StepRecord> {
    const c = this.config, timer = new StageTimer(), { prompts } = this.setup;
    const chosenPrompts = Array.from({ length: c.promptsPerIteration }, (_, i) => prompts[(this.dataPosition + i) % prompts.length]);
    const expanded = chosenPrompts.flatMap((p) => Array.from({ length: c.samplesPerPrompt }, () => p));
    const seed = this.rng.nextUint32();
    const batch = await timer.run('rollout', () => noGrad(() => sampleBatch(this.setup.policy, expanded.map((p) => p.tokens),
      { maxNewTokens: c.maxNewTokens, temperature: c.temperature, stopToken: c.stopToken, seed })), expanded.length * c.maxNewTokens);
    const K = c.samplesPerPrompt;
    const answers = await timer.run('judge', () => Promise.all(chosenPrompts.map((prompt, i) => this.setup.preferences.prefer({
      id: `${this.iteration}:${this.dataPosition + i}`, prompt: prompt.text,
      responses: Array.from({ length: K }, (_, k) => this.setup.decode(responseTokens(batch, i * K + k))),
    }, signal))));
    const pairs: TokenPreferencePair[] = [];
    let failures = 0, scoreTotal = 0, scored = 0;
    answers.forEach((answer, i) => {
      failures += answer.failures;
      if (answer.scores) for (const s of answer.scores) { scoreTotal += s; scored++; }
      if (!answer.choice) return;
      pairs.push({ prompt: chosenPrompts[i].tokens, chosen: responseTokens(batch, i * K + answer.choice.chosen),
        rejected: responseTokens(batch, i * K + answer.choice.rejected), label: answer.choice.probability });
    });
    const sums: Record<string, number> = {};
    let updates = 0;
    for (let epoch = 0; epoch < c.epochsPerIteration && pairs.length > 0; epoch++) {
      const order = this.rng.shuffle([...pairs.keys()]);
      for (let start = 0; start < order.length; start += c.batchSize) {
        const record = await this.dpo.trainOn(order.slice(start, start + c.batchSize).map((k) => pairs[k]));
        for (const [name, value] of Object.entries(record.metrics)) sums[name] = (sums[name] ?? 0) + value;
        timer.merge(record.stages);
        updates++;
      }
    }
    if (c.refreshReference) await timer.run('refreshReference', () => this.refreshReference());
    this.iteration++;
    this.dataPosition += c.promptsPerIteration;
    const metrics: Record<string, number> = { pairs: pairs.length, skippedPrompts: chosenPrompts.length - pairs.length, judgeFailures: failures, updates };
    if (scored > 0) metrics.scoreMean = scoreTotal / scored;
    for (const [name, total] of Object.entries(sums)) metrics[name] = total / updates;
    return { step: this.iteration, metrics, stages: timer.stages };
  }

  /** π_ref ← π_θ (copies the policy's weights into the reference). */
  private refreshReference(): void {
    const reference = this.setup.reference.parameters();
    for (const [name, t] of this.setup.policy.parameters()) reference.get(name)!.data.set(t.data);
  }

  private referenceTensors(): Map<string, Tensor> {
    if (!this.config.refreshReference) return new Map();
    return new Map([...this.setup.reference.parameters()].map(([name, t]) => [`reference.${name}`, t]));
  }

  save(dir: string): void {
    this.dpo.save(dir, this.referenceTensors(), { iteration: this.iteration, dataPosition: this.dataPosition, rng: this.rng.getState() });
  }

  load(dir: string): void {
    const state = this.dpo.load(dir, this.referenceTensors());
    const extra = state.extra as { iteration: number; dataPosition: number; rng: ReturnType<Rng['getState']> };
    this.iteration = extra.iteration;
    this.dataPosition = extra.dataPosition;
    this.rng.setState(extra.rng);
  }
}
