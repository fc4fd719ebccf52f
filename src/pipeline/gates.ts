// Gates and reward-hacking monitors of `rlaif run`: small pure functions of a round's validation metrics (labeler win
// rates, anchor agreement, KL, length, entropy, refusals) against the last kept round's and the SFT policy's. They
// never see gold: their input type has no gold field, and the round passes them evaluation records only.
// Leaves out statistical tests on the win rate (the validation set is small; thresholds are config).
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

export const MONITORS: Monitor[] = [proxyUpAnchorDown, lengthDrift, klBudget, entropyCollapse, entropyRise, refusalCreep, refusalCollapse];

export interface GateDecision { keep: boolean; reasons: string[] }

/** Keep the candidate only if the labeler prefers it to the last kept policy often enough and no monitor fires. */
export function decideGate(current: ProxyMetrics, kept: ProxyMetrics, sft: ProxyMetrics, gate: GateConfig): GateDecision {
  const reasons: string[] = [];
  if (!(current.winRateVsPrevious >= gate.minWinRateVsPrevious)) {
    reasons.push(`win-rate: labeler prefers the candidate over the last kept policy on ${f(current.winRateVsPrevious)} of validation prompts (< ${gate.minWinRateVsPrevious})`);
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
