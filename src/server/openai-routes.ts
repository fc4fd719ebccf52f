// The OpenAI-compatible endpoints over the served model: POST /v1/chat/completions (chat template, n, seed,
// temperature, top_p and vLLM's top_k and min_p, max_tokens, stop, logprobs + top_logprobs, SSE streaming ending in
// `data: [DONE]`), POST
// /v1/completions (string or token-id prompts; echo + logprobs scores the prompt, as lm-eval-harness's log-likelihood
// requests need), GET /v1/models, POST /tokenize and /detokenize (vLLM's shapes). Leaves out tools, embeddings, images.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { noGrad, scope } from '../engine/index.ts';
import type { BatchEngine, TokenStep } from '../models/batch-engine.ts';
import { fitToContext, generateChoices, type ChoiceSettings, type GeneratedChoice } from './choices.ts';
import { ApiError, EventStream, sendJson } from './http-io.ts';
import type { ServerMetrics } from './metrics.ts';
import {
  chatRequestSchema, completionRequestSchema, detokenizeRequestSchema, messageText, parseRequest, refuseUnsupported, tokenizeRequestSchema,
  type ChatRequest, type CompletionRequest,
} from './openai-schemas.ts';
import type { ServeConfig } from './serve-config.ts';
import { tokenText } from '../models/tokenizer.ts';
import { chatPromptIds, type ServedModel } from './served-model.ts';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';

export interface RouteContext {
  served: ServedModel;
  engine: BatchEngine;
  config: ServeConfig;
  metrics: ServerMetrics;
  signal: AbortSignal;       // aborted when the client disconnects or the request times out
}

function checkModel(served: ServedModel, model: string | null | undefined): void {
  if (model && model !== served.id) throw new ApiError(404, `The model '${model}' does not exist; this server serves '${served.id}'`, 'invalid_request_error', 'model', 'model_not_found');
}

function settings(context: RouteContext, body: ChatRequest | CompletionRequest, maxTokens: number, topLogprobs: number): ChoiceSettings {
  const n = body.n ?? 1;
  if (n > context.config.maxN) throw new ApiError(400, `'n' is ${n}; this server allows at most ${context.config.maxN}`, 'invalid_request_error', 'n', 'invalid_value');
  return { n, seed: body.seed ?? null, temperature: body.temperature ?? 1, topP: body.top_p ?? 1, topK: Math.max(body.top_k ?? 0, 0), minP: body.min_p ?? 0, maxTokens, stop: body.stop === null || body.stop === undefined ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop, topLogprobs, ignoreEos: body.ignore_eos ?? false, signal: context.signal };
}

function boundMaxTokens(context: RouteContext, requested: number | null | undefined, param: string): number | null {
  if (requested === null || requested === undefined) return null;
  if (requested > context.config.maxTokens) throw new ApiError(400, `'${param}' is ${requested}; this server allows at most ${context.config.maxTokens}`, 'invalid_request_error', param, 'invalid_value');
  return requested;
}

const entry = (context: RouteContext, id: number, logprob: number) => {
  const token = tokenText(context.served.tokenizer, id);
  return { token, logprob, bytes: [...Buffer.from(token, 'utf8')] };
};
const chatLogprobs = (context: RouteContext, steps: TokenStep[]) => ({
  content: steps.map((s) => ({ ...entry(context, s.token, s.logprob), top_logprobs: s.top.map((t) => entry(context, t.token, t.logprob)) })),
});

