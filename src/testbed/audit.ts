// The testbed audit: samples two responses per test prompt from the SFT policy, judges each differing pair with the
// labeler (both orders), and scores the labeler against gold (agreement, Cohen's κ, same-position rate on single
// orders, ECE, tie rate; feedback/labeler-audit.ts) beside Lee et al.'s figures, plus the SFT policy's gold failure
// rates per application. Gold is used here as the yardstick only. Leaves out: confidence intervals.
import { noGrad } from '../engine/index.ts';
import { auditLabeler, type AuditItem, type LabelerAudit } from '../feedback/labeler-audit.ts';
import { scoreResponses } from '../models/score.ts';
import { factRecall, modelScorer, type FactRecall } from './fact-recall.ts';
import { goldCheck, goldCompare } from './gold.ts';
import { loadPolicySampler } from './policy-sampler.ts';
import type { TestbedPrompt } from './prompts.ts';
import { testbedJudge } from './testbed-judge.ts';
import type { World } from './world.ts';

export interface FailureRates {
  hallucination: number;       // truthfulness test responses failing gold
  harmfulCompliance: number;   // forbidden (harm, privacy) test responses not refused
  overRefusal: number;         // benign look-alike test responses refused
  coherenceError: number;      // dialogue test responses failing gold
  byApplication: Record<string, number>; // gold failure rate per application
  byKind: Record<string, number>;
}

export interface TestbedAuditResult {
  labeler: LabelerAudit;
  other: { judge: 'pairwise' | 'pointwise'; labeler: LabelerAudit } | null; // the same pairs judged by options.alsoJudge
  sft: FailureRates;
  /** The SFT policy's knowledge of the world's facts (fact-recall.ts): what its truthfulness answers can draw on. */
  sftFactRecall: FactRecall;
  pairs: { sampled: number; identical: number; judged: number; goldTies: number; passFail: number; bothFail: number; bothPass: number };
  /** The labeler on the pairs where exactly one answer passes gold (the others are ranked by gold's graded score:
   * two failures by how badly, two passes by quality), judged by the headline judge. */
  passFailLabeler: LabelerAudit;
  /** The headline judge on the other gold-decided pairs: both answers fail (or both pass) and gold's graded score ranks
   * them (fewer violations, then quality: on point, complete, no padding). */
  gradedLabeler: LabelerAudit;
  /** The headline judge on each application's pairs (truthfulness, value-alignment, dialogue-coherence): where it fails. */
  labelerByApplication: Record<string, LabelerAudit>;
  /** A baseline with no judging at all: the SFT policy prefers the answer it finds likelier (higher mean token
   * log-probability given the conversation); its agreement with gold on the pairs gold decides (null: none). */
  policyCertainty: { agreement: number | null; judged: number };
  examples: { promptId: string; a: string; b: string; gold: 'A' | 'B' | null; labelerProbabilityA: number | null; rationale: string | null;
    policyCertainty: [number, number] }[];   // each answer's mean token log-probability under the SFT policy
  seconds: number;
}

/** Gold failure rates of responses (one list per prompt). */
export function failureRates(world: World, prompts: readonly TestbedPrompt[], responses: readonly string[][]): FailureRates {
  const tally = new Map<string, { fail: number; total: number }>();
  const count = (key: string, fail: boolean) => {
    const t = tally.get(key) ?? { fail: 0, total: 0 };
    t.total++;
    if (fail) t.fail++;
    tally.set(key, t);
  };
  prompts.forEach((p, i) => {
    for (const response of responses[i]!) {
      const verdict = goldCheck(world, p, response);
      count(`app:${p.application}`, !verdict.pass);
      count(`kind:${p.kind}`, !verdict.pass);
      if (p.kind === 'forbidden-harm' || p.kind === 'forbidden-privacy') count('harmful', !verdict.pass);
      if (p.kind === 'benign-lookalike') count('over-refusal', verdict.violations.includes('over-refusal'));
    }
  });
  const rate = (key: string) => { const t = tally.get(key); return t && t.total > 0 ? t.fail / t.total : 0; };
  const group = (prefix: string) => Object.fromEntries([...tally.keys()].filter((k) => k.startsWith(prefix)).map((k) => [k.slice(prefix.length), rate(k)]));
  return {
    hallucination: rate('app:truthfulness'), harmfulCompliance: rate('harmful'), overRefusal: rate('over-refusal'),
    coherenceError: rate('app:dialogue-coherence'), byApplication: group('app:'), byKind: group('kind:'),
  };
}

export interface AuditOptions {
  world: World;
  prompts: readonly TestbedPrompt[];
  policyDirectory: string;
  labelerDirectory: string;
  corpusPath?: string;         // the corpus the labeler's retriever reads notes from (BuiltTestbed.corpusPath)
  judge?: 'pairwise' | 'pointwise'; // the labeler's judge the audit is about (default pairwise)
  alsoJudge?: 'pairwise' | 'pointwise'; // a second judge audited on the same pairs (TestbedAuditResult.other)
  seed?: number;               // sampling and judging seed (default 0)
  temperature?: number;        // policy sampling temperature (default 1)
  maxPrompts?: number;         // at most this many test prompts (default all)
  onProgress?: (stage: 'sample' | 'judge', done: number, total: number) => void;
}

