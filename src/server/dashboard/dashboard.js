// The rlaif dashboard in the browser: runs list, a run's rounds and plots (uPlot), the provenance browser with filters
// and search, and live updates over server-sent events. Plain DOM, text set with textContent (never parsed as HTML).
/* global uPlot */
'use strict';

const state = { runs: [], run: null, overview: null, selected: null, plots: [], events: null };
const $ = (id) => document.getElementById(id);
const fmt = (x, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : Number(x).toFixed(digits));

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function loadRuns() {
  const data = await getJson('/api/runs');
  state.runs = data.runs;
  $('runs-root').textContent = data.runsDirectory;
  const list = $('runs');
  list.replaceChildren(...data.runs.map((run) => el('li', { dataset: { run: run.name }, class: run.name === state.run ? 'selected' : '', onclick: () => selectRun(run.name) },
    run.name, ' ', el('span', { class: `badge ${run.status}` }, run.status),
    el('small', {}, `${run.rounds} rounds · ${run.kept} kept · ${run.rolledBack} rolled back · ${run.rewards} rewards`))));
  $('empty').hidden = data.runs.length > 0;
  const wanted = new URLSearchParams(location.search).get('run');
  if (!state.run && wanted && data.runs.some((r) => r.name === wanted)) await selectRun(wanted);
}

async function selectRun(name) {
  state.run = name;
  state.selected = null;
  history.replaceState(null, '', `/?run=${encodeURIComponent(name)}`);
  for (const li of $('runs').children) li.classList.toggle('selected', li.dataset.run === name);
  $('run').hidden = false;
  $('empty').hidden = true;
  $('detail').replaceChildren(el('p', { class: 'hint' }, 'Click a row: its prompt, the samples, each judgment in both orders with probabilities, the rationale and the principle.'));
  subscribe(name);
  await refreshRun(true);
}

function subscribe(name) {
  if (state.events) state.events.close();
  const events = new EventSource(`/api/runs/${encodeURIComponent(name)}/events`);
  events.addEventListener('hello', () => $('live').classList.add('on'));
  events.addEventListener('update', () => { loadRuns(); refreshRun(false); });
  events.onerror = () => $('live').classList.remove('on');
  state.events = events;
}

async function refreshRun(resetFilters) {
  const overview = await getJson(`/api/runs/${encodeURIComponent(state.run)}`);
  state.overview = overview;
  $('run-title').textContent = `${overview.name} — ${overview.status}`;
  $('summary').replaceChildren(...Object.entries(overview.summary ?? {}).filter(([k]) => !k.startsWith('stage_'))
    .map(([k, v]) => el('span', {}, el('b', {}, k), ' ', fmt(v, 3))));
  // Gold exists only where the prompts have a gold checker (the testbed); elsewhere its column and filter are hidden.
  const gold = overview.rounds.some((r) => r.gold);
  document.body.classList.toggle('no-gold', !gold);
  if (!gold) $('f-disagree').checked = false;
  renderRounds(overview.rounds);
  renderPlots(overview.rounds, gold);
  fillSelect($('f-round'), overview.filters.rounds, resetFilters);
  fillSelect($('f-application'), overview.filters.applications, resetFilters);
  fillSelect($('f-principle'), overview.filters.principles, resetFilters);
  $('f-disagree').parentElement.title = `${overview.disagreements} recorded`;
  await refreshList();
}

function fillSelect(select, values, reset) {
  const current = reset ? '' : select.value;
  select.replaceChildren(el('option', { value: '' }, 'all'), ...values.map((v) => el('option', { value: String(v) }, String(v))));
  select.value = values.map(String).includes(current) ? current : '';
}

function renderRounds(rounds) {
  $('rounds').tBodies[0].replaceChildren(...rounds.map((r) => {
    const decision = r.round === 0 ? 'SFT' : r.keep ? 'kept' : 'rolled back';
    return el('tr', { dataset: { round: r.round } },
      el('td', {}, r.round), el('td', { class: r.round === 0 ? '' : r.keep ? 'kept' : 'rolled' }, decision), el('td', {}, r.reasons.join('; ') || '—'),
      el('td', {}, fmt(r.proxy.winRateVsPrevious)), el('td', {}, fmt(r.proxy.winRateVsSft)), el('td', {}, fmt(r.proxy.anchorAgreement)),
      el('td', {}, fmt(r.proxy.kl, 2)), el('td', {}, fmt(r.proxy.meanLength, 1)), el('td', {}, fmt(r.proxy.entropy, 2)),
      el('td', { class: 'gold-col' }, fmt(r.gold?.gold_win_rate_vs_sft)), el('td', {}, fmt(r.rewards.median)));
  }));
}

