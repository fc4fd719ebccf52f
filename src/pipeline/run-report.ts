// The report of a run, read from its store: a terminal table per round (kept or rolled back and why, proxy and gold
// figures) and a self-contained report.html (inline SVG, no scripts, no CDN): gold vs proxy per round, failure rates
// per application, KL, length, entropy, reward distributions, each feedback source's share of the reward, and traces
// from reward back to principle, including labeler–gold disagreements, and from a critique-revision round's training
// example back to its critique, principle and original response; the fit of each round's reward model (mode
// reward-model). Leaves out interactive plots (the dashboard).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunStore } from './run-store.ts';
import { recordId } from './run-records.ts';
import { adversarialHtml } from './adversarial/adversarial-report.ts';
import { labelerJudgments, type RunSummary } from './run-summary.ts';
import { readRunMachine, RUN_MACHINE_FILE } from './run-machine.ts';

interface RoundRow {
  round: number; type: string; keep: boolean; reasons: string[];
  proxy: Record<string, number>; gold: Record<string, number> | null; rewards: number[]; sourceShare: Record<string, number>;
}

function rows(store: RunStore): RoundRow[] {
  return store.all('gate').map((gate) => {
    const rewards = store.all('reward').filter((r) => r.round === gate.round);
    const share: Record<string, number> = {};
    for (const r of rewards) for (const [source, c] of Object.entries(r.components)) share[source] = (share[source] ?? 0) + Math.abs((r.weights[source] ?? 0) * c);
    const total = Object.values(share).reduce((a, x) => a + x, 0);
    for (const key of Object.keys(share)) share[key] = total > 0 ? share[key]! / total : 0;
    return {
      round: gate.round, type: gate.roundType ?? (gate.round === 0 ? 'sft' : 'rl'), keep: gate.keep, reasons: gate.reasons,
      proxy: (store.get('evaluation', recordId('evaluation', { round: gate.round }))?.metrics ?? {}) as Record<string, number>,
      gold: store.get('gold', recordId('gold', { round: gate.round }))?.metrics ?? null,
      rewards: rewards.map((r) => r.total), sourceShare: share,
    };
  });
}

const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits));

/** A gold figure's 95% interval over test prompts (`<name>_ci_low`, `_ci_high`); null where none was recorded. */
const interval = (gold: Record<string, number> | null, name: string): [number, number] | null =>
  (gold?.[`${name}_ci_low`] === undefined ? null : [gold[`${name}_ci_low`]!, gold[`${name}_ci_high`]!]);

/** A gold figure and its interval, "0.427 [0.38, 0.48]" (the figure alone where none was recorded). */
function figureWithInterval(gold: Record<string, number> | null, name: string): string {
  const bounds = interval(gold, name);
  return bounds ? `${num(gold![name])} [${num(bounds[0], 2)}, ${num(bounds[1], 2)}]` : num(gold?.[name]);
}

/** The labeler check's line: how the labeler judged the labeled anchors before round 1 (labeler-check.ts). */
function labelerCheckHtml(summary: RunSummary): string {
  const agreement = summary.labeler_anchor_agreement;
  if (agreement === undefined) return '';
  const noisy = 0.6; // below this agreement a labeler is called close to noise, gated or not (gate.minLabelerAgreement's default)
  const min = summary.labeler_min_agreement ?? noisy, minInformative = summary.labeler_min_informative ?? 0; // absent: runs recorded before the gate read the check
  const gated = summary.labeler_min_agreement !== undefined && (agreement < min || (summary.labeler_anchor_informative_rate ?? 1) < minInformative);
  const weak = agreement < noisy || gated;
  return `<p${weak ? ' style="color:#b00"' : ''}><b>Labeler check</b>: before round 1 the labeler preferred the labeled answer on ${num(agreement, 2)} of the gate's anchor pairs (chance 0.50); `
    + `${num(summary.labeler_anchor_informative_rate ?? Number.NaN, 2)} of its judgments leaned at least 0.05 either way.${weak ? ' Its feedback is close to noise, and so are the gate\'s win rates.' : ''}`
    + `${gated ? ` The gate kept no round with it (gate.minLabelerAgreement ${num(min, 2)}, gate.minLabelerInformative ${num(minInformative, 2)}).` : ''}</p>`;
}

