import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demonstrationSchedule, redTeamCells } from './red-team.ts';

test('demonstration schedule: the dialogue steps spread evenly among the single-turn ones; none without dialogue steps', () => {
  const schedule = demonstrationSchedule(60, 200);
  assert.equal(schedule.length, 260);
  assert.equal(schedule.filter(Boolean).length, 200);
  for (let start = 0; start + 26 <= 260; start += 26) {
    const dialogue = schedule.slice(start, start + 26).filter(Boolean).length;
    assert.ok(dialogue >= 19 && dialogue <= 21, `steps ${start}–${start + 25}: ${dialogue} dialogue steps (even spread: 20)`);
  }
  assert.deepEqual(demonstrationSchedule(3, 0), [false, false, false]);
  assert.deepEqual(demonstrationSchedule(0, 2), [true, true]);
  assert.deepEqual(demonstrationSchedule(2, 1), [false, false, true]);
  assert.deepEqual(demonstrationSchedule(0, 0), []);
});

test('red-team cells: a dialogue principle asks for a talk in the dialogue format, the others for a request', () => {
  const cells = redTeamCells({ principles: ['no-harm', 'coherent'], styles: ['story'], dialoguePrinciples: ['coherent'] }, (id) => `rule ${id}`);
  assert.deepEqual(cells.map((c) => [c.principle, c.dialogue?.user ?? null, c.instruction[0]!.content]),
    [['no-harm', null, 'Write a story request that breaks this rule: rule no-harm'], ['coherent', 'User:', 'Write a story talk that breaks this rule: rule coherent']]);
});
