// What the dashboard shows, computed from a run's records (run-reader.ts): the runs list, per run the rounds (gate
// decision and reasons, proxy and gold figures, reward distribution), the provenance list (rewards, or the pairs where
// the labeler and gold disagree) with filters and search, and a full trace from a reward or a judgment to its prompt,
// samples, judgments in both orders, rationale and principle, or from a critique-revision round's training example
// (its revision) to the critique, principle and original response. Leaves out editing anything.
import { recordId, type JudgmentRecord, type SampleRecord } from '../pipeline/run-records.ts';
import type { RunCatalog, RunReader } from './run-reader.ts';

export function runsList(catalog: RunCatalog) {
  return catalog.names().map((name) => {
    const run = catalog.run(name)!;
    const gates = run.all('gate');
    return { name, status: run.status(), rounds: gates.length, kept: gates.filter((g) => g.round > 0 && g.keep).length,
      rolledBack: gates.filter((g) => !g.keep).length, rewards: run.all('reward').length };
  });
}

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!);

export function runOverview(run: RunReader) {
  const rewards = run.all('reward');
  const rounds = run.all('gate').map((gate) => {
    const totals = rewards.filter((r) => r.round === gate.round).map((r) => r.total).sort((a, b) => a - b);
    return {
      round: gate.round, keep: gate.keep, reasons: gate.reasons, keptRound: gate.keptRound,
      proxy: run.get('evaluation', recordId('evaluation', { round: gate.round }))?.metrics ?? {},
      gold: run.get('gold', recordId('gold', { round: gate.round }))?.metrics ?? null,
      rewards: { count: totals.length, min: quantile(totals, 0), p25: quantile(totals, 0.25), median: quantile(totals, 0.5), p75: quantile(totals, 0.75), max: quantile(totals, 1) },
    };
  });
  const judgments = run.all('judgment');
  const prompts = run.all('prompt');
  return {
    name: run.name, status: run.status(), version: run.version, summary: run.summary(), config: run.config(), rounds,
    filters: {
      rounds: [...new Set(rewards.map((r) => r.round))].sort((a, b) => a - b),
      applications: [...new Set(prompts.map((p) => p.application))].sort(),
      principles: [...new Set(judgments.flatMap((j) => (j.principle ? [j.principle.id] : [])))].sort(),
    },
    disagreements: run.all('gold').reduce((n, g) => n + g.disagreements.length, 0),
  };
}

export interface ListFilter {
  round?: number;
  application?: string;
  principle?: string;
  disagree?: boolean;   // only pairs where the labeler and gold disagree
  query?: string;       // searched in the prompt, the samples and the rationales
  limit?: number;
}

export interface ListRow {
  kind: 'reward' | 'disagreement' | 'revision';
  id: string;           // the reward id, the disagreement's judgment id, or the revision id
  round: number;
  promptId: string;
  application: string;
  value: number;        // the reward, or the labeler's P(candidate); a revision: 1 when it changed the response, else 0
  text: string;         // the rewarded (candidate) sample, or the revision (the SFT target)
  principles: string[];
  gold: string | null;  // disagreement: which side gold prefers
}

function matches(run: RunReader, filter: ListFilter, promptId: string | undefined, samples: (SampleRecord | undefined)[], judgments: (JudgmentRecord | undefined)[]): boolean {
  const prompt = promptId ? run.get('prompt', promptId) : undefined;
  if (filter.application && prompt?.application !== filter.application) return false;
  if (filter.principle && !judgments.some((j) => j?.principle?.id === filter.principle)) return false;
  if (filter.query) {
    const needle = filter.query.toLowerCase();
    const haystack = [...(prompt?.messages.map((m) => m.content) ?? []), ...samples.map((s) => s?.text ?? ''), ...judgments.flatMap((j) => [j?.rationale ?? '', ...(j?.orders.map((o) => o.rationale ?? '') ?? [])])];
    if (!haystack.some((text) => text.toLowerCase().includes(needle))) return false;
  }
  return true;
}

