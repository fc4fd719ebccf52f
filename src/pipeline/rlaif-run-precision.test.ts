// rlaif run says, before any work, when algorithm.precision bf16 will not pay on this machine (no AVX512_BF16, or not
// the native backend): one line on stderr naming the key. Where vdpbf16ps runs it says nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { precisionNotice } from '../algorithms/precision-config.ts';
import { rlaifRun } from './rlaif-run.ts';

test('algorithm.precision bf16: the notice is printed before the run starts, where it applies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-run-precision-'));
  const lines: string[] = [];
  t.mock.method(console, 'error', (...args: unknown[]) => { lines.push(args.join(' ')); });
  try {
    const config = join(dir, 'config.yaml');
    // No testbed: the run fails at once on its missing prompts file, after the notice.
    writeFileSync(config, 'rounds: 1\nalgorithm: {precision: bf16}\npolicy: {kind: checkpoint, path: missing-policy}\nlabeler: {kind: checkpoint, path: missing-labeler}\nprompts: {kind: file, path: missing-prompts.jsonl}\n');
    await assert.rejects(rlaifRun({ configPath: config, out: join(dir, 'run') }));
    const notice = precisionNotice('bf16'); // null where vdpbf16ps runs
    assert.deepEqual(lines.filter((l) => l.includes('precision bf16')), notice ? [`rlaif run: algorithm.${notice}`] : []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
