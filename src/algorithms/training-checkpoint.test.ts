// Checkpoints: the last two are kept; a bit flip in tensors.bin or a broken state.json is caught by the sha256
// manifest and the older checkpoint is used (and said so); NaN weights are never written; an interrupted rotation
// is finished or rolled back; checkpoints written before manifests still load.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parameter, type OptimizerState, type Tensor } from '../engine/index.ts';
import { hasCheckpoint, loadCheckpoint, loadNewestCheckpoint, NonFiniteWeightsError, previousCheckpoint, saveCheckpoint } from './training-checkpoint.ts';

const root = mkdtempSync(join(tmpdir(), 'rlaif-ckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function weights(fill: number): Map<string, Tensor> {
  return new Map([['w', parameter(new Float32Array(64).fill(fill), [8, 8], 'w')], ['b', parameter(new Float32Array(8).fill(-fill), [8], 'b')]]);
}
const optimizer = (step: number): OptimizerState => ({ kind: 'adamw', step, lr: 0.01, buffers: { 'w.m': new Float32Array(64).fill(step) } });
const state = (step: number) => ({ step, dataPosition: step * 2, rng: [1, 2, 3, 4] as never, extra: {} });

/** A run's checkpoint folder after saving steps 1..n. */
function saved(n: number): string {
  const dir = join(root, `run-${counter++}`, 'checkpoint');
  for (let step = 1; step <= n; step++) saveCheckpoint(dir, weights(step), optimizer(step), state(step));
  return dir;
}

function loader(into: Map<string, Tensor>): (dir: string) => void {
  return (dir) => { loadCheckpoint(dir, into); };
}
const stepOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).state.step as number;

function flipBit(path: string, byte: number): void {
  const bytes = readFileSync(path);
  bytes[byte] ^= 0x04;
  writeFileSync(path, bytes);
}

describe('training checkpoints', () => {
  test('the last two are kept, each with a manifest of sha256 sums', () => {
    const dir = saved(3);
    assert.equal(stepOf(dir), 3);
    assert.equal(stepOf(previousCheckpoint(dir)), 2);
    assert.deepEqual(readdirSync(join(dir, '..')).sort(), ['checkpoint', 'checkpoint.previous']);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.match(manifest.files['tensors.bin'].sha256, /^[0-9a-f]{64}$/);
    const into = weights(0);
    const warnings: string[] = [];
    assert.equal(loadNewestCheckpoint(dir, loader(into), (m) => warnings.push(m)), dir);
    assert.equal(into.get('w')!.data[0], 3);
    assert.deepEqual(warnings, []);
  });

  test('a bit-flipped tensors.bin falls back to the older checkpoint, says so, and keeps the corrupt one aside', () => {
    const dir = saved(3);
    flipBit(join(dir, 'tensors.bin'), 100);
    assert.throws(() => loadCheckpoint(dir, weights(0)), /checkpoint .*checkpoint\/tensors\.bin is corrupt: sha256 [0-9a-f]{12}… does not match manifest\.json's/);
    const into = weights(0), warnings: string[] = [];
    assert.equal(loadNewestCheckpoint(dir, loader(into), (m) => warnings.push(m)), dir);
    assert.equal(into.get('w')!.data[0], 2, 'the step-2 weights');
    assert.equal(stepOf(dir), 2, 'the older checkpoint is the newest again');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /tensors\.bin is corrupt: sha256 .*; resuming from the older checkpoint \(step 2\) instead; the corrupt one is kept at .*checkpoint\.corrupt-/);
    assert.ok(readdirSync(join(dir, '..')).some((name) => name.startsWith('checkpoint.corrupt-')));
  });

  test('a broken state.json is caught too; both corrupt is an error naming both', () => {
    const dir = saved(2);
    writeFileSync(join(dir, 'state.json'), '{"state": ');
    flipBit(join(previousCheckpoint(dir), 'tensors.bin'), 7);
    assert.throws(() => loadNewestCheckpoint(dir, loader(weights(0)), () => {}),
      /no usable checkpoint: checkpoint .*checkpoint\/state\.json is corrupt: .*; checkpoint .*checkpoint\.previous\/tensors\.bin is corrupt: .*--fresh/);
  });

  test('NaN weights are never checkpointed; the checkpoints on disk stay as they were', () => {
    const dir = saved(2);
    const poisoned = weights(3);
    poisoned.get('b')!.data[5] = NaN;
    assert.throws(() => saveCheckpoint(dir, poisoned, optimizer(3), state(3)), (error: unknown) =>
      error instanceof NonFiniteWeightsError && /tensor "param:b" holds a non-finite value at index 5/.test(error.message));
    assert.equal(stepOf(dir), 2);
    assert.equal(stepOf(previousCheckpoint(dir)), 1);
  });

  test('a kill mid-rotation: a complete .tmp is finished, an incomplete one rolled back; old checkpoints without a manifest load', () => {
    const dir = saved(2);
    saveCheckpoint(`${dir}-scratch`, weights(3), optimizer(3), state(3));
    renameSync(`${dir}-scratch`, `${dir}.tmp`);   // as if killed after writing .tmp and moving dir to .previous
    rmSync(previousCheckpoint(dir), { recursive: true });
    renameSync(dir, previousCheckpoint(dir));
    assert.ok(hasCheckpoint(dir));
    assert.equal(stepOf(dir), 3);
    rmSync(join(dir, 'manifest.json'));
    const into = weights(0);
    loadCheckpoint(dir, into);
    assert.equal(into.get('w')!.data[0], 3);
    assert.ok(existsSync(join(previousCheckpoint(dir), 'state.json')));
  });
});
