// Reads and writes JSON Lines, gzip-compressed when the name ends in .gz; errors name the file and the 1-based line.
// Leaves out streaming very large files (datasets here fit in memory). No paper.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

export interface JsonlLine {
  line: number; // 1-based
  value: unknown;
}

export function readJsonl(path: string): JsonlLine[] {
  const bytes = readFileSync(path);
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
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

export function writeJsonl(path: string, values: unknown[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const text = values.map((value) => JSON.stringify(value)).join('\n') + (values.length > 0 ? '\n' : '');
  writeFileSync(path, path.endsWith('.gz') ? gzipSync(text) : text);
}
