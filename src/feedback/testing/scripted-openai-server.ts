// A scripted OpenAI chat-completions server on 127.0.0.1 for tests and benchmarks: answers judge prompts with a toy
// labeler (rationales, verdict logprobs, votes, scores) and injects 429s, 500s, 401s, hangs, truncated JSON, nonsense
// verdicts; error bodies can echo the request's credentials (Authorization header, URL), as careless servers do.
// Leaves out streaming, tools, and any real language model. Protocol shape: OpenAI /v1/chat/completions.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type InjectedFailure = 'rate-limit' | 'server-error' | 'unauthorized' | 'timeout' | 'truncated-json' | 'nonsense-verdict';

export interface ScriptedBrain {
  /** P(the first response shown is better), given both responses and the rendered conversation. */
  pairwise(first: string, second: string, prompt: string): number;
  /** (10,) probabilities of scores 1..10. */
  pointwise(response: string): number[];
  /** Critique and revision of a response (the critique-revision template); absent: a fixed critique, the response unchanged. */
  revise?(response: string): { critique: string; revision: string };
}

export interface ScriptedServerOptions {
  seed?: number;
  failureRate?: number; // fraction of requests failing, each with a kind drawn uniformly from failureKinds
  failureKinds?: InjectedFailure[];
  retryAfterSeconds?: number; // sent with 429s
  hangMs?: number; // a 'timeout' holds the request this long, then drops the socket
  latencyMs?: number; // added to every answer
  logprobs?: boolean; // false: behave like a server that ignores logprobs
  positionBias?: number; // added to P(first) by the default brain
  brain?: ScriptedBrain;
  fixedReply?: string; // answer every request with this text (benchmarks of pure protocol cost)
  maxChoices?: number; // return at most this many choices whatever n asks (a server that ignores n)
  echoCredentials?: boolean; // error bodies repeat the Authorization header and the request URL (with its query)
}

export interface ScriptedServerStats {
  requests: number;
  outcomes: Record<string, number>;
  authorizations: Set<string>;
  requestBodies: number;
}

export interface ScriptedServer {
  url: string; // base URL including /v1
  stats: ScriptedServerStats;
  /** Change failure injection while running (e.g. a server that comes back up): failureRate, failureKinds. */
  configure(options: Pick<ScriptedServerOptions, 'failureRate' | 'failureKinds'>): void;
  /** Client connections open now (idle keep-alive ones included). */
  connections(): Promise<number>;
  close(): Promise<void>;
}

export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Default toy labeler: '[good]' beats '[bad]'; otherwise the shorter response is mildly preferred. */
export function defaultBrain(positionBias = 0): ScriptedBrain {
  const quality = (text: string): number => (text.includes('[good]') ? 1 : text.includes('[bad]') ? 0 : 0.5 - Math.min(0.4, text.length / 5000));
  return {
    pairwise: (first, second) => Math.min(0.97, Math.max(0.03, 0.5 + 0.4 * (quality(first) - quality(second)) + positionBias)),
    pointwise: (response) => {
      const center = 1 + 9 * quality(response);
      const weights = Array.from({ length: 10 }, (_, index) => Math.exp(-((index + 1 - center) ** 2) / 2));
      const total = weights.reduce((sum, weight) => sum + weight, 0);
      return weights.map((weight) => weight / total);
    },
  };
}

interface WireMessage {
  role: string;
  content: string;
}

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  if (from < 0) return '';
  const to = text.indexOf(end, from + start.length);
  return text.slice(from + start.length, to < 0 ? undefined : to).trim();
}

function logprobEntry(token: string, alternatives: Array<[string, number]>): unknown {
  const sorted = alternatives.filter(([, p]) => p > 0).sort((a, b) => b[1] - a[1]);
  return { token, logprob: Math.log(Math.max(1e-9, alternatives.find(([t]) => t === token)?.[1] ?? 1e-9)), bytes: null, top_logprobs: sorted.slice(0, 20).map(([t, p]) => ({ token: t, logprob: Math.log(p), bytes: null })) };
}

