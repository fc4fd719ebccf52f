// The update stage handed to an external trainer (`update: { kind: external, command }`): the round's judged pairs
// are exported (TRL conversational or standard, or OpenAI preference JSONL), the current policy is written as a
// Hugging Face folder, the user's command runs with their paths in RLAIF_* variables, and the checkpoint it writes to
// RLAIF_OUTPUT becomes the round's candidate — which the gate then keeps or rolls back like any other. A policy behind
// an endpoint: the command gets the endpoint (RLAIF_POLICY_BASE_URL, RLAIF_POLICY_MODEL; RLAIF_BASE_MODEL when the
// folder it serves is known: the last endpoint.json's "checkpoint", else policy.checkpoint) and writes
// RLAIF_OUTPUT/endpoint.json naming the endpoint that serves the trained policy, which becomes the candidate. Leaves out LoRA adapters from the trainer. DPO (arXiv 2305.18290) is
// the typical command.
import { spawn } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeOpenAIPreference } from '../data/openai-preference-format.ts';
import { writeTrl } from '../data/trl-format.ts';
import { loadPretrained, savePretrained } from '../models/checkpoint.ts';
import { ENDPOINT_FILE, readEndpointFile } from './endpoint-policy.ts';
import type { RoundContext } from './round-context.ts';
import { roundPreferences } from './run-export.ts';

export interface ExternalUpdateResult { pairs: number; commandSeconds: number }

/** Runs the configured command on round `round`'s preferences and loads the checkpoint it wrote into the policy. */
export async function externalUpdate(context: RoundContext, round: number): Promise<ExternalUpdateResult> {
  const update = context.config.update, policy = context.policy;
  if (update.kind !== 'external') throw new Error('externalUpdate: update.kind is not external');
  if (!context.policySource && policy.kind === 'in-process') throw new Error('update.kind external needs the policy folder its tokenizer comes from (RoundContext.policySource)');
  const dir = join(context.store.dir, 'external', `round-${round}`), base = join(dir, 'base'), output = join(dir, 'output');
  rmSync(dir, { recursive: true, force: true });    // a resumed round starts its export afresh
  mkdirSync(output, { recursive: true });
  const records = roundPreferences(context.store, round);
  if (records.length === 0) throw new Error(`round ${round}: no judged pair with a preference to hand to the external trainer`);
  const preferences = join(dir, `preferences.${update.format}.jsonl`);
  if (update.format === 'openai') writeOpenAIPreference(preferences, records);
  else writeTrl(preferences, records, update.format === 'trl' ? 'conversational' : 'standard');
  const policyEnvironment: Record<string, string> = {};
  if (policy.kind === 'in-process') {
    // The current policy as a Hugging Face folder: its weights, the tokenizer files of the folder it came from.
    savePretrained(base, policy.model.config, policy.model.parameters());
    for (const file of readdirSync(context.policySource!)) {
      if (file !== 'config.json' && !file.endsWith('.safetensors') && !file.endsWith('.safetensors.index.json') && !file.startsWith('.')) {
        try { copyFileSync(join(context.policySource!, file), join(base, file)); } catch { /* a folder: not a tokenizer file */ }
      }
    }
    policyEnvironment.RLAIF_BASE_MODEL = resolve(base);
  } else {
    policyEnvironment.RLAIF_POLICY_BASE_URL = policy.endpoint.baseURL;
    policyEnvironment.RLAIF_POLICY_MODEL = policy.endpoint.model;
    const served = policy.endpoint.checkpoint ?? context.policySource;   // the folder behind the current endpoint, else policy.checkpoint
    if (served) policyEnvironment.RLAIF_BASE_MODEL = resolve(served);
  }
  const logPath = join(dir, 'command.log'), start = performance.now();
  const code = await new Promise<number | null>((done, fail) => {
    const log = createWriteStream(logPath);
    const child = spawn('sh', ['-c', update.command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env,
      ...policyEnvironment, RLAIF_PREFERENCES: resolve(preferences), RLAIF_FORMAT: update.format, RLAIF_OUTPUT: resolve(output),
      RLAIF_ROUND: String(round), RLAIF_SEED: String(context.config.seed), RLAIF_RUN_DIR: resolve(context.store.dir) } });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('error', fail);
    child.on('close', (status) => log.end(() => done(status)));
  });
  if (code !== 0) throw new Error(`update.command exited with code ${code} in round ${round}; its output: ${logPath}`);
  if (policy.kind === 'endpoint') {
    if (!existsSync(join(output, ENDPOINT_FILE))) throw new Error(`update.command exited 0 but wrote no ${ENDPOINT_FILE} to RLAIF_OUTPUT (${output}) naming the endpoint of the trained policy ({"baseURL", "model"}); its output: ${logPath}`);
    policy.use(readEndpointFile(output));
    return { pairs: records.length, commandSeconds: (performance.now() - start) / 1000 };
  }
  if (!existsSync(join(output, 'config.json'))) throw new Error(`update.command exited 0 but wrote no Hugging Face checkpoint to RLAIF_OUTPUT (${output}); its output: ${logPath}`);
  const theirs = loadPretrained(output).parameters;   // weights only: the tokenizer is the policy's own
  for (const [name, tensor] of policy.model.parameters()) {
    const source = theirs.get(name);
    if (!source) throw new Error(`${output}: the trained checkpoint has no parameter '${name}' (another architecture?)`);
    if (source.data.length !== tensor.data.length) throw new Error(`${output}: parameter '${name}' has ${source.data.length} values, the policy's has ${tensor.data.length}`);
    tensor.data.set(source.data);
  }
  return { pairs: records.length, commandSeconds: (performance.now() - start) / 1000 };
}
