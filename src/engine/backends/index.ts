// Picks the kernel backend at load time: native C addon, else wasm SIMD (with a one-line notice), else js.
// RLAIF_BACKEND=native|wasm|js overrides the choice; asking for one that cannot load is an error, not a fallback.
// Bad RLAIF_THREADS / RLAIF_WASM_THREADS / RLAIF_CPU values are errors (environment.ts); with RLAIF_CPU set, native
// kernels that cannot load are an error too (the user asked for them), never a quiet switch to wasm.
import type { Backend, BackendName } from '../backend.ts';
import { JsBackend } from './js-backend.ts';
import { createNativeBackend } from './native-backend.ts';
import { createWasmBackend } from './wasm-backend.ts';
import { engineEnvironment } from './environment.ts';

const cache = new Map<BackendName, Backend>();
const failures = new Map<BackendName, string>();

/** Loads one backend by name; throws with the reason when it cannot load. */
export function loadBackend(name: BackendName): Backend {
  const hit = cache.get(name);
  if (hit) return hit;
  const failed = failures.get(name);
  if (failed) throw new Error(`backend ${name} is unavailable: ${failed}`);
  try {
    const backend = name === 'js' ? new JsBackend() : name === 'native' ? createNativeBackend() : createWasmBackend();
    cache.set(name, backend);
    return backend;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    failures.set(name, reason);
    throw new Error(`backend ${name} is unavailable: ${reason}`);
  }
}

/** The backends that load on this machine, fastest first. */
export function availableBackends(): BackendName[] {
  return (['native', 'wasm', 'js'] as const).filter((name) => {
    try { loadBackend(name); return true; } catch { return false; }
  });
}

let current: Backend | null = null;

/** The backend ops run on. Chosen once: RLAIF_BACKEND, else native, else wasm (noticed on stderr), else js. */
export function getBackend(): Backend {
  if (current) return current;
  const environment = engineEnvironment();
  const forced = process.env.RLAIF_BACKEND;
  if (forced) {
    if (forced !== 'native' && forced !== 'wasm' && forced !== 'js') {
      throw new Error(`RLAIF_BACKEND must be native, wasm or js, got "${forced}"`);
    }
    current = loadBackend(forced);
    return current;
  }
  try {
    current = loadBackend('native');
  } catch (nativeError) {
    if (environment.cpu) throw new Error(`RLAIF_CPU=${environment.cpu} asks for the native kernels: ${(nativeError as Error).message}`);
    try {
      current = loadBackend('wasm');
      process.stderr.write(`rlaif: native kernels unavailable (${(nativeError as Error).message}); using wasm\n`);
    } catch {
      current = loadBackend('js');
      process.stderr.write(`rlaif: native and wasm kernels unavailable; using the slow js reference\n`);
    }
  }
  return current;
}

/** Switches the backend ops run on (tests and benchmarks compare backends side by side). */
export function setBackend(name: BackendName): Backend {
  current = loadBackend(name);
  return current;
}
