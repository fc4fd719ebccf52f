// What machine the kernels run on: CPU model, family/model/stepping, the instruction-set flags the dispatch looks at,
// and what the native backend chose (CPU level, threads, GEMM blocking). The bench prints it beside every figure.
// Leaves out: non-Linux CPU identification beyond os.cpus() (no /proc/cpuinfo there: family/model stay null).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Backend } from './backend.ts';
import { type GemmBlocking, nativeCpuFeatures } from './backends/native-backend.ts';

/** /proc/cpuinfo flags that matter to the kernels' dispatch (and to what the bench's figures mean). */
export const DISPATCH_FLAGS = [
  'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16',
  'amx_bf16', 'amx_tile', 'avx_vnni',
] as const;

export interface CpuIdentity {
  model: string;             // "AMD EPYC 9R14 96-Core Processor"
  vendor: string | null;     // "AuthenticAMD" / "GenuineIntel"
  family: number | null;     // cpu family (AMD: 25 Zen 3/4, 26 Zen 5)
  modelNumber: number | null;
  stepping: number | null;
  flags: string[];           // DISPATCH_FLAGS present, in that order
}

export interface MachineDescription extends CpuIdentity {
  cores: number;             // logical CPUs Node sees
  backend: string;           // backend the ops run on
  threads: number;           // its threads
  level: string | null;      // native CPU level (avx512 | avx2 | generic), null on wasm/js
  blocking: GemmBlocking | null;
  bf16Kernel: string | null; // how bf16 weights are multiplied (vdpbf16ps | widen), null on wasm/js
  features: Record<string, boolean> | null; // what the native dispatch sees (__builtin_cpu_supports)
}

/** Parses the first processor block of /proc/cpuinfo text. */
export function parseCpuinfo(text: string): CpuIdentity {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const fields = new Map<string, string>();
  for (const line of first.split('\n')) {
    const cut = line.indexOf(':');
    if (cut > 0) fields.set(line.slice(0, cut).trim(), line.slice(cut + 1).trim());
  }
  const int = (key: string) => {
    const value = fields.get(key);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
  };
  const present = new Set((fields.get('flags') ?? '').split(/\s+/));
  return {
    model: fields.get('model name') ?? 'unknown cpu',
    vendor: fields.get('vendor_id') ?? null,
    family: int('cpu family'),
    modelNumber: int('model'),
    stepping: int('stepping'),
    flags: DISPATCH_FLAGS.filter((flag) => present.has(flag)),
  };
}

function cpuIdentity(): CpuIdentity {
  try {
    return parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return { model: cpus()[0]?.model ?? 'unknown cpu', vendor: null, family: null, modelNumber: null, stepping: null, flags: [] };
  }
}

/** The machine and what `backend` chose on it. */
export function describeMachine(backend: Backend): MachineDescription {
  const native = backend as Partial<{ cpu: string; blocking: GemmBlocking; bf16Kernel: string }>;
  let features: Record<string, boolean> | null = null;
  if (backend.name === 'native') features = nativeCpuFeatures();
  return {
    ...cpuIdentity(),
    cores: cpus().length,
    backend: backend.name,
    threads: backend.threads,
    level: native.cpu ?? null,
    blocking: native.blocking ?? null,
    bf16Kernel: native.bf16Kernel ?? null,
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
      (b ? `, gemm mr ${b.mr} nr ${b.nr} mc ${b.mc} kc ${b.kc} nc ${b.nc}` : '') +
      (m.bf16Kernel ? `, bf16 gemv ${m.bf16Kernel}` : ''),
    ...(m.features ? [`dispatch sees ${Object.entries(m.features).map(([k, v]) => `${k}=${v ? 1 : 0}`).join(' ')}`] : []),
  ];
}
