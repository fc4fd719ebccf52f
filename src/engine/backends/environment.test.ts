// The engine's environment variables: bad thread counts and unknown CPU levels are errors naming the variable, and an
// unknown RLAIF_CPU no longer falls back to wasm (checked in a child process, where the backend is chosen fresh).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { engineEnvironment } from './environment.ts';

describe('engine environment variables', () => {
  it('accepts unset, empty and positive whole numbers', () => {
    assert.deepEqual(engineEnvironment({}), { threads: null, wasmThreads: null, cpu: null, amx: null });
    assert.deepEqual(engineEnvironment({ RLAIF_THREADS: '3', RLAIF_WASM_THREADS: '', RLAIF_CPU: 'generic', RLAIF_AMX: 'emulate' }),
      { threads: 3, wasmThreads: null, cpu: 'generic', amx: 'emulate' });
  });

  for (const [name, value] of [['RLAIF_THREADS', '0'], ['RLAIF_THREADS', 'abc'], ['RLAIF_THREADS', '2.5'], ['RLAIF_WASM_THREADS', '-1']]) {
    it(`${name}=${value} is an error naming the variable`, () => {
      assert.throws(() => engineEnvironment({ [name]: value }), new RegExp(`^Error: ${name} must be a whole number of threads >= 1.*got "${value}"`));
    });
  }

  it('an unknown RLAIF_CPU or RLAIF_AMX is an error', () => {
    assert.throws(() => engineEnvironment({ RLAIF_CPU: 'sse9' }), /RLAIF_CPU must be avx512, avx2 or generic .*got "sse9"/);
    assert.throws(() => engineEnvironment({ RLAIF_AMX: 'off' }), /RLAIF_AMX must be 0 .*got "off"/);
  });

  for (const [name, value, message] of [['RLAIF_CPU', 'sse9', /RLAIF_CPU must be/], ['RLAIF_THREADS', 'abc', /RLAIF_THREADS must be/]] as const) {
    it(`the first op with ${name}=${value} fails instead of running on a fallback backend`, () => {
      const code = `import('./src/engine/index.ts').then((m) => { m.getBackend(); console.log('ran on', m.getBackend().name); })`;
      const environment: NodeJS.ProcessEnv = { ...process.env, [name]: value };
      delete environment.RLAIF_BACKEND;
      const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { env: environment, encoding: 'utf8' });
      assert.notEqual(out.status, 0, `exited 0: ${out.stdout}`);
      assert.match(out.stderr, message);
      assert.doesNotMatch(out.stderr, /using wasm/);
    });
  }
});

describe('native threads', () => {
  // With 2 of 16 CPUs allowed (taskset, docker --cpuset-cpus), one thread per online CPU put 16 threads on 2 CPUs.
  const taskset = spawnSync('taskset', ['-c', '0', 'true']);
  it('default to the CPUs the process may run on (its affinity), not every online CPU', { skip: taskset.status !== 0 ? 'taskset cannot run here' : false }, () => {
    const code = `import('./src/engine/index.ts').then((m) => { m.setBackend('native'); console.log('threads', m.getBackend().threads); })`;
    const environment: NodeJS.ProcessEnv = { ...process.env };
    delete environment.RLAIF_THREADS;
    delete environment.RLAIF_BACKEND;
    const out = spawnSync('taskset', ['-c', '0', process.execPath, '--import', 'tsx', '-e', code], { env: environment, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, /^threads 1$/m);
  });
});
