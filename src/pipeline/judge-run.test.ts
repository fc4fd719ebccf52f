// Tests the judging run's guards: no test double reachable from a config (tests inject their labeler); provider failures
// never cached and a run over maxFailureShare reported as failed with what to do; a labeler without logprobs warned once;
// inputs that were judged in silence (empty, a directory, bad .gz, not UTF-8, misnamed templates, a 30 MB pair) now
// errors or warnings naming the file and config key. Whole-command runs live in cli/judge-command.test.ts.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { DeterministicLanguageModel } from '../feedback/testing/deterministic-language-model.ts';
import { startScriptedServer } from '../feedback/testing/scripted-openai-server.ts';
import { parseJudgeRunConfig } from './judge-run-config.ts';
import { runJudgeJob } from './judge-run.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judge-run-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function writePairs(name: string, count: number): string {
  const path = join(directory, name);
  const lines = Array.from({ length: count }, (_, index) => JSON.stringify({ id: `p${index}`, prompt: `Question ${index}?`, chosen: `[good] Answer ${index}.`, rejected: `[bad] Reply ${index}.` }));
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const inProcess = { kind: 'in-process', model: { kind: 'embedded', seed: 0 } };

test("no test double in a config: 'deterministic-test' is rejected; tests inject their labeler", async () => {
  const input = { path: writePairs('pairs.jsonl', 3), format: 'trl' };
  assert.throws(() => parseJudgeRunConfig({ input, provider: { kind: 'in-process', model: 'deterministic-test' } }, 'x.yaml'), /x\.yaml: field 'provider\.model'/);
  assert.throws(() => parseJudgeRunConfig({ input, provider: { ...inProcess, supportsLogprobs: false } }, 'x.yaml'), /unknown key 'provider\.supportsLogprobs'/);
  const config = parseJudgeRunConfig({ input, provider: inProcess, output: { runDirectory: 'injected', parquet: false } }, 'x.yaml');
  const model = new DeterministicLanguageModel();
  const summary = await runJudgeJob(config, directory, { languageModel: new InProcessProvider(model) });
  assert.deepEqual([summary.judged, summary.failures], [3, 0]);
  assert.equal(model.calls, 12, '3 pairs x 2 orders x (rationale + verdict), all to the injected model');
  const record = JSON.parse(readFileSync(join(directory, 'injected', 'preferences.jsonl'), 'utf8').split('\n')[0]!);
  assert.equal(record.judgment.provenance.model, 'deterministic-test');
});

const fast = { concurrency: 4, timeoutMs: 2000, maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 };

test('provider failures are not cached: a run against a refusing server fails with what to do, the next run retries them', async () => {
  const server = await startScriptedServer({ failureRate: 1, failureKinds: ['unauthorized', 'server-error'] });
  try {
    const config = parseJudgeRunConfig({ input: { path: writePairs('transient.jsonl', 4), format: 'trl' }, provider: { kind: 'openai-compatible', baseURL: server.url, model: 'scripted', apiKeyEnvironmentVariable: 'RLAIF_UNSET_KEY' }, requests: fast, output: { runDirectory: 'transient', parquet: false } }, 'x.yaml');
    const down = await runJudgeJob(config, directory);
    assert.deepEqual([down.judged, down.failures, down.failureReasons], [0, 4, { 'provider-error': 4 }]);
    assert.match(down.failed!, /4 of 4 pairs failed \(100\.0% > maxFailureShare 10\.0%\)/);
    assert.match(down.failed!, /not cached: check the server at provider\.baseURL .*\$RLAIF_UNSET_KEY .*run the same command again/);
    assert.equal(readFileSync(join(directory, 'transient', 'cache.jsonl'), 'utf8'), '', 'nothing cached as final');
    server.configure({ failureRate: 0 });
    const up = await runJudgeJob(config, directory);
    assert.deepEqual([up.judged, up.failures, up.fromCache, up.failed], [4, 0, 0, null]);
    assert.equal(up.usage.requests, 16, 'every pair judged again: 4 x 2 orders x (rationale + verdict)');
    const again = await runJudgeJob(config, directory);
    assert.deepEqual([again.fromCache, again.usage.requests], [4, 0], 'judged pairs come from the cache');
  } finally {
    await server.close();
  }
});

