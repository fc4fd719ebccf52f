// The model `rlaif serve` serves: a Hugging Face checkpoint folder (a user's, or a run's kept round) with an optional
// PEFT LoRA adapter, or with no folder the embedded testbed's SFT policy (built, or taken from the cache, in a child
// process so the server answers /health with 503 meanwhile). Prompts from messages as the in-process labeler builds
// them (transformer-language-model.ts), so a judge gets the same tokens over HTTP as in-process. With dtype bf16 the
// weight matrices are held in bf16 (read as stored from a BF16 checkpoint, rounded from a float32 one): half the bytes
// each decode step reads, and AVX512_BF16 / AMX products where the CPU has them. Leaves out quantisation below 16 bits
// and several models per server.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import { chatPromptIds as promptIdsFor, type ChatCapableTokenizer } from '../feedback/providers/transformer-language-model.ts';
import { loadLora } from '../models/lora.ts';
import type { Transformer } from '../models/transformer.ts';
import { loadCheckpoint } from '../pipeline/run-setup.ts';
import { buildTestbed } from '../testbed/index.ts';


export interface ServedModel {
  id: string;                  // the name clients pass as `model`
  source: string;              // where it was loaded from (a folder, or the testbed build)
  model: Transformer;
  tokenizer: ChatCapableTokenizer;
  context: number;             // positions the model attends to
  eosTokenId: number | null;
  created: number;             // unix seconds, for /v1/models
}

export interface LoadModelOptions {
  modelDirectory?: string;     // a checkpoint folder; absent: the embedded testbed policy
  adapterDirectory?: string;   // a PEFT LoRA folder applied on top
  servedName?: string;         // the id clients use (default: the folder's name, or 'rlaif-testbed-policy')
  testbedSeed?: number;        // world seed of the embedded policy (default 0)
  dtype?: 'float32' | 'bf16';  // the weight matrices' type while serving (bf16: half the bytes read a token; default float32)
  cacheDirectory?: string;     // the testbed cache (default .rlaif-cache)
  onProgress?: (line: string) => void;
}

export async function loadServedModel(options: LoadModelOptions): Promise<ServedModel> {
  let directory = options.modelDirectory ? resolve(options.modelDirectory) : null;
  let defaultName = directory ? basename(directory) : 'rlaif-testbed-policy';
  if (!directory) {
    const seed = options.testbedSeed ?? 0;
    await buildTestbedInChild(seed, options.cacheDirectory, options.onProgress);
    directory = (await buildTestbed({ seed, cacheDirectory: options.cacheDirectory })).policyDirectory;   // a cache hit now
    defaultName = seed === 0 ? defaultName : `${defaultName}-seed${seed}`;
  }
  if (!existsSync(join(directory, 'config.json'))) throw new Error(`--model ${directory}: not a Hugging Face checkpoint folder (no config.json)`);
  if (options.adapterDirectory && options.dtype === 'bf16') {
    throw new Error(`--adapter ${options.adapterDirectory}: a LoRA adapter adds to float32 weights; serve it with --dtype float32`);
  }
  const { model, tokenizer } = loadCheckpoint(directory, { weights: options.dtype ?? 'float32' });
  if (options.adapterDirectory) {
    const adapter = loadLora(resolve(options.adapterDirectory), model);
    adapter.training = false;
  }
  return {
    id: options.servedName ?? defaultName, source: directory, model, tokenizer: tokenizer as ChatCapableTokenizer,
    context: model.config.maxPositions, eosTokenId: tokenizer.eosTokenId, created: Math.floor(Date.now() / 1000),
  };
}

/** `rlaif testbed build` in a child process: the event loop stays free to answer /health while models train. */
function buildTestbedInChild(seed: number, cacheDirectory: string | undefined, onProgress?: (line: string) => void): Promise<void> {
  const bin = fileURLToPath(new URL('../../bin/rlaif.js', import.meta.url));
  const args = [bin, 'testbed', 'build', '--seed', String(seed), ...(cacheDirectory ? ['--cache', cacheDirectory] : [])];
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const read = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-2000);
      for (const line of text.split(/[\r\n]+/)) if (line.trim()) onProgress?.(line.trim());
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('error', fail);
    child.on('exit', (code) => (code === 0 ? done() : fail(new Error(`building the embedded testbed (seed ${seed}) failed with exit code ${code}: ${tail.trim().split('\n').at(-1) ?? ''}`))));
  });
}

/** Prompt ids for chat messages: the tokenizer's chat template, else a "role: content" transcript after BOS. */
export function chatPromptIds(served: ServedModel, messages: ChatMessage[]): number[] {
  return promptIdsFor(served.tokenizer, messages);   // the in-process labeler's own function
}

