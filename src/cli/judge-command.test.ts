// Tests `rlaif judge` end to end on real HH-RLHF pairs against the scripted loopback server: run folder contents, config
// errors naming the key, the API key kept out of every file, Ctrl-C (SIGINT to a real child process) then resume, the
// project's own model (a saved tiny checkpoint) as the labeler, judging without chain-of-thought, the pointwise and
// rubric judge kinds (records, audit, typed failures, cache per kind, resume), checkpoints cached by content, and no
// connection left open after a run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { saveTokenizer, trainByteLevelBpe } from '../models/bpe-trainer.ts';
import { savePretrained } from '../models/checkpoint.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGpt2Config } from '../models/testing/tiny-models.ts';
import { judgeCommand, parseLimit } from './judge-command.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judge-cli-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const hhPath = '/work/shared/data/hh-rlhf-harmless-base-test.jsonl.gz';
const secret = 'sk-cli-SECRET-never-in-files';

function writeConfig(name: string, url: string, extra = ''): string {
  const path = join(directory, `${name}.yaml`);
  writeFileSync(
    path,
    `input:\n  path: ${hhPath}\n  format: hh-rlhf\n  limit: 40\nprovider:\n  kind: openai-compatible\n  baseURL: ${url}\n  model: scripted\n  apiKeyEnvironmentVariable: RLAIF_TEST_KEY\n` +
      `requests:\n  concurrency: 4\n  timeoutMs: 300\n  baseDelayMs: 1\n  maxDelayMs: 5\n  maxRetryAfterMs: 10\noutput:\n  runDirectory: ${name}-run\ncost:\n  inputPerMillionTokens: 1\n  outputPerMillionTokens: 2\n${extra}`,
  );
  return path;
}

/** This process's open files under `folder` (Linux's /proc/self/fd), after waiting up to 2 s for them to close. */
async function filesOpenUnder(folder: string): Promise<string[]> {
  const open = () => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } }).filter((path) => path.startsWith(folder));
  for (let waited = 0; open().length > 0 && waited < 2000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  return open();
}

