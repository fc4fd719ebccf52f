// What the diagnostic scripts share: a positive number from a flag, and the testbed of a seed built (or read from the
// cache) with an optional YAML/JSON config file, as `rlaif testbed build --config` reads it, its progress on stderr
// while it builds. Leaves out flag parsing itself (each script's node:util parseArgs).
import { buildTestbed, type BuiltTestbed } from '../src/testbed/build.ts';
import { readTestbedConfigFile } from '../src/testbed/testbed-config.ts';

/** The flag's value as a positive number (an integer unless told otherwise), or an error naming the flag. */
export function positiveArg(name: string, text: string, integer = true): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new Error(`--${name} must be a positive ${integer ? 'integer' : 'number'}, got "${text}"`);
  return value;
}

/** The testbed of `seed`, with the config file's overrides when there is one; build progress goes to stderr. */
export async function scriptTestbed(script: string, options: { seed: number; cache?: string; config?: string }): Promise<BuiltTestbed> {
  const config = options.config ? readTestbedConfigFile(options.config) : {};
  return buildTestbed({ seed: options.seed, cacheDirectory: options.cache, config, onProgress: (e) => {
    if (e.stage !== 'cache-hit' && (e.step === e.total || e.step % 200 === 1)) process.stderr.write(`${script}: building the testbed of seed ${options.seed}: ${e.model ?? ''} ${e.stage} ${e.step}/${e.total}\n`);
  } });
}
