// `rlaif tune`: shows the machine and this CPU's tuning entry; `--search` measures and records one (here the short
// search, --quick), `--dry-run` records nothing; a search beside a busy CPU records the compiled defaults marked busy,
// says so and exits non-zero; flags that go with --search are refused without it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nativeCpuLevels } from '../engine/backends/native-backend.ts';
import { readCpuTimes } from '../engine/cpu-busy.ts';
import { readTuning } from '../engine/tuning.ts';

const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'rlaif-tune-command-'));
after(() => rmSync(root, { recursive: true, force: true }));
let native = true;
try { nativeCpuLevels(); } catch { native = false; }

function tune(file: string, args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [bin, 'tune', ...args], { encoding: 'utf8', env: { ...process.env, RLAIF_CPU: '', RLAIF_GEMM_BLOCKING: '', RLAIF_GEMM_KERNEL: '',
    RLAIF_GEMM_SPLIT: '', RLAIF_POOL_MIN_MACS: '', RLAIF_AUTOTUNE: '0', RLAIF_TUNING_FILE: file, RLAIF_TUNE_BUSY_CPUS: '64', ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

test('rlaif tune shows the machine and its entry; --search records one, --dry-run nothing; its flags need --search', (t) => {
  if (!native) { t.skip('native addon not built'); return; }
  const level = nativeCpuLevels()[0];
  const file = join(root, 'quiet', 'tuning.json');
  const shown = tune(file, []);
  assert.equal(shown.status, 0, shown.stderr);
  assert.match(shown.stdout, /^MACHINE cpu .*\nMACHINE flags /m);
  assert.match(shown.stdout, /MACHINE kernels native level \w+, \d+ threads, gemm mr \d+ nr \d+ mc \d+ kc \d+ nc \d+ \(default\)/);
  assert.match(shown.stdout, /tuning: no entry for ".*" in .*quiet\/tuning\.json/);
  const dry = tune(file, ['--search', '--quick', '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /found: the \w+ micro-kernel, mc \d+ kc \d+ nc \d+/);
  assert.match(dry.stdout, /--dry-run: nothing recorded/);
  assert.equal(existsSync(file), false, '--dry-run writes nothing');
  const searched = tune(file, ['--search', '--quick']);
  assert.equal(searched.status, 0, searched.stderr);
  assert.match(searched.stdout, /other work during the GEMM blocking search: (\d+\.\d+ CPUs busy on average|not known here)/);
  const entry = readTuning(level, file)!;
  assert.ok(entry && entry.pool && entry.busyCpus === undefined, `recorded: ${JSON.stringify(entry)}`);
  const after = tune(file, []);
  assert.match(after.stdout, new RegExp(`gemm mr \\d+ nr \\d+( \\(the \\w+ micro-kernel\\))? mc ${entry.mc} kc ${entry.kc} nc ${entry.nc} \\(tuned\\)`));
  assert.match(after.stdout, new RegExp(`gemm: the ${entry.kernel} micro-kernel, mc ${entry.mc} kc ${entry.kc} nc ${entry.nc}, ${entry.split} tasks a thread`));
  assert.match(after.stdout, new RegExp(`pool: from ${entry.pool!.general} multiply-adds, few rows from ${entry.pool!.fewRows}`));
  const unwritable = tune('/dev/null/cannot/tuning.json', ['--search', '--quick']);
  assert.equal(unwritable.status, 1);
  assert.match(unwritable.stderr, /the tuning cache \/dev\/null\/cannot\/tuning\.json cannot be written/);
  assert.doesNotMatch(unwritable.stdout, /searching/, 'refused before the search');
  for (const flag of ['--quick', '--dry-run']) {
    const refused = tune(file, [flag]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /--quick and --dry-run go with --search/);
  }
});

test('rlaif tune --search beside a busy CPU records the compiled defaults marked busy, says so, and exits non-zero', async (t) => {
  if (!native || readCpuTimes() === null || availableParallelism() < 2) { t.skip('needs the native addon, /proc/stat and 2 CPUs'); return; }
  const level = nativeCpuLevels()[0];
  const file = join(root, 'busy', 'tuning.json');
  const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const busy = tune(file, ['--search', '--quick'], { RLAIF_TUNE_BUSY_CPUS: '0.25' });
    assert.equal(busy.status, 1, busy.stdout + busy.stderr);
    assert.match(busy.stdout, /other work kept \d+\.\d+ CPUs busy during the GEMM blocking search .* the compiled defaults stand, and the next start searches again \(search 1 of 3\)/);
    const entry = readTuning(level, file)!;
    assert.ok(entry.busyCpus! > 0.25, `marked busy: ${JSON.stringify(entry)}`);
    assert.match(tune(file, []).stdout, /gemm: .* \(compiled defaults: other work kept \d+(\.\d+)? CPUs busy during its search 1 of 3; the next start searches again\)/);
    assert.match(tune(file, []).stdout, /MACHINE kernels .* \(busy\) in \d+ tasks a thread \(busy\)/);
  } finally {
    spinner.kill();
  }
});