/** Whether any round has gold figures (testbed prompts); a run on a user's own prompts has none. */
const hasGold = (data: RoundRow[]) => data.some((r) => r.gold !== null);

/** One line per round, aligned; the reason column names each monitor that fired. */
export function terminalTable(store: RunStore): string {
  const data = rows(store), gold = hasGold(data);
  // Without a gold checker (a run on your own prompts) the gold columns would be dashes: they are left out.
  const header = ['round', 'decision', 'type', 'win/prev', 'win/SFT', 'anchor', 'KL', 'length', 'entropy', 'refusal', ...(gold ? ['gold win/SFT', 'gold pass'] : []), 'why'];
  const body = data.map((r) => [String(r.round), r.round === 0 ? 'SFT' : r.keep ? 'kept' : 'rolled back', r.type,
    num(r.proxy.winRateVsPrevious), num(r.proxy.winRateVsSft), num(r.proxy.anchorAgreement), num(r.proxy.kl, 2), num(r.proxy.meanLength, 1),
    num(r.proxy.entropy, 2), num(r.proxy.refusalRate), ...(gold ? [figureWithInterval(r.gold, 'gold_win_rate_vs_sft'), figureWithInterval(r.gold, 'gold_pass_rate')] : []),
    r.reasons.map((reason) => reason.split(':')[0]).join(', ')]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const sft = data.find((r) => r.round === 0)?.gold ?? null, baseline = sft?.baseline_pick_of;
  const baselines = baseline === undefined ? [] : [`baselines, SFT with no training (gold win/SFT): the gold-best of ${baseline} SFT answers ${figureWithInterval(sft, 'baseline_gold_pick_win_rate_vs_sft')}`
    + (sft!.baseline_surest_pick_win_rate_vs_sft === undefined ? '' : `; the one of ${baseline} the SFT policy is surest of ${figureWithInterval(sft, 'baseline_surest_pick_win_rate_vs_sft')}`)];
  const asked = labelerJudgments(store);
  const failures = asked.failed === 0 ? [] : [`labeler: ${asked.failed} of ${asked.total} judgments failed (${Object.entries(asked.reasons).map(([r, n]) => `${r} ${n}`).join(', ')}); `
    + 'their pairs gave no reward and no win (records/judgments.jsonl has each failure)'];
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line), ...baselines, ...failures].join('\n');
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** A line plot of named series over rounds, as inline SVG. */
function linePlot(title: string, rounds: number[], series: Record<string, (number | null)[]>, bars: Record<string, ([number, number] | null)[]> = {}): string {
  const W = 420, H = 220, L = 44, B = 28;
  const values = [...Object.values(series).flat(), ...Object.values(bars).flat().flatMap((b) => b ?? [])].filter((v): v is number => v !== null && Number.isFinite(v));
  if (values.length === 0) return '';
  let lo = Math.min(...values), hi = Math.max(...values);
  if (hi - lo < 1e-9) { lo -= 0.5; hi += 0.5; }
  const x = (i: number) => L + (rounds.length > 1 ? (i / (rounds.length - 1)) * (W - L - 10) : (W - L) / 2);
  const y = (v: number) => H - B - ((v - lo) / (hi - lo)) * (H - B - 20);
  const lines = Object.entries(series).map(([name, points], k) => {
    const path = points.map((v, i) => (v === null || !Number.isFinite(v) ? '' : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean).join(' ');
    // Error bars: the 95% interval of each point, where the series has one.
    const errorBars = (bars[name] ?? []).map((b, i) => (b === null ? '' : `<line x1="${x(i).toFixed(1)}" y1="${y(b[0]).toFixed(1)}" x2="${x(i).toFixed(1)}" y2="${y(b[1]).toFixed(1)}" stroke="${COLORS[k % COLORS.length]}" stroke-width="1"/>`)).join('');
    return `${errorBars}<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${path}"/>`
      + `<text x="${L + 4 + 130 * k}" y="14" font-size="11" fill="${COLORS[k % COLORS.length]}">${escape(name)}</text>`;
  }).join('');
  const ticks = rounds.map((r, i) => `<text x="${x(i)}" y="${H - 10}" font-size="10" text-anchor="middle">${r}</text>`).join('');
  return `<figure><figcaption>${escape(title)}</figcaption><svg width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`
    + `<line x1="${L}" y1="${H - B}" x2="${W}" y2="${H - B}" stroke="#999"/><text x="4" y="${y(hi) + 4}" font-size="10">${num(hi, 2)}</text>`
    + `<text x="4" y="${y(lo)}" font-size="10">${num(lo, 2)}</text>${ticks}${lines}</svg></figure>`;
}

/** Reward histograms, one row per round. */
function rewardPlot(data: RoundRow[]): string {
  const all = data.flatMap((r) => r.rewards);
  if (all.length === 0) return '';
  const lo = Math.min(...all), hi = Math.max(...all) + 1e-9, bins = 12, W = 420, rowH = 36;
  const rowsSvg = data.filter((r) => r.rewards.length > 0).map((r, k) => {
    const counts = new Array(bins).fill(0);
    for (const v of r.rewards) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
    const max = Math.max(...counts);
    return `<text x="0" y="${k * rowH + 22}" font-size="10">round ${r.round}</text>` + counts.map((c, i) =>
      `<rect x="${60 + i * 28}" y="${k * rowH + 30 - (24 * c) / max}" width="24" height="${(24 * c) / max}" fill="${r.keep ? '#1f77b4' : '#d62728'}"/>`).join('');
  }).join('');
  const n = data.filter((r) => r.rewards.length > 0).length;
  return `<figure><figcaption>Reward distribution per round (${num(lo, 2)} … ${num(hi, 2)}; red: rolled back)</figcaption><svg width="${W}" height="${n * rowH + 8}" xmlns="http://www.w3.org/2000/svg">${rowsSvg}</svg></figure>`;
}

function traces(store: RunStore, limit: number): string {
  const rewards = [...store.all('reward')].sort((a, b) => b.total - a.total);
  const picks = [...rewards.slice(0, Math.ceil(limit / 2)), ...rewards.slice(-Math.floor(limit / 2))];
  return picks.map((reward) => {
    const t = store.trace(reward.id), own = t.samples[0]!;
    const mine = (j: (typeof t.judgments)[number]) => (store.get('sample', j.parents[0]!)?.text === own.text ? j.probabilityA! : 1 - j.probabilityA!);
    const judgments = t.judgments.map((j) => `<li><b>${escape(j.source)}</b> ${j.probabilityA !== null ? `P(this response preferred) = ${num(mine(j))}` : `score ${num(j.score, 2)}`}`
      + `${j.principle ? ` — principle <i>${escape(j.principle.id)}</i>: “${escape(j.principle.text)}”` : ''}${j.rationale ? `<br>rationale: ${escape(j.rationale)}` : ''}`
      + ` <small>(${escape(j.labelerModel)}, template ${escape(j.templateVersion)})</small></li>`).join('');
    return `<details><summary>round ${reward.round}: reward ${num(reward.total)} (${Object.entries(reward.components).map(([s, c]) => `${s} ${num(c, 2)}`).join(', ')}) — “${escape(own.text.slice(0, 80))}”</summary>`
      + `<p>prompt <code>${escape(t.prompt.promptId)}</code> (${escape(t.prompt.application)}): ${t.prompt.messages.map((m) => `<b>${m.role}</b>: ${escape(m.content)}`).join(' / ')}</p><ul>${judgments}</ul></details>`;
  }).join('\n');
}

/** Critique-revision rounds: training example (prompt → revision) ← critique ← principle ← the policy's original response. */
function revisions(store: RunStore, limit: number): string {
  const all = store.all('revision');
  if (all.length === 0) return '';
  const failed = all.filter((r) => !r.ok).length;
  const picks = [...all.filter((r) => r.ok && r.revision !== r.original), ...all.filter((r) => r.ok && r.revision === r.original)].slice(0, limit);
  const items = picks.map((r) => {
    const sample = store.get('sample', r.parents[0]!), prompt = sample && store.get('prompt', sample.parents[0]!);
    return `<details><summary>round ${r.round}: principle <i>${escape(r.principle!.id)}</i> — “${escape(r.revision!.slice(0, 80))}”</summary>`
      + `<p>prompt <code>${escape(prompt?.promptId ?? '?')}</code>: ${prompt ? prompt.messages.map((m) => `<b>${m.role}</b>: ${escape(m.content)}`).join(' / ') : ''}</p>`
      + `<p>original response (sample <code>${escape(r.parents[0]!)}</code>): “${escape(r.original)}”</p>`
      + `<p>principle <i>${escape(r.principle!.id)}</i>: “${escape(r.principle!.text)}”</p><p>critique: ${escape(r.critique!)}</p>`
      + `<p>revision (the SFT target): “${escape(r.revision!)}” <small>(${escape(r.labelerModel)}, template ${escape(r.templateVersion)})</small></p></details>`;
  }).join('\n');
  return `<h2>Critique → revision: training example → critique → principle → original response</h2><p>${all.length} revisions, ${failed} failed (not trained on).</p>${items}`;
}

/** Fitted reward models (mode reward-model, the labeled-anchor source): what each was fitted on, how well it orders held-out pairs. */
function rewardModels(store: RunStore): string {
  const models = store.all('reward-model');
  if (models.length === 0) return '';
  const cells = ['trainPairs', 'heldOutPairs', 'fitLossFirst', 'fitLoss', 'trainAccuracy', 'heldOutAccuracy'];
  return `<h2>Reward models fitted on the soft labels</h2><p>Source pairwise-ai (rewards.mode reward-model): each round's model is fitted (Bradley–Terry, soft targets) on that round's pairwise judgments and its scores are the pairwise source's share of the reward. Source labeled-anchors: one model per run, fitted on the labeled comparisons the gate does not read. Accuracy: share of pairs where it prefers the preferred response.</p>`
    + `<table><tr><th>source</th><th>round</th>${cells.map((c) => `<th>${c}</th>`).join('')}</tr>${models.map((m) => `<tr><td>${escape(m.source)}</td><td>${m.round < 0 ? 'all' : m.round}</td>${cells.map((c) => `<td>${num(m.metrics[c])}</td>`).join('')}</tr>`).join('')}</table>`;
}

function disagreements(store: RunStore): string {
  const items = store.all('gold').flatMap((g) => g.disagreements.map((d) => ({ round: g.round, ...d }))).slice(0, 12);
  if (items.length === 0) return '<p>No labeler–gold disagreements recorded.</p>';
  return items.map((d) => {
    const a = store.get('sample', d.candidate), b = store.get('sample', d.sft), j = store.get('judgment', d.judgment);
    const prompt = a && store.get('prompt', a.parents[0]!);
    return `<details><summary>round ${d.round}, <code>${escape(d.promptId)}</code>: labeler P(candidate) = ${num(d.labelerProbability)}, gold prefers ${d.goldWinner}</summary>`
      + `<p>${prompt ? prompt.messages.map((m) => `<b>${m.role}</b>: ${escape(m.content)}`).join(' / ') : ''}</p>`
      + `<p>candidate: “${escape(a?.text ?? '')}” — gold violations: ${escape(d.violations.candidate.join(', ') || 'none')}</p>`
      + `<p>SFT: “${escape(b?.text ?? '')}” — gold violations: ${escape(d.violations.sft.join(', ') || 'none')}</p>`
      + `${j?.principle ? `<p>principle <i>${escape(j.principle.id)}</i>; rationale: ${escape(j.rationale ?? '(none)')}</p>` : ''}</details>`;
  }).join('\n');
}

/** Gold per prompt kind and round: the pass rate, and the win rate over SFT's answers to the same prompts. */
function kindsTable(data: RoundRow[]): string {
  const prefix = 'gold_pass_rate_kind_';
  const kinds = [...new Set(data.flatMap((r) => Object.keys(r.gold ?? {}).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))))].sort();
  if (kinds.length === 0) return '';
  const cell = (r: RoundRow, kind: string) => (r.gold?.[prefix + kind] === undefined ? '<td>—</td>'
    : `<td>${num(r.gold[prefix + kind])}${r.round > 0 ? ` / ${num(r.gold[`gold_win_rate_vs_sft_kind_${kind}`])}` : ''}</td>`);
  return `<h2>Gold per prompt kind (test)</h2><p>Pass rate / win rate over SFT's answers to the same prompts, per round (kept or not). A kind has tens of prompts, so a step of 0.1 can be noise.</p>`
    + `<table><tr><th>kind</th>${data.map((r) => `<th>round ${r.round}${r.round === 0 ? ' (SFT)' : r.keep ? ' kept' : ' rolled back'}</th>`).join('')}</tr>`
    + kinds.map((kind) => `<tr><th>${escape(kind.replaceAll('_', '-'))}</th>${data.map((r) => cell(r, kind)).join('')}</tr>`).join('') + '</table>';
}

