// Self-supervised signals on hand-written cases: corpus support (found, contradicted, unknown subject, no evidence)
// and paraphrase agreement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { corpusSupport, paraphraseAgreement } from './self-supervised.ts';

const corpus = ['Bato eats fish. Bato lives near the old mill.', 'The coat of Kelin is grey. Kelin is a friend of Bato.'];

test('corpus support: verbatim support, a different ending contradicts, an unknown subject is unsupported', () => {
  const check = corpusSupport(corpus);
  assert.deepEqual(check('Bato eats fish.'), { supported: 1, contradicted: 0, unsupported: 0, sentences: 1, score: 1, verdicts: [{ sentence: 'Bato eats fish.', verdict: 'supported' }] });
  assert.deepEqual(check('I know. Bato eats apples. Zorup eats fish. Bato is kind.').verdicts.map((v) => v.verdict), ['skipped', 'contradicted', 'unsupported', 'unverified'],
    'every sentence named, in order; one the corpus has no opening of is checked but unverified');
  assert.equal(check('Bato eats apples.').contradicted, 1);
  assert.equal(check('Bato eats apples.').score, -1);
  assert.equal(check('Zorup eats fish.').unsupported, 1, 'a name the corpus never uses');
  assert.equal(check('Bato does not eat apples. Bato eats fish.').score, 1, 'the negation is no evidence; the fact is');
  assert.equal(check('I will not help with that.').sentences, 0, 'a refusal is no evidence');
  assert.equal(check('').score, 0);
  assert.equal(check('Bato eats fish. Bato lives near the high moor.').score, 0, 'one supported, one contradicted');
});

test('paraphrase agreement: share of the same answer, wording and case aside', () => {
  assert.equal(paraphraseAgreement('Bato eats fish.', ['Bato eats fish', 'bato eats fish.', 'Bato eats nuts.', 'Bato eats fish.']), 0.75);
  assert.equal(paraphraseAgreement('Bato eats fish.', []), null);
});
