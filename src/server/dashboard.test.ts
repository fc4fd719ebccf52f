// The dashboard of `rlaif serve` over a finished tiny run: JSON views (runs, rounds, filters, search, traces), live
// updates as server-sent events when the store grows, the run folder read in place and never written, and the page in
// real headless Chromium (Debian `chromium` through playwright-core): open the run, click a reward, see its rationale
// and principle (two clicks), filter to labeler–gold disagreements, save a screenshot. Under CI=true a missing browser
// fails the test; elsewhere it is skipped with the command that installs it.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTinyCheckpoint } from '../pipeline/testing/tiny-checkpoint.ts';
import { startDashboard, type Dashboard } from './dashboard-routes.ts';
import { parseServeConfig } from './serve-config.ts';
import { loadServedModel } from './served-model.ts';
import { startServer, type RunningServer } from './server.ts';
import { writeTinyFinishedRun } from './testing/tiny-finished-run.ts';

const root = mkdtempSync(join(tmpdir(), 'rlaif-dashboard-'));
const runs = join(root, 'runs'), run = join(runs, 'tiny-run');
const CHROMIUM = process.env.RLAIF_CHROMIUM ?? '/usr/bin/chromium';
let server: RunningServer, dashboard: Dashboard;

before(async () => {
  writeTinyCheckpoint(join(root, 'model'));
  await writeTinyFinishedRun(run);
  await writeTinyFinishedRun(join(runs, 'no-gold-run'), { gold: false });
  dashboard = startDashboard({ runsDirectory: runs, pollMs: 100 });
  server = await startServer({ config: parseServeConfig({ port: 0 }), routes: dashboard.routes, load: () => loadServedModel({ modelDirectory: join(root, 'model') }) });
});
after(async () => {
  dashboard?.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

const api = async (path: string) => {
  const response = await fetch(`${server.url}${path}`);
  assert.equal(response.status, 200, path);
  return response.json() as Promise<Record<string, any>>;
};

/** Size and modification time of every file of the run folder: reading must change none. */
const stamp = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
  .map((e) => { const path = join(e.parentPath, e.name), s = statSync(path); return `${path}:${s.size}:${s.mtimeMs}`; }).sort();

test('JSON views: runs list, rounds with gate decisions, filters, search, and a reward traced to rationale and principle', async () => {
  const before = stamp(run);
  const { runs: list } = await api('/api/runs');
  assert.deepEqual(list.map((r: { name: string; status: string; rounds: number }) => [r.name, r.status, r.rounds]), [['no-gold-run', 'finished', 3], ['tiny-run', 'finished', 3]]);
  const overview = await api('/api/runs/tiny-run');
  assert.deepEqual(overview.rounds.map((r: { round: number }) => r.round), [0, 1, 2]);
  assert.equal(typeof overview.rounds[1].keep, 'boolean');
  assert.ok(overview.rounds[1].gold.gold_win_rate_vs_sft !== undefined, 'gold figures of the test split');
  assert.ok(overview.rounds[1].rewards.count > 0);
  const all = await api('/api/runs/tiny-run/list');
  assert.equal(all.total, 32);
  const round2 = await api('/api/runs/tiny-run/list?round=2');
  assert.ok(round2.total > 0 && round2.rows.every((r: { round: number }) => r.round === 2));
  const dialogue = await api('/api/runs/tiny-run/list?application=dialogue-coherence');
  assert.ok(dialogue.total > 0 && dialogue.total < 32 && dialogue.rows.every((r: { application: string }) => r.application === 'dialogue-coherence'));
  const disagreements = await api('/api/runs/tiny-run/list?disagree=1');
  assert.ok(disagreements.total > 0);
  assert.ok(disagreements.rows.every((r: { kind: string; gold: string }) => r.kind === 'disagreement' && ['candidate', 'sft'].includes(r.gold)));
  const searched = await api('/api/runs/tiny-run/list?q=train-1');
  assert.equal(searched.total, 0, 'search looks in texts, not ids');
  const text = all.rows.find((r: { text: string }) => r.text.length >= 3).text as string;
  const found = await api(`/api/runs/tiny-run/list?q=${encodeURIComponent(text)}`);
  assert.ok(found.total >= 1 && found.total < 32);
  const trace = await api(`/api/runs/tiny-run/trace/${all.rows[0].id}`);
  assert.equal(trace.kind, 'reward');
  assert.equal(trace.samples.length, 4, 'the K samples of the prompt');
  assert.ok(trace.prompt.messages.length > 0);
  const pairwise = trace.judgments.find((j: { source: string }) => j.source === 'pairwise-ai');
  assert.equal(pairwise.orders.length, 2, 'both orders');
  assert.match(pairwise.rationale, /principle/);
  assert.equal(pairwise.principle.id, 'helpful');
  const gold = await api(`/api/runs/tiny-run/trace/${disagreements.rows[0].id}`);
  assert.ok(gold.gold.goldWinner && gold.prompt.split === 'test', 'a disagreement traces to its test prompt and gold verdict');
  assert.equal((await fetch(`${server.url}/api/runs/nope`)).status, 404);
  assert.equal((await fetch(`${server.url}/api/runs/..%2F..%2Fetc`)).status, 404);
  assert.deepEqual(stamp(run), before, 'the run folder is read in place, never written');
  symlinkSync(run, join(runs, 'linked-run'));
  try {
    assert.deepEqual((await api('/api/runs')).runs.map((r: { name: string }) => r.name), ['linked-run', 'no-gold-run', 'tiny-run'], 'a linked run folder is listed');
  } finally {
    unlinkSync(join(runs, 'linked-run'));
  }
});

test('live updates: a record appended to the store reaches an open event stream', async () => {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/api/runs/tiny-run/events`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const until = async (pattern: RegExp) => {
    const deadline = Date.now() + 5000;
    while (!pattern.test(text) && Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), deadline - Date.now()))]);
      if (chunk?.value) text += decoder.decode(chunk.value);
    }
    return pattern.test(text);
  };
  assert.ok(await until(/event: hello/));
  const gates = join(run, 'records', 'gates.jsonl');
  const last = JSON.parse(readFileSync(gates, 'utf8').trim().split('\n').at(-1)!);
  appendFileSync(gates, `${JSON.stringify({ ...last, id: 'gate-live-test', round: 3 })}\n`);
  assert.ok(await until(/event: update/), 'an update event within 5 s');
  controller.abort();
  const overview = await api('/api/runs/tiny-run');
  assert.deepEqual(overview.rounds.map((r: { round: number }) => r.round), [0, 1, 2, 3]);
});

test('in headless Chromium: open the run, click a reward, see rationale and principle; filter to disagreements; screenshot', async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') assert.fail(`no browser at ${CHROMIUM}: CI must run this test (scripts/install-browser.sh installs Debian's chromium)`);
    t.skip(`no browser at ${CHROMIUM}; install it with: bash scripts/install-browser.sh`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const outside: string[] = [];
    page.on('request', (request) => { if (!request.url().startsWith(server.url) && !request.url().startsWith('data:')) outside.push(request.url()); });
    await page.goto(`${server.url}/`);
    await page.click('li[data-run="tiny-run"]');                                       // click 1
    await page.waitForSelector('#rows tbody tr[data-kind="reward"]');
    await page.click('#rows tbody tr[data-kind="reward"] >> nth=0');                    // click 2
    await page.waitForSelector('#detail .rationale');
    assert.match(await page.textContent('#detail .rationale') ?? '', /principle/);
    assert.match(await page.textContent('#detail .principle') ?? '', /^helpful: Answer with many a\.$/);
    assert.equal(await page.locator('#detail .sample').count(), 4);
    assert.ok(await page.locator('#plots .uplot').count() >= 5, 'uPlot drew the plots');
    await page.check('#f-disagree');
    await page.waitForSelector('#rows tbody tr[data-kind="disagreement"]');
    assert.equal(await page.locator('#rows tbody tr[data-kind="reward"]').count(), 0);
    await page.click('#rows tbody tr[data-kind="disagreement"] >> nth=0');
    await page.waitForSelector('#detail .gold');
    assert.match(await page.textContent('#detail .gold') ?? '', /Gold prefers the (candidate|SFT|sft) response/);
    const shot = process.env.RLAIF_DASHBOARD_SCREENSHOT ?? join(root, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000, `screenshot saved at ${shot}`);
    assert.ok(await page.locator('#rounds th.gold-col').isVisible(), 'a run with gold shows its gold column');
    // A run with no gold checker: no gold column, no labeler–gold filter, a labeler-only win-rate plot.
    await page.click('li[data-run="no-gold-run"]');
    await page.waitForSelector('body.no-gold');
    assert.equal(await page.locator('#rounds th.gold-col').isVisible(), false);
    assert.equal(await page.locator('#f-disagree').isVisible(), false);
    assert.ok(await page.locator('#plots h4', { hasText: 'Win rate over SFT: labeler' }).count() === 1, 'the win-rate plot names the labeler alone');
    await page.waitForSelector('#rows tbody tr[data-kind="reward"]');
    assert.deepEqual(errors, [], 'no script errors');
    assert.deepEqual(outside, [], 'nothing loaded from outside the server');
  } finally {
    await browser.close();
  }
});

test('with an API key the dashboard asks for it: 401 without, /?key= sets an HttpOnly cookie that opens it', async () => {
  const locked = startDashboard({ runsDirectory: runs, apiKey: 'dash-key' });
  const keyed = await startServer({ config: parseServeConfig({ port: 0, apiKey: 'dash-key' }), routes: locked.routes, load: () => server.ready });
  try {
    assert.equal((await fetch(`${keyed.url}/api/runs`)).status, 401);
    assert.equal((await fetch(`${keyed.url}/`)).status, 401);
    assert.equal((await fetch(`${keyed.url}/?key=wrong`)).status, 401);
    const login = await fetch(`${keyed.url}/?key=dash-key`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^rlaif_key=dash-key; HttpOnly; SameSite=Strict/);
    assert.equal((await fetch(`${keyed.url}/api/runs`, { headers: { cookie: cookie.split(';')[0]! } })).status, 200);
    assert.equal((await fetch(`${keyed.url}/api/runs`, { headers: { authorization: 'Bearer dash-key' } })).status, 200);
  } finally {
    locked.close();
    await keyed.close();
  }
});