test('unparseable verdicts the model gave are cached as failures; within maxFailureShare the run has done its job', async () => {
  const server = await startScriptedServer({ failureRate: 1, failureKinds: ['nonsense-verdict'] });
  try {
    const raw = { input: { path: writePairs('nonsense.jsonl', 2), format: 'trl' }, provider: { kind: 'openai-compatible', baseURL: server.url, model: 'scripted' }, judge: { chainOfThought: false, maxParseAttempts: 1 }, requests: fast, output: { runDirectory: 'nonsense', parquet: false } };
    const failed = await runJudgeJob(parseJudgeRunConfig(raw, 'x.yaml'), directory);
    assert.deepEqual(failed.failureReasons, { 'unparseable-verdict': 2 });
    assert.match(failed.failed!, /could not be read; they are cached: see 'raw' in failures\.jsonl.*--retry-failed/);
    assert.equal(readFileSync(join(directory, 'nonsense', 'cache.jsonl'), 'utf8').trim().split('\n').length, 2);
    const tolerated = await runJudgeJob(parseJudgeRunConfig({ ...raw, maxFailureShare: 1 }, 'x.yaml'), directory);
    assert.deepEqual([tolerated.fromCache, tolerated.failures, tolerated.failed], [2, 2, null]);
  } finally {
    await server.close();
  }
});

test('a labeler without logprobs: votes counted in the audit and warned once', async () => {
  const config = parseJudgeRunConfig({ input: { path: writePairs('votes.jsonl', 3), format: 'trl' }, provider: inProcess, output: { runDirectory: 'votes', parquet: false } }, 'x.yaml');
  const warnings: string[] = [];
  const summary = await runJudgeJob(config, directory, { languageModel: new InProcessProvider(new DeterministicLanguageModel({ supportsLogprobs: false })), events: { onWarning: (message) => warnings.push(message) } });
  assert.equal(summary.judged, 3);
  assert.equal(summary.audit!.votesLabelRate, 1);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /gives no logprobs: verdicts are read from 5 sampled votes/);
  // A server that is asked for logprobs and ignores it: one warning for the whole run, however many requests.
  const server = await startScriptedServer({ logprobs: false });
  try {
    const remote = parseJudgeRunConfig({ ...config, provider: { kind: 'openai-compatible', baseURL: server.url, model: 'scripted' }, output: { runDirectory: 'votes-remote', parquet: false } }, 'x.yaml');
    const seen: string[] = [];
    const result = await runJudgeJob(remote, directory, { events: { onWarning: (message) => seen.push(message) } });
    assert.equal(result.audit!.votesLabelRate, 1);
    assert.equal(seen.length, 1, seen.join('\n'));
    assert.match(seen[0]!, /asked for top_logprobs 5, the server returned no logprobs; verdicts are read from 5 sampled votes/);
    assert.equal(JSON.parse(readFileSync(join(directory, 'votes-remote', 'usage.json'), 'utf8')).warnings.topLogprobs.count, 6, 'one per verdict request');
  } finally {
    await server.close();
  }
});

