// What HfTokenizer's section cache (models/tokenizer.ts) saves on a judge's prompts, the work `rlaif serve` does for
// every chat request: the pairwise judge's prompts for 128 pairs (both orders, a rationale and a verdict request each,
// 512 prompts; captured from runJudgeJob over an instant labeler), rendered with the embedded testbed policy's chat
// template, then encoded (a) whole by @huggingface/tokenizers, (b) by a fresh HfTokenizer in the order the server
// receives them (each pair's sections seen for the first time), (c) by the same HfTokenizer again (all sections seen).
// Checks that all three give the same ids. Medians of 5 rounds.
// node --import tsx bench/tokenize-sections.ts   (builds the testbed first when it is not cached: about a minute)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer as LibraryTokenizer } from '@huggingface/tokenizers';
import type { ChatMessage } from '../src/feedback/chat-model-v1.ts';
import { HfTokenizer } from '../src/models/tokenizer.ts';
import { runJudgeJob } from '../src/pipeline/judge-run.ts';
import { loadJudgeRunConfig } from '../src/pipeline/judge-run-config.ts';
import { buildTestbed } from '../src/testbed/index.ts';
import { instantProvider } from './instant-provider.ts';

const PAIRS = 128, ROUNDS = 5;
const { policyDirectory } = await buildTestbed({ seed: 0 });
const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-tokenize-'));
try {
  const subjects = ['the creature Ana', 'Bora', 'Kelo', 'Vesh'];
  writeFileSync(join(directory, 'pairs.jsonl'), Array.from({ length: PAIRS }, (_, i) => `${JSON.stringify({
    prompt: `What does ${subjects[i % 4]} eat?`, chosen: `I do not know ${i}.`, rejected: `It eats river stones ${i}.` })}\n`).join(''));
  writeFileSync(join(directory, 'judge.yaml'), 'input:\n  path: pairs.jsonl\n  format: trl\nprovider:\n  kind: openai-compatible\n  baseURL: http://127.0.0.1:9/v1\n'
    + '  model: instant\njudge:\n  topLogprobs: 20\noutput:\n  runDirectory: run\n  parquet: false\n');
  const conversations: ChatMessage[][] = [];
  await runJudgeJob(loadJudgeRunConfig(join(directory, 'judge.yaml')), directory, { languageModel: instantProvider((options) => conversations.push(options.messages)) });
  if (conversations.length !== 4 * PAIRS) throw new Error(`tokenize-sections: the judge sent ${conversations.length} requests, expected ${4 * PAIRS}`);

  const json = JSON.parse(readFileSync(join(policyDirectory, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(policyDirectory, 'tokenizer_config.json'), 'utf8'));
  const texts = conversations.map((messages) => HfTokenizer.load(policyDirectory).renderChat(messages));
  const library = new LibraryTokenizer(json, config);
  const perPrompt = (work: () => number[][]) => { const started = performance.now(); const ids = work(); return { us: 1000 * (performance.now() - started) / texts.length, ids }; };
  const rounds: { library: number; first: number; again: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const whole = perPrompt(() => texts.map((text) => library.encode(text, { add_special_tokens: false }).ids));
    const tokenizer = HfTokenizer.load(policyDirectory);
    const first = perPrompt(() => texts.map((text) => tokenizer.encode(text, { addSpecialTokens: false })));
    const again = perPrompt(() => texts.map((text) => tokenizer.encode(text, { addSpecialTokens: false })));
    for (const [name, run] of [['first pass', first], ['second pass', again]] as const) {
      const at = run.ids.findIndex((ids, i) => ids.join() !== whole.ids[i]!.join());
      if (at >= 0) throw new Error(`tokenize-sections: the section cache's ${name} differs from the library on prompt ${at}`);
    }
    rounds.push({ library: whole.us, first: first.us, again: again.us });
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  const m = { library: median(rounds.map((r) => r.library)), first: median(rounds.map((r) => r.first)), again: median(rounds.map((r) => r.again)) };
  const tokens = texts.reduce((n, text) => n + library.encode(text, { add_special_tokens: false }).ids.length, 0) / texts.length;
  console.log(`# tokenize-sections: ${texts.length} judge prompts of ${tokens.toFixed(0)} tokens on average; µs a prompt, rounds: library ${rounds.map((r) => r.library.toFixed(0)).join(' ')}, `
    + `cache first pass ${rounds.map((r) => r.first.toFixed(0)).join(' ')}, second ${rounds.map((r) => r.again.toFixed(1)).join(' ')}`);
  console.log(`RESULT tokenize_library_us_per_prompt ${m.library.toFixed(1)}`);
  console.log(`RESULT tokenize_section_cache_first_us_per_prompt ${m.first.toFixed(1)}`);
  console.log(`RESULT tokenize_section_cache_again_us_per_prompt ${m.again.toFixed(1)}`);
  console.log(`RESULT tokenize_section_cache_first_speedup ${(m.library / m.first).toFixed(2)}`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
