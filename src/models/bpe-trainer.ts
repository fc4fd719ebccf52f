// Trains a byte-level BPE (GPT-2 pre-tokenization regex, no normalizer) with the `tokenizers` Rust binding and
// writes a standard Hugging Face tokenizer.json that HfTokenizer (and Python `tokenizers`) load.
// The binding's trainer prints its progress (blank lines when not on a terminal) straight to file descriptor 1, which
// would land in the stdout of every command that builds a tokenizer (`rlaif run`'s RESULT lines among them), so it
// trains in a child process whose stdout is discarded.
// Leaves out: Unigram/WordPiece, min-frequency and alphabet-limit knobs (the Node binding exposes no trainer options).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HfTokenizer } from './tokenizer.ts';

export interface BpeTrainingOptions {
  vocabSize: number;               // at most this many: special tokens + 256 bytes + merges (fewer when the corpus runs out of pairs)
  specialTokens?: string[];        // ids 0..k-1; default ['<|endoftext|>'] (also BOS, EOS and pad)
  chatTemplate?: string;           // written into tokenizer_config.json
  modelMaxLength?: number;         // tokenizer_config.json model_max_length
}

export interface TrainedTokenizer {
  tokenizerJson: Record<string, unknown>;    // tokenizer.json
  tokenizerConfig: Record<string, unknown>;  // tokenizer_config.json
}

/** The rust trainer's default vocabulary limit; the binding cannot raise it. */
const TRAINER_MAX_VOCAB = 30000;

/** GPT-2's reversible byte → printable character map (bytes_to_unicode). */
export function byteToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

/** Runs the rust BPE trainer on the corpus and returns its merges, most frequent first. */
function trainMerges(texts: Iterable<string>): [string, string][] {
  const dir = mkdtempSync(join(tmpdir(), 'bpe-train-'));
  try {
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, [...texts].join('\n'));
    const saved = join(dir, 'trained.json');
    const trainer = [
      'const [binding, corpus, saved] = process.argv.slice(1);',
      'const tokenizers = require(binding);',
      'const tokenizer = new tokenizers.Tokenizer(tokenizers.BPE.empty());',
      'tokenizer.setPreTokenizer(tokenizers.byteLevelPreTokenizer(false, true));',
      'tokenizer.train([corpus]);',
      'tokenizer.save(saved, false);',
    ].join('\n');
    const binding = createRequire(import.meta.url).resolve('tokenizers');
    const child = spawnSync(process.execPath, ['-e', trainer, binding, corpus, saved], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf-8' });
    if (child.error) throw new Error(`BPE training: cannot start the trainer process: ${child.error.message}`);
    if (child.status !== 0) throw new Error(`BPE training failed (exit ${child.status ?? child.signal}): ${child.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const merges = (JSON.parse(readFileSync(saved, 'utf-8')) as { model: { merges: ([string, string] | string)[] } }).model.merges;
    return merges.map((m) => (typeof m === 'string' ? (m.split(' ') as [string, string]) : m));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Trains a byte-level BPE. Ids: special tokens first, then all 256 bytes (so any text encodes, even bytes the
 * corpus never had), then merge results in the order the trainer found them, cut at `vocabSize`.
 */
export function trainByteLevelBpe(texts: Iterable<string>, options: BpeTrainingOptions): TrainedTokenizer {
  const specialTokens = options.specialTokens ?? ['<|endoftext|>'];
  const minimum = specialTokens.length + 256;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < minimum || options.vocabSize > TRAINER_MAX_VOCAB + minimum) {
    throw new RangeError(`vocabSize ${options.vocabSize} must be an integer in [${minimum}, ${TRAINER_MAX_VOCAB + minimum}]`);
  }
  const vocab = new Map<string, number>();
  specialTokens.forEach((token) => vocab.set(token, vocab.size));
  for (const symbol of byteToUnicode()) vocab.set(symbol, vocab.size);
  const merges: string[] = [];
  for (const [left, right] of trainMerges(texts)) {
    const merged = left + right;
    if (!vocab.has(merged)) {
      if (vocab.size >= options.vocabSize) break;
      vocab.set(merged, vocab.size);
    }
    merges.push(`${left} ${right}`);
  }
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specialTokens.map((content, id) => ({
      id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab: Object.fromEntries(vocab), merges,
    },
  };
  const endOfText = specialTokens[0] ?? null;
  const tokenizerConfig: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: endOfText, eos_token: endOfText, pad_token: endOfText, unk_token: null,
    clean_up_tokenization_spaces: false,
    model_max_length: options.modelMaxLength ?? 1024,
    added_tokens_decoder: Object.fromEntries(specialTokens.map((content, id) => [String(id), {
      content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true,
    }])),
  };
  if (options.chatTemplate) tokenizerConfig.chat_template = options.chatTemplate;
  return { tokenizerJson, tokenizerConfig };
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (each atomically). */
export function saveTokenizer(dir: string, trained: TrainedTokenizer): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, json] of [['tokenizer.json', trained.tokenizerJson], ['tokenizer_config.json', trained.tokenizerConfig]] as const) {
    const path = join(dir, name);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(json, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  }
}

/** The trained tokenizer, ready to use. */
export function loadTrained(trained: TrainedTokenizer): HfTokenizer {
  return new HfTokenizer(trained.tokenizerJson, trained.tokenizerConfig, 'trained tokenizer');
}