/** The labeler's win rate over the last kept policy per application (validation): what the gate's
 * application-regression monitor reads. */
function applicationsTable(data: RoundRow[]): string {
  const prefix = 'winRateVsPrevious.';
  const applications = [...new Set(data.flatMap((r) => Object.keys(r.proxy).filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length))))].sort();
  if (applications.length === 0) return '';
  const rounds = data.filter((r) => r.round > 0);
  return `<h2>Labeler win rate over the last kept policy, per application (validation)</h2><p>What the gate's application-regression monitor reads: a round is rolled back when the labeler is sure (gate.applicationRegressionConfidence) that one application got worse.</p>`
    + `<table><tr><th>application</th>${rounds.map((r) => `<th>round ${r.round}${r.keep ? ' kept' : ' rolled back'}</th>`).join('')}</tr>`
    + applications.map((a) => `<tr><th>${escape(a)}</th>${rounds.map((r) => `<td>${num(r.proxy[prefix + a])} of ${num(r.proxy[`validationPairs.${a}`], 0)}</td>`).join('')}</tr>`).join('') + '</table>';
}

/** Each round's gold win rate over SFT beside the baselines of SFT with no training (testBestOf), as flat lines. */
function baselinePlot(data: RoundRow[]): string {
  const sft = data.find((r) => r.round === 0)?.gold, n = sft?.baseline_pick_of;
  if (n === undefined) return '';
  const flat = (name: string) => (sft![name] === undefined ? [] : [[`SFT, ${name.includes('gold') ? 'gold-best' : 'surest'} of ${n}`, data.map(() => sft![name]!)] as const]);
  return linePlot(`Gold win rate over SFT (test) against the baselines of SFT with no training: the best of ${n} SFT answers by gold (a perfect labeler's pick) and the one the SFT policy is surest of`,
    data.map((r) => r.round), { rounds: data.map((r) => r.gold?.gold_win_rate_vs_sft ?? null), ...Object.fromEntries([...flat('baseline_gold_pick_win_rate_vs_sft'), ...flat('baseline_surest_pick_win_rate_vs_sft')]) });
}

