// A persistent, append-only JSONL cache of judgments keyed by a hash of (provider, model, template version, inputs).
// Crash-safe: a torn last line (a write cut short) is ignored and trimmed on open; a corrupt line elsewhere is skipped
// and counted, never fatal. Leaves out eviction and multi-process writers. No paper.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { canonicalJson, stableHash } from './stable-hash.ts';

export interface CacheEntry<V> {
  key: string;
  value: V;
}

export class JudgmentCache<V = unknown> {
  readonly path: string;
  readonly skippedLines: number; // corrupt lines ignored on open (torn tail included)
  readonly #entries = new Map<string, V>();
  #descriptor: number | null;
  hits = 0;
  misses = 0;

  private constructor(path: string, descriptor: number, entries: Map<string, V>, skippedLines: number) {
    this.path = path;
    this.#descriptor = descriptor;
    this.#entries = entries;
    this.skippedLines = skippedLines;
  }

  static open<V>(path: string): JudgmentCache<V> {
    mkdirSync(dirname(path), { recursive: true });
    const entries = new Map<string, V>();
    let skipped = 0;
    let validBytes = 0;
    if (existsSync(path)) {
      const buffer = readFileSync(path);
      const lastNewline = buffer.lastIndexOf(0x0a);
      validBytes = lastNewline + 1; // bytes after the last newline are a torn write
      if (validBytes < buffer.length) skipped++;
      const text = buffer.subarray(0, validBytes).toString('utf8');
      for (const line of text.split('\n')) {
        if (line === '') continue;
        try {
          const entry = JSON.parse(line) as CacheEntry<V>;
          if (typeof entry.key !== 'string' || !('value' in entry)) throw new Error('not an entry');
          entries.set(entry.key, entry.value);
        } catch {
          skipped++;
        }
      }
    }
    if (existsSync(path)) truncateSync(path, validBytes);
    const descriptor = openSync(path, 'a'); // append mode: every write lands at the end
    return new JudgmentCache<V>(path, descriptor, entries, skipped);
  }

  static keyOf(identity: unknown, input: unknown): string {
    return stableHash({ identity, input });
  }

  /** keyOf with the identity canonicalised once (same keys): the identity is large and fixed for a whole run. */
  static keyer(identity: unknown): (input: unknown) => string {
    const prefix = `{"identity":${canonicalJson(identity)},"input":`;
    return (input) => createHash('sha256').update(`${prefix}${canonicalJson(input)}}`).digest('hex');
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) this.misses++;
    else this.hits++;
    return value;
  }

  /** Record a value; written through to disk with one write call per entry, so a crash tears at most the last line. */
  set(key: string, value: V): void {
    if (this.#descriptor === null) throw new Error(`${this.path}: cache is closed`);
    this.#entries.set(key, value);
    writeSync(this.#descriptor, `${JSON.stringify({ key, value })}\n`, null, 'utf8');
  }

  close(): void {
    if (this.#descriptor !== null) closeSync(this.#descriptor);
    this.#descriptor = null;
  }
}
