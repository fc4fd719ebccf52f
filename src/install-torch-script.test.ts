// scripts/install-torch.sh (PyTorch for `npm run bench`'s side-by-side figures; not run by npm install or CI): with a
// Python that imports torch it only reports it; with one that cannot, as a user without root or passwordless sudo, it
// changes nothing, names the packages and the command to run, and exits 1. The apt-get path itself is left out (it
// would install packages). Leaves out: the bench's skip message (bench/run.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';

const script = new URL('../scripts/install-torch.sh', import.meta.url).pathname;

test('install-torch: a Python that imports torch is left alone (exit 0)', () => {
  const run = spawnSync('bash', [script], { encoding: 'utf8', env: { ...process.env, RLAIF_TORCH_PYTHON: '/bin/true' } });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /\/bin\/true already imports torch/);
});

test('install-torch: without torch, root or sudo it says what to run and exits 1', (t) => {
  // as nobody (setpriv drops root); never where sudo works without a password (the script would install)
  const root = process.getuid?.() === 0;
  if (root && !existsSync('/usr/bin/setpriv')) { t.skip('running as root without setpriv to drop it'); return; }
  if (!root && spawnSync('sudo', ['-n', 'true']).status === 0) { t.skip('passwordless sudo here: the script would install'); return; }
  const command = [...(root ? ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : []), 'bash', script];
  const run = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', env: { ...process.env, RLAIF_TORCH_PYTHON: '/bin/false' } });
  assert.equal(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /\/bin\/false cannot import torch/);
  assert.match(run.stderr, /sudo apt-get install -y python3-torch libopenblas0-pthread/);
  assert.doesNotMatch(run.stdout, /installing/);
});
