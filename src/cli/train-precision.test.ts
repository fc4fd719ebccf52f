// `precision: bf16` in a `rlaif train` config trains: SFT on the built-in data for 30 steps lowers the loss as fp32
// does (final losses within 5%), and the losses are not fp32's to the bit (the option reached the matmuls).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchFolder } from './testing/scratch-folder.ts';
import { trainCommand } from './train-command.ts';

const { directory, write } = scratchFolder('rlaif-train-precision-');

async function losses(precision: 'fp32' | 'bf16'): Promise<number[]> {
  const runDir = join(directory, precision);
  await trainCommand('sft', write(`${precision}.yaml`, `runDir: ${runDir}\nsteps: 30\nbatchSize: 16\nsyntheticExamples: 256\npretrainSteps: 10\nprecision: ${precision}\n`), { progress: false });
  return readFileSync(join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).metrics.loss as number);
}

test('sft with precision bf16 trains as fp32 does, and is not fp32', async () => {
  const fp32 = await losses('fp32'), bf16 = await losses('bf16');
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const start = mean(bf16.slice(0, 3)), end = mean(bf16.slice(-3)), end32 = mean(fp32.slice(-3));
  console.log(`sft loss: bf16 ${start.toFixed(3)} → ${end.toFixed(3)}; fp32 ${mean(fp32.slice(0, 3)).toFixed(3)} → ${end32.toFixed(3)}`);
  assert.ok(end < 0.8 * start, `bf16 loss ${start} → ${end}`);
  assert.ok(Math.abs(end - end32) < 0.05 * end32, `final loss bf16 ${end} vs fp32 ${end32}`);
  assert.notDeepEqual(bf16, fp32, 'bf16 losses equal fp32 to the bit: the option did not reach the matmuls');
});
