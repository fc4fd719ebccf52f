// LoRA (Hu et al., arXiv 2106.09685): y = W x + (alpha / r) · B A dropout(x) on chosen projections of a frozen base;
// only A (r, in) and B (out, r) train. Mergeable into the base; saved and loaded as PEFT's adapter_model.safetensors +
// adapter_config.json. Leaves out: rsLoRA, DoRA, per-module rank/alpha patterns, LoRA on embeddings or the LM head.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { add, deriveSeed, dropout, EngineError, isGradEnabled, linear, mulScalar, parameter, Rng, type Tensor } from '../engine/index.ts';
import { expectedParameters } from './parameters.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import type { ProjectionAdapter, Transformer } from './transformer.ts';

export interface LoraConfig {
  rank: number;                        // r
  alpha: number;                       // scale = alpha / r
  dropout?: number;                    // on the adapter's input while training (default 0)
  targetModules: string[] | string;    // names matched as PEFT does: a list by name or `.name` suffix; a string as a full regex
  initLoraWeights?: boolean;           // true (default): B = 0 so the adapter starts as the identity; false: B random too
}

export interface LoraPair {
  A: Tensor;    // (r, in)  lora_A.weight
  B: Tensor;    // (out, r) lora_B.weight
}

export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const ADAPTER_CONFIG_FILE = 'adapter_config.json';

/** Projection module names of a model (our names: GPT-2 without `transformer.`), with (in, out) sizes. */
function projections(model: Transformer): Map<string, { inFeatures: number; outFeatures: number }> {
  const out = new Map<string, { inFeatures: number; outFeatures: number }>();
  for (const [name, shape] of expectedParameters(model.config)) {
    if (shape.length !== 2 || /^(wte|wpe|lm_head|model\.embed_tokens)\./.test(name)) continue;
    const module = name.replace(/\.weight$/, '');
    const gpt2 = model.config.family === 'gpt2';   // Conv1D weights are (in, out); nn.Linear (out, in)
    out.set(module, { inFeatures: gpt2 ? shape[0] : shape[1], outFeatures: gpt2 ? shape[1] : shape[0] });
  }
  return out;
}

/** The module path in the Hugging Face model (GPT2LMHeadModel nests the trunk under `transformer.`). */
function hfModulePath(model: Transformer, module: string): string {
  return model.config.family === 'gpt2' ? `transformer.${module}` : module;
}

function matches(target: string[] | string, hfPath: string): boolean {
  if (typeof target === 'string') return new RegExp(`^(?:${target})$`).test(hfPath);
  return target.some((t) => hfPath === t || hfPath.endsWith(`.${t}`));
}

export class LoraAdapter implements ProjectionAdapter {
  readonly pairs = new Map<string, LoraPair>();   // by our module name
  readonly scale: number;
  training = true;
  private readonly rng: Rng;

  constructor(readonly model: Transformer, readonly config: LoraConfig, seed: number, pairs?: Map<string, LoraPair>) {
    if (!(Number.isInteger(config.rank) && config.rank > 0)) throw new EngineError('lora', `rank must be a positive integer, got ${config.rank}`);
    if (!(config.alpha > 0)) throw new EngineError('lora', `alpha must be > 0, got ${config.alpha}`);
    const p = config.dropout ?? 0;
    if (!(p >= 0 && p < 1)) throw new EngineError('lora', `dropout must be in [0, 1), got ${p}`);
    this.scale = config.alpha / config.rank;
    this.rng = new Rng(deriveSeed(seed, 'lora-dropout'));   // not seed ^ constant: that is another seed's init stream
    if (pairs) { for (const [k, v] of pairs) this.pairs.set(k, v); return; }
    const init = new Rng(seed), r = config.rank;
    for (const [module, { inFeatures, outFeatures }] of projections(model)) {
      if (!matches(config.targetModules, hfModulePath(model, module))) continue;
      const bound = 1 / Math.sqrt(inFeatures);                              // PEFT: kaiming_uniform(a=√5)
      const A = parameter(init.fillUniform(new Float32Array(r * inFeatures), -bound, bound), [r, inFeatures], `${module}.lora_A.weight`);
      const Bdata = new Float32Array(outFeatures * r);
      if (config.initLoraWeights === false) init.fillUniform(Bdata, -bound, bound);
      this.pairs.set(module, { A, B: parameter(Bdata, [outFeatures, r], `${module}.lora_B.weight`) });
    }
    if (this.pairs.size === 0) {
      throw new EngineError('lora', `targetModules ${JSON.stringify(config.targetModules)} match no projection (e.g. ${[...projections(model).keys()].slice(0, 4).join(', ')})`);
    }
  }

  /** base (..., out) + scale · B A dropout(x); the projections this adapter does not target pass through. */
  adapt(name: string, x: Tensor, base: Tensor): Tensor {
    const pair = this.pairs.get(name);
    if (!pair) return base;
    const p = this.config.dropout ?? 0;
    const input = p > 0 && this.training && isGradEnabled() ? dropout(x, p, this.rng) : x;   // (..., in)
    const low = linear(input, pair.A);                                      // (..., r)
    return add(base, mulScalar(linear(low, pair.B), this.scale));           // (..., out)
  }

