// What every run folder shares (training runs, judging runs, the `rlaif run` loop): a lock so that one process at a
// time writes it, atomic file writes (temp file + rename in the same folder), and run.json saying what the folder
// holds (run kind, config hash) so that a resume with another kind or config is refused with what differs.
// Leaves out: the records each kind writes (training-run.ts, the judging run), locks across machines sharing a disk
// (the hostname is recorded, a lock from another host is never taken over). No paper.
//
// API (small on purpose):
//   writeFileAtomic(path, data)                    a reader or a kill never sees half a file
//   writeFileAtomicAsync(path, data)               the same, its fsync's wait left to overlap other work
//   lockRunFolder(dir, { command })                -> RunLock; throws RunFolderLockedError naming the holder's pid
//   openRunFolder({ dir, kind, config, ... })      -> OpenedRun: locked, manifest checked (or written), --fresh honoured
import { closeSync, existsSync, fsync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processAlive } from '../engine/process-alive.ts';
import { canonicalJson, stableHash } from '../feedback/stable-hash.ts';

let temporaries = 0;

/** `data` written to a new temp file beside `path`: its name and open descriptor (the temp file is gone if this throws). */
function writeTemporary(path: string, data: string | Uint8Array): { temporary: string; fd: number } {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${temporaries++}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  return { temporary, fd };
}

/** Writes `data` to a temp file beside `path`, flushes it, then renames it over `path` (atomic on one file system). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const { temporary, fd } = writeTemporary(path, data);
  try {
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });   // a failed sync or rename leaves no temp file, as writeFileAtomicAsync
    throw error;
  }
}

/**
 * writeFileAtomic with the wait for the disk left to the caller: `data` is in a temp file beside `path` when this
 * returns and its fsync has started on libuv's threads; the promise renames it over `path` once synced (the same
 * guarantee: a reader or a kill sees the old file or the new, never half, and the new one is on disk when the promise
 * resolves). Several started together sync in parallel, and the caller's work goes on meanwhile. A failed sync or
 * rename rejects naming the file and removes the temp file.
 */
export function writeFileAtomicAsync(path: string, data: string | Uint8Array): Promise<void> {
  const { temporary, fd } = writeTemporary(path, data);
  return new Promise((resolve, reject) => {
    fsync(fd, (synced) => {
      try {
        closeSync(fd);
        if (synced) throw synced;
        renameSync(temporary, path);
        resolve();
      } catch (error) {
        rmSync(temporary, { force: true });
        reject(new Error(`${path}: could not write the file: ${(error as Error).message}`, { cause: error }));
      }
    });
  });
}

/**
 * Starts each write in turn (a write that throws has failed), so one's sync overlaps the next one's building; waits
 * for all of them, then rethrows the first failure: none is left running when it returns or throws.
 */
export async function writeAll(writes: Array<() => Promise<unknown>>): Promise<void> {
  const started = writes.map((write) => {
    try {
      return write();
    } catch (error) {
      return Promise.reject(error);
    }
  });
  const failed = (await Promise.allSettled(started)).find((outcome) => outcome.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

// ---------------------------------------------------------------------------------------------------------- lock

export const LOCK_FILE = 'run.lock';

/** Who holds a run folder (the lock file's content). */
export interface LockHolder { pid: number; hostname: string; command: string; startedAt: string }

export class RunFolderLockedError extends Error {
  constructor(readonly dir: string, readonly holder: LockHolder) {
    super(`${dir} is in use by process ${holder.pid} on ${holder.hostname} (\`${holder.command}\`, since ${holder.startedAt}): ` +
      `two processes writing one run folder duplicate work and records. Wait for it to end or stop it; if no such process ` +
      `runs, delete ${join(dir, LOCK_FILE)}`);
    this.name = 'RunFolderLockedError';
  }
}

export interface RunLock {
  readonly path: string;
  /** Removes the lock file (idempotent; also done at process exit). */
  release(): void;
}


function readHolder(path: string): LockHolder | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(value.pid) && typeof value.hostname === 'string' ? value : null;
  } catch {
    return null;
  }
}

