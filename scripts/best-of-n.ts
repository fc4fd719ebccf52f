// A diagnostic of what RL on the policy's own samples can reach (issues 11, 12): for each test prompt, N answers are
// sampled from the policy (the testbed's SFT policy, or a run's checkpoint with --from), and the best by gold's graded
// score is compared with independent answers of the SFT policy, as the report compares a round's answers. Policy
// gradient only moves probability among answers the policy already samples (on-policy, with a KL leash), so the best
// of N is a ceiling for it (not a hard one: an update also generalises from train prompts). Prints, per prompt kind and
// overall: pass@1 (one sample), pass@k (any of k samples passes gold) and the gold win rate over SFT of the best of k,
// for k = 1, 4, 16, N, with 95% bootstrap intervals over prompts; and sure@k, the win rate of the answer of k that the
// policy itself is surest of (its highest mean token log-probability: a choice with no gold and no labeler). This reads gold to pick the best: an upper bound,
// never a result, and nothing of it trains anything.
// Usage: node --import tsx scripts/best-of-n.ts [--seed N] [--samples N] [--references K] [--from DIR] [--temperature T] [--cache DIR]
//   --temperature T: the evaluated policy samples at T (the SFT answers it is compared with at the run's 1), e.g. 0.3:
//   how far sharpening alone, with no new knowledge, moves pass@1 and the win rate of one answer.
import { parseArgs } from 'node:util';
import { bootstrapMean } from '../src/pipeline/bootstrap-interval.ts';
import { parseRunConfig } from '../src/pipeline/run-config.ts';
import { meanLogprob } from '../src/pipeline/run-records.ts';
import { buildPolicy, loadCheckpoint } from '../src/pipeline/run-setup.ts';
import { buildTestbed } from '../src/testbed/build.ts';
import { idealResponse } from '../src/testbed/answers.ts';
import { goldCheck } from '../src/testbed/gold.ts';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '0' }, samples: { type: 'string', default: '32' }, references: { type: 'string', default: '2' },
  from: { type: 'string' }, temperature: { type: 'string', default: '1' }, cache: { type: 'string', default: '.rlaif-cache' } } });
