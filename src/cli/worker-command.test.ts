// `rlaif run --queue` with two `rlaif worker` processes, end to end through the CLI, on a user's setup (a Hugging
// Face checkpoint as policy, prompts from JSONL, the labeler behind an OpenAI-compatible endpoint with a request
// limit shared through Redis): the run folder holds the same records as `rlaif run` without a queue, the workers drew
// the samples and made the judgments, and SIGTERM closes each worker after the jobs in hand.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startScriptedServer, type ScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { RunStore } from '../pipeline/run-store.ts';
import { writeTinyCheckpoint } from '../pipeline/testing/tiny-checkpoint.ts';
import { startTestRedis, type TestRedis } from '../pipeline/testing/test-redis.ts';
import { scratchFolder } from './testing/scratch-folder.ts';

const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
const scratch = scratchFolder('rlaif-worker-cli-');
let server: ScriptedServer, redis: TestRedis;
before(async () => { server = await startScriptedServer({ seed: 3 }); redis = await startTestRedis(); });
after(async () => { await server.close(); await redis.close(); });

function records(dir: string): string[] {
  const store = RunStore.open(dir, RunStore.config(dir));
  const all = (['prompt', 'sample', 'judgment', 'reward', 'advantage', 'evaluation', 'gate'] as const).flatMap((k) => store.all(k).map((r) => JSON.stringify(r)));
  store.close();
  return all.sort();
}

test('rlaif run --queue with two rlaif workers: the same run folder records as rlaif run in one process', async () => {
  writeTinyCheckpoint(join(scratch.directory, 'policy'));
  const prompts = Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `p${i}`, prompt: `Where does Ana live? (${i})`, split: i < 5 ? 'train' : 'validation' }));
  scratch.write('prompts.jsonl', `${prompts.join('\n')}\n`);
  const config = scratch.write('run.yaml', [
    'policy: {kind: checkpoint, path: policy}',
    `labeler: {kind: openai-compatible, baseURL: '${server.url}', model: scripted, requestsPerSecond: 200}`,
    'prompts: {kind: file, path: prompts.jsonl}',
    'rounds: 1', 'iterationsPerRound: 1', 'promptsPerRound: 2', 'samplesPerPrompt: 3', 'maxNewTokens: 4', 'validationPrompts: 3', 'anchorPairs: 0',
    'feedback: {chainOfThought: false}', 'algorithm: {learningRate: 0.01}', '',
  ].join('\n'));
  // Spawned, never spawnSync: the scripted server answers from this process's event loop.
  const run = (out: string, ...extra: string[]) => new Promise<{ status: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = spawn(process.execPath, [bin, 'run', '--config', config, '--out', out, '--no-progress', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('exit', (status) => resolve({ status, stderr, stdout }));
  });
  const local = await run(join(scratch.directory, 'local'));
  assert.equal(local.status, 0, local.stderr);

  const workers = [0, 1].map(() => spawn(process.execPath, [bin, 'worker', '--redis', redis.url, '--concurrency', '4'], { stdio: ['ignore', 'ignore', 'pipe'] }));
  const stderr = workers.map(() => '');
  await Promise.all(workers.map((w, i) => new Promise<void>((resolve, reject) => {
    w.stderr!.on('data', (chunk) => { stderr[i] += chunk; if (stderr[i]!.includes('waiting for jobs')) resolve(); });
    w.on('exit', (code) => reject(new Error(`worker exited (${code}): ${stderr[i]}`)));
  })));
  const queued = await run(join(scratch.directory, 'queued'), '--queue', redis.url);
  const exits = workers.map((w) => new Promise<number | null>((resolve) => { w.removeAllListeners('exit'); w.on('exit', resolve); }));
  for (const w of workers) w.kill('SIGTERM');
  const codes = await Promise.all(exits);
  assert.equal(queued.status, 0, queued.stderr);
  assert.match(queued.stdout, /RESULT rounds_kept /);
  assert.deepEqual(records(join(scratch.directory, 'queued')), records(join(scratch.directory, 'local')), 'the same records as the run without a queue');
  assert.deepEqual(codes, [0, 0], 'SIGTERM: each worker closed cleanly');
  const jobs = stderr.map((s) => Number(/closed after (\d+) jobs/.exec(s)?.[1] ?? NaN));
  assert.ok(jobs.every((n) => Number.isFinite(n)) && jobs[0]! + jobs[1]! > 0, `workers report their jobs: ${stderr.join(' | ')}`);
  // Every judgment asked of a labeler, and the samples: one rollout job for round 1's 2 × 3 rows, one per evaluation (rounds 0, 1).
  const asked = records(join(scratch.directory, 'queued')).map((r) => JSON.parse(r)).filter((r) => r.kind === 'judgment' && r.orders.length > 0).length;
  assert.equal(jobs[0]! + jobs[1]!, asked + 3, `the workers did the ${asked} judgments and the 3 rollout jobs`);
});
