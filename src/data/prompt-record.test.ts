// The shared prompts schema: text or messages, optional id (default prompt-<line>), extra keys ignored; a bad line, a
// repeated id or an empty file is an error naming the file (and line). The shipped example prompts file reads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readPromptRecords } from './prompt-record.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-prompts-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const file = (name: string, text: string) => { const path = join(directory, name); writeFileSync(path, text); return path; };

test('text and message prompts, ids, extra keys; the shipped examples/tiny-world-prompts.jsonl', () => {
  const path = file('p.jsonl', '{"prompt": "a", "category": "x"}\n{"id": 7, "messages": [{"role": "user", "content": "b"}]}\n');
  assert.deepEqual(readPromptRecords(path), [
    { id: 'prompt-1', line: 1, where: `${path}:1`, prompt: 'a' },
    { id: '7', line: 2, where: `${path}:2`, messages: [{ role: 'user', content: 'b' }] },
  ]);
  const shipped = readPromptRecords(fileURLToPath(new URL('../../examples/tiny-world-prompts.jsonl', import.meta.url)));
  assert.equal(shipped[0].id, 'ada-food');
  assert.equal(shipped[0].prompt, 'Q: What does Ada eat? A:');
});

test('bad lines, repeated ids and empty files are errors naming the file', () => {
  assert.throws(() => readPromptRecords(file('bad.jsonl', '{"prompt": "a"}\n{"text": "b"}\n')), /bad\.jsonl:2: needs a string 'prompt' or a 'messages' list/);
  assert.throws(() => readPromptRecords(file('roles.jsonl', '{"messages": [{"role": "robot", "content": "b"}]}\n')), /roles\.jsonl:1: needs/);
  assert.throws(() => readPromptRecords(file('dup.jsonl', '{"id": "x", "prompt": "a"}\n{"id": "x", "prompt": "b"}\n')), /dup\.jsonl:2: prompt id 'x' repeats line 1/);
  assert.throws(() => readPromptRecords(file('empty.jsonl', '\n')), /empty\.jsonl: no prompts/);
});
