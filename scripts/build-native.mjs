// `npm install` hook: compiles the C kernels (native/, binding.gyp) into build/Release/rlaif_native.node with
// node-gyp. A failed build prints one notice and exits 0, so installs still succeed and the wasm/js kernels are used.
// Leaves out: prebuilt binaries. `--force` rebuilds even when the addon is already there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'rlaif_native.node');
const force = process.argv.includes('--force');

if (!force && existsSync(addon)) {
  console.log(`rlaif: native kernels already built (${addon}); \`npm run build:native\` rebuilds`);
  process.exit(0);
}

/** node-gyp's entry script: npm's own when npm runs us, else the one bundled with the npm next to node. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  const prefixes = [join(dirname(process.execPath), '..', 'lib'), '/usr/lib', '/usr/local/lib'];
  for (const prefix of prefixes) candidates.push(join(prefix, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  if (process.env.npm_execpath) {
    try {
      const req = createRequire(process.env.npm_execpath);
      candidates.push(req.resolve('node-gyp/bin/node-gyp.js'));
    } catch { /* npm without a bundled node-gyp */ }
  }
  return candidates.find((path) => existsSync(path)) ?? null;
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error?.message ?? ''}` };
}

const gyp = findNodeGyp();
const args = ['rebuild', '--release'];
if (process.env.npm_config_nodedir) args.push(`--nodedir=${process.env.npm_config_nodedir}`);
else if (existsSync('/usr/include/node/node_api.h') && !process.env.npm_config_nodedir) args.push('--nodedir=/usr');
const started = Date.now();
const result = gyp ? run(process.execPath, [gyp, ...args]) : run('npx', ['--yes', 'node-gyp', ...args]);

if (result.ok && existsSync(addon)) {
  console.log(`rlaif: native kernels built in ${((Date.now() - started) / 1000).toFixed(1)} s (${addon})`);
} else {
  const lastLines = result.output.trim().split('\n').slice(-8).join('\n');
  console.warn(`rlaif: could not build the native kernels (needs g++, make, python3 and Node headers); the wasm/js ` +
    `kernels will be used instead. Last build output:\n${lastLines}`);
}
process.exit(0);