/** Writes report.html into the run folder; returns its path. */
/** The kernels the run began with (run-machine.ts), where its folder records them. */
function machineHtml(dir: string): string {
  const lines = readRunMachine(dir);
  return lines ? `<h2>Kernels</h2><p>The run began under these settings (${RUN_MACHINE_FILE}):</p><pre>${lines.map((line) => escape(`MACHINE ${line}`)).join('\n')}</pre>` : '';
}

export function writeHtmlReport(store: RunStore, summary: Record<string, number>): string {
  const data = rows(store), rounds = data.map((r) => r.round), gold = hasGold(data);
  const col = (f: (r: RoundRow) => number | undefined | null) => data.map((r) => f(r) ?? null);
  const sources = [...new Set(data.flatMap((r) => Object.keys(r.sourceShare)))];
  const table = `<pre>${escape(terminalTable(store))}</pre>`;
  const reasons = data.filter((r) => !r.keep).map((r) => `<li>round ${r.round} rolled back: ${r.reasons.map(escape).join('; ')}</li>`).join('');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>rlaif run — ${escape(store.dir)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}figure{display:inline-block;margin:8px}figcaption{font-size:13px;font-weight:600}pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}details{margin:4px 0}td,th{padding:2px 8px;text-align:right}</style></head><body>
