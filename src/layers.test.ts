// The layering rule of DESIGN.md as a test: a file may import only its own layer and the layers above it in
// engine → models → feedback → algorithms → data → testbed → pipeline → surfaces (cli, server).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const LAYERS = ['engine', 'models', 'feedback', 'algorithms', 'data', 'testbed', 'pipeline', 'cli', 'server'];
const rank = (layer: string) => (layer === 'server' ? LAYERS.indexOf('cli') : LAYERS.indexOf(layer));
const src = dirname(fileURLToPath(import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : files(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

test('imports point down the layers only', () => {
  const violations: string[] = [];
  for (const file of files(src)) {
    const from = relative(src, file).split('/')[0];
    if (!LAYERS.includes(from)) continue;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const target = relative(src, resolve(dirname(file), match[1] ?? match[2]));
      const to = target.split('/')[0];
      if (LAYERS.includes(to) && rank(to) > rank(from)) violations.push(`${relative(src, file)} imports ${target}`);
    }
  }
  assert.deepEqual(violations, [], 'a lower layer imports a higher one');
});
