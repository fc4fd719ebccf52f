// Per-machine GEMM tuning: RLAIF_GEMM_BLOCKING parsing, the tuning cache (per-machine keys, other entries kept),
// GEMM results unchanged under a non-default blocking, the search's choice (default unless beaten by the margin), and
// a fresh process applying a forced or cached blocking and saying which, and the first-use search (autotune.ts). The
// pool thresholds the same way: RLAIF_POOL_MIN_MACS, the cached entry's `pool`, the search's rule (pool-search.ts),
// and a first use that adds them to an entry written before they existed. The micro-kernel choice: on AVX-512 the AVX2
// micro-kernel gives the same bits for the same kc, the search measures both, and RLAIF_GEMM_KERNEL or the cached
// entry's `kernel` picks it in a new process. The split of a shared GEMM into tasks: same bits whatever the split, its
// search, RLAIF_GEMM_SPLIT and the cached `split`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { GemmParams } from './backend.ts';
import { JsBackend } from './backends/js-backend.ts';
import { compiledGemmBlocking, createNativeBackend, nativeCpuLevels, nativeGemmKernels, nativeGemmSplit, nativePoolThresholds, setNativeBlocking, setNativePoolThresholds, setNativeGemmKernel, setNativeGemmSplit } from './backends/native-backend.ts';
import { applyGemmChoice, searchGemmBlocking, searchGemmSplit } from './gemm-search.ts';
import { chooseThreshold, FEW_ROWS_LADDER, GENERAL_LADDER, searchPoolThresholds, STREAM_LADDER } from './pool-search.ts';
import { assertClose, poisoned, randomBuffer, uniforms } from './testing/kernel-check.ts';
import { allowedCpus, measureOthersBusy, othersBusyCpus, readCpuTimes, tuneBusyLimit } from './cpu-busy.ts';
import { blockingFromEnv, gemmKernelFromEnv, gemmSplitFromEnv, machineKey, POOL_LADDERS, poolThresholdsFromEnv, readTuning, writeTuning } from './tuning.ts';

const root = mkdtempSync(join(tmpdir(), 'tuning-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

let native = true;
try { nativeCpuLevels(); } catch { native = false; }

/**
 * A new process creates the native backend at `level` with `file` as its tuning cache and prints `shown` (an expression
 * over the backend `b`) as JSON; every tuning variable is cleared, then `env` set (RLAIF_AUTOTUNE 0 unless it says;
 * RLAIF_TUNE_BUSY_CPUS 64 unless it says: a search is recorded whatever else the machine runs, as before that check).
 */
function newProcess(level: string, file: string, shown: string, env: Record<string, string> = {}) {
  const script = `import('./src/engine/backends/native-backend.ts').then((m) => { const b = m.createNativeBackend('${level}'); console.log(JSON.stringify(${shown})); })`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, RLAIF_CPU: '', RLAIF_GEMM_BLOCKING: '',
    RLAIF_GEMM_KERNEL: '', RLAIF_GEMM_SPLIT: '', RLAIF_POOL_MIN_MACS: '', RLAIF_AUTOTUNE: '0', RLAIF_TUNING_FILE: file, RLAIF_TUNE_BUSY_CPUS: '64', ...env } });
  return { status: run.status, stderr: run.stderr, value: run.status === 0 ? JSON.parse(run.stdout) as unknown : null };
}

