// Test helper: a run crashed at several points and resumed each time must end with the records of an uninterrupted
// run, and its labeler must have answered exactly as many requests (no judgment asked twice). The crash is a thrown
// error from the labeler's pairwise, pointwise or revise call after `crashAfter` calls. Used by the loop's and the
// adversarial rounds' resume tests.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '../run-config.ts';
import { runLoop } from '../run-loop.ts';
import { RunStore } from '../run-store.ts';
import type { TinyLoop } from './tiny-loop.ts';

export interface CrashResumeOptions {
  config: RunConfig;
  make: (store: RunStore) => TinyLoop;         // a fresh run over the store (tinyLoop, or one with an adversary)
  contentOf: (store: RunStore) => string[];    // the records compared, without timings
  crashAfter: number[];                        // labeler calls before each crash (the last run is not crashed)
  on: 'pairwise' | 'pointwise' | 'revise';     // which labeler call crashes
  fingerprint?: (run: TinyLoop) => unknown;    // also equal at the end (e.g. final weights)
}

export async function assertCrashResumeEqual(options: CrashResumeOptions): Promise<void> {
  const reference = mkdtempSync(join(tmpdir(), 'rlaif-crash-ref-')), resumed = mkdtempSync(join(tmpdir(), 'rlaif-crash-res-'));
  try {
    const store = RunStore.open(reference, options.config);
    const straight = options.make(store);
    await runLoop(straight.context);
    const expected = options.contentOf(store), expectedCalls = straight.labelerModel.calls, fingerprint = options.fingerprint?.(straight);
    store.close();
    let calls = 0;
    for (const crashAfter of [...options.crashAfter, Number.POSITIVE_INFINITY]) {
      const s = RunStore.open(resumed, options.config);
      const run = options.make(s);
      const inner = run.context.labeler;
      let made = 0;
      const crashing = <T extends unknown[], R>(call: (...args: T) => Promise<R>) => async (...args: T): Promise<R> => {
        if (made++ >= crashAfter) throw new Error('simulated crash');
        return call(...args);
      };
      run.context.labeler = { ...inner, model: inner.model, templateVersion: inner.templateVersion, pairwise: inner.pairwise, pointwise: inner.pointwise, revise: inner.revise,
        [options.on]: crashing(inner[options.on] as (...args: unknown[]) => Promise<never>) };
      try {
        await runLoop(run.context);
        assert.equal(crashAfter, Number.POSITIVE_INFINITY, 'only the last attempt finishes');
        if (options.fingerprint) assert.deepEqual(options.fingerprint(run), fingerprint, 'same final state');
      } catch (error) {
        assert.match((error as Error).message, /simulated crash/);
      }
      calls += run.labelerModel.calls;
      if (crashAfter === Number.POSITIVE_INFINITY) assert.deepEqual(options.contentOf(s), expected, 'same records, none lost, none duplicated');
      s.close();
    }
    assert.equal(calls, expectedCalls, 'the labeler answered exactly as many requests as in the uninterrupted run');
  } finally {
    rmSync(reference, { recursive: true, force: true });
    rmSync(resumed, { recursive: true, force: true });
  }
}
