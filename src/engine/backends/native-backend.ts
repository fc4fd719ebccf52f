// PLACEHOLDER until the native addon lands: always unavailable.
import type { Backend } from '../backend.ts';
export function createNativeBackend(): Backend { throw new Error('native addon not built yet'); }
