// Finite-difference gradient checking for ops: compares the tape's gradients with central differences.
// The scalar probed is L = Σ w_i · out_i with fixed random w, summed in float64 to keep the differences clean.
import { Rng } from '../random.ts';
import { backward, noGrad, type Tensor } from '../tensor.ts';

export interface GradcheckOptions {
  eps?: number;          // finite-difference step (default 1e-2: inputs are float32)
  rtol?: number;         // relative tolerance (default 2e-2)
  atol?: number;         // absolute tolerance (default 2e-3)
  maxElements?: number;  // probe at most this many elements per input (default 40, chosen at random)
  seed?: number;
}

export interface GradcheckFailure { input: number; element: number; analytic: number; numeric: number }

/** Returns the mismatches (empty when the gradients agree). inputs must be leaves with requiresGrad. */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckFailure[] {
  const eps = options.eps ?? 1e-2, rtol = options.rtol ?? 2e-2, atol = options.atol ?? 2e-3;
  const rng = new Rng(options.seed ?? 7);
  for (const x of inputs) { x.grad = null; }
  const out = fn(...inputs);
  const weights = new Float64Array(out.size).map(() => rng.normal());
  backward(out, { gradient: Float32Array.from(weights), checkFinite: false });
  const probe = (): number => noGrad(() => {
    const o = fn(...inputs);
    let s = 0;
    for (let i = 0; i < o.size; i++) s += weights[i] * o.data[i];
    return s;
  });
  const failures: GradcheckFailure[] = [];
  inputs.forEach((x, input) => {
    if (!x.requiresGrad) return;
    const count = Math.min(x.size, options.maxElements ?? 40);
    const picks = x.size <= count ? [...Array(x.size).keys()] : rng.shuffle([...Array(x.size).keys()]).slice(0, count);
    for (const element of picks) {
      const saved = x.data[element];
      x.data[element] = saved + eps;
      const plus = probe();
      x.data[element] = saved - eps;
      const minus = probe();
      x.data[element] = saved;
      const numeric = (plus - minus) / (2 * eps);
      const analytic = x.grad ? x.grad[element] : 0;
      if (!(Math.abs(analytic - numeric) <= atol + rtol * Math.max(Math.abs(analytic), Math.abs(numeric)))) {
        failures.push({ input, element, analytic, numeric });
      }
    }
  });
  return failures;
}
