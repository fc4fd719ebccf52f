// Two builds of the native addon in one process, alternating: this checkout's and another checkout's (its own
// build/Release), so a kernel change is measured against its parent side by side, round by round, and this machine's
// drift (tens of percent within a minute) cancels in each round's ratio. Prints, per shape, each build's median GFLOP/s
// and the median and range of the per-round ratios (this / other) for gemm (fp32) and gemmBf16 (bf16 weights); then
// gemm and gemmMixed (fp32 and mixed-precision training) on the reference tiny GPT's product shapes, hot (the same
// operands every call) and cold (operands from 24 copies, past the L3), median µs. Each measurement warms its build up with untimed calls
// first: each addon has its own thread pool, whose workers spin ~200 µs after a job and take the cores meanwhile.
// Then (fewrows) a batched decode step's products of 8-16 rows, gemm and gemmBf16, weights hot or from memory, median µs.
// Then (ops) the row-reduction kernels (norms, softmaxes, log-probs, entropy, decode attention, the plain bf16 GEMV) at every CPU level
// this machine runs, on the tiny GPT's training and decode shapes: median µs each, and whether the two builds' outputs
// are the same bit for bit.
// Run: node --import tsx bench/addon-ab.ts <other checkout root> [rounds] [sections: gemm,training,fewrows,ops; default all]
// (e.g. a `git worktree` at the parent commit)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { f32ToBf16 } from '../src/engine/bf16.ts';
import { type CpuLevel, createNativeBackend, nativeCpuLevels } from '../src/engine/backends/native-backend.ts';

const other = process.argv[2], rounds = Number(process.argv[3] ?? 15);
if (!other || !existsSync(join(other, 'build', 'Release', 'rlaif_native.node'))) throw new Error(`addon-ab: give the other checkout's root (with build/Release/rlaif_native.node), got ${other}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`addon-ab: rounds must be a positive integer, got ${process.argv[3]}`);
const sections = new Set((process.argv[4] ?? 'gemm,training,fewrows,ops').split(','));
for (const name of sections) if (!['gemm', 'training', 'fewrows', 'ops'].includes(name)) throw new Error(`addon-ab: unknown section '${name}' (gemm, training, fewrows, ops)`);
const module = await import(pathToFileURL(resolve(other, 'src/engine/backends/native-backend.ts')).href) as { createNativeBackend: typeof createNativeBackend };
const builds = { this: createNativeBackend(), other: module.createNativeBackend() };
type Backend = ReturnType<typeof createNativeBackend>;
const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1]!;
const shapes: [number, number, number][] = [[1024, 1024, 1024], [128, 3072, 768], [128, 768, 3072], [512, 768, 768], [1024, 128, 512]];
for (const kind of sections.has('gemm') ? ['fp32', 'bf16'] as const : []) {
  for (const [M, N, K] of shapes) {
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
    const w = f32ToBf16(b), c = new Float32Array(M * N);
    const once = (backend: Backend) => kind === 'bf16' ? backend.gemmBf16(a, w, c, M, N, K)
      : backend.gemm({ a, b, c, M, N, K, transA: false, transB: true, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
    const rate = (backend: Backend) => {
      once(backend);
      const rates = Array.from({ length: 7 }, () => { const t0 = performance.now(); once(backend); return (2 * M * N * K) / ((performance.now() - t0) * 1e6); });
      return median(rates);
    };
    const mine: number[] = [], theirs: number[] = [], ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      mine.push(rate(builds.this)); theirs.push(rate(builds.other)); ratios.push(mine.at(-1)! / theirs.at(-1)!);
    }
    console.log(`${kind} ${M}x${N}x${K}`.padEnd(20), `this ${median(mine).toFixed(0)} GFLOP/s, other ${median(theirs).toFixed(0)};`,
      `this/other ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
  }
}

