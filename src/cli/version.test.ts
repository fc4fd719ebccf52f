// `rlaif --version` prints package.json's version (issue 10 item 10).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('rlaif --version prints the package version', () => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  const out = spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url)), '--version'], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, `${version}\n`);
});
