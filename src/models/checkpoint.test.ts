// Checkpoint folders: round trips for both families (F32 exact, BF16 within rounding, sharded), GPT-2 names with
// the `transformer.` prefix, tied heads and extra tensors as warnings, and missing/misshapen tensors as errors.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Tensor } from '../engine/index.ts';
import { CheckpointError, readSafetensors, writeSafetensors, type TensorLike } from './safetensors.ts';
import { INDEX_FILE, loadPretrained, savePretrained, WEIGHTS_FILE } from './checkpoint.ts';
import { configFromHf, type TransformerConfig } from './config.ts';
import { roundToBf16 } from './float-formats.ts';
import { initParameters } from './parameters.ts';

const root = mkdtempSync(join(tmpdir(), 'checkpoint-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => join(root, `model-${counter++}`);

const gpt2 = configFromHf({ model_type: 'gpt2', vocab_size: 50, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 12 });
const llama = configFromHf({
  model_type: 'llama', vocab_size: 40, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, intermediate_size: 24, tie_word_embeddings: false,
});
const qwen2 = configFromHf({
  model_type: 'qwen2', vocab_size: 40, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
  num_key_value_heads: 1, intermediate_size: 20, tie_word_embeddings: true,
});

function assertSameParameters(got: Map<string, Tensor>, want: Map<string, Tensor>, transform = (x: Float32Array) => x): void {
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [name, t] of want) {
    assert.deepEqual(got.get(name)!.shape, t.shape, name);
    assert.deepEqual(got.get(name)!.data, transform(t.data), name);
    assert.equal(got.get(name)!.requiresGrad, true);
  }
}

function expectError(fn: () => unknown, pattern: RegExp, ...mentions: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${String(error)}`);
    for (const m of mentions) assert.ok(error.message.includes(m), `'${m}' in: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** The dtype of every tensor in a folder's *.safetensors files, from their JSON headers. */
function readSafetensorsHeader(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.safetensors')).flatMap((file) => {
    const bytes = readFileSync(join(dir, file)), length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, { dtype?: string }>;
    return Object.entries(header).filter(([name]) => name !== '__metadata__').map(([, info]) => info.dtype ?? '?');
  });
}

/** Rewrites a folder's model.safetensors with renamed / added / removed tensors. */
function rewrite(dir: string, edit: (tensors: Map<string, TensorLike>) => Map<string, TensorLike>): void {
  const { tensors } = readSafetensors(join(dir, WEIGHTS_FILE));
  writeSafetensors(join(dir, WEIGHTS_FILE), edit(tensors as Map<string, TensorLike>));
}

