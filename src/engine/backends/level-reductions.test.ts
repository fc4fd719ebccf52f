// The native kernels' row reductions (layer and RMS norm, softmax, log-softmax, the plain bf16 GEMV) add their
// LANES lanes in one order on every CPU level (level_ops.c: lane l of a LANES-wide vector is lane l % NL of part
// l / NL of the level's native vectors), so the levels agree bit for bit wherever their arithmetic is the same: sums of
// adds alone (layer norm's means, log-softmax) on every level, and everything below on the two FMA levels. Guards the
// lane layout, which no tolerance against the js reference can see (any lane order is as accurate as another).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { f32ToBf16 } from '../bf16.ts';
import { createNativeBackend, nativeCpuLevels } from './native-backend.ts';

const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (1 + (i % 7)));
const shapes: [number, number][] = [[3, 16], [5, 128], [2, 1024], [4, 80], [6, 48]];   // rows x columns, whole LANES steps

type Native = ReturnType<typeof createNativeBackend>;
/** Each case's outputs: [name, values] pairs; `fmaOnly` ones compared between FMA levels only. */
const cases: { name: string; fmaOnly: boolean; run: (backend: Native, R: number, C: number) => Float32Array }[] = [
  { name: 'layerNorm mean', fmaOnly: false, run: (b, R, C) => { const m = new Float32Array(R); b.layerNorm(wave(R * C, 1), wave(C, 2), wave(C, 3), new Float32Array(R * C), m, new Float32Array(R), R, C, 1e-5); return m; } },
  { name: 'logSoftmax', fmaOnly: false, run: (b, R, C) => { const y = new Float32Array(R * C); b.logSoftmax(wave(R * C, 1), y, R, C); return y; } },
  { name: 'layerNorm', fmaOnly: true, run: (b, R, C) => { const y = new Float32Array(R * C); b.layerNorm(wave(R * C, 1), wave(C, 2), wave(C, 3), y, new Float32Array(R), new Float32Array(R), R, C, 1e-5); return y; } },
  { name: 'layerNorm rstd', fmaOnly: true, run: (b, R, C) => { const r = new Float32Array(R); b.layerNorm(wave(R * C, 1), wave(C, 2), wave(C, 3), new Float32Array(R * C), new Float32Array(R), r, R, C, 1e-5); return r; } },
  { name: 'rmsNorm', fmaOnly: true, run: (b, R, C) => { const y = new Float32Array(R * C); b.rmsNorm(wave(R * C, 1), wave(C, 2), y, new Float32Array(R), R, C, 1e-5); return y; } },
  { name: 'softmax', fmaOnly: true, run: (b, R, C) => { const y = new Float32Array(R * C); b.softmax(wave(R * C, 1), y, R, C); return y; } },
  { name: 'bf16 GEMV (plain)', fmaOnly: true, run: (b, R, C) => { const c = new Float32Array(R * 40); b.gemmBf16(wave(R * C, 1), f32ToBf16(wave(40 * C, 2)), c, R, 40, C); return c; } },
];

function differing(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let n = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
  return n;
}

describe('native row reductions: one lane order on every CPU level', () => {
  let levels: ReturnType<typeof nativeCpuLevels> = [];
  try { levels = nativeCpuLevels(); } catch { /* no addon: skipped below */ }
  const fmaLevels = levels.filter((level) => level !== 'generic');
  for (const { name, fmaOnly, run } of cases) {
    it(`${name}: ${fmaOnly ? 'the FMA levels agree' : 'every level agrees'} bit for bit`, (t) => {
      const compared = fmaOnly ? fmaLevels : levels;
      if (compared.length < 2) { t.skip(`levels here: ${levels.join(', ') || 'none (no native addon)'}`); return; }
      const backends = compared.map((level) => createNativeBackend(level, { nativeBf16: false }));
      for (const [R, C] of shapes) {
        const first = run(backends[0]!, R, C);
        backends.slice(1).forEach((backend, i) => {
          assert.equal(differing(first, run(backend, R, C)), 0, `${name} ${R}x${C}: ${compared[0]} and ${compared[i + 1]} differ`);
        });
      }
    });
  }
});
