// parseChatCompletion's hand-written check against the zod schema it stands in for: every field a judge reads, set in
// turn to each kind of JSON value (absent, null, number, a number too large for a double, string, boolean, array,
// object), in a body with and without log-probs; the two must return the same result or throw the same error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatGenerateOptions } from '../chat-model-v1.ts';
import { parseChatCompletion, parseWithSchema } from './chat-completion-wire.ts';

const base = () => ({
  id: 'x', object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: '1' }, finish_reason: 'length',
    logprobs: { content: [{ token: '1', logprob: -0.1, bytes: [49], top_logprobs: [{ token: '1', logprob: -0.1 }, { token: '2', logprob: -2.4, bytes: null }] }] } }],
  usage: { prompt_tokens: 7, completion_tokens: 1, total_tokens: 8 },
});
// Paths into base(); '*' stands for an array's first element.
const paths = ['', 'choices', 'choices.*', 'choices.*.message', 'choices.*.message.content', 'choices.*.finish_reason', 'choices.*.logprobs',
  'choices.*.logprobs.content', 'choices.*.logprobs.content.*', 'choices.*.logprobs.content.*.token', 'choices.*.logprobs.content.*.logprob',
  'choices.*.logprobs.content.*.top_logprobs', 'choices.*.logprobs.content.*.top_logprobs.*', 'choices.*.logprobs.content.*.top_logprobs.*.token',
  'choices.*.logprobs.content.*.top_logprobs.*.logprob', 'usage', 'usage.prompt_tokens', 'usage.completion_tokens'];
// INFINITE is written as -1e999, which JSON.parse reads as -Infinity.
const INFINITE = '__infinite__';
const values: unknown[] = [undefined, null, 0, -1.5, INFINITE, 'x', '', true, [], [1], [{}], {}, { token: 'a', logprob: 0 }];

function setAt(root: unknown, path: string, value: unknown): unknown {
  if (path === '') return value;
  const keys = path.split('.').map((key) => (key === '*' ? '0' : key));
  let node = root as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete node[last]; else node[last] = value;
  return root;
}

const outcome = (parse: () => unknown): unknown => { try { return { result: parse() }; } catch (error) { return { error: (error as Error).message, kind: (error as { kind?: string }).kind } }; };
const requests: Array<ChatGenerateOptions | undefined> = [undefined, { messages: [], maxTokens: 1, temperature: 0, seed: 0, topLogprobs: 5, n: 2 }];

test('the quick check of a chat completion agrees with the schema on every field, valid or not', () => {
  let accepted = 0, refused = 0;
  for (const withLogprobs of [true, false]) {
    for (const path of paths) {
      if (!withLogprobs && path.startsWith('choices.*.logprobs.')) continue;
      for (const value of values) {
        const body = setAt(base(), 'choices.*.logprobs', withLogprobs ? base().choices[0]!.logprobs : null);
        const json = setAt(body, path, value);
        for (const request of requests) {
          const text = JSON.stringify(json)?.replaceAll(`"${INFINITE}"`, '-1e999');
          if (text === undefined) continue;                      // the whole body absent: not JSON, covered below
          const quick = outcome(() => parseChatCompletion(text, request));
          const reference = outcome(() => parseWithSchema(JSON.parse(text), request));
          assert.deepEqual(quick, reference, `${path} = ${JSON.stringify(value)} (logprobs ${withLogprobs})`);
          if ('error' in (quick as object)) refused++; else accepted++;
        }
      }
    }
  }
  // Both kinds are exercised, and more bodies are refused than accepted.
  assert.ok(accepted > 50 && refused > 100, `${accepted} accepted, ${refused} refused`);
  assert.match((outcome(() => parseChatCompletion('{"choices":[', undefined)) as { error: string }).error, /not JSON/);
  // An empty choices list is refused by both, naming the field.
  assert.match((outcome(() => parseChatCompletion(JSON.stringify({ choices: [] }))) as { error: string }).error, /field 'choices'/);
});
