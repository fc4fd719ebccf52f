// Per-kernel timing for the profiling benches: wraps every method of the current backend with a timer keyed by kernel
// name (GEMMs by transposes, shape, batch and accumulate). Leaves out JS-side time and nested calls' separation.
import type { GemmParams } from '../src/engine/backend.ts';
import { getBackend } from '../src/engine/backends/index.ts';

export interface KernelTimer {
  stats: Map<string, { ms: number; calls: number }>; // per key: total ms and calls while on
  on: boolean;                                       // time calls only while true
}

/** Wraps the current backend's kernels; returns the timer (on from the start unless `on: false`). */
export function timeKernels(options: { on?: boolean } = {}): KernelTimer {
  const timer: KernelTimer = { stats: new Map(), on: options.on ?? true };
  const backend = getBackend() as unknown as Record<string, unknown>;
  const names = new Set([...Object.getOwnPropertyNames(Object.getPrototypeOf(backend)), ...Object.keys(backend)]);
  for (const name of names) {
    const kernel = backend[name];
    if (typeof kernel !== 'function' || name === 'constructor') continue;
    backend[name] = (...args: unknown[]): unknown => {
      if (!timer.on) return (kernel as (...a: unknown[]) => unknown).apply(backend, args);
      let key = name;
      if (name === 'gemm' || name === 'gemmMixed') {
        const p = args[0] as GemmParams;
        key = `${name} ${p.transA ? 'T' : 'N'}${p.transB ? 'T' : 'N'} M${p.M} N${p.N} K${p.K}${p.batch > 1 ? ` batch ${p.batch}` : ''}${p.beta ? ' acc' : ''}`;
      }
      const t0 = performance.now();
      const result = (kernel as (...a: unknown[]) => unknown).apply(backend, args);
      const entry = timer.stats.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - t0;
      entry.calls++;
      timer.stats.set(key, entry);
      return result;
    };
  }
  return timer;
}
