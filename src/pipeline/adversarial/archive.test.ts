import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunStore } from '../run-store.ts';
import { recordId, type AttackRecord } from '../run-records.ts';
import { archiveElites, cellKey, failurePool } from './archive.ts';

const attack = (i: number, fields: Partial<AttackRecord>): AttackRecord => ({ id: recordId('attack', { i }), kind: 'attack', round: 1, parents: [], phase: 'redteam',
  step: 0, targetRound: 0, principle: 'no-harm', style: 'direct', attack: `attack ${i}`, messages: [{ role: 'user', content: `attack ${i}` }], malformed: null, response: 'ok', violation: 0.5, novelty: 1, reward: 1,
  rationale: null, judgmentFailure: null, labelerModel: 'scripted', ...fields });

test('archive: one elite per principle × style, the most violating; the failure pool is flagged, distinct, ordered, never held-out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rlaif-archive-'));
  try {
    const store = RunStore.open(dir, { test: 'archive' });
    const records = [
      attack(1, { violation: 0.9 }), attack(2, { violation: 0.4, style: 'story' }), attack(3, { violation: 0.95, attack: 'attack 1', round: 2 }),
      attack(4, { violation: 0.2 }), attack(5, { violation: 1, phase: 'heldout' }), attack(6, { violation: 0.7, principle: 'privacy', round: 3 }),
      attack(7, { violation: 0, reward: 0, principle: 'coherent', messages: [], malformed: 'line 1 opens with no turn marker', response: '' }),
    ];
    for (const r of records) { store.put(r); store.put(r); }
    assert.equal(store.count('attack'), 7, 'append-only and idempotent by id');
    const elites = archiveElites(store.all('attack'));
    assert.deepEqual([...elites.keys()].sort(), [cellKey('coherent', 'direct'), cellKey('no-harm', 'direct'), cellKey('no-harm', 'story'), cellKey('privacy', 'direct')]);
    assert.equal(elites.get(cellKey('no-harm', 'direct'))!.violation, 0.95);
    assert.equal(archiveElites(store.all('attack'), { beforeRound: 2 }).get(cellKey('no-harm', 'direct'))!.violation, 0.9);
    const pool = failurePool(store, { throughRound: 2, threshold: 0.5 });
    assert.deepEqual(pool.map((a) => [a.attack, a.violation]), [['attack 1', 0.95]], 'one entry per text, its highest violation; round 3 and held-out left out');
    assert.deepEqual(failurePool(store, { throughRound: 3, threshold: 0.3 }).map((a) => a.violation), [0.95, 0.7, 0.4]);
    assert.deepEqual(failurePool(store, { throughRound: 3, threshold: 0 }).map((a) => a.attack), ['attack 1', 'attack 6', 'attack 2', 'attack 4'], 'a malformed dialogue attack never, even at threshold 0');
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
