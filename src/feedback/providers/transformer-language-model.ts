// InProcessLanguageModel over the project's own Transformer + tokenizer: messages rendered with the tokenizer's chat
// template (else a plain "role: content" transcript), a seeded sample with the KV cache, and the full distribution at
// each generated position (top-k logprobs). Sharing work (the default): concurrent requests decode together in one
// batch (models/batch-engine.ts, continuous batching) and each prompt starts from the cached keys and values of the
// longest run of blocks it shares with a recent one (models/prefix-cache.ts: a judge's orders and samples share the
// principle and the conversation, its verdict request extends its rationale request); the top-k come from the logits
// the tokens were drawn from. Without: each prompt is prefilled whole, sampled alone, and one teacher-forced pass over
// prompt + sample gives the top-k. The two agree to float rounding. An over-long prompt keeps its start while the
// generation budget can shrink (to a quarter), then its end (models/context-fit.ts).
// Lee et al. 2023 (arXiv 2309.00267).
import { noGrad, scope, slice } from '../../engine/index.ts';
import { BatchEngine } from '../../models/batch-engine.ts';
import { fitChatToContext } from '../../models/context-fit.ts';
import { generate } from '../../models/generate.ts';
import { PrefixCache } from '../../models/prefix-cache.ts';
import { type TextTokenizer, tokenText } from '../../models/tokenizer.ts';
import type { Transformer } from '../../models/transformer.ts';
import type { ChatMessage, ChatWarning, GeneratedToken, TokenAlternative } from '../chat-model-v1.ts';
import type { InProcessGenerateRequest, InProcessGeneration, InProcessLanguageModel } from './in-process-provider.ts';

/** A tokenizer that may carry a chat template (HfTokenizer does; CharTokenizer does not). */
export type ChatCapableTokenizer = TextTokenizer & { chatTemplate?: string | null; applyChatTemplate?: (messages: ChatMessage[]) => number[] };

export interface TransformerLanguageModelOptions {
  model: Transformer;
  tokenizer: ChatCapableTokenizer;
  modelId: string; // names the model in provenance and cache keys, e.g. a checkpoint path or 'embedded:tiny-gpt'
  maxNewTokensCap?: number; // never sample more than this (default: half the context window)
  shareWork?: boolean; // batch concurrent requests and reuse the KV cache of shared prompt prefixes (default true); the weights must not change meanwhile
  maxBatch?: number; // sequences decoded together when sharing work (default 16)
}

/** The prompt text without a chat template: one "role: content" line per message, then the assistant's cue. */
export function plainTranscript(messages: ChatMessage[]): string {
  return `${messages.map((message) => `${message.role}: ${message.content}`).join('\n')}\nassistant:`;
}

/**
 * Prompt token ids for chat messages: the chat template when the tokenizer has one, else the plain transcript after
 * BOS. The one way messages become tokens, in-process and in `rlaif serve`, so a judge sees the same tokens either way.
 */
export function chatPromptIds(tokenizer: ChatCapableTokenizer, messages: ChatMessage[]): number[] {
  if (tokenizer.chatTemplate && tokenizer.applyChatTemplate) return tokenizer.applyChatTemplate(messages);
  const ids = tokenizer.encode(plainTranscript(messages));
  return tokenizer.bosTokenId !== null && ids[0] !== tokenizer.bosTokenId ? [tokenizer.bosTokenId, ...ids] : ids;
}

export class TransformerLanguageModel implements InProcessLanguageModel {
  readonly modelId: string;
  readonly supportsLogprobs = true;
  readonly #model: Transformer;
  readonly #tokenizer: ChatCapableTokenizer;
  readonly #context: number; // positions the model can attend to
  readonly #maxNewTokensCap: number;
  readonly #prefixCache: PrefixCache | null;
  readonly #engine: BatchEngine | null;

