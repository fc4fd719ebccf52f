// Audits a labeler against human or gold preferences: accuracy (alignment), Cohen's kappa, same-position-preferred rate
// of the single-order labels (position consistency), tie rate, parse-failure rate, the share of labels read from votes
// because the provider gave no logprobs, expected calibration error of the soft labels.
// Pairs labeled from two separate scores (pointwise, rubric) have no position: those figures are n/a, never 0.
// Agreement comes with its 95% Wilson score interval (ties counted as half right). Reference figures: Lee et al. 2023
// (arXiv 2309.00267) report 78% alignment and 18% same-position-preferred for their best labeler (PaLM 2 L, OpenAI
// preamble + chain-of-thought).
import type { PairwiseResult } from './judgment-types.ts';
import type { JudgeKind, ScoredPairResult } from './scored-pair-judge.ts';

export interface AuditItem {
  gold: 'A' | 'B' | null; // which candidate the human or checker preferred; null when nobody labeled the pair
  result: PairwiseResult | ScoredPairResult;
}

export interface LabelerAudit {
  judge: JudgeKind; // pointwise and rubric score each response alone: the position figures below are null (n/a)
  pairs: number;
  judged: number; // ok results
  failureRate: number; // typed failures of any reason / pairs
  parseFailureRate: number; // 'unparseable-verdict' failures / pairs
  labeled: number; // judged pairs with a gold label: agreement figures are over these, null when there are none
  accuracy: number | null; // order-averaged labels vs gold over judged labeled pairs, ties counted as half right
  accuracyInterval: [number, number] | null; // 95% Wilson score interval of accuracy over the labeled pairs (124 pairs at 0.58: 0.49-0.66)
  accuracyForwardOnly: number | null; // the single (A-first) order alone, same counting; null for scored judges
  cohenKappa: number | null; // averaged hard labels vs gold, ties left out
  samePositionPreferred: number | null; // share of (pair, principle) judged in both orders whose two single-order labels chose the same position (Lee et al.'s figure; 0 for a position-consistent labeler)
  positionOneRate: number | null; // share of single-order verdicts choosing the response shown first (0.5 is unbiased)
  votesLabelRate: number | null; // share of verdicts labeled from sampled votes (the provider returned no logprobs); null for the rubric judge
  tieRate: number | null; // ties / judged
  expectedCalibrationError: number | null; // 10 bins over confidence max(p, 1-p)
  reference: { source: string; alignment: number; samePositionPreferred: number };
}

export const leeEtAlReference = { source: 'Lee et al. 2023 (arXiv 2309.00267)', alignment: 0.78, samePositionPreferred: 0.18 };

/** The 95% Wilson score interval of a proportion p over n trials (null for none): never outside [0, 1]. */
export function wilsonInterval(p: number, n: number, z = 1.959964): [number, number] | null {
  if (n === 0) return null;
  const center = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, center - half), Math.min(1, center + half)];
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator;
}

/** Credit for one soft label: 1 right, 0 wrong, 0.5 on an exact tie. */
function credit(probabilityA: number, gold: 'A' | 'B', tie: boolean): number {
  if (tie) return 0.5;
  return (probabilityA > 0.5) === (gold === 'A') ? 1 : 0;
}

export function cohenKappa(labels: Array<[0 | 1, 0 | 1]>): number | null {
  if (labels.length === 0) return null;
  const n = labels.length;
  const observed = labels.filter(([a, b]) => a === b).length / n;
  const firstOnes = labels.filter(([a]) => a === 1).length / n;
  const secondOnes = labels.filter(([, b]) => b === 1).length / n;
  const expected = firstOnes * secondOnes + (1 - firstOnes) * (1 - secondOnes);
  return expected === 1 ? (observed === 1 ? 1 : 0) : (observed - expected) / (1 - expected);
}

/** ECE over equal-width confidence bins on [0.5, 1]; `correct` is 0, 0.5 or 1 per item. */
export function expectedCalibrationError(items: Array<{ confidence: number; correct: number }>, bins = 10): number | null {
  if (items.length === 0) return null;
  const sums = Array.from({ length: bins }, () => ({ count: 0, confidence: 0, correct: 0 }));
  for (const item of items) {
    const index = Math.min(bins - 1, Math.max(0, Math.floor(((item.confidence - 0.5) / 0.5) * bins)));
    const bin = sums[index]!;
    bin.count++;
    bin.confidence += item.confidence;
    bin.correct += item.correct;
  }
  return sums.reduce((total, bin) => (bin.count === 0 ? total : total + (bin.count / items.length) * Math.abs(bin.correct / bin.count - bin.confidence / bin.count)), 0);
}

/** Credit and hard label of a pair labeled from two scores: no orders to average, the verdict is the pair's. */
function scoredCredit(preferred: 'A' | 'B' | 'tie', gold: 'A' | 'B'): number {
  return preferred === 'tie' ? 0.5 : preferred === gold ? 1 : 0;
}

