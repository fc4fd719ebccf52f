// Outputs are replaced whole (issue 10 item 9): writeJsonl and writeParquet write a new file and rename it over the
// old one, so a reader (or a hard link) holding the old file keeps it complete and a kill never leaves half a file.
import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readWithDuckDb, writeParquet } from './duckdb-format.ts';
import { writeJsonl } from './jsonl-file.ts';
import { readTrl } from './trl-format.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-atomic-'));
after(() => rmSync(directory, { recursive: true, force: true }));

describe('atomic outputs', () => {
  test('writeJsonl (plain and .gz) renames a new file over the old; the old one stays whole', () => {
    for (const name of ['out.jsonl', 'out.jsonl.gz']) {
      const path = join(directory, name), held = join(directory, `held-${name}`);
      writeJsonl(path, [{ a: 1 }, { a: 2 }]);
      linkSync(path, held);
      const before = readFileSync(held);
      writeJsonl(path, [{ b: 3 }]);
      assert.notEqual(statSync(path).ino, statSync(held).ino, 'a new file, not the old one rewritten in place');
      assert.ok(readFileSync(held).equals(before), 'the old file was not touched');
    }
    assert.deepEqual(readdirSync(directory).filter((n) => n.includes('.tmp')), []);
  });

  test('writeParquet renames a finished file into place and leaves no staging folder', async () => {
    const trl = join(directory, 'pairs.jsonl');
    writeJsonl(trl, [{ prompt: [{ role: 'user', content: 'hi' }], chosen: [{ role: 'assistant', content: 'hello' }], rejected: [{ role: 'assistant', content: 'go' }] }]);
    const records = readTrl(trl), path = join(directory, 'pairs.parquet'), held = join(directory, 'held.parquet');
    await writeParquet(path, records);
    linkSync(path, held);
    await writeParquet(path, records);
    assert.notEqual(statSync(path).ino, statSync(held).ino);
    assert.equal((await readWithDuckDb(held)).length, 1);
    assert.deepEqual(readdirSync(directory).filter((n) => n.startsWith('.rlaif-parquet-')), []);
  });
});
