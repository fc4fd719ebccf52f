// Trains one embedded model of the testbed with the project's own code: a byte-level BPE tokenizer on the world's
// text (chat template in tokenizer_config.json), a small GPT-2-family transformer pretrained on the corpus, then
// fine-tuned on a mixture of the flawed demonstrations and the judging examples (+ corpus replay), and saved as a
// Hugging Face folder (config.json, model.safetensors, tokenizer.json). Deterministic per seed.
// Leaves out: caching (build.ts), LoRA, evaluation. Self-Rewarding LMs (arXiv 2401.10020): one model, two skills.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { chatSftExample } from '../algorithms/chat-sft.ts';
import { sftStep, type SftExample } from '../algorithms/sft-trainer.ts';
import { AdamW, Rng, warmupCosine, type Tensor } from '../engine/index.ts';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import { loadPretrained, savePretrained } from '../models/checkpoint.ts';
import { configFromHf, type TransformerConfig } from '../models/config.ts';
import { initParameters } from '../models/parameters.ts';
import { saveTokenizer, trainByteLevelBpe, loadTrained, type TrainedTokenizer } from '../models/bpe-trainer.ts';
import { HfTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { drawSyllableNames, testbedSeed } from './world.ts';

export const END_TOKEN = '<|end|>';
export const SPECIAL_TOKENS = [END_TOKEN, '<|system|>', '<|user|>', '<|assistant|>'];
/** Each turn as <|role|>content<|end|>; the generation prompt opens the assistant's turn; <|end|> is EOS. */
export const CHAT_TEMPLATE = "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}";

export const modelRecipeSchema = z.strictObject({
  init: z.enum(['scratch', 'policy']).default('scratch').describe("scratch: the model's own tokenizer, pretraining and fine-tuning; policy (a separate labeler only): a copy of the finished SFT policy, its tokenizer and weights, fine-tuned on judging with no pretraining, so family, vocabSize, width, layers, heads, contextLength and pretrainSteps are the policy's (Self-Rewarding LMs' judging data on a separate copy of the policy)"),
  family: z.enum(['gpt2', 'llama']).default('gpt2').describe('gpt2: the GPT-2 block; llama: RoPE, RMSNorm, SwiGLU (copied from its context better in one audit, and trained 1.8x slower)'),
  vocabSize: z.number().int().min(300).default(1024).describe('BPE vocabulary: 4 special tokens + 256 bytes + merges'),
  width: z.number().int().min(16).default(128).describe('n_embd'),
  layers: z.number().int().min(1).default(4).describe('n_layer'),
  heads: z.number().int().min(1).default(4).describe('n_head'),
  contextLength: z.number().int().min(32).default(256).describe('n_positions; longer examples are dropped (counted)'),
  batchSize: z.number().int().min(1).default(16).describe('sequences per optimizer step (corpus, demonstrations)'),
  judgingBatchSize: z.number().int().min(1).default(6).describe('sequences per step of judging examples (5x longer than the rest)'),
  learningRate: z.number().positive().default(3e-3).describe('peak AdamW learning rate (warmup + cosine to a tenth)'),
  pretrainSteps: z.number().int().min(0).default(800).describe('steps on corpus paragraphs alone'),
  finetuneSteps: z.number().int().min(0).default(1400).describe('steps on demonstrations + judging examples + corpus replay'),
  mixture: z.strictObject({
    demonstrations: z.number().min(0).default(0.45),
    judging: z.number().min(0).default(0.4),
    verdicts: z.number().min(0).default(0),
    decisions: z.number().min(0).default(0),
    corpus: z.number().min(0).default(0.45),
    onPolicy: z.number().min(0).default(0.25),
  }).default({ demonstrations: 0.45, judging: 0.4, verdicts: 0, decisions: 0, corpus: 0.45, onPolicy: 0.25 })
    .describe("share of fine-tuning batches drawn from each source; verdicts: judging examples with the loss on the verdict turn alone; decisions: with the loss on one assessment of the rationale alone (both off by default: 0.1 each left seed 3's audit at chance, 0.56 and 0.52, for more build time); onPolicy: labeled judging of the model's own answers, drawn from once they exist (onPolicyAt); corpus: replay of pretraining paragraphs, so fine-tuning does not forget the facts of creatures the demonstrations never name (scripts/fact-recall.ts: at 0.15 the SFT policy knew 36% of the test creatures' facts on seed 0 and 32% on seed 1, after 53% from pretraining alone on seed 0; at 0.45, 67% and 56%, and its hallucination rate fell from 0.87 to 0.78 and from 0.72 to 0.65)"),
  onPolicyAt: z.number().min(0).max(1).default(0.5).describe('share of the fine-tuning steps after which the model answers train prompts and its labeled answers join the mixture (on-policy judging examples)'),
});
export type ModelRecipe = z.infer<typeof modelRecipeSchema>;

export interface TrainingData {
  names: string[];                  // entity names: spelled in syllable pieces by the tokenizer, never merged whole
  corpus: string[];                 // pretraining paragraphs
  demonstrations: ChatMessage[][];  // conversations ending in the demonstrated assistant turn
  judging: ChatMessage[][];         // judging conversations (rationale + verdict turns)
  /** Judging conversations about the model's own answers, made once fine-tuning reaches recipe.onPolicyAt (the model
   * as it is then is passed in; a separate labeler's maker samples the policy instead). */
  onPolicy?: (model: Transformer, tokenizer: HfTokenizer) => ChatMessage[][];
}

export interface TrainingProgress { stage: 'tokenizer' | 'pretrain' | 'finetune' | 'on-policy' | 'save'; step: number; total: number; loss?: number }

export interface TrainedModelInfo {
  parameters: number;
  dropped: { demonstrations: number; judging: number; corpus: number; onPolicy: number }; // examples longer than the context
  finalLoss: { pretrain: number | null; finetune: number | null };      // mean of the last 50 steps
  tokens: { corpus: number; demonstrations: number; judging: number; onPolicy: number };  // token counts of the sources
}

/**
 * The example with the loss on its last assistant turn alone (the verdict after the rationale). In a whole judging
 * example the one verdict token is a sixtieth of the loss and a small model never learns to read its own rationale
 * (measured: P(right verdict | gold rationale) stayed near ½); these examples give that token the whole loss.
 */
export function lastTurnOnly(example: SftExample): SftExample {
  const mask = example.lossMask ? Uint8Array.from(example.lossMask) : new Uint8Array(example.response.length).fill(1);
  let end = mask.length - 1;
  while (end >= 0 && !mask[end]) end--;
  let start = end;
  while (start > 0 && mask[start - 1]) start--;
  mask.fill(0, 0, Math.max(0, start));
  return { ...example, lossMask: mask };
}

/**
 * One example per decision in a judging conversation's rationale ('Answer 1 is right.', 'The answer is wrong.', '...,
 * so answer 2 is better.'): the context is the request and the rationale up to the decision, the target its words
 * alone, so each decision carries a whole example's loss instead of a few tokens' worth among the rationale's. Byte-level
 * BPE splits at spaces, so the prefix's tokens are those of the whole rationale.
 */
export function decisionExamples(tokenizer: HfTokenizer, conversation: ChatMessage[], index: number): SftExample[] {
  const at = conversation.findIndex((m) => m.role === 'assistant');
  if (at < 0) return [];
  const rationale = conversation[at]!.content;
  return [...rationale.matchAll(/(?:[Aa]nswer (?:\d )?is|so answer) ([^.,]+)/g)].map((match) => {
    const prefix = rationale.slice(0, match.index! + match[0].length - match[1]!.length - 1);
    const context = chatSftExample(tokenizer, [...conversation.slice(0, at), { role: 'assistant', content: prefix }], { where: `judging example ${index}` });
    const tokens = [...context.prompt, ...context.response.slice(0, -1)]; // drop the end-of-turn marker
    return { prompt: Int32Array.from(tokens), response: Int32Array.from(tokenizer.encode(` ${match[1]!}`, { addSpecialTokens: false })) };
  });
}

/**
 * A byte-level BPE tokenizer on the model's texts. Names are swapped for random syllable names in its training text
 * (plus a block of them), so the merges stop at syllables: every name, seen or not, is spelled in pieces all names
 * share, and copying a name learned on train entities carries over to held-out ones (a whole-name token would be one
 * more fact to memorize).
 */
function trainTokenizer(recipe: ModelRecipe, data: TrainingData, seed: number): TrainedTokenizer {
  const nameRng = new Rng(testbedSeed(seed, 'tokenizer-names'));
  const pseudo = drawSyllableNames(4000, nameRng);
  const pattern = data.names.length > 0 ? new RegExp(`\\b(${data.names.join('|')})\\b`, 'g') : null;
  let next = 0;
  const masked = (text: string) => (pattern ? text.replace(pattern, () => pseudo[next++ % pseudo.length]!) : text);
  const texts = [...data.corpus, ...data.demonstrations.flatMap((c) => c.map((m) => m.content)), ...data.judging.slice(0, 400).flatMap((c) => c.map((m) => m.content))].map(masked);
  for (let i = 0; i < pseudo.length; i += 20) texts.push(pseudo.slice(i, i + 20).join(' '));
  return trainByteLevelBpe(texts, { vocabSize: recipe.vocabSize, specialTokens: SPECIAL_TOKENS, chatTemplate: CHAT_TEMPLATE, modelMaxLength: recipe.contextLength });
}

/** The tokenizer, config and weights of a saved model to fine-tune further (recipe.init 'policy'). */
function fromCheckpoint(directory: string): { tokenizer: HfTokenizer; config: TransformerConfig; parameters: Map<string, Tensor> } {
  const { config, parameters } = loadPretrained(directory);
  return { tokenizer: HfTokenizer.load(directory), config, parameters };
}

function mean(values: number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Trains the model described by `recipe` on `data` and writes it into `directory` in Hugging Face format. */
export function trainEmbeddedModel(options: { recipe: ModelRecipe; data: TrainingData; seed: number; directory: string; onProgress?: (event: TrainingProgress) => void;
  /** A Hugging Face folder to start from (recipe.init 'policy'): its tokenizer and weights; no tokenizer training, no pretraining. */
  initialDirectory?: string }): TrainedModelInfo {
  const { recipe, data, seed } = options;
  const progress = options.onProgress ?? (() => {});
  const start = options.initialDirectory ? fromCheckpoint(options.initialDirectory) : null;
  progress({ stage: 'tokenizer', step: 0, total: 1 });
  const trained = start ? null : trainTokenizer(recipe, data, seed);
  const tokenizer = start ? start.tokenizer : loadTrained(trained!);
  progress({ stage: 'tokenizer', step: 1, total: 1 });

  const endId = tokenizer.tokenToId(END_TOKEN)!;
  const fits = (e: SftExample) => e.prompt.length + e.response.length <= recipe.contextLength;
  const corpusExamples = data.corpus.map((line): SftExample => ({ prompt: Int32Array.of(endId), response: Int32Array.from([...tokenizer.encode(line, { addSpecialTokens: false }), endId]) }));
  const chat = (c: ChatMessage[], i: number, what: string) => chatSftExample(tokenizer as HfTokenizer, c, { where: `${what} ${i}` });
  const demoExamples = data.demonstrations.map((c, i) => chat(c, i, 'demonstration'));
  const judgingExamples = data.judging.map((c, i) => chat(c, i, 'judging example'));
  const judging = judgingExamples.filter(fits), weights = recipe.mixture; // the focused sources are made only when drawn from
  const sources = { corpus: corpusExamples.filter(fits), demonstrations: demoExamples.filter(fits), judging, verdicts: weights.verdicts > 0 ? judging.map(lastTurnOnly) : [],
    decisions: weights.decisions > 0 ? data.judging.flatMap((c, i) => decisionExamples(tokenizer as HfTokenizer, c, i)).filter(fits) : [], onPolicy: [] as SftExample[] };
  let onPolicyMade = 0;
  const tokenCount = (examples: SftExample[]) => examples.reduce((n, e) => n + e.prompt.length + e.response.length, 0);

  const config = start ? start.config : configFromHf(recipe.family === 'gpt2' ? {
    model_type: 'gpt2', vocab_size: tokenizer.vocabSize, n_embd: recipe.width, n_layer: recipe.layers, n_head: recipe.heads,
    n_positions: recipe.contextLength, activation_function: 'gelu_new', tie_word_embeddings: true,
    bos_token_id: endId, eos_token_id: endId,
  } : {
    // SwiGLU's three matrices at 8/3 of the width hold as many weights as GPT-2's two at 4x.
    model_type: 'llama', vocab_size: tokenizer.vocabSize, hidden_size: recipe.width, num_hidden_layers: recipe.layers,
    num_attention_heads: recipe.heads, num_key_value_heads: recipe.heads, intermediate_size: Math.ceil((recipe.width * 8) / 3 / 8) * 8,
    max_position_embeddings: recipe.contextLength, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true,
    bos_token_id: endId, eos_token_id: endId,
  }, 'testbed recipe');
  const model = new Transformer(config, start ? start.parameters : initParameters(config, testbedSeed(seed, 'init')));
  const parameters = [...model.parameters().values()];
  const optimizer = new AdamW(parameters, { lr: recipe.learningRate, weightDecay: 0.01 });
  const rng = new Rng(testbedSeed(seed, 'batches'));
  const draw = (examples: SftExample[], size = recipe.batchSize) => Array.from({ length: size }, () => examples[rng.int(examples.length)]!);

  const onPolicyStep = data.onPolicy && weights.onPolicy > 0 ? Math.floor(recipe.finetuneSteps * recipe.onPolicyAt) : -1;
  const run = (stage: 'pretrain' | 'finetune', steps: number, pickBatch: () => SftExample[]): number[] => {
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      if (stage === 'finetune' && step === onPolicyStep) {
        progress({ stage: 'on-policy', step: 0, total: 1 });
        const made = data.onPolicy!(model, tokenizer as HfTokenizer).map((c, i) => chat(c, i, 'on-policy judging example'));
        onPolicyMade = made.length;
        sources.onPolicy = made.filter(fits);
        progress({ stage: 'on-policy', step: 1, total: 1 });
      }
      optimizer.lr = warmupCosine({ maxLr: recipe.learningRate, warmupSteps: Math.min(50, Math.ceil(steps / 10)), totalSteps: steps }, step);
      const { loss } = sftStep(model, optimizer, pickBatch(), 1);
      if (!Number.isFinite(loss)) throw new Error(`testbed ${stage}: loss is ${loss} at step ${step}`);
      losses.push(loss);
      if (step % 10 === 0 || step === steps - 1) progress({ stage, step: step + 1, total: steps, loss });
    }
    return losses;
  };
  const pretrainLosses = sources.corpus.length > 0 && !start ? run('pretrain', recipe.pretrainSteps, () => draw(sources.corpus)) : [];
  const kinds = ['demonstrations', 'judging', 'verdicts', 'decisions', 'corpus', 'onPolicy'] as const;
  const available = () => kinds.filter((k) => sources[k].length > 0 && weights[k] > 0); // onPolicy joins once made
  const finetuneLosses = available().length === 0 && onPolicyStep < 0 ? [] : run('finetune', recipe.finetuneSteps, () => {
    const from = available();
    let u = rng.uniform() * from.reduce((s, k) => s + weights[k], 0);
    const source = from.find((k) => (u -= weights[k]) < 0) ?? from.at(-1)!;
    return draw(sources[source], source === 'corpus' || source === 'demonstrations' ? recipe.batchSize : recipe.judgingBatchSize);
  });

  progress({ stage: 'save', step: 0, total: 1 });
  mkdirSync(options.directory, { recursive: true });
  if (start) for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(options.initialDirectory!, file), join(options.directory, file));
  savePretrained(options.directory, config, model.parameters());
  if (trained) saveTokenizer(options.directory, trained);
  progress({ stage: 'save', step: 1, total: 1 });
  return {
    parameters: parameters.reduce((n, t) => n + t.size, 0),
    dropped: { demonstrations: demoExamples.length - sources.demonstrations.length, judging: judgingExamples.length - sources.judging.length, corpus: corpusExamples.length - sources.corpus.length, onPolicy: onPolicyMade - sources.onPolicy.length },
    finalLoss: { pretrain: mean(pretrainLosses.slice(-50)), finetune: mean(finetuneLosses.slice(-50)) },
    tokens: { corpus: tokenCount(sources.corpus), demonstrations: tokenCount(sources.demonstrations), judging: tokenCount(sources.judging), onPolicy: tokenCount(sources.onPolicy) },
  };
}
