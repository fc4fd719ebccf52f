// Anthropic HH-RLHF transcripts ({chosen, rejected} strings of "\n\nHuman: ..." / "\n\nAssistant: ..." turns) to and
// from preference records; the prompt is the longest shared prefix ending on a human turn, so no pair is dropped even
// where the transcripts diverge before the last turn. Leaves out the red-team format. Data: Bai et al. 2022 (arXiv 2204.05862).
import type { Message } from '../feedback/judgment-types.ts';
import { existsSync } from 'node:fs';
import { readJsonl, writeJsonl } from './jsonl-file.ts';
import { sharedUserOpening, type PreferenceRecord } from './preference-record.ts';

const turnPattern = /\n\n(Human|Assistant):/;

/** Split a transcript into messages; one leading space after the colon is part of the marker. */
export function parseTranscript(transcript: string, where: string): Message[] {
  const parts = transcript.split(turnPattern);
  if (parts[0] !== '') throw new Error(`${where}: transcript must start with "\\n\\nHuman:", starts ${JSON.stringify(transcript.slice(0, 30))}`);
  const messages: Message[] = [];
  for (let index = 1; index < parts.length; index += 2) {
    const content = parts[index + 1]!;
    messages.push({ role: parts[index] === 'Human' ? 'user' : 'assistant', content: content.startsWith(' ') ? content.slice(1) : content });
  }
  if (messages.length === 0) throw new Error(`${where}: transcript has no turns`);
  return messages;
}

export function renderTranscript(messages: Message[]): string {
  return messages.map((message) => `\n\n${message.role === 'user' ? 'Human' : 'Assistant'}: ${message.content}`).join('');
}

/** One HH-RLHF pair to a record: prompt = shared turns up to the last shared human turn. */
export function hhPairToRecord(value: unknown, file: string, line: number): PreferenceRecord {
  const where = `${file}:${line}`;
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: expected an object with 'chosen' and 'rejected'`);
  const { chosen, rejected } = value as Record<string, unknown>;
  if (typeof chosen !== 'string') throw new Error(`${where}: field 'chosen' must be a string`);
  if (typeof rejected !== 'string') throw new Error(`${where}: field 'rejected' must be a string`);
  const chosenMessages = parseTranscript(chosen, `${where}: field 'chosen'`);
  const rejectedMessages = parseTranscript(rejected, `${where}: field 'rejected'`);
  const shared = sharedUserOpening(chosenMessages, rejectedMessages);
  if (shared === 0) throw new Error(`${where}: 'chosen' and 'rejected' share no opening human turn`);
  return {
    id: `hh-${line}`,
    prompt: chosenMessages.slice(0, shared),
    chosen: chosenMessages.slice(shared),
    rejected: rejectedMessages.slice(shared),
    source: { file, line },
  };
}

/** Where HH-RLHF files come from, said when one is missing (the data is never shipped or downloaded by rlaif). */
export const HH_RLHF_SOURCE = 'HH-RLHF is not shipped with rlaif: download a split from https://github.com/anthropics/hh-rlhf ' +
  '(e.g. harmless-base/test.jsonl.gz, the split examples/judge-hh-rlhf.yaml uses) and save it at this path';

export function readHhRlhf(path: string): PreferenceRecord[] {
  if (!existsSync(path)) throw new Error(`${path}: no such file. ${HH_RLHF_SOURCE}`);
  const name = path.split('/').at(-1) ?? path;
  return readJsonl(path).map(({ line, value }) => hhPairToRecord(value, name, line));
}

export function recordToHhPair(record: PreferenceRecord): { chosen: string; rejected: string } {
  for (const message of [...record.prompt, ...record.chosen, ...record.rejected]) {
    if (message.role === 'system') throw new Error(`record '${record.id}': HH-RLHF transcripts have no system turns`);
  }
  return { chosen: renderTranscript([...record.prompt, ...record.chosen]), rejected: renderTranscript([...record.prompt, ...record.rejected]) };
}

export function writeHhRlhf(path: string, records: PreferenceRecord[]): void {
  writeJsonl(path, records.map(recordToHhPair));
}