<h1>rlaif run</h1><p>Run folder <code>${escape(store.dir)}</code>. Final policy: round ${summary.final_round}. The gate saw only validation proxies; ${gold ? 'gold figures are on the test split, for this report only.' : 'this run has no gold checker (its prompts are not the testbed\'s), so every figure here is one a user has: the labeler\'s, the labeled anchors\' and the policy\'s own.'}</p>
${labelerCheckHtml(summary)}<h2>Summary</h2><table>${Object.entries(summary).map(([k, v]) => `<tr><th>${escape(k)}</th><td>${num(v, 4)}</td></tr>`).join('')}</table>
<h2>Rounds</h2>${table}<ul>${reasons}</ul>${applicationsTable(data)}${kindsTable(data)}${adversarialHtml(store)}
<h2>Plots</h2>
${linePlot(gold ? 'Win rate over SFT: gold (test) vs labeler (validation proxy); bars: 95% intervals over test prompts' : 'Win rate over SFT: the labeler (validation proxy)', rounds,
    gold ? { 'gold (test)': col((r) => r.gold?.gold_win_rate_vs_sft), 'labeler (validation)': col((r) => r.proxy.winRateVsSft), 'labeler (test)': col((r) => r.gold?.proxy_win_rate_vs_sft) } : { 'labeler (validation)': col((r) => r.proxy.winRateVsSft) },
    { 'gold (test)': data.map((r) => interval(r.gold, 'gold_win_rate_vs_sft')), 'labeler (test)': data.map((r) => interval(r.gold, 'proxy_win_rate_vs_sft')) })}