// gemm (fp32) and gemmMixed on the tiny GPT's training products: weight gradients (TN, accumulated), forward (NN:
// GPT-2's (in, out) weights) and input gradients (NT)
const trainingShapes: Array<[string, number, number, number, boolean, boolean, number]> = [
  ['TN 512x128x1024 acc', 512, 128, 1024, true, false, 1], ['TN 128x512x1024 acc', 128, 512, 1024, true, false, 1],
  ['TN 128x384x1024 acc', 128, 384, 1024, true, false, 1], ['TN 128x128x1024 acc', 128, 128, 1024, true, false, 1],
  ['NN 1024x128x512', 1024, 128, 512, false, false, 0], ['NN 1024x512x128', 1024, 512, 128, false, false, 0],
  ['NT 1024x128x512', 1024, 128, 512, false, true, 0], ['NT 1024x512x128', 1024, 512, 128, false, true, 0]];
const copies = 24;
for (const kernel of sections.has('training') ? ['gemm', 'gemmMixed'] as const : []) for (const [label, M, N, K, transA, transB, beta] of trainingShapes) {
  const operands = Array.from({ length: copies }, () => ({ a: Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)),
    b: Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)), c: new Float32Array(M * N) }));
  const cells: string[] = [];
  for (const mode of ['hot', 'cold'] as const) {
    let next = 0;
    const once = (backend: Backend) => {
      const o = operands[mode === 'hot' ? 0 : next++ % copies]!;
      backend[kernel]({ a: o.a, b: o.b, c: o.c, M, N, K, transA, transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
    };
    const micros = (backend: Backend) => {
      once(backend); once(backend);
      return median(Array.from({ length: 9 }, () => { const t0 = performance.now(); once(backend); return (performance.now() - t0) * 1000; }));
    };
    const mine: number[] = [], theirs: number[] = [], ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      theirs.push(micros(builds.other)); mine.push(micros(builds.this)); ratios.push(mine.at(-1)! / theirs.at(-1)!);
    }
    cells.push(`${mode} this ${median(mine).toFixed(0)} µs, other ${median(theirs).toFixed(0)}, this/other ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
  }
  console.log(`${kernel === 'gemm' ? 'fp32' : 'mixed'} ${label}`.padEnd(26), cells.join('; '));
}

// A batched decode step's products of a few rows, weights hot when they fit the L2, else from memory (copies past the
// L3, or one 154 MB head): fp32 A B (the testbed policy's 128 x 512 MLP weight at 7-13 rows), fp32 A Bᵀ (the tied LM
// head: the testbed policy's 16 x 1024 x 128, the 124M's 8 and 16 x 50257 x 768), fp32 A B (the 124M's MLP weights),
// bf16 A Wᵀ (the same on bf16 weights).
type FewRows = { label: string; M: number; N: number; K: number; bytes: number; reps: number; run: (backend: Backend, copy: number) => void; copies: number };
function fewRows(kind: 'fp32 A Bt' | 'fp32 A B' | 'bf16 A Wt', M: number, N: number, K: number, reps: number): FewRows {
  const bytes = N * K * (kind === 'bf16 A Wt' ? 2 : 4), copies = bytes > 4e6 && bytes < 8e7 ? 8 : 1;
  const operands = Array.from({ length: copies }, () => {
    const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: N * K }, (_, i) => Math.cos(i));
    return { a, b, w: kind === 'bf16 A Wt' ? f32ToBf16(b) : new Uint16Array(0), c: new Float32Array(M * N) };
  });
  const run = (backend: Backend, copy: number) => {
    const o = operands[copy % copies]!;
    if (kind === 'bf16 A Wt') backend.gemmBf16(o.a, o.w, o.c, M, N, K);
    else backend.gemm({ a: o.a, b: o.b, c: o.c, M, N, K, transA: false, transB: kind === 'fp32 A Bt', alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
  };
  return { label: `${kind} ${M}x${N}x${K}`, M, N, K, bytes, reps, run, copies };
}
const fewRowsCases = sections.has('fewrows') ? [
  // the testbed policy's 128 x 512 MLP weight at 7-13 rows (serving and judging batches): the last register tile of
  // rows short of a full one
  ...[7, 8, 9, 10, 13].map((M) => fewRows('fp32 A B', M, 512, 128, 301)),
  fewRows('fp32 A Bt', 16, 1024, 128, 41), fewRows('fp32 A Bt', 8, 1024, 128, 41),
  fewRows('fp32 A Bt', 8, 50257, 768, 5), fewRows('fp32 A Bt', 16, 50257, 768, 5), fewRows('fp32 A B', 8, 3072, 768, 15),
  fewRows('fp32 A B', 8, 768, 3072, 15), fewRows('fp32 A B', 16, 3072, 768, 15), fewRows('fp32 A B', 16, 768, 3072, 15),
  fewRows('bf16 A Wt', 8, 50257, 768, 5),
  fewRows('bf16 A Wt', 16, 50257, 768, 5), fewRows('bf16 A Wt', 8, 3072, 768, 15), fewRows('bf16 A Wt', 16, 3072, 768, 15)] : [];
for (const { label, bytes, reps, run, copies } of fewRowsCases) {
  let next = 0;
  const micros = (backend: Backend) => {
    for (let i = 0; i < Math.max(2, copies); i++) run(backend, next++);
    return median(Array.from({ length: reps }, () => { const t0 = performance.now(); run(backend, next++); return (performance.now() - t0) * 1000; }));
  };
  const mine: number[] = [], theirs: number[] = [], ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    theirs.push(micros(builds.other)); mine.push(micros(builds.this)); ratios.push(mine.at(-1)! / theirs.at(-1)!);
  }
  console.log(label.padEnd(26), `this ${median(mine).toFixed(0)} µs, other ${median(theirs).toFixed(0)}, this/other ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); weights at ${(bytes / median(mine) / 1e3).toFixed(1)} GB/s, other ${(bytes / median(theirs) / 1e3).toFixed(1)}`);
}

// The row-reduction kernels at each CPU level, both builds at the same level (the plain bf16 GEMV: the `widen` path,
// what CPUs without AVX512_BF16 run): median µs over the rounds (each a median of 15 calls), and the outputs compared
// bit for bit (inputs made once; accumulating kernels start from the same values in both builds).
const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * (1 + (i % 7)));
type Op = { label: string; make: (backend: Backend) => { run: () => void; outputs: Float32Array[] } };
const ops: Op[] = [
  { label: 'layerNorm 1024x128', make: (be) => { const R = 1024, C = 128, x = wave(R * C, 1), w = wave(C, 2), b = wave(C, 3), y = new Float32Array(R * C), m = new Float32Array(R), r = new Float32Array(R); return { run: () => be.layerNorm(x, w, b, y, m, r, R, C, 1e-5), outputs: [y, m, r] }; } },
  { label: 'layerNorm 16x128', make: (be) => { const R = 16, C = 128, x = wave(R * C, 1), w = wave(C, 2), b = wave(C, 3), y = new Float32Array(R * C), m = new Float32Array(R), r = new Float32Array(R); return { run: () => be.layerNorm(x, w, b, y, m, r, R, C, 1e-5), outputs: [y, m, r] }; } },
  { label: 'layerNormBackward 1024x128', make: (be) => { const R = 1024, C = 128, dy = wave(R * C, 4), x = wave(R * C, 1), w = wave(C, 2), m = wave(R, 5), r = wave(R, 6).map(Math.abs), dx = new Float32Array(R * C), dw = new Float32Array(C), db = new Float32Array(C); return { run: () => { dx.fill(0); dw.fill(0); db.fill(0); be.layerNormBackward(dy, x, w, m, r, dx, dw, db, R, C); }, outputs: [dx, dw, db] }; } },
  { label: 'rmsNormBackward 1024x128', make: (be) => { const R = 1024, C = 128, dy = wave(R * C, 4), x = wave(R * C, 1), w = wave(C, 2), r = wave(R, 6).map(Math.abs), dx = new Float32Array(R * C), dw = new Float32Array(C); return { run: () => { dx.fill(0); dw.fill(0); be.rmsNormBackward(dy, x, w, r, dx, dw, R, C); }, outputs: [dx, dw] }; } },
  { label: 'softmax 16x1024', make: (be) => { const R = 16, C = 1024, x = wave(R * C, 1), y = new Float32Array(R * C); return { run: () => be.softmax(x, y, R, C), outputs: [y] }; } },
  { label: 'logSoftmax 16x1024', make: (be) => { const R = 16, C = 1024, x = wave(R * C, 1), y = new Float32Array(R * C); return { run: () => be.logSoftmax(x, y, R, C), outputs: [y] }; } },
  { label: 'targetLogprobs 1024x96', make: (be) => { const R = 1024, C = 96, x = wave(R * C, 1), t = Int32Array.from({ length: R }, (_, i) => (i * 7) % C), o = new Float32Array(R), l = new Float32Array(R); return { run: () => be.targetLogprobs(x, t, o, l, R, C, -100), outputs: [o, l] }; } },
  { label: 'entropy 16x1024', make: (be) => { const R = 16, C = 1024, x = wave(R * C, 1), o = new Float32Array(R), l = new Float32Array(R); return { run: () => be.entropy(x, o, l, R, C), outputs: [o, l] }; } },
  // decode attention over a KV cache read in place (B rows of left padding and capacity as a batch engine keeps them)
  ...([[16, 4, 32, 1, 72], [16, 4, 32, 1, 21], [8, 12, 64, 1, 128], [4, 4, 32, 4, 60]] as const).map(([B, H, D, T, S]): Op => ({
    label: `attention ${B}x${H}x${D} T${T} S${S}`,
    make: (be) => {
      const L = S + 32, q = wave(B * H * T * D, 1), k = wave(B * H * L * D, 2).map((v) => v * 0.2), v = wave(B * H * L * D, 3), out = new Float32Array(B * H * T * D), probs = new Float32Array(B * H * T * S);
      const keyMask = new Float32Array(B * L);
      for (let b = 0; b < B; b++) keyMask.fill(1, b * L + (b * 5) % 11, b * L + S);   // each row's own left padding, capacity past S
      return { run: () => be.attention(q, k, v, out, probs, { B, H, Hkv: H, T, S, D, causal: true, scale: 1 / Math.sqrt(D), keyMask, keyCapacity: L }), outputs: [out, probs] };
    },
  })),
  { label: 'bf16 widen 8x2304x768', make: (be) => { const M = 8, N = 2304, K = 768, a = wave(M * K, 1), w = f32ToBf16(wave(N * K, 2)), c = new Float32Array(M * N); return { run: () => be.gemmBf16(a, w, c, M, N, K), outputs: [c] }; } },
];
for (const level of sections.has('ops') ? nativeCpuLevels() : [] as CpuLevel[]) {
  const pair = { this: createNativeBackend(level, { nativeBf16: false }), other: module.createNativeBackend(level, { nativeBf16: false }) };
  for (const { label, make } of ops) {
    const mine = make(pair.this), theirs = make(pair.other);
    mine.run(); theirs.run();
    const differ = mine.outputs.reduce((n, out, i) => { const a = new Uint32Array(out.buffer), b = new Uint32Array(theirs.outputs[i]!.buffer); for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) n++; return n; }, 0);
    const micros = (op: { run: () => void }) => { op.run(); return median(Array.from({ length: 15 }, () => { const t0 = performance.now(); op.run(); return (performance.now() - t0) * 1000; })); };
    const a: number[] = [], b: number[] = [], ratios: number[] = [];
    for (let round = 0; round < rounds; round++) { b.push(micros(theirs)); a.push(micros(mine)); ratios.push(a.at(-1)! / b.at(-1)!); }
    console.log(`${level} ${label}`.padEnd(34), `this ${median(a).toFixed(1)} µs, other ${median(b).toFixed(1)}, this/other ${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}); outputs ${differ === 0 ? 'the same bits' : `${differ} values differ`}`);
  }
}
