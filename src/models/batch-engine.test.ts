// Continuous batching: sequences that join a running batch at different steps get the tokens a one-prompt generate()
// gives for their seed (both families: learned positions and RoPE), share forward passes, stop on stop tokens, and a
// cancelled sequence leaves while the others finish.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from './generate.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';
import { BatchEngine, topTokens, type SequenceRequest } from './batch-engine.ts';
import { PrefixCache } from './prefix-cache.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

for (const family of ['gpt2', 'llama'] as const) {
  describe(`BatchEngine (${family})`, () => {
    const model = tinyModel(family, 3);
    const V = model.config.vocabSize;
    const request = (i: number, extra: Partial<SequenceRequest> = {}): SequenceRequest => ({
      prompt: Array.from(testIds(3 + (i * 5) % 11, V, 100 + i)), maxNewTokens: 6 + (i % 5), sampling: { temperature: 1.2, topP: i % 2 ? 0.9 : 1 },
      seed: 1000 + i, stopTokenIds: [], topLogprobs: 0, ...extra,
    });

    test('sequences joining at different steps get what generate() gives each alone, in fewer forward passes', async () => {
      const engine = new BatchEngine({ model, maxBatch: 6 });
      const pending: Promise<unknown>[] = [];
      const requests = Array.from({ length: 10 }, (_, i) => request(i));
      for (const [i, r] of requests.entries()) {
        pending.push(engine.generate(r));
        if (i % 3 === 2) for (let k = 0; k < 2; k++) await tick();      // later ones join a running batch
      }
      const results = (await Promise.all(pending)) as Awaited<ReturnType<BatchEngine['generate']>>[];
      for (const [i, r] of requests.entries()) {
        const [alone] = generate(model, [r.prompt], { maxNewTokens: r.maxNewTokens, seeds: [r.seed], ...r.sampling });
        assert.deepEqual(results[i]!.tokens.map((t) => t.token), Array.from(alone!.tokens), `sequence ${i}`);
        results[i]!.tokens.forEach((t, k) => assert.ok(Math.abs(t.logprob - alone!.logprobs[k]!) < 1e-4, `logprob ${i}:${k}`));
      }
      const tokens = requests.reduce((n, r) => n + r.maxNewTokens, 0);
      assert.equal(engine.stats.decodedTokens + requests.length, tokens, 'every token but each first (from its prefill) came from a decode step');
      assert.ok(engine.stats.decodeSteps < tokens / 2.5, `${engine.stats.decodeSteps} decode steps for ${tokens} tokens: rows share forward passes`);
      assert.ok(engine.stats.maxBatch <= 6 && engine.stats.maxBatch >= 4);
    });

    test('rows that outlive a long prompt keep decoding to the end of the context (the cache is realigned when it must be)', async () => {
      const engine = new BatchEngine({ model, maxBatch: 4 });
      const N = model.config.maxPositions;
      const requests = [request(1, { prompt: Array.from(testIds(N - 3, V, 5)), maxNewTokens: 2 }), request(2, { prompt: Array.from(testIds(2, V, 6)), maxNewTokens: N - 1 }),
        request(3, { prompt: Array.from(testIds(3, V, 7)), maxNewTokens: 5 })];
      const results = await Promise.all(requests.map((r) => engine.generate(r)));
      for (const [i, r] of requests.entries()) {
        const [alone] = generate(model, [r.prompt], { maxNewTokens: r.maxNewTokens, seeds: [r.seed], ...r.sampling });
        assert.deepEqual(results[i]!.tokens.map((t) => t.token), Array.from(alone!.tokens), `sequence ${i}`);
      }
    });

    test('with a prefix cache: prompts sharing a prefix are prefilled from its blocks and still get what generate() gives', async () => {
      const prefixCache = new PrefixCache({ model, block: 4 });
      const engine = new BatchEngine({ model, maxBatch: 6, prefixCache });
      const shared = Array.from(testIds(9, V, 77));
      const requests = Array.from({ length: 8 }, (_, i) => request(i, { prompt: [...shared, ...testIds(1 + (i % 4), V, 200 + i)] }));
      const pending: Promise<Awaited<ReturnType<BatchEngine['generate']>>>[] = [];
      for (const [i, r] of requests.entries()) {
        pending.push(engine.generate(r));
        if (i % 3 === 2) await tick();
      }
      const results = await Promise.all(pending);
      for (const [i, r] of requests.entries()) {
        const [alone] = generate(model, [r.prompt], { maxNewTokens: r.maxNewTokens, seeds: [r.seed], ...r.sampling });
        assert.deepEqual(results[i]!.tokens.map((t) => t.token), Array.from(alone!.tokens), `sequence ${i}`);
        results[i]!.tokens.forEach((t, k) => assert.ok(Math.abs(t.logprob - alone!.logprobs[k]!) < 1e-4, `logprob ${i}:${k}`));
      }
      // 7 of 8 prompts share 2 whole blocks (8 tokens) with the first; a batched wave's shorter suffixes recompute up to
      // 3 cached tokens where they would otherwise be padded (prefillBatch), so at least 7 x 5 come from the cache
      assert.ok(prefixCache.stats.reusedTokens >= 7 * 5, `${prefixCache.stats.reusedTokens} prompt tokens from cached blocks`);
      assert.ok(prefixCache.stats.forwards < requests.length, `${prefixCache.stats.forwards} prefill forwards for ${requests.length} prompts: batched`);
      assert.ok(engine.stats.decodeSteps < requests.reduce((n, r) => n + r.maxNewTokens, 0) / 2, 'rows still share decode steps');
    });

    test('a stop token ends a sequence; a cancelled one rejects and the rest finish', async () => {
      const engine = new BatchEngine({ model, maxBatch: 8 });
      const [probe] = generate(model, [request(1).prompt], { maxNewTokens: 7, seeds: [request(1).seed], ...request(1).sampling });
      const stopAt = probe!.tokens[2]!;
      const stopped = engine.generate(request(1, { maxNewTokens: 7, stopTokenIds: [stopAt] }));
      const controller = new AbortController();
      const steps: number[] = [];
      const cancelled = engine.generate(request(2, { maxNewTokens: 30, signal: controller.signal, onToken: (s) => { steps.push(s.token); if (steps.length === 3) controller.abort(new Error('gone')); } }));
      const other = engine.generate(request(4, { maxNewTokens: 12, topLogprobs: 3 }));
      await assert.rejects(cancelled, /gone/);
      const result = await stopped;
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.tokens.at(-1)!.token, stopAt);
      assert.ok(result.tokens.length <= 3);
      const rest = await other;
      assert.equal(rest.tokens.length, 12);
      assert.equal(rest.tokens[0]!.top.length, 3);
      assert.ok(steps.length <= 4, 'the cancelled sequence stopped decoding');
      assert.equal(engine.activeCount + engine.waitingCount, 0);
    });

    test("a token's log-prob is the same number as its entry among the alternatives, from prefill and decode steps alike", async () => {
      const engine = new BatchEngine({ model, maxBatch: 4 });
      // several rows share decode steps; temperature 0 keeps every sampled token among the alternatives
      const results = await Promise.all([0, 1, 2].map((i) => engine.generate(request(i, { maxNewTokens: 5, topLogprobs: 4, sampling: { temperature: i === 0 ? 0 : 1 } }))));
      let checked = 0;
      for (const [i, result] of results.entries()) {
        result.tokens.forEach((step, k) => {
          assert.equal(step.top.length, 4);
          const own = step.top.find((t) => t.token === step.token);
          if (i === 0) assert.ok(own, `greedy token ${k} is among the alternatives`);
          if (!own) return;
          assert.equal(own.logprob, step.logprob, `sequence ${i} token ${k}: the same value in both places`);
          checked++;
        });
      }
      assert.ok(checked >= 5, `${checked} tokens checked`);
      assert.ok(engine.stats.decodeSteps < 15, 'rows shared decode steps');
    });

    test('a sequence its decode step finished is answered before the next step prefills a newcomer', async () => {
      // A closed-loop client (a judge's verdict after its rationale) sends its next request on the reply: a reply held
      // back until the next step had prefilled the newcomers would cost such a client a whole prefill each time.
      const engine = new BatchEngine({ model, maxBatch: 4 });
      const events: string[] = [];
      let newcomer: Promise<unknown> | undefined;
      const onToken = (_: unknown, index: number) => {
        if (index === 1) newcomer = engine.generate(request(2, { maxNewTokens: 1, onToken: () => events.push('newcomer prefilled') }));
      };
      await engine.generate(request(1, { maxNewTokens: 2, onToken })).then(() => events.push('answered'));
      await newcomer;
      assert.deepEqual(events, ['answered', 'newcomer prefilled']);
      assert.equal(engine.activeCount + engine.waitingCount, 0);
    });

    test('an emptied batch gathers the next requests of the clients it answered into one prefill; a lone one never waits', async () => {
      const one = { maxNewTokens: 1 };
      const later = (ms: number, i: number, engine: BatchEngine) => new Promise((resolve) => setTimeout(resolve, ms)).then(() => engine.generate(request(i, one)));
      const round = async (quietMs: number) => {
        const engine = new BatchEngine({ model, maxBatch: 8, gather: { quietMs, maxShare: 1e6 } });
        // Three clients answered in one step send their next requests 0, 30 and 60 ms after their replies.
        await Promise.all([0, 30, 60].map((ms, i) => engine.generate(request(i, one)).then(() => later(ms, 10 + i, engine))));
        return engine.stats;
      };
      const gathered = await round(150), eager = await round(0);
      assert.equal(gathered.forwardPasses, 2, 'the three stragglers share the second prefill');
      assert.ok(eager.forwardPasses >= 3, `without gathering the first straggler goes alone (${eager.forwardPasses} prefills)`);
      assert.ok(gathered.ms.gather > 5 && eager.ms.gather === 0);
      for (const maxNewTokens of [1, 2]) {                                    // finished by its prefill, or by a decode step
        const lone = new BatchEngine({ model, maxBatch: 8, gather: { quietMs: 50, maxShare: 1e6 } });
        await lone.generate(request(1, { maxNewTokens })).then(() => lone.generate(request(2, { maxNewTokens })));
        assert.ok(lone.stats.ms.gather < 1, `a step that finished one sequence of ${maxNewTokens} tokens opens no timer window (${lone.stats.ms.gather} ms)`);
      }
    });

    test('an emptied batch takes next requests that arrive turn after turn of the event loop into one prefill, with no timer', async () => {
      // A burst of requests reaches a server over several turns of its event loop (read and parsed socket by socket).
      // Four clients answered in one step send their next requests 0, 1, 2 and 3 turns later; maxShare 0 leaves no
      // timer window, so only the turns can gather them. quietMs 0 turns gathering off. Then the same burst after a
      // lone request (no timer window follows a step that finished one): the turns gather it too.
      const one = { maxNewTokens: 1 };
      const turns = (n: number) => new Promise<void>((resolve) => { const go = (k: number): void => { if (k === 0) resolve(); else setImmediate(() => go(k - 1)); }; go(n); });
      const round = async (quietMs: number) => {
        const engine = new BatchEngine({ model, maxBatch: 8, gather: { quietMs, maxShare: 0 } });
        await Promise.all([0, 1, 2, 3].map((k, i) => engine.generate(request(i, one)).then(() => turns(k)).then(() => engine.generate(request(10 + i, one)))));
        return engine.stats;
      };
      const gathered = await round(1), eager = await round(0);
      assert.equal(gathered.forwardPasses, 2, 'the four next requests share the second prefill');
      assert.ok(eager.forwardPasses >= 3, `without gathering the first next request goes alone (${eager.forwardPasses} prefills)`);
      const afterLone = new BatchEngine({ model, maxBatch: 8, gather: { quietMs: 50, maxShare: 1e6 } });
      await afterLone.generate(request(1, one));
      await Promise.all([0, 1, 2, 3].map((k, i) => turns(k).then(() => afterLone.generate(request(20 + i, one)))));
      assert.equal(afterLone.stats.forwardPasses, 2, 'the burst after a lone request shares one prefill');
    });
  });
}

test('topTokens: the k largest logits, best first, as log-softmax', () => {
  const logits = Float32Array.from([0.5, 2, -1, 2, 1]);
  const top = topTokens(logits, 3);
  assert.deepEqual(top.map((t) => t.token), [1, 3, 4]);
  const lse = Math.log([...logits].reduce((s, x) => s + Math.exp(x), 0));
  assert.ok(Math.abs(top[0]!.logprob - (2 - lse)) < 1e-6);
  const many = Float32Array.from({ length: 100 }, (_, v) => Math.sin(v * 1.7) * 3);
  assert.deepEqual(topTokens(many, 40).slice(0, 20), topTokens(many, 20), 'the sort path for many agrees with insertion');
  const logSoftmax = Float32Array.from(logits, (x) => x - lse);
  assert.deepEqual(topTokens(logits, 3, logSoftmax), [1, 3, 4].map((v) => ({ token: v, logprob: logSoftmax[v]! })), 'values read from a given log-softmax row');
  assert.throws(() => topTokens(logits, 3, new Float32Array(4)), /logSoftmax has 4 values for 5 logits/);
});
