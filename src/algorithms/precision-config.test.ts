// The mixed-precision notice: said where bf16 products widen the weights (no AVX512_BF16, or off the native backend),
// silent at fp32 and where vdpbf16ps runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { precisionNotice } from './precision-config.ts';

describe('precisionNotice', () => {
  it('warns about bf16 without AVX512_BF16 and off the native backend, and only then', () => {
    assert.match(precisionNotice('bf16', { name: 'native', bf16Kernel: 'widen' }) ?? '', /no AVX512_BF16.*slower steps than at fp32/);
    assert.match(precisionNotice('bf16', { name: 'wasm' }) ?? '', /wasm backend has no bf16 instructions/);
    assert.equal(precisionNotice('bf16', { name: 'native', bf16Kernel: 'vdpbf16ps' }), null);
    assert.equal(precisionNotice('fp32', { name: 'native', bf16Kernel: 'widen' }), null);
    assert.equal(precisionNotice(undefined, { name: 'js' }), null);
  });
});
