// The engine's environment variables, checked before any backend loads: a value the engine would otherwise ignore or
// quietly replace (RLAIF_THREADS=0, RLAIF_THREADS=abc, an unknown RLAIF_CPU or RLAIF_AMX) is an error naming the
// variable.
// Leaves out RLAIF_BACKEND (checked where the backend is chosen, in index.ts).

const CPU_LEVELS = ['avx512', 'avx2', 'generic'] as const;

export interface EngineEnvironment {
  threads: number | null;       // RLAIF_THREADS: native kernel threads; null = one per core
  wasmThreads: number | null;   // RLAIF_WASM_THREADS: wasm GEMM threads; null = one per core
  cpu: (typeof CPU_LEVELS)[number] | null; // RLAIF_CPU: force a lower native CPU level; null = the best this CPU runs
  amx: (typeof AMX_MODES)[number] | null;  // RLAIF_AMX: 0 keeps the bf16 GEMMs off AMX tiles; emulate (tests); null = AMX where there
}

const AMX_MODES = ['0', '1', 'emulate'] as const;

function positiveInteger(name: string, environment: NodeJS.ProcessEnv): number | null {
  const raw = environment[name];
  if (raw === undefined || raw === '') return null;
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < 1) {
    throw new Error(`${name} must be a whole number of threads >= 1 (or unset for one per core), got "${raw}"`);
  }
  return Number(raw);
}

/** Reads and checks the engine's variables; throws naming the first variable with a bad value. */
export function engineEnvironment(environment: NodeJS.ProcessEnv = process.env): EngineEnvironment {
  const cpu = environment.RLAIF_CPU;
  if (cpu !== undefined && cpu !== '' && !(CPU_LEVELS as readonly string[]).includes(cpu)) {
    throw new Error(`RLAIF_CPU must be avx512, avx2 or generic (or unset for the best this CPU runs), got "${cpu}"`);
  }
  const amx = environment.RLAIF_AMX;
  if (amx !== undefined && amx !== '' && !(AMX_MODES as readonly string[]).includes(amx)) {
    throw new Error(`RLAIF_AMX must be 0 (no AMX tiles), 1 or emulate (or unset for AMX where the CPU has it), got "${amx}"`);
  }
  return {
    threads: positiveInteger('RLAIF_THREADS', environment),
    wasmThreads: positiveInteger('RLAIF_WASM_THREADS', environment),
    cpu: cpu ? (cpu as EngineEnvironment['cpu']) : null,
    amx: amx ? (amx as EngineEnvironment['amx']) : null,
  };
}