export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const random = mulberry32(options.seed ?? 1);
  let failureRate = options.failureRate ?? 0;
  let kinds = options.failureKinds ?? ['rate-limit', 'server-error', 'timeout', 'truncated-json', 'nonsense-verdict'];
  const brain = options.brain ?? defaultBrain(options.positionBias ?? 0);
  const stats: ScriptedServerStats = { requests: 0, outcomes: {}, authorizations: new Set(), requestBodies: 0 };
  const count = (outcome: string): void => {
    stats.outcomes[outcome] = (stats.outcomes[outcome] ?? 0) + 1;
  };

  const answer = (body: Record<string, unknown>): { choices: Array<{ text: string; logprobs: unknown[] | null }>; promptChars: number } => {
    const messages = (Array.isArray(body.messages) ? body.messages : []) as WireMessage[];
    const promptChars = messages.reduce((sum, message) => sum + String(message.content ?? '').length, 0);
    const n = Math.min(typeof body.n === 'number' ? body.n : 1, options.maxChoices ?? Infinity);
    const wantsLogprobs = body.logprobs === true && options.logprobs !== false;
    const sample = mulberry32(typeof body.seed === 'number' ? body.seed : 0);
    const last = String(messages.at(-1)?.content ?? '');
    const context = String(messages.find((message, index) => index > 0 && message.role === 'user')?.content ?? '');
    if (options.fixedReply !== undefined) return { choices: [{ text: options.fixedReply, logprobs: null }], promptChars };
    let options_: Array<[string, number]> | null = null;
    let text = '';
    if (last.includes('Preferred Response=')) {
      const first = between(context, 'Response 1:', 'Response 2:');
      const second = between(context, 'Response 2:', 'Consider how well');
      const p = brain.pairwise(first, second, context);
      options_ = [['1', p], ['2', 1 - p]];
    } else if (last.includes('Rating=')) {
      const response = between(context, 'Response:', 'Consider how well');
      options_ = brain.pointwise(response).map((p, index): [string, number] => [String(index + 1), p]);
    } else if (last.includes('Score: <total points>')) {
      const response = between(last, '<response>', '</response>');
      const distribution = brain.pointwise(response);
      const expected = distribution.reduce((sum, p, index) => sum + p * (index + 1), 0);
      text = `The response is relevant and addresses the question. Score: ${Math.round(expected / 2)}`;
    } else if (last.includes('Revision:')) {
      text = 'I cannot help with that, but here is a safer alternative.';
    } else if (last.includes('Critique:')) {
      text = 'The response could encourage harm; it should decline and explain why.';
    } else {
      text = 'Weighing both against the principle: one response is clearer and safer than the other.';
    }
    if (!options_) return { choices: Array.from({ length: n }, () => ({ text, logprobs: null })), promptChars };
    const choices = Array.from({ length: n }, () => {
      let u = sample();
      let picked = options_![options_!.length - 1]![0];
      for (const [token, p] of options_!) {
        if (u < p) {
          picked = token;
          break;
        }
        u -= p;
      }
      const chosen = wantsLogprobs ? options_!.reduce((best, item) => (item[1] > best[1] ? item : best))[0] : picked;
      return { text: chosen, logprobs: wantsLogprobs ? [logprobEntry(chosen, options_!)] : null };
    });
    return { choices, promptChars };
  };

  const handle = (request: IncomingMessage, response: ServerResponse, raw: string): void => {
    stats.requests++;
    if (request.headers.authorization) stats.authorizations.add(request.headers.authorization);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
      stats.requestBodies++;
    } catch {
      count('bad-request');
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
      return;
    }
    const failure = failureRate > 0 && random() < failureRate ? kinds[Math.floor(random() * kinds.length)]! : null;
    count(failure ?? 'ok');
    const echo = options.echoCredentials ? ` (request: authorization ${request.headers.authorization ?? 'none'}, url ${request.url})` : '';
    const errorBody = (message: string, type: string): string => JSON.stringify({ error: { message: `${message}${echo}`, type } });
    if (failure === 'rate-limit') {
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(options.retryAfterSeconds ?? 0) });
      response.end(errorBody('rate limited', 'rate_limit'));
      return;
    }
    if (failure === 'server-error') {
      response.writeHead(500, { 'content-type': 'application/json' }).end(errorBody('internal', 'server_error'));
      return;
    }
    if (failure === 'unauthorized') {
      response.writeHead(401, { 'content-type': 'application/json' }).end(errorBody('Incorrect API key provided', 'invalid_request_error'));
      return;
    }
    if (failure === 'timeout') {
      setTimeout(() => request.socket.destroy(), options.hangMs ?? 2000).unref();
      return;
    }
    const { choices, promptChars } = failure === 'nonsense-verdict'
      ? { choices: [{ text: 'banana', logprobs: [logprobEntry('banana', [['banana', 0.9], ['apple', 0.1]])] }], promptChars: 0 }
      : answer(body);
    const completion = JSON.stringify({
      id: `chatcmpl-${stats.requests}`,
      object: 'chat.completion',
      created: 0,
      model: String(body.model ?? 'scripted'),
      choices: choices.map((choice, index) => ({
        index,
        message: { role: 'assistant', content: choice.text },
        logprobs: choice.logprobs ? { content: choice.logprobs } : null,
        finish_reason: 'stop',
      })),
      usage: { prompt_tokens: Math.ceil(promptChars / 4), completion_tokens: choices.length * 4, total_tokens: Math.ceil(promptChars / 4) + choices.length * 4 },
    });
    const payload = failure === 'truncated-json' ? completion.slice(0, Math.floor(completion.length / 2)) : completion;
    const send = (): void => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }).end(payload);
    };
    if (options.latencyMs) setTimeout(send, options.latencyMs);
    else send();
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    stats,
    configure: (changes) => {
      if (changes.failureRate !== undefined) failureRate = changes.failureRate;
      if (changes.failureKinds !== undefined) kinds = changes.failureKinds;
    },
    connections: () => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
