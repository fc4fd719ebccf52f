// `rlaif demo`: the engine demo. Trains the reference tiny GPT on the shipped tiny-world corpus, prints the loss
// curve, the held-out loss and samples. Becomes `rlaif run` (the whole RLAIF loop) once the pipeline lands.
// Leaves out: saving a run folder (use --save to keep the trained model as a Hugging Face checkpoint).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { getBackend } from '../engine/index.ts';
import { savePretrained } from '../models/checkpoint.ts';
import { generate } from '../models/generate.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGptConfig } from '../models/presets.ts';
import { CharTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { evaluateLm, pretrainLm } from '../pipeline/pretrain.ts';

interface DemoOptions {
  steps: string;
  seed: string;
  lr: string;
  corpus: string;
  saveInit?: string;
  save?: string;
}

const CORPUS = new URL('../../data/tiny-world.txt', import.meta.url).pathname;

export function registerDemoCommand(program: Command): void {
  program.command('demo')
    .description('train the reference tiny GPT on the shipped corpus; print the loss curve and samples')
    .option('--steps <n>', 'training steps', '300')
    .option('--seed <n>', 'initialization and sampling seed', '0')
    .option('--lr <x>', 'AdamW learning rate (constant, as in the PyTorch comparison)', '1e-3')
    .option('--corpus <file>', 'text corpus (ASCII)', CORPUS)
    .option('--save-init <dir>', 'write the initial weights as a Hugging Face checkpoint (for scripts/torch-train-compare.py)')
    .option('--save <dir>', 'write the trained model as a Hugging Face checkpoint')
    .action((options: DemoOptions) => runDemo(options));
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

function runDemo(options: DemoOptions): void {
  const steps = positiveInt('steps', options.steps), seed = Number(options.seed), lr = Number(options.lr);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${options.seed}"`);
  if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`--lr must be a positive number, got "${options.lr}"`);
  const tokenizer = new CharTokenizer();
  const text = readFileSync(options.corpus, 'utf8');
  const tokens = Int32Array.from(tokenizer.encode(text));
  const split = Math.floor(tokens.length * 0.9);
  const train = tokens.subarray(0, split), heldOut = tokens.subarray(split);
  const config = tinyGptConfig();
  const parameters = initParameters(config, seed);
  const model = new Transformer(config, parameters);
  const backend = getBackend();
  const count = [...parameters.values()].reduce((s, p) => s + p.size, 0);
  console.log(`rlaif demo: tiny GPT (${(count / 1e6).toFixed(2)}M parameters) on ${options.corpus.split('/').pop()} ` +
    `(${tokens.length} characters), backend ${backend.name}, ${backend.threads} thread(s)`);
  if (options.saveInit) savePretrained(options.saveInit, config, parameters);
  const B = 16, T = config.maxPositions;
  const start = evaluateLm(model, heldOut, 8, B, T);
  console.log(`held-out loss before training: ${start.toFixed(4)} (uniform guess: ${Math.log(96).toFixed(4)})`);
  const result = pretrainLm(model, train, {
    steps, batchSize: B, contextLength: T, lr, weightDecay: 0.01,
    onStep: (step, loss) => {
      if (step % 25 === 0 || step === steps - 1) {
        const bar = '█'.repeat(Math.max(0, Math.round(loss * 8)));
        console.log(`step ${String(step).padStart(4)}  loss ${loss.toFixed(4)}  ${bar}`);
      }
    },
  });
  const end = evaluateLm(model, heldOut, 8, B, T);
  const ms = [...result.stepMilliseconds].sort((a, b) => a - b);
  console.log(`held-out loss after ${steps} steps: ${end.toFixed(4)}; median step ${ms[Math.floor(ms.length / 2)].toFixed(1)} ms`);
  console.log(`RESULT demo_heldout_loss ${end.toFixed(4)}`);
  const prompts = ['Q: What does Ada eat? A:', 'Q: Where does Finn live? A:', 'Milo is a', 'The owl called'];
  const samples = generate(model, prompts.map((p) => tokenizer.encode(p)), {
    maxNewTokens: 32, temperature: 0.7, seed, stopStrings: ['\n'], decode: (ids) => tokenizer.decode(ids),
  });
  console.log('samples (temperature 0.7):');
  samples.forEach((s, i) => console.log(`  ${prompts[i]}${s.text ?? tokenizer.decode(s.tokens)}`));
  if (options.save) {
    savePretrained(options.save, config, parameters);
    console.log(`saved the trained model to ${options.save}`);
  }
}
