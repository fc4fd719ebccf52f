// A run of `rlaif run` small enough for unit tests: a 7-token tokenizer ('a', 'b', 'c', ' ', '?', BOS, EOS), a tiny
// GPT, prompts as short conversations, and the real judges over a scripted in-process labeler whose taste is given
// (e.g. "more a's is better", or "longer is better" for reward hacking). Test-only: no production config reaches it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../engine/index.ts';
import type { ChatMessage } from '../../feedback/chat-model-v1.ts';
import type { Constitution } from '../../feedback/constitution.ts';
import { InProcessProvider } from '../../feedback/providers/in-process-provider.ts';
import { RequestExecutor, defaultRetry } from '../../feedback/request-executor.ts';
import { DeterministicLanguageModel } from '../../feedback/testing/deterministic-language-model.ts';
import type { ScriptedBrain } from '../../feedback/testing/scripted-openai-server.ts';
import { configFromHf } from '../../models/config.ts';
import { initParameters } from '../../models/parameters.ts';
import type { TextTokenizer } from '../../models/tokenizer.ts';
import { Transformer } from '../../models/transformer.ts';
import { judgeLabeler, type LoopLabeler } from '../loop-labeler.ts';
import { LoopPolicy } from '../loop-policy.ts';
import { parseRunConfig, type RunConfig } from '../run-config.ts';
import type { AnchorPair, LoopPrompt, RoundContext } from '../round-context.ts';
import { RunStore } from '../run-store.ts';

const ALPHABET = ['a', 'b', 'c', ' ', '?'];
export const TINY_BOS = 5, TINY_EOS = 6;

export class TinyTokenizer implements TextTokenizer {
  readonly vocabSize = 7;
  readonly bosTokenId = TINY_BOS;
  readonly eosTokenId = TINY_EOS;
  readonly padTokenId = null;
  encode(text: string): number[] {
    return [...text].map((ch) => { const i = ALPHABET.indexOf(ch); return i < 0 ? 4 : i; });
  }
  decode(ids: ArrayLike<number>, options: { skipSpecialTokens?: boolean } = {}): string {
    return Array.from(ids).map((id) => (id < 5 ? ALPHABET[id] : options.skipSpecialTokens ? '' : id === TINY_BOS ? '<s>' : '</s>')).join('');
  }
}

export function tinyBase(seed = 1): Transformer {
  const config = configFromHf({ model_type: 'gpt2', vocab_size: 7, n_embd: 16, n_layer: 1, n_head: 2, n_positions: 64 }, 'tiny-loop');
  return new Transformer(config, initParameters(config, seed));
}

export const aShare = (text: string) => (text.length === 0 ? 0 : [...text].filter((c) => c === 'a').length / text.length);

/**
 * The labeler's taste: 'a-rich' prefers more a's; 'longer' prefers length (an exploitable labeler). Its revisions
 * (critique-revision rounds) follow the taste: every b and c becomes an a, or 'aaaa' is appended.
 */
export function tinyBrain(taste: 'a-rich' | 'longer'): ScriptedBrain {
  const quality = taste === 'a-rich' ? aShare : (text: string) => Math.min(1, text.length / 12);
  return {
    pairwise: (first, second) => Math.min(0.95, Math.max(0.05, 0.5 + 0.9 * (quality(first) - quality(second)))),
    pointwise: (response) => Array.from({ length: 10 }, (_, i) => (i === Math.min(9, Math.floor(quality(response) * 10)) ? 1 : 0)),
    revise: (response) => taste === 'a-rich'
      ? { critique: `${[...response].filter((c) => c === 'b' || c === 'c').length} letters are not a.`, revision: response.replace(/[bc]/g, 'a') || 'aaa' }
      : { critique: 'The response is short.', revision: `${response}aaaa` },
  };
}