export async function auditTestbed(options: AuditOptions): Promise<TestbedAuditResult> {
  const started = performance.now();
  const allTest = options.prompts.filter((p) => p.split === 'test');
  const stride = Math.max(1, allTest.length / (options.maxPrompts ?? allTest.length));
  const test = options.maxPrompts === undefined ? allTest : Array.from({ length: Math.min(options.maxPrompts, allTest.length) }, (_, i) => allTest[Math.floor(i * stride)]!);
  const sampler = loadPolicySampler(options.policyDirectory);
  const responses = sampler.sample(test, { samples: 2, temperature: options.temperature ?? 1, seed: options.seed ?? 0, onProgress: (d, t) => options.onProgress?.('sample', d, t) });
  const sft = failureRates(options.world, test, responses);
  const sftFactRecall = factRecall(options.world, options.prompts, modelScorer(sampler.model, sampler.tokenizer));
  const judgeKind = options.judge ?? 'pairwise';
  const labeler = { labelerDirectory: options.labelerDirectory, ...(options.corpusPath ? { corpusPath: options.corpusPath } : {}) };
  const judge = testbedJudge(labeler, { seed: options.seed ?? 0, kind: judgeKind });
  const second = options.alsoJudge ? testbedJudge(labeler, { seed: options.seed ?? 0, kind: options.alsoJudge }) : null;
  const items: AuditItem[] = [], otherItems: AuditItem[] = [];
  const examples: TestbedAuditResult['examples'] = [];
  let identical = 0, goldTies = 0, bothFail = 0, bothPass = 0;
  const passFailItems: AuditItem[] = [], gradedItems: AuditItem[] = [];
  const byApplication = new Map<string, AuditItem[]>();
  const differing = test.map((p, i) => ({ p, a: responses[i]![0]!, b: responses[i]![1]! })).filter(({ a, b }) => (a === b ? (identical++, false) : true));
  // The policy's certainty of an answer: its mean token log-probability (end token included) after the conversation.
  const eos = sampler.tokenizer.eosTokenId!;
  const certainty = (p: TestbedPrompt, answers: string[]) => noGrad(() => {
    const prompt = sampler.tokenizer.applyChatTemplate(p.messages), responses = answers.map((a) => [...sampler.tokenizer.encode(a, { addSpecialTokens: false }), eos]);
    const scored = scoreResponses(sampler.model, { prompts: answers.map(() => prompt), responses }, { entropies: false }), width = scored.responseWidth;
    return responses.map((r, b) => { let total = 0; for (let j = 0; j < width; j++) total += scored.logprobs.data[b * width + j]!; return total / r.length; });
  });
  let certaintyAgrees = 0, certaintyJudged = 0;
  for (const [n, { p, a, b }] of differing.entries()) {
    const { winner, a: goldA, b: goldB } = goldCompare(options.world, p, a, b);
    const gold = winner === 'tie' ? null : winner === 'a' ? 'A' : 'B';
    if (gold === null) goldTies++;
    const [sureA, sureB] = certainty(p, [a, b]);
    if (gold !== null && sureA !== sureB) { certaintyJudged++; if ((sureA! > sureB!) === (gold === 'A')) certaintyAgrees++; }
    const result = await judge.comparePair(p, a, b);
    items.push({ gold, result });
    byApplication.set(p.application, [...(byApplication.get(p.application) ?? []), { gold, result }]);
    if (gold !== null) {
      const passA = goldA.pass, passB = goldB.pass;
      if (passA !== passB) passFailItems.push({ gold, result });
      else {
        gradedItems.push({ gold, result });
        if (passA) bothPass++;
        else bothFail++;
      }
    }
    if (second) otherItems.push({ gold, result: await second.comparePair(p, a, b) });
    if (examples.length < 40) examples.push({ promptId: p.id, a, b, gold, labelerProbabilityA: result.kind === 'ok' ? result.probability : null, rationale: result.kind === 'ok' ? result.rationale : null, policyCertainty: [sureA!, sureB!] });
    options.onProgress?.('judge', n + 1, differing.length);
  }
  return {
    labeler: auditLabeler(items, 0, judgeKind), sft, sftFactRecall,
    other: second && options.alsoJudge ? { judge: options.alsoJudge, labeler: auditLabeler(otherItems, 0, options.alsoJudge) } : null,
    pairs: { sampled: test.length, identical, judged: differing.length, goldTies, passFail: passFailItems.length, bothFail, bothPass },
    passFailLabeler: auditLabeler(passFailItems, 0, judgeKind), gradedLabeler: auditLabeler(gradedItems, 0, judgeKind),
    labelerByApplication: Object.fromEntries([...byApplication].sort(([a], [b]) => a.localeCompare(b)).map(([application, list]) => [application, auditLabeler(list, 0, judgeKind)])),
    policyCertainty: { agreement: certaintyJudged > 0 ? certaintyAgrees / certaintyJudged : null, judged: certaintyJudged },
    examples, seconds: (performance.now() - started) / 1000,
  };
}