  /** The trainable tensors, in PEFT's names (`base_model.model.<module>.lora_A.weight`). */
  parameters(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [module, { A, B }] of this.pairs) {
      const prefix = `base_model.model.${hfModulePath(this.model, module)}`;
      out.set(`${prefix}.lora_A.weight`, A);
      out.set(`${prefix}.lora_B.weight`, B);
    }
    return out;
  }
}

/** Freezes every base parameter, attaches a fresh adapter to the model and returns it. */
export function applyLora(model: Transformer, config: LoraConfig, seed = 0): LoraAdapter {
  const adapter = new LoraAdapter(model, config, seed);
  attach(model, adapter);
  return adapter;
}

function attach(model: Transformer, adapter: LoraAdapter): void {
  if (model.adapter) throw new EngineError('lora', 'the model already has an adapter (merge or detach it first)');
  for (const p of model.parameters().values()) p.requiresGrad = false;
  model.adapter = adapter;
}

/** Folds the adapter into the base weights (W += scale · B A, transposed for Conv1D) and detaches it. */
export function mergeLora(model: Transformer, adapter: LoraAdapter): void {
  const gpt2 = model.config.family === 'gpt2', r = adapter.config.rank;
  for (const [module, { A, B }] of adapter.pairs) {
    const W = model.parameters().get(`${module}.weight`)!;
    const [outFeatures, inFeatures] = [B.shape[0], A.shape[1]];
    for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += B.data[o * r + k] * A.data[k * inFeatures + i];
      W.data[gpt2 ? i * outFeatures + o : o * inFeatures + i] += adapter.scale * s;
    }
  }
  if (model.adapter === adapter) model.adapter = null;
}

/** Writes adapter_model.safetensors + adapter_config.json that PEFT's PeftModel.from_pretrained loads. */
export function saveLora(dir: string, adapter: LoraAdapter, baseModelNameOrPath: string | null = null): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), adapter.parameters(), { format: 'pt' });
  const { config } = adapter;
  const peftConfig = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', base_model_name_or_path: baseModelNameOrPath, inference_mode: true,
    r: config.rank, lora_alpha: config.alpha, lora_dropout: config.dropout ?? 0, target_modules: config.targetModules,
    bias: 'none', fan_in_fan_out: adapter.model.config.family === 'gpt2', init_lora_weights: config.initLoraWeights ?? true,
    modules_to_save: null, use_rslora: false, use_dora: false, layers_to_transform: null, layers_pattern: null,
    rank_pattern: {}, alpha_pattern: {}, revision: null,
  };
  writeFileSync(join(dir, ADAPTER_CONFIG_FILE), `${JSON.stringify(peftConfig, null, 2)}\n`);
}

const peftConfigSchema = z.object({
  peft_type: z.literal('LORA'),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  lora_dropout: z.number().min(0).max(1).default(0),
  target_modules: z.union([z.array(z.string()), z.string()]),
  bias: z.literal('none').default('none'),
  use_rslora: z.literal(false).default(false),
  use_dora: z.literal(false).default(false),
});

/** Reads a PEFT LoRA folder, checks every tensor against the model, freezes the base and attaches the adapter. */
export function loadLora(dir: string, model: Transformer, seed = 0): LoraAdapter {
  const configPath = join(dir, ADAPTER_CONFIG_FILE), weightsPath = join(dir, ADAPTER_WEIGHTS_FILE);
  const parsed = peftConfigSchema.safeParse(JSON.parse(readFileSync(configPath, 'utf-8')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EngineError('lora', `${configPath}: field "${issue.path.join('.')}": ${issue.message}`);
  }
  const c = parsed.data;
  const config: LoraConfig = { rank: c.r, alpha: c.lora_alpha, dropout: c.lora_dropout, targetModules: c.target_modules };
  const modules = projections(model);
  const byPath = new Map([...modules.keys()].map((m) => [hfModulePath(model, m), m]));
  const pairs = new Map<string, Partial<LoraPair>>();
  for (const [key, loaded] of readSafetensors(weightsPath).tensors) {
    const m = /^base_model\.model\.(.+)\.(lora_A|lora_B)(?:\.default)?\.weight$/.exec(key);
    const module = m && byPath.get(m[1]);
    if (!m || !module) throw new EngineError('lora', `${weightsPath}: tensor "${key}" is not a LoRA weight of a projection of this model`);
    const { inFeatures, outFeatures } = modules.get(module)!;
    const want = m[2] === 'lora_A' ? [c.r, inFeatures] : [outFeatures, c.r];
    if (loaded.shape.length !== 2 || loaded.shape[0] !== want[0] || loaded.shape[1] !== want[1]) {
      throw new EngineError('lora', `${weightsPath}: tensor "${key}" has shape [${loaded.shape.join(', ')}], expected [${want.join(', ')}]`);
    }
    const pair = pairs.get(module) ?? {};
    pair[m[2] === 'lora_A' ? 'A' : 'B'] = parameter(loaded.data, want, `${module}.${m[2]}.weight`);
    pairs.set(module, pair);
  }
  const complete = new Map<string, LoraPair>();
  for (const [module, pair] of pairs) {
    if (!pair.A || !pair.B) throw new EngineError('lora', `${weightsPath}: module "${module}" lacks ${pair.A ? 'lora_B' : 'lora_A'}`);
    complete.set(module, pair as LoraPair);
  }
  if (complete.size === 0) throw new EngineError('lora', `${weightsPath}: no LoRA tensors`);
  const adapter = new LoraAdapter(model, config, seed, complete);
  attach(model, adapter);
  return adapter;
}
