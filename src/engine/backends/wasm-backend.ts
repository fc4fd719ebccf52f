// PLACEHOLDER until the wasm kernels land: always unavailable.
import type { Backend } from '../backend.ts';
export function createWasmBackend(): Backend { throw new Error('wasm kernels not built yet'); }
