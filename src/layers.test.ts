// The layering rule of DESIGN.md as a test: a file may import only its own layer and the layers above it in
// engine → models → feedback → algorithms → data → testbed → pipeline → surfaces (cli, server); a test (*.test.ts) may
// also import the testbed, the synthetic tasks lower layers' tests train on. And test doubles stay out of production:
// only tests and other test helpers (files in a testing/ folder) import from a testing/ folder.
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

/** Every relative import of every file under src/: [importing file, imported file], both relative to src/. */
function imports(): [string, string][] {
  return files(src).flatMap((file) => [...readFileSync(file, 'utf8')
    .matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)]
    .map((match): [string, string] => [relative(src, file), relative(src, resolve(dirname(file), match[1] ?? match[2]))]));
}

const isTest = (file: string) => file.endsWith('.test.ts');
const isTestHelper = (file: string) => file.split('/').includes('testing');

/** Violations of one rule, given as a predicate on (importing file, imported file). */
function layerViolations(edges: [string, string][]): string[] {
  return edges.filter(([file, target]) => {
    const from = file.split('/')[0], to = target.split('/')[0];
    if (!LAYERS.includes(from) || !LAYERS.includes(to) || rank(to) <= rank(from)) return false;
    return !(isTest(file) && to === 'testbed');
  }).map(([file, target]) => `${file} imports ${target}`);
}

function testingViolations(edges: [string, string][]): string[] {
  return edges.filter(([file, target]) => isTestHelper(target) && !isTest(file) && !isTestHelper(file))
    .map(([file, target]) => `${file} imports ${target}`);
}

test('imports point down the layers only', () => {
  assert.deepEqual(layerViolations(imports()), [], 'a lower layer imports a higher one');
});

test('no production file imports from a testing/ folder', () => {
  assert.deepEqual(testingViolations(imports()), [], 'a test double or test helper is reachable from production code');
});

test('the two rules catch what they are for', () => {
  assert.deepEqual(layerViolations([['engine/tensor.ts', 'models/config.ts'], ['models/config.ts', 'engine/tensor.ts'],
    ['algorithms/x.test.ts', 'testbed/digit-task.ts'], ['algorithms/x.test.ts', 'pipeline/run.ts'], ['algorithms/x.ts', 'testbed/digit-task.ts']]),
  ['engine/tensor.ts imports models/config.ts', 'algorithms/x.test.ts imports pipeline/run.ts', 'algorithms/x.ts imports testbed/digit-task.ts']);
  assert.deepEqual(testingViolations([['cli/train-command.ts', 'algorithms/testing/digit-task.ts'], ['algorithms/x.test.ts', 'algorithms/testing/a.ts'],
    ['feedback/testing/fake.ts', 'models/testing/tiny-models.ts'], ['pipeline/judge-run.ts', 'feedback/testing/deterministic-language-model.ts']]),
  ['cli/train-command.ts imports algorithms/testing/digit-task.ts', 'pipeline/judge-run.ts imports feedback/testing/deterministic-language-model.ts']);
});
