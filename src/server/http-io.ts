// HTTP plumbing of `rlaif serve` on node:http: errors in OpenAI's shape ({error: {message, type, param, code}}), JSON
// replies, request bodies read with a size bound, and server-sent events. Leaves out routing (server.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failure to send as `{error: {...}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly type: string = 'invalid_request_error',
    readonly param: string | null = null, readonly code: string | null = null, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

export function errorBody(error: ApiError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}

export function sendError(response: ServerResponse, error: ApiError): void {
  if (response.headersSent) { response.end(); return; }
  sendJson(response, error.status, errorBody(error), error.headers);
}

/** The body as text, at most maxBytes (413 past it, checked on content-length first and on the bytes read). */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    request.resume();
    return Promise.reject(new ApiError(413, `request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`, 'invalid_request_error', null, 'body_too_large'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        request.removeAllListeners('data');
        request.resume();
        reject(new ApiError(413, `request body exceeds the limit of ${maxBytes} bytes`, 'invalid_request_error', null, 'body_too_large'));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** The JSON object of a body; malformed JSON or a non-object is a 400 naming the problem. */
export function parseJsonBody(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, `request body is not valid JSON (${(error as Error).message})`, 'invalid_request_error', null, 'invalid_json');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'request body must be a JSON object', 'invalid_request_error', null, 'invalid_json');
  return value as Record<string, unknown>;
}

/** A server-sent-events stream: `data: <json>` events, closed by `data: [DONE]`. */
export class EventStream {
  constructor(readonly response: ServerResponse, headers: Record<string, string> = {}) {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', ...headers });
    response.flushHeaders();
  }

  get open(): boolean {
    return !this.response.writableEnded && !this.response.destroyed;
  }

  send(data: unknown): void {
    if (this.open) this.response.write(`data: ${JSON.stringify(data)}\n\n`);
  }

  /** A named event (the dashboard's live updates). */
  event(name: string, data: unknown): void {
    if (this.open) this.response.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  done(): void {
    if (!this.open) return;
    this.response.write('data: [DONE]\n\n');
    this.response.end();
  }
}
