// What `rlaif train` says when a run ends: its headline metrics at the run's first and last recorded steps (from
// metrics.jsonl, so a resumed run reports from its true start), where the checkpoint and the metrics are, what was
// saved, and the warnings. Also: the config file read with errors naming it, and errors about a file a config key
// names prefixed with the config file and that key. Leaves out plots (the dashboard's job).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A headline metric at the first and last steps that recorded it. */
export interface MetricChange { name: string; first: { step: number; value: number }; last: { step: number; value: number } }

/** The metrics each subcommand's summary reports, in order (those a run never recorded are left out). */
export const SUMMARY_METRICS: Record<'pg' | 'sft' | 'reward' | 'dpo', string[]> = {
  pg: ['rewardMean', 'kl'], sft: ['loss'], reward: ['heldOutAccuracy', 'loss'], dpo: ['heldOutRewardAccuracy', 'rewardAccuracy', 'loss'],
};

/** First and last recorded value of each named metric in a metrics.jsonl (torn or foreign lines are skipped). */
export function headlineChange(metricsPath: string, names: string[]): MetricChange[] {
  if (!existsSync(metricsPath)) return [];
  const changes = new Map<string, MetricChange>();
  for (const line of readFileSync(metricsPath, 'utf8').split('\n')) {
    let record: { step?: number; metrics?: Record<string, number> };
    try { record = JSON.parse(line); } catch { continue; }
    if (typeof record.step !== 'number' || !record.metrics) continue;
    for (const name of names) {
      const value = record.metrics[name];
      if (typeof value !== 'number') continue;
      const at = { step: record.step, value };
      const change = changes.get(name);
      if (change) change.last = at; else changes.set(name, { name, first: at, last: at });
    }
  }
  return names.flatMap((name) => changes.get(name) ?? []);
}

export interface SummaryFacts {
  kind: string;
  runDir: string;
  steps: number;
  resumedFrom: number | null;
  checkpoint: string | null;
  saved: string | null;
  headline: MetricChange[];
}

/** The lines printed when a run ends. */
export function formatTrainSummary(facts: SummaryFacts): string[] {
  const lines = [`${facts.kind}: ${facts.steps} steps${facts.resumedFrom === null ? '' : ` (resumed from step ${facts.resumedFrom})`}; run folder ${facts.runDir}`];
  for (const change of facts.headline) {
    lines.push(`  ${change.name}: ${change.first.value.toFixed(4)} (step ${change.first.step}) → ${change.last.value.toFixed(4)} (step ${change.last.step})`);
  }
  lines.push(`  checkpoint: ${facts.checkpoint ?? 'none'}; metrics: ${join(facts.runDir, 'metrics.jsonl')}`);
  if (facts.saved) lines.push(`  saved: ${facts.saved}`);
  return lines;
}

/** The config file's text; a missing file or a folder is an error naming the path. */
export function readConfigFile(path: string): string {
  if (!existsSync(path)) throw new Error(`--config ${path}: no such file`);
  if (statSync(path).isDirectory()) throw new Error(`--config ${path}: is a folder, expected a YAML file`);
  return readFileSync(path, 'utf8');
}

/** Config keys that name files or folders, in the order they are reported when several paths appear in one message. */
const PATH_KEYS = ['data', 'heldOut', 'prompts', 'model.path', 'saveTo', 'runDir'];

/**
 * An error whose message mentions the path a config key holds, prefixed with `<config file>: <key>: ` (the longest
 * such path wins: saveTo inside runDir is saveTo). Other errors pass through unchanged.
 */
export function withConfigKey(error: unknown, configPath: string, config: object): unknown {
  if (!(error instanceof Error)) return error;
  const values = config as Record<string, unknown> & { model?: { path?: unknown } };
  const paths = PATH_KEYS.map((key) => ({ key, path: key === 'model.path' ? values.model?.path : values[key] }))
    .filter((entry): entry is { key: string; path: string } => typeof entry.path === 'string' && error.message.includes(entry.path));
  if (paths.length === 0) return error;
  const longest = Math.max(...paths.map((entry) => entry.path.length));
  const keys = paths.filter((entry) => entry.path.length === longest).map((entry) => entry.key);
  const named = keys.some((key) => error.message.startsWith(`${key} `));  // e.g. "model.path x: no config.json"
  return new Error(`${configPath}: ${named ? '' : `${keys.join(' and ')}: `}${error.message}`, { cause: error });
}