describe('GEMM tuning', () => {
  it('RLAIF_GEMM_BLOCKING is "mc,kc,nc" or an error naming the variable', () => {
    assert.equal(blockingFromEnv(undefined), null);
    assert.deepEqual(blockingFromEnv('336, 256,3072'), { mc: 336, kc: 256, nc: 3072 });
    for (const bad of ['336,256', 'a,b,c', '1.5,2,3', '-1,2,3']) assert.throws(() => blockingFromEnv(bad), /RLAIF_GEMM_BLOCKING/);
  });

  it('the cache keeps one entry per machine and level, and other entries on write', () => {
    const file = join(root, 'tuning.json');
    writeFileSync(file, JSON.stringify({ 'other cpu | family 1 model 2 stepping 3 | avx2': { mc: 12, kc: 64, nc: 96 } }));
    const entry = { mc: 28, kc: 128, nc: 3072, gflops: 10, defaultGflops: 9, measuredAt: 'now' };
    writeTuning('avx512', entry, file);
    assert.deepEqual(readTuning('avx512', file), entry);
    assert.equal(readTuning('avx2', file), null);
    assert.match(machineKey('avx512'), /family .* model .* stepping .* \| avx512$/);
    writeFileSync(file, '{ not json');
    assert.throws(() => readTuning('avx512', file), /tuning\.json: not a tuning file/);
  });

  it('every level computes the same products under a small non-default blocking (block edges everywhere)', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const js = new JsBackend(), next = uniforms(11);
    for (const level of nativeCpuLevels()) {
      const backend = createNativeBackend(level);
      const def = backend.blocking;
      setNativeBlocking(level, { mc: 2 * def.mr, kc: 32, nc: 2 * def.nr });
      try {
        for (const [M, N, K] of [[61, 200, 100], [200, 70, 90], [33, 65, 257]] as [number, number, number][]) {
          for (const transA of [false, true]) for (const transB of [false, true]) {
            const a = randomBuffer(next, M * K), b = randomBuffer(next, K * N);
            const p: Omit<GemmParams, 'c'> = { a, b, M, N, K, transA, transB, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 };
            const want = poisoned(M * N), got = poisoned(M * N);
            js.gemm({ ...p, c: want });
            backend.gemm({ ...p, c: got });
            assertClose(`${level} mc ${2 * def.mr} kc 32 nc ${2 * def.nr}: ${M}x${N}x${K} ${transA}/${transB}`, got, want, 1e-5, 1e-5 * K);
          }
        }
      } finally {
        setNativeBlocking(level, def);
      }
    }
  });

  it('the search keeps the default unless a candidate beats it by the margin', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const def = createNativeBackend(level).blocking;
    const other = { mc: def.mr, kc: 16, nc: def.nr };
    const options = { level, shapes: [[64, 64, 64]] as [number, number, number][], candidates: [other], rounds: 1, reps: 1 };
    const kept = searchGemmBlocking({ ...options, margin: 1e9 });
    assert.deepEqual([kept.chosen.mc, kept.chosen.kc, kept.chosen.nc], [def.mc, def.kc, def.nc]);
    assert.equal(kept.scores.length, 2);
    const taken = searchGemmBlocking({ ...options, margin: 0 });
    const best = taken.scores.reduce((a, b) => (b.gflops > a.gflops ? b : a)).blocking;
    assert.deepEqual([taken.chosen.mc, taken.chosen.kc], [best.mc, best.kc]);
    assert.equal(createNativeBackend(level).blocking.kc, def.kc, 'the default is set again after the search');
  });

  it('a new process applies RLAIF_GEMM_BLOCKING, else its cached entry, and says which', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const file = join(root, 'cached.json');
    const probe = createNativeBackend(level);
    writeTuning(level, { mc: 3 * probe.blocking.mr, kc: 48, nc: 4 * probe.blocking.nr, gflops: 1, defaultGflops: 1, measuredAt: 'now' }, file);
    const run = (env: Record<string, string>) => newProcess(level, file, '[b.blockingSource, b.blocking.mc, b.blocking.kc]', env);
    const cached = run({});
    assert.equal(cached.status, 0, cached.stderr);
    assert.deepEqual(cached.value, ['tuned', 3 * probe.blocking.mr, 48]);
    const forced = run({ RLAIF_GEMM_BLOCKING: `${probe.blocking.mr},64,${probe.blocking.nr}` });
    assert.deepEqual(forced.value, ['RLAIF_GEMM_BLOCKING', probe.blocking.mr, 64]);
    const bad = run({ RLAIF_GEMM_BLOCKING: `${probe.blocking.mr + 1},64,${probe.blocking.nr}` });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /RLAIF_GEMM_BLOCKING: setBlocking: mc must be a multiple of/);
  });

  it('without a cached entry the first process searches once and records it; the next reads it; RLAIF_AUTOTUNE=0 skips', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const run = (file: string, autotune: string) => newProcess(level, file, '[b.blockingSource, b.blocking.mc, b.blocking.kc]', { RLAIF_AUTOTUNE: autotune });
    const file = join(root, 'first-use', 'tuning.json');
    const first = run(file, '1');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /tuning the GEMM blocking and thread-pool thresholds for this CPU/);
    const entry = readTuning(level, file);
    assert.ok(entry && entry.gflops > 0 && entry.defaultGflops > 0, `recorded: ${JSON.stringify(entry)}`);
    assert.ok(entry.pool && entry.pool.general >= 1 && entry.pool.fewRows >= 1, `pool recorded: ${JSON.stringify(entry.pool)}`);
    assert.ok(entry.kernel && nativeGemmKernels(level).includes(entry.kernel), `micro-kernel recorded: ${entry.kernel}`);
    assert.ok(entry.split && [2, 4, 8, 16].includes(entry.split), `split recorded: ${entry.split}`);
    assert.deepEqual(first.value, ['tuned', entry.mc, entry.kc]);
    const second = run(file, '1');
    assert.deepEqual(second.value, ['tuned', entry.mc, entry.kc]);
    assert.doesNotMatch(second.stderr, /tuning the GEMM blocking/, 'searched once per machine');
    const off = join(root, 'off', 'tuning.json');
    const skipped = run(off, '0');
    assert.equal((skipped.value as unknown[])[0], 'default');
    assert.equal(existsSync(off), false, 'RLAIF_AUTOTUNE=0 writes nothing');
  });

  it('on AVX-512 the AVX2 micro-kernel computes the same bits at the same kc; its mr bounds the blocking; bad choices are errors', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    if (!nativeCpuLevels().includes('avx512')) { t.skip('no AVX-512 here: one micro-kernel to choose from'); return; }
    assert.deepEqual(nativeGemmKernels('avx512'), ['avx512', 'avx2']);
    assert.deepEqual(nativeGemmKernels('avx2'), ['avx2']);
    const backend = createNativeBackend('avx512'), own = backend.blocking, next = uniforms(5);
    const shapes: [number, number, number][] = [[1, 70, 300], [5, 96, 257], [16, 200, 100], [17, 65, 513], [61, 200, 100], [200, 70, 90], [130, 129, 700]];
    const cases = shapes.flatMap(([M, N, K]) => [false, true].flatMap((transA) => [false, true].map((transB) => ({
      M, N, K, transA, transB, a: randomBuffer(next, M * K), b: randomBuffer(next, K * N), c: randomBuffer(next, M * N), beta: transA ? 0.5 : 0 }))));
    const products = () => cases.map((p) => {
      const c = Float32Array.from(p.c);
      backend.gemm({ a: p.a, b: p.b, c, M: p.M, N: p.N, K: p.K, transA: p.transA, transB: p.transB, alpha: 0.75, beta: p.beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      return c;
    });
    try {
      setNativeBlocking('avx512', { mc: own.mc, kc: 256, nc: own.nc });
      const zmm = products();
      const ymm = compiledGemmBlocking('avx512', 'avx2');
      assert.deepEqual([ymm.kernel, ymm.mr, ymm.nr], ['avx2', 6, 16]);
      assert.equal(createNativeBackend('avx512').blocking.kernel, 'avx2');
      setNativeBlocking('avx512', { mc: 144, kc: 256, nc: 3072 });
      const avx2 = products();
      cases.forEach((p, i) => assert.deepEqual(avx2[i], zmm[i], `${p.M}x${p.N}x${p.K} ${p.transA}/${p.transB}: same bits on both micro-kernels`));
      assert.throws(() => setNativeBlocking('avx512', { mc: 14, kc: 256, nc: 3072 }), /mc must be a multiple of 6/);
    } finally {
      applyGemmChoice('avx512', own);
    }
    assert.deepEqual(createNativeBackend('avx512').blocking, own, 'the own micro-kernel and blocking are set again');
    assert.throws(() => setNativeGemmKernel('avx2', 'avx512'), /the avx2 level cannot run the avx512 micro-kernel/);
    assert.throws(() => setNativeGemmKernel('avx512', 'sse9' as 'avx2'), /unknown GEMM kernel "sse9"/);
  });

  it('the search measures every micro-kernel on AVX-512 and leaves the own one set', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const def = createNativeBackend(level).blocking;
    const result = searchGemmBlocking({ level, shapes: [[64, 64, 64]], rounds: 1, reps: 1 });
    assert.deepEqual([...new Set(result.scores.map((s) => s.blocking.kernel))], nativeGemmKernels(level));
    assert.ok(result.scores.every((s) => s.blocking.mc % (s.blocking.kernel === 'avx2' ? 6 : def.mr) === 0), 'each grid fits its kernel');
    assert.ok(nativeGemmKernels(level).includes(result.chosen.kernel));
    assert.deepEqual(createNativeBackend(level).blocking, def);
  });

  it('RLAIF_GEMM_KERNEL names a level or is an error naming the variable; a new process applies it, else the cached kernel', (t) => {
    assert.equal(gemmKernelFromEnv(undefined), null);
    assert.equal(gemmKernelFromEnv('avx2'), 'avx2');
    assert.throws(() => gemmKernelFromEnv('sse9'), /RLAIF_GEMM_KERNEL must name a level's micro-kernel \(avx512, avx2, generic\), got "sse9"/);
    const badFile = join(root, 'bad-kernel.json');
    writeTuning('avx2', { kernel: 'neon' as 'avx2', mc: 12, kc: 64, nc: 96, gflops: 1, defaultGflops: 1, measuredAt: 'now' }, badFile);
    assert.throws(() => readTuning('avx2', badFile), /bad-kernel\.json: entry .* has kernel = "neon", expected one of avx512, avx2, generic/);
    if (!native) { t.skip('native addon not built'); return; }
    if (!nativeCpuLevels().includes('avx512')) { t.skip('no AVX-512 here: one micro-kernel to choose from'); return; }
    const file = join(root, 'kernel.json');
    writeTuning('avx512', { kernel: 'avx2', mc: 72, kc: 128, nc: 3072, gflops: 1, defaultGflops: 1, measuredAt: 'now', pool: { general: 2097152, fewRows: 8388608, measuredAt: 'now' } }, file);
    const run = (env: Record<string, string>) => newProcess('avx512', file, '[b.blockingSource, b.blocking.kernel, b.blocking.mr, b.blocking.mc, b.blocking.kc]', env);
    const cached = run({});
    assert.equal(cached.status, 0, cached.stderr);
    assert.deepEqual(cached.value, ['tuned', 'avx2', 6, 72, 128]);
    const forced = run({ RLAIF_GEMM_KERNEL: 'avx2', RLAIF_TUNING_FILE: '/dev/null/none' });
    assert.equal(forced.status, 0, forced.stderr);
    assert.deepEqual(forced.value, ['RLAIF_GEMM_KERNEL', 'avx2', 6, 144, 256]);
    const own = run({ RLAIF_GEMM_KERNEL: 'avx512' });
    assert.deepEqual((own.value as unknown[]).slice(1, 3), ['avx512', 14], 'a forced kernel is not mixed with the cached choice');
    const bad = run({ RLAIF_GEMM_KERNEL: 'sse9' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /RLAIF_GEMM_KERNEL must name a level's micro-kernel/);
  });

  it('on AVX-512 an entry from before the micro-kernel choice is searched again once; the choice is recorded', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    if (!nativeCpuLevels().includes('avx512')) { t.skip('no AVX-512 here: one micro-kernel to choose from'); return; }
    const file = join(root, 'before-kernel.json');
    writeTuning('avx512', { mc: 42, kc: 48, nc: 3072, gflops: 1, defaultGflops: 1, measuredAt: 'then', pool: { general: 12345, fewRows: 67890, measuredAt: 'then' } }, file);
    const run = () => newProcess('avx512', file, 'b.blocking', { RLAIF_AUTOTUNE: '1' });
    const first = run();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /tuning the GEMM blocking and thread-pool thresholds for this CPU/);
    const entry = readTuning('avx512', file)!;
    assert.ok(entry.kernel && entry.measuredAt !== 'then', `searched again: ${JSON.stringify(entry)}`);
    assert.equal((first.value as { kernel: string }).kernel, entry.kernel);
    const second = run();
    assert.doesNotMatch(second.stderr, /tuning the/, 'once');
  });

  it('a shared GEMM gives the same bits whatever its split; the split search keeps the split in force unless beaten, and sets it back', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const backend = createNativeBackend(), before = nativeGemmSplit(), next = uniforms(9);
    const products: Array<[number, number, number, boolean, boolean]> = [[300, 200, 170, false, false], [257, 129, 300, true, false], [200, 300, 64, false, true], [130, 700, 90, true, true]];
    const cases = products.map(([M, N, K, transA, transB]) => ({ M, N, K, transA, transB, a: randomBuffer(next, M * K), b: randomBuffer(next, K * N) }));
    const run = () => cases.map((p) => {
      const c = new Float32Array(p.M * p.N);
      backend.gemm({ a: p.a, b: p.b, c, M: p.M, N: p.N, K: p.K, transA: p.transA, transB: p.transB, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      return c;
    });
    try {
      const results = [1, 4, 16, 64].map((split) => { setNativeGemmSplit(split); return run(); });
      for (const other of results.slice(1)) cases.forEach((p, i) => assert.deepEqual(other[i], results[0]![i], `${p.M}x${p.N}x${p.K}: same bits at every split`));
    } finally {
      setNativeGemmSplit(before);
    }
    for (const bad of [0, 65, 2.5]) assert.throws(() => setNativeGemmSplit(bad), /tasksPerThread must be a whole number in \[1, 64\]/);
    const options = { shapes: [[64, 64, 64]] as [number, number, number][], candidates: [2, 8], rounds: 1, reps: 1 };
    const kept = searchGemmSplit({ ...options, margin: 1e9 });
    assert.equal(kept.split, before);
    assert.deepEqual(kept.scores.map((s) => s.split), [before, 2, 8].filter((v, i, all) => all.indexOf(v) === i));
    const taken = searchGemmSplit({ ...options, margin: 0 });
    assert.equal(taken.split, taken.scores.reduce((a, b) => (b.gflops > a.gflops ? b : a)).split);
    assert.equal(nativeGemmSplit(), before, 'the split in force is set again after the search');
  });

  it('RLAIF_GEMM_SPLIT is a whole number in [1, 64] or an error naming the variable; a new process applies it, else the cached split', (t) => {
    assert.equal(gemmSplitFromEnv(undefined), null);
    assert.equal(gemmSplitFromEnv(' 8 '), 8);
    for (const bad of ['0', '65', '2.5', 'many']) assert.throws(() => gemmSplitFromEnv(bad), /RLAIF_GEMM_SPLIT must be a whole number of tasks per thread in \[1, 64\]/);
    const badFile = join(root, 'bad-split.json');
    writeTuning('avx2', { mc: 12, kc: 64, nc: 96, split: 0, gflops: 1, defaultGflops: 1, measuredAt: 'now' }, badFile);
    assert.throws(() => readTuning('avx2', badFile), /bad-split\.json: entry .* has split = 0, expected a whole number/);
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const probe = createNativeBackend(level).blocking;
    const file = join(root, 'split.json');
    writeTuning(level, { kernel: level, mc: probe.mc, kc: probe.kc, nc: probe.nc, split: 16, gflops: 1, defaultGflops: 1, measuredAt: 'now', pool: { general: 2097152, fewRows: 8388608, measuredAt: 'now' } }, file);
    const run = (env: Record<string, string>) => newProcess(level, file, 'b.split', env);
    const cached = run({});
    assert.equal(cached.status, 0, cached.stderr);
    assert.deepEqual(cached.value, { tasksPerThread: 16, source: 'tuned' });
    const forced = run({ RLAIF_GEMM_SPLIT: '2' });
    assert.deepEqual(forced.value, { tasksPerThread: 2, source: 'RLAIF_GEMM_SPLIT' });
    const none = run({ RLAIF_TUNING_FILE: '/dev/null/none' });
    assert.deepEqual(none.value, { tasksPerThread: 4, source: 'default' });
    const bad = run({ RLAIF_GEMM_SPLIT: '0' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /RLAIF_GEMM_SPLIT must be a whole number/);
  });

  it('RLAIF_POOL_MIN_MACS is "general,fewRows[,stream]" or an error naming the variable; a bad cached pool names the file', () => {
    assert.equal(poolThresholdsFromEnv(undefined), null);
    assert.deepEqual(poolThresholdsFromEnv('2097152, 8388608'), { general: 2097152, fewRows: 8388608 });
    assert.deepEqual(poolThresholdsFromEnv('2097152,8388608, 524288'), { general: 2097152, fewRows: 8388608, stream: 524288 });
    for (const bad of ['1', '0,5', 'a,b', '1.5,2', '1,2,3,4', '1,2,0', `1,${2 ** 41}`]) assert.throws(() => poolThresholdsFromEnv(bad), /RLAIF_POOL_MIN_MACS/);
    const file = join(root, 'bad-pool.json');
    writeTuning('avx2', { mc: 12, kc: 64, nc: 96, gflops: 1, defaultGflops: 1, measuredAt: 'now', pool: { general: 0, fewRows: 5, measuredAt: 'now' } }, file);
    assert.throws(() => readTuning('avx2', file), /bad-pool\.json: entry .* has pool\.general = 0/);
    writeTuning('avx2', { mc: 12, kc: 64, nc: 96, gflops: 1, defaultGflops: 1, measuredAt: 'now', pool: { general: 5, fewRows: 5, stream: 0.5, measuredAt: 'now' } }, file);
    assert.throws(() => readTuning('avx2', file), /bad-pool\.json: entry .* has pool\.stream = 0\.5/);
  });

  it('the stream threshold alone decides whether a one-row product over a large B is split over the threads', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const backend = createNativeBackend();
    if (backend.threads < 2) { t.skip('one thread: no pool'); return; }
    const before = nativePoolThresholds(), next = uniforms(5), js = new JsBackend();
    const K = 768, N = 768, a = Float32Array.from({ length: K }, next), b = Float32Array.from({ length: K * N }, next);
    const product = (thresholds: { general: number; fewRows: number; stream: number }, on: { gemm: JsBackend['gemm'] } = backend) => {
      setNativePoolThresholds(thresholds);
      const c = new Float32Array(N);
      on.gemm({ a, b, c, M: 1, N, K, transA: false, transB: false, alpha: 1, beta: 0, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
      return c;
    };
    const never = 2 ** 40;
    try {
      const single = product({ general: never, fewRows: never, stream: never });
      // Split over the threads, B's rows go to partial sums added at the end: other rounding, the same product.
      const split = product({ general: never, fewRows: never, stream: K * N });
      assert.ok(split.some((value, i) => value !== single[i]), 'split over the threads at the stream threshold');
      assertClose('1x768x768 split over the threads', split, product({ general: never, fewRows: never, stream: never }, js), 1e-5, 1e-5 * K);
      // the general and few-row thresholds do not move it (it was general / 4 before)
      assert.deepEqual(product({ general: 1, fewRows: 1, stream: K * N + 1 }), single);
      assert.deepEqual(product({ general: never, fewRows: never, stream: K * N }), split);
    } finally {
      setNativePoolThresholds(before);
    }
  });

  it('the pool threshold is the smallest shape from which the pool wins by the margin at every larger one', () => {
    const point = (macs: number, singleUs: number, pooledUs: number) => ({ macs, singleUs, pooledUs });
    // wins everywhere: the smallest shape; wins from 4M on: 4M; wins at 2M but loses at 4M: from 8M on
    assert.equal(chooseThreshold([point(1e6, 10, 8), point(2e6, 20, 12), point(4e6, 40, 22)], 1.1), 1e6);
    assert.equal(chooseThreshold([point(4e6, 40, 22), point(1e6, 10, 11), point(2e6, 20, 19)], 1.1), 4e6);
    assert.equal(chooseThreshold([point(1e6, 10, 11), point(2e6, 20, 12), point(4e6, 40, 39), point(8e6, 80, 45)], 1.1), 8e6);
    // never by the margin: past the ladder
    assert.equal(chooseThreshold([point(1e6, 10, 9.5), point(2e6, 20, 19)], 1.1), 4e6);
  });

  it('a new process applies RLAIF_POOL_MIN_MACS, else the cached pool, and says which; a first use adds a missing pool', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const probe = createNativeBackend(level);
    const file = join(root, 'pool.json');
    const blocking = { mc: probe.blocking.mc, kc: probe.blocking.kc, nc: probe.blocking.nc, gflops: 1, defaultGflops: 1, measuredAt: 'now' };
    writeTuning(level, { ...blocking, pool: { general: 12345, fewRows: 67890, stream: 4567, measuredAt: 'now' } }, file);
    const run = (env: Record<string, string>) => newProcess(level, file, 'b.pool', env);
    const cached = run({});
    assert.equal(cached.status, 0, cached.stderr);
    assert.deepEqual(cached.value, { general: 12345, fewRows: 67890, stream: 4567, source: 'tuned' });
    const forced = run({ RLAIF_POOL_MIN_MACS: '111,222,333' });
    assert.deepEqual(forced.value, { general: 111, fewRows: 222, stream: 333, source: 'RLAIF_POOL_MIN_MACS' });
    const two = run({ RLAIF_POOL_MIN_MACS: '111,222' });              // the stream threshold left at its compiled default
    assert.deepEqual(two.value, { general: 111, fewRows: 222, stream: 524288, source: 'RLAIF_POOL_MIN_MACS' });
    const bad = run({ RLAIF_POOL_MIN_MACS: '111' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /RLAIF_POOL_MIN_MACS must be two or three whole numbers/);
    // an entry from before the stream threshold: the first process with tuning on measures the pool again, once
    writeTuning(level, { ...blocking, kernel: level, split: 4, pool: { general: 12345, fewRows: 67890, measuredAt: 'then' } }, file);
    const again = run({ RLAIF_AUTOTUNE: '1' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /tuning the thread-pool thresholds for this CPU/);
    const remeasured = readTuning(level, file)!.pool!;
    assert.ok(remeasured.stream !== undefined && remeasured.measuredAt !== 'then', `pool measured again: ${JSON.stringify(remeasured)}`);
    assert.deepEqual(again.value, { general: remeasured.general, fewRows: remeasured.fewRows, stream: remeasured.stream, source: 'tuned' });
    assert.doesNotMatch(run({ RLAIF_AUTOTUNE: '1' }).stderr, /tuning/);
    assert.equal(remeasured.ladders, POOL_LADDERS, 'the ladders measured on are recorded');
    // an entry measured on older ladders (no `ladders`: version 1, the few-row ladder from 1 million multiply-adds):
    // measured again once, the blocking kept
    writeTuning(level, { ...blocking, kernel: level, split: 4, kc: 64, pool: { ...remeasured, ladders: undefined, measuredAt: 'old ladders' } }, file);
    const older = run({ RLAIF_AUTOTUNE: '1' });
    assert.equal(older.status, 0, older.stderr);
    assert.match(older.stderr, /tuning the thread-pool thresholds for this CPU/);
    const relearned = readTuning(level, file)!;
    assert.equal(relearned.kc, 64);
    assert.ok(relearned.pool!.ladders === POOL_LADDERS && relearned.pool!.measuredAt !== 'old ladders', `pool measured again: ${JSON.stringify(relearned.pool)}`);
    assert.doesNotMatch(run({ RLAIF_AUTOTUNE: '1' }).stderr, /tuning/);
    writeTuning(level, { ...blocking, pool: { ...remeasured, ladders: 0 } }, file);
    assert.throws(() => readTuning(level, file), /has pool\.ladders = 0, expected a whole number >= 1/);
    // an entry from before the pool search: the first process with tuning on adds its pool alone, the blocking kept
    writeTuning(level, { ...blocking, kernel: level, split: 4, kc: 48 }, file);
    const first = run({ RLAIF_AUTOTUNE: '1' });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /tuning the thread-pool thresholds for this CPU/);
    const entry = readTuning(level, file)!;
    assert.equal(entry.kc, 48);
    assert.ok(entry.pool, 'pool added');
    assert.deepEqual(first.value, { general: entry.pool.general, fewRows: entry.pool.fewRows, stream: entry.pool.stream, source: 'tuned' });
  });

  it('the pool is measured on every CPU the process may use, whatever RLAIF_THREADS says; a one-thread measurement is redone where there are more', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const probe = createNativeBackend(level);
    const file = join(root, 'pool-threads.json');
    const blocking = { mc: probe.blocking.mc, kc: probe.blocking.kc, nc: probe.blocking.nc, kernel: level, split: 4, gflops: 1, defaultGflops: 1, measuredAt: 'now' };
    const run = (env: Record<string, string>) => newProcess(level, file, '[b.threads, b.pool]', env);
    // an entry from before the threads were recorded: measured again once, here by a process held to one thread
    writeTuning(level, { ...blocking, pool: { general: 12345, fewRows: 67890, stream: 4567, measuredAt: 'then' } }, file);
    const first = run({ RLAIF_AUTOTUNE: '1', RLAIF_THREADS: '1' });
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, /tuning the thread-pool thresholds for this CPU/);
    assert.equal((first.value as [number])[0], 1, 'the process itself keeps its one thread');
    const pool = readTuning(level, file)!.pool!;
    assert.equal(pool.threads, Math.min(availableParallelism(), 64), `measured on every usable CPU: ${JSON.stringify(pool)}`);
    assert.doesNotMatch(run({ RLAIF_AUTOTUNE: '1', RLAIF_THREADS: '1' }).stderr, /tuning/);
    // a one-thread measurement (the compiled thresholds, nothing measured) is redone where the process may use more CPUs
    writeTuning(level, { ...blocking, pool: { general: 2097152, fewRows: 8388608, stream: 524288, threads: 1, measuredAt: 'then' } }, file);
    const again = run({ RLAIF_AUTOTUNE: '1' });
    assert.equal(again.status, 0, again.stderr);
    if (availableParallelism() < 2) {
      assert.doesNotMatch(again.stderr, /tuning/);
      return;
    }
    assert.match(again.stderr, /tuning the thread-pool thresholds for this CPU/);
    assert.ok(readTuning(level, file)!.pool!.threads! >= 2);
    // a recorded threads count must be a whole number >= 1
    writeTuning(level, { ...blocking, pool: { general: 5, fewRows: 5, stream: 5, threads: 0, measuredAt: 'now' } }, file);
    assert.throws(() => readTuning(level, file), /pool-threads\.json: entry .* has pool\.threads = 0/);
  });

  it('the pool search measures its three ladders, gives thresholds on or past them, and restores the process\'s thresholds', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const before = nativePoolThresholds();
    const result = searchPoolThresholds({ rounds: 1 });
    assert.deepEqual(nativePoolThresholds(), before);
    if (result.threads < 2) { t.skip('one thread: no pool to measure'); return; }
    assert.equal(result.points.general.length, GENERAL_LADDER.length);
    assert.equal(result.points.fewRows.length, FEW_ROWS_LADDER.length);
    assert.equal(result.points.stream.length, STREAM_LADDER.length);
    for (const [name, ladder, threshold] of [['general', GENERAL_LADDER, result.general], ['fewRows', FEW_ROWS_LADDER, result.fewRows], ['stream', STREAM_LADDER, result.stream]] as const) {
      const macs = ladder.map(([M, N, K]) => M * N * K);
      assert.ok(macs.includes(threshold) || threshold === 2 * Math.max(...macs), `${name} threshold ${threshold} is a ladder shape or past it`);
    }
    for (const p of [...result.points.general, ...result.points.fewRows, ...result.points.stream]) assert.ok(p.singleUs > 0 && p.pooledUs > 0);
    // no memory for the stream ladder's copies (a size no allocation gets): that ladder is left out, its threshold kept
    const lean = searchPoolThresholds({ rounds: 1, streamCopiesMiB: [2 ** 24] });
    assert.deepEqual(lean.points.stream, []);
    assert.equal(lean.stream, before.stream);
    assert.deepEqual(nativePoolThresholds(), before);
  });

  it('/proc/stat is read into busy and total jiffies; the others\' CPUs are the busy ones less this process\'s own', () => {
    const stat = (user: number, idle: number, steal: number) => `cpu  ${user} 0 100 ${idle} 10 0 0 ${steal} 0 0\ncpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\nintr 5\n`;
    const before = readCpuTimes(stat(1000, 5000, 0))!;
    assert.deepEqual(before, { busy: 1100, total: 6110, cpus: 2 });
    // 1 s on 2 CPUs (200 jiffies at 100 Hz): 150 busy, 50 of them stolen; this process used 0.5 s of CPU
    const after = readCpuTimes(stat(1100, 5050, 50))!;
    assert.equal(after.total - before.total, 200);
    assert.ok(Math.abs(othersBusyCpus(before, after, 500_000, 1000)! - 1.0) < 1e-9, 'busy 1.5 CPUs, own 0.5');
    assert.equal(othersBusyCpus(before, after, 2_000_000, 1000), 0, 'never below 0');
    assert.equal(othersBusyCpus(null, after, 0, 1000), null);
    assert.equal(readCpuTimes('intr 5\n'), null);
    // the CPUs this process may use: their own lines only
    assert.deepEqual(readCpuTimes(stat(1000, 5000, 0), [1]), { busy: 1, total: 2, cpus: 1 });
    assert.equal(readCpuTimes(stat(1000, 5000, 0), [7]), null, 'no line for that CPU');
    assert.deepEqual(allowedCpus('Name:\tnode\nCpus_allowed:\t3f\nCpus_allowed_list:\t0-2,5,7-8\n'), [0, 1, 2, 5, 7, 8]);
    assert.equal(allowedCpus('Name:\tnode\n'), null);
    assert.equal(tuneBusyLimit(undefined), 0.25);
    assert.equal(tuneBusyLimit('1.5'), 1.5);
    assert.throws(() => tuneBusyLimit('-1'), /RLAIF_TUNE_BUSY_CPUS must be a number of CPUs >= 0/);
  });

  /** A process that keeps one CPU busy until killed. */
  const spinner = () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });

  it('a process spinning beside a measured interval counts as other work', async (t) => {
    if (readCpuTimes() === null || availableParallelism() < 2) { t.skip('needs /proc/stat and 2 CPUs'); return; }
    const busy = spinner();
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const { othersCpus } = measureOthersBusy(() => { const until = performance.now() + 400; while (performance.now() < until) { /* this process's own work */ } });
      assert.ok(othersCpus !== null && othersCpus >= 0.5, `a spinning neighbour took ${othersCpus} CPUs`);
    } finally {
      busy.kill();
    }
  });

  it('only the CPUs the process may run on count: a neighbour spinning on another CPU is not other work', (t) => {
    const taskset = spawnSync('taskset', ['-c', '0', 'true']);
    if (readCpuTimes() === null || availableParallelism() < 2 || taskset.status !== 0) { t.skip('needs /proc/stat, 2 CPUs and taskset'); return; }
    const measure = "import('./src/engine/cpu-busy.ts').then((m) => { const r = m.measureOthersBusy(() => { const until = performance.now() + 500; while (performance.now() < until) {} }); console.log(JSON.stringify([m.allowedCpus(), r.othersCpus])); })";
    const beside = (cpu: string) => {
      const busy = spawn('taskset', ['-c', cpu, process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' });
      try {
        spawnSync(process.execPath, ['-e', 'const until = Date.now() + 200; while (Date.now() < until) {}']);  // the spinner started
        const run = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', '-e', measure], { encoding: 'utf8' });
        assert.equal(run.status, 0, run.stderr);
        return JSON.parse(run.stdout) as [number[], number];
      } finally {
        busy.kill();
      }
    };
    // Other work on CPU 0 (a busy machine, test files running beside this one) counts in both measurements alike; the
    // spinner counts only where it shares this process's CPU: about half of it, beside this process's own spinning.
    const [cpus, elsewhere] = beside('1');
    assert.deepEqual(cpus, [0]);
    const [, here] = beside('0');
    assert.ok(here - elsewhere >= 0.3, `a spinner on this process's CPU 0 counts (${here}); one on CPU 1 does not (${elsewhere})`);
    assert.ok(elsewhere < 0.9, `a spinner on CPU 1 is not on this process's CPU 0: ${elsewhere}`);
  });

  it('a first use beside other work records the compiled defaults marked busy, and searches again at most TUNE_SEARCHES times', async (t) => {
    if (!native || readCpuTimes() === null || availableParallelism() < 2) { t.skip('needs the native addon, /proc/stat and 2 CPUs'); return; }
    const level = nativeCpuLevels()[0];
    const file = join(root, 'busy', 'tuning.json');
    const compiled = createNativeBackend(level).blocking, compiledSplit = nativeGemmSplit(), compiledPool = nativePoolThresholds();
    const run = (env: Record<string, string> = {}) => newProcess(level, file, '[b.blockingSource, b.blocking.mc, b.blocking.kc, b.pool]', { RLAIF_AUTOTUNE: '1', RLAIF_TUNE_BUSY_CPUS: '0.25', ...env });
    const busy = spinner();
    try {
      const first = run();
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stderr, /other work kept \d+\.\d+ CPUs busy during the GEMM blocking search .* the next start searches again \(search 1 of 3\)/);
      const entry = readTuning(level, file)!;
      assert.ok(entry.busyCpus! > 0.25 && entry.searches === 1, `marked busy: ${JSON.stringify(entry)}`);
      assert.deepEqual([entry.kernel, entry.mc, entry.kc, entry.nc, entry.split], [level, compiled.mc, compiled.kc, compiled.nc, compiledSplit], 'the compiled defaults, not the noise');
      assert.ok(entry.pool!.busyCpus! > 0.25, `pool marked busy: ${JSON.stringify(entry.pool)}`);
      assert.deepEqual([entry.pool!.general, entry.pool!.fewRows, entry.pool!.stream], [compiledPool.general, compiledPool.fewRows, compiledPool.stream]);
      // the third busy search is the last: later starts keep the defaults without searching
      writeTuning(level, { ...entry, searches: 2, pool: { ...entry.pool!, searches: 2 } }, file);
      const third = run();
      assert.match(third.stderr, /no more searches run at start-up \(3 were busy\); `rlaif tune --search` on a quiet machine sets them/);
      assert.equal(readTuning(level, file)!.searches, 3);
      const fourth = run();
      assert.equal(fourth.status, 0, fourth.stderr);
      assert.doesNotMatch(fourth.stderr, /tuning/, 'no search after TUNE_SEARCHES busy ones');
      assert.deepEqual(fourth.value, ['busy', compiled.mc, compiled.kc, { ...compiledPool, source: 'busy' }], 'the compiled defaults, said to be for a busy search');
    } finally {
      busy.kill();
    }
    // a search that counts (here: any other work allowed) replaces a busy entry, and is the last
    writeTuning(level, { ...readTuning(level, file)!, searches: 1, pool: { ...readTuning(level, file)!.pool!, searches: 1 } }, file);
    const quiet = run({ RLAIF_TUNE_BUSY_CPUS: '64' });
    assert.match(quiet.stderr, /tuning the GEMM blocking and thread-pool thresholds/);
    const settled = readTuning(level, file)!;
    assert.equal(settled.busyCpus, undefined);
    assert.equal(settled.pool!.busyCpus, undefined);
    assert.equal(settled.searches, 2);
    assert.doesNotMatch(run().stderr, /tuning/);
  });

  it('a tuning cache that cannot be written: no search at all (it could not be kept), the compiled defaults, said once', (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const run = newProcess(level, '/dev/null/cannot/tuning.json', '[b.blockingSource, b.pool.source]', { RLAIF_AUTOTUNE: '1' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /rlaif: the tuning cache \/dev\/null\/cannot\/tuning\.json cannot be written \(.*\), so no search runs: the compiled defaults stand/);
    assert.doesNotMatch(run.stderr, /tuning the GEMM blocking/);
    assert.deepEqual(run.value, ['default', 'default']);
  });

  it('processes starting at once search one at a time: the others wait and use what the first recorded; a dead holder\'s lock is taken over', async (t) => {
    if (!native) { t.skip('native addon not built'); return; }
    const level = nativeCpuLevels()[0];
    const file = join(root, 'together', 'tuning.json');
    const start = () => new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const script = `import('./src/engine/backends/native-backend.ts').then((m) => { const b = m.createNativeBackend('${level}'); console.log(JSON.stringify([b.blockingSource, b.blocking.mc, b.blocking.kc])); })`;
      const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { env: { ...process.env, RLAIF_CPU: '', RLAIF_GEMM_BLOCKING: '', RLAIF_GEMM_KERNEL: '', RLAIF_GEMM_SPLIT: '',
        RLAIF_POOL_MIN_MACS: '', RLAIF_AUTOTUNE: '1', RLAIF_TUNING_FILE: file, RLAIF_TUNE_BUSY_CPUS: '64' } });
      let stderr = '', stdout = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
      child.on('close', (code) => resolve({ code, stderr, stdout }));
    });
    const runs = await Promise.all([start(), start(), start()]);
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const searches = runs.filter((r) => /tuning the GEMM blocking/.test(r.stderr)).length;
    assert.equal(searches, 1, `one search: ${runs.map((r) => r.stderr).join(' | ')}`);
    const entry = readTuning(level, file)!;
    for (const r of runs) assert.deepEqual(JSON.parse(r.stdout), ['tuned', entry.mc, entry.kc]);
    assert.equal(existsSync(`${file}.lock`), false, 'the lock is let go');
    // a lock left by a process that is gone: taken over, the search made, the lock let go
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const stale = join(root, 'stale', 'tuning.json');
    mkdirSync(join(root, 'stale'), { recursive: true });
    writeFileSync(`${stale}.lock`, gone.stdout);
    const after = newProcess(level, stale, 'b.blockingSource', { RLAIF_AUTOTUNE: '1' });
    assert.equal(after.status, 0, after.stderr);
    assert.match(after.stderr, /tuning the GEMM blocking/);
    assert.doesNotMatch(after.stderr, /waiting for process/);
    assert.equal(after.value, 'tuned');
    assert.equal(existsSync(`${stale}.lock`), false);
  });
});