export async function chatCompletions(context: RouteContext, body: unknown, response: ServerResponse): Promise<void> {
  const request = parseRequest(chatRequestSchema, body);
  checkModel(context.served, request.model);
  refuseUnsupported(request);
  const messages: ChatMessage[] = request.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: messageText(m.content) }));
  const ids = chatPromptIds(context.served, messages);
  const asked = boundMaxTokens(context, request.max_completion_tokens ?? request.max_tokens, request.max_completion_tokens ? 'max_completion_tokens' : 'max_tokens');
  const { prompt, maxNewTokens } = fitToContext(context.served, ids, asked ?? Math.min(context.config.maxTokens, Math.max(1, context.served.context - ids.length)), true);
  const topLogprobs = request.logprobs ? Math.max(request.top_logprobs ?? 0, 0) : 0;
  const choiceSettings = { ...settings(context, request, maxNewTokens, request.logprobs ? Math.max(topLogprobs, 1) : 0) };
  const id = `chatcmpl-${randomUUID()}`, created = Math.floor(Date.now() / 1000), model = context.served.id;
  context.metrics.promptTokens += prompt.length;
  const trimTop = (steps: TokenStep[]) => steps.map((s) => ({ ...s, top: s.top.slice(0, topLogprobs) }));
  if (request.stream) {
    const stream = new EventStream(response);
    const chunk = (choices: unknown[], usage?: unknown) => stream.send({ id, object: 'chat.completion.chunk', created, model, choices, ...(usage !== undefined ? { usage } : {}) });
    for (let index = 0; index < choiceSettings.n; index++) chunk([{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    const choices = await generateChoices({ served: context.served, engine: context.engine, prompt, firstIndex: 0, settings: choiceSettings,
      onDelta: (index, delta, steps) => {
        const content = steps.filter((s) => s.token !== context.served.eosTokenId);
        if (delta === '' && (content.length === 0 || !request.logprobs)) return;
        chunk([{ index, delta: { content: delta }, logprobs: request.logprobs ? chatLogprobs(context, trimTop(content)) : null, finish_reason: null }]);
      } });
    for (const choice of choices) chunk([{ index: choice.index, delta: {}, logprobs: null, finish_reason: choice.finishReason }]);
    const usage = usageOf(prompt.length, choices);
    context.metrics.generationTokens += usage.completion_tokens;
    if (request.stream_options?.include_usage) chunk([], usage);
    stream.done();
    return;
  }
  const choices = await generateChoices({ served: context.served, engine: context.engine, prompt, firstIndex: 0, settings: choiceSettings });
  const usage = usageOf(prompt.length, choices);
  context.metrics.generationTokens += usage.completion_tokens;
  sendJson(response, 200, {
    id, object: 'chat.completion', created, model, system_fingerprint: null,
    choices: choices.map((c) => ({ index: c.index, message: { role: 'assistant', content: c.text, refusal: null }, logprobs: request.logprobs ? chatLogprobs(context, trimTop(c.content)) : null, finish_reason: c.finishReason })),
    usage,
  });
}

function usageOf(promptTokens: number, choices: GeneratedChoice[]) {
  const completion = choices.reduce((n, c) => n + c.tokens.length, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

/** Log-probs of each prompt token after the ones before it (the first has none), with the top k, by one forward. */
function promptLogprobs(served: ServedModel, prompt: number[], k: number): TokenStep[] {
  const P = prompt.length, V = served.model.config.vocabSize;
  const logits = new Float32Array(P * V);                                   // (P, V)
  noGrad(() => scope(() => { logits.set(served.model.forward(Int32Array.from(prompt), [1, P]).data.subarray(0, P * V)); }));
  const out: TokenStep[] = [];
  for (let t = 1; t < P; t++) {
    const row = logits.subarray((t - 1) * V, t * V);
    let max = -Infinity;
    for (let v = 0; v < V; v++) if (row[v]! > max) max = row[v]!;
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(row[v]! - max);
    const lse = max + Math.log(sum);
    const order = k > 0 ? Array.from({ length: V }, (_, v) => v).sort((a, b) => row[b]! - row[a]!).slice(0, k) : [];
    out.push({ token: prompt[t]!, logprob: row[prompt[t]!]! - lse, top: order.map((v) => ({ token: v, logprob: row[v]! - lse })) });
  }
  return out;
}

export async function completions(context: RouteContext, body: unknown, response: ServerResponse): Promise<void> {
  const request = parseRequest(completionRequestSchema, body);
  checkModel(context.served, request.model);
  refuseUnsupported(request);
  const { served } = context, V = served.model.config.vocabSize;
  const raw = request.prompt;
  const prompts: { ids: number[]; text: string }[] = typeof raw === 'string' ? [{ ids: served.tokenizer.encode(raw), text: raw }]
    : typeof raw[0] === 'number' ? [{ ids: raw as number[], text: served.tokenizer.decode(raw as number[]) }]
      : typeof raw[0] === 'string' ? (raw as string[]).map((text) => ({ ids: served.tokenizer.encode(text), text }))
        : (raw as number[][]).map((ids) => ({ ids, text: served.tokenizer.decode(ids) }));
  for (const [i, p] of prompts.entries()) {
    if (p.ids.length === 0) throw new ApiError(400, `prompt ${i} encodes to no tokens`, 'invalid_request_error', 'prompt', 'invalid_value');
    const bad = p.ids.find((id) => id >= V);
    if (bad !== undefined) throw new ApiError(400, `prompt ${i} has token ${bad} outside the vocabulary [0, ${V})`, 'invalid_request_error', 'prompt', 'invalid_value');
  }
  const maxTokens = boundMaxTokens(context, request.max_tokens, 'max_tokens') ?? Math.min(16, context.config.maxTokens);
  const k = request.logprobs ?? 0, wantLogprobs = request.logprobs !== null && request.logprobs !== undefined;
  if (request.stream && (request.echo || maxTokens === 0)) throw new ApiError(400, "'stream' cannot be combined with 'echo' or max_tokens 0", 'invalid_request_error', 'stream', 'invalid_value');
  const id = `cmpl-${randomUUID()}`, created = Math.floor(Date.now() / 1000), model = served.id;
  const base = settings(context, request, Math.max(1, maxTokens), wantLogprobs ? Math.max(k, 1) : 0);
  const stream = request.stream ? new EventStream(response) : null;
  const legacy = (steps: TokenStep[], startOffset: number, first: TokenStep | null) => {
    let offset = startOffset;
    const all = first ? [first, ...steps] : steps, texts = all.map((s) => tokenText(served.tokenizer, s.token));
    return {
      tokens: texts,
      token_logprobs: all.map((s, i) => (first && i === 0 ? null : s.logprob)),
      top_logprobs: all.map((s, i) => (first && i === 0 ? null : Object.fromEntries(s.top.slice(0, k).map((t) => [tokenText(served.tokenizer, t.token), t.logprob])))),
      text_offset: texts.map((text) => { const at = offset; offset += text.length; return at; }),
    };
  };
  const results = await Promise.all(prompts.map(async (p, promptIndex) => {
    const { prompt, maxNewTokens } = fitToContext(served, p.ids, Math.max(1, maxTokens), false);
    context.metrics.promptTokens += prompt.length;
    const firstIndex = promptIndex * base.n;
    const choices = maxTokens === 0 ? Array.from({ length: base.n }, (_, i): GeneratedChoice => ({ index: firstIndex + i, prompt, tokens: [], content: [], text: '', finishReason: 'length' }))
      : await generateChoices({ served, engine: context.engine, prompt, firstIndex, settings: { ...base, maxTokens: maxNewTokens },
        onDelta: stream ? (index, delta, steps) => stream.send({ id, object: 'text_completion', created, model, choices: [{ index, text: delta, logprobs: wantLogprobs ? legacy(steps, 0, null) : null, finish_reason: null }] }) : undefined });
    const echoed = request.echo ? promptLogprobs(served, prompt, wantLogprobs ? Math.max(k, 1) : 0) : null;
    return { p, prompt, choices, echoed };
  }));
  const all = results.flatMap((r) => r.choices);
  const usage = { prompt_tokens: results.reduce((n, r) => n + r.prompt.length, 0), completion_tokens: all.reduce((n, c) => n + c.tokens.length, 0), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  context.metrics.generationTokens += usage.completion_tokens;
  if (stream) {
    for (const c of all) stream.send({ id, object: 'text_completion', created, model, choices: [{ index: c.index, text: '', logprobs: null, finish_reason: c.finishReason }] });
    if (request.stream_options?.include_usage) stream.send({ id, object: 'text_completion', created, model, choices: [], usage });
    stream.done();
    return;
  }
  sendJson(response, 200, {
    id, object: 'text_completion', created, model,
    choices: results.flatMap((r) => r.choices.map((c) => {
      const promptText = request.echo ? r.p.text : '';
      const logprobs = !wantLogprobs ? null : request.echo
        ? legacy([...r.echoed!, ...c.content], 0, { token: r.prompt[0]!, logprob: 0, top: [] })
        : legacy(c.content, 0, null);
      return { index: c.index, text: promptText + c.text, logprobs, finish_reason: c.finishReason };
    })),
    usage,
  });
}

export function listModels(served: ServedModel): unknown {
  return { object: 'list', data: [{ id: served.id, object: 'model', created: served.created, owned_by: 'rlaif', root: served.source, max_model_len: served.context }] };
}

export function tokenize(context: RouteContext, body: unknown): unknown {
  const request = parseRequest(tokenizeRequestSchema, body);
  checkModel(context.served, request.model);
  const chat = request as { messages?: { role: string; content?: string | { text: string }[] | null }[] };
  const tokens = chat.messages
    ? chatPromptIds(context.served, chat.messages.map((m) => ({ role: (m.role === 'developer' ? 'system' : m.role) as ChatMessage['role'], content: messageText(m.content) })))
    : context.served.tokenizer.encode(String(request.prompt), { addSpecialTokens: (request.add_special_tokens as boolean | null | undefined) ?? true });
  return { tokens, count: tokens.length, max_model_len: context.served.context };
}

export function detokenize(context: RouteContext, body: unknown): unknown {
  const request = parseRequest(detokenizeRequestSchema, body);
  checkModel(context.served, request.model);
  const V = context.served.model.config.vocabSize;
  const bad = request.tokens.find((t) => t >= V);
  if (bad !== undefined) throw new ApiError(400, `token ${bad} is outside the vocabulary [0, ${V})`, 'invalid_request_error', 'tokens', 'invalid_value');
  return { prompt: context.served.tokenizer.decode(request.tokens) };
}