function renderPlots(rounds, gold) {
  for (const plot of state.plots) plot.destroy();
  state.plots = [];
  const container = $('plots');
  container.replaceChildren();
  const x = rounds.map((r) => r.round);
  const col = (f) => rounds.map((r) => { const v = f(r); return v === undefined || v === null || !Number.isFinite(v) ? null : v; });
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];
  const plots = [
    [gold ? 'Win rate over SFT: gold (test) vs labeler' : 'Win rate over SFT: labeler', { 'gold (test)': col((r) => r.gold?.gold_win_rate_vs_sft), 'labeler (validation)': col((r) => r.proxy.winRateVsSft), 'labeler (test)': col((r) => r.gold?.proxy_win_rate_vs_sft) }],
    ['Gold failure rates per application (test)', { hallucination: col((r) => r.gold?.hallucination_rate), 'harmful compliance': col((r) => r.gold?.harmful_compliance_rate), 'over-refusal': col((r) => r.gold?.over_refusal_rate), coherence: col((r) => r.gold?.coherence_error_rate) }],
    ['KL to the reference', { KL: col((r) => r.proxy.kl) }],
    ['Mean response length (tokens)', { validation: col((r) => r.proxy.meanLength), test: col((r) => r.gold?.mean_length) }],
    ['Mean token entropy', { entropy: col((r) => r.proxy.entropy) }],
    ['Reward distribution per round', { max: col((r) => r.rewards.max), p75: col((r) => r.rewards.p75), median: col((r) => r.rewards.median), p25: col((r) => r.rewards.p25), min: col((r) => r.rewards.min) }],
  ];
  for (const [title, series] of plots) {
    const names = Object.keys(series).filter((name) => series[name].some((v) => v !== null));
    if (names.length === 0 || x.length === 0) continue;
    const box = el('div', { class: 'plot' }, el('h4', {}, title));
    container.append(box);
    const options = { width: 360, height: 180, scales: { x: { time: false } }, axes: [{ label: 'round', incrs: [1, 2, 5, 10, 20, 50] }, {}],
      series: [{ label: 'round' }, ...names.map((name, i) => ({ label: name, stroke: colors[i % colors.length], width: 2, points: { show: true } }))] };
    state.plots.push(new uPlot(options, [x, ...names.map((name) => series[name])], box));
  }
}

async function refreshList() {
  if (!state.run) return;
  const params = new URLSearchParams();
  if ($('f-round').value) params.set('round', $('f-round').value);
  if ($('f-application').value) params.set('application', $('f-application').value);
  if ($('f-principle').value) params.set('principle', $('f-principle').value);
  if ($('f-disagree').checked) params.set('disagree', '1');
  if ($('f-search').value.trim()) params.set('q', $('f-search').value.trim());
  const data = await getJson(`/api/runs/${encodeURIComponent(state.run)}/list?${params}`);
  $('count').textContent = `${data.total} ${$('f-disagree').checked ? 'disagreements' : 'rewards'}${data.total > data.rows.length ? ` (first ${data.rows.length} shown)` : ''}`;
  $('value-head').textContent = $('f-disagree').checked ? 'labeler P(candidate) · gold prefers' : 'reward';
  $('rows').tBodies[0].replaceChildren(...data.rows.map((row) => el('tr', { dataset: { id: row.id, kind: row.kind }, class: row.id === state.selected ? 'selected' : '', onclick: () => showTrace(row.id) },
    el('td', {}, row.round), el('td', {}, row.promptId, el('div', { class: 'muted' }, row.application)),
    el('td', {}, row.kind === 'disagreement' ? `${fmt(row.value)} · ${row.gold}` : row.kind === 'revision' ? (row.value ? 'revision' : 'revision (unchanged)') : fmt(row.value)),
    el('td', {}, row.principles.join(', ')), el('td', { class: 'text', title: row.text }, row.text || '(empty)'))));
}

