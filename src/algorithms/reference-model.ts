// The frozen reference policy π_ref: a copy of the policy's weights that never receives gradients, and a small
// scalar head (value function / reward model) on final hidden states. Leaves out: LoRA-aware sharing of the base.
import { linear, parameter, reshape, tensor, type Tensor } from '../engine/index.ts';
import { Transformer } from '../models/transformer.ts';

/** A copy of model whose parameters do not require gradients (the reference for KL and DPO). */
export function frozenCopy(model: Transformer): Transformer {
  const copies = new Map<string, Tensor>();
  for (const [name, t] of model.parameters()) copies.set(name, tensor(t.data.slice(), t.shape));
  return new Transformer(model.config, copies);
}

/** Scalar head v = h·w + b on hidden states (B, T, C) → (B, T); zero-initialised so training starts neutral. */
export class ScalarHead {
  readonly weight: Tensor; // (1, C)
  readonly bias: Tensor;   // (1,)

  constructor(hiddenSize: number, prefix = 'score') {
    this.weight = parameter(new Float32Array(hiddenSize), [1, hiddenSize], `${prefix}.weight`);
    this.bias = parameter(new Float32Array(1), [1], `${prefix}.bias`);
  }

  forward(hidden: Tensor): Tensor {
    const [B, T] = hidden.shape;
    return reshape(linear(hidden, this.weight, this.bias), [B, T]); // (B, T)
  }

  parameters(): Map<string, Tensor> {
    return new Map([[this.weight.name!, this.weight], [this.bias.name!, this.bias]]);
  }
}
