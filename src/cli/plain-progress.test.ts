// Plain progress lines: a task's start, each tenth and its end, once each, tasks apart, elapsed seconds from the start.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainProgress } from './plain-progress.ts';

test('plain progress: start, tenths and end of each task, once each, with the elapsed seconds', () => {
  const lines: string[] = [];
  let clock = 0;
  const line = plainProgress((l) => lines.push(l), 'rlaif run', () => clock);
  for (let done = 0; done <= 100; done++) { clock = done * 100; line('round 1 rollout', done, 100); }
  assert.equal(lines.length, 11, 'start, nine tenths, end');
  assert.equal(lines[0], 'rlaif run: round 1 rollout 0/100 (0 s)');
  assert.equal(lines.at(-1), 'rlaif run: round 1 rollout 100/100 (10 s)');
  line('round 1 feedback', 1, 3, 'loss 0.500');
  line('round 1 feedback', 1, 3);
  assert.equal(lines.length, 12, 'a new task starts its own lines; a repeat of the same tenth prints nothing');
  assert.equal(lines.at(-1), 'rlaif run: round 1 feedback 1/3 loss 0.500 (10 s)');
  line('setup', 0, 0);
  assert.equal(lines.at(-1), 'rlaif run: setup 0/0 (10 s)', 'a task of no size prints once');
});
