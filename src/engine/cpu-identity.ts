// Which CPU this is: model, vendor, family/model/stepping and the instruction-set flags the kernels dispatch on, from
// /proc/cpuinfo (os.cpus() elsewhere). Used by the bench's MACHINE lines and as the key of per-machine tuning.
// Leaves out: CPUID itself (Node cannot run it; the addon's __builtin_cpu_supports covers dispatch).
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

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

export function cpuIdentity(): CpuIdentity {
  try {
    return parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return { model: cpus()[0]?.model ?? 'unknown cpu', vendor: null, family: null, modelNumber: null, stepping: null, flags: [] };
  }
}
