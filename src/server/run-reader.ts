// Read-only view of `rlaif run` folders for the dashboard: the record files of the run store (run-records.ts) read in
// place, incrementally (only the bytes appended since the last read; a torn last line is left for later, never cut:
// the run may be writing it), the config, summary.json and whether the run's process still holds its lock. Never
// writes into a run folder and never copies it. Leaves out judging-run folders (`rlaif judge`).
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { processAlive } from '../engine/process-alive.ts';
import { RECORD_FILES, type RecordKind, type RunRecord } from '../pipeline/run-records.ts';

type OfKind<K extends RecordKind> = Extract<RunRecord, { kind: K }>;

export type RunStatus = 'running' | 'finished' | 'stopped';

class TailedFile {
  offset = 0;
  inode = -1;
  readonly records = new Map<string, RunRecord>();
  readonly order: RunRecord[] = [];
  constructor(readonly path: string) {}

  /** Reads what was appended; returns whether anything new came. */
  refresh(): boolean {
    if (!existsSync(this.path)) return false;
    const { size, ino } = statSync(this.path);
    if (size < this.offset || ino !== this.inode) { this.offset = 0; this.records.clear(); this.order.length = 0; }   // replaced (a --fresh run)
    this.inode = ino;
    if (size === this.offset) return false;
    const descriptor = openSync(this.path, 'r');
    let buffer: Buffer;
    try {
      buffer = Buffer.alloc(size - this.offset);
      let read = 0;
      while (read < buffer.length) { const n = readSync(descriptor, buffer, read, buffer.length - read, this.offset + read); if (n === 0) break; read += n; }
      buffer = buffer.subarray(0, read);
    } finally {
      closeSync(descriptor);
    }
    const end = buffer.lastIndexOf(0x0a) + 1;                  // complete lines only; the rest may still be written
    if (end === 0) return false;
    let added = false;
    for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) {
      if (!line) continue;
      try {
        const record = JSON.parse(line) as RunRecord;
        if (typeof record?.id !== 'string' || this.records.has(record.id)) continue;
        this.records.set(record.id, record);
        this.order.push(record);
        added = true;
      } catch {
        // a corrupt line is the run store's to report (it refuses to open); the dashboard shows the rest
      }
    }
    this.offset += end;
    return added;
  }
}

export class RunReader {
  readonly name: string;
  readonly dir: string;
  readonly #files = new Map<RecordKind, TailedFile>();
  #version = 0;

  constructor(dir: string, name: string) {
    this.dir = dir;
    this.name = name;
    for (const kind of Object.keys(RECORD_FILES) as RecordKind[]) this.#files.set(kind, new TailedFile(join(dir, 'records', RECORD_FILES[kind])));
  }

  /** Reads new records; the version counts refreshes that found something. */
  refresh(): number {
    let changed = false;
    for (const file of this.#files.values()) changed = file.refresh() || changed;
    if (changed) this.#version++;
    return this.#version;
  }

  get version(): number { return this.#version; }

  all<K extends RecordKind>(kind: K): readonly OfKind<K>[] {
    return this.#files.get(kind)!.order as OfKind<K>[];
  }

  get<K extends RecordKind>(kind: K, id: string): OfKind<K> | undefined {
    return this.#files.get(kind)!.records.get(id) as OfKind<K> | undefined;
  }

  config(): Record<string, unknown> | null {
    return readJson(join(this.dir, 'config.json'));
  }

  summary(): Record<string, number> | null {
    return readJson(join(this.dir, 'summary.json')) as Record<string, number> | null;
  }

  status(): RunStatus {
    const lock = readJson(join(this.dir, 'run.lock')) as { pid?: number } | null;
    if (lock && typeof lock.pid === 'number' && processAlive(lock.pid)) return 'running';
    return existsSync(join(this.dir, 'summary.json')) ? 'finished' : 'stopped';
  }
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}


/** The run folders under `root` (those holding records/), by name, each read once and then incrementally. */
export class RunCatalog {
  readonly root: string;
  readonly #readers = new Map<string, RunReader>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  names(): string[] {
    if (!existsSync(this.root)) return [];
    // statSync follows symbolic links: a run folder linked into the runs folder is listed too.
    return readdirSync(this.root).filter((name) => existsSync(join(this.root, name, 'records')) && statSync(join(this.root, name)).isDirectory()).sort();
  }

  /** The reader of run `name` (refreshed), or null when there is no such run folder. */
  run(name: string): RunReader | null {
    if (!this.names().includes(name)) return null;
    let reader = this.#readers.get(name);
    if (!reader) { reader = new RunReader(join(this.root, name), name); this.#readers.set(name, reader); }
    reader.refresh();
    return reader;
  }
}
