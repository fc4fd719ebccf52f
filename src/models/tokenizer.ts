// Tokenizers behind one interface: any Hugging Face tokenizer.json (through @huggingface/tokenizers) with its chat
// template from tokenizer_config.json (rendered by @huggingface/jinja), the text between added tokens encoded once
// and reused (SectionCache: a judge's prompts repeat their system message and turns), and a 96-symbol character
// tokenizer.
// Leaves out: training (bpe-trainer.ts), slow/sentencepiece-only tokenizers without a tokenizer.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';

export interface EncodeOptions {
  addSpecialTokens?: boolean;      // BOS/EOS the tokenizer's post-processor adds (default true)
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;     // drop special tokens from the text (default false)
}

/** What the models and trainers need from a tokenizer. */
export interface TextTokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  encode(text: string, options?: EncodeOptions): number[];
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
}

export interface ChatMessage {
  role: string;                    // 'system' | 'user' | 'assistant' | 'tool' ...
  content: string;
}

export interface ChatTemplateOptions {
  addGenerationPrompt?: boolean;   // end with the assistant header so the model answers (default true)
  template?: string;               // a template to use instead of the tokenizer's own
  variables?: Record<string, unknown>;  // extra template variables (tools, date_string, enable_thinking, ...)
}

export class TokenizerError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'TokenizerError';
  }
}

/** A special token in tokenizer_config.json: a string, or an AddedToken record with `content`. */
function configTokenText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return null;
}

function readJsonFile(path: string): Record<string, unknown> {
  try {
    const json = JSON.parse(readFileSync(path, 'utf-8'));
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error('not a JSON object');
    return json;
  } catch (error) {
    throw new TokenizerError(path, `cannot read (${(error as Error).message})`);
  }
}

/** The default template of a tokenizer_config.json `chat_template` (a string, or a list of named templates). */
function defaultTemplate(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    const named = value.find((t) => t?.name === 'default') ?? value[0];
    return typeof named?.template === 'string' ? named.template : null;
  }
  return null;
}

/** A Hugging Face tokenizer: tokenizer.json for the vocabulary and rules, tokenizer_config.json for the rest. */
/**
 * The text of one token id, as a log-prob entry shows it. An id the tokenizer does not know (a model's vocabulary
 * padded past the tokenizer's, as Qwen2's is) shows as <id>: the Hugging Face library decodes it to '' without a word.
 */
