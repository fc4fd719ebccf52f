// Tests onAbort subscriptions: a pending one is called once on abort and not after unsubscribing, on a plain
// AbortController's signal and a FanoutAbortController's; one made after the signal aborted is called at once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FanoutAbortController, onAbort } from './abort-fanout.ts';

for (const [name, create] of [['AbortController', () => new AbortController()], ['FanoutAbortController', () => new FanoutAbortController()]] as const) {
  test(`${name}: subscribers are called once on abort, unsubscribed ones never`, () => {
    const controller = create();
    const calls: string[] = [];
    onAbort(controller.signal, () => calls.push('kept'));
    const unsubscribe = onAbort(controller.signal, () => calls.push('dropped'));
    unsubscribe();
    controller.abort();
    controller.abort();
    assert.deepEqual(calls, ['kept']);
  });

  test(`${name}: subscribing to a signal already aborted calls back at once`, () => {
    const controller = create();
    controller.abort();
    let calls = 0;
    const unsubscribe = onAbort(controller.signal, () => calls++);
    assert.equal(calls, 1, 'called before onAbort returns');
    unsubscribe(); // harmless
    controller.abort();
    assert.equal(calls, 1, 'and only once');
  });
}

test('no signal: the callback is never called', () => {
  let calls = 0;
  onAbort(undefined, () => calls++)();
  assert.equal(calls, 0);
});
