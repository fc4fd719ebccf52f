// The frozen reference policy π_ref: a copy of the policy's weights that never receives gradients (the KL anchor of
// policy gradient, the reference of DPO). Scalar heads (reward model, value function) live in src/models/heads.ts.
// Leaves out: LoRA-aware sharing of the base (a LoRA policy's reference is simply a copy of the base).
import { tensor, type Tensor } from '../engine/index.ts';
import { Transformer } from '../models/transformer.ts';

/** A copy of model whose parameters do not require gradients (the reference for KL and DPO). */
export function frozenCopy(model: Transformer): Transformer {
  const copies = new Map<string, Tensor>();
  for (const [name, t] of model.parameters()) copies.set(name, tensor(t.data.slice(), t.shape));
  return new Transformer(model.config, copies);
}

/** A trainable copy of model: every parameter requires gradients (the policy, before any LoRA is attached). */
export function trainableCopy(model: Transformer): Transformer {
  const copy = frozenCopy(model);
  for (const t of copy.parameters().values()) t.requiresGrad = true;
  return copy;
}
