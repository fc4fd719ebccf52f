// What machine the kernels run on: CPU model, family/model/stepping, the instruction-set flags the dispatch looks at,
// and what the native backend chose (CPU level, threads, GEMM micro-kernel, blocking and split, pool thresholds). The
// bench prints it beside every figure.
// Leaves out: non-Linux CPU identification beyond os.cpus() (no /proc/cpuinfo there: family/model stay null).
import { cpus } from 'node:os';
import type { Backend } from './backend.ts';
import { type GemmBlocking, nativeCpuFeatures } from './backends/native-backend.ts';
import { cpuIdentity, type CpuIdentity } from './cpu-identity.ts';

export { DISPATCH_FLAGS, parseCpuinfo, type CpuIdentity } from './cpu-identity.ts';

export interface MachineDescription extends CpuIdentity {
  cores: number;             // logical CPUs Node sees
  backend: string;           // backend the ops run on
  threads: number;           // its threads
  level: string | null;      // native CPU level (avx512 | avx2 | generic), null on wasm/js
  blocking: GemmBlocking | null;
  blockingSource: string | null; // default | tuned (this machine's tuning cache) | busy (its compiled default: the search was disturbed) | RLAIF_GEMM_BLOCKING | RLAIF_GEMM_KERNEL
  bf16Kernel: string | null; // how bf16 weights are multiplied (vdpbf16ps | widen), null on wasm/js
  bf16Gemm: string | null;   // the bf16 GEMMs past a few rows (amx | vdpbf16ps | widen), null on wasm/js
  pool: { general: number; fewRows: number; stream?: number; source: string } | null; // multiply-adds from which products go to the pool
  split: { tasksPerThread: number; source: string } | null; // compute tasks per thread of a GEMM all threads share
  features: Record<string, boolean> | null; // what the native dispatch sees (__builtin_cpu_supports)
}

/** The machine and what `backend` chose on it. */
export function describeMachine(backend: Backend): MachineDescription {
  const native = backend as Partial<{ cpu: string; blocking: GemmBlocking; bf16Kernel: string; bf16Gemm: string; blockingSource: string;
    pool: { general: number; fewRows: number; stream?: number; source: string }; split: { tasksPerThread: number; source: string } }>;
  let features: Record<string, boolean> | null = null;
  if (backend.name === 'native') features = nativeCpuFeatures();
  return {
    ...cpuIdentity(),
    cores: cpus().length,
    backend: backend.name,
    threads: backend.threads,
    level: native.cpu ?? null,
    blocking: native.blocking ?? null,
    blockingSource: native.blockingSource ?? null,
    bf16Kernel: native.bf16Kernel ?? null,
    bf16Gemm: native.bf16Gemm ?? null,
    pool: native.pool ?? null,
    split: native.split ?? null,
    features,
  };
}

/** One line per fact, `# machine <key> <value>`-style text for logs and the bench. */
export function formatMachine(m: MachineDescription): string[] {
  const b = m.blocking;
  return [
    `cpu ${m.model} (${m.vendor ?? 'vendor ?'}, family ${m.family ?? '?'} model ${m.modelNumber ?? '?'} stepping ${m.stepping ?? '?'}), ${m.cores} logical CPUs`,
    `flags ${m.flags.length > 0 ? m.flags.join(' ') : '(none of the dispatch flags)'}`,
    `kernels ${m.backend}${m.level ? ` level ${m.level}` : ''}, ${m.threads} threads` +
      (b ? `, gemm mr ${b.mr} nr ${b.nr}${b.kernel !== m.level ? ` (the ${b.kernel} micro-kernel)` : ''} mc ${b.mc} kc ${b.kc} nc ${b.nc} (${m.blockingSource ?? 'default'})` : '') +
      (m.split ? ` in ${m.split.tasksPerThread} tasks a thread (${m.split.source})` : '') +
      (m.bf16Kernel ? `, bf16 gemv ${m.bf16Kernel}` : '') + (m.bf16Gemm ? `, bf16 gemm ${m.bf16Gemm}` : '') +
      (m.pool ? `, pool from ${megaMacs(m.pool.general)} (few rows ${megaMacs(m.pool.fewRows)}${m.pool.stream !== undefined ? `, streamed ${megaMacs(m.pool.stream)}` : ''}) multiply-adds (${m.pool.source})` : ''),
    ...(m.features ? [`dispatch sees ${Object.entries(m.features).map(([k, v]) => `${k}=${v ? 1 : 0}`).join(' ')}`] : []),
  ];
}

function megaMacs(macs: number): string {
  return macs >= 1e6 ? `${(macs / 1e6).toFixed(1)}M` : String(macs);
}
