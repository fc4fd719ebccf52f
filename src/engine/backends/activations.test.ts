// GELU and SiLU with their backward on every native CPU level: the vector body (two vectors a step, level_ops.c) and
// the scalar tail give an element the same bits wherever it sits in the array, and both stay within 1e-5 of the js
// reference, edges included (±inf, NaN, ±1e30, past the exp's clamps at -87.3 and 88.6, -0). The vector exp there
// drops two of the scalar exp's selects; this is what shows it changed no result. The wasm kernels: within 1e-5 of
// js on the same inputs (their sigmoid of -inf was a tiny positive number, so GELU and SiLU of -inf were -inf, not
// NaN, and GELU's gradient was NaN past |x| ~1.8e19, as native's was).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsBackend } from './js-backend.ts';
import { createNativeBackend, nativeCpuLevels } from './native-backend.ts';
import { createWasmBackend } from './wasm-backend.ts';

const EDGES = [NaN, Infinity, -Infinity, 1e30, -1e30, 0, -0, 44, -44, 43.5, -43.5, 88.5, -88.5, 87.4, -87.4, 10.6, -10.6, 10.4, -10.4, 100, -100, 3e-39, -3e-39];

/** edge values, then a sweep over [-30, 30), then arbitrary bit patterns (every third element) */
function inputs(n: number): Float32Array {
  const x = new Float32Array(n), bits = new Uint32Array(x.buffer);
  let s = 7;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (i < EDGES.length) x[i] = EDGES[i];
    else if (i % 3 === 0) bits[i] = s;
    else x[i] = (i / n) * 60 - 30 + (s / 2 ** 32 - 0.5) / 8;
  }
  return x;
}

const sameBits = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);
/** got[i] is want[i] (the js reference) or within 1e-5 of it, relative past 1 */
function closeToJs(label: string, x: Float32Array, got: Float32Array, want: Float32Array, i: number): void {
  const tol = 1e-5 * Math.max(1, Math.abs(want[i]));
  assert.ok(sameBits(got[i], want[i]) || Math.abs(got[i] - want[i]) <= tol, `${label}: x = ${x[i]} at ${i}: ${got[i]}, js ${want[i]}`);
}

type Native = ReturnType<typeof createNativeBackend>;
/** One op over x (n elements); the backward's dy and dx at element i are functions of at + i, so element i of a long
 * call and the same element alone (x.subarray(i, i + 1), at = i) see the same operands. */
type Run = (b: Native | JsBackend | ReturnType<typeof createWasmBackend>, x: Float32Array, n: number, at?: number) => Float32Array;
const grad = (name: 'geluBackward' | 'siluBackward', accumulate: boolean): Run => (b, x, n, at = 0) => {
  const dy = Float32Array.from({ length: n }, (_, i) => Math.sin(at + i) * 2), dx = Float32Array.from({ length: n }, (_, i) => Math.cos(at + i));
  b[name](x, dy, dx, n, accumulate);
  return dx;
};
const ops: [string, Run][] = [
  ['gelu', (b, x, n) => { const y = new Float32Array(n); b.gelu(x, y, n); return y; }],
  ['silu', (b, x, n) => { const y = new Float32Array(n); b.silu(x, y, n); return y; }],
  ['geluBackward', grad('geluBackward', true)], ['geluBackward overwrite', grad('geluBackward', false)],
  ['siluBackward', grad('siluBackward', true)], ['siluBackward overwrite', grad('siluBackward', false)],
];

describe('wasm GELU and SiLU', () => {
  const js = new JsBackend(), wasm = createWasmBackend(), n = 4099;
  for (const [name, run] of ops) {
    it(`${name}: within 1e-5 of js, edges included`, () => {
      const x = inputs(n), want = run(js, x, n), got = run(wasm, x, n);
      for (let i = 0; i < n; i++) closeToJs(`wasm ${name}`, x, got, want, i);
    });
  }
});

describe('native GELU and SiLU on every CPU level', () => {
  let levels: ReturnType<typeof nativeCpuLevels> = [];
  try { levels = nativeCpuLevels(); } catch { /* no addon: skipped below */ }
  const js = new JsBackend();
  const n = 4099; // two-vector steps at every width (32, 16 or 8 elements), then a tail of 3
  for (const [name, run] of ops) {
    it(`${name}: each element's bits do not depend on its place (vector body or scalar tail), and match js within 1e-5`, (t) => {
      if (levels.length === 0) { t.skip('no native addon'); return; }
      const x = inputs(n), want = run(js, x, n);
      for (const level of levels) {
        const native = createNativeBackend(level), got = run(native, x, n);
        for (let i = 0; i < n; i++) { // the same element alone: through the scalar tail
          const one = run(native, x.subarray(i, i + 1), 1, i)[0];
          assert.ok(sameBits(got[i], one), `${level} ${name}: x = ${x[i]} at ${i} gave ${got[i]} in the array, ${one} alone`);
          closeToJs(`${level} ${name}`, x, got, want, i);
        }
      }
    });
  }
});
