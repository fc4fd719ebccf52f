// ChatModelV1 over a model running in this process, through a small adapter the project's own models implement.
// Leaves out batching and KV-cache reuse across calls: one adapter call per sampled completion.
// The adapter returns per-token logprobs and top alternatives so soft labels work as in Lee et al. 2023 (arXiv 2309.00267).
import { deriveSeed } from '../../engine/random.ts';
import type { ChatGenerateOptions, ChatGenerateResult, ChatMessage, ChatModelV1, ChatWarning, GeneratedToken } from '../chat-model-v1.ts';

export interface InProcessGenerateRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  seed: number;
  topLogprobs: number; // 0: the adapter may skip computing alternatives
}

export interface InProcessGeneration {
  text: string;
  tokens: GeneratedToken[] | null; // (T,) null when the model cannot report logprobs
  promptTokens: number;
  warnings?: ChatWarning[]; // e.g. the prompt cut to fit the context, fewer new tokens than asked
}

/** What a model must offer to serve as a labeler in-process. */
export interface InProcessLanguageModel {
  readonly modelId: string;
  readonly supportsLogprobs: boolean;
  generate(request: InProcessGenerateRequest): Promise<InProcessGeneration>;
}

export class InProcessProvider implements ChatModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'in-process';
  readonly modelId: string;
  readonly supportsLogprobs: boolean;
  readonly #model: InProcessLanguageModel;

  constructor(model: InProcessLanguageModel) {
    this.#model = model;
    this.modelId = model.modelId;
    this.supportsLogprobs = model.supportsLogprobs;
  }

  async doGenerate(options: ChatGenerateOptions): Promise<ChatGenerateResult> {
    const count = options.n ?? 1;
    const choices: ChatGenerateResult['choices'] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    const warnings = new Map<string, ChatWarning>();
    if ((options.topLogprobs ?? 0) > 0 && !this.supportsLogprobs) warnings.set('topLogprobs', { type: 'unsupported-setting', setting: 'topLogprobs', details: `${this.modelId} gives no logprobs` });
    for (let index = 0; index < count; index++) {
      options.signal?.throwIfAborted();
      // Completion 0 uses the seed as given, completion i > 0 deriveSeed(seed, `choice|i`): n samples differ, reproducibly.
      const generation = await this.#model.generate({
        messages: options.messages,
        maxTokens: options.maxTokens,
        temperature: options.temperature,
        seed: index === 0 ? options.seed : deriveSeed(options.seed, `choice|${index}`),
        topLogprobs: options.topLogprobs ?? 0,
      });
      const tokens = (options.topLogprobs ?? 0) > 0 ? generation.tokens : null;
      choices.push({ text: generation.text, tokens, finishReason: 'stop' });
      for (const warning of generation.warnings ?? []) warnings.set(warning.setting, warning);
      promptTokens = generation.promptTokens;
      completionTokens += generation.tokens?.length ?? Math.ceil(generation.text.length / 4);
    }
    return warnings.size > 0 ? { choices, usage: { promptTokens, completionTokens }, warnings: [...warnings.values()] } : { choices, usage: { promptTokens, completionTokens } };
  }
}
