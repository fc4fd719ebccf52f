// `rlaif serve`: an OpenAI-compatible server over a checkpoint folder (with an optional LoRA adapter), or the embedded
// testbed policy when no --model is given, and the run dashboard at / over ./runs (or --runs DIR). Flags map onto the
// serve config schema (src/server/serve-config.ts), the single source of defaults. Ctrl-C closes it.
import { InvalidArgumentError, type Command } from 'commander';
import { startDashboard } from '../server/dashboard-routes.ts';
import { parseServeConfig, serveConfigSchema } from '../server/serve-config.ts';
import { loadServedModel } from '../server/served-model.ts';
import { startServer } from '../server/server.ts';

const defaults = serveConfigSchema.parse({});
const integer = (flag: string) => (value: string) => {
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number; got '${value}'`);
  return Number(value);
};

interface ServeFlags {
  model?: string; adapter?: string; servedModelName?: string; dtype: 'float32' | 'bf16'; seed: number; port: number; host: string; apiKey?: string; cors?: string;
  runs: string; maxTokens: number; maxConcurrency: number; maxQueue: number; maxBatch: number; batchGatherMs: number; maxBodyBytes: number; timeoutMs: number;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve a model over an OpenAI-compatible API (chat, completions, models, tokenize, metrics) with continuous batching, and the run dashboard at /')
    .option('-m, --model <dir>', 'Hugging Face checkpoint folder (a run\'s checkpoints/round-N, or your own); default: the embedded testbed policy')
    .option('--adapter <dir>', 'PEFT LoRA adapter folder applied on top of the model')
    .option('--served-model-name <name>', 'the model id clients send (default: the folder name, or rlaif-testbed-policy)')
    .option('--dtype <type>', 'weight matrices in float32, or in bf16 (half the memory and the bytes each token reads; float32 sums)', (value: string) => {
      if (value !== 'float32' && value !== 'bf16') throw new InvalidArgumentError(`--dtype must be float32 or bf16; got '${value}'`);
      return value;
    }, 'float32')
    .option('--seed <n>', 'world seed of the embedded testbed policy (without --model)', integer('--seed'), 0)
    .option('-p, --port <n>', 'TCP port (0: any free one)', integer('--port'), defaults.port)
    .option('--host <address>', serveConfigSchema.shape.host.description!, defaults.host)
    .option('--api-key <key>', 'require Authorization: Bearer <key> on the API (or set RLAIF_API_KEY)')
    .option('--cors <origin>', 'send CORS headers allowing this origin (default: none)')
    .option('--runs <dir>', serveConfigSchema.shape.runsDirectory.description!, defaults.runsDirectory)
    .option('--max-tokens <n>', serveConfigSchema.shape.maxTokens.description!, integer('--max-tokens'), defaults.maxTokens)
    .option('--max-concurrency <n>', serveConfigSchema.shape.maxConcurrency.description!, integer('--max-concurrency'), defaults.maxConcurrency)
    .option('--max-queue <n>', serveConfigSchema.shape.maxQueue.description!, integer('--max-queue'), defaults.maxQueue)
    .option('--max-batch <n>', serveConfigSchema.shape.maxBatch.description!, integer('--max-batch'), defaults.maxBatch)
    .option('--batch-gather-ms <ms>', serveConfigSchema.shape.batchGatherMs.description!, integer('--batch-gather-ms'), defaults.batchGatherMs)
    .option('--max-body-bytes <n>', serveConfigSchema.shape.maxBodyBytes.description!, integer('--max-body-bytes'), defaults.maxBodyBytes)
    .option('--timeout-ms <n>', serveConfigSchema.shape.requestTimeoutMs.description!, integer('--timeout-ms'), defaults.requestTimeoutMs)
    .action(async (flags: ServeFlags) => {
      const config = parseServeConfig({
        host: flags.host, port: flags.port, apiKey: flags.apiKey ?? process.env.RLAIF_API_KEY ?? null, corsOrigin: flags.cors ?? null,
        maxBodyBytes: flags.maxBodyBytes, maxTokens: flags.maxTokens, maxConcurrency: flags.maxConcurrency, maxQueue: flags.maxQueue,
        maxBatch: flags.maxBatch, batchGatherMs: flags.batchGatherMs, requestTimeoutMs: flags.timeoutMs, runsDirectory: flags.runs,
      });
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const dashboard = startDashboard({ runsDirectory: config.runsDirectory, apiKey: config.apiKey });
      const running = await startServer({
        config, routes: dashboard.routes, onLog: log,
        load: () => loadServedModel({ modelDirectory: flags.model, adapterDirectory: flags.adapter, servedName: flags.servedModelName, dtype: flags.dtype, testbedSeed: flags.seed, onProgress: (line) => log(`loading: ${line}`) }),
      });
      log(`rlaif serve: listening on ${running.url}; dashboard at ${running.url}/ over ${config.runsDirectory}; loading the model…`);
      const stop = () => { log('rlaif serve: closing'); dashboard.close(); void running.close().then(() => process.exit(0)); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const served = await running.ready;
        log(`rlaif serve: serving '${served.id}' from ${served.source} (context ${served.context}${flags.dtype === 'bf16' ? ', bf16 weights' : ''}); OpenAI base URL ${running.url}/v1`);
      } catch (error) {
        log(`rlaif serve: the model failed to load: ${(error as Error).message}`);
        dashboard.close();
        await running.close();
        process.exitCode = 1;
      }
    });
}
