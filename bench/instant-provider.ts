// A labeler that answers at once (after a macrotask turn, as a socket's would) in the shapes the pairwise judge reads:
// a rationale, then a verdict with 20 top log-probs. For benches of the judge's own work, with no model and no HTTP.
import type { ChatGenerateOptions, ChatGenerateResult, ChatModelV1 } from '../src/feedback/chat-model-v1.ts';

export function instantProvider(onRequest?: (options: ChatGenerateOptions) => void): ChatModelV1 {
  return {
    specificationVersion: 'v1', provider: 'instant', modelId: 'instant', supportsLogprobs: true,
    async doGenerate(options: ChatGenerateOptions): Promise<ChatGenerateResult> {
      onRequest?.(options);
      await new Promise((resolve) => setImmediate(resolve));
      if ((options.topLogprobs ?? 0) > 0) {
        return { choices: [{ text: '1', tokens: [{ token: '1', logprob: -0.5, topLogprobs: Array.from({ length: 20 }, (_, i) => ({ token: String(i), logprob: -i })) }], finishReason: 'length' }], usage: { promptTokens: 200, completionTokens: 1 } };
      }
      return { choices: [{ text: 'Kelo lives near the stone bridge. Answer 1 is right. Answer 2 is wrong, so answer 1 is better.', tokens: null, finishReason: 'stop' }], usage: { promptTokens: 180, completionTokens: 24 } };
    },
  };
}
