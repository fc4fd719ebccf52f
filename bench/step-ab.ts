// The reference tiny-GPT train step on two builds of the native addon in one process: this checkout's kernels and
// another checkout's (its own build/Release), swapped method by method on the one backend object the model runs on,
// alternating round by round (fp32 then mixed precision on each), so a kernel change is measured against its parent
// side by side and this machine's drift cancels in each round's ratio. Prints each build's median step ms, the median
// and every round's ratio (this / other) for both precisions, and each build's bf16 / fp32 step ratio.
// Swap every kernel, not a few: each addon has its own thread pool, whose workers spin ~200 µs after each job, so a
// step split between two addons has one pool's spinning workers take the cores from the other's (seen: with only the
// GEMMs swapped, the same code read 11% slower as the 'other' build).
// Run: node --import tsx bench/step-ab.ts <other checkout root> [rounds]
//   (e.g. `git worktree add /tmp/base HEAD~1 && (cd /tmp/base && ln -s $PWD/node_modules && npm run build:native)`)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { createNativeBackend } from '../src/engine/backends/native-backend.ts';
import { getBackend } from '../src/engine/index.ts';
import { trainStepMs } from './train-step.ts';

const other = process.argv[2], rounds = Number(process.argv[3] ?? 10);
if (!other || !existsSync(join(other, 'build', 'Release', 'rlaif_native.node'))) throw new Error(`step-ab: give the other checkout's root (with build/Release/rlaif_native.node), got ${other}`);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`step-ab: rounds must be a positive integer, got ${process.argv[3]}`);
if (getBackend().name !== 'native') throw new Error(`step-ab: the backend in use is ${getBackend().name}, not native`);
const module = await import(pathToFileURL(resolve(other, 'src/engine/backends/native-backend.ts')).href) as { createNativeBackend: typeof createNativeBackend };
const backend = getBackend() as unknown as Record<string, unknown>, otherBackend = module.createNativeBackend() as unknown as Record<string, unknown>;
/** Every method of a backend object (own and inherited), but its constructor. */
const methodsOf = (object: Record<string, unknown>): string[] => {
  const names = new Set<string>();
  for (let o: object | null = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const name of Object.getOwnPropertyNames(o)) if (name !== 'constructor' && typeof object[name] === 'function') names.add(name);
  }
  return [...names];
};
const methods = methodsOf(backend);
const missing = methods.filter((method) => typeof otherBackend[method] !== 'function');
if (missing.length > 0) throw new Error(`step-ab: the other build's backend has no ${missing.join(', ')}`);
const builds = {
  this: Object.fromEntries(methods.map((method) => [method, backend[method]])),
  other: Object.fromEntries(methods.map((method) => [method, (otherBackend[method] as (...args: unknown[]) => unknown).bind(otherBackend)])),
};
const use = (build: keyof typeof builds) => { for (const method of methods) backend[method] = builds[build][method]; };

use('other'); trainStepMs(3); trainStepMs(3, { precision: 'bf16' });
use('this'); trainStepMs(3); trainStepMs(3, { precision: 'bf16' });
const steps = { this: { fp32: [] as number[], bf16: [] as number[] }, other: { fp32: [] as number[], bf16: [] as number[] } };
const ratios = { fp32: [] as number[], bf16: [] as number[] };
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? (['other', 'this'] as const) : (['this', 'other'] as const);   // which goes first alternates
  for (const build of order) {
    use(build);
    steps[build].fp32.push(trainStepMs(10));
    steps[build].bf16.push(trainStepMs(10, { precision: 'bf16' }));
  }
  for (const precision of ['fp32', 'bf16'] as const) ratios[precision].push(steps.this[precision][round]! / steps.other[precision][round]!);
}
use('this');
const median = (values: number[]) => [...values].sort((x, y) => x - y)[values.length >> 1]!;
for (const precision of ['fp32', 'bf16'] as const) {
  console.log(`${precision}: this ${median(steps.this[precision]).toFixed(2)} ms, other ${median(steps.other[precision]).toFixed(2)} ms; this / other ${median(ratios[precision]).toFixed(3)} (rounds ${ratios[precision].map((r) => r.toFixed(3)).join(' ')})`);
}
console.log(`bf16 / fp32 step: this ${(median(steps.this.bf16) / median(steps.this.fp32)).toFixed(3)}, other ${(median(steps.other.bf16) / median(steps.other.fp32)).toFixed(3)}`);
