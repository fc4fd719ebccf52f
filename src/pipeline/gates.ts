// Gates and reward-hacking monitors of `rlaif run`: small pure functions of a round's validation metrics (labeler win
// rates, anchor agreement, KL, length, entropy, refusals) against the last kept round's and the SFT policy's. They
// never see gold: their input type has no gold field, and the round passes them evaluation records only.
// The win rate is tested, not just compared: with gate.winRateConfidence c > 0 a round is kept only if the Wilson
// lower bound of its win rate at one-sided confidence c reaches gate.minWinRateVsPrevious (Wilson 1927), so a labeler
// at chance keeps few rounds by luck. And the labeler itself is tested first: when, in the labeler check before round
// 1, it agrees with the labeled anchors less than gate.minLabelerAgreement or leans either way on less than
// gate.minLabelerInformative of them, no round is kept (labeler-untrusted).
import type { RunConfig } from './run-config.ts';

/** Proxy metrics of one policy on the validation split (EvaluationRecord.metrics). */
export interface ProxyMetrics {
  winRateVsPrevious: number;  // labeler: candidate over the last kept policy (ties half)
  winRateVsSft: number;       // labeler: candidate over the SFT policy
  anchorAgreement: number;    // share of labeled anchor pairs the policy itself ranks as labeled (NaN: no anchors)
  kl: number;                 // mean KL to the reference per response (nats); NaN behind an endpoint (no reference weights)
  meanLength: number;         // mean response tokens
  entropy: number;            // mean token entropy (behind an endpoint: estimated from sampled log-probs, NaN without them)
  refusalRate: number;        // share of responses matching the refusal patterns
  validationPairs?: number;   // comparisons behind winRateVsPrevious (absent in evaluations recorded before it was)
}

export type GateConfig = RunConfig['gate'];

export interface MonitorFinding { monitor: string; reason: string }

type Monitor = (current: ProxyMetrics, kept: ProxyMetrics, sft: ProxyMetrics, gate: GateConfig) => MonitorFinding | null;

const f = (x: number, digits = 3) => x.toFixed(digits);

/** Proxy rising while the labeled anchors fall: the policy pleases the labeler in ways the labeled data disagrees with. */
export const proxyUpAnchorDown: Monitor = (current, kept, _sft, gate) =>
  Number.isFinite(current.anchorAgreement) && Number.isFinite(kept.anchorAgreement)
    && current.winRateVsSft > kept.winRateVsSft && kept.anchorAgreement - current.anchorAgreement > gate.maxAnchorDrop
    ? { monitor: 'proxy-up-anchor-down', reason: `labeler win rate vs SFT rose ${f(kept.winRateVsSft)} → ${f(current.winRateVsSft)} while anchor agreement fell ${f(kept.anchorAgreement)} → ${f(current.anchorAgreement)} (more than ${gate.maxAnchorDrop})` }
    : null;

export const lengthDrift: Monitor = (current, _kept, sft, gate) => {
  const drift = sft.meanLength > 0 ? current.meanLength / sft.meanLength - 1 : 0;
  return Math.abs(drift) > gate.maxLengthDrift
    ? { monitor: 'length-drift', reason: `mean length ${f(current.meanLength, 1)} tokens is ${(100 * drift).toFixed(1)}% from SFT's ${f(sft.meanLength, 1)} (limit ±${100 * gate.maxLengthDrift}%)` }
    : null;
};

/** A metric not measured (NaN in memory, null once read back from JSON): the monitors that need it stay silent. */
const measured = (...values: number[]) => values.every((v) => Number.isFinite(v));

export const klBudget: Monitor = (current, _kept, _sft, gate) => measured(current.kl) && current.kl > gate.maxKl
  ? { monitor: 'kl-budget', reason: `KL to the reference ${f(current.kl)} nats > budget ${gate.maxKl}` } : null;

export const entropyCollapse: Monitor = (current, _kept, sft, gate) => measured(current.entropy, sft.entropy) && current.entropy < gate.minEntropyRatio * sft.entropy
  ? { monitor: 'entropy-collapse', reason: `token entropy ${f(current.entropy)} < ${gate.minEntropyRatio} × SFT's ${f(sft.entropy)}` } : null;

