// Optimizers: AdamW (decoupled weight decay, Loshchilov & Hutter arXiv 1711.05101) and SGD with momentum and weight
// decay; global-norm gradient clipping; warmup + cosine learning-rate schedule; state that saves and restores.
// Gradient accumulation: call backward() on k micro-batches, then step({ gradScale: 1 / k }).
import { EngineError } from './backend.ts';
import { getBackend } from './backends/index.ts';
import { shapeString, type Tensor } from './tensor.ts';

export interface ParamGroup {
  params: Tensor[];
  weightDecay?: number; // overrides the optimizer's default for this group (e.g. 0 for norms and biases)
}

export interface StepOptions {
  gradScale?: number;   // multiplies every gradient (1/k for k accumulated micro-batches)
  maxGradNorm?: number; // clip the global norm (after gradScale) to this; Infinity or undefined = no clipping
}

export interface StepResult {
  gradNorm: number;     // global L2 norm of the scaled gradients, before clipping
  clipScale: number;    // factor applied by clipping (1 when not clipped)
}

export interface OptimizerState {
  kind: string;
  step: number;
  lr: number;
  buffers: Record<string, Float32Array>; // named per-parameter state (moments), keyed `${slot}.${index}`
}

/** Global L2 norm of the gradients of params (times scale); NaN/Inf is an error naming the parameter. */
export function globalGradNorm(params: readonly Tensor[], scale = 1): number {
  const backend = getBackend();
  let total = 0;
  params.forEach((p, i) => {
    if (!p.grad) return;
    const s = backend.sumSquares(p.grad, p.size);
    if (!Number.isFinite(s)) {
      const at = backend.firstNonFinite(p.grad, p.size);
      throw new EngineError('optimizer', `gradient of parameter ${p.name ?? i} ${shapeString(p.shape)} is ${p.grad[at]} at element ${at}`);
    }
    total += s;
  });
  return Math.sqrt(total) * Math.abs(scale);
}

/** Scales gradients in place so their global norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  const norm = globalGradNorm(params);
  if (norm > maxNorm) {
    const s = maxNorm / (norm + 1e-6);
    for (const p of params) if (p.grad) for (let i = 0; i < p.size; i++) p.grad[i] *= s;
  }
  return norm;
}

abstract class Optimizer {
  readonly groups: Required<ParamGroup>[];
  stepCount = 0;

  constructor(params: Tensor[] | ParamGroup[], public lr: number, defaultDecay: number) {
    const groups: ParamGroup[] = params.length > 0 && !('params' in params[0]) ? [{ params: params as Tensor[] }] : params as ParamGroup[];
    this.groups = groups.map((g) => ({ params: g.params, weightDecay: g.weightDecay ?? defaultDecay }));
    if (!(lr >= 0)) throw new EngineError('optimizer', `learning rate must be >= 0, got ${lr}`);
  }

  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  /** Applies one update from the accumulated gradients. */
  step(options: StepOptions = {}): StepResult {
    const gradScale = options.gradScale ?? 1;
    const gradNorm = globalGradNorm(this.params, gradScale);
    const maxNorm = options.maxGradNorm ?? Infinity;
    const clipScale = gradNorm > maxNorm ? maxNorm / (gradNorm + 1e-6) : 1;
    this.stepCount++;
    this.update(gradScale * clipScale);
    return { gradNorm, clipScale };
  }

  protected abstract update(gradScale: number): void;
  abstract state(): OptimizerState;
  abstract loadState(state: OptimizerState): void;

  protected checkState(state: OptimizerState, kind: string, slots: string[]): void {
    if (state.kind !== kind) throw new EngineError('optimizer', `state is for ${state.kind}, not ${kind}`);
    this.params.forEach((p, i) => {
      for (const slot of slots) {
        const buffer = state.buffers[`${slot}.${i}`];
        if (!buffer || buffer.length !== p.size) {
          throw new EngineError('optimizer', `state ${slot}.${i} has ${buffer?.length ?? 'no'} elements, parameter ${p.name ?? i} has ${p.size}`);
        }
      }
    });
  }
}

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  private m: Float32Array[];
  private v: Float32Array[];

  constructor(params: Tensor[] | ParamGroup[], options: AdamWOptions = {}) {
    super(params, options.lr ?? 1e-3, options.weightDecay ?? 0.01);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.m = this.params.map((p) => new Float32Array(p.size));
    this.v = this.params.map((p) => new Float32Array(p.size));
  }

  protected update(gradScale: number): void {
    const backend = getBackend();
    const bc1 = 1 - this.beta1 ** this.stepCount, bc2 = 1 - this.beta2 ** this.stepCount;
    let i = 0;
    for (const group of this.groups) {
      for (const p of group.params) {
        if (p.grad) {
          backend.adamw(p.data, p.grad, this.m[i], this.v[i], p.size, this.lr, this.beta1, this.beta2, this.eps,
            group.weightDecay, bc1, bc2, gradScale);
        }
        i++;
      }
    }
  }

  state(): OptimizerState {
    const buffers: Record<string, Float32Array> = {};
    this.m.forEach((b, i) => { buffers[`m.${i}`] = b.slice(); });
    this.v.forEach((b, i) => { buffers[`v.${i}`] = b.slice(); });
    return { kind: 'adamw', step: this.stepCount, lr: this.lr, buffers };
  }

  loadState(state: OptimizerState): void {
    this.checkState(state, 'adamw', ['m', 'v']);
    this.m.forEach((b, i) => b.set(state.buffers[`m.${i}`]));
    this.v.forEach((b, i) => b.set(state.buffers[`v.${i}`]));
    this.stepCount = state.step;
    this.lr = state.lr;
  }
}

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  weightDecay?: number; // L2 added to the gradient, as torch.optim.SGD
}

