// The AMX path of the bf16 GEMMs (level_amx.c's tiles over level_bf16.c's AMX packings: 16-row A slivers with k
// contiguous, B pairs padded to whole tiles) runs only where the CPU has AMX-BF16 (Intel Sapphire Rapids on). So
// that CI checks its packings, stores and sliver loops on any AVX512_BF16 machine, the gemmMixed and gemmBf16 tests
// run again in a child process with RLAIF_AMX=emulate: the same layout, its tiles computed in plain C. On an AMX
// machine the ordinary run of those tests covers the hardware tiles (the backend reports bf16Gemm 'amx').
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));

function childEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = { ...process.env, RLAIF_AMX: 'emulate' };
  delete environment.RLAIF_BACKEND;
  delete environment.RLAIF_CPU;
  delete environment.NODE_TEST_CONTEXT; // a nested node --test reports to its own stdout, not to this runner
  return environment;
}

const probe = spawnSync(process.execPath, ['--import', 'tsx', '-e',
  `import('./src/engine/index.ts').then((m) => { m.setBackend('native'); console.log('bf16Gemm', m.getBackend().bf16Gemm); })`],
{ cwd: root, env: childEnvironment(), encoding: 'utf8' });
const mode = /bf16Gemm (\S+)/.exec(probe.stdout)?.[1];

describe('the AMX layout of the bf16 GEMMs (RLAIF_AMX=emulate)', () => {
  it('is what the native backend uses when asked', { skip: mode === 'widen' ? 'this CPU has no AVX512_BF16: no bf16 GEMM on packed pairs' : false }, () => {
    assert.equal(probe.status, 0, probe.stderr);
    assert.equal(mode, 'amx-emulated');
  });

  it('passes the gemmMixed and gemmBf16 tests', { skip: mode !== 'amx-emulated' ? `bf16Gemm is ${mode}` : false, timeout: 300_000 }, () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap',
      'src/engine/backends/mixed-gemm.test.ts', 'src/engine/backends/decode-kernels.test.ts'], { cwd: root, env: childEnvironment(), encoding: 'utf8' });
    const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(run.stdout)?.[1] ?? NaN);
    assert.equal(run.status, 0, `${run.stdout.split('\n').filter((line) => /not ok|Error|expected|actual/.test(line)).slice(0, 20).join('\n')}\n${run.stderr.slice(-2000)}`);
    assert.ok(count('pass') >= 10, `ran ${count('pass')} tests:\n${run.stdout.slice(-1000)}`);
    assert.equal(count('fail'), 0);
  });
});