// Entropy rising well above the SFT policy's: updates that mostly follow the labeler's noise spread the policy out (it
// grows less sure of every token) instead of sharpening it. On the testbed, no stored RL round whose token entropy
// rose past 1.25 × SFT's was better than SFT by gold (scripts/entropy-vs-gold.ts, BENCHMARKS.md).
export const entropyRise: Monitor = (current, _kept, sft, gate) => measured(current.entropy, sft.entropy) && gate.maxEntropyRatio > 0
  && current.entropy > gate.maxEntropyRatio * sft.entropy
  ? { monitor: 'entropy-rise', reason: `token entropy ${f(current.entropy)} > ${gate.maxEntropyRatio} × SFT's ${f(sft.entropy)}` } : null;

export const refusalCreep: Monitor = (current, _kept, sft, gate) => current.refusalRate - sft.refusalRate > gate.maxRefusalIncrease
  ? { monitor: 'refusal-creep', reason: `refusal rate ${f(current.refusalRate)} is more than ${gate.maxRefusalIncrease} above SFT's ${f(sft.refusalRate)}` } : null;

/** Refusals collapsing: a policy that stops refusing (a labeler that rewards compliance) drops below a share of SFT's rate. */
export const refusalCollapse: Monitor = (current, _kept, sft, gate) => sft.refusalRate > 0 && current.refusalRate < gate.minRefusalRatio * sft.refusalRate
  ? { monitor: 'refusal-collapse', reason: `refusal rate ${f(current.refusalRate)} < ${gate.minRefusalRatio} × SFT's ${f(sft.refusalRate)}` } : null;

/** The per-application win rates over the last kept policy an evaluation carries (flat keys
 * `winRateVsPrevious.<application>` and `validationPairs.<application>`, so they survive the run store's JSON). */
export function applicationWinRates(metrics: ProxyMetrics): { application: string; rate: number; pairs: number }[] {
  const flat = metrics as unknown as Record<string, number>, prefix = 'winRateVsPrevious.';
  return Object.keys(flat).filter((key) => key.startsWith(prefix)).sort().map((key) => {
    const application = key.slice(prefix.length);
    return { application, rate: flat[key]!, pairs: flat[`validationPairs.${application}`] ?? Number.NaN };
  });
}

/** One application getting worse while the others carry the overall win rate (a round that trades coherence for
 * refusals, say): the labeler is confident, at one-sided gate.applicationRegressionConfidence, that the candidate loses
 * to the last kept policy on that application's validation prompts (the upper Wilson bound of its win rate is below ½). */
export const applicationRegression: Monitor = (current, _kept, _sft, gate) => {
  if (!(gate.applicationRegressionConfidence > 0)) return null;
  const worse = applicationWinRates(current).filter(({ rate, pairs }) => pairs > 0 && 1 - wilsonLowerBound(1 - rate, pairs, gate.applicationRegressionConfidence) < 0.5);
  return worse.length === 0 ? null : { monitor: 'application-regression', reason: worse.map(({ application, rate, pairs }) =>
    `the labeler prefers the last kept policy on ${application} (candidate's win rate ${f(rate)} of ${pairs} validation prompts, below ½ at ${gate.applicationRegressionConfidence} confidence)`).join('; ') };
};

export const MONITORS: Monitor[] = [proxyUpAnchorDown, lengthDrift, klBudget, entropyCollapse, entropyRise, refusalCreep, refusalCollapse, applicationRegression];

export interface GateDecision { keep: boolean; reasons: string[] }

/** The labeler check's result the gate reads (labeler-check.ts): agreement with the labeled anchors before round 1,
 * and the share of its judgments that lean at least 0.05 either way. */
export interface LabelerTrust { agreement: number; informative: number; judged: number; pairs: number }

/** Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9), for 0 < p < 1. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return (((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q
    / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Lower end of the Wilson score interval of a rate observed over n trials, at one-sided confidence `confidence`. */
