// OpenAI preference fine-tuning (DPO) JSONL: {input: {messages}, preferred_output: [...], non_preferred_output: [...]}.
// Our id, judgment and source ride in a `metadata` field unless `includeMetadata` is false (strip it before upload if
// the service refuses unknown keys). Leaves out tools. Format: platform.openai.com/docs/guides/direct-preference-optimization
import { z } from 'zod';
import { readJsonl, writeJsonl } from './jsonl-file.ts';
import { messagesSchema, parseRecord, type PreferenceRecord } from './preference-record.ts';

const rowSchema = z.object({
  input: z.object({ messages: messagesSchema.min(1) }).passthrough(),
  preferred_output: messagesSchema.min(1),
  non_preferred_output: messagesSchema.min(1),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export function recordToOpenAI(record: PreferenceRecord, includeMetadata = true): Record<string, unknown> {
  const metadata = { id: record.id, ...(record.judgment ? { judgment: record.judgment } : {}), ...(record.source ? { source: record.source } : {}) };
  return { input: { messages: record.prompt }, preferred_output: record.chosen, non_preferred_output: record.rejected, ...(includeMetadata ? { metadata } : {}) };
}

export function openAIToRecord(value: unknown, where: string, fallbackId: string): PreferenceRecord {
  const parsed = rowSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${where}: field '${parsed.error.issues[0]!.path.join('.')}': ${parsed.error.issues[0]!.message}`);
  const metadata = parsed.data.metadata ?? {};
  return parseRecord(
    { ...metadata, id: typeof metadata.id === 'string' ? metadata.id : fallbackId, prompt: parsed.data.input.messages, chosen: parsed.data.preferred_output, rejected: parsed.data.non_preferred_output },
    where,
  );
}

export function readOpenAIPreference(path: string): PreferenceRecord[] {
  return readJsonl(path).map(({ line, value }) => openAIToRecord(value, `${path}:${line}`, `line-${line}`));
}

export function writeOpenAIPreference(path: string, records: PreferenceRecord[], includeMetadata = true): void {
  writeJsonl(path, records.map((record) => recordToOpenAI(record, includeMetadata)));
}
