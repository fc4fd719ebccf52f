// The reference tiny GPT's GEMM shapes, and a labeler prefill block's, on the native backend, hot and with cold
// operands: median µs per product with the same buffers every time (hot), a fresh C each time (coldC), or fresh A, B
// and C from 24 copies that overflow the L3 (coldAll: what a training step sees for saved activations); then bf16-weight
// products (gemmBf16: the 124M's prefill shapes and 1024³) hot, median GFLOP/s. Leaves out the other backends.
// Run: node --import tsx bench/gemm-shapes.ts
import { createNativeBackend } from '../src/engine/backends/native-backend.ts';
import { f32ToBf16 } from '../src/engine/bf16.ts';

const backend = createNativeBackend();
// [label, M, N, K, transA, transB, beta]: the forward (NN), input-gradient (NT) and weight-gradient (TN) products
const shapes: Array<[string, number, number, number, boolean, boolean, number]> = [
  ['TN 512x128x1024 acc', 512, 128, 1024, true, false, 1],
  ['TN 128x512x1024 acc', 128, 512, 1024, true, false, 1],
  ['TN 128x384x1024 acc', 128, 384, 1024, true, false, 1],
  ['NN 1024x128x512', 1024, 128, 512, false, false, 0],
  ['NT 1024x128x512', 1024, 128, 512, false, true, 0],
  ['NN 1024x512x128', 1024, 512, 128, false, false, 0],
  ['NT 1024x512x128', 1024, 512, 128, false, true, 0],
  ['NN 1024x384x128', 1024, 384, 128, false, false, 0],
  ['NT 1024x128x384', 1024, 128, 384, false, true, 0],
  // a 32-token prefill block of the 192-wide, 6-layer labeler (the judge's prefix-cache blocks): qkv, fc, mlp out
  ['NN 32x576x192', 32, 576, 192, false, false, 0],
  ['NN 32x768x192', 32, 768, 192, false, false, 0],
  ['NN 32x192x768', 32, 192, 768, false, false, 0],
];
const copies = 24;
for (const [label, M, N, K, transA, transB, beta] of shapes) {
  const operands = Array.from({ length: copies }, () => ({
    a: Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)),
    b: Float32Array.from({ length: K * N }, (_, i) => Math.cos(i)),
    c: new Float32Array(M * N),
  }));
  const cells: string[] = [];
  for (const mode of ['hot', 'coldC', 'coldAll'] as const) {
    const times: number[] = [];
    for (let i = 0; i < 240; i++) {
      const fresh = operands[mode === 'hot' ? 0 : i % copies]!, first = operands[0]!;
      const ab = mode === 'coldAll' ? fresh : first;
      const t0 = performance.now();
      backend.gemm({ a: ab.a, b: ab.b, c: fresh.c, M, N, K, transA, transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      if (i >= 40) times.push(performance.now() - t0);
    }
    times.sort((x, y) => x - y);
    const us = times[100]! * 1000;
    cells.push(`${mode} ${us.toFixed(0)} µs (${((2 * M * N * K) / us / 1e3).toFixed(0)} GFLOP/s)`);
  }
  console.log(label.padEnd(22), cells.join('  '));
}

// bf16 weights (gemmBf16: C = bf16(A) Wᵀ, float32 sums): 1024³, the 124M's 128-token prefill (qkv, MLP up, MLP down),
// a 512-token block, and two training shapes
const bf16Shapes: [number, number, number][] = [[1024, 1024, 1024], [128, 2304, 768], [128, 3072, 768], [128, 768, 3072], [512, 768, 768],
  [1024, 512, 128], [1024, 128, 512]];
for (const [M, N, K] of bf16Shapes) {
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), c = new Float32Array(M * N);
  const w = f32ToBf16(Float32Array.from({ length: N * K }, (_, i) => Math.cos(i)));
  backend.gemmBf16(a, w, c, M, N, K);
  const rates: number[] = [];
  for (let r = 0; r < Math.max(9, Math.round(4e9 / (2 * M * N * K))); r++) {
    const t0 = performance.now();
    backend.gemmBf16(a, w, c, M, N, K);
    rates.push((2 * M * N * K) / ((performance.now() - t0) * 1e6));
  }
  rates.sort((x, y) => x - y);
  console.log(`bf16 ${M}x${N}x${K}`.padEnd(22), `hot ${rates[rates.length >> 1]!.toFixed(0)} GFLOP/s`);
}
