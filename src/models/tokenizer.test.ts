// Tokenizers: a byte-level BPE trained here on a small corpus, loaded back from disk, round-tripping Unicode and
// whitespace edge cases, agreeing token for token with the Rust `tokenizers` on GPT-2, Llama-3 and Qwen2 style
// pre-tokenization; chat templates (ChatML, Llama-3); the character tokenizer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import tokenizers from 'tokenizers';
import { loadTrained, saveTokenizer, trainByteLevelBpe, type TrainedTokenizer } from './bpe-trainer.ts';
import { CharTokenizer, HfTokenizer, TokenizerError, tokenText } from './tokenizer.ts';

const dir = mkdtempSync(join(tmpdir(), 'tokenizer-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const CORPUS = [
  'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away!',
  'Reinforcement learning from AI feedback: a labeler judges answers against principles.',
  'def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5\n',
  '東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다.',
  'Emoji: 😀 🐶 👍🏽 — café, naïve, résumé, Ångström. Numbers 1234567 and 3.14159.',
  'Tabs\tand  double  spaces,\r\nWindows line endings\r\nand trailing spaces   \n',
];
const SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];
const texts = Array.from({ length: 40 }, (_, i) => CORPUS.map((line) => `${line} ${i}`)).flat();

const EDGE_CASES = [
  '', ' ', '   ', '\t', '\n', '\r\n', '\r', '\n\n\n',
  '  leading spaces', 'trailing spaces   ', 'multiple    inner     spaces', ' \t mixed \t\n whitespace \r\n ',
  'line one\r\nline two\r\n', 'tab\tseparated\tvalues\n', 'no-break\u00a0space and zero\u200bwidth',
  'emoji 😀🐶 family 👩‍👩‍👧 flag 🇯🇵 skin 👍🏽', '日本語のテキスト、中文文本，한국어 텍스트',
  'combining: e\u0301 a\u0300 n\u0303 (decomposed) vs é à ñ (composed), Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇',
  'RTL: שלום עולם مرحبا بالعالم', 'math ∀x ∈ ℝ: x² ≥ 0', "contractions: I'm, you're, it's, we'll",
  'control \u0000\u0001\u007f bytes', 'unseen: \u{1F9EA}\u{1FAE0} 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
];

let trained: TrainedTokenizer;
let tokenizer: HfTokenizer;

/** The same vocabulary with another model family's pre-tokenizer (and, for Llama-3, its BOS post-processor). */
function variant(style: 'llama3' | 'qwen2'): Record<string, unknown> {
  const common = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|";
  const digits = style === 'llama3' ? '\\p{N}{1,3}' : '\\p{N}';
  const pattern = `${common}${digits}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+`;
  const json = structuredClone(trained.tokenizerJson);
  json.pre_tokenizer = {
    type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    ],
  };
  if (style === 'qwen2') json.normalizer = { type: 'NFC' };
  if (style === 'llama3') {
    json.post_processor = {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [0], tokens: ['<|endoftext|>'] } },
    };
  }
  return json;
}