export function tokenText(tokenizer: TextTokenizer, id: number): string {
  if (!(Number.isInteger(id) && id >= 0 && id < tokenizer.vocabSize)) return `<${id}>`;
  try {
    return tokenizer.decode([id]);
  } catch {
    return `<${id}>`;
  }
}

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly chatTemplate: string | null;
  private readonly core: HfTokenizerCore;
  private readonly cleanUpSpaces: boolean;
  private readonly specialTokens: Record<string, string>;
  // Encodings of the text between added tokens, reused (null where a section's encoding could depend on its
  // neighbours); whether a post-processor may add tokens around the whole text.
  readonly #sections: SectionCache | null;
  readonly #postProcessed: boolean;
  // Texts of single tokens of the vocabulary (key: id * 2 + skipSpecialTokens), kept: log-prob alternatives ask for the
  // same few hundred again and again, 1-13 µs each from the library; at most twice the vocabulary's size.
  readonly #singles = new Map<number, string>();

  /**
   * @param tokenizerJson the parsed tokenizer.json
   * @param tokenizerConfig the parsed tokenizer_config.json ({} when there is none)
   */
  constructor(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown> = {},
    readonly source = 'tokenizer.json', chatTemplate?: string) {
    try {
      this.core = new HfTokenizerCore(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new TokenizerError(source, `not a tokenizer this loader understands (${(error as Error).message})`);
    }
    let maxId = -1;
    for (const id of this.core.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const text = configTokenText(tokenizerConfig[key]);
      if (text !== null) this.specialTokens[key] = text;
    }
    const idOf = (key: string) => {
      const text = this.specialTokens[key];
      return text === undefined ? null : this.core.token_to_id(text) ?? null;
    };
    this.bosTokenId = idOf('bos_token');
    this.eosTokenId = idOf('eos_token');
    this.padTokenId = idOf('pad_token');
    // transformers ≥ 4.45 defaults to no clean-up; the clean-up rewrites " ." as "." and breaks round trips.
    this.cleanUpSpaces = tokenizerConfig.clean_up_tokenization_spaces === true;
    this.chatTemplate = chatTemplate ?? defaultTemplate(tokenizerConfig.chat_template);
    this.#postProcessed = tokenizerJson.post_processor != null;
    this.#sections = SectionCache.applies(tokenizerJson, tokenizerConfig)
      ? new SectionCache((this.core.added_tokens as { content: string; id: number }[]).map((t) => [t.content, t.id] as const), (section) => this.core.encode(section, { add_special_tokens: false }).ids)
      : null;
  }

  /**
   * Loads a folder (tokenizer.json, optional tokenizer_config.json and chat_template.jinja) or a tokenizer.json path.
   */
  static load(path: string): HfTokenizer {
    const isFile = path.endsWith('.json');
    const dir = isFile ? join(path, '..') : path;
    const tokenizerPath = isFile ? path : join(dir, 'tokenizer.json');
    if (!existsSync(tokenizerPath)) throw new TokenizerError(tokenizerPath, 'not found');
    const configPath = join(dir, 'tokenizer_config.json');
    const config = existsSync(configPath) ? readJsonFile(configPath) : {};
    const templatePath = join(dir, 'chat_template.jinja');
    const template = existsSync(templatePath) ? readFileSync(templatePath, 'utf-8') : undefined;
    return new HfTokenizer(readJsonFile(tokenizerPath), config, tokenizerPath, template);
  }

  /** Sections encoded from the section cache so far; null where the tokenizer encodes whole texts (SectionCache). */
  get sectionCacheHits(): number | null {
    return this.#sections?.hits ?? null;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const addSpecialTokens = options.addSpecialTokens ?? true;
    if (!this.#sections || (addSpecialTokens && this.#postProcessed)) return this.core.encode(text, { add_special_tokens: addSpecialTokens }).ids;
    return this.#sections.encode(text);
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    const skip = options.skipSpecialTokens ?? false, id = ids[0]!;
    const single = ids.length === 1 && Number.isInteger(id) && id >= 0 && id < this.vocabSize ? id * 2 + (skip ? 1 : 0) : -1;
    const known = single >= 0 ? this.#singles.get(single) : undefined;
    if (known !== undefined) return known;
    const text = this.core.decode(Array.from(ids), { skip_special_tokens: skip, clean_up_tokenization_spaces: this.cleanUpSpaces });
    if (single >= 0) this.#singles.set(single, text);
    return text;
  }

  /** The token strings of an encoding (for inspection and tests). */
  tokenize(text: string): string[] {
    return this.core.tokenize(text);
  }

  tokenToId(token: string): number | null {
    return this.core.token_to_id(token) ?? null;
  }

  idToToken(id: number): string | null {
    return this.core.id_to_token(id) ?? null;
  }

  // Parsed chat templates by source: parsing took ~0.4 ms a request in `rlaif serve`, rendering a fraction of it.
  readonly #compiled = new Map<string, Template>();

  /** Renders a conversation with the model's chat template into the prompt string the model was trained on. */
  renderChat(messages: ChatMessage[], options: ChatTemplateOptions = {}): string {
    const template = options.template ?? this.chatTemplate;
    if (!template) {
      throw new TokenizerError(this.source, 'no chat template (tokenizer_config.json has no chat_template); pass options.template');
    }
    let compiled = this.#compiled.get(template);
    if (!compiled) {
      try {
        compiled = new Template(template);
      } catch (error) {
        throw new TokenizerError(this.source, `chat template does not parse (${(error as Error).message})`);
      }
      if (this.#compiled.size >= 8) this.#compiled.clear();
      this.#compiled.set(template, compiled);
    }
    return compiled.render({
      ...this.specialTokens,
      ...options.variables,
      messages,
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
  }

  /**
   * Applies the chat template and encodes the result. Special tokens are not added again: the template writes
   * them (as Hugging Face's apply_chat_template does).
   */
  applyChatTemplate(messages: ChatMessage[], options: ChatTemplateOptions = {}): number[] {
    return this.encode(this.renderChat(messages, options), { addSpecialTokens: false });
  }
}

/**
 * Token ids of texts as the encodings of their sections, cached: the text between added tokens (special tokens such
 * as a chat template's role markers) is encoded on its own by @huggingface/tokenizers too (split first, then
 * normalized, pre-tokenized and merged section by section), so a prompt that repeats a system message, a principle or
 * an earlier turn costs a map lookup for it. Exact only where no section's encoding depends on another's: no
 * normalizer (it could make an added token's text), no added token that strips its neighbours' spaces or must stand
 * as a word, no Metaspace pre-tokenizer (it treats the first section apart); elsewhere the tokenizer encodes whole
 * texts. Splits as the library does: at each position the longest added token that starts there. A text with no added
 * token (a corpus line) is encoded whole and not kept. Bounded: cleared past 4 M characters.
 */
class SectionCache {
  static applies(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>): boolean {
    const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens as { lstrip?: boolean; rstrip?: boolean; single_word?: boolean }[] : [];
    return tokenizerJson.normalizer == null && !added.some((t) => t.lstrip || t.rstrip || t.single_word)
      && !JSON.stringify(tokenizerJson.pre_tokenizer ?? null).includes('Metaspace')
      && !tokenizerConfig.remove_space && !tokenizerConfig.do_lowercase_and_remove_accent && added.length > 0;
  }

  readonly #trie = new Map<string, TrieNode>();
  readonly #encoded = new Map<string, readonly number[]>();
  #characters = 0;
  hits = 0;

  constructor(addedTokens: readonly (readonly [string, number])[], readonly encodeSection: (section: string) => number[]) {
    for (const [content, id] of addedTokens) {
      if (content.length === 0) continue;
      let level = this.#trie, node: TrieNode | undefined;
      for (let k = 0; k < content.length; k++) {                          // UTF-16 units, as the text is read
        node = level.get(content[k]!) ?? { next: new Map(), id: null };
        level.set(content[k]!, node);
        level = node.next;
      }
      node!.id = id;
    }
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let start = 0, i = 0;
    while (i < text.length) {
      let level = this.#trie, matchEnd = -1, matchId = 0;
      for (let j = i; j < text.length; j++) {
        const node = level.get(text[j]!);
        if (!node) break;
        if (node.id !== null) { matchEnd = j + 1; matchId = node.id; }
        level = node.next;
      }
      if (matchEnd < 0) { i++; continue; }
      if (i > start) this.#section(text.slice(start, i), ids);
      ids.push(matchId);
      start = i = matchEnd;
    }
    if (start === 0) return this.encodeSection(text);                     // no added token: nothing to reuse, nothing kept
    if (start < text.length) this.#section(text.slice(start), ids);
    return ids;
  }

  #section(section: string, into: number[]): void {
    let ids = this.#encoded.get(section);
    if (ids) this.hits++;
    else {
      ids = this.encodeSection(section);
      if (this.#characters + section.length > 4_000_000) { this.#encoded.clear(); this.#characters = 0; }
      this.#encoded.set(section, ids);
      this.#characters += section.length;
    }
    for (const id of ids) into.push(id);
  }
}

interface TrieNode { next: Map<string, TrieNode>; id: number | null }

/**
 * Characters for the engine demo: newline and the 95 printable ASCII characters (vocab 96). Anything else encodes
 * as '?' (lossy by design; the demo's corpus is ASCII).
 */
export class CharTokenizer implements TextTokenizer {
  static readonly alphabet = `\n${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}`;
  readonly vocabSize = 96;
  readonly bosTokenId = null;
  readonly eosTokenId = null;
  readonly padTokenId = null;

  encode(text: string): number[] {
    const ids: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10) ids.push(0);
      else if (code >= 32 && code <= 126) ids.push(code - 31);
      else {
        ids.push(32);                                            // '?', one per code point
        const next = text.charCodeAt(i + 1);
        if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
      }
    }
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= 96) throw new RangeError(`CharTokenizer: id ${id} is outside [0, 96)`);
      text += CharTokenizer.alphabet[id];
    }
    return text;
  }
}
