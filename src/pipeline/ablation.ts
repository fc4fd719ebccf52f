// `rlaif ablation`: what each feedback source adds (issue 12 item 6). One YAML names a base config and variants (each
// a partial `rlaif run` config merged over the base, e.g. one feedback source alone, then all mixed); each variant is
// an ordinary `rlaif run` in <out>/<variant> (resumable), and the gold figures of each final policy are tabulated
// into <out>/ablation.tsv and ablation.json. Leaves out confidence intervals (run several --seed and compare). Lee et
// al. 2023 (arXiv 2309.00267) ablate their feedback the same way.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import { rlaifRun, type RlaifRunOptions } from './rlaif-run.ts';
import { parseRunConfig } from './run-config.ts';
import type { RunSummary } from './run-summary.ts';

const mapping = z.record(z.string(), z.unknown());

export const ablationConfigSchema = z.strictObject({
  base: mapping.default({}).describe('`rlaif run` keys every variant shares'),
  variants: z.record(z.string(), mapping)
    .refine((v) => Object.keys(v).length > 0, 'at least one variant').describe('name → `rlaif run` keys merged over base (objects merged key by key, anything else replaced)'),
});

/** The figures tabulated per variant (summary.json names; absent ones print as '-'). */
export const ABLATION_COLUMNS = ['gold_win_rate_vs_sft', 'proxy_win_rate_vs_sft', 'gold_proxy_gap', 'hallucination_rate_final', 'harmful_compliance_rate_final',
  'over_refusal_rate_final', 'coherence_error_rate_final', 'length_drift', 'rounds_kept', 'rounds_rolled_back'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = isObject(value) && isObject(out[key]) ? mergeConfig(out[key] as Record<string, unknown>, value) : value;
  return out;
}

export interface AblationVariant { name: string; text: string }

/** The variants of an ablation YAML as full `rlaif run` YAML texts, each checked against the run schema (errors name the variant). */
export function parseAblationConfig(text: string, source: string): AblationVariant[] {
  let raw: unknown;
  try { raw = parseYaml(text) ?? {}; } catch (error) { throw new Error(`${source}: not valid YAML: ${(error as Error).message}`); }
  const result = ablationConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new Error(result.error.issues.map((issue) => `${source}: ${[...issue.path, ...(issue.code === 'unrecognized_keys' ? issue.keys : [])].join('.') || '(root)'}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`).join('\n'));
  }
  return Object.entries(result.data.variants).map(([name, over]) => {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`${source}: variants.${name}: variant names are kebab-case (they name run folders)`);
    const variant = stringify(mergeConfig(result.data.base, over));
    parseRunConfig(variant, { source: `${source} variants.${name}` });
    return { name, text: variant };
  });
}

export interface AblationRow { variant: string; dir: string; summary: RunSummary }

/** Aligned text table, one row per variant. */
export function ablationTable(rows: AblationRow[]): string {
  const header = ['variant', ...ABLATION_COLUMNS];
  const body = rows.map((r) => [r.variant, ...ABLATION_COLUMNS.map((c) => (Number.isFinite(r.summary[c]) ? Number(r.summary[c]).toFixed(3) : '-'))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  return [header, ...body].map((cells) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export interface AblationOptions {
  configPath: string;
  seed?: number;
  out?: string;                                    // default runs/ablation-seed<seed>
  onVariant?: (name: string, index: number, total: number) => void;
  run?: Pick<RlaifRunOptions, 'onProgress' | 'testbed'>;
}

export interface AblationResult { dir: string; rows: AblationRow[]; table: string; tsvPath: string }

export async function runAblation(options: AblationOptions): Promise<AblationResult> {
  const variants = parseAblationConfig(readFileSync(options.configPath, 'utf8'), options.configPath);
  const baseDirectory = dirname(resolve(options.configPath));
  const seed = options.seed ?? (parseRunConfig(variants[0]!.text).seed);
  const dir = resolve(options.out ?? join('runs', `ablation-seed${seed}`));
  const rows: AblationRow[] = [];
  for (const [index, variant] of variants.entries()) {
    options.onVariant?.(variant.name, index, variants.length);
    const result = await rlaifRun({ ...options.run, configText: { text: variant.text, source: `${options.configPath} variants.${variant.name}`, baseDirectory },
      seed: options.seed, out: join(dir, variant.name) });
    rows.push({ variant: variant.name, dir: result.dir, summary: result.summary });
  }
  const tsv = [['variant', ...ABLATION_COLUMNS].join('\t'), ...rows.map((r) => [r.variant, ...ABLATION_COLUMNS.map((c) => r.summary[c] ?? '')].join('\t'))].join('\n');
  const tsvPath = join(dir, 'ablation.tsv');
  for (const [path, content] of [[tsvPath, `${tsv}\n`], [join(dir, 'ablation.json'), `${JSON.stringify(rows, null, 2)}\n`]] as const) {
    writeFileSync(`${path}.tmp`, content);
    renameSync(`${path}.tmp`, path);
  }
  return { dir, rows, table: ablationTable(rows), tsvPath };
}
