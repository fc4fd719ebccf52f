// Confidence intervals for the report's gold figures: the percentile bootstrap (Efron & Tibshirani 1993, ch. 13) of a
// mean over units — test prompts — resampled with replacement, so a prompt's several samples move together (the
// samples of one prompt are not independent) and ties counted as half need no special case. Deterministic: the
// resampling seed comes from deriveSeed. Leaves out the BCa correction (Efron 1987); the test checks the percentile
// interval's coverage (about 95% at 60 prompts).
import { deriveSeed, Rng } from '../engine/random.ts';

export interface BootstrapOptions {
  seed: number;         // the run's seed; each figure derives its own stream from `label`
  label: string;        // the figure's name, so two figures never share a resampling stream
  resamples?: number;   // default 2000
  confidence?: number;  // two-sided, default 0.95
}

/** The mean of `values` (one per unit) and its percentile bootstrap interval; null interval for no units. */
export function bootstrapMean(values: readonly number[], options: BootstrapOptions): { mean: number; interval: [number, number] | null } {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, interval: null };
  const mean = values.reduce((a, x) => a + x, 0) / n;
  const resamples = options.resamples ?? 2000, confidence = options.confidence ?? 0.95;
  if (!(resamples >= 1) || !(confidence > 0 && confidence < 1)) throw new Error(`bootstrapMean: resamples ${resamples} must be ≥ 1 and confidence ${confidence} in (0, 1)`);
  const rng = new Rng(deriveSeed(options.seed, `bootstrap|${options.label}`));
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[rng.int(n)]!;
    means[r] = sum / n;
  }
  means.sort();
  const tail = (1 - confidence) / 2;
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))]!;
  return { mean, interval: [at(tail), at(1 - tail)] };
}