describe('rlaif judge', () => {
  test('a finished run closes its connections (the server would keep idle ones for a minute) and its files; so does a failed one', async (t) => {
    const server = await startScriptedServer({ seed: 5 });
    try {
      const summary = await judgeCommand({ config: writeConfig('connections', server.url), progress: false });
      assert.equal(summary.judged + summary.failures, 40);
      let open = await server.connections();
      for (let waited = 0; open > 0 && waited < 2000; waited += 20) {   // the server sees each close a moment later
        await new Promise((resolve) => setTimeout(resolve, 20));
        open = await server.connections();
      }
      assert.equal(open, 0, 'connections left open after the run');
      if (!existsSync('/proc/self/fd')) { t.diagnostic('no /proc/self/fd: open files not checked'); return; }
      assert.deepEqual(await filesOpenUnder(join(directory, 'connections-run')), [], 'files left open after the run');
      // a run that fails once its log is open (its pairs file is missing) closes it too
      const missing = writeConfig('no-pairs', server.url).replace(/\.yaml$/, '-missing.yaml');
      writeFileSync(missing, readFileSync(join(directory, 'no-pairs.yaml'), 'utf8').replace(hhPath, join(directory, 'absent.jsonl')));
      await assert.rejects(judgeCommand({ config: missing, progress: false }), /absent\.jsonl: no such file/);
      assert.ok(existsSync(join(directory, 'no-pairs-run', 'judge.log')), 'the failed run wrote its log');
      assert.deepEqual(await filesOpenUnder(join(directory, 'no-pairs-run')), [], 'files left open after a failed run');
    } finally {
      await server.close();
    }
  });

  test('judges real HH-RLHF pairs into a run folder with dataset, failures, audit and usage', async () => {
    process.env.RLAIF_TEST_KEY = secret;
    const server = await startScriptedServer({ seed: 2, failureRate: 0.2, positionBias: 0.3 });
    try {
      const summary = await judgeCommand({ config: writeConfig('basic', server.url), progress: false });
      assert.equal(summary.interrupted, false);
      assert.equal(summary.judged + summary.failures, 40);
      const run = join(directory, 'basic-run');
      for (const file of ['config.json', 'cache.jsonl', 'preferences.jsonl', 'preferences.parquet', 'failures.jsonl', 'audit.json', 'audit.txt', 'usage.json', 'judge.log']) assert.ok(existsSync(join(run, file)), file);
      const preferences = readFileSync(join(run, 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(preferences.length, summary.judged);
      const first = preferences[0];
      assert.ok(first.judgment.result.rationale.length > 0);
      assert.equal(first.judgment.result.positions[0].reversed.order, 'B-first');
      assert.equal(first.judgment.provenance.templateVersion, 'pairwise-v1');
      assert.match(first.source.file, /hh-rlhf/);
      const audit = JSON.parse(readFileSync(join(run, 'audit.json'), 'utf8'));
      assert.equal(audit.pairs, 40);
      // The toy labeler is biased toward position 1 by +0.3: single orders disagree often, averaging removes it.
      assert.ok(audit.samePositionPreferred > 0.3, `same position ${audit.samePositionPreferred}`);
      assert.match(readFileSync(join(run, 'audit.txt'), 'utf8'), /Lee et al/);
      const usage = JSON.parse(readFileSync(join(run, 'usage.json'), 'utf8'));
      assert.ok(usage.cost > 0 && usage.requests >= 160);
      for (const file of readdirSync(run)) assert.equal(readFileSync(join(run, file)).includes(secret), false, `${file} holds no API key`);

      // A re-run asks nothing cached. Provider errors are not final (a pair whose requests failed all 6 tries: with 20%
      // injected failures, concurrency 4 and a 300 ms timeout on a loaded machine, now and then one pair in CI), so
      // those pairs, and only they, are asked again: 2 orders × (rationale + verdict) × at most 6 tries each.
      const notFinal = summary.failureReasons['provider-error'] ?? 0;
      const before = server.stats.requests;
      const again = await judgeCommand({ config: writeConfig('basic', server.url), progress: false });
      assert.equal(again.fromCache, 40 - notFinal);
      if (notFinal === 0) assert.equal(server.stats.requests - before, 0, 're-run makes no call');
      else assert.ok(server.stats.requests - before <= notFinal * 4 * 6, `re-run asked ${server.stats.requests - before} requests for ${notFinal} pairs`);
    } finally {
      await server.close();
      delete process.env.RLAIF_TEST_KEY;
    }
  });

  test('samples pairs from the embedded policy, judges them, and a re-run neither samples nor calls again', async () => {
    const server = await startScriptedServer({ seed: 4 });
    try {
      const prompts = join(directory, 'prompts.jsonl');
      writeFileSync(prompts, '{"id":"q1","prompt":"How do I store bleach?"}\n{"messages":[{"role":"user","content":"Is it safe to mix cleaners?"}]}\n{"id":"q3","prompt":"Tell me a fact."}\n');
      const path = join(directory, 'sampled.yaml');
      writeFileSync(path, `sample:\n  policy:\n    kind: embedded\n    seed: 1\n  prompts: prompts.jsonl\n  samplesPerPrompt: 4\n  maxTokens: 6\n  seed: 2\nprovider:\n  kind: openai-compatible\n  baseURL: ${server.url}\n  model: scripted\nrequests:\n  concurrency: 4\noutput:\n  runDirectory: sampled-run\n  parquet: false\n`);
      const summary = await judgeCommand({ config: path, progress: false });
      assert.equal(summary.pairs, 6, '3 prompts x 4 samples = 6 pairs');
      assert.equal(summary.judged, 6);
      const run = join(directory, 'sampled-run');
      const sampledFile = readdirSync(run).find((file) => file.startsWith('sampled-pairs-'))!;
      const sampled = readFileSync(join(run, sampledFile), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(sampled.map((record) => record.id), ['q1#0', 'q1#1', 'prompt-2#0', 'prompt-2#1', 'q3#0', 'q3#1']);
      assert.equal(sampled[2].prompt[0].content, 'Is it safe to mix cleaners?');
      assert.ok(sampled.every((record) => record.chosen[0].role === 'assistant' && typeof record.rejected[0].content === 'string'));
      const preferences = readFileSync(join(run, 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(preferences.length, 6);
      assert.match(readFileSync(join(run, 'audit.txt'), 'utf8'), /no gold label/);
      const before = server.stats.requests;
      const modified = statSync(join(run, sampledFile)).mtimeMs;
      const again = await judgeCommand({ config: path, progress: false });
      assert.equal(again.fromCache, 6);
      assert.equal(server.stats.requests - before, 0, 're-run makes no call');
      assert.equal(statSync(join(run, sampledFile)).mtimeMs, modified, 're-run reuses the sampled pairs');
    } finally {
      await server.close();
    }
  });

  test('sampling is seeded: the same config samples the same pairs; input and sample are exclusive', async () => {
    const { samplePairs } = await import('../pipeline/sampled-pairs.ts');
    const prompts = join(directory, 'seeded-prompts.jsonl');
    writeFileSync(prompts, '{"prompt":"Hello there"}\n');
    const sample = { policy: { kind: 'embedded' as const, preset: 'tiny-gpt' as const, seed: 3 }, prompts, samplesPerPrompt: 2, maxTokens: 5, temperature: 1, seed: 9 };
    const first = await samplePairs(sample, (p) => p, mkdtempSync(join(directory, 'seeded-a-')));
    const second = await samplePairs(sample, (p) => p, mkdtempSync(join(directory, 'seeded-b-')));
    assert.deepEqual(first, second);
    const path = writeConfig('both', 'http://127.0.0.1:9/v1', `sample:\n  policy:\n    kind: embedded\n  prompts: ${prompts}\n`);
    await assert.rejects(judgeCommand({ config: path, progress: false }), /exactly one of 'input'/);
  });

  test('the project model as labeler: a saved tiny checkpoint judges TRL pairs, soft labels from its logprobs; re-run makes 0 calls', async () => {
    const config = tinyGpt2Config({ vocab_size: 96, n_positions: 64 }); // 96: the character tokenizer, no tokenizer.json
    savePretrained(join(directory, 'labeler-checkpoint'), config, initParameters(config, 7));
    const pairs = [
      { prompt: 'How do I store bleach?', chosen: 'Away from children.', rejected: 'Anywhere.' },
      { prompt: 'Is it safe to mix cleaners?', chosen: 'No, some make toxic gas.', rejected: 'Sure.' },
      { prompt: 'Tell me a fact.', chosen: 'Water boils at 100 C at sea level.', rejected: 'No.' },
    ];
    writeFileSync(join(directory, 'labeler-pairs.jsonl'), pairs.map((pair) => JSON.stringify(pair)).join('\n') + '\n');
    const path = join(directory, 'labeler.yaml');
    // topLogprobs 96 reads the whole distribution, so '1' and '2' are always among the alternatives of a random model.
    writeFileSync(path, 'input:\n  path: labeler-pairs.jsonl\n  format: trl\nprovider:\n  kind: in-process\n  model:\n    kind: checkpoint\n    path: labeler-checkpoint\n' +
      'judge:\n  rationaleMaxTokens: 8\n  rationaleTemperature: 1\n  verdictMaxTokens: 1\n  topLogprobs: 96\nrequests:\n  concurrency: 2\noutput:\n  runDirectory: labeler-run\n  parquet: false\n');
    const summary = await judgeCommand({ config: path, progress: false });
    assert.equal(summary.judged, 3, JSON.stringify(summary));
    assert.equal(summary.failures, 0);
    assert.equal(summary.usage.requests, 12, '3 pairs x 2 orders x (rationale + verdict)');
    const preferences = readFileSync(join(directory, 'labeler-run', 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(preferences.length, 3);
    for (const record of preferences) {
      assert.equal(record.judgment.provenance.provider, 'in-process');
      assert.match(record.judgment.provenance.model, /^checkpoint:labeler-checkpoint@sha256:[0-9a-f]{16}$/, 'the path as written, and the content hash');
      for (const verdict of [record.judgment.result.positions[0].forward, record.judgment.result.positions[0].reversed]) {
        assert.equal(verdict.labelSource, 'logprobs');
        assert.ok(verdict.probabilityFirst > 0 && verdict.probabilityFirst < 1, `soft label ${verdict.probabilityFirst}`);
      }
    }
    const again = await judgeCommand({ config: path, progress: false });
    assert.equal(again.fromCache, 3);
    assert.equal(again.usage.requests, 0, 're-run makes no call');
    writeFileSync(join(directory, 'labeler-bad.yaml'), 'input:\n  path: labeler-pairs.jsonl\n  format: trl\nprovider:\n  kind: in-process\n  model:\n    kind: checkpoint\n    pathh: labeler-checkpoint\n');
    await assert.rejects(judgeCommand({ config: join(directory, 'labeler-bad.yaml'), progress: false }), /labeler-bad\.yaml: unknown key 'provider\.model\.pathh'/);
  });

  test('a checkpoint with its tokenizer.json (HfTokenizer) as labeler, judging without chain-of-thought', async () => {
    const trained = trainByteLevelBpe(['Away from children.', 'Anywhere at all.', 'Response 1 or 2, preferred response.'], { vocabSize: 300, specialTokens: ['<|endoftext|>'] });
    const vocabulary = Object.keys((trained.tokenizerJson.model as { vocab: object }).vocab).length + 1; // + the special token
    const config = tinyGpt2Config({ vocab_size: vocabulary, n_positions: 64 });
    const checkpoint = join(directory, 'bpe-labeler');
    savePretrained(checkpoint, config, initParameters(config, 3));
    saveTokenizer(checkpoint, trained);
    writeFileSync(join(directory, 'bpe-pairs.jsonl'), '{"prompt":"Where do I keep bleach?","chosen":"Away from children.","rejected":"Anywhere at all."}\n');
    const path = join(directory, 'bpe-labeler.yaml');
    writeFileSync(path, `input:\n  path: bpe-pairs.jsonl\n  format: trl\nprovider:\n  kind: in-process\n  model:\n    kind: checkpoint\n    path: ${checkpoint}\njudge:\n  chainOfThought: false\n  verdictMaxTokens: 1\n  topLogprobs: ${vocabulary}\noutput:\n  runDirectory: bpe-labeler-run\n  parquet: false\n`);
    const summary = await judgeCommand({ config: path, progress: false });
    assert.equal(summary.judged, 1, JSON.stringify(summary));
    assert.equal(summary.usage.requests, 2, 'one verdict request per order');
    const record = JSON.parse(readFileSync(join(directory, 'bpe-labeler-run', 'preferences.jsonl'), 'utf8').trim());
    assert.equal(record.judgment.provenance.templateVersion, 'pairwise-direct-v1');
    const forward = record.judgment.result.positions[0].forward;
    assert.equal(forward.labelSource, 'logprobs');
    assert.ok(forward.probabilityFirst > 0 && forward.probabilityFirst < 1, `soft label ${forward.probabilityFirst}`);
  });

  test('chainOfThought: false in the config asks for each verdict directly: one request per order', async () => {
    const server = await startScriptedServer({ seed: 5 });
    try {
      const summary = await judgeCommand({ config: writeConfig('direct', server.url, 'judge:\n  chainOfThought: false\n'), progress: false, limit: 10 });
      assert.equal(summary.judged, 10);
      // Requests beyond the retries a loaded machine may cause (the test's 300 ms timeout): one per order.
      assert.equal(summary.usage.requests - summary.usage.retries, 20, '10 pairs x 2 orders x 1 request');
      assert.equal(server.stats.requests - summary.usage.retries, 20);
      const first = JSON.parse(readFileSync(join(directory, 'direct-run', 'preferences.jsonl'), 'utf8').split('\n')[0]!);
      assert.equal(first.judgment.provenance.templateVersion, 'pairwise-direct-v1');
      assert.equal(first.judgment.result.rationale, null);
      assert.equal(first.judgment.result.positions[0].reversed.labelSource, 'logprobs');
    } finally {
      await server.close();
    }
  });

  test('--limit abc or 0 is an error, never the whole dataset; a run with too many failures exits non-zero saying what to do', async () => {
    const path = writeConfig('limits', 'http://127.0.0.1:9/v1');
    for (const limit of [0, -3, 1.5, Number.NaN]) await assert.rejects(judgeCommand({ config: path, progress: false, limit }), /--limit must be a whole number of pairs, at least 1/);
    assert.throws(() => parseLimit('abc'), /--limit must be a whole number of pairs, at least 1; got 'abc'/);
    assert.throws(() => parseLimit('12abc'), /got '12abc'/);
    assert.equal(parseLimit('12'), 12);
    const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
    const run = (args: string[]) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'judge', '--config', path, '--no-progress', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    const abc = await run(['--limit', 'abc']);
    assert.notEqual(abc.code, 0);
    assert.match(abc.stderr, /--limit must be a whole number of pairs, at least 1; got 'abc'/);
    // Nothing listens on port 9: every request fails to connect, the run ends failed, exit 1 with the advice.
    const down = await run(['--limit', '2']);
    assert.equal(down.code, 1, down.stderr);
    assert.match(down.stderr, /2 of 2 pairs failed .*provider-error[\s\S]*check the server at provider\.baseURL \(http:\/\/127\.0\.0\.1:9\/v1\)/);
  });

  test('config errors name the key path', async () => {
    const path = writeConfig('bad', 'http://127.0.0.1:9/v1', 'judge:\n  bothOrder: false\n');
    await assert.rejects(judgeCommand({ config: path, progress: false }), /bad\.yaml: unknown key 'judge\.bothOrder'/);
  });

  test('Ctrl-C stops a running judge; the re-run continues and loses nothing', async () => {
    const server = await startScriptedServer({ latencyMs: 25 });
    try {
      const config = writeConfig('interrupt', server.url);
      const cachePath = join(directory, 'interrupt-run', 'cache.jsonl');
      const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
      const child = spawn(process.execPath, [bin, 'judge', '--config', config, '--no-progress', '--limit', '60'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const lines = (): number => (existsSync(cachePath) ? readFileSync(cachePath, 'utf8').split('\n').filter(Boolean).length : 0);
      for (let waited = 0; lines() < 5 && waited < 20_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(code, 130, stderr);
      assert.match(stderr, /run the same command again to continue/);
      const kept = lines();
      assert.ok(kept >= 5 && kept < 60, `kept ${kept}`);
      const summary = await judgeCommand({ config, progress: false, limit: 60 });
      assert.equal(summary.fromCache, kept);
      assert.equal(summary.judgedNow, 60 - kept);
      assert.equal(lines(), 60, 'one cache line per pair, none duplicated');
    } finally {
      await server.close();
    }
  });

  test('judge.kind pointwise: each response scored alone; records keep both scores, rationales and provenance; audit says n/a', async () => {
    const server = await startScriptedServer({ seed: 6 });
    try {
      const summary = await judgeCommand({ config: writeConfig('pointwise', server.url, 'judge:\n  kind: pointwise\n  topLogprobs: 10\n'), progress: false, limit: 12 });
      assert.deepEqual([summary.judged, summary.failures, summary.usage.requests - summary.usage.retries], [12, 0, 48], '12 pairs x 2 responses x (rationale + score), retries aside');
      const run = join(directory, 'pointwise-run');
      const preferences = readFileSync(join(run, 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(preferences.length, 12);
      for (const { judgment } of preferences) {
        assert.deepEqual([judgment.provenance.judge, judgment.provenance.templateVersion, judgment.result.judge], ['pointwise', 'pointwise-v1', 'pointwise']);
        assert.match(judgment.provenance.constitution, /@/);
        const { A, B } = judgment.result.scores;
        for (const score of [A, B]) {
          assert.equal(score.distribution.length, 10);
          assert.ok(score.rationale.length > 0 && score.principle.id.length > 0);
        }
        assert.equal(A.principle.id, B.principle.id);
        // The record's chosen is the response with the higher score; which of A or B it was is in candidateA.
        const [chosen, rejected] = judgment.candidateA === 'chosen' ? [A, B] : [B, A];
        assert.deepEqual(judgment.scores, { chosen: chosen.score, rejected: rejected.score });
        assert.ok(judgment.probabilityChosen >= 0.5);
        if (judgment.result.preferred !== 'tie') assert.ok(chosen.score > rejected.score, `${chosen.score} > ${rejected.score}`);
        assert.match(judgment.result.rationale, /^Response A \([\d.]+\/10\): /);
      }
      const audit = JSON.parse(readFileSync(join(run, 'audit.json'), 'utf8'));
      assert.deepEqual([audit.judge, audit.pairs, audit.labeled, audit.samePositionPreferred, audit.positionOneRate], ['pointwise', 12, 12, null, null]);
      assert.ok(audit.accuracy !== null && audit.tieRate !== null);
      const text = readFileSync(join(run, 'audit.txt'), 'utf8');
      assert.match(text, /same position preferred \(both orders\)\s+n\/a \*/);
      assert.match(text, /position figures are n\/a, not 0/);
      assert.equal(JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')).judge.kind, 'pointwise');

      // The same run folder judged pairwise reuses nothing; back to pointwise reuses everything.
      const pairwise = await judgeCommand({ config: writeConfig('pairwise-same-run', server.url), runDirectory: run, progress: false, limit: 12 });
      assert.deepEqual([pairwise.fromCache, pairwise.judgedNow], [0, 12]);
      assert.equal(readFileSync(join(run, 'preferences.jsonl'), 'utf8').split('\n')[0]!.includes('"positions"'), true);
      const again = await judgeCommand({ config: writeConfig('pointwise', server.url, 'judge:\n  kind: pointwise\n  topLogprobs: 10\n'), progress: false, limit: 12 });
      assert.deepEqual([again.fromCache, again.usage.requests], [12, 0]);
      const reread = readFileSync(join(run, 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(reread.map((record) => record.judgment.result.judge), Array(12).fill('pointwise'), 'the cached results are the pointwise ones');
    } finally {
      await server.close();
    }
  });

  test('judge.kind pointwise: an unparseable score is a typed failure in failures.jsonl keeping the raw text and the other score', async () => {
    const server = await startScriptedServer({ seed: 3, failureRate: 0.4, failureKinds: ['nonsense-verdict'] });
    try {
      const path = writeConfig('pointwise-failures', server.url, 'judge:\n  kind: pointwise\n  topLogprobs: 10\n  maxParseAttempts: 1\n  chainOfThought: false\n');
      const summary = await judgeCommand({ config: path, progress: false, limit: 16 });
      assert.equal(summary.judged + summary.failures, 16);
      assert.ok(summary.failures > 0 && summary.judged > 0, JSON.stringify(summary));
      const run = join(directory, 'pointwise-failures-run');
      const failures = readFileSync(join(run, 'failures.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.equal(failures.length, summary.failures);
      for (const failure of failures) {
        assert.deepEqual([failure.reason, failure.raw, failure.judge], ['unparseable-verdict', 'banana', 'pointwise']);
        assert.match(failure.candidateA, /^(chosen|rejected)$/);
        if (failure.candidate === 'both') continue;
        const other = failure.scores[failure.candidate === 'A' ? 'B' : 'A'];
        assert.equal(other.kind, 'ok', 'the score that was read is kept');
        assert.ok(other.score >= 1 && other.score <= 10);
        assert.equal(failure.scores[failure.candidate].raw, 'banana');
      }
      assert.ok(failures.some((failure) => failure.candidate !== 'both'), 'at least one pair with one score read');
      const audit = JSON.parse(readFileSync(join(run, 'audit.json'), 'utf8'));
      assert.equal(audit.parseFailureRate, summary.failures / 16);
    } finally {
      await server.close();
    }
  });

  test('judge.kind rubric: 0-5 points per response; an interrupted run resumes from the cache without losing a pair', async () => {
    const server = await startScriptedServer({ latencyMs: 20 });
    try {
      const path = writeConfig('rubric', server.url, 'judge:\n  kind: rubric\n  rationaleMaxTokens: 200\n');
      const cachePath = join(directory, 'rubric-run', 'cache.jsonl');
      const lines = (): number => (existsSync(cachePath) ? readFileSync(cachePath, 'utf8').split('\n').filter(Boolean).length : 0);
      const controller = new AbortController();
      const interrupted = judgeCommand({ config: path, progress: false, limit: 30 }, controller.signal);
      for (let waited = 0; lines() < 4 && waited < 20_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      const first = await interrupted;
      assert.equal(first.interrupted, true);
      const kept = lines();
      assert.ok(kept >= 4 && kept < 30, `kept ${kept}`);
      assert.equal(existsSync(join(directory, 'rubric-run', 'preferences.jsonl')), false, 'no outputs from an interrupted run');
      const summary = await judgeCommand({ config: path, progress: false, limit: 30 });
      assert.deepEqual([summary.fromCache, summary.judgedNow, lines()], [kept, 30 - kept, 30]);
      assert.equal(summary.judged, 30);
      const records = readFileSync(join(directory, 'rubric-run', 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      for (const { judgment } of records) {
        assert.deepEqual([judgment.provenance.judge, judgment.provenance.templateVersion, judgment.provenance.constitution, judgment.result.principles], ['rubric', 'rubric-v1', null, []]);
        assert.ok(judgment.scores.chosen >= judgment.scores.rejected && judgment.scores.chosen <= 5);
        assert.match(judgment.result.scores.A.justification, /Score: \d/);
        assert.equal(judgment.result.scores.B.samples.length, 1);
        assert.ok([0, 0.5, 1].includes(judgment.probabilityChosen) && judgment.probabilityChosen >= 0.5, 'one sample per response: a hard label');
      }
      assert.match(readFileSync(join(directory, 'rubric-run', 'audit.txt'), 'utf8'), /the rubric judge scores each response alone/);
    } finally {
      await server.close();
    }
  });

  test('a checkpoint overwritten at the same path is judged again; the same weights written again come from the cache', async () => {
    const config = tinyGpt2Config({ vocab_size: 96, n_positions: 64 });
    const checkpoint = join(directory, 'overwritten-labeler');
    writeFileSync(join(directory, 'overwrite-pairs.jsonl'), '{"prompt":"Store bleach?","chosen":"Up high.","rejected":"Anywhere."}\n{"prompt":"A fact?","chosen":"Water is wet.","rejected":"No."}\n');
    const path = join(directory, 'overwrite.yaml');
    writeFileSync(path, 'input:\n  path: overwrite-pairs.jsonl\n  format: trl\nprovider:\n  kind: in-process\n  model:\n    kind: checkpoint\n    path: overwritten-labeler\n' +
      'judge:\n  kind: pointwise\n  chainOfThought: false\n  verdictMaxTokens: 2\n  topLogprobs: 96\noutput:\n  runDirectory: overwrite-run\n  parquet: false\n');
    const judge = async (seed: number | null) => {
      if (seed !== null) savePretrained(checkpoint, config, initParameters(config, seed));
      const summary = await judgeCommand({ config: path, progress: false });
      const record = JSON.parse(readFileSync(join(directory, 'overwrite-run', 'preferences.jsonl'), 'utf8').split('\n')[0]!);
      return { summary, model: record.judgment.provenance.model as string };
    };
    const first = await judge(7);
    assert.deepEqual([first.summary.judged, first.summary.fromCache, first.summary.usage.requests], [2, 0, 4], '2 pairs x 2 responses x 1 score request');
    assert.match(first.model, /^checkpoint:overwritten-labeler@sha256:[0-9a-f]{16}$/);
    const overwritten = await judge(8);
    assert.deepEqual([overwritten.summary.fromCache, overwritten.summary.judgedNow, overwritten.summary.usage.requests], [0, 2, 4], 'new weights: new calls, not cache hits');
    assert.notEqual(overwritten.model, first.model);
    const rewritten = await judge(8);
    assert.deepEqual([rewritten.summary.fromCache, rewritten.summary.usage.requests], [2, 0], 'the same weights again: cache hits');
    assert.equal(rewritten.model, overwritten.model);
    const back = await judge(7);
    assert.deepEqual([back.summary.fromCache, back.summary.usage.requests], [2, 0], 'the first weights are still cached too');
  });
});