describe('byte-level BPE trained here', () => {
  it('trains deterministically to the requested vocabulary size (at most: a small corpus runs out of pairs)', () => {
    trained = trainByteLevelBpe(texts, { vocabSize: 512, specialTokens: SPECIALS });
    const again = trainByteLevelBpe(texts, { vocabSize: 512, specialTokens: SPECIALS });
    assert.deepEqual(again, trained);
    const vocab = (trained.tokenizerJson.model as { vocab: Record<string, number> }).vocab;
    assert.deepEqual(Object.values(vocab).sort((a, b) => a - b), Array.from({ length: 512 }, (_, i) => i));
    const saturated = trainByteLevelBpe(texts.slice(0, 6), { vocabSize: 5000 });
    const size = Object.keys((saturated.tokenizerJson.model as { vocab: object }).vocab).length;
    assert.ok(size > 257 && size < 5000, `${size}`);
    assert.throws(() => trainByteLevelBpe(texts, { vocabSize: 100 }), /vocabSize 100/);
  });

  it('writes nothing to stdout (the Rust trainer prints its progress there; a command\'s RESULT lines must stay clean)', () => {
    const script = "import('./src/models/bpe-trainer.ts').then((m) => { m.trainByteLevelBpe(['one two three', 'two three four'], { vocabSize: 300 }); process.stderr.write('trained'); })";
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /trained/);
    assert.equal(JSON.stringify(run.stdout), '""');
  });

  it('saves tokenizer.json + tokenizer_config.json and loads them back', () => {
    saveTokenizer(join(dir, 'bpe'), trained);
    tokenizer = HfTokenizer.load(join(dir, 'bpe'));
    assert.equal(tokenizer.vocabSize, 512);
    assert.deepEqual([tokenizer.bosTokenId, tokenizer.eosTokenId, tokenizer.padTokenId], [0, 0, 0]);
    assert.deepEqual(HfTokenizer.load(join(dir, 'bpe', 'tokenizer.json')).encode('same file'), tokenizer.encode('same file'));
    assert.ok(tokenizer.encode('The quick brown fox').length <= 5, 'merges learned from the corpus are used');
  });

  it('round-trips Unicode and whitespace edge cases exactly', () => {
    for (const text of [...EDGE_CASES, ...CORPUS]) {
      const ids = tokenizer.encode(text);
      assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 512), JSON.stringify(text));
      assert.equal(tokenizer.decode(ids), text, JSON.stringify(text));
      assert.equal(tokenizer.decode(Int32Array.from(ids)), text);
    }
  });

  it('special tokens: one id each, kept or skipped on decode', () => {
    const text = '<|im_start|>user\nhello<|im_end|><|endoftext|>';
    const ids = tokenizer.encode(text);
    assert.equal(ids[0], 1);
    assert.deepEqual(ids.slice(-2), [2, 0]);
    assert.equal(tokenizer.decode(ids), text);
    assert.equal(tokenizer.decode(ids, { skipSpecialTokens: true }), 'user\nhello');
    assert.equal(tokenizer.tokenToId('<|im_end|>'), 2);
    assert.equal(tokenizer.idToToken(2), '<|im_end|>');
  });

  it('single-token texts (log-prob alternatives) are the library\'s, asked of it once per id and special-token setting', () => {
    const fresh = new HfTokenizer(trained.tokenizerJson, trained.tokenizerConfig);
    const reference = new HfTokenizer(trained.tokenizerJson, trained.tokenizerConfig);
    const core = (fresh as unknown as { core: { decode: (ids: number[], options: unknown) => string } }).core;
    const library = core.decode.bind(core);
    let calls = 0;
    core.decode = (ids, options) => { calls++; return library(ids, options); };
    for (const round of [0, 1]) {
      for (const id of [0, 2, 5, 40, 41]) {
        for (const skipSpecialTokens of [false, true]) {
          const expected = (reference as unknown as { core: { decode: (ids: number[], options: unknown) => string } }).core
            .decode([id], { skip_special_tokens: skipSpecialTokens, clean_up_tokenization_spaces: false });
          assert.equal(fresh.decode([id], { skipSpecialTokens }), expected, `id ${id}, skip ${skipSpecialTokens}, round ${round}`);
        }
      }
      assert.equal(calls, 10, `round ${round}: each of 5 ids x 2 settings asked of the library once`);
    }
    assert.equal(fresh.decode([0], { skipSpecialTokens: true }), '', 'a special token skipped');
    assert.equal(fresh.decode([0]), '<|endoftext|>');
    assert.equal(fresh.decode([5, 40]), reference.decode([5, 40]), 'longer sequences decode whole');
    const before = calls;
    fresh.decode([fresh.vocabSize + 3]); fresh.decode([fresh.vocabSize + 3]);
    assert.equal(calls, before + 2, 'an id past the vocabulary is not kept');
  });

  it('tokenText: a known id\'s text, and <id> for one past the tokenizer (a padded model vocabulary), which the library decodes to nothing', () => {
    assert.equal(tokenText(tokenizer, 5), tokenizer.decode([5]));
    assert.equal(tokenText(tokenizer, 0), '<|endoftext|>');
    assert.equal(tokenizer.decode([tokenizer.vocabSize + 3]), '', 'the library\'s own answer');
    for (const id of [tokenizer.vocabSize, tokenizer.vocabSize + 3, -1, 2.5]) assert.equal(tokenText(tokenizer, id), `<${id}>`);
    assert.equal(tokenText(new CharTokenizer(), 200), '<200>');
  });

  for (const style of ['gpt2', 'llama3', 'qwen2'] as const) {
    it(`${style}-style pre-tokenization agrees token for token with the Rust tokenizers`, async () => {
      const json = style === 'gpt2' ? trained.tokenizerJson : variant(style);
      const ours = new HfTokenizer(json, trained.tokenizerConfig);
      const rust = tokenizers.Tokenizer.fromString(JSON.stringify(json));
      for (const text of [...EDGE_CASES, ...CORPUS]) {
        const reference = (await rust.encode(text)).getIds();
        assert.deepEqual(ours.encode(text), reference, `${style} ${JSON.stringify(text)}`);
        if (style !== 'qwen2') assert.equal(ours.decode(ours.encode(text), { skipSpecialTokens: true }), text);
      }
      if (style === 'llama3') assert.equal(ours.encode('x')[0], 0, 'BOS from the template post-processor');
    });
  }

  it('text between added tokens is encoded as the Rust tokenizers encode the whole text, the second time from the section cache', async () => {
    // Added tokens that overlap ('<|a|>' is a prefix of '<|a|>!'): the longest one starting at a position wins.
    const size = tokenizer.vocabSize;
    const extra = [{ id: size, content: '<|a|>', special: false }, { id: size + 1, content: '<|a|>!', special: false }]
      .map((t) => ({ ...t, single_word: false, lstrip: false, rstrip: false, normalized: false }));
    const pieces = [...SPECIALS, '<|a|>', '<|a|>!'];
    const withSpecials = [...EDGE_CASES, ...CORPUS].map((text, i) => `${pieces[i % 5]}${text}${pieces[(i + 1) % 5]}${pieces[(i + 2) % 5]}${i % 2 ? text : ''}<|a|>!!`);
    withSpecials.push('<|im_sta', '<|a|', '<|a|>', '<|a|>!<|a|><|a|>!x😀<|endoftext|>😀', 'x<|im_start|><|im_end|>y', '<|<|im_start|>|>');
    for (const style of ['gpt2', 'llama3', 'qwen2'] as const) {
      const json = style === 'gpt2' ? structuredClone(trained.tokenizerJson) : variant(style);
      json.added_tokens = [...(json.added_tokens as unknown[]), ...extra];
      const ours = new HfTokenizer(json, trained.tokenizerConfig);
      const rust = tokenizers.Tokenizer.fromString(JSON.stringify(json));
      for (const pass of ['first', 'cached'])
        for (const text of withSpecials) {
          for (const addSpecialTokens of [false, true]) {
            const reference = (await rust.encode(text, null, { addSpecialTokens })).getIds();
            assert.deepEqual(ours.encode(text, { addSpecialTokens }), reference, `${style}, ${pass} pass, addSpecialTokens ${addSpecialTokens}: ${JSON.stringify(text)}`);
          }
        }
      // The cache serves gpt2 and llama3 texts without the post-processor's BOS; qwen2's normalizer keeps whole texts.
      if (style === 'qwen2') assert.equal(ours.sectionCacheHits, null);
      else assert.ok(ours.sectionCacheHits! > withSpecials.length, `${style}: ${ours.sectionCacheHits} sections from the cache`);
    }
  });
});

