// The dashboard's HTTP side, mounted at / of `rlaif serve`: the page and its script, uPlot served from node_modules
// (nothing from a CDN), JSON views of the runs (dashboard-data.ts) and live updates as server-sent events, polled from
// the record files' sizes once a second. With an API key it asks for the key too (a bearer header, or once as
// /?key=KEY, kept in an HttpOnly cookie). Leaves out writing to runs.
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { provenanceList, runOverview, runsList, traceView, type ListFilter } from './dashboard-data.ts';
import { ApiError, EventStream, sendJson } from './http-io.ts';
import { RunCatalog } from './run-reader.ts';
import type { ExtraRoutes } from './server.ts';

const require = createRequire(import.meta.url);
const assetFiles: Record<string, { path: string; type: string }> = {
  '/': { path: fileURLToPath(new URL('./dashboard/index.html', import.meta.url)), type: 'text/html; charset=utf-8' },
  '/assets/dashboard.js': { path: fileURLToPath(new URL('./dashboard/dashboard.js', import.meta.url)), type: 'text/javascript; charset=utf-8' },
  '/assets/dashboard.css': { path: fileURLToPath(new URL('./dashboard/dashboard.css', import.meta.url)), type: 'text/css; charset=utf-8' },
  '/assets/uplot.js': { path: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/assets/uplot.css': { path: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};
/** A package file (uplot) resolved from node_modules when first asked for, so a missing package fails that asset only. */
const located = (path: string) => (path.startsWith('uplot/') ? require.resolve(path) : path);

export interface Dashboard {
  routes: ExtraRoutes;
  catalog: RunCatalog;
  close: () => void;
}

export function startDashboard(options: { runsDirectory: string; apiKey?: string | null; pollMs?: number }): Dashboard {
  const catalog = new RunCatalog(options.runsDirectory);
  const streams = new Set<{ stream: EventStream; run: string | null; version: number; names: string }>();
  const poll = setInterval(() => {
    for (const watcher of streams) {
      if (!watcher.stream.open) { streams.delete(watcher); continue; }
      const names = catalog.names().join('\n');
      const version = watcher.run ? catalog.run(watcher.run)?.version ?? -1 : 0;
      if (version !== watcher.version || names !== watcher.names) {
        Object.assign(watcher, { version, names });
        watcher.stream.event('update', { run: watcher.run, version });
      }
    }
  }, options.pollMs ?? 1000);
  poll.unref();
  const key = options.apiKey ? Buffer.from(options.apiKey) : null;
  const same = (given: string | undefined) => { const g = Buffer.from(given ?? ''); return key !== null && g.length === key.length && timingSafeEqual(g, key); };

  const routes: ExtraRoutes = async (request: IncomingMessage, response: ServerResponse, url: URL) => {
    if (request.method !== 'GET') return false;
    const path = url.pathname;
    if (path === '/favicon.ico') { response.writeHead(204).end(); return true; }
    if (!(path === '/' || path.startsWith('/assets/') || path.startsWith('/api/'))) return false;
    if (key) {
      const bearer = request.headers.authorization?.replace(/^Bearer /, '');
      const cookie = /(?:^|;\s*)rlaif_key=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
      if (path === '/' && same(url.searchParams.get('key') ?? undefined)) {
        response.writeHead(303, { location: '/', 'set-cookie': `rlaif_key=${encodeURIComponent(options.apiKey!)}; HttpOnly; SameSite=Strict; Path=/` }).end();
        return true;
      }
      if (!same(bearer) && !same(cookie ? decodeURIComponent(cookie) : undefined)) throw new ApiError(401, 'the dashboard needs the API key: open /?key=<key> once', 'authentication_error', null, 'invalid_api_key');
    }
    const asset = assetFiles[path];
    if (asset) {
      const body = readFileSync(located(asset.path));
      response.writeHead(200, { 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(body);
      return true;
    }
    if (path === '/api/runs') { sendJson(response, 200, { runsDirectory: catalog.root, runs: runsList(catalog) }); return true; }
    if (path === '/api/events') { watch(response, null); return true; }
    const match = /^\/api\/runs\/([^/]+)(?:\/(list|events|trace)(?:\/([^/]+))?)?$/.exec(path);
    if (!match) throw new ApiError(404, `no route GET ${path}`, 'invalid_request_error', null, 'not_found');
    const name = decodeURIComponent(match[1]!);
    const run = catalog.run(name);
    if (!run) throw new ApiError(404, `no run '${name}' under ${catalog.root}`, 'invalid_request_error', null, 'run_not_found');
    if (!match[2]) { sendJson(response, 200, runOverview(run)); return true; }
    if (match[2] === 'events') { watch(response, name); return true; }
    if (match[2] === 'list') {
      const q = url.searchParams, round = q.get('round');
      const filter: ListFilter = { round: round ? Number(round) : undefined, application: q.get('application') || undefined, principle: q.get('principle') || undefined,
        disagree: q.get('disagree') === '1', query: q.get('q') || undefined, limit: Number(q.get('limit') ?? 500) || 500 };
      sendJson(response, 200, provenanceList(run, filter));
      return true;
    }
    const trace = traceView(run, decodeURIComponent(match[3] ?? ''));
    if (!trace) throw new ApiError(404, `no reward, judgment or revision '${match[3]}' in run '${name}'`, 'invalid_request_error', null, 'record_not_found');
    sendJson(response, 200, trace);
    return true;
  };

  function watch(response: ServerResponse, run: string | null): void {
    const stream = new EventStream(response);
    const watcher = { stream, run, version: run ? catalog.run(run)?.version ?? -1 : 0, names: catalog.names().join('\n') };
    streams.add(watcher);
    stream.event('hello', { run, version: watcher.version });
    response.on('close', () => streams.delete(watcher));
  }

  return { routes, catalog, close: () => { clearInterval(poll); for (const w of streams) w.stream.response.end(); streams.clear(); } };
}