describe('checkpoint round trip', () => {
  for (const [label, config] of [['gpt2', gpt2], ['llama GQA untied', llama], ['qwen2 qkv bias tied', qwen2]] as const) {
    it(`${label}: F32 exact, BF16 within bf16 rounding`, () => {
      const parameters = initParameters(config as TransformerConfig, 7);
      const dir = freshDir();
      savePretrained(dir, config as TransformerConfig, parameters);
      const loaded = loadPretrained(dir);
      assert.deepEqual(loaded.config, config);
      assertSameParameters(loaded.parameters, parameters);
      assert.deepEqual(loaded.warnings, []);

      const bf16 = freshDir();
      savePretrained(bf16, config as TransformerConfig, parameters, { dtype: 'BF16' });
      assertSameParameters(loadPretrained(bf16).parameters, parameters, roundToBf16);
    });
  }

  it('config.json names the dtype the weights were written in (torch_dtype="auto" loads them as that)', () => {
    const parameters = initParameters(gpt2 as TransformerConfig, 7);
    for (const [dtype, torchDtype] of [['F32', 'float32'], ['F16', 'float16'], ['BF16', 'bfloat16']] as const) {
      for (const config of [gpt2, llama] as TransformerConfig[]) {
        const dir = freshDir();
        savePretrained(dir, config, config === gpt2 ? parameters : initParameters(config, 7), { dtype, maxShardBytes: dtype === 'F16' ? 4096 : undefined });
        assert.equal(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).torch_dtype, torchDtype, `${config.family} ${dtype}`);
        const header = readSafetensorsHeader(dir);
        assert.ok(header.every((d) => d === dtype), `${config.family}: weights stored as ${dtype}`);
      }
    }
  });

  it('sharded: several files and an index, loaded back exactly', () => {
    const parameters = initParameters(llama, 3);
    const dir = freshDir();
    const { files } = savePretrained(dir, llama, parameters, { maxShardBytes: 4096 });
    assert.ok(files.length > 2, `${files.length} shards`);
    assert.ok(existsSync(join(dir, INDEX_FILE)) && !existsSync(join(dir, WEIGHTS_FILE)));
    const loaded = loadPretrained(dir);
    assert.equal(loaded.files.length, files.length);
    assertSameParameters(loaded.parameters, parameters);
    // A tensor a shard holds but the index does not list is reported, not silently dropped.
    const withHead = new Map<string, TensorLike>(parameters);
    withHead.set('value_head.weight', { shape: [1, 16], data: new Float32Array(16) });
    savePretrained(dir, llama, withHead, { maxShardBytes: 4096 });
    const indexPath = join(dir, INDEX_FILE);
    const index = JSON.parse(readFileSync(indexPath, 'utf-8'));
    assert.ok(index.weight_map['value_head.weight']);
    assert.deepEqual(loadPretrained(dir).warnings, ['value_head.weight: not used by this config, ignored']);
    delete index.weight_map['value_head.weight'];
    writeFileSync(indexPath, JSON.stringify(index));
    assert.deepEqual(loadPretrained(dir).warnings, ['value_head.weight: not used by this config, ignored']);
    // Saving again unsharded removes the index so it cannot shadow the new file.
    savePretrained(dir, llama, parameters);
    assert.ok(!existsSync(join(dir, INDEX_FILE)));
    assertSameParameters(loadPretrained(dir).parameters, parameters);
  });
});

describe('checkpoint names and extras', () => {
  it('GPT-2 names with the transformer. prefix; a stored tied lm_head and mask buffers become warnings', () => {
    const parameters = initParameters(gpt2, 1);
    const dir = freshDir();
    savePretrained(dir, gpt2, parameters);
    rewrite(dir, (tensors) => {
      const out = new Map<string, TensorLike>([...tensors].map(([n, t]) => [`transformer.${n}`, t]));
      out.set('lm_head.weight', tensors.get('wte.weight')!);
      for (let i = 0; i < 2; i++) out.set(`transformer.h.${i}.attn.bias`, { shape: [1, 1, 12, 12], data: new Float32Array(144) });
      return out;
    });
    const loaded = loadPretrained(dir);
    assertSameParameters(loaded.parameters, parameters);
    assert.equal(loaded.warnings.length, 2);
    assert.match(loaded.warnings[0], /^lm_head\.weight: ignored, tie_word_embeddings/);
    assert.match(loaded.warnings[1], /^transformer\.h\.\*\.attn\.bias \(2 tensors\): not used/);
  });

  it('a Llama body saved without the model. prefix loads', () => {
    const parameters = initParameters(llama, 2);
    const dir = freshDir();
    savePretrained(dir, llama, parameters);
    rewrite(dir, (tensors) => new Map([...tensors].map(([n, t]) => [n === 'lm_head.weight' ? n : n.replace(/^model\./, ''), t])));
    assertSameParameters(loadPretrained(dir).parameters, parameters);
  });
});

