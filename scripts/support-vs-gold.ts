// How well corpus support (testbed/self-supervised.ts, feedback.corpusSupport) agrees with gold on the SFT policy's
// answers to validation prompts, per prompt kind: over the pairs of 4 samples a prompt, how often the higher-scored
// answer is gold's winner (support ties and gold ties counted apart), and over single answers, gold pass against a
// score above 0. Gold is the yardstick here only. Leaves out other seeds' worlds unless given.
// Run: node --import tsx scripts/support-vs-gold.ts [seed]   (builds the testbed, or takes it from the cache)
import { readFileSync } from 'node:fs';
import { buildTestbed } from '../src/testbed/index.ts';
import { loadPolicySampler } from '../src/testbed/policy-sampler.ts';
import { corpusSupport } from '../src/testbed/self-supervised.ts';
import { goldCheck, goldCompare } from '../src/testbed/gold.ts';
const tb = await buildTestbed({ seed: Number(process.argv[2] ?? 0) });
const support = corpusSupport(readFileSync(tb.corpusPath, 'utf8').split('\n').filter((l) => l.trim()));
const prompts = tb.prompts.filter((p) => p.split === 'validation');
const sampler = loadPolicySampler(tb.policyDirectory);
const K = 4;
const responses = sampler.sample(prompts, { samples: K, temperature: 1, seed: 3 });
const tally: Record<string, { agree: number; disagree: number; tie: number; goldTie: number; passCorr: number[] }> = {};
for (const [i, p] of prompts.entries()) {
  const t = (tally[p.kind] ??= { agree: 0, disagree: 0, tie: 0, goldTie: 0, passCorr: [0, 0, 0, 0] });
  const rs = responses[i]!;
  for (const r of rs) { const pass = goldCheck(tb.world, p, r).pass, s = support(r).score; t.passCorr[(pass ? 2 : 0) + (s > 0 ? 1 : 0)]++; }
  for (let a = 0; a < K; a++) for (let b = a + 1; b < K; b++) {
    if (rs[a] === rs[b]) continue;
    const g = goldCompare(tb.world, p, rs[a]!, rs[b]!).winner; if (g === 'tie') { t.goldTie++; continue; }
    const sa = support(rs[a]!).score, sb = support(rs[b]!).score;
    if (sa === sb) t.tie++; else if ((sa > sb) === (g === 'a')) t.agree++; else t.disagree++;
  }
}
for (const [k, t] of Object.entries(tally)) console.log(k.padEnd(22), `agree ${t.agree} disagree ${t.disagree} support-tie ${t.tie} gold-tie ${t.goldTie}`, `| fail&s<=0 ${t.passCorr[0]} fail&s>0 ${t.passCorr[1]} pass&s<=0 ${t.passCorr[2]} pass&s>0 ${t.passCorr[3]}`);
