// What reading a chat completion costs a judge: parseChatCompletion (JSON.parse, a hand-written check of every field
// the schema tests, the result) against the same body through the zod schema (parseWithSchema after JSON.parse) and
// JSON.parse alone, on replies shaped like rlaif serve's to the pairwise judge: a rationale (text, no log-probs) and a
// verdict (two tokens, 20 top log-probs each), half of each. Microseconds a reply: the first pass over fresh bodies (a
// process that has not compiled the parser yet, as in a judge's first requests), then the median of 9 warm passes.
// node --import tsx bench/parse-completion.ts
import { parseChatCompletion, parseWithSchema } from '../src/feedback/providers/chat-completion-wire.ts';

const REPLIES = 2000;
const alternatives = (seed: number) => Array.from({ length: 20 }, (_, k) => ({ token: k === 0 ? '1' : k === 1 ? '2' : ` w${(seed + k) % 97}`, logprob: -0.05 - k * 0.37 - (seed % 7) / 100, bytes: [49 + k] }));
function reply(i: number): string {
  const verdict = i % 2 === 1;
  return JSON.stringify({
    id: `chatcmpl-${i}`, object: 'chat.completion', created: 1764806400, model: 'rlaif-testbed-policy',
    choices: [{
      index: 0, finish_reason: verdict ? 'length' : 'stop',
      message: { role: 'assistant', content: verdict ? '1' : `Answer 1 says the creature lives in the north wood ${i}, which the question does not ask. Answer 2 admits it does not know.` },
      logprobs: verdict ? { content: [0, 1].map((position) => ({ token: position === 0 ? '1' : '.', logprob: -0.1 - position, bytes: [49], top_logprobs: alternatives(i + position) })) } : null,
    }],
    usage: { prompt_tokens: 250 + (i % 90), completion_tokens: verdict ? 2 : 31, total_tokens: 281 + (i % 90) },
  });
}
const bodies = Array.from({ length: REPLIES }, (_, i) => reply(i));
const request = (body: string) => ({ messages: [], maxTokens: 48, temperature: 0, seed: 0, topLogprobs: body.includes('"top_logprobs"') ? 20 : 0 });
const readers = {
  'parseChatCompletion': (body: string) => parseChatCompletion(body, request(body)),
  'zod schema': (body: string) => parseWithSchema(JSON.parse(body), request(body)),
  'JSON.parse alone': (body: string) => JSON.parse(body) as unknown,
};
let sink = 0;
const time = (read: (body: string) => unknown) => {
  const started = performance.now();
  for (const body of bodies) sink += read(body) ? 1 : 0;
  return ((performance.now() - started) * 1000) / bodies.length;
};
const first = Object.fromEntries(Object.entries(readers).map(([name, read]) => [name, time(read)]));
const warm: Record<string, number[]> = Object.fromEntries(Object.keys(readers).map((name) => [name, []]));
for (let pass = 0; pass < 9; pass++) for (const [name, read] of Object.entries(readers)) warm[name]!.push(time(read));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(`# reading ${REPLIES} chat completions (half rationales, half verdicts with 20 top log-probs), µs a reply`);
for (const name of Object.keys(readers)) console.log(`${name.padEnd(20)} first pass ${first[name]!.toFixed(1)}, warm ${median(warm[name]!).toFixed(1)}`);
if (sink !== 10 * 3 * REPLIES) throw new Error('a reader returned nothing');
