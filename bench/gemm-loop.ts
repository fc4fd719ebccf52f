// One product's time in a hot loop (the same operands every call; C overwritten, or with --accumulate added to as a
// weight gradient is: beta 1), fp32 gemm and, with --mixed, gemmMixed beside it: median µs of 7 batches of `reps` calls after 20 warm-up calls, and GFLOP/s. For a
// quick look at one shape on the current backend and level (RLAIF_CPU, RLAIF_THREADS); bench/gemm-shapes.ts and
// bench/addon-ab.ts cover the training step's shapes cold and against another build.
// Run: node --import tsx bench/gemm-loop.ts M,N,K[,NN|TN|NT|TT] [...more shapes] [--reps 50] [--mixed] [--sums] [--accumulate]
//   (--sums: with sumsB, op(B)'s column sums, as a Conv1D weight gradient runs)
import { getBackend } from '../src/engine/index.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const repsAt = args.indexOf('--reps'), reps = repsAt >= 0 ? Number(args[repsAt + 1]) : 50;
if (!Number.isInteger(reps) || reps < 1) throw new Error(`gemm-loop: --reps must be a positive integer, got ${args[repsAt + 1]}`);
const shapes = args.filter((a, i) => !a.startsWith('--') && !(repsAt >= 0 && i === repsAt + 1));
if (shapes.length === 0) throw new Error('gemm-loop: give at least one shape M,N,K[,NN|TN|NT|TT], e.g. 16,512,128 or 512,128,1024,TN');
const backend = getBackend();
const median = (f: () => void) => {
  for (let i = 0; i < 20; i++) f();
  const batches: number[] = [];
  for (let b = 0; b < 7; b++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    batches.push((performance.now() - t0) / reps * 1000);
  }
  return batches.sort((x, y) => x - y)[3];
};
for (const shape of shapes) {
  const [m, n, k, layout = 'NN'] = shape.split(',');
  const [M, N, K] = [m, n, k].map(Number);
  if (![M, N, K].every((v) => Number.isInteger(v) && v > 0) || !/^[NT][NT]$/.test(layout)) {
    throw new Error(`gemm-loop: shape ${shape} is not M,N,K[,NN|TN|NT|TT] with positive whole numbers`);
  }
  const a = Float32Array.from({ length: M * K }, (_, i) => Math.sin(i)), b = Float32Array.from({ length: K * N }, (_, i) => Math.cos(i));
  const p = { a, b, c: new Float32Array(M * N), M, N, K, transA: layout[0] === 'T', transB: layout[1] === 'T', alpha: 1, beta: flag('--accumulate') ? 1 : 0,
    batch: 1, strideA: 0, strideB: 0, strideC: 0, sumsB: flag('--sums') ? new Float32Array(N) : undefined };
  const gflops = (us: number) => (2 * M * N * K / us / 1e3).toFixed(1);
  const fp32 = median(() => backend.gemm(p));
  let line = `${M}x${N}x${K} ${layout}${flag('--sums') ? ' +sums' : ''}${flag('--accumulate') ? ' +C' : ''}: fp32 ${fp32.toFixed(1)} us (${gflops(fp32)} GFLOP/s)`;
  if (flag('--mixed')) {
    const mixed = median(() => backend.gemmMixed(p));
    line += `, mixed ${mixed.toFixed(1)} us (${gflops(mixed)} GFLOP/s), mixed / fp32 ${(mixed / fp32).toFixed(2)}`;
  }
  console.log(line);
}