export class SGD extends Optimizer {
  readonly momentum: number;
  private velocity: Float32Array[];

  constructor(params: Tensor[] | ParamGroup[], options: SGDOptions = {}) {
    super(params, options.lr ?? 1e-2, options.weightDecay ?? 0);
    this.momentum = options.momentum ?? 0;
    this.velocity = this.params.map((p) => new Float32Array(p.size));
  }

  protected update(gradScale: number): void {
    let i = 0;
    for (const group of this.groups) {
      for (const p of group.params) {
        const g = p.grad, vel = this.velocity[i++];
        if (!g) continue;
        for (let j = 0; j < p.size; j++) {
          const d = g[j] * gradScale + group.weightDecay * p.data[j];
          vel[j] = this.momentum * vel[j] + d;
          p.data[j] -= this.lr * (this.momentum > 0 ? vel[j] : d);
        }
      }
    }
  }

  state(): OptimizerState {
    const buffers: Record<string, Float32Array> = {};
    this.velocity.forEach((b, i) => { buffers[`velocity.${i}`] = b.slice(); });
    return { kind: 'sgd', step: this.stepCount, lr: this.lr, buffers };
  }

  loadState(state: OptimizerState): void {
    this.checkState(state, 'sgd', ['velocity']);
    this.velocity.forEach((b, i) => b.set(state.buffers[`velocity.${i}`]));
    this.stepCount = state.step;
    this.lr = state.lr;
  }
}

export interface ScheduleOptions {
  maxLr: number;
  minLr?: number;       // floor reached at totalSteps (default maxLr / 10)
  warmupSteps: number;  // linear warmup from 0 over these steps
  totalSteps: number;
}

/** Learning rate at a (0-based) step: linear warmup, then cosine decay to minLr, then minLr. */
export function warmupCosine(options: ScheduleOptions, step: number): number {
  const { maxLr, warmupSteps, totalSteps } = options;
  const minLr = options.minLr ?? maxLr / 10;
  if (step < warmupSteps) return maxLr * (step + 1) / warmupSteps;
  if (step >= totalSteps) return minLr;
  const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
  return minLr + 0.5 * (maxLr - minLr) * (1 + Math.cos(Math.PI * progress));
}
