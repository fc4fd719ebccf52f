// Prints the compiler flags of an optional instruction set when this machine's C compiler ($CC, else cc) accepts
// them, else nothing: binding.gyp builds level_amx.c with `-mamx-tile -mamx-bf16` only where the compiler knows them
// (GCC 11 and later, Clang 12 and later); an older one builds its stubs and the bf16 GEMMs stay on vdpbf16ps.
// Usage: node scripts/cc-flags.mjs amx
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const sets = {
  amx: { flags: ['-mamx-tile', '-mamx-bf16'], source: '#include <immintrin.h>\nvoid f(void) { _tile_zero(0); _tile_dpbf16ps(0, 1, 2); }\n' },
};
const set = sets[process.argv[2]];
if (!set) {
  console.error(`cc-flags: unknown set "${process.argv[2]}" (${Object.keys(sets).join(', ')})`);
  process.exit(1);
}
const directory = mkdtempSync(join(tmpdir(), 'rlaif-cc-'));
try {
  writeFileSync(join(directory, 'probe.c'), set.source);
  const compiler = (process.env.CC || 'cc').split(/\s+/);
  const run = spawnSync(compiler[0], [...compiler.slice(1), ...set.flags, '-c', join(directory, 'probe.c'), '-o', join(directory, 'probe.o')], { stdio: 'ignore' });
  if (run.status === 0) console.log(set.flags.join(' '));
} finally {
  rmSync(directory, { recursive: true, force: true });
}
