// The testbed config file as `rlaif testbed build --config` and the diagnostic scripts read it: YAML or JSON as
// written, an empty file as {}, and a missing or malformed file refused with an error naming it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTestbedConfigFile } from './testbed-config.ts';

test('readTestbedConfigFile: YAML and JSON as written, empty as {}, a missing or malformed file named in the error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-testbed-config-'));
  try {
    const file = (name: string, text: string) => { writeFileSync(join(dir, name), text); return join(dir, name); };
    assert.deepEqual(readTestbedConfigFile(file('a.yaml', 'policy:\n  finetuneSteps: 0\n')), { policy: { finetuneSteps: 0 } });
    assert.deepEqual(readTestbedConfigFile(file('b.json', '{"world": {"creatures": 8}}')), { world: { creatures: 8 } });
    assert.deepEqual(readTestbedConfigFile(file('empty.yaml', '')), {});
    assert.throws(() => readTestbedConfigFile(join(dir, 'missing.yaml')), (e: Error) => e.message.startsWith(`${join(dir, 'missing.yaml')}: cannot read the testbed config: ENOENT`));
    const bad = file('bad.yaml', 'policy: [\n');
    assert.throws(() => readTestbedConfigFile(bad), (e: Error) => e.message.startsWith(`${bad}: cannot read the testbed config:`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