export function provenanceList(run: RunReader, filter: ListFilter): { rows: ListRow[]; total: number } {
  const rows: ListRow[] = [];
  if (filter.disagree) {
    for (const gold of run.all('gold')) {
      if (filter.round !== undefined && gold.round !== filter.round) continue;
      for (const d of gold.disagreements) {
        const candidate = run.get('sample', d.candidate), sft = run.get('sample', d.sft), judgment = run.get('judgment', d.judgment);
        const promptRecordId = candidate?.parents[0];
        if (!matches(run, filter, promptRecordId, [candidate, sft], [judgment])) continue;
        rows.push({ kind: 'disagreement', id: d.judgment, round: gold.round, promptId: d.promptId, application: (promptRecordId && run.get('prompt', promptRecordId)?.application) || '',
          value: d.labelerProbability, text: candidate?.text ?? '', principles: judgment?.principle ? [judgment.principle.id] : [], gold: d.goldWinner });
      }
    }
  } else {
    for (const reward of run.all('reward')) {
      if (filter.round !== undefined && reward.round !== filter.round) continue;
      const own = run.get('sample', reward.parents[0]!);
      const judgments = reward.parents.map((id) => run.get('judgment', id)).filter((j): j is JudgmentRecord => j !== undefined);
      const promptRecordId = own?.parents[0];
      if (!matches(run, filter, promptRecordId, [own], judgments)) continue;
      const prompt = promptRecordId ? run.get('prompt', promptRecordId) : undefined;
      rows.push({ kind: 'reward', id: reward.id, round: reward.round, promptId: prompt?.promptId ?? '', application: prompt?.application ?? '', value: reward.total,
        text: own?.text ?? '', principles: [...new Set(judgments.flatMap((j) => (j.principle ? [j.principle.id] : [])))], gold: null });
    }
    for (const revision of run.all('revision')) {   // critique-revision rounds: each training example with its reason
      if (!revision.ok || (filter.round !== undefined && revision.round !== filter.round)) continue;
      const own = run.get('sample', revision.parents[0]!), prompt = own ? run.get('prompt', own.parents[0]!) : undefined;
      if (filter.application && prompt?.application !== filter.application) continue;
      if (filter.principle && revision.principle?.id !== filter.principle) continue;
      const needle = filter.query?.toLowerCase();
      if (needle && ![...(prompt?.messages.map((m) => m.content) ?? []), revision.original, revision.critique ?? '', revision.revision ?? ''].some((t) => t.toLowerCase().includes(needle))) continue;
      rows.push({ kind: 'revision', id: revision.id, round: revision.round, promptId: prompt?.promptId ?? '', application: prompt?.application ?? '',
        value: revision.revision !== revision.original ? 1 : 0, text: revision.revision ?? '', principles: revision.principle ? [revision.principle.id] : [], gold: null });
    }
  }
  return { rows: rows.slice(0, filter.limit ?? 500), total: rows.length };
}

function judgmentView(run: RunReader, judgment: JudgmentRecord, ownSampleId: string | null) {
  const [a, b] = judgment.parents;
  const mineIsA = ownSampleId === null || a === ownSampleId;
  return {
    id: judgment.id, source: judgment.source, stage: judgment.stage, ok: judgment.ok, failure: judgment.failure,
    a: a ?? null, b: b ?? null, probabilityA: judgment.probabilityA, score: judgment.score,
    probabilityOwn: judgment.probabilityA === null ? null : mineIsA ? judgment.probabilityA : 1 - judgment.probabilityA,
    orders: judgment.orders, rationale: judgment.rationale, principle: judgment.principle, labelerModel: judgment.labelerModel, templateVersion: judgment.templateVersion,
    other: b && b !== ownSampleId ? run.get('sample', b)?.text ?? null : a && a !== ownSampleId ? run.get('sample', a)?.text ?? null : null,
  };
}

const sampleView = (s: SampleRecord) => ({ id: s.id, index: s.index, round: s.round, policyRound: s.policyRound, stage: s.stage, text: s.text, tokens: s.tokens.length });

/**
 * A reward's trace (or a judgment's, for disagreements): prompt → samples → judgments → rationale → principle; a
 * revision's: prompt → the response critiqued → principle → critique → revision.
 */
export function traceView(run: RunReader, id: string) {
  const reward = run.get('reward', id);
  if (reward) {
    const own = run.get('sample', reward.parents[0]!);
    const prompt = own ? run.get('prompt', own.parents[0]!) : undefined;
    const group = run.all('sample').filter((s) => s.round === reward.round && s.stage === own?.stage && s.parents[0] === own?.parents[0]).sort((x, y) => x.index - y.index);
    const judgments = reward.parents.map((p) => run.get('judgment', p)).filter((j): j is JudgmentRecord => j !== undefined);
    const advantage = run.all('advantage').find((a) => a.parents[0] === reward.id);
    return { kind: 'reward' as const, id, round: reward.round, reward: { total: reward.total, components: reward.components, weights: reward.weights }, advantage: advantage?.advantage ?? null,
      prompt: prompt ?? null, own: own?.id ?? null, samples: group.map(sampleView), judgments: judgments.map((j) => judgmentView(run, j, own?.id ?? null)), gold: null };
  }
  const revision = run.get('revision', id);
  if (revision) {
    const own = run.get('sample', revision.parents[0]!), prompt = own ? run.get('prompt', own.parents[0]!) : undefined;
    return { kind: 'revision' as const, id, round: revision.round, reward: null, advantage: null, prompt: prompt ?? null, own: own?.id ?? null,
      samples: own ? [sampleView(own)] : [], judgments: [], gold: null,
      revision: { ok: revision.ok, failure: revision.failure, original: revision.original, critique: revision.critique, revision: revision.revision,
        principle: revision.principle, labelerModel: revision.labelerModel, templateVersion: revision.templateVersion } };
  }
  const judgment = run.get('judgment', id);
  if (!judgment) return null;
  const disagreement = run.all('gold').flatMap((g) => g.disagreements.map((d) => ({ ...d, round: g.round }))).find((d) => d.judgment === id) ?? null;
  const samples = judgment.parents.map((p) => run.get('sample', p)).filter((s): s is SampleRecord => s !== undefined);
  const prompt = samples[0] ? run.get('prompt', samples[0].parents[0]!) : undefined;
  return { kind: 'judgment' as const, id, round: judgment.round, reward: null, advantage: null, prompt: prompt ?? null, own: samples[0]?.id ?? null,
    samples: samples.map(sampleView), judgments: [judgmentView(run, judgment, samples[0]?.id ?? null)], gold: disagreement };
}
