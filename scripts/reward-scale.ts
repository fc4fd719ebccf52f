// A diagnostic of a finished `rlaif run` folder (issue 12): how large its rewards and advantages were. With GRPO's
// division by the group's reward std, a labeler that barely prefers either answer (rewards near 0) still gets advantages
// of unit size; without it (algorithm.groupStdNormalization false, Dr. GRPO) they keep the rewards' size. Reads
// records/rewards.jsonl and records/advantages.jsonl; prints the median and 90th percentile of |reward| and |advantage|.
// Usage: node --import tsx scripts/reward-scale.ts RUN_DIR [RUN_DIR ...]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error('usage: node --import tsx scripts/reward-scale.ts RUN_DIR [RUN_DIR ...]');
const lines = (path: string) => {
  if (!existsSync(path)) throw new Error(`${path}: not found (is it a run folder with RL rounds?)`);
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try { return JSON.parse(l) as { id: string; parents: string[]; total?: number; advantage?: number }; } catch { throw new Error(`${path}:${i + 1}: not JSON`); }
  });
};
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.floor(q * (values.length - 1))]!;
for (const dir of dirs) {
  const rewards = lines(join(dir, 'records', 'rewards.jsonl')), advantages = lines(join(dir, 'records', 'advantages.jsonl'));
  const byReward = new Map(advantages.map((a) => [a.parents[0]!, a.advantage!]));
  const r = rewards.map((x) => Math.abs(x.total!)), a = rewards.flatMap((x) => (byReward.has(x.id) ? [Math.abs(byReward.get(x.id)!)] : []));
  if (r.length === 0) throw new Error(`${dir}: no rewards recorded`);
  console.log(`${dir}: ${r.length} rewards; |reward| median ${quantile(r, 0.5).toFixed(3)}, p90 ${quantile(r, 0.9).toFixed(3)}; |advantage| median ${quantile(a, 0.5).toFixed(3)}, p90 ${quantile(a, 0.9).toFixed(3)}`);
}
