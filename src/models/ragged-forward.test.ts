// Transformer.forwardRagged: each sequence's logits are bit for bit the same whatever it is batched with (alone
// included), for both families, with new-token counts of 1-40 over caches of 0-60 positions; they agree with a
// one-sequence forward to float rounding; the caches advance as a forward's do; misuse is refused. The width (96) puts
// the MLP's second product past one k-panel, where a product of 1-4 rows takes another path than one of 5 or more.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { noGrad, scope } from '../engine/index.ts';
import { toBf16Weights } from './bf16-weights.ts';
import { configFromHf } from './config.ts';
import { KvCache } from './kv-cache.ts';
import { initParameters } from './parameters.ts';
import { testIds } from './testing/tiny-models.ts';
import { Transformer } from './transformer.ts';

const V = 61;
const configs = {
  gpt2: configFromHf({ model_type: 'gpt2', vocab_size: V, n_embd: 96, n_layer: 2, n_head: 4, n_positions: 128 }, 'ragged-gpt2'),
  llama: configFromHf({ model_type: 'llama', vocab_size: V, hidden_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
    intermediate_size: 272, max_position_embeddings: 128, tie_word_embeddings: false }, 'ragged-llama'),
};

interface Item { prefix: Int32Array; ids: Int32Array }

for (const family of ['gpt2', 'llama'] as const) {
  describe(`forwardRagged (${family})`, () => {
    const config = configs[family];
    const model = new Transformer(config, initParameters(config, 7));
    /** Each item's logits (V) after its prefix (fed first, alone) and then its new tokens, all items in one ragged forward. */
    const ragged = (items: Item[]): Float32Array[] => noGrad(() => scope(() => {
      const sequences = items.map(({ prefix, ids }) => {
        const cache = new KvCache(config, 1, 128, prefix.length + ids.length);
        if (prefix.length > 0) model.forwardRagged([{ ids: prefix, cache }]);
        return { ids, cache };
      });
      const out = model.forwardRagged(sequences).data;
      sequences.forEach(({ cache }, k) => assert.equal(cache.length, items[k]!.prefix.length + items[k]!.ids.length, 'the cache advanced'));
      return items.map((_, k) => out.slice(k * V, (k + 1) * V));
    }));
    const item = (seed: number, prefix: number, fresh: number): Item => ({ prefix: testIds(prefix, V, seed), ids: testIds(fresh, V, seed + 1000) });
    const items = [item(1, 0, 3), item(2, 37, 1), item(3, 60, 40), item(4, 5, 2), item(5, 33, 17), item(6, 0, 1), item(7, 12, 4)];

    test('a sequence gets the same bits alone and in any batch', () => {
      const alone = items.map((it) => ragged([it])[0]!);
      const batches = [[0, 1], [1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1, 0], [3, 0], [2], [4, 6, 1]];
      for (const batch of batches) {
        const together = ragged(batch.map((k) => items[k]!));
        batch.forEach((k, n) => assert.deepEqual(together[n], alone[k], `item ${k} in batch [${batch}]`));
      }
    });

    test('agrees with a one-sequence forward over the same cache to float rounding', () => {
      for (const it of items) {
        const want = noGrad(() => scope(() => {
          const cache = new KvCache(config, 1, 128, it.prefix.length + it.ids.length);
          if (it.prefix.length > 0) model.forward(it.prefix, [1, it.prefix.length], { cache });
          return model.forward(it.ids, [1, it.ids.length], { cache, lastOnly: true }).data.slice(0, V);
        }));
        const got = ragged([it])[0]!;
        got.forEach((x, v) => assert.ok(Math.abs(x - want[v]!) < 1e-4 * (1 + Math.abs(want[v]!)), `logit ${v}: ${x} vs ${want[v]}`));
      }
    });

    test('refuses a gradient, bf16 weights, an empty batch or sequence, a cache of several rows', () => {
      const cache = () => new KvCache(config, 1, 128, 8);
      assert.throws(() => model.forwardRagged([{ ids: testIds(3, V), cache: cache() }]), /noGrad/);
      noGrad(() => {
        assert.throws(() => model.forwardRagged([]), /no sequences/);
        assert.throws(() => model.forwardRagged([{ ids: new Int32Array(0), cache: cache() }]), /sequence 0 has no tokens/);
        assert.throws(() => model.forwardRagged([{ ids: testIds(3, V), cache: new KvCache(config, 2, 128, 8) }]), /2 rows, needs 1/);
        assert.throws(() => toBf16Weights(model).forwardRagged([{ ids: testIds(3, V), cache: cache() }]), /float32 weights/);
      });
    });
  });
}
