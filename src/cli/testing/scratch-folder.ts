// Test helper: a temporary folder for one test file, removed when its tests end, and a writer of small files (configs,
// JSONL data) into it. Leaves out: anything a test does not need (permissions, nested folders).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export interface ScratchFolder {
  directory: string;
  /** Writes `text` to `name` in the folder; returns its path. */
  write(name: string, text: string): string;
}

/** Call at a test file's top level: the folder goes when the file's tests end. */
export function scratchFolder(prefix: string): ScratchFolder {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(directory, { recursive: true, force: true }));
  return {
    directory,
    write(name, text) {
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    },
  };
}
