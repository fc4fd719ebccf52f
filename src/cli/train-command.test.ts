// Tests `rlaif train pg|sft|reward|dpo` end to end in a temp folder: a few steps each on the built-in synthetic data,
// metrics.jsonl and the frozen config in the run folder, resume from the checkpoint, JSONL data files (errors naming
// file, line and field), and unknown config keys rejected with their path. One spawn checks the real CLI binary.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { OnlineDpoTrainer } from '../algorithms/online-dpo-trainer.ts';
import { precisionNotice } from '../algorithms/precision-config.ts';
import { loadLora } from '../models/lora.ts';
import { pretrainDigitPolicy } from '../testbed/digit-task.ts';
import { scratchFolder } from './testing/scratch-folder.ts';
import { buildTrainer, trainCommand, type TrainKind } from './train-command.ts';
import { dpoConfigSchema, parseRunConfig } from './train-configs.ts';

const { directory, write: writeFile } = scratchFolder('rlaif-train-cli-');

function metricsOf(runDir: string): { step: number; metrics: Record<string, number> }[] {
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

const small: Record<TrainKind, string> = {
  pg: 'promptsPerStep: 2\ngroupSize: 4\npretrainSteps: 10\n',
  sft: 'syntheticExamples: 64\nbatchSize: 8\npretrainSteps: 10\n',
  reward: 'syntheticPairs: 64\nbatchSize: 8\nevalEvery: 2\npretrainSteps: 10\n',
  dpo: 'syntheticPairs: 64\nbatchSize: 8\nevalEvery: 2\npretrainSteps: 10\n',
};

describe('rlaif train', () => {
  for (const kind of ['pg', 'sft', 'reward', 'dpo'] as const) {
    test(`${kind}: a few steps on built-in data, frozen config, metrics.jsonl, resume`, async () => {
      const runDir = join(directory, `${kind}-run`);
      const config = writeFile(`${kind}.yaml`, `runDir: ${runDir}\nsteps: 3\ncheckpointEvery: 2\n${small[kind]}`);
      const first = await trainCommand(kind, config, { progress: false });
      assert.equal(first.steps, 3);
      const frozen = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
      assert.equal(frozen.steps, 3);
      assert.equal(frozen.seed, 7, 'defaults are written into the frozen config');
      assert.ok(existsSync(join(runDir, 'checkpoint', 'state.json')));
      assert.deepEqual(metricsOf(runDir).map((r) => r.step), [1, 2, 3]);
      for (const record of metricsOf(runDir)) for (const value of Object.values(record.metrics)) assert.ok(Number.isFinite(value));
      if (kind === 'reward' || kind === 'dpo') assert.ok(metricsOf(runDir)[1].metrics[kind === 'reward' ? 'heldOutAccuracy' : 'heldOutRewardAccuracy'] !== undefined);
      writeFile(`${kind}.yaml`, `runDir: ${runDir}\nsteps: 5\ncheckpointEvery: 2\n${small[kind]}`);
      const second = await trainCommand(kind, config, { progress: false });
      assert.equal(second.resumedFrom, 3);
      assert.deepEqual(metricsOf(runDir).map((r) => r.step), [1, 2, 3, 4, 5]);
    });

    test(`${kind}: an unknown key is rejected with its path`, async () => {
      const config = writeFile(`${kind}-bad.yaml`, `runDir: ${join(directory, 'never')}\nstep: 3\n`);
      await assert.rejects(trainCommand(kind, config, { progress: false }), new RegExp(`${kind}-bad\\.yaml: step: Unrecognized key`));
    });
  }

  test('precision bf16 says so where the products only widen (no AVX512_BF16), and trains', async () => {
    const runDir = join(directory, 'sft-bf16');
    const config = writeFile('sft-bf16.yaml', `runDir: ${runDir}\nsteps: 1\nprecision: bf16\n${small.sft}`);
    const lines: string[] = [];
    const summary = await trainCommand('sft', config, { progress: false, log: (line) => lines.push(line) });
    assert.equal(summary.steps, 1);
    const notice = precisionNotice('bf16'); // null where vdpbf16ps runs: then nothing is said
    assert.deepEqual(lines.filter((l) => l.includes('precision bf16')), notice ? [`sft: ${notice}`] : []);
  });

  test('nested unknown keys name the full path; bad values name the key', async () => {
    const nested = writeFile('nested.yaml', 'online:\n  samplesPerPrompt: 4\n  refreshRef: true\n');
    await assert.rejects(trainCommand('dpo', nested, { progress: false }), /nested\.yaml: online\.refreshRef: Unrecognized key/);
    const lora = writeFile('lora.yaml', 'lora:\n  rank: 0\n  alpha: 8\n');
    await assert.rejects(trainCommand('pg', lora, { progress: false }), /lora\.yaml: lora\.rank: /);
  });

  test('dpo (online) with LoRA: judged pairs each iteration, only the adapters train, a PEFT adapter is saved', async () => {
    const runDir = join(directory, 'online-run'), saveTo = join(directory, 'online-adapter');
    const yaml = `runDir: ${runDir}\nsteps: 2\nmode: online\npretrainSteps: 10\nsaveTo: ${saveTo}\nonline:\n  promptsPerIteration: 4\n  refreshReference: false\nlora:\n  rank: 2\n  alpha: 4\n`;
    const trainer = await buildTrainer('dpo', parseRunConfig(dpoConfigSchema, yaml));
    assert.ok(trainer instanceof OnlineDpoTrainer);
    const names = [...trainer.dpo.trainable.keys()];
    assert.ok(names.length > 0 && names.every((name) => /\.lora_[AB]\.weight$/.test(name)), `trainable: ${names.join(', ')}`);
    const summary = await trainCommand('dpo', writeFile('online.yaml', yaml), { progress: false });
    for (const record of metricsOf(runDir)) assert.ok(record.metrics.pairs > 0, `step ${record.step}: ${record.metrics.pairs} pairs`);
    assert.equal(summary.saved, `adapter → ${saveTo}`);
    const adapter = loadLora(saveTo, pretrainDigitPolicy(10, 7));
    const trained = [...adapter.parameters()].filter(([name]) => name.includes('lora_B'));
    assert.ok(trained.length > 0 && trained.some(([, t]) => t.data.some((x) => x !== 0)), 'lora_B starts at 0: training moved it');
  });

  test('JSONL data: SFT and preference files train; a bad line names file, line and field', async () => {
    const sft = writeFile('sft.jsonl', '{"prompt": "", "response": "012345"}\n{"response": "112233"}\n');
    const sftRun = join(directory, 'sft-data-run');
    await trainCommand('sft', writeFile('sft-data.yaml', `runDir: ${sftRun}\nsteps: 2\nbatchSize: 2\npretrainSteps: 5\ndata: ${sft}\n`), { progress: false });
    assert.equal(metricsOf(sftRun).length, 2);
    const pairs = writeFile('pairs.jsonl', '{"prompt": "", "chosen": "012345", "rejected": "543210", "label": 0.9}\n{"prompt": "", "chosen": "001122", "rejected": "221100"}\n');
    const dpoRun = join(directory, 'dpo-data-run');
    await trainCommand('dpo', writeFile('dpo-data.yaml', `runDir: ${dpoRun}\nsteps: 2\nbatchSize: 2\npretrainSteps: 5\ndata: ${pairs}\nheldOut: ${pairs}\n`), { progress: false });
    assert.equal(metricsOf(dpoRun).length, 2);
    const bad = writeFile('bad.jsonl', '{"prompt": "", "chosen": "012345", "rejected": "543210"}\n{"prompt": "", "chosen": "abc", "rejected": "1"}\n');
    await assert.rejects(trainCommand('reward', writeFile('bad-data.yaml', `runDir: ${join(directory, 'bad-run')}\nsteps: 1\npretrainSteps: 5\ndata: ${bad}\n`), { progress: false }),
      /bad\.jsonl:2: field 'chosen': must be a string of digits/);
  });

  test('the rlaif binary runs `train sft`', () => {
    const runDir = join(directory, 'binary-run');
    const config = writeFile('binary.yaml', `runDir: ${runDir}\nsteps: 2\nsyntheticExamples: 16\nbatchSize: 4\npretrainSteps: 5\n`);
    const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
    const result = spawnSync(process.execPath, [bin, 'train', 'sft', '--config', config, '--no-progress'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^sft: 2 steps; run folder .*binary-run\n  loss: [0-9.]+ \(step 1\) → [0-9.]+ \(step 2\)\n  checkpoint: .*binary-run\/checkpoint; metrics: .*metrics\.jsonl/);
    const bad = spawnSync(process.execPath, [bin, 'train', 'dpo', '--config', writeFile('binary-bad.yaml', 'lora:\n  rnak: 2\n')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^rlaif train dpo: [^]*binary-bad\.yaml: lora\.rnak: Unrecognized key/);
  });
});
