// Builds what a round needs from the config — one code path for the embedded testbed and for a user's models: the
// policy (testbed SFT model or a Hugging Face checkpoint, full or LoRA), the labeler (testbed, an in-process
// checkpoint, or an OpenAI-compatible endpoint), the prompts (testbed splits or the user's JSONL/Parquet) and the
// labeled anchors. Leaves out the testbed's gold report (testbed-report.ts). Lee et al. 2023 (arXiv 2309.00267).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConstitution, type Constitution } from '../feedback/constitution.ts';
import type { ChatModelV1 } from '../feedback/chat-model-v1.ts';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { OpenAICompatibleProvider } from '../feedback/providers/openai-compatible-provider.ts';
import { defaultRetry, RequestExecutor } from '../feedback/request-executor.ts';
import { hashToUnit } from '../feedback/stable-hash.ts';
import type { TextTokenizer } from '../models/tokenizer.ts';
import type { Transformer } from '../models/transformer.ts';
import { readPromptDataset } from '../data/prompt-record.ts';
import { readPairs, underConfigKey } from './judge-inputs.ts';
import { loadInProcessModel } from './in-process-model.ts';

export { loadCheckpoint } from './in-process-model.ts';
import { judgeLabeler, type LoopLabeler } from './loop-labeler.ts';
import { LoopPolicy } from './loop-policy.ts';
import type { RunConfig } from './run-config.ts';
import type { AnchorPair, LoopPrompt } from './round-context.ts';
import type { ChatTurn } from './run-records.ts';

export function buildPolicy(config: Readonly<RunConfig>, base: { model: Transformer; tokenizer: TextTokenizer }, pretrain?: string[]): LoopPolicy {
  return new LoopPolicy({ base: base.model, tokenizer: base.tokenizer, config, seed: config.seed, ...(pretrain ? { pretrain } : {}) });
}

/** The labeler's provider: an in-process model, or an endpoint (its key read from the named environment variable). */
export function labelerProvider(config: Pick<RunConfig, 'labeler'>, embedded: (() => ChatModelV1) | null): ChatModelV1 {
  const labeler = config.labeler;
  if (labeler.kind === 'openai-compatible') {
    return new OpenAICompatibleProvider({ baseURL: labeler.baseURL, model: labeler.model, apiKeyEnvironmentVariable: labeler.apiKeyEnvironmentVariable });
  }
  if (labeler.kind === 'checkpoint') return new InProcessProvider(loadInProcessModel(labeler, (p) => p));
  if (!embedded) throw new Error("labeler.kind 'testbed' needs the embedded testbed (policy.kind 'testbed'); name a checkpoint or an endpoint instead");
  return embedded();
}

export function buildLabeler(config: { feedback: Pick<RunConfig['feedback'], 'principleMode' | 'chainOfThought'>; seed: number }, provider: ChatModelV1, constitution: Constitution = loadConstitution()): LoopLabeler {
  const concurrency = provider.provider === 'in-process' ? 1 : 8;
  const executor = new RequestExecutor(provider, { concurrency, timeoutMs: 120_000, retry: defaultRetry });
  return judgeLabeler({ executor, constitution, principleMode: config.feedback.principleMode, chainOfThought: config.feedback.chainOfThought,
    seed: config.seed });
}

/** Reference text for feedback.corpusSupport: the non-empty lines of a UTF-8 file; errors name `what` (the config key). */
export function readReferenceText(path: string, what: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${what}: cannot read ${path}: ${(error as Error).message}`);
  }
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  if (lines.length === 0) throw new Error(`${what}: ${path} has no text (one paragraph a line)`);
  return lines;
}

/**
 * The run's prompts from a file or dataset folder in the shared prompts schema (data/prompt-record.ts: JSONL, Parquet,
 * a Hugging Face–style folder; text, messages, TRL conversational or HH-RLHF rows). A row without a split (and not in a
 * file named for one) goes to train, validation or test by a hash of its id: 80 / 10 / 10.
 */
export async function readPromptFile(path: string): Promise<LoopPrompt[]> {
  return (await readPromptDataset(path)).map((record) => ({
    id: record.id, application: record.application ?? 'default', kind: record.kind ?? 'prompt',
    split: record.split ?? (hashToUnit(record.id) < 0.8 ? 'train' : hashToUnit(`${record.id}|v`) < 0.5 ? 'validation' : 'test'),
    messages: (record.messages ?? [{ role: 'user', content: record.prompt }]) as ChatTurn[], principleIds: record.principles ?? [],
  }));
}

/**
 * A run's labeled anchors from a dataset of human preference pairs (config `anchors`), as AnchorPairs in an order
 * fixed by the seed (a hash of seed and pair id), so that the gate's first `anchorPairs` are a fair draw whatever order
 * the file has. A pair is left out when its chosen or rejected is not exactly one assistant message, the two are the
 * same text, or its prompt does not end on a user turn; `skipped` counts them.
 */
export async function readAnchorPairs(anchors: NonNullable<RunConfig['anchors']>, seed: number): Promise<{ pairs: AnchorPair[]; skipped: number }> {
  const records = await underConfigKey('anchors.path', () => readPairs(anchors.path, anchors.format));
  const one = (messages: readonly { role: string; content: string }[]) => (messages.length === 1 && messages[0]!.role === 'assistant' ? messages[0]!.content : null);
  const pairs: AnchorPair[] = [];
  let skipped = 0;
  for (const record of records) {
    const preferred = one(record.chosen), other = one(record.rejected);
    if (preferred === null || other === null || preferred === other || record.prompt.at(-1)?.role !== 'user') { skipped++; continue; }
    pairs.push({ prompt: { id: `anchor:${record.id}`, application: 'default', kind: 'anchor', split: 'validation', messages: record.prompt as ChatTurn[], principleIds: [] }, preferred, other });
  }
  if (pairs.length === 0) throw new Error(`anchors.path: ${anchors.path}: no usable labeled comparison among ${records.length} (each needs one assistant response on each side, different texts, after a user turn)`);
  const order = new Map(pairs.map((p) => [p, hashToUnit(`${seed}|${p.prompt.id}`)]));
  return { pairs: pairs.sort((a, b) => order.get(a)! - order.get(b)!), skipped };
}

/** The loop's splits: train, and the first `validationPrompts` of validation spread over applications. */
export function splitPrompts(prompts: LoopPrompt[], config: Readonly<RunConfig>): { train: LoopPrompt[]; validation: LoopPrompt[]; test: LoopPrompt[] } {
  const spread = (split: LoopPrompt['split'], n: number) => {
    const byApp = new Map<string, LoopPrompt[]>();
    for (const p of prompts.filter((q) => q.split === split)) byApp.set(p.application, [...(byApp.get(p.application) ?? []), p]);
    const lists = [...byApp.values()], out: LoopPrompt[] = [];
    for (let i = 0; out.length < n && lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length && out.length < n) out.push(l[i]!);
    return out;
  };
  const train = prompts.filter((p) => p.split === 'train');
  if (train.length === 0) throw new Error('prompts: no train prompts');
  const validation = spread('validation', config.validationPrompts);
  if (validation.length === 0) throw new Error('prompts: no validation prompts (the gate evaluates on them)');
  return { train, validation, test: spread('test', config.testPrompts) };
}

export type { AnchorPair };
