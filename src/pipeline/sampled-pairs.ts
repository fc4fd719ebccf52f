// Pairs sampled from a policy for `rlaif judge` (a checkpoint folder or the embedded tiny GPT, see in-process-model.ts),
// K seeded samples per prompt of a JSONL file, consecutive samples paired. Saved in the run folder so a resumed run
// judges the same pairs without sampling again; a checkpoint overwritten with new weights is sampled again. Leaves out
// batching prompts. Sampling pairs to label: Lee et al. 2023 (arXiv 2309.00267).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSeed } from '../engine/random.ts';
import type { TransformerLanguageModel } from '../feedback/providers/transformer-language-model.ts';
import { stableHash } from '../feedback/stable-hash.ts';
import { inProcessModelId, loadInProcessModel } from './in-process-model.ts';
import type { JudgeRunConfig } from './judge-run-config.ts';
import { parseRecord, type PreferenceRecord } from '../data/preference-record.ts';
import { readPromptDataset } from '../data/prompt-record.ts';

export type SampleConfig = NonNullable<JudgeRunConfig['sample']>;

export interface SamplingPrompt {
  id: string;
  messages: PreferenceRecord['prompt'];
  line: number; // 1-based line in the prompts file
}

/** The policy as an in-process language model. Relative checkpoint paths resolve with `at`. */
export function loadPolicy(policy: SampleConfig['policy'], at: (path: string) => string): TransformerLanguageModel {
  return loadInProcessModel(policy, at);
}

/** Prompts in the shared schema (data/prompt-record.ts: JSONL, Parquet or a dataset folder); a plain prompt becomes one user message. */
export async function readSamplingPrompts(path: string): Promise<SamplingPrompt[]> {
  return (await readPromptDataset(path)).map((record) => ({
    id: record.id, line: record.line, messages: record.messages ?? [{ role: 'user', content: record.prompt }],
  }));
}

/**
 * Sample `samplesPerPrompt` continuations per prompt (seeded by the run seed, prompt id and sample index) and pair them
 * in order: samples (0, 1), (2, 3), ... `chosen`/`rejected` here only name the two samples; the labeler orders them.
 */
export async function samplePairs(sample: SampleConfig, at: (path: string) => string, runDirectory: string, onPrompt?: (done: number, total: number) => void): Promise<PreferenceRecord[]> {
  const promptsPath = at(sample.prompts);
  const prompts = await readSamplingPrompts(promptsPath);
  // Keyed by the policy's model id too, which for a checkpoint carries its content hash: new weights written to the
  // same path are sampled again, and the same weights written again reuse their samples.
  const pathFor = (modelId: string): string => join(runDirectory, `sampled-pairs-${stableHash({ sample, prompts, policy: modelId }).slice(0, 12)}.jsonl`);
  const path = pathFor(inProcessModelId(sample.policy, at));
  if (existsSync(path)) return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line, index) => parseRecord(JSON.parse(line), `${path}:${index + 1}`));
  const policy = loadPolicy(sample.policy, at);
  const savedPath = pathFor(policy.modelId); // the weights actually loaded name the file, even if rewritten since the check
  const records: PreferenceRecord[] = [];
  for (const [done, prompt] of prompts.entries()) {
    const texts: string[] = [];
    for (let index = 0; index < sample.samplesPerPrompt; index++) {
      const generation = await policy.generate({ messages: prompt.messages, maxTokens: sample.maxTokens, temperature: sample.temperature, seed: deriveSeed(sample.seed, `${prompt.id}|${index}`), topLogprobs: 0 });
      texts.push(generation.text);
    }
    for (let pair = 0; pair + 1 < texts.length; pair += 2) {
      records.push({
        id: `${prompt.id}#${pair / 2}`,
        prompt: prompt.messages,
        chosen: [{ role: 'assistant', content: texts[pair]! }],
        rejected: [{ role: 'assistant', content: texts[pair + 1]! }],
        source: { file: promptsPath, line: prompt.line },
      });
    }
    onPrompt?.(done + 1, prompts.length);
  }
  // Written whole, then renamed: an interrupted sampling leaves no half file behind.
  writeFileSync(`${savedPath}.tmp`, records.map((record) => JSON.stringify(record)).join('\n') + '\n');
  renameSync(`${savedPath}.tmp`, savedPath);
  return records;
}
