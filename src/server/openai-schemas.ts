// The request bodies `rlaif serve` accepts, as zod schemas: chat completions, (legacy) completions, tokenize and
// detokenize, after OpenAI's API reference. Fields the server does not read are ignored (clients send many); fields
// it cannot honour (tools, non-zero penalties, logit_bias, suffix, best_of > n, a JSON response_format, vLLM's
// repetition_penalty set to anything but 1) are 400s naming them, never ignored. vLLM's top_k and min_p are honoured.
import { z } from 'zod';
import { ApiError } from './http-io.ts';

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish().describe('up to 4 strings that end a choice (not included in its text)');
const common = {
  model: z.string().min(1),
  n: z.number().int().min(1).nullish(),
  seed: z.number().int().nullish().describe('choice 0 samples with this seed, choice i > 0 with deriveSeed(seed, `choice|i`); absent: random'),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  ignore_eos: z.boolean().nullish().describe("vLLM's extension: keep generating past the end-of-sequence token (fixed-length benchmarks)"),
  // vLLM's sampling extensions, which clients of vLLM servers send (top_k -1 or 0: off; repetition_penalty: refused
  // unless 1, off)
  top_k: z.number().int().min(-1).nullish().describe('keep the k most likely tokens (-1 or 0: all)'),
  min_p: z.number().min(0).max(1).nullish().describe('keep the tokens at least min_p times as likely as the most likely (0: all)'),
  repetition_penalty: z.number().nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
};

const contentPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(contentPart)]).nullish(),
});

export const chatRequestSchema = z.looseObject({
  ...common,
  messages: z.array(message).min(1),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(z.unknown()).nullish(),
  functions: z.array(z.unknown()).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

const tokenIds = z.array(z.number().int().min(0)).min(1);
export const completionRequestSchema = z.looseObject({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1), tokenIds, z.array(tokenIds).min(1)]),
  max_tokens: z.number().int().min(0).nullish().describe('0 with echo: score the prompt only (log-likelihood requests)'),
  echo: z.boolean().nullish(),
  logprobs: z.number().int().min(0).max(5).nullish(),
  suffix: z.string().nullish(),
  best_of: z.number().int().min(1).nullish(),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const tokenizeRequestSchema = z.union([
  z.looseObject({ model: z.string().nullish(), prompt: z.string(), add_special_tokens: z.boolean().nullish() }),
  z.looseObject({ model: z.string().nullish(), messages: z.array(message).min(1), add_generation_prompt: z.boolean().nullish() }),
]);
export const detokenizeRequestSchema = z.looseObject({ model: z.string().nullish(), tokens: z.array(z.number().int().min(0)) });

/** Parses a body with a schema; the first issue becomes a 400 naming its field. */
export function parseRequest<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.') || null;
    throw new ApiError(400, `${param ? `'${param}': ` : ''}${issue.message}`, 'invalid_request_error', param, 'invalid_value');
  }
  return parsed.data;
}

/** Settings the server would otherwise silently ignore: a 400 naming the field. */
export function refuseUnsupported(body: ChatRequest | CompletionRequest): void {
  const unsupported = (param: string, why: string) => { throw new ApiError(400, `'${param}' is not supported by rlaif serve: ${why}`, 'invalid_request_error', param, 'unsupported_parameter'); };
  if ((body as ChatRequest).tools?.length) unsupported('tools', 'no tool calling');
  if ((body as ChatRequest).functions?.length) unsupported('functions', 'no function calling');
  if (body.presence_penalty) unsupported('presence_penalty', 'no repetition penalties');
  if (body.frequency_penalty) unsupported('frequency_penalty', 'no repetition penalties');
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) unsupported('logit_bias', 'no logit bias');
  if ((body as CompletionRequest).suffix) unsupported('suffix', 'no insertion');
  if (body.response_format && body.response_format.type !== 'text') unsupported('response_format', `no constrained decoding (type '${body.response_format.type}'; only 'text')`);
  if (body.repetition_penalty !== null && body.repetition_penalty !== undefined && body.repetition_penalty !== 1) unsupported('repetition_penalty', 'no repetition penalties');
  const bestOf = (body as CompletionRequest).best_of;
  if (bestOf && bestOf !== (body.n ?? 1)) unsupported('best_of', 'best_of must equal n');
}

/** The text of a message's content (a string, or text parts joined). */
export function messageText(content: string | { text: string }[] | null | undefined): string {
  if (content === null || content === undefined) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}