  constructor(options: TransformerLanguageModelOptions) {
    this.#model = options.model;
    this.#tokenizer = options.tokenizer;
    this.modelId = options.modelId;
    this.#context = options.model.config.maxPositions;
    this.#maxNewTokensCap = options.maxNewTokensCap ?? Math.max(1, Math.floor(this.#context / 2));
    this.#prefixCache = (options.shareWork ?? true) ? new PrefixCache({ model: options.model }) : null;
    this.#engine = this.#prefixCache
      ? new BatchEngine({ model: options.model, maxBatch: options.maxBatch ?? 16, padTokenId: options.tokenizer.eosTokenId ?? 0, prefixCache: this.#prefixCache })
      : null;
    if (options.tokenizer.vocabSize > options.model.config.vocabSize) throw new Error(`${options.modelId}: tokenizer vocabulary ${options.tokenizer.vocabSize} exceeds the model's ${options.model.config.vocabSize}`);
  }

  /**
   * Forgets the cached prompt prefixes and hands their key/value buffers back to the process's pool, so a model loaded
   * next (a new round's judge, another checkpoint) reuses that memory instead of faulting in fresh pages. Refused while
   * requests are in flight; the model still answers later requests, with a cold prefix cache.
   */
  close(): void {
    if (this.#engine && (this.#engine.activeCount > 0 || this.#engine.waitingCount > 0)) {
      throw new Error(`${this.modelId}: close() with ${this.#engine.activeCount + this.#engine.waitingCount} requests in flight`);
    }
    this.#prefixCache?.clear();
  }

  /** Prompts sampled, their tokens, and the tokens taken from cached prefixes (null without prefix caching). */
  get prefixCacheStats(): { prompts: number; promptTokens: number; reusedTokens: number } | null {
    return this.#prefixCache ? { ...this.#prefixCache.stats } : null;
  }

  /** Prompt token ids for the messages: chat template when the tokenizer has one, else the plain transcript. */
  promptIds(messages: ChatMessage[]): number[] {
    return chatPromptIds(this.#tokenizer, messages);
  }

  async generate(request: InProcessGenerateRequest): Promise<InProcessGeneration> {
    let prompt = this.promptIds(request.messages);
    const promptTokens = prompt.length;
    const { cut, maxNewTokens } = fitChatToContext(this.#context, prompt.length, request.maxTokens, this.#maxNewTokensCap);
    const warnings: ChatWarning[] = [];
    if (maxNewTokens < request.maxTokens) warnings.push({ type: 'unsupported-setting', setting: 'maxTokens', details: `${this.modelId}: at most ${maxNewTokens} new tokens of the ${request.maxTokens} asked (prompt of ${promptTokens} tokens, context ${this.#context})` });
    if (cut > 0) {
      warnings.push({ type: 'unsupported-setting', setting: 'messages', details: `${this.modelId}: prompt of ${promptTokens} tokens cut to its last ${promptTokens - cut} to fit the context of ${this.#context}` });
      prompt = prompt.slice(cut); // keep the end: the question being asked
    }
    if (prompt.length === 0) prompt = [this.#tokenizer.bosTokenId ?? this.#tokenizer.eosTokenId ?? 0];
    const eos = this.#tokenizer.eosTokenId;
    const sampling = { maxNewTokens, temperature: request.temperature, seed: request.seed, ...(eos !== null ? { stopTokenIds: [eos] } : {}) };
    let content: number[], tokens: GeneratedToken[];
    if (this.#engine) {
      const result = await this.#engine.generate({ prompt, maxNewTokens, sampling: { temperature: request.temperature }, seed: request.seed,
        stopTokenIds: sampling.stopTokenIds ?? [], topLogprobs: request.topLogprobs });
      const steps = eos !== null && result.tokens.at(-1)?.token === eos ? result.tokens.slice(0, -1) : result.tokens; // the stop token is not text
      content = steps.map((step) => step.token);
      tokens = steps.map((step): GeneratedToken => ({ token: tokenText(this.#tokenizer, step.token), logprob: step.logprob,
        topLogprobs: step.top.map((alternative): TokenAlternative => ({ token: tokenText(this.#tokenizer, alternative.token), logprob: alternative.logprob })) }));
    } else {
      const [sequence] = generate(this.#model, [prompt], sampling);
      const sampled = Array.from(sequence!.tokens);
      content = eos !== null && sampled.at(-1) === eos ? sampled.slice(0, -1) : sampled;
      tokens = request.topLogprobs > 0 && content.length > 0
        ? this.#alternatives(content, this.#teacherForcedLogits(prompt, content), request.topLogprobs)
        : content.map((id, index): GeneratedToken => ({ token: tokenText(this.#tokenizer, id), logprob: sequence!.logprobs[index]!, topLogprobs: [] }));
    }
    const text = this.#tokenizer.decode(content, { skipSpecialTokens: true });
    return warnings.length > 0 ? { text, tokens, promptTokens, warnings } : { text, tokens, promptTokens };
  }

  /**
   * Logits (R, V) of the raw model at every generated position, by one teacher-forced forward pass over prompt +
   * response (the path without prefix caching: generate() keeps only the sampled token's logprob).
   */
  #teacherForcedLogits(prompt: number[], response: number[]): Float32Array {
    const P = prompt.length;
    const R = response.length;
    const V = this.#model.config.vocabSize;
    const ids = Int32Array.from([...prompt, ...response.slice(0, -1)]); // (1, P + R - 1): the last token is no input
    const logits = new Float32Array(R * V); // (R, V) logits predicting response token j
    noGrad(() =>
      scope(() => {
        const hidden = this.#model.hidden(ids, [1, P + R - 1]); // (1, P + R - 1, C)
        const predicting = slice(hidden, 1, P - 1, P + R - 1); // (1, R, C)
        logits.set(this.#model.logits(predicting).data.subarray(0, R * V)); // (1, R, V)
      }),
    );
    return logits;
  }

  /** Each response token's log-softmax and the k most likely tokens at its position, from logits (≥ R, V). */
  #alternatives(response: number[], logits: Float32Array, k: number): GeneratedToken[] {
    const V = this.#model.config.vocabSize;
    const count = Math.min(k, V);
    const text = (id: number): string => tokenText(this.#tokenizer, id);   // <id> for ids past the tokenizer (a padded vocabulary)
    return response.map((id, j): GeneratedToken => {
      const row = logits.subarray(j * V, (j + 1) * V); // (V,)
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (row[v]! > max) max = row[v]!;
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(row[v]! - max);
      const logNormalizer = max + Math.log(sum);
      const order = Array.from({ length: V }, (_, v) => v).sort((a, b) => row[b]! - row[a]!).slice(0, count);
      const topLogprobs: TokenAlternative[] = order.map((v) => ({ token: text(v), logprob: row[v]! - logNormalizer }));
      return { token: text(id), logprob: row[id]! - logNormalizer, topLogprobs };
    });
  }
}
