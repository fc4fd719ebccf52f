// `rlaif export`: one round's AI-labeled preferences out of a run store as TRL (conversational) or OpenAI preference
// JSONL — the labeler's preferred sample as chosen, the other as rejected — for an external trainer. Each row's id is
// its judgment record's id, so it traces back through the store to rationale, principle and prompt.
// Leaves out ties and failed judgments (no preference) and the judgments of evaluation (they compare policies).
import { writeOpenAIPreference } from '../data/openai-preference-format.ts';
import type { PreferenceRecord } from '../data/preference-record.ts';
import { writeTrl } from '../data/trl-format.ts';
import { RunStore } from './run-store.ts';

export function roundPreferences(store: RunStore, round: number): PreferenceRecord[] {
  if (!store.all('gate').some((g) => g.round === round) && !store.all('judgment').some((j) => j.round === round)) {
    throw new Error(`${store.dir}: no round ${round} (rounds: ${store.all('gate').map((g) => g.round).join(', ') || 'none'})`);
  }
  return store.all('judgment').filter((j) => j.round === round && j.stage === 'feedback' && j.source === 'pairwise-ai' && j.ok && j.probabilityA !== 0.5)
    .map((j) => {
      const [a, b] = j.parents.map((id) => store.get('sample', id)!);
      const prompt = store.get('prompt', a!.parents[0]!)!;
      const [chosen, rejected] = j.probabilityA! > 0.5 ? [a!, b!] : [b!, a!];
      return { id: j.id, prompt: prompt.messages, chosen: [{ role: 'assistant', content: chosen.text }], rejected: [{ role: 'assistant', content: rejected.text }] };
    });
}

/** Writes round `round`'s preferences to `path`; returns how many. */
export function exportRound(options: { runDir: string; round: number; format: 'trl' | 'openai'; path: string }): number {
  const store = RunStore.open(options.runDir, RunStore.config(options.runDir));
  try {
    const records = roundPreferences(store, options.round);
    if (options.format === 'trl') writeTrl(options.path, records, 'conversational');
    else writeOpenAIPreference(options.path, records);
    return records.length;
  } finally {
    store.close();
  }
}
