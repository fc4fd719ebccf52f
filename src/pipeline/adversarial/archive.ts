// The attack archive, read from the run store's attack records: keyed by principle × style (Rainbow Teaming's
// quality-diversity grid), each cell's elite is its most violating attack; the failure pool is every red-team attack
// the labeler flagged (violation ≥ threshold), most violating first, for later rounds to train on. Held-out attacks
// and malformed dialogue attacks never enter the pool. Leaves out mutation operators. Rainbow Teaming: Samvelyan et al. 2024 (arXiv 2402.16822).
import type { AttackRecord } from '../run-records.ts';
import type { RunStore } from '../run-store.ts';

export const cellKey = (principle: string, style: string) => `${principle} × ${style}`;

/** The elite of each cell over red-team attacks written before `beforeRound` (all when omitted). */
export function archiveElites(attacks: readonly AttackRecord[], options: { beforeRound?: number } = {}): Map<string, AttackRecord> {
  const elites = new Map<string, AttackRecord>();
  for (const a of attacks) {
    if (a.phase !== 'redteam' || (options.beforeRound !== undefined && a.round >= options.beforeRound)) continue;
    const key = cellKey(a.principle, a.style), best = elites.get(key);
    if (!best || a.violation > best.violation || (a.violation === best.violation && a.id < best.id)) elites.set(key, a);
  }
  return elites;
}

/**
 * Flagged red-team attacks of rounds up to `throughRound`, distinct by text, most violating first (ties by id): the
 * prioritised failure pool. A text flagged twice keeps its highest violation.
 */
export function failurePool(store: RunStore, options: { throughRound: number; threshold: number }): AttackRecord[] {
  const byText = new Map<string, AttackRecord>();
  for (const a of store.all('attack')) {
    if (a.phase !== 'redteam' || a.round > options.throughRound || a.violation < options.threshold || a.attack.trim() === '' || a.malformed !== null) continue;
    const seen = byText.get(a.attack);
    if (!seen || a.violation > seen.violation) byText.set(a.attack, a);
  }
  return [...byText.values()].sort((a, b) => b.violation - a.violation || (a.id < b.id ? -1 : 1));
}
