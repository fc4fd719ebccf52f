// How a chat prompt and its generation budget share a model's context window: one policy for the in-process provider
// (feedback/providers/transformer-language-model.ts) and `rlaif serve`'s chat endpoint (server/choices.ts), so a judge
// gets the same answers in process and over HTTP. The budget shrinks before the prompt is cut: a judge's prompt opens
// with its rule (the system turn) and a conversation with its first facts, and cutting the start loses them (the
// testbed labeler's longer judging prompts lost their rule when the budget came first), while a rationale rarely
// needs its whole budget. Only past a quarter of the budget does the prompt give way, keeping its end.

export interface ContextFit {
  cut: number;          // tokens dropped from the prompt's start (0: the whole prompt is fed)
  maxNewTokens: number; // tokens that may be generated (≥ 1)
}

/**
 * Fits a prompt of `promptLength` tokens and a request for `maxTokens` new ones into `context` positions (the
 * generation needs prompt + maxNewTokens − 1 ≤ context): at most `cap` tokens are generated; when both do not fit, the
 * budget shrinks down to a quarter of itself, then the prompt's start is cut.
 */
export function fitChatToContext(context: number, promptLength: number, maxTokens: number, cap = Math.floor(context / 2)): ContextFit {
  if (!(Number.isInteger(context) && context >= 2)) throw new Error(`fitChatToContext: context ${context} must be an integer ≥ 2`);
  const budget = Math.max(1, Math.min(maxTokens, cap, context - 1));
  if (promptLength + budget - 1 <= context) return { cut: 0, maxNewTokens: budget };
  const floor = Math.max(1, Math.ceil(budget / 4)), left = context - promptLength + 1;
  if (left >= floor) return { cut: 0, maxNewTokens: left };
  return { cut: promptLength - (context - floor + 1), maxNewTokens: floor };
}
