// TRL preference datasets as JSONL: conversational ({prompt, chosen, rejected} as message lists) and standard (the same
// as strings). Extra columns carry our id, judgment and source; TRL ignores them, and they make round-trips lossless.
// Leaves out TRL's implicit-prompt variant on write. Format: huggingface.co/docs/trl/dataset_formats (preference).
import { z } from 'zod';
import { readJsonl, writeJsonl, writeJsonlAsync } from './jsonl-file.ts';
import { messagesSchema, parseRecord, type PreferenceRecord } from './preference-record.ts';

export type TrlStyle = 'conversational' | 'standard';

const standardSchema = z.object({ prompt: z.string(), chosen: z.string(), rejected: z.string() }).passthrough();

function extras(record: PreferenceRecord): Record<string, unknown> {
  return { id: record.id, ...(record.judgment ? { judgment: record.judgment } : {}), ...(record.source ? { source: record.source } : {}) };
}

export function recordToTrl(record: PreferenceRecord, style: TrlStyle): Record<string, unknown> {
  if (style === 'conversational') return { prompt: record.prompt, chosen: record.chosen, rejected: record.rejected, ...extras(record) };
  const single = (messages: PreferenceRecord['prompt'], role: 'user' | 'assistant', field: string): string => {
    if (messages.length !== 1 || messages[0]!.role !== role) {
      throw new Error(`record '${record.id}': field '${field}' must be one ${role} message for TRL standard format (use conversational)`);
    }
    return messages[0]!.content;
  };
  return { prompt: single(record.prompt, 'user', 'prompt'), chosen: single(record.chosen, 'assistant', 'chosen'), rejected: single(record.rejected, 'assistant', 'rejected'), ...extras(record) };
}

export function trlToRecord(value: unknown, where: string, fallbackId: string): PreferenceRecord {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: expected an object`);
  const row = value as Record<string, unknown>;
  const id = typeof row.id === 'string' ? row.id : fallbackId;
  if (typeof row.prompt === 'string') {
    const parsed = standardSchema.safeParse(row);
    if (!parsed.success) throw new Error(`${where}: field '${parsed.error.issues[0]!.path.join('.')}': ${parsed.error.issues[0]!.message}`);
    return parseRecord(
      { ...row, id, prompt: [{ role: 'user', content: parsed.data.prompt }], chosen: [{ role: 'assistant', content: parsed.data.chosen }], rejected: [{ role: 'assistant', content: parsed.data.rejected }] },
      where,
    );
  }
  if (row.prompt === undefined && messagesSchema.safeParse(row.chosen).success) {
    throw new Error(`${where}: field 'prompt' is missing (implicit-prompt TRL data is not supported; split the prompt out)`);
  }
  return parseRecord({ ...row, id }, where);
}

export function readTrl(path: string): PreferenceRecord[] {
  return readJsonl(path).map(({ line, value }) => trlToRecord(value, `${path}:${line}`, `line-${line}`));
}

export function writeTrl(path: string, records: PreferenceRecord[], style: TrlStyle): void {
  writeJsonl(path, records.map((record) => recordToTrl(record, style)));
}

/** writeTrl whose fsync overlaps the caller's work: the file is in place when it resolves. */
export function writeTrlAsync(path: string, records: PreferenceRecord[], style: TrlStyle): Promise<void> {
  return writeJsonlAsync(path, records.map((record) => recordToTrl(record, style)));
}
