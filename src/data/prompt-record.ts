// The one prompts schema every command reads (`rlaif run`, `rlaif judge` sampling pairs, `rlaif train pg` on a
// checkpoint). A row is {"id"?, "prompt": "text"}, {"id"?, "messages": [{role, content}, ...]}, a TRL-style
// conversational row whose "prompt" is a message list (its "chosen"/"completion" keys are ignored), or an HH-RLHF row
// ({"chosen", "rejected"} "\n\nHuman: …\n\nAssistant: …" transcripts: the prompt is the turns they share up to the last
// human one), or a TRL implicit-prompt row (chosen and rejected as whole conversations: the same shared opening). Optional keys `rlaif run` reads: "split" (train | validation | test), "application", "kind", "principles"
// (ids of constitution principles); other keys (a category, a source) are kept out of the way, not errors.
// Files: JSONL (.jsonl, .jsonl.gz), Parquet (.parquet, through DuckDB), or a folder laid out as a Hugging Face dataset
// (data/train-00000-of-00001.parquet, test.jsonl, …): every such file under it, the split named by the file (or its
// folder) where a row names none. Errors name the file and line (row); ids must not repeat.
// Leaves out images, tool calls and datasets saved as Arrow (`save_to_disk`).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import type { Message } from '../feedback/judgment-types.ts';
import { parquetRowsAsJson } from './duckdb-format.ts';
import { parseTranscript } from './hh-rlhf-format.ts';
import { readJsonl } from './jsonl-file.ts';
import { messagesSchema, sharedUserOpening } from './preference-record.ts';

export type PromptSplit = 'train' | 'validation' | 'test';
const SPLITS: readonly PromptSplit[] = ['train', 'validation', 'test'];

const id = z.union([z.string().min(1), z.number()]).optional().describe('optional id (default prompt-<line>)');
export const promptLineSchema = z.union([
  z.looseObject({ id, prompt: z.string().describe('the prompt text (a chat model gets it as one user message)') }),
  z.looseObject({ id, messages: messagesSchema.min(1).describe('a conversation, rendered with the model\'s chat template') }),
  z.looseObject({ id, prompt: messagesSchema.min(1).describe('a TRL conversational prompt: a message list') }),
]);

/** One prompt: plain text or a conversation, with where it came from and what the row said of it. */
export type PromptRecord = {
  id: string; line: number; where: string;
  split?: PromptSplit; application?: string; kind?: string; principles?: string[];
} & ({ prompt: string; messages?: undefined } | { messages: Message[]; prompt?: undefined });

const SHAPES = "needs a string 'prompt', a 'messages' list (or a 'prompt' list) of {role: system|user|assistant, content}, or 'chosen'/'rejected' conversations (HH-RLHF transcripts or TRL message lists)";

/** A preference row's two conversations (HH-RLHF transcripts or TRL implicit-prompt message lists); null: not one. */
function preferenceConversations(row: Record<string, unknown>, where: string): [Message[], Message[]] | null {
  if (row.prompt !== undefined || row.messages !== undefined) return null;
  if (typeof row.chosen === 'string' && row.chosen.startsWith('\n\nHuman:') && typeof row.rejected === 'string') {
    return [parseTranscript(row.chosen, `${where}: field 'chosen'`), parseTranscript(row.rejected, `${where}: field 'rejected'`)];
  }
  const chosen = messagesSchema.safeParse(row.chosen), rejected = messagesSchema.safeParse(row.rejected);
  return chosen.success && rejected.success ? [chosen.data as Message[], rejected.data as Message[]] : null;
}

/** One row of any prompts file to a record; `where` names the file and line (or row) in errors. */
export function promptFromRow(value: unknown, line: number, where: string, defaultId: string, fileSplit?: PromptSplit): PromptRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where}: ${SHAPES}`);
  const row = value as Record<string, unknown>, base = meta(row, line, where, defaultId, fileSplit); // the run's keys first: their errors say which key
  const pair = preferenceConversations(row, where);
  if (pair) {  // the prompt is the turns both sides share, up to the last shared user turn
    const shared = sharedUserOpening(...pair);
    if (shared === 0) throw new Error(`${where}: 'chosen' and 'rejected' share no opening user turn, so there is no prompt to take from them`);
    return { ...base, messages: pair[0].slice(0, shared) };
  }
  const parsed = promptLineSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${where}: ${SHAPES}`);
  const data = parsed.data as { prompt?: string | Message[]; messages?: Message[] };
  if (typeof data.prompt === 'string') return { ...base, prompt: data.prompt };
  return { ...base, messages: (data.messages ?? data.prompt) as Message[] };
}

