// `rlaif serve` as a node:http server: routes (OpenAI-compatible API, /health, /metrics, the dashboard), the bearer
// key, CORS only when asked, the body bound, admission (concurrency + queue, 429 with Retry-After past them), a
// per-request timeout (408) and cancellation when the client disconnects. It listens at once and answers /health
// with 503 until the model has loaded. Leaves out TLS and HTTP/2.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Admission, QueueFullError } from './admission.ts';
import { BatchEngine } from '../models/batch-engine.ts';
import { ApiError, errorBody, parseJsonBody, readBody, sendError, sendJson } from './http-io.ts';
import { ServerMetrics } from './metrics.ts';
import { chatCompletions, completions, detokenize, listModels, tokenize, type RouteContext } from './openai-routes.ts';
import type { ServeConfig } from './serve-config.ts';
import type { ServedModel } from './served-model.ts';

/** A handler for routes outside the API (the dashboard): returns false when the path is not its. */
export type ExtraRoutes = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<boolean>;

export interface StartOptions {
  config: ServeConfig;
  load: () => Promise<ServedModel>;
  routes?: ExtraRoutes;
  onLog?: (line: string) => void;
}

export interface RunningServer {
  url: string;                       // e.g. http://127.0.0.1:8000
  server: Server;
  ready: Promise<ServedModel>;       // resolves once the model has loaded (rejects if it failed)
  metrics: ServerMetrics;
  engine: () => BatchEngine | null;
  close: () => Promise<void>;
}

