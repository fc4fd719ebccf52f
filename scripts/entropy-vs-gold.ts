// `node --import tsx scripts/entropy-vs-gold.ts RUN_DIR...`: for every RL round of finished testbed runs, the
// policy's mean token entropy on the validation split as a multiple of the SFT policy's (round 0; the gate's
// entropy-rise monitor reads this) beside gold's win rate of the round's policy over SFT on the test split (which
// the gate never sees), and how the rounds split at the gate's `maxEntropyRatio` (default, or --ratio X): above it,
// how many rounds gold says are worse than SFT, better, or even; at or below it, the same. Rounds are counted once per
// run folder given. Leaves out runs without gold (an endpoint policy, a user's own prompts).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig } from '../src/pipeline/run-config.ts';

interface Row { run: string; round: number; ratio: number; goldWin: number }

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim() !== '').map((line, i) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch (error) {
      throw new Error(`${path}:${i + 1}: not JSON (${(error as Error).message})`);
    }
  });
}

function rowsOf(run: string): Row[] {
  const evaluations = join(run, 'records', 'evaluations.jsonl'), gold = join(run, 'records', 'gold.jsonl');
  for (const path of [evaluations, gold]) if (!existsSync(path)) throw new Error(`${path}: missing (not a finished testbed run folder)`);
  const entropy = new Map<number, number>(), goldWin = new Map<number, number>();
  for (const record of readJsonl(evaluations)) entropy.set(record.round as number, (record.metrics as { entropy: number }).entropy);
  for (const record of readJsonl(gold)) goldWin.set(record.round as number, (record.metrics as { gold_win_rate_vs_sft: number }).gold_win_rate_vs_sft);
  const sft = entropy.get(0);
  if (!(typeof sft === 'number' && sft > 0)) {                       // an endpoint policy: no entropy measured
    console.log(`# skipped ${run}: no round 0 (SFT) entropy in ${evaluations}`);
    return [];
  }
  return [...entropy].filter(([round]) => round > 0 && goldWin.has(round))
    .map(([round, h]) => ({ run, round, ratio: h / sft, goldWin: goldWin.get(round)! }));
}

const args = process.argv.slice(2);
const at = args.indexOf('--ratio');
const threshold = at >= 0 ? Number(args[at + 1]) : parseRunConfig(null).gate.maxEntropyRatio;
const runs = at >= 0 ? args.filter((_, i) => i !== at && i !== at + 1) : args;
if (runs.length === 0 || !(threshold > 1)) {
  console.error('usage: node --import tsx scripts/entropy-vs-gold.ts RUN_DIR... [--ratio X > 1]');
  process.exit(2);
}
const rows = runs.flatMap(rowsOf).sort((a, b) => a.ratio - b.ratio);
for (const row of rows) console.log(`${row.ratio.toFixed(2)}  gold win vs SFT ${row.goldWin.toFixed(3)}  ${row.run} round ${row.round}`);
const split = (part: Row[]) => `${part.length} rounds: ${part.filter((r) => r.goldWin < 0.5).length} worse than SFT by gold, `
  + `${part.filter((r) => r.goldWin > 0.5).length} better, ${part.filter((r) => r.goldWin === 0.5).length} even`;
console.log(`# entropy above ${threshold} x SFT's: ${split(rows.filter((r) => r.ratio > threshold))}`);
console.log(`# entropy at or below ${threshold} x SFT's: ${split(rows.filter((r) => r.ratio <= threshold))}`);
console.log(`RESULT entropy_rise_rounds_above ${rows.filter((r) => r.ratio > threshold).length}`);
console.log(`RESULT entropy_rise_rounds_above_better_by_gold ${rows.filter((r) => r.ratio > threshold && r.goldWin > 0.5).length}`);
