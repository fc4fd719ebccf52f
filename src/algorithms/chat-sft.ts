// Conversations (messages with roles) as SFT examples through the model's chat template, with the loss on assistant
// turns only: each assistant turn's span is what the template adds between the conversation up to it with the
// generation prompt and the conversation including it. Leaves out: tool calls, {% generation %} tags, packing.
import type { ChatMessage, ChatTemplateOptions } from '../models/tokenizer.ts';
import type { SftExample } from './sft-trainer.ts';

/** What rendering needs from a tokenizer (HfTokenizer has both). */
export interface ChatRenderer {
  renderChat(messages: ChatMessage[], options?: ChatTemplateOptions): string;
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
}

export interface ChatSegment {
  text: string;     // a piece of the rendered conversation, in order
  train: boolean;   // true: an assistant turn as the template writes it (content and end-of-turn marker)
}

/**
 * The rendered conversation cut into context and assistant pieces; what follows the last assistant turn is dropped
 * (it has no targets). Throws when the template is not prefix-stable (a later turn rewrites an earlier one).
 */
export function chatSegments(renderer: ChatRenderer, messages: ChatMessage[], options: { template?: string; where?: string } = {}): ChatSegment[] {
  const where = options.where ?? 'conversation';
  messages.forEach((m, i) => {
    if (!m || typeof m.role !== 'string' || typeof m.content !== 'string') throw new Error(`${where}: messages[${i}] needs string 'role' and 'content'`);
  });
  if (!messages.some((m) => m.role === 'assistant')) throw new Error(`${where}: no assistant message to train on`);
  const render = (upTo: number, generation: boolean) =>
    renderer.renderChat(messages.slice(0, upTo), { template: options.template, addGenerationPrompt: generation });
  const full = render(messages.length, false);
  const segments: ChatSegment[] = [];
  let cursor = 0;
  messages.forEach((m, i) => {
    if (m.role !== 'assistant') return;
    const before = render(i, true), through = render(i + 1, false);
    if (before.length < cursor || !through.startsWith(before) || !full.startsWith(through)) {
      throw new Error(`${where}: the chat template is not prefix-stable at messages[${i}] (rendering it changes earlier text); cannot mask assistant turns`);
    }
    if (before.length > cursor) segments.push({ text: full.slice(cursor, before.length), train: false });
    segments.push({ text: through.slice(before.length), train: true });
    cursor = through.length;
  });
  return segments;
}

/**
 * One SFT example from a conversation: prompt = tokens before the first assistant turn; response = the rest up to the
 * end of the last assistant turn; lossMask marks the assistant tokens. Each piece is encoded on its own (special
 * tokens written by the template, none added), so a token never straddles a context/assistant boundary.
 */
export function chatSftExample(renderer: ChatRenderer, messages: ChatMessage[], options: { template?: string; where?: string } = {}): SftExample {
  const segments = chatSegments(renderer, messages, options);
  const ids: number[] = [], flags: number[] = [];
  for (const s of segments) {
    const pieceIds = renderer.encode(s.text, { addSpecialTokens: false });
    for (const id of pieceIds) { ids.push(id); flags.push(s.train ? 1 : 0); }
  }
  const first = flags.indexOf(1);
  if (first <= 0) throw new Error(`${options.where ?? 'conversation'}: the template writes nothing before the first assistant turn (a prompt token is needed)`);
  return {
    prompt: Int32Array.from(ids.slice(0, first)),                 // (P,)
    response: Int32Array.from(ids.slice(first)),                  // (R,)
    lossMask: Uint8Array.from(flags.slice(first)),                // (R,) 1 = assistant token
  };
}