describe('chat templates', () => {
  const chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const llama3 = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
  const messages = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi there ' }];

  it('ChatML from tokenizer_config.json: rendered text and ids', () => {
    const withTemplate = new HfTokenizer(trained.tokenizerJson, { ...trained.tokenizerConfig, chat_template: chatml });
    const text = withTemplate.renderChat(messages);
    assert.equal(text, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there <|im_end|>\n<|im_start|>assistant\n');
    assert.equal(withTemplate.renderChat(messages, { addGenerationPrompt: false }).endsWith('Hi there <|im_end|>\n'), true);
    const ids = withTemplate.applyChatTemplate(messages);
    assert.equal(ids.filter((id) => id === 1).length, 3);
    assert.equal(withTemplate.decode(ids), text);
  });

  it('Llama-3 template with bos_token; list-form chat_template; chat_template.jinja file', () => {
    const config = { ...trained.tokenizerConfig, bos_token: '<|begin_of_text|>', chat_template: [{ name: 'default', template: llama3 }] };
    const text = new HfTokenizer(trained.tokenizerJson, config).renderChat(messages);
    assert.equal(text, '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n');
    const folder = join(dir, 'jinja');
    saveTokenizer(folder, trained);
    writeFileSync(join(folder, 'chat_template.jinja'), chatml);
    assert.match(HfTokenizer.load(folder).renderChat(messages), /^<\|im_start\|>system/);
  });

  it('no template, or a broken one, is a clear error', () => {
    assert.throws(() => tokenizer.renderChat(messages), /no chat template/);
    assert.throws(() => tokenizer.renderChat(messages, { template: '{% for %}' }), TokenizerError);
  });
});

describe('loader errors', () => {
  it('missing file, bad JSON, unknown model type', () => {
    assert.throws(() => HfTokenizer.load(join(dir, 'nowhere')), /tokenizer\.json: not found/);
    const broken = join(dir, 'broken');
    saveTokenizer(broken, trained);
    writeFileSync(join(broken, 'tokenizer.json'), '{"model": ');
    assert.throws(() => HfTokenizer.load(broken), (e: unknown) => e instanceof TokenizerError && /cannot read/.test(e.message));
    assert.throws(() => new HfTokenizer({ ...trained.tokenizerJson, model: { type: 'Nope' } }), TokenizerError);
  });
});

describe('CharTokenizer', () => {
  const chars = new CharTokenizer();
  it('printable ASCII and newline round-trip with 96 ids', () => {
    const text = `${CharTokenizer.alphabet}  Hello, world!\n  ~{}[]`;
    const ids = chars.encode(text);
    assert.ok(ids.every((id) => id >= 0 && id < 96));
    assert.equal(chars.decode(ids), text);
    assert.equal(chars.vocabSize, 96);
  });
  it('anything else is one ? per code point; ids out of range throw', () => {
    assert.equal(chars.decode(chars.encode('a\tb😀c\r\né')), 'a?b?c?\n?');
    assert.throws(() => chars.decode([96]), RangeError);
  });
});
