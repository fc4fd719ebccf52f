// The focused judging examples of the embedded models' fine-tuning: the verdict-only example keeps the loss on the
// last assistant turn alone, and each decision example's context is the whole conversation up to the decision ('Answer
// 1 is', ', so answer'), its target the decision's words, token for token as they appear in the whole example.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chatSftExample } from '../algorithms/chat-sft.ts';
import { loadTrained, trainByteLevelBpe } from '../models/bpe-trainer.ts';
import { CHAT_TEMPLATE, SPECIAL_TOKENS, decisionExamples, lastTurnOnly } from './embedded-model.ts';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Judge two answers by this rule: say only what is true.' },
  { role: 'user', content: 'Where does Bato live?\n\nAnswer 1: Bato lives near the mill.\n\nAnswer 2: Bato lives near the pond.' },
  { role: 'assistant', content: 'Bato lives near the mill. Answer 1 is right. Answer 2 is wrong, so answer 1 is better.' },
  { role: 'user', content: 'Which answer is better? Say 1 or 2.' },
  { role: 'assistant', content: '1' },
];
const tokenizer = loadTrained(trainByteLevelBpe([...conversation.map((m) => m.content), 'Answer 2 is right but too long.'], {
  vocabSize: 320, specialTokens: SPECIAL_TOKENS, chatTemplate: CHAT_TEMPLATE, modelMaxLength: 256,
}));

test('lastTurnOnly: the loss stays on the verdict turn alone', () => {
  const whole = chatSftExample(tokenizer, conversation);
  const focused = lastTurnOnly(whole);
  const targets = (e: typeof whole) => tokenizer.decode(Array.from(e.response).filter((_, r) => e.lossMask![r]), { skipSpecialTokens: false });
  assert.equal(targets(focused), '1<|end|>');
  assert.ok(targets(whole).startsWith('Bato lives near the mill.'));
  assert.deepEqual(Array.from(focused.response), Array.from(whole.response)); // same tokens, other mask
});

test('decisionExamples: one per decision, context up to it, target its words as in the whole example', () => {
  const examples = decisionExamples(tokenizer, conversation, 0);
  assert.equal(examples.length, 3);
  const whole = chatSftExample(tokenizer, conversation), all = [...whole.prompt, ...whole.response];
  for (const [i, [words, before]] of [[' right', 'Answer 1 is'], [' wrong', 'Answer 2 is'], [' 1 is better', 'so answer']].entries()) {
    const e = examples[i]!;
    assert.equal(tokenizer.decode(Array.from(e.response)), words);
    assert.ok(tokenizer.decode(Array.from(e.prompt), { skipSpecialTokens: false }).endsWith(before!));
    // prompt + response is a prefix of the whole example's tokens: the model sees the context it will see when judging.
    assert.deepEqual([...e.prompt, ...e.response], all.slice(0, e.prompt.length + e.response.length));
  }
});
