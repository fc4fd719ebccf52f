// Multi-turn (long-dialogue) attacks as text: the attacker writes a whole conversation, one turn per line, each line
// opened by a turn marker ('User: …', 'Bot: …'), and the conversation is parsed back into chat messages before the
// target answers its last user turn. A text that is no such conversation is a typed failure with its reason, never
// a crash. Leaves out what a conversation is about (testbed-attacks.ts makes demonstrations and reads gold keys).
// Incoherence in long dialogues: issue 14, item 1; Perez et al. 2022 (arXiv 2202.03286) §7 (dialogue red teaming).
import type { ChatTurn } from '../run-records.ts';

export interface DialogueFormat {
  user: string;        // marker opening a user turn
  assistant: string;   // marker opening an assistant turn
  separator: string;   // between turns
}

/** The markers the testbed's attackers learn from their demonstrations: plain text, no special tokens. */
export const DIALOGUE_FORMAT: DialogueFormat = { user: 'User:', assistant: 'Bot:', separator: '\n' };

/** The fewest turns of a dialogue attack: a turn that sets something up, a reply, and the question. */
export const MIN_DIALOGUE_TURNS = 3;

export type ParsedDialogue = { kind: 'ok'; messages: ChatTurn[] } | { kind: 'malformed'; reason: string };

/** One line per turn, '<marker> <content>'. Throws on a conversation parseDialogue would reject (a caller's bug). */
export function renderDialogue(messages: readonly ChatTurn[], format: DialogueFormat = DIALOGUE_FORMAT): string {
  const text = messages.map((m) => {
    if (m.role === 'system') throw new Error('renderDialogue: a dialogue attack has no system turn');
    return `${m.role === 'user' ? format.user : format.assistant} ${m.content}`;
  }).join(format.separator);
  const parsed = parseDialogue(text, format);
  if (parsed.kind === 'malformed') throw new Error(`renderDialogue: ${parsed.reason}`);
  return text;
}

/**
 * The conversation a dialogue attack writes: turns alternate from a user turn to a last user turn (the one the target
 * answers), at least MIN_DIALOGUE_TURNS of them, none empty; blank lines are skipped, any other line without a marker
 * makes the text malformed.
 */
export function parseDialogue(text: string, format: DialogueFormat = DIALOGUE_FORMAT): ParsedDialogue {
  const messages: ChatTurn[] = [];
  const lines = text.split(format.separator);
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const role = line.startsWith(format.user) ? 'user' : line.startsWith(format.assistant) ? 'assistant' : null;
    if (role === null) return { kind: 'malformed', reason: `line ${i + 1} opens with no turn marker (${format.user} or ${format.assistant}): ${JSON.stringify(line.slice(0, 40))}` };
    const marker = role === 'user' ? format.user : format.assistant;
    const content = line.slice(marker.length).trim();
    if (content === '') return { kind: 'malformed', reason: `line ${i + 1}: the ${marker} turn is empty` };
    const expected = messages.length % 2 === 0 ? 'user' : 'assistant';
    if (role !== expected) return { kind: 'malformed', reason: `line ${i + 1}: a ${marker} turn where a ${expected === 'user' ? format.user : format.assistant} turn belongs (turns alternate, from ${format.user})` };
    messages.push({ role, content });
  }
  if (messages.length < MIN_DIALOGUE_TURNS) return { kind: 'malformed', reason: `${messages.length} turn(s); a dialogue attack needs at least ${MIN_DIALOGUE_TURNS}` };
  if (messages.at(-1)!.role !== 'user') return { kind: 'malformed', reason: `the last turn is ${format.assistant}; the target must answer a ${format.user} turn` };
  return { kind: 'ok', messages };
}