/** The keys `rlaif run` reads beside the prompt (split, application, kind, principles), checked, and the id. */
function meta(row: Record<string, unknown>, line: number, where: string, defaultId: string, fileSplit?: PromptSplit) {
  const split = row.split ?? fileSplit;
  if (split !== undefined && !SPLITS.includes(split as PromptSplit)) throw new Error(`${where}: "split" must be train, validation or test, got ${JSON.stringify(split)}`);
  if (row.principles !== undefined && !(Array.isArray(row.principles) && row.principles.every((p) => typeof p === 'string' && p.length > 0))) {
    throw new Error(`${where}: "principles" must be a list of principle ids`);
  }
  for (const key of ['application', 'kind'] as const) {
    if (row[key] !== undefined && (typeof row[key] !== 'string' || row[key] === '')) throw new Error(`${where}: "${key}" must be a non-empty string`);
  }
  const record: Omit<PromptRecord, 'prompt' | 'messages'> = { id: row.id === undefined || row.id === null ? defaultId : String(row.id), line, where };
  if (split !== undefined) record.split = split as PromptSplit;
  if (row.application !== undefined) record.application = row.application as string;
  if (row.kind !== undefined) record.kind = row.kind as string;
  if (row.principles !== undefined) record.principles = row.principles as string[];
  return record;
}

function checkIds(records: PromptRecord[], what: string): PromptRecord[] {
  if (records.length === 0) throw new Error(`${what}: no prompts`);
  const seen = new Map<string, PromptRecord>();
  for (const record of records) {
    const first = seen.get(record.id);
    if (first !== undefined) {
      const same = first.where.replace(/(:\d+|: row \d+)$/, '') === record.where.replace(/(:\d+|: row \d+)$/, '');
      throw new Error(`${record.where}: prompt id '${record.id}' repeats ${same ? `line ${first.line}` : first.where}`);
    }
    seen.set(record.id, record);
  }
  return records;
}

const JSONL = /\.jsonl(\.gz)?$/, PARQUET = /\.parquet$/;

function readJsonlPrompts(path: string, fileSplit?: PromptSplit, idPrefix = ''): PromptRecord[] {
  return readJsonl(path).map(({ line, value }) => promptFromRow(value, line, `${path}:${line}`, `${idPrefix}prompt-${line}`, fileSplit));
}

async function readParquetPrompts(path: string, fileSplit?: PromptSplit, idPrefix = ''): Promise<PromptRecord[]> {
  // A column a row has no value in (a key other rows have) reads as null: absent, as in the JSONL the row came from.
  const present = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));
  return (await parquetRowsAsJson(path)).map((row, index) => promptFromRow(present(row), index + 1, `${path}: row ${index + 1}`, `${idPrefix}prompt-${index + 1}`, fileSplit));
}

/** The split a Hugging Face dataset file's name (or its folder's) gives: train-00000-of-00001.parquet, validation.jsonl, dev/… */
export function splitFromFileName(path: string): PromptSplit | undefined {
  for (const part of path.split(/[\\/]/).reverse()) {
    const name = part.toLowerCase();
    if (/^(train|training)([-_.]|$)/.test(name)) return 'train';
    if (/^(validation|valid|val|dev)([-_.]|$)/.test(name)) return 'validation';
    if (/^test([-_.]|$)/.test(name)) return 'test';
  }
  return undefined;
}

function datasetFiles(folder: string, depth = 0): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith('.')) continue;
    const path = join(folder, entry.name);
    if (entry.isDirectory() && depth < 3) out.push(...datasetFiles(path, depth + 1));
    else if (entry.isFile() && (JSONL.test(entry.name) || PARQUET.test(entry.name))) out.push(path);
  }
  return out;
}

/** Reads a prompts JSONL file (.gz too) synchronously; an empty file, a bad line or a repeated id is an error naming the file. */
export function readPromptRecords(path: string): PromptRecord[] {
  return checkIds(readJsonlPrompts(path), path);
}

/**
 * Reads prompts from a JSONL file, a Parquet file or a Hugging Face–style dataset folder (see the head of this file).
 * In a folder, default ids carry the file's path inside it (`data/train-00000-of-00001.parquet:prompt-3`).
 */
export async function readPromptDataset(path: string): Promise<PromptRecord[]> {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`);
  if (statSync(path).isDirectory()) {
    const files = datasetFiles(path);
    if (files.length === 0) throw new Error(`${path}: no prompts files in this folder (looked for .jsonl, .jsonl.gz and .parquet, three levels down)`);
    const records: PromptRecord[] = [];
    for (const file of files) {
      const prefix = `${relative(path, file)}:`, split = splitFromFileName(relative(path, file));
      records.push(...(PARQUET.test(file) ? await readParquetPrompts(file, split, prefix) : readJsonlPrompts(file, split, prefix)));
    }
    return checkIds(records, path);
  }
  if (PARQUET.test(path)) return checkIds(await readParquetPrompts(path), path);
  if (JSONL.test(path)) return readPromptRecords(path);
  throw new Error(`${path}: prompts must be JSONL (.jsonl, .jsonl.gz), Parquet (.parquet) or a dataset folder, not '${basename(path)}'`);
}
