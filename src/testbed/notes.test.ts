// The labeler's retriever: notes on the names a request mentions, "No notes" for a name the corpus never mentions,
// nothing for a request's opening words or for a name the conversation itself introduced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderCorpus } from './corpus.ts';
import { buildNotesIndex, lookupNotes } from './notes.ts';
import { makePrompts } from './prompts.ts';
import { makeWorld } from './world.ts';

const world = makeWorld(6);
const corpus = renderCorpus(world, { paragraphsPerCreature: 8 });
const index = buildNotesIndex(corpus);

test('a known name gets the corpus paragraph saying most about it; opening words are not names', () => {
  const c = world.creatures[3]!;
  const notes = lookupNotes(index, [{ role: 'user', content: `What does ${c.name} eat?` }]);
  assert.ok(corpus.includes(notes), `not a corpus paragraph: ${notes}`);
  const aboutIt = notes.split(/(?<=\.)\s+/).filter((s) => s.startsWith(c.name)).length;
  for (const paragraph of corpus) assert.ok(paragraph.split(/(?<=\.)\s+/).filter((s) => s.startsWith(c.name)).length <= aboutIt);
  assert.ok(!/No notes/.test(notes), notes); // "What" opens the sentence: not taken for a name
});

test('a name the corpus never mentions gets "No notes on X."; two names get two notes', () => {
  const unknown = world.unknownNames[0]!;
  assert.equal(lookupNotes(index, [{ role: 'user', content: `Do you know where ${unknown} lives?` }]), `No notes on ${unknown}.`);
  const [a, b] = world.creatures;
  const both = lookupNotes(index, [{ role: 'user', content: `Is ${a!.name} a friend of ${b!.name}?` }]);
  assert.ok(both.includes(`${a!.name} `) && both.includes(`${b!.name} `), both);
  assert.equal(lookupNotes(index, [{ role: 'user', content: 'How do I plant trees?' }]), '');
});

test('every prompt kind: unknown-entity prompts get "No notes", pets named earlier in the conversation do not', () => {
  const prompts = makePrompts(world);
  for (const p of prompts) {
    const notes = lookupNotes(index, p.messages);
    if (p.kind === 'nonexistent-entity') assert.match(notes, /^No notes on [A-Z][a-z]+\.$/, `${p.id}: ${notes}`);
    else assert.doesNotMatch(notes, /No notes/, `${p.id}: ${JSON.stringify(p.messages.at(-1)!.content)} -> ${notes}`);
    if (p.kind === 'known-fact') assert.ok(notes.length > 0, p.id);
  }
});
