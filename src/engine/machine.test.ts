// Checks the machine description: /proc/cpuinfo parsing (family, model, stepping, only the dispatch flags, in order)
// and that the native backend's reported level, threads and blocking are what it runs with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBackend } from './backends/index.ts';
import { nativeCpuLevels } from './backends/native-backend.ts';
import { describeMachine, formatMachine, parseCpuinfo } from './machine.ts';

const ZEN4 = `processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14 96-Core Processor
stepping\t: 1
flags\t\t: fpu sse avx2 fma avx512f avx512dq avx512bw avx512vl avx512_bf16 avx512_vnni sha_ni

processor\t: 1
vendor_id\t: GenuineIntel
cpu family\t: 6
`;

test('parseCpuinfo reads the first processor: model, family, model number, stepping, dispatch flags in order', () => {
  const cpu = parseCpuinfo(ZEN4);
  assert.equal(cpu.model, 'AMD EPYC 9R14 96-Core Processor');
  assert.equal(cpu.vendor, 'AuthenticAMD');
  assert.equal(cpu.family, 25);
  assert.equal(cpu.modelNumber, 17);
  assert.equal(cpu.stepping, 1);
  assert.deepEqual(cpu.flags, ['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl', 'avx512_vnni', 'avx512_bf16']);
});

test('parseCpuinfo on text without the fields leaves them null rather than guessing', () => {
  const cpu = parseCpuinfo('processor : 0\nflags : sse2\n');
  assert.equal(cpu.family, null);
  assert.equal(cpu.stepping, null);
  assert.deepEqual(cpu.flags, []);
});

test('describeMachine reports the native backend as it runs: level, threads, blocking, dispatch features', (t) => {
  let backend;
  try { backend = loadBackend('native'); } catch { t.skip('native addon not built'); return; }
  const machine = describeMachine(backend);
  assert.equal(machine.backend, 'native');
  assert.equal(machine.threads, backend.threads);
  assert.ok(machine.level && nativeCpuLevels().includes(machine.level as never));
  assert.ok(machine.blocking && machine.blocking.mr > 0 && machine.blocking.kc > 0);
  assert.equal(typeof machine.features?.avx512bf16, 'boolean');
  // the level chosen agrees with what the dispatch sees
  if (machine.level === 'avx512' && !process.env.RLAIF_CPU) assert.equal(machine.features?.avx512f, true);
  const lines = formatMachine(machine);
  assert.match(lines.join('\n'), new RegExp(`level ${machine.level}, ${machine.threads} threads, gemm mr ${machine.blocking.mr}`));
});
