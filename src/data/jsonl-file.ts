// Reads and writes JSON Lines, gzip-compressed when the name ends in .gz; errors name the file and the 1-based line
// (bad JSON, text that is not UTF-8), and say what a bad .gz or a directory is. Leaves out streaming very large files
// (datasets here fit in memory). No paper.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeFileAtomic, writeFileAtomicAsync } from '../algorithms/run-folder.ts';

export interface JsonlLine {
  line: number; // 1-based
  value: unknown;
}

/** The file's bytes; a missing file, a folder or an unreadable file is an error naming the path. */
function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${path}: no such file`);
    if (code === 'EISDIR') throw new Error(`${path}: is a folder, expected a JSONL file (.jsonl, or .jsonl.gz gzip-compressed)`);
    throw new Error(`${path}: cannot read (${(error as Error).message})`);
  }
}

function gunzip(path: string, bytes: Buffer): Buffer {
  try {
    return gunzipSync(bytes);
  } catch (error) {
    const message = (error as Error).message;
    const why = /incorrect header check/.test(message) ? 'not gzip-compressed although the name ends in .gz'
      : /unexpected end of file/.test(message) ? 'the gzip data is truncated' : 'the gzip data is corrupt';
    throw new Error(`${path}: ${why} (zlib: ${message})`);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text (gunzipped when the name ends in .gz), strictly UTF-8: bad bytes are an error naming file:line, never U+FFFD. */
export function readTextFile(path: string): string {
  const raw = readBytes(path);
  const bytes = path.endsWith('.gz') ? gunzip(path, raw) : raw;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let line = 1;
    let start = 0;
    for (let index = 0; index <= bytes.length; index++) {
      if (index < bytes.length && bytes[index] !== 0x0a) continue;
      try {
        strictUtf8.decode(bytes.subarray(start, index));
      } catch {
        throw new Error(`${path}:${line}: not UTF-8 text (re-encode the file as UTF-8)`);
      }
      line++;
      start = index + 1;
    }
    throw new Error(`${path}: not UTF-8 text (re-encode the file as UTF-8)`);
  }
}

export function readJsonl(path: string): JsonlLine[] {
  const text = readTextFile(path);
  const lines = text.split('\n');
  const values: JsonlLine[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      values.push({ line: index + 1, value: JSON.parse(line) });
    } catch (error) {
      throw new Error(`${path}:${index + 1}: invalid JSON: ${(error as Error).message}`);
    }
  }
  return values;
}

/** The file's bytes: one JSON value a line, gzip-compressed when the name ends in .gz. */
function jsonlData(path: string, values: unknown[]): string | Buffer {
  const text = values.map((value) => JSON.stringify(value)).join('\n') + (values.length > 0 ? '\n' : '');
  return path.endsWith('.gz') ? gzipSync(text) : text;
}

/** Writes the whole file atomically (temp file + rename): a kill mid-write leaves the old file or the new, never half. */
export function writeJsonl(path: string, values: unknown[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, jsonlData(path, values));
}

/** writeJsonl whose fsync overlaps the caller's work (writeFileAtomicAsync): the file is in place when it resolves. */
export function writeJsonlAsync(path: string, values: unknown[]): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  return writeFileAtomicAsync(path, jsonlData(path, values));
}
