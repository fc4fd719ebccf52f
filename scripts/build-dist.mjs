// `npm pack` hook (prepack) and `npm run build`: compiles src/ to JavaScript + declarations in dist/ (tsc with
// tsconfig.build.json; relative `.ts` imports are rewritten to `.js`), then copies the files the code reads beside
// itself (judge templates, constitutions, the wasm kernels, testbed templates). Tests and fixtures stay out.
// Leaves out the native kernels: binding.gyp + native/ ship as sources and are built at install (build-native.mjs).
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src'), dist = join(root, 'dist');
const started = Date.now();
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  console.error('rlaif: the TypeScript build failed (see above); dist/ is incomplete');
  process.exit(result.status ?? 1);
}

/** Every file under src/ that is not TypeScript and not a test fixture: the code reads them relative to itself. */
function assets(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : assets(path);
    return entry.name.endsWith('.ts') ? [] : [path];
  });
}
const copied = assets(src);
for (const file of copied) cpSync(file, join(dist, relative(src, file)));
console.log(`rlaif: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (${copied.length} asset files copied)`);