export function wilsonLowerBound(rate: number, n: number, confidence: number): number {
  if (!(n > 0)) return Number.NaN;
  const z = normalQuantile(confidence), z2 = z * z;
  return (rate + z2 / (2 * n) - z * Math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/**
 * Keep the candidate only if the labeler prefers it to the last kept policy often enough and no monitor fires. With
 * gate.winRateConfidence > 0 and the number of comparisons known, "often enough" is the Wilson lower bound of the
 * win rate reaching gate.minWinRateVsPrevious; otherwise the observed win rate itself.
 */
export function decideGate(current: ProxyMetrics, kept: ProxyMetrics, sft: ProxyMetrics, gate: GateConfig, labeler: LabelerTrust | null = null): GateDecision {
  const reasons: string[] = [];
  if (labeler && (gate.minLabelerAgreement > 0 || gate.minLabelerInformative > 0)) {
    const weak: string[] = [];
    if (labeler.judged > 0 && labeler.agreement < gate.minLabelerAgreement) weak.push(`preferred the labeled answer on ${f(labeler.agreement)} of ${labeler.judged} anchor pairs before round 1 (< gate.minLabelerAgreement ${gate.minLabelerAgreement}; chance is 0.5)`);
    if (labeler.judged > 0 && labeler.informative < gate.minLabelerInformative) weak.push(`leaned at least 0.05 either way on only ${f(labeler.informative)} of them (< gate.minLabelerInformative ${gate.minLabelerInformative})`);
    if (labeler.judged === 0) reasons.push(`labeler-untrusted: the labeler answered none of the ${labeler.pairs} anchor pairs of its check, so its win rates cannot be trusted`);
    else if (weak.length > 0) reasons.push(`labeler-untrusted: the labeler ${weak.join(' and ')}, so its win rates cannot tell a better round from a worse one`);
  }
  const n = current.validationPairs ?? Number.NaN;
  const tested = gate.winRateConfidence > 0 && Number.isFinite(n) && n > 0;
  const bound = tested ? wilsonLowerBound(current.winRateVsPrevious, n, gate.winRateConfidence) : current.winRateVsPrevious;
  if (!(bound >= gate.minWinRateVsPrevious)) {
    reasons.push(tested
      ? `win-rate: labeler prefers the candidate over the last kept policy on ${f(current.winRateVsPrevious)} of ${n} validation prompts; at ${gate.winRateConfidence} confidence the rate is only known to be above ${f(bound)} (< ${gate.minWinRateVsPrevious})`
      : `win-rate: labeler prefers the candidate over the last kept policy on ${f(current.winRateVsPrevious)} of validation prompts (< ${gate.minWinRateVsPrevious})`);
  }
  for (const monitor of MONITORS) {
    const finding = monitor(current, kept, sft, gate);
    if (finding) reasons.push(`${finding.monitor}: ${finding.reason}`);
  }
  return { keep: reasons.length === 0, reasons };
}

export interface RoundOutcome { round: number; keep: boolean; winRateVsPrevious: number; ms: number }

/** Why the loop stops before `round` (null: go on). */
export function stopReason(history: RoundOutcome[], nextRound: number, config: Pick<RunConfig, 'rounds' | 'stop'>): string | null {
  if (nextRound > config.rounds) return `budget: ${config.rounds} rounds done`;
  const elapsed = history.reduce((a, h) => a + h.ms, 0) / 1000;
  if (elapsed > config.stop.maxSeconds) return `budget: ${elapsed.toFixed(0)} s spent (limit ${config.stop.maxSeconds} s)`;
  let rollbacks = 0;
  for (let i = history.length - 1; i >= 0 && !history[i]!.keep; i--) rollbacks++;
  if (rollbacks >= config.stop.maxRollbacks) return `rollbacks: the last ${rollbacks} rounds were rolled back`;
  const kept = history.filter((h) => h.keep && h.round > 0).slice(-config.stop.convergenceRounds);
  if (kept.length === config.stop.convergenceRounds && kept.every((h) => h.winRateVsPrevious - 0.5 < config.stop.minGain)) {
    return `converged: the last ${kept.length} kept rounds beat their predecessor by less than ${config.stop.minGain}`;
  }
  return null;
}