const count = (name: string, text: string, min: number) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got "${text}"`);
  return n;
};
const seed = count('seed', values.seed!, 0), N = count('samples', values.samples!, 1), R = count('references', values.references!, 1);

const testbed = await buildTestbed({ seed, cacheDirectory: values.cache });
const temperature = Number(values.temperature);
if (!(temperature > 0)) throw new Error(`--temperature must be a positive number, got "${values.temperature}"`);
const config = parseRunConfig(null, { source: 'defaults', overrides: { seed } });
const sft = buildPolicy(config, loadCheckpoint(testbed.policyDirectory));
// The evaluated policy samples at --temperature (the SFT references always at the run's temperature, 1).
const policy = values.from || temperature !== config.temperature ? buildPolicy({ ...config, temperature }, loadCheckpoint(testbed.policyDirectory)) : sft;
if (values.from) policy.load(values.from);
const test = testbed.prompts.filter((p) => p.split === 'test');

const sampleAll = async (which: typeof sft, k: number, base: number) => {
  const rows = test.flatMap((p, i) => Array.from({ length: k }, (_, j) => ({ messages: p.messages, seed: base + i * 1000 + j })));
  const out: { text: string; certainty: number }[] = [];
  for (let start = 0; start < rows.length; start += 256) {
    out.push(...(await which.sampleRows(rows.slice(start, start + 256))).map((o) => ({ text: o.text, certainty: meanLogprob(o) ?? Number.NEGATIVE_INFINITY })));
    process.stderr.write(`\rsampling: ${Math.min(start + 256, rows.length)} of ${rows.length}`);
  }
  process.stderr.write('\n');
  return test.map((_, i) => out.slice(i * k, (i + 1) * k));
};
const t0 = performance.now();
const answers = await sampleAll(policy, N, 7_000_000), references = await sampleAll(sft, R, 9_000_000);
const scores = answers.map((list, i) => list.map((a) => goldCheck(testbed.world, test[i]!, a.text)));
const refScores = references.map((list, i) => list.map((a) => goldCheck(testbed.world, test[i]!, a.text).score));

const ks = [...new Set([1, 4, 16, N].filter((k) => k <= N))];
const winOver = (i: number, score: number) => refScores[i]!.reduce((a, r) => a + (score > r ? 1 : score === r ? 0.5 : 0), 0) / R;
// Per prompt: pass@1 as the mean over all N samples; pass@k and best-of-k use the first k samples.
const perPrompt = test.map((_, i) => {
  const v = scores[i]!, row: Record<string, number> = { pass1: v.filter((x) => x.pass).length / v.length };
  for (const k of ks) {
    const first = v.slice(0, k), best = Math.max(...first.map((x) => x.score));
    row[`pass@${k}`] = first.some((x) => x.pass) ? 1 : 0;
    row[`win@${k}`] = winOver(i, best);
    // The answer the policy is surest of (highest mean token log-probability at sampling): a choice without gold.
    const surest = first.reduce((m, _, j) => (answers[i]![j]!.certainty > answers[i]![m]!.certainty ? j : m), 0);
    row[`sure@${k}`] = winOver(i, first[surest]!.score);
  }
  row.ideal = winOver(i, goldCheck(testbed.world, test[i]!, idealResponse(testbed.world, test[i]!)).score);
  return row;
});
const columns = ['pass1', ...ks.map((k) => `pass@${k}`), ...ks.map((k) => `win@${k}`), ...ks.filter((k) => k > 1).map((k) => `sure@${k}`), 'ideal'];
const kinds = [...new Set(test.map((p) => p.kind))].sort();
const fmt = (xs: number[], label: string) => {
  const { mean, interval } = bootstrapMean(xs, { seed, label });
  return interval ? `${mean.toFixed(3)} [${interval[0].toFixed(2)}, ${interval[1].toFixed(2)}]` : 'n/a';
};
console.log(`${values.from ?? 'the SFT policy'} at temperature ${temperature}, seed ${seed}: ${test.length} test prompts, ${N} samples each, best by gold's score against ${R} SFT answers each (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
console.log(['kind', 'prompts', ...columns].join('\t'));
for (const kind of [...kinds, 'all']) {
  const rows = perPrompt.filter((_, i) => kind === 'all' || test[i]!.kind === kind);
  console.log([kind, rows.length, ...columns.map((c) => fmt(rows.map((r) => r[c]!), `${kind}|${c}`))].join('\t'));
}
// The policy's certainty as a pairwise labeler: over consecutive pairs of answers (1–2, 3–4, …) that gold does not tie
// and whose texts differ, how often the surer answer is gold's better one (the audit's labeler_gold_agreement, on
// other pairs of the same policy).
let agree = 0, judgedPairs = 0;
answers.forEach((list, i) => {
  for (let j = 0; j + 1 < list.length; j += 2) {
    const [a, b] = [list[j]!, list[j + 1]!], [ga, gb] = [scores[i]![j]!.score, scores[i]![j + 1]!.score];
    if (a.text === b.text || ga === gb || a.certainty === b.certainty) continue;
    judgedPairs++;
    if ((a.certainty > b.certainty) === (ga > gb)) agree++;
  }
});
console.log(`the surer answer is gold's better one in ${agree} of ${judgedPairs} pairs (${(agree / judgedPairs).toFixed(3)})`);
console.log(`RESULT certainty_gold_agreement ${(agree / judgedPairs).toFixed(4)}`);
for (const c of columns) console.log(`RESULT best_of_n_${c.replace('@', '_at_')} ${(perPrompt.reduce((a, r) => a + r[c]!, 0) / perPrompt.length).toFixed(4)}`);
