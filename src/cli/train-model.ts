// The model side of `rlaif train` on user checkpoints: a Hugging Face folder loaded with its tokenizer (tokenizer.json,
// or the 96-symbol CharTokenizer for a vocab-96 model without one), text JSONL tokenized through it, and the trained
// model written back as a HF folder (full fine-tuning) or a PEFT adapter (LoRA). Leaves out: sharded or bf16 output.
//
//   SFT JSONL:        {"prompt": "Q: 2+2?", "response": " 4"}   or   {"messages": [{"role": "user", "content": ...}, ...]}
//   Preference JSONL: {"prompt": ..., "chosen": ..., "rejected": ..., "label"?: P(chosen ≻ rejected)}
//   Prompts JSONL:    {"id"?, "prompt": ...}   or   {"id"?, "messages": [...]} (data/prompt-record.ts, shared with judge)
// Text prompts get the tokenizer's BOS in front (when it has one); responses get its EOS at the end (when it has one).
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { chatSftExample } from '../algorithms/chat-sft.ts';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import type { SftExample } from '../algorithms/sft-trainer.ts';
import { readJsonl } from '../data/jsonl-file.ts';
import { readPromptDataset } from '../data/prompt-record.ts';
import { loadPretrained, savePretrained } from '../models/checkpoint.ts';
import type { TensorLike } from '../models/safetensors.ts';
import { LoraAdapter, saveLora } from '../models/lora.ts';
import { CharTokenizer, HfTokenizer, type ChatMessage, type TextTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';

export interface CheckpointModel {
  path: string;
  base: Transformer;             // frozen weights as loaded (trainers take trainable/frozen copies)
  tokenizer: TextTokenizer;
}

/** Loads config.json + safetensors and the tokenizer beside them; errors name the folder and what is missing. */
export function loadCheckpointModel(path: string): CheckpointModel {
  if (!existsSync(join(path, 'config.json'))) throw new Error(`model.path ${path}: no config.json (expected a Hugging Face model folder)`);
  const { config, parameters } = loadPretrained(path);
  for (const t of parameters.values()) t.requiresGrad = false;
  const base = new Transformer(config, parameters);
  let tokenizer: TextTokenizer;
  if (existsSync(join(path, 'tokenizer.json'))) tokenizer = HfTokenizer.load(path);
  else if (config.vocabSize === 96) tokenizer = new CharTokenizer();
  else throw new Error(`model.path ${path}: no tokenizer.json, and vocab_size ${config.vocabSize} is not the 96-symbol character tokenizer's`);
  if (tokenizer.vocabSize > config.vocabSize) throw new Error(`model.path ${path}: the tokenizer has ${tokenizer.vocabSize} ids, the model only ${config.vocabSize}`);
  return { path, base, tokenizer };
}

const message = z.strictObject({ role: z.string().min(1), content: z.string() });
const sftLine = z.union([
  z.strictObject({ prompt: z.string(), response: z.string().min(1) }),
  z.strictObject({ messages: z.array(message).min(1) }),
]);
const preferenceLine = z.looseObject({ prompt: z.string(), chosen: z.string().min(1), rejected: z.string().min(1), label: z.number().min(0).max(1).optional() });

function parseLine<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const detail = issue.code === 'invalid_union' ? 'expected {"prompt", "response"} or {"messages": [{role, content}]}' : issue.message;
  throw new Error(`${where}: field '${issue.path.join('.') || '(root)'}': ${detail}`);
}

function lines(path: string): { where: string; value: unknown }[] {
  const rows = readJsonl(path).map(({ line, value }) => ({ where: `${path}:${line}`, value }));
  if (rows.length === 0) throw new Error(`${path}: no rows`);
  return rows;
}

function promptIds(tokenizer: TextTokenizer, text: string, where: string): Int32Array {
  const ids = [...(tokenizer.bosTokenId !== null ? [tokenizer.bosTokenId] : []), ...encodePlain(tokenizer, text)];
  if (ids.length === 0) throw new Error(`${where}: field 'prompt' is empty and the tokenizer has no BOS token to start from`);
  return Int32Array.from(ids);
}

function responseIds(tokenizer: TextTokenizer, text: string): Int32Array {
  return Int32Array.from([...encodePlain(tokenizer, text), ...(tokenizer.eosTokenId !== null ? [tokenizer.eosTokenId] : [])]);
}

function encodePlain(tokenizer: TextTokenizer, text: string): number[] {
  return tokenizer.encode(text, { addSpecialTokens: false });
}

function chatTokenizer(tokenizer: TextTokenizer, where: string): HfTokenizer {
  if (!(tokenizer instanceof HfTokenizer)) throw new Error(`${where}: 'messages' need a tokenizer.json with a chat template`);
  return tokenizer;
}

export function readTextSftExamples(path: string, tokenizer: TextTokenizer): SftExample[] {
  return lines(path).map(({ where, value }) => {
    const row = parseLine(sftLine, value, where);
    if ('messages' in row) return chatSftExample(chatTokenizer(tokenizer, where), row.messages as ChatMessage[], { where });
    return { prompt: promptIds(tokenizer, row.prompt, where), response: responseIds(tokenizer, row.response) };
  });
}

export function readTextPreferencePairs(path: string, tokenizer: TextTokenizer): TokenPreferencePair[] {
  return lines(path).map(({ where, value }) => {
    const row = parseLine(preferenceLine, value, where);
    return { prompt: promptIds(tokenizer, row.prompt, where), chosen: responseIds(tokenizer, row.chosen), rejected: responseIds(tokenizer, row.rejected), label: row.label };
  });
}

/** Prompts in the shared schema (data/prompt-record.ts: JSONL, Parquet or a dataset folder), the ones `rlaif judge` and `rlaif run` read. */
export async function readTextPrompts(path: string, tokenizer: TextTokenizer): Promise<{ text: string; tokens: Int32Array }[]> {
  return (await readPromptDataset(path)).map((record) => {
    if (record.messages) {
      const chat = chatTokenizer(tokenizer, record.where);
      return { text: chat.renderChat(record.messages as ChatMessage[]), tokens: Int32Array.from(chat.applyChatTemplate(record.messages as ChatMessage[])) };
    }
    return { text: record.prompt, tokens: promptIds(tokenizer, record.prompt, record.where) };
  });
}

/** Writes the trained policy: a PEFT adapter when LoRA is attached, else a HF folder with the tokenizer files beside. */
export function saveTrainedModel(dir: string, policy: Transformer, sourcePath: string | null, extra = new Map<string, TensorLike>()): 'adapter' | 'model' {
  if (policy.adapter instanceof LoraAdapter) {
    saveLora(dir, policy.adapter, sourcePath);
    return 'adapter';
  }
  savePretrained(dir, policy.config, new Map([...policy.parameters(), ...extra]));
  for (const file of ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja']) {
    if (sourcePath && existsSync(join(sourcePath, file))) copyFileSync(join(sourcePath, file), join(dir, file));
  }
  return 'model';
}