const held = new Set<string>();
let exitHook = false;

/**
 * Takes `<dir>/run.lock` with O_EXCL, holding pid, hostname, command and start time. A lock whose pid is dead on this
 * host (a killed run) is stale and taken over; an unreadable lock older than 10 s (a kill between create and write)
 * too. Throws RunFolderLockedError naming the holder otherwise. The lock is released at process exit.
 */
export function lockRunFolder(dir: string, options: { command: string }): RunLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, hostname: hostname(), command: options.command, startedAt: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try { writeSync(fd, JSON.stringify(me)); } finally { closeSync(fd); }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw error;
    }
    const holder = readHolder(path);
    const stale = holder
      ? holder.hostname === me.hostname && holder.pid !== process.pid && !processAlive(holder.pid)
      : Date.now() - statSync(path).mtimeMs > 10_000;
    if (!stale) {
      throw new RunFolderLockedError(dir, holder ?? { pid: NaN, hostname: '?', command: '? (lock file being written)', startedAt: '?' });
    }
    // Take a stale lock over by renaming it away first: of two processes racing for it, one rename wins.
    try { renameSync(path, `${path}.stale-${process.pid}`); rmSync(`${path}.stale-${process.pid}`, { force: true }); } catch { /* lost the race */ }
  }
  held.add(path);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => { for (const p of held) releasePath(p); });
  }
  return { path, release: () => releasePath(path) };
}

function releasePath(path: string): void {
  if (!held.delete(path)) return;
  if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
}

// ------------------------------------------------------------------------------------------------------ manifest

export const MANIFEST_FILE = 'run.json';
export const CONFIG_FILE = 'config.json';

/** run.json: what a run folder holds. */
export interface RunManifest {
  version: 1;
  kind: string;          // e.g. 'train pg', 'train sft', 'judge', 'run'
  configHash: string;    // sha256 of the canonical config without the keys allowed to change on resume
  createdAt: string;     // ISO time the run started
}

export class RunMismatchError extends Error {
  constructor(readonly dir: string, readonly differences: string[], freshFlag: string | null) {
    super(`${dir} holds another run: ${differences.join('; ')}. Resume it with the same kind and config` +
      (freshFlag ? `, choose another run folder, or pass ${freshFlag} to start afresh (the old folder is moved aside, not deleted)` : ', or choose another run folder'));
    this.name = 'RunMismatchError';
  }
}

export interface OpenRunOptions {
  dir: string;
  kind: string;                  // recorded in run.json; a folder of another kind is refused
  config: object;                // the parsed config; written to config.json by OpenedRun.start()
  resumableKeys?: string[];      // top-level keys that may change on resume (e.g. steps); left out of the hash
  fresh?: boolean;               // move an existing run folder aside to <dir>.old-<time> and start empty
  hasProgress?: (dir: string) => boolean; // the kind's resume point exists (e.g. checkpoint/state.json)
  progressFiles?: string[];      // records that only make sense with that resume point (e.g. metrics.jsonl)
  freshFlag?: string | null;     // how the user asks for a fresh start, for messages (default --fresh; null: no such flag)
}

export interface OpenedRun {
  readonly dir: string;
  readonly lock: RunLock;
  readonly resuming: boolean;          // the folder held this run already (same kind and config hash)
  readonly movedAside: string | null;  // where --fresh moved the previous folder
  /** Writes config.json and run.json (call once the run really starts: config checked, data and model loaded). */
  start(): void;
  /** start() with both files synced in parallel, the caller's work going on meanwhile; await it before any record. */
  startAsync(): Promise<void>;
  release(): void;
}

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, out);
  } else out.set(prefix, canonicalJson(value));
}

