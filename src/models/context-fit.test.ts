// Tests how a chat prompt and its generation budget share the context: the budget shrinks (to a quarter) before the
// prompt loses its start; then the prompt keeps its end; the generation always fits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitChatToContext } from './context-fit.ts';

test('what fits is fed whole with the budget asked, at most the cap', () => {
  assert.deepEqual(fitChatToContext(256, 100, 72), { cut: 0, maxNewTokens: 72 });
  assert.deepEqual(fitChatToContext(256, 100, 500), { cut: 0, maxNewTokens: 128 }, 'half the context by default');
  assert.deepEqual(fitChatToContext(256, 185, 72), { cut: 0, maxNewTokens: 72 }, '185 + 72 - 1 = 256 fits exactly');
});

test('a longer prompt keeps its start while the budget can shrink to a quarter', () => {
  // A judge's 200-token prompt with a 72-token rationale budget: the rule at its start stays, 57 tokens are left.
  assert.deepEqual(fitChatToContext(256, 200, 72), { cut: 0, maxNewTokens: 57 });
  assert.deepEqual(fitChatToContext(256, 239, 72), { cut: 0, maxNewTokens: 18 }, '18 = a quarter of 72');
});

test('past a quarter of the budget the prompt keeps its end; prompt + generation always fit', () => {
  assert.deepEqual(fitChatToContext(256, 240, 72), { cut: 1, maxNewTokens: 18 });
  assert.deepEqual(fitChatToContext(256, 1000, 1), { cut: 744, maxNewTokens: 1 }, 'a verdict of one token: the last 256 tokens');
  for (const [context, prompt, asked] of [[64, 63, 1], [64, 64, 1], [64, 65, 40], [256, 300, 72], [2, 10, 5], [256, 1, 1000]]) {
    const { cut, maxNewTokens } = fitChatToContext(context!, prompt!, asked!);
    assert.ok(maxNewTokens >= 1 && cut >= 0 && cut < prompt!, `${context}/${prompt}/${asked}`);
    assert.ok(prompt! - cut + maxNewTokens - 1 <= context!, `${context}/${prompt}/${asked}: ${prompt! - cut} + ${maxNewTokens} - 1 fits`);
  }
  assert.throws(() => fitChatToContext(1, 5, 1), /context 1 must be an integer ≥ 2/);
});
