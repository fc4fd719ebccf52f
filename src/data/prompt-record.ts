// The one prompts JSONL schema every command reads (`rlaif judge` sampling pairs, `rlaif train pg` on a checkpoint):
// each line {"id"?, "prompt": "text"} or {"id"?, "messages": [{role, content}, ...]}; other keys (a category, a
// source) are kept out of the way, not errors. Errors name the file and line; ids must not repeat. Leaves out images
// and tool calls.
import { z } from 'zod';
import type { Message } from '../feedback/judgment-types.ts';
import { readJsonl } from './jsonl-file.ts';
import { messagesSchema } from './preference-record.ts';

const id = z.union([z.string().min(1), z.number()]).optional().describe('optional id (default prompt-<line>)');
export const promptLineSchema = z.union([
  z.looseObject({ id, prompt: z.string().describe('the prompt text (a chat model gets it as one user message)') }),
  z.looseObject({ id, messages: messagesSchema.min(1).describe('a conversation, rendered with the model\'s chat template') }),
]);

/** One prompt: plain text or a conversation, with where it came from. */
export type PromptRecord = { id: string; line: number; where: string } & ({ prompt: string; messages?: undefined } | { messages: Message[]; prompt?: undefined });

/** Reads a prompts JSONL file (.gz too); an empty file, a bad line or a repeated id is an error naming the file. */
export function readPromptRecords(path: string): PromptRecord[] {
  const records = readJsonl(path).map(({ line, value }): PromptRecord => {
    const where = `${path}:${line}`;
    const parsed = promptLineSchema.safeParse(value);
    if (!parsed.success) throw new Error(`${where}: needs a string 'prompt' or a 'messages' list of {role: system|user|assistant, content}`);
    const row = parsed.data as { id?: string | number; prompt?: string; messages?: Message[] };
    const promptId = row.id === undefined ? `prompt-${line}` : String(row.id);
    return typeof row.prompt === 'string' ? { id: promptId, line, where, prompt: row.prompt } : { id: promptId, line, where, messages: row.messages! };
  });
  if (records.length === 0) throw new Error(`${path}: no prompts`);
  const seen = new Map<string, number>();
  for (const record of records) {
    const first = seen.get(record.id);
    if (first !== undefined) throw new Error(`${record.where}: prompt id '${record.id}' repeats line ${first}`);
    seen.set(record.id, record.line);
  }
  return records;
}
