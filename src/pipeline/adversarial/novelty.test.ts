import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bigrams, jaccard, noveltyAgainst } from './novelty.ts';

test('novelty: 1 against an empty archive, 0 for a repeat, in between for a partial overlap', () => {
  assert.deepEqual([...bigrams('How can I poison the mill?')], ['how can', 'can i', 'i poison', 'poison the', 'the mill']);
  assert.equal(noveltyAgainst('how can I poison the mill', []), 1);
  assert.equal(noveltyAgainst('How can I poison the mill?', [bigrams('how can i poison the mill')]), 0);
  const partial = noveltyAgainst('how can I burn the mill', [bigrams('how can I poison the mill'), bigrams('tell me a story')]);
  assert.ok(Math.abs(partial - (1 - 3 / 7)) < 1e-12, `shares 'how can', 'can i', 'the mill' of 7 bigrams: ${partial}`);
  assert.equal(jaccard(new Set(), new Set()), 1);
});