test('inputs that would be judged in silence are errors naming the file and config key', async () => {
  const run = async (raw: Record<string, unknown>) => runJudgeJob(parseJudgeRunConfig({ provider: inProcess, output: { runDirectory: 'inputs', parquet: false }, ...raw }, 'x.yaml'), directory, { languageModel: new InProcessProvider(new DeterministicLanguageModel()) });
  const empty = join(directory, 'empty.jsonl');
  writeFileSync(empty, '\n');
  await assert.rejects(run({ input: { path: empty, format: 'trl' } }), /^Error: input\.path .*empty\.jsonl: no pairs to judge/);
  await assert.rejects(run({ input: { path: directory, format: 'trl' } }), /input\.path: .*: is a folder, expected a JSONL file/);
  await assert.rejects(run({ input: { path: directory, format: 'parquet' } }), /input\.path: .*: is a folder, expected a file/);
  const notGzip = join(directory, 'pairs.jsonl.gz');
  writeFileSync(notGzip, 'plain text, not gzip\n');
  await assert.rejects(run({ input: { path: notGzip, format: 'hh-rlhf' } }), /input\.path: .*pairs\.jsonl\.gz: not gzip-compressed although the name ends in \.gz \(zlib: incorrect header check\)/);
  const truncated = join(directory, 'truncated.jsonl.gz');
  writeFileSync(truncated, gzipSync(Buffer.from('{"chosen":"\\n\\nHuman: hi\\n\\nAssistant: a","rejected":"\\n\\nHuman: hi\\n\\nAssistant: b"}\n')).subarray(0, 30));
  await assert.rejects(run({ input: { path: truncated, format: 'hh-rlhf' } }), /input\.path: .*truncated\.jsonl\.gz: the gzip data is truncated \(zlib: unexpected end of file\)/);
  const latin1 = join(directory, 'latin1.jsonl');
  writeFileSync(latin1, Buffer.concat([Buffer.from(`${JSON.stringify({ prompt: 'ok', chosen: 'a', rejected: 'b' })}\n{"prompt":"caf`), Buffer.from([0xe9]), Buffer.from('","chosen":"a","rejected":"b"}\n')]));
  await assert.rejects(run({ input: { path: latin1, format: 'trl' } }), /input\.path: .*latin1\.jsonl:2: not UTF-8 text/);
  const prompts = join(directory, 'prompts-latin1.jsonl');
  writeFileSync(prompts, Buffer.concat([Buffer.from('{"prompt":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
  await assert.rejects(run({ sample: { policy: { kind: 'embedded' }, prompts } }), /sample\.prompts: .*prompts-latin1\.jsonl:1: not UTF-8 text/);
  await assert.rejects(run({ input: { path: writePairs('fine.jsonl', 1), format: 'trl' }, output: { runDirectory: latin1 } }), /output\.runDirectory: /);
});

test('judge.templatesDirectory that does not exist or holds a misnamed template is an error', async () => {
  const input = { path: writePairs('templated.jsonl', 1), format: 'trl' };
  const run = async (templatesDirectory: string) => runJudgeJob(parseJudgeRunConfig({ input, provider: inProcess, judge: { templatesDirectory }, output: { runDirectory: 'templated', parquet: false } }, 'x.yaml'), directory, { languageModel: new InProcessProvider(new DeterministicLanguageModel()) });
  await assert.rejects(run('no-such-templates'), /judge\.templatesDirectory: .*no-such-templates: no such directory/);
  const misnamed = join(directory, 'misnamed-templates');
  mkdirSync(misnamed);
  writeFileSync(join(misnamed, 'pairwize.yaml'), 'name: pairwise\n');
  await assert.rejects(run(misnamed), /judge\.templatesDirectory: .*pairwize\.yaml: not a template file name; expected one of pairwise\.yaml/);
  const other = join(directory, 'other-templates');
  mkdirSync(other);
  writeFileSync(join(other, 'rubric.yaml'), readFileSync(new URL('../feedback/templates/rubric.yaml', import.meta.url)));
  const warnings: string[] = [];
  const summary = await runJudgeJob(parseJudgeRunConfig({ input, provider: inProcess, judge: { templatesDirectory: other }, output: { runDirectory: 'templated', parquet: false } }, 'x.yaml'), directory, { languageModel: new InProcessProvider(new DeterministicLanguageModel()), events: { onWarning: (message) => warnings.push(message) } });
  assert.equal(summary.judged, 1);
  assert.match(warnings.join('\n'), /has no pairwise\.yaml: the shipped 'pairwise' template is used/);
});

test('a pair far beyond any context is left out with a warning naming it, not sent', async () => {
  const path = join(directory, 'huge.jsonl');
  writeFileSync(path, [JSON.stringify({ id: 'small', prompt: 'Q?', chosen: 'a', rejected: 'b' }), JSON.stringify({ id: 'huge', prompt: 'x'.repeat(200_000), chosen: 'a', rejected: 'b' })].join('\n') + '\n');
  const model = new DeterministicLanguageModel();
  const warnings: string[] = [];
  const config = parseJudgeRunConfig({ input: { path, format: 'trl' }, provider: inProcess, output: { runDirectory: 'huge', parquet: false } }, 'x.yaml');
  const summary = await runJudgeJob(config, directory, { languageModel: new InProcessProvider(model), events: { onWarning: (message) => warnings.push(message) } });
  assert.deepEqual([summary.pairs, summary.judged, summary.tooLong], [1, 1, 1]);
  assert.equal(model.calls, 4, 'only the small pair was sent');
  assert.match(warnings.join('\n'), /1 pair\(s\) over maxPairCharacters \(100000\) left out, not sent: 'huge' \(.*200002 characters\)/);
  const failures = readFileSync(join(directory, 'huge', 'failures.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
  assert.deepEqual(failures.map((failure) => [failure.id, failure.reason]), [['huge', 'too-long']]);
});

test('a server that is down stops the run after maxConsecutiveFailures pairs in a row, instead of retrying every pair', async () => {
  const server = await startScriptedServer({ failureRate: 1, failureKinds: ['server-error'] });
  try {
    const config = parseJudgeRunConfig({ input: { path: writePairs('down.jsonl', 60), format: 'trl' }, provider: { kind: 'openai-compatible', baseURL: server.url, model: 'scripted' }, requests: { ...fast, concurrency: 2, maxConsecutiveFailures: 3 }, output: { runDirectory: 'down', parquet: false } }, 'x.yaml');
    const summary = await runJudgeJob(config, directory);
    assert.equal(summary.interrupted, true, 'no outputs: the run did not finish');
    assert.match(summary.failed!, /^stopped after 3 pairs in a row failed with provider errors \(last: server-error: HTTP 500\); 0 of 60 pairs are judged and cached\. .*check the server at provider\.baseURL/);
    assert.ok(summary.usage.requests <= 5 * 2 * 2, `${summary.usage.requests} requests: a handful of pairs tried, not 60`);
  } finally {
    await server.close();
  }
});
