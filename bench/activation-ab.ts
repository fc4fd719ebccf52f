// GELU and SiLU with their backward (accumulating and not) on two builds of the native addon in one process: this
// checkout's and another checkout's (its own build/Release), at every CPU level this machine runs. Prints, per level,
// how many elements differ bit for bit between the builds (NaN against NaN counted equal), apart from those where the
// other build gave NaN for a finite |x| > 1e4 (the GELU gradient's overflow, mended in f968976), and each kernel's
// median time ratio (this / other) over interleaved rounds on 1024 × 512 elements (the tiny GPT's MLP activations).
// Inputs: edge values (±inf, NaN, ±1e30, the exp's clamp points), a sweep over [-30, 30) and arbitrary bit patterns.
// Run: node --import tsx bench/activation-ab.ts <other checkout root> [rounds 5]   (e.g. a `git worktree` of the parent)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createNativeBackend, nativeCpuLevels } from '../src/engine/backends/native-backend.ts';

const other = process.argv[2], rounds = Number(process.argv[3] ?? 5);
if (!other || !existsSync(join(other, 'build', 'Release', 'rlaif_native.node'))) throw new Error(`activation-ab: give the other checkout's root (with build/Release/rlaif_native.node), got ${other}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`activation-ab: rounds must be a positive integer, got ${process.argv[3]}`);
const module = await import(pathToFileURL(resolve(other, 'src/engine/backends/native-backend.ts')).href) as { createNativeBackend: typeof createNativeBackend };

const n = 1 << 20;
const x = new Float32Array(n), dy = new Float32Array(n), dx0 = new Float32Array(n), bits = new Uint32Array(x.buffer);
let seed = 12345;
for (let i = 0; i < n; i++) {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  if (i % 3 === 0) bits[i] = seed; else x[i] = (i / n) * 60 - 30 + (seed / 2 ** 32 - 0.5);
  dy[i] = Math.sin(i); dx0[i] = Math.cos(i);
}
x.set([NaN, Infinity, -Infinity, -1e30, 1e30, -0, 0, 88.5, -88.5, 44, -44, 10.6, -10.6], 0);

type Native = ReturnType<typeof createNativeBackend>;
const backwardOf = { gelu: 'geluBackward', silu: 'siluBackward' } as const;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

for (const level of nativeCpuLevels()) {
  const mine = createNativeBackend(level), theirs = module.createNativeBackend(level);
  let differing = 0, mendedNaN = 0;
  const compare = (a: Float32Array, b: Float32Array, xs: Float32Array) => {
    const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let i = 0; i < a.length; i++) {
      if (ua[i] === ub[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
      if (Number.isNaN(b[i]) && Number.isFinite(xs[i]) && Math.abs(xs[i]) > 1e4) mendedNaN++; else differing++;
    }
  };
  for (const length of [n, 1000003, 37, 5, 1]) {
    const xs = x.subarray(0, length), dys = dy.subarray(0, length);
    for (const op of ['gelu', 'silu'] as const) {
      const a = new Float32Array(length), b = new Float32Array(length);
      mine[op](xs, a, length); theirs[op](xs, b, length); compare(a, b, xs);
      for (const accumulate of [true, false]) {
        const da = dx0.slice(0, length), db = dx0.slice(0, length);
        mine[backwardOf[op]](xs, dys, da, length, accumulate); theirs[backwardOf[op]](xs, dys, db, length, accumulate);
        compare(da, db, xs);
      }
    }
  }
  const m = 1024 * 512, xm = Float32Array.from({ length: m }, (_, i) => (i % 97) / 97 * 8 - 4), y = new Float32Array(m), d = new Float32Array(m), dym = dy.subarray(0, m);
  const timeOf = (run: () => void) => {
    for (let i = 0; i < 5; i++) run();
    const batches: number[] = [];
    for (let k = 0; k < 7; k++) { const t0 = performance.now(); for (let i = 0; i < 20; i++) run(); batches.push((performance.now() - t0) / 20); }
    return median(batches);
  };
  const kernels: [string, (be: Native) => void][] = [
    ['gelu', (be) => be.gelu(xm, y, m)], ['geluBackward', (be) => be.geluBackward(xm, dym, d, m)],
    ['silu', (be) => be.silu(xm, y, m)], ['siluBackward', (be) => be.siluBackward(xm, dym, d, m)],
  ];
  const ratios = kernels.map(([name, run]) => {
    const perRound: number[] = [];
    for (let r = 0; r < rounds; r++) perRound.push(timeOf(() => run(mine)) / timeOf(() => run(theirs)));
    return `${name} ${median(perRound).toFixed(3)} (${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})`;
  });
  console.log(`${level}: elements differing ${differing}${mendedNaN ? ` (besides ${mendedNaN} where the other gave NaN for a finite |x| > 1e4)` : ''}; time this / other: ${ratios.join(', ')}`);
}