function prompts(split: LoopPrompt['split'], n: number): LoopPrompt[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${split}-${i}`, application: i % 2 ? 'truthfulness' : 'dialogue-coherence', kind: 'tiny',
    split, messages: [{ role: 'user', content: `${'abc'[i % 3]}${'cab'[(i + split.length) % 3]} ?` }] as ChatMessage[], principleIds: ['helpful'] }));
}

/** A one-round, one-iteration tiny run whose reward is one feedback source: `feedback` is the YAML flow mapping of its
 * weights (e.g. '{pairwise: 0, selfCertainty: 2}'); the labeler writes no rationale. */
export function oneSourceRunYaml(feedback: string): string {
  return `rounds: 1\niterationsPerRound: 1\npromptsPerRound: 4\nsamplesPerPrompt: 4\nmaxNewTokens: 8\nvalidationPrompts: 6\nfeedback: ${feedback.replace(/}$/, ', chainOfThought: false}')}\n`;
}

export const TINY_CONSTITUTION = { name: 'tiny', version: '1', principles: [{ id: 'helpful', text: 'Answer with many a.', critique: 'Say which letters are not a.', revision: 'Rewrite the answer with more a.' }] };

/** The tiny run's labeler: the real judges over the scripted in-process model (what a queue worker of a test builds too). */
export function tinyLabeler(options: { seed: number; principleMode: RunConfig['feedback']['principleMode']; chainOfThought: boolean; taste?: 'a-rich' | 'longer'; constitution?: Constitution }): { labeler: LoopLabeler; labelerModel: DeterministicLanguageModel } {
  const labelerModel = new DeterministicLanguageModel({ brain: tinyBrain(options.taste ?? 'a-rich') });
  const executor = new RequestExecutor(new InProcessProvider(labelerModel), { concurrency: 1, timeoutMs: 10_000, retry: defaultRetry });
  const labeler = judgeLabeler({ executor, constitution: options.constitution ?? TINY_CONSTITUTION, principleMode: options.principleMode, chainOfThought: options.chainOfThought, seed: options.seed });
  return { labeler, labelerModel };
}

export interface TinyLoop { context: RoundContext & { policy: LoopPolicy }; labelerModel: DeterministicLanguageModel }

/** Labeled comparisons for the labeled-data source (feedback.labeledAnchors): of two random strings, more a's is preferred. */
export function tinyLabeledPairs(n: number, seed: number): AnchorPair[] {
  const rng = new Rng(seed), text = () => Array.from({ length: 2 + rng.int(6) }, () => 'abc'[rng.int(3)]).join('');
  const train = prompts('train', 12), out: AnchorPair[] = [];
  while (out.length < n) {
    const x = text(), y = text();
    if (aShare(x) !== aShare(y)) out.push({ prompt: train[out.length % train.length]!, preferred: aShare(x) > aShare(y) ? x : y, other: aShare(x) > aShare(y) ? y : x });
  }
  return out;
}

export function tinyLoop(options: { config: Readonly<RunConfig>; store: RunStore; taste?: 'a-rich' | 'longer'; anchors?: boolean }): TinyLoop {
  const { config, store } = options;
  const { labeler, labelerModel } = tinyLabeler({ seed: config.seed, principleMode: config.feedback.principleMode, chainOfThought: config.feedback.chainOfThought, taste: options.taste });
  const policy = new LoopPolicy({ base: tinyBase(), tokenizer: new TinyTokenizer(), config, seed: config.seed });
  const validation = prompts('validation', config.validationPrompts);
  const anchors: AnchorPair[] = options.anchors === false ? [] : validation.slice(0, 4).map((prompt) => ({ prompt, preferred: 'aaaa', other: 'bcbc' }));
  return { context: { config, store, policy, labeler, train: prompts('train', 12), validation, anchors, labeledPairs: tinyLabeledPairs(48, 7) }, labelerModel };
}

/** A tiny run in a fresh temporary folder: the parsed config, its open store and the loop context, handed to `body`
 * (which closes the store when it is done with it); the folder is removed afterwards, whatever happens. */
export async function inTinyRun<T>(options: { prefix: string; yaml: string }, body: (run: { dir: string; config: RunConfig; store: RunStore; context: TinyLoop['context'] }) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), options.prefix));
  try {
    const config = parseRunConfig(options.yaml);
    const store = RunStore.open(dir, config);
    return await body({ dir, config, store, context: tinyLoop({ config, store }).context });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
