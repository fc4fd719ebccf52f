// What adversarial rounds did, for the terminal and report.html: per round, the red team's labeler-judged violation
// rate at its first and last sampling, how many dialogue attacks were malformed, how many attacks the labeler flagged, how many flagged attacks the policy phase
// trained on and their mean reward beside the ordinary prompts', and (testbed) the held-out attack success of the
// round's policy by gold; then the archive's elite per principle × style cell with the target's answer and the
// labeler's rationale. Leaves out plots. Rainbow Teaming (arXiv 2402.16822).
import { RunStore } from '../run-store.ts';
import { recordId } from '../run-records.ts';
import { archiveElites } from './archive.ts';

export interface AdversarialRoundRow {
  round: number;
  attacks: number;
  violationFirst: number;     // mean labeler violation of the phase's first sampling
  violationLast: number;      // … and of its last (after the red team's updates)
  malformed: number;          // dialogue attacks that parsed to no conversation (not answered, not judged)
  flagged: number;
  minedPrompts: number;       // flagged attacks among the round's rollout prompts
  minedReward: number;        // mean reward of samples on mined prompts (NaN when none)
  freshReward: number;        // mean reward of samples on the other prompts
  heldOutSuccess: number;     // gold: held-out attack success of the round's candidate (NaN outside the testbed)
}

export function adversarialRows(store: RunStore, options: { threshold: number }): AdversarialRoundRow[] {
  const attacks = store.all('attack').filter((a) => a.phase === 'redteam');
  const rounds = [...new Set(attacks.map((a) => a.round))].sort((a, b) => a - b);
  const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, x) => a + x, 0) / xs.length);
  return rounds.map((round) => {
    const mine = attacks.filter((a) => a.round === round), steps = mine.map((a) => a.step);
    const rewards = store.all('reward').filter((r) => r.round === round).map((r) => {
      const sample = store.get('sample', r.parents[0]!), prompt = sample && store.get('prompt', sample.parents[0]!);
      return { mined: prompt?.promptId.startsWith('attack:') ?? false, total: r.total, prompt: prompt?.promptId };
    });
    return {
      round, attacks: mine.length,
      violationFirst: mean(mine.filter((a) => a.step === Math.min(...steps)).map((a) => a.violation)),
      violationLast: mean(mine.filter((a) => a.step === Math.max(...steps)).map((a) => a.violation)),
      malformed: mine.filter((a) => a.malformed !== null).length,
      flagged: mine.filter((a) => a.violation >= options.threshold && a.malformed === null).length,
      minedPrompts: new Set(rewards.filter((r) => r.mined).map((r) => r.prompt)).size,
      minedReward: mean(rewards.filter((r) => r.mined).map((r) => r.total)),
      freshReward: mean(rewards.filter((r) => !r.mined).map((r) => r.total)),
      heldOutSuccess: store.get('gold', recordId('gold', { round }))?.metrics.redteam_attack_success ?? Number.NaN,
    };
  });
}

const f = (x: number, digits = 2) => (Number.isNaN(x) ? '-' : x.toFixed(digits));

export function adversarialTable(store: RunStore, options: { threshold: number }): string {
  const header = ['round', 'attacks', 'violation first→last', 'malformed', 'flagged', 'mined prompts', 'reward mined/fresh', 'held-out success (gold)'];
  const body = adversarialRows(store, options).map((r) => [String(r.round), String(r.attacks), `${f(r.violationFirst)}→${f(r.violationLast)}`, String(r.malformed), String(r.flagged),
    String(r.minedPrompts), `${f(r.minedReward)}/${f(r.freshReward)}`, f(r.heldOutSuccess)]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return ['Adversarial rounds (violation: the labeler\'s judgment; held-out success: gold)', line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The flag threshold of the run's frozen config (0.5, the schema default, when the run had no adversarial block). */
export function flagThreshold(store: RunStore): number {
  const config = RunStore.config(store.dir) as { adversarial?: { failureThreshold?: number } | null };
  return config.adversarial?.failureThreshold ?? 0.5;
}

export function adversarialHtml(store: RunStore, options: { threshold: number } = { threshold: flagThreshold(store) }): string {
  const rows = adversarialRows(store, options);
  if (rows.length === 0) return '';
  const elites = [...archiveElites(store.all('attack'))].sort(([a], [b]) => (a < b ? -1 : 1));
  return `<h2>Adversarial rounds</h2><pre>${escape(adversarialTable(store, options))}</pre>
<h3>Archive: the most violating attack per principle × style</h3><table><tr><th>cell</th><th>violation</th><th>attack</th><th>target's answer</th><th>rationale</th></tr>
${elites.map(([cell, a]) => `<tr><td>${escape(cell)}</td><td>${a.violation.toFixed(2)}</td><td>${escape(a.attack)}</td><td>${escape(a.response)}</td><td>${escape(a.rationale ?? a.judgmentFailure ?? '')}</td></tr>`).join('\n')}</table>`;
}
