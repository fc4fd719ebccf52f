// What every stage of a round shares: the frozen config, the run store, the policy, the labeler, the prompt splits the
// loop may see (train and validation — never test), the labeled anchors, progress events, and the id helpers that
// make every record's id a function of the work it stands for. Leaves out the stages themselves (round-stages.ts).
import { deriveSeed } from '../engine/random.ts';
import type { CorpusSupport } from '../testbed/self-supervised.ts';
import type { Adversary } from './adversarial/adversary.ts';
import type { EndpointPolicy, RolloutRow, RowSample } from './endpoint-policy.ts';
import type { LoopLabeler } from './loop-labeler.ts';
import type { LoopPolicy } from './loop-policy.ts';
import type { RunConfig } from './run-config.ts';
import { recordId, type ChatTurn, type PromptRecord, type SampleStage } from './run-records.ts';
import type { RunStore } from './run-store.ts';

/** A prompt as the loop sees it (the testbed's TestbedPrompt without its gold key, or a row of the user's file). */
export interface LoopPrompt {
  id: string;
  application: string;
  kind: string;
  split: 'train' | 'validation' | 'test';
  messages: ChatTurn[];
  principleIds: string[];
}

/** A labeled comparison (the labeled-data source): which of two responses is preferred. */
export interface AnchorPair {
  prompt: LoopPrompt;
  preferred: string;
  other: string;
}

export interface ProgressEvent { stage: string; round: number; done: number; total: number }

/** The policy a run improves: in this process (its weights here), or behind an endpoint (trained by an external command). */
export type RunPolicy = LoopPolicy | EndpointPolicy;

/** The policy's weights, for what needs them here (adversarial rounds, in-process updates); refused behind an endpoint. */
export function inProcessPolicy(policy: RunPolicy, what: string): LoopPolicy {
  if (policy.kind === 'endpoint') throw new Error(`${what} needs the policy's weights in this process; policy.kind endpoint has none here`);
  return policy;
}

/** Draws rows somewhere else than the policy's own sampleRows (rollout jobs on queue workers); `ids` are the rows' sample ids. */
export type RolloutRunner = (policy: RunPolicy, rows: RolloutRow[], place: { round: number; stage: SampleStage; ids: string[] }) => Promise<RowSample[]>;

export interface RoundContext {
  config: Readonly<RunConfig>;
  store: RunStore;
  policy: RunPolicy;
  labeler: LoopLabeler;
  train: LoopPrompt[];
  validation: LoopPrompt[];
  anchors: AnchorPair[];
  labeledPairs?: AnchorPair[]; // the labeled-data source's comparisons (feedback.labeledAnchors), never the gate's anchors
  corpusSupport?: (response: string) => CorpusSupport; // feedback.corpusSupport's checker over the reference text
  policySource?: string;     // the policy's Hugging Face folder (tokenizer files for an external trainer; an endpoint policy's checkpoint)
  onProgress?: (event: ProgressEvent) => void;
  rollout?: RolloutRunner;   // rlaif run --queue: rollouts as jobs for the workers (absent: the policy samples here)
  adversary?: Adversary;     // adversarial rounds (config.adversarial): a red-team phase first, flagged attacks mined into the prompts
}

export function promptRecordId(prompt: LoopPrompt): string {
  return recordId('prompt', prompt.id);
}

export function promptRecord(prompt: LoopPrompt): PromptRecord {
  return { id: promptRecordId(prompt), kind: 'prompt', round: -1, parents: [], promptId: prompt.id, application: prompt.application,
    promptKind: prompt.kind, split: prompt.split, messages: prompt.messages, principleIds: prompt.principleIds };
}

/** The seed of one sampling call, from the run seed and a label naming the call (never by adding numbers). */
export function seedFor(context: Pick<RoundContext, 'config'>, label: string): number {
  return deriveSeed(context.config.seed, label);
}
