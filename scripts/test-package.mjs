// Checks that rlaif installs as a package (run by .ci/run; ~3 min): `npm pack` (prepack compiles dist/), install the
// tarball in an empty temp folder (dependencies from the npm cache when there, else the registry; the native kernels
// build at install), then there: `npx rlaif --version` and each command's --help, a 2-step `rlaif train sft`,
// `import { … } from 'rlaif'` in JavaScript, and TypeScript types (a correct file type-checks, a wrong one fails),
// with no TypeScript loader installed.
// Usage: node scripts/test-package.mjs [--keep]   (--keep leaves the temp folder for inspection)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'rlaif-package-'));
const consumer = join(work, 'consumer');
let failures = 0;

function run(command, args, cwd, env = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, out: `${result.stdout ?? ''}${result.stderr ?? ''}`, stdout: result.stdout ?? '' };
}

function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `\n${detail.trim().split('\n').slice(-15).join('\n')}`}`);
  if (!ok) failures++;
}

function must(name, result) {
  check(name, result.status === 0, result.out);
  if (result.status !== 0) finish();
}

function finish() {
  if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
  console.log(failures === 0 ? 'package: all checks passed' : `package: ${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}

let started = Date.now();
must('npm pack (prepack builds dist/)', run('npm', ['pack', '--pack-destination', work], root));
const tarball = join(work, `rlaif-${version}.tgz`);
console.log(`     packed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
const listing = run('tar', ['-tzf', tarball], work).stdout;
check('the tarball holds dist/, the native sources and no TypeScript sources',
  listing.includes('package/dist/index.js') && listing.includes('package/dist/index.d.ts') && listing.includes('package/binding.gyp')
  && listing.includes('package/native/gemm.c') && !/package\/src\//.test(listing), listing);

run('mkdir', ['-p', consumer], work);
writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
started = Date.now();
must('npm install <tarball> in an empty folder', run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], consumer));
console.log(`     installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
check('no TypeScript loader installed (tsx is a dev dependency)', !existsSync(join(consumer, 'node_modules', 'tsx')));

const versionRun = run('npx', ['--no-install', 'rlaif', '--version'], consumer);
check(`npx rlaif --version prints ${version}`, versionRun.status === 0 && versionRun.stdout.trim() === version, versionRun.out);
const help = run('npx', ['--no-install', 'rlaif', '--help'], consumer);
check('npx rlaif --help', help.status === 0 && /Usage: rlaif/.test(help.stdout), help.out);
const commands = [...help.stdout.matchAll(/^\s{2}([a-z]+)(?: \[options\]| \[command\]|\s)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
for (const command of commands) {
  const result = run('npx', ['--no-install', 'rlaif', command, '--help'], consumer);
  check(`npx rlaif ${command} --help`, result.status === 0 && result.stdout.includes(`Usage: rlaif ${command}`), result.out);
}
writeFileSync(join(consumer, 'sft.yaml'), 'runDir: runs/sft\nsteps: 2\nsyntheticExamples: 16\nbatchSize: 4\npretrainSteps: 5\n');
const train = run('npx', ['--no-install', 'rlaif', 'train', 'sft', '--config', 'sft.yaml', '--no-progress'], consumer);
check('npx rlaif train sft runs from the compiled package (2 steps, summary, checkpoint)',
  train.status === 0 && /^sft: 2 steps; run folder /.test(train.stdout) && existsSync(join(consumer, 'runs', 'sft', 'checkpoint', 'manifest.json')), train.out);
const backend = run('node', ['--input-type=module', '-e',
  "import { engine, testbed, Transformer, readTrl, openRunFolder } from 'rlaif'; if (typeof Transformer !== 'function' || typeof readTrl !== 'function' || typeof openRunFolder !== 'function') throw new Error('missing exports'); if (!/^[0-9a-f]{64}$/.test(testbed.testbedCodeHash())) throw new Error('testbed code hash'); console.log(engine.getBackend().name);"], consumer);
check('import { … } from \'rlaif\' in JavaScript (and the testbed finds its compiled code)', backend.status === 0, backend.out);
console.log(`     kernels after install: ${backend.stdout.trim() || '?'}`);

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const tsconfig = (file) => JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: [file] });
writeFileSync(join(consumer, 'good.ts'), "import { readPromptRecords, type PromptRecord, type JudgeRunConfig } from 'rlaif';\nconst records: PromptRecord[] = readPromptRecords('p.jsonl');\nexport const n: number = records.length;\nexport const c: JudgeRunConfig | null = null;\n");
writeFileSync(join(consumer, 'bad.ts'), "import { readTrl } from 'rlaif';\nexport const wrong: string = readTrl('x.jsonl');\n");
writeFileSync(join(consumer, 'tsconfig.good.json'), tsconfig('good.ts'));
writeFileSync(join(consumer, 'tsconfig.bad.json'), tsconfig('bad.ts'));
const good = run(process.execPath, [tsc, '-p', 'tsconfig.good.json'], consumer);
check('TypeScript: a correct use of the types checks', good.status === 0, good.out);
const bad = run(process.execPath, [tsc, '-p', 'tsconfig.bad.json'], consumer);
check('TypeScript: a wrong use is a type error (the types are real, not any)', bad.status !== 0 && /PreferenceRecord\[\]' is not assignable to type 'string'/.test(bad.out), bad.out);
finish();