async function showTrace(id) {
  state.selected = id;
  for (const tr of $('rows').tBodies[0].children) tr.classList.toggle('selected', tr.dataset.id === id);
  const t = await getJson(`/api/runs/${encodeURIComponent(state.run)}/trace/${encodeURIComponent(id)}`);
  const parts = [];
  if (t.reward) {
    parts.push(el('h4', {}, `Reward ${fmt(t.reward.total)} (round ${t.round})`),
      el('div', { class: 'muted' }, Object.entries(t.reward.components).map(([s, c]) => `${s} ${fmt(c)} × ${fmt(t.reward.weights[s] ?? 0, 2)}`).join(' + '), t.advantage !== null ? ` · advantage ${fmt(t.advantage)}` : ''));
  }
  if (t.gold) {
    parts.push(el('div', { class: 'gold' }, `Gold prefers the ${t.gold.goldWinner} response; the labeler gave the candidate P = ${fmt(t.gold.labelerProbability)}. `,
      `Gold violations — candidate: ${t.gold.violations.candidate.join(', ') || 'none'}; SFT: ${t.gold.violations.sft.join(', ') || 'none'}.`));
  }
  if (t.prompt) {
    parts.push(el('h4', {}, `Prompt ${t.prompt.promptId}`), el('div', { class: 'muted' }, `${t.prompt.application} · ${t.prompt.promptKind} · ${t.prompt.split}`),
      ...t.prompt.messages.map((m) => el('div', { class: 'message' }, el('b', {}, `${m.role}: `), m.content)));
  }
  if (t.revision) {
    const r = t.revision;
    parts.push(el('h4', {}, `Critique → revision (round ${t.round}): the training example and its reason`),
      r.principle ? el('div', {}, 'principle ', el('span', { class: 'principle' }, `${r.principle.id}: ${r.principle.text}`)) : null,
      el('div', {}, el('b', {}, 'critique: '), el('span', { class: 'rationale' }, r.critique ?? `(failed: ${r.failure})`)),
      el('div', { class: 'sample own' }, el('b', {}, 'revision (SFT target): '), r.revision ?? '(none)'),
      el('div', { class: 'muted' }, `${r.labelerModel} · template ${r.templateVersion}`));
  }
  parts.push(el('h4', {}, t.kind === 'reward' ? `The ${t.samples.length} samples of this prompt (the rewarded one highlighted)` : t.kind === 'revision' ? 'The response critiqued (original)' : 'The two responses (candidate, SFT)'),
    ...t.samples.map((s) => el('div', { class: `sample${s.id === t.own ? ' own' : ''}`, dataset: { sample: s.id } }, el('span', { class: 'muted' }, `#${s.index} · ${s.tokens} tokens · `), s.text || '(empty)')));
  if (t.judgments.length > 0) parts.push(el('h4', {}, 'Judgments'));
  for (const j of t.judgments) {
    const box = el('div', { class: 'judgment', dataset: { judgment: j.id } },
      el('div', {}, el('b', {}, j.source), ` · ${j.ok ? '' : `failed: ${j.failure} · `}`, j.probabilityOwn !== null ? `P(this response preferred) = ${fmt(j.probabilityOwn)}` : `score ${fmt(j.score, 2)}`),
      j.principle ? el('div', {}, 'principle ', el('span', { class: 'principle' }, `${j.principle.id}: ${j.principle.text}`)) : null,
      j.other !== null ? el('div', { class: 'muted' }, `compared with: “${j.other}”`) : null,
      ...j.orders.map((o) => el('div', {}, el('b', {}, o.order), ` P(first) = ${fmt(o.probabilityFirst)}, P(A) = ${fmt(o.probabilityA)}`, o.rationale ? el('div', { class: 'rationale' }, o.rationale) : null)),
      j.rationale && j.orders.length === 0 ? el('div', { class: 'rationale' }, j.rationale) : null,
      el('div', { class: 'muted' }, `${j.labelerModel} · template ${j.templateVersion} · ${j.stage}`));
    parts.push(box);
  }
  $('detail').replaceChildren(...parts);
}

for (const id of ['f-round', 'f-application', 'f-principle', 'f-disagree']) $(id).addEventListener('change', () => refreshList());
let searchTimer = null;
$('f-search').addEventListener('input', () => { clearTimeout(searchTimer); searchTimer = setTimeout(refreshList, 250); });
const listEvents = new EventSource('/api/events');
listEvents.addEventListener('update', () => loadRuns());
loadRuns().catch((error) => { $('empty').textContent = String(error); });
