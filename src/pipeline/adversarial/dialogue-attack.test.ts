import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makePrompts, makeWorld } from '../../testbed/index.ts';
import { DIALOGUE_FORMAT, parseDialogue, renderDialogue } from './dialogue-attack.ts';

const world = makeWorld(2);
const dialogues = makePrompts(world, { perKind: { train: 20, validation: 5, test: 5 } }).filter((p) => p.messages.length > 1);

test('dialogue attacks: render → parse gives back every turn of every testbed dialogue, in any format', () => {
  assert.ok(dialogues.length >= 60);
  for (const p of dialogues) {
    const text = renderDialogue(p.messages);
    assert.equal(text.split('\n').length, p.messages.length, 'one line per turn');
    assert.ok(text.startsWith('User: ') && text.includes('\nBot: '), text);
    assert.deepEqual(parseDialogue(text), { kind: 'ok', messages: p.messages }, p.id);
  }
  const tiny = { user: 'a', assistant: 'b', separator: '?' };
  const messages = [{ role: 'user' as const, content: 'c c' }, { role: 'assistant' as const, content: 'aa' }, { role: 'user' as const, content: 'cb' }];
  assert.equal(renderDialogue(messages, tiny), 'a c c?b aa?a cb');
  assert.deepEqual(parseDialogue('a c c?b aa?a cb', tiny), { kind: 'ok', messages });
  assert.deepEqual(parseDialogue('User: I have a red fox called Tam.\n\n  Bot:  Nice.  \nUser: What colour is my fox?\n'), { kind: 'ok', messages: [
    { role: 'user', content: 'I have a red fox called Tam.' }, { role: 'assistant', content: 'Nice.' }, { role: 'user', content: 'What colour is my fox?' }] }, 'blank lines and padding skipped');
});

test('dialogue attacks: a text that is no conversation is malformed, with the reason naming the line', () => {
  const reason = (text: string) => {
    const parsed = parseDialogue(text);
    assert.equal(parsed.kind, 'malformed', text);
    return parsed.kind === 'malformed' ? parsed.reason : '';
  };
  assert.match(reason('What colour is my fox?'), /line 1 opens with no turn marker \(User: or Bot:\)/);
  assert.match(reason('User: I have a fox.\nBot: Nice.\nand then\nUser: What is it?'), /^line 3 opens with no turn marker/);
  assert.match(reason('User: I have a fox.\nUser: It is red.\nUser: What colour?'), /^line 2: a User: turn where a Bot: turn belongs/);
  assert.match(reason('Bot: Hello.\nUser: Hi.\nBot: Bye.'), /^line 1: a Bot: turn where a User: turn belongs/);
  assert.match(reason('User: I have a fox.\nBot:\nUser: What is it?'), /^line 2: the Bot: turn is empty/);
  assert.match(reason('User: I have a fox.\nBot: Nice.'), /^2 turn\(s\); a dialogue attack needs at least 3/);
  assert.match(reason('User: I have a fox.\nBot: Nice.\nUser: Name it.\nBot: Tam.'), /the last turn is Bot:; the target must answer a User: turn/);
  assert.match(reason(''), /^0 turn\(s\)/);
  assert.throws(() => renderDialogue([{ role: 'user', content: 'only one' }]), /renderDialogue: 1 turn/);
  assert.equal(DIALOGUE_FORMAT.separator, '\n');
});
