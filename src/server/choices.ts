// The choices of one request: n sequences per prompt through the batch engine, each with its seed (choice 0 the
// request's seed, choice i > 0 deriveSeed(seed, `choice|i`), as the in-process provider does), stop strings, and text
// deltas for streaming (held back while they could still be the start of a stop string or a split character).
// Leaves out beam search and best_of > n.
import { randomInt } from 'node:crypto';
import { deriveSeed } from '../engine/random.ts';
import type { BatchEngine, TokenStep } from '../models/batch-engine.ts';
import { fitChatToContext } from '../models/context-fit.ts';
import { ApiError } from './http-io.ts';
import type { ServedModel } from './served-model.ts';

export interface ChoiceSettings {
  n: number;
  seed: number | null;
  temperature: number;
  topP: number;
  topK: number;               // 0: off
  minP: number;               // 0: off
  maxTokens: number;          // ≥ 1
  stop: string[];
  topLogprobs: number;        // 0: none
  ignoreEos?: boolean;        // vLLM's ignore_eos: the end-of-sequence token does not stop a choice
  signal: AbortSignal;
}

export interface GeneratedChoice {
  index: number;
  prompt: number[];           // (P,) the prompt as fed (cut at its start when it was too long)
  tokens: TokenStep[];        // (N,) generated, the stop token included
  content: TokenStep[];       // the tokens that make the text (the stop token left out)
  text: string;
  finishReason: 'stop' | 'length';
}

export type DeltaListener = (index: number, delta: string, steps: TokenStep[]) => void;

/**
 * max_tokens and the prompt fitted to the context. Chat (`cut`): the in-process provider's policy (fitChatToContext),
 * so a judge gets the same answers over HTTP: at most half the context is generated, the budget shrinks before a
 * longer prompt loses its start. Completions: the prompt is never cut (a 400 past the context), the generation
 * shortened to fit.
 */
export function fitToContext(served: ServedModel, prompt: number[], maxTokens: number, cut: boolean): { prompt: number[]; maxNewTokens: number } {
  const context = served.context;
  if (cut) {
    const fit = fitChatToContext(context, prompt.length, maxTokens);
    return { prompt: fit.cut > 0 ? prompt.slice(fit.cut) : prompt, maxNewTokens: fit.maxNewTokens };
  }
  if (prompt.length > context) throw new ApiError(400, `the prompt has ${prompt.length} tokens; this model's context is ${context} tokens`, 'invalid_request_error', 'prompt', 'context_length_exceeded');
  return { prompt, maxNewTokens: Math.min(maxTokens, context - prompt.length + 1) };
}

/** Runs n choices for one prompt; choice indices start at `firstIndex`. */
export async function generateChoices(options: { served: ServedModel; engine: BatchEngine; prompt: number[]; firstIndex: number; settings: ChoiceSettings; onDelta?: DeltaListener }): Promise<GeneratedChoice[]> {
  const { served, engine, prompt, settings } = options;
  const eos = served.eosTokenId;
  const stopIds = eos === null || settings.ignoreEos ? [] : [eos];
  const decode = (steps: TokenStep[]) => served.tokenizer.decode(steps.map((s) => s.token), { skipSpecialTokens: true });
  const stopAt = (text: string): number => {
    let cut = -1;
    for (const stop of settings.stop) { const at = text.indexOf(stop); if (at >= 0 && (cut < 0 || at < cut)) cut = at; }
    return cut;
  };
  const holdBack = settings.stop.length > 0 ? Math.max(...settings.stop.map((s) => s.length)) - 1 : 0;
  const base = settings.seed ?? randomInt(0, 2 ** 31);
  const runs = Array.from({ length: settings.n }, async (_, i): Promise<GeneratedChoice> => {
    const index = options.firstIndex + i;
    const steps: TokenStep[] = [];
    let sent = 0;
    const content = (tokens: TokenStep[]) => (tokens.length > 0 && stopIds.includes(tokens.at(-1)!.token) ? tokens.slice(0, -1) : tokens);
    const result = await engine.generate({
      prompt, maxNewTokens: settings.maxTokens, sampling: { temperature: settings.temperature, topP: settings.topP, topK: settings.topK, minP: settings.minP },
      seed: i === 0 ? base : deriveSeed(base, `choice|${i}`), stopTokenIds: stopIds, topLogprobs: settings.topLogprobs, signal: settings.signal,
      isStopped: settings.stop.length > 0 ? (ids) => stopAt(served.tokenizer.decode(ids.filter((id) => !stopIds.includes(id)), { skipSpecialTokens: true })) >= 0 : undefined,
      onToken: options.onDelta ? (step) => {
        steps.push(step);
        if (stopIds.includes(step.token)) return;
        const text = decode(steps);
        let end = text.length - holdBack;
        while (end > sent && text.charCodeAt(end - 1) === 0xfffd) end--;   // a character split across tokens
        if (settings.stop.length > 0 && stopAt(text) >= 0) return;         // the final text is sent on finish
        if (end > sent) { options.onDelta!(index, text.slice(sent, end), [step]); sent = end; }
        else options.onDelta!(index, '', [step]);
      } : undefined,
    });
    const kept = content(result.tokens);
    let text = decode(kept);
    const cut = stopAt(text);
    if (cut >= 0) text = text.slice(0, cut);
    if (options.onDelta && text.length > sent) options.onDelta(index, text.slice(sent), []);
    return { index, prompt, tokens: result.tokens, content: kept, text, finishReason: cut >= 0 ? 'stop' : result.finishReason };
  });
  return Promise.all(runs);
}