/** Key paths whose values differ between two configs, as `key: old → new`. */
export function configDifferences(before: object, after: object, ignored: string[] = []): string[] {
  const a = new Map<string, string>(), b = new Map<string, string>();
  flatten(before, '', a);
  flatten(after, '', b);
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => !ignored.includes(k.split('.')[0])).sort();
  return keys.filter((k) => a.get(k) !== b.get(k)).map((k) => `${k}: ${a.get(k) ?? '(absent)'} → ${b.get(k) ?? '(absent)'}`);
}

function hashOf(config: object, ignored: string[]): string {
  return stableHash(Object.fromEntries(Object.entries(config).filter(([key]) => !ignored.includes(key))));
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message}); the run folder is damaged`);
  }
}

function nonEmpty(path: string): boolean {
  return existsSync(path) && statSync(path).size > 0;
}

/**
 * Locks a run folder and checks it can hold this run: empty, or the same kind and config (resume). Refuses another
 * kind, another config (naming the keys that differ) and records left without their resume point (metrics.jsonl
 * with no checkpoint: appending would mix two runs). With `fresh`, a non-empty folder is first moved aside.
 */
export function openRunFolder(options: OpenRunOptions): OpenedRun {
  const { dir, kind } = options, ignored = options.resumableKeys ?? [], flag = options.freshFlag === undefined ? '--fresh' : options.freshFlag;
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${dir}: exists and is not a folder`);
  let lock = lockRunFolder(dir, { command: `rlaif ${kind}` });
  let movedAside: string | null = null;
  try {
    const occupied = () => readdirSync(dir).some((name) => name !== LOCK_FILE);
    if (options.fresh && occupied()) {
      movedAside = `${dir}.old-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(dir, movedAside);        // the lock file moves with it
      lock.release();
      rmSync(join(movedAside, LOCK_FILE), { force: true });
      lock = lockRunFolder(dir, { command: `rlaif ${kind}` });
    }
    const manifestPath = join(dir, MANIFEST_FILE), configPath = join(dir, CONFIG_FILE);
    const manifest = existsSync(manifestPath) ? readJson(manifestPath) as RunManifest : null;
    const recorded = existsSync(configPath) ? readJson(configPath) as object : null;
    const progress = options.hasProgress?.(dir) ?? false;
    if (manifest && manifest.kind !== kind) {
      throw new RunMismatchError(dir, [`it is a \`${manifest.kind}\` run, this is \`${kind}\``], flag);
    }
    if (manifest && manifest.configHash !== hashOf(options.config, ignored)) {
      const differences = recorded ? configDifferences(recorded, options.config, ignored) : [];
      throw new RunMismatchError(dir, differences.length ? [`the config differs (${differences.join(', ')})`] : ['the config hash differs'], flag);
    }
    if (!manifest && recorded && progress) {  // a folder from before run.json: compare the configs themselves
      const differences = configDifferences(recorded, options.config, ignored);
      if (differences.length) throw new RunMismatchError(dir, [`the config differs (${differences.join(', ')})`], flag);
    }
    if (!progress) {
      const leftovers = (options.progressFiles ?? []).filter((name) => nonEmpty(join(dir, name)));
      if (leftovers.length) {
        throw new RunMismatchError(dir, [`${leftovers.join(', ')} ${leftovers.length > 1 ? 'hold' : 'holds'} records of an earlier run ` +
          `but its resume point is gone, so a new run would append to them`], flag);
      }
    }
    const resuming = progress;
    const current = lock;
    // What start() writes: config.json, then run.json (each alone is enough for the checks above).
    const files = (): Array<[string, string]> => {
      const createdAt = manifest?.createdAt ?? new Date().toISOString();
      const next: RunManifest = { version: 1, kind, configHash: hashOf(options.config, ignored), createdAt };
      return [[configPath, `${JSON.stringify(options.config, null, 2)}\n`], [manifestPath, `${JSON.stringify(next, null, 2)}\n`]];
    };
    return {
      dir, lock: current, resuming, movedAside,
      start: () => {
        for (const [path, text] of files()) writeFileAtomic(path, text);
      },
      startAsync: () => writeAll(files().map(([path, text]) => () => writeFileAtomicAsync(path, text))),
      release: () => current.release(),
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
