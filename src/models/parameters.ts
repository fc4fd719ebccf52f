// Parameter names and shapes exactly as Hugging Face stores them in model.safetensors, and seeded initialization.
// GPT-2 names have no `transformer.` prefix (as GPT2LMHeadModel checkpoints are saved); its Conv1D weights are (in, out).
// Leaves out: loading and saving bytes (safetensors.ts), sharding.
import { parameter, Rng, type Tensor } from '../engine/index.ts';
import type { TransformerConfig } from './config.ts';

/** Every parameter the model needs, name → shape, in checkpoint order. */
export function expectedParameters(config: TransformerConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const C = config.hiddenSize, V = config.vocabSize, F = config.intermediateSize;
  if (config.family === 'gpt2') {
    shapes.set('wte.weight', [V, C]);
    shapes.set('wpe.weight', [config.maxPositions, C]);
    for (let i = 0; i < config.numLayers; i++) {
      const p = `h.${i}`;
      shapes.set(`${p}.ln_1.weight`, [C]);
      shapes.set(`${p}.ln_1.bias`, [C]);
      shapes.set(`${p}.attn.c_attn.weight`, [C, 3 * C]);   // Conv1D: (in, out)
      shapes.set(`${p}.attn.c_attn.bias`, [3 * C]);
      shapes.set(`${p}.attn.c_proj.weight`, [C, C]);
      shapes.set(`${p}.attn.c_proj.bias`, [C]);
      shapes.set(`${p}.ln_2.weight`, [C]);
      shapes.set(`${p}.ln_2.bias`, [C]);
      shapes.set(`${p}.mlp.c_fc.weight`, [C, F]);
      shapes.set(`${p}.mlp.c_fc.bias`, [F]);
      shapes.set(`${p}.mlp.c_proj.weight`, [F, C]);
      shapes.set(`${p}.mlp.c_proj.bias`, [C]);
    }
    shapes.set('ln_f.weight', [C]);
    shapes.set('ln_f.bias', [C]);
    if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [V, C]);
    return shapes;
  }
  const D = config.headDim, qOut = config.numHeads * D, kvOut = config.numKvHeads * D;
  shapes.set('model.embed_tokens.weight', [V, C]);
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}`;
    shapes.set(`${p}.input_layernorm.weight`, [C]);
    for (const [name, out] of [['q_proj', qOut], ['k_proj', kvOut], ['v_proj', kvOut]] as const) {
      shapes.set(`${p}.self_attn.${name}.weight`, [out, C]);             // nn.Linear: (out, in)
      if (config.qkvBias) shapes.set(`${p}.self_attn.${name}.bias`, [out]);
    }
    shapes.set(`${p}.self_attn.o_proj.weight`, [C, qOut]);
    if (config.outputBias) shapes.set(`${p}.self_attn.o_proj.bias`, [C]);
    shapes.set(`${p}.post_attention_layernorm.weight`, [C]);
    shapes.set(`${p}.mlp.gate_proj.weight`, [F, C]);
    shapes.set(`${p}.mlp.up_proj.weight`, [F, C]);
    shapes.set(`${p}.mlp.down_proj.weight`, [C, F]);
    if (config.mlpBias) {
      shapes.set(`${p}.mlp.gate_proj.bias`, [F]);
      shapes.set(`${p}.mlp.up_proj.bias`, [F]);
      shapes.set(`${p}.mlp.down_proj.bias`, [C]);
    }
  }
  shapes.set('model.norm.weight', [C]);
  if (!config.tieWordEmbeddings) shapes.set('lm_head.weight', [V, C]);
  return shapes;
}

/** True for norm weights (initialized to 1) and biases/norm biases (initialized to 0). */
function initialValue(name: string): number | null {
  if (name.endsWith('.bias')) return 0;
  if (/(ln_1|ln_2|ln_f|layernorm|norm)\.weight$/.test(name)) return 1;
  return null;
}

/**
 * Fresh parameters in Hugging Face layout: N(0, 0.02) for matrices (GPT-2's residual output projections scaled by
 * 1/sqrt(2 · numLayers), as in GPT-2 and nanoGPT), ones for norm weights, zeros for biases. Every tensor requires grad.
 */
export function initParameters(config: TransformerConfig, seed: number): Map<string, Tensor> {
  const rng = new Rng(seed);
  const parameters = new Map<string, Tensor>();
  const residualStd = 0.02 / Math.sqrt(2 * config.numLayers);
  for (const [name, shape] of expectedParameters(config)) {
    const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
    const fixed = initialValue(name);
    if (fixed !== null) data.fill(fixed);
    else {
      const residual = /(attn\.c_proj|mlp\.c_proj|o_proj|down_proj)\.weight$/.test(name);
      rng.fillNormal(data, 0, residual ? residualStd : 0.02);
    }
    parameters.set(name, parameter(data, shape, name));
  }
  return parameters;
}
