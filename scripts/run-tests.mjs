// Runs the test suite with node's test runner through tsx: every src/**/*.test.ts (Node 20's --test has no globs).
// Usage: node scripts/run-tests.mjs [path-substring ...]   e.g. `npm test -- engine/ops`
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' || entry.name === 'fixtures' ? [] : find(path);
    return entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

const files = find(join(root, 'src')).sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
  cwd: root, stdio: 'inherit', env: {
    ...process.env, RLAIF_POISON: process.env.RLAIF_POISON ?? '1',
    // The compiled GEMM blocking, whatever this machine's tuning cache holds, and no first-use search: the tests that
    // exercise tuning set their own file (a cached entry made the search test refuse to start from the default).
    RLAIF_AUTOTUNE: '0', RLAIF_TUNING_FILE: '/dev/null/rlaif-tests-use-no-tuning-file',
  },
});
process.exit(result.status ?? 1);
