// The testbed labeler's retriever: notes from the pretraining corpus about the names a conversation's last request
// mentions, given to the judge as its reference text (grounded judging: the labeler reads evidence instead of
// recalling every fact from its weights, as retrieval-backed factuality judges do, e.g. FActScore, Min et al. 2023,
// arXiv 2305.14251, used as a reward by Tian et al. 2023, arXiv 2311.08401). It is a text lookup over the corpus, blind
// to gold: a name is any capitalised word the corpus never writes in lower case; a name's note is the corpus paragraph
// that says the most about it (most sentences opening with the name, then the shortest); a name the corpus never
// mentions, and the conversation did not introduce earlier, gets "No notes on X." Leaves out ranking by the question's
// words (the labeler must find the fact that matters in the note) and names spelt differently from the corpus.
import type { ChatMessage } from '../feedback/chat-model-v1.ts';

export interface NotesIndex {
  notes: ReadonlyMap<string, string>; // name -> its most informative corpus paragraph
  lowerWords: ReadonlySet<string>;    // every word the corpus writes in lower case (not names)
}

const WORD = /[A-Za-z]+/g;

/** Index the corpus paragraphs (one per entry). */
export function buildNotesIndex(paragraphs: readonly string[]): NotesIndex {
  const lowerWords = new Set<string>();
  for (const paragraph of paragraphs) for (const w of paragraph.match(WORD) ?? []) if (w === w.toLowerCase()) lowerWords.add(w);
  const best = new Map<string, { count: number; text: string }>();
  for (const paragraph of paragraphs) {
    const openings = new Map<string, number>();
    for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
      const first = sentence.match(WORD)?.[0];
      if (first && !lowerWords.has(first.toLowerCase())) openings.set(first, (openings.get(first) ?? 0) + 1);
    }
    for (const [name, count] of openings) {
      const held = best.get(name);
      if (!held || count > held.count || (count === held.count && paragraph.length < held.text.length)) best.set(name, { count, text: paragraph });
    }
  }
  return { notes: new Map([...best].map(([name, { text }]) => [name, text])), lowerWords };
}

/** Names in a text, in order, each once: capitalised words the corpus never writes in lower case, either with notes or
 * not opening a sentence (a sentence's first word is capitalised whatever it is). */
function namesIn(index: NotesIndex, text: string): string[] {
  const seen: string[] = [];
  for (const match of text.matchAll(WORD)) {
    const w = match[0];
    if (w.length < 2 || w[0] !== w[0]!.toUpperCase() || index.lowerWords.has(w.toLowerCase()) || seen.includes(w)) continue;
    const before = text.slice(0, match.index).trimEnd();
    const opensSentence = before === '' || /[.!?:]$/.test(before);
    if (opensSentence && !index.notes.has(w)) continue;
    seen.push(w);
  }
  return seen;
}

/** The reference text for judging a conversation: notes on up to `maxNames` names its last user turn mentions ('' if none). */
export function lookupNotes(index: NotesIndex, conversation: readonly ChatMessage[], maxNames = 2): string {
  const lastUser = [...conversation].reverse().find((m) => m.role === 'user');
  if (!lastUser) return '';
  const earlier = conversation.slice(0, conversation.lastIndexOf(lastUser)).map((m) => m.content).join(' ');
  const parts: string[] = [];
  for (const name of namesIn(index, lastUser.content).slice(0, maxNames)) {
    const note = index.notes.get(name);
    if (note) parts.push(note);
    else if (!new RegExp(`\\b${name}\\b`).test(earlier)) parts.push(`No notes on ${name}.`);
  }
  return parts.join(' ');
}
