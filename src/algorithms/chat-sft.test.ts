// Conversational SFT through a chat template: with a byte-level BPE trained here and a ChatML template, the loss mask
// covers exactly the assistant turns (content + <|im_end|>\n), a trailing user turn is dropped, templates that rewrite
// earlier turns are refused, and training lowers the loss on assistant tokens.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noGrad } from '../engine/index.ts';
import { loadTrained, trainByteLevelBpe } from '../models/bpe-trainer.ts';
import { configFromHf } from '../models/config.ts';
import { initParameters } from '../models/parameters.ts';
import type { ChatMessage } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { chatSegments, chatSftExample } from './chat-sft.ts';
import { trainableCopy } from './reference-model.ts';
import { sftBatch, sftLoss, SftTrainer, type SftExample } from './sft-trainer.ts';

const CHATML = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
const WORDS = ['apple', 'river', 'stone', 'cloud', 'tiger', 'lemon', 'piano', 'frost', 'amber', 'delta', 'orbit', 'maple'];

/** A small synthetic chat set: the assistant repeats the user's word reversed, twice per conversation. */
function conversations(): ChatMessage[][] {
  return WORDS.map((word, i) => {
    const other = WORDS[(i + 5) % WORDS.length];
    return [
      { role: 'system', content: 'Reverse the word.' },
      { role: 'user', content: word }, { role: 'assistant', content: [...word].reverse().join('') },
      { role: 'user', content: other }, { role: 'assistant', content: [...other].reverse().join('') },
    ];
  });
}

const chats = conversations();
const tokenizer = loadTrained(trainByteLevelBpe(chats.map((c) => c.map((m) => `${m.role} ${m.content}`).join('\n')),
  { vocabSize: 320, specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], chatTemplate: CHATML }));

describe('SFT on conversations via the chat template', () => {
  test('the loss mask covers exactly the assistant turns', () => {
    const messages = [...chats[0], { role: 'user', content: 'trailing question' }];
    const example = chatSftExample(tokenizer, messages);
    const masked = example.response.filter((_, r) => example.lossMask![r] === 1);
    const unmasked = example.response.filter((_, r) => example.lossMask![r] === 0);
    assert.equal(tokenizer.decode(masked), 'elppa<|im_end|>\nnomel<|im_end|>\n');
    assert.equal(tokenizer.decode(example.prompt), '<|im_start|>system\nReverse the word.<|im_end|>\n<|im_start|>user\napple<|im_end|>\n<|im_start|>assistant\n');
    assert.equal(tokenizer.decode(unmasked), '<|im_start|>user\nlemon<|im_end|>\n<|im_start|>assistant\n');
    const all = tokenizer.decode([...example.prompt, ...example.response]);
    assert.equal(all, tokenizer.renderChat(chats[0], { addGenerationPrompt: false }), 'the trailing user turn is dropped');
    const batch = sftBatch([example]), P = example.prompt.length;
    const targetCount = [...batch.targets].filter((t) => t !== -100).length;
    assert.equal(targetCount, masked.length);
    assert.equal(batch.targets[P - 1], example.response[0], 'the first assistant token is predicted from the last prompt token');
  });

  test('bad conversations and templates that rewrite earlier turns are refused', () => {
    assert.throws(() => chatSftExample(tokenizer, [{ role: 'user', content: 'hi' }], { where: 'data.jsonl line 3' }), /data\.jsonl line 3: no assistant message/);
    assert.throws(() => chatSftExample(tokenizer, [{ role: 'user' } as ChatMessage, { role: 'assistant', content: 'x' }]), /messages\[0\] needs string 'role' and 'content'/);
    const counting = `{{ messages|length }}${CHATML}`;
    assert.throws(() => chatSegments(tokenizer, chats[0], { template: counting }), /not prefix-stable at messages\[2\]/);
  });

  test('training lowers the loss on assistant tokens', async () => {
    const examples: SftExample[] = chats.map((c) => chatSftExample(tokenizer, c));
    const config = configFromHf({ model_type: 'gpt2', vocab_size: tokenizer.vocabSize, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 128 }, 'chat-sft');
    const model = trainableCopy(new Transformer(config, initParameters(config, 3)));
    const assistantLoss = () => noGrad(() => sftLoss(model, sftBatch(examples)).item());
    const before = assistantLoss();
    const trainer = new SftTrainer(model, examples, { learningRate: 1e-2, batchSize: 6, maxGradNorm: 1, seed: 1 });
    for (let i = 0; i < 40; i++) await trainer.trainStep();
    const after = assistantLoss();
    console.log(`assistant-token loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
    assert.ok(after < before - 1.5, `assistant-token loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
  });
});