describe('checkpoint errors name the file and tensor', () => {
  it('missing tensor', () => {
    const dir = freshDir();
    savePretrained(dir, llama, initParameters(llama, 1));
    rewrite(dir, (tensors) => { tensors.delete('model.layers.1.mlp.up_proj.weight'); return tensors; });
    expectError(() => loadPretrained(dir), /missing \(expected shape \[24, 16\]/, join(dir, WEIGHTS_FILE), 'model.layers.1.mlp.up_proj.weight');
  });

  it('shape disagreeing with the config', () => {
    const dir = freshDir();
    savePretrained(dir, gpt2, initParameters(gpt2, 1));
    const configPath = join(dir, 'config.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf-8')), vocab_size: 64 }));
    expectError(() => loadPretrained(dir), /shape \[50, 16\] does not match \[64, 16\]/, join(dir, WEIGHTS_FILE), "'wte.weight'", configPath);
  });

  it('untied config without lm_head', () => {
    const dir = freshDir();
    savePretrained(dir, llama, initParameters(llama, 1));
    rewrite(dir, (tensors) => { tensors.delete('lm_head.weight'); return tensors; });
    expectError(() => loadPretrained(dir), /missing/, "'lm_head.weight'");
  });

  it('index pointing at a tensor its shard lacks, or at a file outside the folder', () => {
    const dir = freshDir();
    savePretrained(dir, llama, initParameters(llama, 1), { maxShardBytes: 4096 });
    const indexPath = join(dir, INDEX_FILE);
    const index = JSON.parse(readFileSync(indexPath, 'utf-8'));
    const [name, file] = Object.entries(index.weight_map as Record<string, string>)[0];
    const other = Object.values(index.weight_map as Record<string, string>).find((f) => f !== file)!;
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, [name]: other } }));
    const unlisted = { ...index.weight_map };
    delete unlisted[name];
    writeFileSync(indexPath, JSON.stringify({ weight_map: unlisted }));
    expectError(() => loadPretrained(dir), /missing/, indexPath, `'${name}'`);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, extra: file } }));
    expectError(() => loadPretrained(dir), /listed in .* but not in this shard/, join(dir, file), "'extra'");
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, [name]: other } }));
    expectError(() => loadPretrained(dir), /listed in .* but not in this shard/, join(dir, other), `'${name}'`);
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, [name]: '../../etc/passwd' } }));
    expectError(() => loadPretrained(dir), /not a file inside/, indexPath, `'${name}'`);
  });

  it('no weights, broken config.json, truncated shard', () => {
    const dir = freshDir();
    savePretrained(dir, gpt2, initParameters(gpt2, 1));
    const weights = join(dir, WEIGHTS_FILE);
    const bytes = readFileSync(weights);
    writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    expectError(() => loadPretrained(dir), /out of range/, weights, "'ln_f.weight'");
    rmSync(weights);
    expectError(() => loadPretrained(dir), /no model\.safetensors/, dir);
    writeFileSync(join(dir, 'config.json'), '{"model_type": ');
    expectError(() => loadPretrained(dir), /not valid JSON/, join(dir, 'config.json'));
  });

  it('NaN or Infinity in stored weights (F32 and BF16) is an error naming the file and tensor', () => {
    for (const dtype of ['F32', 'BF16'] as const) {
      const dir = freshDir();
      const parameters = initParameters(gpt2, 1);
      parameters.get('h.1.attn.c_proj.weight')!.data[5] = NaN;
      parameters.get('h.1.attn.c_proj.weight')!.data[9] = -Infinity;
      savePretrained(dir, gpt2, parameters, { dtype });
      expectError(() => loadPretrained(dir), /2 of 256 values are NaN or ±Infinity \(first at index 5/, join(dir, WEIGHTS_FILE), "'h.1.attn.c_proj.weight'");
      expectError(() => loadPretrained(dir, { weights: 'bf16' }), /2 of 256 values are NaN or ±Infinity \(first at index 5/, join(dir, WEIGHTS_FILE), "'h.1.attn.c_proj.weight'");
    }
  });

  it('saving refuses a parameter set that does not match the config', () => {
    const parameters = initParameters(gpt2, 1);
    parameters.delete('h.0.ln_1.bias');
    expectError(() => savePretrained(freshDir(), gpt2, parameters), /parameter missing/, "'h.0.ln_1.bias'");
  });
});