export function auditLabeler(items: AuditItem[], tieMargin = 0, judge: JudgeKind = 'pairwise'): LabelerAudit {
  let judged = 0;
  let labeled = 0;
  let failures = 0;
  let parseFailures = 0;
  let correct = 0;
  let correctForward = 0;
  let ties = 0;
  let orderPairs = 0;
  let samePosition = 0;
  let verdicts = 0; // single-order verdicts (pairwise) or candidate scores (pointwise) with a label source
  let fromVotes = 0;
  let singleVerdicts = 0;
  let positionOneVotes = 0;
  const kappaLabels: Array<[0 | 1, 0 | 1]> = [];
  const calibration: Array<{ confidence: number; correct: number }> = [];
  for (const { gold, result } of items) {
    if (result.kind !== 'ok') {
      failures++;
      if (result.reason === 'unparseable-verdict') parseFailures++;
      continue;
    }
    judged++;
    const tie = result.preferred === 'tie';
    if (tie) ties++;
    if (!('positions' in result) !== (judge !== 'pairwise')) throw new Error(`auditLabeler: a ${'positions' in result ? 'pairwise' : result.judge} judgment in a ${judge} audit`);
    if (!('positions' in result)) {
      for (const score of [result.scores.A, result.scores.B]) {
        if (!('labelSource' in score)) continue; // the rubric judge reads a sampled 'Score: N', never logprobs
        verdicts++;
        if (score.labelSource === 'votes') fromVotes++;
      }
      // Scored separately: agreement and calibration as for pairwise, nothing about positions.
      if (gold === null) continue;
      labeled++;
      const itemCredit = scoredCredit(result.preferred, gold);
      correct += itemCredit;
      if (!tie) kappaLabels.push([result.preferred === 'A' ? 1 : 0, gold === 'A' ? 1 : 0]);
      calibration.push({ confidence: Math.max(result.probability, 1 - result.probability), correct: itemCredit });
      continue;
    }
    if (gold !== null) {
      labeled++;
      const averaged = result.positions.reduce((sum, verdict) => sum + verdict.probabilityA, 0) / result.positions.length;
      const itemCredit = credit(averaged, gold, tie);
      correct += itemCredit;
      const forward = result.positions.reduce((sum, verdict) => sum + verdict.forward.probabilityA, 0) / result.positions.length;
      correctForward += credit(forward, gold, Math.abs(forward - 0.5) <= tieMargin);
      if (!tie) kappaLabels.push([averaged > 0.5 ? 1 : 0, gold === 'A' ? 1 : 0]);
      calibration.push({ confidence: Math.max(result.probability, 1 - result.probability), correct: itemCredit });
    }
    for (const verdict of result.positions) {
      for (const single of [verdict.forward, verdict.reversed]) {
        if (!single) continue;
        singleVerdicts++;
        verdicts++;
        if (single.labelSource === 'votes') fromVotes++;
        if (single.probabilityFirst > 0.5) positionOneVotes++;
      }
      if (!verdict.reversed) continue;
      orderPairs++;
      const forwardFirst = verdict.forward.probabilityFirst;
      const reversedFirst = verdict.reversed.probabilityFirst;
      // The same position won in both presentations: the label followed the position, not the response.
      if ((forwardFirst > 0.5 && reversedFirst > 0.5) || (forwardFirst < 0.5 && reversedFirst < 0.5)) samePosition++;
    }
  }
  const scored = judge !== 'pairwise';
  return {
    judge,
    pairs: items.length,
    judged,
    failureRate: ratio(failures, items.length) ?? 0,
    parseFailureRate: ratio(parseFailures, items.length) ?? 0,
    labeled,
    accuracy: ratio(correct, labeled),
    accuracyInterval: wilsonInterval(correct / Math.max(1, labeled), labeled),
    accuracyForwardOnly: scored ? null : ratio(correctForward, labeled),
    cohenKappa: cohenKappa(kappaLabels),
    samePositionPreferred: ratio(samePosition, orderPairs),
    positionOneRate: ratio(positionOneVotes, singleVerdicts),
    votesLabelRate: ratio(fromVotes, verdicts),
    tieRate: ratio(ties, judged),
    expectedCalibrationError: expectedCalibrationError(calibration),
    reference: leeEtAlReference,
  };
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

/** A plain-text table: our figures beside Lee et al.'s. Position rows of a scored judge read n/a with the reason below. */
export function formatAudit(audit: LabelerAudit): string {
  const scored = audit.judge !== 'pairwise';
  const position = (value: number | null): string => (scored ? 'n/a *' : percent(value));
  const rows: Array<[string, string, string]> = [
    ['pairs (judged, with a gold label)', `${audit.pairs} (${audit.judged}, ${audit.labeled})`, ''],
    [scored ? `alignment / accuracy (${audit.judge} scores)` : 'alignment / accuracy (order-averaged)', percent(audit.accuracy), percent(audit.reference.alignment)],
    ['  95% interval (Wilson)', audit.accuracyInterval ? `${percent(audit.accuracyInterval[0])}-${percent(audit.accuracyInterval[1])}` : 'n/a', ''],
    ['accuracy, one order only', position(audit.accuracyForwardOnly), ''],
    ["Cohen's kappa", audit.cohenKappa === null ? 'n/a' : audit.cohenKappa.toFixed(3), ''],
    ['same position preferred (both orders)', position(audit.samePositionPreferred), percent(audit.reference.samePositionPreferred)],
    ['position 1 chosen (single orders)', position(audit.positionOneRate), ''],
    ['labels from votes (no logprobs)', percent(audit.votesLabelRate), ''],
    ['tie rate', percent(audit.tieRate), ''],
    ['parse-failure rate', percent(audit.parseFailureRate), ''],
    ['failure rate (all typed failures)', percent(audit.failureRate), ''],
    ['expected calibration error', audit.expectedCalibrationError === null ? 'n/a' : audit.expectedCalibrationError.toFixed(3), ''],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  const table = [`${'metric'.padEnd(width)}  ${'ours'.padEnd(12)}  ${audit.reference.source}`, ...rows.map(([name, ours, theirs]) => `${name.padEnd(width)}  ${ours.padEnd(12)}  ${theirs}`)];
  if (scored) table.push('', `* not applicable: the ${audit.judge} judge scores each response alone, never beside the other, so no response is shown in a position to prefer.`);
  return table.join('\n');
}
