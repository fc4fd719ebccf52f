// KL coefficient control for the per-token KL penalty: fixed, or adaptive toward a target KL (Ziegler et al. 2019,
// arXiv 1909.08593 §2.2): e = clip(KL/KL_target − 1, −0.2, 0.2);  β ← β·(1 + K_β·e), K_β = nSteps / horizon.
// Leaves out: PID variants. State is plain numbers so checkpoints can save it.

export interface KlControllerState {
  kind: 'fixed' | 'adaptive';
  value: number;        // current β
}

export interface KlController {
  readonly value: number;
  /** Called once per step with the measured KL (per sequence) and the samples the step consumed. */
  update(currentKl: number, steps: number): void;
  state(): KlControllerState;
  loadState(state: KlControllerState): void;
}

export class FixedKlController implements KlController {
  constructor(public value: number) {}
  update(): void {}
  state(): KlControllerState { return { kind: 'fixed', value: this.value }; }
  loadState(state: KlControllerState): void { this.value = state.value; }
}

export class AdaptiveKlController implements KlController {
  constructor(public value: number, readonly target: number, readonly horizon: number) {
    if (!(target > 0)) throw new Error(`adaptive KL: target must be > 0, got ${target}`);
    if (!(horizon > 0)) throw new Error(`adaptive KL: horizon must be > 0, got ${horizon}`);
  }

  update(currentKl: number, steps: number): void {
    if (!Number.isFinite(currentKl)) return;
    const error = Math.max(-0.2, Math.min(0.2, currentKl / this.target - 1));
    this.value *= 1 + (error * steps) / this.horizon;
  }

  state(): KlControllerState { return { kind: 'adaptive', value: this.value }; }
  loadState(state: KlControllerState): void { this.value = state.value; }
}

export interface KlControlOptions {
  kind: 'fixed' | 'adaptive';
  initial: number;      // β at step 0
  target?: number;      // adaptive: target KL per sequence
  horizon?: number;     // adaptive: samples over which an error is corrected (Ziegler: 10000)
}

export function makeKlController(options: KlControlOptions): KlController {
  if (options.kind === 'fixed') return new FixedKlController(options.initial);
  return new AdaptiveKlController(options.initial, options.target ?? 6, options.horizon ?? 10000);
}