class RequestTimeout extends Error {}
class ClientGone extends Error {}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const metrics = new ServerMetrics();
  const admission = new Admission(config.maxConcurrency, config.maxQueue);
  let served: ServedModel | null = null, engine: BatchEngine | null = null, loadError: Error | null = null;
  const key = config.apiKey ? Buffer.from(`Bearer ${config.apiKey}`) : null;
  const cors: Record<string, string> = config.corsOrigin
    ? { 'access-control-allow-origin': config.corsOrigin, 'access-control-allow-headers': 'authorization, content-type', 'access-control-allow-methods': 'GET, POST, OPTIONS' }
    : {};

  const authorized = (request: IncomingMessage): boolean => {
    if (!key) return true;
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === key.length && timingSafeEqual(given, key);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<string> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    for (const [name, value] of Object.entries(cors)) response.setHeader(name, value);
    if (request.method === 'OPTIONS' && config.corsOrigin) { response.writeHead(204).end(); return 'options'; }
    if (path === '/health') {
      if (served) sendJson(response, 200, { status: 'ok', model: served.id });
      else sendJson(response, 503, { status: loadError ? 'failed' : 'loading', ...(loadError ? { error: loadError.message } : {}) }, { 'retry-after': '5' });
      return 'health';
    }
    const api = path.startsWith('/v1/') || path === '/tokenize' || path === '/detokenize' || path === '/metrics';
    if (!api) {
      if (options.routes && (await options.routes(request, response, url))) return 'dashboard';
      throw new ApiError(404, `no route ${request.method} ${path}`, 'invalid_request_error', null, 'not_found');
    }
    if (!authorized(request)) throw new ApiError(401, 'missing or wrong API key (send Authorization: Bearer <key>)', 'authentication_error', null, 'invalid_api_key');
    if (path === '/metrics') {
      const gauges = {
        rlaif_queue_depth: { help: 'requests waiting for a generation slot', value: admission.waiting },
        rlaif_running_requests: { help: 'requests generating now', value: admission.running },
        rlaif_active_sequences: { help: 'sequences in the decode batch', value: engine?.activeCount ?? 0 },
        rlaif_waiting_sequences: { help: 'sequences waiting to join the batch', value: engine?.waitingCount ?? 0 },
        rlaif_model_loaded: { help: '1 once the model has loaded', value: served ? 1 : 0 },
      };
      const stats = engine?.stats;
      const counters: Parameters<ServerMetrics['render']>[1] = stats ? {
        rlaif_engine_seconds_total: { help: 'seconds the batch engine spent in each part of its loop (prefill of joining prompts, cache repacking, decode steps, waiting for arrivals to gather)',
          values: Object.entries(stats.ms).map(([part, ms]) => ({ labels: `part="${part}"`, value: ms / 1000 })) },
        rlaif_engine_decode_steps_total: { help: 'decode steps (one forward pass of the whole batch each)', values: [{ labels: '', value: stats.decodeSteps }] },
        rlaif_engine_decoded_tokens_total: { help: 'tokens decoded, summed over decode steps (batch rows per step)', values: [{ labels: '', value: stats.decodedTokens }] },
        rlaif_engine_prefills_total: { help: 'prefill forward passes (forward passes other than decode steps: one per admission of joining prompts here, where no prefix cache splits them into blocks)', values: [{ labels: '', value: stats.forwardPasses - stats.decodeSteps }] },
      } : {};
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(metrics.render(gauges, counters));
      return 'metrics';
    }
    if (!served || !engine) throw new ApiError(503, loadError ? `the model failed to load: ${loadError.message}` : 'the model is loading; retry shortly', 'service_unavailable', null, 'model_loading', { 'retry-after': '5' });
    const route = `${request.method} ${path}`;
    if (route === 'GET /v1/models') { sendJson(response, 200, listModels(served)); return 'models'; }
    const post = ['POST /v1/chat/completions', 'POST /v1/completions', 'POST /tokenize', 'POST /detokenize', 'POST /v1/tokenize', 'POST /v1/detokenize'];
    if (!post.includes(route)) throw new ApiError(path.startsWith('/v1/') ? 404 : 405, `no route ${route}`, 'invalid_request_error', null, 'not_found');
    const body = parseJsonBody(await readBody(request, config.maxBodyBytes));
    const controller = new AbortController();
    const context: RouteContext = { served, engine, config, metrics, signal: controller.signal };
    if (path.endsWith('tokenize')) {
      sendJson(response, 200, path.endsWith('detokenize') ? detokenize(context, body) : tokenize(context, body));
      return path.slice(path.lastIndexOf('/') + 1);
    }
    const onClose = () => { if (!response.writableFinished) controller.abort(new ClientGone('client disconnected')); };
    response.on('close', onClose);
    const timer = setTimeout(() => controller.abort(new RequestTimeout(`no complete response within ${config.requestTimeoutMs} ms`)), config.requestTimeoutMs);
    let release: (() => void) | null = null;
    try {
      try {
        release = await admission.acquire(controller.signal);
      } catch (error) {
        if (error instanceof QueueFullError) {
          metrics.rejected++;
          throw new ApiError(429, `${error.message}; retry after 1 s`, 'rate_limit_error', null, 'server_busy', { 'retry-after': '1' });
        }
        throw error;
      }
      if (path === '/v1/chat/completions') await chatCompletions(context, body, response);
      else await completions(context, body, response);
      return path === '/v1/chat/completions' ? 'chat' : 'completions';
    } catch (error) {
      const reason = controller.signal.aborted ? controller.signal.reason : null;
      if (reason instanceof ClientGone) { metrics.cancelled++; return 'cancelled'; }
      if (reason instanceof RequestTimeout) {
        metrics.cancelled++;
        const timeout = new ApiError(408, reason.message, 'timeout', null, 'request_timeout');
        if (response.headersSent && !response.writableEnded) response.end(`data: ${JSON.stringify(errorBody(timeout))}\n\n`);
        throw timeout;
      }
      throw error;
    } finally {
      clearTimeout(timer);
      response.off('close', onClose);
      release?.();
    }
  };

  const server = createServer((request, response) => {
    const started = performance.now();
    handle(request, response).then(
      (route) => metrics.observe(route, response.statusCode, (performance.now() - started) / 1000),
      (error: unknown) => {
        const apiError = error instanceof ApiError ? error : new ApiError(500, `internal error: ${(error as Error)?.message ?? String(error)}`, 'server_error', null, 'internal_error');
        if (!(error instanceof ApiError)) options.onLog?.(`error: ${(error as Error)?.stack ?? String(error)}`);
        if (!response.writableEnded && !response.destroyed) sendError(response, apiError);
        metrics.observe('error', apiError.status, (performance.now() - started) / 1000);
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => { server.off('error', reject); resolve(); });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const ready = options.load().then((model) => {
    served = model;
    engine = new BatchEngine({ model: model.model, maxBatch: config.maxBatch, padTokenId: model.eosTokenId ?? 0, gather: { quietMs: config.batchGatherMs } });
    return model;
  }, (error: Error) => { loadError = error; throw error; });
  ready.catch(() => {});
  return {
    url: `http://${host}:${address.port}`, server, ready, metrics, engine: () => engine,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
