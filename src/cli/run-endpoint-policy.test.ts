// `rlaif run` with the policy behind an endpoint (`policy: {kind: endpoint}`): two `rlaif serve` servers on loopback
// serve two tiny checkpoints; the run samples its rollouts and evaluations from the first over HTTP, the labeler (an
// endpoint too) judges them, a DPO round hands the preferences to an external command, and the endpoint.json that
// command writes (naming the second server) becomes the candidate the gate judges. Records complete, each sample
// drawn from the server the round's policy names, with the server's token count and log-probs. Through the queue
// (`--queue`, a worker with `rlaif worker`'s handlers) the rollout requests go out from the worker: the same records.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { deriveSeed } from '../engine/random.ts';
import { startScriptedServer, type ScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { EndpointPolicy } from '../pipeline/endpoint-policy.ts';
import { judgeJobHandler } from '../pipeline/queue/judge-jobs.ts';
import { startQueueWorker } from '../pipeline/queue/queue-worker.ts';
import { redisConnection } from '../pipeline/queue/redis-connection.ts';
import { rolloutJobHandler } from '../pipeline/queue/rollout-jobs.ts';
import { labelerFromSpec } from '../pipeline/run-labeler.ts';
import { startTestRedis } from '../pipeline/testing/test-redis.ts';
import { rlaifRun } from '../pipeline/rlaif-run.ts';
import { RunStore } from '../pipeline/run-store.ts';
import { writeTinyCheckpoint } from '../pipeline/testing/tiny-checkpoint.ts';
import { parseServeConfig } from '../server/serve-config.ts';
import { loadServedModel } from '../server/served-model.ts';
import { startServer, type RunningServer } from '../server/server.ts';
import { scratchFolder } from './testing/scratch-folder.ts';

const scratch = scratchFolder('rlaif-endpoint-policy-');
let labeler: ScriptedServer, first: RunningServer, second: RunningServer;
const serve = async (seed: number, name: string) => {
  const dir = join(scratch.directory, name);
  writeTinyCheckpoint(dir, seed);
  const server = await startServer({ config: parseServeConfig({ port: 0 }), load: () => loadServedModel({ modelDirectory: dir, servedName: name }) });
  await server.ready;
  return server;
};
before(async () => {
  labeler = await startScriptedServer({ seed: 3 });
  [first, second] = [await serve(1, 'policy-a'), await serve(2, 'policy-b')];
});
after(async () => { await labeler.close(); await first.close(); await second.close(); });

/** The run's config file: the policy on the first server (serving folder policy-a), the external command naming the second. */
function writeConfig(rounds = 1): string {
  const prompts = Array.from({ length: 8 }, (_, i) => JSON.stringify({ id: `p${i}`, prompt: `Where does Ana live? (${i})`, split: i < 5 ? 'train' : 'validation' }));
  scratch.write('prompts.jsonl', `${prompts.join('\n')}\n`);
  // The stand-in trainer: keeps what it was given, then names the second server (and its folder) as the trained policy's.
  const command = 'cp "$RLAIF_PREFERENCES" "$RLAIF_OUTPUT/given.jsonl" && echo "$RLAIF_POLICY_BASE_URL $RLAIF_POLICY_MODEL" > "$RLAIF_OUTPUT/given-endpoint.txt"'
    + ' && echo "$RLAIF_BASE_MODEL" > "$RLAIF_OUTPUT/given-base.txt"'
    + ` && printf '{"baseURL": "%s", "model": "policy-b", "checkpoint": "%s"}' "${second.url}/v1" "${join(scratch.directory, 'policy-b')}" > "$RLAIF_OUTPUT/endpoint.json"`;
  const config = scratch.write('run.yaml', [
    `policy: {kind: endpoint, baseURL: '${first.url}/v1', model: policy-a, checkpoint: policy-a}`,
    `labeler: {kind: openai-compatible, baseURL: '${labeler.url}', model: scripted}`,
    'prompts: {kind: file, path: prompts.jsonl}',
    `rounds: ${rounds}`, 'promptsPerRound: 2', 'samplesPerPrompt: 3', 'maxNewTokens: 5', 'validationPrompts: 3', 'anchorPairs: 0',
    'feedback: {chainOfThought: false}', 'algorithm: {name: dpo}', 'gate: {minWinRateVsPrevious: 0, maxLengthDrift: 5}',
    `update: {kind: external, command: '${command.replaceAll("'", "''")}'}`, '',
  ].join('\n'));
  return config;
}

/**
 * The run's records, and apart the figures a server may give to the last bits differently from run to run (its
 * batches mix concurrent requests: rlaif serve's log-probs agree to 1e-4, its tokens exactly): the samples' log-probs
 * and the entropy estimated from them.
 */
function records(dir: string): { exact: string[]; logprobs: number[] } {
  const store = RunStore.open(dir, RunStore.config(dir)), logprobs: number[] = [];
  const exact = (['prompt', 'sample', 'judgment', 'reward', 'evaluation', 'gate'] as const).flatMap((k) => store.all(k).map((r) => {
    if (r.kind === 'sample') { logprobs.push(...r.logprobs); return JSON.stringify({ ...r, logprobs: r.logprobs.length }); }
    if (r.kind === 'evaluation') { logprobs.push(r.metrics.entropy!); return JSON.stringify({ ...r, metrics: { ...r.metrics, entropy: null } }); }
    return JSON.stringify(r);
  }));
  store.close();
  return { exact: exact.sort(), logprobs };
}

test('DPO rounds on a policy served by rlaif serve: rollouts over HTTP, the external command names the next endpoint, records complete', async () => {
  const config = writeConfig(2), out = join(scratch.directory, 'run');
  const result = await rlaifRun({ configPath: config, out });
  assert.deepEqual(result.outcome.gates.map((g) => g.round), [0, 1, 2]);

  const store = RunStore.open(out, RunStore.config(out));
  try {
    const samples = store.all('sample'), rollout = samples.filter((s) => s.stage === 'rollout');
    assert.equal(rollout.length, 2 * 2 * 3, 'K samples per prompt, each round');
    for (const s of samples) {
      assert.deepEqual(s.tokens, [], 'no token ids from an endpoint');
      assert.ok(s.tokenCount! > 0 && s.logprobs.length === s.tokenCount, `the server's token count and log-probs (${s.tokenCount}, ${s.logprobs.length})`);
    }
    const feedback = store.all('judgment').filter((j) => j.stage === 'feedback');
    assert.ok(feedback.length > 0 && feedback.every((j) => j.source === 'pairwise-ai' && rollout.some((s) => s.id === j.parents[0])));
    for (const s of rollout) assert.ok(store.get('reward', store.all('reward').find((r) => r.parents[0] === s.id)?.id ?? ''), `a reward for ${s.id}`);
    assert.deepEqual(store.all('evaluation').map((e) => e.round), [0, 1, 2]);
    const metrics = store.all('evaluation').find((e) => e.round === 1)!.metrics;
    assert.ok(Number.isFinite(metrics.entropy) && metrics.entropy > 0, 'entropy estimated from the sampled log-probs');
    assert.equal(metrics.kl, null, 'no KL behind an endpoint (NaN, written as null)');
    assert.ok(store.all('gate').find((g) => g.round === 1), 'the gate decided on the candidate');

    const externalDir = join(out, 'external', 'round-1', 'output');
    assert.equal(readFileSync(join(externalDir, 'given-endpoint.txt'), 'utf8').trim(), `${first.url}/v1 policy-a`);
    assert.equal(readFileSync(join(externalDir, 'given.jsonl'), 'utf8').trim().split('\n').length, store.get('stage', store.all('stage').find((s) => s.round === 1 && s.stage === 'update')!.id)!.detail.pairs);
    const checkpoint = (round: number) => JSON.parse(readFileSync(join(out, 'checkpoints', `round-${round}`, 'endpoint.json'), 'utf8'));
    const [folderA, folderB] = [join(scratch.directory, 'policy-a'), join(scratch.directory, 'policy-b')];
    assert.deepEqual(checkpoint(0), { baseURL: `${first.url}/v1`, model: 'policy-a', checkpoint: folderA });
    assert.deepEqual(checkpoint(1), { baseURL: `${second.url}/v1`, model: 'policy-b', checkpoint: folderB }, 'the candidate is the endpoint the command named');
    // The command trains from the folder behind the current policy: policy.checkpoint first, then the kept endpoint's.
    const base = (round: number) => readFileSync(join(out, 'external', `round-${round}`, 'output', 'given-base.txt'), 'utf8').trim();
    assert.equal(base(1), folderA);
    assert.equal(base(2), store.all('gate').find((g) => g.round === 1)!.keep ? folderB : folderA, 'round 2 starts from the last kept round');

    // Each round's evaluation samples came from its own server, under the run's seed per sample.
    const validation = store.all('prompt').filter((p) => p.split === 'validation').slice(0, 3);
    const direct = async (endpoint: { baseURL: string; model: string }, round: number) => {
      const policy = new EndpointPolicy({ endpoint, apiKeyEnvironmentVariable: 'OPENAI_API_KEY', maxNewTokens: 5, temperature: 1 });
      try {
        return (await policy.sampleRows(validation.map((p) => ({ messages: p.messages,
          seed: deriveSeed(0, `sample|${JSON.stringify({ stage: 'evaluate', policyRound: round, prompt: p.promptId, index: 0 })}`) })))).map((s) => s.text);
      } finally { policy.close(); }
    };
    const evaluated = (round: number) => validation.map((p) => samples.find((s) => s.stage === 'evaluate' && s.policyRound === round && s.parents[0] === p.id)!.text);
    assert.deepEqual(evaluated(0), await direct(checkpoint(0), 0), 'round 0 sampled from policy-a');
    assert.deepEqual(evaluated(1), await direct(checkpoint(1), 1), 'round 1 sampled from policy-b');
    assert.notDeepEqual(evaluated(1), await direct(checkpoint(0), 1), 'which answers otherwise than policy-a would');
  } finally {
    store.close();
  }
});

test('through the queue: a worker sends the rollout requests to the endpoint, the records equal the run without a queue', async () => {
  const redis = await startTestRedis(), shared = await redisConnection(redis.url);
  const jobs = { rollout: 0, judge: 0 }, rollout = rolloutJobHandler({ redis: shared });
  const worker = await startQueueWorker({ url: redis.url, concurrency: { judge: 4, rollout: 2 },
    handlers: { judge: judgeJobHandler({ redis: shared, labelerFor: (spec) => labelerFromSpec(spec) }), rollout },
    onJob: (event) => { if (event.ok) jobs[event.kind]++; } });
  try {
    const config = writeConfig(), local = join(scratch.directory, 'local'), queued = join(scratch.directory, 'queued');
    await rlaifRun({ configPath: config, out: local });
    await rlaifRun({ configPath: config, out: queued, queue: redis.url });
    assert.ok(jobs.rollout >= 3, `rollout, and evaluation of rounds 0 and 1, sampled by the worker (${jobs.rollout} jobs)`);
    assert.ok(jobs.judge > 0);
    const [got, want] = [records(queued), records(local)];
    assert.deepEqual(got.exact, want.exact, 'the same samples, judgments, rewards, evaluations and gates');
    assert.equal(got.logprobs.length, want.logprobs.length);
    got.logprobs.forEach((x, i) => assert.ok(Math.abs(x - want.logprobs[i]!) < 1e-4, `log-prob ${i}: ${x} vs ${want.logprobs[i]}`));
  } finally {
    await worker.close();
    rollout.close();
    shared.disconnect();
    await redis.close();
  }
});