${baselinePlot(data)}
${linePlot('Gold failure rates per application (test; bars: 95% intervals)', rounds, { hallucination: col((r) => r.gold?.hallucination_rate), 'harmful compliance': col((r) => r.gold?.harmful_compliance_rate), 'over-refusal': col((r) => r.gold?.over_refusal_rate), coherence: col((r) => r.gold?.coherence_error_rate) },
    { hallucination: data.map((r) => interval(r.gold, 'hallucination_rate')), 'harmful compliance': data.map((r) => interval(r.gold, 'harmful_compliance_rate')), 'over-refusal': data.map((r) => interval(r.gold, 'over_refusal_rate')), coherence: data.map((r) => interval(r.gold, 'coherence_error_rate')) })}
${linePlot('KL to the reference (nats per response)', rounds, { KL: col((r) => r.proxy.kl) })}
${linePlot('Mean response length (tokens)', rounds, { validation: col((r) => r.proxy.meanLength), test: col((r) => r.gold?.mean_length) })}
${linePlot('Mean token entropy', rounds, { entropy: col((r) => r.proxy.entropy) })}
${linePlot('Anchor agreement and refusal rate', rounds, { anchors: col((r) => r.proxy.anchorAgreement), refusals: col((r) => r.proxy.refusalRate) })}
${rewardPlot(data)}
${linePlot("Each feedback source's share of |reward|", rounds, Object.fromEntries(sources.map((s) => [s, col((r) => r.sourceShare[s])])))}
<h2>Traces: reward → judgment → rationale → principle → prompt</h2>${traces(store, 8)}
${rewardModels(store)}
${revisions(store, 8)}
${gold ? `<h2>Where the labeler and gold disagree</h2>${disagreements(store)}` : ''}
${machineHtml(store.dir)}
</body></html>
`;
  const path = join(store.dir, 'report.html');
  writeFileSync(path, html);
  return path;
}
