// Helpers for tests that compare a backend's kernels with the js reference: seeded random buffers, NaN-poisoned
// outputs, and an elementwise closeness check that names the first element out of tolerance.
import assert from 'node:assert/strict';
import { Rng } from '../random.ts';

/** Seeded uniforms in [-1, 1). */
export function uniforms(seed: number): () => number {
  const rng = new Rng(seed);
  return () => rng.uniform() * 2 - 1;
}

/** A buffer of n uniforms in [-scale, scale) drawn from `next`. */
export function randomBuffer(next: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => next() * scale);
}

/** An output buffer filled with NaN, so an element a kernel leaves unwritten fails the comparison. */
export function poisoned(n: number): Float32Array {
  return new Float32Array(n).fill(NaN);
}

/**
 * |got - want| <= abs + rel |want| everywhere, or assert.fail naming the label and first bad index. A NaN in got
 * fails unless `nanMatches` (for buffers where both sides legitimately keep NaN, e.g. untouched poisoned inputs).
 */
export function assertClose(label: string, got: ArrayLike<number>, want: ArrayLike<number>, rel = 1e-5, abs = 1e-5,
  nanMatches = false): void {
  assert.equal(got.length, want.length, `${label}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (g === w || (nanMatches && Number.isNaN(g) && Number.isNaN(w))) continue;
    if (!(Math.abs(g - w) <= abs + rel * Math.abs(w))) assert.fail(`${label}[${i}]: got ${g}, want ${w}`);
  }
}
