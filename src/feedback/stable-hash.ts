// Stable hashing for cache keys and seeded choices: canonical JSON (sorted keys) then sha256.
// Leaves out any cryptographic claim beyond collision resistance of sha256.
// No paper; plumbing for reproducibility.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

export function stableHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** Seeded choices hash their label with the engine's hashToUnit (one hash for every seed in the toolkit). */
export { hashToUnit } from '../engine/random.ts';
