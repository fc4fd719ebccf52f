// Which parameters a trainer updates: every policy parameter (full fine-tuning) or only LoRA adapters attached here
// through models/lora.ts (the base is frozen). One place so the PG and DPO trainers wire LoRA the same way.
// Leaves out: QLoRA, per-module ranks. LoRA: arXiv 2106.09685.
import type { Tensor } from '../engine/index.ts';
import { applyLora, type LoraAdapter } from '../models/lora.ts';
import type { Transformer } from '../models/transformer.ts';

export interface LoraOptions {
  rank: number;                 // r
  alpha: number;                // scale α/r
  targets: string[] | string;   // projection names as PEFT matches them, e.g. ['c_attn', 'c_fc'] or ['q_proj', 'v_proj']
  dropout?: number;             // on the adapter input while training (default 0)
}

export interface TrainableSelection {
  trainable: Map<string, Tensor>; // what the optimizer updates and the checkpoint stores
  adapter: LoraAdapter | null;    // the attached adapter when LoRA is on
}

/** Full fine-tuning (explicit subset or every parameter), or LoRA: freezes the base and returns the adapter's tensors. */
export function selectTrainable(policy: Transformer, options: { lora?: LoraOptions | null; trainable?: Map<string, Tensor>; seed: number }): TrainableSelection {
  if (options.lora) {
    if (options.trainable) throw new Error('trainer setup: give either `lora` or `trainable`, not both');
    const adapter = applyLora(policy, { rank: options.lora.rank, alpha: options.lora.alpha, dropout: options.lora.dropout ?? 0,
      targetModules: options.lora.targets }, options.seed);
    return { trainable: new Map(adapter.parameters()), adapter };
  }
  const trainable = new Map(options.trainable ?? policy.parameters());
  for (const [name, t] of trainable) if (!t.requiresGrad) throw new Error(`trainer setup: parameter "${name}" does not require gradients (use trainableCopy(model))`);
  return { trainable, adapter: null };
}
